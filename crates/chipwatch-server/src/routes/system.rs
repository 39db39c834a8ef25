//! Unauthenticated operational endpoints: liveness, Prometheus metrics, the OpenAPI document.

use crate::AppState;
use axum::extract::State;
use axum::http::header::CONTENT_TYPE;
use axum::http::StatusCode;
use axum::response::IntoResponse;
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

/// Prometheus metrics (text format).
#[utoipa::path(get, path = "/metrics", tag = "system",
    responses((status = 200, description = "Prometheus text exposition", content_type = "text/plain")))]
pub async fn metrics(State(s): State<AppState>) -> impl IntoResponse {
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
