//! The scenario engine: compiles a value chain into a [`Kernel`] once ([`Prepared`]), resolves a
//! scenario's shocks into per-edge, per-process and per-demand effects, then steps day by day
//! through the horizon for every consumer (supply pass, inventories and tool lags, flow pass,
//! finished-chip inventory) and summarises the result.

use super::*;
use crate::kernel::{ItemLinks, Kernel, KernelError};
use chipwatch_model::{ItemIdx, ItemKind, ProviderIdx, ProviderType, ValueChain};
use std::collections::HashMap;
use std::sync::Arc;

/// A (day, availability) series shared between item results.
type SharedSeries = Arc<[(u32, f64)]>;

/// Availability below `1 - EPS` counts as a shortfall (float noise must not).
const EPS: f64 = 1e-5;

/// Run a scenario on a value chain.
pub fn run(vc: &ValueChain, s: &Scenario) -> Result<ScenarioResult, ScenarioError> {
    s.validate()?;
    let prep = Prepared::new(vc, &s.assumptions, s.consumers.as_deref())?;
    let effects = prep.resolve(vc, &s.shocks)?;
    let report = report_days(s.horizon_days, s.step_days);
    let sim = prep.simulate(&effects, s.horizon_days, Some(&report));
    Ok(prep.summarise(vc, s, &effects, &sim))
}

/// Everything about the model a scenario needs, computed once: the kernel, item and provider
/// tables, consumers, firm-to-country share portions.
#[derive(Debug, Clone)]
pub struct Prepared {
    pub(crate) kernel: Kernel,
    pub(crate) items: Vec<ItemInfo>,
    /// Kernel provider slots: country-view providers, then one "unattributed" slot.
    pub(crate) providers: Vec<ProviderSlot>,
    /// Kernel slot of each provider (`u32::MAX`: not in the country view of any item).
    slot_of: Vec<u32>,
    /// Item of each supply edge.
    edge_item: Vec<u32>,
    pub(crate) consumers: Vec<Consumer>,
    pub(crate) final_item: usize,
    pub(crate) assumptions: Assumptions,
    /// Firm shares per item (firm provider -> percent) after the unknown-share rule.
    /// (A few firms per item: a short list, not a hash map per item.)
    firm_share: Vec<Vec<(ProviderIdx, f64)>>,
    pub(crate) notes: Vec<String>,
    consumers_from: String,
}

#[derive(Debug, Clone)]
pub(crate) struct ItemInfo {
    pub id: String,
    pub name: String,
    pub kind: ItemKind,
    pub stage: Option<StageKind>,
    pub idx: ItemIdx,
}

#[derive(Debug, Clone)]
pub(crate) struct ProviderSlot {
    pub label: String,
    pub provider: Option<ProviderIdx>,
}

#[derive(Debug, Clone)]
pub(crate) struct Consumer {
    pub country: String,
    pub name: String,
    pub weight: f64,
    pub stages: Vec<StageKind>,
}

/// When a shock acts: full strength from `start` to `end`, then a linear ramp over `recovery`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct Profile {
    pub start: u32,
    pub end: Option<u32>,
    pub recovery: u32,
}

impl Profile {
    /// When a shock acts: its start day, duration and recovery ramp as the file gives them.
    pub fn of(sh: &Shock) -> Profile {
        let (start, duration, recovery) = match sh {
            Shock::ExportBlock {
                start_day,
                duration_days,
                ..
            } => (*start_day, *duration_days, 0),
            Shock::CapacityLoss {
                start_day,
                duration_days,
                recovery_days,
                ..
            } => (*start_day, *duration_days, *recovery_days),
            Shock::DemandSurge { start_day, .. } => (*start_day, None, 0),
        };
        Profile {
            start,
            end: duration.map(|d| start + d),
            recovery,
        }
    }

    /// Strength multiplier (0..=1) on day `t`.
    pub fn at(&self, t: u32) -> f64 {
        if t < self.start {
            return 0.0;
        }
        match self.end {
            None => 1.0,
            Some(e) if t < e => 1.0,
            Some(e) => {
                let since = t - e;
                if since >= self.recovery {
                    0.0
                } else {
                    // Falls by 1/(recovery+1) per day after the full-strength period.
                    f64::from(self.recovery - since) / f64::from(self.recovery + 1)
                }
            }
        }
    }
}

/// A shock acting on one supply edge for some consumers.
#[derive(Debug, Clone)]
pub(crate) struct EdgeEffect {
    pub edge: u32,
    /// `None`: every consumer.
    pub consumers: Option<Vec<u32>>,
    /// `Some(p)`: the effect hits only the part `p` (0..=1) of the edge's share (a firm inside
    /// its country); `None`: the whole share.
    pub portion: Option<f64>,
    pub strength: f64,
    pub shock: u32,
}

#[derive(Debug, Clone)]
pub(crate) struct ProcessEffect {
    pub item: u32,
    pub consumer: u32,
    pub strength: f64,
    pub shock: u32,
}

#[derive(Debug, Clone)]
pub(crate) struct DemandEffect {
    pub item: u32,
    pub consumer: u32,
    pub factor: f64,
    pub shock: u32,
}

/// Shocks resolved against a [`Prepared`] model.
#[derive(Debug, Clone, Default)]
pub(crate) struct Effects {
    pub profiles: Vec<Profile>,
    pub edge: Vec<EdgeEffect>,
    pub process: Vec<ProcessEffect>,
    pub demand: Vec<DemandEffect>,
    pub resolved: Vec<ResolvedShock>,
    pub notes: Vec<String>,
}

/// What a simulation keeps. Every day of every (consumer, item) would be 20 GB at 10^6 items
/// and a year's horizon, so the per-item figures are summarised as the days go by.
#[derive(Debug, Clone)]
pub(crate) struct Sim {
    pub days: u32,
    /// Final output after the consumers' chip inventory: `fin[day * n_consumers + c]`.
    pub fin: Vec<f32>,
    /// The rest is kept only when the simulation has report days (not for Monte Carlo): the
    /// days `series` holds, ascending, the last day last.
    pub report: Vec<u32>,
    /// Consumer -> slot of the per-item arrays below. Consumers whose days are provably the
    /// same ([`Prepared::twins`]) share one slot, simulated once.
    pub slot: Vec<usize>,
    /// `stats[s * n_items + k]`: item k for the consumers of slot s (the final item after chip
    /// inventory).
    pub stats: Vec<Running>,
    /// `series[(r * n_slots + s) * n_items + k]`: the same values on the `r`-th report day.
    pub series: Vec<f32>,
    /// Per slot: the (first) day its production before chip inventory was lowest, with that
    /// day's values, from which the binding constraint is traced.
    pub worst: Vec<WorstDay>,
}

/// One consumer's values on its worst day.
#[derive(Debug, Clone)]
pub(crate) struct WorstDay {
    pub day: u32,
    /// Availability of every item, before the finished-chip inventory.
    pub val: Vec<f32>,
    /// Every item's own (supply-side) availability.
    pub own: Vec<f32>,
}

impl Prepared {
    /// Compile a value chain with the given assumptions and consumers.
    pub fn new(
        vc: &ValueChain,
        a: &Assumptions,
        consumers: Option<&[ConsumerSpec]>,
    ) -> Result<Prepared, ScenarioError> {
        Prepared::new_biased(vc, a, consumers, None)
    }

    /// [`Prepared::new`], with the unassigned share of items whose providers are listed without
    /// a number given to the providers in `hit` (`worst = true`) or to the others (`false`)
    /// instead of split evenly: the two ends of the interval unknown shares leave open.
    pub(crate) fn new_biased(
        vc: &ValueChain,
        a: &Assumptions,
        consumers: Option<&[ConsumerSpec]>,
        bias: Option<(&std::collections::HashSet<ProviderIdx>, bool)>,
    ) -> Result<Prepared, ScenarioError> {
        let n = vc.model().items.len();
        let mut notes = Vec::new();
        let items: Vec<ItemInfo> = vc
            .items()
            .map(|(i, it)| ItemInfo {
                id: it.id.clone(),
                name: it.name.clone(),
                kind: it.kind,
                stage: vc.stage(i),
                idx: i,
            })
            .collect();
        let final_item = items
            .iter()
            .position(|it| it.kind == ItemKind::FinalOutput)
            .ok_or(ScenarioError::NoFinalOutput)?;

        // Share overrides, resolved up front so a bad reference names its field.
        let mut overrides: HashMap<usize, Vec<(ProviderIdx, f64, String)>> = HashMap::new();
        for (i, o) in a.share_override.iter().enumerate() {
            let field = format!("assumptions.share_override[{i}]");
            let item = vc
                .find_item(&o.item)
                .map_err(|e| ScenarioError::field(format!("{field}.item"), e.to_string()))?;
            let p = resolve_provider(vc, &o.provider, &format!("{field}.provider"))?;
            if !vc.provider(p).in_country_view() {
                return Err(ScenarioError::field(
                    format!("{field}.provider"),
                    format!(
                        "`{}` is a firm; overrides set country-view shares",
                        o.provider
                    ),
                ));
            }
            overrides.entry(item.ix()).or_default().push((
                p,
                o.share,
                o.source.clone().unwrap_or_else(|| "scenario file".into()),
            ));
        }

        // Country-view supply terms per item.
        let mut slot_of: Vec<u32> = vec![u32::MAX; vc.model().providers.len()];
        let mut providers: Vec<ProviderSlot> = Vec::new();
        let mut terms: Vec<Vec<(ProviderIdx, f64)>> = vec![Vec::new(); n];
        let mut residual: Vec<f64> = vec![0.0; n];
        for (k, it) in items.iter().enumerate() {
            let mut shares = vc.country_shares(it.idx, Some(a.share_basis));
            if shares.is_empty() {
                shares = vc.country_shares(it.idx, None);
            }
            let mut listed: Vec<(ProviderIdx, Option<f64>)> = Vec::new();
            for s in shares {
                if let Some(p) = vc.provider_idx(&s.provider) {
                    match listed.iter_mut().find(|(q, _)| *q == p) {
                        // Both bases listed: keep the larger number (never add them).
                        Some(e) => e.1 = max_opt(e.1, s.share),
                        None => listed.push((p, s.share)),
                    }
                }
            }
            if let Some(ovs) = overrides.get(&k) {
                for (p, v, src) in ovs {
                    match listed.iter_mut().find(|(q, _)| q == p) {
                        Some(e) => e.1 = Some(*v),
                        None => listed.push((*p, Some(*v))),
                    }
                    notes.push(format!(
                        "{} {}: share of {} set to {v}% by the scenario ({src})",
                        it.id,
                        it.name,
                        vc.provider(*p)
                            .country
                            .as_deref()
                            .unwrap_or(&vc.provider(*p).id)
                    ));
                }
            }
            if listed.is_empty() {
                continue;
            }
            let (t, unknown) = split_known(&listed);
            let mut out: Vec<(ProviderIdx, f64)> = Vec::new();
            if unknown > 0 {
                let unknowns: Vec<ProviderIdx> = listed
                    .iter()
                    .filter(|(_, v)| v.is_none())
                    .map(|(p, _)| *p)
                    .collect();
                let chosen: Vec<ProviderIdx> = match bias {
                    Some((hit, worst)) => {
                        let h: Vec<ProviderIdx> = unknowns
                            .iter()
                            .copied()
                            .filter(|p| hit.contains(p) == worst)
                            .collect();
                        if h.is_empty() {
                            unknowns.clone()
                        } else {
                            h
                        }
                    }
                    None => unknowns.clone(),
                };
                let each = (100.0 - t).max(0.0) / chosen.len() as f64;
                if bias.is_none() {
                    notes.push(format!(
                        "{} {}: {unknown} provider(s) listed without a share; each assumed \
                         {each:.1}% (equal split of the unassigned {:.1}%; where a shock reaches \
                         one of them, the segment layer reports the range over every split)",
                        it.id,
                        it.name,
                        (100.0 - t).max(0.0)
                    ));
                }
                for (p, v) in &listed {
                    out.push((*p, v.unwrap_or(if chosen.contains(p) { each } else { 0.0 })));
                }
            } else {
                for (p, v) in &listed {
                    out.push((*p, v.unwrap_or(0.0)));
                }
                if t < 100.0 {
                    residual[k] = 100.0 - t;
                }
            }
            let total: f64 = out.iter().map(|x| x.1).sum::<f64>() + residual[k];
            let scale = if total > 100.0 { 100.0 / total } else { 1.0 };
            for (p, v) in &mut out {
                *v *= scale;
                if slot_of[p.ix()] == u32::MAX {
                    providers.push(ProviderSlot {
                        label: provider_label(vc, *p),
                        provider: Some(*p),
                    });
                    slot_of[p.ix()] = (providers.len() - 1) as u32;
                }
            }
            residual[k] *= scale;
            terms[k] = out;
        }
        let unattributed = providers.len() as u32;
        providers.push(ProviderSlot {
            label: "unattributed".into(),
            provider: None,
        });

        // Taxonomy weights: market size, else the sum of the variants' weights.
        let weight = taxonomy_weights(vc);
        let mut links = Vec::with_capacity(n);
        let mut edge_item = Vec::new();
        for (k, it) in items.iter().enumerate() {
            let mut l = ItemLinks::default();
            for (p, v) in &terms[k] {
                l.supply.push((slot_of[p.ix()], (*v / 100.0) as f32));
            }
            if residual[k] > 0.0 {
                l.supply.push((unattributed, (residual[k] / 100.0) as f32));
            }
            edge_item.extend(std::iter::repeat_n(k as u32, l.supply.len()));
            l.inputs = vc.inputs(it.idx).iter().map(|i| i.0).collect();
            let ch = vc.children(it.idx);
            if !ch.is_empty() {
                let known: Vec<f64> = ch.iter().filter_map(|c| weight[c.ix()]).collect();
                let fill = if known.is_empty() {
                    1.0
                } else {
                    known.iter().sum::<f64>() / known.len() as f64
                };
                let mut sum = 0.0;
                for c in ch {
                    let w = weight[c.ix()].unwrap_or(fill);
                    sum += w;
                    l.variants.push((c.0, w as f32));
                }
                // The parent's own shares stand for the part of its market its variants miss.
                l.own_weight = if terms[k].is_empty() {
                    0.0
                } else {
                    vc.item(it.idx)
                        .market_size
                        .as_ref()
                        .map_or(0.0, |m| (m.usd - sum).max(0.0)) as f32
                };
            }
            links.push(l);
        }
        let kernel =
            Kernel::build(&links, providers.len() as u32, a.taxonomy).map_err(|e| match e {
                KernelError::Cycle(k) => ScenarioError::Cycle {
                    item: items[k as usize].id.clone(),
                },
                KernelError::OutOfRange(..) => ScenarioError::Cycle {
                    item: e.to_string(),
                },
            })?;
        for (k, it) in items.iter().enumerate() {
            if terms[k].is_empty()
                && vc.children(it.idx).is_empty()
                && vc.inputs(it.idx).is_empty()
                && !matches!(it.kind, ItemKind::Process | ItemKind::FinalOutput)
            {
                notes.push(format!(
                    "{} {}: no supply data; treated as always available",
                    it.id, it.name
                ));
            }
        }

        // Firm shares, for shocks that name a firm.
        let mut firm_share: Vec<Vec<(ProviderIdx, f64)>> = vec![Vec::new(); n];
        for (k, it) in items.iter().enumerate() {
            let listed: Vec<(ProviderIdx, Option<f64>)> = vc
                .firm_shares(it.idx)
                .into_iter()
                .filter_map(|s| vc.provider_idx(&s.provider).map(|p| (p, s.share)))
                .filter(|(p, _)| vc.provider(*p).provider_type == ProviderType::Organisation)
                .collect();
            let (t, unknown) = split_known(&listed);
            let each = if unknown > 0 {
                (100.0 - t).max(0.0) / unknown as f64
            } else {
                0.0
            };
            for (p, v) in listed {
                let v = v.unwrap_or(each);
                match firm_share[k].iter_mut().find(|e| e.0 == p) {
                    Some(e) => e.1 = v,
                    None => firm_share[k].push((p, v)),
                }
            }
        }

        let (consumers, consumers_from) = build_consumers(vc, consumers)?;
        Ok(Prepared {
            kernel,
            items,
            providers,
            slot_of,
            edge_item,
            consumers,
            final_item,
            assumptions: a.clone(),
            firm_share,
            notes,
            consumers_from,
        })
    }

    /// Kernel slot of a provider in the country view.
    fn slot(&self, p: ProviderIdx) -> Option<u32> {
        self.slot_of.get(p.ix()).copied().filter(|&s| s != u32::MAX)
    }

    pub(crate) fn n_items(&self) -> usize {
        self.items.len()
    }

    /// Resolve shocks into effects. Unknown references are errors naming the field.
    pub(crate) fn resolve(
        &self,
        vc: &ValueChain,
        shocks: &[Shock],
    ) -> Result<Effects, ScenarioError> {
        let mut fx = Effects::default();
        for (i, sh) in shocks.iter().enumerate() {
            let f = |name: &str| format!("shock[{i}].{name}");
            let shock = i as u32;
            let mut rs = ResolvedShock {
                index: i,
                kind: sh.kind().to_string(),
                providers: Vec::new(),
                consumers: Vec::new(),
                items: Vec::new(),
                start_day: sh.start_day(),
                end_day: None,
            };
            match sh {
                Shock::ExportBlock {
                    from,
                    to,
                    items,
                    start_day,
                    duration_days,
                    fraction,
                } => {
                    let set = self.resolve_items(vc, items, &f("items"))?;
                    let targets = self.resolve_consumers(vc, to, &f("to"), &mut fx.notes)?;
                    fx.profiles.push(Profile::of(sh));
                    rs.end_day = duration_days.map(|d| start_day + d);
                    for (j, r) in from.iter().enumerate() {
                        let p = resolve_provider(vc, r, &format!("{}[{j}]", f("from")))?;
                        rs.providers.push(provider_label(vc, p));
                        // Domestic supply is not an export: a country never blocks itself.
                        let home = home_country(vc, p);
                        let cons: Vec<u32> = targets
                            .iter()
                            .copied()
                            .filter(|&c| {
                                home.is_none()
                                    || self.consumers[c as usize].country.as_str()
                                        != home.as_deref().unwrap_or("")
                            })
                            .collect();
                        let strength = fraction.unwrap_or(1.0);
                        self.edge_effects(vc, p, &set, Some(cons), strength, shock, &mut fx);
                    }
                    rs.consumers = targets
                        .iter()
                        .map(|&c| self.consumers[c as usize].country.clone())
                        .collect();
                    rs.items = self.item_list(&set);
                }
                Shock::CapacityLoss {
                    provider,
                    items,
                    fraction,
                    start_day,
                    duration_days,
                    recovery_days,
                } => {
                    let set = self.resolve_items(vc, items, &f("items"))?;
                    let p = resolve_provider(vc, provider, &f("provider"))?;
                    fx.profiles.push(Profile::of(sh));
                    rs.end_day = duration_days.map(|d| start_day + d + recovery_days);
                    rs.providers.push(provider_label(vc, p));
                    self.edge_effects(vc, p, &set, None, *fraction, shock, &mut fx);
                    // A country also loses its own process capacity (where fabs and ATP sit).
                    if vc.provider(p).provider_type == ProviderType::Country {
                        let cc = vc.provider(p).country.clone().unwrap_or_default();
                        for (c, con) in self.consumers.iter().enumerate() {
                            if con.country != cc {
                                continue;
                            }
                            rs.consumers.push(con.country.clone());
                            for (k, it) in self.items.iter().enumerate() {
                                if set[k] && it.kind == ItemKind::Process {
                                    fx.process.push(ProcessEffect {
                                        item: k as u32,
                                        consumer: c as u32,
                                        strength: *fraction,
                                        shock,
                                    });
                                }
                            }
                        }
                    }
                    rs.items = self.item_list(&set);
                }
                Shock::DemandSurge {
                    consumer,
                    items,
                    factor,
                    ..
                } => {
                    let set = self.resolve_items(vc, items, &f("items"))?;
                    let targets = self.resolve_consumers(
                        vc,
                        std::slice::from_ref(consumer),
                        &f("consumer"),
                        &mut fx.notes,
                    )?;
                    fx.profiles.push(Profile::of(sh));
                    // Leontief: more output needs proportionally more of everything upstream.
                    let up = self.upstream(vc, &set);
                    for &c in &targets {
                        for (k, &hit) in up.iter().enumerate() {
                            if hit {
                                fx.demand.push(DemandEffect {
                                    item: k as u32,
                                    consumer: c,
                                    factor: *factor,
                                    shock,
                                });
                            }
                        }
                    }
                    rs.consumers = targets
                        .iter()
                        .map(|&c| self.consumers[c as usize].country.clone())
                        .collect();
                    rs.items = self.item_list(&set);
                }
            }
            fx.resolved.push(rs);
        }
        Ok(fx)
    }

    fn item_list(&self, set: &[bool]) -> Vec<String> {
        if set.iter().all(|&b| b) {
            return vec!["*".into()];
        }
        self.items
            .iter()
            .zip(set)
            .filter(|(_, &b)| b)
            .map(|(it, _)| it.id.clone())
            .collect()
    }

    /// Items named by references, with the variants of every taxonomy parent.
    pub(crate) fn resolve_items(
        &self,
        vc: &ValueChain,
        refs: &[String],
        field: &str,
    ) -> Result<Vec<bool>, ScenarioError> {
        let mut set = vec![false; self.items.len()];
        for (j, r) in refs.iter().enumerate() {
            let r = r.trim();
            if r == "*" {
                set.iter_mut().for_each(|b| *b = true);
                continue;
            }
            if let Some(st) = stage_ref(vc, r) {
                for (k, it) in self.items.iter().enumerate() {
                    if it.kind == ItemKind::Process && it.stage == Some(st) {
                        set[k] = true;
                    }
                }
                continue;
            }
            let i = vc
                .find_item(r)
                .map_err(|e| ScenarioError::field(format!("{field}[{j}]"), unknown_item(r, e)))?;
            set[i.ix()] = true;
            for d in vc.descendants(i) {
                set[d.ix()] = true;
            }
        }
        Ok(set)
    }

    /// Everything upstream of a set of items (inputs, transitively, and their variants).
    fn upstream(&self, vc: &ValueChain, set: &[bool]) -> Vec<bool> {
        let mut out = set.to_vec();
        let mut stack: Vec<ItemIdx> = set
            .iter()
            .enumerate()
            .filter(|(_, &b)| b)
            .map(|(k, _)| self.items[k].idx)
            .collect();
        while let Some(i) = stack.pop() {
            for &j in vc.inputs(i).iter().chain(vc.children(i)) {
                if !std::mem::replace(&mut out[j.ix()], true) {
                    stack.push(j);
                }
            }
        }
        out
    }

    fn resolve_consumers(
        &self,
        vc: &ValueChain,
        refs: &[String],
        field: &str,
        notes: &mut Vec<String>,
    ) -> Result<Vec<u32>, ScenarioError> {
        let mut out = Vec::new();
        for (j, r) in refs.iter().enumerate() {
            if r.trim() == "*" {
                return Ok((0..self.consumers.len() as u32).collect());
            }
            let fj = if refs.len() == 1 && !field.ends_with(']') && field.ends_with("consumer") {
                field.to_string()
            } else {
                format!("{field}[{j}]")
            };
            let code = resolve_country_code(vc, r).ok_or_else(|| {
                ScenarioError::field(
                    fj.clone(),
                    format!("unknown consumer `{r}` (an ISO alpha-3 country code, a country name or \"*\")"),
                )
            })?;
            match self.consumers.iter().position(|c| c.country == code) {
                Some(c) => out.push(c as u32),
                None => notes.push(format!(
                    "{fj}: {code} is not a consumer in this scenario; no effect (add a [[consumer]])"
                )),
            }
        }
        out.sort_unstable();
        out.dedup();
        Ok(out)
    }

    /// Effects on the supply edges of provider `p` for items in `set`.
    #[allow(clippy::too_many_arguments)]
    fn edge_effects(
        &self,
        vc: &ValueChain,
        p: ProviderIdx,
        set: &[bool],
        consumers: Option<Vec<u32>>,
        strength: f64,
        shock: u32,
        fx: &mut Effects,
    ) {
        let prov = vc.provider(p);
        if prov.in_country_view() {
            let Some(slot) = self.slot(p) else {
                return; // provides nothing in the model
            };
            for (k, _) in set.iter().enumerate().filter(|(_, &b)| b) {
                for e in self.kernel.supply_range(k) {
                    if self.kernel.supply_edge(e).0 == slot {
                        fx.edge.push(EdgeEffect {
                            edge: e as u32,
                            consumers: consumers.clone(),
                            portion: None,
                            strength,
                            shock,
                        });
                    }
                }
            }
            return;
        }
        // A firm: the matching part of its headquarters country's share.
        let home = prov
            .country
            .as_deref()
            .and_then(|c| vc.country_provider(c))
            .and_then(|c| self.slot(c));
        let Some(slot) = home else {
            fx.notes.push(format!(
                "shock[{shock}]: firm {} has no headquarters country with shares in the model; no effect",
                prov.name
            ));
            return;
        };
        for (k, _) in set.iter().enumerate().filter(|(_, &b)| b) {
            let Some(&(_, fs)) = self.firm_share[k].iter().find(|e| e.0 == p) else {
                continue;
            };
            for e in self.kernel.supply_range(k) {
                let (src, w) = self.kernel.supply_edge(e);
                if src == slot && w > 0.0 {
                    let portion = (fs / 100.0 / f64::from(w)).min(1.0);
                    fx.edge.push(EdgeEffect {
                        edge: e as u32,
                        consumers: consumers.clone(),
                        portion: Some(portion),
                        strength,
                        shock,
                    });
                }
            }
        }
    }

    /// Step through `days` days. With `report` days (ascending), the per-item statistics, the
    /// values on those days and each consumer's worst day are kept (for results); without, only
    /// the final output (Monte Carlo).
    pub(crate) fn simulate(&self, fx: &Effects, days: u32, report: Option<&[u32]>) -> Sim {
        let a = &self.assumptions;
        let n = self.n_items();
        let nc = self.consumers.len();
        let ne = self.kernel.n_supply_edges();
        let h = a.headroom;
        let ones = vec![1.0f32; self.kernel.n_providers()];
        let mut mult = vec![1.0f32; ne];
        let mut floss = vec![0.0f64; ne];
        let mut sup = vec![0.0f32; n];
        let mut own = vec![0.0f32; n];
        let mut val = vec![0.0f32; n];
        let keep = report.is_some();
        let report = report.unwrap_or_default();
        // Consumers with a twin are not stepped: they copy their twin's day.
        let twin = self.twins(fx);
        let mut slot = vec![0usize; nc];
        let mut ns = 0;
        for c in 0..nc {
            if twin[c] == c {
                slot[c] = ns;
                ns += 1;
            } else {
                slot[c] = slot[twin[c]];
            }
        }
        let mut sim = Sim {
            days,
            fin: Vec::with_capacity(days as usize * nc),
            report: report.to_vec(),
            slot: slot.clone(),
            stats: vec![Running::NEW; if keep { ns * n } else { 0 }],
            series: vec![0.0; report.len() * ns * n],
            worst: vec![
                WorstDay {
                    day: 0,
                    val: vec![f32::INFINITY; if keep { n } else { 0 }],
                    own: vec![0.0; if keep { n } else { 0 }],
                };
                if keep { ns } else { 0 }
            ],
        };
        let mut next_report = 0;
        // Per consumer state: stock of each buffered item (days), tool lag windows, chip stock.
        let lag = a.tool_lag_days as usize;
        let initial: Vec<f64> = self
            .items
            .iter()
            .map(|it| match it.kind {
                ItemKind::Material => a.inventory_days.material,
                ItemKind::Tool => a.inventory_days.tool,
                _ => 0.0,
            })
            .collect();
        let mut stock: Vec<Vec<f64>> = vec![initial; ns];
        // Lagged tools (tools with providers) get a window of the last `lag` days, stored by day
        // slot, then consumer, then lagged tool: each day reads and writes one contiguous row.
        // (One vector per item and consumer cost a cache miss per tool per day: 65% of a
        // 10^5-item run.)
        // A tool no shock reaches (no effect on its supply edges, no demand effect) with supply
        // to spare gets 1.0 every day, so its window would hold 1.0 forever and give exactly
        // 1.0: it needs no window (at 10^6 items the windows were 2.9 GB).
        let fixed: Vec<bool> = {
            let mut reached = vec![false; n];
            for e in &fx.edge {
                reached[self.edge_item[e.edge as usize] as usize] = true;
            }
            for d in &fx.demand {
                reached[d.item as usize] = true;
            }
            let mut base = vec![0.0f32; n];
            self.kernel.supply(&ones, None, h as f32, &mut base);
            (0..n)
                .map(|k| !reached[k] && self.kernel.has_supply(k) && base[k] >= 1.0)
                .collect()
        };
        let lagged: Vec<u32> = {
            let mut next = 0u32;
            self.items
                .iter()
                .enumerate()
                .map(|(k, it)| {
                    if it.kind == ItemKind::Tool
                        && lag > 0
                        && self.kernel.has_supply(k)
                        && !fixed[k]
                    {
                        next += 1;
                        next - 1
                    } else {
                        u32::MAX
                    }
                })
                .collect()
        };
        let nl = lagged.iter().filter(|&&w| w != u32::MAX).count();
        let mut window = vec![1.0f32; lag * ns * nl];
        let mut window_sum = vec![lag as f64; ns * nl];
        let mut chip_stock = vec![a.chip_inventory_days; nc];
        // Consumers that run every stage go first, so a consumer that imports a stage's output
        // can take it from them on the same day.
        let mut corder: Vec<usize> = (0..nc).collect();
        corder.sort_by_key(|&c| std::cmp::Reverse(self.consumers[c].stages.len()));
        let mut intensity = vec![0.0f64; fx.profiles.len()];
        let mut need = vec![1.0f64; n];
        let mut pcap = vec![1.0f64; n];
        let mut day_val = vec![0.0f32; nc * n];
        let mut day_fin = vec![0.0f32; nc];
        // Per item, what the daily item loop needs, packed (the `ItemInfo` rows with their
        // strings are ~80 bytes each: reading them per consumer and day was memory traffic).
        let kinds: Vec<(ItemKind, Option<StageKind>)> =
            self.items.iter().map(|it| (it.kind, it.stage)).collect();
        // The supply pass depends only on the edge multipliers, which change only when a
        // shock's intensity does (or between consumers, for consumer-specific shocks): the last
        // pass is reused while its multipliers are unchanged. `sup_key` holds the multipliers
        // of the shocked edges it was computed with (the other edges are always 1.0).
        let per_consumer = fx.edge.iter().any(|e| e.consumers.is_some());
        let mut sup_key: Vec<f32> = Vec::with_capacity(fx.edge.len());
        let mut sup_intensity: Option<Vec<f64>> = None;
        // Per (consumer, item): a value of exactly 1.0 has been pushed to its `Running` before.
        let mut seen_one = vec![false; if keep { ns * n } else { 0 }];
        for t in 0..days {
            let at_report = report.get(next_report) == Some(&t);
            for (s, p) in fx.profiles.iter().enumerate() {
                intensity[s] = p.at(t);
            }
            for &c in &corder {
                if twin[c] != c {
                    // Stepped before it (same stage count, lower index: earlier in `corder`).
                    day_fin[c] = day_fin[twin[c]];
                    continue;
                }
                let sc = slot[c];
                // Same intensities as the cached pass and no consumer-specific edge shock: the
                // multipliers, hence the supply, are the cached ones.
                let same_day = !per_consumer && sup_intensity.as_deref() == Some(&intensity[..]);
                if !same_day {
                    self.edge_multipliers(fx, &intensity, c as u32, &mut mult, &mut floss);
                    let cached = sup_intensity.is_some()
                        && fx
                            .edge
                            .iter()
                            .zip(&sup_key)
                            .all(|(e, m)| mult[e.edge as usize].to_bits() == m.to_bits());
                    if !cached {
                        self.kernel.supply(&ones, Some(&mult), h as f32, &mut sup);
                        sup_key.clear();
                        sup_key.extend(fx.edge.iter().map(|e| mult[e.edge as usize]));
                    }
                    sup_intensity = Some(intensity.clone());
                }
                // `need` and `pcap` are 1.0 except where a demand or process shock acts: reset
                // those entries only (same products, same order).
                for d in &fx.demand {
                    need[d.item as usize] = 1.0;
                }
                for d in fx.demand.iter().filter(|d| d.consumer == c as u32) {
                    if intensity[d.shock as usize] > 0.0 {
                        need[d.item as usize] *= d.factor;
                    }
                }
                for pe in &fx.process {
                    pcap[pe.item as usize] = 1.0;
                }
                for pe in fx.process.iter().filter(|p| p.consumer == c as u32) {
                    pcap[pe.item as usize] *= 1.0 - pe.strength * intensity[pe.shock as usize];
                }
                let con = &self.consumers[c];
                for (k, &(kind, stage)) in kinds.iter().enumerate() {
                    let s = sup[k];
                    own[k] = if s.is_nan() {
                        if kind == ItemKind::Process {
                            match stage {
                                Some(st) if !con.stages.contains(&st) => {
                                    self.imported(st, k, c, &day_val)
                                }
                                _ => ((1.0 + h) * pcap[k] / need[k]).min(1.0) as f32,
                            }
                        } else {
                            1.0
                        }
                    } else {
                        let mut r = (f64::from(s) / need[k]).max(0.0);
                        if kind == ItemKind::Tool && lag > 0 && fixed[k] {
                            r = 1.0;
                        } else if lagged[k] != u32::MAX {
                            let w = sc * nl + lagged[k] as usize;
                            let old = &mut window[(t as usize % lag) * ns * nl + w];
                            let v = r.min(1.0) as f32;
                            window_sum[w] += f64::from(v) - f64::from(*old);
                            *old = v;
                            r = window_sum[w] / lag as f64;
                        }
                        let cap = match kind {
                            ItemKind::Material => a.inventory_days.material,
                            ItemKind::Tool => a.inventory_days.tool,
                            _ => 0.0,
                        };
                        if cap > 0.0 {
                            let st = &mut stock[sc][k];
                            let used = (r + *st / need[k]).min(1.0);
                            *st = (*st + (r - used) * need[k]).min(cap).max(0.0);
                            used as f32
                        } else {
                            r.min(1.0) as f32
                        }
                    };
                }
                self.kernel.flow(&own, &mut val);
                // Finished chips: the consumers' inventory covers a shortfall; it is rebuilt at
                // the headroom rate when production is back to normal.
                let p = f64::from(val[self.final_item]);
                let used = (p + chip_stock[c]).min(1.0);
                chip_stock[c] = if p >= 1.0 - EPS {
                    (chip_stock[c] + h).min(a.chip_inventory_days)
                } else {
                    (chip_stock[c] - (used - p)).max(0.0)
                };
                day_val[c * n..(c + 1) * n].copy_from_slice(&val);
                day_fin[c] = used as f32;
                if keep {
                    let stats = &mut sim.stats[sc * n..(sc + 1) * n];
                    let seen = &mut seen_one[sc * n..(sc + 1) * n];
                    for (k, ((st, &v), one)) in
                        stats.iter_mut().zip(&val).zip(seen.iter_mut()).enumerate()
                    {
                        let v = if k == self.final_item { used as f32 } else { v };
                        // Pushing exactly 1.0 again changes nothing (the minimum is already at
                        // most 1.0, nothing falls short): skip reading the 32-byte record.
                        if v == 1.0 {
                            if *one {
                                continue;
                            }
                            *one = true;
                        }
                        st.push(t, f64::from(v));
                    }
                    if at_report {
                        let at = (next_report * ns + sc) * n;
                        let row = &mut sim.series[at..at + n];
                        row.copy_from_slice(&val);
                        row[self.final_item] = used as f32;
                    }
                    // Strictly lower only: the first worst day is kept.
                    let w = &mut sim.worst[sc];
                    if val[self.final_item] < w.val[self.final_item] || t == 0 {
                        w.day = t;
                        w.val.copy_from_slice(&val);
                        w.own.copy_from_slice(&own);
                    }
                }
            }
            if at_report {
                next_report += 1;
            }
            sim.fin.extend_from_slice(&day_fin);
        }
        sim
    }

    /// For each consumer, the consumer whose simulation it can share (itself when none): the
    /// first consumer with the same stages and the same consumer-specific effects. Their days
    /// are then identical step for step (same supply, stocks, tool windows, chip stock), so
    /// the engine runs one of them. Only when no consumer imports a process (a process item
    /// whose stage some consumer does not run): an imported value depends on the order in
    /// which the consumers are stepped within a day, which sharing would change.
    pub(crate) fn twins(&self, fx: &Effects) -> Vec<usize> {
        let nc = self.consumers.len();
        let imports = self.items.iter().any(|it| {
            it.kind == ItemKind::Process
                && it
                    .stage
                    .is_some_and(|st| self.consumers.iter().any(|c| !c.stages.contains(&st)))
        });
        if imports {
            return (0..nc).collect();
        }
        // What sets a consumer apart: its stages, whether each consumer-specific edge effect
        // acts on it, and its process and demand effects.
        let key = |c: usize| {
            let cu = c as u32;
            let mut k: Vec<u64> = self.consumers[c].stages.iter().map(|&s| s as u64).collect();
            k.push(u64::MAX);
            for e in &fx.edge {
                if let Some(cs) = &e.consumers {
                    k.push(u64::from(cs.contains(&cu)));
                }
            }
            for p in fx.process.iter().filter(|p| p.consumer == cu) {
                k.extend([u64::from(p.item), p.strength.to_bits(), u64::from(p.shock)]);
            }
            k.push(u64::MAX);
            for d in fx.demand.iter().filter(|d| d.consumer == cu) {
                k.extend([u64::from(d.item), d.factor.to_bits(), u64::from(d.shock)]);
            }
            k
        };
        let mut first: HashMap<Vec<u64>, usize> = HashMap::new();
        (0..nc).map(|c| *first.entry(key(c)).or_insert(c)).collect()
    }

    /// A process a consumer does not run: the capacity-weighted availability of that process
    /// over the consumers that run its stage (already computed today).
    fn imported(&self, st: StageKind, k: usize, c: usize, day_val: &[f32]) -> f32 {
        let n = self.n_items();
        let mut num = 0.0;
        let mut den = 0.0;
        for (d, con) in self.consumers.iter().enumerate() {
            if d != c && con.stages.contains(&st) {
                num += con.weight.max(1e-9) * f64::from(day_val[d * n + k]);
                den += con.weight.max(1e-9);
            }
        }
        if den > 0.0 {
            (num / den) as f32
        } else {
            1.0
        }
    }

    /// Per-edge factors for one consumer on one day.
    pub(crate) fn edge_multipliers(
        &self,
        fx: &Effects,
        intensity: &[f64],
        c: u32,
        mult: &mut [f32],
        floss: &mut [f64],
    ) {
        for e in &fx.edge {
            mult[e.edge as usize] = 1.0;
            floss[e.edge as usize] = 0.0;
        }
        for e in &fx.edge {
            let i = intensity[e.shock as usize] * e.strength;
            if i <= 0.0 || e.consumers.as_ref().is_some_and(|cs| !cs.contains(&c)) {
                continue;
            }
            match e.portion {
                None => mult[e.edge as usize] *= (1.0 - i).max(0.0) as f32,
                Some(p) => floss[e.edge as usize] += p * i,
            }
        }
        for e in &fx.edge {
            let f = floss[e.edge as usize];
            if f > 0.0 {
                mult[e.edge as usize] *= (1.0 - f).max(0.0) as f32;
                floss[e.edge as usize] = 0.0;
            }
        }
    }

    /// Build the public result.
    pub(crate) fn summarise(
        &self,
        vc: &ValueChain,
        s: &Scenario,
        fx: &Effects,
        sim: &Sim,
    ) -> ScenarioResult {
        let n = self.n_items();
        let nc = self.consumers.len();
        let days = sim.days;
        let first_shock = s.shocks.iter().map(Shock::start_day).min().unwrap_or(0);
        let report_days = &sim.report;
        let mut consumers = Vec::with_capacity(nc);
        let ns = sim.worst.len().max(1);
        // Built once per slot; consumers sharing a slot share the strings and series.
        let ids: Vec<Arc<str>> = self.items.iter().map(|it| Arc::from(&*it.id)).collect();
        let names: Vec<Arc<str>> = self.items.iter().map(|it| Arc::from(&*it.name)).collect();
        // Equal series are stored once (every item that never falls short, and the many items
        // downstream of one shortfall that follow it day for day).
        let mut shared: HashMap<u64, Vec<SharedSeries>> = HashMap::new();
        let mut share = |series: Vec<(u32, f64)>| -> SharedSeries {
            let h = series.iter().fold(0xcbf2_9ce4_8422_2325u64, |h, p| {
                (h ^ p.1.to_bits()).wrapping_mul(0x0100_0000_01b3)
            });
            let bucket = shared.entry(h).or_default();
            if let Some(a) = bucket.iter().find(|a| a[..] == series[..]) {
                return a.clone();
            }
            let a: SharedSeries = series.into();
            bucket.push(a.clone());
            a
        };
        let mut by_slot: Vec<Option<Arc<[ItemResult]>>> = vec![None; ns];
        for (c, con) in self.consumers.iter().enumerate() {
            let sc = sim.slot[c];
            let items = by_slot[sc]
                .get_or_insert_with(|| {
                    let mut items = Vec::with_capacity(n);
                    for (k, it) in self.items.iter().enumerate() {
                        let series: Vec<(u32, f64)> = report_days
                            .iter()
                            .enumerate()
                            .map(|(r, &t)| {
                                (t, round6(f64::from(sim.series[(r * ns + sc) * n + k])))
                            })
                            .collect();
                        let st = sim.stats[sc * n + k].finish(series, first_shock);
                        let series = share(st.series);
                        items.push(ItemResult {
                            item_id: ids[k].clone(),
                            availability_min: st.min,
                            availability_end: st.end,
                            tts_days: st.tts,
                            series,
                            name: names[k].clone(),
                            kind: it.kind,
                            worst_day: st.worst_day,
                            shortfall_days: st.shortfall,
                        });
                    }
                    items.into()
                })
                .clone();
            let fin = &items[self.final_item];
            // Nothing binds when the consumers' chip stock covered every shortfall. The chain
            // is traced on the day production (before chip stock) is lowest.
            let (chain, provs) = if fin.availability_min < 1.0 - EPS {
                self.binding(fx, &sim.worst[sc], c)
            } else {
                (Vec::new(), Vec::new())
            };
            let final_output = FinalOutput {
                item_id: fin.item_id.to_string(),
                availability_min: fin.availability_min,
                binding_constraint: chain,
                binding_providers: provs,
                worst_day: fin.worst_day,
                availability_end: fin.availability_end,
                tts_days: fin.tts_days,
                shortfall_days: fin.shortfall_days,
                series: fin.series.to_vec(),
            };
            consumers.push(ConsumerResult {
                country: con.country.clone(),
                name: con.name.clone(),
                weight: con.weight,
                stages: con.stages.clone(),
                items,
                final_output,
                segments: Vec::new(),
            });
        }
        let wsum: f64 = self.consumers.iter().map(|c| c.weight).sum();
        let world_at = |t: u32| -> f64 {
            let mut acc = 0.0;
            for (c, con) in self.consumers.iter().enumerate() {
                let w = if wsum > 0.0 {
                    con.weight / wsum
                } else {
                    1.0 / nc as f64
                };
                acc += w * f64::from(sim.fin[t as usize * nc + c]);
            }
            acc
        };
        let ws = series_stats(days, report_days, first_shock, world_at);
        let mut notes = self.notes.clone();
        notes.extend(fx.notes.iter().cloned());
        ScenarioResult {
            scenario: s.name.clone(),
            assumptions: self.assumptions.clone(),
            consumers,
            horizon_days: days,
            step_days: s.step_days,
            world: WorldResult {
                item_id: self.items[self.final_item].id.clone(),
                availability_min: ws.min,
                availability_end: ws.end,
                shortfall_days: ws.shortfall,
                series: ws.series,
            },
            shocks: fx.resolved.clone(),
            provenance: Provenance {
                model: vc.model().meta.name.clone(),
                dataset: vc.model().meta.dataset.clone(),
                vintage: vc.model().meta.vintage.clone(),
                share_view: format!(
                    "country view, {} basis (firm shocks act on their headquarters country's share)",
                    self.assumptions.share_basis
                ),
                consumers_from: self.consumers_from.clone(),
                engine: format!("chipwatch-analysis {}", env!("CARGO_PKG_VERSION")),
            },
            notes,
            economies: Vec::new(),
            world_segments: Vec::new(),
            production: Vec::new(),
            baseline: None,
            segment_provenance: None,
        }
    }

    /// The binding constraint of consumer `c` on day `t`: from the final output down through the
    /// lowest input (or the variant losing the most) to the item whose own supply limits it, and
    /// the providers that account for most of that item's lost supply.
    fn binding(&self, fx: &Effects, worst: &WorstDay, c: usize) -> (Vec<String>, Vec<String>) {
        let n = self.n_items();
        let (t, val, own) = (worst.day, &worst.val[..], &worst.own[..]);
        let mut k = self.final_item;
        if f64::from(val[k]) >= 1.0 - EPS {
            return (Vec::new(), Vec::new());
        }
        let mut chain = vec![self.items[k].id.clone()];
        let mut seen = vec![false; n];
        seen[k] = true;
        loop {
            let v = val[k];
            // The item's own supply (or process capacity) binds: the chain ends here.
            if self.kernel.variants(k).is_empty()
                && own[k] <= v + 1e-6
                && f64::from(own[k]) < 1.0 - EPS
            {
                break;
            }
            let next_input = self
                .kernel
                .inputs(k)
                .iter()
                .copied()
                .filter(|&i| val[i as usize] <= v + 1e-6)
                .min_by(|&a, &b| {
                    // Ties break on item ids, so the chain never depends on input order.
                    val[a as usize]
                        .total_cmp(&val[b as usize])
                        .then_with(|| self.items[a as usize].id.cmp(&self.items[b as usize].id))
                });
            let next = match next_input {
                Some(i) => Some(i as usize),
                None => {
                    let (w, own_w) = self.kernel.variant_weights(k);
                    let vars = self.kernel.variants(k);
                    let own_loss = own_w * (1.0 - own[k]);
                    vars.iter()
                        .zip(w)
                        .map(|(&j, &wj)| (j as usize, wj * (1.0 - val[j as usize])))
                        .filter(|&(_, loss)| loss > own_loss && loss > 1e-7)
                        .max_by(|a, b| {
                            a.1.total_cmp(&b.1)
                                .then_with(|| self.items[b.0].id.cmp(&self.items[a.0].id))
                        })
                        .map(|x| x.0)
                }
            };
            match next {
                Some(j) if !seen[j] => {
                    seen[j] = true;
                    chain.push(self.items[j].id.clone());
                    k = j;
                }
                _ => break,
            }
        }
        // Providers: the lost share on the last item's supply edges that day.
        let mut provs: Vec<(f64, String)> = Vec::new();
        if self.kernel.has_supply(k) {
            let mut intensity = vec![0.0; fx.profiles.len()];
            for (s, p) in fx.profiles.iter().enumerate() {
                intensity[s] = p.at(t);
            }
            let ne = self.kernel.n_supply_edges();
            let mut mult = vec![1.0f32; ne];
            let mut floss = vec![0.0f64; ne];
            self.edge_multipliers(fx, &intensity, c as u32, &mut mult, &mut floss);
            for e in self.kernel.supply_range(k) {
                let (src, w) = self.kernel.supply_edge(e);
                let lost = f64::from(w) * f64::from(1.0 - mult[e]);
                if lost > 1e-7 {
                    provs.push((lost, self.providers[src as usize].label.clone()));
                }
            }
            // A lagged tool or a drained stock can bind after the shock ended: name the
            // providers of the shock instead of none.
            if provs.is_empty() {
                for e in &fx.edge {
                    if self.edge_item[e.edge as usize] as usize == k
                        && e.consumers
                            .as_ref()
                            .is_none_or(|cs| cs.contains(&(c as u32)))
                    {
                        let (src, w) = self.kernel.supply_edge(e.edge as usize);
                        provs.push((f64::from(w), self.providers[src as usize].label.clone()));
                    }
                }
            }
        } else if self.items[k].kind == ItemKind::Process {
            provs.push((1.0, self.consumers[c].country.clone()));
        }
        provs.sort_by(|a, b| b.0.total_cmp(&a.0).then(a.1.cmp(&b.1)));
        let mut names: Vec<String> = Vec::new();
        for (_, p) in provs {
            if !names.contains(&p) {
                names.push(p);
            }
        }
        names.truncate(5);
        (chain, names)
    }
}

struct Stats {
    min: f64,
    end: f64,
    tts: Option<f64>,
    series: Vec<(u32, f64)>,
    worst_day: u32,
    shortfall: f64,
}

/// Running statistics of one daily availability series, fed day by day.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Running {
    min: f64,
    shortfall: f64,
    worst_day: u32,
    /// First day below `1 - EPS`; `u32::MAX` while there is none.
    first_below: u32,
}

impl Running {
    const NEW: Running = Running {
        min: f64::INFINITY,
        shortfall: 0.0,
        worst_day: 0,
        first_below: u32::MAX,
    };

    /// Day `t`'s value; days come in order.
    #[inline]
    fn push(&mut self, t: u32, v: f64) {
        if v < self.min - 1e-9 {
            self.min = v;
            self.worst_day = t;
        }
        if self.first_below == u32::MAX && v < 1.0 - EPS {
            self.first_below = t;
        }
        self.shortfall += 1.0 - v.min(1.0);
    }

    /// The statistics, given the (rounded) values on the report days, whose last is the last day.
    fn finish(&self, series: Vec<(u32, f64)>, first_shock: u32) -> Stats {
        Stats {
            min: round6(self.min.min(1.0)),
            end: series.last().map_or(1.0, |p| p.1),
            tts: (self.first_below != u32::MAX)
                .then(|| f64::from(self.first_below.saturating_sub(first_shock))),
            series,
            worst_day: self.worst_day,
            shortfall: round6(self.shortfall),
        }
    }
}

fn series_stats(days: u32, report: &[u32], first_shock: u32, get: impl Fn(u32) -> f64) -> Stats {
    let mut r = Running::NEW;
    for t in 0..days {
        r.push(t, get(t));
    }
    r.finish(
        report.iter().map(|&t| (t, round6(get(t)))).collect(),
        first_shock,
    )
}

/// Days reported in series: every `step` days and the last day.
/// A stage named by a model stage id (`S2`) or a stage name (`fabrication`).
pub(crate) fn stage_ref(vc: &ValueChain, r: &str) -> Option<StageKind> {
    vc.model()
        .stages
        .iter()
        .find(|s| s.id == r)
        .map(|s| s.kind)
        .or_else(|| StageKind::parse(r))
}

/// The days a series reports: every `step` days and the last day.
pub(crate) fn report_days(days: u32, step: u32) -> Vec<u32> {
    let mut v: Vec<u32> = (0..days).step_by(step.max(1) as usize).collect();
    if v.last() != Some(&(days - 1)) {
        v.push(days - 1);
    }
    v
}

/// Round for output: results are computed in `f32` in the kernel, so more digits are noise.
pub(crate) fn round6(v: f64) -> f64 {
    (v * 1e6).round() / 1e6
}

fn max_opt(a: Option<f64>, b: Option<f64>) -> Option<f64> {
    match (a, b) {
        (Some(x), Some(y)) => Some(x.max(y)),
        (x, None) => x,
        (None, y) => y,
    }
}

/// Sum of known shares and number of providers listed without one.
fn split_known(listed: &[(ProviderIdx, Option<f64>)]) -> (f64, usize) {
    let t = listed.iter().filter_map(|x| x.1).sum();
    let u = listed.iter().filter(|x| x.1.is_none()).count();
    (t, u)
}

fn taxonomy_weights(vc: &ValueChain) -> Vec<Option<f64>> {
    fn rec(
        vc: &ValueChain,
        i: ItemIdx,
        memo: &mut [Option<Option<f64>>],
        depth: usize,
    ) -> Option<f64> {
        if let Some(w) = memo[i.ix()] {
            return w;
        }
        let w = vc.item(i).market_size.as_ref().map(|m| m.usd).or_else(|| {
            if depth > 64 {
                return None;
            }
            let ws: Vec<f64> = vc
                .children(i)
                .iter()
                .filter_map(|&c| rec(vc, c, memo, depth + 1))
                .collect();
            (!ws.is_empty()).then(|| ws.iter().sum())
        });
        memo[i.ix()] = Some(w);
        w
    }
    let n = vc.model().items.len();
    let mut memo = vec![None; n];
    (0..n)
        .map(|i| rec(vc, ItemIdx(i as u32), &mut memo, 0))
        .collect()
}

fn provider_label(vc: &ValueChain, p: ProviderIdx) -> String {
    let pr = vc.provider(p);
    match pr.provider_type {
        ProviderType::Country => pr.country.clone().unwrap_or_else(|| pr.id.clone()),
        _ => pr.name.clone(),
    }
}

/// The country a provider's supply leaves from (a country itself, or a firm's headquarters).
fn home_country(vc: &ValueChain, p: ProviderIdx) -> Option<String> {
    let pr = vc.provider(p);
    match pr.provider_type {
        ProviderType::Bucket => None,
        _ => pr.country.clone(),
    }
}

fn unknown_item(r: &str, e: chipwatch_model::LookupError) -> String {
    match e {
        chipwatch_model::LookupError::NotFound(_) => format!(
            "unknown item `{r}` (an item id, a name, a stage such as S2 or \"fabrication\", or \"*\")"
        ),
        other => other.to_string(),
    }
}

/// A provider reference: ISO alpha-3 country code, provider id, name or alias.
pub(crate) fn resolve_provider(
    vc: &ValueChain,
    r: &str,
    field: &str,
) -> Result<ProviderIdx, ScenarioError> {
    let r = r.trim();
    if r.len() == 3 && r.chars().all(|c| c.is_ascii_uppercase()) {
        if let Some(p) = vc.country_provider(r) {
            return Ok(p);
        }
    }
    vc.find_provider(r).map_err(|e| {
        ScenarioError::field(
            field,
            match e {
                chipwatch_model::LookupError::NotFound(_) => format!(
                    "unknown provider `{r}` (an ISO alpha-3 country code, a provider id or a name)"
                ),
                other => other.to_string(),
            },
        )
    })
}

fn resolve_country_code(vc: &ValueChain, r: &str) -> Option<String> {
    let r = r.trim();
    if r.len() == 3 && r.chars().all(|c| c.is_ascii_uppercase()) {
        return Some(r.to_string());
    }
    let p = vc.find_provider(r).ok()?;
    let pr = vc.provider(p);
    (pr.provider_type == ProviderType::Country)
        .then(|| pr.country.clone())
        .flatten()
}

/// Consumers: explicit, or countries with fabrication or ATP capacity (location shares of the
/// model's fabrication and ATP stages).
fn build_consumers(
    vc: &ValueChain,
    spec: Option<&[ConsumerSpec]>,
) -> Result<(Vec<Consumer>, String), ScenarioError> {
    let stage_share = |kind: StageKind| -> HashMap<String, f64> {
        let mut m = HashMap::new();
        for st in vc.model().stages.iter().filter(|s| s.kind == kind) {
            for sh in vc.stage_shares(&st.id) {
                if let Some(p) = vc.provider_by_id(&sh.provider) {
                    if p.provider_type == ProviderType::Country {
                        if let (Some(c), Some(v)) = (&p.country, sh.share) {
                            m.insert(c.clone(), v);
                        }
                    }
                }
            }
        }
        m
    };
    let design = stage_share(StageKind::Design);
    let fab = stage_share(StageKind::Fabrication);
    let atp = stage_share(StageKind::Atp);
    let derived_stages = |c: &str| -> Vec<StageKind> {
        let mut v = Vec::new();
        if design.get(c).copied().unwrap_or(0.0) > 0.0 {
            v.push(StageKind::Design);
        }
        if fab.get(c).copied().unwrap_or(0.0) > 0.0 {
            v.push(StageKind::Fabrication);
        }
        if atp.get(c).copied().unwrap_or(0.0) > 0.0 {
            v.push(StageKind::Atp);
        }
        if v.is_empty() {
            v = StageKind::ALL.to_vec();
        }
        v
    };
    let name_of = |c: &str| {
        vc.country_provider(c)
            .map(|p| vc.provider(p).name.clone())
            .unwrap_or_else(|| c.to_string())
    };
    let mut out = Vec::new();
    let from;
    match spec {
        Some(list) => {
            from = "scenario file ([[consumer]])".to_string();
            for (i, cs) in list.iter().enumerate() {
                let code = resolve_country_code(vc, &cs.country).ok_or_else(|| {
                    ScenarioError::field(
                        format!("consumer[{i}].country"),
                        format!(
                            "unknown country `{}` (an ISO alpha-3 code or a country name)",
                            cs.country
                        ),
                    )
                })?;
                if out.iter().any(|c: &Consumer| c.country == code) {
                    return Err(ScenarioError::field(
                        format!("consumer[{i}].country"),
                        format!("{code} is listed twice"),
                    ));
                }
                let mut stages = cs.stages.clone().unwrap_or_else(|| derived_stages(&code));
                stages.sort();
                stages.dedup();
                out.push(Consumer {
                    weight: cs
                        .weight
                        .unwrap_or_else(|| fab.get(&code).copied().unwrap_or(0.0)),
                    name: name_of(&code),
                    stages,
                    country: code,
                });
            }
        }
        None => {
            from = "model: countries with fabrication or ATP capacity (stage shares, location basis); weight = fabrication share".to_string();
            let mut codes: Vec<&String> = fab.keys().chain(atp.keys()).collect();
            codes.sort();
            codes.dedup();
            for code in codes {
                let w = fab
                    .get(code)
                    .copied()
                    .filter(|&w| w > 0.0)
                    .or_else(|| atp.get(code).copied())
                    .unwrap_or(0.0);
                out.push(Consumer {
                    country: code.clone(),
                    name: name_of(code),
                    weight: w,
                    stages: derived_stages(code),
                });
            }
        }
    }
    if out.is_empty() {
        return Err(ScenarioError::NoConsumers);
    }
    Ok((out, from))
}
