//! Early-warning monitor endpoints: detected events and raised alerts (instance-wide: they come
//! from public news) and watchlists, which belong to an organisation.

use crate::auth::Auth;
use crate::error::{ApiError, ApiResult};
use crate::extract::{Json, Path, Query};
use crate::AppState;
use axum::extract::State;
use axum::http::StatusCode;
use chipwatch_store::monitor::EventFilter;
use chipwatch_store::partner::Role;
use serde::Deserialize;
use serde_json::{json, Value};

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
pub struct EventsQuery {
    /// Only events at or after this date, YYYY-MM-DD or YYYY-MM-DDTHH:MM:SSZ (UTC).
    #[param(
        pattern = "^[1-9][0-9]{3}-(0[1-9]|1[0-2])-(0[1-9]|1[0-9]|2[0-8])(T([01][0-9]|2[0-3]):[0-5][0-9]:[0-5][0-9]Z)?$"
    )]
    pub since: Option<String>,
    /// Event type, e.g. export_control, factory_fire.
    #[serde(rename = "type")]
    pub event_type: Option<String>,
    /// Only events judged supply-chain relevant.
    pub relevant_only: Option<bool>,
    /// At most this many (default 100).
    #[param(minimum = 1, maximum = 1000)]
    pub limit: Option<i64>,
}

fn parse_json(text: &str) -> Value {
    serde_json::from_str(text).unwrap_or(Value::Null)
}

/// Detected supply-chain events, newest first.
#[utoipa::path(get, path = "/api/v1/monitor/events", tag = "monitor", params(EventsQuery),
    responses((status = 200, description = "Events", body = Object)), security(("bearer" = [])))]
pub async fn events(
    State(s): State<AppState>,
    a: Auth,
    Query(q): Query<EventsQuery>,
) -> ApiResult<axum::Json<Value>> {
    a.require_local()?;
    let since = match &q.since {
        Some(d) => Some(chipwatch_store::time::parse(d).ok_or_else(|| {
            ApiError::new(
                "invalid_parameter",
                format!("since: `{d}` is not an ISO date"),
            )
        })?),
        None => None,
    };
    let rows = s
        .store
        .monitor_events(&EventFilter {
            since,
            event_type: q.event_type,
            relevant_only: q.relevant_only.unwrap_or(false),
            limit: Some(crate::extract::limit(q.limit)?),
        })
        .await?;
    let out: Vec<Value> = rows
        .iter()
        .map(|e| json!({
            "id": e.id, "event_time": e.event_time, "ingested_at": e.ingested_at, "event_type": e.event_type,
            "relevant": e.relevant, "cluster_id": e.cluster_id, "severity": e.severity, "title": e.title,
            "url": e.url, "event": parse_json(&e.record),
        }))
        .collect();
    Ok(axum::Json(json!({"events": out})))
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
pub struct AlertsQuery {
    /// At most this many (default 100).
    #[param(minimum = 1, maximum = 1000)]
    pub limit: Option<i64>,
}

/// Raised alerts, newest first.
#[utoipa::path(get, path = "/api/v1/monitor/alerts", tag = "monitor", params(AlertsQuery),
    responses((status = 200, description = "Alerts", body = Object)), security(("bearer" = [])))]
pub async fn alerts(
    State(s): State<AppState>,
    a: Auth,
    Query(q): Query<AlertsQuery>,
) -> ApiResult<axum::Json<Value>> {
    a.require_local()?;
    let rows = s
        .store
        .monitor_recent_alerts(crate::extract::limit(q.limit)?)
        .await?;
    let out: Vec<Value> = rows
        .iter()
        .map(|r| json!({"id": r.id, "article_id": r.article_id, "watch": r.watch, "created_at": r.created_at,
                        "delivered_at": r.delivered_at, "alert": parse_json(&r.payload)}))
        .collect();
    Ok(axum::Json(json!({"alerts": out})))
}

/// Watchlists of the caller's organisation.
#[utoipa::path(get, path = "/api/v1/monitor/watchlists", tag = "monitor",
    responses((status = 200, description = "Watchlists", body = Object)), security(("bearer" = [])))]
pub async fn list_watchlists(State(s): State<AppState>, a: Auth) -> ApiResult<axum::Json<Value>> {
    let p = a.require_local()?;
    Ok(axum::Json(
        json!({"watchlists": s.store.watchlists_of(p.org.id).await?}),
    ))
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct WatchlistBody {
    #[schema(min_length = 1)]
    pub name: String,
    /// The watchlist in the monitor's TOML format (docs/monitor.md); checked against the model.
    pub config: String,
}

/// Save a watchlist (analyst); it is validated against the model first.
#[utoipa::path(post, path = "/api/v1/monitor/watchlists", tag = "monitor", request_body = WatchlistBody,
    responses((status = 201, description = "Saved", body = Object), (status = 422, description = "Invalid watchlist", body = crate::error::ErrorBody)),
    security(("bearer" = [])))]
pub async fn save_watchlist(
    State(s): State<AppState>,
    a: Auth,
    Json(b): Json<WatchlistBody>,
) -> ApiResult<(StatusCode, axum::Json<Value>)> {
    a.require_local()?;
    let p = a.require(Role::Analyst)?;
    if b.config.len() > 256 * 1024 {
        return Err(ApiError::validation("config: at most 256 KiB"));
    }
    chipwatch_monitor::alert::Watchlist::from_toml_str(&b.config, "config", &s.model)
        .map_err(|e| ApiError::validation(e.to_string()))?;
    let w = s.store.save_watchlist(p, &b.name, &b.config).await?;
    Ok((StatusCode::CREATED, axum::Json(json!(w))))
}

/// One watchlist of the caller's organisation.
#[utoipa::path(get, path = "/api/v1/monitor/watchlists/{id}", tag = "monitor",
    params(("id" = i64, Path, description = "Watchlist id")),
    responses((status = 200, description = "Watchlist", body = Object), (status = 404, description = "Missing or not yours", body = crate::error::ErrorBody)),
    security(("bearer" = [])))]
pub async fn get_watchlist(
    State(s): State<AppState>,
    a: Auth,
    Path(id): Path<i64>,
) -> ApiResult<axum::Json<Value>> {
    let p = a.require_local()?;
    let w = s
        .store
        .watchlist(p.org.id, id)
        .await?
        .ok_or_else(|| ApiError::not_found("watchlist"))?;
    Ok(axum::Json(json!(w)))
}

/// Most articles one classification request may carry.
pub const MAX_CLASSIFY_ARTICLES: usize = 100;

/// One news item to classify (the fields a feed or file reader finds).
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ClassifyArticle {
    pub title: String,
    /// The text, or HTML when `is_html` is true.
    pub body: String,
    #[serde(default)]
    pub is_html: bool,
    pub url: Option<String>,
    /// Publication time (RFC 3339), if the source gives one.
    pub published_at: Option<String>,
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ClassifyBody {
    #[schema(min_items = 1, max_items = 100)]
    pub articles: Vec<ClassifyArticle>,
    /// Cluster time window in hours (default as the CLI's `--window-hours`).
    #[schema(minimum = 1, maximum = 8760)]
    pub window_hours: Option<i64>,
}

/// Classify news items without storing them (`chipwatch monitor classify --json`): language,
/// event type, linked model items and countries, relevance, severity, cluster.
#[utoipa::path(post, path = "/api/v1/monitor/classify", tag = "monitor", request_body = ClassifyBody,
    responses((status = 200, description = "One classification per article, in order", body = Object),
        (status = 422, description = "No articles, too many, or a bad window", body = crate::error::ErrorBody)),
    security(("bearer" = [])))]
pub async fn classify(
    State(s): State<AppState>,
    _a: Auth,
    Json(b): Json<ClassifyBody>,
) -> ApiResult<axum::Json<Value>> {
    use chipwatch_monitor::cluster::{Clusterer, DEFAULT_WINDOW_HOURS};
    use chipwatch_monitor::{Article, Classifier, RawArticle};
    if b.articles.is_empty() || b.articles.len() > MAX_CLASSIFY_ARTICLES {
        return Err(ApiError::validation(format!(
            "articles: between 1 and {MAX_CLASSIFY_ARTICLES}"
        )));
    }
    let window = b.window_hours.unwrap_or(DEFAULT_WINDOW_HOURS);
    if !(1..=8760).contains(&window) {
        return Err(ApiError::validation("window_hours: between 1 and 8760"));
    }
    let model = s.model.clone();
    let results = tokio::task::spawn_blocking(move || {
        let classifier = Classifier::new(&model)?;
        let mut clusterer = Clusterer::new(window);
        let out: Vec<Value> = b
            .articles
            .into_iter()
            .enumerate()
            .map(|(i, a)| {
                let mut raw = RawArticle::new(format!("request#{i}"));
                raw.title = a.title;
                raw.body = a.body;
                raw.is_html = a.is_html;
                raw.url = a.url;
                raw.published_at = a.published_at;
                let art = Article::from_raw(raw);
                let mut c = classifier.classify(&art);
                c.cluster_id = Some(clusterer.assign(&c, &art.text));
                json!({"classification": c, "warnings": art.warnings})
            })
            .collect();
        Ok::<_, chipwatch_monitor::MonitorError>(out)
    })
    .await
    .map_err(|e| ApiError::internal(&e))?
    .map_err(|e| ApiError::internal(&e))?;
    Ok(axum::Json(json!({"results": results})))
}

/// Analyst feedback on an event.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct FeedbackBody {
    /// correct, duplicate, irrelevant, wrong_entity or wrong_type.
    #[schema(pattern = "^(correct|duplicate|irrelevant|wrong_entity|wrong_type)$")]
    pub verdict: String,
    /// The right event type (with wrong_type only).
    pub event_type: Option<String>,
    /// The entity that is wrong (with wrong_entity), e.g. "country JPN".
    #[schema(max_length = 2000)]
    pub entity: Option<String>,
    /// The event this one duplicates (with duplicate only).
    pub duplicate_of: Option<i64>,
    #[schema(max_length = 2000)]
    pub note: Option<String>,
}

/// The store's form of a feedback body.
pub fn new_feedback(
    id: i64,
    b: FeedbackBody,
) -> ApiResult<chipwatch_store::monitor_feedback::NewFeedback> {
    use chipwatch_store::monitor_feedback::{NewFeedback, Verdict};
    let verdict = Verdict::parse(&b.verdict).ok_or_else(|| {
        ApiError::validation(format!(
            "verdict: `{}` is not one of correct, duplicate, irrelevant, wrong_entity, wrong_type",
            b.verdict
        ))
    })?;
    Ok(NewFeedback {
        article_id: id,
        verdict,
        event_type: b.event_type,
        entity: b.entity.filter(|e| !e.trim().is_empty()),
        duplicate_of: b.duplicate_of,
        note: b.note.filter(|n| !n.trim().is_empty()),
    })
}

/// Mark an event (analyst): correct, a duplicate, irrelevant, a wrong entity or the wrong type.
/// Marks belong to the caller's organisation and are audited.
#[utoipa::path(post, path = "/api/v1/monitor/events/{id}/feedback", tag = "monitor",
    params(("id" = i64, Path, description = "Event id")), request_body = FeedbackBody,
    responses((status = 201, description = "Stored", body = Object), (status = 404, description = "No such event", body = crate::error::ErrorBody), (status = 422, description = "A value does not fit the verdict", body = crate::error::ErrorBody)),
    security(("bearer" = [])))]
pub async fn add_feedback(
    State(s): State<AppState>,
    a: Auth,
    Path(id): Path<i64>,
    Json(b): Json<FeedbackBody>,
) -> ApiResult<(StatusCode, axum::Json<Value>)> {
    a.require_local()?;
    let p = a.require(Role::Analyst)?;
    let f = s
        .store
        .monitor_add_feedback(
            p,
            new_feedback(id, b)?,
            chipwatch_monitor::gazetteer::EVENT_TYPES,
        )
        .await?;
    Ok((StatusCode::CREATED, axum::Json(json!(f))))
}

/// The caller's organisation's marks, newest first, and the labels they give (latest mark per
/// event: `relevant` and `event_type` as an evaluation set would have them).
#[utoipa::path(get, path = "/api/v1/monitor/feedback", tag = "monitor",
    responses((status = 200, description = "Marks and labels", body = Object)), security(("bearer" = [])))]
pub async fn list_feedback(State(s): State<AppState>, a: Auth) -> ApiResult<axum::Json<Value>> {
    let p = a.require_local()?;
    let marks = s.store.monitor_feedback_of(p.org.id, None).await?;
    let labels: Vec<Value> = s
        .store
        .monitor_feedback_labels(p.org.id)
        .await?
        .iter()
        .map(|l| {
            let (relevant, event_type) = chipwatch_monitor::eval::label_from_feedback(
                l.feedback.verdict.as_str(),
                l.feedback.event_type.as_deref(),
                l.predicted_relevant,
                &l.predicted_type,
            );
            json!({"event_id": l.feedback.article_id, "language": l.language, "title": l.title,
                   "relevant": relevant, "event_type": event_type, "verdict": l.feedback.verdict,
                   "predicted": {"relevant": l.predicted_relevant, "event_type": l.predicted_type}})
        })
        .collect();
    Ok(axum::Json(json!({"feedback": marks, "labels": labels})))
}
