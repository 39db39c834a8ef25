//! Articles as the readers produce them ([`RawArticle`]: title, URL, HTML or text, times as
//! found) and after cleaning ([`Article`]: plain text, language, canonical URL, content hash).

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

/// What a reader found for one news item, before cleaning.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RawArticle {
    /// Where the item came from: a file path (with `#n` for the n-th item of an archive or feed)
    /// or a URL.
    pub source: String,
    pub url: Option<String>,
    pub title: String,
    /// The body: HTML or plain text (see `is_html`).
    pub body: String,
    pub is_html: bool,
    /// When the mirror or the poller saw the item (RFC 3339, UTC). An upper bound for the
    /// publication time, never the publication time itself.
    pub seen_at: Option<String>,
    /// Publication time given by the feed or the page (RFC 3339, or a local time without offset
    /// when the source gives none).
    pub published_at: Option<String>,
    /// Where `published_at` came from (the feed, or the page's metadata).
    pub date_source: Option<crate::dates::DateSource>,
    /// Tolerated problems (missing footer, odd timestamp, truncated HTML...).
    pub warnings: Vec<String>,
}

impl RawArticle {
    pub fn new(source: impl Into<String>) -> Self {
        RawArticle {
            source: source.into(),
            url: None,
            title: String::new(),
            body: String::new(),
            is_html: false,
            seen_at: None,
            published_at: None,
            date_source: None,
            warnings: Vec::new(),
        }
    }
}

/// A cleaned article: the original text kept for display, its language, and identities used for
/// de-duplication.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Article {
    pub source: String,
    pub url: Option<String>,
    /// Canonical form of `url` (lower-case scheme/host, no fragment, no tracking parameters).
    pub canonical_url: Option<String>,
    pub title: String,
    /// Cleaned body text in its original script (traditional Chinese stays traditional).
    pub text: String,
    /// `zh`, `zh-Hant`, `en`, `ko`, `ja`, `nl`, other ISO 639-1 codes, or `und`.
    pub language: String,
    pub seen_at: Option<String>,
    pub published_at: Option<String>,
    /// Where the publication date came from: `feed`, `page metadata`, `article text` or `url`;
    /// `None` when the article carries no date (then `published_at` is `None` too, and
    /// `seen_at` is only the time the mirror or poller saw it).
    #[serde(default)]
    pub published_at_source: Option<String>,
    /// SHA-256 (hex) of the normalised title and text: the same story re-mirrored or re-fetched
    /// hashes the same.
    pub content_hash: String,
    pub warnings: Vec<String>,
}

impl Article {
    /// Clean a raw article: HTML to text, body date, canonical URL, language, content hash.
    pub fn from_raw(raw: RawArticle) -> Article {
        let mut warnings = raw.warnings;
        let (text, body_date) = if raw.is_html {
            let cleaned = crate::html::clean(&raw.body);
            if cleaned.truncated {
                warnings.push(
                    "HTML is truncated (unclosed tag at end); kept the text before it".into(),
                );
            }
            (cleaned.text, cleaned.date)
        } else {
            (crate::html::clean_text(&raw.body), None)
        };
        use crate::dates::{self, DateSource};
        let (published_at, source) = match (raw.published_at, body_date) {
            (Some(p), _) => (Some(p), Some(raw.date_source.unwrap_or(DateSource::Feed))),
            (None, Some(d)) => (Some(d), Some(DateSource::Body)),
            (None, None) => match dates::body_date(&text) {
                Some(d) => (Some(d), Some(DateSource::Body)),
                None => match raw.url.as_deref().and_then(dates::url_date) {
                    Some(d) => (Some(d), Some(DateSource::Url)),
                    None => (None, None),
                },
            },
        };
        let published_at_source = source.map(|s| s.as_str().to_string());
        let title = crate::html::clean_text(&crate::html::decode_entities(&raw.title));
        let language = crate::lang::detect(&text, &title);
        let content_hash = content_hash(&title, &text);
        let canonical_url = raw.url.as_deref().and_then(canonical_url);
        Article {
            source: raw.source,
            url: raw.url,
            canonical_url,
            title,
            text,
            language: language.to_string(),
            seen_at: raw.seen_at,
            published_at,
            published_at_source,
            content_hash,
            warnings,
        }
    }
}

/// Hash of normalised title + text, so whitespace, width and case differences do not defeat
/// de-duplication.
pub fn content_hash(title: &str, text: &str) -> String {
    let mut h = Sha256::new();
    h.update(crate::normalize::fold(title).as_bytes());
    h.update([0u8]);
    h.update(crate::normalize::fold(text).as_bytes());
    let d = h.finalize();
    d.iter().map(|b| format!("{b:02x}")).collect()
}

/// Canonical URL: lower-case scheme and host, no fragment, no tracking parameters (`utm_*`,
/// `fbclid`, `gclid`), no trailing slash on the path, `http` folded into `https`. Returns `None`
/// for strings that are not http(s) URLs.
pub fn canonical_url(url: &str) -> Option<String> {
    let url = url.trim();
    let (scheme, rest) = url.split_once("://")?;
    let scheme = scheme.to_ascii_lowercase();
    if scheme != "http" && scheme != "https" {
        return None;
    }
    let rest = rest.split('#').next().unwrap_or("");
    let (hostpath, query) = match rest.split_once('?') {
        Some((a, q)) => (a, Some(q)),
        None => (rest, None),
    };
    let (host, path) = match hostpath.find('/') {
        Some(i) => (&hostpath[..i], &hostpath[i..]),
        None => (hostpath, "/"),
    };
    if host.is_empty() {
        return None;
    }
    let mut host = host.to_ascii_lowercase();
    if let Some(h) = host
        .strip_suffix(":443")
        .or_else(|| host.strip_suffix(":80"))
    {
        host = h.to_string();
    }
    let path = if path.len() > 1 {
        path.trim_end_matches('/')
    } else {
        path
    };
    let mut out = format!("https://{host}{path}");
    if let Some(q) = query {
        let mut kept: Vec<&str> = q
            .split('&')
            .filter(|kv| {
                let k = kv.split('=').next().unwrap_or("").to_ascii_lowercase();
                !(k.is_empty() || k.starts_with("utm_") || k == "fbclid" || k == "gclid")
            })
            .collect();
        kept.sort_unstable();
        if !kept.is_empty() {
            out.push('?');
            out.push_str(&kept.join("&"));
        }
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn canonical_urls() {
        assert_eq!(
            canonical_url("HTTP://WWW.Example.com/a/b/?utm_source=x&id=3#frag").as_deref(),
            Some("https://www.example.com/a/b?id=3")
        );
        assert_eq!(
            canonical_url("https://x.org").as_deref(),
            Some("https://x.org/")
        );
        assert_eq!(canonical_url("ftp://x.org/a"), None);
        assert_eq!(canonical_url("not a url"), None);
    }

    #[test]
    fn hash_ignores_width_and_case() {
        assert_eq!(
            content_hash("ASML", "Ｈ２０ chips"),
            content_hash("asml", "H20  chips")
        );
        assert_ne!(content_hash("ASML", "a"), content_hash("ASML", "b"));
    }
}
