//! Impact of an event, estimated with the scenario engine (`chipwatch_analysis::scenario`) on the
//! model: export controls, licence revocations and entity listings become export blocks from the
//! imposing to the target countries for the event's items; fires, earthquakes, power outages,
//! strikes and extreme weather become capacity losses of the affected firm (or the site's
//! country). The result says which consumers lose how much of which item, what binds, and every
//! assumption used (the engine's and the mapping's).

use crate::detect::Classified;
use crate::MonitorError;
use chipwatch_analysis::scenario::{self, Assumptions, Scenario, Shock};
use chipwatch_model::ValueChain;
use serde::{Deserialize, Serialize};

/// Simulated period for alert impacts: long enough for inventories to run out.
pub const HORIZON_DAYS: u32 = 180;

/// Loss of one item for one consumer.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct ItemLoss {
    pub item_id: String,
    pub name: String,
    /// Lowest availability over the horizon (1 = full supply).
    pub availability_min: f64,
    pub tts_days: Option<f64>,
}

/// One consuming country hit by the event.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct ConsumerImpact {
    pub country: String,
    pub final_output_availability_min: f64,
    pub binding_constraint: Vec<String>,
    pub binding_providers: Vec<String>,
    pub losses: Vec<ItemLoss>,
}

/// Impact estimate attached to an alert.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Impact {
    pub shocks: Vec<Shock>,
    pub horizon_days: u32,
    /// Consumers with a loss, worst first (at most 8).
    pub consumers: Vec<ConsumerImpact>,
    pub world_availability_min: f64,
    /// How the event became shocks (named assumptions of this mapping).
    pub mapping_assumptions: Vec<String>,
    /// The engine's assumptions, echoed.
    pub engine_assumptions: Assumptions,
    /// Model, dataset and vintage behind the numbers.
    pub provenance: serde_json::Value,
    pub notes: Vec<String>,
}

/// Capacity lost, duration and recovery (days) assumed per disruption type. Documented in
/// docs/monitor.md; rough orders of magnitude from past events (Renesas Naka fire 2021: about one
/// month down, three to recover; Hsinchu/Taiwan quakes: days to two weeks).
pub fn disruption_defaults(event_type: &str) -> Option<(f64, u32, u32)> {
    Some(match event_type {
        "factory_fire" => (0.5, 30, 60),
        "earthquake" => (0.3, 14, 30),
        "power_outage" => (0.2, 3, 7),
        "strike" => (0.3, 14, 7),
        "extreme_weather" => (0.2, 7, 14),
        _ => return None,
    })
}

/// Turn an event into shocks, or say why it cannot be.
pub fn shocks_for(c: &Classified, vc: &ValueChain) -> Result<(Vec<Shock>, Vec<String>), String> {
    let et = c.event_type.as_str();
    let mut notes = Vec::new();
    if matches!(
        et,
        "export_control" | "licence_revocation" | "entity_listing"
    ) {
        if c.actors.imposing.is_empty() || c.actors.target.is_empty() {
            return Err("no imposing or no target country identified".into());
        }
        if c.items.is_empty() {
            return Err("no item of the model identified".into());
        }
        notes.push(format!(
            "export block: all flows of {} from {} to {} stop from day 0 until the horizon (worst case: the report may concern only some products or customers)",
            c.items.join(", "),
            c.actors.imposing.join(", "),
            c.actors.target.join(", ")
        ));
        return Ok((
            vec![Shock::ExportBlock {
                from: c.actors.imposing.clone(),
                to: c.actors.target.clone(),
                items: c.items.clone(),
                start_day: 0,
                duration_days: None,
                fraction: None,
            }],
            notes,
        ));
    }
    let Some((fraction, duration, recovery)) = disruption_defaults(et) else {
        return Err(format!("event type `{et}` does not map to a shock"));
    };
    // The affected firm if the model lists it, else the place.
    let provider = c
        .organisations
        .iter()
        .find(|o| o.role == "affected" && o.provider_id.is_some())
        .and_then(|o| o.provider_id.clone())
        .or_else(|| c.locations.first().cloned())
        .or_else(|| c.actors.target.first().cloned())
        .ok_or_else(|| "no affected provider or location identified".to_string())?;
    // Locations and targets are ISO alpha-3 codes; the model's shares name the country's
    // provider id (`JPN` is provider `P..` of type country).
    let provider = match vc.country_provider(&provider) {
        Some(p) => vc.provider(p).id.clone(),
        None => provider,
    };
    // What the provider supplies in the model; the event's items only where the provider
    // supplies them (a fab fire names the wafers it processes, not what it makes).
    let mut supplied: Vec<String> = vc
        .model()
        .shares
        .iter()
        .filter(|s| s.provider == provider && vc.item_idx(&s.item).is_some())
        .map(|s| s.item.to_string())
        .collect();
    supplied.sort();
    supplied.dedup();
    let mut items: Vec<String> = c
        .items
        .iter()
        .filter(|i| supplied.contains(i))
        .cloned()
        .collect();
    if items.is_empty() {
        if supplied.is_empty() {
            return Err(format!(
                "provider `{provider}` supplies no item of the model"
            ));
        }
        items = supplied;
        notes.push(format!("items: everything `{provider}` supplies in the model (the report names none it supplies)"));
    }
    notes.push(format!(
        "capacity loss for {et}: {provider} loses {:.0}% of its capacity for {} days, then recovers linearly over {} days (monitor default for {et})",
        fraction * 100.0,
        duration,
        recovery
    ));
    Ok((
        vec![Shock::CapacityLoss {
            provider,
            items,
            fraction,
            start_day: 0,
            duration_days: Some(duration),
            recovery_days: recovery,
        }],
        notes,
    ))
}

/// Run the scenario engine for an event.
pub fn estimate(c: &Classified, vc: &ValueChain) -> Result<Impact, MonitorError> {
    let (shocks, mapping_assumptions) = shocks_for(c, vc).map_err(MonitorError::Impact)?;
    estimate_shocks(c, vc, shocks, mapping_assumptions)
}

/// Run the scenario engine for an event whose shocks were derived elsewhere (trade signals,
/// [`crate::trade`]), with the assumptions of that derivation.
pub fn estimate_shocks(
    c: &Classified,
    vc: &ValueChain,
    shocks: Vec<Shock>,
    mapping_assumptions: Vec<String>,
) -> Result<Impact, MonitorError> {
    let mut s = Scenario::new(format!("monitor: {} ({})", c.event_type, c.title));
    s.horizon_days = HORIZON_DAYS;
    s.step_days = 30;
    s.shocks = shocks.clone();
    let r = scenario::run(vc, &s).map_err(|e| MonitorError::Impact(e.to_string()))?;
    let mut consumers: Vec<ConsumerImpact> = r
        .consumers
        .iter()
        .filter_map(|cr| {
            let mut losses: Vec<ItemLoss> = cr
                .items
                .iter()
                .filter(|i| i.availability_min < 0.999)
                .map(|i| ItemLoss {
                    item_id: i.item_id.to_string(),
                    name: i.name.to_string(),
                    availability_min: round3(i.availability_min),
                    tts_days: i.tts_days,
                })
                .collect();
            if losses.is_empty() && cr.final_output.availability_min >= 0.999 {
                return None;
            }
            losses.sort_by(|a, b| a.availability_min.total_cmp(&b.availability_min));
            losses.truncate(5);
            Some(ConsumerImpact {
                country: cr.country.clone(),
                final_output_availability_min: round3(cr.final_output.availability_min),
                binding_constraint: cr.final_output.binding_constraint.clone(),
                binding_providers: cr.final_output.binding_providers.clone(),
                losses,
            })
        })
        .collect();
    consumers.sort_by(|a, b| {
        a.final_output_availability_min
            .total_cmp(&b.final_output_availability_min)
            .then_with(|| {
                a.losses
                    .first()
                    .map(|l| l.availability_min)
                    .unwrap_or(1.0)
                    .total_cmp(&b.losses.first().map(|l| l.availability_min).unwrap_or(1.0))
            })
    });
    consumers.truncate(8);
    Ok(Impact {
        shocks,
        horizon_days: HORIZON_DAYS,
        consumers,
        world_availability_min: round3(r.world.availability_min),
        mapping_assumptions,
        engine_assumptions: r.assumptions.clone(),
        provenance: serde_json::to_value(&r.provenance).unwrap_or_default(),
        notes: r.notes.clone(),
    })
}

fn round3(x: f64) -> f64 {
    (x * 1000.0).round() / 1000.0
}
