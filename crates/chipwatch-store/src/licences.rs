//! The licence register in the database (issue 17): an organisation's licences as granted, with
//! their dated events (amendment, suspension, reinstatement, partial or full revocation) and the
//! shipments drawn against them.
//!
//! The store persists; `chipwatch_controls::licence` decides. Registering a licence, adding an
//! event and drawing a shipment each load the [`LicenceRecord`] inside the write transaction
//! (under the writer lock, so two draws cannot both take the last unit), let the controls crate
//! check the change, then write it with an audit entry in the same transaction. A refused
//! shipment writes nothing and comes back as the controls crate's [`Refusal`]. All three tables
//! are append-only (triggers refuse UPDATE and DELETE on both backends): a licence's state on
//! any date is reconstructed from its rows, never stored.

use crate::partner::Principal;
use crate::{audit, col, Store, StoreError};
use chipwatch_controls::licence::{
    check_licence, Licence, LicenceEvent, LicenceRecord, LicenceState, Refusal, ShipmentDraw,
    Status,
};
use chipwatch_controls::Date;
use serde::Serialize;
use sqlx::any::AnyRow;
use sqlx::AnyConnection;
use std::collections::BTreeMap;

/// An event as recorded: who recorded it and when.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct StoredEvent {
    pub id: i64,
    pub event: LicenceEvent,
    pub user_name: String,
    pub created_at: i64,
}

/// A shipment as recorded.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct StoredShipment {
    pub id: i64,
    pub shipment: ShipmentDraw,
    pub user_name: String,
    pub created_at: i64,
}

/// A licence of the register with its whole history.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct StoredLicence {
    pub id: i64,
    pub org_id: i64,
    pub user_name: String,
    pub created_at: i64,
    pub licence: Licence,
    pub events: Vec<StoredEvent>,
    pub shipments: Vec<StoredShipment>,
}

impl StoredLicence {
    /// The record the controls crate reasons on.
    pub fn record(&self) -> LicenceRecord {
        LicenceRecord {
            licence: self.licence.clone(),
            events: self.events.iter().map(|e| e.event.clone()).collect(),
            shipments: self.shipments.iter().map(|s| s.shipment.clone()).collect(),
        }
    }
}

/// Search of an organisation's register. Text filters are case-insensitive substrings.
#[derive(Debug, Clone, Default)]
pub struct LicenceFilter {
    /// The date the status, destinations and parties are taken on (default: today, UTC).
    pub date: Option<Date>,
    /// not_yet_valid, active, suspended, revoked or expired, on `date`.
    pub status: Option<String>,
    pub holder: Option<String>,
    /// ISO 3166-1 alpha-3 destination authorised on `date`.
    pub destination: Option<String>,
    /// A product or control list entry of an item line (exact, case-insensitive).
    pub product: Option<String>,
    pub authority: Option<String>,
    /// Text anywhere in the licence as granted (number, parties, item lines, conditions).
    pub text: Option<String>,
    pub limit: Option<i64>,
}

/// The statuses a licence can have on a date, as the filter and the API name them.
pub const STATUSES: &[&str] = &["not_yet_valid", "active", "suspended", "revoked", "expired"];

/// The name of a status (`STATUSES`).
pub fn status_name(s: &Status) -> &'static str {
    match s {
        Status::NotYetValid { .. } => "not_yet_valid",
        Status::Active => "active",
        Status::Suspended { .. } => "suspended",
        Status::Revoked { .. } => "revoked",
        Status::Expired { .. } => "expired",
    }
}

/// Today, UTC.
pub fn today() -> Date {
    Date::from_days_since_epoch(crate::time::now().div_euclid(86_400))
}

/// A licence of the register with its state on the filter's date.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RegisterEntry {
    pub licence: StoredLicence,
    pub state: LicenceState,
}

/// What drawing a shipment did: the licence with the shipment, and its state on the shipment's
/// date.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Drawn {
    pub licence: StoredLicence,
    pub shipment_id: i64,
    pub state: LicenceState,
}

fn json<T: serde::de::DeserializeOwned>(r: &AnyRow, name: &str) -> Result<T, StoreError> {
    let t: String = col(r, name)?;
    serde_json::from_str(&t).map_err(|e| StoreError::Corrupt(format!("{name}: {e}")))
}

fn text(field: &str, v: &str, max: usize) -> Result<(), StoreError> {
    if v.trim().is_empty() || v.chars().count() > max {
        return Err(StoreError::Invalid(format!(
            "{field}: 1 to {max} characters"
        )));
    }
    Ok(())
}

const LICENCE_COLUMNS: &str = "l.id, l.org_id, l.licence, l.created_at, u.name AS user_name";

fn licence_from_row(r: &AnyRow) -> Result<StoredLicence, StoreError> {
    Ok(StoredLicence {
        id: col(r, "id")?,
        org_id: col(r, "org_id")?,
        user_name: col(r, "user_name")?,
        created_at: col(r, "created_at")?,
        licence: json(r, "licence")?,
        events: Vec::new(),
        shipments: Vec::new(),
    })
}

/// The events and shipments of `org`'s licences (all, or one), by licence, in recorded order.
async fn history(
    c: &mut AnyConnection,
    org: i64,
    licence: Option<i64>,
) -> Result<BTreeMap<i64, (Vec<StoredEvent>, Vec<StoredShipment>)>, StoreError> {
    let mut out: BTreeMap<i64, (Vec<StoredEvent>, Vec<StoredShipment>)> = BTreeMap::new();
    let rows = sqlx::query(
        "SELECT e.id, e.licence_id, e.event, e.created_at, u.name AS user_name \
         FROM licence_events e JOIN users u ON u.id = e.user_id \
         WHERE e.org_id = $1 AND ($2 IS NULL OR e.licence_id = $2) ORDER BY e.id",
    )
    .bind(org)
    .bind(licence)
    .fetch_all(&mut *c)
    .await?;
    for r in &rows {
        let v: serde_json::Value = json(r, "event")?;
        let event = LicenceEvent::from_json(v)
            .map_err(|e| StoreError::Corrupt(format!("licence event: {e}")))?;
        out.entry(col(r, "licence_id")?)
            .or_default()
            .0
            .push(StoredEvent {
                id: col(r, "id")?,
                event,
                user_name: col(r, "user_name")?,
                created_at: col(r, "created_at")?,
            });
    }
    let rows = sqlx::query(
        "SELECT s.id, s.licence_id, s.shipment, s.created_at, u.name AS user_name \
         FROM licence_shipments s JOIN users u ON u.id = s.user_id \
         WHERE s.org_id = $1 AND ($2 IS NULL OR s.licence_id = $2) ORDER BY s.id",
    )
    .bind(org)
    .bind(licence)
    .fetch_all(&mut *c)
    .await?;
    for r in &rows {
        out.entry(col(r, "licence_id")?)
            .or_default()
            .1
            .push(StoredShipment {
                id: col(r, "id")?,
                shipment: json(r, "shipment")?,
                user_name: col(r, "user_name")?,
                created_at: col(r, "created_at")?,
            });
    }
    Ok(out)
}

/// One licence of `org` with its history; `NotFound` when it does not exist or is another
/// organisation's (the API answers 404 alike).
async fn load(c: &mut AnyConnection, org: i64, id: i64) -> Result<StoredLicence, StoreError> {
    let row = sqlx::query(&format!(
        "SELECT {LICENCE_COLUMNS} FROM licences l JOIN users u ON u.id = l.user_id \
         WHERE l.org_id = $1 AND l.id = $2"
    ))
    .bind(org)
    .bind(id)
    .fetch_optional(&mut *c)
    .await?
    .ok_or_else(|| StoreError::NotFound("licence".into()))?;
    let mut l = licence_from_row(&row)?;
    if let Some((events, shipments)) = history(c, org, Some(id)).await?.remove(&id) {
        l.events = events;
        l.shipments = shipments;
    }
    Ok(l)
}

fn contains(hay: &str, needle: &Option<String>) -> bool {
    needle
        .as_deref()
        .is_none_or(|n| hay.to_lowercase().contains(&n.to_lowercase()))
}

impl Store {
    /// Register a licence as granted by `who` (the caller checks the role). Checked by the
    /// controls crate's rules; a number the organisation has already registered is a conflict.
    pub async fn register_licence(
        &self,
        who: &Principal,
        l: Licence,
    ) -> Result<StoredLicence, StoreError> {
        check_licence(&l).map_err(|(f, m)| StoreError::Invalid(format!("{f}: {m}")))?;
        text("number", &l.number, 100)?;
        text("authority", &l.authority, 300)?;
        text("holder", &l.holder, 300)?;
        let kind = serde_json::to_value(l.kind)
            .ok()
            .and_then(|v| v.as_str().map(str::to_string))
            .unwrap_or_default();
        let body = serde_json::to_string(&l).map_err(|e| StoreError::Invalid(e.to_string()))?;
        let now = crate::time::now();
        let mut tx = self.begin_write().await?;
        let taken: Option<i64> =
            sqlx::query_scalar("SELECT id FROM licences WHERE org_id = $1 AND number = $2")
                .bind(who.org.id)
                .bind(&l.number)
                .fetch_optional(tx.conn())
                .await?;
        if taken.is_some() {
            return Err(StoreError::Conflict(format!(
                "number: licence `{}` is already in the register",
                l.number
            )));
        }
        let id: i64 = sqlx::query_scalar(
            "INSERT INTO licences (org_id, number, authority, jurisdiction, kind, holder, \
             granted_on, valid_from, valid_until, licence, user_id, created_at) \
             VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10,$11,$12) RETURNING id",
        )
        .bind(who.org.id)
        .bind(&l.number)
        .bind(&l.authority)
        .bind(&l.jurisdiction)
        .bind(&kind)
        .bind(&l.holder)
        .bind(l.granted_on.to_string())
        .bind(l.valid_from.to_string())
        .bind(l.valid_until.map(|d| d.to_string()))
        .bind(&body)
        .bind(who.user_id)
        .bind(now)
        .fetch_one(tx.conn())
        .await?;
        audit::append(
            &mut tx,
            &who.actor(),
            "licence.register",
            &format!("licence:{id}"),
            &serde_json::json!({"number": l.number, "authority": l.authority,
                "holder": l.holder, "kind": kind}),
        )
        .await?;
        tx.commit().await?;
        Ok(StoredLicence {
            id,
            org_id: who.org.id,
            user_name: who.user_name.clone(),
            created_at: now,
            licence: l,
            events: Vec::new(),
            shipments: Vec::new(),
        })
    }

    /// One licence of `org` with its events and shipments; `NotFound` for another
    /// organisation's.
    pub async fn licence(&self, org: i64, id: i64) -> Result<StoredLicence, StoreError> {
        let mut c = self.pool().acquire().await?;
        load(&mut c, org, id).await
    }

    /// The organisation's register, filtered, with each licence's state on the filter's date,
    /// ordered by number.
    pub async fn licences(
        &self,
        org: i64,
        f: &LicenceFilter,
    ) -> Result<Vec<RegisterEntry>, StoreError> {
        let mut c = self.pool().acquire().await?;
        let rows = sqlx::query(&format!(
            "SELECT {LICENCE_COLUMNS} FROM licences l JOIN users u ON u.id = l.user_id \
             WHERE l.org_id = $1 ORDER BY l.number, l.id"
        ))
        .bind(org)
        .fetch_all(&mut *c)
        .await?;
        let mut hist = history(&mut c, org, None).await?;
        let date = f.date.unwrap_or_else(today);
        let product = f.product.as_deref().map(str::to_lowercase);
        let destination = f.destination.as_deref().map(str::to_ascii_uppercase);
        let mut out = Vec::new();
        for r in &rows {
            let mut l = licence_from_row(r)?;
            let g = &l.licence;
            // The indexed columns' filters first: they need no history.
            if !contains(&g.holder, &f.holder) || !contains(&g.authority, &f.authority) {
                continue;
            }
            if let Some(p) = &product {
                let hit = g.items.iter().any(|i| {
                    [&i.product, &i.control_entry]
                        .into_iter()
                        .flatten()
                        .any(|x| x.to_lowercase() == *p)
                });
                if !hit {
                    continue;
                }
            }
            if f.text.is_some() {
                let all = serde_json::to_string(g).unwrap_or_default();
                if !contains(&all, &f.text) {
                    continue;
                }
            }
            if let Some((events, shipments)) = hist.remove(&l.id) {
                l.events = events;
                l.shipments = shipments;
            }
            let state = l.record().state_on(date);
            if f.status
                .as_deref()
                .is_some_and(|s| s != status_name(&state.status))
            {
                continue;
            }
            if destination
                .as_ref()
                .is_some_and(|d| !state.destinations.contains(d))
            {
                continue;
            }
            out.push(RegisterEntry { licence: l, state });
            if f.limit.is_some_and(|n| out.len() as i64 >= n) {
                break;
            }
        }
        Ok(out)
    }

    /// Append an event by `who` to licence `id` of `who`'s organisation. The controls crate
    /// checks it (date order, a reason, item lines, nothing after a full revocation), and the
    /// shipments already recorded must still have been authorised with it: an event dated
    /// before a shipment it would have refused is an error (history is not rewritten).
    pub async fn add_licence_event(
        &self,
        who: &Principal,
        id: i64,
        e: LicenceEvent,
    ) -> Result<StoredLicence, StoreError> {
        if e.reason.chars().count() > 2000 {
            return Err(StoreError::Invalid(
                "reason: at most 2000 characters".into(),
            ));
        }
        if e.instrument
            .as_deref()
            .is_some_and(|i| i.chars().count() > 500)
        {
            return Err(StoreError::Invalid(
                "instrument: at most 500 characters".into(),
            ));
        }
        let now = crate::time::now();
        let mut tx = self.begin_write().await?;
        let mut l = load(tx.conn(), who.org.id, id).await?;
        let mut rec = l.record();
        rec.add_event(e.clone())
            .map_err(|x| StoreError::Invalid(format!("event: {x}")))?;
        let mut replay = LicenceRecord {
            shipments: Vec::new(),
            ..rec.clone()
        };
        for s in &rec.shipments {
            replay.ship(s.clone()).map_err(|x| {
                StoreError::Invalid(format!(
                    "date: shipment `{}` of {} is recorded, and with this event it would not \
                     have been authorised ({x})",
                    s.reference, s.date
                ))
            })?;
        }
        let body = e.to_json().to_string();
        let eid: i64 = sqlx::query_scalar(
            "INSERT INTO licence_events (licence_id, org_id, date, kind, event, user_id, \
             created_at) VALUES ($1,$2,$3,$4,$5,$6,$7) RETURNING id",
        )
        .bind(id)
        .bind(who.org.id)
        .bind(e.date.to_string())
        .bind(e.kind.name())
        .bind(&body)
        .bind(who.user_id)
        .bind(now)
        .fetch_one(tx.conn())
        .await?;
        audit::append(
            &mut tx,
            &who.actor(),
            "licence.event",
            &format!("licence:{id}"),
            &serde_json::json!({"number": l.licence.number, "event": eid,
                "kind": e.kind.name(), "date": e.date.to_string(), "reason": e.reason,
                "instrument": e.instrument}),
        )
        .await?;
        tx.commit().await?;
        l.events.push(StoredEvent {
            id: eid,
            event: e,
            user_name: who.user_name.clone(),
            created_at: now,
        });
        Ok(l)
    }

    /// Draw shipment `s` down licence `id` of `who`'s organisation. `Ok(Err(refusal))` when the
    /// licence does not authorise it on its date (nothing is written); a shipment dated before
    /// the last one recorded, or a reference used on the licence before, is an error.
    pub async fn draw_shipment(
        &self,
        who: &Principal,
        id: i64,
        s: ShipmentDraw,
    ) -> Result<Result<Drawn, Refusal>, StoreError> {
        text("reference", &s.reference, 100)?;
        text("consignee", &s.consignee, 300)?;
        text("item", &s.item, 100)?;
        if s.end_user
            .as_deref()
            .is_some_and(|u| u.chars().count() > 300)
        {
            return Err(StoreError::Invalid(
                "end_user: at most 300 characters".into(),
            ));
        }
        let now = crate::time::now();
        let mut tx = self.begin_write().await?;
        let mut l = load(tx.conn(), who.org.id, id).await?;
        if l.shipments
            .iter()
            .any(|x| x.shipment.reference == s.reference)
        {
            return Err(StoreError::Conflict(format!(
                "reference: shipment `{}` is already drawn on this licence",
                s.reference
            )));
        }
        let mut rec = l.record();
        if let Err(r) = rec.check_shipment(&s) {
            return Ok(Err(r));
        }
        let state = rec
            .ship(s.clone())
            .map_err(|x| StoreError::Invalid(format!("date: {x}")))?;
        let sid: i64 = sqlx::query_scalar(
            "INSERT INTO licence_shipments (licence_id, org_id, reference, date, item, quantity, \
             value, destination, consignee, shipment, user_id, created_at) \
             VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10,$11,$12) RETURNING id",
        )
        .bind(id)
        .bind(who.org.id)
        .bind(&s.reference)
        .bind(s.date.to_string())
        .bind(&s.item)
        .bind(s.quantity)
        .bind(s.value)
        .bind(&s.destination)
        .bind(&s.consignee)
        .bind(serde_json::to_string(&s).map_err(|e| StoreError::Invalid(e.to_string()))?)
        .bind(who.user_id)
        .bind(now)
        .fetch_one(tx.conn())
        .await?;
        audit::append(
            &mut tx,
            &who.actor(),
            "licence.shipment",
            &format!("licence:{id}"),
            &serde_json::json!({"number": l.licence.number, "shipment": sid,
                "reference": s.reference, "date": s.date.to_string(), "item": s.item,
                "quantity": s.quantity, "value": s.value, "destination": s.destination,
                "consignee": s.consignee}),
        )
        .await?;
        tx.commit().await?;
        l.shipments.push(StoredShipment {
            id: sid,
            shipment: s,
            user_name: who.user_name.clone(),
            created_at: now,
        });
        Ok(Ok(Drawn {
            licence: l,
            shipment_id: sid,
            state,
        }))
    }
}
