//! Throughput of parse + classify + link on one core (bench/monitor/run.sh runs it beside the
//! Python reference). Files are read into memory first so only the pipeline is timed.
//!
//! usage: cargo run --release -p chipwatch-monitor --example bench_pipeline -- CORPUS_DIR [--rules-only]
//!
//! `--rules-only` leaves the learned layer out, to show what it costs.

use chipwatch_monitor::{input, Article, Classifier};
use std::time::Instant;

fn main() {
    let dir = std::env::args()
        .nth(1)
        .expect("usage: bench_pipeline CORPUS_DIR");
    let vc = chipwatch_data::default_model();
    let classifier = Classifier::new(&vc).expect("gazetteer");
    let classifier = if std::env::args().any(|a| a == "--rules-only") {
        classifier.rules_only()
    } else {
        classifier
    };
    let mut files: Vec<_> = std::fs::read_dir(&dir)
        .expect("corpus dir")
        .filter_map(|e| e.ok().map(|e| e.path()))
        .collect();
    files.sort();
    let docs: Vec<(String, Vec<u8>)> = files
        .iter()
        .map(|p| (p.display().to_string(), std::fs::read(p).expect("read")))
        .collect();
    let bytes: usize = docs.iter().map(|d| d.1.len()).sum();
    let mut best = f64::MAX;
    let mut n = 0;
    let mut relevant = 0;
    // Three passes; report the best (the first warms caches and the allocator).
    for _ in 0..3 {
        let t = Instant::now();
        n = 0;
        relevant = 0;
        for (origin, b) in &docs {
            for raw in input::parse_bytes(b, origin, None).expect("parse") {
                let c = classifier.classify(&Article::from_raw(raw));
                relevant += c.relevant as usize;
                n += 1;
            }
        }
        best = best.min(t.elapsed().as_secs_f64());
    }
    println!(
        "rust: {n} articles ({:.1} KB avg) in {best:.3} s = {:.0} articles/s (1 core), {relevant} relevant",
        bytes as f64 / docs.len() as f64 / 1024.0,
        n as f64 / best
    );
}
