//! CEPII BACI: one CSV per year with columns `t,i,j,k,v,q` (year, exporter, importer, HS6
//! product, value in thousand USD, quantity in metric tonnes), plus a country-code file mapping
//! BACI's numeric country codes to ISO alpha-3 (`country_code,country_name,country_iso2,
//! country_iso3` in recent releases; `iso_3digit_alpha` in older ones).
//!
//! BACI reconciles the exporter's and the importer's declarations into one flow, so each row is
//! written once, as an `export` of the exporter `i` to the partner `j`, in USD (×1000) and
//! tonnes (`unit = t`). Codes that lost their leading zero (`10121` for `010121`, when a
//! spreadsheet read `k` as a number) are padded back to six digits with a `padded_code`
//! diagnostic. A numeric code the country file does not list, or that it maps to something that
//! is not an ISO 3166-1 code (BACI's "nes" areas), is written as `_X`.

use super::open_records;
use super::{bad, field, integer, iso3, number, optional_number, vintage_of, Collector};
use super::{csv_err, ImportOptions};
use crate::schema::{Flow, Source, TradeRecord, UNKNOWN_PARTNER};
use crate::{Result, TradeError};
use std::collections::HashMap;
use std::io::Read;
use std::path::{Path, PathBuf};

/// BACI's numeric country codes resolved to ISO alpha-3 (`None`: listed, but not an ISO
/// country, e.g. an "nes" area).
#[derive(Debug, Clone, Default)]
pub struct Countries {
    codes: HashMap<u32, (Option<String>, String)>,
}

impl Countries {
    /// Parses a BACI country-code file.
    pub fn parse<R: Read>(file: &Path, input: R) -> Result<Self> {
        let (h, records) = open_records(file, input, "country-code file")?;
        let code = h.require(file, &["country_code", "i"])?;
        let iso = h.require(file, &["country_iso3", "iso_3digit_alpha", "iso3"])?;
        let name = h.find(&[
            "country_name",
            "country_name_full",
            "country_name_abbreviation",
        ]);
        let mut codes = HashMap::new();
        for (n, rec) in records.enumerate() {
            let line = n as u64 + 2;
            let rec = rec.map_err(|e| csv_err(file, e))?;
            if rec.iter().all(|f| f.trim().is_empty()) {
                continue;
            }
            let c = integer(file, line, "country_code", field(&rec, code), 0, 9999)? as u32;
            let label = name.map(|i| field(&rec, i).to_string()).unwrap_or_default();
            codes.insert(c, (iso3(field(&rec, iso)), label));
        }
        Ok(Countries { codes })
    }

    /// ISO alpha-3 of a numeric code, if it is an ISO country.
    pub fn resolve(&self, code: u32) -> Option<&str> {
        self.codes.get(&code).and_then(|(iso, _)| iso.as_deref())
    }

    /// Number of codes listed.
    pub fn len(&self) -> usize {
        self.codes.len()
    }

    /// Whether the file listed no code.
    pub fn is_empty(&self) -> bool {
        self.codes.is_empty()
    }
}

/// Whether the first line of `file` is a country-code file's header.
fn is_country_file(file: &Path) -> Result<bool> {
    let text = std::fs::read(file).map_err(|e| TradeError::io(file, e))?;
    let first = text.split(|b| *b == b'\n').next().unwrap_or(&[]);
    let first = String::from_utf8_lossy(first).to_ascii_lowercase();
    Ok(first.contains("country_code"))
}

/// Imports BACI files: the country-code file is recognised among `files` by its header.
pub fn import_files(
    files: &[PathBuf],
    opts: &ImportOptions,
    col: &mut Collector,
    sink: &mut dyn FnMut(TradeRecord) -> Result<()>,
) -> Result<()> {
    let mut countries = None;
    let mut data = Vec::new();
    for f in files {
        if is_country_file(f)? {
            let input = std::fs::File::open(f).map_err(|e| TradeError::io(f, e))?;
            countries = Some(Countries::parse(f, input)?);
            col.summary.files.push(f.display().to_string());
        } else {
            data.push(f);
        }
    }
    let countries = countries.ok_or_else(|| {
        TradeError::Invalid(
            "BACI needs its country-code file (country_codes_V*.csv) among the files".into(),
        )
    })?;
    for f in data {
        let input = std::fs::File::open(f).map_err(|e| TradeError::io(f, e))?;
        parse(f, input, &countries, &vintage_of(opts, f), col, sink)?;
        col.summary.files.push(f.display().to_string());
    }
    Ok(())
}

/// Parses one BACI data file.
pub fn parse<R: Read>(
    file: &Path,
    input: R,
    countries: &Countries,
    vintage: &str,
    col: &mut Collector,
    sink: &mut dyn FnMut(TradeRecord) -> Result<()>,
) -> Result<()> {
    let (h, records) = open_records(file, input, "file")?;
    let [t, i, j, k, v, q] = ["t", "i", "j", "k", "v", "q"].map(|c| h.require(file, &[c]));
    let (t, i, j, k, v, q) = (t?, i?, j?, k?, v?, q?);
    for (n, rec) in records.enumerate() {
        let line = n as u64 + 2;
        let rec = rec.map_err(|e| csv_err(file, e))?;
        if rec.iter().all(|f| f.trim().is_empty()) {
            continue;
        }
        col.summary.rows_read += 1;
        let year = integer(file, line, "t", field(&rec, t), 1900, 2200)? as i32;
        let mut country = |name: &str, idx: usize, kind: &str| -> Result<String> {
            let c = integer(file, line, name, field(&rec, idx), 0, 9999)? as u32;
            Ok(match countries.resolve(c) {
                Some(iso) => iso.to_string(),
                None => {
                    col.unknown(file, line, name, kind, &c.to_string());
                    UNKNOWN_PARTNER.to_string()
                }
            })
        };
        let reporter = country("i", i, "unknown_reporter")?;
        let partner = country("j", j, "unknown_partner")?;
        let raw = field(&rec, k);
        let mut code = super::product_code(file, line, "k", raw)?;
        if code.len() == 5 {
            code.insert(0, '0');
            col.note(
                file,
                line,
                "k",
                "padded_code",
                format!("`{raw}` padded to `{code}`"),
            );
        } else if code.len() != 6 {
            return Err(bad(file, line, "k", format!("`{raw}` is not an HS6 code")));
        }
        let value = number(file, line, "v", field(&rec, v))? * 1000.0;
        let quantity = optional_number(file, line, "q", field(&rec, q))?;
        sink(TradeRecord {
            year,
            month: None,
            reporter,
            partner,
            flow: Flow::Export,
            code,
            value,
            currency: "USD",
            quantity,
            unit: quantity.map(|_| "t".to_string()),
            source: Source::Baci,
            vintage: vintage.to_string(),
        })?;
    }
    Ok(())
}
