//! Importer for the EU consolidated list of persons, groups and entities subject to EU financial
//! sanctions, in the Financial Sanctions Files (FSF) "export" XML layout: a root `export`
//! element with a `generationDate` attribute (the list's publication date), and one
//! `sanctionEntity` per listed subject (attributes `euReferenceNumber`, `logicalId`,
//! `designationDate`) with children `nameAlias` (`wholeName`, `firstName`, `lastName`,
//! `strong`), `regulation` (`publicationDate`, `entryIntoForceDate`, `numberTitle`,
//! `programme`), `subjectType` (`code`: person, enterprise), `citizenship` and `address`
//! (`countryIso2Code`). Namespaces are ignored (local names only); unknown elements are skipped.
//! Errors name the file, the line and the element path (`export/sanctionEntity[3]/regulation`).

use super::{line_at, parse_list_date, resolve_date, strip_bom};
use crate::screening::{ListEntry, ListMeta, RestrictedList};
use crate::{ControlsError, Date};
use quick_xml::events::{BytesStart, Event};
use quick_xml::Reader;
use std::collections::BTreeSet;

/// One `regulation` of an entity.
#[derive(Debug, Default)]
struct Regulation {
    number_title: String,
    programme: String,
    published: Option<Date>,
}

/// A `sanctionEntity` being read.
#[derive(Debug, Default)]
struct Entity {
    index: usize,
    eu_ref: String,
    designated: Option<Date>,
    names: Vec<(String, bool)>,
    regulations: Vec<Regulation>,
    subject: String,
    countries: BTreeSet<String>,
}

/// Parse an FSF XML text (`file` names it in errors); `date` is used when the file has no
/// `generationDate`.
pub fn import_eu_fsf(
    text: &str,
    file: &str,
    date: Option<Date>,
) -> Result<RestrictedList, ControlsError> {
    let text = strip_bom(text);
    let mut reader = Reader::from_str(text);
    let mut path: Vec<String> = Vec::new();
    let mut generated: Option<Date> = None;
    let mut root_seen = false;
    let mut current: Option<Entity> = None;
    let mut count = 0usize;
    let mut entries = Vec::new();
    let err = |pos: usize, path: &[String], message: String| ControlsError::Xml {
        file: file.to_string(),
        line: line_at(text, pos),
        path: if path.is_empty() {
            "(document)".to_string()
        } else {
            path.join("/")
        },
        message,
    };
    loop {
        let pos = reader.buffer_position() as usize;
        let ev = reader
            .read_event()
            .map_err(|e| err(reader.error_position() as usize, &path, e.to_string()))?;
        match ev {
            Event::Start(ref e) | Event::Empty(ref e) => {
                let empty = matches!(ev, Event::Empty(_));
                let name = String::from_utf8_lossy(e.local_name().as_ref()).into_owned();
                let depth = path.len();
                let label = if name == "sanctionEntity" && depth == 1 {
                    count += 1;
                    format!("sanctionEntity[{count}]")
                } else {
                    name.clone()
                };
                path.push(label);
                let attrs = attributes(e).map_err(|m| err(pos, &path, m))?;
                let get = |k: &str| {
                    attrs
                        .iter()
                        .find(|(n, _)| n == k)
                        .map(|(_, v)| v.trim().to_string())
                        .filter(|v| !v.is_empty())
                };
                let date_attr = |k: &str| -> Result<Option<Date>, ControlsError> {
                    match get(k) {
                        None => Ok(None),
                        Some(v) => parse_list_date(&v).map(Some).ok_or_else(|| {
                            err(pos, &path, format!("attribute `{k}`: `{v}` is not a date"))
                        }),
                    }
                };
                if depth == 0 {
                    if name != "export" {
                        return Err(err(
                            pos,
                            &path,
                            format!("root element is `{name}`, expected `export` (FSF XML)"),
                        ));
                    }
                    root_seen = true;
                    generated = date_attr("generationDate")?;
                } else if depth == 1 && name == "sanctionEntity" {
                    current = Some(Entity {
                        index: count,
                        eu_ref: get("euReferenceNumber")
                            .or_else(|| get("logicalId").map(|l| format!("logicalId {l}")))
                            .unwrap_or_default(),
                        designated: date_attr("designationDate")?,
                        ..Entity::default()
                    });
                } else if depth == 2 {
                    if let Some(ent) = current.as_mut() {
                        match name.as_str() {
                            "nameAlias" => {
                                let whole = get("wholeName").or_else(|| {
                                    let parts: Vec<String> =
                                        ["firstName", "middleName", "lastName"]
                                            .iter()
                                            .filter_map(|k| get(k))
                                            .collect();
                                    (!parts.is_empty()).then(|| parts.join(" "))
                                });
                                if let Some(w) = whole {
                                    let strong = get("strong").is_none_or(|s| s != "false");
                                    ent.names.push((w, strong));
                                }
                            }
                            "regulation" => ent.regulations.push(Regulation {
                                number_title: get("numberTitle").unwrap_or_default(),
                                programme: get("programme").unwrap_or_default(),
                                published: date_attr("publicationDate")?,
                            }),
                            "subjectType" => ent.subject = get("code").unwrap_or_default(),
                            "citizenship" | "address" => {
                                if let Some(c) = get("countryIso2Code") {
                                    if c != "00" {
                                        ent.countries.insert(c.to_ascii_uppercase());
                                    }
                                }
                            }
                            _ => {}
                        }
                    }
                }
                if empty {
                    if depth == 1 {
                        if let Some(ent) = current.take() {
                            entries.push(entry(ent, file, &path)?);
                        }
                    }
                    path.pop();
                }
            }
            Event::End(_) => {
                if path.len() == 2 {
                    if let Some(ent) = current.take() {
                        entries.push(entry(ent, file, &path)?);
                    }
                }
                path.pop();
            }
            Event::Eof => {
                if !path.is_empty() {
                    return Err(err(
                        text.len(),
                        &path,
                        "the file ends inside this element (truncated XML)".to_string(),
                    ));
                }
                break;
            }
            _ => {}
        }
    }
    if !root_seen {
        return Err(err(
            0,
            &[],
            "no `export` root element (empty file?)".to_string(),
        ));
    }
    let published = resolve_date(generated, date, file, "export@generationDate")?;
    Ok(RestrictedList {
        meta: ListMeta {
            name: "EU consolidated financial sanctions list".to_string(),
            source: "European Commission, Financial Sanctions Files (FSF), consolidated list of \
                     persons, groups and entities subject to EU financial sanctions"
                .to_string(),
            authority: Some(
                "European Union (Council; list kept by the European Commission)".into(),
            ),
            published: Some(published.to_string()),
            compiled: None,
            partial: false,
            rows: Some(count),
            format: Some("EU FSF XML".to_string()),
            imported_from: Some(file.to_string()),
            note: Some("imported by `chipwatch import eu-fsf`".to_string()),
        },
        entries,
        file: file.to_string(),
    })
}

/// Attributes of an element as (local name, unescaped value).
fn attributes(e: &BytesStart) -> Result<Vec<(String, String)>, String> {
    let mut out = Vec::new();
    for a in e.attributes() {
        let a = a.map_err(|x| format!("malformed attribute: {x}"))?;
        let k = String::from_utf8_lossy(a.key.local_name().as_ref()).into_owned();
        let v = a
            .normalized_value(quick_xml::XmlVersion::Implicit1_0)
            .map_err(|x| format!("attribute `{k}`: {x}"))?
            .into_owned();
        out.push((k, v));
    }
    Ok(out)
}

/// The list entry of one `sanctionEntity`.
fn entry(ent: Entity, file: &str, path: &[String]) -> Result<ListEntry, ControlsError> {
    // The primary name: the first strong alias (weak aliases are low-quality spellings).
    let primary = ent
        .names
        .iter()
        .position(|(_, strong)| *strong)
        .or(if ent.names.is_empty() { None } else { Some(0) })
        .ok_or_else(|| ControlsError::Field {
            file: file.to_string(),
            field: format!("{}/nameAlias@wholeName", path.join("/")),
            message: format!(
                "sanctionEntity {} (number {} in the file) has no name",
                ent.eu_ref, ent.index
            ),
        })?;
    let name = ent.names[primary].0.clone();
    let mut aliases: Vec<String> = Vec::new();
    for (n, _) in &ent.names {
        if *n != name && !aliases.contains(n) {
            aliases.push(n.clone());
        }
    }
    let first_reg = ent
        .regulations
        .iter()
        .filter(|r| r.published.is_some())
        .min_by_key(|r| r.published)
        .or(ent.regulations.first());
    let listed_on = ent.designated.or(first_reg.and_then(|r| r.published));
    let programmes: BTreeSet<&str> = ent
        .regulations
        .iter()
        .map(|r| r.programme.as_str())
        .filter(|p| !p.is_empty())
        .collect();
    let programmes = programmes.into_iter().collect::<Vec<_>>().join(", ");
    let mut citation = format!("EU consolidated financial sanctions list, {}", ent.eu_ref);
    if let Some(r) = first_reg {
        if !r.number_title.is_empty() {
            citation.push_str(&format!("; {}", r.number_title));
        }
        if let Some(d) = r.published {
            citation.push_str(&format!(" (published {d})"));
        }
    }
    if !programmes.is_empty() {
        citation.push_str(&format!("; programme {programmes}"));
    }
    let mut remarks = Vec::new();
    if !ent.subject.is_empty() {
        remarks.push(format!("subject type: {}", ent.subject));
    }
    if !ent.countries.is_empty() {
        let c: Vec<&str> = ent.countries.iter().map(String::as_str).collect();
        remarks.push(format!("countries (ISO 3166-1 alpha-2): {}", c.join(", ")));
    }
    Ok(ListEntry {
        list: "EU-FSF".to_string(),
        name,
        aliases,
        country: None,
        licence_requirement: format!(
            "EU financial sanctions (asset freeze; no funds or economic resources to be made \
             available){}",
            if programmes.is_empty() {
                String::new()
            } else {
                format!(", programme {programmes}")
            }
        ),
        review_policy: None,
        citation,
        listed_on: listed_on.map(|d| d.to_string()),
        remarks: if remarks.is_empty() {
            None
        } else {
            Some(remarks.join("; "))
        },
    })
}
