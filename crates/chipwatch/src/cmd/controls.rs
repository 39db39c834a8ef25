//! Export-control commands: `licence check`, `licence products`, `screen`, `import csl|eu-fsf|
//! uk-sanctions|jp-eul`, `measure list|show|impact`. Files named by the user are read here and handed to
//! `chipwatch-controls` as text with their name, so every error message names the file.

use crate::output::{print_json, Table, Undetermined};
use crate::Cli;
use anyhow::{Context, Result};
use chipwatch_controls::batch::{parse_batch_csv, parse_param};
use chipwatch_controls::lists::{eu_fsf, import_any, jp_eul, uk};
use chipwatch_controls::screening::DEFAULT_THRESHOLD;
use chipwatch_controls::{
    csl, default_affiliates_rule, default_engine, default_normaliser, Batch, Date, Determination,
    Engine, OutcomeKind, OwnershipData, RestrictedList, Screener, Shipment,
};
use clap::{Args, Subcommand};
use std::collections::BTreeMap;
use std::io::Write;
use std::path::{Path, PathBuf};

// Parsed once per process: the size difference between variants costs nothing.
#[allow(clippy::large_enum_variant)]
#[derive(Debug, Subcommand)]
pub enum LicenceCmd {
    /// Does this shipment need a licence, under which jurisdiction, and why.
    Check(Box<CheckArgs>),
    /// List the product catalogue (names usable with --product).
    Products,
    /// The licence register file: register, show, ship, revoke, impact.
    #[command(flatten)]
    Register(super::register::RegisterCmd),
    /// Partner authorities' denial notices (TOML file): list, and match a transaction.
    #[command(subcommand)]
    Denials(super::denials::DenialsCmd),
}

#[derive(Debug, Args)]
pub struct CheckArgs {
    /// Product name or alias from the catalogue (e.g. "NXT:2000i", H100, gallium).
    #[arg(long)]
    pub product: Option<String>,
    /// Item parameter KEY=VALUE (repeatable); adds to or overrides catalogue values.
    #[arg(long = "param", value_name = "KEY=VALUE")]
    pub params: Vec<String>,
    /// Exporting country (ISO 3166-1 alpha-3).
    #[arg(long, required_unless_present = "batch")]
    pub from: Option<String>,
    /// Destination country (ISO alpha-3).
    #[arg(long, required_unless_present = "batch")]
    pub to: Option<String>,
    /// Country of origin of the item (default: the catalogue's, else none).
    #[arg(long)]
    pub origin: Option<String>,
    /// End user, screened against the restricted-party list.
    #[arg(long)]
    pub end_user: Option<String>,
    /// End use, e.g. military, advanced_node_ic_production, supercomputer.
    #[arg(long)]
    pub end_use: Option<String>,
    /// Another party of the shipment, screened like the end user: ROLE=NAME with ROLE one of
    /// purchaser, intermediate_consignee, consignee, exporter (repeatable).
    #[arg(long = "party", value_name = "ROLE=NAME")]
    pub parties: Vec<String>,
    /// Date of the shipment (YYYY-MM-DD; default today, UTC).
    #[arg(long)]
    pub date: Option<String>,
    /// Many shipments from a CSV (columns from,to[,product,origin,end_user,end_use,date,<params>]);
    /// writes one JSON line per row.
    #[arg(long, value_name = "FILE.csv", conflicts_with_all = ["product", "params", "from", "to"])]
    pub batch: Option<PathBuf>,
    /// Restricted-party list for end-user screening (project TOML or CSL CSV).
    #[arg(long, value_name = "FILE")]
    pub list: Option<PathBuf>,
    /// A licence register (TOML): for each licence requirement found, which licences cover it
    /// (validity, parties, destination, grandfathering applied).
    #[arg(long, value_name = "FILE")]
    pub register: Option<PathBuf>,
    /// Partners' denial notices (TOML): shows those this shipment matches (same end user or
    /// consignee, same product or model item), to consult before granting.
    #[arg(long, value_name = "FILE", conflicts_with = "batch")]
    pub denials: Option<PathBuf>,
    #[command(flatten)]
    pub record: super::records::RecordArgs,
}

#[derive(Debug, Args)]
pub struct ScreenArgs {
    /// Names to screen.
    #[arg(required = true)]
    pub names: Vec<String>,
    /// Restricted-party list (repeatable): project TOML, or an official file (CSL CSV/JSON, EU
    /// FSF XML, UK Sanctions List CSV, Japan End User List CSV/TSV); default: the embedded list.
    #[arg(long, value_name = "FILE")]
    pub list: Vec<PathBuf>,
    /// Publication date of the --list files that carry none (e.g. the CSL CSV).
    #[arg(long, value_name = "YYYY-MM-DD")]
    pub list_date: Option<String>,
    /// Ownership data (CSV: owner,owned,percent,source,date) for the affiliates rule.
    #[arg(long, value_name = "FILE.csv")]
    pub ownership: Option<PathBuf>,
    /// Screening date: affiliate hits only while the affiliates rule is in force (default
    /// today, UTC).
    #[arg(long, value_name = "YYYY-MM-DD")]
    pub date: Option<String>,
    /// Minimum score of a match (0..1).
    #[arg(long, default_value_t = DEFAULT_THRESHOLD)]
    pub threshold: f64,
}

/// Arguments of `import csl|eu-fsf|uk-sanctions|jp-eul`.
#[derive(Debug, Args)]
pub struct ImportListArgs {
    /// The official list file in its published layout.
    pub file: PathBuf,
    /// Publication date of the list, when the file carries none (a date in the file wins;
    /// both present and different is an error).
    #[arg(long, value_name = "YYYY-MM-DD")]
    pub date: Option<String>,
    /// Write the list (project TOML) here instead of stdout.
    #[arg(long)]
    pub out: Option<PathBuf>,
}

/// The official list formats `chipwatch import` reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ListFormat {
    /// US Consolidated Screening List, CSV or JSON (recognised by content).
    Csl,
    EuFsf,
    UkSanctions,
    JpEul,
}

#[derive(Debug, Subcommand)]
pub enum MeasureCmd {
    /// List every measure version in the data.
    List,
    /// Show a measure's versions, validity, rules and coverage assumptions.
    Show {
        /// Measure id (see `measure list`).
        id: String,
    },
    /// Impact of a measure on the value chain: blocked flows run through the scenario engine.
    Impact(ImpactArgs),
}

#[derive(Debug, Args)]
pub struct ImpactArgs {
    /// Measure id (see `measure list`).
    pub measure_id: String,
    /// Date for the version in force (default today).
    #[arg(long)]
    pub date: Option<String>,
    /// Destinations where licences are denied (comma-separated ISO3); default: every
    /// destination where the measure requires a licence or prohibits.
    #[arg(long, value_delimiter = ',')]
    pub deny: Vec<String>,
}

/// Today's date (UTC) from the system clock.
pub fn today() -> Date {
    let secs = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    Date::from_days_since_epoch((secs / 86_400) as i64)
}

fn parse_date(s: Option<&str>) -> Result<Date> {
    match s {
        None => Ok(today()),
        Some(s) => Date::parse(s).map_err(|m| anyhow::anyhow!("--date: {m}")),
    }
}

fn read(path: &Path) -> Result<String> {
    std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))
}

/// Load a restricted-party list file: the project's TOML or an official format, recognised by
/// its content.
fn load_list(path: &Path) -> Result<RestrictedList> {
    load_list_dated(path, None)
}

/// [`load_list`], with the publication date for official files that carry none.
fn load_list_dated(path: &Path, date: Option<Date>) -> Result<RestrictedList> {
    let text = read(path)?;
    Ok(import_any(&text, &path.display().to_string(), date)?)
}

fn parse_opt_date(s: Option<&str>, flag: &str) -> Result<Option<Date>> {
    s.map(|s| Date::parse(s).map_err(|m| anyhow::anyhow!("{flag}: {m}")))
        .transpose()
}

fn engine_with_list(list: Option<&Path>) -> Result<Engine> {
    let mut e = default_engine()?;
    if let Some(p) = list {
        e.set_screener(Screener::new(default_normaliser(), vec![load_list(p)?]));
    }
    Ok(e)
}

pub fn licence(cli: &Cli, c: &LicenceCmd) -> Result<()> {
    match c {
        LicenceCmd::Check(a) => check(cli, a),
        LicenceCmd::Register(c) => super::register::run(cli, c),
        LicenceCmd::Denials(c) => super::denials::run(cli, c),
        LicenceCmd::Products => {
            let e = default_engine()?;
            if cli.json {
                return print_json(e.catalogue().products());
            }
            let mut t = Table::new(["product", "aliases", "category", "origin", "source"]);
            for p in e.catalogue().products() {
                t.row([
                    p.name.clone(),
                    p.aliases.join(", "),
                    p.category.clone(),
                    p.origin.clone().unwrap_or_else(|| "-".into()),
                    p.source.clone(),
                ]);
            }
            t.print()?;
            Ok(())
        }
    }
}

fn check(cli: &Cli, a: &CheckArgs) -> Result<()> {
    let engine = engine_with_list(a.list.as_deref())?;
    let date = parse_date(a.date.as_deref())?;
    if let Some(path) = &a.batch {
        let text = read(path)?;
        let rows = parse_batch_csv(&text, &path.display().to_string(), date)?;
        let mut out = std::io::stdout().lock();
        // Each row is written as a JSON line straight from the engine's buffers into `buf`,
        // which goes out in blocks of about 1 MiB (memory stays flat on large files).
        let mut buf = Vec::with_capacity(1 << 20);
        let mut batch = Batch::new(&engine);
        let mut undetermined = Vec::new();
        for (i, s) in rows.iter().enumerate() {
            let r = batch.write_json_line(s, &mut buf);
            if r.is_ok() && batch.last_outcome() == OutcomeKind::Undetermined {
                undetermined.push((i + 2).to_string());
            }
            if let Err(e) = r {
                // The rows before the bad one are still written, as before.
                out.write_all(&buf)?;
                out.flush()?;
                let row = i + 2;
                return Err(e).with_context(|| format!("{}: row {row}", path.display()));
            }
            if buf.len() >= 1 << 20 {
                out.write_all(&buf)?;
                buf.clear();
            }
        }
        out.write_all(&buf)?;
        out.flush()?;
        if !undetermined.is_empty() {
            // The rows are in the output (`overall.outcome`); the message names the first few.
            const SHOWN: usize = 20;
            let more = undetermined.len().saturating_sub(SHOWN);
            undetermined.truncate(SHOWN);
            return Err(Undetermined(format!(
                "{}: {} of {} rows have an undetermined overall verdict (rows {}{})",
                path.display(),
                undetermined.len() + more,
                rows.len(),
                undetermined.join(", "),
                if more > 0 {
                    format!(" and {more} more")
                } else {
                    String::new()
                }
            ))
            .into());
        }
        return Ok(());
    }
    let mut params = BTreeMap::new();
    for p in &a.params {
        let (k, v) = parse_param(p).map_err(|m| anyhow::anyhow!("--param: {m}"))?;
        params.insert(k, v);
    }
    let s = Shipment {
        product: a.product.clone(),
        params,
        from: a.from.clone().unwrap_or_default(),
        to: a.to.clone().unwrap_or_default(),
        origin: a.origin.clone(),
        end_user: a.end_user.clone(),
        end_use: a.end_use.clone(),
        date,
        parties: a
            .parties
            .iter()
            .map(|p| parse_party(p).map_err(|m| anyhow::anyhow!("--party: {m}")))
            .collect::<Result<_>>()?,
    };
    let d = engine.determine(&s)?;
    if a.record.record_case.is_some() {
        let inputs = serde_json::json!({
            "product": a.product, "params": a.params, "from": a.from, "to": a.to,
            "origin": a.origin, "end_user": a.end_user, "end_use": a.end_use,
            "parties": a.parties, "date": date.to_string(),
        });
        let id = super::records::keep(&a.record, inputs, serde_json::to_value(&d)?)?;
        eprintln!(
            "kept as determination record {id} for case `{}`",
            a.record.record_case.as_deref().unwrap_or("")
        );
    }
    let denials = match &a.denials {
        Some(path) => {
            let ns = super::denials::load(path)?;
            let t = chipwatch_controls::denials::Transaction {
                parties: s
                    .end_user
                    .iter()
                    .map(|n| ("end_user", n.clone()))
                    .chain(s.parties.iter().map(|p| (p.role.as_str(), p.name.clone())))
                    .map(|(role, name)| chipwatch_controls::denials::QueryParty {
                        role: role.to_string(),
                        name,
                    })
                    .collect(),
                product: s.product.clone(),
                control_entries: Vec::new(),
                model_item: None,
                date: Some(date),
            };
            let ms = super::denials::matches(&engine, &ns, &t);
            Some((ns, ms))
        }
        None => None,
    };
    let covers = match &a.register {
        Some(path) => {
            let text = read(path)?;
            let reg =
                chipwatch_controls::licence::parse_register(&text, &path.display().to_string())?;
            Some(chipwatch_controls::licence::covers(&engine, &d, &reg))
        }
        None => None,
    };
    if cli.json && covers.is_none() && denials.is_none() {
        // As the engine serialises it (field order kept).
        print_json(&d)?;
    } else if cli.json {
        let mut v = serde_json::to_value(&d)?;
        if let Some(c) = &covers {
            v["licences"] = serde_json::to_value(c)?;
        }
        if let Some((ns, ms)) = &denials {
            v["partner_denials"] = serde_json::json!(ms
                .iter()
                .map(|m| serde_json::json!({"notice": ns[m.notice], "match": m,
                    "consult": chipwatch_controls::denials::CONSULT_LINE}))
                .collect::<Vec<_>>());
        }
        print_json(&v)?;
    } else {
        print_determination(&d)?;
        if let Some((ns, ms)) = &denials {
            outln!("\nPartner denials:");
            super::denials::print_matches(cli, ns, ms)?;
        }
        if let Some(c) = &covers {
            outln!("\nLicences in the register:");
            if c.is_empty() {
                outln!("  none under the measures that require a licence");
            }
            for x in c {
                outln!(
                    "  {} ({}): {} — {}",
                    x.licence,
                    x.jurisdiction,
                    if x.covers { "covers" } else { "does not cover" },
                    x.reason
                );
            }
        }
    }
    if d.overall.outcome == OutcomeKind::Undetermined {
        return Err(Undetermined(format!(
            "the overall verdict is undetermined ({}); give {} with --param",
            d.overall.undetermined.join(", "),
            if d.overall.missing_parameters.is_empty() {
                "the missing values".to_string()
            } else {
                d.overall.missing_parameters.join(", ")
            }
        ))
        .into());
    }
    Ok(())
}

/// Parse `ROLE=NAME` (the `--party` syntax).
fn parse_party(s: &str) -> Result<chipwatch_controls::Party, String> {
    let (r, n) = s
        .split_once('=')
        .ok_or_else(|| format!("`{s}`: expected ROLE=NAME"))?;
    let role = chipwatch_controls::PartyRole::parse(r).ok_or_else(|| {
        format!(
            "`{r}`: unknown role (one of purchaser, intermediate_consignee, consignee, exporter; \
             the end user has --end-user)"
        )
    })?;
    if n.trim().is_empty() {
        return Err(format!("`{s}`: the name is empty"));
    }
    Ok(chipwatch_controls::Party {
        role,
        name: n.trim().to_string(),
    })
}

fn print_determination(d: &Determination) -> anyhow::Result<()> {
    let item = d
        .item
        .product
        .clone()
        .unwrap_or_else(|| "(parameters only)".into());
    outln!(
        "Licence determination as of {}: {} -> {}{}; item: {item}",
        d.date,
        d.from,
        d.to,
        d.origin
            .as_ref()
            .map_or(String::new(), |o| format!(" (origin {o})"))
    );
    if let Some(src) = &d.item.product_source {
        outln!("  catalogue source: {src}");
    }
    let params: Vec<String> = d
        .item
        .parameters
        .iter()
        .map(|(k, v)| format!("{k} = {v}"))
        .collect();
    outln!(
        "  parameters: {}",
        if params.is_empty() {
            "-".into()
        } else {
            params.join(", ")
        }
    );
    if !d.item.derived.is_empty() {
        let dv: Vec<String> = d
            .item
            .derived
            .iter()
            .map(|(k, v)| format!("{k} = {}", chipwatch_controls::value::fmt_num(*v)))
            .collect();
        outln!("  derived: {}", dv.join(", "));
    }
    if !d.item.unknown_parameters.is_empty() {
        outln!(
            "  catalogue values no measure reads: {}",
            d.item.unknown_parameters.join(", ")
        );
    }
    if let Some(eu) = &d.end_user {
        match d.end_user_screening.first() {
            Some(h) => outln!(
                "  end user `{eu}` matches `{}` on {} (score {:.2})",
                h.entry_name,
                h.list,
                h.score
            ),
            None => outln!("  end user `{eu}`: no match on the restricted-party list"),
        }
    }
    for p in &d.party_screening {
        match p.hits.first() {
            Some(h) => outln!(
                "  {} `{}` matches `{}` on {} (score {:.2})",
                p.role.as_str().replace('_', " "),
                p.name,
                h.entry_name,
                h.list,
                h.score
            ),
            None => outln!(
                "  {} `{}`: no match on the restricted-party lists",
                p.role.as_str().replace('_', " "),
                p.name
            ),
        }
    }
    outln!();
    let mut t = Table::new([
        "jurisdiction",
        "outcome",
        "review policy",
        "authorisation",
        "measure",
    ]);
    for v in &d.verdicts {
        t.row([
            v.jurisdiction.clone(),
            v.outcome.as_str().to_string(),
            v.review_policy
                .map_or("-".into(), |p| p.as_str().to_string()),
            v.authorisation.clone().unwrap_or_else(|| "-".into()),
            v.measure_id.clone().unwrap_or_else(|| "-".into()),
        ]);
    }
    t.print()?;
    outln!(
        "\nOverall: {}{}{} ({})",
        d.overall.outcome.as_str(),
        d.overall
            .review_policy
            .map_or(String::new(), |p| format!(", {}", p.as_str())),
        d.overall
            .authorisation
            .as_ref()
            .map_or(String::new(), |a| format!(", under {a}")),
        d.overall.jurisdictions.join(", ")
    );
    if !d.overall.undetermined.is_empty() {
        outln!(
            "Undetermined: {} — missing: {}",
            d.overall.undetermined.join(", "),
            if d.overall.missing_parameters.is_empty() {
                "(measures not encoded)".to_string()
            } else {
                d.overall.missing_parameters.join(", ")
            }
        );
    }
    for v in &d.verdicts {
        outln!("\n[{}]", v.jurisdiction);
        for l in &v.explanation {
            outln!("  {l}");
        }
    }
    if !d.overall.not_reached.is_empty() {
        outln!("\nNot reached:");
        for l in &d.overall.not_reached {
            outln!("  {l}");
        }
    }
    print_ruleset(&d.ruleset)?;
    Ok(())
}

/// The rule-set version and the provenance of each screening list, under every answer.
fn print_ruleset(r: &chipwatch_controls::RuleSet) -> anyhow::Result<()> {
    outln!(
        "\nRule set {} ({} control files; controls {}, catalogue {}, lists {})",
        &r.version[..16.min(r.version.len())],
        r.measure_files,
        &r.controls_digest[..12.min(r.controls_digest.len())],
        &r.catalogue_digest[..12.min(r.catalogue_digest.len())],
        &r.lists_digest[..12.min(r.lists_digest.len())],
    );
    for l in &r.lists {
        outln!(
            "  list: {} — {}; {} {}; {} entries{}",
            l.name,
            l.source,
            if l.compiled { "compiled" } else { "published" },
            l.published
                .map_or("(date unknown)".to_string(), |d| d.to_string()),
            l.entries,
            if l.partial {
                " (partial extract: screen against the official list too)"
            } else {
                ""
            }
        );
    }
    Ok(())
}

pub fn screen(cli: &Cli, a: &ScreenArgs) -> Result<()> {
    anyhow::ensure!(
        (0.0..=1.0).contains(&a.threshold),
        "--threshold must be between 0 and 1, got {}",
        a.threshold
    );
    let list_date = parse_opt_date(a.list_date.as_deref(), "--list-date")?;
    let date = parse_date(a.date.as_deref())?;
    let lists = if a.list.is_empty() {
        vec![chipwatch_controls::default_list()?]
    } else {
        // --list-date stands in only for files without a date of their own.
        a.list
            .iter()
            .map(|p| {
                load_list(p).or_else(|e| list_date.map_or(Err(e), |d| load_list_dated(p, Some(d))))
            })
            .collect::<Result<Vec<_>>>()?
    };
    let mut s = Screener::new(default_normaliser(), lists);
    if let Some(p) = &a.ownership {
        let data = OwnershipData::from_csv_str(&read(p)?, &p.display().to_string())?;
        s = s.with_ownership(&data, &default_affiliates_rule()?);
    }
    let results: Vec<Vec<chipwatch_controls::Hit>> = a
        .names
        .iter()
        .map(|q| s.screen_on(q, a.threshold, date))
        .collect();
    if cli.json {
        #[derive(serde::Serialize)]
        struct Out<'a> {
            query: &'a str,
            date: Date,
            hits: &'a [chipwatch_controls::Hit],
            lists: Vec<&'a chipwatch_controls::ListInfo>,
        }
        let v: Vec<Out> = a
            .names
            .iter()
            .zip(&results)
            .map(|(q, h)| Out {
                query: q,
                date,
                hits: h,
                lists: s.lists().iter().map(|l| l.as_ref()).collect(),
            })
            .collect();
        return print_json(&v);
    }
    let mut t = Table::new([
        "query",
        "match",
        "matched name",
        "score",
        "list",
        "review policy",
        "citation",
    ]);
    for (q, hits) in a.names.iter().zip(&results) {
        if hits.is_empty() {
            t.row([
                q.clone(),
                "(no match)".into(),
                "-".into(),
                "-".into(),
                "-".into(),
                "-".into(),
                "-".into(),
            ]);
        }
        for h in hits {
            t.row([
                q.clone(),
                if h.affiliate_of.is_some() {
                    format!("{} (affiliate)", h.entry_name)
                } else {
                    h.entry_name.clone()
                },
                h.matched_name.clone(),
                format!("{:.3}", h.score),
                h.list.clone(),
                h.review_policy
                    .map_or("-".into(), |p| p.as_str().to_string()),
                h.citation.clone(),
            ]);
        }
    }
    t.print()?;
    let mut affiliates = results
        .iter()
        .flatten()
        .filter_map(|h| h.affiliate_of.as_ref().map(|a| (h, a)))
        .peekable();
    if affiliates.peek().is_some() {
        outln!("\nAffiliates (as of {date}):");
    }
    for (h, af) in affiliates {
        let chain: Vec<String> = af
            .chain
            .iter()
            .map(|l| format!("{} -{}%-> {}", l.owner, l.percent, l.owned))
            .collect();
        outln!(
            "  {}: owned {}% by listed or covered owners; restrictions of `{}` ({}); chain: {}; \
             {} ({}); ownership data: {}",
            h.entry_name,
            af.total_percent,
            af.owner_entry,
            af.owner_list,
            chain.join(", "),
            af.rule.title,
            af.rule.citation,
            af.ownership_file
        );
    }
    outln!("\nScreened as of {date} against:");
    for l in s.lists() {
        outln!("  {l}");
    }
    Ok(())
}

/// `chipwatch import csl|eu-fsf|uk-sanctions|jp-eul FILE [--date D] [--out list.toml]`.
pub fn import_list(cli: &Cli, format: ListFormat, a: &ImportListArgs) -> Result<()> {
    let text = read(&a.file)?;
    let name = a.file.display().to_string();
    let date = parse_opt_date(a.date.as_deref(), "--date")?;
    let list = match format {
        ListFormat::Csl => match chipwatch_controls::lists::sniff(&text) {
            chipwatch_controls::lists::Format::CslJson => csl::import_csl_json(&text, &name, date)?,
            _ => csl::import_csl(&text, &name, date)?,
        },
        ListFormat::EuFsf => eu_fsf::import_eu_fsf(&text, &name, date)?,
        ListFormat::UkSanctions => uk::import_uk_sanctions(&text, &name, date)?,
        ListFormat::JpEul => jp_eul::import_jp_eul(&text, &name, date)?,
    };
    let toml = list.to_toml_string();
    match &a.out {
        Some(out) => {
            std::fs::write(out, toml).with_context(|| format!("writing {}", out.display()))?;
        }
        None => out!("{toml}"),
    }
    let mut by_list: BTreeMap<&str, usize> = BTreeMap::new();
    for e in &list.entries {
        *by_list.entry(e.list.as_str()).or_default() += 1;
    }
    let published = list.meta.published.as_deref().unwrap_or("?");
    let rows = list.meta.rows.unwrap_or(list.entries.len());
    if cli.json && a.out.is_some() {
        print_json(&serde_json::json!({
            "entries": list.entries.len(), "rows": rows, "published": published,
            "by_list": by_list,
        }))?;
    } else {
        eprintln!(
            "imported {} entries from {} ({} rows, published {published}; {})",
            list.entries.len(),
            a.file.display(),
            rows,
            by_list
                .iter()
                .map(|(k, v)| format!("{k}: {v}"))
                .collect::<Vec<_>>()
                .join(", ")
        );
    }
    Ok(())
}

pub fn measure(cli: &Cli, c: &MeasureCmd) -> Result<()> {
    let e = default_engine()?;
    match c {
        MeasureCmd::List => {
            if cli.json {
                let v: Vec<_> = e
                    .measures()
                    .iter()
                    .map(chipwatch_controls::views::measure_row)
                    .collect();
                return print_json(&v);
            }
            let mut t = Table::new([
                "id",
                "version",
                "jurisdiction",
                "in force from",
                "until",
                "file",
            ]);
            for m in e.measures() {
                t.row([
                    m.id.clone(),
                    m.version.clone(),
                    m.jurisdiction.clone(),
                    m.in_force_from.to_string(),
                    m.in_force_until.map_or("-".into(), |d| d.to_string()),
                    m.file.clone(),
                ]);
            }
            t.print()?;
            Ok(())
        }
        MeasureCmd::Show { id } => {
            let vs = e
                .versions(id)
                .ok_or_else(|| chipwatch_controls::ControlsError::UnknownMeasure(id.clone()))?;
            if cli.json {
                // The API's `GET /api/v1/measures/{id}` document.
                return print_json(&serde_json::json!({
                    "id": id,
                    "versions": vs
                        .iter()
                        .map(chipwatch_controls::views::measure_detail)
                        .collect::<Vec<_>>(),
                }));
            }
            for m in vs {
                outln!("{} — version {} ({})", m.id, m.version, m.file);
                outln!("  {}", m.title);
                outln!(
                    "  jurisdiction: {}; authority: {}",
                    m.jurisdiction,
                    m.authority
                );
                outln!("  instrument: {}", m.instrument);
                outln!("  citation: {}", m.citation);
                outln!(
                    "  in force from {}{}",
                    m.in_force_from,
                    m.in_force_until
                        .map_or(String::new(), |u| format!(" until {u}"))
                );
                for s in &m.suspensions {
                    outln!("  suspended {} to {} by {}", s.from, s.until, s.instrument);
                }
                for r in &m.rules {
                    outln!(
                        "  rule: {} -> {}{}",
                        r.destinations.describe(),
                        r.outcome.as_str(),
                        r.label
                            .as_ref()
                            .map_or(String::new(), |l| format!(" ({l})"))
                    );
                    for s in &r.suspensions {
                        outln!(
                            "    suspended {} to {} by {}",
                            s.from,
                            s.until,
                            s.instrument
                        );
                    }
                }
                for c in &m.coverage {
                    outln!("  covers {} x {}: {}", c.item, c.fraction, c.assumption);
                }
                for a in &m.approximations {
                    outln!("  approximation: {a}");
                }
                for g in &m.gaps {
                    outln!("  not modelled (gap): {g}");
                }
                outln!();
            }
            Ok(())
        }
        MeasureCmd::Impact(a) => impact(cli, &e, a),
    }
}

fn impact(cli: &Cli, e: &Engine, a: &ImpactArgs) -> Result<()> {
    let vc = super::load_model(cli)?;
    let date = parse_date(a.date.as_deref())?;
    let deny: Vec<String> = a
        .deny
        .iter()
        .map(|c| chipwatch_controls::country::check("deny", c))
        .collect::<Result<_, _>>()?;
    let r = chipwatch_controls::impact::measure_impact(e, &vc, &a.measure_id, date, &deny)?;
    if cli.json {
        return print_json(&r);
    }
    chipwatch_controls::impact::print_report(&r, &mut std::io::stdout().lock())?;
    Ok(())
}
