//! Prometheus metrics (text exposition format 0.0.4) and the per-request middleware that counts
//! requests, measures latency, logs one structured line per request (method, route template,
//! status, duration; never headers, so never a token) and enforces the time limit. It also
//! records the request's source address ([`crate::security::client_addr`]).

use crate::error::ApiError;
use axum::extract::{MatchedPath, Request, State};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::sync::Mutex;
use std::time::{Duration, Instant};
use tracing::Instrument;

/// Latency histogram bucket bounds, seconds.
const BUCKETS: &[f64] = &[
    0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 5.0,
];

#[derive(Debug, Default)]
struct Series {
    count: u64,
    sum: f64,
    buckets: [u64; 11],
}

/// Counters shared by all requests.
#[derive(Debug, Default)]
pub struct Metrics {
    requests: Mutex<BTreeMap<(String, String, u16), u64>>,
    latency: Mutex<BTreeMap<String, Series>>,
    /// Failed authentications by reason (a fixed set of static strings: bounded labels).
    auth_failures: Mutex<BTreeMap<&'static str, u64>>,
}

impl Metrics {
    pub fn observe(&self, method: &str, route: &str, status: u16, secs: f64) {
        if let Ok(mut m) = self.requests.lock() {
            *m.entry((method.to_string(), route.to_string(), status))
                .or_default() += 1;
        }
        if let Ok(mut m) = self.latency.lock() {
            let s = m.entry(route.to_string()).or_default();
            s.count += 1;
            s.sum += secs;
            for (i, b) in BUCKETS.iter().enumerate() {
                if secs <= *b {
                    s.buckets[i] += 1;
                }
            }
        }
    }

    /// Count a failed authentication (`rate_limited` included) by its log reason.
    pub fn auth_failure(&self, reason: &'static str) {
        if let Ok(mut m) = self.auth_failures.lock() {
            *m.entry(reason).or_default() += 1;
        }
    }

    pub fn render(&self) -> String {
        let mut out = String::new();
        out.push_str(
            "# HELP chipwatch_http_requests_total HTTP requests by method, route and status.\n",
        );
        out.push_str("# TYPE chipwatch_http_requests_total counter\n");
        if let Ok(m) = self.requests.lock() {
            for ((method, route, status), n) in m.iter() {
                let _ = writeln!(out, "chipwatch_http_requests_total{{method=\"{method}\",route=\"{}\",status=\"{status}\"}} {n}", esc(route));
            }
        }
        out.push_str("# HELP chipwatch_http_request_duration_seconds Request latency by route.\n");
        out.push_str("# TYPE chipwatch_http_request_duration_seconds histogram\n");
        if let Ok(m) = self.latency.lock() {
            for (route, s) in m.iter() {
                let r = esc(route);
                for (i, b) in BUCKETS.iter().enumerate() {
                    let _ = writeln!(out, "chipwatch_http_request_duration_seconds_bucket{{route=\"{r}\",le=\"{b}\"}} {}", s.buckets[i]);
                }
                let _ = writeln!(out, "chipwatch_http_request_duration_seconds_bucket{{route=\"{r}\",le=\"+Inf\"}} {}", s.count);
                let _ = writeln!(
                    out,
                    "chipwatch_http_request_duration_seconds_sum{{route=\"{r}\"}} {}",
                    s.sum
                );
                let _ = writeln!(
                    out,
                    "chipwatch_http_request_duration_seconds_count{{route=\"{r}\"}} {}",
                    s.count
                );
            }
        }
        out.push_str("# HELP chipwatch_auth_failures_total Failed authentications by reason.\n");
        out.push_str("# TYPE chipwatch_auth_failures_total counter\n");
        if let Ok(m) = self.auth_failures.lock() {
            for (reason, n) in m.iter() {
                let _ = writeln!(
                    out,
                    "chipwatch_auth_failures_total{{reason=\"{}\"}} {n}",
                    esc(reason)
                );
            }
        }
        out
    }
}

fn esc(s: &str) -> String {
    s.replace('\\', "\\\\").replace('"', "\\\"")
}

/// Time limit of one request.
pub const REQUEST_TIMEOUT: Duration = Duration::from_secs(30);

/// Middleware: time limit, metrics, access log.
pub async fn track(State(state): State<crate::AppState>, req: Request, next: Next) -> Response {
    let start = Instant::now();
    let method = req.method().as_str().to_string();
    // The route template (`/api/v1/records/{id}`), so ids stay out of metric labels.
    let route = req
        .extensions()
        .get::<MatchedPath>()
        .map(|m| m.as_str().to_string())
        .unwrap_or_else(|| "unmatched".to_string());
    // The caller's address, for the failed-authentication limits and for every log line of
    // this request (authentication and authorisation failures name it).
    let peer = req
        .extensions()
        .get::<axum::extract::ConnectInfo<std::net::SocketAddr>>()
        .map(|c| c.0);
    let source = crate::security::source_of(peer, req.headers(), &state.security.trusted_proxies);
    let source_label = source.map_or_else(|| "unknown".to_string(), |a| a.to_string());
    let span = tracing::info_span!("request", source = %source_label);
    let run = crate::security::with_client(source, next.run(req).instrument(span));
    let resp = match tokio::time::timeout(state.limits.timeout, run).await {
        Ok(r) => r,
        Err(_) => ApiError::new("timeout", "request exceeded the time limit").into_response(),
    };
    let secs = start.elapsed().as_secs_f64();
    let status = resp.status().as_u16();
    state.metrics.observe(&method, &route, status, secs);
    // The source is on the access line too, so object-level refusals (404 for another
    // organisation's object) are in the log with the address that asked.
    if status >= 500 {
        tracing::error!(%method, %route, status, ms = secs * 1e3, source = %source_label, "request");
    } else {
        tracing::info!(%method, %route, status, ms = secs * 1e3, source = %source_label, "request");
    }
    resp
}
