//! Licences as data (issue 17, first part): what a licensing authority or an exporter's
//! compliance team keeps about a licence, and its life in time.
//!
//! A [`LicenceRecord`] is the licence as granted, an append-only list of dated events
//! (amendment, suspension, reinstatement, partial or full revocation) and the shipments drawn
//! against it. Nothing is ever rewritten: the licence's state on any date
//! ([`LicenceRecord::state_on`]) is reconstructed from the grant and the events up to that date,
//! and a shipment is checked against that state ([`LicenceRecord::check_shipment`]): inside the
//! validity period, not suspended or revoked, an authorised item, destination, consignee and end
//! user, and within the quantity and value left. Expiry is not an event: it follows from
//! `valid_until`.
//!
//! The register file format (`[[licence]]` tables with their `[[licence.event]]` and
//! `[[licence.shipment]]`) is parsed by [`parse_register`]; errors name the file and field.

use crate::date::Date;
use crate::ControlsError;
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, BTreeSet};

/// The kind of licence.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum LicenceKind {
    /// One exporter, named consignees and end users, set quantities.
    Individual,
    /// One exporter, several shipments and consignees over its validity.
    Global,
    /// A general or bulk licence (e.g. Japan's general bulk export licence).
    GeneralBulk,
    /// The use of a licence exception or general authorisation (e.g. NAC, EU001) on record.
    ExceptionUse,
}

/// One item line of a licence.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LicenceItem {
    /// Line id, unique within the licence (e.g. "1").
    pub id: String,
    pub description: String,
    /// Catalogue product, if any.
    #[serde(default)]
    pub product: Option<String>,
    /// Control list entry (ECCN, Annex I entry...).
    #[serde(default)]
    pub control_entry: Option<String>,
    /// Quantity ceiling (units); `None`: no quantity ceiling.
    #[serde(default)]
    pub quantity: Option<f64>,
    /// Value ceiling of the line, in the licence's currency.
    #[serde(default)]
    pub value: Option<f64>,
}

/// The measure and version a licence answers.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LegalBasis {
    pub measure_id: String,
    pub version: String,
}

/// A licence as granted.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Licence {
    pub number: String,
    pub authority: String,
    /// ISO 3166-1 alpha-3 of the issuing state, or "EU".
    pub jurisdiction: String,
    pub kind: LicenceKind,
    /// The exporter.
    pub holder: String,
    #[serde(default)]
    pub consignees: Vec<String>,
    #[serde(default)]
    pub end_users: Vec<String>,
    pub items: Vec<LicenceItem>,
    /// ISO 3166-1 alpha-3 destinations.
    pub destinations: Vec<String>,
    /// Value ceiling over all lines, in `currency`.
    #[serde(default)]
    pub value_ceiling: Option<f64>,
    #[serde(default)]
    pub currency: Option<String>,
    pub granted_on: Date,
    pub valid_from: Date,
    /// Last day of validity; `None`: until revoked.
    #[serde(default)]
    pub valid_until: Option<Date>,
    #[serde(default)]
    pub conditions: Vec<String>,
    pub legal_basis: LegalBasis,
    /// Reference of the determination the licence answers.
    #[serde(default)]
    pub determination: Option<String>,
}

/// What an event does.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum EventKind {
    /// Changes validity, quantities or parties from the event's date on.
    Amendment {
        #[serde(default)]
        valid_until: Option<Date>,
        /// New quantity ceiling per item line.
        #[serde(default)]
        quantities: BTreeMap<String, f64>,
        #[serde(default)]
        add_destinations: Vec<String>,
        #[serde(default)]
        add_consignees: Vec<String>,
    },
    /// No shipment from the event's date until `until` (inclusive), or until reinstated.
    Suspension {
        #[serde(default)]
        until: Option<Date>,
    },
    Reinstatement,
    /// Part of the licence withdrawn: item lines, consignees, end users or destinations, or the
    /// quantity still authorised on some lines (the new ceiling is what was shipped plus
    /// what remains after the cut).
    PartialRevocation {
        #[serde(default)]
        items: Vec<String>,
        #[serde(default)]
        consignees: Vec<String>,
        #[serde(default)]
        end_users: Vec<String>,
        #[serde(default)]
        destinations: Vec<String>,
        /// Quantity withdrawn per item line.
        #[serde(default)]
        quantities: BTreeMap<String, f64>,
    },
    FullRevocation,
}

/// A dated event with its reason and instrument. In files, the kind's fields sit beside `date`
/// and `reason`; a field the kind does not have is an error (a misspelt `consignees` must not
/// silently revoke nothing).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(try_from = "toml::Table")]
pub struct LicenceEvent {
    pub date: Date,
    #[serde(flatten)]
    pub kind: EventKind,
    pub reason: String,
    #[serde(default)]
    pub instrument: Option<String>,
}

/// A shipment drawn against a licence.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ShipmentDraw {
    pub reference: String,
    pub date: Date,
    /// Item line id.
    pub item: String,
    pub quantity: f64,
    #[serde(default)]
    pub value: f64,
    pub destination: String,
    pub consignee: String,
    #[serde(default)]
    pub end_user: Option<String>,
}

/// Status of a licence on a date.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "status", rename_all = "snake_case")]
pub enum Status {
    NotYetValid { valid_from: Date },
    Active,
    Suspended { since: Date, until: Option<Date> },
    Revoked { on: Date, reason: String },
    Expired { on: Date },
}

/// One item line on a date.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ItemState {
    pub id: String,
    pub revoked: bool,
    pub quantity_ceiling: Option<f64>,
    pub shipped_quantity: f64,
    /// `None`: no quantity ceiling.
    pub remaining_quantity: Option<f64>,
    pub shipped_value: f64,
    pub remaining_value: Option<f64>,
}

/// A licence as it stands on a date.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct LicenceState {
    pub number: String,
    pub date: Date,
    #[serde(flatten)]
    pub status: Status,
    pub valid_until: Option<Date>,
    pub items: Vec<ItemState>,
    pub destinations: BTreeSet<String>,
    pub consignees: BTreeSet<String>,
    pub end_users: BTreeSet<String>,
    pub shipped_value: f64,
    pub remaining_value: Option<f64>,
    /// The events applied, oldest first, as "date kind: reason".
    pub history: Vec<String>,
}

/// Why a shipment is refused.
#[derive(Debug, Clone, PartialEq, Serialize, thiserror::Error)]
#[serde(tag = "refusal", rename_all = "snake_case")]
pub enum Refusal {
    #[error("licence {number} is not valid before {valid_from}")]
    NotYetValid { number: String, valid_from: Date },
    #[error("licence {number} expired on {on}")]
    Expired { number: String, on: Date },
    #[error("licence {number} is suspended since {since}")]
    Suspended { number: String, since: Date },
    #[error("licence {number} was revoked on {on}: {reason}")]
    Revoked {
        number: String,
        on: Date,
        reason: String,
    },
    #[error("licence {number} has no item line `{item}`")]
    UnknownItem { number: String, item: String },
    #[error("item line `{item}` of licence {number} was revoked")]
    ItemRevoked { number: String, item: String },
    #[error("destination {destination} is not authorised by licence {number}")]
    Destination { number: String, destination: String },
    #[error("consignee `{consignee}` is not authorised by licence {number}")]
    Consignee { number: String, consignee: String },
    #[error("end user `{end_user}` is not authorised by licence {number}")]
    EndUser { number: String, end_user: String },
    #[error("item line `{item}`: {quantity} exceeds the {remaining} left on licence {number}")]
    Quantity {
        number: String,
        item: String,
        quantity: f64,
        remaining: f64,
    },
    #[error("value {value} exceeds the {remaining} left on licence {number}")]
    Value {
        number: String,
        value: f64,
        remaining: f64,
    },
    #[error("shipment `{reference}`: quantity and value must be finite and not negative")]
    Amount { reference: String },
}

/// A licence with its events and shipments (unknown keys are refused by [`parse_register`]).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LicenceRecord {
    #[serde(flatten)]
    pub licence: Licence,
    #[serde(default, rename = "event")]
    pub events: Vec<LicenceEvent>,
    #[serde(default, rename = "shipment")]
    pub shipments: Vec<ShipmentDraw>,
}

/// Names are compared without case, spaces or punctuation ("ACME Co., Ltd." = "Acme Co Ltd").
pub fn party_key(s: &str) -> String {
    s.chars()
        .filter(|c| c.is_alphanumeric())
        .flat_map(char::to_lowercase)
        .collect()
}

impl LicenceRecord {
    /// The licence on `date`: the grant with every event dated on or before `date` applied in
    /// order, and the shipments dated on or before `date` drawn down.
    pub fn state_on(&self, date: Date) -> LicenceState {
        let l = &self.licence;
        let mut valid_until = l.valid_until;
        let mut ceilings: BTreeMap<&str, Option<f64>> = l
            .items
            .iter()
            .map(|i| (i.id.as_str(), i.quantity))
            .collect();
        let mut revoked_items: BTreeSet<String> = BTreeSet::new();
        let mut destinations: BTreeSet<String> = l.destinations.iter().cloned().collect();
        let mut consignees: BTreeSet<String> = l.consignees.iter().map(|c| party_key(c)).collect();
        let mut end_users: BTreeSet<String> = l.end_users.iter().map(|c| party_key(c)).collect();
        let mut status = None;
        let mut history = Vec::new();
        for e in self.events.iter().filter(|e| e.date <= date) {
            history.push(format!("{} {}: {}", e.date, e.kind.name(), e.reason));
            match &e.kind {
                EventKind::Amendment {
                    valid_until: v,
                    quantities,
                    add_destinations,
                    add_consignees,
                } => {
                    if v.is_some() {
                        valid_until = *v;
                    }
                    for (id, q) in quantities {
                        if let Some(c) = ceilings.get_mut(id.as_str()) {
                            *c = Some(*q);
                        }
                    }
                    destinations.extend(add_destinations.iter().cloned());
                    consignees.extend(add_consignees.iter().map(|c| party_key(c)));
                }
                EventKind::Suspension { until } => {
                    status = Some(Status::Suspended {
                        since: e.date,
                        until: *until,
                    })
                }
                EventKind::Reinstatement => {
                    if matches!(status, Some(Status::Suspended { .. })) {
                        status = None;
                    }
                }
                EventKind::PartialRevocation {
                    items,
                    consignees: cs,
                    end_users: us,
                    destinations: ds,
                    quantities,
                } => {
                    revoked_items.extend(items.iter().cloned());
                    for c in cs {
                        consignees.remove(&party_key(c));
                    }
                    for u in us {
                        end_users.remove(&party_key(u));
                    }
                    for d in ds {
                        destinations.remove(d);
                    }
                    for (id, cut) in quantities {
                        // The cut applies to what was still authorised on the event's date.
                        let shipped = self.shipped(id, e.date);
                        if let Some(Some(q)) = ceilings.get_mut(id.as_str()) {
                            let left = (*q - shipped).max(0.0);
                            *q = shipped + (left - cut).max(0.0);
                        }
                    }
                }
                EventKind::FullRevocation => {
                    status = Some(Status::Revoked {
                        on: e.date,
                        reason: e.reason.clone(),
                    })
                }
            }
        }
        // A suspension with an end date is over after it.
        if let Some(Status::Suspended { until: Some(u), .. }) = status {
            if date > u {
                status = None;
            }
        }
        let status = status.unwrap_or(if date < l.valid_from {
            Status::NotYetValid {
                valid_from: l.valid_from,
            }
        } else if let Some(u) = valid_until.filter(|u| date > *u) {
            Status::Expired { on: u }
        } else {
            Status::Active
        });
        let items: Vec<ItemState> = l
            .items
            .iter()
            .map(|i| {
                let shipped_quantity = self.shipped(&i.id, date);
                let shipped_value: f64 = self
                    .shipments
                    .iter()
                    .filter(|s| s.item == i.id && s.date <= date)
                    .map(|s| s.value)
                    .sum();
                let ceiling = ceilings.get(i.id.as_str()).copied().flatten();
                ItemState {
                    id: i.id.clone(),
                    revoked: revoked_items.contains(&i.id),
                    quantity_ceiling: ceiling,
                    shipped_quantity,
                    remaining_quantity: ceiling.map(|c| (c - shipped_quantity).max(0.0)),
                    shipped_value,
                    remaining_value: i.value.map(|v| (v - shipped_value).max(0.0)),
                }
            })
            .collect();
        let shipped_value = items.iter().map(|i| i.shipped_value).sum::<f64>();
        LicenceState {
            number: l.number.clone(),
            date,
            status,
            valid_until,
            items,
            destinations,
            consignees,
            end_users,
            shipped_value,
            remaining_value: l.value_ceiling.map(|v| (v - shipped_value).max(0.0)),
            history,
        }
    }

    fn shipped(&self, item: &str, date: Date) -> f64 {
        self.shipments
            .iter()
            .filter(|s| s.item == item && s.date <= date)
            .map(|s| s.quantity)
            .sum()
    }

    /// Whether the licence authorises `s` on its date, given the shipments before it.
    pub fn check_shipment(&self, s: &ShipmentDraw) -> Result<LicenceState, Refusal> {
        let number = self.licence.number.clone();
        if !(s.quantity.is_finite() && s.quantity >= 0.0 && s.value.is_finite() && s.value >= 0.0) {
            return Err(Refusal::Amount {
                reference: s.reference.clone(),
            });
        }
        let st = self.state_on(s.date);
        match &st.status {
            Status::Active => {}
            Status::NotYetValid { valid_from } => {
                return Err(Refusal::NotYetValid {
                    number,
                    valid_from: *valid_from,
                })
            }
            Status::Expired { on } => return Err(Refusal::Expired { number, on: *on }),
            Status::Suspended { since, .. } => {
                return Err(Refusal::Suspended {
                    number,
                    since: *since,
                })
            }
            Status::Revoked { on, reason } => {
                return Err(Refusal::Revoked {
                    number,
                    on: *on,
                    reason: reason.clone(),
                })
            }
        }
        let Some(item) = st.items.iter().find(|i| i.id == s.item) else {
            return Err(Refusal::UnknownItem {
                number,
                item: s.item.clone(),
            });
        };
        if item.revoked {
            return Err(Refusal::ItemRevoked {
                number,
                item: s.item.clone(),
            });
        }
        let dest = s.destination.trim().to_ascii_uppercase();
        if !st.destinations.contains(&dest) {
            return Err(Refusal::Destination {
                number,
                destination: dest,
            });
        }
        // A licence that names no consignees (a general licence) does not restrict them.
        if !self.licence.consignees.is_empty() && !st.consignees.contains(&party_key(&s.consignee))
        {
            return Err(Refusal::Consignee {
                number,
                consignee: s.consignee.clone(),
            });
        }
        if let Some(u) = &s.end_user {
            if !self.licence.end_users.is_empty() && !st.end_users.contains(&party_key(u)) {
                return Err(Refusal::EndUser {
                    number,
                    end_user: u.clone(),
                });
            }
        }
        if let Some(rem) = item.remaining_quantity {
            if s.quantity > rem + 1e-9 {
                return Err(Refusal::Quantity {
                    number,
                    item: s.item.clone(),
                    quantity: s.quantity,
                    remaining: rem,
                });
            }
        }
        for rem in [item.remaining_value, st.remaining_value]
            .into_iter()
            .flatten()
        {
            if s.value > rem + 1e-9 {
                return Err(Refusal::Value {
                    number,
                    value: s.value,
                    remaining: rem,
                });
            }
        }
        Ok(st)
    }

    /// Draw `s` down: checked, then appended. Shipments are recorded in date order, so a
    /// shipment dated before the last one recorded is refused as an error of the caller.
    pub fn ship(&mut self, s: ShipmentDraw) -> Result<LicenceState, ControlsError> {
        if let Some(last) = self.shipments.last() {
            if s.date < last.date {
                return Err(ControlsError::Licence(format!(
                    "licence {}: shipment `{}` is dated {}, before the last recorded shipment \
                     ({})",
                    self.licence.number, s.reference, s.date, last.date
                )));
            }
        }
        self.check_shipment(&s)
            .map_err(|r| ControlsError::Licence(r.to_string()))?;
        self.shipments.push(s);
        Ok(self.state_on(
            self.shipments
                .last()
                .map_or(self.licence.valid_from, |s| s.date),
        ))
    }

    /// Append an event. Events are append-only and in date order; nothing follows a full
    /// revocation.
    pub fn add_event(&mut self, e: LicenceEvent) -> Result<(), ControlsError> {
        let err =
            |m: String| ControlsError::Licence(format!("licence {}: {m}", self.licence.number));
        if let Some(last) = self.events.last() {
            if e.date < last.date {
                return Err(err(format!(
                    "event dated {} is before the last event ({})",
                    e.date, last.date
                )));
            }
            if last.kind == EventKind::FullRevocation {
                return Err(err(format!(
                    "revoked on {}: no event can follow a full revocation",
                    last.date
                )));
            }
        }
        if e.reason.trim().is_empty() {
            return Err(err("every event needs its reason".into()));
        }
        if let EventKind::Amendment { quantities, .. }
        | EventKind::PartialRevocation { quantities, .. } = &e.kind
        {
            if let Some((id, q)) = quantities
                .iter()
                .find(|(_, q)| !(q.is_finite() && **q >= 0.0))
            {
                return Err(err(format!(
                    "quantity {q} for item line `{id}` is not a non-negative number"
                )));
            }
            if let Some(id) = quantities
                .keys()
                .find(|id| !self.licence.items.iter().any(|i| &i.id == *id))
            {
                return Err(err(format!("the licence has no item line `{id}`")));
            }
        }
        // A partial revocation must withdraw something the licence authorises on its date: a
        // misspelt line or party would otherwise revoke nothing, silently.
        if let EventKind::PartialRevocation {
            items,
            consignees,
            end_users,
            destinations,
            quantities,
        } = &e.kind
        {
            if items.is_empty()
                && consignees.is_empty()
                && end_users.is_empty()
                && destinations.is_empty()
                && quantities.is_empty()
            {
                return Err(err(
                    "a partial revocation names no item line, consignee, end user, destination \
                     or quantity"
                        .into(),
                ));
            }
            if let Some(id) = items
                .iter()
                .find(|id| !self.licence.items.iter().any(|i| &i.id == *id))
            {
                return Err(err(format!("the licence has no item line `{id}`")));
            }
            let st = self.state_on(e.date);
            for (what, names, set) in [
                ("consignee", consignees, &st.consignees),
                ("end user", end_users, &st.end_users),
            ] {
                if let Some(n) = names.iter().find(|n| !set.contains(&party_key(n))) {
                    return Err(err(format!(
                        "{what} `{n}` is not authorised by the licence on {}",
                        e.date
                    )));
                }
            }
            if let Some(c) = destinations
                .iter()
                .find(|c| !st.destinations.contains(&c.trim().to_ascii_uppercase()))
            {
                return Err(err(format!(
                    "destination {c} is not authorised by the licence on {}",
                    e.date
                )));
            }
        }
        self.events.push(e);
        Ok(())
    }
}

impl EventKind {
    pub fn name(&self) -> &'static str {
        match self {
            EventKind::Amendment { .. } => "amendment",
            EventKind::Suspension { .. } => "suspension",
            EventKind::Reinstatement => "reinstatement",
            EventKind::PartialRevocation { .. } => "partial revocation",
            EventKind::FullRevocation => "full revocation",
        }
    }
}

impl LicenceEvent {
    /// An event from JSON (an API body, a database row), checked like a file's event: the
    /// kind's fields beside `date` and `reason`, an unknown one refused. A `null` counts as
    /// absent (TOML has no null).
    pub fn from_json(v: serde_json::Value) -> Result<LicenceEvent, String> {
        let serde_json::Value::Object(mut m) = v else {
            return Err("an event is a JSON object".into());
        };
        m.retain(|_, v| !v.is_null());
        serde_json::from_value(serde_json::Value::Object(m)).map_err(|e| e.to_string())
    }

    /// The event as JSON, without null fields, so that [`LicenceEvent::from_json`] reads it
    /// back.
    pub fn to_json(&self) -> serde_json::Value {
        let mut v = serde_json::to_value(self).unwrap_or_default();
        if let serde_json::Value::Object(m) = &mut v {
            m.retain(|_, v| !v.is_null());
        }
        v
    }
}

impl TryFrom<toml::Table> for LicenceEvent {
    type Error = String;

    fn try_from(t: toml::Table) -> Result<LicenceEvent, String> {
        let kind = t
            .get("kind")
            .and_then(|k| k.as_str())
            .ok_or("missing field `kind`")?
            .to_string();
        let allowed: &[&str] = match kind.as_str() {
            "amendment" => &[
                "valid_until",
                "quantities",
                "add_destinations",
                "add_consignees",
            ],
            "suspension" => &["until"],
            "reinstatement" | "full_revocation" => &[],
            "partial_revocation" => &[
                "items",
                "consignees",
                "end_users",
                "destinations",
                "quantities",
            ],
            other => {
                return Err(format!(
                    "unknown event kind `{other}` (amendment, suspension, reinstatement, \
                     partial_revocation, full_revocation)"
                ))
            }
        };
        for k in t.keys() {
            let common = ["kind", "date", "reason", "instrument"].contains(&k.as_str());
            if !common && !allowed.contains(&k.as_str()) {
                return Err(format!("unknown field `{k}` for a {kind} event"));
            }
        }
        #[derive(Deserialize)]
        struct Common {
            date: Date,
            reason: String,
            #[serde(default)]
            instrument: Option<String>,
        }
        let c: Common = toml::Value::Table(t.clone())
            .try_into()
            .map_err(|e: toml::de::Error| e.message().to_string())?;
        let mut rest = t;
        for k in ["date", "reason", "instrument"] {
            rest.remove(k);
        }
        let kind: EventKind = toml::Value::Table(rest)
            .try_into()
            .map_err(|e: toml::de::Error| e.message().to_string())?;
        Ok(LicenceEvent {
            date: c.date,
            kind,
            reason: c.reason,
            instrument: c.instrument,
        })
    }
}

/// Keys of a `[[licence]]` table.
const LICENCE_KEYS: &[&str] = &[
    "number",
    "authority",
    "jurisdiction",
    "kind",
    "holder",
    "consignees",
    "end_users",
    "items",
    "destinations",
    "value_ceiling",
    "currency",
    "granted_on",
    "valid_from",
    "valid_until",
    "conditions",
    "legal_basis",
    "determination",
    "event",
    "shipment",
];

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawRegister {
    #[serde(default)]
    licence: Vec<LicenceRecord>,
}

/// Parse a register file: `[[licence]]` tables, each with `[[licence.item]]`,
/// `[[licence.event]]` and `[[licence.shipment]]`. Checks what the types cannot: unique
/// numbers and item ids, ISO country codes, dates in order, shipments that the licence
/// authorised when they were made. Errors name the file and field.
pub fn parse_register(text: &str, file: &str) -> Result<Vec<LicenceRecord>, ControlsError> {
    let toml_err = |e: toml::de::Error| ControlsError::Toml {
        file: file.to_string(),
        message: e.to_string(),
    };
    // `#[serde(flatten)]` cannot refuse unknown keys: the licence tables are checked here.
    let table: toml::Table = toml::from_str(text).map_err(toml_err)?;
    if let Some(toml::Value::Array(ls)) = table.get("licence") {
        for (li, l) in ls.iter().enumerate() {
            for k in l.as_table().into_iter().flat_map(|t| t.keys()) {
                if !LICENCE_KEYS.contains(&k.as_str()) {
                    return Err(ControlsError::Field {
                        file: file.to_string(),
                        field: format!("licence[{li}].{k}"),
                        message: format!("unknown field (known: {})", LICENCE_KEYS.join(", ")),
                    });
                }
            }
        }
    }
    let raw: RawRegister = toml::from_str(text).map_err(toml_err)?;
    let mut numbers = BTreeSet::new();
    let mut out = Vec::with_capacity(raw.licence.len());
    for (li, rec) in raw.licence.into_iter().enumerate() {
        let field = |f: String, m: String| ControlsError::Field {
            file: file.to_string(),
            field: format!("licence[{li}].{f}"),
            message: m,
        };
        let l = &rec.licence;
        if !numbers.insert(l.number.clone()) {
            return Err(field(
                "number".into(),
                format!("`{}` is empty or used twice", l.number),
            ));
        }
        check_licence(l).map_err(|(f, m)| field(f, m))?;
        // Replay events and shipments in order: the file must tell a history that could have
        // happened.
        let mut replay = LicenceRecord {
            licence: rec.licence.clone(),
            events: Vec::new(),
            shipments: Vec::new(),
        };
        for (k, e) in rec.events.iter().enumerate() {
            replay
                .add_event(e.clone())
                .map_err(|x| field(format!("event[{k}]"), x.to_string()))?;
        }
        for (k, s) in rec.shipments.iter().enumerate() {
            replay
                .ship(s.clone())
                .map_err(|x| field(format!("shipment[{k}]"), x.to_string()))?;
        }
        out.push(rec);
    }
    Ok(out)
}

/// What the types cannot check about a licence as granted: a number, ISO country codes, at
/// least one item line with unique ids, non-negative ceilings, validity in order. The error is
/// `(field, message)`, the field relative to the licence (`destinations[1]`, `items[0].id`).
/// Used by [`parse_register`] and by every other way a licence enters the register (the
/// database), so the rules live in one place.
pub fn check_licence(l: &Licence) -> Result<(), (String, String)> {
    let field = |f: String, m: String| Err((f, m));
    if l.number.trim().is_empty() {
        return field("number".into(), "a licence needs its number".into());
    }
    if l.jurisdiction != "EU" && !crate::country::is_iso3(&l.jurisdiction) {
        return field(
            "jurisdiction".into(),
            format!(
                "`{}` is not an ISO 3166-1 alpha-3 code or EU",
                l.jurisdiction
            ),
        );
    }
    for (k, d) in l.destinations.iter().enumerate() {
        if !crate::country::is_iso3(d) {
            return field(
                format!("destinations[{k}]"),
                format!("`{d}` is not an ISO 3166-1 alpha-3 code"),
            );
        }
    }
    if l.items.is_empty() {
        return field(
            "items".into(),
            "a licence needs at least one item line".into(),
        );
    }
    let mut ids = BTreeSet::new();
    for (k, it) in l.items.iter().enumerate() {
        if !ids.insert(it.id.as_str()) {
            return field(
                format!("items[{k}].id"),
                format!("`{}` is used twice", it.id),
            );
        }
        for (name, v) in [("quantity", it.quantity), ("value", it.value)] {
            if let Some(v) = v {
                if !(v.is_finite() && v >= 0.0) {
                    return field(
                        format!("items[{k}].{name}"),
                        format!("{v} is not a non-negative number"),
                    );
                }
            }
        }
    }
    if let Some(v) = l.value_ceiling {
        if !(v.is_finite() && v >= 0.0) {
            return field(
                "value_ceiling".into(),
                format!("{v} is not a non-negative number"),
            );
        }
    }
    if let Some(u) = l.valid_until {
        if u < l.valid_from {
            return field(
                "valid_until".into(),
                format!("{u} is before valid_from {}", l.valid_from),
            );
        }
    }
    Ok(())
}

/// Write a register back in the same format.
pub fn register_to_toml(records: &[LicenceRecord]) -> Result<String, ControlsError> {
    #[derive(Serialize)]
    struct Out<'a> {
        licence: &'a [LicenceRecord],
    }
    toml::to_string(&Out { licence: records }).map_err(|e| ControlsError::Toml {
        file: "(register)".into(),
        message: e.to_string(),
    })
}

/// Whether a licence of the register can cover a requirement a determination found.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Cover {
    pub licence: String,
    pub jurisdiction: String,
    pub covers: bool,
    /// Why (or why not), naming the version, the grandfathering text or the refusal.
    pub reason: String,
}

/// For every `licence_required` (or `prohibited`) verdict of `d`, the register's licences of
/// that jurisdiction under the measure that decided it, and whether each covers the shipment on
/// its date: valid, not suspended or revoked, the destination and (when the licence names them)
/// the end user authorised, and granted under the version in force, or under an earlier version
/// when the version in force keeps earlier licences valid (grandfathering, applied from the
/// measure data). Item lines and quantities are checked when the shipment is drawn down
/// ([`LicenceRecord::ship`]).
pub fn covers(
    engine: &crate::Engine,
    d: &crate::Determination,
    register: &[LicenceRecord],
) -> Vec<Cover> {
    use crate::OutcomeKind;
    let mut out = Vec::new();
    for v in &d.verdicts {
        if !matches!(
            v.outcome,
            OutcomeKind::LicenceRequired | OutcomeKind::Prohibited
        ) {
            continue;
        }
        let Some(mid) = &v.measure_id else { continue };
        for rec in register {
            let l = &rec.licence;
            if l.jurisdiction != v.jurisdiction || &l.legal_basis.measure_id != mid {
                continue;
            }
            let mut cover = |covers: bool, reason: String| {
                out.push(Cover {
                    licence: l.number.clone(),
                    jurisdiction: v.jurisdiction.clone(),
                    covers,
                    reason,
                })
            };
            if v.outcome == OutcomeKind::Prohibited {
                cover(
                    false,
                    format!("{mid} prohibits the shipment: no licence covers it"),
                );
                continue;
            }
            let Some(now) = engine.version_on(mid, d.date) else {
                cover(
                    false,
                    format!("{mid} has no version in force on {}", d.date),
                );
                continue;
            };
            if now.version != l.legal_basis.version {
                let granted_under = engine
                    .versions(mid)
                    .and_then(|vs| vs.iter().find(|m| m.version == l.legal_basis.version));
                match (granted_under, &now.grandfathering) {
                    (None, _) => {
                        cover(
                            false,
                            format!(
                                "granted under version `{}`, which {mid} does not have",
                                l.legal_basis.version
                            ),
                        );
                        continue;
                    }
                    (Some(_), Some(_)) if l.granted_on < now.in_force_from => {}
                    (Some(_), Some(_)) | (Some(_), None) => {
                        cover(
                            false,
                            format!(
                                "granted on {} under version `{}`; version `{}` in force since {} \
                                 {}",
                                l.granted_on,
                                l.legal_basis.version,
                                now.version,
                                now.in_force_from,
                                if now.grandfathering.is_some() {
                                    "keeps only licences granted before it valid"
                                } else {
                                    "keeps no earlier licence valid (no grandfathering)"
                                }
                            ),
                        );
                        continue;
                    }
                }
            }
            let st = rec.state_on(d.date);
            let why_not = match &st.status {
                Status::Active => None,
                Status::NotYetValid { valid_from } => {
                    Some(format!("not valid before {valid_from}"))
                }
                Status::Expired { on } => Some(format!("expired on {on}")),
                Status::Suspended { since, .. } => Some(format!("suspended since {since}")),
                Status::Revoked { on, reason } => Some(format!("revoked on {on}: {reason}")),
            }
            .or_else(|| {
                (!st.destinations.contains(&d.to))
                    .then(|| format!("destination {} not authorised", d.to))
            })
            .or_else(|| {
                let eu = d.end_user.as_deref()?;
                (!l.end_users.is_empty() && !st.end_users.contains(&party_key(eu)))
                    .then(|| format!("end user `{eu}` not authorised"))
            })
            .or_else(|| {
                let c = d
                    .party_screening
                    .iter()
                    .find(|p| p.role == crate::PartyRole::Consignee)?;
                (!l.consignees.is_empty() && !st.consignees.contains(&party_key(&c.name)))
                    .then(|| format!("consignee `{}` not authorised", c.name))
            });
            match why_not {
                Some(w) => cover(false, w),
                None => {
                    let grand = if now.version != l.legal_basis.version {
                        format!(
                            "; granted on {} under version `{}`, before version `{}` ({}): {}",
                            l.granted_on,
                            l.legal_basis.version,
                            now.version,
                            now.in_force_from,
                            now.grandfathering.as_deref().unwrap_or_default()
                        )
                    } else {
                        String::new()
                    };
                    cover(
                        true,
                        format!(
                            "valid until {}{grand}",
                            st.valid_until
                                .map_or("revoked".to_string(), |u| u.to_string())
                        ),
                    )
                }
            }
        }
    }
    out
}

/// What an event takes away from a licence: compared on the event's date, the state with the
/// event against the state without it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct EventImpact {
    pub licence: String,
    pub date: Date,
    pub event: String,
    /// Item lines no longer authorised, with the quantity and value that were still left.
    pub items: Vec<ItemLoss>,
    pub consignees_removed: Vec<String>,
    pub end_users_removed: Vec<String>,
    pub destinations_removed: Vec<String>,
    /// Whether nothing at all can be shipped any more (full revocation or suspension).
    pub stops_everything: bool,
    /// Value left on the licence before the event that can no longer be shipped (lines with a
    /// value ceiling, or the whole licence's ceiling when it stops everything).
    pub value_no_longer_authorised: Option<f64>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ItemLoss {
    pub id: String,
    pub description: String,
    pub product: Option<String>,
    /// Quantity left before the event that is no longer authorised (`None`: no ceiling).
    pub quantity: Option<f64>,
    pub value: Option<f64>,
}

impl LicenceRecord {
    /// The impact of `e` (proposed or recorded), without changing the record.
    pub fn impact_of(&self, e: &LicenceEvent) -> Result<EventImpact, ControlsError> {
        // A recorded event: its history up to it, without and with it. A proposed one: the
        // whole history, without and with it appended (checked like any new event).
        let mut without = self.clone();
        let mut with = self.clone();
        match self.events.iter().position(|x| x == e) {
            Some(k) => {
                without.events.truncate(k);
                with.events.truncate(k + 1);
            }
            None => with.add_event(e.clone())?,
        }
        let (a, b) = (without.state_on(e.date), with.state_on(e.date));
        let stops = b.status != Status::Active && a.status == Status::Active;
        let mut items = Vec::new();
        for (x, y) in a.items.iter().zip(&b.items) {
            let line = self.licence.items.iter().find(|i| i.id == x.id);
            let lost_q = match (x.remaining_quantity, y.remaining_quantity) {
                _ if (stops || y.revoked) && !x.revoked => Some(x.remaining_quantity),
                (Some(p), Some(q)) if q < p => Some(Some(p - q)),
                _ => None,
            };
            if let Some(q) = lost_q {
                items.push(ItemLoss {
                    id: x.id.clone(),
                    description: line.map(|l| l.description.clone()).unwrap_or_default(),
                    product: line.and_then(|l| l.product.clone()),
                    quantity: q,
                    value: if stops || y.revoked {
                        x.remaining_value
                    } else {
                        None
                    },
                });
            }
        }
        // States compare parties by key; show them as the licence spells them.
        let names: Vec<&String> = self
            .licence
            .consignees
            .iter()
            .chain(&self.licence.end_users)
            .chain(self.events.iter().flat_map(|e| match &e.kind {
                EventKind::Amendment { add_consignees, .. } => add_consignees.iter(),
                _ => [].iter(),
            }))
            .collect();
        let shown = |k: &String| {
            names
                .iter()
                .find(|n| party_key(n) == *k)
                .map_or_else(|| k.clone(), |n| (*n).clone())
        };
        let diff = |p: &BTreeSet<String>, q: &BTreeSet<String>| {
            if stops {
                p.iter().map(shown).collect()
            } else {
                p.difference(q).map(shown).collect::<Vec<_>>()
            }
        };
        let value = if stops {
            a.remaining_value
                .or_else(|| items.iter().map(|i| i.value).sum::<Option<f64>>())
        } else {
            items.iter().filter_map(|i| i.value).reduce(|p, q| p + q)
        };
        Ok(EventImpact {
            licence: self.licence.number.clone(),
            date: e.date,
            event: e.kind.name().to_string(),
            items,
            consignees_removed: diff(&a.consignees, &b.consignees),
            end_users_removed: diff(&a.end_users, &b.end_users),
            destinations_removed: diff(&a.destinations, &b.destinations),
            stops_everything: stops,
            value_no_longer_authorised: value,
        })
    }
}
