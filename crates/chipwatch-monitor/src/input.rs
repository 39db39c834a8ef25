//! Reading inputs: a file or a directory of files, each sniffed as a feed-mirror archive, a feed
//! (RSS/Atom/JSON Feed), an HTML page or plain text. Each file gives its own result, so one bad
//! file (binary garbage, a 50 MB body, broken XML) is reported and the others go on.

use crate::article::RawArticle;
use crate::MonitorError;
use std::path::{Path, PathBuf};

/// Files larger than this are refused (news items are kilobytes; a huge file is a mistake or an
/// attack, and reading it whole would stall a run).
pub const DEFAULT_MAX_BYTES: u64 = 20 * 1024 * 1024;

/// What a document is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Archive,
    Feed,
    Html,
    Text,
}

/// Decide what a document is from its first bytes.
pub fn sniff(bytes: &[u8]) -> Kind {
    let b = bytes.strip_prefix(b"\xef\xbb\xbf").unwrap_or(bytes);
    let head = &b[..b.len().min(2048)];
    let head_s = String::from_utf8_lossy(head);
    let trimmed = head_s.trim_start();
    if crate::archive::sniff(&head_s) {
        return Kind::Archive;
    }
    if trimmed.starts_with('{') {
        return Kind::Feed;
    }
    let lower = trimmed.to_ascii_lowercase();
    if lower.contains("<rss") || lower.contains("<feed") || lower.contains("<rdf:rdf") {
        return Kind::Feed;
    }
    if lower.starts_with('<')
        || lower.contains("<html")
        || lower.contains("<p>")
        || lower.contains("<div")
    {
        return Kind::Html;
    }
    Kind::Text
}

/// Reject binary content: NUL bytes or many control characters.
fn check_text(bytes: &[u8], origin: &str) -> Result<(), MonitorError> {
    let sample = &bytes[..bytes.len().min(8192)];
    let ctrl = sample
        .iter()
        .filter(|&&c| c == 0 || (c < 0x20 && !matches!(c, b'\n' | b'\r' | b'\t' | 0x0c)))
        .count();
    if ctrl > 0 && (sample.contains(&0) || ctrl * 20 > sample.len()) {
        return Err(MonitorError::Input {
            origin: origin.to_string(),
            message: format!(
                "binary content ({ctrl} control bytes in the first {} bytes)",
                sample.len()
            ),
        });
    }
    Ok(())
}

/// Parse one document held in memory.
pub fn parse_bytes(
    bytes: &[u8],
    origin: &str,
    seen_at: Option<&str>,
) -> Result<Vec<RawArticle>, MonitorError> {
    check_text(bytes, origin)?;
    let kind = sniff(bytes);
    if kind == Kind::Feed {
        return crate::feed::parse(bytes, origin, seen_at);
    }
    let (text, lossy) = match std::str::from_utf8(bytes) {
        Ok(s) => (std::borrow::Cow::Borrowed(s), false),
        Err(_) => (String::from_utf8_lossy(bytes), true),
    };
    let text = text.trim_start_matches('\u{feff}');
    let mut v = match kind {
        Kind::Archive => crate::archive::parse(text, origin)?,
        Kind::Html => vec![html_page(text, origin)],
        _ => vec![text_file(text, origin)],
    };
    for r in &mut v {
        if lossy {
            r.warnings
                .push("input is not valid UTF-8; invalid bytes replaced".into());
        }
        if r.seen_at.is_none() {
            r.seen_at = seen_at.map(str::to_string);
        }
    }
    Ok(v)
}

fn html_page(html: &str, origin: &str) -> RawArticle {
    let mut raw = RawArticle::new(origin);
    let lower = html.to_ascii_lowercase();
    let between = |open: &str, close: &str| -> Option<String> {
        let s = lower.find(open)?;
        let s = s + lower[s..].find('>')? + 1;
        let e = s + lower[s..].find(close)?;
        Some(crate::html::clean(&html[s..e]).text.replace('\n', " "))
    };
    raw.title = between("<title", "</title>")
        .or_else(|| between("<h1", "</h1>"))
        .unwrap_or_default();
    // The canonical link, when the page declares one.
    if let Some(p) = lower.find("rel=\"canonical\"") {
        let tag_start = lower[..p].rfind('<').unwrap_or(p);
        let tag_end = p + lower[p..].find('>').unwrap_or(0);
        let tag = &html[tag_start..tag_end];
        if let Some(h) = tag.find("href=\"") {
            raw.url = tag[h + 6..].split('"').next().map(str::to_string);
        }
    }
    // The publication date the page declares in its metadata.
    let body_start = lower.find("<body").unwrap_or(0);
    let head = if body_start > 0 {
        &html[..body_start]
    } else {
        html
    };
    if let Some(d) = crate::dates::html_meta_date(head) {
        raw.published_at = Some(d);
        raw.date_source = Some(crate::dates::DateSource::PageMetadata);
    }
    // Drop the <head> (title, meta) from the body.
    raw.body = html[body_start..].to_string();
    raw.is_html = true;
    raw
}

fn text_file(text: &str, origin: &str) -> RawArticle {
    let mut raw = RawArticle::new(origin);
    let mut lines = text.lines();
    raw.title = lines
        .by_ref()
        .map(str::trim)
        .find(|l| !l.is_empty())
        .unwrap_or("")
        .to_string();
    raw.body = lines.collect::<Vec<_>>().join("\n");
    raw
}

/// Expand paths: files as given, directories recursively (sorted, hidden files skipped).
pub fn expand(paths: &[PathBuf]) -> Vec<Result<PathBuf, MonitorError>> {
    let mut out = Vec::new();
    for p in paths {
        walk(p, &mut out);
    }
    out
}

fn walk(p: &Path, out: &mut Vec<Result<PathBuf, MonitorError>>) {
    match std::fs::metadata(p) {
        Ok(m) if m.is_dir() => match std::fs::read_dir(p) {
            Ok(rd) => {
                let mut entries: Vec<PathBuf> = rd
                    .filter_map(|e| e.ok().map(|e| e.path()))
                    .filter(|e| {
                        !e.file_name()
                            .and_then(|n| n.to_str())
                            .is_some_and(|n| n.starts_with('.'))
                    })
                    .filter(|e| e.is_dir() || is_article_file(e))
                    .collect();
                entries.sort();
                for e in entries {
                    walk(&e, out);
                }
            }
            Err(e) => out.push(Err(MonitorError::Io {
                path: p.display().to_string(),
                source: e,
            })),
        },
        Ok(_) => out.push(Ok(p.to_path_buf())),
        Err(e) => out.push(Err(MonitorError::Io {
            path: p.display().to_string(),
            source: e,
        })),
    }
}

/// Extensions read when walking a directory (files named explicitly are always read).
pub const ARTICLE_EXTENSIONS: &[&str] = &[
    "txt", "text", "html", "htm", "xhtml", "xml", "rss", "atom", "rdf", "json", "md",
];

fn is_article_file(p: &Path) -> bool {
    match p.extension().and_then(|e| e.to_str()) {
        Some(e) => ARTICLE_EXTENSIONS.contains(&e.to_ascii_lowercase().as_str()),
        None => true,
    }
}

/// Read and parse one file, refusing files over `max_bytes`.
pub fn read_file(path: &Path, max_bytes: u64) -> Result<Vec<RawArticle>, MonitorError> {
    let origin = path.display().to_string();
    let len = std::fs::metadata(path)
        .map_err(|e| MonitorError::Io {
            path: origin.clone(),
            source: e,
        })?
        .len();
    if len > max_bytes {
        return Err(MonitorError::Input {
            origin,
            message: format!("file is {len} bytes, over the {max_bytes}-byte limit"),
        });
    }
    let bytes = std::fs::read(path).map_err(|e| MonitorError::Io {
        path: origin.clone(),
        source: e,
    })?;
    parse_bytes(&bytes, &origin, None)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sniffs_kinds() {
        assert_eq!(
            sniff(b"\xef\xbb\xbf<!--1702487702000-->\n[a](b)"),
            Kind::Archive
        );
        assert_eq!(sniff(b"<?xml version=\"1.0\"?><rss>"), Kind::Feed);
        assert_eq!(
            sniff(b"  {\"version\":\"https://jsonfeed.org/version/1\"}"),
            Kind::Feed
        );
        assert_eq!(sniff(b"<!doctype html><html>"), Kind::Html);
        assert_eq!(sniff(b"Plain title\nbody"), Kind::Text);
    }

    #[test]
    fn binary_garbage_is_an_error() {
        let e = parse_bytes(b"\x00\x01\x02\x03\x89PNG\x00\x00", "g.bin", None).unwrap_err();
        assert!(e.to_string().contains("g.bin: binary content"), "{e}");
    }

    #[test]
    fn html_page_title_and_canonical() {
        let v = parse_bytes(
            b"<html><head><title>Fire at fab</title><link rel=\"canonical\" href=\"https://x.org/a\"></head><body><p>A fire broke out.</p></body></html>",
            "p.html",
            None,
        )
        .unwrap();
        assert_eq!(v[0].title, "Fire at fab");
        assert_eq!(v[0].url.as_deref(), Some("https://x.org/a"));
        assert!(!v[0].body.contains("<title>"));
    }

    #[test]
    fn too_large_file_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("big.txt");
        std::fs::write(&p, vec![b'a'; 2048]).unwrap();
        let e = read_file(&p, 1024).unwrap_err();
        assert!(e.to_string().contains("over the 1024-byte limit"), "{e}");
    }
}
