//! Search and entity pages: `/search?q=` across items, firms, countries, control measures,
//! monitor events and the partner records the viewer may see; firm pages (`/firms/{id}`: what
//! the firm supplies, its HQ country, its list status, events naming it) and country pages
//! (`/countries/{ISO3}`: what the country supplies, what it depends on, the measures it imposes
//! and the measures it faces).
//!
//! Partner records come from the same access policy as the API
//! (`routes::exchange::visible_records_unlogged`); the foreign records a search shows are
//! audited like an API read, and a signed-out visitor sees no partner data at all.

use super::controls::{engine, hits_table, today};
use super::{item_link, page_response, session, url_encode, Nav, Params};
use crate::routes::exchange;
use crate::AppState;
use axum::extract::{Path, RawQuery, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use chipwatch_analysis::concentration;
use chipwatch_analysis::views::{self, SupplyRow as Supplied};
use chipwatch_controls::screening::DEFAULT_THRESHOLD;
use chipwatch_controls::{Date, Engine, Measure};
use chipwatch_model::{Basis, ProviderIdx, ProviderType, ValueChain};
use chipwatch_report::svg::escape;
use chipwatch_store::monitor::{EventFilter, EventRow};
use chipwatch_store::partner::policy::RecordView;
use serde_json::{json, Value};
use std::fmt::Write;

/// Longest accepted search text.
pub const MAX_QUERY: usize = 200;
/// Results shown at most.
const MAX_RESULTS: usize = 100;
/// Newest monitor events searched / scanned for a firm page.
const EVENT_SCAN: i64 = 1000;
/// A supplier holding more than this share (percent) makes a country dependent on it.
pub const DEPENDENCE_SHARE: f64 = 50.0;

// ---------------------------------------------------------------------------------------------
// Names

/// English name of a country code: the model's alias when it names the country by its code
/// only, else the ISO 3166-1 short name; `None` when neither knows it.
pub fn country_name(vc: &ValueChain, iso: &str) -> Option<String> {
    if let Some(p) = vc.country_provider(iso).map(|p| vc.provider(p)) {
        if !p.name.eq_ignore_ascii_case(iso) && !p.name.is_empty() {
            return Some(p.name.clone());
        }
        if let Some(a) = p.aliases.first() {
            return Some(a.clone());
        }
    }
    chipwatch_controls::country::name(iso).map(str::to_string)
}

/// `China (CHN)`, or the code alone when no name is known: never `CHN (CHN)`.
pub fn country_text(vc: &ValueChain, iso: &str) -> String {
    match country_name(vc, iso) {
        Some(n) if !n.eq_ignore_ascii_case(iso) => format!("{n} ({iso})"),
        _ => iso.to_string(),
    }
}

/// Link to a country page, escaped.
pub fn country_link(vc: &ValueChain, iso: &str) -> String {
    format!(
        r#"<a href="/countries/{}">{}</a>"#,
        url_encode(iso),
        escape(&country_text(vc, iso))
    )
}

/// Link to a firm page, escaped.
pub fn firm_link(vc: &ValueChain, id: &str) -> String {
    match vc.provider_by_id(id) {
        Some(p) if p.provider_type == ProviderType::Organisation => format!(
            r#"<a href="/firms/{}">{}</a>"#,
            url_encode(&p.id),
            escape(&p.name)
        ),
        Some(p) => escape(&p.name),
        None => escape(id),
    }
}

// ---------------------------------------------------------------------------------------------
// Search

/// How well `field` matches the lowercased query `q`: exact 100, prefix 80, word prefix 60,
/// substring 40, none 0.
pub fn score(field: &str, q: &str) -> u32 {
    let f = field.to_lowercase();
    if f.is_empty() || q.is_empty() {
        0
    } else if f == q {
        100
    } else if f.starts_with(q) {
        80
    } else if f
        .split(|c: char| !c.is_alphanumeric())
        .any(|w| !w.is_empty() && w.starts_with(q))
    {
        60
    } else if f.contains(q) {
        40
    } else {
        0
    }
}

/// One search result.
#[derive(Debug, Clone)]
pub struct Hit {
    pub kind: &'static str,
    /// Escaped HTML link or text.
    pub html: String,
    /// Which field matched (plain text).
    pub matched: String,
    /// Escaped HTML detail.
    pub detail: String,
    pub score: u32,
}

/// Best-scoring field of `fields` (`(label, value)`), if any matches.
fn best(fields: &[(&str, &str)], q: &str) -> Option<(u32, String)> {
    fields
        .iter()
        .map(|(l, v)| (score(v, q), format!("{l}: {v}")))
        .filter(|(s, _)| *s > 0)
        .max_by_key(|(s, _)| *s)
}

/// Model and rule-base results for `q` (already lowercased and trimmed).
pub fn search_reference(vc: &ValueChain, e: Option<&Engine>, q: &str) -> Vec<Hit> {
    let mut out = Vec::new();
    for (i, it) in vc.items() {
        let mut fields: Vec<(&str, &str)> = vec![("id", &it.id), ("name", &it.name)];
        // Item aliases: the names of catalogue products that are this item.
        if let Some(e) = e {
            for p in e.catalogue().products() {
                if p.model_item.as_deref() == Some(it.id.as_str()) {
                    fields.push(("alias", &p.name));
                    fields.extend(p.aliases.iter().map(|a| ("alias", a.as_str())));
                }
            }
        }
        if let Some((s, m)) = best(&fields, q) {
            out.push(Hit {
                kind: "Item",
                html: item_link(vc, &it.id),
                matched: m,
                detail: escape(&format!(
                    "{}{}",
                    it.kind.as_str().replace('_', " "),
                    vc.stage(i).map(|s| format!(", {s}")).unwrap_or_default()
                )),
                score: s,
            });
        }
    }
    for (_, p) in vc.providers() {
        let mut fields: Vec<(&str, &str)> = vec![("name", &p.name)];
        fields.extend(p.aliases.iter().map(|a| ("alias", a.as_str())));
        match p.provider_type {
            ProviderType::Organisation => {
                fields.push(("provider id", &p.id));
                if let Some((s, m)) = best(&fields, q) {
                    out.push(Hit {
                        kind: "Firm",
                        html: firm_link(vc, &p.id),
                        matched: m,
                        detail: p
                            .country
                            .as_deref()
                            .map(|c| format!("HQ {}", country_link(vc, c)))
                            .unwrap_or_default(),
                        score: s,
                    });
                }
            }
            ProviderType::Country => {
                let Some(iso) = p.country.as_deref() else {
                    continue;
                };
                let iso_name = chipwatch_controls::country::name(iso).unwrap_or("");
                fields.push(("ISO code", iso));
                fields.push(("name", iso_name));
                if let Some((s, m)) = best(&fields, q) {
                    out.push(Hit {
                        kind: "Country",
                        html: country_link(vc, iso),
                        matched: m,
                        detail: String::new(),
                        score: s,
                    });
                }
            }
            ProviderType::Bucket => {}
        }
    }
    if let Some(e) = e {
        let mut seen: Vec<&str> = Vec::new();
        // Newest version of each measure (versions are listed oldest first).
        for m in e.measures().iter().rev() {
            if seen.contains(&m.id.as_str()) {
                continue;
            }
            seen.push(&m.id);
            if let Some((s, mt)) = best(&[("id", &m.id), ("title", &m.title)], q) {
                out.push(Hit {
                    kind: "Control measure",
                    html: measure_link(m),
                    matched: mt,
                    detail: escape(&format!("{}: {}", m.jurisdiction, m.title)),
                    score: s,
                });
            }
        }
    }
    out
}

fn measure_link(m: &Measure) -> String {
    format!(
        r#"<a href="/measures?measure={}">{}</a>"#,
        url_encode(&m.id),
        escape(&m.id)
    )
}

fn event_link(ev: &EventRow) -> String {
    match ev.url.as_deref() {
        Some(u) if u.starts_with("https://") || u.starts_with("http://") => format!(
            r#"<a href="{}" rel="noopener noreferrer">{}</a>"#,
            escape(u),
            escape(&ev.title)
        ),
        _ => format!(
            r#"<a href="/monitor?type={}">{}</a>"#,
            url_encode(&ev.event_type),
            escape(&ev.title)
        ),
    }
}

fn event_detail(ev: &EventRow) -> String {
    escape(&format!(
        "{}, {}",
        ev.event_type.replace('_', " "),
        chipwatch_store::time::format(ev.event_time)
    ))
}

fn record_matches(vc: &ValueChain, r: &RecordView, q: &str) -> Option<(u32, String)> {
    let item_name = vc
        .item_idx(&r.item)
        .map(|i| vc.item(i).name.clone())
        .unwrap_or_default();
    let mut f: Vec<(&str, &str)> = vec![
        ("item", &r.item),
        ("item", &item_name),
        ("metric", &r.metric),
    ];
    for (l, v) in [
        ("provider", &r.provider),
        ("site", &r.site),
        ("country", &r.country),
    ] {
        if let Some(v) = v {
            f.push((l, v));
        }
    }
    best(&f, q)
}

/// GET /search?q=
pub async fn search(State(s): State<AppState>, headers: HeaderMap, q: RawQuery) -> Response {
    let who = session(&s, &headers).await;
    let p = Params::from_query(&q);
    let text = p.get("q").unwrap_or("");
    let mut b = String::new();
    let _ = write!(
        b,
        r#"<form class="panel" method="get" action="/search" role="search"><div class="fields"><div><label for="q">Search items, firms, countries, measures, events{}</label><input type="search" id="q" name="q" size="40" maxlength="{MAX_QUERY}" value="{}"></div><div><button type="submit">Search</button></div></div></form>"#,
        if who.is_some() {
            " and your partner records"
        } else {
            ""
        },
        escape(text)
    );
    if text.chars().count() > MAX_QUERY {
        b.push_str(&format!(
            r#"<div class="error" role="alert"><p>q: the search text is longer than {MAX_QUERY} characters.</p></div>"#
        ));
        return page_response(
            StatusCode::BAD_REQUEST,
            "Search",
            Nav::Search,
            who.as_ref(),
            &b,
        );
    }
    if text.is_empty() {
        b.push_str("<p class=\"muted\">Type an item id or name (N20, EUV), a firm (ASML), a country (Japan, JPN), a measure (US-SME) or words of a news title.</p>");
        return page_response(StatusCode::OK, "Search", Nav::Search, who.as_ref(), &b);
    }
    let ql = text.to_lowercase();
    let e = engine().ok();
    let mut hits = search_reference(&s.model, e.as_deref(), &ql);
    // Monitor events: the newest ones, by title.
    match s
        .store
        .monitor_events(&EventFilter {
            limit: Some(EVENT_SCAN),
            ..Default::default()
        })
        .await
    {
        Ok(evs) => {
            for ev in &evs {
                if let Some((sc, m)) = best(&[("title", &ev.title)], &ql) {
                    hits.push(Hit {
                        kind: "Monitor event",
                        html: event_link(ev),
                        matched: m,
                        detail: event_detail(ev),
                        score: sc,
                    });
                }
            }
        }
        Err(e) => tracing::error!(error = %e, "search: cannot read monitor events"),
    }
    // Partner records: only with a session, only what the access policy releases.
    if let Some(pr) = &who {
        match exchange::visible_records_unlogged(&s, &pr.org, None, None, true, true).await {
            Ok(rows) => {
                let mut released = Vec::new();
                for (id, foreign, r) in &rows {
                    if let Some((sc, m)) = record_matches(&s.model, r, &ql) {
                        if *foreign {
                            released.push(*id);
                        }
                        hits.push(Hit {
                            kind: if *foreign {
                                "Partner record (shared with you)"
                            } else {
                                "Partner record (own)"
                            },
                            html: format!(
                                r##"<a href="/partner#{}">record {}</a>"##,
                                if *foreign { "shared" } else { "own" },
                                r.id
                            ),
                            matched: m,
                            detail: format!(
                                "{} · {}{}",
                                item_link(&s.model, &r.item),
                                escape(&r.metric),
                                r.value
                                    .map(|v| format!(
                                        " {v} {}",
                                        escape(r.unit.as_deref().unwrap_or(""))
                                    ))
                                    .unwrap_or_default()
                            ),
                            score: sc,
                        });
                    }
                }
                if !released.is_empty() {
                    if let Err(e) = crate::access_log::record_access(
                        &s,
                        &pr.actor(),
                        "records.read",
                        "records",
                        json!({"records": released}),
                    )
                    .await
                    {
                        return super::error_page(e.status(), "Search", &e.message, Some(pr));
                    }
                }
            }
            Err(e) => {
                tracing::error!(code = e.code, message = %e.message, "search: partner records");
                return super::error_page(e.status(), "Search", &e.message, Some(pr));
            }
        }
    }
    hits.sort_by(|a, b| {
        b.score
            .cmp(&a.score)
            .then_with(|| a.kind.cmp(b.kind))
            .then_with(|| a.matched.len().cmp(&b.matched.len()))
            .then_with(|| a.html.cmp(&b.html))
    });
    let total = hits.len();
    hits.truncate(MAX_RESULTS);
    let _ = write!(
        b,
        r#"<h2 id="results">{} result{} for “{}”{}</h2>"#,
        total,
        if total == 1 { "" } else { "s" },
        escape(text),
        if total > MAX_RESULTS {
            format!(" (best {MAX_RESULTS} shown)")
        } else {
            String::new()
        }
    );
    if hits.is_empty() {
        b.push_str("<p>Nothing matches. Try a shorter word, an id or an ISO code.</p>");
    } else {
        b.push_str(r#"<table><caption>Best matches first: exact, then beginning, then a word, then anywhere</caption><thead><tr><th scope="col">Kind</th><th scope="col">Result</th><th scope="col">Matched</th><th scope="col">Detail</th></tr></thead><tbody>"#);
        for h in &hits {
            let _ = write!(
                b,
                "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
                escape(h.kind),
                h.html,
                escape(&h.matched),
                h.detail
            );
        }
        b.push_str("</tbody></table>");
    }
    if who.is_none() {
        b.push_str("<p class=\"muted\">Signed-in users also find the partner records their organisation may see.</p>");
    }
    page_response(StatusCode::OK, "Search", Nav::Search, who.as_ref(), &b)
}

// ---------------------------------------------------------------------------------------------
// Firm pages

/// What provider `id` supplies (the view `chipwatch show FIRM` prints).
pub fn supplied_by(vc: &ValueChain, id: &str) -> Vec<Supplied> {
    views::supply_rows(vc, id)
}

fn supplied_table(vc: &ValueChain, caption: &str, rows: &[Supplied]) -> String {
    let mut b = format!(
        r#"<table><caption>{}</caption><thead><tr><th scope="col">Item</th><th scope="col" class="n">Share (%)</th><th scope="col">Year</th><th scope="col">Basis</th><th scope="col">Source</th></tr></thead><tbody>"#,
        escape(caption)
    );
    for r in rows {
        let _ = write!(
            b,
            r#"<tr><td>{}</td><td class="n">{}</td><td>{}</td><td>{}</td><td>{}</td></tr>"#,
            item_link(vc, &r.item_id),
            r.share
                .map_or_else(|| "listed, no figure".to_string(), |v| format!("{v:.1}")),
            r.year.map_or("n/a".to_string(), |y| y.to_string()),
            r.basis,
            r.source
                .as_deref()
                .map_or_else(|| "-".to_string(), super::source_html)
        );
    }
    b.push_str("</tbody></table>");
    b
}

/// Does a stored event's classification name this firm (by provider id or name)?
pub fn event_names_firm(record: &Value, id: &str, name: &str) -> bool {
    record
        .get("organisations")
        .and_then(Value::as_array)
        .is_some_and(|orgs| {
            orgs.iter().any(|o| {
                o.get("provider_id").and_then(Value::as_str) == Some(id)
                    || o.get("name")
                        .and_then(Value::as_str)
                        .is_some_and(|n| n.eq_ignore_ascii_case(name))
            })
        })
}

fn provider_lookup(vc: &ValueChain, q: &str) -> Option<ProviderIdx> {
    vc.provider_idx(q).or_else(|| vc.find_provider(q).ok())
}

/// GET /firms/{id} (a provider id or a firm name)
pub async fn firm(
    State(s): State<AppState>,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Response {
    let who = session(&s, &headers).await;
    let vc = &s.model;
    let Some(pi) = provider_lookup(vc, &id) else {
        return super::error_page(
            StatusCode::NOT_FOUND,
            "Firm not found",
            &format!("firm: no provider `{id}` in the model (give a provider id such as P9 or a firm name)."),
            who.as_ref(),
        );
    };
    let p = vc.provider(pi);
    match p.provider_type {
        ProviderType::Organisation => {}
        ProviderType::Country => {
            if let Some(c) = &p.country {
                return axum::response::Redirect::to(&format!("/countries/{}", url_encode(c)))
                    .into_response();
            }
        }
        ProviderType::Bucket => {
            return super::error_page(
                StatusCode::NOT_FOUND,
                "Firm not found",
                &format!(
                    "firm: `{}` is a group of providers in the dataset, not a firm.",
                    p.name
                ),
                who.as_ref(),
            );
        }
    }
    let mut b = String::new();
    let _ = write!(
        b,
        r#"<dl class="kv"><dt>Provider id</dt><dd>{}</dd><dt>Headquarters</dt><dd>{}</dd>{}</dl>"#,
        escape(&p.id),
        p.country
            .as_deref()
            .map_or_else(|| "not in the dataset".to_string(), |c| country_link(vc, c)),
        if p.aliases.is_empty() {
            String::new()
        } else {
            format!(
                "<dt>Also known as</dt><dd>{}</dd>",
                super::esc_list(&p.aliases)
            )
        }
    );
    // What it supplies.
    let rows = supplied_by(vc, &p.id);
    b.push_str(r#"<h2 id="supplies">What it supplies</h2>"#);
    if rows.is_empty() {
        b.push_str("<p class=\"muted\">The dataset lists no shares for this firm.</p>");
    } else {
        b.push_str(&supplied_table(
            vc,
            "Market shares of this firm (latest figures per item; firm shares, never added to country shares)",
            &rows,
        ));
    }
    // List status.
    b.push_str(r#"<h2 id="lists">Restricted-party list status</h2>"#);
    match engine() {
        Ok(e) => {
            let hits = e.screener().screen(&p.name, DEFAULT_THRESHOLD);
            let lists: Vec<String> = e
                .ruleset()
                .lists
                .iter()
                .map(|l| format!("{} ({} entries)", l.name, l.entries))
                .collect();
            if hits.is_empty() {
                let _ = write!(
                    b,
                    "<p>No match for <b>{}</b> at score {DEFAULT_THRESHOLD:.2} or above on the lists screened: {}.</p>",
                    escape(&p.name),
                    super::esc_list(&lists)
                );
            } else {
                let _ = write!(
                    b,
                    "<p class=\"notice\">{} possible match{} for <b>{}</b> (score {DEFAULT_THRESHOLD:.2} or above); a name match is not proof of identity: check the entry. Lists screened: {}.</p>",
                    hits.len(),
                    if hits.len() == 1 { "" } else { "es" },
                    escape(&p.name),
                    super::esc_list(&lists)
                );
                b.push_str(&hits_table(&hits));
            }
            let _ = write!(
                b,
                r#"<p class="noprint"><a href="/screening?names={}">Screen this name with another threshold</a></p>"#,
                url_encode(&p.name)
            );
        }
        Err(m) => {
            let _ = write!(
                b,
                r#"<div class="error" role="alert"><p>The screening lists could not be loaded: {}</p></div>"#,
                escape(&m)
            );
        }
    }
    // Events.
    b.push_str(r#"<h2 id="events">Events naming it</h2>"#);
    match s
        .store
        .monitor_events(&EventFilter {
            limit: Some(EVENT_SCAN),
            ..Default::default()
        })
        .await
    {
        Ok(evs) => {
            let mine: Vec<&EventRow> = evs
                .iter()
                .filter(|ev| {
                    serde_json::from_str::<Value>(&ev.record)
                        .is_ok_and(|r| event_names_firm(&r, &p.id, &p.name))
                })
                .collect();
            if mine.is_empty() {
                b.push_str("<p class=\"muted\">No stored monitor event names this firm.</p>");
            } else {
                b.push_str("<ul>");
                for ev in mine {
                    let _ = write!(
                        b,
                        "<li>{} <span class=\"muted\">({})</span></li>",
                        event_link(ev),
                        event_detail(ev)
                    );
                }
                b.push_str("</ul>");
            }
        }
        Err(e) => {
            tracing::error!(error = %e, "firm page: cannot read monitor events");
            b.push_str(
                "<p class=\"muted\">The event store could not be read; see the server log.</p>",
            );
        }
    }
    b.push_str(&super::model_provenance(vc));
    page_response(StatusCode::OK, &p.name, Nav::Overview, who.as_ref(), &b)
}

// ---------------------------------------------------------------------------------------------
// Country pages

/// Measure versions in force on `date` whose jurisdiction is `iso`, or the EU for members.
pub fn measures_imposed<'a>(e: &'a Engine, iso: &str, date: Date) -> Vec<&'a Measure> {
    let eu_member = e.in_group("EU", iso, date);
    in_force(e, date)
        .into_iter()
        .filter(|m| m.jurisdiction == iso || (eu_member && m.jurisdiction == "EU"))
        .collect()
}

/// Measure versions in force on `date` with a rule naming `iso` as a destination, directly or
/// as a member of a named group (not through "all destinations" or "outside X"); with the
/// groups or the word "by name" that put it there.
pub fn measures_faced<'a>(e: &'a Engine, iso: &str, date: Date) -> Vec<(&'a Measure, Vec<String>)> {
    let mut out = Vec::new();
    for m in in_force(e, date) {
        let mut why: Vec<String> = Vec::new();
        for r in &m.rules {
            let d = &r.destinations;
            if d.except_countries.iter().any(|c| c == iso)
                || d.except_groups.iter().any(|g| e.in_group(g, iso, date))
            {
                continue;
            }
            if d.countries.iter().any(|c| c == iso) && !why.iter().any(|w| w == "by name") {
                why.push("by name".to_string());
            }
            for g in &d.groups {
                if e.in_group(g, iso, date) {
                    let label = e
                        .groups()
                        .get(g)
                        .map_or_else(|| g.clone(), |x| format!("{} ({})", x.name, g));
                    if !why.contains(&label) {
                        why.push(label);
                    }
                }
            }
        }
        if !why.is_empty() {
            out.push((m, why));
        }
    }
    out
}

/// The version of each measure in force on `date`.
fn in_force(e: &Engine, date: Date) -> Vec<&Measure> {
    let mut ids: Vec<&str> = e.measures().iter().map(|m| m.id.as_str()).collect();
    ids.dedup();
    ids.iter().filter_map(|id| e.version_on(id, date)).collect()
}

/// Items where one other country holds more than [`DEPENDENCE_SHARE`] percent, seen from `iso`
/// (the bilateral dependence of `chipwatch dependence`), largest share first.
pub fn depends_on(vc: &ValueChain, iso: &str) -> Vec<(String, concentration::Dependence)> {
    let mut out = Vec::new();
    for (_, p) in vc.providers() {
        let Some(sup) = p.country.as_deref() else {
            continue;
        };
        if p.provider_type != ProviderType::Country || sup == iso {
            continue;
        }
        if let Ok(rows) = concentration::dependence(vc, iso, sup, DEPENDENCE_SHARE) {
            out.extend(
                rows.into_iter()
                    .filter(|r| r.supplier_share > DEPENDENCE_SHARE)
                    .map(|r| (sup.to_string(), r)),
            );
        }
    }
    out.sort_by(|a, b| {
        b.1.supplier_share
            .total_cmp(&a.1.supplier_share)
            .then_with(|| a.1.item_id.cmp(&b.1.item_id))
            .then_with(|| a.1.basis.as_str().cmp(b.1.basis.as_str()))
    });
    out
}

fn measures_table(caption: &str, rows: &[(&Measure, String)]) -> String {
    let mut b = format!(
        r#"<table><caption>{}</caption><thead><tr><th scope="col">Measure</th><th scope="col">Jurisdiction</th><th scope="col">Title</th><th scope="col">Version, in force from</th><th scope="col">Why</th></tr></thead><tbody>"#,
        escape(caption)
    );
    for (m, why) in rows {
        let _ = write!(
            b,
            "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}, {}</td><td>{}</td></tr>",
            measure_link(m),
            escape(&m.jurisdiction),
            escape(&m.title),
            escape(&m.version),
            m.in_force_from,
            escape(why)
        );
    }
    b.push_str("</tbody></table>");
    b
}

/// GET /countries/{ISO3}
pub async fn country(
    State(s): State<AppState>,
    headers: HeaderMap,
    Path(code): Path<String>,
) -> Response {
    let who = session(&s, &headers).await;
    let vc = s.model.clone();
    let iso = code.trim().to_ascii_uppercase();
    if !chipwatch_controls::country::is_iso3(&iso) {
        let sugg = chipwatch_controls::country::suggest(&code);
        return super::error_page(
            StatusCode::BAD_REQUEST,
            "Not a country code",
            &format!(
                "country: `{code}` is not an ISO 3166-1 alpha-3 code{}.",
                if sugg.is_empty() {
                    String::new()
                } else {
                    format!(" (did you mean {}?)", sugg.join(", "))
                }
            ),
            who.as_ref(),
        );
    }
    let title = country_text(&vc, &iso);
    let mut b = String::new();
    b.push_str(r##"<nav aria-label="On this page" class="noprint"><p><a href="#supplies">What it supplies</a> · <a href="#depends">What it depends on</a> · <a href="#imposes">Measures it imposes</a> · <a href="#faces">Measures it faces</a></p></nav>"##);
    // What it supplies, per basis.
    b.push_str(r#"<h2 id="supplies">What it supplies</h2>"#);
    let supplied = vc
        .country_provider(&iso)
        .map(|p| supplied_by(&vc, &vc.provider(p).id))
        .unwrap_or_default();
    if supplied.is_empty() {
        b.push_str("<p class=\"muted\">The dataset lists no country shares for it.</p>");
    } else {
        for basis in [Basis::Hq, Basis::Location] {
            let rows: Vec<Supplied> = supplied
                .iter()
                .filter(|r| r.basis == basis)
                .cloned()
                .collect();
            if !rows.is_empty() {
                let _ = write!(
                    b,
                    "<h3>{}</h3>",
                    if basis == Basis::Hq {
                        "HQ basis"
                    } else {
                        "Location basis"
                    }
                );
                b.push_str(&supplied_table(
                    &vc,
                    &format!("Its share of each item's global market, {basis} basis"),
                    &rows,
                ));
            }
        }
        b.push_str("<p class=\"muted\">HQ basis: supply by firms headquartered there; location basis: capacity physically there.</p>");
    }
    // What it depends on.
    let _ = write!(
        b,
        r#"<h2 id="depends">What it depends on</h2><p class="muted">Items where one other country holds more than {DEPENDENCE_SHARE:.0}% of the global market (as <code>chipwatch dependence</code>); import share: that country's share of what it must import after using its own production.</p>"#
    );
    let vc2 = vc.clone();
    let iso2 = iso.clone();
    let deps = tokio::task::spawn_blocking(move || depends_on(&vc2, &iso2))
        .await
        .unwrap_or_default();
    if vc.country_provider(&iso).is_none() {
        // Not "no dependence": the model cannot say.
        b.push_str("<p class=\"muted\">Not computed: the model does not list this country as a provider, so its own shares are unknown.</p>");
    } else if deps.is_empty() {
        b.push_str("<p class=\"muted\">No item where another country holds more than half.</p>");
    } else {
        b.push_str(r#"<table><caption>Dependence on a single supplier country</caption><thead><tr><th scope="col">Item</th><th scope="col">Supplier</th><th scope="col" class="n">Supplier share (%)</th><th scope="col" class="n">Own share (%)</th><th scope="col" class="n">Import share (%)</th><th scope="col">Basis, year</th></tr></thead><tbody>"#);
        for (sup, d) in &deps {
            let _ = write!(
                b,
                r#"<tr><td>{}</td><td>{}</td><td class="n">{:.1}</td><td class="n">{:.1}</td><td class="n">{:.1}</td><td>{}, {}</td></tr>"#,
                item_link(&vc, &d.item_id),
                country_link(&vc, sup),
                d.supplier_share,
                d.consumer_share,
                d.import_share,
                d.basis,
                d.year.map_or("n/a".to_string(), |y| y.to_string())
            );
        }
        b.push_str("</tbody></table>");
    }
    // Measures.
    match engine() {
        Ok(e) => {
            let date = today();
            let imposed: Vec<(&Measure, String)> = measures_imposed(&e, &iso, date)
                .into_iter()
                .map(|m| {
                    let why = if m.jurisdiction == iso {
                        "its own measure".to_string()
                    } else {
                        format!("{} member", m.jurisdiction)
                    };
                    (m, why)
                })
                .collect();
            let _ = write!(
                b,
                r#"<h2 id="imposes">Measures it imposes ({})</h2>"#,
                imposed.len()
            );
            if imposed.is_empty() {
                b.push_str("<p class=\"muted\">No measure in the rule base in force today.</p>");
            } else {
                b.push_str(&measures_table(
                    &format!("Measures in force on {date} whose jurisdiction is it (or the EU for members)"),
                    &imposed,
                ));
            }
            let faced: Vec<(&Measure, String)> = measures_faced(&e, &iso, date)
                .into_iter()
                .map(|(m, why)| (m, why.join("; ")))
                .collect();
            let _ = write!(
                b,
                r#"<h2 id="faces">Measures it faces ({})</h2>"#,
                faced.len()
            );
            if faced.is_empty() {
                b.push_str("<p class=\"muted\">No measure in force today names it as a destination, by name or through a country group (measures for all destinations are not listed).</p>");
            } else {
                b.push_str(&measures_table(
                    &format!("Measures in force on {date} with a rule naming it as a destination"),
                    &faced,
                ));
            }
        }
        Err(m) => {
            let _ = write!(
                b,
                r#"<div class="error" role="alert"><p>The rule base could not be loaded: {}</p></div>"#,
                escape(&m)
            );
        }
    }
    b.push_str(&super::model_provenance(&vc));
    page_response(StatusCode::OK, &title, Nav::Overview, who.as_ref(), &b)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn score_ranks_exact_prefix_word_substring() {
        assert_eq!(score("ASML", "asml"), 100);
        assert_eq!(score("ASML Holding", "asml"), 80);
        assert_eq!(score("EUV lithography tools", "lith"), 60);
        assert_eq!(score("Photolithography", "lith"), 40);
        assert_eq!(score("Photolithography", "xyz"), 0);
        assert_eq!(score("", "a"), 0);
    }

    #[test]
    fn country_text_never_repeats_the_code() {
        let vc = chipwatch_data::default_model();
        assert_eq!(country_text(&vc, "CHN"), "China (CHN)");
        // Not in the model: the ISO name.
        assert_eq!(country_text(&vc, "ISL"), "Iceland (ISL)");
    }
}
