//! Export-control measures and the product catalogue, as `chipwatch measure list|show|impact`
//! and `chipwatch licence products` show them: the embedded rules data, the same engine as
//! `/api/v1/licence/check`.

use super::controls::engine;
use super::model::envelope;
use crate::auth::Auth;
use crate::error::{ApiError, ApiResult};
use crate::extract::{Path, Query};
use crate::AppState;
use axum::extract::State;
use axum::Json;
use chipwatch_controls::{ControlsError, Date};
use serde::Deserialize;
use serde_json::{json, Value};

use chipwatch_controls::views::{measure_detail as detail, measure_row as row};

/// Every version of every export-control measure in the rules data.
#[utoipa::path(get, path = "/api/v1/measures", tag = "controls",
    responses((status = 200, description = "Measure versions (`chipwatch measure list --json`)", body = Object)),
    security(("bearer" = [])))]
pub async fn list_measures(_a: Auth) -> ApiResult<Json<Value>> {
    let e = engine()?;
    let rows: Vec<Value> = e.measures().iter().map(row).collect();
    Ok(Json(json!({"measures": rows})))
}

/// One measure: its versions, validity, rules, coverage assumptions, approximations and gaps.
#[utoipa::path(get, path = "/api/v1/measures/{id}", tag = "controls",
    params(("id" = String, Path, description = "Measure id (see GET /api/v1/measures)")),
    responses((status = 200, description = "The measure's versions", body = Object),
        (status = 404, description = "No such measure", body = crate::error::ErrorBody)),
    security(("bearer" = [])))]
pub async fn get_measure(_a: Auth, Path(id): Path<String>) -> ApiResult<Json<Value>> {
    let e = engine()?;
    let versions = e
        .versions(&id)
        .ok_or_else(|| ApiError::not_found("measure"))?;
    Ok(Json(
        json!({"id": id, "versions": versions.iter().map(detail).collect::<Vec<_>>()}),
    ))
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
pub struct ImpactQuery {
    /// The version in force on this date, YYYY-MM-DD (default today).
    #[param(pattern = "^[1-9][0-9]{3}-(0[1-9]|1[0-2])-(0[1-9]|1[0-9]|2[0-8])$")]
    pub date: Option<String>,
    /// Destinations where licences are denied, comma-separated ISO 3166-1 alpha-3 codes
    /// (default: every destination where the measure requires a licence or prohibits).
    #[param(pattern = "^[A-Za-z]{3}(,[A-Za-z]{3})*$")]
    pub deny: Option<String>,
}

/// Impact of a measure on the value chain: the blocked flows run through the scenario engine.
#[utoipa::path(get, path = "/api/v1/measures/{id}/impact", tag = "controls",
    params(("id" = String, Path, description = "Measure id"), ImpactQuery),
    responses((status = 200, description = "Impact report (`chipwatch measure impact --json`) with provenance", body = Object),
        (status = 404, description = "No such measure", body = crate::error::ErrorBody),
        (status = 422, description = "The measure is not in force on the date, or a country is not an ISO code", body = crate::error::ErrorBody)),
    security(("bearer" = [])))]
pub async fn measure_impact(
    State(s): State<AppState>,
    _a: Auth,
    Path(id): Path<String>,
    Query(q): Query<ImpactQuery>,
) -> ApiResult<Json<Value>> {
    let e = engine()?;
    if e.versions(&id).is_none() {
        return Err(ApiError::not_found("measure"));
    }
    let date = match &q.date {
        Some(d) => {
            Date::parse(d).map_err(|m| ApiError::new("invalid_parameter", format!("date: {m}")))?
        }
        None => Date::from_days_since_epoch(chipwatch_store::time::now().div_euclid(86400)),
    };
    let deny: Vec<String> = q
        .deny
        .as_deref()
        .map(|d| {
            d.split(',')
                .map(|c| {
                    chipwatch_controls::country::check("deny", c)
                        .map_err(|e| ApiError::validation(e.to_string()))
                })
                .collect::<ApiResult<Vec<_>>>()
        })
        .transpose()?
        .unwrap_or_default();
    let model = s.model.clone();
    let r = tokio::task::spawn_blocking(move || {
        chipwatch_controls::impact::measure_impact(&e, &model, &id, date, &deny)
    })
    .await
    .map_err(|e| ApiError::internal(&e))?
    .map_err(|e| match e {
        ControlsError::UnknownMeasure(_) => ApiError::not_found("measure"),
        ControlsError::Impact(_) | ControlsError::Field { .. } => {
            ApiError::validation(e.to_string())
        }
        other => ApiError::internal(&other),
    })?;
    Ok(Json(envelope(&s.model, r)))
}

/// The product catalogue of the licence determination: names and aliases usable as `product`.
#[utoipa::path(get, path = "/api/v1/products", tag = "controls",
    responses((status = 200, description = "Products (`chipwatch licence products --json`)", body = Object)),
    security(("bearer" = [])))]
pub async fn list_products(_a: Auth) -> ApiResult<Json<Value>> {
    let e = engine()?;
    Ok(Json(json!({"products": e.catalogue().products()})))
}
