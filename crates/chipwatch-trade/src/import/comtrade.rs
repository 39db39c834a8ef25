//! UN Comtrade: the CSV of the Comtrade API and bulk downloads (`refYear`, `refMonth`,
//! `period`, `reporterISO`, `partnerISO`, `flowCode`, `cmdCode`, `primaryValue`, `qty`,
//! `qtyUnitAbbr`, `netWgt` …) and the legacy bulk CSV (`Year`, `Period`, `Reporter ISO`,
//! `Partner ISO`, `Trade Flow Code`, `Commodity Code`, `Trade Value (US$)`, `Qty`, `Qty Unit`,
//! `Netweight (kg)` …). Columns are found by name, so their order and extra columns do not
//! matter.
//!
//! - Flows: `M`/`X`/`RM`/`RX` (legacy `1`/`2`/`4`/`3`) become import, export, re-import,
//!   re-export; other regimes (processing, foreign imports) are skipped with `skipped_flow`.
//! - Partner `W00` (World, code 0) is an aggregate and is skipped (`skipped_aggregate`), as are
//!   `TOTAL` commodity rows; rows broken down by second partner, customs procedure or mode of
//!   transport (`partner2Code` ≠ 0, `customsCode` ≠ `C00`, `motCode` ≠ 0) are skipped
//!   (`skipped_breakdown`) so the totals are not counted twice.
//! - A partner that is not an ISO country (`_X` areas not elsewhere specified, special
//!   categories) is written as `_X` (`unknown_partner`).
//! - Commodity codes of chapter 99 (commodities not specified according to kind) are kept and
//!   marked `confidential`.
//! - Quantity: `qty` in its unit when the unit is given, otherwise the net weight in kg.

use super::open_records;
use super::{
    bad, csv_err, field, integer, iso3, layout_err, number, optional_number, product_code,
    Collector,
};
use crate::schema::{Flow, Source, TradeRecord, UNKNOWN_PARTNER};
use crate::Result;
use std::io::Read;
use std::path::Path;

/// Parses one Comtrade CSV.
pub fn parse<R: Read>(
    file: &Path,
    input: R,
    vintage: &str,
    col: &mut Collector,
    sink: &mut dyn FnMut(TradeRecord) -> Result<()>,
) -> Result<()> {
    let (h, records) = open_records(file, input, "file")?;
    let period = h.find(&["period"]);
    let year_col = h.find(&["refYear", "Year"]);
    let month_col = h.find(&["refMonth"]);
    if period.is_none() && year_col.is_none() {
        return Err(layout_err(file, "no column `period` or `refYear`"));
    }
    let reporter = h.require(file, &["reporterISO", "Reporter ISO"])?;
    let partner = h.require(file, &["partnerISO", "Partner ISO"])?;
    let partner_code = h.find(&["partnerCode", "Partner Code"]);
    let flow = h.require(file, &["flowCode", "Trade Flow Code"])?;
    let code = h.require(file, &["cmdCode", "Commodity Code"])?;
    let value = h.require(file, &["primaryValue", "Trade Value (US$)"])?;
    let qty = h.find(&["qty", "Qty"]);
    let unit = h.find(&["qtyUnitAbbr", "Qty Unit"]);
    let net = h.find(&["netWgt", "Netweight (kg)"]);
    let partner2 = h.find(&["partner2Code", "2nd Partner Code"]);
    let customs = h.find(&["customsCode"]);
    let mot = h.find(&["motCode"]);
    for (n, rec) in records.enumerate() {
        let line = n as u64 + 2;
        let rec = rec.map_err(|e| csv_err(file, e))?;
        if rec.iter().all(|f| f.trim().is_empty()) {
            continue;
        }
        col.summary.rows_read += 1;
        // Period: `2023` (annual), `202305` (monthly); refMonth 52 = annual.
        let (year, month) = match period.map(|p| field(&rec, p)).filter(|s| !s.is_empty()) {
            // ASCII only: slicing a multi-byte character panicked (found by fuzzing).
            Some(p) if p.len() == 6 && p.is_ascii() => (
                integer(file, line, "period", &p[..4], 1900, 2200)? as i32,
                Some(integer(file, line, "period", &p[4..], 1, 12)? as u8),
            ),
            Some(p) if p.len() == 4 => (integer(file, line, "period", p, 1900, 2200)? as i32, None),
            Some(p) => {
                return Err(bad(
                    file,
                    line,
                    "period",
                    format!("`{p}` is not YYYY or YYYYMM"),
                ))
            }
            None => {
                let y = integer(
                    file,
                    line,
                    "refYear",
                    field(&rec, year_col.unwrap_or(0)),
                    1900,
                    2200,
                )? as i32;
                let m = match month_col.map(|m| field(&rec, m)) {
                    Some(s) if !s.is_empty() => match integer(file, line, "refMonth", s, 1, 52)? {
                        52 => None,
                        m @ 1..=12 => Some(m as u8),
                        m => {
                            return Err(bad(
                                file,
                                line,
                                "refMonth",
                                format!("{m} is neither 1–12 nor 52"),
                            ))
                        }
                    },
                    _ => None,
                };
                (y, m)
            }
        };
        let f = match field(&rec, flow).to_ascii_uppercase().as_str() {
            "M" | "1" => Flow::Import,
            "X" | "2" => Flow::Export,
            "RM" | "4" => Flow::ReImport,
            "RX" | "3" => Flow::ReExport,
            other => {
                col.note(
                    file,
                    line,
                    "flowCode",
                    "skipped_flow",
                    format!("flow `{other}` skipped"),
                );
                continue;
            }
        };
        let breakdown = partner2.is_some_and(|i| !matches!(field(&rec, i), "" | "0"))
            || customs.is_some_and(|i| !matches!(field(&rec, i), "" | "C00"))
            || mot.is_some_and(|i| !matches!(field(&rec, i), "" | "0"));
        if breakdown {
            *col.summary
                .counts
                .entry("skipped_breakdown".into())
                .or_default() += 1;
            continue;
        }
        let raw_code = field(&rec, code);
        if raw_code.eq_ignore_ascii_case("TOTAL") {
            *col.summary
                .counts
                .entry("skipped_aggregate".into())
                .or_default() += 1;
            continue;
        }
        let p_raw = field(&rec, partner);
        let world = p_raw.eq_ignore_ascii_case("W00")
            || p_raw.eq_ignore_ascii_case("WLD")
            || partner_code.is_some_and(|i| field(&rec, i) == "0");
        if world {
            *col.summary
                .counts
                .entry("skipped_aggregate".into())
                .or_default() += 1;
            continue;
        }
        let r_raw = field(&rec, reporter);
        let reporter_iso = match iso3(r_raw) {
            Some(c) => c,
            None => {
                col.unknown(file, line, "reporterISO", "unknown_reporter", r_raw);
                UNKNOWN_PARTNER.to_string()
            }
        };
        let partner_iso = match iso3(p_raw) {
            Some(c) => c,
            None => {
                col.unknown(file, line, "partnerISO", "unknown_partner", p_raw);
                UNKNOWN_PARTNER.to_string()
            }
        };
        let code_s = product_code(file, line, "cmdCode", raw_code)?;
        let v = number(file, line, "primaryValue", field(&rec, value))?;
        let unit_s = unit.map(|i| field(&rec, i)).filter(|u| {
            !u.is_empty() && !u.eq_ignore_ascii_case("N/A") && !u.eq_ignore_ascii_case("-1")
        });
        let declared = match (qty, unit_s) {
            (Some(qi), Some(u)) => {
                optional_number(file, line, "qty", field(&rec, qi))?.map(|q| (q, u.to_string()))
            }
            _ => None,
        };
        let (quantity, unit_out) = match declared {
            Some((q, u)) => (Some(q), Some(u)),
            None => match net {
                Some(ni) => match optional_number(file, line, "netWgt", field(&rec, ni))? {
                    Some(q) => (Some(q), Some("kg".to_string())),
                    None => (None, None),
                },
                None => (None, None),
            },
        };
        let r = TradeRecord {
            year,
            month,
            reporter: reporter_iso,
            partner: partner_iso,
            flow: f,
            code: code_s,
            value: v,
            currency: "USD",
            quantity,
            unit: unit_out,
            source: Source::Comtrade,
            vintage: vintage.to_string(),
        };
        if r.code.starts_with("99") {
            col.confidential(
                file,
                line,
                "cmdCode",
                &r,
                "chapter 99: commodity not specified according to kind",
            );
        }
        sink(r)?;
    }
    Ok(())
}
