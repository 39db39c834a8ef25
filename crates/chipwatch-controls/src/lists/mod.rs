//! Importers for official restricted-party and sanctions lists, ownership data for the
//! affiliates rule, and screening of every party of a shipment.
//!
//! - [`crate::csl`]: US Consolidated Screening List, CSV and JSON.
//! - [`eu_fsf`]: EU consolidated financial sanctions list, FSF "export" XML.
//! - [`uk`]: the FCDO UK Sanctions List, CSV.
//! - [`jp_eul`]: Japan METI End User List, CSV/TSV as exported from the official Excel file.
//! - [`ownership`]: ownership data the user loads and the BIS affiliates rule (50% owned).
//! - [`parties`]: screening of every party of a shipment, by role.
//!
//! Every importer produces the project's list format ([`RestrictedList`]) and keeps the list's
//! publication date (from the file, or the `--date` the user gives when the file has none; both
//! present and different is an error, never a silent choice) and its row count. Errors name the
//! file and the line (or XML element path) and field.

pub mod eu_fsf;
pub mod jp_eul;
pub mod ownership;
pub mod parties;
pub mod uk;

use crate::screening::RestrictedList;
use crate::{ControlsError, Date};

/// The publication date of an imported list: the file's own, else the one given with `--date`.
pub(crate) fn resolve_date(
    in_file: Option<Date>,
    given: Option<Date>,
    file: &str,
    field: &str,
) -> Result<Date, ControlsError> {
    match (in_file, given) {
        (Some(f), Some(g)) if f != g => Err(ControlsError::Field {
            file: file.to_string(),
            field: field.to_string(),
            message: format!(
                "the file says it was published {f} but --date says {g}; drop --date or check \
                 the file"
            ),
        }),
        (Some(d), _) | (None, Some(d)) => Ok(d),
        (None, None) => Err(ControlsError::Field {
            file: file.to_string(),
            field: field.to_string(),
            message: "the file carries no publication date; give it with --date YYYY-MM-DD"
                .to_string(),
        }),
    }
}

/// Text without a leading byte-order mark.
pub(crate) fn strip_bom(text: &str) -> &str {
    text.strip_prefix('\u{feff}').unwrap_or(text)
}

/// 1-based line of byte offset `pos` in `text`.
pub(crate) fn line_at(text: &str, pos: usize) -> u64 {
    let end = pos.min(text.len());
    text.as_bytes()[..end]
        .iter()
        .filter(|&&b| b == b'\n')
        .count() as u64
        + 1
}

const MONTHS: [&str; 12] = [
    "jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec",
];

fn month_of(word: &str) -> Option<u32> {
    let w = word.trim_end_matches('.').to_ascii_lowercase();
    if w.len() < 3 {
        return None;
    }
    MONTHS
        .iter()
        .position(|m| w.starts_with(m) && m.starts_with(&w[..3]))
        .map(|i| i as u32 + 1)
}

/// A date in one of the forms official lists use: `2026-02-13` (also with a time after it),
/// `2026/02/13`, `13/02/2026` (day first, as in UK files), `13-Feb-2026`, `13 February 2026`,
/// `February 13, 2026`.
pub fn parse_list_date(s: &str) -> Option<Date> {
    let t = s.trim();
    if t.len() >= 10 && t.is_char_boundary(10) {
        let head = &t[..10];
        if let Ok(d) = Date::parse(head) {
            return Some(d);
        }
        if let Ok(d) = Date::parse(&head.replace('/', "-")) {
            return Some(d);
        }
    }
    let parts: Vec<&str> = t
        .split(['/', '-', ' ', ','])
        .filter(|p| !p.is_empty())
        .collect();
    if parts.len() != 3 {
        return None;
    }
    let num = |p: &str| p.parse::<u32>().ok();
    let year = |p: &str| (p.len() == 4).then(|| p.parse::<i32>().ok()).flatten();
    // day/month/year with a numeric or named month
    if let (Some(d), Some(y)) = (num(parts[0]), year(parts[2])) {
        let m = num(parts[1]).or_else(|| month_of(parts[1]))?;
        return Date::new(y, m, d);
    }
    // Month day, year
    if let (Some(m), Some(d), Some(y)) = (month_of(parts[0]), num(parts[1]), year(parts[2])) {
        return Date::new(y, m, d);
    }
    None
}

/// The first date written anywhere in a title line: a word (`2026/09/29`, `29/09/2026`), three
/// words (`September 29, 2026`, `29 September 2026`), or `2026年9月29日`.
pub fn find_date(line: &str) -> Option<Date> {
    let words: Vec<&str> = line
        .split(|c: char| {
            c.is_whitespace() || matches!(c, '(' | ')' | '（' | '）' | '"' | '\t' | '：')
        })
        .map(|w| w.trim_matches(|c: char| matches!(c, ',' | ':' | '.' | ';')))
        .filter(|w| !w.is_empty())
        .collect();
    for (i, w) in words.iter().enumerate() {
        if let Some(d) = parse_list_date(w).or_else(|| kanji_date(w)) {
            return Some(d);
        }
        if let Some(three) = words.get(i..i + 3) {
            if let Some(d) = parse_list_date(&three.join(" ")) {
                return Some(d);
            }
        }
    }
    None
}

/// `2026年9月29日` (possibly after other text in the same word).
fn kanji_date(w: &str) -> Option<Date> {
    let start = w.find(|c: char| c.is_ascii_digit())?;
    let t = &w[start..];
    let (y, rest) = t.split_once('年')?;
    let (m, rest) = rest.split_once('月')?;
    let d = rest.split_once('日').map_or(rest, |(d, _)| d);
    Date::new(y.parse().ok()?, m.parse().ok()?, d.parse().ok()?)
}

/// Official formats [`import_any`] recognises.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// The project's list TOML.
    Toml,
    CslCsv,
    CslJson,
    EuFsfXml,
    UkSanctionsCsv,
    JpEulCsv,
}

/// Recognise a list file's format from its content (file extensions lie; headers do not).
pub fn sniff(text: &str) -> Format {
    let t = strip_bom(text).trim_start();
    let json_array = t
        .strip_prefix('[')
        .is_some_and(|r| matches!(r.trim_start().chars().next(), Some('{') | Some(']') | None));
    if t.starts_with('{') || json_array {
        return Format::CslJson;
    }
    if t.starts_with('<') {
        return Format::EuFsfXml;
    }
    // The project's TOML: its first line that is not a comment opens a table.
    let first = t
        .lines()
        .map(str::trim)
        .find(|l| !l.is_empty() && !l.starts_with('#'))
        .unwrap_or("");
    if first.starts_with("[meta]") || first.starts_with("[[entry]]") {
        return Format::Toml;
    }
    let head: String = t.lines().take(12).collect::<Vec<_>>().join("\n");
    let lower = head.to_ascii_lowercase();
    if lower.starts_with("report date") || lower.contains("unique id") {
        Format::UkSanctionsCsv
    } else if lower.contains("company or organization")
        || head.contains("企業名")
        || lower.contains("type of wmd")
    {
        Format::JpEulCsv
    } else if lower.contains("source") && lower.contains("name") {
        Format::CslCsv
    } else {
        Format::Toml
    }
}

/// Load a list file in any supported format, recognised by [`sniff`]; `date` is the
/// publication date for files that carry none.
pub fn import_any(
    text: &str,
    file: &str,
    date: Option<Date>,
) -> Result<RestrictedList, ControlsError> {
    match sniff(text) {
        Format::Toml => RestrictedList::from_toml_str(text, file),
        Format::CslCsv => crate::csl::import_csl(text, file, date),
        Format::CslJson => crate::csl::import_csl_json(text, file, date),
        Format::EuFsfXml => eu_fsf::import_eu_fsf(text, file, date),
        Format::UkSanctionsCsv => uk::import_uk_sanctions(text, file, date),
        Format::JpEulCsv => jp_eul::import_jp_eul(text, file, date),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn list_dates() {
        let d = |s: &str| parse_list_date(s).map(|d| d.to_string());
        assert_eq!(d("2026-02-13").as_deref(), Some("2026-02-13"));
        assert_eq!(
            d("2026-02-13T10:11:12.123+01:00").as_deref(),
            Some("2026-02-13")
        );
        assert_eq!(d("2026/02/13").as_deref(), Some("2026-02-13"));
        assert_eq!(d("13/02/2026").as_deref(), Some("2026-02-13"));
        assert_eq!(d("13-Feb-2026").as_deref(), Some("2026-02-13"));
        assert_eq!(d("13 February 2026").as_deref(), Some("2026-02-13"));
        assert_eq!(d("February 13, 2026").as_deref(), Some("2026-02-13"));
        assert_eq!(d("31/02/2026"), None);
        let f = |s: &str| find_date(s).map(|d| d.to_string());
        assert_eq!(f("改正 2026/09/29").as_deref(), Some("2026-09-29"));
        assert_eq!(
            f("Revised: September 29, 2026").as_deref(),
            Some("2026-09-29")
        );
        assert_eq!(
            f("(as of 29 September 2026)").as_deref(),
            Some("2026-09-29")
        );
        assert_eq!(f("改正日：2026年9月29日").as_deref(), Some("2026-09-29"));
        assert_eq!(f("End User List"), None);
        assert_eq!(d("13-Foo-2026"), None);
        assert_eq!(d("soon"), None);
        assert_eq!(d(""), None);
    }

    #[test]
    fn dates_from_file_and_flag() {
        let a = Date::parse("2026-01-02").ok();
        let b = Date::parse("2026-01-03").ok();
        assert_eq!(resolve_date(a, None, "f", "x").unwrap(), a.unwrap());
        assert_eq!(resolve_date(None, b, "f", "x").unwrap(), b.unwrap());
        assert_eq!(resolve_date(a, a, "f", "x").unwrap(), a.unwrap());
        let e = resolve_date(a, b, "f.csv", "Report Date")
            .unwrap_err()
            .to_string();
        assert!(e.contains("f.csv") && e.contains("Report Date"), "{e}");
        let e = resolve_date(None, None, "f.csv", "date")
            .unwrap_err()
            .to_string();
        assert!(e.contains("--date"), "{e}");
    }

    #[test]
    fn sniffing() {
        assert_eq!(sniff("\u{feff}{\"results\": []}"), Format::CslJson);
        assert_eq!(sniff("<?xml version=\"1.0\"?><export/>"), Format::EuFsfXml);
        assert_eq!(
            sniff("Report Date: 13-Feb-2026\nLast Updated,Unique ID"),
            Format::UkSanctionsCsv
        );
        assert_eq!(
            sniff("No.,Country or Region,Company or Organization"),
            Format::JpEulCsv
        );
        assert_eq!(sniff("_id,source,name\n"), Format::CslCsv);
        assert_eq!(sniff("[meta]\nname = \"x\""), Format::Toml);
        // Comments that mention a source and a name do not make a TOML file a CSL CSV.
        let commented = format!(
            "{}[meta]\nname = \"x\"",
            "# the source and name of...\n".repeat(20)
        );
        assert_eq!(sniff(&commented), Format::Toml);
    }
}
