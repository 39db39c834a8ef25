//! The segment layer (scenario engine v2): where chips are made against where they are used.
//!
//! Wafer fabs (by owner, site and process segment, `data/fabs/`) produce each segment's chips;
//! their capacity falls with capacity losses on their site's country, their owner or the fab, with
//! consumables running out (the item model of BRIEF 3.3 computed for the fab's country, with
//! inventories) and with blocked tools (the installed base keeps producing and erodes, growth
//! stops); ATP capacity by country caps what can be packaged. Output reaches consuming economies
//! through a trade matrix (pro rata to demand by default), and a shortage is shared by a named rule
//! (pro rata, home first, allies first). Flows denied by measures in force on the baseline date are
//! part of the baseline: results are changes against the world as it is.
//!
//! Semantics and every assumption: `docs/scenarios.md`, "Segments".

mod layer;
mod simulate;

use super::engine::round6;
use super::*;
use chipwatch_model::production::{Fab, NeedKind, ProductionData, Segment, TradeMatrix};
use chipwatch_model::{ItemKind, ValueChain};
use layer::{norm, Layer};

const EPS: f64 = 1e-5;

/// A segment's need resolved in the model: segment, item index, kind, dependence, item id.
type Need = (Segment, usize, NeedKind, f64, String);
/// (min, end, tts, worst day, shortfall days, series) of a daily series.
type Stats6 = (f64, f64, Option<f64>, u32, f64, Vec<(u32, f64)>);
const NS: usize = 6;

/// The EU-27 (since 1 February 2020): an export block or a demand naming `EU27` means these.
pub const EU27_MEMBERS: [&str; 27] = [
    "AUT", "BEL", "BGR", "HRV", "CYP", "CZE", "DNK", "EST", "FIN", "FRA", "DEU", "GRC", "HUN",
    "IRL", "ITA", "LVA", "LTU", "LUX", "MLT", "NLD", "POL", "PRT", "ROU", "SVK", "SVN", "ESP",
    "SWE",
];

/// One segment for one economy.
#[derive(Debug, Clone, Serialize)]
pub struct SegmentResult {
    pub segment: Segment,
    /// Share of world demand in the segment (percent) the economy stands for.
    pub demand_share_pct: f64,
    pub availability_min: f64,
    pub availability_end: f64,
    /// Days from the first shock until the segment falls short, after the chip inventory.
    pub tts_days: Option<f64>,
    pub worst_day: u32,
    pub shortfall_days: f64,
    /// Segment, producing country, cause on the worst day (empty when nothing falls short).
    pub binding_constraint: Vec<String>,
    pub series: Vec<(u32, f64)>,
    /// Where inputs have providers listed without a share that the shocks hit: the lowest
    /// availability when the unassigned share belongs to the providers hit (first) and when it
    /// belongs to the others (second). `None`: no unknown share matters.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub availability_min_range: Option<(f64, f64)>,
}

/// A consuming economy.
#[derive(Debug, Clone, Serialize)]
pub struct EconomyResult {
    pub code: String,
    pub name: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub part_of: Option<String>,
    pub segments: Vec<SegmentResult>,
    /// All segments together, weighted by world wafer capacity per segment.
    pub chips_min: f64,
    pub chips_end: f64,
    pub chips_series: Vec<(u32, f64)>,
    /// `chips_min` over the unknown shares (see [`SegmentResult::availability_min_range`]).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub chips_min_range: Option<(f64, f64)>,
}

/// One segment worldwide: capacity, what reaches consumers, what was lost.
#[derive(Debug, Clone, Serialize)]
pub struct WorldSegment {
    pub segment: Segment,
    /// Producing capacity on the baseline date (wafer starts per month, 300 mm equivalents).
    pub baseline_wspm_300eq: f64,
    /// Lowest world capacity as a fraction of the baseline (before spare capacity is used).
    pub capacity_min: f64,
    /// Lowest world output (capacity with the spare `headroom` of fabs not hit, after
    /// assembly and test) as a fraction of baseline demand, capped at 1.
    pub supply_min: f64,
    /// Capacity lost over the horizon (300 mm equivalent wafers).
    pub wafers_lost_300eq: f64,
    /// Capacity lost over the first 90 days from the first shock, as a share of 90 days of
    /// baseline capacity (the "quarter" calibration figures are quoted in).
    pub quarter_lost_share: f64,
    /// Lowest demand-weighted availability over the economies (after chip inventory).
    pub availability_min: f64,
}

/// Capacity of one owner's fabs of one segment in one country.
#[derive(Debug, Clone, Serialize)]
pub struct ProductionRow {
    pub country: String,
    pub owner: String,
    pub segment: Segment,
    /// Wafer starts per month, 300 mm equivalents, on the baseline date.
    pub baseline_wspm_300eq: f64,
    pub capacity_min: f64,
    pub capacity_end: f64,
    /// Capacity lost over the horizon (300 mm equivalent wafers).
    pub wafers_lost_300eq: f64,
    /// What limits it on its worst day.
    pub cause: String,
}

/// What the baseline already denies.
#[derive(Debug, Clone, Serialize)]
pub struct BaselineView {
    pub date: Option<String>,
    pub denials: Vec<BaselineDenial>,
    /// Shocks (or parts of them) that change nothing because the flow is already denied.
    pub already_denied: Vec<String>,
}

/// Where the segment layer's numbers come from.
#[derive(Debug, Clone, Serialize)]
pub struct SegmentProvenance {
    pub fabs: String,
    pub fab_rows: usize,
    pub producing_fabs: usize,
    pub fabs_without_capacity: usize,
    pub baseline_year: i32,
    /// Producing capacity over the cited world total (percent), with the total's source.
    pub coverage_pct: Option<f64>,
    pub coverage_total: String,
    pub demand: String,
    pub allocation: String,
    pub trade_matrix: String,
    pub segment_weights: String,
}

/// Run a scenario with the segment layer: the item-level result of [`run`] plus `economies`,
/// `production`, `baseline` and each consumer's `segments`.
pub fn run_with_production(
    vc: &ValueChain,
    s: &Scenario,
    prod: &ProductionData,
    matrix: Option<&TradeMatrix>,
) -> Result<ScenarioResult, ScenarioError> {
    s.validate()?;
    let layer = Layer::new(vc, s, prod, matrix)?;
    // The item-level view runs without the segment names (which it does not know).
    let mut v1 = s.clone();
    v1.shocks = layer.item_shocks.clone();
    // The item view and the segment layer are independent: run them on both cores.
    let (result, out) = rayon::join(|| run(vc, &v1), || layer.simulate(vc, s, None));
    let (mut result, mut out) = (result?, out?);
    // Unknown shares: the two ends of the interval, when a shock reaches a provider listed
    // without a number for an input some segment needs.
    let hits = layer.hits(vc);
    let (unknown, hit) = layer.unknown_inputs_hit(vc, &hits);
    if !unknown.is_empty() {
        let (worst, best) = rayon::join(
            || layer.simulate(vc, s, Some((&hit, true))),
            || layer.simulate(vc, s, Some((&hit, false))),
        );
        let (worst, best) = (worst?, best?);
        for (e, (w, b)) in out
            .economies
            .iter_mut()
            .zip(worst.economies.iter().zip(&best.economies))
        {
            e.chips_min_range = Some((w.chips_min, b.chips_min));
            for (sg, (ws, bs)) in e
                .segments
                .iter_mut()
                .zip(w.segments.iter().zip(&b.segments))
            {
                sg.availability_min_range = Some((ws.availability_min, bs.availability_min));
            }
        }
        out.notes.push(format!(
            "unknown shares: {} list providers without a number that the shocks reach; \
             availability_min_range gives the lowest availability when the unassigned share \
             belongs to the providers hit and when it belongs to the others (the point value \
             splits it evenly)",
            unknown.join(", ")
        ));
    }
    for c in &mut result.consumers {
        if let Some(e) = out.economies.iter().find(|e| e.code == c.country) {
            c.segments = e.segments.clone();
        }
    }
    result.notes.extend(out.notes);
    result.world_segments = out.world;
    result.economies = out.economies;
    result.production = out.production;
    result.baseline = Some(out.baseline);
    result.segment_provenance = Some(out.provenance);
    Ok(result)
}

pub(super) struct Output {
    pub(super) world: Vec<WorldSegment>,
    pub(super) economies: Vec<EconomyResult>,
    pub(super) production: Vec<ProductionRow>,
    pub(super) baseline: BaselineView,
    pub(super) provenance: SegmentProvenance,
    pub(super) notes: Vec<String>,
}

/// Keys a shock may name a fab's owner by: the owner as written, and the names and aliases of
/// the model's firm of that name.
pub(super) fn owner_keys(vc: &ValueChain, f: &Fab) -> Vec<String> {
    let mut keys = vec![norm(&f.owner)];
    if let Ok(p) = vc.find_provider(&f.owner) {
        let pr = vc.provider(p);
        keys.push(norm(&pr.name));
        keys.push(norm(&pr.id));
        keys.extend(pr.aliases.iter().map(|a| norm(a)));
    }
    keys.sort();
    keys.dedup();
    keys
}

pub(super) fn item_name(vc: &ValueChain, k: usize) -> String {
    vc.items()
        .nth(k)
        .map(|(_, it)| it.name.clone())
        .unwrap_or_default()
}

pub(super) fn stage_of_ref(vc: &ValueChain, r: &str) -> Option<StageKind> {
    if let Some(st) = super::engine::stage_ref(vc, r) {
        return Some(st);
    }
    let i = vc.find_item(r).ok()?;
    let it = vc.item(i);
    (it.kind == ItemKind::Process)
        .then(|| vc.stage(i))
        .flatten()
}

/// `EU27` as its members; other references unchanged.
pub(super) fn expand_economies(v: &[String]) -> Vec<String> {
    let mut out = Vec::new();
    for r in v {
        if r.trim() == "EU27" {
            out.extend(EU27_MEMBERS.iter().map(|x| x.to_string()));
        } else {
            out.push(r.clone());
        }
    }
    out
}

pub(super) fn resolve_country_code_pub(vc: &ValueChain, r: &str) -> Option<String> {
    let r = r.trim();
    if r.len() == 3 && r.chars().all(|c| c.is_ascii_uppercase()) {
        return vc.country_provider(r).map(|_| r.to_string());
    }
    None
}

/// (min, end, tts, worst day, shortfall days, series) of a daily series.
pub(super) fn stats_of(v: &[f32], report: &[u32], first_shock: u32) -> Stats6 {
    let mut min = f64::INFINITY;
    let mut worst = 0;
    let mut tts = None;
    let mut short = 0.0;
    for (t, &x) in v.iter().enumerate() {
        let x = f64::from(x);
        if x < min - 1e-12 {
            min = x;
            worst = t as u32;
        }
        if tts.is_none() && x < 1.0 - EPS && t as u32 >= first_shock {
            tts = Some(f64::from(t as u32 - first_shock));
        }
        short += 1.0 - x.min(1.0);
    }
    let series = report
        .iter()
        .map(|&t| (t, round6(f64::from(v[t as usize]))))
        .collect();
    (
        round6(min.min(1.0)),
        round6(f64::from(*v.last().unwrap_or(&1.0))),
        tts,
        worst,
        round6(short),
        series,
    )
}

#[cfg(test)]
mod tests;
