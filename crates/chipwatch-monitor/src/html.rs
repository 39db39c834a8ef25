//! HTML to text. A small, forgiving tokenizer instead of a full HTML5 tree builder: news bodies
//! are short, often truncated by mirrors, and we only need the readable text, so a single pass
//! that drops scripts, navigation, share widgets, forms and image placeholders, turns block
//! elements into line breaks and decodes entities is both faster and more tolerant.
//!
//! The first date shaped like `13/12/2023 - 17:48` (day/month/year, the format of the seeds)
//! or a `<time datetime="...">` is returned as the body date.

/// Elements whose whole content is dropped.
const SKIP_ELEMENTS: &[&str] = &[
    "script",
    "style",
    "noscript",
    "svg",
    "iframe",
    "nav",
    "form",
    "button",
    "select",
    "template",
    "object",
    "embed",
    "canvas",
    "audio",
    "video",
    "aside",
    "footer",
    "share-button",
    "share-modal",
];
/// Attribute fragments that mark boilerplate containers (share bars, promos, newsletters).
const SKIP_ATTR_MARKS: &[&str] = &[
    "share",
    "selfpromo",
    "social",
    "newsletter",
    "advert",
    "cookie",
    "related",
    "breadcrumb",
    "promo",
    "comment",
];
const BLOCK_ELEMENTS: &[&str] = &[
    "p",
    "div",
    "br",
    "li",
    "ul",
    "ol",
    "h1",
    "h2",
    "h3",
    "h4",
    "h5",
    "h6",
    "tr",
    "td",
    "th",
    "section",
    "article",
    "blockquote",
    "hr",
    "header",
    "main",
    "figure",
    "figcaption",
    "table",
    "dd",
    "dt",
    "pre",
];
const VOID_ELEMENTS: &[&str] = &[
    "br", "hr", "img", "input", "meta", "link", "source", "wbr", "area", "base", "col", "embed",
    "param", "track",
];
/// Lines that are only a share/follow label.
const LABEL_LINES: &[&str] = &[
    "分享",
    "分享 :",
    "分享:",
    "share",
    "share:",
    "share this",
    "partager",
    "공유",
    "共有",
    "delen",
    "分享到",
    "follow us",
];

/// Result of cleaning an HTML body.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Cleaned {
    pub text: String,
    /// Body date found (ISO 8601 local time without offset, or as given by `<time datetime>`).
    pub date: Option<String>,
    /// The HTML ended inside a tag or comment.
    pub truncated: bool,
}

/// Clean an HTML fragment or page to text with one line per block.
pub fn clean(html: &str) -> Cleaned {
    let b = html.as_bytes();
    let mut out = String::with_capacity(html.len() / 2);
    let mut date = None;
    let mut truncated = false;
    let mut i = 0;
    // (element name, nesting depth) of the element being skipped.
    let mut skip: Option<(String, usize)> = None;
    let mut text_start = 0;
    while i < b.len() {
        if b[i] != b'<' {
            i += 1;
            continue;
        }
        // Flush text before the tag.
        if skip.is_none() && text_start < i {
            push_text(&mut out, &html[text_start..i]);
        }
        if html[i..].starts_with("<!--") {
            match html[i + 4..].find("-->") {
                Some(e) => i = i + 4 + e + 3,
                None => {
                    truncated = true;
                    i = b.len();
                }
            }
            text_start = i;
            continue;
        }
        // Find the end of the tag, honouring quoted attribute values.
        let mut j = i + 1;
        let mut quote = 0u8;
        while j < b.len() {
            let c = b[j];
            if quote != 0 {
                if c == quote {
                    quote = 0;
                }
            } else if c == b'"' || c == b'\'' {
                quote = c;
            } else if c == b'>' {
                break;
            }
            j += 1;
        }
        if j >= b.len() {
            truncated = true;
            text_start = b.len();
            break;
        }
        let tag = &html[i + 1..j];
        i = j + 1;
        text_start = i;
        let closing = tag.starts_with('/');
        let tag_body = tag.trim_start_matches('/');
        let name_end = tag_body
            .find(|c: char| c.is_ascii_whitespace() || c == '/' || c == '>')
            .unwrap_or(tag_body.len());
        let name = tag_body[..name_end].to_ascii_lowercase();
        if name.is_empty() || name.starts_with('!') || name.starts_with('?') {
            continue; // doctype, processing instruction, stray `<`
        }
        let self_closing = tag.ends_with('/') || VOID_ELEMENTS.contains(&name.as_str());
        if let Some((skip_name, depth)) = skip.as_mut() {
            if *skip_name == name && !self_closing {
                if closing {
                    *depth -= 1;
                    if *depth == 0 {
                        skip = None;
                        out.push('\n');
                    }
                } else {
                    *depth += 1;
                }
            }
            continue;
        }
        if !closing {
            let attrs = tag_body[name_end..].to_ascii_lowercase();
            if name == "time" && date.is_none() {
                date = attr_value(&attrs, "datetime");
            }
            let skip_it = SKIP_ELEMENTS.contains(&name.as_str())
                || (!attrs.is_empty() && SKIP_ATTR_MARKS.iter().any(|m| attrs.contains(m)));
            if skip_it && !self_closing {
                skip = Some((name, 1));
                continue;
            }
        }
        if BLOCK_ELEMENTS.contains(&name.as_str()) {
            out.push('\n');
        }
    }
    if skip.is_none() && text_start < b.len() {
        push_text(&mut out, &html[text_start..]);
    }
    let text = finish(&out);
    if date.is_none() {
        date = body_date(&text);
    }
    Cleaned {
        text,
        date,
        truncated,
    }
}

fn attr_value(attrs: &str, name: &str) -> Option<String> {
    let p = attrs.find(&format!("{name}="))? + name.len() + 1;
    let rest = &attrs[p..];
    let v = if let Some(r) = rest.strip_prefix('"') {
        r.split('"').next()?
    } else if let Some(r) = rest.strip_prefix('\'') {
        r.split('\'').next()?
    } else {
        rest.split_ascii_whitespace().next()?
    };
    Some(v.trim().to_uppercase()).filter(|s| !s.is_empty())
}

fn push_text(out: &mut String, raw: &str) {
    if raw.contains('&') {
        out.push_str(&decode_entities(raw));
    } else {
        out.push_str(raw);
    }
}

/// Collapse whitespace inside lines, drop empty and label-only lines.
fn finish(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for line in s.split('\n') {
        let mut l = String::with_capacity(line.len());
        for w in line.split(|c: char| c.is_whitespace() || c == '\u{a0}') {
            if w.is_empty() {
                continue;
            }
            if !l.is_empty() {
                l.push(' ');
            }
            l.push_str(w);
        }
        if l.is_empty() || LABEL_LINES.contains(&l.to_lowercase().as_str()) {
            continue;
        }
        if !out.is_empty() {
            out.push('\n');
        }
        out.push_str(&l);
    }
    out
}

/// Normalise plain text the same way as cleaned HTML (whitespace, empty lines).
pub fn clean_text(s: &str) -> String {
    finish(&s.replace("\r\n", "\n"))
}

/// Decode HTML character references: numeric ones and the named ones news pages use.
pub fn decode_entities(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut rest = s;
    while let Some(p) = rest.find('&') {
        out.push_str(&rest[..p]);
        let after = &rest[p + 1..];
        let end = after.find(';').filter(|&e| e <= 10);
        let decoded = end.and_then(|e| {
            let ent = &after[..e];
            let c = if let Some(num) = ent.strip_prefix("#x").or_else(|| ent.strip_prefix("#X")) {
                u32::from_str_radix(num, 16).ok().and_then(char::from_u32)
            } else if let Some(num) = ent.strip_prefix('#') {
                num.parse::<u32>().ok().and_then(char::from_u32)
            } else {
                named_entity(ent)
            };
            c.map(|c| (c, e))
        });
        match decoded {
            Some((c, e)) => {
                out.push(c);
                rest = &after[e + 1..];
            }
            None => {
                out.push('&');
                rest = after;
            }
        }
    }
    out.push_str(rest);
    out
}

fn named_entity(name: &str) -> Option<char> {
    Some(match name {
        "amp" => '&',
        "lt" => '<',
        "gt" => '>',
        "quot" => '"',
        "apos" => '\'',
        "nbsp" => ' ',
        "mdash" => '—',
        "ndash" => '–',
        "hellip" => '…',
        "lsquo" => '‘',
        "rsquo" => '’',
        "ldquo" => '“',
        "rdquo" => '”',
        "middot" => '·',
        "laquo" => '«',
        "raquo" => '»',
        "euro" => '€',
        "copy" => '©',
        "reg" => '®',
        "eacute" => 'é',
        "euml" => 'ë',
        "uuml" => 'ü',
        "ouml" => 'ö',
        _ => return None,
    })
}

/// A date shaped `dd/mm/yyyy - hh:mm` (or without the time) in the first lines of the text.
pub fn body_date(text: &str) -> Option<String> {
    for line in text.lines().take(5) {
        let l = line.trim();
        if l.len() > 40 {
            continue;
        }
        if let Some(d) = parse_dmy(l) {
            return Some(d);
        }
    }
    None
}

fn parse_dmy(l: &str) -> Option<String> {
    let (date, time) = match l.split_once(" - ") {
        Some((d, t)) => (d.trim(), Some(t.trim())),
        None => (l, None),
    };
    let mut parts = date.split(['/', '.']);
    let d: u32 = parts.next()?.trim().parse().ok()?;
    let m: u32 = parts.next()?.trim().parse().ok()?;
    let y: i32 = parts.next()?.trim().parse().ok()?;
    if parts.next().is_some() {
        return None;
    }
    let nd = chrono::NaiveDate::from_ymd_opt(y, m, d)?;
    match time {
        Some(t) => {
            let (h, mi) = t.split_once(':')?;
            let tm = chrono::NaiveTime::from_hms_opt(
                h.trim().parse().ok()?,
                mi.trim().parse().ok()?,
                0,
            )?;
            Some(nd.and_time(tm).format("%Y-%m-%dT%H:%M:%S").to_string())
        }
        None => Some(nd.format("%Y-%m-%d").to_string()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn drops_boilerplate_and_keeps_text() {
        let h = r#"<div>13/12/2023 - 17:48</div><img src="x.jpg"><p><strong>Lead  text.</strong></p><script>var x="<p>";</script><div><p>Body &amp; more&#12290;</p><div data-selfpromo-newsletter></div></div><div><div>分享 :</div><div><a href="u"><span></span></a><span data-root-share><share-button v-on:open="o"></share-button></span></div></div>"#;
        let c = clean(h);
        assert_eq!(c.text, "13/12/2023 - 17:48\nLead text.\nBody & more。");
        assert_eq!(c.date.as_deref(), Some("2023-12-13T17:48:00"));
        assert!(!c.truncated);
    }

    #[test]
    fn truncated_html() {
        let c = clean("<p>Hello world</p><p>Second <a href=\"http://x");
        assert!(c.truncated);
        assert_eq!(c.text, "Hello world\nSecond");
        let c = clean("<p>a</p><!-- unterminated");
        assert!(c.truncated);
        assert_eq!(c.text, "a");
    }

    #[test]
    fn nested_skips_and_time_tag() {
        let c = clean(
            r#"<nav><nav>x</nav>y</nav><p>z</p><time datetime="2024-01-01T10:00:00Z">x</time>"#,
        );
        assert_eq!(c.text, "z\nx");
        assert_eq!(c.date.as_deref(), Some("2024-01-01T10:00:00Z"));
    }

    #[test]
    fn entities() {
        assert_eq!(
            decode_entities("a &lt;b&gt; &#x4e2d;&#22269; &bogus; & x"),
            "a <b> 中国 &bogus; & x"
        );
    }

    #[test]
    fn dates() {
        assert_eq!(
            body_date("27/03/2024 - 16:17\nx").as_deref(),
            Some("2024-03-27T16:17:00")
        );
        assert_eq!(body_date("31/02/2024"), None);
        assert_eq!(body_date("hello"), None);
    }
}
