//! Scale runs of the scenario engine without building the whole binary (issue 12's 10^6-node
//! goal; figures in docs/benchmarks.md):
//!
//! ```sh
//! cargo run --release -p chipwatch-analysis --example scale_run -- gen 1000000 /tmp/g1m.json
//! cargo run --release -p chipwatch-analysis --example scale_run -- run /tmp/g1m.json bench/scale-scenario.toml
//! ```
//!
//! `run` prints the load and run times, the peak resident memory, and a digest of the whole
//! result as JSON (FNV-1a over the serialised bytes), so two builds can be compared for
//! identical output without writing gigabytes of JSON.

use chipwatch_analysis::gen::{GenParams, Synthetic};
use chipwatch_analysis::scenario::{run, Scenario};
use std::io::Write;
use std::time::Instant;

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let res = match args.first().map(String::as_str) {
        Some("gen") if args.len() == 3 => gen(&args[1], &args[2]),
        Some("run") if args.len() == 3 => run_one(&args[1], &args[2]),
        _ => Err("usage: scale_run gen NODES OUT.json | scale_run run MODEL SCENARIO".into()),
    };
    if let Err(e) = res {
        eprintln!("error: {e}");
        std::process::exit(1);
    }
}

fn gen(nodes: &str, out: &str) -> Result<(), String> {
    let p = GenParams {
        nodes: nodes.parse().map_err(|e| format!("NODES: {e}"))?,
        avg_degree: 10.0,
        seed: 1,
        shuffle: false,
    };
    let f = std::fs::File::create(out).map_err(|e| format!("{out}: {e}"))?;
    let mut w = std::io::BufWriter::new(f);
    Synthetic::generate(p)
        .write_json(&p, &mut w)
        .and_then(|()| w.flush())
        .map_err(|e| format!("{out}: {e}"))
}

fn run_one(model: &str, scenario: &str) -> Result<(), String> {
    let t0 = Instant::now();
    let vc = chipwatch_data::load_model_file(model.as_ref()).map_err(|e| e.to_string())?;
    let load = t0.elapsed();
    eprintln!("load {:.2} s, rss {}", load.as_secs_f64(), peak_rss());
    let text = std::fs::read_to_string(scenario).map_err(|e| format!("{scenario}: {e}"))?;
    let s = Scenario::from_toml_str(&text, scenario).map_err(|e| e.to_string())?;
    let t1 = Instant::now();
    let r = run(&vc, &s).map_err(|e| e.to_string())?;
    let ran = t1.elapsed();
    eprintln!("run {:.2} s, rss {}", ran.as_secs_f64(), peak_rss());
    let mut h = Fnv(0xcbf2_9ce4_8422_2325, 0);
    serde_json::to_writer(&mut h, &r).map_err(|e| e.to_string())?;
    println!(
        "load {:.2} s + run {:.2} s = {:.2} s; peak rss {}; result digest {:016x} ({} bytes of JSON)",
        load.as_secs_f64(),
        ran.as_secs_f64(),
        (load + ran).as_secs_f64(),
        peak_rss(),
        h.0,
        h.1
    );
    Ok(())
}

/// FNV-1a over everything written, and the byte count.
struct Fnv(u64, u64);

impl Write for Fnv {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        for &b in buf {
            self.0 = (self.0 ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3);
        }
        self.1 += buf.len() as u64;
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// Peak resident set size of this process (Linux `VmHWM`), or "?".
fn peak_rss() -> String {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmHWM:"))
                .map(|l| l["VmHWM:".len()..].trim().to_string())
        })
        .unwrap_or_else(|| "?".into())
}
