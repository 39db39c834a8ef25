//! Export-control commands: `licence check`, `licence products`, `screen`, `import csl`,
//! `measure list|show|impact`. Files named by the user are read here and handed to
//! `chipwatch-controls` as text with their name, so every error message names the file.

use crate::output::{print_json, Table};
use crate::Cli;
use anyhow::{Context, Result};
use chipwatch_controls::batch::{parse_batch_csv, parse_param};
use chipwatch_controls::screening::DEFAULT_THRESHOLD;
use chipwatch_controls::{
    csl, default_engine, default_normaliser, Batch, Date, Determination, Engine, RestrictedList,
    Screener, Shipment,
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
    Check(CheckArgs),
    /// List the product catalogue (names usable with --product).
    Products,
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
}

#[derive(Debug, Args)]
pub struct ScreenArgs {
    /// Names to screen.
    #[arg(required = true)]
    pub names: Vec<String>,
    /// Restricted-party list (project TOML, or a CSL CSV); default: the embedded list.
    #[arg(long, value_name = "FILE")]
    pub list: Option<PathBuf>,
    /// Minimum score of a match (0..1).
    #[arg(long, default_value_t = DEFAULT_THRESHOLD)]
    pub threshold: f64,
}

#[derive(Debug, Args)]
pub struct ImportCslArgs {
    /// The Consolidated Screening List CSV (trade.gov published layout).
    pub file: PathBuf,
    /// Write the list (project TOML) here instead of stdout.
    #[arg(long)]
    pub out: Option<PathBuf>,
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

/// Load a restricted-party list file: CSL CSV by extension, else the project's TOML.
fn load_list(path: &Path) -> Result<RestrictedList> {
    let text = read(path)?;
    let name = path.display().to_string();
    let is_csv = path
        .extension()
        .is_some_and(|e| e.eq_ignore_ascii_case("csv"));
    Ok(if is_csv {
        csl::import_csl(&text, &name)?
    } else {
        RestrictedList::from_toml_str(&text, &name)?
    })
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
        for (i, s) in rows.iter().enumerate() {
            if let Err(e) = batch.write_json_line(s, &mut buf) {
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
    };
    let d = engine.determine(&s)?;
    if cli.json {
        return print_json(&d);
    }
    print_determination(&d)?;
    Ok(())
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
            "  unknown parameters (kept, used by no measure): {}",
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
    Ok(())
}

pub fn screen(cli: &Cli, a: &ScreenArgs) -> Result<()> {
    anyhow::ensure!(
        (0.0..=1.0).contains(&a.threshold),
        "--threshold must be between 0 and 1, got {}",
        a.threshold
    );
    let list = match &a.list {
        Some(p) => load_list(p)?,
        None => chipwatch_controls::default_list()?,
    };
    let s = Screener::new(default_normaliser(), vec![list]);
    let results = s.screen_many(a.names.iter().map(String::as_str), a.threshold);
    if cli.json {
        #[derive(serde::Serialize)]
        struct Out<'a> {
            query: &'a str,
            hits: &'a [chipwatch_controls::Hit],
        }
        let v: Vec<Out> = a
            .names
            .iter()
            .zip(&results)
            .map(|(q, h)| Out { query: q, hits: h })
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
                h.entry_name.clone(),
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
    Ok(())
}

pub fn import_csl(cli: &Cli, a: &ImportCslArgs) -> Result<()> {
    let text = read(&a.file)?;
    let list = csl::import_csl(&text, &a.file.display().to_string())?;
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
    if cli.json && a.out.is_some() {
        print_json(&serde_json::json!({ "entries": list.entries.len(), "by_list": by_list }))?;
    } else {
        eprintln!(
            "imported {} entries from {} ({})",
            list.entries.len(),
            a.file.display(),
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
                    .map(|m| {
                        serde_json::json!({
                            "id": m.id, "version": m.version, "jurisdiction": m.jurisdiction,
                            "instrument": m.instrument, "citation": m.citation,
                            "in_force_from": m.in_force_from, "in_force_until": m.in_force_until,
                            "file": m.file,
                        })
                    })
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
        .map(|c| {
            chipwatch_controls::normalise_country(c)
                .ok_or_else(|| chipwatch_controls::ControlsError::Country(c.clone()))
        })
        .collect::<Result<_, _>>()?;
    let r = chipwatch_controls::impact::measure_impact(e, &vc, &a.measure_id, date, &deny)?;
    if cli.json {
        return print_json(&r);
    }
    chipwatch_controls::impact::print_report(&r, &mut std::io::stdout().lock())?;
    Ok(())
}
