//! Importer for the US Consolidated Screening List (trade.gov) CSV in its published column
//! layout (`_id, source, entity_number, type, programs, name, title, addresses,
//! federal_register_notice, start_date, end_date, standard_order, license_requirement,
//! license_policy, ..., alt_names, ...`), producing the project's list format. Columns are
//! found by header name, so column order may change; a missing required column is an error.

use crate::measure::ReviewPolicy;
use crate::screening::{ListEntry, ListMeta, RestrictedList};
use crate::ControlsError;

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

/// Parse a CSL CSV text (`file` names it in errors).
pub fn import_csl(text: &str, file: &str) -> Result<RestrictedList, ControlsError> {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
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
        let get = |c: Option<usize>| c.and_then(|c| rec.get(c)).unwrap_or("").trim().to_string();
        let name = get(c_name);
        if name.is_empty() {
            return Err(ControlsError::Field {
                file: file.to_string(),
                field: format!("line {line}: name"),
                message: "empty name".to_string(),
            });
        }
        let source = get(c_source);
        let aliases: Vec<String> = get(c_alt)
            .split(';')
            .map(str::trim)
            .filter(|a| !a.is_empty() && *a != name)
            .map(str::to_string)
            .collect();
        let frn = get(c_frn);
        let start = get(c_start);
        let mut citation = source.clone();
        if !frn.is_empty() {
            citation.push_str(&format!("; {frn}"));
        }
        if !start.is_empty() {
            citation.push_str(&format!(" ({start})"));
        }
        let url = get(c_url);
        if !url.is_empty() {
            citation.push_str(&format!("; {url}"));
        }
        let mut remarks = Vec::new();
        for (label, c) in [("addresses", c_addr), ("programs", c_prog)] {
            let v = get(c);
            if !v.is_empty() {
                remarks.push(format!("{label}: {v}"));
            }
        }
        entries.push(ListEntry {
            list: list_id(&source),
            name,
            aliases,
            country: None,
            licence_requirement: get(c_req),
            review_policy: review_policy(&get(c_pol)),
            citation,
            listed_on: if start.is_empty() { None } else { Some(start) },
            remarks: if remarks.is_empty() {
                None
            } else {
                Some(remarks.join("; "))
            },
        });
    }
    Ok(RestrictedList {
        meta: ListMeta {
            name: format!("US Consolidated Screening List ({file})"),
            source: "International Trade Administration, Consolidated Screening List \
                     (https://www.trade.gov/consolidated-screening-list)"
                .to_string(),
            compiled: None,
            note: Some("imported by `chipwatch import csl`".to_string()),
        },
        entries,
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
        let l = import_csl(&csv, "csl.csv").unwrap();
        assert_eq!(l.entries.len(), 1);
        let e = &l.entries[0];
        assert_eq!(e.list, "US-EL");
        assert_eq!(e.aliases, vec!["SMIC", "中芯国际"]);
        assert_eq!(e.review_policy, Some(ReviewPolicy::PresumptionOfDenial));
        assert!(e.citation.contains("85 FR 83416"));
    }

    #[test]
    fn missing_column_is_named() {
        let err = import_csl("_id,source\n1,x\n", "bad.csv").unwrap_err();
        assert_eq!(err.to_string(), "bad.csv: missing column `name`");
    }

    #[test]
    fn empty_name_names_line() {
        let csv = format!("{HEADER}\nabc,Entity List (EL) - BIS,,,,,\n");
        let err = import_csl(&csv, "x.csv").unwrap_err().to_string();
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
