//! Audit endpoints: an organisation's admins read the entries their users caused and can check
//! the integrity of the whole chain (the answer carries only counts and problems, no content).

use crate::auth::Auth;
use crate::error::ApiResult;
use crate::extract::Query;
use crate::AppState;
use axum::extract::State;
use chipwatch_store::audit;
use chipwatch_store::partner::Role;
use serde::Deserialize;
use serde_json::{json, Value};

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
pub struct AuditQuery {
    /// Entries after this sequence number (paging).
    pub after: Option<i64>,
    /// At most this many entries (default 100, max 1000).
    pub limit: Option<i64>,
}

/// Audit entries caused by the caller's organisation (admin).
#[utoipa::path(get, path = "/api/v1/audit", tag = "audit", params(AuditQuery),
    responses((status = 200, description = "Entries", body = Object)), security(("bearer" = [])))]
pub async fn list(
    State(s): State<AppState>,
    a: Auth,
    Query(q): Query<AuditQuery>,
) -> ApiResult<axum::Json<Value>> {
    let p = a.require(Role::Admin)?;
    let prefix = format!("org:{}/", p.org.id);
    let limit = q.limit.unwrap_or(100).clamp(1, 1000);
    let entries = audit::entries(&s.store, Some(&prefix), q.after.unwrap_or(0), limit).await?;
    Ok(axum::Json(json!({"entries": entries})))
}

/// Verify the hash chain (admin).
#[utoipa::path(get, path = "/api/v1/audit/verify", tag = "audit",
    responses((status = 200, description = "Verification report", body = Object)), security(("bearer" = [])))]
pub async fn verify(State(s): State<AppState>, a: Auth) -> ApiResult<axum::Json<Value>> {
    a.require(Role::Admin)?;
    let r = audit::verify(&s.store).await?;
    let problems: Vec<String> = r.problems.iter().map(|p| p.to_string()).collect();
    Ok(axum::Json(
        json!({"ok": r.ok(), "entries": r.entries, "head": r.head, "problems": problems}),
    ))
}
