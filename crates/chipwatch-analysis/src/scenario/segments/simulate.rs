//! The segment layer day by day: input availability in every producing country (the item model
//! with and without the scenario's shocks), installed-base erosion, fab capacity, the ATP pool,
//! allocation of each segment's output to economies by the chosen rule, chip inventories, and the
//! result views.

#![allow(clippy::needless_range_loop)]

use super::*;
use crate::scenario::engine::{round6, Effects, Prepared};
use chipwatch_model::production::{NeedKind, Segment};
use chipwatch_model::ProviderIdx;
use chipwatch_model::{ItemKind, ValueChain};
use std::collections::{BTreeSet, HashSet};

impl Layer<'_> {
    pub(super) fn simulate(
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
        let (base, shocked) = rayon::join(
            || prep.leaf_series(&fx_base, days, &item_ix),
            || prep.leaf_series(&fx_shock, days, &item_ix),
        );
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
                    // The part of the shock the denial already covers (`*` in the shock covers
                    // whatever the denial names).
                    let common = |shock: &[String], denial: &[String]| -> Vec<String> {
                        if shock.iter().any(|x| x == "*") {
                            denial.to_vec()
                        } else {
                            shock
                                .iter()
                                .filter(|x| denial.contains(x) || denial.iter().any(|w| w == "*"))
                                .cloned()
                                .collect()
                        }
                    };
                    let (f, t, it) = (
                        common(from, &d.from),
                        common(to, &d.to),
                        common(items, &d.items),
                    );
                    if f.is_empty() || t.is_empty() || it.is_empty() {
                        continue;
                    }
                    already.push(format!(
                        "shock[{i}]: {} have been denied {} from {} since {} ({}{}); that part of the shock adds nothing",
                        t.join(", "),
                        it.join(", "),
                        f.join(", "),
                        d.since,
                        d.measure,
                        if d.fraction < 1.0 {
                            format!(", {:.0}% of the flows", d.fraction * 100.0)
                        } else {
                            String::new()
                        }
                    ));
                }
            }
        }
        notes.extend(already.iter().cloned());

        // Day by day: unit capacity, production by producer and segment, allocation. Everything
        // that does not change from day to day (who needs what, which shocks reach which unit,
        // baseline flows and demand, the allocation tiers) is resolved once here; causes are kept
        // as codes and written out once at the end.
        let nu = self.units.len();
        let q = ((1.0 - a.installed_base_erosion) / (1.0 + a.capacity_growth)).max(1e-9);
        let daily = 1.0 - q.powf(1.0 / 365.0);
        let rec = 1.0 / f64::from(a.tool_recovery_days);
        // Erosion per (producer, needed item).
        let mut eroded = vec![0.0f64; np * ni];
        let is_tool: Vec<bool> = item_ix
            .iter()
            .map(|&k| needs.iter().any(|n| n.1 == k && n.2 == NeedKind::Tool))
            .collect();
        let prod_of: Vec<usize> = self
            .units
            .iter()
            .map(|u| producers.binary_search(&u.country).unwrap_or(0))
            .collect();
        let unit_needs: Vec<Vec<(usize, usize)>> = self
            .units
            .iter()
            .map(|u| {
                needs
                    .iter()
                    .enumerate()
                    .filter(|(_, n)| n.0 == u.segment)
                    .map(|(i, n)| (i, jx(n.1)))
                    .collect()
            })
            .collect();
        let unit_losses: Vec<Vec<usize>> = (0..nu)
            .map(|u| {
                (0..self.losses.len())
                    .filter(|&l| self.losses[l].units.contains(&u))
                    .collect()
            })
            .collect();
        let atp_losses: Vec<Vec<usize>> = self
            .atp
            .iter()
            .map(|(ac, _)| {
                (0..self.losses.len())
                    .filter(|&l| self.losses[l].atp_country.as_deref() == Some(ac.as_str()))
                    .collect()
            })
            .collect();
        let n_part = self.n_part;
        let mut base_p = vec![vec![0.0f64; np]; NS];
        for (u, unit) in self.units.iter().enumerate() {
            base_p[unit.segment.index()][prod_of[u]] += unit.base;
        }
        let mut dem = vec![vec![0.0f64; n_part]; NS];
        for sg in 0..NS {
            for p in 0..np {
                for c in 0..n_part {
                    dem[sg][c] += base_p[sg][p] * self.flow[sg][p][c];
                }
            }
        }
        let tiers: Vec<Vec<Vec<usize>>> = (0..np).map(|p| self.tiers(s, p)).collect();
        let report = crate::scenario::engine::report_days(days, s.step_days);
        let first_shock = s.shocks.iter().map(Shock::start_day).min().unwrap_or(0);
        let mut unit_min = vec![(1.0f64, 0u32, Why::Nothing); nu];
        let mut unit_end = vec![1.0f64; nu];
        let mut unit_lost = vec![0.0f64; nu];
        let mut avail = vec![vec![vec![0.0f32; days as usize]; NS]; n_part];
        let mut chip_stock = vec![[a.chip_inventory_days; NS]; n_part];
        // On each economy's worst day per segment: (value, day, binding).
        let mut worst: Vec<[(f64, u32, Option<Bind>); NS]> =
            vec![[(f64::INFINITY, 0, None); NS]; n_part];
        let mut cause = vec![Why::Nothing; nu];
        let mut capfrac = vec![1.0f64; nu];
        // World per segment: capacity min, supply min, wafers lost, quarter lost.
        let wbase: Vec<f64> = base_p.iter().map(|v| v.iter().sum()).collect();
        let mut wcap_min = [1.0f64; NS];
        let mut wsup_min = [1.0f64; NS];
        let mut wlost = [0.0f64; NS];
        let mut wq = [0.0f64; NS];
        let units_of: Vec<Vec<usize>> = (0..NS)
            .map(|sg| {
                (0..nu)
                    .filter(|&u| self.units[u].segment.index() == sg)
                    .collect()
            })
            .collect();
        let mut out_p = vec![0.0f64; np];
        let mut got = vec![0.0f64; n_part];
        let mut spare = vec![0.0f64; np];
        let mut surge = vec![1.0f64; n_part];
        let mut claims: Vec<(usize, f64)> = Vec::with_capacity(n_part);
        for t in 0..days {
            // Erosion state of blocked tools.
            for c in 0..np {
                for j in 0..ni {
                    if !is_tool[j] {
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
            for (i, (_, sh)) in self.atp.iter().enumerate() {
                let mut keep = 1.0;
                for &l in &atp_losses[i] {
                    let l = &self.losses[l];
                    keep *= 1.0 - l.fraction * l.profile.at(t);
                }
                atp_cap += sh * keep;
            }
            let atp_ok = ((1.0 + h) * atp_cap).min(1.0);
            // Units.
            for (u, unit) in self.units.iter().enumerate() {
                let p = prod_of[u];
                let mut keep = 1.0;
                let mut why = Why::Nothing;
                let mut worst_part = 0.0;
                for &l in &unit_losses[u] {
                    let x = self.losses[l].fraction * self.losses[l].profile.at(t);
                    if x > 0.0 {
                        keep *= 1.0 - x;
                        if x > worst_part {
                            worst_part = x;
                            why = Why::Loss(l);
                        }
                    }
                }
                let mut input = 1.0f64;
                let mut input_why = Why::Nothing;
                for &(i, j) in &unit_needs[u] {
                    let n = &needs[i];
                    let (v, w) = match n.2 {
                        NeedKind::Material => {
                            let b0 = f64::from(base[at(t, p, j)]);
                            let b1 = f64::from(shocked[at(t, p, j)]);
                            let rel = if b0 <= 1e-9 { 1.0 } else { (b1 / b0).min(1.0) };
                            (1.0 - n.3 * (1.0 - rel), Why::Need(i, 0.0))
                        }
                        NeedKind::Tool => {
                            let e = n.3 * eroded[p * ni + j];
                            (1.0 - e, Why::Need(i, e))
                        }
                    };
                    if v < input - 1e-12 {
                        input = v;
                        input_why = w;
                    }
                }
                let cf = (keep * input).clamp(0.0, 1.0);
                capfrac[u] = cf;
                cause[u] = if keep <= input && keep < 1.0 - EPS {
                    why
                } else if input < 1.0 - EPS {
                    input_why
                } else {
                    Why::Nothing
                };
                if cf < unit_min[u].0 - 1e-12 {
                    unit_min[u] = (cf, t, cause[u]);
                }
                unit_end[u] = cf;
                unit_lost[u] += unit.base * (1.0 - cf) / 30.0;
            }
            // Allocation per segment.
            for sg in 0..NS {
                out_p.iter_mut().for_each(|x| *x = 0.0);
                let mut cap = 0.0;
                for &u in &units_of[sg] {
                    let b = self.units[u].base;
                    out_p[prod_of[u]] += b * ((1.0 + h) * capfrac[u]).min(1.0 + h) * atp_ok;
                    cap += b * capfrac[u];
                }
                let world = wbase[sg];
                if world <= 0.0 {
                    for c in 0..n_part {
                        avail[c][sg][t as usize] = 1.0;
                    }
                    continue;
                }
                wcap_min[sg] = wcap_min[sg].min(cap / world);
                let sup: f64 = out_p.iter().sum();
                wsup_min[sg] = wsup_min[sg].min((sup / world).min(1.0));
                wlost[sg] += (world - cap).max(0.0) / 30.0;
                if t >= first_shock && t < first_shock + 90 {
                    wq[sg] += (world - cap).max(0.0) / (world * 90.0);
                }
                // Demand (baseline receipts) with surges.
                surge.iter_mut().for_each(|x| *x = 1.0);
                for (pr, c, segs, f) in &self.demand_surge {
                    if segs[sg] && pr.at(t) > 0.0 {
                        surge[*c] *= f;
                    }
                }
                // Blocked part of each flow.
                let blocked = |p: usize, c: usize| -> f64 {
                    if self.chip_blocks.is_empty() {
                        return 0.0;
                    }
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
                got.iter_mut().for_each(|x| *x = 0.0);
                let bp = &base_p[sg];
                for p in 0..np {
                    let mut left = out_p[p];
                    for tier in &tiers[p] {
                        claims.clear();
                        claims.extend(tier.iter().map(|&c| {
                            (
                                c,
                                bp[p] * self.flow[sg][p][c] * surge[c] * (1.0 - blocked(p, c)),
                            )
                        }));
                        let want: f64 = claims.iter().map(|x| x.1).sum();
                        if want <= 0.0 {
                            continue;
                        }
                        let give = left.min(want);
                        for &(c, w) in &claims {
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
                    for tier in &tiers[p] {
                        claims.clear();
                        claims.extend(
                            tier.iter()
                                .map(|&c| {
                                    (
                                        c,
                                        ((dem[sg][c] * surge[c] - got[c]).max(0.0))
                                            * (1.0 - blocked(p, c)),
                                    )
                                })
                                .filter(|x| x.1 > 0.0),
                        );
                        let want: f64 = claims.iter().map(|x| x.1).sum();
                        if want <= 0.0 {
                            continue;
                        }
                        let give = spare[p].min(want);
                        for &(c, w) in &claims {
                            got[c] += give * w / want;
                        }
                        spare[p] -= give;
                    }
                }
                for c in 0..n_part {
                    let need = dem[sg][c] * surge[c];
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
                            Some(self.binding(sg, c, bp, &out_p, &cause, &prod_of, &blocked)),
                        );
                    }
                }
            }
        }
        let why_text = |w: Why| -> String {
            match w {
                Why::Nothing => String::new(),
                Why::Loss(l) => self.losses[l].label.clone(),
                Why::Need(i, e) => {
                    let n = &needs[i];
                    match n.2 {
                        NeedKind::Material => format!(
                            "{} {}: supply short after inventories",
                            n.4,
                            item_name(vc, n.1)
                        ),
                        NeedKind::Tool => format!(
                            "{} {}: installed base eroding without new tools, parts and service \
                             ({:.1}% lost)",
                            n.4,
                            item_name(vc, n.1),
                            100.0 * e
                        ),
                    }
                }
            }
        };
        let chain_text = |sg: usize, b: &Option<Bind>| -> Vec<String> {
            let mut chain = vec![Segment::ALL[sg].as_str().to_string()];
            match b {
                None | Some(Bind::Nothing) => {}
                Some(Bind::Block(p)) => {
                    chain.push(format!("imports from {}", producers[*p]));
                    chain.push("export block of chips".into());
                }
                Some(Bind::Production(p, unit)) => {
                    chain.push(format!("production in {}", producers[*p]));
                    match unit {
                        Some((u, w)) => {
                            chain.push(format!("{} fabs: {}", self.units[*u].owner, why_text(*w)))
                        }
                        None => chain.push("assembly and test capacity".into()),
                    }
                }
            }
            chain
        };

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
                        chain_text(sg, &worst[row][sg].2)
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
                cause: why_text(unit_min[u].2),
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

    /// Why economy `c` falls short in segment `sg` today: the producer whose lost deliveries
    /// weigh most, and that producer's largest unit with a cause.
    #[allow(clippy::too_many_arguments)]
    fn binding(
        &self,
        sg: usize,
        c: usize,
        base_p: &[f64],
        out_p: &[f64],
        cause: &[Why],
        prod_of: &[usize],
        blocked: &dyn Fn(usize, usize) -> f64,
    ) -> Bind {
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
        match best {
            None => Bind::Nothing,
            Some((_, p, true)) => Bind::Block(p),
            Some((_, p, false)) => {
                let mut top: Option<(f64, usize)> = None;
                for (u, unit) in self.units.iter().enumerate() {
                    if prod_of[u] == p
                        && unit.segment.index() == sg
                        && cause[u] != Why::Nothing
                        && top.is_none_or(|x| unit.base > x.0)
                    {
                        top = Some((unit.base, u));
                    }
                }
                Bind::Production(p, top.map(|(_, u)| (u, cause[u])))
            }
        }
    }
}

/// What limits a fab unit on a day: a capacity loss (index), or a need (index, eroded share).
#[derive(Debug, Clone, Copy, PartialEq)]
enum Why {
    Nothing,
    Loss(usize),
    Need(usize, f64),
}

/// The binding constraint of an economy's segment on its worst day.
#[derive(Debug, Clone, Copy)]
enum Bind {
    /// No producer's deliveries fell (a demand surge).
    Nothing,
    /// Chips from this producer are blocked.
    Block(usize),
    /// This producer's output fell; its largest unit with a cause, if any (else ATP).
    Production(usize, Option<(usize, Why)>),
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
        let mut last: Option<Vec<f64>> = None;
        // Each consumer's supply ratio of the items, recomputed only on days the shocks'
        // intensities change (most days they do not: a block is on or off); inventories still
        // move daily.
        let mut ratio = vec![1.0f64; nc * ni];
        let mut stock = vec![a.inventory_days.material; nc * ni];
        let material: Vec<bool> = items
            .iter()
            .map(|&k| self.items[k].kind == ItemKind::Material && a.inventory_days.material > 0.0)
            .collect();
        let mut out = vec![1.0f32; days as usize * nc * ni];
        for t in 0..days {
            for (s, p) in fx.profiles.iter().enumerate() {
                intensity[s] = p.at(t);
            }
            if last.as_deref() != Some(&intensity[..]) {
                for c in 0..nc {
                    self.edge_multipliers(fx, &intensity, c as u32, &mut mult, &mut floss);
                    self.kernel
                        .supply(&ones, Some(&mult), a.headroom as f32, &mut sup);
                    for (j, &k) in items.iter().enumerate() {
                        let s = sup[k];
                        ratio[c * ni + j] = if s.is_nan() {
                            f64::NAN
                        } else {
                            f64::from(s).max(0.0)
                        };
                    }
                }
                last = Some(intensity.clone());
            }
            for c in 0..nc {
                for j in 0..ni {
                    let r = ratio[c * ni + j];
                    let v = if r.is_nan() {
                        1.0
                    } else if material[j] {
                        let st = &mut stock[c * ni + j];
                        let used = (r + *st).min(1.0);
                        *st = (*st + (r - used)).min(a.inventory_days.material).max(0.0);
                        used
                    } else {
                        r.min(1.0)
                    };
                    out[(t as usize * nc + c) * ni + j] = v as f32;
                }
            }
        }
        out
    }
}
