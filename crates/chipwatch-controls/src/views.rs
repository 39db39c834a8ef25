//! JSON views of measures that the CLI (`measure list|show --json`) and the API
//! (`/api/v1/measures`) both print, so the two cannot drift.

use crate::measure::{Measure, Suspension};
use serde_json::{json, Value};

/// The list row of a measure version.
pub fn measure_row(m: &Measure) -> Value {
    json!({
        "id": m.id, "version": m.version, "jurisdiction": m.jurisdiction,
        "instrument": m.instrument, "citation": m.citation,
        "in_force_from": m.in_force_from, "in_force_until": m.in_force_until,
        "file": m.file,
    })
}

/// Everything about one version: validity, suspensions, rules, coverage assumptions,
/// approximations, gaps and notes.
pub fn measure_detail(m: &Measure) -> Value {
    let susp =
        |s: &Suspension| json!({"from": s.from, "until": s.until, "instrument": s.instrument});
    json!({
        "id": m.id, "version": m.version, "file": m.file, "title": m.title,
        "jurisdiction": m.jurisdiction, "authority": m.authority,
        "instrument": m.instrument, "citation": m.citation, "url": m.url,
        "in_force_from": m.in_force_from, "in_force_until": m.in_force_until,
        "replaced_by": m.replaced_by,
        "suspensions": m.suspensions.iter().map(susp).collect::<Vec<_>>(),
        "rules": m.rules.iter().map(|r| json!({
            "destinations": r.destinations.describe(),
            "outcome": r.outcome.as_str(),
            "label": r.label,
            "suspensions": r.suspensions.iter().map(susp).collect::<Vec<_>>(),
        })).collect::<Vec<_>>(),
        "coverage": m.coverage.iter().map(|c| json!({
            "item": c.item, "from": c.from, "fraction": c.fraction, "assumption": c.assumption,
        })).collect::<Vec<_>>(),
        "approximations": m.approximations,
        "gaps": m.gaps,
        "notes": m.notes,
    })
}
