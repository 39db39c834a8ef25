//! The impact of a licensing decision across a register: a proposed or recorded revocation
//! (full or partial), suspension or amendment of one or more licences. Which licences,
//! consignees, destinations, item lines and scheduled shipments it touches; the value and
//! quantity no longer authorised; and, through the scenario engine, the effect on supply by
//! consumer, with the incidence across destination countries ("does it target one country in
//! effect?").
//!
//! The supply effect is an estimate with its assumptions stated, never a silent zero:
//! - a line's value is its value ceiling left, else the quantity left times the unit value of
//!   the licence's own shipments of that line; otherwise it is unknown (named);
//! - values are converted to US dollars at a stated rate per currency (`Fx`); a currency without
//!   a rate leaves the value unknown;
//! - the licence's items reach the value-chain model through the catalogue product's
//!   `model_item`; its exporter is the licence's jurisdiction;
//! - the flow the decision cuts into is estimated as the model's market size of the item times
//!   the exporter's (country-view) share times the destination's consumer weight, like
//!   `measure impact`; an exporter whose share is not given leaves the flow unknown (no equal
//!   split);
//! - the scenario engine blocks whole flows, so each consumer's item availability is scaled by
//!   the fraction of the flow cut (linear estimate), and the whole-block result is shown as the
//!   upper bound.

use crate::catalogue::Catalogue;
use crate::date::Date;
use crate::impact::{destination_values, incidence_of, DestinationValue, Incidence};
use crate::licence::{party_key, EventImpact, LicenceEvent, LicenceRecord, ShipmentDraw};
use crate::ControlsError;
use chipwatch_analysis::scenario::{run, Scenario, Shock};
use chipwatch_model::ValueChain;
use serde::Serialize;
use std::collections::{BTreeMap, BTreeSet};

/// A decision on one licence of the register.
#[derive(Debug, Clone, PartialEq)]
pub struct Proposal {
    /// The licence number.
    pub licence: String,
    pub event: LicenceEvent,
}

/// US dollars per unit of each currency, with where the rates come from.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Fx {
    pub usd_per: BTreeMap<String, f64>,
    pub source: String,
}

impl Default for Fx {
    /// USD 1; EUR at the ECB's 2024 average euro reference rate (1 EUR = 1.0824 USD).
    fn default() -> Self {
        Fx {
            usd_per: [("USD".to_string(), 1.0), ("EUR".to_string(), 1.0824)]
                .into_iter()
                .collect(),
            source: "EUR: ECB euro foreign exchange reference rate, 2024 annual average (1.0824 \
                     USD per EUR)"
                .to_string(),
        }
    }
}

impl Fx {
    /// USD per unit of a licence's `currency` field ("EUR", "EUR million", "USD thousand"),
    /// or `None` when the currency has no rate or the text is not understood.
    pub fn usd_per_unit(&self, currency: &str) -> Option<f64> {
        let mut words = currency.split_whitespace();
        let code = words.next()?.to_ascii_uppercase();
        let scale = match words.next().map(str::to_ascii_lowercase).as_deref() {
            None => 1.0,
            Some("thousand") => 1e3,
            Some("million") | Some("mn") | Some("m") => 1e6,
            Some("billion") | Some("bn") => 1e9,
            Some(_) => return None,
        };
        if words.next().is_some() {
            return None;
        }
        self.usd_per.get(&code).map(|r| r * scale)
    }
}

/// A shipment dated after the decision that the licence authorised without it and refuses with
/// it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TouchedShipment {
    pub licence: String,
    pub reference: String,
    pub date: Date,
    pub item: String,
    pub quantity: f64,
    pub value: f64,
    pub destination: String,
    pub consignee: String,
    /// Why it would be refused.
    pub refusal: String,
}

/// The value a licence's decision takes away, in the licence's currency and in USD.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct LicenceLoss {
    pub impact: EventImpact,
    pub holder: String,
    pub jurisdiction: String,
    pub currency: Option<String>,
    /// In the licence's currency; `None`: unknown (reasons in `unknown_because`).
    pub value: Option<f64>,
    pub value_usd: Option<f64>,
    /// Destinations the lost value is attributed to, with their shares (0..1).
    pub destinations: Vec<(String, f64)>,
    pub unknown_because: Vec<String>,
}

/// The cut into one model flow (item, exporter, destination).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct FlowCut {
    pub item_id: String,
    pub item_name: String,
    pub exporter: String,
    pub destination: String,
    pub lost_usd: Option<f64>,
    /// Estimated yearly flow of the item from the exporter to the destination.
    pub flow_usd: Option<f64>,
    /// Share of the flow cut (0..1); `None`: unknown, only the upper bound applies.
    pub fraction: Option<f64>,
    pub basis: String,
}

/// Availability of one item for one consumer.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ItemEffect {
    pub item_id: String,
    pub baseline_min: f64,
    /// The whole flow blocked.
    pub upper_bound_min: f64,
    /// Scaled by the fraction cut; `None` when the fraction is unknown.
    pub estimate_min: Option<f64>,
}

/// One consumer economy.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ConsumerEffect {
    pub country: String,
    pub name: String,
    /// Whether the decision's licences ship to it.
    pub destination: bool,
    pub final_output_baseline: f64,
    pub final_output_upper_bound: f64,
    pub final_output_estimate: Option<f64>,
    pub binding_constraint: Vec<String>,
    pub items: Vec<ItemEffect>,
}

/// The whole decision.
#[derive(Debug, Clone, Serialize)]
pub struct DecisionImpact {
    pub licences: Vec<LicenceLoss>,
    pub scheduled_shipments: Vec<TouchedShipment>,
    pub consignees: Vec<String>,
    pub end_users: Vec<String>,
    pub destinations: Vec<String>,
    /// Value no longer authorised, in USD, summed over the licences where it is known.
    pub value_usd_known: f64,
    /// Licences whose lost value is unknown (so `value_usd_known` is a lower bound).
    pub value_unknown_licences: Vec<String>,
    pub value_by_destination: Vec<DestinationValue>,
    pub incidence: Incidence,
    pub flows: Vec<FlowCut>,
    pub affected_consumers: Vec<ConsumerEffect>,
    pub unaffected_consumers: Vec<String>,
    pub assumptions: Vec<String>,
    pub notes: Vec<String>,
    pub provenance: serde_json::Value,
}

fn impact_err(m: String) -> ControlsError {
    ControlsError::Impact(m)
}

/// Unit value of a line from the licence's own shipments of it (value / quantity), if any.
fn unit_value(r: &LicenceRecord, line: &str) -> Option<f64> {
    let (q, v) = r
        .shipments
        .iter()
        .filter(|s| s.item == line)
        .fold((0.0, 0.0), |(q, v), s| (q + s.quantity, v + s.value));
    (q > 0.0 && v > 0.0).then(|| v / q)
}

/// Shipments after `date` authorised without the event and refused with it.
fn touched_shipments(r: &LicenceRecord, e: &LicenceEvent) -> Vec<TouchedShipment> {
    let later: Vec<&ShipmentDraw> = r.shipments.iter().filter(|s| s.date > e.date).collect();
    if later.is_empty() {
        return Vec::new();
    }
    let mut without = r.clone();
    without.shipments.retain(|s| s.date <= e.date);
    let mut with = without.clone();
    match r.events.iter().position(|x| x == e) {
        Some(k) => {
            without.events.remove(k);
        }
        None => {
            if with.add_event(e.clone()).is_err() {
                return Vec::new();
            }
        }
    }
    let mut out = Vec::new();
    for s in later {
        let before = without.check_shipment(s).is_ok();
        if before {
            without.shipments.push(s.clone());
        }
        match with.check_shipment(s) {
            Ok(_) => with.shipments.push(s.clone()),
            Err(refusal) if before => out.push(TouchedShipment {
                licence: r.licence.number.clone(),
                reference: s.reference.clone(),
                date: s.date,
                item: s.item.clone(),
                quantity: s.quantity,
                value: s.value,
                destination: s.destination.clone(),
                consignee: s.consignee.clone(),
                refusal: refusal.to_string(),
            }),
            Err(_) => {}
        }
    }
    out
}

/// Lost value of one licence and where it goes.
fn licence_loss(
    r: &LicenceRecord,
    imp: EventImpact,
    fx: &Fx,
    weights: &BTreeMap<String, f64>,
) -> LicenceLoss {
    let mut unknown_because = Vec::new();
    let l = &r.licence;
    // Value in the licence's currency: ceilings left, else quantity left x own unit value.
    let mut value = Some(0.0);
    if imp.stops_everything && imp.value_no_longer_authorised.is_some() {
        value = imp.value_no_longer_authorised;
    } else {
        for it in imp.items.iter() {
            let v = it.value.or_else(|| {
                let q = it.quantity?;
                unit_value(r, &it.id).map(|u| u * q)
            });
            match v {
                Some(v) => value = value.map(|x| x + v),
                None => {
                    unknown_because.push(format!(
                        "line {} ({}): no value ceiling and no shipment to take a unit value from",
                        it.id, it.description
                    ));
                    value = None;
                }
            }
        }
        if imp.items.is_empty()
            && (!imp.consignees_removed.is_empty()
                || !imp.end_users_removed.is_empty()
                || !imp.destinations_removed.is_empty())
        {
            unknown_because.push(
                "parties or destinations removed without item lines: the licence does not split \
                 its ceilings by party or destination"
                    .to_string(),
            );
            value = None;
        }
    }
    let currency = l.currency.clone();
    let value_usd = match (value, &currency) {
        (Some(0.0), _) => Some(0.0),
        (Some(v), Some(c)) => match fx.usd_per_unit(c) {
            Some(rate) => Some(v * rate),
            None => {
                unknown_because.push(format!("no exchange rate for currency `{c}`"));
                None
            }
        },
        (Some(_), None) => {
            unknown_because.push("the licence states no currency".to_string());
            None
        }
        (None, _) => None,
    };
    // Destinations: those the decision removes, else those the licence ships to; several are
    // weighted by the licence's own shipments, else by consumer weight (stated).
    let dests: Vec<String> = if !imp.destinations_removed.is_empty() {
        imp.destinations_removed.clone()
    } else {
        let mut d: Vec<String> = l.destinations.clone();
        for e in &r.events {
            if e.date <= imp.date {
                if let crate::licence::EventKind::Amendment {
                    add_destinations, ..
                } = &e.kind
                {
                    d.extend(add_destinations.iter().cloned());
                }
            }
        }
        d.sort();
        d.dedup();
        d
    };
    let mut shares: Vec<(String, f64)> = Vec::new();
    if dests.len() == 1 {
        shares.push((dests[0].clone(), 1.0));
    } else if !dests.is_empty() {
        let shipped: BTreeMap<&str, f64> = r
            .shipments
            .iter()
            .filter(|s| dests.contains(&s.destination))
            .fold(BTreeMap::new(), |mut m, s| {
                *m.entry(s.destination.as_str()).or_default() += s.value;
                m
            });
        let total: f64 = shipped.values().sum();
        let wtotal: f64 = dests.iter().filter_map(|d| weights.get(d)).sum();
        for d in &dests {
            let s = if total > 0.0 {
                shipped.get(d.as_str()).copied().unwrap_or(0.0) / total
            } else if wtotal > 0.0 {
                weights.get(d).copied().unwrap_or(0.0) / wtotal
            } else {
                1.0 / dests.len() as f64
            };
            shares.push((d.clone(), s));
        }
        unknown_because.push(format!(
            "the lost value is attributed to {} destinations by {}",
            dests.len(),
            if total > 0.0 {
                "the licence's own shipments to them"
            } else if wtotal > 0.0 {
                "their consumer weight in the model (no shipments to them yet)"
            } else {
                "equal parts (no shipments and no consumer weights)"
            }
        ));
    }
    LicenceLoss {
        holder: l.holder.clone(),
        jurisdiction: l.jurisdiction.clone(),
        currency,
        value,
        value_usd,
        destinations: shares,
        unknown_because,
        impact: imp,
    }
}

/// Country-view share (percent) of `exporter` in `item`; `None` when a provider of the item is
/// listed without a share and the known shares do not settle the exporter's.
fn exporter_share(vc: &ValueChain, item: &str, exporter: &str) -> Option<f64> {
    let idx = vc.item_idx(item)?;
    let mut share = None;
    let mut blank_ours = false;
    for s in vc.latest_shares(idx) {
        let Some(p) = vc.provider_by_id(&s.provider) else {
            continue;
        };
        if !p.in_country_view() || p.country.as_deref() != Some(exporter) {
            continue;
        }
        match s.share {
            Some(v) => share = Some(share.unwrap_or(0.0) + v),
            None => blank_ours = true,
        }
    }
    if blank_ours {
        None
    } else {
        Some(share.unwrap_or(0.0))
    }
}

/// Impact of `proposals` (or recorded events, when a proposal equals an event of its licence)
/// on the register `records`.
pub fn decision_impact(
    records: &[LicenceRecord],
    proposals: &[Proposal],
    catalogue: &Catalogue,
    vc: &ValueChain,
    fx: &Fx,
) -> Result<DecisionImpact, ControlsError> {
    if proposals.is_empty() {
        return Err(impact_err("no decision to assess".to_string()));
    }
    let mut notes = Vec::new();
    let mut assumptions = vec![
        "a line's value left is its value ceiling left, else its quantity left times the unit \
         value of the licence's own shipments of that line"
            .to_string(),
        format!("exchange rates: {}", fx.source),
        "the exporter is the licence's jurisdiction; items reach the model through the catalogue \
         product's model item"
            .to_string(),
        "flow cut = value no longer authorised / (market size x exporter's share x destination's \
         consumer weight); availability scaled linearly by that fraction, the whole flow blocked \
         is the upper bound"
            .to_string(),
    ];

    let mut base = Scenario::new("baseline for a licensing decision".to_string());
    base.horizon_days = 365;
    let baseline = run(vc, &base).map_err(|e| impact_err(e.to_string()))?;
    let weights: BTreeMap<String, f64> = baseline
        .consumers
        .iter()
        .map(|c| (c.country.clone(), c.weight))
        .collect();
    let total_weight: f64 = weights.values().sum::<f64>().max(f64::MIN_POSITIVE);

    let mut losses = Vec::new();
    let mut scheduled = Vec::new();
    let (mut consignees, mut end_users, mut destinations) =
        (BTreeSet::new(), BTreeSet::new(), BTreeSet::new());
    for p in proposals {
        let key = party_key(&p.licence);
        let r = records
            .iter()
            .find(|r| party_key(&r.licence.number) == key)
            .ok_or_else(|| impact_err(format!("no licence `{}` in the register", p.licence)))?;
        let imp = r.impact_of(&p.event)?;
        scheduled.extend(touched_shipments(r, &p.event));
        consignees.extend(imp.consignees_removed.iter().cloned());
        end_users.extend(imp.end_users_removed.iter().cloned());
        let loss = licence_loss(r, imp, fx, &weights);
        destinations.extend(loss.destinations.iter().map(|(d, _)| d.clone()));
        losses.push((r, loss));
    }

    // Value by destination and the flows cut.
    let mut by_dest: BTreeMap<String, f64> = BTreeMap::new();
    let mut value_unknown = Vec::new();
    let mut value_known = 0.0;
    // (item, exporter, destination) -> lost USD (None once any part is unknown)
    let mut cuts: BTreeMap<(String, String, String), Option<f64>> = BTreeMap::new();
    for (r, loss) in &losses {
        match loss.value_usd {
            Some(v) => {
                value_known += v;
                for (d, s) in &loss.destinations {
                    *by_dest.entry(d.clone()).or_default() += v * s;
                }
            }
            None => value_unknown.push(loss.impact.licence.clone()),
        }
        // Lost USD per line, for the flows.
        let rate = loss.currency.as_deref().and_then(|c| fx.usd_per_unit(c));
        let lines: Vec<(Option<String>, Option<f64>)> = if loss.impact.stops_everything {
            // Every line; split a licence-wide value by line only when one line is left.
            let st = r.state_on(loss.impact.date);
            let live: Vec<_> = st.items.iter().filter(|i| !i.revoked).collect();
            live.iter()
                .map(|i| {
                    let line = r.licence.items.iter().find(|l| l.id == i.id);
                    let v = i
                        .remaining_value
                        .or_else(|| Some(i.remaining_quantity? * unit_value(r, &i.id)?))
                        .or(if live.len() == 1 { loss.value } else { None });
                    (line.and_then(|l| l.product.clone()), v)
                })
                .collect()
        } else {
            loss.impact
                .items
                .iter()
                .map(|it| {
                    let v = it
                        .value
                        .or_else(|| Some(it.quantity? * unit_value(r, &it.id)?));
                    (it.product.clone(), v)
                })
                .collect()
        };
        for (product, v) in lines {
            let Some(product) = product else {
                notes.push(format!(
                    "licence {}: a line names no catalogue product; its supply effect is not \
                     computed",
                    loss.impact.licence
                ));
                continue;
            };
            let item = match catalogue.find(&product) {
                Ok(p) => match &p.model_item {
                    Some(i) if vc.item_idx(i).is_some() => i.clone(),
                    _ => {
                        notes.push(format!(
                            "product `{product}` has no model item; its supply effect is not \
                             computed"
                        ));
                        continue;
                    }
                },
                Err(_) => {
                    notes.push(format!(
                        "product `{product}` is not in the catalogue; its supply effect is not \
                         computed"
                    ));
                    continue;
                }
            };
            let usd = v.zip(rate).map(|(v, r)| v * r);
            for (d, s) in &loss.destinations {
                let e = cuts
                    .entry((item.clone(), r.licence.jurisdiction.clone(), d.clone()))
                    .or_insert(Some(0.0));
                *e = e.zip(usd).map(|(a, b)| a + b * s);
            }
        }
    }

    let mut flows = Vec::new();
    let mut shocks = Vec::new();
    for ((item, exporter, dest), lost) in &cuts {
        let idx = vc.item_idx(item).expect("checked above");
        let it = vc.item(idx);
        let w = weights.get(dest).copied();
        let share = exporter_share(vc, item, exporter);
        let market = it.market_size.as_ref().map(|m| m.usd);
        let flow = match (market, share, w) {
            (Some(m), Some(s), Some(w)) => Some(m * s / 100.0 * w / total_weight),
            _ => None,
        };
        let mut basis = Vec::new();
        if market.is_none() {
            basis.push("the item has no market size".to_string());
        }
        if share.is_none() {
            basis.push(format!(
                "{exporter}'s share of the item is not given in the model"
            ));
        }
        if w.is_none() {
            basis.push(format!(
                "{dest} is not a consumer in the model (no fab or ATP capacity)"
            ));
        }
        if lost.is_none() {
            basis.push("the value no longer authorised is unknown".to_string());
        }
        let fraction = match (lost, flow) {
            (Some(l), Some(f)) if f > 0.0 => Some((l / f).min(1.0)),
            (Some(l), Some(_)) if *l == 0.0 => Some(0.0),
            _ => None,
        };
        if let (Some(l), Some(f)) = (lost, flow) {
            if f > 0.0 && *l > f {
                basis.push(format!(
                    "the value cut ({:.0} USD) exceeds the estimated yearly flow ({:.0} USD): \
                     capped at the whole flow",
                    l, f
                ));
            }
        }
        if w.is_some() && vc.country_provider(exporter).is_some() && fraction != Some(0.0) {
            shocks.push(Shock::ExportBlock {
                from: vec![exporter.clone()],
                to: vec![dest.clone()],
                items: vec![item.clone()],
                start_day: 0,
                duration_days: None,
                fraction: None,
            });
        } else if vc.country_provider(exporter).is_none() {
            basis.push(format!(
                "{exporter} is not a country provider in the model: no scenario run"
            ));
        }
        flows.push(FlowCut {
            item_id: item.clone(),
            item_name: it.name.clone(),
            exporter: exporter.clone(),
            destination: dest.clone(),
            lost_usd: *lost,
            flow_usd: flow,
            fraction,
            basis: if basis.is_empty() {
                "estimated".to_string()
            } else {
                basis.join("; ")
            },
        });
    }

    let mut sc = Scenario::new("licensing decision".to_string());
    sc.horizon_days = 365;
    sc.shocks = shocks;
    let shocked = run(vc, &sc).map_err(|e| impact_err(e.to_string()))?;
    // The engine's equal-split notes concern the whole model, not this decision: one line names
    // the items (the full notes are in `scenario run`), the rest are kept.
    let (splits, other): (Vec<&String>, Vec<&String>) = shocked
        .notes
        .iter()
        .partition(|n| n.contains("listed without a share"));
    if !splits.is_empty() {
        let ids: Vec<&str> = splits
            .iter()
            .filter_map(|n| n.split_whitespace().next())
            .collect();
        notes.push(format!(
            "the scenario engine splits the unassigned share equally among providers listed \
             without a share for {} item(s) ({}); `chipwatch scenario run` lists them",
            ids.len(),
            ids.join(", ")
        ));
    }
    notes.extend(other.into_iter().cloned());

    // Fraction per (item, consumer): its own cut where it is a destination; elsewhere (effects
    // passed on through the chain) the largest cut of the item.
    let mut affected = Vec::new();
    let mut unaffected = Vec::new();
    for (b, s) in baseline.consumers.iter().zip(&shocked.consumers) {
        let mut items = Vec::new();
        let mut f_consumer: Option<f64> = Some(0.0);
        let item_ids: BTreeSet<&str> = flows.iter().map(|f| f.item_id.as_str()).collect();
        for id in item_ids {
            let find = |c: &chipwatch_analysis::scenario::ConsumerResult| {
                c.items
                    .iter()
                    .find(|x| &*x.item_id == id)
                    .map(|x| x.availability_min)
            };
            let (Some(bv), Some(sv)) = (find(b), find(s)) else {
                continue;
            };
            let own: Vec<&FlowCut> = flows
                .iter()
                .filter(|f| f.item_id == id && f.destination == s.country)
                .collect();
            let f = if own.is_empty() {
                flows
                    .iter()
                    .filter(|f| f.item_id == id)
                    .map(|f| f.fraction)
                    .try_fold(0.0f64, |m, x| x.map(|x| m.max(x)))
            } else {
                own.iter()
                    .map(|f| f.fraction)
                    .try_fold(0.0f64, |m, x| x.map(|x| m + x))
                    .map(|x| x.min(1.0))
            };
            if sv < bv - 1e-9 {
                f_consumer = f_consumer.zip(f).map(|(a, b)| a.max(b));
            }
            items.push(ItemEffect {
                item_id: id.to_string(),
                baseline_min: bv,
                upper_bound_min: sv,
                estimate_min: f.map(|f| bv - f * (bv - sv)),
            });
        }
        let (fb, fs) = (
            b.final_output.availability_min,
            s.final_output.availability_min,
        );
        let hit = (fs - fb).abs() > 1e-9
            || items
                .iter()
                .any(|i| i.upper_bound_min < i.baseline_min - 1e-9);
        if hit {
            affected.push(ConsumerEffect {
                country: s.country.clone(),
                name: s.name.clone(),
                destination: destinations.contains(&s.country),
                final_output_baseline: fb,
                final_output_upper_bound: fs,
                final_output_estimate: f_consumer.map(|f| fb - f * (fb - fs)),
                binding_constraint: s.final_output.binding_constraint.clone(),
                items,
            });
        } else {
            unaffected.push(s.country.clone());
        }
    }
    affected.sort_by(|a, b| {
        (a.final_output_upper_bound - a.final_output_baseline)
            .total_cmp(&(b.final_output_upper_bound - b.final_output_baseline))
            .then(a.country.cmp(&b.country))
    });

    let (dests, total) = destination_values(by_dest);
    let names_countries = proposals.iter().any(|p| {
        matches!(&p.event.kind, crate::licence::EventKind::PartialRevocation { destinations, .. } if !destinations.is_empty())
    });
    let incidence = incidence_of(&dests, total, names_countries, "the decision");
    if !value_unknown.is_empty() {
        notes.push(format!(
            "the value no longer authorised is unknown for {} licence(s) ({}): the totals and the \
             incidence are lower bounds over the others",
            value_unknown.len(),
            value_unknown.join(", ")
        ));
    }
    assumptions.push(format!(
        "scenario horizon 365 days; {} consumer economies in the model",
        weights.len()
    ));
    Ok(DecisionImpact {
        licences: losses.into_iter().map(|(_, l)| l).collect(),
        scheduled_shipments: scheduled,
        consignees: consignees.into_iter().collect(),
        end_users: end_users.into_iter().collect(),
        destinations: destinations.into_iter().collect(),
        value_usd_known: value_known,
        value_unknown_licences: value_unknown,
        value_by_destination: dests,
        incidence,
        flows,
        affected_consumers: affected,
        unaffected_consumers: unaffected,
        assumptions,
        notes,
        provenance: serde_json::to_value(&shocked.provenance).unwrap_or(serde_json::Value::Null),
    })
}
