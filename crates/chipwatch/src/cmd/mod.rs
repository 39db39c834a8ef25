//! Command implementations, one module per area of the product.

pub mod analytics;
pub mod audit;
pub mod cluster;
pub mod controls;
pub mod denials;
pub mod feedback;
pub mod licence_impact;
pub mod model;
pub mod monitor;
pub mod records;
pub mod register;
pub mod scenario;
pub mod server;
pub mod trade;

use crate::{Cli, Command};
use controls::ListFormat;

/// `import` subcommands: model datasets (cmd::model) and screening lists (cmd::controls).
#[derive(Debug, clap::Subcommand)]
pub enum ImportCmd {
    #[command(flatten)]
    Model(model::ImportCmd),
    /// Convert the US Consolidated Screening List (CSV or JSON) into chipwatch's list format.
    Csl(controls::ImportListArgs),
    /// Convert the EU consolidated financial sanctions list (FSF XML) into chipwatch's list format.
    EuFsf(controls::ImportListArgs),
    /// Convert the UK Sanctions List (FCDO CSV) into chipwatch's list format.
    UkSanctions(controls::ImportListArgs),
    /// Convert Japan's End User List (METI; CSV/TSV saved from the Excel file) into chipwatch's
    /// list format.
    JpEul(controls::ImportListArgs),
}
use anyhow::Result;
use chipwatch_model::ValueChain;

/// Load the model named by `--model`, or the embedded default. Warnings go to stderr only when
/// the user asked for a file of their own (the default's warnings are known and documented).
pub fn load_model(cli: &Cli) -> Result<ValueChain> {
    match &cli.model {
        Some(path) => {
            let vc = chipwatch_data::load_model_file(path)?;
            let n = chipwatch_data::warnings(&vc).count();
            if n > 0 {
                eprintln!(
                    "note: {} has {n} warning(s); `chipwatch validate --model {}` lists them",
                    path.display(),
                    path.display()
                );
            }
            Ok(vc)
        }
        None => Ok(chipwatch_data::default_model()),
    }
}

/// Commands renamed to settle one vocabulary (docs/vocabulary.md): former name, current name.
/// The former names still work for one release, with a note on stderr.
pub const FORMER_NAMES: &[(&str, &str)] = &[("screen", "screening")];

/// The note for a command line that uses a former command name (`None` otherwise). The
/// subcommand is the first argument that is neither an option nor the value of `--model`.
pub fn former_name_note(args: impl Iterator<Item = std::ffi::OsString>) -> Option<String> {
    let mut skip_value = false;
    for a in args {
        let a = a.to_string_lossy();
        if skip_value {
            skip_value = false;
            continue;
        }
        if a == "--model" {
            skip_value = true;
            continue;
        }
        if a.starts_with('-') {
            continue;
        }
        return FORMER_NAMES.iter().find(|(old, _)| *old == a).map(|(old, new)| {
            format!("note: `chipwatch {old}` is now `chipwatch {new}`; the former name goes in the next release")
        });
    }
    None
}

pub fn run(cli: &Cli) -> Result<()> {
    match &cli.command {
        Command::Import(ImportCmd::Model(c)) => model::import(cli, c),
        Command::Import(ImportCmd::Csl(a)) => controls::import_list(cli, ListFormat::Csl, a),
        Command::Import(ImportCmd::EuFsf(a)) => controls::import_list(cli, ListFormat::EuFsf, a),
        Command::Import(ImportCmd::UkSanctions(a)) => {
            controls::import_list(cli, ListFormat::UkSanctions, a)
        }
        Command::Import(ImportCmd::JpEul(a)) => controls::import_list(cli, ListFormat::JpEul, a),
        Command::Licence(c) => controls::licence(cli, c),
        Command::Screening(a) => controls::screen(cli, a),
        Command::Measure(c) => controls::measure(cli, c),
        Command::Items(a) => model::items(cli, a),
        Command::Show(a) => model::show(cli, a),
        Command::Validate(a) => model::validate(cli, a),
        Command::Chokepoints(a) => analytics::chokepoints(cli, a),
        Command::ValueShare(a) => analytics::value_share(cli, a),
        Command::Dependence(a) => analytics::dependence(cli, a),
        Command::Scenario(c) => scenario::scenario(cli, c),
        Command::Tts(a) => scenario::tts(cli, a),
        Command::Risk(a) => scenario::risk(cli, a),
        Command::Gen(a) => scenario::gen(cli, a),
        Command::Monitor(c) => monitor::run(cli, c),
        Command::Serve(a) => server::serve(cli, a),
        Command::Audit(c) => audit::run(cli, c),
        Command::Admin(c) => server::admin(cli, c),
        Command::Trade(c) => trade::run(cli, c),
        Command::Cluster(c) => cluster::run(cli, c),
    }
}
