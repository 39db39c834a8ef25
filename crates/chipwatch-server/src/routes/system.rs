//! Operational endpoints: liveness and the OpenAPI document (no token), Prometheus metrics
//! (an admin token, or the metrics-only listener of `serve --metrics-addr`).

use crate::auth::Auth;
use crate::error::ApiResult;
use crate::AppState;
use axum::extract::State;
use axum::http::header::CONTENT_TYPE;
use axum::http::StatusCode;
use axum::response::IntoResponse;
use chipwatch_store::partner::Role;
use serde_json::json;

/// Liveness and database reachability.
#[utoipa::path(get, path = "/healthz", tag = "system",
    responses((status = 200, description = "Healthy", body = Object), (status = 503, description = "Database unreachable", body = Object)))]
pub async fn healthz(State(s): State<AppState>) -> impl IntoResponse {
    match sqlx_ping(&s).await {
        true => (StatusCode::OK, axum::Json(json!({"status": "ok"}))),
        false => (
            StatusCode::SERVICE_UNAVAILABLE,
            axum::Json(json!({"status": "database_unreachable"})),
        ),
    }
}

async fn sqlx_ping(s: &AppState) -> bool {
    chipwatch_store::sqlx::query("SELECT 1")
        .execute(s.store.pool())
        .await
        .is_ok()
}

/// Prometheus metrics (text format); an admin token of a tenant organisation. Request counts
/// and latencies per route tell an outsider what the instance is used for, so they are not
/// public; `serve --metrics-addr` serves them without a token on an address of the admin's
/// choosing instead.
#[utoipa::path(get, path = "/metrics", tag = "system",
    responses((status = 200, description = "Prometheus text exposition", content_type = "text/plain"),
              (status = 401, description = "No valid token", body = crate::error::ErrorBody),
              (status = 403, description = "Not an admin", body = crate::error::ErrorBody)),
    security(("bearer" = [])))]
pub async fn metrics(State(s): State<AppState>, a: Auth) -> ApiResult<impl IntoResponse> {
    a.require(Role::Admin)?;
    Ok(metrics_open(State(s)).await)
}

/// `/metrics` on the metrics-only listener.
pub async fn metrics_open(State(s): State<AppState>) -> impl IntoResponse {
    (
        [(CONTENT_TYPE, "text/plain; version=0.0.4")],
        s.metrics.render(),
    )
}

/// This document.
#[utoipa::path(get, path = "/api/v1/openapi.json", tag = "system",
    responses((status = 200, description = "OpenAPI 3.1 document", body = Object)))]
pub async fn openapi(State(s): State<AppState>) -> impl IntoResponse {
    (
        [(CONTENT_TYPE, "application/json")],
        s.cache.openapi.clone(),
    )
}
