//! Export-control endpoints over `chipwatch-controls`: the licence check of one shipment
//! (`/api/v1/licence/check`: per jurisdiction, with the measure, instrument, version and derived
//! values used) and restricted-party screening (`/api/v1/screening`). The former paths
//! `/api/v1/controls/determine` and `/api/v1/controls/screen` answer the same, marked deprecated.
//! The rules data are the embedded defaults, parsed once.

use crate::auth::Auth;
use crate::error::{ApiError, ApiResult};
use crate::extract::Json;
use chipwatch_controls::{Date, Engine, Shipment, Value};
use serde::Deserialize;
use serde_json::json;
use std::collections::BTreeMap;
use std::sync::{Arc, OnceLock};

/// The engine with the embedded measures, catalogue and lists (parsed on first use).
pub fn engine() -> ApiResult<Arc<Engine>> {
    static ENGINE: OnceLock<Result<Arc<Engine>, String>> = OnceLock::new();
    ENGINE
        .get_or_init(|| {
            chipwatch_controls::default_engine()
                .map(Arc::new)
                .map_err(|e| e.to_string())
        })
        .clone()
        .map_err(|e| ApiError::internal(&e))
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct DetermineBody {
    /// Catalogue product (e.g. "NXT:2000i"); its public specification fills the parameters.
    pub product: Option<String>,
    /// Parameter values (numbers, booleans, strings), overriding the catalogue's.
    #[schema(value_type = BTreeMap<String, ParamValue>)]
    #[serde(default)]
    pub params: BTreeMap<String, Value>,
    /// Exporting country, ISO alpha-3.
    pub from: String,
    /// Destination country, ISO alpha-3.
    pub to: String,
    /// Country of origin of the item, if different from `from`.
    pub origin: Option<String>,
    pub end_user: Option<String>,
    pub end_use: Option<String>,
    /// Other parties, each screened: `[{"role": "consignee", "name": "..."}]` with role one of
    /// purchaser, intermediate_consignee, consignee, exporter, end_user.
    #[schema(value_type = Vec<PartyBody>)]
    #[serde(default)]
    pub parties: Vec<chipwatch_controls::Party>,
    /// Date of the shipment, YYYY-MM-DD (default: today): the measures in force on that date.
    #[schema(pattern = "^[1-9][0-9]{3}-(0[1-9]|1[0-2])-(0[1-9]|1[0-9]|2[0-8])$")]
    pub date: Option<String>,
}

/// A parameter value (documentation of `chipwatch_controls::Value`).
#[derive(serde::Serialize, utoipa::ToSchema)]
#[serde(untagged)]
#[allow(dead_code)]
pub enum ParamValue {
    Number(f64),
    Bool(bool),
    Text(String),
}

/// One party of a shipment (documentation of `chipwatch_controls::Party`).
#[derive(utoipa::ToSchema)]
#[allow(dead_code)]
pub struct PartyBody {
    #[schema(pattern = "^(exporter|purchaser|intermediate_consignee|consignee|end_user)$")]
    role: String,
    name: String,
}

fn country(field: &str, v: &str) -> ApiResult<String> {
    chipwatch_controls::country::check(field, v).map_err(|e| ApiError::validation(e.to_string()))
}

/// Licence check: the determination per jurisdiction, with the strictest overall verdict.
#[utoipa::path(post, path = "/api/v1/licence/check", tag = "controls", request_body = DetermineBody,
    responses((status = 200, description = "Determination", body = Object), (status = 422, description = "Unknown product or bad value", body = crate::error::ErrorBody)),
    security(("bearer" = [])))]
pub async fn licence_check(
    _a: Auth,
    Json(b): Json<DetermineBody>,
) -> ApiResult<axum::Json<serde_json::Value>> {
    let engine = engine()?;
    let date = match &b.date {
        Some(d) => Date::parse(d).map_err(|e| ApiError::validation(format!("date: {e}")))?,
        None => Date::from_days_since_epoch(chipwatch_store::time::now().div_euclid(86400)),
    };
    let shipment = Shipment {
        product: b.product,
        params: b.params,
        from: country("from", &b.from)?,
        to: country("to", &b.to)?,
        origin: b
            .origin
            .as_deref()
            .map(|o| country("origin", o))
            .transpose()?,
        end_user: b.end_user,
        end_use: b.end_use,
        date,
        parties: b.parties,
    };
    let d = tokio::task::spawn_blocking(move || engine.determine(&shipment))
        .await
        .map_err(|e| ApiError::internal(&e))?
        .map_err(|e| ApiError::validation(e.to_string()))?;
    Ok(axum::Json(json!(d)))
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ScreenBody {
    /// Party names to screen (any script).
    #[schema(min_items = 1, max_items = 1000)]
    pub names: Vec<String>,
    /// Match score threshold 0..1 (default 0.85).
    #[schema(minimum = 0, maximum = 1)]
    pub threshold: Option<f64>,
}

/// Screening: restricted-party screening of names against the embedded lists.
#[utoipa::path(post, path = "/api/v1/screening", tag = "controls", request_body = ScreenBody,
    responses((status = 200, description = "Hits per name", body = Object), (status = 422, description = "Bad threshold or too many names", body = crate::error::ErrorBody)),
    security(("bearer" = [])))]
pub async fn screening(
    _a: Auth,
    Json(b): Json<ScreenBody>,
) -> ApiResult<axum::Json<serde_json::Value>> {
    let threshold = b
        .threshold
        .unwrap_or(chipwatch_controls::screening::DEFAULT_THRESHOLD);
    if !(0.0..=1.0).contains(&threshold) {
        return Err(ApiError::validation("threshold: between 0 and 1"));
    }
    if b.names.is_empty() || b.names.len() > 1000 {
        return Err(ApiError::validation("names: between 1 and 1000 names"));
    }
    let engine = engine()?;
    let results = tokio::task::spawn_blocking(move || {
        b.names
            .iter()
            .map(|n| json!({"name": n, "hits": engine.screener().screen(n, threshold)}))
            .collect::<Vec<_>>()
    })
    .await
    .map_err(|e| ApiError::internal(&e))?;
    Ok(axum::Json(
        json!({"threshold": threshold, "results": results}),
    ))
}

/// Former name of [`licence_check`] (deprecated: answers with `Deprecation` and a `Link` to
/// the successor, see [`crate::vocabulary::DEPRECATED_ROUTES`]).
#[utoipa::path(post, path = "/api/v1/controls/determine", tag = "controls", request_body = DetermineBody,
    responses((status = 200, description = "Determination (deprecated path: use /api/v1/licence/check)", body = Object), (status = 422, description = "Unknown product or bad value", body = crate::error::ErrorBody)),
    security(("bearer" = [])))]
pub async fn determine(
    a: Auth,
    b: Json<DetermineBody>,
) -> ApiResult<axum::Json<serde_json::Value>> {
    licence_check(a, b).await
}

/// Former name of [`screening`] (deprecated, like [`determine`]).
#[utoipa::path(post, path = "/api/v1/controls/screen", tag = "controls", request_body = ScreenBody,
    responses((status = 200, description = "Hits per name (deprecated path: use /api/v1/screening)", body = Object), (status = 422, description = "Bad threshold or too many names", body = crate::error::ErrorBody)),
    security(("bearer" = [])))]
pub async fn screen(a: Auth, b: Json<ScreenBody>) -> ApiResult<axum::Json<serde_json::Value>> {
    screening(a, b).await
}
