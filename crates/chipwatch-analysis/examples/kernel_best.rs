//! Best-of-N timing of one propagation pass on the generated "10M" graph (10^6 nodes, average
//! degree 10), the scheduled pass and the plain CSR loops alternated pass by pass. On a shared machine whose
//! speed swings within minutes, the fastest of many alternated passes is the stable figure of what
//! the code does on one core; criterion's mean (`cargo bench ... kernel_pass`) gives the rest.
//!
//! `cargo run --release -p chipwatch-analysis --example kernel_best [PASSES]`

use chipwatch_analysis::gen::{GenParams, Synthetic};
use std::time::Instant;

fn main() {
    let passes: usize = std::env::args()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(200);
    let g = Synthetic::generate(GenParams {
        nodes: 1_000_000,
        avg_degree: 10.0,
        seed: 1,
        shuffle: false,
    });
    let k = g.kernel().expect("generated graphs are acyclic");
    let cap = g.bench_capacity();
    let n = k.n_items();
    let (mut scratch, mut val) = (vec![0f32; n], vec![0f32; n]);
    let mut times = [Vec::new(), Vec::new()];
    for i in 0..2 * passes + 2 {
        let t = Instant::now();
        if i % 2 == 0 {
            k.pass(&cap, 0.10, &mut scratch, &mut val);
        } else {
            k.supply_in_order(&cap, None, 0.10, &mut scratch);
            for s in scratch.iter_mut() {
                *s = if s.is_nan() { 1.0 } else { s.min(1.0) };
            }
            k.flow_in_order(&scratch, &mut val);
        }
        let dt = t.elapsed().as_secs_f64();
        if i >= 2 {
            times[i % 2].push(dt);
        }
    }
    println!("{} edges, {passes} passes each", k.n_edges());
    for (name, t) in ["sched", "csr"].iter().zip(&mut times) {
        t.sort_by(f64::total_cmp);
        let (best, median) = (t[0], t[t.len() / 2]);
        println!(
            "{name:>6}: best {:.2} ms = {:.0} M edges/s; median {:.2} ms = {:.0} M edges/s",
            best * 1e3,
            k.n_edges() as f64 / best / 1e6,
            median * 1e3,
            k.n_edges() as f64 / median / 1e6
        );
    }
}
