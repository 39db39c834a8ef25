//! Export-control pages over `chipwatch-controls`: the licence check (one verdict per
//! jurisdiction plus the strictest overall, each with the measure, instrument, version and the
//! line-by-line explanation), restricted-party screening, and measure impact (the measure turned
//! into export blocks and run through the scenario engine: who is hit, how much, and how the
//! blocked value spreads across destinations). All forms use GET, so every answer has a URL.

use super::{esc_list, item_link, options, page_response, session, Nav, Params};
use crate::AppState;
use axum::extract::{RawQuery, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use chipwatch_controls::batch::parse_param;
use chipwatch_controls::impact::{measure_impact, ImpactReport};
use chipwatch_controls::screening::DEFAULT_THRESHOLD;
use chipwatch_controls::{Date, Determination, Engine, Hit, Shipment};
use chipwatch_report::svg::{bar_chart, escape};
use std::collections::BTreeMap;
use std::fmt::Write;
use std::sync::{Arc, OnceLock};

/// Names screened per request at most (bounds the work of one request).
pub const MAX_NAMES: usize = 200;

/// The engine over the embedded measures, catalogue and list, built once.
pub(super) fn engine() -> Result<Arc<Engine>, String> {
    static ENGINE: OnceLock<Result<Arc<Engine>, String>> = OnceLock::new();
    ENGINE
        .get_or_init(|| {
            chipwatch_controls::default_engine()
                .map(Arc::new)
                .map_err(|e| e.to_string())
        })
        .clone()
}

pub(crate) fn today() -> Date {
    Date::from_days_since_epoch(chipwatch_store::time::now().div_euclid(86_400))
}

fn date_param(p: &Params) -> Result<Date, String> {
    match p.get("date") {
        None => Ok(today()),
        Some(d) => Date::parse(d).map_err(|m| format!("date: {m}")),
    }
}

fn error_box(msg: &str) -> String {
    format!(
        r#"<div class="error" role="alert"><p>{}</p></div>"#,
        escape(msg)
    )
}

fn verdict_badge(outcome: &str, policy: Option<&str>) -> String {
    format!(
        r#"<span class="badge v-{o}">{}{}</span>"#,
        escape(&outcome.replace('_', " ")),
        policy
            .map(|p| format!(" ({})", escape(&p.replace('_', " "))))
            .unwrap_or_default(),
        o = escape(outcome)
    )
}

/// Build the shipment of the licence form. Errors name the field.
pub fn shipment(p: &Params) -> Result<Shipment, String> {
    let mut params = BTreeMap::new();
    for line in p
        .get("params")
        .unwrap_or("")
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
    {
        let (k, v) = parse_param(line).map_err(|m| format!("parameters: {m}"))?;
        params.insert(k, v);
    }
    let country = |name: &str| -> Result<Option<String>, String> {
        match p.get(name) {
            None => Ok(None),
            Some(c) => chipwatch_controls::country::check(name, c)
                .map(Some)
                .map_err(|e| e.to_string()),
        }
    };
    Ok(Shipment {
        product: p.get("product").map(str::to_string),
        params,
        from: country("from")?.ok_or("from: the exporting country is required")?,
        to: country("to")?.ok_or("to: the destination country is required")?,
        origin: country("origin")?,
        end_user: p.get("end_user").map(str::to_string),
        end_use: p.get("end_use").map(str::to_string),
        date: date_param(p)?,
        parties: p
            .get("parties")
            .unwrap_or("")
            .lines()
            .map(str::trim)
            .filter(|l| !l.is_empty())
            .map(|l| {
                let (r, n) = l
                    .split_once('=')
                    .ok_or_else(|| format!("parties: `{l}`: expected role=name"))?;
                let role = chipwatch_controls::PartyRole::parse(r).ok_or_else(|| {
                    format!(
                        "parties: `{r}`: unknown role (purchaser, intermediate_consignee, \
                         consignee, exporter)"
                    )
                })?;
                Ok(chipwatch_controls::Party {
                    role,
                    name: n.trim().to_string(),
                })
            })
            .collect::<Result<_, String>>()?,
    })
}

fn determination_html(vc: &chipwatch_model::ValueChain, d: &Determination) -> String {
    let mut b = String::new();
    let o = &d.overall;
    let _ = write!(
        b,
        r#"<section aria-labelledby="verdict"><h2 id="verdict">Verdict: {}</h2><dl class="kv"><dt>Shipment</dt><dd>{} &rarr; {} on {}{}{}</dd><dt>Overall</dt><dd>{}{}</dd><dt>Decided by</dt><dd>{}</dd><dt>Jurisdictions not reaching it</dt><dd>{}</dd></dl>"#,
        verdict_badge(o.outcome.as_str(), o.review_policy.map(|p| p.as_str())),
        escape(&d.from),
        escape(&d.to),
        d.date,
        d.end_user
            .as_deref()
            .map(|u| format!(", end user {}", escape(u)))
            .unwrap_or_default(),
        d.end_use
            .as_deref()
            .map(|u| format!(", end use {}", escape(u)))
            .unwrap_or_default(),
        verdict_badge(o.outcome.as_str(), o.review_policy.map(|p| p.as_str())),
        o.authorisation
            .as_deref()
            .map(|a| format!(" under {}", escape(a)))
            .unwrap_or_default(),
        if o.outcome == chipwatch_controls::OutcomeKind::Undetermined {
            "not decided: values are missing or measures are not encoded (below)".to_string()
        } else if o.measure_ids.is_empty() {
            "no measure".to_string()
        } else {
            esc_list(&o.measure_ids)
        },
        if o.not_reached.is_empty() {
            "-".to_string()
        } else {
            esc_list(&o.not_reached)
        }
    );
    if !o.undetermined.is_empty() {
        let _ = write!(
            b,
            r#"<div class="undetermined" role="status"><p><b>Undetermined for {}.</b> {}</p></div>"#,
            esc_list(&o.undetermined),
            if o.missing_parameters.is_empty() {
                "chipwatch does not encode every measure that may apply (see the explanation)."
                    .to_string()
            } else {
                format!(
                    "Give these values under Parameters to decide: {}.",
                    esc_list(&o.missing_parameters)
                )
            }
        );
    }
    b.push_str(r#"<table><caption>One verdict per jurisdiction</caption><thead><tr><th scope="col">Jurisdiction</th><th scope="col">Verdict</th><th scope="col">Measure and instrument</th><th scope="col">Explanation</th></tr></thead><tbody>"#);
    for v in &d.verdicts {
        let mut ex = String::from("<ul>");
        for line in &v.explanation {
            let _ = write!(ex, "<li>{}</li>", escape(line));
        }
        ex.push_str("</ul>");
        let _ = write!(
            b,
            r#"<tr><th scope="row">{}</th><td>{}{}</td><td>{}{}{}{}</td><td>{}</td></tr>"#,
            escape(&v.jurisdiction),
            verdict_badge(v.outcome.as_str(), v.review_policy.map(|p| p.as_str())),
            v.authorisation
                .as_deref()
                .map(|a| format!("<br>{}", escape(a)))
                .unwrap_or_default(),
            v.measure_id
                .as_deref()
                .map(|m| format!("<b>{}</b>", escape(m)))
                .unwrap_or_else(|| "-".into()),
            v.instrument
                .as_deref()
                .map(|m| format!("<br>{}", escape(m)))
                .unwrap_or_default(),
            v.version
                .as_deref()
                .map(|m| format!("<br>version {}", escape(m)))
                .unwrap_or_default(),
            v.citation
                .as_deref()
                .map(|m| format!("<br><span class=\"muted\">{}</span>", escape(m)))
                .unwrap_or_default(),
            ex
        );
    }
    b.push_str("</tbody></table>");
    let r = &d.ruleset;
    let _ = write!(
        b,
        r#"<p class="prov">Rule set <code>{}</code> ({} control files; controls <code>{}</code>, catalogue <code>{}</code>, lists <code>{}</code>). Lists: {}.</p></section>"#,
        escape(&r.version[..16.min(r.version.len())]),
        r.measure_files,
        escape(&r.controls_digest[..12.min(r.controls_digest.len())]),
        escape(&r.catalogue_digest[..12.min(r.catalogue_digest.len())]),
        escape(&r.lists_digest[..12.min(r.lists_digest.len())]),
        r.lists
            .iter()
            .map(|l| format!(
                "{} ({} {}, {} entries{})",
                escape(&l.name),
                if l.compiled { "compiled" } else { "published" },
                l.published
                    .map_or("date unknown".to_string(), |d| d.to_string()),
                l.entries,
                if l.partial { ", partial extract" } else { "" }
            ))
            .collect::<Vec<_>>()
            .join("; ")
    );
    // The item as determined.
    let it = &d.item;
    b.push_str("<h2>Item as determined</h2><dl class=\"kv\">");
    if let Some(pr) = &it.product {
        let _ = write!(
            b,
            "<dt>Product</dt><dd>{}{}</dd>",
            escape(pr),
            it.product_source
                .as_deref()
                .map(|s| format!(" <span class=\"muted\">(values: {})</span>", escape(s)))
                .unwrap_or_default()
        );
    }
    for (k, v) in &it.parameters {
        let _ = write!(
            b,
            "<dt>{}</dt><dd>{}</dd>",
            escape(k),
            escape(&serde_json::to_string(v).unwrap_or_default())
        );
    }
    for (k, v) in &it.derived {
        let _ = write!(
            b,
            "<dt>{} <span class=\"hint\">(derived)</span></dt><dd>{}</dd>",
            escape(k),
            chipwatch_controls::value::fmt_num(*v)
        );
    }
    b.push_str("</dl>");
    if !it.unknown_parameters.is_empty() {
        let _ = write!(
            b,
            "<p class=\"warn\">Parameters no measure uses: {}</p>",
            esc_list(&it.unknown_parameters)
        );
    }
    if let Some(model_item) = it.product.as_deref().and_then(|p| {
        engine().ok().and_then(|e| {
            e.catalogue()
                .find(p)
                .ok()
                .and_then(|x| x.model_item.clone())
        })
    }) {
        let _ = write!(b, "<p>Value-chain item: {}</p>", item_link(vc, &model_item));
    }
    if !d.end_user_screening.is_empty() {
        b.push_str("<h2>End-user screening</h2>");
        b.push_str(&hits_table(&d.end_user_screening));
    }
    for ps in &d.party_screening {
        let _ = write!(
            b,
            "<h2>Screening: {} {}</h2>",
            escape(&ps.role.as_str().replace('_', " ")),
            escape(&ps.name)
        );
        if ps.hits.is_empty() {
            b.push_str("<p class=\"ok\">No match on the restricted-party lists.</p>");
        } else {
            b.push_str(&hits_table(&ps.hits));
        }
    }
    b
}

pub(super) fn hits_table(hits: &[Hit]) -> String {
    let mut b = String::from(
        r#"<table><thead><tr><th scope="col">Listed party</th><th scope="col">Matched name</th><th scope="col" class="n">Score</th><th scope="col">List</th><th scope="col">Country</th><th scope="col">Licence requirement</th><th scope="col">Citation</th></tr></thead><tbody>"#,
    );
    for h in hits {
        let _ = write!(
            b,
            r#"<tr><td>{}</td><td>{}</td><td class="n">{:.2}</td><td>{}</td><td>{}</td><td>{}{}</td><td>{}</td></tr>"#,
            escape(&h.entry_name),
            escape(&h.matched_name),
            h.score,
            escape(&h.list),
            escape(h.country.as_deref().unwrap_or("-")),
            escape(&h.licence_requirement),
            h.review_policy
                .map(|p| format!(" ({})", escape(&p.as_str().replace('_', " "))))
                .unwrap_or_default(),
            escape(&h.citation)
        );
    }
    b.push_str("</tbody></table>");
    b
}

/// The signed-in organisation's licences that can cover each requirement of `d` (grandfathering
/// applied), from its register in the database; nothing when no licence is required.
async fn covering_licences_html(
    s: &AppState,
    who: &chipwatch_store::partner::Principal,
    e: &Engine,
    d: &Determination,
    to: &str,
) -> String {
    let filter = chipwatch_store::licences::LicenceFilter {
        date: Some(d.date),
        destination: Some(to.to_string()),
        ..Default::default()
    };
    let register: Vec<_> = match s.store.licences(who.org.id, &filter).await {
        Ok(v) => v.into_iter().map(|x| x.licence.record()).collect(),
        Err(err) => {
            return error_box(&format!("The licence register could not be read: {err}"));
        }
    };
    let cover = chipwatch_controls::licence::covers(e, d, &register);
    if cover.is_empty() {
        return String::new();
    }
    let mut b = String::from(
        r#"<section class="panel" id="covering" aria-labelledby="covering-h"><h2 id="covering-h">Licences of your register for these requirements</h2><table><thead><tr><th scope="col">Licence</th><th scope="col">Jurisdiction</th><th scope="col">Covers</th><th scope="col">Why</th></tr></thead><tbody>"#,
    );
    for c in &cover {
        let _ = write!(
            b,
            r#"<tr><th scope="row">{}</th><td>{}</td><td>{}</td><td>{}</td></tr>"#,
            escape(&c.licence),
            escape(&c.jurisdiction),
            if c.covers { "yes" } else { "no" },
            escape(&c.reason)
        );
    }
    b.push_str("</tbody></table></section>");
    b
}

/// GET /licence
pub async fn licence(State(s): State<AppState>, headers: HeaderMap, q: RawQuery) -> Response {
    let who = session(&s, &headers).await;
    let p = Params::from_query(&q);
    let e = match engine() {
        Ok(e) => e,
        Err(m) => {
            return super::error_page(
                StatusCode::INTERNAL_SERVER_ERROR,
                "Licence check",
                &format!("The rules engine could not load its data: {m}"),
                who.as_ref(),
            )
        }
    };
    let mut products: Vec<(String, String)> =
        vec![(String::new(), "(none: give parameters)".into())];
    products.extend(e.catalogue().products().iter().map(|x| {
        (
            x.name.clone(),
            format!(
                "{} — {} ({})",
                x.name,
                x.manufacturer,
                x.category.replace('_', " ")
            ),
        )
    }));
    let v = |n: &str| escape(p.get(n).unwrap_or(""));
    let mut b = String::new();
    let _ = write!(
        b,
        r#"<p class="lead">Does this shipment need a licence, under which measure, and why? One verdict per jurisdiction that can reach the shipment (EU, NL, US, JP, CN rules as data), as of a date.</p>
<form class="panel" method="get" action="/licence"><div class="fields">
<div><label for="product">Product <span class="hint">(catalogue values)</span></label><select id="product" name="product">{prods}</select></div>
<div><label for="from">From <span class="hint">(ISO alpha-3)</span></label><input type="text" id="from" name="from" size="5" maxlength="3" required value="{from}"></div>
<div><label for="to">To</label><input type="text" id="to" name="to" size="5" maxlength="3" required value="{to}"></div>
<div><label for="origin">Origin <span class="hint">(optional)</span></label><input type="text" id="origin" name="origin" size="5" maxlength="3" value="{origin}"></div>
<div><label for="end_user">End user <span class="hint">(screened)</span></label><input type="text" id="end_user" name="end_user" size="28" value="{eu}"></div>
<div><label for="end_use">End use</label><input type="text" id="end_use" name="end_use" size="18" value="{euse}"></div>
<div><label for="date">Date</label><input type="date" id="date" name="date" value="{date}"></div>
<div><label for="control_entry">Control entry <span class="hint">(optional, e.g. 3B001.f)</span></label><input type="text" id="control_entry" name="control_entry" size="10" value="{centry}"></div>
</div><div class="fields"><div><label for="params">Parameters <span class="hint">(one name=value per line; override the catalogue)</span></label><textarea id="params" name="params" rows="3" cols="50">{params}</textarea></div>
<div><label for="parties">Other parties <span class="hint">(one role=name per line: purchaser, intermediate_consignee, consignee, exporter)</span></label><textarea id="parties" name="parties" rows="3" cols="40">{parties}</textarea></div>
<div><button type="submit">Check licence</button></div></div></form>"#,
        prods = options(&products, &p.all("product")),
        from = v("from"),
        to = v("to"),
        origin = v("origin"),
        eu = v("end_user"),
        euse = v("end_use"),
        date = escape(
            &p.get("date")
                .map_or_else(|| today().to_string(), str::to_string)
        ),
        params = v("params"),
        parties = v("parties"),
        centry = v("control_entry"),
    );
    let mut status = StatusCode::OK;
    if p.has("from") || p.has("to") {
        match shipment(&p)
            .and_then(|sh| e.determine(&sh).map(|d| (sh, d)).map_err(|e| e.to_string()))
        {
            Ok((sh, d)) => {
                // Signed in: the partners' denial notices this transaction matches come first.
                if let Some(who) = &who {
                    let t = crate::routes::denials::transaction_of(
                        sh.end_user.as_deref(),
                        &sh.parties,
                        sh.product.as_deref(),
                        p.get("control_entry"),
                        sh.date,
                    );
                    match crate::routes::denials::partner_denials(
                        &s,
                        &who.org,
                        &who.actor(),
                        &e,
                        &t,
                    )
                    .await
                    {
                        Ok(ms) => b.push_str(&super::denials::matches_html(&ms)),
                        Err(err) => b.push_str(&error_box(&format!(
                            "Partner denial notices could not be checked: {}",
                            err.message
                        ))),
                    }
                }
                b.push_str(&determination_html(&s.model, &d));
                if let Some(who) = &who {
                    b.push_str(&covering_licences_html(&s, who, &e, &d, &sh.to).await);
                    b.push_str(&super::determination_records::keep_form(
                        who,
                        q.0.as_deref().unwrap_or(""),
                    ));
                }
            }
            Err(m) => {
                status = StatusCode::UNPROCESSABLE_ENTITY;
                b.push_str(&error_box(&m));
            }
        }
    }
    b.push_str(r#"<p class="prov">Rules: the measure files under <code>data/controls/</code> (instrument, version and dates named in each verdict); product values from <code>data/products/</code> with their sources. A determination is an aid for a licensing officer, not legal advice.</p>"#);
    page_response(status, "Licence check", Nav::Licence, who.as_ref(), &b)
}

/// GET /screening
pub async fn screening(State(s): State<AppState>, headers: HeaderMap, q: RawQuery) -> Response {
    let who = session(&s, &headers).await;
    let p = Params::from_query(&q);
    let e = match engine() {
        Ok(e) => e,
        Err(m) => {
            return super::error_page(
                StatusCode::INTERNAL_SERVER_ERROR,
                "Screening",
                &format!("The rules engine could not load its data: {m}"),
                who.as_ref(),
            )
        }
    };
    let mut status = StatusCode::OK;
    let threshold = match p.get("threshold").map(str::parse::<f64>) {
        None => Ok(DEFAULT_THRESHOLD),
        Some(Ok(t)) if (0.0..=1.0).contains(&t) => Ok(t),
        Some(_) => Err("threshold: a number between 0 and 1".to_string()),
    };
    let mut b = String::new();
    let _ = write!(
        b,
        r#"<p class="lead">Screen names against the restricted-party lists (Chinese script, romanisation, aliases, typos and word order are matched).</p>
<form class="panel" method="get" action="/screening"><div class="fields"><div><label for="names">Names <span class="hint">(one per line)</span></label><textarea id="names" name="names" rows="4" cols="50" required>{}</textarea></div>
<div><label for="threshold">Threshold <span class="hint">(0..1)</span></label><input type="number" id="threshold" name="threshold" step="0.01" min="0" max="1" value="{}"></div><div><button type="submit">Screen</button></div></div></form>"#,
        escape(p.get("names").unwrap_or("")),
        escape(
            &p.get("threshold")
                .map_or_else(|| DEFAULT_THRESHOLD.to_string(), str::to_string)
        )
    );
    match threshold {
        Err(m) => {
            status = StatusCode::UNPROCESSABLE_ENTITY;
            b.push_str(&error_box(&m));
        }
        Ok(t) => {
            let names: Vec<&str> = p
                .get("names")
                .unwrap_or("")
                .lines()
                .map(str::trim)
                .filter(|l| !l.is_empty())
                .take(MAX_NAMES)
                .collect();
            if !names.is_empty() {
                let results = e.screener().screen_many(names.iter().copied(), t);
                b.push_str("<h2>Results</h2>");
                for (name, hits) in names.iter().zip(results) {
                    let _ = write!(
                        b,
                        "<h3>{}: {}</h3>",
                        escape(name),
                        if hits.is_empty() {
                            "<span class=\"ok\">no match</span>".to_string()
                        } else {
                            format!("<span class=\"bad\">{} match(es)</span>", hits.len())
                        }
                    );
                    if !hits.is_empty() {
                        b.push_str(&hits_table(&hits));
                    }
                }
            }
        }
    }
    let metas: Vec<String> = e
        .screener()
        .metas()
        .iter()
        .map(|m| format!("{} ({})", m.name, m.source))
        .collect();
    let _ = write!(
        b,
        r#"<p class="prov">Lists: {} ({} indexed names).</p>"#,
        if metas.is_empty() {
            "embedded default list".to_string()
        } else {
            esc_list(&metas)
        },
        e.screener().indexed_names()
    );
    page_response(
        status,
        "Restricted-party screening",
        Nav::Screening,
        who.as_ref(),
        &b,
    )
}

fn impact_html(vc: &chipwatch_model::ValueChain, r: &ImpactReport) -> String {
    let mut b = String::new();
    let _ = write!(
        b,
        r#"<h2 id="impact">Impact of {} (version {})</h2><dl class="kv"><dt>Instrument</dt><dd>{}</dd><dt>Citation</dt><dd>{}</dd><dt>As of</dt><dd>{}</dd><dt>Denied destinations</dt><dd>{} <span class="muted">({})</span></dd><dt>Incidence</dt><dd>HHI of blocked value across destinations {:.0} (effective destinations {:.1}); top {} {:.1}%. {}</dd></dl>"#,
        escape(&r.measure_id),
        escape(&r.version),
        escape(&r.instrument),
        escape(&r.citation),
        r.date,
        if r.denied_destinations.is_empty() {
            "none".to_string()
        } else {
            esc_list(&r.denied_destinations)
        },
        escape(&r.deny_basis),
        r.incidence.hhi,
        r.incidence.effective_destinations,
        escape(r.incidence.top_destination.as_deref().unwrap_or("-")),
        r.incidence.top_share_pct,
        escape(&r.incidence.reading)
    );
    if !r.blocked_value_by_destination.is_empty() {
        let bars: Vec<(String, f64)> = r
            .blocked_value_by_destination
            .iter()
            .take(15)
            .map(|d| (d.country.clone(), d.share_pct))
            .collect();
        b.push_str("<figure class=\"scroll\">");
        let n = r.blocked_value_by_destination.len();
        b.push_str(&bar_chart(
            &if n > bars.len() {
                format!(
                    "Share of blocked value by destination (%), top {} of {n}",
                    bars.len()
                )
            } else {
                "Share of blocked value by destination (%)".to_string()
            },
            &bars,
            Some(100.0),
            "%",
        ));
        b.push_str("</figure>");
    }
    b.push_str(r#"<table><caption>Covered items</caption><thead><tr><th scope="col">Item</th><th scope="col" class="n">Fraction covered</th><th scope="col">Exporters</th><th scope="col" class="n">Exporters' share (%)</th><th scope="col" class="n">Blocked value</th><th scope="col">Assumption</th></tr></thead><tbody>"#);
    for it in r.items.iter() {
        let _ = write!(
            b,
            r#"<tr><td>{}</td><td class="n">{:.2}</td><td>{}</td><td class="n">{:.1}</td><td class="n">{}</td><td>{}</td></tr>"#,
            item_link(vc, &it.item_id),
            it.fraction,
            esc_list(&it.exporters),
            it.exporters_share_pct,
            super::money(it.blocked_value_usd),
            escape(&it.assumption)
        );
    }
    b.push_str("</tbody></table>");
    b.push_str(r#"<table><caption>Who is hit: finished-chip availability (minimum over the horizon)</caption><thead><tr><th scope="col">Country</th><th scope="col">Denied</th><th scope="col" class="n">Baseline</th><th scope="col" class="n">With the measure</th><th scope="col" class="n">Change</th><th scope="col">Binding constraint</th></tr></thead><tbody>"#);
    for c in &r.affected_countries {
        let chain: Vec<String> = c
            .binding_constraint
            .iter()
            .map(|id| item_link(vc, id))
            .collect();
        let _ = write!(
            b,
            r#"<tr><th scope="row">{}</th><td>{}</td><td class="n">{:.3}</td><td class="n">{:.3}</td><td class="n">{:+.3}</td><td>{}</td></tr>"#,
            escape(&super::country_label(&c.country, &c.name)),
            if c.denied { "yes" } else { "no" },
            c.final_output_baseline,
            c.final_output_blocked,
            c.change,
            chain.join(" &larr; ")
        );
    }
    b.push_str("</tbody></table>");
    if !r.unaffected_countries.is_empty() {
        let _ = write!(
            b,
            "<p class=\"muted\">Not affected: {}</p>",
            esc_list(&r.unaffected_countries)
        );
    }
    b.push_str("<h3>Assumptions and notes</h3><ul class=\"muted\">");
    for a in r.assumptions.iter().chain(&r.notes) {
        let _ = write!(b, "<li>{}</li>", escape(a));
    }
    b.push_str("</ul>");
    b
}

/// GET /measures
pub async fn measures(State(s): State<AppState>, headers: HeaderMap, q: RawQuery) -> Response {
    let who = session(&s, &headers).await;
    let p = Params::from_query(&q);
    let e = match engine() {
        Ok(e) => e,
        Err(m) => {
            return super::error_page(
                StatusCode::INTERNAL_SERVER_ERROR,
                "Measure impact",
                &format!("The rules engine could not load its data: {m}"),
                who.as_ref(),
            )
        }
    };
    let mut ids: Vec<(String, String)> = Vec::new();
    for m in e.measures() {
        if !ids.iter().any(|(id, _)| id == &m.id) {
            ids.push((
                m.id.clone(),
                format!("{} — {} ({})", m.id, m.title, m.jurisdiction),
            ));
        }
    }
    let mut b = String::new();
    let _ = write!(
        b,
        r#"<p class="lead">Turn a control measure into blocked flows and run the scenario engine: who is hit, how much, and does the measure in effect target one country even when its text names none?</p>
<form class="panel" method="get" action="/measures"><div class="fields"><div><label for="measure">Measure</label><select id="measure" name="measure">{}</select></div>
<div><label for="date">Version in force on</label><input type="date" id="date" name="date" value="{}"></div>
<div><label for="deny">Denied destinations <span class="hint">(optional, e.g. CHN,RUS)</span></label><input type="text" id="deny" name="deny" size="18" value="{}"></div>
<div><button type="submit">Assess impact</button></div></div></form>"#,
        options(&ids, &p.all("measure")),
        escape(
            &p.get("date")
                .map_or_else(|| today().to_string(), str::to_string)
        ),
        escape(p.get("deny").unwrap_or(""))
    );
    let mut status = StatusCode::OK;
    if let Some(id) = p.get("measure") {
        let deny: Result<Vec<String>, String> = p
            .all("deny")
            .iter()
            .map(|c| {
                chipwatch_controls::normalise_country(c)
                    .ok_or_else(|| format!("deny: `{c}` is not an ISO 3166-1 alpha-3 country code"))
            })
            .collect();
        let out = match (date_param(&p), deny) {
            (Ok(date), Ok(deny)) => {
                let (e2, vc, id) = (e.clone(), s.model.clone(), id.to_string());
                tokio::task::spawn_blocking(move || {
                    measure_impact(&e2, &vc, &id, date, &deny).map_err(|e| e.to_string())
                })
                .await
                .unwrap_or_else(|_| Err("internal error".into()))
            }
            (Err(m), _) | (_, Err(m)) => Err(m),
        };
        match out {
            Ok(r) => b.push_str(&impact_html(&s.model, &r)),
            Err(m) => {
                status = StatusCode::UNPROCESSABLE_ENTITY;
                b.push_str(&error_box(&m));
            }
        }
    }
    b.push_str(r#"<h2>Measures in the rule base</h2><table><thead><tr><th scope="col">Measure</th><th scope="col">Jurisdiction</th><th scope="col">Instrument</th><th scope="col">Version</th><th scope="col">In force</th></tr></thead><tbody>"#);
    for m in e.measures() {
        let _ = write!(
            b,
            r#"<tr><td><a href="/measures?measure={}">{}</a></td><td>{}</td><td>{}</td><td>{}</td><td>{} &ndash; {}</td></tr>"#,
            super::url_encode(&m.id),
            escape(&m.id),
            escape(&m.jurisdiction),
            escape(&m.instrument),
            escape(&m.version),
            m.in_force_from,
            m.in_force_until.map_or("".to_string(), |d| d.to_string())
        );
    }
    b.push_str("</tbody></table>");
    b.push_str(&super::model_provenance(&s.model));
    page_response(status, "Measure impact", Nav::Measures, who.as_ref(), &b)
}
