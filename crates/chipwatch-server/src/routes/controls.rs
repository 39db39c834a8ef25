//! Export-control endpoints over `chipwatch-controls`: the licence check of one shipment
//! (`/api/v1/licence/check`: per jurisdiction, with the measure, instrument, version and derived
//! values used) and restricted-party screening (`/api/v1/screening`). The former paths
//! `/api/v1/controls/determine` and `/api/v1/controls/screen` answer the same, marked deprecated.
//! The rules data are the embedded defaults, parsed once.

use crate::auth::Auth;
use crate::error::{ApiError, ApiResult};
use crate::extract::{Json, Query};
use crate::AppState;
use axum::extract::State;
use chipwatch_controls::{Date, Engine, Shipment, Value};
use chipwatch_store::determinations::{NewDeterminationRecord, RecordFilter};
use chipwatch_store::partner::Role;
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
    /// Control list entry of the item (e.g. "3B001.f"), if known: partners' denial notices for
    /// the same entry or a sub-entry match (`partner_denials`).
    #[schema(min_length = 1, max_length = 300)]
    pub control_entry: Option<String>,
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

/// Licence check: the determination per jurisdiction, with the strictest overall verdict, and
/// `partner_denials`: the partners' denial notices visible to the caller's organisation that
/// this transaction matches (same end user or consignee, matching item), each with the line
/// telling the officer to consult the issuing authority before granting.
#[utoipa::path(post, path = "/api/v1/licence/check", tag = "controls", request_body = DetermineBody,
    responses((status = 200, description = "Determination with partner_denials", body = Object), (status = 422, description = "Unknown product or bad value", body = crate::error::ErrorBody)),
    security(("bearer" = [])))]
pub async fn licence_check(
    State(s): State<AppState>,
    a: Auth,
    Json(b): Json<DetermineBody>,
) -> ApiResult<axum::Json<serde_json::Value>> {
    let p = a.require_local()?;
    if let Some(c) = b.control_entry.as_deref() {
        if c.trim().is_empty() || c.chars().count() > 300 {
            return Err(ApiError::validation(
                "control_entry: 1 to 300 characters naming a control list entry",
            ));
        }
    }
    let control_entry = b.control_entry.clone();
    let (end_user, parties, product) = (b.end_user.clone(), b.parties.clone(), b.product.clone());
    let to = b.to.trim().to_ascii_uppercase();
    let det = determination(b).await?;
    let date = det.date;
    // The organisation's licences that can cover each requirement found (grandfathering
    // applied from the measure data), from its register in the database.
    let register: Vec<_> = s
        .store
        .licences(
            p.org.id,
            &chipwatch_store::licences::LicenceFilter {
                date: Some(date),
                destination: Some(to),
                ..Default::default()
            },
        )
        .await?
        .into_iter()
        .map(|e| e.licence.record())
        .collect();
    let cover = chipwatch_controls::licence::covers(&*engine()?, &det, &register);
    let mut d = json!(det);
    d["licences"] = json!(cover);
    let t = crate::routes::denials::transaction_of(
        end_user.as_deref(),
        &parties,
        product.as_deref(),
        control_entry.as_deref(),
        date,
    );
    let matches =
        crate::routes::denials::partner_denials(&s, &p.org, &p.actor(), &*engine()?, &t).await?;
    d["partner_denials"] = json!(matches);
    Ok(axum::Json(d))
}

/// The determination of a request body, as JSON.
async fn determine_body(b: DetermineBody) -> ApiResult<serde_json::Value> {
    Ok(json!(determination(b).await?))
}

/// The determination of a request body.
async fn determination(b: DetermineBody) -> ApiResult<chipwatch_controls::Determination> {
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
    tokio::task::spawn_blocking(move || engine.determine(&shipment))
        .await
        .map_err(|e| ApiError::internal(&e))?
        .map_err(|e| ApiError::validation(e.to_string()))
}

pub use chipwatch_store::determinations::OUTCOMES;

/// A licence check to make and keep as a determination record.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RecordBody {
    /// The case the check is made for (file number, order, shipment reference).
    #[schema(min_length = 1, max_length = 200)]
    pub case: String,
    /// The shipment, as for `POST /api/v1/licence/check`.
    #[schema(value_type = DetermineBody)]
    pub shipment: serde_json::Value,
    /// An officer's different conclusion (needs `override_reason`).
    #[schema(value_type = Option<String>, pattern = "^(not_required|general_authorisation|exception_with_notification|undetermined|licence_required|prohibited)$")]
    pub override_outcome: Option<String>,
    #[schema(max_length = 2000)]
    pub override_reason: Option<String>,
}

/// Make a licence check for a case and keep it (analyst): the inputs, the whole determination
/// (verdicts, measures, rule-set version, list dates), the user, the time, an override with its
/// reason. Records are append-only and announced in the audit chain.
#[utoipa::path(post, path = "/api/v1/licence/records", tag = "controls", request_body = RecordBody,
    responses((status = 201, description = "The record", body = Object), (status = 422, description = "Bad shipment, case or override", body = crate::error::ErrorBody)),
    security(("bearer" = [])))]
pub async fn create_determination_record(
    State(s): State<AppState>,
    a: Auth,
    Json(b): Json<RecordBody>,
) -> ApiResult<(axum::http::StatusCode, axum::Json<serde_json::Value>)> {
    a.require_local()?;
    let p = a.require(Role::Analyst)?;
    if b.override_reason
        .as_deref()
        .is_some_and(|r| r.chars().count() > 2000)
    {
        return Err(ApiError::validation(
            "override_reason: at most 2000 characters",
        ));
    }
    if let Some(o) = b.override_outcome.as_deref() {
        if !OUTCOMES.contains(&o) {
            return Err(ApiError::validation(format!(
                "override_outcome: `{o}` is not one of {}",
                OUTCOMES.join(", ")
            )));
        }
    }
    let body: DetermineBody = serde_json::from_value(b.shipment.clone()).map_err(|e| {
        let msg = format!("shipment: {e}");
        if msg.contains("unknown field") {
            ApiError::new("unknown_field", msg)
        } else {
            ApiError::new("invalid_json", msg)
        }
    })?;
    let d = determine_body(body).await?;
    let outcome = d["overall"]["outcome"]
        .as_str()
        .unwrap_or("undetermined")
        .to_string();
    let ruleset = d["ruleset"]["version"].as_str().unwrap_or("").to_string();
    let r = s
        .store
        .record_determination(
            p,
            NewDeterminationRecord {
                case_ref: b.case,
                outcome,
                ruleset,
                inputs: b.shipment.to_string(),
                determination: d.to_string(),
                override_outcome: b.override_outcome,
                override_reason: b.override_reason.filter(|r| !r.trim().is_empty()),
            },
        )
        .await?;
    Ok((axum::http::StatusCode::CREATED, axum::Json(json!(r))))
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
pub struct RecordsQuery {
    /// Text in the case reference or the inputs (a party, a product, a country).
    #[param(max_length = 200)]
    pub q: Option<String>,
    /// Outcome (the engine's or an override).
    #[param(
        pattern = "^(not_required|general_authorisation|exception_with_notification|undetermined|licence_required|prohibited)$"
    )]
    pub outcome: Option<String>,
    /// From this date, YYYY-MM-DD (UTC).
    #[param(pattern = "^[1-9][0-9]{3}-(0[1-9]|1[0-2])-(0[1-9]|1[0-9]|2[0-8])$")]
    pub from: Option<String>,
    /// Until this date, YYYY-MM-DD (UTC), inclusive.
    #[param(pattern = "^[1-9][0-9]{3}-(0[1-9]|1[0-2])-(0[1-9]|1[0-9]|2[0-8])$")]
    pub until: Option<String>,
    /// json (default) or csv (for an auditor's spreadsheet).
    #[param(pattern = "^(json|csv)$")]
    pub format: Option<String>,
    #[param(minimum = 1, maximum = 10000)]
    pub limit: Option<i64>,
}

fn day(field: &str, v: &Option<String>) -> ApiResult<Option<i64>> {
    v.as_deref()
        .map(|d| {
            chipwatch_store::time::parse(d).ok_or_else(|| {
                ApiError::new(
                    "invalid_parameter",
                    format!("{field}: `{d}` is not YYYY-MM-DD"),
                )
            })
        })
        .transpose()
}

/// One CSV field, quoted when it needs to be.
fn csv_field(s: &str) -> String {
    if s.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", s.replace('"', "\"\""))
    } else {
        s.to_string()
    }
}

/// Determination records as CSV (one row per record, the shipment's main inputs as columns).
pub fn records_csv(recs: &[chipwatch_store::determinations::DeterminationRecord]) -> String {
    let mut out = String::from("id,time_utc,user,case,outcome,override_outcome,override_reason,ruleset,from,to,product,end_user\n");
    for r in recs {
        let g = |k: &str| {
            r.inputs
                .get(k)
                .and_then(|v| v.as_str())
                .unwrap_or("")
                .to_string()
        };
        let row = [
            r.id.to_string(),
            chipwatch_store::time::format(r.created_at),
            r.user_name.clone(),
            r.case_ref.clone(),
            r.outcome.clone(),
            r.override_outcome.clone().unwrap_or_default(),
            r.override_reason.clone().unwrap_or_default(),
            r.ruleset.clone(),
            g("from"),
            g("to"),
            g("product"),
            g("end_user"),
        ];
        out.push_str(
            &row.iter()
                .map(|f| csv_field(f))
                .collect::<Vec<_>>()
                .join(","),
        );
        out.push('\n');
    }
    out
}

/// The caller's organisation's determination records, newest first; `format=csv` for export.
#[utoipa::path(get, path = "/api/v1/licence/records", tag = "controls", params(RecordsQuery),
    responses((status = 200, description = "Records (JSON, or CSV with format=csv)", content((Object = "application/json"), (String = "text/csv")))),
    security(("bearer" = [])))]
pub async fn list_determination_records(
    State(s): State<AppState>,
    a: Auth,
    Query(q): Query<RecordsQuery>,
) -> ApiResult<axum::response::Response> {
    use axum::response::IntoResponse;
    let p = a.require_local()?;
    if q.q.as_deref().is_some_and(|t| t.chars().count() > 200) {
        return Err(ApiError::new(
            "invalid_parameter",
            "q: at most 200 characters",
        ));
    }
    if q.outcome.as_deref().is_some_and(|o| !OUTCOMES.contains(&o)) {
        return Err(ApiError::new(
            "invalid_parameter",
            "outcome: not an outcome",
        ));
    }
    if !matches!(q.format.as_deref(), None | Some("json") | Some("csv")) {
        return Err(ApiError::new("invalid_parameter", "format: json or csv"));
    }
    if q.limit.is_some_and(|l| !(1..=10_000).contains(&l)) {
        return Err(ApiError::new("invalid_parameter", "limit: 1 to 10000"));
    }
    let filter = RecordFilter {
        text: q.q.clone().filter(|t| !t.trim().is_empty()),
        outcome: q.outcome.clone(),
        from: day("from", &q.from)?,
        until: day("until", &q.until)?.map(|t| t + 86_399),
        limit: q.limit,
    };
    let recs = s.store.determination_records(p.org.id, &filter).await?;
    if q.format.as_deref() == Some("csv") {
        let out = records_csv(&recs);
        return Ok((
            [(axum::http::header::CONTENT_TYPE, "text/csv; charset=utf-8")],
            out,
        )
            .into_response());
    }
    Ok(axum::Json(json!({"records": recs})).into_response())
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
    s: State<AppState>,
    a: Auth,
    b: Json<DetermineBody>,
) -> ApiResult<axum::Json<serde_json::Value>> {
    licence_check(s, a, b).await
}

/// Former name of [`screening`] (deprecated, like [`determine`]).
#[utoipa::path(post, path = "/api/v1/controls/screen", tag = "controls", request_body = ScreenBody,
    responses((status = 200, description = "Hits per name (deprecated path: use /api/v1/screening)", body = Object), (status = 422, description = "Bad threshold or too many names", body = crate::error::ErrorBody)),
    security(("bearer" = [])))]
pub async fn screen(a: Auth, b: Json<ScreenBody>) -> ApiResult<axum::Json<serde_json::Value>> {
    screening(a, b).await
}
