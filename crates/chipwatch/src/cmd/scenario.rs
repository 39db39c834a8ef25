//! Scenario commands: `scenario run`, `tts`, `risk`, `gen`. Thin wrappers: read files, call
//! `chipwatch_analysis`, print tables or JSON, write reports.

use crate::output::{print_json, Table};
use crate::Cli;
use anyhow::{Context, Result};
use chipwatch_analysis::scenario::{self, Scenario, ScenarioResult};
use chipwatch_analysis::{gen, risk, tts};
use clap::{Args, Subcommand};
use std::io::Write;
use std::path::PathBuf;

#[derive(Debug, Subcommand)]
pub enum ScenarioCmd {
    /// Run a scenario file (TOML; see docs/scenarios.md) on the model.
    Run(RunArgs),
}

#[derive(Debug, Args)]
pub struct RunArgs {
    /// Scenario file.
    pub file: PathBuf,
    /// Write a self-contained HTML report here.
    #[arg(long, value_name = "OUT.html")]
    pub report: Option<PathBuf>,
    /// Production data directory (fabs, ATP, demand, segment needs; layout of data/fabs/)
    /// instead of the embedded one.
    #[arg(long, value_name = "DIR")]
    pub fabs: Option<PathBuf>,
    /// Bilateral chip trade matrix (CSV `segment,from,to,value`, e.g. from `chipwatch trade
    /// matrix`); overrides the scenario's `trade_matrix`.
    #[arg(long, value_name = "FILE")]
    pub trade_matrix: Option<PathBuf>,
    /// Baseline date (YYYY-MM-DD); overrides the scenario's `baseline_date` (default today).
    #[arg(long, value_name = "DATE")]
    pub baseline_date: Option<String>,
    /// Do not add the export controls in force on the baseline date to the baseline.
    #[arg(long)]
    pub no_controls: bool,
    /// Item-level view only (the v1 engine, no fabs, segments or economies).
    #[arg(long)]
    pub no_segments: bool,
}

pub fn scenario(cli: &Cli, c: &ScenarioCmd) -> Result<()> {
    match c {
        ScenarioCmd::Run(a) => run(cli, a),
    }
}

fn run(cli: &Cli, a: &RunArgs) -> Result<()> {
    let text = std::fs::read_to_string(&a.file)
        .with_context(|| format!("cannot read {}", a.file.display()))?;
    let mut s = Scenario::from_toml_str(&text, &a.file.display().to_string())?;
    let vc = super::load_model(cli)?;
    let prod = match &a.fabs {
        Some(dir) => Some(chipwatch_data::fabs::load_production_dir(dir)?),
        None if a.no_segments => None,
        // The embedded needs name the ETO model's items: a model without them (a generated or
        // a user's own model) runs the item-level view only, and says so.
        None => match chipwatch_data::fabs::production_for(&vc) {
            Ok(p) => Some(p),
            Err(item) => {
                eprintln!(
                    "note: segment layer off: the model lacks {item}, an item the embedded \
                     production data needs; pass --fabs DIR with a segments.toml for this model"
                );
                None
            }
        },
    };
    let r = match prod {
        None => scenario::run(&vc, &s).with_context(|| format!("{}", a.file.display()))?,
        Some(prod) => {
            let matrix_path = a.trade_matrix.clone().or_else(|| {
                s.trade_matrix.as_ref().map(|m| {
                    a.file
                        .parent()
                        .unwrap_or_else(|| std::path::Path::new("."))
                        .join(m)
                })
            });
            let matrix = match &matrix_path {
                Some(p) => {
                    let text = std::fs::read_to_string(p)
                        .with_context(|| format!("cannot read trade matrix {}", p.display()))?;
                    Some(chipwatch_data::fabs::parse_trade_matrix(
                        &text,
                        &p.display().to_string(),
                    )?)
                }
                None => None,
            };
            if let Some(d) = &a.baseline_date {
                chipwatch_controls::Date::parse(d)
                    .map_err(|m| anyhow::anyhow!("--baseline-date: {m}"))?;
                s.baseline_date = Some(d.clone());
            }
            if a.no_controls && s.baseline_date.is_none() {
                s.baseline_date = Some(super::controls::today().to_string());
            }
            if !a.no_controls {
                let engine = chipwatch_controls::default_engine()?;
                chipwatch_controls::baseline::prepare(
                    &engine,
                    &prod,
                    &mut s,
                    super::controls::today(),
                )
                .with_context(|| format!("{}", a.file.display()))?;
            }
            scenario::run_with_production(&vc, &s, &prod, matrix.as_ref())
                .with_context(|| format!("{}", a.file.display()))?
        }
    };
    if let Some(out) = &a.report {
        let html = chipwatch_report::scenario_report(&r);
        std::fs::write(out, html).with_context(|| format!("cannot write {}", out.display()))?;
        eprintln!("report written to {}", out.display());
    }
    if cli.json {
        return print_json(&r);
    }
    print_result(&r)?;
    Ok(())
}

fn f3(v: f64) -> String {
    format!("{v:.3}")
}

fn days(v: Option<f64>) -> String {
    v.map_or_else(|| "-".into(), |d| format!("{d:.0}"))
}

fn print_result(r: &ScenarioResult) -> anyhow::Result<()> {
    outln!("scenario: {}", r.scenario);
    outln!(
        "horizon {} days, series every {} days; model: {} ({})",
        r.horizon_days,
        r.step_days,
        r.provenance.model,
        r.provenance.vintage
    );
    let a = &r.assumptions;
    outln!(
        "assumptions: headroom {}, inventory days material {} / tool {}, chip inventory {} days, \
         tool lag {} days, taxonomy: {}, share basis {}{}",
        a.headroom,
        a.inventory_days.material,
        a.inventory_days.tool,
        a.chip_inventory_days,
        a.tool_lag_days,
        a.taxonomy.label(),
        a.share_basis,
        if a.share_override.is_empty() {
            String::new()
        } else {
            format!(", {} share override(s)", a.share_override.len())
        }
    );
    if !r.economies.is_empty() {
        print_segments(r)?;
    }
    outln!();
    outln!(
        "Item-level view (v1: inputs of each country's own fabs; finished chips {}):",
        r.world.item_id
    );
    let mut t = Table::new([
        "country",
        "weight",
        "min",
        "day",
        "end",
        "tts",
        "shortfall",
        "binding constraint",
        "providers",
    ]);
    for c in &r.consumers {
        let f = &c.final_output;
        t.row([
            c.country.clone(),
            format!("{:.1}", c.weight),
            f3(f.availability_min),
            f.worst_day.to_string(),
            f3(f.availability_end),
            days(f.tts_days),
            format!("{:.1}", f.shortfall_days),
            chipwatch_report::chain_label(&f.binding_constraint, " <- "),
            f.binding_providers.join(", "),
        ]);
    }
    t.print()?;
    outln!(
        "world (weighted): min {}, end {}, shortfall {:.1} days",
        f3(r.world.availability_min),
        f3(r.world.availability_end),
        r.world.shortfall_days
    );
    outln!();
    outln!("Items short for some consumer (lowest availability first):");
    let mut rows: Vec<(&str, &scenario::ItemResult)> = r
        .consumers
        .iter()
        .flat_map(|c| c.items.iter().map(move |i| (c.country.as_str(), i)))
        .filter(|(_, i)| i.availability_min < 1.0 - 1e-6)
        .collect();
    rows.sort_by(|a, b| {
        a.1.availability_min
            .total_cmp(&b.1.availability_min)
            .then(a.0.cmp(b.0))
            .then(a.1.item_id.cmp(&b.1.item_id))
    });
    let mut t = Table::new(["country", "item", "name", "min", "day", "end", "tts"]);
    for (c, i) in rows.iter().take(25) {
        t.row([
            c.to_string(),
            i.item_id.to_string(),
            i.name.chars().take(40).collect(),
            f3(i.availability_min),
            i.worst_day.to_string(),
            f3(i.availability_end),
            days(i.tts_days),
        ]);
    }
    if rows.is_empty() {
        outln!("(none)");
    } else {
        t.print()?;
        if rows.len() > 25 {
            outln!("... {} more (use --json for all)", rows.len() - 25);
        }
    }
    if !r.notes.is_empty() {
        outln!();
        outln!("notes:");
        for n in &r.notes {
            outln!("  - {n}");
        }
    }
    Ok(())
}

/// Economies by segment, production lost, baseline denials.
fn print_segments(r: &ScenarioResult) -> anyhow::Result<()> {
    use chipwatch_model::production::Segment;
    let a = &r.assumptions;
    outln!(
        "segment assumptions: installed base erodes {:.0}%/year when blocked, forgone capacity \
         growth {:.0}%/year, {} days to make good a year's erosion{}",
        a.installed_base_erosion * 100.0,
        a.capacity_growth * 100.0,
        a.tool_recovery_days,
        if a.demand_override.is_empty() {
            String::new()
        } else {
            format!(", {} demand override(s)", a.demand_override.len())
        }
    );
    if let Some(p) = &r.segment_provenance {
        outln!(
            "production: {} ({} fab rows, {} producing in {}; coverage {} of {}); allocation: {}; trade matrix: {}",
            p.fabs,
            p.fab_rows,
            p.producing_fabs,
            p.baseline_year,
            p.coverage_pct.map_or_else(|| "unknown".into(), |c| format!("{c:.0}%")),
            p.coverage_total,
            p.allocation,
            p.trade_matrix
        );
    }
    if let Some(b) = &r.baseline {
        outln!(
            "baseline: {} with {} denial(s) in force",
            b.date.as_deref().unwrap_or("-"),
            b.denials.len()
        );
    }
    outln!();
    outln!("Chips available to each economy by segment (lowest over the horizon; after chip inventory):");
    let mut head = vec!["economy".to_string()];
    head.extend(Segment::ALL.iter().map(|s| s.as_str().to_string()));
    head.push("all chips".into());
    head.push("binding constraint (worst segment)".into());
    let mut t = Table::new(head);
    for e in &r.economies {
        let mut row = vec![match &e.part_of {
            Some(p) => format!("  {} ({p})", e.code),
            None => e.code.clone(),
        }];
        row.extend(e.segments.iter().map(|s| f3(s.availability_min)));
        row.push(f3(e.chips_min));
        let worst = e
            .segments
            .iter()
            .filter(|s| !s.binding_constraint.is_empty())
            .min_by(|a, b| a.availability_min.total_cmp(&b.availability_min));
        row.push(worst.map_or_else(String::new, |s| s.binding_constraint.join(" <- ")));
        t.row(row);
    }
    t.print()?;
    let lost: Vec<_> = r
        .production
        .iter()
        .filter(|p| p.capacity_min < 1.0 - 1e-6)
        .collect();
    if !lost.is_empty() {
        outln!();
        outln!("Production hit (most wafers lost first; 300 mm equivalents):");
        let mut t = Table::new([
            "country",
            "owner",
            "segment",
            "wspm",
            "min",
            "end",
            "wafers lost",
            "cause",
        ]);
        for p in lost.iter().take(15) {
            t.row([
                p.country.clone(),
                p.owner.clone(),
                p.segment.to_string(),
                format!("{:.0}", p.baseline_wspm_300eq),
                f3(p.capacity_min),
                f3(p.capacity_end),
                format!("{:.0}", p.wafers_lost_300eq),
                p.cause.clone(),
            ]);
        }
        t.print()?;
        if lost.len() > 15 {
            outln!("... {} more (use --json for all)", lost.len() - 15);
        }
    }
    Ok(())
}

#[derive(Debug, Args)]
pub struct TtsArgs {
    /// Supply network (JSON; see docs/scenarios.md).
    pub network: PathBuf,
    /// Cap on time-to-survive (days).
    #[arg(long, default_value_t = 365.0)]
    pub horizon: f64,
    /// Also solve the time-to-recover program: performance impact (PI) and risk exposure (REI).
    #[arg(long)]
    pub ttr: bool,
}

pub fn tts(cli: &Cli, a: &TtsArgs) -> Result<()> {
    let text = std::fs::read_to_string(&a.network)
        .with_context(|| format!("cannot read {}", a.network.display()))?;
    let net = tts::Network::from_json_str(&text, &a.network.display().to_string())?;
    let r =
        tts::analyse(&net, a.horizon, a.ttr).with_context(|| format!("{}", a.network.display()))?;
    if cli.json {
        return print_json(&r);
    }
    outln!(
        "{} nodes, {} edges; single-node disruptions; horizon {} days",
        net.nodes.len(),
        net.edges.len(),
        r.horizon_days
    );
    let mut t = Table::new(["node", "tts_days", "ttr_days", "pi", "rei", "mitigate"]);
    for n in &r.nodes {
        t.row([
            n.id.clone(),
            if n.tts_capped {
                format!(">={:.0}", r.horizon_days)
            } else {
                format!("{:.2}", n.tts_days)
            },
            n.ttr_days.map_or("-".into(), |v| format!("{v:.0}")),
            n.pi.map_or("-".into(), |v| format!("{v:.1}")),
            n.rei.map_or("-".into(), |v| format!("{v:.3}")),
            n.needs_mitigation
                .map_or("-".into(), |v| if v { "yes".into() } else { "no".into() }),
        ]);
    }
    t.print()?;
    Ok(())
}

#[derive(Debug, Args)]
pub struct RiskArgs {
    /// Number of random disruption scenarios.
    #[arg(long, default_value_t = 1000)]
    pub samples: u64,
    /// Seed: the same seed gives the same result.
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
    /// Risk configuration (TOML; hazards per country; see docs/scenarios.md).
    #[arg(long, value_name = "FILE")]
    pub config: Option<PathBuf>,
}

pub fn risk(cli: &Cli, a: &RiskArgs) -> Result<()> {
    anyhow::ensure!(a.samples > 0, "--samples must be at least 1");
    let cfg = match &a.config {
        Some(p) => {
            let text = std::fs::read_to_string(p)
                .with_context(|| format!("cannot read {}", p.display()))?;
            risk::RiskConfig::from_toml_str(&text, &p.display().to_string())?
        }
        None => risk::RiskConfig::default(),
    };
    let vc = super::load_model(cli)?;
    let bar = indicatif::ProgressBar::new(a.samples);
    bar.set_style(
        indicatif::ProgressStyle::with_template(
            "{bar:40} {pos}/{len} samples {elapsed} (eta {eta})",
        )
        .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
    );
    let r = risk::monte_carlo(&vc, &cfg, a.samples, a.seed, &|| bar.inc(1))?;
    bar.finish_and_clear();
    if cli.json {
        return print_json(&r);
    }
    outln!(
        "{} samples, seed {}, horizon {} days; model {} ({})",
        r.samples,
        r.seed,
        r.horizon_days,
        r.model,
        r.vintage
    );
    outln!("Mean finished-chip availability over the horizon, per consumer:");
    let mut t = Table::new(["country", "mean", "p5", "p50", "p95"]);
    for d in r.consumers.iter().chain([&r.world]) {
        t.row([
            d.country.clone(),
            f3(d.mean),
            f3(d.p5),
            f3(d.p50),
            f3(d.p95),
        ]);
    }
    t.print()?;
    outln!();
    outln!("Supplying countries contributing most to expected loss:");
    let mut t = Table::new(["country", "expected loss (days)", "share", "disrupted in"]);
    for c in r.contributors.iter().take(15) {
        t.row([
            c.country.clone(),
            format!("{:.3}", c.expected_loss_days),
            format!("{:.1}%", c.share * 100.0),
            format!("{:.1}%", c.disrupted_rate * 100.0),
        ]);
    }
    t.print()?;
    Ok(())
}

#[derive(Debug, Args)]
pub struct GenArgs {
    /// Total nodes (countries + firms + items), or nodes of the TTS network with --network.
    #[arg(long)]
    pub nodes: u64,
    /// Average edges (shares + process-flow links) per node.
    #[arg(long, default_value_t = 10.0)]
    pub avg_degree: f64,
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
    /// Renumber items and firms at random (same graph, no memory locality).
    #[arg(long)]
    pub shuffle: bool,
    /// Write a multi-tier TTS network (JSON) instead of a value-chain model (TOML).
    #[arg(long)]
    pub network: bool,
    /// Output file: the model format in TOML, or its JSON form when the name ends in `.json`.
    #[arg(long)]
    pub out: PathBuf,
}

pub fn gen(_cli: &Cli, a: &GenArgs) -> Result<()> {
    anyhow::ensure!(a.nodes > 0, "--nodes must be at least 1");
    anyhow::ensure!(
        a.avg_degree.is_finite() && a.avg_degree > 0.0 && a.avg_degree <= 1000.0,
        "--avg-degree must be in (0, 1000]"
    );
    let file = std::fs::File::create(&a.out)
        .with_context(|| format!("cannot create {}", a.out.display()))?;
    let mut w = std::io::BufWriter::new(file);
    if a.network {
        let net = gen::network(a.nodes as usize, a.seed);
        serde_json::to_writer_pretty(&mut w, &net)?;
        w.flush()?;
        eprintln!(
            "{}: {} nodes, {} edges",
            a.out.display(),
            net.nodes.len(),
            net.edges.len()
        );
        return Ok(());
    }
    let p = gen::GenParams {
        nodes: a.nodes,
        avg_degree: a.avg_degree,
        seed: a.seed,
        shuffle: a.shuffle,
    };
    let g = gen::Synthetic::generate(p);
    let json = a
        .out
        .extension()
        .is_some_and(|e| e.eq_ignore_ascii_case("json"));
    if json {
        g.write_json(&p, &mut w)
    } else {
        g.write_toml(&p, &mut w)
    }
    .with_context(|| format!("cannot write {}", a.out.display()))?;
    w.flush()?;
    // A checksum of one static pass under the benchmark capacity rule, so a reference
    // implementation (bench/kernel_networkx.py) can check it computes the same thing.
    let k = g.kernel()?;
    let mut scratch = vec![0.0; k.n_items()];
    let mut val = vec![0.0; k.n_items()];
    k.pass(&g.bench_capacity(), 0.10, &mut scratch, &mut val);
    let sum: f64 = val.iter().map(|&v| f64::from(v)).sum();
    eprintln!(
        "{}: {} countries, {} firms, {} items, {} edges; static pass checksum {sum:.3}",
        a.out.display(),
        g.n_countries,
        g.n_firms,
        g.items.len(),
        g.n_edges()
    );
    Ok(())
}
