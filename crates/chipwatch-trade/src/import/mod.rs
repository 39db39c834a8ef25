//! Importers for the published layouts of UN Comtrade, CEPII BACI and Eurostat Comext.
//!
//! Each importer reads the files as published (CSV with or without a byte-order mark, comma,
//! semicolon or tab separated, quoted fields), normalises every row into a
//! [`TradeRecord`](crate::schema::TradeRecord) and writes one hive-partitioned Parquet dataset
//! with [`DatasetWriter`]. Input errors (a value that is not a number, a missing column) stop the
//! import and name the file, the line and the field. Facts about the data that do not stop it
//! (an unknown partner written as `_X`, a confidential row, a World aggregate skipped) are
//! [`Diagnostic`]s, counted in the [`ImportSummary`] written next to the dataset under
//! `_imports/`.

pub mod baci;
pub mod comext;
pub mod comtrade;

use crate::schema::{Flow, Source, TradeRecord, UNKNOWN_PARTNER};
use crate::writer::DatasetWriter;
use crate::{Result, TradeError};
use isocountry::CountryCode;
use serde::Serialize;
use std::collections::{BTreeMap, HashMap, HashSet};
use std::io::Read;
use std::path::{Path, PathBuf};
use std::str::FromStr;

/// Diagnostics kept in full in a summary; beyond this only the counts grow.
pub const MAX_DIAGNOSTICS: usize = 1000;

/// A published layout.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Layout {
    /// CEPII BACI: `t,i,j,k,v,q` plus its country-code file.
    Baci,
    /// UN Comtrade: the API/bulk CSV (`reporterISO`, `cmdCode`, `primaryValue` …) or the legacy
    /// bulk CSV (`Reporter ISO`, `Commodity Code`, `Trade Value (US$)` …).
    Comtrade,
    /// Eurostat Comext bulk monthly files (`DECLARANT_ISO`, `PRODUCT_NC`, `VALUE_IN_EUROS` …).
    Comext,
}

impl FromStr for Layout {
    type Err = TradeError;
    fn from_str(s: &str) -> Result<Self> {
        match s.to_ascii_lowercase().as_str() {
            "baci" => Ok(Layout::Baci),
            "comtrade" => Ok(Layout::Comtrade),
            "comext" => Ok(Layout::Comext),
            _ => Err(TradeError::Invalid(format!(
                "unknown layout `{s}` (baci, comtrade, comext)"
            ))),
        }
    }
}

impl Layout {
    /// The source its rows are tagged with.
    pub fn source(self) -> Source {
        match self {
            Layout::Baci => Source::Baci,
            Layout::Comtrade => Source::Comtrade,
            Layout::Comext => Source::Comext,
        }
    }
}

/// Something worth knowing about one input row that did not stop the import.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Diagnostic {
    /// Input file.
    pub file: String,
    /// 1-based line (header = 1).
    pub line: u64,
    /// Column.
    pub field: String,
    /// `unknown_partner`, `unknown_reporter`, `confidential`, `skipped_aggregate`,
    /// `skipped_flow`, `skipped_breakdown`, `padded_code`.
    pub kind: String,
    /// The value as written and what was done with it.
    pub message: String,
}

/// A bilateral flow whose two declarations disagree (or one is missing).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct MirrorGap {
    /// Year.
    pub year: i32,
    /// Month or `None`.
    pub month: Option<u8>,
    /// HS6 code.
    pub code: String,
    /// Exporter ISO3.
    pub exporter: String,
    /// Importer ISO3.
    pub importer: String,
    /// Value the exporter declared (0 when it declared none).
    pub declared_export: f64,
    /// Value the importer declared (0 when it declared none).
    pub declared_import: f64,
}

/// What an import read, wrote and noticed.
#[derive(Debug, Clone, Default, Serialize)]
pub struct ImportSummary {
    /// Layout name.
    pub layout: String,
    /// Files read (data and, for BACI, the country-code file).
    pub files: Vec<String>,
    /// Data rows read (header excluded).
    pub rows_read: u64,
    /// Rows written to the dataset.
    pub rows_written: u64,
    /// Parquet files written, with their rows.
    pub outputs: Vec<(String, u64)>,
    /// Rows per diagnostic kind (all of them, also beyond [`MAX_DIAGNOSTICS`]).
    pub counts: BTreeMap<String, u64>,
    /// Value of the rows marked confidential (kept in the dataset), per currency.
    pub confidential_value: BTreeMap<String, f64>,
    /// Codes or partners that could not be resolved, with their number of rows.
    pub unknown_values: BTreeMap<String, u64>,
    /// Pairs of declarations counted for the mirror check.
    pub mirror_pairs_checked: u64,
    /// Mirror-flow gaps (ratio of the two declarations outside [1/1.5, 1.5], or one missing);
    /// the largest by absolute difference, at most 50.
    pub mirror_gaps: Vec<MirrorGap>,
    /// Number of mirror-flow gaps found.
    pub mirror_gap_count: u64,
    /// The first [`MAX_DIAGNOSTICS`] diagnostics.
    pub diagnostics: Vec<Diagnostic>,
}

/// Collects diagnostics and counts while parsing.
#[derive(Debug, Default)]
pub struct Collector {
    /// The summary being filled.
    pub summary: ImportSummary,
}

impl Collector {
    /// Records a diagnostic.
    pub fn note(&mut self, file: &Path, line: u64, field: &str, kind: &str, message: String) {
        *self.summary.counts.entry(kind.to_string()).or_default() += 1;
        if self.summary.diagnostics.len() < MAX_DIAGNOSTICS {
            self.summary.diagnostics.push(Diagnostic {
                file: file.display().to_string(),
                line,
                field: field.to_string(),
                kind: kind.to_string(),
                message,
            });
        }
    }

    /// Records an unresolved value (kept as `_X` or as written).
    pub fn unknown(&mut self, file: &Path, line: u64, field: &str, kind: &str, value: &str) {
        *self
            .summary
            .unknown_values
            .entry(format!("{field}={value}"))
            .or_default() += 1;
        self.note(
            file,
            line,
            field,
            kind,
            format!("`{value}` is not a known ISO 3166-1 country; written as `{UNKNOWN_PARTNER}`"),
        );
    }

    /// Records a confidential row (kept).
    pub fn confidential(
        &mut self,
        file: &Path,
        line: u64,
        field: &str,
        r: &TradeRecord,
        why: &str,
    ) {
        *self
            .summary
            .confidential_value
            .entry(r.currency.to_string())
            .or_default() += r.value;
        self.note(file, line, field, "confidential", why.to_string());
    }
}

/// Column lookup by header name (case-insensitive, BOM and spaces trimmed), with aliases.
#[derive(Debug)]
pub struct Header {
    names: Vec<String>,
}

impl Header {
    /// From the first record of a file.
    pub fn new(rec: &csv::StringRecord) -> Self {
        Header {
            names: rec
                .iter()
                .map(|s| s.trim_start_matches('\u{feff}').trim().to_ascii_lowercase())
                .collect(),
        }
    }

    /// The index of the first of `aliases` present.
    pub fn find(&self, aliases: &[&str]) -> Option<usize> {
        aliases
            .iter()
            .find_map(|a| self.names.iter().position(|n| n == &a.to_ascii_lowercase()))
    }

    /// Like [`find`](Self::find), but a missing column is a layout error naming the first alias.
    pub fn require(&self, file: &Path, aliases: &[&str]) -> Result<usize> {
        self.find(aliases).ok_or_else(|| TradeError::Layout {
            file: file.to_path_buf(),
            message: format!(
                "no column `{}` in the header (columns: {})",
                aliases.join("` or `"),
                self.names.join(", ")
            ),
        })
    }
}

/// A CSV reader for `input`, guessing the separator from the first line.
pub fn csv_reader<R: Read>(mut input: R) -> Result<csv::Reader<std::io::Cursor<Vec<u8>>>> {
    // Files are read whole: the published files are at most a few GB per year and layout, and
    // guessing the separator needs the first line anyway.
    let mut buf = Vec::new();
    input
        .read_to_end(&mut buf)
        .map_err(|e| TradeError::io("<input>", e))?;
    Ok(csv_reader_bytes(buf))
}

/// A CSV reader over bytes already in memory.
pub fn csv_reader_bytes(mut buf: Vec<u8>) -> csv::Reader<std::io::Cursor<Vec<u8>>> {
    if buf.starts_with(b"\xEF\xBB\xBF") {
        buf.drain(..3);
    }
    let first = buf.split(|b| *b == b'\n').next().unwrap_or(&[]);
    let count = |c: u8| first.iter().filter(|b| **b == c).count();
    let delim = [b',', b';', b'\t', b'|']
        .into_iter()
        .max_by_key(|c| count(*c))
        .filter(|c| count(*c) > 0)
        .unwrap_or(b',');
    csv::ReaderBuilder::new()
        .delimiter(delim)
        .flexible(true)
        .has_headers(false)
        .from_reader(std::io::Cursor::new(buf))
}

/// The field `idx` of `rec`, trimmed; empty when the row is short.
pub fn field(rec: &csv::StringRecord, idx: usize) -> &str {
    rec.get(idx).unwrap_or("").trim()
}

/// A CSV-level error (bad quoting, invalid UTF-8) with its line.
/// A delimited file's header (its first record, read as data so the layout's own column names
/// are checked) and the records after it; `what` names the file in the empty-file error.
pub fn open_records<R: Read>(
    file: &Path,
    input: R,
    what: &str,
) -> Result<(Header, csv::StringRecordsIntoIter<std::io::Cursor<Vec<u8>>>)> {
    let mut records = csv_reader(input)?.into_records();
    let head = match records.next() {
        Some(r) => r.map_err(|e| csv_err(file, e))?,
        None => return Err(layout_err(file, &format!("empty {what}"))),
    };
    Ok((Header::new(&head), records))
}

pub fn csv_err(file: &Path, e: csv::Error) -> TradeError {
    let line = e.position().map(|p| p.line()).unwrap_or(0);
    TradeError::Parse {
        file: file.to_path_buf(),
        line,
        field: "(record)".into(),
        message: e.to_string(),
    }
}

/// A file that is not of the layout.
pub fn layout_err(file: &Path, m: &str) -> TradeError {
    TradeError::Layout {
        file: file.to_path_buf(),
        message: m.to_string(),
    }
}

fn parse_err(file: &Path, line: u64, field: &str, message: String) -> TradeError {
    TradeError::Parse {
        file: file.to_path_buf(),
        line,
        field: field.to_string(),
        message,
    }
}

/// A required finite, non-negative number.
pub fn number(file: &Path, line: u64, name: &str, s: &str) -> Result<f64> {
    optional_number(file, line, name, s)?
        .ok_or_else(|| parse_err(file, line, name, "empty; a value is required".into()))
}

/// An optional finite, non-negative number (`""`, `NA`, `N/A` and `..` are absent).
pub fn optional_number(file: &Path, line: u64, name: &str, s: &str) -> Result<Option<f64>> {
    let s = s.trim();
    if s.is_empty() || s.eq_ignore_ascii_case("na") || s.eq_ignore_ascii_case("n/a") || s == ".." {
        return Ok(None);
    }
    let v: f64 = s
        .parse()
        .map_err(|_| parse_err(file, line, name, format!("`{s}` is not a number")))?;
    if !v.is_finite() || v < 0.0 {
        return Err(parse_err(
            file,
            line,
            name,
            format!("`{s}` is not a finite non-negative number"),
        ));
    }
    Ok(Some(v))
}

/// An integer within `lo..=hi`.
pub fn integer(file: &Path, line: u64, name: &str, s: &str, lo: i64, hi: i64) -> Result<i64> {
    let v: i64 = s
        .trim()
        .parse()
        .map_err(|_| parse_err(file, line, name, format!("`{s}` is not an integer")))?;
    if v < lo || v > hi {
        return Err(parse_err(
            file,
            line,
            name,
            format!("{v} is outside {lo}..={hi}"),
        ));
    }
    Ok(v)
}

/// A product code: digits only (HS2 to national lines of up to 12 digits).
pub fn product_code(file: &Path, line: u64, name: &str, s: &str) -> Result<String> {
    let s = s.trim();
    if s.is_empty() || s.len() > 12 || !s.bytes().all(|b| b.is_ascii_digit()) {
        return Err(parse_err(
            file,
            line,
            name,
            format!("`{s}` is not a product code (2 to 12 digits)"),
        ));
    }
    Ok(s.to_string())
}

/// The error for a bad value of `name`.
pub fn bad(file: &Path, line: u64, name: &str, message: String) -> TradeError {
    parse_err(file, line, name, message)
}

/// ISO alpha-3 if `s` is one (any case).
pub fn iso3(s: &str) -> Option<String> {
    let u = s.trim().to_ascii_uppercase();
    CountryCode::for_alpha3(&u)
        .ok()
        .map(|c| c.alpha3().to_string())
}

/// ISO alpha-3 of an alpha-2 code, with Eurostat's own two exceptions (`EL` Greece, `UK` the
/// United Kingdom).
pub fn iso3_from_alpha2(s: &str) -> Option<String> {
    let u = s.trim().to_ascii_uppercase();
    let u = match u.as_str() {
        "EL" => "GR".to_string(),
        "UK" => "GB".to_string(),
        _ => u,
    };
    CountryCode::for_alpha2(&u)
        .ok()
        .map(|c| c.alpha3().to_string())
}

/// Options of an import.
#[derive(Debug, Clone, Default)]
pub struct ImportOptions {
    /// Vintage written on every row; default: the data file's name without extension.
    pub vintage: Option<String>,
}

/// Imports `files` of `layout` into the dataset at `out`; writes the summary to
/// `out/_imports/<layout>-<n>.summary.json` and returns it.
pub fn import(
    layout: Layout,
    files: &[PathBuf],
    out: &Path,
    opts: &ImportOptions,
) -> Result<ImportSummary> {
    if files.is_empty() {
        return Err(TradeError::Invalid("no input files".into()));
    }
    let mut col = Collector::default();
    col.summary.layout = format!("{layout:?}").to_lowercase();
    let mut writer = DatasetWriter::new(out)?;
    let mut mirror = Mirror::default();
    let mut sink = |r: TradeRecord| -> Result<()> {
        mirror.add(&r);
        writer.push_record(&r)
    };
    match layout {
        Layout::Baci => baci::import_files(files, opts, &mut col, &mut sink)?,
        Layout::Comtrade => {
            for f in files {
                let input = std::fs::File::open(f).map_err(|e| TradeError::io(f, e))?;
                let vintage = vintage_of(opts, f);
                comtrade::parse(f, input, &vintage, &mut col, &mut sink)?;
                col.summary.files.push(f.display().to_string());
            }
        }
        Layout::Comext => {
            for f in files {
                let input = std::fs::File::open(f).map_err(|e| TradeError::io(f, e))?;
                let vintage = vintage_of(opts, f);
                comext::parse(f, input, &vintage, &mut col, &mut sink)?;
                col.summary.files.push(f.display().to_string());
            }
        }
    }
    col.summary.rows_written = writer.rows();
    col.summary.outputs = writer
        .finish()?
        .into_iter()
        .map(|(p, n)| (p.display().to_string(), n))
        .collect();
    if layout != Layout::Baci {
        mirror.report(&mut col.summary);
    }
    write_summary(out, layout, &col.summary)?;
    Ok(col.summary)
}

/// The vintage of rows from `file`.
pub fn vintage_of(opts: &ImportOptions, file: &Path) -> String {
    opts.vintage.clone().unwrap_or_else(|| {
        file.file_stem()
            .map(|s| s.to_string_lossy().to_string())
            .unwrap_or_default()
    })
}

fn write_summary(out: &Path, layout: Layout, s: &ImportSummary) -> Result<()> {
    let dir = out.join("_imports");
    std::fs::create_dir_all(&dir).map_err(|e| TradeError::io(&dir, e))?;
    let name = format!("{layout:?}").to_lowercase();
    let mut n = 0;
    let path = loop {
        let p = dir.join(format!("{name}-{n:04}.summary.json"));
        if !p.exists() {
            break p;
        }
        n += 1;
    };
    let json = serde_json::to_string_pretty(s).map_err(|e| TradeError::Invalid(e.to_string()))?;
    std::fs::write(&path, json).map_err(|e| TradeError::io(&path, e))
}

type MirrorKey = (i32, Option<u8>, String, String, String);

/// Declared imports and exports of the same bilateral flow, to find where they disagree.
#[derive(Debug, Default)]
struct Mirror {
    imports: HashMap<MirrorKey, f64>,
    exports: HashMap<MirrorKey, f64>,
    reporters: HashSet<(i32, Option<u8>, String)>,
}

impl Mirror {
    fn add(&mut self, r: &TradeRecord) {
        if r.partner == UNKNOWN_PARTNER || r.code.len() < 6 {
            return;
        }
        let code6 = r.code[..6].to_string();
        self.reporters.insert((r.year, r.month, r.reporter.clone()));
        match r.flow {
            Flow::Import => {
                *self
                    .imports
                    .entry((
                        r.year,
                        r.month,
                        code6,
                        r.partner.clone(),
                        r.reporter.clone(),
                    ))
                    .or_default() += r.value
            }
            Flow::Export => {
                *self
                    .exports
                    .entry((
                        r.year,
                        r.month,
                        code6,
                        r.reporter.clone(),
                        r.partner.clone(),
                    ))
                    .or_default() += r.value
            }
            _ => {}
        }
    }

    fn report(self, s: &mut ImportSummary) {
        let mut keys: HashSet<&MirrorKey> = self.imports.keys().collect();
        keys.extend(self.exports.keys());
        let mut gaps = Vec::new();
        for k in keys {
            let (y, m, _, ex, im) = k;
            // Only where both sides report in that period: a non-reporter's silence is no gap.
            if !self.reporters.contains(&(*y, *m, ex.clone()))
                || !self.reporters.contains(&(*y, *m, im.clone()))
            {
                continue;
            }
            s.mirror_pairs_checked += 1;
            let e = self.exports.get(k).copied().unwrap_or(0.0);
            let i = self.imports.get(k).copied().unwrap_or(0.0);
            let (lo, hi) = if e < i { (e, i) } else { (i, e) };
            if hi > 0.0 && (lo == 0.0 || hi / lo > 1.5) {
                gaps.push(MirrorGap {
                    year: *y,
                    month: *m,
                    code: k.2.clone(),
                    exporter: ex.clone(),
                    importer: im.clone(),
                    declared_export: e,
                    declared_import: i,
                });
            }
        }
        s.mirror_gap_count = gaps.len() as u64;
        gaps.sort_by(|a, b| {
            let d = |g: &MirrorGap| (g.declared_export - g.declared_import).abs();
            d(b).total_cmp(&d(a)).then_with(|| {
                (&a.code, &a.exporter, &a.importer).cmp(&(&b.code, &b.exporter, &b.importer))
            })
        });
        gaps.truncate(50);
        s.mirror_gaps = gaps;
    }
}
