//! Eurostat Comext bulk files (monthly detailed data by CN8): columns `DECLARANT_ISO`,
//! `PARTNER_ISO` (ISO alpha-2), `PRODUCT_NC` (CN8), `FLOW` (1 import, 2 export), `PERIOD`
//! (`YYYYMM`; month `52` is the annual total), `VALUE_IN_EUROS`, `QUANTITY_IN_KG`; other
//! columns (`DECLARANT`, `PARTNER`, `TRADE_TYPE`, `STAT_REGIME`, `SUP_QUANTITY` …) are ignored
//! and rows are written as published (one per statistical regime and trade type, so sums over
//! them are totals).
//!
//! - Eurostat's `EL` (Greece) and `UK` (United Kingdom) become `GRC` and `GBR`.
//! - Partners `QY`, `QZ` (countries not specified for commercial or military reasons, intra-
//!   and extra-EU) are written as `_X` and marked `confidential`; any other code that is not an
//!   ISO country (`QV`, `QW`, `XC`, `XL`, `XS` …) is written as `_X` (`unknown_partner`).
//! - A product code with letters (a confidential code keeping only its chapter, such as
//!   `85SSS000`) is kept as written, with `code_level` the number of its leading digits, and
//!   marked `confidential`; `TOTAL` rows are skipped.

use super::open_records;
use super::{bad, csv_err, field, integer, iso3_from_alpha2, number, optional_number, Collector};
use crate::schema::{Flow, Source, TradeRecord, UNKNOWN_PARTNER};
use crate::Result;
use std::io::Read;
use std::path::Path;

/// Parses one Comext file.
pub fn parse<R: Read>(
    file: &Path,
    input: R,
    vintage: &str,
    col: &mut Collector,
    sink: &mut dyn FnMut(TradeRecord) -> Result<()>,
) -> Result<()> {
    let (h, records) = open_records(file, input, "file")?;
    let decl = h.require(file, &["DECLARANT_ISO"])?;
    let partner = h.require(file, &["PARTNER_ISO"])?;
    let product = h.require(file, &["PRODUCT_NC"])?;
    let flow = h.require(file, &["FLOW"])?;
    let period = h.require(file, &["PERIOD"])?;
    let value = h.require(file, &["VALUE_IN_EUROS", "VALUE_EUR"])?;
    let qty = h.find(&["QUANTITY_IN_KG", "QUANTITY_KG"]);
    for (n, rec) in records.enumerate() {
        let line = n as u64 + 2;
        let rec = rec.map_err(|e| csv_err(file, e))?;
        if rec.iter().all(|f| f.trim().is_empty()) {
            continue;
        }
        col.summary.rows_read += 1;
        let p = field(&rec, period);
        // Six ASCII digits: a multi-byte character in six bytes must not be sliced (fuzzing
        // found `&p[..4]` panicking inside a BOM).
        if p.len() != 6 || !p.is_ascii() {
            return Err(bad(file, line, "PERIOD", format!("`{p}` is not YYYYMM")));
        }
        let year = integer(file, line, "PERIOD", &p[..4], 1900, 2200)? as i32;
        let month = match integer(file, line, "PERIOD", &p[4..], 1, 52)? {
            52 => None,
            m @ 1..=12 => Some(m as u8),
            m => {
                return Err(bad(
                    file,
                    line,
                    "PERIOD",
                    format!("month {m} is neither 1–12 nor 52"),
                ))
            }
        };
        let f = match field(&rec, flow) {
            "1" => Flow::Import,
            "2" => Flow::Export,
            other => {
                return Err(bad(
                    file,
                    line,
                    "FLOW",
                    format!("`{other}` is neither 1 (import) nor 2 (export)"),
                ))
            }
        };
        let code = field(&rec, product).to_ascii_uppercase();
        if code == "TOTAL" || code == "TT" {
            *col.summary
                .counts
                .entry("skipped_aggregate".into())
                .or_default() += 1;
            continue;
        }
        let digits = code.bytes().take_while(u8::is_ascii_digit).count();
        let confidential_code = digits < code.len();
        if code.is_empty()
            || code.len() > 12
            || digits < 2
            || !code.bytes().all(|b| b.is_ascii_alphanumeric())
        {
            return Err(bad(
                file,
                line,
                "PRODUCT_NC",
                format!("`{code}` is not a CN code"),
            ));
        }
        let d_raw = field(&rec, decl);
        let reporter = match iso3_from_alpha2(d_raw) {
            Some(c) => c,
            None => {
                col.unknown(file, line, "DECLARANT_ISO", "unknown_reporter", d_raw);
                UNKNOWN_PARTNER.to_string()
            }
        };
        let p_raw = field(&rec, partner).to_ascii_uppercase();
        let secret_partner = p_raw == "QY" || p_raw == "QZ";
        let partner_iso = match iso3_from_alpha2(&p_raw) {
            Some(c) => c,
            None => {
                if !secret_partner {
                    col.unknown(file, line, "PARTNER_ISO", "unknown_partner", &p_raw);
                }
                UNKNOWN_PARTNER.to_string()
            }
        };
        let v = number(file, line, "VALUE_IN_EUROS", field(&rec, value))?;
        let quantity = match qty {
            Some(i) => optional_number(file, line, "QUANTITY_IN_KG", field(&rec, i))?,
            None => None,
        };
        let r = TradeRecord {
            year,
            month,
            reporter,
            partner: partner_iso,
            flow: f,
            code,
            value: v,
            currency: "EUR",
            quantity,
            unit: quantity.map(|_| "kg".to_string()),
            source: Source::Comext,
            vintage: vintage.to_string(),
        };
        if secret_partner {
            col.confidential(
                file,
                line,
                "PARTNER_ISO",
                &r,
                &format!("partner `{p_raw}`: not specified for commercial or military reasons"),
            );
        } else if confidential_code {
            col.confidential(
                file,
                line,
                "PRODUCT_NC",
                &r,
                &format!("product `{}`: confidential code", r.code),
            );
        }
        sink(r)?;
    }
    Ok(())
}
