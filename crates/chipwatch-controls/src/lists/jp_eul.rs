//! Importer for Japan's End User List (METI), as CSV or TSV saved from the official Excel file.
//!
//! The official table has the columns `No.`, `Country or Region`, `Company or Organization`,
//! `Also Known As` and `Type of WMD` (the Japanese edition: `No.`, `国名・地域名`,
//! `企業名・組織名`, `別名`, `懸念区分`); columns are found by name in either language, and the
//! company column is required. Title lines above the header are skipped; a date in them
//! (`Revised: 2025-09-29`, `September 29, 2025`, `2025/09/29`, `2025年9月29日`) is the list's
//! publication date,
//! else `--date` must give it. `Also Known As` holds several names, one per line in the cell
//! (or separated by `;`), often with a leading `-` or `・`. `Type of WMD` codes: B biological,
//! C chemical, M missile, N nuclear.

use super::{find_date, resolve_date, strip_bom};
use crate::screening::{ListEntry, ListMeta, RestrictedList};
use crate::{ControlsError, Date};

const COMPANY: &[&str] = &[
    "company or organization",
    "company or organisation",
    "企業名・組織名",
    "企業名",
];
const COUNTRY: &[&str] = &["country or region", "国名・地域名", "国名"];
const AKA: &[&str] = &["also known as", "別名"];
const WMD: &[&str] = &["type of wmd", "懸念区分"];
const NUMBER: &[&str] = &["no.", "no", "番号"];

fn is_header(field: &str, names: &[&str]) -> bool {
    let f = field.trim().to_lowercase();
    names.iter().any(|n| f == *n)
}

/// Expand "B, C" or "N/M" into words.
fn wmd_words(codes: &str) -> String {
    let words: Vec<&str> = codes
        .split(|c: char| c == ',' || c == '/' || c == '、' || c.is_whitespace())
        .filter(|c| !c.is_empty())
        .map(|c| match c.to_ascii_uppercase().as_str() {
            "B" => "biological",
            "C" => "chemical",
            "M" => "missile",
            "N" => "nuclear",
            _ => c,
        })
        .collect();
    words.join(", ")
}

/// Parse the End User List (`file` names it in errors); `date` is used when the title lines
/// carry no date.
pub fn import_jp_eul(
    text: &str,
    file: &str,
    date: Option<Date>,
) -> Result<RestrictedList, ControlsError> {
    let text = strip_bom(text);
    // Tab-separated when the first line that holds the company header has tabs.
    let header_line = text.lines().position(|l| {
        let lower = l.to_lowercase();
        COMPANY.iter().any(|c| lower.contains(c))
    });
    let Some(header_line) = header_line else {
        return Err(ControlsError::MissingColumn {
            file: file.to_string(),
            column: "Company or Organization".to_string(),
        });
    };
    // The list's date: the first date written in the title lines.
    let title_date = text.lines().take(header_line).find_map(find_date);
    let published = resolve_date(title_date, date, file, "title line (list date)")?;
    let header_start: usize = text
        .split_inclusive('\n')
        .take(header_line)
        .map(str::len)
        .sum();
    let body = text.get(header_start..).unwrap_or("");
    let tsv = body.lines().next().is_some_and(|l| l.contains('\t'));
    let offset = header_line as u64;
    let mut rdr = csv::ReaderBuilder::new()
        .flexible(true)
        .delimiter(if tsv { b'\t' } else { b',' })
        .from_reader(body.as_bytes());
    let headers = rdr
        .headers()
        .map_err(|e| ControlsError::Csv {
            file: file.to_string(),
            line: offset + 1,
            message: e.to_string(),
        })?
        .clone();
    let col = |names: &[&str]| headers.iter().position(|h| is_header(h, names));
    let c_company = col(COMPANY).ok_or_else(|| ControlsError::MissingColumn {
        file: file.to_string(),
        column: "Company or Organization".to_string(),
    })?;
    let (c_country, c_aka, c_wmd, c_no) = (col(COUNTRY), col(AKA), col(WMD), col(NUMBER));
    let mut entries = Vec::new();
    let mut rows = 0usize;
    for rec in rdr.records() {
        let rec = rec.map_err(|e| ControlsError::Csv {
            file: file.to_string(),
            line: offset + e.position().map_or(0, |p| p.line()),
            message: e.to_string(),
        })?;
        let line = offset + rec.position().map_or(0, |p| p.line());
        if rec.iter().all(|f| f.trim().is_empty()) {
            continue;
        }
        rows += 1;
        let get = |c: Option<usize>| c.and_then(|c| rec.get(c)).unwrap_or("").trim();
        let name = get(Some(c_company));
        if name.is_empty() {
            return Err(ControlsError::Csv {
                file: file.to_string(),
                line,
                message: "field `Company or Organization`: empty".to_string(),
            });
        }
        let aliases: Vec<String> = get(c_aka)
            .split(['\n', ';', '；'])
            .map(|a| a.trim().trim_start_matches(['-', '・', '･', '–']).trim())
            .filter(|a| !a.is_empty() && *a != name)
            .map(str::to_string)
            .collect();
        let (no, country, wmd) = (get(c_no), get(c_country), get(c_wmd));
        let mut citation = "METI End User List".to_string();
        if !no.is_empty() {
            citation.push_str(&format!(" No. {no}"));
        }
        citation.push_str(&format!(" (list of {published})"));
        let concern = wmd_words(wmd);
        let mut remarks = Vec::new();
        if !country.is_empty() {
            remarks.push(format!("country or region: {country}"));
        }
        if !concern.is_empty() {
            remarks.push(format!("WMD concern: {concern}"));
        }
        entries.push(ListEntry {
            list: "JP-EUL".to_string(),
            name: name.to_string(),
            aliases,
            country: None,
            licence_requirement: format!(
                "Japan catch-all control (FEFTA): an export to this end user needs a METI licence \
                 unless it is clearly not for WMD use{}",
                if concern.is_empty() {
                    String::new()
                } else {
                    format!(" (concern: {concern})")
                }
            ),
            review_policy: None,
            citation,
            listed_on: None,
            remarks: if remarks.is_empty() {
                None
            } else {
                Some(remarks.join("; "))
            },
        });
    }
    Ok(RestrictedList {
        meta: ListMeta {
            name: "Japan End User List".to_string(),
            source: "Ministry of Economy, Trade and Industry (METI), End User List".to_string(),
            authority: Some("Japan (METI)".to_string()),
            published: Some(published.to_string()),
            compiled: None,
            partial: false,
            rows: Some(rows),
            format: Some(if tsv { "JP EUL TSV" } else { "JP EUL CSV" }.to_string()),
            imported_from: Some(file.to_string()),
            note: Some("imported by `chipwatch import jp-eul`".to_string()),
        },
        entries,
        file: file.to_string(),
    })
}
