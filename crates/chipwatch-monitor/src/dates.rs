//! Publication dates from what an article carries, kept apart from the mirror's time.
//!
//! In order of trust: the feed's own date (`published`/`updated`), the page's metadata
//! (`article:published_time`, `datePublished`, `<time datetime>`, `pubdate`), a dateline in the
//! first lines of the body in any of the six languages (`2024年3月12日`, `2024년 3월 12일`,
//! `2024.03.12`, `12 maart 2024`, `March 12, 2024`, `12/03/2024 - 10:00`), then the URL
//! (`/2024/03/12/`, `/20240312/`, `2024-03-12`). The source is named with the date
//! ([`DateSource`]); an article with none says so, and `seen_at` stays only an upper bound.

use chrono::NaiveDate;
use regex::Regex;
use std::sync::OnceLock;

/// Where a publication date came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DateSource {
    Feed,
    PageMetadata,
    Body,
    Url,
}

impl DateSource {
    pub fn as_str(self) -> &'static str {
        match self {
            DateSource::Feed => "feed",
            DateSource::PageMetadata => "page metadata",
            DateSource::Body => "article text",
            DateSource::Url => "url",
        }
    }
}

/// Lines of the body searched for a dateline.
const DATELINE_LINES: usize = 6;

fn ymd(y: &str, m: &str, d: &str) -> Option<String> {
    let (y, m, d): (i32, u32, u32) = (y.parse().ok()?, m.parse().ok()?, d.parse().ok()?);
    if !(1990..=2100).contains(&y) {
        return None;
    }
    NaiveDate::from_ymd_opt(y, m, d).map(|n| n.format("%Y-%m-%d").to_string())
}

fn month_number(name: &str) -> Option<u32> {
    let n = name.to_lowercase();
    let n = n.trim_end_matches('.');
    const MONTHS: &[(&[&str], u32)] = &[
        (&["january", "jan", "januari"], 1),
        (&["february", "feb", "februari"], 2),
        (&["march", "mar", "maart", "mrt"], 3),
        (&["april", "apr"], 4),
        (&["may", "mei"], 5),
        (&["june", "jun", "juni"], 6),
        (&["july", "jul", "juli"], 7),
        (&["august", "aug", "augustus"], 8),
        (&["september", "sep", "sept"], 9),
        (&["october", "oct", "oktober", "okt"], 10),
        (&["november", "nov"], 11),
        (&["december", "dec"], 12),
    ];
    MONTHS
        .iter()
        .find(|(names, _)| names.contains(&n))
        .map(|(_, m)| *m)
}

struct Patterns {
    cjk: Regex,
    iso: Regex,
    dotted: Regex,
    dmy_slash: Regex,
    day_month_year: Regex,
    month_day_year: Regex,
    url_path: Regex,
    url_compact: Regex,
}

fn patterns() -> &'static Patterns {
    static P: OnceLock<Patterns> = OnceLock::new();
    P.get_or_init(|| {
        // The patterns are constants: a failure here is a programming error caught by the tests.
        let re = |s: &str| Regex::new(s).unwrap_or_else(|e| panic!("date pattern {s}: {e}"));
        Patterns {
            // 2024年3月12日, 2024年03月12日, 2024년 3월 12일
            cjk: re(r"((?:19|20)\d{2})\s*[年년]\s*(\d{1,2})\s*[月월]\s*(\d{1,2})\s*[日일]"),
            // 2024-03-12 (also the date part of an ISO timestamp)
            iso: re(r"\b((?:19|20)\d{2})-(\d{2})-(\d{2})(?:T|\b)"),
            // 2024.03.12 or 2024/03/12 (Korean, Japanese and Chinese sites)
            dotted: re(r"\b((?:19|20)\d{2})[./](\d{1,2})[./](\d{1,2})\b"),
            // 12/03/2024 or 12-03-2024 (day first, as European sites and the seeds write)
            dmy_slash: re(r"\b(\d{1,2})[/-](\d{1,2})[/-]((?:19|20)\d{2})\b"),
            // 12 maart 2024, 12 March 2024
            day_month_year: re(r"(?i)\b(\d{1,2})\s+([a-z]{3,9}\.?)\s+((?:19|20)\d{2})\b"),
            // March 12, 2024
            month_day_year: re(r"(?i)\b([a-z]{3,9}\.?)\s+(\d{1,2}),?\s+((?:19|20)\d{2})\b"),
            // /2024/03/12/ or /2024-03-12
            url_path: re(r"/((?:19|20)\d{2})[/-](\d{1,2})[/-](\d{1,2})(?:[/-]|$|\.)"),
            // /20240312/ or _20240312
            url_compact: re(r"[/_-]((?:19|20)\d{2})(\d{2})(\d{2})(?:[/_.-]|$)"),
        }
    })
}

/// The first date in `line`, as `YYYY-MM-DD`.
pub fn date_in_line(line: &str) -> Option<String> {
    let p = patterns();
    let mut found: Vec<(usize, String)> = Vec::new();
    for c in p.cjk.captures_iter(line) {
        if let (Some(m), Some(d)) = (c.get(0), ymd(&c[1], &c[2], &c[3])) {
            found.push((m.start(), d));
        }
    }
    for r in [&p.iso, &p.dotted] {
        for c in r.captures_iter(line) {
            if let (Some(m), Some(d)) = (c.get(0), ymd(&c[1], &c[2], &c[3])) {
                found.push((m.start(), d));
            }
        }
    }
    for c in p.dmy_slash.captures_iter(line) {
        if let (Some(m), Some(d)) = (c.get(0), ymd(&c[3], &c[2], &c[1])) {
            found.push((m.start(), d));
        }
    }
    for c in p.day_month_year.captures_iter(line) {
        if let (Some(m), Some(mo)) = (c.get(0), month_number(&c[2])) {
            if let Some(d) = ymd(&c[3], &mo.to_string(), &c[1]) {
                found.push((m.start(), d));
            }
        }
    }
    for c in p.month_day_year.captures_iter(line) {
        if let (Some(m), Some(mo)) = (c.get(0), month_number(&c[1])) {
            if let Some(d) = ymd(&c[3], &mo.to_string(), &c[2]) {
                found.push((m.start(), d));
            }
        }
    }
    found.into_iter().min_by_key(|(at, _)| *at).map(|(_, d)| d)
}

/// A dateline in the first lines of the text (the title excluded).
pub fn body_date(text: &str) -> Option<String> {
    text.lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .take(DATELINE_LINES)
        .find_map(date_in_line)
}

/// A date in a URL's path.
pub fn url_date(url: &str) -> Option<String> {
    let p = patterns();
    let path = url.split_once("://").map_or(url, |(_, r)| r);
    let path = path.find('/').map_or("", |i| &path[i..]);
    let path = path.split(['?', '#']).next().unwrap_or("");
    p.url_path
        .captures(path)
        .and_then(|c| ymd(&c[1], &c[2], &c[3]))
        .or_else(|| {
            p.url_compact
                .captures(path)
                .and_then(|c| ymd(&c[1], &c[2], &c[3]))
        })
}

/// A publication date in a page's `<head>`: Open Graph / article metadata, schema.org
/// `datePublished`, `pubdate`, or a `<time datetime>` (as given, an ISO 8601 string).
pub fn html_meta_date(html: &str) -> Option<String> {
    static RE: OnceLock<Regex> = OnceLock::new();
    let re = RE.get_or_init(|| {
        Regex::new(
            r#"(?is)(?:(?:property|name|itemprop)\s*=\s*["'](?:article:published_time|og:published_time|datepublished|pubdate|publishdate|date|dc\.date)["'][^>]*?content\s*=\s*["']([^"']+)["']|content\s*=\s*["']([^"']+)["'][^>]*?(?:property|name|itemprop)\s*=\s*["'](?:article:published_time|og:published_time|datepublished|pubdate|publishdate)["']|"datePublished"\s*:\s*"([^"]+)"|<time[^>]*datetime\s*=\s*["']([^"']+)["'])"#,
        )
        .unwrap_or_else(|e| panic!("meta date pattern: {e}"))
    });
    re.captures(html).and_then(|c| {
        (1..=4)
            .filter_map(|i| c.get(i))
            .map(|m| m.as_str().trim().to_string())
            .find(|v| date_in_line(v).is_some())
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn datelines_in_every_language() {
        for (line, want) in [
            ("新华社北京2024年3月12日电", "2024-03-12"),
            ("發布時間：2023年10月17日 22:15", "2023-10-17"),
            ("(서울=연합뉴스) 2024년 9월 5일 기자", "2024-09-05"),
            ("입력 2024.09.05 14:21", "2024-09-05"),
            ("2023/07/23 08:00 日本経済新聞", "2023-07-23"),
            ("VELDHOVEN, 12 maart 2024 - ASML", "2024-03-12"),
            ("Gepubliceerd: 1 januari 2024", "2024-01-01"),
            ("TAIPEI, March 3, 2024 (Reuters) -", "2024-03-03"),
            ("Published 3 Apr 2024", "2024-04-03"),
            ("13/12/2023 - 17:48", "2023-12-13"),
            ("2024-06-30T08:00:00+09:00", "2024-06-30"),
        ] {
            assert_eq!(date_in_line(line).as_deref(), Some(want), "{line}");
        }
    }

    #[test]
    fn impossible_and_partial_dates_are_no_dates() {
        for line in [
            "12日，荷兰政府宣布",     // day only: no year
            "3월 12일 발표",          // no year
            "31/02/2024",             // no such day
            "2024年13月1日",          // no such month
            "version 1.2.3 released", // not a date
            "7 nm and 2024 targets",  // no month
        ] {
            assert_eq!(date_in_line(line), None, "{line}");
        }
    }

    #[test]
    fn dates_in_urls() {
        assert_eq!(
            url_date("https://www.example.nl/nieuws/2024/03/12/asml-vergunning").as_deref(),
            Some("2024-03-12")
        );
        assert_eq!(
            url_date("https://news.example.kr/article/20240905001234?utm=x").as_deref(),
            None,
            "a long article number is not a date"
        );
        assert_eq!(
            url_date("https://news.example.kr/view/20240905/123").as_deref(),
            Some("2024-09-05")
        );
        assert_eq!(
            url_date("https://example.com/2024-01-05-fab-fire.html").as_deref(),
            Some("2024-01-05")
        );
        assert_eq!(url_date("https://example.com/p/12345"), None);
        assert_eq!(url_date("https://2024-03-12.example.com/x"), None, "host");
    }

    #[test]
    fn page_metadata() {
        assert_eq!(
            html_meta_date(
                r#"<meta property="article:published_time" content="2024-03-12T09:30:00+01:00">"#
            )
            .as_deref(),
            Some("2024-03-12T09:30:00+01:00")
        );
        assert_eq!(
            html_meta_date(r#"<meta content="2023-10-17" name="pubdate">"#).as_deref(),
            Some("2023-10-17")
        );
        assert_eq!(
            html_meta_date(r#"<script type="application/ld+json">{"datePublished":"2024-09-05T14:21:00+09:00"}</script>"#)
                .as_deref(),
            Some("2024-09-05T14:21:00+09:00")
        );
        assert_eq!(html_meta_date("<p>no date</p>"), None);
    }

    #[test]
    fn articles_name_where_their_date_came_from() {
        use crate::{Article, RawArticle};
        let art = |body: &str, url: Option<&str>, feed: Option<&str>| {
            let mut raw = RawArticle::new("t");
            raw.title = "ASML licence".into();
            raw.body = body.into();
            raw.url = url.map(str::to_string);
            raw.published_at = feed.map(str::to_string);
            raw.seen_at = Some("2025-01-01T00:00:00Z".into());
            Article::from_raw(raw)
        };
        let a = art("x", None, Some("2024-03-12T09:00:00Z"));
        assert_eq!(a.published_at_source.as_deref(), Some("feed"));
        let a = art("VELDHOVEN, 12 maart 2024 - ASML meldt", None, None);
        assert_eq!(
            (a.published_at.as_deref(), a.published_at_source.as_deref()),
            (Some("2024-03-12"), Some("article text"))
        );
        let a = art(
            "no date here",
            Some("https://nos.nl/artikel/2024/03/12/x"),
            None,
        );
        assert_eq!(
            (a.published_at.as_deref(), a.published_at_source.as_deref()),
            (Some("2024-03-12"), Some("url"))
        );
        let a = art("no date here", Some("https://nos.nl/artikel/123"), None);
        assert_eq!((a.published_at, a.published_at_source), (None, None));
        assert_eq!(
            a.seen_at.as_deref(),
            Some("2025-01-01T00:00:00Z"),
            "kept apart"
        );
    }
}
