//! Country codes: ISO 3166-1 alpha-3, checked against the standard's full list.
//!
//! A licence determination for `NDL` (a typo for NLD) must not quietly run as "some country no
//! measure names" and come back `not_required`: every country a user gives is checked against the
//! 249 codes of ISO 3166-1 (from the `isocountry` crate), and a code outside it is an error that
//! names the field and suggests the codes the user probably meant.
//!
//! The check runs for every row of a batch, so it is a bit test in a table of all 26^3 letter
//! triples built once, not a string match.

use crate::ControlsError;
use isocountry::CountryCode;
use std::sync::OnceLock;

const TRIPLES: usize = 26 * 26 * 26;

/// Bit per letter triple: set when the triple is an ISO 3166-1 alpha-3 code.
fn table() -> &'static [u64; TRIPLES / 64 + 1] {
    static T: OnceLock<[u64; TRIPLES / 64 + 1]> = OnceLock::new();
    T.get_or_init(|| {
        let mut t = [0u64; TRIPLES / 64 + 1];
        for c in CountryCode::as_array() {
            if let Some(i) = index(c.alpha3().as_bytes()) {
                t[i / 64] |= 1 << (i % 64);
            }
        }
        t
    })
}

/// Index of three ASCII letters (any case) in the table.
fn index(b: &[u8]) -> Option<usize> {
    match b {
        [a, b, c] if [a, b, c].iter().all(|x| x.is_ascii_alphabetic()) => {
            let l = |x: &u8| (x.to_ascii_uppercase() - b'A') as usize;
            Some((l(a) * 26 + l(b)) * 26 + l(c))
        }
        _ => None,
    }
}

/// Whether `s` (trimmed, any case) is an ISO 3166-1 alpha-3 code.
pub fn is_iso3(s: &str) -> bool {
    index(s.trim().as_bytes()).is_some_and(|i| table()[i / 64] & (1 << (i % 64)) != 0)
}

/// The English short name of an alpha-3 code.
pub fn name(code: &str) -> Option<&'static str> {
    CountryCode::for_alpha3_caseless(code.trim())
        .ok()
        .map(|c| c.name())
}

/// Normalise (trim, uppercase) a country code, or fail naming `field` with suggestions.
pub fn check(field: &str, s: &str) -> Result<String, ControlsError> {
    if is_iso3(s) {
        return Ok(s.trim().to_ascii_uppercase());
    }
    Err(ControlsError::Country {
        field: field.to_string(),
        value: s.to_string(),
        suggestions: suggest(s),
    })
}

/// Codes the user may have meant by `s`: an alpha-2 code's alpha-3 form, codes one edit or one
/// swap of adjacent letters away (NDL -> NLD), and codes whose name contains what was typed
/// ("netherlands" -> NLD). "CODE (Name)", at most six, best first.
pub fn suggest(s: &str) -> Vec<String> {
    let q = s.trim().to_ascii_uppercase();
    let mut scored: Vec<(u8, &'static str, &'static str)> = Vec::new();
    for c in CountryCode::as_array() {
        let a3 = c.alpha3();
        let score = if q.len() == 2 && c.alpha2() == q {
            0
        } else if q.len() == 3 && strsim::osa_distance(&q, a3) <= 1 {
            1
        } else if q.len() >= 4 && c.name().to_ascii_uppercase().contains(&q) {
            2
        } else {
            continue;
        };
        scored.push((score, a3, c.name()));
    }
    scored.sort();
    scored
        .into_iter()
        .take(6)
        .map(|(_, a3, n)| format!("{a3} ({n})"))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn all_codes_and_only_them() {
        assert_eq!(CountryCode::as_array().len(), 249);
        for c in CountryCode::as_array() {
            assert!(is_iso3(c.alpha3()), "{}", c.alpha3());
            assert!(is_iso3(&c.alpha3().to_ascii_lowercase()));
        }
        for bad in [
            "NDL", "XXX", "ZZZ", "EU", "EUR", "", "NL", "NLDX", "N1D", "ÄÖÜ",
        ] {
            assert!(!is_iso3(bad), "{bad}");
        }
        assert!(is_iso3(" twn "));
        assert!(is_iso3("HKG") && is_iso3("MAC") && is_iso3("KOR") && is_iso3("PRK"));
    }

    #[test]
    fn errors_name_the_field_and_suggest() {
        let e = check("to", "NDL").unwrap_err().to_string();
        assert!(e.contains("`to`") && e.contains("NDL"), "{e}");
        assert!(e.contains("NLD (Netherlands"), "{e}");
        assert!(suggest("nl")[0].starts_with("NLD"));
        assert!(suggest("Korea").iter().any(|s| s.starts_with("KOR")));
        assert_eq!(check("from", " nld ").unwrap(), "NLD");
    }
}
