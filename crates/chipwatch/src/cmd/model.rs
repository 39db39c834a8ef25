//! Model commands: `import eto`, `items`, `show`, `validate`.

use crate::output::{pct, print_json, usd, Table};
use crate::Cli;
use anyhow::{Context, Result};
use chipwatch_analysis::views::{self, Link, ShareRow};
use chipwatch_model::{ItemKind, Severity, StageKind, ValueChain};
use clap::{Args, Subcommand};
use serde::Serialize;
use std::path::PathBuf;

#[derive(Debug, Subcommand)]
pub enum ImportCmd {
    /// Import the ETO/CSET Advanced Semiconductor Supply Chain Dataset (five CSV files).
    Eto {
        /// Folder holding stages.csv, inputs.csv, providers.csv, sequence.csv, provision.csv.
        dir: PathBuf,
        /// Model file to write (chipwatch format).
        #[arg(long)]
        out: PathBuf,
        /// Vintage label written into the model's metadata.
        #[arg(long)]
        vintage: Option<String>,
    },
}

pub fn import(cli: &Cli, cmd: &ImportCmd) -> Result<()> {
    match cmd {
        ImportCmd::Eto { dir, out, vintage } => {
            let mut opts = chipwatch_data::eto::ImportOptions::default();
            if let Some(v) = vintage {
                opts.vintage = v.clone();
            }
            let imp = chipwatch_data::eto::import_dir(dir, &opts)?;
            let vc = ValueChain::new(imp.model.clone())
                .with_context(|| format!("indexing the model imported from {}", dir.display()))?;
            let text = chipwatch_data::format::to_toml_string(&imp.model);
            write_atomic(out, text.as_bytes())?;
            let mut diags: Vec<_> = imp.diagnostics.clone();
            diags.extend(vc.diagnostics().iter().cloned());
            if cli.json {
                #[derive(Serialize)]
                struct Summary<'a> {
                    out: String,
                    counts: chipwatch_data::eto::Counts,
                    diagnostics: &'a [chipwatch_model::Diagnostic],
                }
                print_json(&Summary {
                    out: out.display().to_string(),
                    counts: imp.counts,
                    diagnostics: &diags,
                })?;
            } else {
                let c = imp.counts;
                outln!("imported {} -> {}", dir.display(), out.display());
                outln!(
                    "  stages {}, items {}, providers {} ({} rows), sequence {}, provision {} ({} listed without a number)",
                    c.stages, c.items, c.providers, c.provider_rows, c.sequence, c.provision, c.provision_blank
                );
                let count = |s| diags.iter().filter(|d| d.severity == s).count();
                outln!(
                    "  diagnostics: {} error(s), {} warning(s), {} note(s)",
                    count(Severity::Error),
                    count(Severity::Warning),
                    count(Severity::Info)
                );
                for d in &diags {
                    outln!("  {d}");
                }
            }
            Ok(())
        }
    }
}

/// Write to a temporary file beside the target and rename it, so a failure never leaves a
/// half-written model behind.
pub fn write_atomic(path: &std::path::Path, bytes: &[u8]) -> Result<()> {
    let dir = path
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(std::path::Path::new("."));
    let name = path
        .file_name()
        .with_context(|| format!("{}: not a file path", path.display()))?;
    let tmp = dir.join(format!(
        ".{}.tmp{}",
        name.to_string_lossy(),
        std::process::id()
    ));
    std::fs::write(&tmp, bytes).with_context(|| format!("writing {}", tmp.display()))?;
    std::fs::rename(&tmp, path).with_context(|| format!("writing {}", path.display()))?;
    Ok(())
}

#[derive(Debug, Args)]
pub struct ItemsArgs {
    /// Only items of this kind (design_resource, tool, material, process, final_output).
    #[arg(long, value_parser = parse_kind)]
    pub kind: Option<ItemKind>,
    /// Only items serving this stage (design, fabrication, atp).
    #[arg(long, value_parser = parse_stage)]
    pub stage: Option<StageKind>,
}

fn parse_kind(s: &str) -> Result<ItemKind, String> {
    ItemKind::parse(s).ok_or_else(|| {
        format!(
            "unknown kind `{s}`; one of: {}",
            ItemKind::ALL.map(|k| k.as_str()).join(", ")
        )
    })
}

fn parse_stage(s: &str) -> Result<StageKind, String> {
    StageKind::parse(s)
        .ok_or_else(|| format!("unknown stage `{s}`; one of: design, fabrication, atp"))
}

pub fn items(cli: &Cli, a: &ItemsArgs) -> Result<()> {
    let vc = super::load_model(cli)?;
    let rows = views::item_rows(&vc, a.kind, a.stage);
    if cli.json {
        return print_json(&rows);
    }
    let mut t = Table::new(["ID", "NAME", "KIND", "STAGE", "MARKET", "YEAR"]);
    for r in &rows {
        t.row([
            r.id.to_string(),
            r.name.to_string(),
            r.kind.to_string(),
            r.stage.map_or("-".into(), |s| s.to_string()),
            usd(r.market_size_usd),
            r.year.map_or("-".into(), |y| y.to_string()),
        ]);
    }
    t.print()?;
    outln!("{} item(s); {}", rows.len(), provenance(&vc));
    Ok(())
}

/// One line naming the model's dataset and vintage, printed under every table.
pub fn provenance(vc: &ValueChain) -> String {
    let m = &vc.model().meta;
    format!("source: {} ({})", m.dataset, m.vintage)
}

#[derive(Debug, Args)]
pub struct ShowArgs {
    /// Item id (e.g. N20) or name (e.g. "EUV lithography tools"), or a firm's provider id
    /// (e.g. P88) or name (e.g. ASML).
    pub item: String,
}

/// A firm the argument of `show` names (provider id, name or alias of an organisation), when it
/// names no item.
fn firm_named(vc: &ValueChain, q: &str) -> Option<chipwatch_model::ProviderIdx> {
    vc.provider_idx(q)
        .or_else(|| vc.find_provider(q).ok())
        .filter(|&p| vc.provider(p).provider_type == chipwatch_model::ProviderType::Organisation)
}

pub fn show(cli: &Cli, a: &ShowArgs) -> Result<()> {
    let vc = super::load_model(cli)?;
    let i = match vc.find_item(&a.item) {
        Ok(i) => i,
        Err(e) => match firm_named(&vc, &a.item) {
            Some(p) => return show_firm(cli, &vc, p),
            None => return Err(e.into()),
        },
    };
    let out = views::item_detail(&vc, i);
    if cli.json {
        return print_json(&out);
    }
    outln!("{} {} ({})", out.id, out.name, out.kind);
    let stages: Vec<String> = out.stages.iter().map(|s| s.to_string()).collect();
    outln!(
        "  stage:       {}",
        if stages.is_empty() {
            "-".into()
        } else {
            stages.join(", ")
        }
    );
    let q = out
        .market_size_qualifier
        .as_deref()
        .map(|q| format!(", {q}"))
        .unwrap_or_default();
    let y = out
        .market_size_year
        .map(|y| format!(" ({y}{q})"))
        .unwrap_or_else(|| {
            if q.is_empty() {
                String::new()
            } else {
                format!(" ({})", &q[2..])
            }
        });
    outln!("  market size: {}{y}", usd(out.market_size_usd));
    let names = |v: &[Link]| {
        if v.is_empty() {
            "-".to_string()
        } else {
            v.iter()
                .map(|l| match &l.via {
                    Some(p) => format!("{} {} (via {p})", l.id, l.name),
                    None => format!("{} {}", l.id, l.name),
                })
                .collect::<Vec<_>>()
                .join("; ")
        }
    };
    outln!("  is type of:  {}", names(&out.is_type_of));
    outln!("  variants:    {}", names(&out.variants));
    outln!("  inputs:      {}", names(&out.inputs));
    outln!("  used by:     {}", names(&out.used_by));
    for (title, want_country) in [("Providers by country", true), ("Providers by firm", false)] {
        let rows: Vec<&ShareRow> = out
            .shares
            .iter()
            .filter(|r| r.country_view == want_country)
            .collect();
        if rows.is_empty() {
            continue;
        }
        outln!("\n{title}:");
        let mut t = Table::new(["PROVIDER", "ID", "COUNTRY", "SHARE", "YEAR", "BASIS"]);
        for r in rows {
            t.row([
                r.provider.clone(),
                r.provider_id.clone(),
                r.country.clone().unwrap_or_else(|| "-".into()),
                r.share.map_or("listed".into(), |s| pct(Some(s))),
                r.year.map_or("-".into(), |y| y.to_string()),
                r.basis.to_string(),
            ]);
        }
        t.print()?;
    }
    let srcs: Vec<&str> = {
        let mut v: Vec<&str> = out
            .shares
            .iter()
            .filter_map(|r| r.source.as_deref())
            .collect();
        v.sort();
        v.dedup();
        v
    };
    if !srcs.is_empty() {
        outln!("\nSources:");
        for s in srcs {
            outln!("  - {s}");
        }
    }
    outln!("\n{}", provenance(&vc));
    Ok(())
}

/// `chipwatch show FIRM`: the firm, its HQ country and what it supplies.
fn show_firm(cli: &Cli, vc: &ValueChain, p: chipwatch_model::ProviderIdx) -> Result<()> {
    let out = views::firm_detail(vc, p);
    if cli.json {
        return print_json(&out);
    }
    outln!("{} {} (firm)", out.id, out.name);
    outln!(
        "  headquarters: {}",
        out.country.as_deref().unwrap_or("not in the dataset")
    );
    if !out.aliases.is_empty() {
        outln!("  also known as: {}", out.aliases.join("; "));
    }
    if out.supplies.is_empty() {
        outln!("\nThe dataset lists no shares for this firm.");
    } else {
        outln!("\nSupplies (firm shares of each item's market; never added to country shares):");
        let mut t = Table::new(["ITEM", "NAME", "SHARE", "YEAR", "BASIS"]);
        for r in &out.supplies {
            t.row([
                r.item_id.clone(),
                r.item.clone(),
                r.share.map_or("listed".into(), |s| pct(Some(s))),
                r.year.map_or("-".into(), |y| y.to_string()),
                r.basis.to_string(),
            ]);
        }
        t.print()?;
    }
    outln!("\n{}", provenance(vc));
    Ok(())
}

#[derive(Debug, Args)]
pub struct ValidateArgs {}

pub fn validate(cli: &Cli, _a: &ValidateArgs) -> Result<()> {
    let vc = super::load_model(cli)?;
    let d = vc.diagnostics();
    if cli.json {
        return print_json(d);
    }
    let m = vc.model();
    outln!(
        "{}: {} items, {} providers, {} shares, {} stages",
        cli.model
            .as_ref()
            .map_or(chipwatch_data::DEFAULT_MODEL_ORIGIN.to_string(), |p| p
                .display()
                .to_string()),
        m.items.len(),
        m.providers.len(),
        m.shares.len(),
        m.stages.len()
    );
    for x in d {
        outln!("  {x}");
    }
    outln!("{} diagnostic(s)", d.len());
    Ok(())
}
