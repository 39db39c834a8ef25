//! One name per concept: the API's former paths and what replaced them.
//!
//! chipwatch uses one vocabulary in the CLI, the API, the dashboard and the docs (the table is in
//! docs/vocabulary.md; `crates/chipwatch/tests/vocabulary.rs` walks the CLI help, the route table
//! and the dashboard's navigation against it). Paths that were renamed keep answering for one
//! release so integrations can move: they are marked `deprecated` in the OpenAPI document and
//! every answer carries `Deprecation` (RFC 9745, the date of the rename) and
//! `Link: <successor>; rel="successor-version"`.

use axum::extract::Request;
use axum::http::HeaderValue;
use axum::middleware::Next;
use axum::response::Response;

/// A renamed API path: method, former path, current path, date of the rename (Unix seconds).
#[derive(Debug, Clone, Copy)]
pub struct Deprecated {
    pub method: &'static str,
    pub path: &'static str,
    pub successor: &'static str,
    pub since: i64,
}

/// 2026-12-04T00:00:00Z, the release that settled the vocabulary.
const RENAMED_2026_12_04: i64 = 1_796_342_400;

/// Every deprecated path of the API.
pub const DEPRECATED_ROUTES: &[Deprecated] = &[
    Deprecated {
        method: "POST",
        path: "/api/v1/controls/determine",
        successor: "/api/v1/licence/check",
        since: RENAMED_2026_12_04,
    },
    Deprecated {
        method: "POST",
        path: "/api/v1/controls/screen",
        successor: "/api/v1/screening",
        since: RENAMED_2026_12_04,
    },
];

/// The deprecation entry of a path, if it is a former one.
pub fn deprecated(method: &str, path: &str) -> Option<&'static Deprecated> {
    DEPRECATED_ROUTES
        .iter()
        .find(|d| d.method.eq_ignore_ascii_case(method) && d.path == path)
}

/// Middleware: answers on a former path say so, whatever their status.
pub async fn mark_deprecated(req: Request, next: Next) -> Response {
    let hit = deprecated(req.method().as_str(), req.uri().path());
    let mut res = next.run(req).await;
    if let Some(d) = hit {
        let h = res.headers_mut();
        if let Ok(v) = HeaderValue::from_str(&format!("@{}", d.since)) {
            h.insert("deprecation", v);
        }
        if let Ok(v) =
            HeaderValue::from_str(&format!("<{}>; rel=\"successor-version\"", d.successor))
        {
            h.insert(axum::http::header::LINK, v);
        }
    }
    res
}

#[cfg(test)]
mod tests {
    #[test]
    fn rename_date_is_2026_12_04() {
        // 56 years of 365 days plus 14 leap days (1972..=2024), plus Jan..Nov 2026 and 3 days.
        let days = 56 * 365 + 14 + (31 + 28 + 31 + 30 + 31 + 30 + 31 + 31 + 30 + 31 + 30) + 3;
        assert_eq!(super::RENAMED_2026_12_04, days * 86_400);
    }
}
