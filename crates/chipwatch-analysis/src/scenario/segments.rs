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

// Producers, consumers and segments are small dense index spaces; index loops read as the
// formulas in docs/scenarios.md.
#![allow(clippy::needless_range_loop)]

use super::engine::{resolve_provider, round6, Effects, Prepared, Profile};
use super::*;
use chipwatch_model::production::{Economy, Fab, NeedKind, ProductionData, Segment, TradeMatrix};
use chipwatch_model::ProviderIdx;
use chipwatch_model::{ItemKind, ValueChain};
use std::collections::{BTreeSet, HashMap, HashSet};

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
    let mut result = run(vc, &v1)?;
    let mut out = layer.simulate(vc, s, None)?;
    // Unknown shares: the two ends of the interval, when a shock reaches a provider listed
    // without a number for an input some segment needs.
    let hit = layer.hit_providers(vc);
    let unknown = layer.unknown_inputs_hit(vc, &hit);
    if !unknown.is_empty() {
        let worst = layer.simulate(vc, s, Some((&hit, true)))?;
        let best = layer.simulate(vc, s, Some((&hit, false)))?;
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

struct Output {
    world: Vec<WorldSegment>,
    economies: Vec<EconomyResult>,
    production: Vec<ProductionRow>,
    baseline: BaselineView,
    provenance: SegmentProvenance,
    notes: Vec<String>,
}

/// Fabs of one owner, one segment, one country, summed.
#[derive(Debug, Clone)]
struct Unit {
    country: String,
    owner: String,
    owner_keys: Vec<String>,
    fab_ids: Vec<String>,
    segment: Segment,
    base: f64,
}

/// A capacity loss as the segment layer sees it.
#[derive(Debug, Clone)]
struct Loss {
    profile: Profile,
    fraction: f64,
    units: Vec<usize>,
    atp_country: Option<String>,
    label: String,
}

/// A stop of chip flows (an export block naming chips or segments).
#[derive(Debug, Clone)]
struct ChipBlock {
    profile: Profile,
    fraction: f64,
    from: BTreeSet<String>,
    to: BTreeSet<usize>,
    segments: [bool; NS],
}

struct Layer<'a> {
    prod: &'a ProductionData,
    units: Vec<Unit>,
    /// Economies of the partition (no `part_of`), then members.
    economies: Vec<Economy>,
    n_part: usize,
    /// `demand[c][s]`: share (0..1) of world demand of segment `s` for partition economy `c`.
    demand: Vec<[f64; NS]>,
    /// Members: (index of parent, share of the parent's demand per segment).
    member_demand: Vec<[f64; NS]>,
    /// Baseline flows `flow[s][p][c]` (fraction of producer p's baseline output going to c).
    flow: Vec<Vec<Vec<f64>>>,
    producers: Vec<String>,
    /// Economy index (partition) of each producer country.
    producer_home: Vec<usize>,
    losses: Vec<Loss>,
    chip_blocks: Vec<ChipBlock>,
    demand_surge: Vec<(Profile, usize, [bool; NS], f64)>,
    item_shocks: Vec<Shock>,
    atp: Vec<(String, f64)>,
    baseline_year: i32,
    notes: Vec<String>,
    no_capacity: usize,
    matrix_origin: String,
    demand_note: String,
}

fn seg_set(refs: &[String], final_id: &str) -> ([bool; NS], bool) {
    let mut set = [false; NS];
    let mut any = false;
    for r in refs {
        let r = r.trim();
        if r == "*" || r == final_id {
            set = [true; NS];
            any = true;
        } else if let Some(s) = Segment::parse(r) {
            set[s.index()] = true;
            any = true;
        }
    }
    (set, any)
}

fn norm(s: &str) -> String {
    s.chars()
        .filter(|c| c.is_alphanumeric())
        .flat_map(char::to_lowercase)
        .collect()
}

impl<'a> Layer<'a> {
    fn new(
        vc: &ValueChain,
        s: &Scenario,
        prod: &'a ProductionData,
        matrix: Option<&TradeMatrix>,
    ) -> Result<Layer<'a>, ScenarioError> {
        let mut notes = Vec::new();
        let final_id = vc
            .items()
            .find(|(_, it)| it.kind == ItemKind::FinalOutput)
            .map(|(_, it)| it.id.clone())
            .unwrap_or_default();
        let baseline_year = match &s.baseline_date {
            Some(d) => d[..4].parse::<i32>().unwrap_or(2025),
            None => prod
                .fabs
                .iter()
                .filter_map(|f| f.capacity_year)
                .max()
                .unwrap_or(2025),
        };

        // Fab units producing in the baseline year.
        let mut units: Vec<Unit> = Vec::new();
        let mut index: HashMap<(String, String, Segment), usize> = HashMap::new();
        let mut no_capacity = 0;
        for f in prod.fabs.iter().filter(|f| f.producing_in(baseline_year)) {
            let Some(cap) = f.capacity_300eq() else {
                no_capacity += 1;
                continue;
            };
            let key = (f.country.clone(), f.owner.clone(), f.segment);
            let u = *index.entry(key).or_insert_with(|| {
                units.push(Unit {
                    country: f.country.clone(),
                    owner: f.owner.clone(),
                    owner_keys: owner_keys(vc, f),
                    fab_ids: Vec::new(),
                    segment: f.segment,
                    base: 0.0,
                });
                units.len() - 1
            });
            units[u].base += cap;
            units[u].fab_ids.push(f.fab_id.clone());
        }
        if no_capacity > 0 {
            notes.push(format!(
                "{no_capacity} producing fab row(s) have no capacity figure and are left out \
                 (unknown, not zero): see data/fabs/README.md"
            ));
        }
        let mut producers: Vec<String> = units.iter().map(|u| u.country.clone()).collect();
        producers.sort();
        producers.dedup();

        // Economies: the partition first, then members.
        let mut economies: Vec<Economy> = prod
            .economies
            .iter()
            .filter(|e| e.part_of.is_none())
            .cloned()
            .collect();
        let n_part = economies.len();
        economies.extend(
            prod.economies
                .iter()
                .filter(|e| e.part_of.is_some())
                .cloned(),
        );
        let econ_ix = |code: &str| economies.iter().position(|e| e.code == code);
        let row_ix = econ_ix("ROW");
        // The partition economy a country belongs to.
        let home_of = |c: &str| -> Option<usize> {
            if let Some(i) = economies[..n_part].iter().position(|e| e.code == c) {
                return Some(i);
            }
            if let Some(m) = economies.iter().find(|e| e.code == c) {
                if let Some(p) = &m.part_of {
                    return economies[..n_part].iter().position(|e| &e.code == p);
                }
            }
            if EU27_MEMBERS.contains(&c) {
                if let Some(i) = economies[..n_part].iter().position(|e| e.code == "EU27") {
                    return Some(i);
                }
            }
            row_ix.filter(|&r| r < n_part)
        };

        // Demand shares per segment.
        let mut share = vec![[f64::NAN; NS]; economies.len()];
        let mut all = vec![f64::NAN; economies.len()];
        for d in &prod.demand {
            if let Some(c) = econ_ix(&d.consumer) {
                match d.segment {
                    Some(sg) => share[c][sg.index()] = d.share_pct,
                    None => all[c] = d.share_pct,
                }
            }
        }
        for (i, o) in s.assumptions.demand_override.iter().enumerate() {
            let c = econ_ix(o.consumer.trim()).ok_or_else(|| {
                ScenarioError::field(
                    format!("assumptions.demand_override[{i}].consumer"),
                    format!(
                        "unknown consumer `{}` (one of {})",
                        o.consumer,
                        economies
                            .iter()
                            .map(|e| e.code.as_str())
                            .collect::<Vec<_>>()
                            .join(", ")
                    ),
                )
            })?;
            match Segment::parse(&o.segment) {
                Some(sg) => share[c][sg.index()] = o.share_pct,
                None => all[c] = o.share_pct,
            }
            notes.push(format!(
                "demand share of {} in {} set to {}% by the scenario ({})",
                o.consumer,
                o.segment,
                o.share_pct,
                o.source.as_deref().unwrap_or("scenario file")
            ));
        }
        for (c, e) in economies[..n_part].iter().enumerate() {
            if all[c].is_nan() && share[c].iter().any(|x| x.is_nan()) {
                return Err(ScenarioError::field(
                    "demand",
                    format!(
                        "{}: no `all` demand share and not every segment given ({})",
                        e.code, prod.origin
                    ),
                ));
            }
        }
        let mut demand = vec![[0.0; NS]; n_part];
        for sg in 0..NS {
            let explicit: f64 = (0..n_part)
                .filter(|&c| !share[c][sg].is_nan())
                .map(|c| share[c][sg])
                .sum();
            let rest_all: f64 = (0..n_part)
                .filter(|&c| share[c][sg].is_nan())
                .map(|c| all[c])
                .sum();
            let room = (100.0 - explicit).max(0.0);
            for c in 0..n_part {
                demand[c][sg] = if !share[c][sg].is_nan() {
                    share[c][sg]
                } else if rest_all > 0.0 {
                    all[c] / rest_all * room
                } else {
                    0.0
                };
            }
            let tot: f64 = (0..n_part).map(|c| demand[c][sg]).sum();
            if tot <= 0.0 {
                return Err(ScenarioError::field(
                    "demand",
                    format!("no demand in segment {}", Segment::ALL[sg]),
                ));
            }
            for row in demand.iter_mut() {
                row[sg] /= tot;
            }
        }
        // Members: a part of their parent's demand (their own segment share, else their
        // overall share relative to the parent's).
        let mut member_demand = Vec::new();
        for (m, e) in economies.iter().enumerate().skip(n_part) {
            let p = econ_ix(e.part_of.as_deref().unwrap_or("")).unwrap_or(0);
            let mut row = [f64::NAN; NS];
            for (sg, r) in row.iter_mut().enumerate() {
                let parent_pct = demand[p.min(n_part - 1)][sg] * 100.0;
                *r = if !share[m][sg].is_nan() && parent_pct > 0.0 {
                    share[m][sg] / parent_pct
                } else if !all[m].is_nan() && all[p] > 0.0 {
                    all[m] / all[p]
                } else {
                    f64::NAN
                };
            }
            member_demand.push(row);
        }
        let demand_note = format!(
            "{}: economies' shares of world demand (explicit per-segment shares where the data \
             gives them; otherwise the economy's overall share, scaled to fill the segment)",
            prod.origin
        );

        // Baseline flows: a loaded matrix, else pro rata to demand.
        let np = producers.len();
        let mut flow = vec![vec![vec![0.0; n_part]; np]; NS];
        let mut matrix_origin =
            "none: each producer's output reaches consumers pro rata to demand".to_string();
        for sg in 0..NS {
            for (p, _) in producers.iter().enumerate() {
                for c in 0..n_part {
                    flow[sg][p][c] = demand[c][sg];
                }
            }
        }
        if let Some(m) = matrix {
            matrix_origin = m.origin.clone();
            let mut used = 0usize;
            for sg in 0..NS {
                let seg = Segment::ALL[sg];
                let specific = m.flows.iter().any(|f| f.segment == Some(seg));
                for (p, pc) in producers.iter().enumerate() {
                    let ph = home_of(pc);
                    let mut row = vec![0.0; n_part];
                    for f in m.flows.iter().filter(|f| {
                        (if specific {
                            f.segment == Some(seg)
                        } else {
                            f.segment.is_none()
                        }) && (f.from == *pc
                            || (home_of(&f.from) == ph
                                && ph.is_some()
                                && !producers.contains(&f.from)))
                    }) {
                        if let Some(c) = home_of(&f.to) {
                            row[c] += f.value;
                        }
                    }
                    // Domestic use does not cross a border: the home economy keeps its
                    // demand-proportional part of its own output.
                    let tot: f64 = row.iter().sum();
                    if tot > 0.0 {
                        used += 1;
                        let home_part = ph.map_or(0.0, |h| demand[h][sg]);
                        for (c, v) in row.iter().enumerate() {
                            flow[sg][p][c] = v / tot * (1.0 - home_part)
                                + if Some(c) == ph { home_part } else { 0.0 };
                        }
                    }
                }
            }
            notes.push(format!(
                "trade matrix {}: {used} producer-segment rows taken from it, the rest pro rata \
                 to demand",
                m.origin
            ));
        }
        let producer_home: Vec<usize> = producers
            .iter()
            .map(|p| home_of(p).unwrap_or(n_part.saturating_sub(1)))
            .collect();

        // Shocks: which act on fabs, ATP, chip flows and demand; the rest go to the item model.
        let mut losses = Vec::new();
        let mut chip_blocks = Vec::new();
        let mut demand_surge = Vec::new();
        let mut item_shocks = Vec::new();
        for (i, sh) in s.shocks.iter().enumerate() {
            let f = |n: &str| format!("shock[{i}].{n}");
            match sh {
                Shock::CapacityLoss {
                    provider,
                    items,
                    fraction,
                    start_day,
                    duration_days,
                    recovery_days,
                } => {
                    let profile = Profile {
                        start: *start_day,
                        end: duration_days.map(|d| start_day + d),
                        recovery: *recovery_days,
                    };
                    let (mut segs, named_segs) = seg_set(items, "");
                    let mut fab_stage = false;
                    let mut atp_stage = false;
                    let mut model_items = Vec::new();
                    for r in items {
                        let r = r.trim();
                        if r == "*" {
                            fab_stage = true;
                            atp_stage = true;
                            model_items.push(r.to_string());
                        } else if Segment::parse(r).is_some() {
                        } else {
                            match stage_of_ref(vc, r) {
                                Some(StageKind::Fabrication) => fab_stage = true,
                                Some(StageKind::Atp) => atp_stage = true,
                                _ => {}
                            }
                            model_items.push(r.to_string());
                        }
                    }
                    if fab_stage {
                        segs = [true; NS];
                    }
                    let key = norm(provider);
                    let code = provider.trim();
                    let is_country =
                        code.len() == 3 && code.bytes().all(|b| b.is_ascii_uppercase());
                    let hit: Vec<usize> = units
                        .iter()
                        .enumerate()
                        .filter(|(_, u)| segs[u.segment.index()])
                        .filter(|(_, u)| {
                            if is_country {
                                u.country == code
                            } else {
                                u.owner_keys.contains(&key)
                                    || u.fab_ids.iter().any(|f| norm(f) == key)
                            }
                        })
                        .map(|(k, _)| k)
                        .collect();
                    let owner_known = units.iter().any(|u| {
                        u.owner_keys.contains(&key) || u.fab_ids.iter().any(|f| norm(f) == key)
                    });
                    if named_segs && hit.is_empty() && !owner_known && !is_country {
                        return Err(ScenarioError::field(
                            f("provider"),
                            format!("`{provider}` owns no fab in {} (a country code, a fab owner or a fab id)", prod.origin),
                        ));
                    }
                    let atp_country = (atp_stage && is_country).then(|| code.to_string());
                    losses.push(Loss {
                        profile,
                        fraction: *fraction,
                        units: hit,
                        atp_country,
                        label: format!("capacity loss (shock {i}: {provider})"),
                    });
                    // The item model takes the rest, if it knows the provider.
                    if !model_items.is_empty() {
                        if resolve_provider(vc, provider, &f("provider")).is_ok() {
                            let mut sh2 = sh.clone();
                            if let Shock::CapacityLoss { items, .. } = &mut sh2 {
                                *items = model_items;
                            }
                            item_shocks.push(sh2);
                        } else if !owner_known {
                            return Err(ScenarioError::field(
                                f("provider"),
                                format!("unknown provider `{provider}` (an ISO alpha-3 country code, a provider id or name, a fab owner or a fab id)"),
                            ));
                        }
                    }
                }
                Shock::ExportBlock {
                    from,
                    to,
                    items,
                    start_day,
                    duration_days,
                    fraction,
                } => {
                    let (segs, any) = seg_set(items, &final_id);
                    let profile = Profile {
                        start: *start_day,
                        end: duration_days.map(|d| start_day + d),
                        recovery: 0,
                    };
                    if any {
                        let mut from_set = BTreeSet::new();
                        for (j, r) in from.iter().enumerate() {
                            let r = r.trim();
                            if r == "*" {
                                from_set.extend(producers.iter().cloned());
                            } else if r == "EU27" {
                                from_set.extend(EU27_MEMBERS.iter().map(|x| x.to_string()));
                            } else if r.len() == 3 && r.bytes().all(|b| b.is_ascii_uppercase()) {
                                from_set.insert(r.to_string());
                            } else {
                                return Err(ScenarioError::field(
                                    format!("shock[{i}].from[{j}]"),
                                    format!("`{r}`: chip flows leave from countries (ISO alpha-3, EU27 or \"*\")"),
                                ));
                            }
                        }
                        let mut to_set = BTreeSet::new();
                        for (j, r) in to.iter().enumerate() {
                            let r = r.trim();
                            if r == "*" {
                                to_set.extend(0..n_part);
                            } else if let Some(c) =
                                economies[..n_part].iter().position(|e| e.code == r)
                            {
                                to_set.insert(c);
                            } else if let Some(c) = home_of(r).filter(|_| r.len() == 3) {
                                to_set.insert(c);
                                notes.push(format!("shock[{i}].to[{j}]: {r} is counted with {} (the consumer it belongs to)", economies[c].code));
                            } else {
                                return Err(ScenarioError::field(
                                    format!("shock[{i}].to[{j}]"),
                                    format!("unknown consumer `{r}`"),
                                ));
                            }
                        }
                        chip_blocks.push(ChipBlock {
                            profile,
                            fraction: fraction.unwrap_or(1.0),
                            from: from_set,
                            to: to_set,
                            segments: segs,
                        });
                    }
                    let rest: Vec<String> = items
                        .iter()
                        .filter(|r| Segment::parse(r).is_none())
                        .cloned()
                        .collect();
                    if !rest.is_empty() {
                        let mut sh2 = sh.clone();
                        if let Shock::ExportBlock { items, to, .. } = &mut sh2 {
                            *items = rest;
                            *to = expand_economies(to);
                        }
                        item_shocks.push(sh2);
                    }
                }
                Shock::DemandSurge {
                    consumer,
                    items,
                    factor,
                    start_day,
                } => {
                    let (segs, any) = seg_set(items, &final_id);
                    if any {
                        let c = economies[..n_part]
                            .iter()
                            .position(|e| e.code == consumer.trim())
                            .or_else(|| home_of(consumer.trim()))
                            .ok_or_else(|| {
                                ScenarioError::field(
                                    f("consumer"),
                                    format!("unknown consumer `{consumer}`"),
                                )
                            })?;
                        demand_surge.push((
                            Profile {
                                start: *start_day,
                                end: None,
                                recovery: 0,
                            },
                            c,
                            segs,
                            *factor,
                        ));
                    }
                    let rest: Vec<String> = items
                        .iter()
                        .filter(|r| Segment::parse(r).is_none())
                        .cloned()
                        .collect();
                    if !rest.is_empty() && resolve_country_code_pub(vc, consumer).is_some() {
                        let mut sh2 = sh.clone();
                        if let Shock::DemandSurge { items, .. } = &mut sh2 {
                            *items = rest;
                        }
                        item_shocks.push(sh2);
                    }
                }
            }
        }

        let mut atp: Vec<(String, f64)> = prod
            .atp
            .iter()
            .map(|a| (a.country.clone(), a.share_pct))
            .collect();
        let tot: f64 = atp.iter().map(|a| a.1).sum();
        for a in &mut atp {
            a.1 /= tot.max(1e-9);
        }
        Ok(Layer {
            prod,
            units,
            economies,
            n_part,
            demand,
            member_demand,
            flow,
            producers,
            producer_home,
            losses,
            chip_blocks,
            demand_surge,
            item_shocks,
            atp,
            baseline_year,
            notes,
            no_capacity,
            matrix_origin,
            demand_note,
        })
    }

    /// Needed item ids per segment, resolved in the model.
    fn needs(&self, vc: &ValueChain) -> Result<Vec<Need>, ScenarioError> {
        let mut out = Vec::new();
        for n in &self.prod.needs {
            let i = vc.find_item(&n.item).map_err(|e| {
                ScenarioError::field(
                    "segments.toml",
                    format!("need {} {}: {e}", n.segment, n.item),
                )
            })?;
            out.push((n.segment, i.ix(), n.kind, n.dependence, n.item.clone()));
        }
        Ok(out)
    }

    /// Country-view providers the scenario's own shocks name (a firm: its home country too).
    fn hit_providers(&self, vc: &ValueChain) -> HashSet<ProviderIdx> {
        let mut hit = HashSet::new();
        let mut add = |r: &str| {
            if let Ok(p) = resolve_provider(vc, r, "") {
                hit.insert(p);
                if let Some(h) = vc
                    .provider(p)
                    .country
                    .as_deref()
                    .and_then(|c| vc.country_provider(c))
                {
                    hit.insert(h);
                }
            }
        };
        for sh in &self.item_shocks {
            match sh {
                Shock::ExportBlock { from, .. } => from.iter().for_each(|r| add(r)),
                Shock::CapacityLoss { provider, .. } => add(provider),
                Shock::DemandSurge { .. } => {}
            }
        }
        hit
    }

    /// Needed items with a provider listed without a number among `hit`.
    fn unknown_inputs_hit(&self, vc: &ValueChain, hit: &HashSet<ProviderIdx>) -> Vec<String> {
        let mut out: Vec<String> = Vec::new();
        for n in &self.prod.needs {
            let Ok(i) = vc.find_item(&n.item) else {
                continue;
            };
            let ids: Vec<chipwatch_model::ItemIdx> =
                std::iter::once(i).chain(vc.descendants(i)).collect();
            for k in ids {
                let listed = vc.country_shares(k, None).into_iter().any(|sh| {
                    sh.share.is_none()
                        && vc
                            .provider_idx(&sh.provider)
                            .is_some_and(|p| hit.contains(&p))
                });
                let id = vc.item(k).id.clone();
                if listed && !out.contains(&id) {
                    out.push(id);
                }
            }
        }
        out.sort();
        out
    }

    fn simulate(
        &self,
        vc: &ValueChain,
        s: &Scenario,
        bias: Option<(&HashSet<ProviderIdx>, bool)>,
    ) -> Result<Output, ScenarioError> {
        let a = &s.assumptions;
        let h = a.headroom;
        let days = s.horizon_days;
        let mut notes = self.notes.clone();
        let needs = self.needs(vc)?;
        let producers = &self.producers;
        let np = producers.len();

        // Item availability in every producing country: with the baseline denials only, and
        // with the denials and the scenario's shocks.
        let specs: Vec<ConsumerSpec> = producers
            .iter()
            .map(|c| ConsumerSpec {
                country: c.clone(),
                weight: Some(1.0),
                stages: Some(vec![StageKind::Fabrication]),
            })
            .collect();
        let mut a0 = a.clone();
        a0.tool_lag_days = 0;
        a0.inventory_days.tool = 0.0;
        let prep = Prepared::new_biased(vc, &a0, Some(&specs), bias)?;
        let denial_shocks: Vec<Shock> = s
            .baseline_denials
            .iter()
            .map(|d| Shock::ExportBlock {
                from: d.from.clone(),
                to: expand_economies(&d.to),
                items: d.items.clone(),
                start_day: 0,
                duration_days: None,
                fraction: Some(d.fraction),
            })
            .collect();
        let fx_base = prep.resolve(vc, &denial_shocks).map_err(|e| match e {
            ScenarioError::Field { field, message } => {
                ScenarioError::field(field.replacen("shock", "baseline_denial", 1), message)
            }
            other => other,
        })?;
        let mut all_shocks = denial_shocks.clone();
        all_shocks.extend(self.item_shocks.iter().cloned());
        let fx_shock = prep.resolve(vc, &all_shocks)?;
        let mut item_ix: Vec<usize> = needs.iter().map(|n| n.1).collect();
        item_ix.sort_unstable();
        item_ix.dedup();
        let base = prep.leaf_series(&fx_base, days, &item_ix);
        let shocked = prep.leaf_series(&fx_shock, days, &item_ix);
        let ni = item_ix.len();
        let at = |t: u32, c: usize, j: usize| (t as usize * np + c) * ni + j;
        let jx = |k: usize| item_ix.binary_search(&k).unwrap_or(0);

        // Baseline denial report.
        let mut already = Vec::new();
        for (i, sh) in s.shocks.iter().enumerate() {
            if let Shock::ExportBlock {
                from, to, items, ..
            } = sh
            {
                for d in &s.baseline_denials {
                    let covers = |x: &[String], y: &[String]| {
                        y.iter()
                            .all(|v| x.contains(v) || x.iter().any(|w| w == "*"))
                    };
                    if covers(&d.from, from) && covers(&d.to, to) && covers(&d.items, items) {
                        already.push(format!(
                            "shock[{i}]: {} have been denied {} from {} since {} ({}{}); the shock adds nothing for the covered part",
                            to.join(", "),
                            items.join(", "),
                            from.join(", "),
                            d.since,
                            d.measure,
                            if d.fraction < 1.0 { format!(", {:.0}% of the flows", d.fraction * 100.0) } else { String::new() }
                        ));
                    }
                }
            }
        }
        notes.extend(already.iter().cloned());

        // Day by day: unit capacity, production by producer and segment, allocation.
        let nu = self.units.len();
        let q = ((1.0 - a.installed_base_erosion) / (1.0 + a.capacity_growth)).max(1e-9);
        let daily = 1.0 - q.powf(1.0 / 365.0);
        let rec = 1.0 / f64::from(a.tool_recovery_days);
        // Erosion per (producer, needed item).
        let mut eroded = vec![0.0f64; np * ni];
        let prod_of: Vec<usize> = self
            .units
            .iter()
            .map(|u| producers.binary_search(&u.country).unwrap_or(0))
            .collect();
        let n_part = self.n_part;
        let report = report_days_pub(days, s.step_days);
        let first_shock = s.shocks.iter().map(Shock::start_day).min().unwrap_or(0);
        let mut unit_min = vec![(1.0f64, 0u32, String::new()); nu];
        let mut unit_end = vec![1.0f64; nu];
        let mut unit_lost = vec![0.0f64; nu];
        let mut avail = vec![vec![vec![0.0f32; days as usize]; NS]; n_part];
        let mut chip_stock = vec![[a.chip_inventory_days; NS]; n_part];
        // On each economy's worst day per segment: (value, day, binding).
        let mut worst: Vec<[(f64, u32, Vec<String>); NS]> =
            vec![std::array::from_fn(|_| (f64::INFINITY, 0, Vec::new())); n_part];
        let mut cause = vec![String::new(); nu];
        let mut capfrac = vec![1.0f64; nu];
        // World per segment: (baseline, capacity min, supply min, wafers lost, quarter lost).
        let mut wbase = [0.0f64; NS];
        for u in &self.units {
            wbase[u.segment.index()] += u.base;
        }
        let mut wcap_min = [1.0f64; NS];
        let mut wsup_min = [1.0f64; NS];
        let mut wlost = [0.0f64; NS];
        let mut wq = [0.0f64; NS];
        for t in 0..days {
            // Erosion state of blocked tools.
            for c in 0..np {
                for (j, &k) in item_ix.iter().enumerate() {
                    let is_tool = needs.iter().any(|n| n.1 == k && n.2 == NeedKind::Tool);
                    if !is_tool {
                        continue;
                    }
                    let b0 = f64::from(base[at(t, c, j)]);
                    let b1 = f64::from(shocked[at(t, c, j)]);
                    let rel = if b0 <= 1e-9 { 1.0 } else { (b1 / b0).min(1.0) };
                    let blocked = 1.0 - rel;
                    let e = &mut eroded[c * ni + j];
                    if blocked > EPS {
                        *e += blocked * (1.0 - *e) * daily;
                    } else if *e > 0.0 {
                        *e = (*e - rec).max(0.0);
                    }
                }
            }
            // ATP capacity, world pool.
            let mut atp_cap = 0.0;
            for (ac, sh) in &self.atp {
                let mut keep = 1.0;
                for l in &self.losses {
                    if l.atp_country.as_deref() == Some(ac.as_str()) {
                        keep *= 1.0 - l.fraction * l.profile.at(t);
                    }
                }
                atp_cap += sh * keep;
            }
            let atp_ok = ((1.0 + h) * atp_cap).min(1.0);
            // Units.
            for (u, unit) in self.units.iter().enumerate() {
                let p = prod_of[u];
                let mut keep = 1.0;
                let mut why = String::new();
                let mut worst_part = 0.0;
                for l in &self.losses {
                    if l.units.contains(&u) {
                        let x = l.fraction * l.profile.at(t);
                        if x > 0.0 {
                            keep *= 1.0 - x;
                            if x > worst_part {
                                worst_part = x;
                                why = l.label.clone();
                            }
                        }
                    }
                }
                let mut input = 1.0f64;
                let mut input_why = String::new();
                for n in needs.iter().filter(|n| n.0 == unit.segment) {
                    let j = jx(n.1);
                    let v = match n.2 {
                        NeedKind::Material => {
                            let b0 = f64::from(base[at(t, p, j)]);
                            let b1 = f64::from(shocked[at(t, p, j)]);
                            let rel = if b0 <= 1e-9 { 1.0 } else { (b1 / b0).min(1.0) };
                            1.0 - n.3 * (1.0 - rel)
                        }
                        NeedKind::Tool => 1.0 - n.3 * eroded[p * ni + j],
                    };
                    if v < input - 1e-12 {
                        input = v;
                        input_why = match n.2 {
                            NeedKind::Material => format!("{} {}: supply short after inventories", n.4, item_name(vc, n.1)),
                            NeedKind::Tool => format!("{} {}: installed base eroding without new tools, parts and service ({:.1}% lost)", n.4, item_name(vc, n.1), 100.0 * n.3 * eroded[p * ni + j]),
                        };
                    }
                }
                let cf = (keep * input).clamp(0.0, 1.0);
                capfrac[u] = cf;
                cause[u] = if keep <= input && keep < 1.0 - EPS {
                    why
                } else if input < 1.0 - EPS {
                    input_why
                } else {
                    String::new()
                };
                if cf < unit_min[u].0 - 1e-12 {
                    unit_min[u] = (cf, t, cause[u].clone());
                }
                unit_end[u] = cf;
                unit_lost[u] += unit.base * (1.0 - cf) / 30.0;
            }
            // Allocation per segment.
            for sg in 0..NS {
                let mut out_p = vec![0.0f64; np];
                let mut base_p = vec![0.0f64; np];
                for (u, unit) in self.units.iter().enumerate() {
                    if unit.segment.index() == sg {
                        let p = prod_of[u];
                        base_p[p] += unit.base;
                        out_p[p] += unit.base * ((1.0 + h) * capfrac[u]).min(1.0 + h) * atp_ok;
                    }
                }
                let world: f64 = base_p.iter().sum();
                if world > 0.0 {
                    let cap: f64 = self
                        .units
                        .iter()
                        .enumerate()
                        .filter(|(_, u)| u.segment.index() == sg)
                        .map(|(u, unit)| unit.base * capfrac[u])
                        .sum();
                    wcap_min[sg] = wcap_min[sg].min(cap / world);
                    let sup: f64 = out_p.iter().sum();
                    wsup_min[sg] = wsup_min[sg].min((sup / world).min(1.0));
                    wlost[sg] += (world - cap) / 30.0;
                    if t >= first_shock && t < first_shock + 90 {
                        wq[sg] += (world - cap) / (world * 90.0);
                    }
                }
                if world <= 0.0 {
                    for c in 0..n_part {
                        avail[c][sg][t as usize] = 1.0;
                    }
                    continue;
                }
                // Demand (baseline receipts) with surges.
                let mut dem = vec![0.0f64; n_part];
                for p in 0..np {
                    for c in 0..n_part {
                        dem[c] += base_p[p] * self.flow[sg][p][c];
                    }
                }
                let mut surge = vec![1.0f64; n_part];
                for (pr, c, segs, f) in &self.demand_surge {
                    if segs[sg] && pr.at(t) > 0.0 {
                        surge[*c] *= f;
                    }
                }
                // Blocked part of each flow.
                let blocked = |p: usize, c: usize| -> f64 {
                    let mut keep = 1.0;
                    for b in &self.chip_blocks {
                        if b.segments[sg]
                            && b.from.contains(&producers[p])
                            && b.to.contains(&c)
                            && self.producer_home[p] != c
                        {
                            keep *= 1.0 - b.fraction * b.profile.at(t);
                        }
                    }
                    1.0 - keep
                };
                let mut got = vec![0.0f64; n_part];
                let mut spare = vec![0.0f64; np];
                let tiers = |p: usize| -> Vec<Vec<usize>> { self.tiers(s, p) };
                for p in 0..np {
                    let mut left = out_p[p];
                    for tier in tiers(p) {
                        let claims: Vec<(usize, f64)> = tier
                            .iter()
                            .map(|&c| {
                                (
                                    c,
                                    base_p[p]
                                        * self.flow[sg][p][c]
                                        * surge[c]
                                        * (1.0 - blocked(p, c)),
                                )
                            })
                            .collect();
                        let want: f64 = claims.iter().map(|x| x.1).sum();
                        if want <= 0.0 {
                            continue;
                        }
                        let give = left.min(want);
                        for (c, w) in claims {
                            got[c] += give * w / want;
                        }
                        left -= give;
                    }
                    spare[p] = left.max(0.0);
                }
                // Spare capacity goes to shortfalls (by the same tiers).
                for p in 0..np {
                    if spare[p] <= 0.0 {
                        continue;
                    }
                    for tier in tiers(p) {
                        let short: Vec<(usize, f64)> = tier
                            .iter()
                            .map(|&c| {
                                (
                                    c,
                                    ((dem[c] * surge[c] - got[c]).max(0.0)) * (1.0 - blocked(p, c)),
                                )
                            })
                            .filter(|x| x.1 > 0.0)
                            .collect();
                        let want: f64 = short.iter().map(|x| x.1).sum();
                        if want <= 0.0 {
                            continue;
                        }
                        let give = spare[p].min(want);
                        for (c, w) in short {
                            got[c] += give * w / want;
                        }
                        spare[p] -= give;
                    }
                }
                for c in 0..n_part {
                    let need = dem[c] * surge[c];
                    let x = if need <= 0.0 {
                        1.0
                    } else {
                        (got[c] / need).min(1.0)
                    };
                    let st = &mut chip_stock[c][sg];
                    let used = (x + *st).min(1.0);
                    *st = if x >= 1.0 - EPS {
                        (*st + h).min(a.chip_inventory_days)
                    } else {
                        (*st - (used - x)).max(0.0)
                    };
                    avail[c][sg][t as usize] = used as f32;
                    if x < worst[c][sg].0 - 1e-12 && x < 1.0 - EPS {
                        worst[c][sg] = (
                            x,
                            t,
                            self.binding(sg, c, &base_p, &out_p, &cause, &prod_of, t, &blocked),
                        );
                    }
                }
            }
        }

        // Segment weights for the all-chips figure: world wafer capacity per segment.
        let mut wseg = [0.0f64; NS];
        for u in &self.units {
            wseg[u.segment.index()] += u.base;
        }
        let wtot: f64 = wseg.iter().sum::<f64>().max(1e-9);
        let world: Vec<WorldSegment> = Segment::ALL
            .into_iter()
            .enumerate()
            .map(|(sg, seg)| {
                let avail_min = (0..days as usize)
                    .map(|t| {
                        (0..n_part)
                            .map(|c| self.demand[c][sg] * f64::from(avail[c][sg][t]))
                            .sum::<f64>()
                    })
                    .fold(1.0f64, f64::min);
                WorldSegment {
                    segment: seg,
                    baseline_wspm_300eq: round6(wbase[sg]),
                    capacity_min: round6(wcap_min[sg]),
                    supply_min: round6(wsup_min[sg]),
                    wafers_lost_300eq: round6(wlost[sg]),
                    quarter_lost_share: round6(wq[sg]),
                    availability_min: round6(avail_min),
                }
            })
            .collect();
        let mut economies = Vec::new();
        for (c, e) in self.economies.iter().enumerate() {
            let (row, parent) = if c < n_part {
                (c, None)
            } else {
                let p = self.economies[..n_part]
                    .iter()
                    .position(|x| Some(&x.code) == e.part_of.as_ref())
                    .unwrap_or(0);
                (p, Some(p))
            };
            let mut segs = Vec::new();
            for (sg, seg) in Segment::ALL.into_iter().enumerate() {
                let series_v = &avail[row][sg];
                let st = stats_of(series_v, &report, first_shock);
                let share = match parent {
                    None => self.demand[c][sg],
                    Some(p) => {
                        let m = self.member_demand[c - n_part][sg];
                        if m.is_nan() {
                            f64::NAN
                        } else {
                            m * self.demand[p][sg]
                        }
                    }
                };
                segs.push(SegmentResult {
                    segment: seg,
                    demand_share_pct: if share.is_nan() {
                        f64::NAN
                    } else {
                        round6(share * 100.0)
                    },
                    availability_min: st.0,
                    availability_end: st.1,
                    tts_days: st.2,
                    worst_day: st.3,
                    shortfall_days: st.4,
                    binding_constraint: if st.0 < 1.0 - EPS {
                        worst[row][sg].2.clone()
                    } else {
                        Vec::new()
                    },
                    series: st.5,
                    availability_min_range: None,
                });
            }
            let chips: Vec<f32> = (0..days as usize)
                .map(|t| {
                    (0..NS)
                        .map(|sg| wseg[sg] / wtot * f64::from(avail[row][sg][t]))
                        .sum::<f64>() as f32
                })
                .collect();
            let cs = stats_of(&chips, &report, first_shock);
            economies.push(EconomyResult {
                code: e.code.clone(),
                name: e.name.clone(),
                part_of: e.part_of.clone(),
                segments: segs,
                chips_min: cs.0,
                chips_end: cs.1,
                chips_series: cs.5,
                chips_min_range: None,
            });
        }
        // JSON has no NaN: an unknown member share is reported as -1 with a note.
        for e in &mut economies {
            for sgr in &mut e.segments {
                if sgr.demand_share_pct.is_nan() {
                    sgr.demand_share_pct = -1.0;
                }
            }
        }
        if economies
            .iter()
            .any(|e| e.segments.iter().any(|s| s.demand_share_pct < 0.0))
        {
            notes.push("demand_share_pct -1: the member's share of its group's demand is unknown (no figure in the data); its availability is the group's".into());
        }
        let mut production: Vec<ProductionRow> = self
            .units
            .iter()
            .enumerate()
            .map(|(u, unit)| ProductionRow {
                country: unit.country.clone(),
                owner: unit.owner.clone(),
                segment: unit.segment,
                baseline_wspm_300eq: round6(unit.base),
                capacity_min: round6(unit_min[u].0),
                capacity_end: round6(unit_end[u]),
                wafers_lost_300eq: round6(unit_lost[u]),
                cause: unit_min[u].2.clone(),
            })
            .collect();
        production.sort_by(|x, y| {
            y.wafers_lost_300eq
                .total_cmp(&x.wafers_lost_300eq)
                .then(y.baseline_wspm_300eq.total_cmp(&x.baseline_wspm_300eq))
        });

        let producing: f64 = self.units.iter().map(|u| u.base).sum();
        let total = self
            .prod
            .totals
            .iter()
            .filter(|t| t.scope == "all")
            .min_by_key(|t| (t.year - self.baseline_year).abs());
        let producing_fabs: BTreeSet<&str> = self
            .units
            .iter()
            .flat_map(|u| u.fab_ids.iter().map(String::as_str))
            .collect();
        let provenance = SegmentProvenance {
            fabs: self.prod.origin.clone(),
            fab_rows: self.prod.fabs.len(),
            producing_fabs: producing_fabs.len(),
            fabs_without_capacity: self.no_capacity,
            baseline_year: self.baseline_year,
            coverage_pct: total.map(|t| round6(100.0 * producing / t.capacity_wspm_300eq)),
            coverage_total: total.map_or_else(
                || "no world total in the data".to_string(),
                |t| {
                    format!(
                        "{:.0} wafers/month (300 mm eq.), {} ({})",
                        t.capacity_wspm_300eq, t.year, t.source
                    )
                },
            ),
            demand: self.demand_note.clone(),
            allocation: match s.allocation.rule {
                AllocationRule::AlliesFirst => format!(
                    "allies_first ({})",
                    s.allocation
                        .groups
                        .iter()
                        .map(|(g, m)| format!("{g}: {}", m.join(" ")))
                        .collect::<Vec<_>>()
                        .join("; ")
                ),
                r => r.as_str().to_string(),
            },
            trade_matrix: self.matrix_origin.clone(),
            segment_weights:
                "all-chips figures weight segments by world wafer capacity (300 mm eq.)".into(),
        };
        let _ = &self.producer_home;
        Ok(Output {
            world,
            economies,
            production,
            baseline: BaselineView {
                date: s.baseline_date.clone(),
                denials: s.baseline_denials.clone(),
                already_denied: already,
            },
            provenance,
            notes,
        })
    }

    /// Consumers in the order producer `p` serves them under the allocation rule.
    fn tiers(&self, s: &Scenario, p: usize) -> Vec<Vec<usize>> {
        let all: Vec<usize> = (0..self.n_part).collect();
        let home = self.producer_home[p];
        match s.allocation.rule {
            AllocationRule::ProRata => vec![all],
            AllocationRule::HomeFirst => {
                vec![vec![home], all.into_iter().filter(|&c| c != home).collect()]
            }
            AllocationRule::AlliesFirst => {
                let pc = &self.producers[p];
                let hc = &self.economies[home].code;
                let mut first: BTreeSet<usize> = BTreeSet::from([home]);
                for members in s.allocation.groups.values() {
                    if members.iter().any(|m| m == pc || m == hc) {
                        for m in members {
                            if let Some(c) = self.economies[..self.n_part]
                                .iter()
                                .position(|e| &e.code == m)
                            {
                                first.insert(c);
                            }
                        }
                    }
                }
                let rest = all.into_iter().filter(|c| !first.contains(c)).collect();
                vec![first.into_iter().collect(), rest]
            }
        }
    }

    /// Why economy `c` falls short in segment `sg` on day `t`: the producer whose lost deliveries
    /// weigh most, and that producer's main cause.
    #[allow(clippy::too_many_arguments)]
    fn binding(
        &self,
        sg: usize,
        c: usize,
        base_p: &[f64],
        out_p: &[f64],
        cause: &[String],
        prod_of: &[usize],
        _t: u32,
        blocked: &dyn Fn(usize, usize) -> f64,
    ) -> Vec<String> {
        let mut best: Option<(f64, usize, bool)> = None;
        for p in 0..self.producers.len() {
            let f = base_p[p] * self.flow[sg][p][c];
            let lost_prod = f * (1.0 - (out_p[p] / base_p[p].max(1e-12)).min(1.0));
            let lost_block = f * blocked(p, c);
            let (l, is_block) = if lost_block > lost_prod {
                (lost_block, true)
            } else {
                (lost_prod, false)
            };
            if l > 1e-12 && best.is_none_or(|b| l > b.0) {
                best = Some((l, p, is_block));
            }
        }
        let mut chain = vec![Segment::ALL[sg].as_str().to_string()];
        if let Some((_, p, is_block)) = best {
            let pc = &self.producers[p];
            if is_block {
                chain.push(format!("imports from {pc}"));
                chain.push("export block of chips".into());
                return chain;
            }
            // The unit of that producer losing the most.
            let mut top: Option<(f64, usize)> = None;
            for (u, unit) in self.units.iter().enumerate() {
                if prod_of[u] == p
                    && unit.segment.index() == sg
                    && !cause[u].is_empty()
                    && top.is_none_or(|x| unit.base > x.0)
                {
                    top = Some((unit.base, u));
                }
            }
            chain.push(format!("production in {pc}"));
            match top {
                Some((_, u)) => chain.push(format!("{} fabs: {}", self.units[u].owner, cause[u])),
                None => chain.push("assembly and test capacity".into()),
            }
        }
        chain
    }
}

/// Keys a shock may name a fab's owner by: the owner as written, and the names and aliases of
/// the model's firm of that name.
fn owner_keys(vc: &ValueChain, f: &Fab) -> Vec<String> {
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

fn item_name(vc: &ValueChain, k: usize) -> String {
    vc.items()
        .nth(k)
        .map(|(_, it)| it.name.clone())
        .unwrap_or_default()
}

fn stage_of_ref(vc: &ValueChain, r: &str) -> Option<StageKind> {
    if let Some(st) = vc
        .model()
        .stages
        .iter()
        .find(|s| s.id == r)
        .map(|s| s.kind)
        .or_else(|| StageKind::parse(r))
    {
        return Some(st);
    }
    let i = vc.find_item(r).ok()?;
    let it = vc.item(i);
    (it.kind == ItemKind::Process)
        .then(|| vc.stage(i))
        .flatten()
}

/// `EU27` as its members; other references unchanged.
fn expand_economies(v: &[String]) -> Vec<String> {
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

fn resolve_country_code_pub(vc: &ValueChain, r: &str) -> Option<String> {
    let r = r.trim();
    if r.len() == 3 && r.chars().all(|c| c.is_ascii_uppercase()) {
        return vc.country_provider(r).map(|_| r.to_string());
    }
    None
}

fn report_days_pub(days: u32, step: u32) -> Vec<u32> {
    let mut v: Vec<u32> = (0..days).step_by(step.max(1) as usize).collect();
    if v.last() != Some(&(days - 1)) {
        v.push(days - 1);
    }
    v
}

/// (min, end, tts, worst day, shortfall days, series) of a daily series.
fn stats_of(v: &[f32], report: &[u32], first_shock: u32) -> Stats6 {
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

impl Prepared {
    /// Daily supply-side availability of `items` for every consumer, before the flow pass:
    /// tools as their raw supply ratio (no lag: the segment layer models the installed base),
    /// materials after the consumer's inventory. `out[(t * n_consumers + c) * items.len() + j]`.
    pub(crate) fn leaf_series(&self, fx: &Effects, days: u32, items: &[usize]) -> Vec<f32> {
        let a = &self.assumptions;
        let nc = self.consumers.len();
        let ni = items.len();
        let n = self.n_items();
        let ne = self.kernel.n_supply_edges();
        let ones = vec![1.0f32; self.kernel.n_providers()];
        let mut mult = vec![1.0f32; ne];
        let mut floss = vec![0.0f64; ne];
        let mut sup = vec![0.0f32; n];
        let mut intensity = vec![0.0f64; fx.profiles.len()];
        let mut stock = vec![a.inventory_days.material; nc * ni];
        let mut out = vec![1.0f32; days as usize * nc * ni];
        for t in 0..days {
            for (s, p) in fx.profiles.iter().enumerate() {
                intensity[s] = p.at(t);
            }
            for c in 0..nc {
                self.edge_multipliers(fx, &intensity, c as u32, &mut mult, &mut floss);
                self.kernel
                    .supply(&ones, Some(&mult), a.headroom as f32, &mut sup);
                for (j, &k) in items.iter().enumerate() {
                    let s = sup[k];
                    let v = if s.is_nan() {
                        1.0
                    } else {
                        let r = f64::from(s).max(0.0);
                        if self.items[k].kind == ItemKind::Material
                            && a.inventory_days.material > 0.0
                        {
                            let st = &mut stock[c * ni + j];
                            let used = (r + *st).min(1.0);
                            *st = (*st + (r - used)).min(a.inventory_days.material).max(0.0);
                            used
                        } else {
                            r.min(1.0)
                        }
                    };
                    out[(t as usize * nc + c) * ni + j] = v as f32;
                }
            }
        }
        out
    }
}

#[cfg(test)]
#[path = "segments_tests.rs"]
mod tests;
