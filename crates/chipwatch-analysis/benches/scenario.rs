//! Scenario-engine benchmarks (recorded in docs/benchmarks.md, "Scenario engine"):
//! - one propagation pass over synthetic graphs (10^6 and 10^7 edges), locality-ordered and
//!   shuffled; throughput in edges/s;
//! - a full scenario (365 days, all consumers) on the embedded default model;
//! - all single-node TTS solves of a 1,000-node network;
//! - a Monte Carlo run (both cores).
//!
//! `cargo bench -p chipwatch-analysis --bench scenario`

use chipwatch_analysis::gen::{self, GenParams, Synthetic};
use chipwatch_analysis::risk::{monte_carlo, RiskConfig};
use chipwatch_analysis::scenario::{run, Scenario, Shock};
use chipwatch_analysis::tts;
use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use std::time::Duration;

fn kernel_pass(c: &mut Criterion) {
    let mut g = c.benchmark_group("kernel_pass");
    g.sample_size(10).measurement_time(Duration::from_secs(4));
    for (nodes, label) in [(100_000u64, "1M_edges"), (1_000_000, "10M_edges")] {
        for shuffle in [false, true] {
            let p = GenParams {
                nodes,
                avg_degree: 10.0,
                seed: 1,
                shuffle,
            };
            let s = Synthetic::generate(p);
            let k = s.kernel().unwrap();
            let cap = s.bench_capacity();
            let mut scratch = vec![0.0f32; k.n_items()];
            let mut val = vec![0.0f32; k.n_items()];
            g.throughput(Throughput::Elements(k.n_edges() as u64));
            let id = format!("{label}_{}", if shuffle { "shuffled" } else { "local" });
            g.bench_function(BenchmarkId::from_parameter(&id), |b| {
                b.iter(|| {
                    k.pass(&cap, 0.10, &mut scratch, &mut val);
                    val[val.len() - 1]
                })
            });
            if !shuffle {
                // The same pass on the plain CSR layout (what `pass` does for graphs that are
                // not identity-ordered or have taxonomy variants), for a side-by-side figure.
                g.bench_function(BenchmarkId::from_parameter(format!("{id}_csr")), |b| {
                    b.iter(|| {
                        k.supply_in_order(&cap, None, 0.10, &mut scratch);
                        for s in scratch.iter_mut() {
                            *s = if s.is_nan() { 1.0 } else { s.min(1.0) };
                        }
                        k.flow_in_order(&scratch, &mut val);
                        val[val.len() - 1]
                    })
                });
            }
        }
    }
    g.finish();
}

fn default_scenario(c: &mut Criterion) {
    let vc = chipwatch_data::default_model();
    let mut s = Scenario::new("Dutch DUV controls");
    s.shocks.push(Shock::ExportBlock {
        from: vec!["NLD".into()],
        to: vec!["CHN".into()],
        items: vec!["N22".into()],
        start_day: 0,
        duration_days: None,
        fraction: None,
    });
    c.bench_function("scenario/default_model_365_days", |b| {
        b.iter(|| run(&vc, &s).unwrap())
    });
    // The segment layer on the embedded production data, against a baseline with EUV denied to
    // China (what the CLI adds from the controls data): the whole v2 run in-process.
    let prod = chipwatch_data::fabs::default_production();
    let mut s2 = s.clone();
    s2.baseline_date = Some("2025-06-30".into());
    s2.baseline_denials
        .push(chipwatch_analysis::scenario::BaselineDenial {
            measure: "bench".into(),
            from: vec!["NLD".into()],
            to: vec!["CHN".into()],
            items: vec!["N20".into()],
            fraction: 1.0,
            since: "2019-11-01".into(),
            source: String::new(),
        });
    c.bench_function("scenario/default_model_365_days_segments", |b| {
        b.iter(|| chipwatch_analysis::scenario::run_with_production(&vc, &s2, &prod, None).unwrap())
    });
    // The Taiwan stop: a shock reaching providers listed without a share (three runs).
    let mut s3 = s2.clone();
    s3.shocks = vec![Shock::CapacityLoss {
        provider: "TWN".into(),
        items: vec!["*".into()],
        fraction: 1.0,
        start_day: 0,
        duration_days: None,
        recovery_days: 0,
    }];
    c.bench_function("scenario/twn_stop_365_days_segments", |b| {
        b.iter(|| chipwatch_analysis::scenario::run_with_production(&vc, &s3, &prod, None).unwrap())
    });
}

fn tts_1000(c: &mut Criterion) {
    let net = gen::network(1000, 3);
    let mut g = c.benchmark_group("tts");
    g.sample_size(10);
    g.bench_function("all_single_node_1000_nodes", |b| {
        b.iter(|| tts::analyse(&net, 365.0, false).unwrap())
    });
    g.finish();
}

fn risk(c: &mut Criterion) {
    let vc = chipwatch_data::default_model();
    let cfg = RiskConfig::default();
    let mut g = c.benchmark_group("risk");
    g.sample_size(10);
    g.throughput(Throughput::Elements(200));
    g.bench_function("monte_carlo_200_samples", |b| {
        b.iter(|| monte_carlo(&vc, &cfg, 200, 1, &|| {}).unwrap())
    });
    g.finish();
}

criterion_group!(benches, kernel_pass, default_scenario, tts_1000, risk);
criterion_main!(benches);
