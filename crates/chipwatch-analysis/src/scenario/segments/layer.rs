//! The segment layer's inputs resolved against the model and the production data: fab units,
//! economies and their demand, baseline trade flows, and the scenario's shocks sorted into what
//! acts on fabs, assembly, chip flows and demand (the rest goes to the item model).

// Producers, consumers and segments are small dense index spaces; index loops read as the
// formulas in docs/scenarios.md.
#![allow(clippy::needless_range_loop)]

use super::*;
use crate::scenario::engine::{resolve_provider, Profile};
use chipwatch_model::production::{Economy, ProductionData, Segment, TradeMatrix};
use chipwatch_model::ProviderIdx;
use chipwatch_model::{ItemKind, ValueChain};
use std::collections::{BTreeSet, HashMap, HashSet};

/// Fabs of one owner, one segment, one country, summed.
#[derive(Debug, Clone)]
pub(super) struct Unit {
    pub(super) country: String,
    pub(super) owner: String,
    pub(super) owner_keys: Vec<String>,
    pub(super) fab_ids: Vec<String>,
    pub(super) segment: Segment,
    pub(super) base: f64,
}

/// A capacity loss as the segment layer sees it.
#[derive(Debug, Clone)]
pub(super) struct Loss {
    pub(super) profile: Profile,
    pub(super) fraction: f64,
    pub(super) units: Vec<usize>,
    pub(super) atp_country: Option<String>,
    pub(super) label: String,
}

/// A stop of chip flows (an export block naming chips or segments).
#[derive(Debug, Clone)]
pub(super) struct ChipBlock {
    pub(super) profile: Profile,
    pub(super) fraction: f64,
    pub(super) from: BTreeSet<String>,
    pub(super) to: BTreeSet<usize>,
    pub(super) segments: [bool; NS],
}

pub(super) struct Layer<'a> {
    pub(super) prod: &'a ProductionData,
    pub(super) units: Vec<Unit>,
    /// Economies of the partition (no `part_of`), then members.
    pub(super) economies: Vec<Economy>,
    pub(super) n_part: usize,
    /// `demand[c][s]`: share (0..1) of world demand of segment `s` for partition economy `c`.
    pub(super) demand: Vec<[f64; NS]>,
    /// Members: (index of parent, share of the parent's demand per segment).
    pub(super) member_demand: Vec<[f64; NS]>,
    /// Baseline flows `flow[s][p][c]` (fraction of producer p's baseline output going to c).
    pub(super) flow: Vec<Vec<Vec<f64>>>,
    pub(super) producers: Vec<String>,
    /// Economy index (partition) of each producer country.
    pub(super) producer_home: Vec<usize>,
    pub(super) losses: Vec<Loss>,
    pub(super) chip_blocks: Vec<ChipBlock>,
    pub(super) demand_surge: Vec<(Profile, usize, [bool; NS], f64)>,
    pub(super) item_shocks: Vec<Shock>,
    pub(super) atp: Vec<(String, f64)>,
    pub(super) baseline_year: i32,
    pub(super) notes: Vec<String>,
    pub(super) no_capacity: usize,
    pub(super) matrix_origin: String,
    pub(super) demand_note: String,
}

pub(super) fn seg_set(refs: &[String], final_id: &str) -> ([bool; NS], bool) {
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

pub(super) fn norm(s: &str) -> String {
    s.chars()
        .filter(|c| c.is_alphanumeric())
        .flat_map(char::to_lowercase)
        .collect()
}

impl<'a> Layer<'a> {
    pub(super) fn new(
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
        let mut keys_cache: HashMap<String, Vec<String>> = HashMap::new();
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
                    owner_keys: keys_cache
                        .entry(f.owner.clone())
                        .or_insert_with(|| owner_keys(vc, f))
                        .clone(),
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
                    ..
                } => {
                    let profile = Profile::of(sh);
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
                    fraction,
                    ..
                } => {
                    let (segs, any) = seg_set(items, &final_id);
                    let profile = Profile::of(sh);
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
                    ..
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
                        demand_surge.push((Profile::of(sh), c, segs, *factor));
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
    pub(super) fn needs(&self, vc: &ValueChain) -> Result<Vec<Need>, ScenarioError> {
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

    /// What the scenario's own shocks reach on the item model: country-view providers (a firm:
    /// its home country too), each with the items it is hit for (`None`: every item).
    pub(super) fn hits(&self, vc: &ValueChain) -> Vec<(ProviderIdx, Option<HashSet<usize>>)> {
        let mut out = Vec::new();
        let items_of = |refs: &[String]| -> Option<HashSet<usize>> {
            if refs.iter().any(|r| r.trim() == "*") {
                return None;
            }
            let mut set = HashSet::new();
            for r in refs {
                if let Ok(i) = vc.find_item(r) {
                    set.insert(i.ix());
                    set.extend(vc.descendants(i).into_iter().map(|d| d.ix()));
                } else {
                    // A stage: its processes have no providers; nothing listed is reached.
                }
            }
            Some(set)
        };
        let mut add = |r: &str, items: Option<HashSet<usize>>| {
            if let Ok(p) = resolve_provider(vc, r, "") {
                out.push((p, items.clone()));
                if let Some(h) = vc
                    .provider(p)
                    .country
                    .as_deref()
                    .and_then(|c| vc.country_provider(c))
                {
                    out.push((h, items));
                }
            }
        };
        for sh in &self.item_shocks {
            match sh {
                Shock::ExportBlock { from, items, .. } => {
                    from.iter().for_each(|r| add(r, items_of(items)))
                }
                Shock::CapacityLoss {
                    provider, items, ..
                } => add(provider, items_of(items)),
                Shock::DemandSurge { .. } => {}
            }
        }
        out
    }

    /// Needed items (or their variants) with a provider listed without a number that a shock
    /// reaches for that item; and those providers.
    pub(super) fn unknown_inputs_hit(
        &self,
        vc: &ValueChain,
        hits: &[(ProviderIdx, Option<HashSet<usize>>)],
    ) -> (Vec<String>, HashSet<ProviderIdx>) {
        let mut out: Vec<String> = Vec::new();
        let mut provs = HashSet::new();
        for n in &self.prod.needs {
            let Ok(i) = vc.find_item(&n.item) else {
                continue;
            };
            let ids: Vec<chipwatch_model::ItemIdx> =
                std::iter::once(i).chain(vc.descendants(i)).collect();
            for k in ids {
                for sh in vc.country_shares(k, None) {
                    if sh.share.is_some() {
                        continue;
                    }
                    let Some(p) = vc.provider_idx(&sh.provider) else {
                        continue;
                    };
                    let reached = hits.iter().any(|(q, items)| {
                        *q == p && items.as_ref().is_none_or(|s| s.contains(&k.ix()))
                    });
                    if reached {
                        provs.insert(p);
                        let id = vc.item(k).id.clone();
                        if !out.contains(&id) {
                            out.push(id);
                        }
                    }
                }
            }
        }
        out.sort();
        (out, provs)
    }
}
