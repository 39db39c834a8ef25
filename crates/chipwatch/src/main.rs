//! The `chipwatch` binary: a thin clap layer over the library crates. Each area of the product
//! has one module under `cmd/`; this file only parses arguments, loads the model and maps errors
//! to exit codes (0 ok, 2 bad input or failure, 3 a licence determination whose overall verdict
//! is undetermined; messages on stderr).

/// `println!` that returns an error instead of panicking when stdout is closed (`| head`);
/// `main` ends quietly on a broken pipe, as other command-line tools do.
macro_rules! outln {
    ($($t:tt)*) => {{
        use std::io::Write as _;
        writeln!(std::io::stdout(), $($t)*).map_err($crate::output::StdoutError)?
    }};
}
/// `print!` counterpart of [`outln!`].
macro_rules! out {
    ($($t:tt)*) => {{
        use std::io::Write as _;
        write!(std::io::stdout(), $($t)*).map_err($crate::output::StdoutError)?
    }};
}

mod cmd;
mod output;

use clap::{Parser, Subcommand};
use std::path::PathBuf;
use std::process::ExitCode;

/// Semiconductor supply-chain resilience and export-control intelligence.
#[derive(Debug, Parser)]
#[command(name = "chipwatch", version, about, long_about = None)]
pub struct Cli {
    /// Value-chain model file in chipwatch format (default: the embedded ETO/CSET model).
    #[arg(long, global = true, env = "CHIPWATCH_MODEL", value_name = "FILE")]
    pub model: Option<PathBuf>,
    /// Print JSON instead of tables.
    #[arg(long, global = true)]
    pub json: bool,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Import a dataset into a chipwatch model file.
    #[command(subcommand)]
    Import(cmd::ImportCmd),
    /// List items of the value chain.
    Items(cmd::model::ItemsArgs),
    /// Show one item: providers by country and by firm, market size, inputs, uses, taxonomy.
    Show(cmd::model::ShowArgs),
    /// Check a model file and print its diagnostics.
    Validate(cmd::model::ValidateArgs),
    /// Concentration per item: HHI, CR1, CR3, countries to 75%, single points of failure.
    Chokepoints(cmd::analytics::ChokepointsArgs),
    /// Value-weighted country shares over a set of items.
    ValueShare(cmd::analytics::ValueShareArgs),
    /// Items a consumer country gets mainly from a supplier country.
    Dependence(cmd::analytics::DependenceArgs),
    /// Scenarios: shocks propagated through the value chain over time (docs/scenarios.md).
    #[command(subcommand)]
    Scenario(cmd::scenario::ScenarioCmd),
    /// Time-to-survive (and with --ttr time-to-recover, PI, REI) for every single-node disruption.
    Tts(cmd::scenario::TtsArgs),
    /// Monte Carlo risk over random country disruptions.
    Risk(cmd::scenario::RiskArgs),
    /// Generate a synthetic firm-level model (or TTS network) for scale tests.
    Gen(cmd::scenario::GenArgs),
    /// Export licence determination per jurisdiction, with explanation (docs/controls.md).
    #[command(subcommand)]
    Licence(cmd::controls::LicenceCmd),
    /// Screening: names against restricted-party lists (docs/controls.md; `screen` is its
    /// former name, accepted for one more release).
    #[command(alias = "screen")]
    Screening(cmd::controls::ScreenArgs),
    /// Control measures: list, show, impact on the value chain (docs/controls.md).
    #[command(subcommand)]
    Measure(cmd::controls::MeasureCmd),
    /// Early-warning monitor: news ingestion, event detection, alerts (docs/monitor.md).
    #[command(subcommand)]
    Monitor(cmd::monitor::MonitorCmd),
    /// Run the HTTP API server (docs/api.md).
    Serve(cmd::server::ServeArgs),
    /// Audit log tools.
    #[command(subcommand)]
    Audit(cmd::audit::AuditCmd),
    /// Bootstrap a server: organisations, users, tokens, federation peers.
    #[command(subcommand)]
    Admin(cmd::server::AdminCmd),
    /// Trade statistics of critical items: import, indicators, alerts, SQL (docs/trade.md).
    #[command(subcommand)]
    Trade(cmd::trade::TradeCmd),
    /// Apache Ballista scheduler and executors for trade queries on several machines
    /// (docs/trade.md, "A cluster").
    #[command(subcommand)]
    Cluster(cmd::cluster::ClusterCmd),
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    if let Some(note) = cmd::former_name_note(std::env::args_os().skip(1)) {
        eprintln!("{note}");
    }
    match cmd::run(&cli) {
        Ok(()) => ExitCode::SUCCESS,
        // The reader went away (`chipwatch ... | head`): nothing left to say.
        Err(e)
            if e.chain().any(|c| {
                c.downcast_ref::<output::StdoutError>()
                    .is_some_and(|s| s.0.kind() == std::io::ErrorKind::BrokenPipe)
            }) =>
        {
            ExitCode::SUCCESS
        }
        Err(e) if e.downcast_ref::<output::Undetermined>().is_some() => {
            eprintln!("undetermined: {e:#}");
            ExitCode::from(3)
        }
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::from(2)
        }
    }
}
