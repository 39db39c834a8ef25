//! Determination records in the dashboard (issue 17): under a licence check, a signed-in analyst
//! keeps the determination for a case (with an override and its reason if the officer
//! concludes otherwise); `/licence/records` searches the organisation's records and exports
//! them as CSV for an auditor.
//!
//! The record is made from the check's own inputs: the server runs the determination again
//! from the submitted query rather than trusting a rendered verdict, so a record always holds
//! what the engine said for those inputs under the rule-set version it names. Records are
//! append-only and announced in the audit chain by the store, as through the API.

use super::licences::redirect;
use super::{options, page_response, session, to_login, Nav, Params};
use crate::routes::controls::{engine, records_csv};
use crate::AppState;
use axum::extract::{RawQuery, State};
use axum::http::header::{CONTENT_DISPOSITION, CONTENT_TYPE};
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use chipwatch_report::svg::escape;
use chipwatch_store::determinations::OUTCOMES;
use chipwatch_store::determinations::{NewDeterminationRecord, RecordFilter};
use chipwatch_store::partner::{Principal, Role};
use std::fmt::Write;

/// Fields of the licence check that make up a record's inputs.
const INPUT_FIELDS: &[&str] = &[
    "product",
    "from",
    "to",
    "origin",
    "end_user",
    "end_use",
    "date",
    "control_entry",
    "params",
    "parties",
];

/// The form under a determination: keep it for a case (analysts and admins only).
pub fn keep_form(who: &Principal, query: &str) -> String {
    if who.role < Role::Analyst {
        return String::new();
    }
    let mut outcomes = vec![(
        String::new(),
        "(none: the engine's verdict stands)".to_string(),
    )];
    outcomes.extend(
        OUTCOMES
            .iter()
            .map(|o| (o.to_string(), o.replace('_', " "))),
    );
    format!(
        r#"<form class="panel" method="post" action="/licence/records" id="keep-form" aria-labelledby="keep-h"><h2 id="keep-h">Keep this determination for a case</h2>
<p class="hint">Kept as a determination record of your organisation: the inputs, the whole determination with its rule-set version and list dates, you and the time. Records cannot be changed or deleted.</p>
<input type="hidden" name="query" value="{q}">
<div class="fields"><div><label for="case">Case <span class="hint">(file number, order, shipment)</span></label><input type="text" id="case" name="case" size="24" maxlength="200" required></div>
<div><label for="override_outcome">Officer's conclusion <span class="hint">(if different)</span></label><select id="override_outcome" name="override_outcome">{opts}</select></div>
<div><label for="override_reason">Reason for the override</label><input type="text" id="override_reason" name="override_reason" size="40" maxlength="2000"></div>
<div><button type="submit">Keep as a record</button></div></div></form>"#,
        q = escape(query),
        opts = options(&outcomes, &[]),
    )
}

fn message_page(status: StatusCode, who: &Principal, msg: &str) -> Response {
    let body = format!(
        r#"<div class="error" role="alert"><p>{}</p></div><p><a href="/licence">Back to the licence check</a></p>"#,
        escape(msg)
    );
    page_response(
        status,
        "Determination records",
        Nav::Licence,
        Some(who),
        &body,
    )
}

/// POST /licence/records: make the check again from its query and keep it.
pub async fn post_record(State(s): State<AppState>, headers: HeaderMap, body: String) -> Response {
    let Some(who) = session(&s, &headers).await else {
        return to_login("/licence");
    };
    if !super::same_origin(&headers) {
        return message_page(
            StatusCode::FORBIDDEN,
            &who,
            "This form must be sent from the dashboard itself.",
        );
    }
    if who.role < Role::Analyst {
        return message_page(
            StatusCode::FORBIDDEN,
            &who,
            "Keeping a determination record needs the analyst or admin role.",
        );
    }
    let f = Params::parse(&body);
    let query = f.get("query").unwrap_or("");
    let inputs = Params::parse(query);
    let e = match engine() {
        Ok(e) => e,
        Err(err) => {
            return message_page(StatusCode::INTERNAL_SERVER_ERROR, &who, &err.message);
        }
    };
    let d = match super::controls::shipment(&inputs)
        .and_then(|sh| e.determine(&sh).map_err(|x| x.to_string()))
    {
        Ok(d) => d,
        Err(m) => {
            return message_page(
                StatusCode::UNPROCESSABLE_ENTITY,
                &who,
                &format!("The licence check could not be made again: {m}"),
            )
        }
    };
    let override_outcome = f.get("override_outcome").map(str::to_string);
    if let Some(o) = override_outcome.as_deref() {
        if !OUTCOMES.contains(&o) {
            return message_page(
                StatusCode::UNPROCESSABLE_ENTITY,
                &who,
                &format!("Officer's conclusion: `{o}` is not an outcome"),
            );
        }
    }
    let mut input_json = serde_json::Map::new();
    for k in INPUT_FIELDS {
        if let Some(v) = inputs.get(k) {
            input_json.insert(k.to_string(), serde_json::Value::String(v.to_string()));
        }
    }
    let dj = serde_json::to_value(&d).unwrap_or(serde_json::Value::Null);
    let rec = NewDeterminationRecord {
        case_ref: f.get("case").unwrap_or("").to_string(),
        outcome: dj["overall"]["outcome"]
            .as_str()
            .unwrap_or("undetermined")
            .to_string(),
        ruleset: dj["ruleset"]["version"].as_str().unwrap_or("").to_string(),
        inputs: serde_json::Value::Object(input_json).to_string(),
        determination: dj.to_string(),
        override_outcome,
        override_reason: f.get("override_reason").map(str::to_string),
    };
    match s.store.record_determination(&who, rec).await {
        Ok(r) => redirect(&format!("/licence/records?kept={}#records", r.id)),
        Err(err) => message_page(
            StatusCode::UNPROCESSABLE_ENTITY,
            &who,
            &format!("Not kept: {err}"),
        ),
    }
}

/// The filter of the records page and its CSV link.
fn filter_of(p: &Params) -> Result<RecordFilter, String> {
    let day = |k: &str| -> Result<Option<i64>, String> {
        p.get(k)
            .map(|d| {
                chipwatch_store::time::parse(d)
                    .ok_or_else(|| format!("{k}: `{d}` is not YYYY-MM-DD"))
            })
            .transpose()
    };
    let outcome = p.get("outcome").map(str::to_string);
    if outcome.as_deref().is_some_and(|o| !OUTCOMES.contains(&o)) {
        return Err("outcome: not an outcome".to_string());
    }
    Ok(RecordFilter {
        text: p.get("q").map(|t| t.chars().take(200).collect()),
        outcome,
        from: day("from")?,
        until: day("until")?.map(|t| t + 86_399),
        limit: Some(500),
    })
}

/// GET /licence/records: the organisation's records, searchable.
pub async fn records_page(State(s): State<AppState>, headers: HeaderMap, q: RawQuery) -> Response {
    let Some(who) = session(&s, &headers).await else {
        return to_login("/licence/records");
    };
    let p = Params::from_query(&q);
    let v = |n: &str| escape(p.get(n).unwrap_or(""));
    let mut outcomes = vec![(String::new(), "(any)".to_string())];
    outcomes.extend(
        OUTCOMES
            .iter()
            .map(|o| (o.to_string(), o.replace('_', " "))),
    );
    let mut b = format!(
        r#"<p class="lead">Licence checks kept for a case by your organisation: inputs, determination, rule-set version, who and when, and any override with its reason. Append-only; each record is in the audit log.</p>
<form class="panel" method="get" action="/licence/records"><div class="fields">
<div><label for="q">Text <span class="hint">(case, party, product, country)</span></label><input type="search" id="q" name="q" size="24" value="{q}"></div>
<div><label for="outcome">Outcome</label><select id="outcome" name="outcome">{opts}</select></div>
<div><label for="from">From</label><input type="date" id="from" name="from" value="{from}"></div>
<div><label for="until">Until</label><input type="date" id="until" name="until" value="{until}"></div>
<div><button type="submit">Search</button></div></div></form>"#,
        q = v("q"),
        opts = options(&outcomes, &p.all("outcome")),
        from = v("from"),
        until = v("until"),
    );
    if let Some(id) = p.get("kept") {
        let _ = write!(
            b,
            r#"<p class="ok" role="status">Record {} kept.</p>"#,
            escape(id)
        );
    }
    let filter = match filter_of(&p) {
        Ok(f) => f,
        Err(m) => {
            let _ = write!(
                b,
                r#"<div class="error" role="alert"><p>{}</p></div>"#,
                escape(&m)
            );
            return page_response(
                StatusCode::UNPROCESSABLE_ENTITY,
                "Determination records",
                Nav::Licence,
                Some(&who),
                &b,
            );
        }
    };
    let recs = match s.store.determination_records(who.org.id, &filter).await {
        Ok(r) => r,
        Err(e) => {
            let _ = write!(
                b,
                r#"<div class="error" role="alert"><p>{}</p></div>"#,
                escape(&e.to_string())
            );
            Vec::new()
        }
    };
    let csv_link = format!("/licence/records.csv?{}", q.0.as_deref().unwrap_or(""));
    let _ = write!(
        b,
        r#"<section id="records" aria-labelledby="records-h"><h2 id="records-h">{} record(s)</h2><p><a href="{}">Download as CSV</a> (for an auditor's spreadsheet; JSON through <code>GET /api/v1/licence/records</code>)</p>"#,
        recs.len(),
        escape(&csv_link)
    );
    if !recs.is_empty() {
        b.push_str(r#"<table><thead><tr><th scope="col">Id</th><th scope="col">Time (UTC)</th><th scope="col">User</th><th scope="col">Case</th><th scope="col">Shipment</th><th scope="col">Outcome</th><th scope="col">Override</th><th scope="col">Rule set</th></tr></thead><tbody>"#);
        for r in &recs {
            let g = |k: &str| r.inputs.get(k).and_then(|x| x.as_str()).unwrap_or("");
            let _ = write!(
                b,
                r#"<tr><th scope="row">{}</th><td>{}</td><td>{}</td><td>{}</td><td>{} {} → {}{}</td><td>{}</td><td>{}</td><td><code>{}</code></td></tr>"#,
                r.id,
                escape(&chipwatch_store::time::format(r.created_at)),
                escape(&r.user_name),
                escape(&r.case_ref),
                escape(g("product")),
                escape(g("from")),
                escape(g("to")),
                if g("end_user").is_empty() {
                    String::new()
                } else {
                    format!(", end user {}", escape(g("end_user")))
                },
                escape(&r.outcome.replace('_', " ")),
                match (&r.override_outcome, &r.override_reason) {
                    (Some(o), Some(why)) =>
                        format!("{}: {}", escape(&o.replace('_', " ")), escape(why)),
                    (Some(o), None) => escape(&o.replace('_', " ")),
                    _ => "—".to_string(),
                },
                escape(&r.ruleset.chars().take(12).collect::<String>()),
            );
        }
        b.push_str("</tbody></table>");
    }
    b.push_str("</section>");
    page_response(
        StatusCode::OK,
        "Determination records",
        Nav::Licence,
        Some(&who),
        &b,
    )
}

/// GET /licence/records.csv: the same search as CSV.
pub async fn records_csv_download(
    State(s): State<AppState>,
    headers: HeaderMap,
    q: RawQuery,
) -> Response {
    let Some(who) = session(&s, &headers).await else {
        return to_login("/licence/records");
    };
    let p = Params::from_query(&q);
    let filter = match filter_of(&p) {
        Ok(f) => f,
        Err(m) => return message_page(StatusCode::UNPROCESSABLE_ENTITY, &who, &m),
    };
    match s.store.determination_records(who.org.id, &filter).await {
        Ok(recs) => {
            let mut r = records_csv(&recs).into_response();
            r.headers_mut().insert(
                CONTENT_TYPE,
                HeaderValue::from_static("text/csv; charset=utf-8"),
            );
            r.headers_mut().insert(
                CONTENT_DISPOSITION,
                HeaderValue::from_static("attachment; filename=\"determination-records.csv\""),
            );
            r
        }
        Err(e) => message_page(StatusCode::INTERNAL_SERVER_ERROR, &who, &e.to_string()),
    }
}
