//! Measure impact: map a measure to the value-chain items it covers (the covered fraction of each
//! item is a documented assumption in the measure file), turn the destinations where licences are
//! denied into export blocks, run the scenario engine, and report who is hit, how much, through
//! which binding constraint, the blocked value by destination, and an incidence index (HHI of the
//! blocked value across destinations): does the measure target one country even when its text
//! names none?

use crate::date::Date;
use crate::engine::Engine;
use crate::measure::{Measure, OutcomeKind, ReviewPolicy};
use crate::ControlsError;
use chipwatch_analysis::scenario::{run, Scenario, ScenarioResult, Shock};
use chipwatch_model::ValueChain;
use serde::Serialize;
use std::collections::{BTreeMap, BTreeSet};
use std::io::Write;

/// One covered item.
#[derive(Debug, Clone, Serialize)]
pub struct ItemImpact {
    pub item_id: String,
    pub name: String,
    pub fraction: f64,
    pub assumption: String,
    pub exporters: Vec<String>,
    pub market_size_usd: Option<f64>,
    pub market_year: Option<i32>,
    /// Combined share (percent, country view) of the exporting countries.
    pub exporters_share_pct: f64,
    /// Value of the item's trade caught by the measure towards denied destinations.
    pub blocked_value_usd: f64,
}

/// Availability of one covered item for one consumer.
#[derive(Debug, Clone, Serialize)]
pub struct ItemAvailability {
    pub item_id: String,
    pub baseline_min: f64,
    /// With the whole item blocked (the scenario engine's export block is all-or-nothing).
    pub blocked_min: f64,
    /// Coverage-weighted estimate: 1 - fraction x (baseline - blocked) below baseline.
    pub estimate_min: f64,
}

/// One consuming country.
#[derive(Debug, Clone, Serialize)]
pub struct CountryImpact {
    pub country: String,
    pub name: String,
    pub denied: bool,
    pub final_output_baseline: f64,
    pub final_output_blocked: f64,
    pub change: f64,
    pub binding_constraint: Vec<String>,
    pub items: Vec<ItemAvailability>,
}

/// Blocked value towards one destination.
#[derive(Debug, Clone, Serialize)]
pub struct DestinationValue {
    pub country: String,
    pub blocked_value_usd: f64,
    pub share_pct: f64,
}

/// How concentrated the blocked value is across destinations.
#[derive(Debug, Clone, Serialize)]
pub struct Incidence {
    /// Herfindahl-Hirschman index of the destinations' shares of blocked value (0..10000).
    pub hhi: f64,
    pub effective_destinations: f64,
    pub top_destination: Option<String>,
    pub top_share_pct: f64,
    /// Whether the measure's own rules name countries (rather than groups or "all").
    pub text_names_countries: bool,
    pub reading: String,
}

/// The impact report.
#[derive(Debug, Clone, Serialize)]
pub struct ImpactReport {
    pub measure_id: String,
    pub version: String,
    pub instrument: String,
    pub citation: String,
    pub date: Date,
    pub denied_destinations: Vec<String>,
    pub deny_basis: String,
    pub items: Vec<ItemImpact>,
    pub affected_countries: Vec<CountryImpact>,
    pub unaffected_countries: Vec<String>,
    pub blocked_value_by_destination: Vec<DestinationValue>,
    pub incidence: Incidence,
    pub assumptions: Vec<String>,
    pub notes: Vec<String>,
    pub provenance: serde_json::Value,
}

fn scenario_err(e: impl std::fmt::Display) -> ControlsError {
    ControlsError::Impact(e.to_string())
}

/// Destinations (among `countries`) where the measure, on `date`, prohibits or reviews under a
/// presumption of denial (no fallback).
pub(crate) fn strict_denials(
    e: &Engine,
    m: &Measure,
    countries: &[String],
    date: Date,
) -> Vec<String> {
    let (v, basis) = default_denials(e, m, countries, date);
    if basis.starts_with("destinations where") {
        v
    } else {
        Vec::new()
    }
}

/// Destinations (among `countries`) where the measure, on `date`, denies: prohibited or
/// licence with presumption of denial. Falls back to every licence destination when none is.
fn default_denials(
    e: &Engine,
    m: &Measure,
    countries: &[String],
    date: Date,
) -> (Vec<String>, String) {
    let mut strict = Vec::new();
    let mut any_licence = Vec::new();
    for c in countries {
        // First unconditional rule that covers the destination decides (end-user, end-use and
        // item-specific rules depend on the shipment and are left out).
        let rule = m.rules.iter().find(|r| {
            r.end_user_lists.is_empty()
                && r.end_uses.is_empty()
                && r.when.is_none()
                && !r
                    .suspensions
                    .iter()
                    .any(|s| s.from <= date && date <= s.until)
                && e.in_dest(&r.destinations, c, date)
        });
        if let Some(r) = rule {
            match (r.outcome, r.review_policy) {
                (OutcomeKind::Prohibited, _)
                | (
                    OutcomeKind::LicenceRequired,
                    Some(crate::measure::PolicySource::Fixed(ReviewPolicy::PresumptionOfDenial)),
                ) => {
                    strict.push(c.clone());
                    any_licence.push(c.clone());
                }
                (OutcomeKind::LicenceRequired, _) => any_licence.push(c.clone()),
                _ => {}
            }
        }
    }
    if !strict.is_empty() {
        (
            strict,
            "destinations where the measure prohibits or reviews under a presumption of denial"
                .to_string(),
        )
    } else {
        (
            any_licence,
            "no destination is denied by the text: assumes every licence application is denied \
             (worst case); use --deny to model actual licensing practice"
                .to_string(),
        )
    }
}

/// Countries whose exports the measure's reach names on `date` (its own territory).
pub(crate) fn exporters_of(e: &Engine, m: &Measure, date: Date) -> Vec<String> {
    match &m.reach.exporters {
        Some(d) => {
            let mut v: BTreeSet<String> = d.countries.iter().cloned().collect();
            for g in &d.groups {
                if let Some(g) = e.groups().get(g) {
                    v.extend(g.members_on(date).into_iter().map(str::to_string));
                }
            }
            v.into_iter().collect()
        }
        None => Vec::new(),
    }
}

/// Run the impact assessment of measure `id` (version in force on `date`).
pub fn measure_impact(
    e: &Engine,
    vc: &ValueChain,
    id: &str,
    date: Date,
    deny: &[String],
) -> Result<ImpactReport, ControlsError> {
    let versions = e
        .versions(id)
        .ok_or_else(|| ControlsError::UnknownMeasure(id.to_string()))?;
    let m = e.version_on(id, date).ok_or_else(|| {
        ControlsError::Impact(format!(
            "measure `{id}` is not in force on {date} (versions from {})",
            versions
                .iter()
                .map(|v| v.in_force_from.to_string())
                .collect::<Vec<_>>()
                .join(", ")
        ))
    })?;
    if m.coverage.is_empty() {
        return Err(ControlsError::Impact(format!(
            "measure `{id}` ({}) has no [[coverage]] entries mapping it to model items; add them \
             to {}",
            m.version, m.file
        )));
    }
    let mut notes = Vec::new();
    let mut assumptions = vec![
        "covered fractions are the measure file's documented assumptions".to_string(),
        "the scenario engine blocks a whole item; per-item availability is scaled by the covered \
         fraction (linear estimate), the final-output figures are for the whole item blocked \
         (upper bound)"
            .to_string(),
        "blocked value = market size x covered fraction x exporters' share x destination's \
         consumer weight (the item's sales are assumed to follow consumers' fab capacity)"
            .to_string(),
    ];
    if m.suspensions
        .iter()
        .any(|s| s.from <= date && date <= s.until)
    {
        notes.push(format!(
            "the measure is suspended on {date}; the impact shown is what it would have if applied"
        ));
    }

    // Baseline: consumers and their availability without shocks.
    let mut base = Scenario::new(format!("baseline for {id}"));
    base.horizon_days = 365;
    let baseline = run(vc, &base).map_err(scenario_err)?;
    let consumers: Vec<String> = baseline
        .consumers
        .iter()
        .map(|c| c.country.clone())
        .collect();
    let weights: BTreeMap<&str, f64> = baseline
        .consumers
        .iter()
        .map(|c| (c.country.as_str(), c.weight))
        .collect();

    let exporter_set = exporters_of(e, m, date);
    let (denied, deny_basis) = if deny.is_empty() {
        // Deliveries inside an exporting country are not exports.
        let foreign: Vec<String> = consumers
            .iter()
            .filter(|c| !exporter_set.contains(*c))
            .cloned()
            .collect();
        default_denials(e, m, &foreign, date)
    } else {
        (deny.to_vec(), "--deny (given by the user)".to_string())
    };
    let denied_set: BTreeSet<&str> = denied.iter().map(String::as_str).collect();
    for d in &denied {
        if !weights.contains_key(d.as_str()) {
            notes.push(format!(
                "{d} is not a consumer in the model (no fab/ATP capacity): nothing to block"
            ));
        }
    }
    let block_to: Vec<String> = denied
        .iter()
        .filter(|d| weights.contains_key(d.as_str()))
        .cloned()
        .collect();

    // Items and exporters.
    let default_exporters = exporter_set.clone();
    let mut items = Vec::new();
    let mut shocks = Vec::new();
    let total_weight: f64 = weights.values().sum();
    let mut by_dest: BTreeMap<String, f64> = BTreeMap::new();
    for c in &m.coverage {
        let Some(idx) = vc.item_idx(&c.item) else {
            notes.push(format!(
                "coverage item `{}` is not in the model; skipped",
                c.item
            ));
            continue;
        };
        let it = vc.item(idx);
        let exporters: Vec<String> = if c.from.is_empty() {
            default_exporters.clone()
        } else {
            c.from.clone()
        };
        // Country-view shares; providers listed without a number share the unassigned rest
        // equally, as the scenario engine assumes (its notes say so).
        let mut share = 0.0;
        let (mut known, mut blank, mut blank_ours) = (0.0, 0usize, 0usize);
        for s in vc.latest_shares(idx) {
            let Some(p) = vc.provider_by_id(&s.provider) else {
                continue;
            };
            if !p.in_country_view() {
                continue;
            }
            let ours = p
                .country
                .as_deref()
                .is_some_and(|cc| exporters.iter().any(|x| x == cc));
            match s.share {
                Some(v) => {
                    known += v;
                    if ours {
                        share += v;
                    }
                }
                None => {
                    blank += 1;
                    blank_ours += usize::from(ours);
                }
            }
        }
        if blank > 0 && blank_ours > 0 {
            let rest = (100.0 - known).max(0.0);
            share += rest * blank_ours as f64 / blank as f64;
            notes.push(format!(
                "item {}: {blank_ours} of {blank} providers listed without a share are exporters; \
                 equal split of the unassigned {rest:.1}% assumed",
                c.item
            ));
        }
        let market = it.market_size.as_ref().map(|ms| ms.usd);
        let mut blocked = 0.0;
        if let Some(v) = market {
            for d in &block_to {
                // A country never blocks its own supply.
                if exporters.iter().any(|x| x == d) {
                    continue;
                }
                let w = weights.get(d.as_str()).copied().unwrap_or(0.0);
                let val = v * c.fraction * share / 100.0 * w / total_weight.max(f64::MIN_POSITIVE);
                *by_dest.entry(d.clone()).or_default() += val;
                blocked += val;
            }
        } else {
            notes.push(format!(
                "item {} has no market size: blocked value unknown",
                c.item
            ));
        }
        if share == 0.0 {
            notes.push(format!(
                "item {}: the exporters ({}) hold no share of it in the model",
                c.item,
                exporters.join(", ")
            ));
        }
        let from: Vec<String> = exporters
            .iter()
            .filter(|x| vc.country_provider(x).is_some())
            .cloned()
            .collect();
        if !from.is_empty() && !block_to.is_empty() {
            shocks.push(Shock::ExportBlock {
                from,
                to: block_to.clone(),
                items: vec![c.item.clone()],
                start_day: 0,
                duration_days: None,
                fraction: None,
            });
        }
        items.push(ItemImpact {
            item_id: c.item.clone(),
            name: it.name.clone(),
            fraction: c.fraction,
            assumption: c.assumption.clone(),
            exporters,
            market_size_usd: market,
            market_year: it.market_size.as_ref().and_then(|ms| ms.year),
            exporters_share_pct: share,
            blocked_value_usd: blocked,
        });
    }

    let mut sc = Scenario::new(format!("impact of {id} ({})", m.version));
    sc.horizon_days = 365;
    sc.shocks = shocks;
    let shocked = run(vc, &sc).map_err(scenario_err)?;
    notes.extend(shocked.notes.iter().cloned());

    let (affected, unaffected) = compare(&baseline, &shocked, &items, &denied_set);

    let (dests, total) = destination_values(by_dest);
    let text_names_countries = m.rules.iter().any(|r| !r.destinations.countries.is_empty());
    let incidence = incidence_of(&dests, total, text_names_countries, "the text");
    assumptions.push(format!(
        "scenario horizon 365 days; engine assumptions: {}",
        words(&serde_json::to_value(&shocked.assumptions).unwrap_or_default())
    ));
    Ok(ImpactReport {
        measure_id: m.id.clone(),
        version: m.version.clone(),
        instrument: m.instrument.clone(),
        citation: m.citation.clone(),
        date,
        denied_destinations: denied,
        deny_basis,
        items,
        affected_countries: affected,
        unaffected_countries: unaffected,
        blocked_value_by_destination: dests,
        incidence,
        assumptions,
        notes,
        provenance: serde_json::to_value(&shocked.provenance).unwrap_or(serde_json::Value::Null),
    })
}

/// Blocked value by destination with shares, largest first, and the total.
pub(crate) fn destination_values(by_dest: BTreeMap<String, f64>) -> (Vec<DestinationValue>, f64) {
    let total: f64 = by_dest.values().sum();
    let mut dests: Vec<DestinationValue> = by_dest
        .into_iter()
        .map(|(country, v)| DestinationValue {
            share_pct: if total > 0.0 { 100.0 * v / total } else { 0.0 },
            country,
            blocked_value_usd: v,
        })
        .collect();
    dests.sort_by(|a, b| {
        b.blocked_value_usd
            .total_cmp(&a.blocked_value_usd)
            .then(a.country.cmp(&b.country))
    });
    (dests, total)
}

/// How concentrated `dests` (sorted, largest first; shares of `total`) are: the HHI of the
/// destinations' shares and a reading of it. `text_names_countries`: whether the decision's own
/// text names its target countries (a concentrated incidence is then expected, not hidden).
pub(crate) fn incidence_of(
    dests: &[DestinationValue],
    total: f64,
    text_names_countries: bool,
    subject: &str,
) -> Incidence {
    let hhi: f64 = dests.iter().map(|d| d.share_pct * d.share_pct).sum::<f64>() + 0.0;
    let top = dests.first();
    let reading = match (hhi, text_names_countries) {
        (h, _) if total == 0.0 || h == 0.0 => "no blocked value in the model".to_string(),
        (h, false) if h >= 5000.0 => format!(
            "{subject} names no country, yet one destination ({}) bears {:.0}% of the blocked \
             value: concentrated incidence (HHI {:.0})",
            top.map_or("-", |d| d.country.as_str()),
            top.map_or(0.0, |d| d.share_pct),
            h
        ),
        (h, true) if h >= 5000.0 => {
            format!("concentrated incidence (HHI {h:.0}); {subject} names its target countries")
        }
        (h, _) if h >= 2500.0 => format!("moderately concentrated incidence (HHI {h:.0})"),
        (h, _) => format!("incidence spread across destinations (HHI {h:.0})"),
    };
    Incidence {
        hhi,
        effective_destinations: if hhi > 0.0 { 10_000.0 / hhi } else { 0.0 },
        top_destination: top.map(|d| d.country.clone()),
        top_share_pct: top.map_or(0.0, |d| d.share_pct),
        text_names_countries,
        reading,
    }
}

fn compare(
    baseline: &ScenarioResult,
    shocked: &ScenarioResult,
    items: &[ItemImpact],
    denied: &BTreeSet<&str>,
) -> (Vec<CountryImpact>, Vec<String>) {
    let mut affected = Vec::new();
    let mut unaffected = Vec::new();
    for (b, s) in baseline.consumers.iter().zip(&shocked.consumers) {
        let mut its = Vec::new();
        for ii in items {
            let find = |c: &chipwatch_analysis::scenario::ConsumerResult| {
                c.items
                    .iter()
                    .find(|x| *x.item_id == *ii.item_id)
                    .map(|x| x.availability_min)
            };
            if let (Some(bv), Some(sv)) = (find(b), find(s)) {
                its.push(ItemAvailability {
                    item_id: ii.item_id.clone(),
                    baseline_min: bv,
                    blocked_min: sv,
                    estimate_min: bv - ii.fraction * (bv - sv),
                });
            }
        }
        let change = s.final_output.availability_min - b.final_output.availability_min;
        let item_hit = its.iter().any(|x| x.blocked_min < x.baseline_min - 1e-9);
        if change.abs() > 1e-9 || item_hit {
            affected.push(CountryImpact {
                country: s.country.clone(),
                name: s.name.clone(),
                denied: denied.contains(s.country.as_str()),
                final_output_baseline: b.final_output.availability_min,
                final_output_blocked: s.final_output.availability_min,
                change,
                binding_constraint: s.final_output.binding_constraint.clone(),
                items: its,
            });
        } else {
            unaffected.push(s.country.clone());
        }
    }
    affected.sort_by(|a, b| {
        a.change
            .total_cmp(&b.change)
            .then(a.country.cmp(&b.country))
    });
    (affected, unaffected)
}

/// Plain-text rendering of a report.
pub fn print_report(r: &ImpactReport, out: &mut impl Write) -> std::io::Result<()> {
    writeln!(
        out,
        "Impact of {} (version {}, as of {})",
        r.measure_id, r.version, r.date
    )?;
    writeln!(out, "  {}; {}", r.instrument, r.citation)?;
    let denied = if r.denied_destinations.is_empty() {
        "none".to_string()
    } else {
        r.denied_destinations.join(", ")
    };
    writeln!(out, "  denied destinations: {denied} ({})", r.deny_basis)?;
    writeln!(out, "\nCovered items:")?;
    for i in r.items.iter() {
        writeln!(
            out,
            "  {} {} x {:.2} from {} (share {:.1}%): blocked value ${:.1}M — {}",
            i.item_id,
            i.name,
            i.fraction,
            i.exporters.join("/"),
            i.exporters_share_pct,
            i.blocked_value_usd / 1e6,
            i.assumption
        )?;
    }
    writeln!(
        out,
        "\nAffected countries (final output availability, minimum over the year):"
    )?;
    for c in &r.affected_countries {
        writeln!(
            out,
            "  {}{} {:.3} -> {:.3} ({:+.3}); binding: {}",
            c.country,
            if c.denied { " (denied)" } else { "" },
            c.final_output_baseline,
            c.final_output_blocked,
            c.change,
            if c.binding_constraint.is_empty() {
                "-".to_string()
            } else {
                c.binding_constraint.join(" <- ")
            }
        )?;
        for i in c.items.iter() {
            writeln!(
                out,
                "      {}: {:.3} -> {:.3} whole item blocked, {:.3} with coverage",
                i.item_id, i.baseline_min, i.blocked_min, i.estimate_min
            )?;
        }
    }
    if !r.unaffected_countries.is_empty() {
        writeln!(out, "  unaffected: {}", r.unaffected_countries.join(", "))?;
    }
    writeln!(out, "\nBlocked value by destination:")?;
    for d in &r.blocked_value_by_destination {
        writeln!(
            out,
            "  {}  ${:.1}M  {:.1}%",
            d.country,
            d.blocked_value_usd / 1e6,
            d.share_pct
        )?;
    }
    writeln!(
        out,
        "\nIncidence: HHI {:.0}, effective destinations {:.2}; {}",
        r.incidence.hhi, r.incidence.effective_destinations, r.incidence.reading
    )?;
    writeln!(out, "\nAssumptions:")?;
    for a in &r.assumptions {
        writeln!(out, "  - {a}")?;
    }
    for n in &r.notes {
        writeln!(out, "  note: {n}")?;
    }
    Ok(())
}

/// A JSON value in words for a reader: `{"tool_lag_days":180,"taxonomy":"weighted_mean"}` as
/// `tool lag days 180, taxonomy weighted mean` (nested objects in parentheses).
fn words(v: &serde_json::Value) -> String {
    use serde_json::Value;
    match v {
        Value::Object(m) => m
            .iter()
            .map(|(k, x)| match x {
                Value::Object(_) => format!("{} ({})", k.replace('_', " "), words(x)),
                _ => format!("{} {}", k.replace('_', " "), words(x)),
            })
            .collect::<Vec<_>>()
            .join(", "),
        Value::Array(a) => a.iter().map(words).collect::<Vec<_>>().join(", "),
        Value::String(t) => t.replace('_', " "),
        Value::Null => "none".to_string(),
        other => other.to_string(),
    }
}

#[cfg(test)]
mod words_tests {
    #[test]
    fn assumptions_read_as_words_not_json() {
        let v = serde_json::json!({"tool_lag_days": 180, "taxonomy": "weighted_mean", "inv": {"N1": 0.5}});
        assert_eq!(
            super::words(&v),
            "inv (N1 0.5), taxonomy weighted mean, tool lag days 180"
        );
    }
}
