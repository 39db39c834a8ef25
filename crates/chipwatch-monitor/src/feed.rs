//! Feed reader: RSS 0.9x/1.0/2.0, Atom and JSON Feed documents via `feed-rs`. The full text of
//! an entry is taken from whichever of content, description or summary carries the most text.
//! A document that is not a feed is an error naming the source; an entry without title, link or
//! body is kept with a warning, so one bad entry never loses the others.

use crate::article::RawArticle;
use crate::MonitorError;

/// Parse a feed document. `seen_at` is when it was fetched (RFC 3339), if known.
pub fn parse(
    bytes: &[u8],
    origin: &str,
    seen_at: Option<&str>,
) -> Result<Vec<RawArticle>, MonitorError> {
    let feed = feed_rs::parser::Builder::new()
        .sanitize_content(false)
        .build()
        .parse(bytes)
        .map_err(|e| MonitorError::Feed {
            origin: origin.to_string(),
            message: e.to_string(),
        })?;
    let mut out = Vec::with_capacity(feed.entries.len());
    for (n, e) in feed.entries.into_iter().enumerate() {
        let mut raw = RawArticle::new(format!("{origin}#{}", n + 1));
        raw.title = e.title.map(|t| t.content).unwrap_or_default();
        raw.url = e
            .links
            .iter()
            .find(|l| l.rel.as_deref().is_none_or(|r| r == "alternate"))
            .or(e.links.first())
            .map(|l| l.href.trim().to_string())
            .filter(|h| !h.is_empty());
        let content = e.content.and_then(|c| c.body).unwrap_or_default();
        let summary = e.summary.map(|s| s.content).unwrap_or_default();
        raw.body = if content.trim().len() >= summary.trim().len() {
            content
        } else {
            summary
        };
        raw.is_html = raw.body.contains('<');
        raw.published_at = e
            .published
            .or(e.updated)
            .map(|d| d.to_rfc3339_opts(chrono::SecondsFormat::Secs, true));
        raw.seen_at = seen_at.map(str::to_string);
        if raw.title.trim().is_empty() {
            raw.warnings.push("entry has no title".into());
        }
        if raw.url.is_none() {
            raw.warnings.push("entry has no link".into());
        }
        if raw.body.trim().is_empty() {
            raw.warnings
                .push("entry has no content, description or summary".into());
        }
        out.push(raw);
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rss2_with_content_encoded() {
        let x = r#"<?xml version="1.0" encoding="UTF-8"?>
<rss version="2.0" xmlns:content="http://purl.org/rss/1.0/modules/content/"><channel><title>t</title>
<item><title>Dutch revoke ASML licences</title><link>https://n.example/a</link>
<description>short</description><content:encoded><![CDATA[<p>The Dutch government revoked some export licences.</p>]]></content:encoded>
<pubDate>Mon, 01 Jan 2024 10:00:00 +0000</pubDate></item>
<item><title>second</title></item></channel></rss>"#;
        let v = parse(x.as_bytes(), "f", Some("2024-01-02T00:00:00Z")).unwrap();
        assert_eq!(v.len(), 2);
        assert_eq!(v[0].url.as_deref(), Some("https://n.example/a"));
        assert!(v[0].body.contains("revoked"));
        assert!(v[0].is_html);
        assert_eq!(v[0].published_at.as_deref(), Some("2024-01-01T10:00:00Z"));
        assert!(v[1].warnings.iter().any(|w| w.contains("no link")));
    }

    #[test]
    fn rss09_rss1_atom_and_json_feed() {
        let rss091 = r#"<rss version="0.91"><channel><title>t</title><item><title>a</title><link>https://x/a</link><description>body a</description></item></channel></rss>"#;
        assert_eq!(
            parse(rss091.as_bytes(), "f", None).unwrap()[0].body,
            "body a"
        );
        let rss1 = r#"<?xml version="1.0"?><rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#" xmlns="http://purl.org/rss/1.0/"><channel rdf:about="x"><title>t</title></channel><item rdf:about="https://x/b"><title>b</title><link>https://x/b</link><description>body b</description></item></rdf:RDF>"#;
        assert_eq!(
            parse(rss1.as_bytes(), "f", None).unwrap()[0].url.as_deref(),
            Some("https://x/b")
        );
        let atom = r#"<?xml version="1.0" encoding="utf-8"?><feed xmlns="http://www.w3.org/2005/Atom"><title>t</title><id>x</id><updated>2024-01-01T00:00:00Z</updated><entry><title>c</title><id>c</id><link href="https://x/c"/><updated>2024-01-03T00:00:00Z</updated><summary>sum</summary><content type="html">&lt;p&gt;longer body c&lt;/p&gt;</content></entry></feed>"#;
        let a = parse(atom.as_bytes(), "f", None).unwrap();
        assert!(a[0].body.contains("longer body c"));
        assert_eq!(a[0].published_at.as_deref(), Some("2024-01-03T00:00:00Z"));
        let json = r#"{"version":"https://jsonfeed.org/version/1.1","title":"t","items":[{"id":"1","url":"https://x/d","title":"d","content_html":"<p>body d</p>","date_published":"2024-02-01T00:00:00Z"}]}"#;
        let j = parse(json.as_bytes(), "f", None).unwrap();
        assert_eq!(j[0].url.as_deref(), Some("https://x/d"));
        assert!(j[0].body.contains("body d"));
    }

    #[test]
    fn malformed_feeds_are_errors_not_panics() {
        for bad in [
            &b"<rss><channel><item><title>x</title></item>"[..],
            b"\x00\x01\x02\xff\xfe garbage",
            b"<?xml version=\"1.0\" encoding=\"ISO-8859-1\"?><rss version=\"2.0\"><channel><item><title>\xe4\xb8\xad</title></item></channel></rss>",
            b"{\"version\": 3",
        ] {
            let _ = parse(bad, "f", None); // may be Ok (lenient) or Err; never a panic
        }
        assert!(parse(b"\x00\x01\x02 garbage", "f", None).is_err());
    }
}
