//! Reader for feed-mirror archives (the format of the seeds): items that each start with a line
//! `<!--TIMESTAMP-->` (13 digits: milliseconds, 10: seconds; the mirror's time), then a markdown
//! link `[title](url)`, a line of dashes, the article HTML and a promo footer starting
//! `获取更多RSS` that is stripped.
//!
//! The reader is tolerant: CRLF line ends, a missing footer, escaped brackets in titles, URLs
//! with parentheses, a missing dash line and truncated HTML give warnings, never a failure. Only
//! a text with no item marker at all is an error (it is not an archive).

use crate::article::RawArticle;
use crate::MonitorError;
use chrono::{TimeZone, Utc};

/// The promo footer the mirror appends to every item.
pub const FOOTER_MARK: &str = "获取更多RSS";

/// Whether a text looks like a feed-mirror archive (first non-blank line is a timestamp marker).
pub fn sniff(text: &str) -> bool {
    let t = text.trim_start_matches('\u{feff}').trim_start();
    t.lines().next().is_some_and(|l| parse_marker(l).is_some())
}

/// Parse `<!--digits-->` (surrounding blanks allowed); returns the digits.
fn parse_marker(line: &str) -> Option<&str> {
    let l = line.trim();
    let inner = l.strip_prefix("<!--")?.strip_suffix("-->")?.trim();
    if !inner.is_empty() && inner.len() <= 20 && inner.bytes().all(|b| b.is_ascii_digit()) {
        Some(inner)
    } else {
        None
    }
}

/// Convert the marker digits to an RFC 3339 UTC time: 13 digits are milliseconds, 10 seconds.
/// Other lengths are guessed by magnitude with a warning.
fn timestamp(digits: &str, warnings: &mut Vec<String>) -> Option<String> {
    let v: i64 = match digits.parse() {
        Ok(v) => v,
        Err(_) => {
            warnings.push(format!("timestamp `{digits}` is out of range"));
            return None;
        }
    };
    let ms = match digits.len() {
        13 => v,
        10 => v.saturating_mul(1000),
        n => {
            warnings.push(format!(
                "timestamp `{digits}` has {n} digits (expected 10 or 13); read as {}",
                if n > 11 { "milliseconds" } else { "seconds" }
            ));
            if n > 11 {
                v
            } else {
                v.saturating_mul(1000)
            }
        }
    };
    match Utc.timestamp_millis_opt(ms).single() {
        Some(t) => Some(t.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)),
        None => {
            warnings.push(format!("timestamp `{digits}` is not a valid time"));
            None
        }
    }
}

/// Parse a markdown link `[title](url)`. Brackets in the title may be escaped (`\[`, `\]`) or
/// balanced; parentheses in the URL may be balanced (`.../Foo_(bar)`). Returns `None` when the
/// line is not a link.
pub fn parse_link(line: &str) -> Option<(String, String)> {
    let l = line.trim();
    let body = l.strip_prefix('[')?;
    let mut title = String::new();
    let mut depth = 0usize;
    let mut chars = body.char_indices();
    let mut url_start = None;
    while let Some((i, c)) = chars.next() {
        match c {
            '\\' => {
                if let Some((_, n)) = chars.next() {
                    title.push(n);
                }
            }
            '[' => {
                depth += 1;
                title.push(c);
            }
            ']' if depth > 0 => {
                depth -= 1;
                title.push(c);
            }
            ']' => {
                if body[i + 1..].starts_with('(') {
                    url_start = Some(i + 2);
                    break;
                }
                // A lone `]` not followed by `(`: part of the title.
                title.push(c);
            }
            _ => title.push(c),
        }
    }
    let rest = &body[url_start?..];
    // The URL ends at the `)` that balances the opening one; if none balances, at the last `)`.
    let mut depth = 0usize;
    let mut end = None;
    for (i, c) in rest.char_indices() {
        match c {
            '(' => depth += 1,
            ')' if depth == 0 => {
                end = Some(i);
                break;
            }
            ')' => depth -= 1,
            _ => {}
        }
    }
    let end = end.or_else(|| rest.rfind(')'))?;
    let url = rest[..end].trim();
    let url = url.split_once(" \"").map_or(url, |(u, _)| u).to_string();
    Some((title.trim().to_string(), url))
}

/// Split an archive into raw articles. `origin` names the file; items are `origin#1`, `#2`...
pub fn parse(text: &str, origin: &str) -> Result<Vec<RawArticle>, MonitorError> {
    let text = text.trim_start_matches('\u{feff}');
    // Items start at marker lines; `lines()` drops the `\n`, and `\r` is trimmed per line.
    let lines: Vec<&str> = text
        .split('\n')
        .map(|l| l.strip_suffix('\r').unwrap_or(l))
        .collect();
    let starts: Vec<usize> = lines
        .iter()
        .enumerate()
        .filter(|(_, l)| parse_marker(l).is_some())
        .map(|(i, _)| i)
        .collect();
    if starts.is_empty() {
        return Err(MonitorError::Input {
            origin: origin.to_string(),
            message: "no `<!--TIMESTAMP-->` item marker: not a feed-mirror archive".into(),
        });
    }
    let mut out = Vec::with_capacity(starts.len());
    let preamble = lines[..starts[0]].iter().any(|l| !l.trim().is_empty());
    for (n, &s) in starts.iter().enumerate() {
        let end = starts.get(n + 1).copied().unwrap_or(lines.len());
        let mut raw = RawArticle::new(format!("{origin}#{}", n + 1));
        if n == 0 && preamble {
            raw.warnings.push(format!(
                "{origin}: text before the first item marker ignored"
            ));
        }
        let digits = parse_marker(lines[s]).unwrap_or_default();
        raw.seen_at = timestamp(digits, &mut raw.warnings);
        let mut i = s + 1;
        while i < end && lines[i].trim().is_empty() {
            i += 1;
        }
        if i < end {
            match parse_link(lines[i]) {
                Some((title, url)) => {
                    raw.title = title;
                    raw.url = Some(url).filter(|u| !u.is_empty());
                    i += 1;
                }
                None => {
                    raw.warnings.push(format!(
                        "line {}: expected a markdown link `[title](url)`; no title or URL taken",
                        i + 1
                    ));
                }
            }
        }
        while i < end && lines[i].trim().is_empty() {
            i += 1;
        }
        if i < end && lines[i].trim().len() >= 3 && lines[i].trim().bytes().all(|b| b == b'-') {
            i += 1;
        } else {
            raw.warnings.push(format!(
                "line {}: expected a line of dashes after the link",
                i + 1
            ));
        }
        let html = lines[i.min(end)..end].join("\n");
        raw.body = strip_footer(&html, &mut raw.warnings);
        raw.is_html = true;
        if raw.body.trim().is_empty() {
            raw.warnings.push("item has an empty body".into());
        }
        out.push(raw);
    }
    Ok(out)
}

/// Cut the promo footer: from the `<hr>` or `<div>` that opens it (looked for shortly before
/// the mark) to the end.
fn strip_footer(html: &str, warnings: &mut Vec<String>) -> String {
    match html.find(FOOTER_MARK) {
        Some(pos) => {
            let window_start = pos.saturating_sub(80);
            let head = &html[..pos];
            let cut = [head.rfind("<hr"), head.rfind("<div")]
                .into_iter()
                .flatten()
                .filter(|&c| c >= window_start)
                .min()
                .unwrap_or(pos);
            html[..cut].trim_end().to_string()
        }
        None => {
            warnings.push(format!(
                "no promo footer (`{FOOTER_MARK}`) found; kept the whole body"
            ));
            html.trim_end().to_string()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const ITEM: &str = "<!--1702487702000-->\n[韩荷两国发表联合声明](https://www.rfi.fr/cn/a)\n------\n\n<div>13/12/2023 - 17:48</div><p>正文。</p><br><hr><div>获取更多RSS：<br><a href=\"https://feedx.net\">x</a></div>\n";

    #[test]
    fn parses_one_item() {
        let v = parse(ITEM, "f").unwrap();
        assert_eq!(v.len(), 1);
        let a = &v[0];
        assert_eq!(a.title, "韩荷两国发表联合声明");
        assert_eq!(a.url.as_deref(), Some("https://www.rfi.fr/cn/a"));
        assert_eq!(a.seen_at.as_deref(), Some("2023-12-13T17:15:02Z"));
        assert!(!a.body.contains("获取更多"), "{}", a.body);
        assert!(!a.body.contains("<hr"), "{}", a.body);
        assert!(a.body.contains("正文"));
        assert!(a.warnings.is_empty(), "{:?}", a.warnings);
    }

    #[test]
    fn crlf_and_ten_digit_timestamp() {
        let t = ITEM
            .replace('\n', "\r\n")
            .replace("1702487702000", "1702487702");
        let v = parse(&t, "f").unwrap();
        assert_eq!(v[0].seen_at.as_deref(), Some("2023-12-13T17:15:02Z"));
        assert_eq!(v[0].url.as_deref(), Some("https://www.rfi.fr/cn/a"));
        assert!(v[0].warnings.is_empty(), "{:?}", v[0].warnings);
    }

    #[test]
    fn odd_timestamp_length_warns() {
        let t = ITEM.replace("1702487702000", "17024877020");
        let v = parse(&t, "f").unwrap();
        assert!(v[0].seen_at.is_some());
        assert!(v[0].warnings[0].contains("11 digits"));
    }

    #[test]
    fn missing_footer_warns() {
        let t = "<!--1702487702000-->\n[T](https://x.org/a)\n---\n<p>body</p>";
        let v = parse(t, "f").unwrap();
        assert_eq!(v[0].body, "<p>body</p>");
        assert!(v[0].warnings.iter().any(|w| w.contains("footer")));
    }

    #[test]
    fn escaped_brackets_and_parenthesised_urls() {
        assert_eq!(
            parse_link(r"[Chips \[update\] today](https://en.wikipedia.org/wiki/ASML_(company))"),
            Some((
                "Chips [update] today".to_string(),
                "https://en.wikipedia.org/wiki/ASML_(company)".to_string()
            ))
        );
        assert_eq!(
            parse_link("[a [nested] title](https://x.org/q?a=(1)(2))"),
            Some((
                "a [nested] title".to_string(),
                "https://x.org/q?a=(1)(2)".to_string()
            ))
        );
        assert_eq!(parse_link("no link here"), None);
        assert_eq!(parse_link("[unterminated"), None);
    }

    #[test]
    fn several_items_and_missing_link() {
        let t = format!("{ITEM}\n<!--1702487703000-->\nnot a link\n------\n<p>x</p>\n");
        let v = parse(&t, "f").unwrap();
        assert_eq!(v.len(), 2);
        assert_eq!(v[1].source, "f#2");
        assert!(v[1].warnings.iter().any(|w| w.contains("markdown link")));
    }

    #[test]
    fn not_an_archive() {
        assert!(parse("hello", "f").is_err());
        assert!(!sniff("<html>"));
        assert!(sniff("\u{feff}\n<!--1702487702000-->\n"));
    }
}
