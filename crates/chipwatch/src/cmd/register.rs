//! `chipwatch licence register|show|ship|revoke|impact FILE`: the licence register file (see
//! `chipwatch_controls::licence`). `register` adds granted licences; `show` reconstructs every
//! licence on a date; `ship` checks a shipment against its licence and, when authorised, appends
//! it; `revoke` records (or, with `--dry-run`, only assesses) a revocation; `impact` assesses a
//! proposed or recorded decision over several licences through the scenario engine
//! (`chipwatch_controls::licence_impact`). Every write rewrites the file atomically (a temporary
//! file renamed over the old one), so a refused or interrupted change never leaves a
//! half-written register.

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
    /// Add granted licences (`[[licence]]` tables of a TOML file) to a register file, created
    /// if absent; numbers must be new.
    Register(AddArgs),
    /// Every licence of the register as it stands on a date: status, what is left, history.
    Show(ShowArgs),
    /// Draw a shipment down against a licence (refused shipments change nothing).
    Ship(ShipArgs),
    /// Revoke a licence fully or in part: what is no longer authorised; recorded unless
    /// --dry-run (a proposed revocation).
    Revoke(RevokeArgs),
    /// What a proposed or recorded decision (revocation, suspension) on one or more licences
    /// takes away: licences, parties, destinations, scheduled shipments, value, and the effect
    /// on supply by consumer through the scenario engine, with its incidence across destinations.
    Impact(ImpactArgs),
}

#[derive(Debug, Args)]
pub struct AddArgs {
    /// The register file (created if it does not exist).
    pub file: PathBuf,
    /// TOML file with the licences to add (`[[licence]]` tables, as in the register).
    #[arg(long)]
    pub add: Option<PathBuf>,
    /// Arguments of the nested form of earlier releases (`licence register show FILE`), only
    /// to say where that command went.
    #[arg(hide = true, trailing_var_arg = true, allow_hyphen_values = true)]
    pub rest: Vec<String>,
}

#[derive(Debug, Args)]
pub struct ImpactArgs {
    pub file: PathBuf,
    /// Licence numbers the decision applies to (comma-separated).
    #[arg(long, value_delimiter = ',', required = true)]
    pub licence: Vec<String>,
    /// Date of the decision (YYYY-MM-DD).
    #[arg(long)]
    pub date: String,
    /// Assess the events already recorded on --date for these licences.
    #[arg(long, conflicts_with_all = ["full", "suspend", "items", "consignees", "end_users", "destinations"])]
    pub recorded: bool,
    /// Revoke the whole licences.
    #[arg(long, conflicts_with_all = ["suspend", "items", "consignees", "end_users", "destinations"])]
    pub full: bool,
    /// Suspend the licences (until --until, or until reinstated).
    #[arg(long)]
    pub suspend: bool,
    #[arg(long, requires = "suspend")]
    pub until: Option<String>,
    /// Item line ids to revoke (comma-separated).
    #[arg(long, value_delimiter = ',')]
    pub items: Vec<String>,
    #[arg(long, value_delimiter = ',')]
    pub consignees: Vec<String>,
    #[arg(long, value_delimiter = ',')]
    pub end_users: Vec<String>,
    #[arg(long, value_delimiter = ',')]
    pub destinations: Vec<String>,
    /// An amendment lowering a line's quantity ceiling: LINE=QUANTITY (repeatable), e.g. 1=3.
    #[arg(long = "ceiling", value_name = "LINE=QUANTITY", conflicts_with_all = ["recorded", "full", "suspend", "items", "consignees", "end_users", "destinations"])]
    pub ceilings: Vec<String>,
    /// Exchange rate, USD per unit of a currency (repeatable), e.g. EUR=1.09; default EUR is
    /// the ECB's 2024 average (1.0824).
    #[arg(long = "usd-per", value_name = "CUR=RATE")]
    pub usd_per: Vec<String>,
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

pub(crate) fn load(path: &Path) -> Result<Vec<LicenceRecord>> {
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

/// A partial revocation from the command line's lists (the licence checks the rest when the
/// event is added: unknown lines, parties or destinations are errors there).
pub(crate) fn partial_revocation(
    items: &[String],
    consignees: &[String],
    end_users: &[String],
    destinations: &[String],
    when_empty: &str,
) -> Result<EventKind> {
    if items.is_empty() && consignees.is_empty() && end_users.is_empty() && destinations.is_empty()
    {
        anyhow::bail!("{when_empty}");
    }
    for (i, d) in destinations.iter().enumerate() {
        chipwatch_controls::country::check(&format!("destinations[{i}]"), d)?;
    }
    Ok(EventKind::PartialRevocation {
        items: items.to_vec(),
        consignees: consignees.to_vec(),
        end_users: end_users.to_vec(),
        destinations: destinations
            .iter()
            .map(|d| d.to_ascii_uppercase())
            .collect(),
        quantities: Default::default(),
    })
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
    let kind = if a.full {
        EventKind::FullRevocation
    } else {
        partial_revocation(
            &a.items,
            &a.consignees,
            &a.end_users,
            &a.destinations,
            "give --full, or what to revoke: --items, --consignees, --end-users, --destinations",
        )?
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
    for i in impact.items.iter() {
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

/// `licence register FILE --add NEW`: grant licences into the register.
fn add(cli: &Cli, a: &AddArgs) -> Result<()> {
    // The nested form of earlier releases (`licence register show FILE ...`) arrives here with
    // `show` as the register file: run it as the command it now is, with a note, for one release.
    if let Some(sub) = a
        .file
        .to_str()
        .filter(|f| ["show", "ship", "revoke", "impact"].contains(f))
    {
        #[derive(clap::Parser)]
        struct Legacy {
            #[command(subcommand)]
            cmd: RegisterCmd,
        }
        let mut args = vec!["chipwatch licence".to_string(), sub.to_string()];
        args.extend(a.rest.iter().cloned());
        if let Some(add) = &a.add {
            args.extend(["--add".to_string(), add.display().to_string()]);
        }
        let legacy = <Legacy as clap::Parser>::try_parse_from(&args).map_err(|e| {
            anyhow::anyhow!("`licence register {sub}` is now `chipwatch licence {sub}`: {e}")
        })?;
        eprintln!(
            "note: `chipwatch licence register {sub}` is now `chipwatch licence {sub}`; the old form \
             works until the next release"
        );
        return run(cli, &legacy.cmd);
    }
    let (Some(add), true) = (&a.add, a.rest.is_empty()) else {
        anyhow::bail!("give --add FILE with the licences to register (and nothing else)");
    };
    let mut recs = if a.file.exists() {
        load(&a.file)?
    } else {
        Vec::new()
    };
    let new = load(add)?;
    if new.is_empty() {
        anyhow::bail!("--add: {} holds no [[licence]] table", add.display());
    }
    for n in &new {
        if !n.events.is_empty() || !n.shipments.is_empty() {
            anyhow::bail!(
                "--add: licence {} in {} carries events or shipments; register the grant, then \
                 record them with `licence ship` / `licence revoke`",
                n.licence.number,
                add.display()
            );
        }
        let key = chipwatch_controls::licence::party_key(&n.licence.number);
        if recs
            .iter()
            .any(|r| chipwatch_controls::licence::party_key(&r.licence.number) == key)
        {
            anyhow::bail!(
                "--add: licence {} is already in {}",
                n.licence.number,
                a.file.display()
            );
        }
        recs.push(n.clone());
    }
    // Checked as a whole (unique numbers, countries, dates) before anything is written.
    let text = register_to_toml(&recs)?;
    parse_register(&text, &a.file.display().to_string())?;
    save(&a.file, &recs)?;
    let numbers: Vec<&str> = new.iter().map(|n| n.licence.number.as_str()).collect();
    if cli.json {
        return print_json(&serde_json::json!({"registered": numbers, "register": a.file}));
    }
    outln!(
        "registered {} licence(s) in {}: {}",
        numbers.len(),
        a.file.display(),
        numbers.join(", ")
    );
    Ok(())
}

pub fn run(cli: &Cli, c: &RegisterCmd) -> Result<()> {
    match c {
        RegisterCmd::Register(a) => add(cli, a),
        RegisterCmd::Impact(a) => super::licence_impact::run(cli, a),
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
                for i in s.items.iter() {
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
