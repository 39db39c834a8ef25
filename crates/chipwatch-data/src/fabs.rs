//! Readers for the production data of the scenario engine's segment layer (`data/fabs/`, format
//! in `data/fabs/README.md`): fabs (CSV), sources, industry totals, consumers' demand and segment
//! needs (TOML), ATP shares (CSV), and the bilateral chip trade matrix a user loads (CSV, the
//! output of `chipwatch trade matrix`). Every error names the file, the line and the field.

use crate::DataError;
use chipwatch_model::production::*;
use serde::Deserialize;
use std::collections::{BTreeSet, HashSet};
use std::path::Path;

/// The embedded production data (compiled into the binary from `data/fabs/`).
pub mod embedded {
    pub const FABS_CSV: &str = include_str!("../../../data/fabs/fabs.csv");
    pub const SOURCES_TOML: &str = include_str!("../../../data/fabs/sources.toml");
    pub const TOTALS_TOML: &str = include_str!("../../../data/fabs/totals.toml");
    pub const ATP_CSV: &str = include_str!("../../../data/fabs/atp.csv");
    pub const DEMAND_TOML: &str = include_str!("../../../data/fabs/demand.toml");
    pub const DEMAND_SOURCES_TOML: &str = include_str!("../../../data/fabs/demand-sources.toml");
    pub const SEGMENTS_TOML: &str = include_str!("../../../data/fabs/segments.toml");
}

/// The file names of a production data directory.
pub const FILES: [&str; 7] = [
    "fabs.csv",
    "sources.toml",
    "totals.toml",
    "atp.csv",
    "demand.toml",
    "demand-sources.toml",
    "segments.toml",
];

/// The texts of the seven files, with the name each is reported under.
#[derive(Debug, Clone, Copy)]
pub struct Texts<'a> {
    pub dir: &'a str,
    pub fabs: &'a str,
    pub sources: &'a str,
    pub totals: &'a str,
    pub atp: &'a str,
    pub demand: &'a str,
    pub demand_sources: &'a str,
    pub segments: &'a str,
}

/// The embedded production data, parsed and checked.
pub fn default_production() -> ProductionData {
    // The embedded files are checked by tests, so failure here is a build defect.
    parse(Texts {
        dir: "data/fabs (embedded)",
        fabs: embedded::FABS_CSV,
        sources: embedded::SOURCES_TOML,
        totals: embedded::TOTALS_TOML,
        atp: embedded::ATP_CSV,
        demand: embedded::DEMAND_TOML,
        demand_sources: embedded::DEMAND_SOURCES_TOML,
        segments: embedded::SEGMENTS_TOML,
    })
    .expect("embedded production data is valid (checked by tests)")
}

/// The embedded production data when `vc` has every item its segment needs name (the embedded
/// ETO model does); `None` for other models (generated ones, a user's own), whose items the
/// embedded needs do not describe: callers then run the item view only and say so. The `Err`
/// names the first missing item.
pub fn production_for(vc: &chipwatch_model::ValueChain) -> Result<ProductionData, String> {
    let p = default_production();
    match p.needs.iter().find(|n| vc.find_item(&n.item).is_err()) {
        None => Ok(p),
        Some(n) => Err(n.item.clone()),
    }
}

/// Read a production data directory with the layout of `data/fabs/`.
pub fn load_production_dir(dir: &Path) -> Result<ProductionData, DataError> {
    let read = |name: &str| {
        let p = dir.join(name);
        std::fs::read_to_string(&p).map_err(|e| DataError::io(&p, e))
    };
    let t: Vec<String> = FILES.iter().map(|f| read(f)).collect::<Result<_, _>>()?;
    let d = dir.display().to_string();
    parse(Texts {
        dir: &d,
        fabs: &t[0],
        sources: &t[1],
        totals: &t[2],
        atp: &t[3],
        demand: &t[4],
        demand_sources: &t[5],
        segments: &t[6],
    })
}

/// Parse and cross-check the seven files.
pub fn parse(t: Texts<'_>) -> Result<ProductionData, DataError> {
    let name = |f: &str| format!("{}/{f}", t.dir.trim_end_matches('/'));
    let mut sources = parse_sources(t.sources, &name("sources.toml"))?;
    let mut seen: HashSet<String> = sources.iter().map(|s| s.id.clone()).collect();
    let (needs, seg_sources) = parse_segments(t.segments, &name("segments.toml"))?;
    for (file, more) in [
        (
            "demand-sources.toml",
            parse_sources(t.demand_sources, &name("demand-sources.toml"))?,
        ),
        ("segments.toml", seg_sources),
    ] {
        for s in more {
            if !seen.insert(s.id.clone()) {
                return Err(DataError::Toml {
                    file: name(file),
                    message: format!("source id `{}` is defined twice", s.id),
                });
            }
            sources.push(s);
        }
    }
    let fabs = parse_fabs_csv(t.fabs, &name("fabs.csv"))?;
    let totals = parse_totals(t.totals, &name("totals.toml"))?;
    let atp = parse_atp_csv(t.atp, &name("atp.csv"))?;
    let (economies, demand) = parse_demand(t.demand, &name("demand.toml"))?;

    // Every cited source exists.
    let check = |file: &str, line: u64, ids: &str| -> Result<(), DataError> {
        for id in split_ids(ids) {
            if !seen.contains(id) {
                return Err(DataError::Field {
                    file: name(file),
                    line,
                    field: "source".into(),
                    message: format!("unknown source id `{id}` (define it in sources.toml)"),
                });
            }
        }
        Ok(())
    };
    for f in &fabs {
        check("fabs.csv", f.line, &f.sources.join(";"))?;
    }
    for (i, a) in atp.iter().enumerate() {
        check("atp.csv", i as u64 + 2, &a.source)?;
    }
    for n in &needs {
        if let Some(id) = split_ids(&n.source).find(|id| !seen.contains(*id)) {
            return Err(DataError::Toml {
                file: name("segments.toml"),
                message: format!("need {} {}: unknown source id `{id}`", n.segment, n.item),
            });
        }
    }
    Ok(ProductionData {
        fabs,
        sources,
        totals,
        atp,
        economies,
        demand,
        needs,
        origin: t.dir.to_string(),
    })
}

fn split_ids(s: &str) -> impl Iterator<Item = &str> {
    s.split([';', ',']).map(str::trim).filter(|x| !x.is_empty())
}

fn field_err(file: &str, line: u64, field: &str, message: impl Into<String>) -> DataError {
    DataError::Field {
        file: file.to_string(),
        line,
        field: field.to_string(),
        message: message.into(),
    }
}

/// ISO alpha-3 shape (three capitals); `allow` lists extra codes (`ROW`, `EU27`).
fn check_code(
    file: &str,
    line: u64,
    field: &str,
    v: &str,
    allow: &[&str],
) -> Result<String, DataError> {
    let v = v.trim();
    if (v.len() == 3 && v.bytes().all(|b| b.is_ascii_uppercase())) || allow.contains(&v) {
        Ok(v.to_string())
    } else {
        Err(field_err(
            file,
            line,
            field,
            format!("`{v}` is not an ISO 3166-1 alpha-3 code (three capital letters)"),
        ))
    }
}

fn csv_reader(text: &str) -> csv::Reader<&[u8]> {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    csv::ReaderBuilder::new()
        .flexible(false)
        .trim(csv::Trim::All)
        .comment(Some(b'#'))
        .from_reader(text.as_bytes())
}

/// Column positions by name; errors name a missing column.
fn columns(
    rdr: &mut csv::Reader<&[u8]>,
    file: &str,
    want: &[&str],
) -> Result<Vec<usize>, DataError> {
    let h = rdr.headers().map_err(|e| csv_err(file, &e))?.clone();
    want.iter()
        .map(|w| {
            h.iter()
                .position(|c| c.trim().eq_ignore_ascii_case(w))
                .ok_or_else(|| DataError::MissingColumn {
                    file: file.to_string(),
                    column: (*w).to_string(),
                })
        })
        .collect()
}

fn csv_err(file: &str, e: &csv::Error) -> DataError {
    DataError::Csv {
        file: file.to_string(),
        line: e.position().map_or(0, |p| p.line()),
        message: e.to_string(),
    }
}

fn num(file: &str, line: u64, field: &str, v: &str, lo: f64, hi: f64) -> Result<f64, DataError> {
    let x: f64 = v
        .trim()
        .replace('_', "")
        .parse()
        .map_err(|_| field_err(file, line, field, format!("`{v}` is not a number")))?;
    if x.is_finite() && x >= lo && x <= hi {
        Ok(x)
    } else {
        Err(field_err(
            file,
            line,
            field,
            format!("{x} is outside {lo}..={hi}"),
        ))
    }
}

fn year(file: &str, line: u64, field: &str, v: &str) -> Result<Option<i32>, DataError> {
    if v.trim().is_empty() {
        return Ok(None);
    }
    let y = num(file, line, field, v, 1950.0, 2100.0)?;
    if y.fract() != 0.0 {
        return Err(field_err(file, line, field, format!("{y} is not a year")));
    }
    Ok(Some(y as i32))
}

/// `fabs.csv`: one row per (fab, segment).
pub fn parse_fabs_csv(text: &str, file: &str) -> Result<Vec<Fab>, DataError> {
    const COLS: [&str; 13] = [
        "fab_id",
        "owner",
        "owner_country",
        "site",
        "country",
        "wafer_mm",
        "capacity_wspm",
        "segment",
        "status",
        "start_year",
        "capacity_year",
        "source",
        "note",
    ];
    let mut rdr = csv_reader(text);
    let ix = columns(&mut rdr, file, &COLS)?;
    let mut out = Vec::new();
    let mut keys: HashSet<(String, Segment)> = HashSet::new();
    for rec in rdr.records() {
        let rec = rec.map_err(|e| csv_err(file, &e))?;
        let line = rec.position().map_or(0, |p| p.line());
        let g = |i: usize| rec.get(ix[i]).unwrap_or("").trim();
        let nonempty = |i: usize| -> Result<String, DataError> {
            let v = g(i);
            if v.is_empty() {
                Err(field_err(file, line, COLS[i], "must not be empty"))
            } else {
                Ok(v.to_string())
            }
        };
        let fab_id = nonempty(0)?;
        let segment = Segment::parse(g(7)).ok_or_else(|| {
            field_err(
                file,
                line,
                "segment",
                format!(
                    "unknown segment `{}` (one of {})",
                    g(7),
                    Segment::ALL.map(|s| s.as_str()).join(", ")
                ),
            )
        })?;
        if !keys.insert((fab_id.clone(), segment)) {
            return Err(field_err(
                file,
                line,
                "fab_id",
                format!("`{fab_id}` has two rows for segment {segment}"),
            ));
        }
        let wafer = num(file, line, "wafer_mm", g(5), 0.0, 1e9)?;
        if ![100.0, 125.0, 150.0, 200.0, 300.0].contains(&wafer) {
            return Err(field_err(
                file,
                line,
                "wafer_mm",
                format!("{wafer} is not a wafer size (100, 125, 150, 200 or 300)"),
            ));
        }
        let capacity_wspm = if g(6).is_empty() {
            None
        } else {
            Some(num(file, line, "capacity_wspm", g(6), 0.0, 5e6)?)
        };
        let status = FabStatus::parse(g(8)).ok_or_else(|| {
            field_err(
                file,
                line,
                "status",
                format!(
                    "unknown status `{}` (operating, ramping, planned, closed)",
                    g(8)
                ),
            )
        })?;
        let sources: Vec<String> = split_ids(g(11)).map(str::to_string).collect();
        if sources.is_empty() {
            return Err(field_err(
                file,
                line,
                "source",
                "every row needs a source id",
            ));
        }
        out.push(Fab {
            owner: nonempty(1)?,
            owner_country: check_code(file, line, "owner_country", g(2), &[])?,
            site: g(3).to_string(),
            country: check_code(file, line, "country", g(4), &[])?,
            wafer_mm: wafer as u16,
            capacity_wspm,
            segment,
            status,
            start_year: year(file, line, "start_year", g(9))?,
            capacity_year: year(file, line, "capacity_year", g(10))?,
            sources,
            note: g(12).to_string(),
            line,
            fab_id,
        });
    }
    if out.is_empty() {
        return Err(DataError::Csv {
            file: file.into(),
            line: 1,
            message: "no fab rows".into(),
        });
    }
    Ok(out)
}

/// `atp.csv`: share of world ATP capacity by country.
pub fn parse_atp_csv(text: &str, file: &str) -> Result<Vec<AtpShare>, DataError> {
    let mut rdr = csv_reader(text);
    let ix = columns(&mut rdr, file, &["country", "share_pct", "year", "source"])?;
    let mut out: Vec<AtpShare> = Vec::new();
    for rec in rdr.records() {
        let rec = rec.map_err(|e| csv_err(file, &e))?;
        let line = rec.position().map_or(0, |p| p.line());
        let g = |i: usize| rec.get(ix[i]).unwrap_or("").trim();
        let country = check_code(file, line, "country", g(0), &["ROW"])?;
        if out.iter().any(|a| a.country == country) {
            return Err(field_err(
                file,
                line,
                "country",
                format!("{country} listed twice"),
            ));
        }
        out.push(AtpShare {
            country,
            share_pct: num(file, line, "share_pct", g(1), 0.0, 100.0)?,
            year: year(file, line, "year", g(2))?,
            source: g(3).to_string(),
        });
    }
    let total: f64 = out.iter().map(|a| a.share_pct).sum();
    if out.is_empty() || !(95.0..=105.0).contains(&total) {
        return Err(DataError::Csv {
            file: file.into(),
            line: 1,
            message: format!("shares sum to {total:.1}%, expected about 100 (add a ROW row)"),
        });
    }
    Ok(out)
}

fn toml_err(text: &str, file: &str, e: &toml::de::Error) -> DataError {
    let msg = e.message().trim().to_string();
    let message = match e.span() {
        Some(span) => {
            let line = text[..span.start.min(text.len())]
                .bytes()
                .filter(|&b| b == b'\n')
                .count()
                + 1;
            format!("line {line}: {msg}")
        }
        None => msg,
    };
    DataError::Toml {
        file: file.to_string(),
        message,
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct SourcesFile {
    #[serde(default)]
    source: Vec<SourceRow>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct SourceRow {
    id: String,
    #[serde(default)]
    publisher: String,
    #[serde(default)]
    title: String,
    #[serde(default)]
    year: Option<i32>,
    #[serde(default)]
    url: String,
    #[serde(default)]
    #[allow(dead_code)]
    accessed: Option<toml::Value>,
    #[serde(default)]
    #[allow(dead_code)]
    note: Option<String>,
}

fn parse_sources(text: &str, file: &str) -> Result<Vec<ProductionSource>, DataError> {
    let f: SourcesFile = toml::from_str(text).map_err(|e| toml_err(text, file, &e))?;
    sources_from(f.source, file)
}

fn sources_from(rows: Vec<SourceRow>, file: &str) -> Result<Vec<ProductionSource>, DataError> {
    let mut ids = HashSet::new();
    let mut out = Vec::new();
    for (i, s) in rows.into_iter().enumerate() {
        if s.id.trim().is_empty() || !ids.insert(s.id.clone()) {
            return Err(DataError::Toml {
                file: file.into(),
                message: format!("source[{i}].id: `{}` is empty or defined twice", s.id),
            });
        }
        out.push(ProductionSource {
            id: s.id,
            publisher: s.publisher,
            title: s.title,
            year: s.year,
            url: s.url,
        });
    }
    Ok(out)
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct TotalsFile {
    #[serde(default)]
    #[allow(dead_code)]
    meta: Option<toml::Table>,
    #[serde(default)]
    total: Vec<TotalRow>,
    /// Shares of world capacity by location, for cross-checks (kept in the file, not used).
    #[serde(default)]
    #[allow(dead_code)]
    location_share: Vec<toml::Table>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct TotalRow {
    segment: String,
    capacity_wspm_300eq: f64,
    year: i32,
    source: String,
    #[serde(default)]
    note: String,
}

fn segment_or_all(file: &str, field: &str, s: &str) -> Result<Option<Segment>, DataError> {
    if s.trim() == "all" {
        return Ok(None);
    }
    Segment::parse(s).map(Some).ok_or_else(|| DataError::Toml {
        file: file.into(),
        message: format!(
            "{field}: unknown segment `{s}` (all, {})",
            Segment::ALL.map(|s| s.as_str()).join(", ")
        ),
    })
}

fn parse_totals(text: &str, file: &str) -> Result<Vec<CapacityTotal>, DataError> {
    let f: TotalsFile = toml::from_str(text).map_err(|e| toml_err(text, file, &e))?;
    f.total
        .into_iter()
        .enumerate()
        .map(|(i, t)| {
            if !(t.capacity_wspm_300eq.is_finite() && t.capacity_wspm_300eq > 0.0) {
                return Err(DataError::Toml {
                    file: file.into(),
                    message: format!("total[{i}].capacity_wspm_300eq: must be a positive number"),
                });
            }
            let scope = t.segment.trim().to_string();
            let segment = if scope.is_empty() {
                return Err(DataError::Toml {
                    file: file.into(),
                    message: format!("total[{i}].segment: must not be empty"),
                });
            } else if scope == "all" {
                None
            } else {
                Segment::parse(&scope)
            };
            Ok(CapacityTotal {
                scope,
                segment,
                capacity_wspm_300eq: t.capacity_wspm_300eq,
                year: t.year,
                source: t.source,
                note: t.note,
            })
        })
        .collect()
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct DemandFile {
    #[serde(default)]
    #[allow(dead_code)]
    meta: Option<toml::Table>,
    #[serde(default)]
    consumer: Vec<ConsumerRow>,
    #[serde(default)]
    demand: Vec<DemandRow>,
    #[serde(default)]
    #[allow(dead_code)]
    world_segment: Vec<toml::Table>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ConsumerRow {
    code: String,
    name: String,
    #[serde(default)]
    part_of: Option<String>,
    #[serde(default)]
    #[allow(dead_code)]
    members: Option<Vec<String>>,
    #[serde(default)]
    #[allow(dead_code)]
    note: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct DemandRow {
    consumer: String,
    segment: String,
    share_pct: f64,
    #[serde(default)]
    year: Option<i32>,
    #[serde(default)]
    source: String,
    #[serde(default)]
    note: String,
}

/// Codes a consumer may have beyond ISO alpha-3.
const ECONOMY_CODES: [&str; 2] = ["EU27", "ROW"];

fn parse_demand(text: &str, file: &str) -> Result<(Vec<Economy>, Vec<DemandShare>), DataError> {
    let f: DemandFile = toml::from_str(text).map_err(|e| toml_err(text, file, &e))?;
    let terr = |message: String| DataError::Toml {
        file: file.into(),
        message,
    };
    let mut economies = Vec::new();
    let mut codes = BTreeSet::new();
    for (i, c) in f.consumer.into_iter().enumerate() {
        let code = c.code.trim().to_string();
        let ok = (code.len() == 3 && code.bytes().all(|b| b.is_ascii_uppercase()))
            || ECONOMY_CODES.contains(&code.as_str());
        if !ok || !codes.insert(code.clone()) {
            return Err(terr(format!(
                "consumer[{i}].code: `{code}` is not an ISO alpha-3 code, EU27 or ROW, or is listed twice"
            )));
        }
        economies.push(Economy {
            code,
            name: c.name,
            part_of: c.part_of.map(|p| p.trim().to_string()),
        });
    }
    for (i, e) in economies.iter().enumerate() {
        if let Some(p) = &e.part_of {
            if !codes.contains(p) {
                return Err(terr(format!(
                    "consumer[{i}].part_of: unknown consumer `{p}`"
                )));
            }
        }
    }
    let mut demand = Vec::new();
    let mut keys = HashSet::new();
    for (i, d) in f.demand.into_iter().enumerate() {
        let field = |n: &str| format!("demand[{i}].{n}");
        if !codes.contains(d.consumer.trim()) {
            return Err(terr(format!(
                "{}: unknown consumer `{}` (list it as a [[consumer]])",
                field("consumer"),
                d.consumer
            )));
        }
        let segment = segment_or_all(file, &field("segment"), &d.segment)?;
        if !(d.share_pct.is_finite() && (0.0..=100.0).contains(&d.share_pct)) {
            return Err(terr(format!(
                "{}: {} is outside 0..=100",
                field("share_pct"),
                d.share_pct
            )));
        }
        if !keys.insert((d.consumer.trim().to_string(), segment)) {
            return Err(terr(format!(
                "{}: {} has two rows for segment {}",
                field("consumer"),
                d.consumer,
                d.segment
            )));
        }
        demand.push(DemandShare {
            consumer: d.consumer.trim().to_string(),
            segment,
            share_pct: d.share_pct,
            year: d.year,
            source: d.source,
            note: d.note,
        });
    }
    if economies.is_empty() {
        return Err(terr("no [[consumer]] tables".into()));
    }
    Ok((economies, demand))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct SegmentsFile {
    #[serde(default)]
    need: Vec<NeedRow>,
    #[serde(default)]
    source: Vec<SourceRow>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct NeedRow {
    segment: String,
    item: String,
    kind: NeedKind,
    dependence: f64,
    source: String,
    #[serde(default)]
    note: String,
}

fn parse_segments(
    text: &str,
    file: &str,
) -> Result<(Vec<SegmentNeed>, Vec<ProductionSource>), DataError> {
    let f: SegmentsFile = toml::from_str(text).map_err(|e| toml_err(text, file, &e))?;
    let sources = sources_from(f.source, file)?;
    let needs = f
        .need
        .into_iter()
        .enumerate()
        .map(|(i, n)| {
            let segment = Segment::parse(&n.segment).ok_or_else(|| DataError::Toml {
                file: file.into(),
                message: format!("need[{i}].segment: unknown segment `{}`", n.segment),
            })?;
            if !(n.dependence.is_finite() && (0.0..=1.0).contains(&n.dependence)) {
                return Err(DataError::Toml {
                    file: file.into(),
                    message: format!("need[{i}].dependence: {} is outside 0..=1", n.dependence),
                });
            }
            Ok(SegmentNeed {
                segment,
                item: n.item.trim().to_string(),
                kind: n.kind,
                dependence: n.dependence,
                source: n.source,
                note: n.note,
            })
        })
        .collect::<Result<Vec<_>, _>>()?;
    Ok((needs, sources))
}

/// A chip trade matrix (`segment,from,to,value[,currency,period,source]`): the output of
/// `chipwatch trade matrix`, or any bilateral table in that shape. `segment` is one of the six
/// segments or `all`.
pub fn parse_trade_matrix(text: &str, file: &str) -> Result<TradeMatrix, DataError> {
    let mut rdr = csv_reader(text);
    let ix = columns(&mut rdr, file, &["segment", "from", "to", "value"])?;
    let h = rdr.headers().map_err(|e| csv_err(file, &e))?.clone();
    let opt = |n: &str| h.iter().position(|c| c.trim().eq_ignore_ascii_case(n));
    let (period_ix, source_ix) = (opt("period"), opt("source"));
    let mut flows = Vec::new();
    let mut periods = BTreeSet::new();
    let mut srcs = BTreeSet::new();
    for rec in rdr.records() {
        let rec = rec.map_err(|e| csv_err(file, &e))?;
        let line = rec.position().map_or(0, |p| p.line());
        let g = |i: usize| rec.get(i).unwrap_or("").trim();
        let seg = g(ix[0]);
        let segment = if seg == "all" {
            None
        } else {
            Some(Segment::parse(seg).ok_or_else(|| {
                field_err(
                    file,
                    line,
                    "segment",
                    format!(
                        "unknown segment `{seg}` (all or one of {})",
                        Segment::ALL.map(|s| s.as_str()).join(", ")
                    ),
                )
            })?)
        };
        let from = check_code(file, line, "from", g(ix[1]), &ECONOMY_CODES)?;
        let to = check_code(file, line, "to", g(ix[2]), &ECONOMY_CODES)?;
        let value = num(file, line, "value", g(ix[3]), 0.0, 1e18)?;
        if let Some(p) = period_ix {
            periods.insert(g(p).to_string());
        }
        if let Some(s) = source_ix {
            srcs.insert(g(s).to_string());
        }
        flows.push(TradeFlow {
            segment,
            from,
            to,
            value,
        });
    }
    if flows.is_empty() {
        return Err(DataError::Csv {
            file: file.into(),
            line: 1,
            message: "no flows".into(),
        });
    }
    let join = |s: BTreeSet<String>| {
        s.into_iter()
            .filter(|x| !x.is_empty())
            .collect::<Vec<_>>()
            .join(", ")
    };
    Ok(TradeMatrix {
        flows,
        origin: format!("{file} (period {}; source {})", join(periods), join(srcs)),
    })
}
