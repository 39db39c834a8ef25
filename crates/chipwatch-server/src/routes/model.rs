//! Model endpoints: items, item detail, shares, providers, chokepoints, dependence, value share.
//! The model is public reference data (ETO/CSET), readable by every authenticated caller; each
//! answer is `{"provenance": {...}, "data": ...}` with `data` in the CLI's `--json` shape.

use crate::auth::Auth;
use crate::error::{ApiError, ApiResult};
use crate::extract::{Path, Query};
use crate::AppState;
use axum::extract::State;
use axum::http::header::CONTENT_TYPE;
use axum::response::{IntoResponse, Response};
use axum::Json;
use chipwatch_analysis::concentration::{self, ChokepointOptions};
use chipwatch_analysis::views;
use chipwatch_model::{Basis, ItemKind, LookupError, StageKind, ValueChain};
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};

/// Envelope of every model answer: the numbers and where they come from.
pub fn envelope(vc: &ValueChain, data: impl Serialize) -> Value {
    let m = &vc.model().meta;
    json!({
        "provenance": {"dataset": m.dataset, "vintage": m.vintage, "model": m.name, "licence": m.licence},
        "data": data,
    })
}

fn lookup_error(e: LookupError) -> ApiError {
    match e {
        LookupError::NotFound(_) => ApiError::not_found("item"),
        other => ApiError::new("invalid_parameter", other.to_string()),
    }
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
pub struct ItemsQuery {
    /// Item kind.
    #[param(pattern = "^(design_resource|tool|material|process|final_output)$")]
    pub kind: Option<String>,
    /// Stage of the value chain.
    #[param(pattern = "^(design|fabrication|atp)$")]
    pub stage: Option<String>,
}

/// List items of the value chain.
#[utoipa::path(get, path = "/api/v1/items", tag = "model", params(ItemsQuery),
    responses((status = 200, description = "Items with provenance", body = Object)),
    security(("bearer" = [])))]
pub async fn list_items(
    State(s): State<AppState>,
    _a: Auth,
    Query(q): Query<ItemsQuery>,
) -> ApiResult<Json<Value>> {
    let kind = match q.kind.as_deref() {
        Some(k) => Some(ItemKind::parse(k).ok_or_else(|| {
            ApiError::new(
                "invalid_parameter",
                format!("kind: unknown item kind `{k}`"),
            )
        })?),
        None => None,
    };
    let stage = match q.stage.as_deref() {
        Some(k) => Some(StageKind::parse(k).ok_or_else(|| {
            ApiError::new("invalid_parameter", format!("stage: unknown stage `{k}`"))
        })?),
        None => None,
    };
    let vc = &s.model;
    let rows = views::item_rows(vc, kind, stage);
    Ok(Json(envelope(vc, rows)))
}

/// Item detail in the shape of `chipwatch show --json`, wrapped with provenance.
pub fn item_detail(vc: &ValueChain, i: chipwatch_model::ItemIdx) -> Value {
    envelope(vc, views::item_detail(vc, i))
}

/// Serialised item details of every item, computed once at start-up (the model is immutable
/// while the server runs, and item detail is the hottest read).
pub fn all_item_details(vc: &ValueChain) -> std::collections::HashMap<String, axum::body::Bytes> {
    vc.items()
        .map(|(i, it)| {
            (
                it.id.clone(),
                serde_json::to_vec(&item_detail(vc, i))
                    .unwrap_or_default()
                    .into(),
            )
        })
        .collect()
}

/// One item: providers by country and firm, market size, inputs, uses, taxonomy.
#[utoipa::path(get, path = "/api/v1/items/{id}", tag = "model",
    params(("id" = String, Path, description = "Item id, e.g. N20")),
    responses((status = 200, description = "Item detail", body = Object), (status = 404, description = "No such item", body = crate::error::ErrorBody)),
    security(("bearer" = [])))]
pub async fn get_item(
    State(s): State<AppState>,
    _a: Auth,
    Path(id): Path<String>,
) -> ApiResult<Response> {
    let body = s
        .cache
        .items
        .get(&id)
        .ok_or_else(|| ApiError::not_found("item"))?;
    Ok(([(CONTENT_TYPE, "application/json")], body.clone()).into_response())
}

/// All provision shares of an item, every year.
#[utoipa::path(get, path = "/api/v1/items/{id}/shares", tag = "model",
    params(("id" = String, Path, description = "Item id")),
    responses((status = 200, description = "Shares", body = Object), (status = 404, description = "No such item", body = crate::error::ErrorBody)),
    security(("bearer" = [])))]
pub async fn item_shares(
    State(s): State<AppState>,
    _a: Auth,
    Path(id): Path<String>,
) -> ApiResult<Json<Value>> {
    let vc = &s.model;
    let i = vc
        .item_idx(&id)
        .ok_or_else(|| ApiError::not_found("item"))?;
    Ok(Json(envelope(vc, views::share_rows(vc, i, true))))
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
pub struct ProvidersQuery {
    /// country, organisation or bucket
    #[serde(rename = "type")]
    #[param(pattern = "^(country|organisation|bucket)$")]
    pub provider_type: Option<String>,
}

/// List providers (countries, firms, buckets).
#[utoipa::path(get, path = "/api/v1/providers", tag = "model", params(ProvidersQuery),
    responses((status = 200, description = "Providers", body = Object)), security(("bearer" = [])))]
pub async fn list_providers(
    State(s): State<AppState>,
    _a: Auth,
    Query(q): Query<ProvidersQuery>,
) -> ApiResult<Json<Value>> {
    let vc = &s.model;
    if let Some(t) = q.provider_type.as_deref() {
        if !["country", "organisation", "bucket"].contains(&t) {
            return Err(ApiError::new(
                "invalid_parameter",
                format!("type: unknown provider type `{t}`"),
            ));
        }
    }
    let rows: Vec<Value> = vc
        .providers()
        .filter(|(_, p)| q.provider_type.as_deref().is_none_or(|t| p.provider_type.as_str() == t))
        .map(|(_, p)| json!({"id": p.id, "name": p.name, "type": p.provider_type, "country": p.country}))
        .collect();
    Ok(Json(envelope(vc, rows)))
}

/// One provider and the items it provides.
#[utoipa::path(get, path = "/api/v1/providers/{id}", tag = "model",
    params(("id" = String, Path, description = "Provider id, e.g. NLD or an organisation id")),
    responses((status = 200, description = "Provider", body = Object), (status = 404, description = "No such provider", body = crate::error::ErrorBody)),
    security(("bearer" = [])))]
pub async fn get_provider(
    State(s): State<AppState>,
    _a: Auth,
    Path(id): Path<String>,
) -> ApiResult<Json<Value>> {
    let vc = &s.model;
    let p = vc
        .provider_by_id(&id)
        .ok_or_else(|| ApiError::not_found("provider"))?;
    let provides: Vec<Value> = vc
        .items()
        .flat_map(|(i, it)| {
            vc.latest_shares(i)
                .into_iter()
                .filter(|sh| sh.provider == p.id)
                .map(|sh| json!({"item_id": it.id, "name": it.name, "share": sh.share, "year": sh.year, "basis": sh.basis}))
                .collect::<Vec<_>>()
        })
        .collect();
    Ok(Json(envelope(
        vc,
        json!({"id": p.id, "name": p.name, "type": p.provider_type, "country": p.country, "aliases": p.aliases, "provides": provides}),
    )))
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
pub struct ChokepointsQuery {
    /// Single-point-of-failure threshold in percent (default 65).
    #[param(minimum = 0, maximum = 100)]
    pub threshold: Option<f64>,
    /// hq or location
    #[param(pattern = "^(hq|location)$")]
    pub basis: Option<String>,
    /// Only single points of failure.
    pub spof_only: Option<bool>,
}

/// Chokepoint report computed once at start-up for the default options.
pub fn default_chokepoints(vc: &ValueChain) -> Vec<u8> {
    let rows = concentration::chokepoints(vc, ChokepointOptions::default());
    serde_json::to_vec(&envelope(vc, rows)).unwrap_or_default()
}

/// Concentration per item: HHI, CR1, CR3, countries to 75%, single points of failure.
#[utoipa::path(get, path = "/api/v1/chokepoints", tag = "model", params(ChokepointsQuery),
    responses((status = 200, description = "Chokepoints, HHI descending", body = Object)), security(("bearer" = [])))]
pub async fn chokepoints(
    State(s): State<AppState>,
    _a: Auth,
    Query(q): Query<ChokepointsQuery>,
) -> ApiResult<Response> {
    if q.threshold.is_none() && q.basis.is_none() && !q.spof_only.unwrap_or(false) {
        return Ok((
            [(CONTENT_TYPE, "application/json")],
            s.cache.chokepoints.clone(),
        )
            .into_response());
    }
    let threshold = q.threshold.unwrap_or(concentration::DEFAULT_SPOF_THRESHOLD);
    if !(0.0..=100.0).contains(&threshold) {
        return Err(ApiError::new(
            "invalid_parameter",
            "threshold: a percentage between 0 and 100",
        ));
    }
    let basis = match q.basis.as_deref() {
        Some(b) => Some(Basis::parse(b).ok_or_else(|| {
            ApiError::new(
                "invalid_parameter",
                format!("basis: unknown basis `{b}` (hq, location)"),
            )
        })?),
        None => None,
    };
    let rows: Vec<_> = concentration::chokepoints(&s.model, ChokepointOptions { threshold, basis })
        .into_iter()
        .filter(|r| !q.spof_only.unwrap_or(false) || r.single_point_of_failure)
        .collect();
    Ok(Json(envelope(&s.model, rows)).into_response())
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
pub struct DependenceQuery {
    /// Consumer country, ISO alpha-3 (e.g. KOR); 404 if the model has no such country.
    #[param(pattern = "^[A-Za-z]{3}$")]
    pub consumer: String,
    /// Supplier country, ISO alpha-3 (e.g. NLD); 404 if the model has no such country.
    #[param(pattern = "^[A-Za-z]{3}$")]
    pub supplier: String,
    /// Minimum supplier share in percent (default 50).
    #[param(minimum = 0, maximum = 100)]
    pub min_share: Option<f64>,
}

/// Items a consumer country gets mainly from a supplier country.
#[utoipa::path(get, path = "/api/v1/dependence", tag = "model", params(DependenceQuery),
    responses((status = 200, description = "Dependence rows", body = Object), (status = 404, description = "A country is not in the model", body = crate::error::ErrorBody)), security(("bearer" = [])))]
pub async fn dependence(
    State(s): State<AppState>,
    _a: Auth,
    Query(q): Query<DependenceQuery>,
) -> ApiResult<Json<Value>> {
    let min = q.min_share.unwrap_or(50.0);
    if !(0.0..=100.0).contains(&min) {
        return Err(ApiError::new(
            "invalid_parameter",
            "min_share: a percentage between 0 and 100",
        ));
    }
    for (field, c) in [("consumer", &q.consumer), ("supplier", &q.supplier)] {
        if c.len() != 3 || !c.bytes().all(|b| b.is_ascii_alphabetic()) {
            return Err(ApiError::new(
                "invalid_parameter",
                format!("{field}: an ISO 3166-1 alpha-3 code such as KOR"),
            ));
        }
    }
    let rows =
        concentration::dependence(&s.model, &q.consumer, &q.supplier, min).map_err(
            |e| match e {
                concentration::AnalysisError::UnknownCountry(c) => {
                    ApiError::new("not_found", format!("country {c} is not in the model"))
                }
                other => ApiError::new("invalid_parameter", other.to_string()),
            },
        )?;
    Ok(Json(envelope(&s.model, rows)))
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
pub struct ValueShareQuery {
    /// Comma-separated item ids or names (at least one); 404 if one is not in the model.
    #[param(pattern = "[^,\\s]")]
    pub items: String,
}

/// Value-weighted country shares over a set of items.
#[utoipa::path(get, path = "/api/v1/value-share", tag = "model", params(ValueShareQuery),
    responses((status = 200, description = "Weighted shares", body = Object), (status = 404, description = "An item is not in the model", body = crate::error::ErrorBody)), security(("bearer" = [])))]
pub async fn value_share(
    State(s): State<AppState>,
    _a: Auth,
    Query(q): Query<ValueShareQuery>,
) -> ApiResult<Json<Value>> {
    let items: Vec<String> = q
        .items
        .split(',')
        .map(|x| x.trim().to_string())
        .filter(|x| !x.is_empty())
        .collect();
    let v = concentration::value_share(&s.model, &items).map_err(|e| match e {
        concentration::AnalysisError::Lookup(l) => lookup_error(l),
        other => ApiError::new("invalid_parameter", other.to_string()),
    })?;
    Ok(Json(envelope(&s.model, v)))
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ValidateBody {
    /// The model file's text (the project's model format, as `chipwatch --model FILE`).
    pub model: String,
    /// `toml` (default) or `json` (the JSON form of the same records).
    #[schema(pattern = "^(toml|json)$")]
    pub format: Option<String>,
}

/// Check a model file (`chipwatch validate --json`): the warnings it loads with, or 422
/// naming the line and field that keep it from loading (syntax, dangling references, cycles).
#[utoipa::path(post, path = "/api/v1/model/validate", tag = "model", request_body = ValidateBody,
    responses((status = 200, description = "Counts and diagnostics of a model that loads", body = Object),
        (status = 422, description = "The model does not load; the message names line and field", body = crate::error::ErrorBody)),
    security(("bearer" = [])))]
pub async fn validate_model(
    _a: Auth,
    crate::extract::Json(b): crate::extract::Json<ValidateBody>,
) -> ApiResult<Json<Value>> {
    let json_form = match b.format.as_deref() {
        None | Some("toml") => false,
        Some("json") => true,
        Some(other) => {
            return Err(ApiError::validation(format!(
                "format: `{other}` is not toml or json"
            )))
        }
    };
    let vc = tokio::task::spawn_blocking(move || {
        if json_form {
            chipwatch_data::load_model_json_str(&b.model, "model")
        } else {
            chipwatch_data::load_model_str(&b.model, "model")
        }
    })
    .await
    .map_err(|e| ApiError::internal(&e))?
    .map_err(|e| ApiError::validation(e.to_string()))?;
    let m = vc.model();
    Ok(Json(json!({
        "items": m.items.len(), "providers": m.providers.len(), "shares": m.shares.len(),
        "stages": m.stages.len(), "diagnostics": vc.diagnostics(),
    })))
}

/// Most Monte Carlo samples one request may ask for (the CLI's default is 1000; a request has
/// 30 s).
pub const MAX_RISK_SAMPLES: u64 = 200;

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RiskBody {
    /// Number of samples (default 100).
    #[schema(minimum = 1, maximum = 200)]
    pub samples: Option<u64>,
    /// Seed: the same seed gives the same answer (default 1).
    #[schema(minimum = 0)]
    pub seed: Option<i64>,
    /// The risk configuration with the fields of the CLI's `--config` TOML file
    /// (`horizon_days`, `default`, `country`, `assumptions`; docs/scenarios.md); default: the
    /// built-in hazards.
    #[schema(value_type = Option<Object>)]
    pub config: Option<Value>,
}

/// Monte Carlo risk (`chipwatch risk --json`): random country disruptions from per-country
/// hazards, run through the scenario engine; availability per consumer with percentiles.
#[utoipa::path(post, path = "/api/v1/risk", tag = "model", request_body = RiskBody,
    responses((status = 200, description = "Risk result with provenance", body = Object),
        (status = 422, description = "A value of the configuration or the sample count is not acceptable", body = crate::error::ErrorBody)),
    security(("bearer" = [])))]
pub async fn risk(
    State(s): State<AppState>,
    _a: Auth,
    crate::extract::Json(b): crate::extract::Json<RiskBody>,
) -> ApiResult<Json<Value>> {
    use chipwatch_analysis::risk::{self, RiskConfig};
    let samples = b.samples.unwrap_or(100);
    if !(1..=MAX_RISK_SAMPLES).contains(&samples) {
        return Err(ApiError::validation(format!(
            "samples: between 1 and {MAX_RISK_SAMPLES}"
        )));
    }
    let cfg = match b.config {
        Some(v) => {
            let c: RiskConfig = serde_json::from_value(v)
                .map_err(|e| ApiError::validation(format!("config: {e}")))?;
            c.validate()
                .map_err(|e| ApiError::validation(format!("config: {e}")))?;
            c
        }
        None => RiskConfig::default(),
    };
    let seed =
        u64::try_from(b.seed.unwrap_or(1)).map_err(|_| ApiError::validation("seed: 0 or more"))?;
    let model = s.model.clone();
    let r =
        tokio::task::spawn_blocking(move || risk::monte_carlo(&model, &cfg, samples, seed, &|| {}))
            .await
            .map_err(|e| ApiError::internal(&e))?
            .map_err(|e| match e {
                chipwatch_analysis::scenario::ScenarioError::Field { .. }
                | chipwatch_analysis::scenario::ScenarioError::Parse { .. } => {
                    ApiError::validation(e.to_string())
                }
                other => ApiError::internal(&other),
            })?;
    Ok(Json(envelope(&s.model, r)))
}
