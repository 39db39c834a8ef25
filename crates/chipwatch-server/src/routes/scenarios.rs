//! Scenario endpoints over `chipwatch_analysis::scenario`: run one ad hoc, save one for the
//! organisation, list, fetch, run a saved one and fetch its stored result. Runs are CPU-bound
//! and go to the blocking pool so they never stall the request workers.

use crate::auth::Auth;
use crate::error::{ApiError, ApiResult};
use crate::extract::{Json, Path};
use crate::AppState;
use axum::extract::State;
use axum::http::StatusCode;
use chipwatch_analysis::scenario::{self, Scenario, ScenarioError};
use chipwatch_store::partner::Role;
use serde_json::{json, Value};

fn scenario_error(e: ScenarioError) -> ApiError {
    match e {
        ScenarioError::Field { .. } | ScenarioError::Parse { .. } => {
            ApiError::validation(e.to_string())
        }
        // The model cannot carry this scenario: a server-side condition, not the caller's.
        other => ApiError::internal(&other),
    }
}

/// The scenario as JSON, for the OpenAPI document: the fields of the TOML file
/// (docs/scenarios.md). The server reads it as [`Scenario`]; shocks, assumptions and consumers
/// are checked against the model (422 naming the field).
#[derive(serde::Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
#[allow(dead_code)]
pub struct ScenarioBody {
    #[schema(pattern = "\\S")]
    name: String,
    /// Length of the simulated period in days (default 365).
    #[serde(default)]
    #[schema(minimum = 1, maximum = 36500)]
    horizon_days: u32,
    /// Spacing of the reported series in days (default 7).
    #[serde(default)]
    #[schema(minimum = 1, maximum = 36500)]
    step_days: u32,
    /// Headroom, inventories, tool lag, taxonomy rule, share basis, share overrides.
    #[serde(default)]
    #[schema(value_type = Object)]
    assumptions: Value,
    /// Disruptions, each with a `kind` (docs/scenarios.md).
    #[serde(default)]
    #[schema(value_type = Vec<Object>)]
    shock: Vec<Value>,
    /// Explicit consumers (default: derived from the model).
    #[serde(default)]
    #[schema(value_type = Vec<Object>, min_items = 1)]
    consumer: Vec<Value>,
    /// Baseline date (YYYY-MM-DD, default today): fabs producing then and the export controls
    /// in force that day shape the baseline.
    #[serde(default)]
    #[schema(pattern = "^[0-9]{4}-[0-9]{2}-[0-9]{2}$")]
    baseline_date: Option<String>,
    /// How a shortage is shared: `{"rule": "pro_rata" | "home_first" | "allies_first",
    /// "groups": {"chip4": ["USA", "JPN", "KOR", "TWN"]}}`.
    #[serde(default)]
    #[schema(value_type = Object)]
    allocation: Value,
    /// Flows already denied on the baseline date (default: from the controls data).
    #[serde(default)]
    #[schema(value_type = Vec<Object>)]
    baseline_denial: Vec<Value>,
}

/// Read a scenario body in two steps: the top level must have the documented shape
/// ([`ScenarioBody`]: `400 unknown_field` / `invalid_json`), and what is inside shocks,
/// assumptions and consumers must make a scenario (`422 validation_failed`, naming it), as the
/// CLI reports a bad scenario file.
pub fn parse_scenario(raw: Value) -> ApiResult<Scenario> {
    use serde::Deserialize;
    if let Err(e) = ScenarioBody::deserialize(&raw) {
        let msg = e.to_string();
        let code = if msg.contains("unknown field") {
            "unknown_field"
        } else {
            "invalid_json"
        };
        return Err(ApiError::new(code, msg));
    }
    Scenario::deserialize(raw).map_err(|e| ApiError::validation(format!("scenario: {e}")))
}

/// Run a scenario as the CLI does: with the segment layer and the controls in force on its
/// baseline date (default today) when the server's model carries the production data's items,
/// the item view alone otherwise. CPU-bound: call it from the blocking pool.
pub fn execute(s: &AppState, mut sc: Scenario) -> Result<scenario::ScenarioResult, ScenarioError> {
    match &s.production {
        None => scenario::run(&s.model, &sc),
        Some(prod) => {
            let engine = crate::routes::controls::engine().map_err(|_| ScenarioError::Parse {
                origin: "controls".into(),
                message: "the embedded controls data could not be read".into(),
            })?;
            chipwatch_controls::baseline::prepare(
                &engine,
                prod,
                &mut sc,
                crate::web::controls::today(),
            )
            .map_err(|e| ScenarioError::Field {
                field: "baseline_date".into(),
                message: e.to_string(),
            })?;
            scenario::run_with_production(&s.model, &sc, prod, None)
        }
    }
}

/// Run a scenario on the server's model.
pub async fn run_scenario(s: &AppState, sc: Scenario) -> ApiResult<Value> {
    sc.validate().map_err(scenario_error)?;
    let st = s.clone();
    let result = tokio::task::spawn_blocking(move || execute(&st, sc))
        .await
        .map_err(|e| ApiError::internal(&e))?
        .map_err(scenario_error)?;
    serde_json::to_value(&result).map_err(|e| ApiError::internal(&e))
}

/// Run a scenario (body: the scenario as JSON, same fields as the TOML file) without saving it.
#[utoipa::path(post, path = "/api/v1/scenarios/run", tag = "scenarios", request_body = ScenarioBody,
    responses((status = 200, description = "Scenario result", body = Object), (status = 422, description = "Invalid scenario", body = crate::error::ErrorBody)),
    security(("bearer" = [])))]
pub async fn run_adhoc(
    State(s): State<AppState>,
    a: Auth,
    Json(raw): Json<Value>,
) -> ApiResult<axum::Json<Value>> {
    a.require_local()?;
    let sc = parse_scenario(raw)?;
    Ok(axum::Json(run_scenario(&s, sc).await?))
}

/// Save a scenario for the caller's organisation (analyst).
#[utoipa::path(post, path = "/api/v1/scenarios", tag = "scenarios", request_body = ScenarioBody,
    responses((status = 201, description = "Saved", body = Object), (status = 422, description = "Invalid scenario", body = crate::error::ErrorBody)),
    security(("bearer" = [])))]
pub async fn save(
    State(s): State<AppState>,
    a: Auth,
    Json(raw): Json<Value>,
) -> ApiResult<(StatusCode, axum::Json<Value>)> {
    a.require_local()?;
    let p = a.require(Role::Analyst)?;
    let sc = parse_scenario(raw)?;
    sc.validate().map_err(scenario_error)?;
    let spec = serde_json::to_value(&sc).map_err(|e| ApiError::internal(&e))?;
    let saved = s.store.save_scenario(p, &sc.name, &spec).await?;
    Ok((
        StatusCode::CREATED,
        axum::Json(json!({"id": saved.id, "name": saved.name, "created_at": saved.created_at})),
    ))
}

/// Saved scenarios of the caller's organisation.
#[utoipa::path(get, path = "/api/v1/scenarios", tag = "scenarios", operation_id = "list_scenarios",
    responses((status = 200, description = "Scenarios", body = Object)), security(("bearer" = [])))]
pub async fn list(State(s): State<AppState>, a: Auth) -> ApiResult<axum::Json<Value>> {
    let p = a.require_local()?;
    let list: Vec<Value> = s
        .store
        .scenarios_of(p.org.id)
        .await?
        .into_iter()
        .map(|x| json!({"id": x.id, "name": x.name, "created_at": x.created_at, "run_at": x.run_at, "has_result": x.result.is_some()}))
        .collect();
    Ok(axum::Json(json!({"scenarios": list})))
}

/// One saved scenario.
#[utoipa::path(get, path = "/api/v1/scenarios/{id}", tag = "scenarios", operation_id = "get_scenario",
    params(("id" = i64, Path, description = "Scenario id")),
    responses((status = 200, description = "Scenario", body = Object), (status = 404, description = "Missing or not yours", body = crate::error::ErrorBody)),
    security(("bearer" = [])))]
pub async fn get(
    State(s): State<AppState>,
    a: Auth,
    Path(id): Path<i64>,
) -> ApiResult<axum::Json<Value>> {
    let x = saved(&s, &a, id).await?;
    Ok(axum::Json(
        json!({"id": x.id, "name": x.name, "scenario": x.spec, "created_at": x.created_at, "run_at": x.run_at}),
    ))
}

/// Run a saved scenario and store its result (analyst).
#[utoipa::path(post, path = "/api/v1/scenarios/{id}/run", tag = "scenarios",
    params(("id" = i64, Path, description = "Scenario id")),
    responses((status = 200, description = "Scenario result", body = Object), (status = 404, description = "Missing or not yours", body = crate::error::ErrorBody)),
    security(("bearer" = [])))]
pub async fn run_saved(
    State(s): State<AppState>,
    a: Auth,
    Path(id): Path<i64>,
) -> ApiResult<axum::Json<Value>> {
    let x = saved(&s, &a, id).await?;
    let p = a.require(Role::Analyst)?;
    let sc: Scenario = serde_json::from_value(x.spec).map_err(|e| ApiError::internal(&e))?;
    let result = run_scenario(&s, sc).await?;
    s.store.set_scenario_result(p, id, &result).await?;
    Ok(axum::Json(result))
}

/// The stored result of a saved scenario's last run.
#[utoipa::path(get, path = "/api/v1/scenarios/{id}/result", tag = "scenarios",
    params(("id" = i64, Path, description = "Scenario id")),
    responses((status = 200, description = "Scenario result", body = Object), (status = 404, description = "Missing, not yours, or never run", body = crate::error::ErrorBody)),
    security(("bearer" = [])))]
pub async fn result(
    State(s): State<AppState>,
    a: Auth,
    Path(id): Path<i64>,
) -> ApiResult<axum::Json<Value>> {
    let x = saved(&s, &a, id).await?;
    x.result
        .map(axum::Json)
        .ok_or_else(|| ApiError::not_found("scenario result"))
}

/// A saved scenario of the caller's organisation (404 when missing or another's).
async fn saved(
    s: &AppState,
    a: &Auth,
    id: i64,
) -> ApiResult<chipwatch_store::partner::SavedScenario> {
    let p = a.require_local()?;
    s.store
        .scenario(p.org.id, id)
        .await?
        .ok_or_else(|| ApiError::not_found("scenario"))
}
