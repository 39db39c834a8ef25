//! `chipwatch trade ...`: trade statistics of critical items on the embedded DataFusion
//! engine (chipwatch-trade; docs/trade.md). Arguments in, one library call, a table or JSON out.

use crate::output::print_json;
use crate::Cli;
use anyhow::{bail, Context, Result};
use chipwatch_monitor::trade::TradeSignal;
use chipwatch_trade::engine::{Engine, Table};
use chipwatch_trade::gen::{generate, GenOptions};
use chipwatch_trade::hs::Mapping;
use chipwatch_trade::import::{self, ImportOptions, Layout};
use chipwatch_trade::indicators::{self as ind, AlertSettings, DependenceThresholds, Scope};
use clap::{Args, Subcommand, ValueEnum};
use std::path::PathBuf;

#[derive(Debug, Subcommand)]
pub enum TradeCmd {
    /// Import published trade files (BACI, Comtrade, Comext) into a Parquet dataset.
    Import(ImportArgs),
    /// Write synthetic BACI-shaped monthly trade data with injected shocks (for tests and
    /// benchmarks).
    Gen(GenArgs),
    /// Dependency indicators: the strategic-dependency flag, import and world export
    /// concentration, imports over exports, bilateral dependence over time.
    Dependence(DependenceArgs),
    /// Short-term alerts: year-on-year outliers against the last 36 months, flows that stop or
    /// collapse, import surges with unit-price drops.
    Alerts(AlertsArgs),
    /// Run SQL on the dataset (tables `trade` and `bilateral`).
    Sql(SqlArgs),
    /// The bilateral chip trade matrix for the scenario engine, as CSV
    /// (segment,from,to,value,currency,period,source).
    Matrix(MatrixArgs),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum LayoutArg {
    Baci,
    Comtrade,
    Comext,
}

/// Where and how queries run.
#[derive(Debug, Args)]
pub struct EngineArgs {
    /// Dataset directory (written by `trade import` or `trade gen`).
    #[arg(
        long,
        env = "CHIPWATCH_TRADE_DATA",
        default_value = "trade-data",
        value_name = "DIR"
    )]
    pub data: PathBuf,
    /// Query engine: `local` (embedded DataFusion) or a Ballista scheduler's HOST:PORT
    /// (`chipwatch cluster scheduler`; the executors must see DIR at the same path).
    #[arg(long, default_value = "local", value_name = "local|HOST:PORT")]
    pub engine: String,
    /// DataFusion target partitions (default: the number of cores).
    #[arg(long)]
    pub partitions: Option<usize>,
    /// Print the SQL (the `bilateral` view, then the query) instead of running it, e.g. to run
    /// the same plan in another engine.
    #[arg(long)]
    pub show_sql: bool,
    /// Give up after this many seconds with an error (default: none on `local`, 3600 on a
    /// cluster, where a stuck job would otherwise wait forever). The job may go on running on
    /// the cluster; the scheduler drops its data after `--job-data-ttl`.
    #[arg(long, value_name = "SECS")]
    pub timeout: Option<f64>,
    /// Print to standard error how long each phase took: opening the dataset, the query
    /// (planning, running and collecting its rows, as an engine's own timer reports it) and
    /// writing the output. For comparing the engine with another on the same SQL
    /// (bench/trade-quick.sh) apart from process start-up and output.
    #[arg(long)]
    pub timings: bool,
    /// Run the query this many times in the same session and print the last result; with
    /// `--timings`, each run's time is shown (`query` for the first, `again` for the others).
    /// The first run reads the Parquet footers and page indexes, the later ones find them in
    /// the session's metadata cache, as a server's later requests do; for benchmarks
    /// (bench/trade-quick.sh compares first runs with first runs and later with later).
    #[arg(long, default_value_t = 1, value_name = "N", value_parser = clap::value_parser!(u32).range(1..=100))]
    pub repeat: u32,
}

/// Runs `run` `repeat` times (`--repeat`), marking the first run as `first` and the others as
/// `again`; returns the last result.
async fn repeated<T, F, Fut>(
    tm: &mut Timings,
    repeat: u32,
    first: &'static str,
    mut run: F,
) -> Result<T>
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Result<T>>,
{
    let mut out = run().await?;
    tm.mark(first);
    for _ in 1..repeat {
        out = run().await?;
        tm.mark("again");
    }
    Ok(out)
}

/// The default time limit of a query on a Ballista cluster: a job the scheduler cannot finish
/// (no executor, a stage that never completes) is an error, never a wait without end.
const CLUSTER_TIMEOUT_SECS: f64 = 3600.0;

impl EngineArgs {
    fn time_limit(&self) -> Option<f64> {
        self.timeout
            .or((self.engine != "local").then_some(CLUSTER_TIMEOUT_SECS))
    }
}

/// Phase timings of one command (`--timings`), printed to standard error.
struct Timings {
    on: bool,
    last: std::time::Instant,
    start: std::time::Instant,
    phases: Vec<(&'static str, f64)>,
}

impl Timings {
    fn new(e: &EngineArgs) -> Self {
        let now = std::time::Instant::now();
        Timings {
            on: e.timings,
            last: now,
            start: now,
            phases: Vec::new(),
        }
    }

    /// Ends the phase `name` now.
    fn mark(&mut self, name: &'static str) {
        let now = std::time::Instant::now();
        self.phases
            .push((name, now.duration_since(self.last).as_secs_f64()));
        self.last = now;
    }

    fn print(&self) {
        if !self.on {
            return;
        }
        let parts: Vec<String> = self
            .phases
            .iter()
            .map(|(n, s)| format!("{n} {s:.3} s"))
            .collect();
        eprintln!(
            "timings: {}; total {:.3} s",
            parts.join(", "),
            self.start.elapsed().as_secs_f64()
        );
    }
}

/// Run one command's queries under the engine's time limit.
async fn limited<T>(
    e: &EngineArgs,
    fut: impl std::future::Future<Output = Result<T>>,
) -> Result<T> {
    let Some(secs) = e.time_limit() else {
        return fut.await;
    };
    if !(secs.is_finite() && secs > 0.0) {
        bail!("--timeout must be a positive number of seconds, not {secs}");
    }
    match tokio::time::timeout(std::time::Duration::from_secs_f64(secs), fut).await {
        Ok(r) => r,
        Err(_) => bail!(
            "the query did not finish within {secs} s (--timeout) on engine `{}`; on a cluster, \
             check that executors are registered with the scheduler and see its log",
            e.engine
        ),
    }
}

/// Which rows an indicator reads.
#[derive(Debug, Args)]
pub struct ScopeArgs {
    /// Source: baci, comtrade or comext (default: the only one in the dataset).
    #[arg(long)]
    pub source: Option<String>,
    /// Code level in digits (2, 4, 6, 8).
    #[arg(long, default_value_t = 6)]
    pub level: usize,
    /// Keep codes starting with this (dots allowed: 8486.20); repeatable.
    #[arg(long = "code", value_name = "PREFIX")]
    pub codes: Vec<String>,
    /// First year.
    #[arg(long)]
    pub from_year: Option<i32>,
    /// Last year.
    #[arg(long)]
    pub to_year: Option<i32>,
}

#[derive(Debug, Args)]
pub struct ImportArgs {
    /// Published layout of the files.
    #[arg(long, value_enum)]
    pub layout: LayoutArg,
    /// Input files (BACI: the data files and its country_codes file).
    #[arg(required = true)]
    pub files: Vec<PathBuf>,
    /// Dataset directory to write (added to when it exists).
    #[arg(long, value_name = "DIR")]
    pub out: PathBuf,
    /// Vintage written on every row (default: each file's name).
    #[arg(long)]
    pub vintage: Option<String>,
}

#[derive(Debug, Args)]
pub struct GenArgs {
    /// Rows to write (rounded up to whole series of months).
    #[arg(long, default_value_t = 1_000_000)]
    pub rows: u64,
    /// Seed.
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
    /// Years of monthly data.
    #[arg(long, default_value_t = 6)]
    pub years: u32,
    /// First year.
    #[arg(long, default_value_t = 2019)]
    pub start_year: i32,
    /// Shocks to inject (listed in DIR/_gen/shocks.json).
    #[arg(long, default_value_t = 12)]
    pub shocks: usize,
    /// Dataset directory to write.
    #[arg(long, value_name = "DIR")]
    pub out: PathBuf,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Indicator {
    /// The GeoDep strategic-dependency flag (with its three criteria).
    Flag,
    /// Import concentration per reporter, code and year.
    Imports,
    /// World export concentration per code and year.
    Exports,
    /// Imports over exports per country, code and year.
    Ratio,
    /// One importer's imports from one exporter over time (--reporter, --partner).
    Bilateral,
}

#[derive(Debug, Args)]
pub struct DependenceArgs {
    /// What to compute.
    #[arg(long, value_enum, default_value = "flag")]
    pub indicator: Indicator,
    /// Importing country (ISO alpha-3).
    #[arg(long)]
    pub reporter: Option<String>,
    /// Exporting country, for --indicator bilateral.
    #[arg(long)]
    pub partner: Option<String>,
    /// Monthly instead of annual (bilateral).
    #[arg(long)]
    pub monthly: bool,
    /// Only rows flagged dependent (flag).
    #[arg(long)]
    pub only_dependent: bool,
    /// Import HHI threshold (0–10,000).
    #[arg(long, default_value_t = 4000.0)]
    pub import_hhi: f64,
    /// World export HHI threshold (0–10,000).
    #[arg(long, default_value_t = 4000.0)]
    pub export_hhi: f64,
    /// Imports-over-exports threshold.
    #[arg(long, default_value_t = 1.0)]
    pub ratio: f64,
    #[command(flatten)]
    pub scope: ScopeArgs,
    #[command(flatten)]
    pub engine: EngineArgs,
}

#[derive(Debug, Args)]
pub struct AlertsArgs {
    /// Importing country (ISO alpha-3).
    #[arg(long)]
    pub reporter: Option<String>,
    /// Robust z-score threshold.
    #[arg(long, default_value_t = 3.5)]
    pub threshold: f64,
    /// Months of history for the median and MAD.
    #[arg(long, default_value_t = 36)]
    pub window: usize,
    /// Smallest year-on-year change that can alert, as a ratio (1.5 = +50% or −33%).
    #[arg(long, default_value_t = 1.5)]
    pub min_change: f64,
    /// Also store the alerts as monitor events in this database (SQLite path or postgres://
    /// URL), where watchlists, webhooks and the dashboard's monitor see them like news events
    /// (re-running stores only new ones).
    #[arg(long, value_name = "URL")]
    pub db: Option<String>,
    /// Watchlist file (TOML, docs/monitor.md) the stored events are matched against (needs
    /// --db).
    #[arg(long, value_name = "FILE", requires = "db")]
    pub watch: Option<PathBuf>,
    /// Vintage of the dataset, written into the stored events' provenance.
    #[arg(long)]
    pub vintage: Option<String>,
    #[command(flatten)]
    pub scope: ScopeArgs,
    #[command(flatten)]
    pub engine: EngineArgs,
}

#[derive(Debug, Args)]
pub struct SqlArgs {
    /// One SQL statement (DataFusion dialect).
    pub query: String,
    #[command(flatten)]
    pub engine: EngineArgs,
}

#[derive(Debug, Args)]
pub struct MatrixArgs {
    /// Write the CSV here instead of standard output.
    #[arg(long, value_name = "FILE")]
    pub out: Option<PathBuf>,
    #[command(flatten)]
    pub scope: ScopeArgs,
    #[command(flatten)]
    pub engine: EngineArgs,
}

fn runtime() -> Result<tokio::runtime::Runtime> {
    Ok(tokio::runtime::Runtime::new()?)
}

async fn open(e: &EngineArgs) -> Result<Engine> {
    if e.engine == "local" {
        return Ok(Engine::open(&e.data, e.partitions).await?);
    }
    chipwatch_cluster::remote_engine(&e.engine, &e.data, e.partitions)
        .await
        .with_context(|| format!("--engine {} (`local` or a scheduler's HOST:PORT)", e.engine))
}

async fn scope(engine: &Engine, s: &ScopeArgs) -> Result<Scope> {
    let source = engine
        .source_or_only(s.source.as_deref())
        .await
        .context("--source")?;
    Ok(Scope {
        source,
        level: s.level,
        codes: s.codes.iter().map(|c| c.replace('.', "")).collect(),
        years: match (s.from_year, s.to_year) {
            (None, None) => None,
            (a, b) => Some((a.unwrap_or(i32::MIN / 2), b.unwrap_or(i32::MAX / 2))),
        },
    })
}

fn show_sql(sql: &str) -> Result<()> {
    outln!("{};", chipwatch_trade::engine::BILATERAL_VIEW);
    outln!("{sql};");
    Ok(())
}

fn print_table(cli: &Cli, t: &Table) -> Result<()> {
    if cli.json {
        print_json(&t.records())
    } else {
        out!("{}", t.to_text());
        Ok(())
    }
}

pub fn run(cli: &Cli, c: &TradeCmd) -> Result<()> {
    match c {
        TradeCmd::Import(a) => {
            let layout = match a.layout {
                LayoutArg::Baci => Layout::Baci,
                LayoutArg::Comtrade => Layout::Comtrade,
                LayoutArg::Comext => Layout::Comext,
            };
            let opts = ImportOptions {
                vintage: a.vintage.clone(),
            };
            let s = import::import(layout, &a.files, &a.out, &opts)?;
            if cli.json {
                print_json(&s)?;
            } else {
                outln!(
                    "{} rows read, {} written to {} ({} files)",
                    s.rows_read,
                    s.rows_written,
                    a.out.display(),
                    s.outputs.len()
                );
                for (k, n) in &s.counts {
                    outln!("  {k}: {n}");
                }
                if s.mirror_pairs_checked > 0 {
                    outln!(
                        "  mirror flows: {} pairs checked, {} gaps",
                        s.mirror_pairs_checked,
                        s.mirror_gap_count
                    );
                }
                outln!("summary and diagnostics: {}/_imports/", a.out.display());
            }
        }
        TradeCmd::Gen(a) => {
            let opts = GenOptions {
                rows: a.rows,
                seed: a.seed,
                start_year: a.start_year,
                years: a.years,
                shocks: a.shocks,
            };
            let s = generate(&opts, &a.out)?;
            if cli.json {
                print_json(&s)?;
            } else {
                outln!(
                    "{} rows ({} series x {} months) written to {}; {} shocks in {}/_gen/shocks.json",
                    s.rows,
                    s.series,
                    s.months,
                    a.out.display(),
                    s.shocks.len(),
                    a.out.display()
                );
            }
        }
        TradeCmd::Dependence(a) => {
            let mut tm = Timings::new(&a.engine);
            let rt = runtime()?;
            let t = rt.block_on(limited(&a.engine, async {
                let e = open(&a.engine).await?;
                let sc = scope(&e, &a.scope).await?;
                tm.mark("open");
                let rep = a.reporter.as_deref();
                let sql = match a.indicator {
                    Indicator::Flag => {
                        let th = DependenceThresholds {
                            import_hhi: a.import_hhi,
                            export_hhi: a.export_hhi,
                            ratio: a.ratio,
                            ..Default::default()
                        };
                        let q = ind::dependence(&sc, rep, &th)?;
                        if a.only_dependent {
                            format!("SELECT * FROM ({q}) d WHERE dependent")
                        } else {
                            q
                        }
                    }
                    Indicator::Imports => ind::import_concentration(&sc, rep)?,
                    Indicator::Exports => ind::export_concentration(&sc)?,
                    Indicator::Ratio => ind::imports_over_exports(&sc)?,
                    Indicator::Bilateral => {
                        let (Some(r), Some(p)) = (rep, a.partner.as_deref()) else {
                            bail!("--indicator bilateral needs --reporter (importer) and --partner (exporter)");
                        };
                        ind::bilateral_dependence(&sc, r, p, a.monthly)?
                    }
                };
                if a.engine.show_sql {
                    show_sql(&sql)?;
                }
                if a.engine.show_sql {
                    return Ok(None);
                }
                // One importer's rows are a small part of the data: filter inside the scan (on
                // the embedded engine; a cluster keeps its session as it is).
                let selective = rep.is_some()
                    && !matches!(a.indicator, Indicator::Flag)
                    && a.engine.engine == "local";
                let t = repeated(&mut tm, a.engine.repeat, "query", || async {
                    Ok(if selective {
                        e.query_selective(&sql).await?
                    } else {
                        e.query(&sql).await?
                    })
                })
                .await?;
                Ok::<_, anyhow::Error>(Some(t))
            }))?;
            if let Some(t) = t {
                print_table(cli, &t)?;
                tm.mark("output");
                tm.print();
            }
        }
        TradeCmd::Alerts(a) => {
            anyhow::ensure!(a.min_change > 1.0, "--min-change must be above 1");
            let mut tm = Timings::new(&a.engine);
            let rt = runtime()?;
            let alerts = rt.block_on(limited(&a.engine, async {
                let e = open(&a.engine).await?;
                let sc = scope(&e, &a.scope).await?;
                tm.mark("open");
                let settings = AlertSettings {
                    threshold: a.threshold,
                    window: a.window,
                    min_history: (a.window * 2 / 3).max(1),
                    min_log_change: a.min_change.ln(),
                    ..Default::default()
                };
                let m = Mapping::embedded();
                if a.engine.show_sql {
                    show_sql(&ind::alert_series(&sc, a.reporter.as_deref())?)?;
                    return Ok(Vec::new());
                }
                let alerts = repeated(&mut tm, a.engine.repeat, "query and series test", || {
                    async {
                        Ok(ind::alerts(&e, &sc, a.reporter.as_deref(), &settings, Some(&m))
                            .await?)
                    }
                })
                .await?;
                if let Some(db) = &a.db {
                    let signals: Vec<TradeSignal> = alerts
                        .iter()
                        .map(|x| {
                            chipwatch_server::routes::trade::trade_signal(
                                x,
                                &m,
                                &sc.source,
                                a.vintage.as_deref(),
                            )
                        })
                        .collect();
                    let vc = super::load_model(cli)?;
                    let store = super::monitor::StoreArgs {
                        db: db.clone(),
                        watch: a.watch.clone(),
                    };
                    let mut ing = super::monitor::Ingestor::open(&vc, &store, cli.json)
                        .await?
                        .quiet();
                    let mut tally = super::monitor::Tally::default();
                    ing.ingest_trade(&signals, &mut tally).await?;
                    eprintln!(
                        "stored as monitor events: {} new, {} already stored, {} watchlist alert(s)",
                        tally.new, tally.duplicate, tally.alerts
                    );
                }
                Ok::<_, anyhow::Error>(alerts)
            }))?;
            if cli.json {
                print_json(&alerts)?;
            } else {
                outln!(
                    "{:<17} {:<7} {:<4} {:<4} {:<8} {:>16} {:>16} {:>7} {:>6}  ITEMS",
                    "KIND",
                    "PERIOD",
                    "TO",
                    "FROM",
                    "CODE",
                    "VALUE",
                    "YEAR BEFORE",
                    "Z",
                    "SHARE"
                );
                for a in &alerts {
                    outln!(
                        "{:<17} {}-{:02} {:<4} {:<4} {:<8} {:>16.0} {:>16.0} {:>7} {:>6}  {}",
                        a.kind,
                        a.year,
                        a.month,
                        a.importer,
                        a.exporter,
                        a.code,
                        a.value,
                        a.value_year_before,
                        a.z.map(|z| format!("{z:.1}")).unwrap_or_else(|| "-".into()),
                        a.share_of_imports
                            .map(|s| format!("{:.0}%", s * 100.0))
                            .unwrap_or_else(|| "-".into()),
                        a.items.join(" ")
                    );
                }
                outln!("{} alerts", alerts.len());
            }
            tm.mark(if a.db.is_some() {
                "store and output"
            } else {
                "output"
            });
            tm.print();
        }
        TradeCmd::Sql(a) => {
            if a.engine.show_sql {
                return show_sql(&a.query);
            }
            let mut tm = Timings::new(&a.engine);
            let rt = runtime()?;
            let t = rt.block_on(limited(&a.engine, async {
                let e = open(&a.engine).await?;
                tm.mark("open");
                let t = repeated(&mut tm, a.engine.repeat, "query", || async {
                    Ok(e.query(&a.query).await?)
                })
                .await?;
                Ok::<_, anyhow::Error>(t)
            }))?;
            print_table(cli, &t)?;
            tm.mark("output");
            tm.print();
        }
        TradeCmd::Matrix(a) => {
            let mut tm = Timings::new(&a.engine);
            let rt = runtime()?;
            let t = rt.block_on(limited(&a.engine, async {
                let e = open(&a.engine).await?;
                let sc = scope(&e, &a.scope).await?;
                tm.mark("open");
                let sql = ind::matrix(&sc, &Mapping::embedded())?;
                if a.engine.show_sql {
                    show_sql(&sql)?;
                    return Ok(None);
                }
                let t = repeated(&mut tm, a.engine.repeat, "query", || async {
                    Ok(e.query(&sql).await?)
                })
                .await?;
                Ok::<_, anyhow::Error>(Some(t))
            }))?;
            let Some(t) = t else { return Ok(()) };
            if cli.json {
                print_json(&t.records())?;
            } else if let Some(p) = &a.out {
                std::fs::write(p, t.to_csv()).with_context(|| p.display().to_string())?;
            } else {
                out!("{}", t.to_csv());
            }
            tm.mark("output");
            tm.print();
        }
    }
    Ok(())
}
