//! The licence register of the caller's organisation (issue 17): list and filter it, register a
//! licence, look at one on a date (state, timeline, draw-down), draw a shipment down, record an
//! event, and see what a proposed event would take away before recording it.
//!
//! The rules are `chipwatch_controls::licence`'s and the persistence `chipwatch_store::licences`';
//! this module turns requests into their inputs and their answers into JSON (and CSV). Viewers
//! read (the impact of a proposed event is a read: nothing is recorded); analysts and admins
//! write. Another organisation's licence is 404, like any tenant object.

use crate::auth::Auth;
use crate::error::{ApiError, ApiResult, ErrorDetail};
use crate::extract::{Json, Path, Query};
use crate::AppState;
use axum::extract::State;
use axum::http::header::{CONTENT_TYPE, LOCATION};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use chipwatch_controls::licence::{EventImpact, Licence, LicenceEvent, Refusal, ShipmentDraw};
use chipwatch_controls::Date;
use chipwatch_store::licences::{
    status_name, today, Drawn, LicenceFilter, StoredLicence, STATUSES,
};
use chipwatch_store::partner::Role;
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};
use std::collections::BTreeMap;

// ---------------------------------------------------------------------------------------------
// Schemas of the OpenAPI document. The bodies are read as the controls crate's own types
// (`Licence`, `ShipmentDraw`, `LicenceEvent`); these describe the same shapes for clients.

/// One item line of a licence.
#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
#[allow(dead_code)]
pub struct LicenceItemBody {
    /// Line id, unique within the licence.
    #[schema(min_length = 1)]
    id: String,
    description: String,
    /// Catalogue product.
    product: Option<String>,
    /// Control list entry (ECCN, Annex I entry...).
    control_entry: Option<String>,
    /// Quantity ceiling (units); absent: none.
    #[schema(minimum = 0)]
    quantity: Option<f64>,
    /// Value ceiling of the line.
    #[schema(minimum = 0)]
    value: Option<f64>,
}

/// The measure and version a licence answers.
#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
#[allow(dead_code)]
pub struct LegalBasisBody {
    measure_id: String,
    version: String,
}

/// A licence as granted. Events and shipments are recorded afterwards, through their own
/// endpoints (a field `event` or `shipment` is refused as unknown).
#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
#[allow(dead_code)]
pub struct LicenceBody {
    /// Unique within the organisation's register.
    #[schema(min_length = 1, max_length = 100)]
    number: String,
    #[schema(min_length = 1, max_length = 300)]
    authority: String,
    /// ISO 3166-1 alpha-3 of the issuing state, or EU.
    #[schema(pattern = "^([A-Z]{3}|EU)$")]
    jurisdiction: String,
    #[schema(pattern = "^(individual|global|general_bulk|exception_use)$")]
    kind: String,
    /// The exporter.
    #[schema(min_length = 1, max_length = 300)]
    holder: String,
    #[serde(default)]
    consignees: Vec<String>,
    #[serde(default)]
    end_users: Vec<String>,
    #[schema(min_items = 1)]
    items: Vec<LicenceItemBody>,
    /// ISO 3166-1 alpha-3 destinations.
    destinations: Vec<String>,
    #[schema(minimum = 0)]
    value_ceiling: Option<f64>,
    currency: Option<String>,
    #[schema(pattern = "^[1-9][0-9]{3}-(0[1-9]|1[0-2])-(0[1-9]|1[0-9]|2[0-8])$")]
    granted_on: String,
    #[schema(pattern = "^[1-9][0-9]{3}-(0[1-9]|1[0-2])-(0[1-9]|1[0-9]|2[0-8])$")]
    valid_from: String,
    /// Last day of validity (not before `valid_from`); absent: until revoked.
    #[schema(pattern = "^[1-9][0-9]{3}-(0[1-9]|1[0-2])-(0[1-9]|1[0-9]|2[0-8])$")]
    valid_until: Option<String>,
    #[serde(default)]
    conditions: Vec<String>,
    legal_basis: LegalBasisBody,
    /// Reference of the determination the licence answers.
    determination: Option<String>,
}

/// A shipment to draw down a licence.
#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
#[allow(dead_code)]
pub struct ShipmentBody {
    /// Unique on the licence.
    #[schema(min_length = 1, max_length = 100)]
    reference: String,
    /// Not before the last shipment recorded.
    #[schema(pattern = "^[1-9][0-9]{3}-(0[1-9]|1[0-2])-(0[1-9]|1[0-9]|2[0-8])$")]
    date: String,
    /// Item line id.
    #[schema(min_length = 1, max_length = 100)]
    item: String,
    #[schema(minimum = 0)]
    quantity: f64,
    #[schema(minimum = 0)]
    #[serde(default)]
    value: f64,
    /// ISO 3166-1 alpha-3.
    destination: String,
    #[schema(min_length = 1, max_length = 300)]
    consignee: String,
    #[schema(max_length = 300)]
    end_user: Option<String>,
}

/// A dated event: `kind` with its own fields beside `date`, `reason` and `instrument`; a field
/// the kind does not have is refused as unknown (a misspelt field must not silently change
/// nothing). A `null` counts as absent.
#[derive(Deserialize, utoipa::ToSchema)]
#[serde(tag = "kind", rename_all = "snake_case", deny_unknown_fields)]
#[allow(dead_code)]
pub enum EventBody {
    /// Changes validity, quantity ceilings (`quantities`: line -> new ceiling) or parties from
    /// the event's date on.
    Amendment {
        /// Not before the licence's last event.
        #[schema(pattern = "^[1-9][0-9]{3}-(0[1-9]|1[0-2])-(0[1-9]|1[0-9]|2[0-8])$")]
        date: String,
        #[schema(min_length = 1, max_length = 2000)]
        reason: String,
        /// The decision, notice or letter.
        #[schema(max_length = 500)]
        instrument: Option<String>,
        #[schema(pattern = "^[1-9][0-9]{3}-(0[1-9]|1[0-2])-(0[1-9]|1[0-9]|2[0-8])$")]
        valid_until: Option<String>,
        #[serde(default)]
        quantities: BTreeMap<String, f64>,
        #[serde(default)]
        add_destinations: Vec<String>,
        #[serde(default)]
        add_consignees: Vec<String>,
    },
    /// No shipment from the date until `until` (inclusive), or until reinstated.
    Suspension {
        /// Not before the licence's last event.
        #[schema(pattern = "^[1-9][0-9]{3}-(0[1-9]|1[0-2])-(0[1-9]|1[0-9]|2[0-8])$")]
        date: String,
        #[schema(min_length = 1, max_length = 2000)]
        reason: String,
        /// The decision, notice or letter.
        #[schema(max_length = 500)]
        instrument: Option<String>,
        #[schema(pattern = "^[1-9][0-9]{3}-(0[1-9]|1[0-2])-(0[1-9]|1[0-9]|2[0-8])$")]
        until: Option<String>,
    },
    Reinstatement {
        /// Not before the licence's last event.
        #[schema(pattern = "^[1-9][0-9]{3}-(0[1-9]|1[0-2])-(0[1-9]|1[0-9]|2[0-8])$")]
        date: String,
        #[schema(min_length = 1, max_length = 2000)]
        reason: String,
        /// The decision, notice or letter.
        #[schema(max_length = 500)]
        instrument: Option<String>,
    },
    /// Item lines, consignees, end users or destinations withdrawn, or quantity withdrawn from
    /// what was still authorised (`quantities`: line -> quantity).
    PartialRevocation {
        /// Not before the licence's last event.
        #[schema(pattern = "^[1-9][0-9]{3}-(0[1-9]|1[0-2])-(0[1-9]|1[0-9]|2[0-8])$")]
        date: String,
        #[schema(min_length = 1, max_length = 2000)]
        reason: String,
        /// The decision, notice or letter.
        #[schema(max_length = 500)]
        instrument: Option<String>,
        #[serde(default)]
        items: Vec<String>,
        #[serde(default)]
        consignees: Vec<String>,
        #[serde(default)]
        end_users: Vec<String>,
        #[serde(default)]
        destinations: Vec<String>,
        #[serde(default)]
        quantities: BTreeMap<String, f64>,
    },
    FullRevocation {
        /// Not before the licence's last event.
        #[schema(pattern = "^[1-9][0-9]{3}-(0[1-9]|1[0-2])-(0[1-9]|1[0-9]|2[0-8])$")]
        date: String,
        #[schema(min_length = 1, max_length = 2000)]
        reason: String,
        /// The decision, notice or letter.
        #[schema(max_length = 500)]
        instrument: Option<String>,
    },
}

/// A refused shipment: the error body, plus the refusal naming the limit. (Documented as the
/// error body, which it extends: every 4xx answer of the API is one.)
#[derive(Serialize)]
pub struct RefusalBody {
    pub error: ErrorDetail,
    pub refusal: Value,
}

// ---------------------------------------------------------------------------------------------
// Views shared with the dashboard

/// One entry of a licence's timeline.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TimelineEntry {
    pub date: Date,
    /// grant, valid_from, amendment, suspension, reinstatement, partial revocation,
    /// full revocation, shipment, expiry.
    pub kind: String,
    pub text: String,
    /// Dated after the date the licence is looked at (shown, not applied).
    pub after_date: bool,
}

/// One item line's draw-down on a date.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct DrawdownLine {
    pub item: String,
    pub description: String,
    pub product: Option<String>,
    pub control_entry: Option<String>,
    pub revoked: bool,
    pub quantity_ceiling: Option<f64>,
    pub shipped_quantity: f64,
    pub remaining_quantity: Option<f64>,
    pub value_ceiling: Option<f64>,
    pub shipped_value: f64,
    pub remaining_value: Option<f64>,
}

/// The timeline: grant, start of validity, events, shipments and expiry, in date order (on one
/// date: grant, events, shipments, expiry). The expiry is the one the last event sets.
pub fn timeline(l: &StoredLicence, date: Date) -> Vec<TimelineEntry> {
    let g = &l.licence;
    let mut out = vec![
        (
            0,
            g.granted_on,
            "grant".to_string(),
            format!("granted by {} to {}", g.authority, g.holder),
        ),
        (
            0,
            g.valid_from,
            "valid_from".to_string(),
            "validity starts".to_string(),
        ),
    ];
    for e in &l.events {
        let e = &e.event;
        let instrument = e
            .instrument
            .as_deref()
            .map(|i| format!(" ({i})"))
            .unwrap_or_default();
        out.push((
            1,
            e.date,
            e.kind.name().to_string(),
            format!("{}{instrument}", e.reason),
        ));
    }
    for s in &l.shipments {
        let s = &s.shipment;
        out.push((
            2,
            s.date,
            "shipment".to_string(),
            format!(
                "{}: {} of line {} to {} ({}), value {}",
                s.reference, s.quantity, s.item, s.consignee, s.destination, s.value
            ),
        ));
    }
    let last = l
        .events
        .iter()
        .map(|e| e.event.date)
        .max()
        .map_or(date, |d| d.max(date));
    if let Some(u) = l.record().state_on(last).valid_until {
        out.push((
            3,
            u,
            "expiry".to_string(),
            "last day of validity".to_string(),
        ));
    }
    out.sort_by_key(|(order, d, _, _)| (*d, *order));
    out.into_iter()
        .map(|(_, d, kind, text)| TimelineEntry {
            date: d,
            kind,
            text,
            after_date: d > date,
        })
        .collect()
}

/// What is left per item line on `date`.
pub fn drawdown(
    l: &StoredLicence,
    state: &chipwatch_controls::licence::LicenceState,
) -> Vec<DrawdownLine> {
    state
        .items
        .iter()
        .map(|i| {
            let line = l.licence.items.iter().find(|x| x.id == i.id);
            DrawdownLine {
                item: i.id.clone(),
                description: line.map(|x| x.description.clone()).unwrap_or_default(),
                product: line.and_then(|x| x.product.clone()),
                control_entry: line.and_then(|x| x.control_entry.clone()),
                revoked: i.revoked,
                quantity_ceiling: i.quantity_ceiling,
                shipped_quantity: i.shipped_quantity,
                remaining_quantity: i.remaining_quantity,
                value_ceiling: line.and_then(|x| x.value),
                shipped_value: i.shipped_value,
                remaining_value: i.remaining_value,
            }
        })
        .collect()
}

/// A licence on `date`: as granted, its state, timeline and draw-down, and its history.
pub fn detail(l: &StoredLicence, date: Date) -> Value {
    let state = l.record().state_on(date);
    json!({
        "id": l.id,
        "date": date,
        "licence": l.licence,
        "status": status_name(&state.status),
        "state": state,
        "timeline": timeline(l, date),
        "drawdown": {
            "items": drawdown(l, &state),
            "value_ceiling": l.licence.value_ceiling,
            "shipped_value": state.shipped_value,
            "remaining_value": state.remaining_value,
            "currency": l.licence.currency,
        },
        "events": l.events,
        "shipments": l.shipments,
        "recorded_by": l.user_name,
        "recorded_at": chipwatch_store::time::format(l.created_at),
    })
}

// ---------------------------------------------------------------------------------------------
// Parameters

fn bad(msg: impl Into<String>) -> ApiError {
    ApiError::new("invalid_parameter", msg)
}

/// A `YYYY-MM-DD` query parameter.
pub fn date_param(field: &str, v: Option<&str>) -> ApiResult<Option<Date>> {
    v.map(|d| Date::parse(d).map_err(|e| bad(format!("{field}: {e}"))))
        .transpose()
}

/// Filters of the register.
#[derive(Debug, Default, Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
pub struct RegisterQuery {
    /// The date statuses, destinations and parties are taken on, YYYY-MM-DD (default: today,
    /// UTC).
    #[param(pattern = "^[1-9][0-9]{3}-(0[1-9]|1[0-2])-(0[1-9]|1[0-9]|2[0-8])$")]
    pub date: Option<String>,
    /// Status on the date.
    #[param(pattern = "^(not_yet_valid|active|suspended|revoked|expired)$")]
    pub status: Option<String>,
    /// Text in the holder's name.
    #[param(max_length = 200)]
    pub holder: Option<String>,
    /// ISO 3166-1 alpha-3 destination authorised on the date.
    #[param(pattern = "^[A-Za-z]{3}$")]
    pub destination: Option<String>,
    /// Product or control list entry of an item line (exact, case-insensitive).
    #[param(max_length = 200)]
    pub product: Option<String>,
    /// Text in the authority's name.
    #[param(max_length = 200)]
    pub authority: Option<String>,
    /// Text anywhere in the licence (number, parties, item lines, conditions).
    #[param(max_length = 200)]
    pub q: Option<String>,
    /// json (default) or csv.
    #[param(pattern = "^(json|csv)$")]
    pub format: Option<String>,
    #[param(minimum = 1, maximum = 10000)]
    pub limit: Option<i64>,
}

impl RegisterQuery {
    /// The store's filter, each parameter checked (errors name it).
    pub fn filter(&self) -> ApiResult<LicenceFilter> {
        for (name, v) in [
            ("holder", &self.holder),
            ("product", &self.product),
            ("authority", &self.authority),
            ("q", &self.q),
        ] {
            if v.as_deref().is_some_and(|t| t.chars().count() > 200) {
                return Err(bad(format!("{name}: at most 200 characters")));
            }
        }
        if let Some(st) = self.status.as_deref() {
            if !STATUSES.contains(&st) {
                return Err(bad(format!(
                    "status: `{st}` is not one of {}",
                    STATUSES.join(", ")
                )));
            }
        }
        let destination = match self.destination.as_deref() {
            None => None,
            Some(d) => {
                let up = d.trim().to_ascii_uppercase();
                if !chipwatch_controls::country::is_iso3(&up) {
                    return Err(bad(format!(
                        "destination: `{d}` is not an ISO 3166-1 alpha-3 code"
                    )));
                }
                Some(up)
            }
        };
        if self.limit.is_some_and(|l| !(1..=10_000).contains(&l)) {
            return Err(bad("limit: 1 to 10000"));
        }
        let keep = |v: &Option<String>| v.clone().filter(|t| !t.trim().is_empty());
        Ok(LicenceFilter {
            date: date_param("date", self.date.as_deref())?,
            status: self.status.clone(),
            holder: keep(&self.holder),
            destination,
            product: keep(&self.product),
            authority: keep(&self.authority),
            text: keep(&self.q),
            limit: self.limit,
        })
    }
}

/// One CSV field, quoted when it needs to be.
fn csv_field(s: &str) -> String {
    if s.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", s.replace('"', "\"\""))
    } else {
        s.to_string()
    }
}

/// The caller's organisation's register on a date, filtered (`format=csv` for a spreadsheet).
#[utoipa::path(get, path = "/api/v1/licences", tag = "licences", params(RegisterQuery),
    responses((status = 200, description = "The register with each licence's status on the date (JSON, or CSV with format=csv)", content((Object = "application/json"), (String = "text/csv")))),
    security(("bearer" = [])))]
pub async fn list(
    State(s): State<AppState>,
    a: Auth,
    Query(q): Query<RegisterQuery>,
) -> ApiResult<Response> {
    let p = a.require_local()?;
    if !matches!(q.format.as_deref(), None | Some("json") | Some("csv")) {
        return Err(bad("format: json or csv"));
    }
    let f = q.filter()?;
    let date = f.date.unwrap_or_else(today);
    let entries = s.store.licences(p.org.id, &f).await?;
    if q.format.as_deref() == Some("csv") {
        let mut out = String::from(
            "id,number,authority,jurisdiction,kind,holder,status,granted_on,valid_from,valid_until,destinations,products,events,shipments\n",
        );
        for e in &entries {
            let l = &e.licence.licence;
            let products: Vec<&str> = l
                .items
                .iter()
                .filter_map(|i| i.product.as_deref())
                .collect();
            let row = [
                e.licence.id.to_string(),
                l.number.clone(),
                l.authority.clone(),
                l.jurisdiction.clone(),
                json!(l.kind).as_str().unwrap_or_default().to_string(),
                l.holder.clone(),
                status_name(&e.state.status).to_string(),
                l.granted_on.to_string(),
                l.valid_from.to_string(),
                e.state
                    .valid_until
                    .map(|d| d.to_string())
                    .unwrap_or_default(),
                e.state
                    .destinations
                    .iter()
                    .cloned()
                    .collect::<Vec<_>>()
                    .join(";"),
                products.join(";"),
                e.licence.events.len().to_string(),
                e.licence.shipments.len().to_string(),
            ];
            out.push_str(
                &row.iter()
                    .map(|f| csv_field(f))
                    .collect::<Vec<_>>()
                    .join(","),
            );
            out.push('\n');
        }
        return Ok(([(CONTENT_TYPE, "text/csv; charset=utf-8")], out).into_response());
    }
    let list: Vec<Value> = entries
        .iter()
        .map(|e| {
            let l = &e.licence.licence;
            json!({
                "id": e.licence.id, "number": l.number, "authority": l.authority,
                "jurisdiction": l.jurisdiction, "kind": l.kind, "holder": l.holder,
                "status": status_name(&e.state.status), "state": e.state.status,
                "granted_on": l.granted_on, "valid_from": l.valid_from,
                "valid_until": e.state.valid_until, "destinations": e.state.destinations,
                "items": l.items, "events": e.licence.events.len(),
                "shipments": e.licence.shipments.len(),
            })
        })
        .collect();
    Ok(axum::Json(json!({"date": date, "licences": list})).into_response())
}

fn created(id: i64, body: Value) -> Response {
    (
        StatusCode::CREATED,
        [(LOCATION, format!("/api/v1/licences/{id}"))],
        axum::Json(body),
    )
        .into_response()
}

/// Register a licence as granted (analyst). The controls crate's checks apply (ISO codes, item
/// lines, ceilings, validity); a number already in the organisation's register is a conflict.
#[utoipa::path(post, path = "/api/v1/licences", tag = "licences", request_body = LicenceBody,
    responses((status = 201, description = "Registered: the licence on today's date; Location names it", body = Object,
        headers(("Location" = String, description = "/api/v1/licences/{id}"))),
        (status = 409, description = "The number is already in the register", body = crate::error::ErrorBody),
        (status = 422, description = "A field is not acceptable; the message names it", body = crate::error::ErrorBody)),
    security(("bearer" = [])))]
pub async fn create(
    State(s): State<AppState>,
    a: Auth,
    Json(l): Json<Licence>,
) -> ApiResult<Response> {
    a.require_local()?;
    let p = a.require(Role::Analyst)?;
    let stored = s.store.register_licence(p, l).await?;
    Ok(created(stored.id, detail(&stored, today())))
}

/// The date a licence is looked at.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
pub struct DateQuery {
    /// YYYY-MM-DD (default: today, UTC).
    #[param(pattern = "^[1-9][0-9]{3}-(0[1-9]|1[0-2])-(0[1-9]|1[0-9]|2[0-8])$")]
    pub date: Option<String>,
}

/// A licence on a date: as granted, its status and what is left per line, parties and
/// destinations, its timeline (grant, events, shipments, expiry) and draw-down.
#[utoipa::path(get, path = "/api/v1/licences/{id}", tag = "licences",
    params(("id" = i64, Path, description = "Licence id"), DateQuery),
    responses((status = 200, description = "The licence on the date", body = Object),
        (status = 404, description = "No such licence in your organisation's register", body = crate::error::ErrorBody)),
    security(("bearer" = [])))]
pub async fn get(
    State(s): State<AppState>,
    a: Auth,
    Path(id): Path<i64>,
    Query(q): Query<DateQuery>,
) -> ApiResult<axum::Json<Value>> {
    let p = a.require_local()?;
    let date = date_param("date", q.date.as_deref())?.unwrap_or_else(today);
    let l = s.store.licence(p.org.id, id).await?;
    Ok(axum::Json(detail(&l, date)))
}

/// The 422 answer to a refused shipment.
pub fn refusal_response(r: &Refusal) -> Response {
    let body = RefusalBody {
        error: ErrorDetail {
            code: "validation_failed".into(),
            message: r.to_string(),
        },
        refusal: json!(r),
    };
    (StatusCode::UNPROCESSABLE_ENTITY, axum::Json(body)).into_response()
}

/// Draw a shipment down a licence (analyst): checked against the licence on the shipment's
/// date (validity, suspension, revocation, item line, destination, consignee, end user,
/// quantity and value left). A refused shipment is not recorded.
#[utoipa::path(post, path = "/api/v1/licences/{id}/shipments", tag = "licences",
    params(("id" = i64, Path, description = "Licence id")), request_body = ShipmentBody,
    responses((status = 201, description = "Drawn: the shipment and the licence's state on its date", body = Object,
        headers(("Location" = String, description = "/api/v1/licences/{id}"))),
        (status = 404, description = "No such licence in your organisation's register", body = crate::error::ErrorBody),
        (status = 409, description = "The reference is already drawn on this licence", body = crate::error::ErrorBody),
        (status = 422, description = "Refused: the error body (code validation_failed, the message naming the limit) with a field `refusal` besides: {\"refusal\": not_yet_valid | expired | suspended | revoked | unknown_item | item_revoked | destination | consignee | end_user | quantity | value | amount, with its figures (number, item, quantity, remaining, value, on, since, reason)}. Or a field is not acceptable (dated before the last shipment, an empty reference), without `refusal`.", body = crate::error::ErrorBody)),
    security(("bearer" = [])))]
pub async fn ship(
    State(s): State<AppState>,
    a: Auth,
    Path(id): Path<i64>,
    Json(b): Json<ShipmentDraw>,
) -> ApiResult<Response> {
    match draw(&s, &a, id, b).await? {
        Ok(d) => Ok(created(
            id,
            json!({"licence": id, "shipment_id": d.shipment_id,
                   "shipment": d.licence.shipments.last().map(|x| &x.shipment),
                   "status": status_name(&d.state.status), "state": d.state,
                   "drawdown": drawdown(&d.licence, &d.state)}),
        )),
        Err(r) => Ok(refusal_response(&r)),
    }
}

/// An event body, read as the controls crate reads a file's event.
pub fn event_body(v: Value) -> ApiResult<LicenceEvent> {
    LicenceEvent::from_json(v).map_err(|m| {
        if m.contains("unknown field") {
            ApiError::new("unknown_field", m)
        } else {
            ApiError::new("invalid_json", m)
        }
    })
}

/// Record an event (analyst): amendment, suspension, reinstatement, partial or full revocation,
/// with its date, reason and instrument. Events are in date order, nothing follows a full
/// revocation, and an event may not refuse a shipment already recorded.
#[utoipa::path(post, path = "/api/v1/licences/{id}/events", tag = "licences",
    params(("id" = i64, Path, description = "Licence id")), request_body = EventBody,
    responses((status = 201, description = "Recorded: the event and the licence's state on its date", body = Object,
        headers(("Location" = String, description = "/api/v1/licences/{id}"))),
        (status = 404, description = "No such licence in your organisation's register", body = crate::error::ErrorBody),
        (status = 422, description = "The event cannot be recorded; the message says why", body = crate::error::ErrorBody)),
    security(("bearer" = [])))]
pub async fn add_event(
    State(s): State<AppState>,
    a: Auth,
    Path(id): Path<i64>,
    Json(b): Json<Value>,
) -> ApiResult<Response> {
    let l = record_event(&s, &a, id, b).await?;
    let Some(last) = l.events.last() else {
        return Err(ApiError::internal(&"event not recorded"));
    };
    let state = l.record().state_on(last.event.date);
    Ok(created(
        id,
        json!({"licence": id, "event_id": last.id, "event": last.event.to_json(),
               "status": status_name(&state.status), "state": state}),
    ))
}

/// What a proposed event would take away, on its date, compared with the licence without it:
/// item lines with the quantity and value still left, consignees, end users, destinations; and
/// under `decision`, the supply effect through the scenario engine (value in USD, scheduled
/// shipments refused, flows cut, consumers affected, incidence across destinations; unknown
/// values stay unknown). Nothing is recorded.
#[utoipa::path(post, path = "/api/v1/licences/{id}/impact", tag = "licences",
    params(("id" = i64, Path, description = "Licence id")), request_body = EventBody,
    responses((status = 200, description = "The impact of the event, with `decision`: its supply effect", body = Object),
        (status = 404, description = "No such licence in your organisation's register", body = crate::error::ErrorBody),
        (status = 422, description = "The event could not be recorded on this licence; the message says why", body = crate::error::ErrorBody)),
    security(("bearer" = [])))]
pub async fn impact(
    State(s): State<AppState>,
    a: Auth,
    Path(id): Path<i64>,
    Json(b): Json<Value>,
) -> ApiResult<axum::Json<Value>> {
    let (imp, decision) = propose_with_supply(&s, &a, id, b).await?;
    let mut v = json!(imp);
    v["decision"] = json!(decision);
    Ok(axum::Json(v))
}

/// A decision over several licences of the register.
#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct DecisionBody {
    /// Ids of the licences the decision applies to (at least one, at most 500).
    #[schema(min_items = 1, max_items = 500)]
    pub licences: Vec<i64>,
    /// The event applied to each of them (its date, reason and kind).
    #[schema(value_type = EventBody)]
    pub event: Value,
}

/// The impact of one decision (a revocation, suspension or amendment, proposed) applied to
/// several licences of the register: what each loses, the scheduled shipments it refuses, the
/// value no longer authorised in USD by destination with its incidence ("does it target one
/// country in effect?"), the flows it cuts and each consumer's finished-chip availability
/// through the scenario engine. Nothing is recorded.
#[utoipa::path(post, path = "/api/v1/licences/impact", tag = "licences",
    request_body = DecisionBody,
    responses((status = 200, description = "The decision's impact", body = Object),
        (status = 400, description = "Malformed body", body = crate::error::ErrorBody),
        (status = 404, description = "A licence is not in your organisation's register", body = crate::error::ErrorBody),
        (status = 422, description = "The event cannot apply to a licence; the message says which and why", body = crate::error::ErrorBody)),
    security(("bearer" = [])))]
pub async fn decision_impact(
    State(s): State<AppState>,
    a: Auth,
    Json(b): Json<DecisionBody>,
) -> ApiResult<axum::Json<Value>> {
    let p = a.require_local()?;
    if b.licences.is_empty() || b.licences.len() > 500 {
        return Err(ApiError::validation(
            "licences: give between 1 and 500 licence ids".to_string(),
        ));
    }
    let e = event_body(b.event)?;
    let mut records = Vec::new();
    let mut seen = std::collections::BTreeSet::new();
    for id in &b.licences {
        if seen.insert(*id) {
            records.push(s.store.licence(p.org.id, *id).await?.record());
        }
    }
    let proposals = records
        .iter()
        .map(|r| chipwatch_controls::licence_impact::Proposal {
            licence: r.licence.number.clone(),
            event: e.clone(),
        })
        .collect();
    Ok(axum::Json(json!(supply(&s, records, proposals).await?)))
}

/// The decision's supply effect, computed off the request workers (two scenario runs).
async fn supply(
    s: &AppState,
    records: Vec<chipwatch_controls::licence::LicenceRecord>,
    proposals: Vec<chipwatch_controls::licence_impact::Proposal>,
) -> ApiResult<chipwatch_controls::licence_impact::DecisionImpact> {
    let engine = super::controls::engine()?;
    let model = s.model.clone();
    tokio::task::spawn_blocking(move || {
        chipwatch_controls::licence_impact::decision_impact(
            &records,
            &proposals,
            engine.catalogue(),
            &model,
            &chipwatch_controls::licence_impact::Fx::default(),
        )
    })
    .await
    .map_err(|e| ApiError::internal(&e))?
    .map_err(|x| ApiError::validation(format!("event: {x}")))
}

/// The impact of the event of body `b` on licence `id` with its supply effect, recording nothing
/// (any role).
pub async fn propose_with_supply(
    s: &AppState,
    a: &Auth,
    id: i64,
    b: Value,
) -> ApiResult<(
    EventImpact,
    chipwatch_controls::licence_impact::DecisionImpact,
)> {
    let p = a.require_local()?;
    let e = event_body(b)?;
    let l = s.store.licence(p.org.id, id).await?;
    let record = l.record();
    let imp = record
        .impact_of(&e)
        .map_err(|x| ApiError::validation(format!("event: {x}")))?;
    let proposal = chipwatch_controls::licence_impact::Proposal {
        licence: record.licence.number.clone(),
        event: e,
    };
    let decision = supply(s, vec![record], vec![proposal]).await?;
    Ok((imp, decision))
}

// The three operations, for the handlers above and the dashboard's forms (which must not grow a
// second copy of the role checks).

/// Draw `b` down licence `id` (analyst): the drawn shipment, or the refusal.
pub async fn draw(
    s: &AppState,
    a: &Auth,
    id: i64,
    b: ShipmentDraw,
) -> ApiResult<Result<Drawn, Refusal>> {
    a.require_local()?;
    let p = a.require(Role::Analyst)?;
    Ok(s.store.draw_shipment(p, id, b).await?)
}

/// Record the event of body `b` on licence `id` (analyst): the licence with it.
pub async fn record_event(s: &AppState, a: &Auth, id: i64, b: Value) -> ApiResult<StoredLicence> {
    a.require_local()?;
    let p = a.require(Role::Analyst)?;
    let e = event_body(b)?;
    Ok(s.store.add_licence_event(p, id, e).await?)
}
