//! Analyst feedback on the monitor page: under each event, the signed-in organisation's marks and
//! (for analysts) a form to mark it correct, a duplicate, irrelevant, naming a wrong entity or of
//! the wrong type. The form calls the API's handler (`routes::monitor::add_feedback`), so role,
//! validation and audit are the API's.

use super::{error_page, options, session, to_login, Params};
use crate::auth::Auth;
use crate::extract::{Json, Path};
use crate::routes::monitor as api;
use crate::AppState;
use axum::extract::{Path as UrlPath, State};
use axum::http::header::LOCATION;
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use chipwatch_report::svg::escape;
use chipwatch_store::monitor_feedback::Feedback;
use chipwatch_store::partner::{Principal, Role};
use std::fmt::Write;

/// The feedback block of one event: the organisation's marks and the form.
pub fn block(event_id: i64, who: Option<&Principal>, marks: &[Feedback]) -> String {
    let Some(p) = who else {
        return String::new();
    };
    let mut b = String::from("<div class=\"feedback\">");
    let mine: Vec<&Feedback> = marks.iter().filter(|m| m.article_id == event_id).collect();
    if !mine.is_empty() {
        b.push_str("<p><b>Your organisation's feedback:</b></p><ul>");
        for m in &mine {
            let _ = write!(
                b,
                "<li>{}{}{}{} &mdash; {}, {}</li>",
                escape(&m.verdict.as_str().replace('_', " ")),
                m.event_type
                    .as_deref()
                    .map(|t| format!(": should be {}", escape(&t.replace('_', " "))))
                    .unwrap_or_default(),
                m.duplicate_of
                    .map(|d| format!(" of event {d}"))
                    .unwrap_or_default(),
                m.entity
                    .as_deref()
                    .map(|e| format!(" ({})", escape(e)))
                    .unwrap_or_default(),
                escape(&m.user_name),
                escape(&chipwatch_store::time::format(m.created_at))
            );
        }
        b.push_str("</ul>");
    }
    if p.role >= Role::Analyst {
        let verdicts: Vec<(String, String)> = [
            ("correct", "correct"),
            ("irrelevant", "irrelevant (not a supply-chain event)"),
            ("duplicate", "duplicate of another event"),
            ("wrong_type", "wrong type"),
            ("wrong_entity", "wrong country, firm or item"),
        ]
        .iter()
        .map(|(v, l)| (v.to_string(), l.to_string()))
        .collect();
        let mut types: Vec<(String, String)> =
            vec![(String::new(), "(for a wrong type)".to_string())];
        types.extend(
            chipwatch_monitor::gazetteer::EVENT_TYPES
                .iter()
                .map(|t| (t.to_string(), t.replace('_', " "))),
        );
        let _ = write!(
            b,
            r#"<form method="post" action="/monitor/events/{id}/feedback" class="fields" aria-label="Feedback on event {id}">
<div><label for="fb-v-{id}">Mark as</label><select id="fb-v-{id}" name="verdict">{verdicts}</select></div>
<div><label for="fb-t-{id}">Right type</label><select id="fb-t-{id}" name="event_type">{types}</select></div>
<div><label for="fb-d-{id}">Duplicate of event <span class="hint">(id)</span></label><input type="text" inputmode="numeric" id="fb-d-{id}" name="duplicate_of" size="6"></div>
<div><label for="fb-n-{id}">Note <span class="hint">(which entity is wrong, why)</span></label><input type="text" id="fb-n-{id}" name="note" size="30" maxlength="2000"></div>
<div><button type="submit">Send feedback</button></div></form>"#,
            id = event_id,
            verdicts = options(&verdicts, &[]),
            types = options(&types, &[]),
        );
    }
    b.push_str("</div>");
    b
}

/// POST /monitor/events/{id}/feedback
pub async fn post(
    State(s): State<AppState>,
    UrlPath(id): UrlPath<i64>,
    headers: HeaderMap,
    body: String,
) -> Response {
    let Some(p) = session(&s, &headers).await else {
        return to_login("/monitor");
    };
    if !super::same_origin(&headers) {
        return error_page(
            StatusCode::FORBIDDEN,
            "Cross-site form",
            "This form must be sent from the dashboard itself.",
            Some(&p),
        );
    }
    let f = Params::parse(&body);
    let verdict = f.get("verdict").unwrap_or("").to_string();
    let duplicate_of = match f.get("duplicate_of").map(str::parse::<i64>) {
        None => None,
        Some(Ok(d)) => Some(d),
        Some(Err(_)) => {
            return error_page(
                StatusCode::UNPROCESSABLE_ENTITY,
                "Feedback not saved",
                "Duplicate of: give the id of the other event (a number).",
                Some(&p),
            )
        }
    };
    let wrong_type = verdict == "wrong_type";
    let body = api::FeedbackBody {
        verdict: verdict.clone(),
        event_type: if wrong_type {
            f.get("event_type").map(str::to_string)
        } else {
            None
        },
        entity: if verdict == "wrong_entity" {
            f.get("note").map(str::to_string)
        } else {
            None
        },
        duplicate_of: if verdict == "duplicate" {
            duplicate_of
        } else {
            None
        },
        note: f.get("note").map(str::to_string),
    };
    match api::add_feedback(State(s.clone()), Auth(p.clone()), Path(id), Json(body)).await {
        Ok(_) => {
            let mut r = StatusCode::SEE_OTHER.into_response();
            if let Ok(l) = HeaderValue::from_str(&format!("/monitor?feedback=saved#ev{id}")) {
                r.headers_mut().insert(LOCATION, l);
            }
            r
        }
        Err(e) => error_page(e.status(), "Feedback not saved", &e.message, Some(&p)),
    }
}
