//! The partner exchange's forms: publish, edit and delete records; grant and revoke sharing
//! agreements; send, answer, decline and withdraw information requests.
//!
//! Each form posts to a dashboard route that checks the session and the origin, turns the form
//! into the API's request body and calls the API's own handler (`routes::exchange`,
//! `routes::requests`): the role checks, validation, tenant isolation and audit entries are the
//! API's, not a second copy that could drift. A refused form comes back with the message next to
//! it and the values as typed (status 4xx); a form that succeeded redirects to the page with a
//! confirmation (post/redirect/get, so reloading does not send it twice).

use super::partner::{page_with, FormState};
use super::{error_page, session, to_login, Params};
use crate::auth::Auth;
use crate::error::{ApiError, ApiResult};
use crate::extract::{Json, Path};
use crate::routes::{exchange, requests};
use crate::AppState;
use axum::extract::Path as UrlPath;
use axum::extract::State;
use axum::http::header::LOCATION;
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use chipwatch_store::partner::policy::{Distribution, Granularity, Tlp};
use chipwatch_store::partner::{Confidentiality, Principal};
use std::future::Future;

/// Confirmations shown after a form succeeded (`/partner?done=KEY`): fixed texts, so nothing a
/// user typed is reflected from the query string.
pub const DONE: &[(&str, &str, &str)] = &[
    ("record-published", "records", "Record published."),
    ("record-updated", "records", "Record updated."),
    ("record-deleted", "records", "Record deleted."),
    ("agreement-granted", "agreements", "Agreement granted."),
    (
        "agreement-revoked",
        "agreements",
        "Agreement revoked: partners lose access at their next request.",
    ),
    ("request-sent", "requests", "Information request sent."),
    (
        "request-answered",
        "requests",
        "Request answered with the selected records.",
    ),
    ("request-declined", "requests", "Request declined."),
    (
        "request-withdrawn",
        "requests",
        "Request withdrawn: records attached to it are no longer released.",
    ),
];

/// The signed-in user of a same-origin form post, or the answer to give instead.
async fn guard(s: &AppState, headers: &HeaderMap) -> Result<Principal, Response> {
    let Some(p) = session(s, headers).await else {
        return Err(to_login("/partner"));
    };
    if !super::same_origin(headers) {
        return Err(error_page(
            StatusCode::FORBIDDEN,
            "Cross-site form",
            "This form must be sent from the dashboard itself.",
            Some(&p),
        ));
    }
    Ok(p)
}

fn done(key: &str) -> Response {
    let anchor = DONE
        .iter()
        .find(|(k, _, _)| *k == key)
        .map_or("main", |(_, a, _)| a);
    let mut r = StatusCode::SEE_OTHER.into_response();
    if let Ok(l) = HeaderValue::from_str(&format!("/partner?done={key}#{anchor}")) {
        r.headers_mut().insert(LOCATION, l);
    }
    r
}

/// The page again, with the form's values and the reason it was refused.
async fn refused(
    s: &AppState,
    p: &Principal,
    form: String,
    values: Params,
    e: ApiError,
) -> Response {
    let status = match e.status() {
        // A store conflict or a bad value: the form is shown again for correction.
        st if st.is_client_error() => st,
        st => {
            tracing::error!(code = e.code, message = %e.message, "partner form failed");
            st
        }
    };
    let edit = form.strip_prefix("record-").and_then(|id| id.parse().ok());
    page_with(
        s,
        p,
        FormState {
            form,
            values,
            error: Some(e.message),
            edit,
            done: None,
        },
        status,
    )
    .await
}

fn required<'a>(f: &'a Params, field: &str, label: &str) -> ApiResult<&'a str> {
    f.get(field)
        .ok_or_else(|| ApiError::validation(format!("{label} is required")))
}

fn optional(f: &Params, field: &str) -> Option<String> {
    f.get(field).map(str::to_string)
}

fn number(f: &Params, field: &str, label: &str) -> ApiResult<Option<f64>> {
    match f.get(field) {
        None => Ok(None),
        Some(v) => v
            .parse::<f64>()
            .ok()
            .filter(|x| x.is_finite())
            .map(Some)
            .ok_or_else(|| ApiError::validation(format!("{label}: `{v}` is not a number"))),
    }
}

fn integer(f: &Params, field: &str, label: &str) -> ApiResult<Option<i64>> {
    match f.get(field) {
        None => Ok(None),
        Some(v) => v
            .parse::<i64>()
            .map(Some)
            .map_err(|_| ApiError::validation(format!("{label}: `{v}` is not a whole number"))),
    }
}

/// A comma list, `*` (all) when left empty.
fn list_or_all(f: &Params, field: &str) -> Vec<String> {
    let v = f.all(field);
    if v.is_empty() {
        vec!["*".to_string()]
    } else {
        v
    }
}

/// The API body of the record form.
fn record_body(f: &Params) -> ApiResult<exchange::NewRecordBody> {
    let item = required(f, "item", "Item")?.to_string();
    let metric = required(f, "metric", "Metric")?.to_string();
    let value =
        number(f, "value", "Value")?.ok_or_else(|| ApiError::validation("Value is required"))?;
    let tlp = match f.get("tlp") {
        None => None,
        Some(t) => Some(Tlp::parse(t).ok_or_else(|| {
            ApiError::validation(format!(
                "TLP: `{t}` is not one of clear, green, amber, amber+strict, red"
            ))
        })?),
    };
    let distribution = match f.get("distribution") {
        None => None,
        Some(d) => Some(Distribution::parse(d).ok_or_else(|| {
            ApiError::validation(format!("Distribution: `{d}` is not a distribution level"))
        })?),
    };
    let sharing_group_id = if distribution == Some(Distribution::SharingGroup) {
        integer(f, "sharing_group_id", "Sharing group")?
    } else {
        None
    };
    Ok(exchange::NewRecordBody {
        item,
        provider: optional(f, "provider"),
        site: optional(f, "site"),
        country: optional(f, "country").map(|c| c.to_ascii_uppercase()),
        metric,
        value,
        unit: required(f, "unit", "Unit")?.to_string(),
        period: required(f, "period", "Period")?.to_string(),
        provenance: required(f, "provenance", "Provenance")?.to_string(),
        tlp,
        distribution,
        sharing_group_id,
    })
}

/// The API body of the agreement form.
fn agreement_body(f: &Params) -> ApiResult<exchange::NewAgreementBody> {
    let grantee_org_id = integer(f, "grantee_org_id", "Partner")?
        .ok_or_else(|| ApiError::validation("Partner is required"))?;
    let granularity = match f.get("granularity") {
        None => None,
        Some(g) => Some(Granularity::parse(g).ok_or_else(|| {
            ApiError::validation(format!("Granularity: `{g}` is not firm or country"))
        })?),
    };
    let country = granularity == Some(Granularity::Country);
    Ok(exchange::NewAgreementBody {
        grantee_org_id,
        items: list_or_all(f, "items"),
        metrics: list_or_all(f, "metrics"),
        fields: f.all("fields"),
        granularity,
        min_firms: if country {
            integer(f, "min_firms", "Minimum firms")?
        } else {
            None
        },
        max_firm_share: if country {
            number(f, "max_firm_share", "Largest firm's share")?
        } else {
            None
        },
        valid_from: optional(f, "valid_from"),
        valid_until: optional(f, "valid_until"),
    })
}

/// The API body of the request form.
fn request_body(f: &Params) -> ApiResult<requests::NewRequestBody> {
    let addressee_org_id = integer(f, "addressee_org_id", "Addressee")?
        .ok_or_else(|| ApiError::validation("Addressee is required"))?;
    let confidentiality = match f.get("confidentiality") {
        None | Some("standard") => None,
        Some("confidential") => Some(Confidentiality::Confidential),
        Some(c) => {
            return Err(ApiError::validation(format!(
                "Confidentiality: `{c}` is not standard or confidential"
            )))
        }
    };
    let scope_items = f.all("scope_items");
    if scope_items.is_empty() {
        return Err(ApiError::validation(
            "Items in scope: name the items the request is about",
        ));
    }
    let scope_metrics = f.all("scope_metrics");
    if scope_metrics.is_empty() {
        return Err(ApiError::validation(
            "Metrics in scope: name the metrics the request asks for",
        ));
    }
    Ok(requests::NewRequestBody {
        addressee_org_id,
        legal_basis: required(f, "legal_basis", "Legal basis")?.to_string(),
        purpose: required(f, "purpose", "Purpose")?.to_string(),
        scope_items,
        scope_metrics,
        deadline: required(f, "deadline", "Deadline")?.to_string(),
        confidentiality,
    })
}

/// A form: the signed-in user, the origin check, the form turned into the API's body by `parse`
/// and handed to `call` (the API's handler); then the confirmation `done_key`, or the page
/// again with the refusal shown in the form named `form`.
async fn submit<B, Fut>(
    s: AppState,
    headers: &HeaderMap,
    body: &str,
    form: String,
    done_key: &str,
    parse: fn(&Params) -> ApiResult<B>,
    call: impl FnOnce(AppState, Auth, B) -> Fut,
) -> Response
where
    Fut: Future<Output = ApiResult<()>>,
{
    let p = match guard(&s, headers).await {
        Ok(p) => p,
        Err(r) => return r,
    };
    let f = Params::parse(body);
    let r = match parse(&f) {
        Ok(b) => call(s.clone(), Auth(p.clone()), b).await,
        Err(e) => Err(e),
    };
    match r {
        Ok(()) => done(done_key),
        Err(e) => refused(&s, &p, form, f, e).await,
    }
}

/// A one-button form (delete, revoke, decline, withdraw): like [`submit`] without fields.
async fn one_button<Fut>(
    s: AppState,
    headers: &HeaderMap,
    form: String,
    done_key: &str,
    call: impl FnOnce(AppState, Auth) -> Fut,
) -> Response
where
    Fut: Future<Output = ApiResult<()>>,
{
    let p = match guard(&s, headers).await {
        Ok(p) => p,
        Err(r) => return r,
    };
    match call(s.clone(), Auth(p.clone())).await {
        Ok(()) => done(done_key),
        Err(e) => refused(&s, &p, form, Params::default(), e).await,
    }
}

/// POST /partner/records: publish a record.
pub async fn create_record(
    State(s): State<AppState>,
    headers: HeaderMap,
    body: String,
) -> Response {
    submit(
        s,
        &headers,
        &body,
        "record".into(),
        "record-published",
        record_body,
        |s, a, b| async move {
            exchange::create_record(State(s), a, Json(b))
                .await
                .map(drop)
        },
    )
    .await
}

/// POST /partner/records/{id}: replace a record's values.
pub async fn update_record(
    State(s): State<AppState>,
    UrlPath(id): UrlPath<i64>,
    headers: HeaderMap,
    body: String,
) -> Response {
    submit(
        s,
        &headers,
        &body,
        format!("record-{id}"),
        "record-updated",
        record_body,
        |s, a, b| async move {
            exchange::update_record(State(s), a, Path(id), Json(b))
                .await
                .map(drop)
        },
    )
    .await
}

/// POST /partner/records/{id}/delete
pub async fn delete_record(
    State(s): State<AppState>,
    UrlPath(id): UrlPath<i64>,
    headers: HeaderMap,
) -> Response {
    one_button(
        s,
        &headers,
        format!("delete-{id}"),
        "record-deleted",
        |s, a| async move {
            exchange::delete_record(State(s), a, Path(id))
                .await
                .map(drop)
        },
    )
    .await
}

/// POST /partner/agreements: grant an agreement.
pub async fn create_agreement(
    State(s): State<AppState>,
    headers: HeaderMap,
    body: String,
) -> Response {
    submit(
        s,
        &headers,
        &body,
        "agreement".into(),
        "agreement-granted",
        agreement_body,
        |s, a, b| async move {
            exchange::create_agreement(State(s), a, Json(b))
                .await
                .map(drop)
        },
    )
    .await
}

/// POST /partner/agreements/{id}/revoke
pub async fn revoke_agreement(
    State(s): State<AppState>,
    UrlPath(id): UrlPath<i64>,
    headers: HeaderMap,
) -> Response {
    one_button(
        s,
        &headers,
        format!("revoke-{id}"),
        "agreement-revoked",
        |s, a| async move {
            exchange::revoke_agreement(State(s), a, Path(id))
                .await
                .map(drop)
        },
    )
    .await
}

/// POST /partner/requests: send an information request.
pub async fn create_request(
    State(s): State<AppState>,
    headers: HeaderMap,
    body: String,
) -> Response {
    submit(
        s,
        &headers,
        &body,
        "request".into(),
        "request-sent",
        request_body,
        |s, a, b| async move {
            requests::create_request(State(s), a, Json(b))
                .await
                .map(drop)
        },
    )
    .await
}

/// The checked records of the answer form.
fn respond_body(f: &Params) -> ApiResult<requests::RespondBody> {
    let record_ids = f
        .all("record_id")
        .iter()
        .map(|v| {
            v.parse::<i64>()
                .map_err(|_| ApiError::validation(format!("record `{v}` is not a record id")))
        })
        .collect::<ApiResult<Vec<i64>>>()?;
    if record_ids.is_empty() {
        return Err(ApiError::validation(
            "Select at least one record to send, or decline the request",
        ));
    }
    Ok(requests::RespondBody { record_ids })
}

/// POST /partner/requests/{id}/respond: answer with the checked records.
pub async fn respond_request(
    State(s): State<AppState>,
    UrlPath(id): UrlPath<i64>,
    headers: HeaderMap,
    body: String,
) -> Response {
    submit(
        s,
        &headers,
        &body,
        format!("respond-{id}"),
        "request-answered",
        respond_body,
        |s, a, b| async move {
            requests::respond(State(s), a, Path(id), Json(b))
                .await
                .map(drop)
        },
    )
    .await
}

/// POST /partner/requests/{id}/decline
pub async fn decline_request(
    State(s): State<AppState>,
    UrlPath(id): UrlPath<i64>,
    headers: HeaderMap,
) -> Response {
    one_button(
        s,
        &headers,
        format!("respond-{id}"),
        "request-declined",
        |s, a| async move { requests::decline(State(s), a, Path(id)).await.map(drop) },
    )
    .await
}

/// POST /partner/requests/{id}/withdraw
pub async fn withdraw_request(
    State(s): State<AppState>,
    UrlPath(id): UrlPath<i64>,
    headers: HeaderMap,
) -> Response {
    one_button(
        s,
        &headers,
        format!("withdraw-{id}"),
        "request-withdrawn",
        |s, a| async move { requests::withdraw(State(s), a, Path(id)).await.map(drop) },
    )
    .await
}
