//! The web dashboard: server-rendered HTML over the same state as the API, with no scripts and
//! no front-end build. Pages: overview (value chain, chokepoints, who supplies what), item,
//! search, firm and country pages,
//! scenario builder, licence check / screening / measure impact, licence register, monitor,
//! trade statistics, partner exchange, and login. Charts are the SVG functions of `chipwatch-report`, shared with the HTML reports.
//! The two assets (CSS, favicon) are vendored under `assets/` and embedded with `include_str!`,
//! so the dashboard works without external network.
//!
//! Sessions: signing in takes an API token (issued by `chipwatch admin token create` or
//! `POST /api/v1/tokens`), checks it through [`auth::authenticate`] (with the same
//! failed-authentication limits as the API) and mints a separate session for the same user
//! (`Store::create_session`), stored in the [`auth::SESSION_COOKIE`] (HttpOnly,
//! SameSite=Strict); the API token itself never goes into the browser's cookie jar. The session
//! is bound to that API token: revoking or expiring the token ends it on the next request. It
//! has an absolute lifetime and an idle timeout ([`crate::Security`]), and a session secret
//! posted to the sign-in form starts nothing (a session never mints a session). Federation
//! peers cannot sign in. Signing out revokes the session.
//!
//! Model pages are public reference data; pages with partner data need a session and show only
//! what the API would show the same user (they call the same handlers), with the same audit
//! entries.

pub(crate) mod controls;
mod denials;
mod determination_records;
mod entity;
mod licence_supply;
mod licences;
mod model;
mod monitor;
mod monitor_feedback;
mod partner;
mod partner_form_html;
mod partner_forms;
mod partner_readers;
pub mod scenario;
#[cfg(test)]
mod tests;
#[cfg(test)]
mod tests_denials;
#[cfg(test)]
mod tests_determination_records;
#[cfg(test)]
mod tests_monitor_feedback;
#[cfg(test)]
mod tests_partner_forms;
#[cfg(test)]
mod tests_trade;
mod trade;

use crate::auth;
use crate::AppState;
use axum::extract::{RawQuery, State};
use axum::http::header::{
    CACHE_CONTROL, CONTENT_TYPE, HOST, LOCATION, ORIGIN, RETRY_AFTER, SET_COOKIE,
};
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::Router;
use chipwatch_report::svg::escape;
use chipwatch_store::partner::{Credential, OrgKind, Principal};
use std::fmt::Write;

const CSS: &str = include_str!("../../assets/dashboard.css");
const FAVICON: &str = include_str!("../../assets/favicon.svg");

/// The dashboard's routes, merged into [`crate::app`].
pub fn router() -> Router<AppState> {
    Router::new()
        .route("/", get(model::overview))
        .route("/item/{id}", get(model::item))
        .route("/search", get(entity::search))
        .route("/firms/{id}", get(entity::firm))
        .route("/countries/{iso}", get(entity::country))
        .route("/scenario", get(scenario::page))
        .route("/scenario/save", post(scenario::save))
        .route("/scenario/report", get(scenario::report))
        .route("/licence", get(controls::licence))
        .route("/licences", get(licences::register))
        .route("/licences/{id}", get(licences::licence))
        .route("/licences/{id}/shipments", post(licences::post_shipment))
        .route("/licences/{id}/events", post(licences::post_event))
        .route("/licences/{id}/impact", post(licences::post_impact))
        .route(
            "/licence/records",
            get(determination_records::records_page).post(determination_records::post_record),
        )
        .route(
            "/licence/records.csv",
            get(determination_records::records_csv_download),
        )
        .route(
            "/licence/denials",
            get(denials::page).post(denials::publish),
        )
        .route("/licence/denials/{id}/withdrawal", post(denials::withdraw))
        .route("/screening", get(controls::screening))
        .route("/measures", get(controls::measures))
        .route("/monitor", get(monitor::page))
        .route("/trade", get(trade::page))
        .route(
            "/monitor/events/{id}/feedback",
            post(monitor_feedback::post),
        )
        .route("/partner", get(partner::page))
        .route("/partner/records", post(partner_forms::create_record))
        .route("/partner/records/{id}", post(partner_forms::update_record))
        .route(
            "/partner/records/{id}/delete",
            post(partner_forms::delete_record),
        )
        .route("/partner/agreements", post(partner_forms::create_agreement))
        .route(
            "/partner/agreements/{id}/revoke",
            post(partner_forms::revoke_agreement),
        )
        .route("/partner/requests", post(partner_forms::create_request))
        .route(
            "/partner/requests/{id}/respond",
            post(partner_forms::respond_request),
        )
        .route(
            "/partner/requests/{id}/decline",
            post(partner_forms::decline_request),
        )
        .route(
            "/partner/requests/{id}/withdraw",
            post(partner_forms::withdraw_request),
        )
        .route("/login", get(login_form).post(login))
        .route("/logout", post(logout))
        .route(
            "/static/dashboard.css",
            get(|| async { asset("text/css; charset=utf-8", CSS) }),
        )
        .route(
            "/static/favicon.svg",
            get(|| async { asset("image/svg+xml", FAVICON) }),
        )
}

fn asset(ct: &'static str, body: &'static str) -> Response {
    (
        [
            (CONTENT_TYPE, HeaderValue::from_static(ct)),
            (
                CACHE_CONTROL,
                HeaderValue::from_static("public, max-age=3600"),
            ),
        ],
        body,
    )
        .into_response()
}

// ---------------------------------------------------------------------------------------------
// Parameters (query strings and form bodies)

/// Decoded `name=value` pairs of a query string or an `application/x-www-form-urlencoded` body.
#[derive(Debug, Clone, Default)]
pub struct Params(Vec<(String, String)>);

impl Params {
    pub fn parse(text: &str) -> Params {
        // serde_urlencoded never fails on a Vec of string pairs except for invalid UTF-8 after
        // percent-decoding; such a request is treated as having no parameters.
        Params(serde_urlencoded::from_str::<Vec<(String, String)>>(text).unwrap_or_default())
    }
    pub fn from_query(q: &RawQuery) -> Params {
        q.0.as_deref().map(Params::parse).unwrap_or_default()
    }
    /// The first non-blank value of `name`, trimmed.
    pub fn get(&self, name: &str) -> Option<&str> {
        self.0
            .iter()
            .filter(|(k, _)| k == name)
            .map(|(_, v)| v.trim())
            .find(|v| !v.is_empty())
    }
    /// Every non-blank value of `name` (repeated fields, multi-selects, comma lists).
    pub fn all(&self, name: &str) -> Vec<String> {
        self.0
            .iter()
            .filter(|(k, _)| k == name)
            .flat_map(|(_, v)| v.split(','))
            .map(|v| v.trim().to_string())
            .filter(|v| !v.is_empty())
            .collect()
    }
    pub fn has(&self, name: &str) -> bool {
        self.get(name).is_some()
    }
    pub fn pairs(&self) -> &[(String, String)] {
        &self.0
    }
}

/// Percent-encode for a query string value.
pub fn url_encode(s: &str) -> String {
    serde_urlencoded::to_string([("v", s)])
        .map(|x| x[2..].to_string())
        .unwrap_or_default()
}

/// A query string from pairs, blanks dropped.
pub fn query_string(pairs: &[(String, String)]) -> String {
    let kept: Vec<(&str, &str)> = pairs
        .iter()
        .filter(|(_, v)| !v.trim().is_empty())
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .collect();
    serde_urlencoded::to_string(kept).unwrap_or_default()
}

// ---------------------------------------------------------------------------------------------
// Session

/// The signed-in user of a browser request, if any. Only tenant users (not federation peers)
/// can use the dashboard.
pub async fn session(s: &AppState, headers: &HeaderMap) -> Option<Principal> {
    // No credential at all is the common case for public pages: answer without a lookup (and
    // without logging an authentication failure for every anonymous page view).
    auth::credential(headers)?;
    auth::resolve_principal(s, headers)
        .await
        .ok()
        .filter(|p| p.org.kind == OrgKind::Local)
}

/// Cross-site request check for state-changing forms: a browser always sends `Origin` with a
/// POST; it must name this host. (The session cookie is SameSite=Strict besides.)
fn same_origin(headers: &HeaderMap) -> bool {
    let Some(origin) = headers.get(ORIGIN).and_then(|v| v.to_str().ok()) else {
        return true;
    };
    let same = headers
        .get(HOST)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|host| {
            origin == format!("http://{host}") || origin == format!("https://{host}")
        });
    if !same {
        auth::log_denied(None, "cross_site_form");
    }
    same
}

/// Only local paths are accepted as a post-login target (no open redirect).
fn safe_next(next: Option<&str>) -> String {
    match next {
        Some(n)
            if n.starts_with('/')
                && !n.starts_with("//")
                && !n.contains('\\')
                && !n.chars().any(char::is_control) =>
        {
            n.to_string()
        }
        _ => "/".to_string(),
    }
}

async fn login_form(State(s): State<AppState>, headers: HeaderMap, q: RawQuery) -> Response {
    let p = Params::from_query(&q);
    let who = session(&s, &headers).await;
    login_page(
        &s,
        who.as_ref(),
        &safe_next(p.get("next")),
        None,
        StatusCode::OK,
    )
}

fn login_page(
    s: &AppState,
    who: Option<&Principal>,
    next: &str,
    error: Option<&str>,
    status: StatusCode,
) -> Response {
    let mut b = String::new();
    if let Some(p) = who {
        let _ = write!(
            b,
            "<p class=\"notice\">You are signed in as <b>{}</b> of <b>{}</b>. Signing in again replaces this session.</p>",
            escape(&p.user_name),
            escape(&p.org.name)
        );
    }
    if let Some(e) = error {
        let _ = write!(
            b,
            "<div class=\"error\" role=\"alert\" id=\"login-error\">{}</div>",
            escape(e)
        );
    }
    let _ = write!(
        b,
        r#"<form class="panel narrow" method="post" action="/login">
<p>Sign in with an API token of your user. An administrator issues one with
<code>chipwatch admin token create --org ORG --user NAME</code> (or <code>POST /api/v1/tokens</code>).
The dashboard keeps its own session, valid for at most {hours} hours, {idle} minutes without use, and no longer than your API token; your API token is not stored in the browser.</p>
<div class="fields"><div><label for="token">API token</label>
<input type="password" id="token" name="token" autocomplete="current-password" required size="48" spellcheck="false"{inv}></div>
<input type="hidden" name="next" value="{next}"><div><button type="submit">Sign in</button></div></div></form>"#,
        next = escape(next),
        hours = s.security.session_lifetime.as_secs().div_ceil(3600),
        idle = s.security.session_idle.as_secs().div_ceil(60),
        inv = if error.is_some() {
            r#" aria-invalid="true" aria-describedby="login-error""#
        } else {
            ""
        }
    );
    page_response(status, "Sign in", Nav::Login, who, &b)
}

async fn login(State(s): State<AppState>, headers: HeaderMap, body: String) -> Response {
    if !same_origin(&headers) {
        return error_page(
            StatusCode::FORBIDDEN,
            "Cross-site form",
            "This form must be sent from the dashboard itself.",
            None,
        );
    }
    let f = Params::parse(&body);
    let next = safe_next(f.get("next"));
    let token = f.get("token").unwrap_or("");
    let refused = |status: StatusCode, msg: &str| login_page(&s, None, &next, Some(msg), status);
    let p = match auth::authenticate(&s, token, auth::Transport::LoginForm).await {
        Ok(p) => p,
        Err(e) if e.code == "rate_limited" => {
            let mut r = refused(
                StatusCode::TOO_MANY_REQUESTS,
                "Too many failed sign-ins from here; wait a few minutes and try again.",
            );
            if let Some(secs) = e.retry_after {
                r.headers_mut().insert(RETRY_AFTER, HeaderValue::from(secs));
            }
            return r;
        }
        Err(_) => {
            return refused(
                StatusCode::UNAUTHORIZED,
                "Unknown, revoked or expired token.",
            )
        }
    };
    if p.org.kind != OrgKind::Local {
        auth::log_denied(Some(&p), "peer_dashboard_sign_in");
        return refused(
            StatusCode::FORBIDDEN,
            "Federation peer tokens cannot sign in to the dashboard.",
        );
    }
    if p.credential != Credential::Api {
        auth::log_denied(Some(&p), "session_minting_session");
        return refused(
            StatusCode::FORBIDDEN,
            "A dashboard session cannot start another session; sign in with an API token.",
        );
    }
    // Signing in again replaces the browser's current session rather than leaving it alive.
    if let Some(old) = session(&s, &headers).await {
        if let Err(e) = s.store.end_session(&old).await {
            tracing::error!(error = %e, "cannot end the replaced dashboard session");
        }
    }
    let secret = auth::new_token_secret();
    let t = match s
        .store
        .create_session(
            &p,
            &secret,
            s.security.session_lifetime.as_secs() as i64,
            s.security.session_idle.as_secs() as i64,
        )
        .await
    {
        Ok(t) => t,
        // The token was revoked or expired between the check and the insert.
        Err(chipwatch_store::StoreError::NotFound(_)) => {
            return refused(
                StatusCode::UNAUTHORIZED,
                "Unknown, revoked or expired token.",
            )
        }
        Err(e) => {
            tracing::error!(error = %e, "cannot create a dashboard session");
            return error_page(
                StatusCode::INTERNAL_SERVER_ERROR,
                "Cannot sign in",
                "The session could not be stored; see the server log.",
                None,
            );
        }
    };
    tracing::info!(actor = %p.actor(), session = t.id, "dashboard sign-in");
    let max_age = t
        .expires_at
        .map_or(0, |e| (e - chipwatch_store::time::now()).max(0));
    let cookie = format!(
        "{}={secret}; Path=/; HttpOnly; SameSite=Strict; Max-Age={max_age}",
        auth::SESSION_COOKIE
    );
    redirect_with_cookie(&next, &cookie)
}

async fn logout(State(s): State<AppState>, headers: HeaderMap) -> Response {
    if !same_origin(&headers) {
        return error_page(
            StatusCode::FORBIDDEN,
            "Cross-site form",
            "This form must be sent from the dashboard itself.",
            None,
        );
    }
    if let Some(p) = session(&s, &headers).await {
        // Ends only a session: a user who put an API token into the cookie by hand keeps it.
        if let Err(e) = s.store.end_session(&p).await {
            tracing::error!(error = %e, "cannot revoke a dashboard session");
        }
    }
    let cookie = format!(
        "{}=; Path=/; HttpOnly; SameSite=Strict; Max-Age=0",
        auth::SESSION_COOKIE
    );
    redirect_with_cookie("/", &cookie)
}

fn redirect_with_cookie(to: &str, cookie: &str) -> Response {
    let mut r = StatusCode::SEE_OTHER.into_response();
    if let (Ok(l), Ok(c)) = (HeaderValue::from_str(to), HeaderValue::from_str(cookie)) {
        r.headers_mut().insert(LOCATION, l);
        r.headers_mut().insert(SET_COOKIE, c);
    }
    r.headers_mut()
        .insert(CACHE_CONTROL, HeaderValue::from_static("no-store"));
    r
}

/// 303 to the login page, coming back to `path` afterwards.
pub fn to_login(path: &str) -> Response {
    let mut r = StatusCode::SEE_OTHER.into_response();
    if let Ok(l) = HeaderValue::from_str(&format!("/login?next={}", url_encode(path))) {
        r.headers_mut().insert(LOCATION, l);
    }
    r
}

// ---------------------------------------------------------------------------------------------
// Layout

/// Which navigation entry a page belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Nav {
    Overview,
    Scenario,
    Licence,
    Licences,
    Screening,
    Measures,
    Monitor,
    Trade,
    Partner,
    Search,
    Login,
}

/// The main navigation: entry, path, label (one name per concept: docs/vocabulary.md).
pub const NAV: &[(Nav, &str, &str)] = &[
    (Nav::Overview, "/", "Overview"),
    (Nav::Scenario, "/scenario", "Scenarios"),
    (Nav::Licence, "/licence", "Licence check"),
    (Nav::Licences, "/licences", "Licence register"),
    (Nav::Screening, "/screening", "Screening"),
    (Nav::Measures, "/measures", "Measure impact"),
    (Nav::Monitor, "/monitor", "Monitor"),
    (Nav::Trade, "/trade", "Trade"),
    (Nav::Partner, "/partner", "Partner exchange"),
];

/// A whole HTML page around `body` (which must already be escaped HTML).
pub fn render(title: &str, nav: Nav, who: Option<&Principal>, body: &str) -> String {
    let mut h = String::with_capacity(body.len() + 4096);
    let _ = write!(
        h,
        r##"<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1"><title>{t} · chipwatch</title><link rel="stylesheet" href="/static/dashboard.css"><link rel="icon" href="/static/favicon.svg" type="image/svg+xml"></head><body><a class="skip" href="#main">Skip to main content</a><header class="top"><a class="brand" href="/">chipwatch</a><nav aria-label="Main"><ul>"##,
        t = escape(title)
    );
    for (n, href, label) in NAV {
        let cur = if *n == nav {
            r#" aria-current="page""#
        } else {
            ""
        };
        let _ = write!(h, r#"<li><a href="{href}"{cur}>{label}</a></li>"#);
    }
    let _ = write!(
        h,
        r#"</ul></nav><form class="navsearch" method="get" action="/search" role="search"><label for="nav-q" class="sr-only">Search the dashboard</label><input type="search" id="nav-q" name="q" placeholder="Search items, firms, countries" size="24"><button type="submit">Search</button></form><div class="who">"#
    );
    match who {
        Some(p) => {
            let _ = write!(
                h,
                r#"<span>Signed in: <b>{}</b> ({}) · {}</span><form method="post" action="/logout"><button type="submit">Sign out</button></form>"#,
                escape(&p.user_name),
                p.role.as_str(),
                escape(&p.org.name)
            );
        }
        None => h.push_str(r#"<a href="/login">Sign in</a>"#),
    }
    let _ = write!(
        h,
        r#"</div></header><main id="main" tabindex="-1"><h1>{t}</h1>{body}</main><footer>chipwatch · semiconductor supply-chain resilience and export-control intelligence · <a href="/api/v1/openapi.json">API</a> · numbers carry their dataset, vintage and source on each page</footer></body></html>"#,
        t = escape(title)
    );
    h
}

/// A page as a response with the dashboard's security headers.
pub fn page_response(
    status: StatusCode,
    title: &str,
    nav: Nav,
    who: Option<&Principal>,
    body: &str,
) -> Response {
    let mut r = (status, render(title, nav, who, body)).into_response();
    let h = r.headers_mut();
    h.insert(
        CONTENT_TYPE,
        HeaderValue::from_static("text/html; charset=utf-8"),
    );
    // No scripts at all; styles and images only from this server (SVG is inline).
    h.insert(
        "content-security-policy",
        HeaderValue::from_static("default-src 'none'; style-src 'self'; img-src 'self' data:; form-action 'self'; frame-ancestors 'none'; base-uri 'none'"),
    );
    h.insert(
        "x-content-type-options",
        HeaderValue::from_static("nosniff"),
    );
    h.insert("referrer-policy", HeaderValue::from_static("same-origin"));
    // Pages may show partner data or per-user content: never cached by the browser or proxies.
    h.insert(CACHE_CONTROL, HeaderValue::from_static("no-store"));
    r
}

/// An error page (status, heading, explanation).
pub fn error_page(
    status: StatusCode,
    title: &str,
    message: &str,
    who: Option<&Principal>,
) -> Response {
    let body = format!("<div class=\"error\" role=\"alert\"><p>{}</p></div><p><a href=\"/\">Back to the overview</a></p>", escape(message));
    page_response(status, title, Nav::Overview, who, &body)
}

// ---------------------------------------------------------------------------------------------
// Small formatting helpers shared by the pages

/// `$12.3B` style money.
pub fn money(usd: f64) -> String {
    let a = usd.abs();
    if a >= 1e9 {
        format!("${:.1}B", usd / 1e9)
    } else if a >= 1e6 {
        format!("${:.1}M", usd / 1e6)
    } else if a >= 1e3 {
        format!("${:.0}k", usd / 1e3)
    } else {
        format!("${usd:.0}")
    }
}

/// Thousands separators for an integer-valued figure (HHI).
pub fn thousands(v: f64) -> String {
    let n = v.round() as i64;
    let s = n.abs().to_string();
    let mut out = String::new();
    for (i, c) in s.chars().enumerate() {
        if i > 0 && (s.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    if n < 0 {
        format!("-{out}")
    } else {
        out
    }
}

/// `<option>`s for a select, marking the selected values.
pub fn options(choices: &[(String, String)], selected: &[String]) -> String {
    let mut s = String::new();
    for (v, label) in choices {
        let sel = if selected.iter().any(|x| x == v) {
            " selected"
        } else {
            ""
        };
        let _ = write!(
            s,
            r#"<option value="{}"{sel}>{}</option>"#,
            escape(v),
            escape(label)
        );
    }
    s
}

/// The provenance line of the model: dataset, vintage, licence, attribution.
pub fn model_provenance(vc: &chipwatch_model::ValueChain) -> String {
    let m = &vc.model().meta;
    format!(
        "<p class=\"prov\">Source: {} ({}), vintage {}. {}{}</p>",
        escape(&m.dataset),
        escape(&m.name),
        escape(&m.vintage),
        if m.attribution.is_empty() {
            String::new()
        } else {
            format!("Attribution: {}. ", escape(&m.attribution))
        },
        if m.licence.is_empty() {
            String::new()
        } else {
            format!("Licence: {}.", escape(&m.licence))
        }
    )
}

/// `NLD` or `NLD Netherlands`: the model may name a country by its code only.
pub fn country_label(code: &str, name: &str) -> String {
    if name.is_empty() || name == code {
        code.to_string()
    } else {
        format!("{code} {name}")
    }
}

/// A source label as HTML: markdown links `[text](url)` become links (http and https only), and
/// everything else, including the text and address of each link, is escaped. The dataset writes
/// its citations in markdown; a reader should see "SIA" as a link, not brackets and a URL.
pub fn source_html(label: &str) -> String {
    let mut out = String::new();
    let mut rest = label;
    while let Some(open) = rest.find('[') {
        let after = &rest[open + 1..];
        // The link text ends at the first "](" ; the address at the next ")" (or ", " for the
        // dataset's lists of addresses in one pair of brackets: the first address is used).
        let parsed = after.find("](").and_then(|close| {
            let text = &after[..close];
            let tail = &after[close + 2..];
            let end = tail.find(')')?;
            let target = &tail[..end];
            let url = target.split([',', ' ']).next().unwrap_or("").trim();
            let ok = (url.starts_with("https://") || url.starts_with("http://"))
                && !text.contains('[')
                && !text.is_empty();
            ok.then(|| (text, url, close + 2 + end + 1))
        });
        match parsed {
            Some((text, url, used)) => {
                out.push_str(&escape(&rest[..open]));
                let _ = write!(
                    out,
                    r#"<a href="{}" rel="noopener noreferrer">{}</a>"#,
                    escape(url),
                    escape(text)
                );
                rest = &after[used..];
            }
            None => {
                out.push_str(&escape(&rest[..open + 1]));
                rest = after;
            }
        }
    }
    out.push_str(&escape(rest));
    out
}

/// Escaped, comma-separated list.
pub fn esc_list(v: &[String]) -> String {
    escape(&v.join(", "))
}

/// Link to an item page, `id name`.
pub fn item_link(vc: &chipwatch_model::ValueChain, id: &str) -> String {
    match vc.item_idx(id) {
        Some(i) => format!(
            r#"<a href="/item/{}">{} {}</a>"#,
            url_encode(id),
            escape(id),
            escape(&vc.item(i).name)
        ),
        None => escape(id),
    }
}
