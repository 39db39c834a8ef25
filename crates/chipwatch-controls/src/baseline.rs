//! The controls in force on a scenario's baseline date, as flows the baseline already lacks:
//! every measure in force that day that prohibits, or reviews under a presumption of denial,
//! exports of items it covers (its `[[coverage]]`) to a destination, and the denials in licensing
//! practice of `data/controls/practice/denials.toml`. The scenario engine takes them as
//! `baseline_denial` entries, so a scenario's results are changes against the world as it is
//! and a shock on an already-denied flow is reported as such.

use crate::date::Date;
use crate::engine::Engine;
use crate::impact::strict_denials;
use crate::ControlsError;
use chipwatch_analysis::scenario::BaselineDenial;
use serde::Deserialize;
use std::collections::BTreeSet;

/// The embedded practice denials.
pub const PRACTICE_TOML: &str = include_str!("../../../data/controls/practice/denials.toml");

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct PracticeFile {
    #[serde(default)]
    denial: Vec<BaselineDenial>,
}

/// Parse a practice-denials file (TOML, `[[denial]]` tables).
pub fn parse_practice(text: &str, origin: &str) -> Result<Vec<BaselineDenial>, ControlsError> {
    let f: PracticeFile = toml::from_str(text).map_err(|e| ControlsError::Toml {
        file: origin.to_string(),
        message: e.to_string(),
    })?;
    for (i, d) in f.denial.iter().enumerate() {
        Date::parse(&d.since).map_err(|m| ControlsError::Toml {
            file: origin.to_string(),
            message: format!("denial[{i}].since: {m}"),
        })?;
        if !(0.0..=1.0).contains(&d.fraction) {
            return Err(ControlsError::Toml {
                file: origin.to_string(),
                message: format!("denial[{i}].fraction: {} is outside 0..=1", d.fraction),
            });
        }
    }
    Ok(f.denial)
}

/// Give a scenario its baseline: the date (`today` when it names none) and, unless it lists its
/// own, the flows denied that day towards every country of the production data (fab sites and
/// consuming economies).
pub fn prepare(
    e: &Engine,
    prod: &chipwatch_model::production::ProductionData,
    s: &mut chipwatch_analysis::scenario::Scenario,
    today: Date,
) -> Result<(), ControlsError> {
    let date = match &s.baseline_date {
        Some(d) => Date::parse(d).map_err(|m| ControlsError::Field {
            file: "scenario".into(),
            field: "baseline_date".into(),
            message: m,
        })?,
        None => {
            s.baseline_date = Some(today.to_string());
            today
        }
    };
    if s.baseline_denials.is_empty() {
        let mut dests: Vec<String> = prod
            .fabs
            .iter()
            .map(|f| f.country.clone())
            .chain(prod.economies.iter().map(|e| e.code.clone()))
            .filter(|c| c.len() == 3 && c != "ROW")
            .collect();
        dests.sort();
        dests.dedup();
        s.baseline_denials = baseline_denials(e, date, &dests)?;
    }
    Ok(())
}

/// Flows denied on `date` towards `destinations` (ISO alpha-3 codes).
pub fn baseline_denials(
    e: &Engine,
    date: Date,
    destinations: &[String],
) -> Result<Vec<BaselineDenial>, ControlsError> {
    let mut out = Vec::new();
    let ids: BTreeSet<&str> = e.measures().iter().map(|m| m.id.as_str()).collect();
    for id in ids {
        let Some(m) = e.version_on(id, date) else {
            continue;
        };
        if m.coverage.is_empty()
            || m.suspensions
                .iter()
                .any(|s| s.from <= date && date <= s.until)
        {
            continue;
        }
        let denied = strict_denials(e, m, destinations, date);
        if denied.is_empty() {
            continue;
        }
        let exporters = crate::impact::exporters_of(e, m, date);
        for c in &m.coverage {
            // Foreign-made items a measure reaches through de minimis or a foreign direct
            // product rule are caught shipment by shipment (by their US content, their
            // production line), so the baseline does not deny them wholesale: it keeps the
            // measure's own exporters. (ASML kept shipping immersion scanners to China under
            // the US rules of 2023: about a third of its 2024 system sales went to China.)
            let from: Vec<String> = if c.from.is_empty() {
                exporters.clone()
            } else {
                c.from
                    .iter()
                    .filter(|f| exporters.contains(f))
                    .cloned()
                    .collect()
            };
            let to: Vec<String> = denied
                .iter()
                .filter(|d| !from.contains(d))
                .cloned()
                .collect();
            if from.is_empty() || to.is_empty() {
                continue;
            }
            out.push(BaselineDenial {
                measure: format!("{} ({})", m.id, m.version),
                from,
                to,
                items: vec![c.item.clone()],
                fraction: c.fraction,
                since: m.in_force_from.to_string(),
                source: m.citation.clone(),
            });
        }
    }
    for d in parse_practice(PRACTICE_TOML, "data/controls/practice/denials.toml")? {
        let since = Date::parse(&d.since).map_err(ControlsError::Impact)?;
        if since <= date && d.to.iter().any(|t| destinations.contains(t)) {
            out.push(d);
        }
    }
    Ok(out)
}
