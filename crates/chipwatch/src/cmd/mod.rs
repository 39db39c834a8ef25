//! Command implementations, one module per area of the product.

pub mod analytics;
pub mod model;

use crate::{Cli, Command};
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

pub fn run(cli: &Cli) -> Result<()> {
    match &cli.command {
        Command::Import(c) => model::import(cli, c),
        Command::Items(a) => model::items(cli, a),
        Command::Show(a) => model::show(cli, a),
        Command::Validate(a) => model::validate(cli, a),
        Command::Chokepoints(a) => analytics::chokepoints(cli, a),
        Command::ValueShare(a) => analytics::value_share(cli, a),
        Command::Dependence(a) => analytics::dependence(cli, a),
    }
}
