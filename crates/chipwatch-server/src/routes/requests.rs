//! Information requests (EU Chips Act, Reg. 2023/1781, Art. 25): a requester organisation asks
//! an addressee for data with a legal basis, a proportionate scope (items and metrics), a
//! deadline and a confidentiality level; the addressee answers by attaching its own records
//! inside that scope, or declines. Only the two parties see a request; attached records are
//! released to the requester under the request's terms (every field, within scope), and for a
//! `confidential` request only to its analysts and admins. Every release is audited.

use crate::auth::Auth;
use crate::error::{ApiError, ApiResult};
use crate::extract::{Json, Path};
use crate::AppState;
use axum::extract::State;
use axum::http::StatusCode;
use chipwatch_store::partner::policy;
use chipwatch_store::partner::*;
use serde::Deserialize;
use serde_json::{json, Value};

type JsonOut = axum::Json<Value>;

fn request_json(r: &InfoRequest) -> Value {
    let now = chipwatch_store::time::now();
    let mut v = json!(r);
    v["deadline_iso"] = json!(chipwatch_store::time::format(r.deadline));
    v["overdue"] = json!(r.status == RequestStatus::Open && r.deadline < now);
    v
}

async fn visible_request(s: &AppState, p: &Principal, id: i64) -> ApiResult<InfoRequest> {
    match s.store.request(id).await? {
        Some(r) if r.requester_org_id == p.org.id || r.addressee_org_id == p.org.id => Ok(r),
        _ => Err(ApiError::not_found("request")),
    }
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewRequestBody {
    pub addressee_org_id: i64,
    /// e.g. "Regulation (EU) 2023/1781, Art. 25(1)"
    pub legal_basis: String,
    pub purpose: String,
    /// Item ids in scope ("*" only if truly needed).
    pub scope_items: Vec<String>,
    pub scope_metrics: Vec<String>,
    /// YYYY-MM-DD or YYYY-MM-DDTHH:MM:SSZ (UTC), in the future.
    #[schema(
        pattern = "^[1-9][0-9]{3}-(0[1-9]|1[0-2])-(0[1-9]|1[0-9]|2[0-8])(T([01][0-9]|2[0-3]):[0-5][0-9]:[0-5][0-9]Z)?$"
    )]
    pub deadline: String,
    /// standard (default) or confidential.
    #[schema(value_type = Option<String>, pattern = "^(standard|confidential)$")]
    pub confidentiality: Option<Confidentiality>,
}

/// Send an information request (analyst).
#[utoipa::path(post, path = "/api/v1/requests", tag = "requests", request_body = NewRequestBody,
    responses((status = 201, description = "Created", body = Object), (status = 422, description = "A value is not acceptable", body = crate::error::ErrorBody)),
    security(("bearer" = [])))]
pub async fn create_request(
    State(s): State<AppState>,
    a: Auth,
    Json(b): Json<NewRequestBody>,
) -> ApiResult<(StatusCode, JsonOut)> {
    a.require_local()?;
    let p = a.require(Role::Analyst)?;
    let deadline = chipwatch_store::time::parse(&b.deadline).ok_or_else(|| {
        ApiError::validation(format!(
            "deadline: `{}` is not YYYY-MM-DD or YYYY-MM-DDTHH:MM:SSZ",
            b.deadline
        ))
    })?;
    let r = s
        .store
        .create_request(
            p,
            NewInfoRequest {
                addressee_org_id: b.addressee_org_id,
                legal_basis: b.legal_basis,
                purpose: b.purpose,
                scope_items: b.scope_items,
                scope_metrics: b.scope_metrics,
                deadline,
                confidentiality: b.confidentiality.unwrap_or(Confidentiality::Standard),
            },
        )
        .await?;
    Ok((StatusCode::CREATED, axum::Json(request_json(&r))))
}

/// Requests the caller's organisation sent or received.
#[utoipa::path(get, path = "/api/v1/requests", tag = "requests",
    responses((status = 200, description = "Requests", body = Object)), security(("bearer" = [])))]
pub async fn list_requests(State(s): State<AppState>, a: Auth) -> ApiResult<JsonOut> {
    let p = a.require_local()?;
    let list: Vec<Value> = s
        .store
        .requests_of(p.org.id)
        .await?
        .iter()
        .map(request_json)
        .collect();
    Ok(axum::Json(json!({"requests": list})))
}

/// One request (requester or addressee only).
#[utoipa::path(get, path = "/api/v1/requests/{id}", tag = "requests",
    params(("id" = i64, Path, description = "Request id")),
    responses((status = 200, description = "Request", body = Object), (status = 404, description = "Missing or not yours", body = crate::error::ErrorBody)),
    security(("bearer" = [])))]
pub async fn get_request(
    State(s): State<AppState>,
    a: Auth,
    Path(id): Path<i64>,
) -> ApiResult<JsonOut> {
    let p = a.require_local()?;
    Ok(axum::Json(request_json(&visible_request(&s, p, id).await?)))
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RespondBody {
    /// Ids of your own records, each inside the request's scope.
    pub record_ids: Vec<i64>,
}

/// Answer a request with records (analyst of the addressee).
#[utoipa::path(post, path = "/api/v1/requests/{id}/respond", tag = "requests",
    params(("id" = i64, Path, description = "Request id")), request_body = RespondBody,
    responses((status = 200, description = "Answered", body = Object), (status = 404, description = "Missing or not yours", body = crate::error::ErrorBody)),
    security(("bearer" = [])))]
pub async fn respond(
    State(s): State<AppState>,
    a: Auth,
    Path(id): Path<i64>,
    Json(b): Json<RespondBody>,
) -> ApiResult<JsonOut> {
    a.require_local()?;
    visible_request(&s, &a.0, id).await?;
    let p = a.require(Role::Analyst)?;
    Ok(axum::Json(request_json(
        &s.store.respond_request(p, id, &b.record_ids).await?,
    )))
}

/// Status change by an analyst who can see the request; the store checks which side may make it.
async fn change_status(
    s: &AppState,
    a: &Auth,
    id: i64,
    status: RequestStatus,
) -> ApiResult<JsonOut> {
    a.require_local()?;
    visible_request(s, &a.0, id).await?;
    let p = a.require(Role::Analyst)?;
    Ok(axum::Json(request_json(
        &s.store.set_request_status(p, id, status).await?,
    )))
}

/// Decline an open request (analyst of the addressee).
#[utoipa::path(post, path = "/api/v1/requests/{id}/decline", tag = "requests",
    params(("id" = i64, Path, description = "Request id")),
    responses((status = 200, description = "Declined", body = Object), (status = 404, description = "Missing or not yours", body = crate::error::ErrorBody)),
    security(("bearer" = [])))]
pub async fn decline(
    State(s): State<AppState>,
    a: Auth,
    Path(id): Path<i64>,
) -> ApiResult<JsonOut> {
    change_status(&s, &a, id, RequestStatus::Declined).await
}

/// Withdraw a request (analyst of the requester); its records are no longer released.
#[utoipa::path(post, path = "/api/v1/requests/{id}/withdraw", tag = "requests",
    params(("id" = i64, Path, description = "Request id")),
    responses((status = 200, description = "Withdrawn", body = Object), (status = 404, description = "Missing or not yours", body = crate::error::ErrorBody)),
    security(("bearer" = [])))]
pub async fn withdraw(
    State(s): State<AppState>,
    a: Auth,
    Path(id): Path<i64>,
) -> ApiResult<JsonOut> {
    change_status(&s, &a, id, RequestStatus::Withdrawn).await
}

/// Records attached to a request, released under its terms.
#[utoipa::path(get, path = "/api/v1/requests/{id}/records", tag = "requests",
    params(("id" = i64, Path, description = "Request id")),
    responses((status = 200, description = "Attached records", body = Object), (status = 404, description = "Missing or not yours", body = crate::error::ErrorBody)),
    security(("bearer" = [])))]
pub async fn request_records(
    State(s): State<AppState>,
    a: Auth,
    Path(id): Path<i64>,
) -> ApiResult<JsonOut> {
    let p = a.require_local()?;
    let r = visible_request(&s, p, id).await?;
    if r.requester_org_id == p.org.id {
        if r.confidentiality == Confidentiality::Confidential {
            a.require(Role::Analyst)?;
        }
        if r.status == RequestStatus::Withdrawn {
            return Err(ApiError::new("conflict", "the request was withdrawn"));
        }
    }
    let records = s.store.request_records(id).await?;
    // Attached records are in scope by construction; re-check so a scope bug cannot leak.
    let views: Vec<policy::RecordView> = records
        .iter()
        .filter(|x| {
            policy::list_matches(&r.scope_items, &x.item)
                && policy::list_matches(&r.scope_metrics, &x.metric)
        })
        .filter_map(|x| policy::view(x, &policy::Access::Full))
        .collect();
    if r.requester_org_id == p.org.id && !views.is_empty() {
        s.store
            .audit(
                &p.actor(),
                "request.records.read",
                &format!("request:{id}"),
                json!({"records": views.iter().map(|v| v.id).collect::<Vec<_>>()}),
            )
            .await?;
    }
    Ok(axum::Json(
        json!({"request_id": id, "confidentiality": r.confidentiality, "records": views}),
    ))
}
