//! `chipwatch licence register show|ship FILE`: the licence register file (see
//! `chipwatch_controls::licence`). `show` reconstructs every licence on a date; `ship` checks a
//! shipment against its licence and, when authorised, appends it and rewrites the file
//! atomically (a temporary file renamed over the old one), so a refused or interrupted draw-down
//! never leaves a half-written register.

use crate::output::{print_json, Table};
use crate::Cli;
use anyhow::{Context, Result};
use chipwatch_controls::licence::{
    parse_register, register_to_toml, EventKind, LicenceEvent, LicenceRecord, ShipmentDraw, Status,
};
use chipwatch_controls::Date;
use clap::{Args, Subcommand};
use std::path::{Path, PathBuf};

#[derive(Debug, Subcommand)]
pub enum RegisterCmd {
    /// Every licence of the register as it stands on a date: status, what is left, history.
    Show(ShowArgs),
    /// Draw a shipment down against a licence (refused shipments change nothing).
    Ship(ShipArgs),
    /// Revoke a licence fully or in part: what is no longer authorised; recorded unless
    /// --dry-run (a proposed revocation).
    Revoke(RevokeArgs),
}

#[derive(Debug, Args)]
pub struct RevokeArgs {
    pub file: PathBuf,
    #[arg(long)]
    pub licence: String,
    #[arg(long)]
    pub date: String,
    #[arg(long)]
    pub reason: String,
    #[arg(long)]
    pub instrument: Option<String>,
    /// Revoke the whole licence.
    #[arg(long, conflicts_with_all = ["items", "consignees", "end_users", "destinations"])]
    pub full: bool,
    /// Item line ids to revoke (comma-separated).
    #[arg(long, value_delimiter = ',')]
    pub items: Vec<String>,
    #[arg(long, value_delimiter = ',')]
    pub consignees: Vec<String>,
    #[arg(long, value_delimiter = ',')]
    pub end_users: Vec<String>,
    #[arg(long, value_delimiter = ',')]
    pub destinations: Vec<String>,
    /// Show the impact only; do not record the event.
    #[arg(long)]
    pub dry_run: bool,
}

#[derive(Debug, Args)]
pub struct ShowArgs {
    /// The register file (TOML, docs/controls.md "Licence register").
    pub file: PathBuf,
    /// Date (YYYY-MM-DD; default today, UTC).
    #[arg(long)]
    pub on: Option<String>,
}

#[derive(Debug, Args)]
pub struct ShipArgs {
    pub file: PathBuf,
    #[arg(long)]
    pub licence: String,
    /// Item line id of the licence.
    #[arg(long)]
    pub item: String,
    #[arg(long)]
    pub quantity: f64,
    #[arg(long, default_value_t = 0.0)]
    pub value: f64,
    /// Destination (ISO 3166-1 alpha-3).
    #[arg(long)]
    pub to: String,
    #[arg(long)]
    pub consignee: String,
    #[arg(long)]
    pub end_user: Option<String>,
    #[arg(long)]
    pub date: String,
    /// Shipment reference (invoice, export declaration).
    #[arg(long)]
    pub reference: String,
}

fn load(path: &Path) -> Result<Vec<LicenceRecord>> {
    let text =
        std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
    Ok(parse_register(&text, &path.display().to_string())?)
}

/// Rewrite the register through a temporary file renamed over it: never half-written.
fn save(path: &Path, recs: &[LicenceRecord]) -> Result<()> {
    let text = register_to_toml(recs)?;
    let tmp = path.with_extension("toml.tmp");
    std::fs::write(&tmp, text).with_context(|| format!("writing {}", tmp.display()))?;
    std::fs::rename(&tmp, path).with_context(|| format!("replacing {}", path.display()))?;
    Ok(())
}

fn revoke(cli: &Cli, a: &RevokeArgs) -> Result<()> {
    let mut recs = load(&a.file)?;
    let Some(rec) = recs.iter_mut().find(|r| r.licence.number == a.licence) else {
        anyhow::bail!(
            "--licence: no licence `{}` in {}",
            a.licence,
            a.file.display()
        );
    };
    for (i, d) in a.destinations.iter().enumerate() {
        chipwatch_controls::country::check(&format!("destinations[{i}]"), d)?;
    }
    let kind = if a.full {
        EventKind::FullRevocation
    } else {
        if a.items.is_empty()
            && a.consignees.is_empty()
            && a.end_users.is_empty()
            && a.destinations.is_empty()
        {
            anyhow::bail!(
                "give --full, or what to revoke: --items, --consignees, --end-users, --destinations"
            );
        }
        if let Some(i) = a
            .items
            .iter()
            .find(|i| !rec.licence.items.iter().any(|l| &l.id == *i))
        {
            anyhow::bail!("--items: licence {} has no item line `{i}`", a.licence);
        }
        EventKind::PartialRevocation {
            items: a.items.clone(),
            consignees: a.consignees.clone(),
            end_users: a.end_users.clone(),
            destinations: a
                .destinations
                .iter()
                .map(|d| d.to_ascii_uppercase())
                .collect(),
            quantities: Default::default(),
        }
    };
    let e = LicenceEvent {
        date: Date::parse(&a.date).map_err(|m| anyhow::anyhow!("--date: {m}"))?,
        kind,
        reason: a.reason.clone(),
        instrument: a.instrument.clone(),
    };
    let impact = rec.impact_of(&e)?;
    if !a.dry_run {
        rec.add_event(e)?;
        save(&a.file, &recs)?;
    }
    if cli.json {
        return print_json(&impact);
    }
    outln!(
        "{} of licence {} on {}{}",
        impact.event,
        impact.licence,
        impact.date,
        if a.dry_run {
            " (proposed, not recorded)"
        } else {
            " (recorded)"
        }
    );
    for i in &impact.items {
        outln!(
            "  item {} {}: {} no longer authorised{}",
            i.id,
            i.description,
            i.quantity
                .map_or("everything left".to_string(), |q| format!("{q} units")),
            i.value.map_or(String::new(), |v| format!(" (value {v})"))
        );
    }
    for (what, v) in [
        ("consignees", &impact.consignees_removed),
        ("end users", &impact.end_users_removed),
        ("destinations", &impact.destinations_removed),
    ] {
        if !v.is_empty() {
            outln!("  {what} no longer authorised: {}", v.join(", "));
        }
    }
    if let Some(v) = impact.value_no_longer_authorised {
        outln!("  value no longer authorised: {v}");
    }
    Ok(())
}

pub fn run(cli: &Cli, c: &RegisterCmd) -> Result<()> {
    match c {
        RegisterCmd::Show(a) => {
            let date = match &a.on {
                Some(d) => Date::parse(d).map_err(|m| anyhow::anyhow!("--on: {m}"))?,
                None => super::controls::today(),
            };
            let recs = load(&a.file)?;
            let states: Vec<_> = recs.iter().map(|r| r.state_on(date)).collect();
            if cli.json {
                return print_json(&states);
            }
            let mut t = Table::new([
                "licence",
                "status",
                "item",
                "left",
                "shipped",
                "valid until",
            ]);
            for s in &states {
                let status = match &s.status {
                    Status::Active => "active".to_string(),
                    Status::NotYetValid { valid_from } => format!("valid from {valid_from}"),
                    Status::Expired { on } => format!("expired {on}"),
                    Status::Suspended { since, .. } => format!("suspended since {since}"),
                    Status::Revoked { on, .. } => format!("revoked {on}"),
                };
                for i in &s.items {
                    t.row([
                        s.number.clone(),
                        status.clone(),
                        format!("{}{}", i.id, if i.revoked { " (revoked)" } else { "" }),
                        if i.revoked {
                            "0".to_string()
                        } else {
                            i.remaining_quantity
                                .map_or("no ceiling".into(), |q| format!("{q}"))
                        },
                        format!("{}", i.shipped_quantity),
                        s.valid_until.map_or("-".into(), |d| d.to_string()),
                    ]);
                }
            }
            t.print()?;
            for s in &states {
                for h in &s.history {
                    outln!("{}: {h}", s.number);
                }
            }
            outln!("as of {date}; register {}", a.file.display());
            Ok(())
        }
        RegisterCmd::Revoke(a) => revoke(cli, a),
        RegisterCmd::Ship(a) => {
            let mut recs = load(&a.file)?;
            let Some(rec) = recs.iter_mut().find(|r| r.licence.number == a.licence) else {
                anyhow::bail!(
                    "--licence: no licence `{}` in {}",
                    a.licence,
                    a.file.display()
                );
            };
            let to = chipwatch_controls::country::check("to", &a.to)?;
            let s = ShipmentDraw {
                reference: a.reference.clone(),
                date: Date::parse(&a.date).map_err(|m| anyhow::anyhow!("--date: {m}"))?,
                item: a.item.clone(),
                quantity: a.quantity,
                value: a.value,
                destination: to,
                consignee: a.consignee.clone(),
                end_user: a.end_user.clone(),
            };
            let st = rec
                .ship(s)
                .with_context(|| format!("shipment `{}` refused", a.reference))?;
            save(&a.file, &recs)?;
            if cli.json {
                return print_json(&st);
            }
            let item = st.items.iter().find(|i| i.id == a.item);
            outln!(
                "shipment `{}` drawn down on licence {}: item {} left {}",
                a.reference,
                a.licence,
                a.item,
                item.and_then(|i| i.remaining_quantity)
                    .map_or("no ceiling".into(), |q| q.to_string())
            );
            Ok(())
        }
    }
}
