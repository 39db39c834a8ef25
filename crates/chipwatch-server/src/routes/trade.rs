//! Trade statistics under `/api/v1/trade` (issue 16): the dataset's summary, the dependency
//! indicators, one importer's partners over time, bilateral dependence, short-term alerts and
//! the chip trade matrix, computed by `chipwatch_trade` on the embedded DataFusion engine over
//! the dataset the server was started with (`chipwatch serve --trade DIR`). Without one, every
//! endpoint answers 404 `not_found` saying so.
//!
//! Every answer carries its provenance: dataset, source, vintage, scope and method (the formulas
//! are in `docs/trade.md`). The parameters are checked before they reach SQL
//! (`chipwatch_trade::indicators::Scope::validate`, `country`).

use crate::auth::Auth;
use crate::error::{ApiError, ApiResult};
use crate::extract::Query;
use crate::AppState;
use axum::extract::State;
use axum::http::header::CONTENT_TYPE;
use axum::response::{IntoResponse, Response};
use chipwatch_trade::engine::{Engine, Table};
use chipwatch_trade::hs::Mapping;
use chipwatch_trade::indicators::{self as ind, AlertSettings, DependenceThresholds, Scope};
use chipwatch_trade::TradeError;
use serde::Deserialize;
use serde_json::{json, Value};

/// The dataset a server answers trade questions from.
pub struct TradeData {
    pub engine: Engine,
    pub mapping: Mapping,
    /// Vintage the operator gave (`--trade-vintage`), shown with every number.
    pub vintage: Option<String>,
}

impl std::fmt::Debug for TradeData {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TradeData")
            .field("dir", &self.engine.dir())
            .finish()
    }
}

/// Largest number of rows one answer carries (`truncated` says when there were more).
pub const MAX_ROWS: usize = 5000;

pub(crate) fn data(s: &AppState) -> ApiResult<&TradeData> {
    s.trade.as_deref().ok_or_else(|| {
        ApiError::new(
            "not_found",
            "no trade dataset is loaded on this server (start it with `chipwatch serve --trade DIR`; docs/trade.md)",
        )
    })
}

pub(crate) fn trade_err(e: TradeError) -> ApiError {
    match e {
        TradeError::Invalid(m) => ApiError::new("invalid_parameter", m),
        e => ApiError::internal(&e),
    }
}

/// Which rows an indicator reads (the scope fields every trade query takes).
#[derive(Debug, Default, Clone)]
pub struct ScopeQuery {
    pub source: Option<String>,
    pub level: Option<usize>,
    pub code: Option<String>,
    pub from_year: Option<i32>,
    pub to_year: Option<i32>,
}

/// A query struct with the scope fields appended (serde's `flatten` cannot be used: it turns
/// off `deny_unknown_fields` and reads numbers of a query string as strings).
macro_rules! with_scope {
    ($(#[$m:meta])* pub struct $name:ident { $($(#[$fm:meta])* pub $f:ident : $t:ty,)* }) => {
        $(#[$m])*
        pub struct $name {
            $($(#[$fm])* pub $f: $t,)*
            /// baci, comtrade or comext (default: the dataset's only source).
            #[param(pattern = "^(baci|comtrade|comext)$")]
            pub source: Option<String>,
            /// Code level in digits (default 6).
            #[param(minimum = 2, maximum = 12)]
            pub level: Option<usize>,
            /// Code prefixes, comma-separated (dots allowed: 8486.20,8112.92).
            #[param(pattern = "^([0-9]{1,12}|[0-9]{1,4}(\\.[0-9]{1,4}){1,2})(,([0-9]{1,12}|[0-9]{1,4}(\\.[0-9]{1,4}){1,2})){0,49}$")]
            pub code: Option<String>,
            /// First year.
            #[param(minimum = 1900, maximum = 2200)]
            pub from_year: Option<i32>,
            /// Last year.
            #[param(minimum = 1900, maximum = 2200)]
            pub to_year: Option<i32>,
        }

        impl $name {
            /// The scope fields.
            pub fn scope_query(&self) -> ScopeQuery {
                ScopeQuery {
                    source: self.source.clone(),
                    level: self.level,
                    code: self.code.clone(),
                    from_year: self.from_year,
                    to_year: self.to_year,
                }
            }
        }
    };
}

impl ScopeQuery {
    pub(crate) async fn scope(&self, e: &Engine) -> ApiResult<Scope> {
        let source = e
            .source_or_only(self.source.as_deref())
            .await
            .map_err(|e| match e {
                TradeError::Invalid(m) => {
                    ApiError::new("invalid_parameter", format!("source: {m}"))
                }
                e => ApiError::internal(&e),
            })?;
        let bad = |m: String| ApiError::new("invalid_parameter", m);
        for (name, y) in [("from_year", self.from_year), ("to_year", self.to_year)] {
            if y.is_some_and(|y| !(1900..=2200).contains(&y)) {
                return Err(bad(format!("{name}: between 1900 and 2200")));
            }
        }
        let codes = match &self.code {
            None => Vec::new(),
            Some(c) => {
                let parts: Vec<&str> = c.split(',').collect();
                if parts.len() > 50
                    || parts.iter().any(|p| {
                        let digits = p.bytes().filter(u8::is_ascii_digit).count();
                        !(1..=12).contains(&digits)
                            || !p.bytes().all(|b| b.is_ascii_digit() || b == b'.')
                    })
                {
                    return Err(bad(format!(
                        "code: `{c}` is not a list of up to 50 HS code prefixes (digits and dots, comma-separated)"
                    )));
                }
                parts.iter().map(|p| p.replace('.', "")).collect()
            }
        };
        let scope = Scope {
            source,
            level: self.level.unwrap_or(6),
            codes,
            years: match (self.from_year, self.to_year) {
                (None, None) => None,
                (a, b) => Some((a.unwrap_or(1900), b.unwrap_or(2200))),
            },
        };
        scope.validate().map_err(trade_err)?;
        Ok(scope)
    }
}

/// An ISO 3166-1 alpha-3 code of a real country (a typo is an error naming the field and the
/// nearest codes, never an empty answer that reads as "no trade").
fn iso(field: &str, v: Option<&str>) -> ApiResult<Option<String>> {
    v.map(|c| {
        chipwatch_controls::country::check(field, c)
            .map_err(|e| ApiError::new("invalid_parameter", e.to_string()))
    })
    .transpose()
}

fn provenance(d: &TradeData, scope: &Scope, method: &str) -> Value {
    json!({
        "dataset": d.engine.dir().file_name().map(|n| n.to_string_lossy().to_string()),
        "source": scope.source,
        "vintage": d.vintage,
        "scope": {
            "level": scope.level,
            "codes": scope.codes,
            "years": scope.years.map(|(a, b)| json!([a, b])),
        },
        "method": method,
        "formulas": "docs/trade.md",
        "hs_mapping": "data/hs/mapping.toml",
    })
}

async fn rows(e: &Engine, sql: &str) -> ApiResult<(Vec<serde_json::Map<String, Value>>, bool)> {
    fetch(e, sql, false).await
}

/// [`rows`]; `selective` for a query that keeps one importer's rows, which runs with its filters
/// inside the Parquet scan ([`Engine::query_selective`], as the CLI does).
async fn fetch(
    e: &Engine,
    sql: &str,
    selective: bool,
) -> ApiResult<(Vec<serde_json::Map<String, Value>>, bool)> {
    // One row past the cap says whether there were more, without converting them all.
    let limited = format!("SELECT * FROM ({sql}) q LIMIT {}", MAX_ROWS + 1);
    let t: Table = if selective {
        e.query_selective(&limited).await
    } else {
        e.query(&limited).await
    }
    .map_err(trade_err)?;
    let mut r = t.to_records();
    let truncated = r.len() > MAX_ROWS;
    r.truncate(MAX_ROWS);
    Ok((r, truncated))
}

/// What the trade dataset holds: sources, years, rows.
#[utoipa::path(get, path = "/api/v1/trade", tag = "trade", operation_id = "trade_summary",
    responses((status = 200, description = "Summary of the loaded dataset", body = Object),
        (status = 404, description = "No trade dataset is loaded", body = crate::error::ErrorBody)),
    security(("bearer" = [])))]
pub async fn summary(State(s): State<AppState>, _a: Auth) -> ApiResult<axum::Json<Value>> {
    let d = data(&s)?;
    let (r, _) = rows(
        &d.engine,
        "SELECT source, MIN(year) AS first_year, MAX(year) AS last_year, COUNT(*) AS rows, \
         COUNT(DISTINCT reporter) AS reporters, COUNT(DISTINCT code) AS codes, \
         MIN(vintage) AS vintage FROM trade GROUP BY source ORDER BY source",
    )
    .await?;
    Ok(axum::Json(json!({
        "dataset": d.engine.dir().file_name().map(|n| n.to_string_lossy().to_string()),
        "vintage": d.vintage,
        "sources": r,
        "hs_mapping": {"nomenclature": d.mapping.meta.nomenclature, "codes": d.mapping.codes.len()},
    })))
}

with_scope! {
/// Which dependency indicator.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
pub struct DependenceQuery {
    /// flag (GeoDep strategic dependency, default), imports (import concentration), exports
    /// (world export concentration) or ratio (imports over exports).
    #[param(pattern = "^(flag|imports|exports|ratio)$")]
    pub indicator: Option<String>,
    /// Importing country, ISO alpha-3 (flag, imports).
    #[param(pattern = "^[A-Z]{3}$")]
    pub importer: Option<String>,
    /// Only rows flagged dependent (flag).
    pub only_dependent: Option<bool>,
    /// Import HHI threshold, 0–10,000 (default 4000).
    #[param(minimum = 0, maximum = 10000)]
    pub import_hhi: Option<f64>,
    /// World export HHI threshold, 0–10,000 (default 4000).
    #[param(minimum = 0, maximum = 10000)]
    pub export_hhi: Option<f64>,
    /// Imports-over-exports threshold (default 1).
    #[param(minimum = 0, maximum = 1000000)]
    pub ratio: Option<f64>,
}
}

fn threshold(name: &str, v: Option<f64>, default: f64, max: f64) -> ApiResult<f64> {
    match v {
        None => Ok(default),
        Some(x) if x.is_finite() && (0.0..=max).contains(&x) => Ok(x),
        Some(_) => Err(ApiError::new(
            "invalid_parameter",
            format!("{name}: between 0 and {max}"),
        )),
    }
}

/// Dependency indicators: the strategic-dependency flag with its three criteria, import or
/// world export concentration (HHI on the 0–10,000 scale, top partners), imports over exports.
#[utoipa::path(get, path = "/api/v1/trade/dependence", tag = "trade", operation_id = "trade_dependence", params(DependenceQuery),
    responses((status = 200, description = "Indicator rows with provenance", body = Object),
        (status = 404, description = "No trade dataset is loaded", body = crate::error::ErrorBody)),
    security(("bearer" = [])))]
pub async fn dependence(
    State(s): State<AppState>,
    _a: Auth,
    Query(q): Query<DependenceQuery>,
) -> ApiResult<axum::Json<Value>> {
    let d = data(&s)?;
    let scope = q.scope_query().scope(&d.engine).await?;
    let importer = iso("importer", q.importer.as_deref())?;
    let importer = importer.as_deref();
    let indicator = q.indicator.as_deref().unwrap_or("flag");
    let th = DependenceThresholds {
        import_hhi: threshold("import_hhi", q.import_hhi, 4000.0, 10000.0)?,
        export_hhi: threshold("export_hhi", q.export_hhi, 4000.0, 10000.0)?,
        ratio: threshold("ratio", q.ratio, 1.0, 1e6)?,
        ..Default::default()
    };
    let (sql, method) = match indicator {
        "flag" => {
            let q0 = ind::dependence(&scope, importer, &th).map_err(trade_err)?;
            let sql = if q.only_dependent.unwrap_or(false) {
                format!("SELECT * FROM ({q0}) d WHERE dependent")
            } else {
                q0
            };
            (sql, "GeoDep strategic dependency (CEPII): import HHI, world export HHI and imports over exports over their thresholds in at least two of three years")
        }
        "imports" => (
            ind::import_concentration(&scope, importer).map_err(trade_err)?,
            "import concentration: HHI of partner shares, 0-10,000",
        ),
        "exports" => (
            ind::export_concentration(&scope).map_err(trade_err)?,
            "world export concentration: HHI of exporter shares, 0-10,000",
        ),
        "ratio" => (
            ind::imports_over_exports(&scope).map_err(trade_err)?,
            "imports over exports (9999 when the country exports nothing)",
        ),
        other => {
            return Err(ApiError::new(
                "invalid_parameter",
                format!("indicator: `{other}` is not flag, imports, exports or ratio"),
            ))
        }
    };
    let selective = importer.is_some() && indicator != "flag";
    let (r, truncated) = fetch(&d.engine, &sql, selective).await?;
    Ok(axum::Json(json!({
        "indicator": indicator,
        "thresholds": (indicator == "flag").then_some(th),
        "provenance": provenance(d, &scope, method),
        "rows": r,
        "truncated": truncated,
    })))
}

with_scope! {
/// One importer and one exporter.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
pub struct BilateralQuery {
    /// Importing country, ISO alpha-3.
    #[param(pattern = "^[A-Z]{3}$")]
    pub importer: String,
    /// Exporting country, ISO alpha-3.
    #[param(pattern = "^[A-Z]{3}$")]
    pub exporter: String,
    /// Per month instead of per year.
    pub monthly: Option<bool>,
}
}

with_scope! {
/// One importer (and optionally one of its partners).
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
pub struct PartnersQuery {
    /// Importing country, ISO alpha-3.
    #[param(pattern = "^[A-Z]{3}$")]
    pub importer: String,
    /// Only this exporting country, ISO alpha-3.
    #[param(pattern = "^[A-Z]{3}$")]
    pub exporter: Option<String>,
}
}

/// One importer's imports from one exporter over time: value, the importer's imports and the
/// exporter's share, per code and year (or month).
#[utoipa::path(get, path = "/api/v1/trade/bilateral", tag = "trade", operation_id = "trade_bilateral", params(BilateralQuery),
    responses((status = 200, description = "Bilateral dependence over time", body = Object),
        (status = 404, description = "No trade dataset is loaded", body = crate::error::ErrorBody)),
    security(("bearer" = [])))]
pub async fn bilateral(
    State(s): State<AppState>,
    _a: Auth,
    Query(q): Query<BilateralQuery>,
) -> ApiResult<axum::Json<Value>> {
    let d = data(&s)?;
    let scope = q.scope_query().scope(&d.engine).await?;
    let imp = iso("importer", Some(&q.importer))?.unwrap_or_default();
    let exp = iso("exporter", Some(&q.exporter))?.unwrap_or_default();
    let sql = ind::bilateral_dependence(&scope, &imp, &exp, q.monthly.unwrap_or(false))
        .map_err(trade_err)?;
    let (r, truncated) = fetch(&d.engine, &sql, true).await?;
    Ok(axum::Json(json!({
        "provenance": provenance(d, &scope, "bilateral dependence: the exporter's share of the importer's imports"),
        "rows": r,
        "truncated": truncated,
    })))
}

/// One importer's partners per year: value and share of the importer's imports of the codes in
/// the scope.
#[utoipa::path(get, path = "/api/v1/trade/partners", tag = "trade", operation_id = "trade_partners", params(PartnersQuery),
    responses((status = 200, description = "Partner shares per year", body = Object),
        (status = 404, description = "No trade dataset is loaded", body = crate::error::ErrorBody)),
    security(("bearer" = [])))]
pub async fn partners(
    State(s): State<AppState>,
    _a: Auth,
    Query(q): Query<PartnersQuery>,
) -> ApiResult<axum::Json<Value>> {
    let d = data(&s)?;
    let scope = q.scope_query().scope(&d.engine).await?;
    let imp = iso("importer", Some(&q.importer))?.unwrap_or_default();
    let mut sql = ind::partner_shares(&scope, &imp).map_err(trade_err)?;
    // The exporter filter goes into the query, before the row cap (filtering the capped rows
    // could drop the exporter's years).
    if let Some(exp) = iso("exporter", q.exporter.as_deref())? {
        sql = format!("SELECT * FROM ({sql}) p WHERE exporter = '{exp}' ORDER BY year");
    }
    // One importer's rows: filtered inside the scan.
    let (r, truncated) = fetch(&d.engine, &sql, true).await?;
    Ok(axum::Json(json!({
        "provenance": provenance(d, &scope, "partner shares: each exporter's share of the importer's imports per year"),
        "rows": r,
        "truncated": truncated,
    })))
}

with_scope! {
/// Settings of the alert test.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
pub struct AlertsQuery {
    /// Importing country, ISO alpha-3.
    #[param(pattern = "^[A-Z]{3}$")]
    pub importer: Option<String>,
    /// Robust z-score threshold (default 3.5).
    #[param(minimum = 0.5, maximum = 100)]
    pub threshold: Option<f64>,
    /// Months of history for the median and MAD (default 36).
    #[param(minimum = 12, maximum = 120)]
    pub window: Option<usize>,
    /// Smallest year-on-year change that can alert, as a ratio (default 1.5).
    #[param(minimum = 1.01, maximum = 1000)]
    pub min_change: Option<f64>,
    /// Only alerts in this year or later.
    #[param(minimum = 1900, maximum = 2200)]
    pub since_year: Option<i32>,
}
}

/// Short-term alerts: flows that stop or collapse, import surges, surges with unit-price drops
/// (robust year-on-year test against the previous 36 months), newest first, each with the model
/// items of its code, the exporter's share of the importer's imports and a sentence.
#[utoipa::path(get, path = "/api/v1/trade/alerts", tag = "trade", operation_id = "trade_alerts", params(AlertsQuery),
    responses((status = 200, description = "Alerts with provenance", body = Object),
        (status = 404, description = "No trade dataset is loaded", body = crate::error::ErrorBody)),
    security(("bearer" = [])))]
pub async fn alerts(
    State(s): State<AppState>,
    _a: Auth,
    Query(q): Query<AlertsQuery>,
) -> ApiResult<axum::Json<Value>> {
    let d = data(&s)?;
    let (scope, settings) = alert_settings(d, &q).await?;
    let list = alert_list(d, &scope, &settings, &q).await?;
    let truncated = list.len() > MAX_ROWS;
    let list: Vec<Value> = list.into_iter().take(MAX_ROWS).collect();
    Ok(axum::Json(json!({
        "settings": settings,
        "provenance": provenance(d, &scope, "robust year-on-year test: median and MAD of the previous changes; stops after twelve months with trade"),
        "alerts": list,
        "truncated": truncated,
    })))
}

pub(crate) async fn alert_settings(
    d: &TradeData,
    q: &AlertsQuery,
) -> ApiResult<(Scope, AlertSettings)> {
    let scope = q.scope_query().scope(&d.engine).await?;
    iso("importer", q.importer.as_deref())?;
    if q.since_year.is_some_and(|y| !(1900..=2200).contains(&y)) {
        return Err(ApiError::new(
            "invalid_parameter",
            "since_year: between 1900 and 2200",
        ));
    }
    let window = q.window.unwrap_or(36);
    if !(12..=120).contains(&window) {
        return Err(ApiError::new(
            "invalid_parameter",
            "window: between 12 and 120 months",
        ));
    }
    let threshold = q.threshold.unwrap_or(3.5);
    if !(threshold.is_finite() && (0.5..=100.0).contains(&threshold)) {
        return Err(ApiError::new(
            "invalid_parameter",
            "threshold: between 0.5 and 100",
        ));
    }
    let min_change = q.min_change.unwrap_or(1.5);
    if !(min_change.is_finite() && (1.01..=1000.0).contains(&min_change)) {
        return Err(ApiError::new(
            "invalid_parameter",
            "min_change: between 1.01 and 1000",
        ));
    }
    Ok((
        scope,
        AlertSettings {
            threshold,
            window,
            min_history: (window * 2 / 3).max(1),
            min_log_change: min_change.ln(),
            ..Default::default()
        },
    ))
}

/// Alerts as JSON, newest first, each with its sentence.
pub(crate) async fn alert_list(
    d: &TradeData,
    scope: &Scope,
    settings: &AlertSettings,
    q: &AlertsQuery,
) -> ApiResult<Vec<Value>> {
    let mut list = ind::alerts(
        &d.engine,
        scope,
        q.importer.as_deref(),
        settings,
        Some(&d.mapping),
    )
    .await
    .map_err(trade_err)?;
    if let Some(y) = q.since_year {
        list.retain(|a| a.year >= y);
    }
    list.reverse();
    Ok(list
        .into_iter()
        .map(|a| {
            let sig = trade_signal(&a, &d.mapping, &scope.source, d.vintage.as_deref());
            let mut v = json!(a);
            if let Some(o) = v.as_object_mut() {
                o.insert("summary".into(), json!(sig.summary()));
                o.insert("severity".into(), json!(sig.severity()));
                o.insert("label".into(), json!(sig.label));
            }
            v
        })
        .collect())
}

/// A trade alert as the monitor's trade signal (also used by `chipwatch trade alerts --db`).
pub fn trade_signal(
    a: &ind::Alert,
    mapping: &Mapping,
    dataset: &str,
    vintage: Option<&str>,
) -> chipwatch_monitor::trade::TradeSignal {
    chipwatch_monitor::trade::TradeSignal {
        kind: a.kind.clone(),
        importer: a.importer.clone(),
        exporter: a.exporter.clone(),
        code: a.code.clone(),
        label: mapping.entries_of(&a.code).first().map(|e| e.label.clone()),
        year: a.year,
        month: a.month,
        value: a.value,
        value_year_before: a.value_year_before,
        currency: a.currency.clone(),
        log_change: a.log_change,
        z: a.z,
        share_of_imports: a.share_of_imports,
        items: a.items.clone(),
        dataset: dataset.to_string(),
        vintage: vintage.map(str::to_string),
    }
}

with_scope! {
/// The chip trade matrix's format.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
pub struct MatrixQuery {
    /// json (default) or csv (the file `scenario run --trade-matrix` loads).
    #[param(pattern = "^(json|csv)$")]
    pub format: Option<String>,
}
}

/// The bilateral chip trade matrix for the scenario engine: value per segment (through the HS
/// mapping), exporter and importer, summed over the scope's years.
#[utoipa::path(get, path = "/api/v1/trade/matrix", tag = "trade", operation_id = "trade_matrix", params(MatrixQuery),
    responses((status = 200, description = "The matrix as JSON, or CSV with format=csv",
            content((Object = "application/json"), (String = "text/csv"))),
        (status = 404, description = "No trade dataset is loaded", body = crate::error::ErrorBody)),
    security(("bearer" = [])))]
pub async fn matrix(
    State(s): State<AppState>,
    _a: Auth,
    Query(q): Query<MatrixQuery>,
) -> ApiResult<Response> {
    let d = data(&s)?;
    let scope = q.scope_query().scope(&d.engine).await?;
    let sql = ind::matrix(&scope, &d.mapping).map_err(trade_err)?;
    let t = d.engine.query(&sql).await.map_err(trade_err)?;
    match q.format.as_deref() {
        None | Some("json") => Ok(axum::Json(json!({
            "provenance": provenance(d, &scope, "chip trade matrix: HS chip codes assigned to segments by data/hs/mapping.toml"),
            "rows": t.to_records(),
        }))
        .into_response()),
        Some("csv") => Ok(([(CONTENT_TYPE, "text/csv; charset=utf-8")], t.to_csv()).into_response()),
        Some(f) => Err(ApiError::new(
            "invalid_parameter",
            format!("format: `{f}` is not json or csv"),
        )),
    }
}
