//! Importer for the UK Sanctions List (FCDO), CSV form: the first line holds the report date
//! (`Report Date: 13-Feb-2026`), the second the header (`Last Updated, Unique ID, OFSI Group ID,
//! UN Reference Number, Name 6, Name 1, ..., Name 5, Name type, Alias strength, Title, Name
//! non-latin script, ..., Regime Name, Designation Type, Designation source, Sanctions Imposed,
//! ..., Date Designated, ...`), then one row per name of a designation: rows sharing a
//! `Unique ID` (the UK Sanctions List reference) are one entry, its `Primary Name` row the entry
//! name and the other rows (aliases, variations, non-Latin script) its aliases. A name is
//! `Name 1`..`Name 5` then `Name 6` (the family name, or an entity's whole name). Columns are
//! found by name; `Unique ID` and `Name 6` are required, the others optional.

use super::{parse_list_date, resolve_date, strip_bom};
use crate::screening::{ListEntry, ListMeta, RestrictedList};
use crate::{ControlsError, Date};
use std::collections::HashMap;

/// One designation being assembled from its rows.
#[derive(Debug, Default)]
struct Designation {
    id: String,
    primary: Option<String>,
    names: Vec<String>,
    regime: String,
    kind: String,
    sanctions: String,
    designated: Option<Date>,
}

/// Parse the UK Sanctions List CSV (`file` names it in errors); `date` is used when the file
/// has no report-date line.
pub fn import_uk_sanctions(
    text: &str,
    file: &str,
    date: Option<Date>,
) -> Result<RestrictedList, ControlsError> {
    let text = strip_bom(text);
    // The report-date line comes before the header; anything else there is not this format.
    let first = text.lines().next().unwrap_or("");
    let (report_date, body, offset) = if first
        .trim_start_matches('"')
        .to_ascii_lowercase()
        .starts_with("report date")
    {
        let value = first
            .split_once(':')
            .map(|(_, v)| v)
            .or_else(|| first.split_once(',').map(|(_, v)| v))
            .unwrap_or("")
            .trim_matches(|c: char| c == ',' || c == '"' || c.is_whitespace());
        let d = parse_list_date(value).ok_or_else(|| ControlsError::Csv {
            file: file.to_string(),
            line: 1,
            message: format!("field `Report Date`: `{value}` is not a date"),
        })?;
        let rest = text.get(first.len()..).unwrap_or("");
        (
            Some(d),
            rest.strip_prefix('\n')
                .or(rest.strip_prefix("\r\n"))
                .unwrap_or(rest),
            1,
        )
    } else {
        (None, text, 0)
    };
    let published = resolve_date(report_date, date, file, "Report Date")?;
    let mut rdr = csv::ReaderBuilder::new()
        .flexible(true)
        .from_reader(body.as_bytes());
    let line_of = |l: u64| l + offset;
    let headers = rdr
        .headers()
        .map_err(|e| ControlsError::Csv {
            file: file.to_string(),
            line: line_of(1),
            message: e.to_string(),
        })?
        .clone();
    let col = |name: &str| {
        headers
            .iter()
            .position(|h| h.trim().eq_ignore_ascii_case(name))
    };
    let need = |name: &str| {
        col(name).ok_or_else(|| ControlsError::MissingColumn {
            file: file.to_string(),
            column: name.to_string(),
        })
    };
    let c_id = need("Unique ID")?;
    let c_name6 = need("Name 6")?;
    let c_names: Vec<Option<usize>> = (1..=5).map(|i| col(&format!("Name {i}"))).collect();
    let c_type = col("Name type");
    let c_nonlatin = col("Name non-latin script");
    let c_regime = col("Regime Name");
    let c_kind = col("Designation Type");
    let c_sanctions = col("Sanctions Imposed");
    let c_designated = col("Date Designated");
    let mut order: Vec<String> = Vec::new();
    let mut by_id: HashMap<String, Designation> = HashMap::new();
    let mut rows = 0usize;
    for rec in rdr.records() {
        let rec = rec.map_err(|e| ControlsError::Csv {
            file: file.to_string(),
            line: line_of(e.position().map_or(0, |p| p.line())),
            message: e.to_string(),
        })?;
        let line = line_of(rec.position().map_or(0, |p| p.line()));
        if rec.iter().all(|f| f.trim().is_empty()) {
            continue;
        }
        rows += 1;
        let get = |c: Option<usize>| c.and_then(|c| rec.get(c)).unwrap_or("").trim();
        let bad = |f: &str, m: String| ControlsError::Csv {
            file: file.to_string(),
            line,
            message: format!("field `{f}`: {m}"),
        };
        let id = get(Some(c_id));
        if id.is_empty() {
            return Err(bad("Unique ID", "empty".into()));
        }
        // Name parts; some files write "0" for an empty part.
        let mut parts: Vec<&str> = c_names
            .iter()
            .map(|c| get(*c))
            .filter(|p| !p.is_empty() && *p != "0")
            .collect();
        let n6 = get(Some(c_name6));
        if !n6.is_empty() && n6 != "0" {
            parts.push(n6);
        }
        let nonlatin = get(c_nonlatin);
        if parts.is_empty() && nonlatin.is_empty() {
            return Err(bad(
                "Name 6",
                "no name in Name 1..6 or the non-Latin script".into(),
            ));
        }
        let designated = match get(c_designated) {
            "" => None,
            v => Some(parse_list_date(v).ok_or_else(|| {
                bad(
                    "Date Designated",
                    format!("`{v}` is not a date (dd/mm/yyyy)"),
                )
            })?),
        };
        let d = by_id.entry(id.to_string()).or_insert_with(|| {
            order.push(id.to_string());
            Designation {
                id: id.to_string(),
                ..Designation::default()
            }
        });
        let name = parts.join(" ");
        let primary = get(c_type).eq_ignore_ascii_case("primary name");
        if !name.is_empty() {
            if primary && d.primary.is_none() {
                d.primary = Some(name.clone());
            }
            if !d.names.contains(&name) {
                d.names.push(name);
            }
        }
        if !nonlatin.is_empty() && !d.names.iter().any(|n| n == nonlatin) {
            d.names.push(nonlatin.to_string());
        }
        for (slot, v) in [
            (&mut d.regime, get(c_regime)),
            (&mut d.kind, get(c_kind)),
            (&mut d.sanctions, get(c_sanctions)),
        ] {
            if slot.is_empty() {
                *slot = v.to_string();
            }
        }
        if d.designated.is_none() {
            d.designated = designated;
        }
    }
    let entries = order
        .iter()
        .filter_map(|id| by_id.remove(id))
        .map(|d| {
            // Without a row marked primary, the first name given is the entry name.
            let name = d.primary.clone().unwrap_or_else(|| d.names[0].clone());
            let aliases = d.names.iter().filter(|n| **n != name).cloned().collect();
            let mut citation = format!("UK Sanctions List ref {}", d.id);
            if !d.regime.is_empty() {
                citation.push_str(&format!("; {}", d.regime));
            }
            if let Some(dd) = d.designated {
                citation.push_str(&format!("; designated {dd}"));
            }
            ListEntry {
                list: "UK-SANCTIONS".to_string(),
                name,
                aliases,
                country: None,
                licence_requirement: if d.sanctions.is_empty() {
                    "UK sanctions (measures not stated in the file)".to_string()
                } else {
                    format!("UK sanctions: {}", d.sanctions.replace('|', ", "))
                },
                review_policy: None,
                citation,
                listed_on: d.designated.map(|x| x.to_string()),
                remarks: (!d.kind.is_empty()).then(|| format!("designation type: {}", d.kind)),
            }
        })
        .collect();
    Ok(RestrictedList {
        meta: ListMeta {
            name: "UK Sanctions List".to_string(),
            source: "Foreign, Commonwealth & Development Office, UK Sanctions List (CSV)"
                .to_string(),
            authority: Some("United Kingdom (FCDO)".to_string()),
            published: Some(published.to_string()),
            compiled: None,
            partial: false,
            rows: Some(rows),
            format: Some("UK Sanctions List CSV".to_string()),
            imported_from: Some(file.to_string()),
            note: Some("imported by `chipwatch import uk-sanctions`".to_string()),
        },
        entries,
        file: file.to_string(),
    })
}
