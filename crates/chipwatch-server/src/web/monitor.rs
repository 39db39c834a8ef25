//! Monitor page: the stored event feed of `chipwatch monitor ingest/run`, filtered by event
//! type, country, item and language; each event's original text (marked with its language) beside
//! what the classifier detected in it (actors, organisations, items, places, dates, evidence);
//! clusters of reports of one event; and the alerts with their scenario-engine impact estimate.
//! The classification is read from the stored record (the monitor's JSON) field by field, so a
//! record written by an older or newer monitor still shows what it has.

use super::{esc_list, item_link, options, page_response, session, Nav, Params};
use crate::AppState;
use axum::extract::{RawQuery, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use chipwatch_report::svg::escape;
use chipwatch_store::monitor::{EventFilter, EventRow};
use serde_json::Value;
use std::collections::BTreeMap;
use std::fmt::Write;

/// Events read from the store per request before filtering.
const SCAN: i64 = 1000;
/// Events shown per page.
const SHOWN: usize = 50;
/// Characters of original text shown per event.
const TEXT_CHARS: usize = 1200;
/// Languages the monitor reads.
const LANGUAGES: &[(&str, &str)] = &[
    ("zh", "Chinese"),
    ("en", "English"),
    ("ko", "Korean"),
    ("ja", "Japanese"),
    ("nl", "Dutch"),
];

fn strs(v: &Value, key: &str) -> Vec<String> {
    v.get(key)
        .and_then(Value::as_array)
        .map(|a| {
            a.iter()
                .filter_map(|x| x.as_str().map(str::to_string))
                .collect()
        })
        .unwrap_or_default()
}

fn s<'a>(v: &'a Value, key: &str) -> Option<&'a str> {
    v.get(key).and_then(Value::as_str)
}

/// Does an event's classification match the filters?
pub fn matches(
    record: &Value,
    country: Option<&str>,
    item: Option<&str>,
    lang: Option<&str>,
) -> bool {
    if let Some(c) = country {
        let c = c.to_ascii_uppercase();
        let mut all = strs(record, "countries");
        all.extend(strs(record, "locations"));
        if let Some(a) = record.get("actors") {
            all.extend(strs(a, "imposing"));
            all.extend(strs(a, "target"));
        }
        if let Some(orgs) = record.get("organisations").and_then(Value::as_array) {
            all.extend(
                orgs.iter()
                    .filter_map(|o| s(o, "country").map(str::to_string)),
            );
        }
        if !all.iter().any(|x| x.eq_ignore_ascii_case(&c)) {
            return false;
        }
    }
    if let Some(i) = item {
        if !strs(record, "items")
            .iter()
            .any(|x| x.eq_ignore_ascii_case(i))
        {
            return false;
        }
    }
    if let Some(l) = lang {
        if !s(record, "language").is_some_and(|x| x.eq_ignore_ascii_case(l)) {
            return false;
        }
    }
    true
}

/// What an alert matched (`item:N31`, `provider:P88`, `country:JPN`) as a link with its name.
pub fn matched_html(vc: &chipwatch_model::ValueChain, m: &str) -> String {
    match m.split_once(':') {
        Some(("item", id)) => item_link(vc, id),
        Some(("provider", id)) => match vc.provider_by_id(id) {
            Some(p) if p.provider_type == chipwatch_model::ProviderType::Country => p
                .country
                .as_deref()
                .map_or_else(|| escape(&p.name), |c| super::entity::country_link(vc, c)),
            Some(_) => super::entity::firm_link(vc, id),
            None => escape(id),
        },
        Some(("country", c)) => super::entity::country_link(vc, c),
        Some((kind, v)) => escape(&format!("{} {v}", kind.replace('_', " "))),
        None => escape(m),
    }
}

fn http_link(url: Option<&str>, text: &str) -> String {
    match url {
        Some(u) if u.starts_with("https://") || u.starts_with("http://") => {
            format!(
                r#"<a href="{}" rel="noopener noreferrer">{}</a>"#,
                escape(u),
                escape(text)
            )
        }
        _ => escape(text),
    }
}

/// A file path as source shows as its file name (the full path in a tooltip); URLs and feed
/// names stay as they are.
fn short_source(src: &str) -> String {
    if src.starts_with('/') || src.contains("\\") || src.contains("/../") {
        let name = src.rsplit(['/', '\\']).next().unwrap_or(src);
        format!(r#"<span title="{}">{}</span>"#, escape(src), escape(name))
    } else {
        escape(src)
    }
}

fn truncate(t: &str, n: usize) -> (String, bool) {
    if t.chars().count() <= n {
        (t.to_string(), false)
    } else {
        (t.chars().take(n).collect(), true)
    }
}

/// A BCP 47 tag safe for a `lang` attribute (letters, digits, hyphens).
fn lang_attr(l: &str) -> String {
    l.chars()
        .filter(|c| c.is_ascii_alphanumeric() || *c == '-')
        .take(12)
        .collect()
}

fn event_html(
    vc: &chipwatch_model::ValueChain,
    e: &EventRow,
    r: &Value,
    text: Option<&chipwatch_store::dashboard::ArticleText>,
    feedback: &str,
) -> String {
    let mut b = String::new();
    let lang = s(r, "language").unwrap_or("und");
    let _ = write!(
        b,
        r#"<article class="event" aria-labelledby="ev{id}"><h3 id="ev{id}" lang="{la}">{title}</h3><p class="muted"><span class="badge">{ty}</span> {status}{pol} · severity {sev:.2} · certainty {cert:.2} · language {lang} · {src} · {when}{cl}</p><div class="side"><div><h4>Original text</h4>"#,
        id = e.id,
        la = escape(&lang_attr(lang)),
        title = http_link(e.url.as_deref(), &e.title),
        ty = escape(&e.event_type.replace('_', " ")),
        status = s(r, "status").map(escape).unwrap_or_default(),
        pol = s(r, "polarity")
            .map(|x| format!(", {}", escape(x)))
            .unwrap_or_default(),
        sev = e.severity,
        cert = r.get("certainty").and_then(Value::as_f64).unwrap_or(0.0),
        lang = escape(lang),
        src = short_source(s(r, "source").unwrap_or("")),
        // The publication date with where it came from; an undated item says so and shows
        // only when the mirror or poller saw it.
        when = escape(&match (s(r, "published_at"), s(r, "seen_at")) {
            (Some(p), _) => format!(
                "published {p}{}",
                s(r, "published_at_source")
                    .map(|src| format!(" (from the {src})"))
                    .unwrap_or_default()
            ),
            (None, Some(seen)) => format!("undated; seen {seen}"),
            (None, None) => format!(
                "undated; stored {}",
                chipwatch_store::time::format(e.event_time)
            ),
        }),
        cl = e
            .cluster_id
            .as_deref()
            .map(|c| format!(" · cluster <code>{}</code>", escape(c)))
            .unwrap_or_default(),
    );
    match text {
        Some(t) => {
            let (body, cut) = truncate(&t.body, TEXT_CHARS);
            let _ = write!(
                b,
                r#"<blockquote lang="{}">{}{}</blockquote>"#,
                escape(&lang_attr(&t.language)),
                escape(&body).replace('\n', "<br>"),
                if cut { "&hellip;" } else { "" }
            );
        }
        None => b.push_str("<p class=\"muted\">Text not stored.</p>"),
    }
    b.push_str("<p class=\"hint\">No translation is stored; the summary and the detected entities on the right are built in English from what was extracted.</p></div><div><h4>Detected</h4>");
    if let Some(sm) = s(r, "summary") {
        let _ = write!(
            b,
            "<p class=\"summary\" lang=\"en\"><b>Summary:</b> {}</p>",
            escape(sm)
        );
    }
    b.push_str("<dl class=\"kv\">");
    let actors = r.get("actors").cloned().unwrap_or(Value::Null);
    let mut kv = |k: &str, v: String| {
        if !v.is_empty() {
            let _ = write!(b, "<dt>{}</dt><dd>{v}</dd>", escape(k));
        }
    };
    kv("Imposing / parties", esc_list(&strs(&actors, "imposing")));
    kv("Target", esc_list(&strs(&actors, "target")));
    kv("Countries", esc_list(&strs(r, "countries")));
    kv("Sites in", esc_list(&strs(r, "locations")));
    let orgs: Vec<String> = r
        .get("organisations")
        .and_then(Value::as_array)
        .map(|a| {
            a.iter()
                .map(|o| {
                    format!(
                        "{}{} <span class=\"muted\">({})</span>",
                        escape(s(o, "name").unwrap_or("?")),
                        s(o, "country")
                            .map(|c| format!(" [{}]", escape(c)))
                            .unwrap_or_default(),
                        escape(s(o, "role").unwrap_or("mentioned"))
                    )
                })
                .collect()
        })
        .unwrap_or_default();
    kv("Organisations", orgs.join("; "));
    let items: Vec<String> = strs(r, "items").iter().map(|i| item_link(vc, i)).collect();
    kv("Items", items.join(", "));
    kv("Dates", esc_list(&strs(r, "dates")));
    kv("Quantities", esc_list(&strs(r, "quantities")));
    kv("Also reports", esc_list(&strs(r, "other_event_types")));
    // The learned layer's own reading, so an analyst sees when it, not the lexicons, decided.
    if let Some(l) = r.get("learned").filter(|l| l.is_object()) {
        let num = |k: &str| l.get(k).and_then(Value::as_f64).unwrap_or(0.0);
        kv(
            "Learned layer",
            format!(
                "{}: relevance {:.2}, most probable type {} ({:.2}); n-grams: {}",
                escape(s(l, "decision").unwrap_or("?")),
                num("relevant"),
                escape(&s(l, "event_type").unwrap_or("?").replace('_', " ")),
                num("probability"),
                esc_list(&strs(l, "features"))
            ),
        );
    }
    b.push_str("</dl>");
    let ev = strs(r, "evidence");
    if !ev.is_empty() {
        let _ = write!(
            b,
            r#"<p><b>Evidence</b></p><ul lang="{}">"#,
            escape(&lang_attr(lang))
        );
        for x in ev.iter().take(6) {
            let _ = write!(b, "<li>{}</li>", escape(x));
        }
        b.push_str("</ul>");
        if ev.len() > 6 {
            let _ = write!(
                b,
                "<p class=\"muted\">and {} more evidence sentences not shown.</p>",
                ev.len() - 6
            );
        }
    }
    b.push_str("</div></div>");
    b.push_str(feedback);
    b.push_str("</article>");
    b
}

fn alerts_html(
    vc: &chipwatch_model::ValueChain,
    alerts: &[chipwatch_store::monitor::AlertRow],
) -> String {
    if alerts.is_empty() {
        return "<p class=\"muted\">No alerts. Alerts are raised when an ingested event touches a watchlist entry (<code>chipwatch monitor ingest --watchlist</code>).</p>".into();
    }
    let mut b = String::from(
        r#"<table><caption>Newest alerts</caption><thead><tr><th scope="col">Raised</th><th scope="col">Watch</th><th scope="col">Event</th><th scope="col">Matched</th><th scope="col">Impact (finished chips, minimum availability)</th></tr></thead><tbody>"#,
    );
    for a in alerts {
        let p: Value = serde_json::from_str(&a.payload).unwrap_or(Value::Null);
        let impact = match p.get("impact") {
            Some(i) if !i.is_null() => {
                let mut t = format!(
                    "world {:.3}",
                    i.get("world_availability_min")
                        .and_then(Value::as_f64)
                        .unwrap_or(1.0)
                );
                if let Some(cs) = i.get("consumers").and_then(Value::as_array) {
                    for c in cs.iter().take(4) {
                        let chain: Vec<String> = strs(c, "binding_constraint")
                            .iter()
                            .map(|x| item_link(vc, x))
                            .collect();
                        let _ = write!(
                            t,
                            "; {} {:.3}{}",
                            escape(s(c, "country").unwrap_or("?")),
                            c.get("final_output_availability_min")
                                .and_then(Value::as_f64)
                                .unwrap_or(1.0),
                            if chain.is_empty() {
                                String::new()
                            } else {
                                format!(" (binds: {})", chain.join(" &larr; "))
                            }
                        );
                    }
                    if cs.len() > 4 {
                        let _ = write!(t, "; and {} more countries", cs.len() - 4);
                    }
                }
                t
            }
            _ => escape(s(&p, "impact_note").unwrap_or("no estimate for this event type")),
        };
        let _ = write!(
            b,
            r##"<tr><td>{}</td><td>{}</td><td><a href="#ev{}">{}</a> <span class="muted">({}, severity {:.2})</span></td><td>{}</td><td>{}</td></tr>"##,
            escape(&chipwatch_store::time::format(a.created_at)),
            escape(&a.watch),
            a.article_id,
            escape(s(&p, "title").unwrap_or("event")),
            escape(&s(&p, "event_type").unwrap_or("?").replace('_', " ")),
            p.get("severity").and_then(Value::as_f64).unwrap_or(0.0),
            strs(&p, "matched")
                .iter()
                .map(|m| matched_html(vc, m))
                .collect::<Vec<_>>()
                .join(", "),
            impact
        );
    }
    b.push_str("</tbody></table>");
    b
}

/// GET /monitor
pub async fn page(State(st): State<AppState>, headers: HeaderMap, q: RawQuery) -> Response {
    let who = session(&st, &headers).await;
    let p = Params::from_query(&q);
    let vc = &st.model;
    let relevant_only = !p.has("all");
    let ty = p.get("type").map(str::to_string);
    let country = p.get("country");
    let item = p.get("item");
    let lang = p.get("lang");
    // The form.
    let mut types = vec![(String::new(), "(any type)".to_string())];
    // The monitor's own list (BRIEF 3.6), the trade signals, and `none` for articles with no
    // event.
    types.extend(
        chipwatch_monitor::gazetteer::EVENT_TYPES
            .iter()
            .chain(chipwatch_monitor::trade::TRADE_EVENT_TYPES)
            .chain(&["none"])
            .map(|t| (t.to_string(), t.replace('_', " "))),
    );
    let mut langs = vec![(String::new(), "(any language)".to_string())];
    langs.extend(
        LANGUAGES
            .iter()
            .map(|(c, n)| (c.to_string(), format!("{n} ({c})"))),
    );
    let mut items = vec![(String::new(), "(any item)".to_string())];
    items.extend(
        vc.items()
            .map(|(_, it)| (it.id.clone(), format!("{} {}", it.id, it.name))),
    );
    let mut b = String::new();
    let _ = write!(
        b,
        r#"<p class="lead">Supply-chain events detected in the news (Chinese, English, Korean, Japanese, Dutch) and signals of the trade statistics (stops, collapses, surges: <code>chipwatch trade alerts --db</code>), linked to the model's items, providers and countries.</p>
<form class="panel" method="get" action="/monitor"><div class="fields">
<div><label for="type">Event type</label><select id="type" name="type">{}</select></div>
<div><label for="country">Country <span class="hint">(ISO alpha-3)</span></label><input type="text" id="country" name="country" size="5" maxlength="3" value="{}"></div>
<div><label for="item">Item</label><select id="item" name="item">{}</select></div>
<div><label for="lang">Language</label><select id="lang" name="lang">{}</select></div>
<div><label><input type="checkbox" name="all" value="1"{}> include events judged not relevant</label></div>
<div><button type="submit">Filter</button></div></div></form>"#,
        options(&types, &ty.iter().cloned().collect::<Vec<_>>()),
        escape(country.unwrap_or("")),
        options(&items, &p.all("item")),
        options(&langs, &p.all("lang")),
        if relevant_only { "" } else { " checked" }
    );
    let filter = EventFilter {
        since: None,
        event_type: ty.clone(),
        relevant_only,
        limit: Some(SCAN),
    };
    let rows = match st.store.monitor_events(&filter).await {
        Ok(r) => r,
        Err(e) => {
            tracing::error!(error = %e, "cannot read events");
            return super::error_page(
                StatusCode::INTERNAL_SERVER_ERROR,
                "Monitor",
                "The event store could not be read; see the server log.",
                who.as_ref(),
            );
        }
    };
    let parsed: Vec<(EventRow, Value)> = rows
        .into_iter()
        .map(|e| {
            let v = serde_json::from_str(&e.record).unwrap_or(Value::Null);
            (e, v)
        })
        .filter(|(_, v)| matches(v, country, item, lang))
        .collect();
    let shown: Vec<&(EventRow, Value)> = parsed.iter().take(SHOWN).collect();
    let ids: Vec<i64> = shown.iter().map(|(e, _)| e.id).collect();
    let texts = st
        .store
        .monitor_article_texts(&ids)
        .await
        .unwrap_or_else(|e| {
            tracing::error!(error = %e, "cannot read article texts");
            Vec::new()
        });
    // Alerts of the events that pass the filters (so a filtered view shows its own alerts).
    let alerts: Vec<_> = st
        .store
        .monitor_recent_alerts(200)
        .await
        .unwrap_or_else(|e| {
            tracing::error!(error = %e, "cannot read alerts");
            Vec::new()
        })
        .into_iter()
        .filter(|a| parsed.iter().any(|(e, _)| e.id == a.article_id))
        .take(30)
        .collect();
    let _ = write!(
        b,
        r#"<h2 id="alerts">Alerts</h2>{}"#,
        alerts_html(vc, &alerts)
    );

    // Clusters of the filtered events.
    let mut clusters: BTreeMap<&str, Vec<&(EventRow, Value)>> = BTreeMap::new();
    for ev in &parsed {
        if let Some(c) = ev.0.cluster_id.as_deref() {
            clusters.entry(c).or_default().push(ev);
        }
    }
    let mut cl: Vec<(&str, Vec<&(EventRow, Value)>)> = clusters.into_iter().collect();
    cl.sort_by(|a, b| {
        b.1.len()
            .cmp(&a.1.len())
            .then_with(|| b.1[0].0.event_time.cmp(&a.1[0].0.event_time))
    });
    b.push_str(r#"<h2 id="clusters">Clusters</h2>"#);
    if cl.is_empty() {
        b.push_str("<p class=\"muted\">No clustered events match.</p>");
    } else {
        b.push_str(r#"<table><caption>Reports grouped into one event (largest first)</caption><thead><tr><th scope="col">Cluster</th><th scope="col">Type</th><th scope="col" class="n">Reports</th><th scope="col">Languages</th><th scope="col">Headlines</th></tr></thead><tbody>"#);
        for (id, evs) in cl.iter().take(20) {
            let mut langs: Vec<String> = evs
                .iter()
                .filter_map(|e| s(&e.1, "language").map(str::to_string))
                .collect();
            langs.sort();
            langs.dedup();
            let heads: Vec<String> = evs
                .iter()
                .take(4)
                .map(|e| format!(r##"<a href="#ev{}">{}</a>"##, e.0.id, escape(&e.0.title)))
                .collect();
            let _ = write!(
                b,
                r#"<tr><td><code>{}</code></td><td>{}</td><td class="n">{}</td><td>{}</td><td>{}</td></tr>"#,
                escape(id),
                escape(&evs[0].0.event_type.replace('_', " ")),
                evs.len(),
                esc_list(&langs),
                heads.join("<br>")
            );
        }
        b.push_str("</tbody></table>");
    }

    let _ = write!(
        b,
        r#"<h2 id="events">Events <span class="muted">({} match{}{})</span></h2>"#,
        parsed.len(),
        if parsed.len() == 1 { "" } else { "es" },
        if parsed.len() > SHOWN {
            format!(", newest {SHOWN} shown")
        } else {
            String::new()
        }
    );
    if shown.is_empty() {
        b.push_str("<p>No events match these filters.</p>");
    }
    // The signed-in organisation's own feedback on these events (none signed out).
    let marks = match &who {
        Some(p) => st
            .store
            .monitor_feedback_of(p.org.id, None)
            .await
            .unwrap_or_else(|e| {
                tracing::error!(error = %e, "cannot read feedback");
                Vec::new()
            }),
        None => Vec::new(),
    };
    if p.get("feedback") == Some("saved") {
        b.push_str("<div class=\"notice\" role=\"status\"><p>Feedback saved.</p></div>");
    }
    for (e, r) in shown {
        let fb = super::monitor_feedback::block(e.id, who.as_ref(), &marks);
        b.push_str(&event_html(
            vc,
            e,
            r,
            texts.iter().find(|t| t.id == e.id),
            &fb,
        ));
    }
    b.push_str(r#"<p class="prov">Events from the feeds and files ingested with <code>chipwatch monitor</code>; classification by rules and multilingual lexicons with a learned layer trained on the project's own labelled articles (docs/monitor.md; each event says whether the layer changed the rules' decision). Impact estimates come from the scenario engine on the server's model.</p>"#);
    page_response(StatusCode::OK, "Monitor", Nav::Monitor, who.as_ref(), &b)
}
