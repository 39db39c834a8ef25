//! Importer for the ETO/CSET "Advanced Semiconductor Supply Chain Dataset" (five CSV files).
//!
//! What it keeps: ids, names, kinds, stages, taxonomy and flow, market sizes with year and
//! qualifier, shares with year, source label and basis. What it drops: descriptions and chart
//! captions (prose we may not copy). Quirks of the dataset handled here:
//! - country rows and firm rows of one item are two views; the model keeps them apart by provider
//!   type, never sums them;
//! - "Various countries", "Various companies" and "EUR" are buckets, not countries;
//! - provider names are not unique (join on id); `provision.provider_name` may be stale;
//! - fabrication and ATP stage shares are capacity by location; everything else is by HQ.

use crate::DataError;
use chipwatch_model::{
    Basis, BucketOf, Diagnostic, Item, ItemKind, MarketSize, Meta, Model, Provider, ProviderType,
    Share, Source, Stage, StageKind, FORMAT_VERSION,
};
use std::collections::HashMap;
use std::path::Path;

/// Files of the dataset, in the order they are read.
pub const FILES: [&str; 5] = [
    "stages.csv",
    "inputs.csv",
    "providers.csv",
    "sequence.csv",
    "provision.csv",
];

/// Result of an import: the model and what the importer noticed.
#[derive(Debug)]
pub struct Import {
    pub model: Model,
    pub diagnostics: Vec<Diagnostic>,
    pub counts: Counts,
}

/// Records read per file, for the summary.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq, serde::Serialize)]
pub struct Counts {
    pub stages: usize,
    pub items: usize,
    pub providers: usize,
    /// Rows of providers.csv (a provider may have one row per alias).
    pub provider_rows: usize,
    pub sequence: usize,
    pub provision: usize,
    pub provision_blank: usize,
}

/// Options describing the dataset's provenance, written into the model's metadata.
#[derive(Debug, Clone)]
pub struct ImportOptions {
    pub vintage: String,
}

impl Default for ImportOptions {
    fn default() -> Self {
        ImportOptions {
            vintage: "georgetown-cset/eto-chip-explorer data/ at commit 46e0106 (2026-08-14)"
                .to_string(),
        }
    }
}

/// Read the five CSV files from `dir`.
pub fn import_dir(dir: &Path, opts: &ImportOptions) -> Result<Import, DataError> {
    let mut texts = Vec::with_capacity(FILES.len());
    for f in FILES {
        let p = dir.join(f);
        let bytes = std::fs::read(&p).map_err(|e| DataError::io(&p, e))?;
        texts.push((p.display().to_string(), bytes));
    }
    let get = |i: usize| (texts[i].0.as_str(), texts[i].1.as_slice());
    import(
        EtoFiles {
            stages: get(0),
            inputs: get(1),
            providers: get(2),
            sequence: get(3),
            provision: get(4),
        },
        opts,
    )
}

/// The five files as (name for messages, bytes).
#[derive(Debug, Clone, Copy)]
pub struct EtoFiles<'a> {
    pub stages: (&'a str, &'a [u8]),
    pub inputs: (&'a str, &'a [u8]),
    pub providers: (&'a str, &'a [u8]),
    pub sequence: (&'a str, &'a [u8]),
    pub provision: (&'a str, &'a [u8]),
}

/// A CSV file read into header-indexed records with their line numbers.
struct Table<'a> {
    file: &'a str,
    header: HashMap<String, usize>,
    rows: Vec<(u64, csv::StringRecord)>,
}

impl<'a> Table<'a> {
    fn read(file: &'a str, bytes: &[u8], required: &[&str]) -> Result<Self, DataError> {
        let mut rdr = csv::ReaderBuilder::new()
            .has_headers(true)
            .flexible(false)
            .from_reader(bytes);
        let header_rec = rdr.headers().map_err(|e| csv_err(file, &e))?.clone();
        let header: HashMap<String, usize> = header_rec
            .iter()
            .enumerate()
            .map(|(i, h)| (h.trim_start_matches('\u{feff}').trim().to_string(), i))
            .collect();
        for c in required {
            if !header.contains_key(*c) {
                return Err(DataError::MissingColumn {
                    file: file.to_string(),
                    column: c.to_string(),
                });
            }
        }
        let mut rows = Vec::new();
        for rec in rdr.records() {
            let rec = rec.map_err(|e| csv_err(file, &e))?;
            let line = rec.position().map_or(0, |p| p.line());
            rows.push((line, rec));
        }
        Ok(Table { file, header, rows })
    }

    fn get<'r>(&self, rec: &'r csv::StringRecord, col: &str) -> &'r str {
        self.header
            .get(col)
            .and_then(|&i| rec.get(i))
            .unwrap_or("")
            .trim()
    }

    fn field_err(&self, line: u64, field: &str, message: impl Into<String>) -> DataError {
        DataError::Field {
            file: self.file.to_string(),
            line,
            field: field.to_string(),
            message: message.into(),
        }
    }
}

fn csv_err(file: &str, e: &csv::Error) -> DataError {
    let line = e.position().map_or(0, |p| p.line());
    let message = match e.kind() {
        csv::ErrorKind::Utf8 { err, .. } => format!("invalid UTF-8 in field {}", err.field() + 1),
        csv::ErrorKind::UnequalLengths {
            expected_len, len, ..
        } => format!("expected {expected_len} fields, found {len} (check quoting)"),
        _ => e.to_string(),
    };
    DataError::Csv {
        file: file.to_string(),
        line,
        message,
    }
}

/// Source labels, deduplicated, with stable ids in order of first use.
#[derive(Default)]
struct Sources {
    ids: HashMap<String, String>,
    list: Vec<Source>,
}

impl Sources {
    fn id(&mut self, label: &str) -> Option<String> {
        let label = label.trim();
        if label.is_empty() {
            return None;
        }
        if let Some(id) = self.ids.get(label) {
            return Some(id.clone());
        }
        let id = format!("src{}", self.list.len() + 1);
        self.ids.insert(label.to_string(), id.clone());
        self.list.push(Source {
            id: id.clone(),
            label: label.to_string(),
        });
        Some(id)
    }
}

/// Import from in-memory files (used by tests and the fuzz target).
pub fn import(files: EtoFiles<'_>, opts: &ImportOptions) -> Result<Import, DataError> {
    let mut diagnostics = Vec::new();
    let mut sources = Sources::default();
    let mut counts = Counts::default();

    // stages.csv
    let t = Table::read(
        files.stages.0,
        files.stages.1,
        &[
            "stage_id",
            "stage_name",
            "market_share_chart_global_market_size_info",
        ],
    )?;
    let mut stages = Vec::new();
    for (line, r) in &t.rows {
        let id = t.get(r, "stage_id");
        let name = t.get(r, "stage_name");
        if id.is_empty() {
            return Err(t.field_err(*line, "stage_id", "empty"));
        }
        let kind = stage_kind(name)
            .ok_or_else(|| t.field_err(*line, "stage_name", format!("unknown stage `{name}`")))?;
        let size_text = t.get(r, "market_share_chart_global_market_size_info");
        let market_size = parse_market_size(size_text, None)
            .map_err(|m| t.field_err(*line, "market_share_chart_global_market_size_info", m))?
            .map(|mut ms| {
                ms.source = sources.id(t.get(r, "market_share_chart_source"));
                ms
            });
        stages.push(Stage {
            id: id.to_string(),
            name: name.to_string(),
            kind,
            market_size,
        });
    }
    counts.stages = stages.len();
    let stage_by_id: HashMap<String, StageKind> =
        stages.iter().map(|s| (s.id.clone(), s.kind)).collect();

    // inputs.csv
    let t = Table::read(
        files.inputs.0,
        files.inputs.1,
        &[
            "input_id",
            "input_name",
            "type",
            "stage_id",
            "year",
            "market_share_chart_global_market_size_info",
        ],
    )?;
    let mut items: Vec<Item> = Vec::new();
    let mut item_pos: HashMap<String, usize> = HashMap::new();
    for (line, r) in &t.rows {
        let id = t.get(r, "input_id");
        if id.is_empty() {
            return Err(t.field_err(*line, "input_id", "empty"));
        }
        if item_pos.contains_key(id) {
            return Err(t.field_err(*line, "input_id", format!("duplicate id `{id}`")));
        }
        let ty = t.get(r, "type");
        let kind = match ty {
            "design_resource" => ItemKind::DesignResource,
            "tool_resource" => ItemKind::Tool,
            "material_resource" => ItemKind::Material,
            "process" => ItemKind::Process,
            "ultimate_output" => ItemKind::FinalOutput,
            other => {
                return Err(t.field_err(*line, "type", format!("unknown item type `{other}`")))
            }
        };
        let stage_id = t.get(r, "stage_id");
        let stage = if stage_id.is_empty() {
            None
        } else {
            Some(*stage_by_id.get(stage_id).ok_or_else(|| {
                t.field_err(*line, "stage_id", format!("unknown stage `{stage_id}`"))
            })?)
        };
        let year = parse_year(t.get(r, "year")).map_err(|m| t.field_err(*line, "year", m))?;
        let size_text = t.get(r, "market_share_chart_global_market_size_info");
        let market_size = parse_market_size(size_text, year)
            .map_err(|m| t.field_err(*line, "market_share_chart_global_market_size_info", m))?
            .map(|mut ms| {
                ms.source = sources.id(t.get(r, "market_share_chart_source"));
                ms
            });
        item_pos.insert(id.to_string(), items.len());
        items.push(Item {
            id: id.to_string(),
            name: t.get(r, "input_name").to_string(),
            kind,
            stage,
            is_type_of: Vec::new(),
            goes_into: Vec::new(),
            market_size,
            year,
            hs_codes: Vec::new(),
            control_entries: Vec::new(),
            parameters: Default::default(),
        });
    }
    counts.items = items.len();

    // providers.csv
    let t = Table::read(
        files.providers.0,
        files.providers.1,
        &[
            "provider_name",
            "alias",
            "provider_id",
            "provider_type",
            "country",
        ],
    )?;
    let mut providers: Vec<Provider> = Vec::new();
    let mut provider_pos: HashMap<String, usize> = HashMap::new();
    for (line, r) in &t.rows {
        let id = t.get(r, "provider_id");
        if id.is_empty() {
            return Err(t.field_err(*line, "provider_id", "empty"));
        }
        let name = t.get(r, "provider_name");
        let alias = t.get(r, "alias");
        let ty = t.get(r, "provider_type");
        let country_col = t.get(r, "country");
        counts.provider_rows += 1;
        if let Some(&pos) = provider_pos.get(id) {
            // ETO lists a firm once per alias under the same id; merge those rows, refuse
            // rows that disagree on anything but the alias.
            let prev: &mut Provider = &mut providers[pos];
            let same_country = prev.country.as_deref().unwrap_or("") == country_col
                || prev.provider_type == ProviderType::Country;
            if prev.name != name || !same_country {
                return Err(t.field_err(
                    *line,
                    "provider_id",
                    format!(
                        "id `{id}` already used for `{}` with another name or country",
                        prev.name
                    ),
                ));
            }
            if !alias.is_empty() && !prev.aliases.iter().any(|a| a == alias) {
                prev.aliases.push(alias.to_string());
            }
            continue;
        }
        let aliases = if alias.is_empty() {
            Vec::new()
        } else {
            vec![alias.to_string()]
        };
        let p = match ty {
            "country" => {
                if is_iso3(name) && name != "EUR" {
                    Provider {
                        id: id.to_string(),
                        name: name.to_string(),
                        provider_type: ProviderType::Country,
                        country: Some(name.to_string()),
                        aliases,
                        bucket_of: None,
                    }
                } else {
                    // "Various countries", and regions like "EUR": aggregates of countries.
                    Provider {
                        id: id.to_string(),
                        name: name.to_string(),
                        provider_type: ProviderType::Bucket,
                        country: None,
                        aliases,
                        bucket_of: Some(BucketOf::Countries),
                    }
                }
            }
            "organization" | "organisation" => {
                let bucket = name.eq_ignore_ascii_case("Various companies");
                let country = if is_iso3(country_col) {
                    Some(country_col.to_string())
                } else {
                    if !country_col.is_empty() && !bucket {
                        diagnostics.push(Diagnostic::info(
                            "no_hq_country",
                            format!(
                                "{}:{line}: organisation {id} ({name}) has HQ `{country_col}`, \
                                 not a country code",
                                t.file
                            ),
                        ));
                    }
                    None
                };
                Provider {
                    id: id.to_string(),
                    name: name.to_string(),
                    provider_type: if bucket {
                        ProviderType::Bucket
                    } else {
                        ProviderType::Organisation
                    },
                    country,
                    aliases,
                    bucket_of: bucket.then_some(BucketOf::Organisations),
                }
            }
            other => {
                return Err(t.field_err(
                    *line,
                    "provider_type",
                    format!("unknown provider type `{other}`"),
                ))
            }
        };
        provider_pos.insert(id.to_string(), providers.len());
        providers.push(p);
    }
    counts.providers = providers.len();

    // sequence.csv
    let t = Table::read(
        files.sequence.0,
        files.sequence.1,
        &["input_id", "goes_into_id", "is_type_of_id"],
    )?;
    for (line, r) in &t.rows {
        let id = t.get(r, "input_id");
        let goes = t.get(r, "goes_into_id");
        let isa = t.get(r, "is_type_of_id");
        let pos = *item_pos
            .get(id)
            .ok_or_else(|| t.field_err(*line, "input_id", format!("unknown item id `{id}`")))?;
        match (goes.is_empty(), isa.is_empty()) {
            (false, true) => {
                if !item_pos.contains_key(goes) {
                    return Err(t.field_err(
                        *line,
                        "goes_into_id",
                        format!("unknown item id `{goes}`"),
                    ));
                }
                if !items[pos].goes_into.iter().any(|g| g == goes) {
                    items[pos].goes_into.push(goes.to_string().into());
                }
            }
            (true, false) => {
                if !item_pos.contains_key(isa) {
                    return Err(t.field_err(
                        *line,
                        "is_type_of_id",
                        format!("unknown item id `{isa}`"),
                    ));
                }
                if !items[pos].is_type_of.iter().any(|g| g == isa) {
                    items[pos].is_type_of.push(isa.to_string().into());
                }
            }
            _ => {
                return Err(t.field_err(
                    *line,
                    "goes_into_id",
                    "exactly one of goes_into_id and is_type_of_id must be set",
                ))
            }
        }
        counts.sequence += 1;
    }

    // provision.csv
    let t = Table::read(
        files.provision.0,
        files.provision.1,
        &[
            "provider_name",
            "provider_id",
            "provided_name",
            "provided_id",
            "share_provided",
            "year",
            "source",
        ],
    )?;
    let mut shares = Vec::with_capacity(t.rows.len());
    for (line, r) in &t.rows {
        let pid = t.get(r, "provider_id");
        let ppos = *provider_pos.get(pid).ok_or_else(|| {
            t.field_err(*line, "provider_id", format!("unknown provider id `{pid}`"))
        })?;
        let iid = t.get(r, "provided_id");
        let basis = if let Some(&ipos) = item_pos.get(iid) {
            let it = &items[ipos];
            let pname = t.get(r, "provided_name");
            if !pname.is_empty() && pname != it.name {
                diagnostics.push(Diagnostic::warning(
                    "stale_name",
                    format!(
                        "{}:{line}: provided_name `{pname}` differs from {iid}'s name `{}`",
                        t.file, it.name
                    ),
                ));
            }
            match it.stage {
                Some(StageKind::Fabrication | StageKind::Atp) => Basis::Location,
                _ => Basis::Hq,
            }
        } else if let Some(&k) = stage_by_id.get(iid) {
            match k {
                StageKind::Design => Basis::Hq,
                StageKind::Fabrication | StageKind::Atp => Basis::Location,
            }
        } else {
            return Err(t.field_err(
                *line,
                "provided_id",
                format!("unknown item or stage id `{iid}`"),
            ));
        };
        let pname = t.get(r, "provider_name");
        if !pname.is_empty() && pname != providers[ppos].name {
            diagnostics.push(Diagnostic::warning(
                "stale_name",
                format!(
                    "{}:{line}: provider_name `{pname}` differs from {pid}'s name `{}`",
                    t.file, providers[ppos].name
                ),
            ));
        }
        let raw = t.get(r, "share_provided");
        let share = if raw.is_empty() {
            counts.provision_blank += 1;
            None
        } else {
            let v: f64 = raw.parse().map_err(|_| {
                t.field_err(*line, "share_provided", format!("not a number: `{raw}`"))
            })?;
            if !(0.0..=100.0).contains(&v) {
                return Err(t.field_err(
                    *line,
                    "share_provided",
                    format!("{v} is outside 0..100 percent"),
                ));
            }
            Some(v)
        };
        let year = parse_year(t.get(r, "year")).map_err(|m| t.field_err(*line, "year", m))?;
        shares.push(Share {
            provider: pid.to_string().into(),
            item: iid.to_string().into(),
            share,
            year,
            source: sources.id(t.get(r, "source")),
            basis,
        });
    }
    counts.provision = shares.len();

    let model = Model {
        meta: Meta {
            format_version: FORMAT_VERSION,
            name: "ETO advanced semiconductor supply chain".to_string(),
            dataset: "ETO/CSET Advanced Semiconductor Supply Chain Dataset".to_string(),
            vintage: opts.vintage.clone(),
            licence: "Dataset documentation: CC BY 4.0; repository LICENSE.md: CC BY-NC 4.0 \
                      (treat as non-commercial)"
                .to_string(),
            attribution: "Emerging Technology Observatory (ETO), Center for Security and \
                          Emerging Technology (CSET), Georgetown University"
                .to_string(),
            generated_by: "chipwatch import eto".to_string(),
        },
        sources: sources.list,
        stages,
        items,
        providers,
        shares,
    };
    Ok(Import {
        model,
        diagnostics,
        counts,
    })
}

fn stage_kind(name: &str) -> Option<StageKind> {
    let n = name.to_ascii_lowercase();
    if n.starts_with("design") {
        Some(StageKind::Design)
    } else if n.starts_with("fabrication") {
        Some(StageKind::Fabrication)
    } else if n.starts_with("assembly") || n.contains("(atp)") {
        Some(StageKind::Atp)
    } else {
        None
    }
}

fn is_iso3(s: &str) -> bool {
    s.len() == 3 && s.bytes().all(|b| b.is_ascii_uppercase())
}

fn parse_year(s: &str) -> Result<Option<i32>, String> {
    if s.is_empty() {
        return Ok(None);
    }
    match s.parse::<i32>() {
        Ok(y) if (1900..=2100).contains(&y) => Ok(Some(y)),
        _ => Err(format!("not a year: `{s}`")),
    }
}

/// Parse ETO's free-text market size, e.g. "$13 billion (2025)", "$3.3 billion (all
/// photoresists)", "$56.2 billion (microprocessors) (2019)", "$10.9 billion". A parenthesised
/// four-digit year sets the year; any other parenthesised text is kept as the qualifier.
/// `default_year` (the row's `year` column) applies when the text names none.
pub fn parse_market_size(
    text: &str,
    default_year: Option<i32>,
) -> Result<Option<MarketSize>, String> {
    let text = text.trim();
    if text.is_empty() {
        return Ok(None);
    }
    let bad = || format!("cannot read market size `{text}` (expected e.g. `$13 billion (2025)`)");
    let rest = text.strip_prefix('$').ok_or_else(bad)?;
    let (head, parens) = match rest.find('(') {
        Some(p) => (&rest[..p], &rest[p..]),
        None => (rest, ""),
    };
    let mut words = head.split_whitespace();
    let number = words.next().ok_or_else(bad)?.replace(',', "");
    if number.is_empty() || !number.bytes().all(|b| b.is_ascii_digit() || b == b'.') {
        return Err(bad());
    }
    let exp = match words.next().map(|w| w.to_ascii_lowercase()) {
        None => 0,
        Some(w) => match w.as_str() {
            "thousand" => 3,
            "million" => 6,
            "billion" => 9,
            "trillion" => 12,
            _ => return Err(bad()),
        },
    };
    if words.next().is_some() {
        return Err(bad());
    }
    // Parse "3.3e9" rather than multiplying, so the stored value is the correctly rounded decimal.
    let usd: f64 = format!("{number}e{exp}").parse().map_err(|_| bad())?;
    let mut year = None;
    let mut qualifiers = Vec::new();
    let mut p = parens;
    while let Some(open) = p.find('(') {
        let close = p[open..].find(')').map(|c| open + c).ok_or_else(bad)?;
        let inner = p[open + 1..close].trim();
        if inner.len() == 4 && inner.bytes().all(|b| b.is_ascii_digit()) {
            year = Some(inner.parse::<i32>().map_err(|_| bad())?);
        } else if !inner.is_empty() {
            qualifiers.push(inner.to_string());
        }
        p = &p[close + 1..];
    }
    if !p.trim().is_empty() {
        return Err(bad());
    }
    Ok(Some(MarketSize {
        usd,
        year: year.or(default_year),
        qualifier: (!qualifiers.is_empty()).then(|| qualifiers.join("; ")),
        source: None,
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn market_sizes() {
        let m = parse_market_size("$13 billion (2025)", None)
            .unwrap()
            .unwrap();
        assert_eq!((m.usd, m.year, m.qualifier), (13e9, Some(2025), None));
        let m = parse_market_size("$3.3 billion (all photoresists)", Some(2019))
            .unwrap()
            .unwrap();
        assert_eq!(m.usd, 3.3e9);
        assert_eq!(m.year, Some(2019));
        assert_eq!(m.qualifier.as_deref(), Some("all photoresists"));
        let m = parse_market_size("$56.2 billion (microprocessors) (2019)", None)
            .unwrap()
            .unwrap();
        assert_eq!(m.year, Some(2019));
        assert_eq!(m.qualifier.as_deref(), Some("microprocessors"));
        let m = parse_market_size("$44 million (2022)", None)
            .unwrap()
            .unwrap();
        assert_eq!(m.usd, 44e6);
        assert!(parse_market_size("", None).unwrap().is_none());
        assert!(parse_market_size("13 billion", None).is_err());
        assert!(parse_market_size("$13 gazillion", None).is_err());
        assert!(parse_market_size("$13 billion (2025", None).is_err());
    }
}
