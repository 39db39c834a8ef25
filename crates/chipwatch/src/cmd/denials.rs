//! `chipwatch licence denials list|match FILE`: partner authorities' denial notices from a TOML
//! file (format: docs/controls.md "Denial notices"; parser `chipwatch_controls::denials`), and
//! the "no undercut" match of a transaction against them. `licence check --denials FILE` shows
//! the matches of a checked shipment ([`print_matches`]).

use crate::output::{print_json, Table};
use crate::Cli;
use anyhow::{Context, Result};
use chipwatch_controls::denials::{
    match_notices, parse_notices, DenialMatch, DenialNotice, QueryParty, Transaction, CONSULT_LINE,
};
use chipwatch_controls::{default_engine, Date, Engine};
use clap::{Args, Subcommand};
use std::path::{Path, PathBuf};

#[derive(Debug, Subcommand)]
pub enum DenialsCmd {
    /// Every notice of the file: authority, reference, date, item, destination, parties.
    List(ListArgs),
    /// The notices in force that an essentially identical transaction matches (same end user
    /// or consignee, matching item), with why each matched.
    Match(MatchArgs),
}

#[derive(Debug, Args)]
pub struct ListArgs {
    /// The notice file (TOML).
    pub file: PathBuf,
    /// Include withdrawn notices.
    #[arg(long)]
    pub all: bool,
}

#[derive(Debug, Args)]
pub struct MatchArgs {
    /// The notice file (TOML).
    pub file: PathBuf,
    #[arg(long)]
    pub end_user: Option<String>,
    /// Consignee (repeatable).
    #[arg(long = "consignee")]
    pub consignees: Vec<String>,
    #[arg(long)]
    pub purchaser: Option<String>,
    /// Catalogue product name or alias.
    #[arg(long)]
    pub product: Option<String>,
    /// Control list entry of the item, e.g. 3B001.f.
    #[arg(long)]
    pub control_entry: Option<String>,
    /// Item id of the value-chain model.
    #[arg(long)]
    pub model_item: Option<String>,
    /// Date of the transaction (YYYY-MM-DD; default today, UTC).
    #[arg(long)]
    pub date: Option<String>,
}

/// Read and parse a notice file; errors name the file (and the field).
pub fn load(path: &Path) -> Result<Vec<DenialNotice>> {
    let text =
        std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
    Ok(parse_notices(&text, &path.display().to_string())?)
}

pub fn run(cli: &Cli, c: &DenialsCmd) -> Result<()> {
    match c {
        DenialsCmd::List(a) => {
            let ns: Vec<DenialNotice> = load(&a.file)?
                .into_iter()
                .filter(|n| a.all || n.withdrawn_on.is_none())
                .collect();
            if cli.json {
                return print_json(&ns);
            }
            let mut t = Table::new([
                "authority",
                "reference",
                "denied on",
                "item",
                "destination",
                "end user",
                "consignees",
                "reason",
                "withdrawn",
            ]);
            for n in &ns {
                t.row([
                    n.authority.clone(),
                    n.reference.clone(),
                    n.denied_on.to_string(),
                    item_label(n),
                    n.destination.clone(),
                    n.end_user.clone().unwrap_or_else(|| "-".into()),
                    n.consignees.join(", "),
                    n.reason_category.as_str().to_string(),
                    n.withdrawn_on
                        .map(|d| d.to_string())
                        .unwrap_or_else(|| "-".into()),
                ]);
            }
            t.print()
        }
        DenialsCmd::Match(a) => {
            let ns = load(&a.file)?;
            let mut parties = Vec::new();
            let mut add = |role: &str, name: &str| {
                parties.push(QueryParty {
                    role: role.into(),
                    name: name.into(),
                })
            };
            if let Some(n) = &a.end_user {
                add("end_user", n);
            }
            for n in &a.consignees {
                add("consignee", n);
            }
            if let Some(n) = &a.purchaser {
                add("purchaser", n);
            }
            if parties.is_empty() {
                anyhow::bail!("give --end-user, --consignee or --purchaser: a match needs a party");
            }
            if a.product.is_none() && a.control_entry.is_none() && a.model_item.is_none() {
                anyhow::bail!(
                    "give --product, --control-entry or --model-item: a match needs the item"
                );
            }
            let date = match &a.date {
                Some(d) => Date::parse(d).map_err(|e| anyhow::anyhow!("--date: {e}"))?,
                None => super::controls::today(),
            };
            let t = Transaction {
                parties,
                product: a.product.clone(),
                control_entries: a.control_entry.clone().into_iter().collect(),
                model_item: a.model_item.clone(),
                date: Some(date),
            };
            let engine = default_engine()?;
            let ms = matches(&engine, &ns, &t);
            print_matches(cli, &ns, &ms)
        }
    }
}

fn item_label(n: &DenialNotice) -> String {
    let mut s = n.item.description.clone();
    for x in [&n.item.product, &n.item.control_entry, &n.item.model_item]
        .into_iter()
        .flatten()
    {
        s.push_str(&format!(" [{x}]"));
    }
    s
}

/// The matches of a transaction (the engine's name normalisation and catalogue).
pub fn matches(engine: &Engine, ns: &[DenialNotice], t: &Transaction) -> Vec<DenialMatch> {
    match_notices(
        engine.screener().normaliser(),
        Some(engine.catalogue()),
        ns,
        t,
    )
}

/// Print matches: JSON (notice and match) or one block per match with the consult line.
pub fn print_matches(cli: &Cli, ns: &[DenialNotice], ms: &[DenialMatch]) -> Result<()> {
    if cli.json {
        let v: Vec<_> = ms
            .iter()
            .map(|m| serde_json::json!({"notice": ns[m.notice], "match": m, "consult": CONSULT_LINE}))
            .collect();
        return print_json(&v);
    }
    if ms.is_empty() {
        outln!("No partner denial matches this transaction.");
        return Ok(());
    }
    for m in ms {
        let n = &ns[m.notice];
        outln!(
            "DENIED by {} ({}) on {}: notice {}",
            n.authority,
            n.jurisdiction,
            n.denied_on,
            n.reference
        );
        outln!("  item: {} -> {}", item_label(n), n.destination);
        outln!(
            "  reason: {}{}",
            n.reason_category.as_str(),
            n.reason
                .as_deref()
                .map(|r| format!(": {r}"))
                .unwrap_or_default()
        );
        // The rule names as the JSON output spells them.
        let name = |v: serde_json::Value| v.as_str().unwrap_or("").to_string();
        outln!(
            "  matched: {} `{}` = notice {} `{}` ({}, similarity {:.2}); item by {} ({})",
            m.party_role,
            m.party_name,
            m.notice_field,
            m.notice_name,
            name(serde_json::json!(m.name_rule)),
            m.similarity,
            name(serde_json::json!(m.item_rule)),
            m.item_detail
        );
        outln!("  {CONSULT_LINE}");
    }
    Ok(())
}
