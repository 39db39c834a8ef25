//! Malformed input never panics and never stops a run: arbitrary text through the archive
//! reader, the input sniffer, the HTML cleaner and the classifier; a 50 MB body; broken feeds
//! and wrong encoding declarations give per-input errors or warnings.

use chipwatch_monitor::{archive, html, input, Article, Classifier, RawArticle};
use proptest::prelude::*;
use std::sync::OnceLock;

fn classifier() -> &'static Classifier {
    static C: OnceLock<Classifier> = OnceLock::new();
    C.get_or_init(|| Classifier::new(&chipwatch_data::default_model()).unwrap())
}

/// Fragments that exercise the parsers' edge cases, mixed by proptest.
const PIECES: &[&str] = &[
    "<!--1702487702000-->\n",
    "<!--17024877-->",
    "[",
    "]",
    "(",
    ")",
    "\\[",
    "------\n",
    "\r\n",
    "<div>",
    "</div>",
    "<p",
    ">",
    "<!--",
    "-->",
    "&amp;",
    "&#x4e2d;",
    "&#99999999;",
    "获取更多RSS",
    "荷兰政府吊销了",
    "许可证",
    "ASML",
    "US",
    "美",
    "中",
    "韩荷",
    "中国客户",
    "to China",
    "NXT:2050i",
    "。",
    ". ",
    "ＡＳＭＬ",
    "<script>",
    "</script>",
    "13/12/2023 - 17:48",
    "\u{0}",
    "é",
    "한국에 대한",
    "向け",
    "<rss>",
    "{",
];

proptest! {
    #![proptest_config(ProptestConfig { cases: 300, .. ProptestConfig::default() })]

    #[test]
    fn pieces_never_panic(idx in proptest::collection::vec(0usize..PIECES.len(), 0..60)) {
        let text: String = idx.iter().map(|&i| PIECES[i]).collect();
        let _ = html::clean(&text);
        if let Ok(items) = archive::parse(&text, "p") {
            for raw in items {
                let _ = classifier().classify(&Article::from_raw(raw));
            }
        }
        if let Ok(items) = input::parse_bytes(text.as_bytes(), "p", None) {
            for raw in items {
                let _ = classifier().classify(&Article::from_raw(raw));
            }
        }
    }

    #[test]
    fn arbitrary_text_never_panics(s in "\\PC{0,300}") {
        let mut raw = RawArticle::new("p");
        raw.title = s.chars().take(20).collect();
        raw.body = s.clone();
        raw.is_html = true;
        let _ = classifier().classify(&Article::from_raw(raw));
        let _ = input::parse_bytes(s.as_bytes(), "p", None);
    }
}

#[test]
fn fifty_megabyte_body_is_refused_per_file() {
    let dir = tempfile::tempdir().unwrap();
    let big = dir.path().join("big.html");
    let mut body = String::from("<html><body><p>");
    body.push_str(&"x".repeat(50 * 1024 * 1024));
    std::fs::write(&big, body).unwrap();
    let small = dir.path().join("small.txt");
    std::fs::write(&small, "Title\n\nbody").unwrap();
    let results: Vec<_> = input::expand(&[dir.path().to_path_buf()])
        .into_iter()
        .map(|p| p.and_then(|p| input::read_file(&p, input::DEFAULT_MAX_BYTES)))
        .collect();
    assert_eq!(results.len(), 2);
    assert!(
        results[0]
            .as_ref()
            .unwrap_err()
            .to_string()
            .contains("over the"),
        "{:?}",
        results[0]
    );
    assert_eq!(results[1].as_ref().unwrap()[0].title, "Title");
}

#[test]
fn broken_feeds_and_wrong_encoding() {
    // Bad XML: an error naming the source.
    let e = input::parse_bytes(
        b"<?xml version=\"1.0\"?><rss version=\"2.0\"><channel><item><title>a</titl></item>",
        "bad.xml",
        None,
    );
    if let Err(e) = e {
        assert!(e.to_string().contains("bad.xml"), "{e}");
    }
    // Declared Latin-1, actually UTF-8: decoded (possibly as mojibake) or refused, never a panic.
    let wrong = "<?xml version=\"1.0\" encoding=\"ISO-8859-1\"?><rss version=\"2.0\"><channel><title>t</title><item><title>荷兰</title><link>https://x/a</link><description>光刻机</description></item></channel></rss>";
    if let Ok(v) = input::parse_bytes(wrong.as_bytes(), "enc.xml", None) {
        assert_eq!(v.len(), 1);
    }
    // Invalid UTF-8 in an archive: kept with a warning.
    let mut b = b"<!--1702487702000-->\n[t](https://x/a)\n------\n<p>ok ".to_vec();
    b.extend_from_slice(&[0xff, 0xfe, b' ']);
    b.extend_from_slice("</p>获取更多RSS".as_bytes());
    let v = input::parse_bytes(&b, "a.txt", None).unwrap();
    assert!(
        v[0].warnings.iter().any(|w| w.contains("not valid UTF-8")),
        "{:?}",
        v[0].warnings
    );
}
