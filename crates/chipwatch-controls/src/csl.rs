//! Importer for the US Consolidated Screening List (trade.gov), producing the project's list
//! format, from either published form:
//!
//! - CSV (`consolidated.csv`): `_id, source, entity_number, type, programs, name, title,
//!   addresses, federal_register_notice, start_date, end_date, standard_order,
//!   license_requirement, license_policy, call_sign, vessel_type, gross_tonnage,
//!   gross_registered_tonnage, vessel_flag, vessel_owner, remarks, source_list_url, alt_names,
//!   citizenships, dates_of_birth, nationalities, places_of_birth, source_information_url, ids`.
//!   Columns are found by header name, so order may change; `source` and `name` are required.
//!   Multi-valued cells (`alt_names`, `addresses`, `programs`) are `;`-separated. The CSV
//!   carries no date: `--date` gives the publication date.
//! - JSON (`consolidated.json`, or an API search answer): an object with a `results` array of
//!   records (`name`, `alt_names`, `addresses` (objects), `source`, `start_date`, `programs`,
//!   `federal_register_notice`, `license_requirement`, `license_policy`, `ids`, ...) and,
//!   optionally, `sources_used` with each source's `source_last_updated`, whose latest date is
//!   the publication date (else `--date`). A bare array of records is accepted too.
//!
//! `source` is kept as the list id ("Entity List (EL) - ..." -> `US-EL`), so Entity List
//! entries stay distinguishable from SDN or DPL entries.

use crate::lists::{parse_list_date, resolve_date, strip_bom};
use crate::measure::ReviewPolicy;
use crate::screening::{ListEntry, ListMeta, RestrictedList};
use crate::{ControlsError, Date};
use serde_json::Value;

/// Columns the importer needs.
const REQUIRED: &[&str] = &["source", "name"];

/// Short list id for a CSL `source` value: "Entity List (EL) - Bureau of Industry and Security"
/// -> "US-EL".
pub fn list_id(source: &str) -> String {
    if let (Some(a), Some(b)) = (source.find('('), source.find(')')) {
        if a < b {
            let abbr: String = source[a + 1..b]
                .chars()
                .filter(|c| c.is_ascii_alphanumeric() || *c == '-')
                .collect();
            if !abbr.is_empty() {
                return format!("US-{}", abbr.to_ascii_uppercase());
            }
        }
    }
    let s: String = source
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() {
                c.to_ascii_uppercase()
            } else {
                '-'
            }
        })
        .collect();
    let s = s
        .split('-')
        .filter(|p| !p.is_empty())
        .collect::<Vec<_>>()
        .join("-");
    if s.is_empty() {
        "US-CSL".to_string()
    } else {
        format!("US-{s}")
    }
}

/// Review policy from the CSL `license_policy` text.
pub fn review_policy(text: &str) -> Option<ReviewPolicy> {
    let t = text.to_ascii_lowercase();
    if t.contains("presumption of denial") || t.contains("policy of denial") {
        Some(ReviewPolicy::PresumptionOfDenial)
    } else if t.contains("case-by-case") || t.contains("case by case") {
        Some(ReviewPolicy::CaseByCase)
    } else if t.contains("presumption of approval") {
        Some(ReviewPolicy::PresumptionOfApproval)
    } else if t.trim().is_empty() {
        None
    } else {
        Some(ReviewPolicy::PerApplication)
    }
}

/// Fields of one CSL record, as both forms give them.
#[derive(Debug, Default)]
struct Record {
    source: String,
    name: String,
    alt_names: Vec<String>,
    licence_requirement: String,
    licence_policy: String,
    frn: String,
    start: String,
    url: String,
    addresses: String,
    programs: String,
    ids: String,
}

/// The list entry of one record.
fn entry_of(r: Record) -> ListEntry {
    let aliases: Vec<String> = r
        .alt_names
        .iter()
        .map(|a| a.trim())
        .filter(|a| !a.is_empty() && *a != r.name)
        .map(str::to_string)
        .collect();
    let mut citation = r.source.clone();
    if !r.frn.is_empty() {
        citation.push_str(&format!("; {}", r.frn));
    }
    if !r.start.is_empty() {
        citation.push_str(&format!(" ({})", r.start));
    }
    if !r.url.is_empty() {
        citation.push_str(&format!("; {}", r.url));
    }
    let mut remarks = Vec::new();
    for (label, v) in [
        ("addresses", &r.addresses),
        ("programs", &r.programs),
        ("ids", &r.ids),
    ] {
        if !v.is_empty() {
            remarks.push(format!("{label}: {v}"));
        }
    }
    ListEntry {
        list: list_id(&r.source),
        review_policy: review_policy(&r.licence_policy),
        licence_requirement: r.licence_requirement,
        citation,
        listed_on: if r.start.is_empty() {
            None
        } else {
            Some(r.start)
        },
        remarks: if remarks.is_empty() {
            None
        } else {
            Some(remarks.join("; "))
        },
        name: r.name,
        aliases,
        country: None,
    }
}

fn meta(file: &str, published: Date, rows: usize, format: &str) -> ListMeta {
    ListMeta {
        name: "US Consolidated Screening List".to_string(),
        source: "International Trade Administration, Consolidated Screening List \
                 (https://www.trade.gov/consolidated-screening-list)"
            .to_string(),
        authority: Some(
            "United States (Departments of Commerce, State and the Treasury; compiled by ITA)"
                .to_string(),
        ),
        published: Some(published.to_string()),
        compiled: None,
        partial: false,
        rows: Some(rows),
        format: Some(format.to_string()),
        imported_from: Some(file.to_string()),
        note: Some("imported by `chipwatch import csl`".to_string()),
    }
}

/// A `start_date` as the list gives it, checked: an unreadable date is an error, not a blank.
fn checked_start(v: &str, file: &str, field: impl Fn() -> String) -> Result<String, ControlsError> {
    if v.is_empty() {
        return Ok(String::new());
    }
    parse_list_date(v)
        .map(|d| d.to_string())
        .ok_or_else(|| ControlsError::Field {
            file: file.to_string(),
            field: field(),
            message: format!("`{v}` is not a date"),
        })
}

/// Parse a CSL CSV text (`file` names it in errors); `date` is its publication date (the CSV
/// carries none, so it is required).
pub fn import_csl(
    text: &str,
    file: &str,
    date: Option<Date>,
) -> Result<RestrictedList, ControlsError> {
    let text = strip_bom(text);
    let mut rdr = csv::ReaderBuilder::new()
        .flexible(true)
        .from_reader(text.as_bytes());
    let headers = rdr
        .headers()
        .map_err(|e| ControlsError::Csv {
            file: file.to_string(),
            line: 1,
            message: e.to_string(),
        })?
        .clone();
    let col = |name: &str| headers.iter().position(|h| h.trim() == name);
    for r in REQUIRED {
        if col(r).is_none() {
            return Err(ControlsError::MissingColumn {
                file: file.to_string(),
                column: r.to_string(),
            });
        }
    }
    let c_source = col("source");
    let c_name = col("name");
    let c_alt = col("alt_names");
    let c_req = col("license_requirement");
    let c_pol = col("license_policy");
    let c_frn = col("federal_register_notice");
    let c_start = col("start_date");
    let c_addr = col("addresses");
    let c_prog = col("programs");
    let c_url = col("source_list_url");
    let c_ids = col("ids");
    let published = resolve_date(None, date, file, "publication date")?;
    let mut entries = Vec::new();
    for (i, rec) in rdr.records().enumerate() {
        let line = rec
            .as_ref()
            .ok()
            .and_then(|r| r.position())
            .map_or(i as u64 + 2, |p| p.line());
        let rec = rec.map_err(|e| ControlsError::Csv {
            file: file.to_string(),
            line,
            message: e.to_string(),
        })?;
        // Blank lines, and the end-of-file control character (SUB, 0x1A) some CSL downloads
        // end with, are no records.
        if rec.iter().all(|f| {
            f.trim_matches(|c: char| c.is_whitespace() || c == '\u{1a}')
                .is_empty()
        }) {
            continue;
        }
        let get = |c: Option<usize>| c.and_then(|c| rec.get(c)).unwrap_or("").trim().to_string();
        let name = get(c_name);
        if name.is_empty() {
            return Err(ControlsError::Field {
                file: file.to_string(),
                field: format!("line {line}: name"),
                message: "empty name".to_string(),
            });
        }
        let start = checked_start(&get(c_start), file, || format!("line {line}: start_date"))?;
        entries.push(entry_of(Record {
            source: get(c_source),
            alt_names: get(c_alt).split(';').map(str::to_string).collect(),
            licence_requirement: get(c_req),
            licence_policy: get(c_pol),
            frn: get(c_frn),
            start,
            url: get(c_url),
            addresses: get(c_addr),
            programs: get(c_prog),
            ids: get(c_ids),
            name,
        }));
    }
    let rows = entries.len();
    Ok(RestrictedList {
        meta: meta(file, published, rows, "US CSL CSV"),
        entries,
        file: file.to_string(),
    })
}

/// A JSON value as text: strings as they are, arrays joined with "; ", objects by their values.
fn text_of(v: Option<&Value>) -> String {
    match v {
        None | Some(Value::Null) => String::new(),
        Some(Value::String(s)) => s.trim().to_string(),
        Some(Value::Array(a)) => a
            .iter()
            .map(|x| text_of(Some(x)))
            .filter(|s| !s.is_empty())
            .collect::<Vec<_>>()
            .join("; "),
        Some(Value::Object(o)) => o
            .values()
            .map(|x| text_of(Some(x)))
            .filter(|s| !s.is_empty())
            .collect::<Vec<_>>()
            .join(", "),
        Some(other) => other.to_string(),
    }
}

/// Parse a CSL JSON text (`file` names it in errors); `date` is used when the file has no
/// `sources_used[].source_last_updated`.
pub fn import_csl_json(
    text: &str,
    file: &str,
    date: Option<Date>,
) -> Result<RestrictedList, ControlsError> {
    let text = strip_bom(text);
    let doc: Value = serde_json::from_str(text).map_err(|e| ControlsError::Csv {
        file: file.to_string(),
        line: e.line() as u64,
        message: format!("not valid JSON: {e}"),
    })?;
    let field_err = |field: String, message: &str| ControlsError::Field {
        file: file.to_string(),
        field,
        message: message.to_string(),
    };
    let (results, sources) = match &doc {
        Value::Array(a) => (a, None),
        Value::Object(o) => match o.get("results") {
            Some(Value::Array(a)) => (a, o.get("sources_used")),
            Some(_) => return Err(field_err("results".into(), "must be an array of records")),
            None => {
                return Err(field_err(
                    "results".into(),
                    "missing: no records in the file",
                ))
            }
        },
        _ => {
            return Err(field_err(
                "(root)".into(),
                "expected an object with `results`",
            ))
        }
    };
    // The file's date: the latest update of the sources it consolidates.
    let mut in_file: Option<Date> = None;
    if let Some(Value::Array(src)) = sources {
        for (i, s) in src.iter().enumerate() {
            let v = text_of(s.get("source_last_updated"));
            if v.is_empty() {
                continue;
            }
            let d = parse_list_date(&v).ok_or_else(|| {
                field_err(
                    format!("sources_used[{i}].source_last_updated"),
                    &format!("`{v}` is not a date"),
                )
            })?;
            in_file = in_file.max(Some(d));
        }
    }
    let published = resolve_date(in_file, date, file, "sources_used[].source_last_updated")?;
    let mut entries = Vec::with_capacity(results.len());
    for (i, r) in results.iter().enumerate() {
        if !r.is_object() {
            return Err(field_err(format!("results[{i}]"), "must be an object"));
        }
        let get = |k: &str| text_of(r.get(k));
        let name = get("name");
        if name.is_empty() {
            return Err(field_err(format!("results[{i}].name"), "empty name"));
        }
        let source = get("source");
        if source.is_empty() {
            return Err(field_err(format!("results[{i}].source"), "empty source"));
        }
        let alt_names = match r.get("alt_names") {
            Some(Value::Array(a)) => a.iter().map(|x| text_of(Some(x))).collect(),
            Some(v) => text_of(Some(v)).split(';').map(str::to_string).collect(),
            None => Vec::new(),
        };
        let start = checked_start(&get("start_date"), file, || {
            format!("results[{i}].start_date")
        })?;
        entries.push(entry_of(Record {
            source,
            name,
            alt_names,
            licence_requirement: get("license_requirement"),
            licence_policy: get("license_policy"),
            frn: get("federal_register_notice"),
            start,
            url: get("source_list_url"),
            addresses: get("addresses"),
            programs: get("programs"),
            ids: get("ids"),
        }));
    }
    let rows = results.len();
    Ok(RestrictedList {
        meta: meta(file, published, rows, "US CSL JSON"),
        entries,
        file: file.to_string(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const HEADER: &str = "_id,source,entity_number,type,programs,name,title,addresses,federal_register_notice,start_date,end_date,standard_order,license_requirement,license_policy,call_sign,vessel_type,gross_tonnage,gross_registered_tonnage,vessel_flag,vessel_owner,remarks,source_list_url,alt_names,citizenships,dates_of_birth,nationalities,places_of_birth,source_information_url,ids";

    #[test]
    fn imports_published_layout() {
        let csv = format!(
            "{HEADER}\nabc,Entity List (EL) - Bureau of Industry and Security,,,,\"Semiconductor Manufacturing International Corporation\",,\"18 Zhangjiang Road, Shanghai, CN\",85 FR 83416,2020-12-22,,,For all items subject to the EAR.,Presumption of denial for items uniquely required to produce at 10nm or below; case-by-case otherwise,,,,,,,,https://example.gov/el,SMIC; 中芯国际,,,,,,\n"
        );
        let l = import_csl(&csv, "csl.csv", Date::parse("2026-12-01").ok()).unwrap();
        assert_eq!(l.entries.len(), 1);
        let e = &l.entries[0];
        assert_eq!(e.list, "US-EL");
        assert_eq!(e.aliases, vec!["SMIC", "中芯国际"]);
        assert_eq!(e.review_policy, Some(ReviewPolicy::PresumptionOfDenial));
        assert!(e.citation.contains("85 FR 83416"));
    }

    #[test]
    fn missing_column_is_named() {
        let err = import_csl("_id,source\n1,x\n", "bad.csv", None).unwrap_err();
        assert_eq!(err.to_string(), "bad.csv: missing column `name`");
    }

    #[test]
    fn empty_name_names_line() {
        let csv = format!("{HEADER}\nabc,Entity List (EL) - BIS,,,,,\n");
        let err = import_csl(&csv, "x.csv", Date::parse("2026-12-01").ok())
            .unwrap_err()
            .to_string();
        assert!(err.contains("x.csv") && err.contains("line 2"), "{err}");
    }

    #[test]
    fn list_ids() {
        assert_eq!(
            list_id("Specially Designated Nationals (SDN) - Treasury Department"),
            "US-SDN"
        );
        assert_eq!(list_id("Some list"), "US-SOME-LIST");
    }
}
