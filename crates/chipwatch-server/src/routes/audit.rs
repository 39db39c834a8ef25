//! Audit endpoints: an organisation's admins read the entries their users caused; an *instance
//! admin* verifies the whole keyed chain.
//!
//! Verification reads the whole log, so it never runs on a request: `POST /audit/verify` starts
//! one background task (one at a time: a second start while one runs answers 409 `conflict`)
//! and `GET /audit/verify` reports the running or last job. The answer carries counts, the head
//! and the problems, no entry content.
//!
//! An instance admin is an admin of the instance's operator organisation: the one named by
//! [`AppState::operator_org`], or by default the first local organisation created (lowest id),
//! i.e. the one bootstrapped with `chipwatch admin org create` when the instance was set up.

use crate::auth::Auth;
use crate::error::{ApiError, ApiResult};
use crate::extract::Query;
use crate::AppState;
use axum::extract::State;
use axum::http::StatusCode;
use chipwatch_store::audit;
use chipwatch_store::partner::{OrgKind, Principal, Role};
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};
use std::sync::Mutex;

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
pub struct AuditQuery {
    /// Entries after this sequence number (paging).
    #[param(minimum = 0)]
    pub after: Option<i64>,
    /// At most this many entries (default 100).
    #[param(minimum = 1, maximum = 1000)]
    pub limit: Option<i64>,
}

/// Audit entries caused by the caller's organisation (admin).
#[utoipa::path(get, path = "/api/v1/audit", tag = "audit", operation_id = "list_audit", params(AuditQuery),
    responses((status = 200, description = "Entries", body = Object)), security(("bearer" = [])))]
pub async fn list(
    State(s): State<AppState>,
    a: Auth,
    Query(q): Query<AuditQuery>,
) -> ApiResult<axum::Json<Value>> {
    let p = a.require(Role::Admin)?;
    let prefix = format!("org:{}/", p.org.id);
    let limit = crate::extract::limit(q.limit)?;
    if q.after.is_some_and(|a| a < 0) {
        return Err(ApiError::new("invalid_parameter", "after: 0 or more"));
    }
    let entries = audit::entries(&s.store, Some(&prefix), q.after.unwrap_or(0), limit).await?;
    Ok(axum::Json(json!({"entries": entries})))
}

/// State of the verification job.
#[derive(Debug, Clone, Default, Serialize, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum JobState {
    /// Never run since the server started.
    #[default]
    Idle,
    Running,
    Done,
    Failed,
}

/// The running or last verification, as reported by `GET /audit/verify`.
#[derive(Debug, Clone, Default, Serialize)]
pub struct JobStatus {
    pub state: JobState,
    /// Number of the run since the server started (1, 2, ...).
    pub run: u64,
    pub started_by: Option<String>,
    /// Unix milliseconds.
    pub started_at: Option<i64>,
    pub finished_at: Option<i64>,
    /// When done: whether the chain is intact.
    pub ok: Option<bool>,
    pub entries: Option<u64>,
    pub head: Option<(i64, String)>,
    pub checkpoint: Option<(i64, String)>,
    pub problems: Vec<String>,
    pub more_problems: u64,
    /// When failed: why (the database could not be read; details in the server log).
    pub error: Option<String>,
}

/// The one verification job of a server (shared by the API and the dashboard).
#[derive(Debug, Default)]
pub struct VerifyJob {
    status: Mutex<JobStatus>,
}

impl VerifyJob {
    pub fn status(&self) -> JobStatus {
        self.status.lock().map(|g| g.clone()).unwrap_or_default()
    }

    fn finish(&self, result: Result<audit::VerifyReport, String>) {
        let Ok(mut g) = self.status.lock() else {
            return;
        };
        g.finished_at = Some(chipwatch_store::time::now_ms());
        match result {
            Ok(r) => {
                g.state = JobState::Done;
                g.ok = Some(r.ok());
                g.entries = Some(r.entries);
                g.head = r.head;
                g.checkpoint = r.checkpoint;
                g.problems = r.problems.iter().map(|p| p.to_string()).collect();
                g.more_problems = r.more_problems;
            }
            Err(e) => {
                g.state = JobState::Failed;
                g.error = Some(e);
            }
        }
    }
}

/// Whether `p` is an instance admin (see the module docs).
pub async fn is_instance_admin(s: &AppState, p: &Principal) -> ApiResult<bool> {
    if p.role < Role::Admin || p.org.kind != OrgKind::Local {
        return Ok(false);
    }
    let operator = match &s.operator_org {
        Some(name) => s.store.org_by_name(name).await?.map(|o| o.id),
        None => s
            .store
            .orgs()
            .await?
            .into_iter()
            .filter(|o| o.kind == OrgKind::Local)
            .map(|o| o.id)
            .min(),
    };
    Ok(operator == Some(p.org.id))
}

async fn require_instance_admin<'a>(s: &AppState, a: &'a Auth) -> ApiResult<&'a Principal> {
    let p = a.require_local()?;
    let p = a.require(Role::Admin).map(|_| p)?;
    if is_instance_admin(s, p).await? {
        Ok(p)
    } else {
        tracing::warn!(actor = %p.actor(), "authorisation failed: audit verification needs an instance admin");
        Err(ApiError::forbidden(
            "only an instance admin (an admin of the operator organisation) may verify the audit log",
        ))
    }
}

/// Start a verification unless one is running (then `conflict`). The start is audited.
pub async fn start_verification(s: &AppState, p: &Principal) -> ApiResult<JobStatus> {
    let run = {
        let mut g = s
            .audit_job
            .status
            .lock()
            .map_err(|_| ApiError::internal(&"audit job state poisoned"))?;
        if g.state == JobState::Running {
            return Err(ApiError::new(
                "conflict",
                format!(
                    "audit verification run {} is still running; GET /api/v1/audit/verify for its status",
                    g.run
                ),
            ));
        }
        *g = JobStatus {
            state: JobState::Running,
            run: g.run + 1,
            started_by: Some(p.actor()),
            started_at: Some(chipwatch_store::time::now_ms()),
            ..JobStatus::default()
        };
        g.run
    };
    if let Err(e) = s
        .store
        .audit(&p.actor(), "audit.verify", "audit", json!({"run": run}))
        .await
    {
        s.audit_job.finish(Err("could not record the start".into()));
        return Err(e.into());
    }
    let (store, job) = (s.store.clone(), s.audit_job.clone());
    // A task of its own, not the request's: the answer returns at once. A panic inside is
    // caught through the join handle so the job never stays "running".
    let inner = tokio::spawn(async move { audit::verify(&store).await });
    let job2 = job.clone();
    tokio::spawn(async move {
        let result = match inner.await {
            Ok(Ok(r)) => Ok(r),
            Ok(Err(e)) => {
                tracing::error!(error = %e, "audit verification failed");
                Err("the audit log could not be read".to_string())
            }
            Err(e) => {
                tracing::error!(error = %e, "audit verification task failed");
                Err("the verification task failed".to_string())
            }
        };
        job2.finish(result);
    });
    Ok(job.status())
}

/// Start verifying the audit chain in the background (instance admin; 409 while one runs).
#[utoipa::path(post, path = "/api/v1/audit/verify", tag = "audit",
    responses((status = 202, description = "Job started; its status", body = Object),
        (status = 409, description = "A verification is running", body = crate::error::ErrorBody)),
    security(("bearer" = [])))]
pub async fn start_verify(
    State(s): State<AppState>,
    a: Auth,
) -> ApiResult<(StatusCode, axum::Json<JobStatus>)> {
    let p = require_instance_admin(&s, &a).await?;
    let st = start_verification(&s, p).await?;
    Ok((StatusCode::ACCEPTED, axum::Json(st)))
}

/// Status of the running or last audit verification (instance admin).
#[utoipa::path(get, path = "/api/v1/audit/verify", tag = "audit",
    responses((status = 200, description = "Job status", body = Object)), security(("bearer" = [])))]
pub async fn verify(State(s): State<AppState>, a: Auth) -> ApiResult<axum::Json<JobStatus>> {
    require_instance_admin(&s, &a).await?;
    Ok(axum::Json(s.audit_job.status()))
}
