//! The propagation kernel: the AND/OR availability model of BRIEF 3.3 on a compact graph (CSR,
//! `u32` ids, `f32` weights), built once and evaluated many times (every day of a scenario, every
//! Monte Carlo sample, every node of a 10^7-edge synthetic model).
//!
//! A pass has two phases:
//! 1. **supply** (OR): for every item with providers, `supply[k] = (1 + h) * sum_e w_e * cap[src_e]
//!    \* mult_e`, where `w_e` is the provider's share as a fraction, `cap` the remaining capacity
//!    of each provider and `mult_e` an optional per-edge factor (export blocks, firm-level
//!    losses). The caller turns supply into the item's *own* availability (inventories, tool
//!    lags, demand).
//! 2. **flow** (AND + taxonomy mix), in topological order: `val[k] = min(mix_k, min over inputs
//!    val[i])`, where `mix_k` is `own[k]` for an item without variants and otherwise the weighted
//!    mean (or minimum) of `own[k]` (weight of the parent's residual market) and its variants' values.
//!
//! Items are stored in the order given at build time; callers that want memory locality number
//! items so that inputs sit close to the items they feed (see [`crate::gen`]), which is what makes
//! the flow phase stream instead of chase pointers.
//!
//! Plain CSR loops over items spend most of their time on mispredicted loop exits: every item has
//! a different number of edges. Two layouts derived from the CSR on first use remove them, with
//! results bit-identical to the item-by-item loops ([`Kernel::supply_in_order`],
//! [`Kernel::flow_in_order`]):
//! - **supply groups** (used by [`Kernel::supply`] and [`Kernel::pass`]): items grouped by
//!   supply-edge count, so each group's inner loop has a compile-time trip count. The supply
//!   phase has no ordering constraint, and each sum still adds its edges in CSR order.
//! - **level schedule** (used by [`Kernel::flow`]): an item's level is one above the highest level
//!   of its inputs and variants, so the items of one level are independent. Within a level they
//!   are sorted by input count, which gives runs with a fixed trip count and no serial chain
//!   from one item to the next. A minimum does not depend on the order it is taken in.

use serde::Serialize;
use std::sync::OnceLock;

/// How a taxonomy parent combines its variants.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TaxonomyRule {
    /// Market-size-weighted mean of the variants (and the parent's residual market).
    #[default]
    WeightedMean,
    /// Every variant is required: the minimum.
    Min,
}

impl TaxonomyRule {
    /// Words for users (reports, the CLI, the dashboard).
    pub fn label(self) -> &'static str {
        match self {
            TaxonomyRule::WeightedMean => "market-size-weighted mean of the variants",
            TaxonomyRule::Min => "every variant required (minimum)",
        }
    }
}

/// Errors building a kernel graph.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum KernelError {
    #[error("cyclic flow: item #{0} is part of a cycle of goes_into/is_type_of links")]
    Cycle(u32),
    #[error("edge names item #{0}, but there are only {1} items")]
    OutOfRange(u32, u32),
}

/// Builder input: one item's links. Indices are item positions (`u32`); providers are positions in
/// the capacity vector.
#[derive(Debug, Clone, Default)]
pub struct ItemLinks {
    /// (provider, share as a fraction of the world market).
    pub supply: Vec<(u32, f32)>,
    /// Items that go into this one (Leontief: all required).
    pub inputs: Vec<u32>,
    /// Taxonomy variants with their weights (market sizes, any unit).
    pub variants: Vec<(u32, f32)>,
    /// Weight of the item's own supply in the mix when it has variants (its residual market).
    pub own_weight: f32,
}

/// The compiled graph.
#[derive(Debug, Clone)]
pub struct Kernel {
    n_items: u32,
    n_providers: u32,
    /// Evaluation order: every item after its inputs and variants.
    order: Vec<u32>,
    sup_off: Vec<u32>,
    sup_src: Vec<u32>,
    sup_w: Vec<f32>,
    in_off: Vec<u32>,
    in_src: Vec<u32>,
    var_off: Vec<u32>,
    var_src: Vec<u32>,
    /// Normalised variant weights (sum with `own_w` to 1).
    var_w: Vec<f32>,
    own_w: Vec<f32>,
    rule: TaxonomyRule,
    /// Supply edges grouped by count, for [`Kernel::pass`]; built on first use.
    supply_groups: OnceLock<SupplyGroups>,
    /// The level schedule of the flow phase; built on first use.
    schedule: OnceLock<Schedule>,
}

impl Kernel {
    /// Build from per-item links. Fails on a cycle (naming one item on it) or a dangling index.
    pub fn build(
        items: &[ItemLinks],
        n_providers: u32,
        rule: TaxonomyRule,
    ) -> Result<Kernel, KernelError> {
        let n = items.len() as u32;
        let mut k = Kernel {
            n_items: n,
            n_providers,
            order: Vec::with_capacity(items.len()),
            sup_off: Vec::with_capacity(items.len() + 1),
            sup_src: Vec::new(),
            sup_w: Vec::new(),
            in_off: Vec::with_capacity(items.len() + 1),
            in_src: Vec::new(),
            var_off: Vec::with_capacity(items.len() + 1),
            var_src: Vec::new(),
            var_w: Vec::new(),
            own_w: Vec::with_capacity(items.len()),
            rule,
            supply_groups: OnceLock::new(),
            schedule: OnceLock::new(),
        };
        k.sup_off.push(0);
        k.in_off.push(0);
        k.var_off.push(0);
        for it in items {
            for &(p, w) in &it.supply {
                if p >= n_providers {
                    return Err(KernelError::OutOfRange(p, n_providers));
                }
                k.sup_src.push(p);
                k.sup_w.push(w);
            }
            for &i in &it.inputs {
                if i >= n {
                    return Err(KernelError::OutOfRange(i, n));
                }
                k.in_src.push(i);
            }
            let total: f32 =
                it.own_weight.max(0.0) + it.variants.iter().map(|v| v.1.max(0.0)).sum::<f32>();
            for &(v, w) in &it.variants {
                if v >= n {
                    return Err(KernelError::OutOfRange(v, n));
                }
                k.var_src.push(v);
                k.var_w.push(if total > 0.0 {
                    w.max(0.0) / total
                } else {
                    1.0 / it.variants.len() as f32
                });
            }
            k.own_w.push(if total > 0.0 && !it.variants.is_empty() {
                it.own_weight.max(0.0) / total
            } else if it.variants.is_empty() {
                1.0
            } else {
                0.0
            });
            k.sup_off.push(k.sup_src.len() as u32);
            k.in_off.push(k.in_src.len() as u32);
            k.var_off.push(k.var_src.len() as u32);
        }
        k.order = k.topo_order()?;
        Ok(k)
    }

    /// Kahn's algorithm over inputs and variants. Items already in topological order (the common
    /// case for generated graphs) come out in their own order, preserving locality.
    fn topo_order(&self) -> Result<Vec<u32>, KernelError> {
        let n = self.n_items as usize;
        let mut indeg = vec![0u32; n];
        let mut out_off = vec![0u32; n + 1];
        for (k, d) in indeg.iter_mut().enumerate() {
            let deps = self.deps(k);
            *d = deps.clone().count() as u32;
            for d in deps {
                out_off[d as usize + 1] += 1;
            }
        }
        for i in 0..n {
            out_off[i + 1] += out_off[i];
        }
        let mut fill = out_off.clone();
        let mut out = vec![0u32; out_off[n] as usize];
        for k in 0..n {
            for d in self.deps(k) {
                out[fill[d as usize] as usize] = k as u32;
                fill[d as usize] += 1;
            }
        }
        // A min-heap keeps the order stable (lowest index first), so a graph already in
        // topological order is evaluated in memory order.
        let mut heap: std::collections::BinaryHeap<std::cmp::Reverse<u32>> = (0..n as u32)
            .filter(|&k| indeg[k as usize] == 0)
            .map(std::cmp::Reverse)
            .collect();
        let mut order = Vec::with_capacity(n);
        while let Some(std::cmp::Reverse(k)) = heap.pop() {
            order.push(k);
            for &t in &out[out_off[k as usize] as usize..out_off[k as usize + 1] as usize] {
                indeg[t as usize] -= 1;
                if indeg[t as usize] == 0 {
                    heap.push(std::cmp::Reverse(t));
                }
            }
        }
        if order.len() < n {
            let stuck = (0..n).find(|&k| indeg[k] > 0).unwrap_or(0);
            return Err(KernelError::Cycle(stuck as u32));
        }
        Ok(order)
    }

    fn deps(&self, k: usize) -> impl Iterator<Item = u32> + Clone + '_ {
        self.in_src[self.in_off[k] as usize..self.in_off[k + 1] as usize]
            .iter()
            .chain(&self.var_src[self.var_off[k] as usize..self.var_off[k + 1] as usize])
            .copied()
    }

    pub fn n_items(&self) -> usize {
        self.n_items as usize
    }
    pub fn n_providers(&self) -> usize {
        self.n_providers as usize
    }
    /// Number of supply edges (item <- provider).
    pub fn n_supply_edges(&self) -> usize {
        self.sup_src.len()
    }
    /// Number of flow (input) and taxonomy (variant) edges.
    pub fn n_flow_edges(&self) -> usize {
        self.in_src.len() + self.var_src.len()
    }
    /// All edges a pass touches.
    pub fn n_edges(&self) -> usize {
        self.n_supply_edges() + self.n_flow_edges()
    }
    /// Range of supply edges of item `k` (indexes into per-edge arrays such as `mult`).
    pub fn supply_range(&self, k: usize) -> std::ops::Range<usize> {
        self.sup_off[k] as usize..self.sup_off[k + 1] as usize
    }
    pub fn supply_edge(&self, e: usize) -> (u32, f32) {
        (self.sup_src[e], self.sup_w[e])
    }
    pub fn has_supply(&self, k: usize) -> bool {
        self.sup_off[k] < self.sup_off[k + 1]
    }
    pub fn inputs(&self, k: usize) -> &[u32] {
        &self.in_src[self.in_off[k] as usize..self.in_off[k + 1] as usize]
    }
    pub fn variants(&self, k: usize) -> &[u32] {
        &self.var_src[self.var_off[k] as usize..self.var_off[k + 1] as usize]
    }
    /// Normalised weights of the variants of `k`, and of its own supply.
    pub fn variant_weights(&self, k: usize) -> (&[f32], f32) {
        (
            &self.var_w[self.var_off[k] as usize..self.var_off[k + 1] as usize],
            self.own_w[k],
        )
    }
    pub fn order(&self) -> &[u32] {
        &self.order
    }
    pub fn rule(&self) -> TaxonomyRule {
        self.rule
    }

    /// Phase 1: uncapped supply of every item with providers (items without providers get
    /// `f32::NAN`, meaning "no supply data"). `mult`, when given, has one factor per supply edge
    /// (in CSR order: [`Kernel::supply_range`]). Runs on the supply groups (built on first use).
    pub fn supply(&self, cap: &[f32], mult: Option<&[f32]>, headroom: f32, out: &mut [f32]) {
        assert!(cap.len() == self.n_providers as usize && out.len() == self.n_items as usize);
        assert!(mult.is_none_or(|m| m.len() == self.sup_src.len()));
        self.supply_groups
            .get_or_init(|| SupplyGroups::new(self))
            .supply::<false>(self, cap, mult, 1.0 + headroom, out);
    }

    /// Phase 1 item by item over the plain CSR arrays: the reference [`Kernel::supply`] is
    /// tested and benchmarked against. Same values, bit for bit.
    pub fn supply_in_order(
        &self,
        cap: &[f32],
        mult: Option<&[f32]>,
        headroom: f32,
        out: &mut [f32],
    ) {
        assert!(cap.len() == self.n_providers as usize && out.len() == self.n_items as usize);
        let scale = 1.0 + headroom;
        for (k, o) in out.iter_mut().enumerate() {
            let r = self.sup_off[k] as usize..self.sup_off[k + 1] as usize;
            if r.is_empty() {
                *o = f32::NAN;
                continue;
            }
            let src = &self.sup_src[r.clone()];
            let w = &self.sup_w[r.clone()];
            let mut acc = 0.0f32;
            match mult {
                Some(m) => {
                    for ((&p, &w), &m) in src.iter().zip(w).zip(&m[r]) {
                        acc += w * cap[p as usize] * m;
                    }
                }
                None => {
                    for (&p, &w) in src.iter().zip(w) {
                        acc += w * cap[p as usize];
                    }
                }
            }
            *o = scale * acc;
        }
    }

    /// Phase 2: taxonomy mix and Leontief minimum, along the level schedule (built on first
    /// use). `own[k]` is the item's own availability in 0..=1 (1 for items without supply data).
    pub fn flow(&self, own: &[f32], val: &mut [f32]) {
        assert!(own.len() == self.n_items as usize && val.len() == self.n_items as usize);
        self.schedule
            .get_or_init(|| Schedule::new(self))
            .flow(self, own, val);
    }

    /// Phase 2 item by item in topological order over the plain CSR arrays: the reference the
    /// scheduled [`Kernel::flow`] is tested and benchmarked against. Same values, bit for bit.
    pub fn flow_in_order(&self, own: &[f32], val: &mut [f32]) {
        assert!(own.len() == self.n_items as usize && val.len() == self.n_items as usize);
        for &k in &self.order {
            val[k as usize] = self.eval_item(k as usize, own, val);
        }
    }

    /// The value of one item given its own availability and the values of its dependencies.
    #[inline]
    pub fn eval_item(&self, k: usize, own: &[f32], val: &[f32]) -> f32 {
        let vr = self.var_off[k] as usize..self.var_off[k + 1] as usize;
        let mut v = own[k];
        if !vr.is_empty() {
            match self.rule {
                TaxonomyRule::WeightedMean => {
                    let mut acc = self.own_w[k] * own[k];
                    for (&c, &w) in self.var_src[vr.clone()].iter().zip(&self.var_w[vr]) {
                        acc += w * val[c as usize];
                    }
                    v = acc;
                }
                TaxonomyRule::Min => {
                    if self.own_w[k] <= 0.0 {
                        v = 1.0;
                    }
                    for &c in &self.var_src[vr] {
                        v = v.min(val[c as usize]);
                    }
                }
            }
        }
        for &i in &self.in_src[self.in_off[k] as usize..self.in_off[k + 1] as usize] {
            v = min_of(v, val[i as usize]);
        }
        v
    }

    /// One full static pass (supply, capped at 1, then flow): the benchmarked unit. Items without
    /// supply data count as fully available. `scratch` receives each item's own (capped) supply
    /// availability, `val` the propagated values.
    pub fn pass(&self, cap: &[f32], headroom: f32, scratch: &mut [f32], val: &mut [f32]) {
        assert_eq!(
            cap.len(),
            self.n_providers as usize,
            "one capacity per provider"
        );
        assert!(scratch.len() == self.n_items as usize && val.len() == self.n_items as usize);
        self.supply_groups
            .get_or_init(|| SupplyGroups::new(self))
            .supply::<true>(self, cap, None, 1.0 + headroom, scratch);
        self.flow(scratch, val);
    }
}

/// Largest supply-edge count with its own fixed-trip group; items with more use a plain loop.
const MAX_GROUP: usize = 16;

/// Items with exactly `C` supply edges, edges stored item after item (`C` per item).
#[derive(Debug, Clone, Default)]
struct Group {
    items: Vec<u32>,
    src: Vec<u32>,
    w: Vec<f32>,
}

/// Supply edges grouped by edge count, for [`Kernel::pass`] (which has no per-edge multipliers).
/// The supply phase has no ordering constraint, so items can be visited group by group.
#[derive(Debug, Clone)]
struct SupplyGroups {
    /// `groups[c]`: the items with exactly `c` supply edges, `1 <= c <= MAX_GROUP`.
    groups: Vec<Group>,
    /// Items with more than `MAX_GROUP` supply edges: (item, start, end) into the kernel's CSR.
    long: Vec<(u32, u32, u32)>,
    no_supply: Vec<u32>,
}

impl SupplyGroups {
    fn new(k: &Kernel) -> SupplyGroups {
        let mut groups = vec![Group::default(); MAX_GROUP + 1];
        let (mut long, mut no_supply) = (Vec::new(), Vec::new());
        for i in 0..k.n_items() {
            let r = k.supply_range(i);
            match r.len() {
                0 => no_supply.push(i as u32),
                c if c <= MAX_GROUP => {
                    let g = &mut groups[c];
                    g.items.push(i as u32);
                    g.src.extend_from_slice(&k.sup_src[r.clone()]);
                    g.w.extend_from_slice(&k.sup_w[r]);
                }
                _ => long.push((i as u32, r.start as u32, r.end as u32)),
            }
        }
        SupplyGroups {
            groups,
            long,
            no_supply,
        }
    }

    /// `scale * sum w * cap [* mult]` of every item with providers, in CSR edge order within each
    /// item, so equal to [`Kernel::supply_in_order`]'s bit for bit. With `CAP`, values are capped
    /// at 1 and items without providers get 1 (the static pass); without, they stay uncapped and
    /// items without providers get NaN ([`Kernel::supply`]).
    fn supply<const CAP: bool>(
        &self,
        k: &Kernel,
        cap: &[f32],
        mult: Option<&[f32]>,
        scale: f32,
        out: &mut [f32],
    ) {
        #[inline(always)]
        fn finish<const CAP: bool>(t: f32) -> f32 {
            // Capped: NaN (no comparison holds) becomes 1, as for an item without providers.
            match (CAP, t < 1.0) {
                (true, false) => 1.0,
                _ => t,
            }
        }
        /// One group: the inner loop has a compile-time trip count, so it is unrolled and the
        /// only branch left is the (predictable) loop over items.
        fn group<const C: usize, const CAP: bool>(
            g: &Group,
            k: &Kernel,
            cap: &[f32],
            mult: Option<&[f32]>,
            scale: f32,
            out: &mut [f32],
        ) {
            let edges = g.src.chunks_exact(C).zip(g.w.chunks_exact(C));
            match mult {
                None => {
                    for (&i, (src, w)) in g.items.iter().zip(edges) {
                        let mut acc = 0.0f32;
                        for j in 0..C {
                            acc += w[j] * cap[src[j] as usize];
                        }
                        out[i as usize] = finish::<CAP>(scale * acc);
                    }
                }
                Some(m) => {
                    for (&i, (src, w)) in g.items.iter().zip(edges) {
                        let e = k.sup_off[i as usize] as usize;
                        let m = &m[e..e + C];
                        let mut acc = 0.0f32;
                        for j in 0..C {
                            acc += w[j] * cap[src[j] as usize] * m[j];
                        }
                        out[i as usize] = finish::<CAP>(scale * acc);
                    }
                }
            }
        }
        macro_rules! groups {
            ($($c:literal)*) => {
                $( group::<$c, CAP>(&self.groups[$c], k, cap, mult, scale, out); )*
            };
        }
        groups!(1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16);
        for &(item, a, b) in &self.long {
            let (a, b) = (a as usize, b as usize);
            let mut acc = 0.0f32;
            for (e, (&p, &w)) in (a..b).zip(k.sup_src[a..b].iter().zip(&k.sup_w[a..b])) {
                acc += match mult {
                    None => w * cap[p as usize],
                    Some(m) => w * cap[p as usize] * m[e],
                };
            }
            out[item as usize] = finish::<CAP>(scale * acc);
        }
        let none = if CAP { 1.0 } else { f32::NAN };
        for &i in &self.no_supply {
            out[i as usize] = none;
        }
    }
}

/// Largest input count with its own fixed-trip run kind; items with more inputs, and items with
/// taxonomy variants, are evaluated one by one ([`Kernel::eval_item`]).
const MAX_RUN: u32 = 16;
/// Run kind of items evaluated by [`Kernel::eval_item`].
const GENERIC: u32 = MAX_RUN + 1;

/// A stretch of [`Schedule::items`] of one kind, all on the same level.
#[derive(Debug, Clone, Copy)]
struct Run {
    /// The common input count (`0..=MAX_RUN`), or [`GENERIC`].
    kind: u32,
    len: u32,
}

/// The level schedule for the flow phase. An item's level is one more than the highest level
/// of its inputs and variants (0 without any), so the items on one level do not depend on each
/// other and can be evaluated in any order. Within a level, items are sorted by input count
/// (then by index, for locality), so each run has a fixed inner trip count: no mispredicted loop
/// exits, no padding, no serial dependency from one item to the next.
#[derive(Debug, Clone)]
struct Schedule {
    /// Items in evaluation order.
    items: Vec<u32>,
    /// Inputs of the non-generic items, in evaluation order, `kind` per item.
    ins: Vec<u32>,
    runs: Vec<Run>,
}

impl Schedule {
    fn new(k: &Kernel) -> Schedule {
        let n = k.n_items();
        let mut level = vec![0u32; n];
        for &i in &k.order {
            let i = i as usize;
            level[i] = k.deps(i).map(|d| level[d as usize] + 1).max().unwrap_or(0);
        }
        let kind = |i: usize| {
            let c = k.inputs(i).len();
            if k.variants(i).is_empty() && c <= MAX_RUN as usize {
                c as u32
            } else {
                GENERIC
            }
        };
        let mut sorted: Vec<(u32, u32, u32)> =
            (0..n).map(|i| (level[i], kind(i), i as u32)).collect();
        sorted.sort_unstable();
        let mut s = Schedule {
            items: Vec::with_capacity(n),
            ins: Vec::with_capacity(k.in_src.len()),
            runs: Vec::new(),
        };
        let mut prev = None;
        for (lv, kind, i) in sorted {
            match s.runs.last_mut() {
                Some(r) if prev == Some(lv) && r.kind == kind => r.len += 1,
                _ => s.runs.push(Run { kind, len: 1 }),
            }
            prev = Some(lv);
            s.items.push(i);
            if kind != GENERIC {
                s.ins.extend_from_slice(k.inputs(i as usize));
            }
        }
        s
    }

    /// The flow phase along the schedule. Every value equals [`Kernel::flow_in_order`]'s: a
    /// minimum does not depend on the order it is taken in.
    fn flow(&self, k: &Kernel, own: &[f32], val: &mut [f32]) {
        /// A run of items with `C` inputs each.
        fn run<const C: usize>(items: &[u32], ins: &[u32], own: &[f32], val: &mut [f32]) {
            for (&k, i) in items.iter().zip(ins.chunks_exact(C)) {
                let mut v = own[k as usize];
                for &i in i {
                    v = min_of(v, val[i as usize]);
                }
                val[k as usize] = v;
            }
        }
        let (mut a, mut e) = (0usize, 0usize);
        for r in &self.runs {
            let items = &self.items[a..a + r.len as usize];
            a += items.len();
            if r.kind == GENERIC {
                for &i in items {
                    val[i as usize] = k.eval_item(i as usize, own, val);
                }
                continue;
            }
            let c = r.kind as usize;
            let ins = &self.ins[e..e + c * items.len()];
            e += ins.len();
            macro_rules! runs {
                ($($c:literal)*) => {
                    match c {
                        $( $c => run::<$c>(items, ins, own, val), )*
                        0 => {
                            for &i in items {
                                val[i as usize] = own[i as usize];
                            }
                        }
                        // Not built (kinds above MAX_RUN are GENERIC), but correct for any kind.
                        _ => {
                            for &i in items {
                                val[i as usize] = k.eval_item(i as usize, own, val);
                            }
                        }
                    }
                };
            }
            runs!(1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16);
        }
    }
}

/// The Leontief minimum step, `x` if it is below `v`. Written as a comparison rather than
/// `f32::min` because it compiles to one `minss` (`f32::min`'s NaN handling costs a blend that
/// doubles the flow phase); a NaN input loses the comparison and is skipped either way.
#[inline(always)]
fn min_of(v: f32, x: f32) -> f32 {
    if x < v {
        x
    } else {
        v
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn links(supply: &[(u32, f32)], inputs: &[u32]) -> ItemLinks {
        ItemLinks {
            supply: supply.to_vec(),
            inputs: inputs.to_vec(),
            ..Default::default()
        }
    }

    #[test]
    fn hand_computed_chain() {
        // Providers 0 (60%) and 1 (40%) make item 0; item 1 is made from item 0 and item 2;
        // item 2 comes from provider 1 only. Provider 0 loses half its capacity.
        let items = vec![
            links(&[(0, 0.6), (1, 0.4)], &[]),
            links(&[], &[0, 2]),
            links(&[(1, 1.0)], &[]),
        ];
        let k = Kernel::build(&items, 2, TaxonomyRule::WeightedMean).unwrap();
        let mut s = vec![0.0; 3];
        let mut v = vec![0.0; 3];
        k.pass(&[0.5, 1.0], 0.10, &mut s, &mut v);
        // item 0: 1.1 * (0.6*0.5 + 0.4) = 0.77; item 2: min(1, 1.1) = 1; item 1 = min = 0.77
        assert!((v[0] - 0.77).abs() < 1e-6, "{v:?}");
        assert!((v[2] - 1.0).abs() < 1e-6);
        assert!((v[1] - 0.77).abs() < 1e-6);
    }

    #[test]
    fn taxonomy_mix_is_weighted() {
        // Parent 2 has variants 0 (weight 3) and 1 (weight 1) and no own residual.
        let parent = ItemLinks {
            variants: vec![(0, 3.0), (1, 1.0)],
            ..Default::default()
        };
        let items = vec![links(&[(0, 1.0)], &[]), links(&[(1, 1.0)], &[]), parent];
        let k = Kernel::build(&items, 2, TaxonomyRule::WeightedMean).unwrap();
        let mut s = vec![0.0; 3];
        let mut v = vec![0.0; 3];
        k.pass(&[0.0, 1.0], 0.0, &mut s, &mut v);
        assert!((v[2] - 0.25).abs() < 1e-6, "{v:?}");
        let k = Kernel::build(&items, 2, TaxonomyRule::Min).unwrap();
        k.pass(&[0.0, 1.0], 0.0, &mut s, &mut v);
        assert_eq!(v[2], 0.0);
    }

    #[test]
    fn scheduled_pass_equals_two_phase_pass() {
        for shuffle in [false, true] {
            let g = crate::gen::Synthetic::generate(crate::gen::GenParams {
                nodes: 20_000,
                avg_degree: 10.0,
                seed: 5,
                shuffle,
            });
            let k = g.kernel().unwrap();
            let cap = g.bench_capacity();
            let n = k.n_items();
            let (mut s, mut v) = (vec![0.0; n], vec![-1.0; n]);
            k.pass(&cap, 0.1, &mut s, &mut v);
            let sched = k.schedule.get().expect("pass builds the schedule");
            assert!(sched.runs.len() > 100, "many levels: {}", sched.runs.len());
            assert_eq!(v, two_phase(&k, &cap, 0.1), "shuffle {shuffle}");
            assert!(v.iter().any(|&x| x < 1.0));
        }
    }

    /// Reference pass: supply over the CSR, then the flow item by item in topological order.
    fn two_phase(k: &Kernel, cap: &[f32], headroom: f32) -> Vec<f32> {
        let n = k.n_items();
        let (mut s, mut v) = (vec![0.0; n], vec![0.0; n]);
        k.supply_in_order(cap, None, headroom, &mut s);
        for x in &mut s {
            *x = if x.is_nan() { 1.0 } else { x.min(1.0) };
        }
        k.flow_in_order(&s, &mut v);
        v
    }

    #[test]
    fn scheduled_pass_handles_every_shape() {
        // Random graphs, numbered in random (not topological) order, mixing the shapes the
        // derived layouts treat specially: no providers, more providers than the largest group,
        // no inputs, more inputs than the largest run kind, taxonomy variants. The value buffer
        // starts below any availability (then as NaN), so an item evaluated before one of its
        // dependencies shows.
        let mut rng = crate::gen::Rng::new(9);
        for round in 0..60 {
            let n = 1 + rng.below(300) as usize;
            let providers = 1 + rng.below(50) as u32;
            // rank[i]: position of item i in a hidden topological order.
            let mut rank: Vec<u32> = (0..n as u32).collect();
            for i in (1..n).rev() {
                rank.swap(i, rng.below(i as u64 + 1) as usize);
            }
            let mut by_rank = vec![0u32; n];
            for (i, &r) in rank.iter().enumerate() {
                by_rank[r as usize] = i as u32;
            }
            let items: Vec<ItemLinks> = (0..n)
                .map(|i| {
                    let r = u64::from(rank[i]);
                    let ns = match rng.below(10) {
                        0 => 0,
                        1 => MAX_GROUP as u64 + 1 + rng.below(10),
                        _ => 1 + rng.below(8),
                    };
                    let supply = (0..ns)
                        .map(|_| (rng.below(u64::from(providers)) as u32, rng.f64() as f32))
                        .collect();
                    let earlier = |rng: &mut crate::gen::Rng, count: u64| -> Vec<u32> {
                        (0..if r == 0 { 0 } else { count })
                            .map(|_| by_rank[rng.below(r) as usize])
                            .collect()
                    };
                    let ni = match rng.below(6) {
                        0 => 0,
                        1 => u64::from(MAX_RUN) + 1 + rng.below(20),
                        _ => rng.below(6),
                    };
                    let inputs = earlier(&mut rng, ni);
                    let nv = if rng.below(8) == 0 {
                        1 + rng.below(3)
                    } else {
                        0
                    };
                    let variants = earlier(&mut rng, nv)
                        .into_iter()
                        .map(|v| (v, 0.1 + rng.f64() as f32))
                        .collect();
                    ItemLinks {
                        supply,
                        inputs,
                        variants,
                        own_weight: rng.f64() as f32,
                    }
                })
                .collect();
            let rule = if round % 2 == 0 {
                TaxonomyRule::WeightedMean
            } else {
                TaxonomyRule::Min
            };
            let k = Kernel::build(&items, providers, rule).unwrap();
            let cap: Vec<f32> = (0..providers).map(|_| rng.f64() as f32).collect();
            let (mut s, mut v) = (vec![f32::NAN; n], vec![-1.0; n]);
            k.pass(&cap, 0.1, &mut s, &mut v);
            assert_eq!(v, two_phase(&k, &cap, 0.1), "round {round}");
            // Again over NaN-filled buffers.
            let (mut s, mut v) = (vec![f32::NAN; n], vec![f32::NAN; n]);
            k.pass(&cap, 0.1, &mut s, &mut v);
            assert_eq!(v, two_phase(&k, &cap, 0.1), "round {round}, NaN buffers");
            // The scheduled flow on arbitrary own values, as the scenario engine calls it.
            let own: Vec<f32> = (0..n).map(|_| rng.f64() as f32).collect();
            let (mut a, mut b) = (vec![-1.0; n], vec![-1.0; n]);
            k.flow(&own, &mut a);
            k.flow_in_order(&own, &mut b);
            assert_eq!(a, b, "round {round}, flow");
            // The grouped supply with per-edge multipliers, as the scenario engine calls it
            // (uncapped, NaN without providers).
            let mult: Vec<f32> = (0..k.n_supply_edges())
                .map(|_| {
                    if rng.below(4) == 0 {
                        0.0
                    } else {
                        rng.f64() as f32
                    }
                })
                .collect();
            for m in [None, Some(&mult[..])] {
                let (mut a, mut b) = (vec![-1.0; n], vec![-1.0; n]);
                k.supply(&cap, m, 0.1, &mut a);
                k.supply_in_order(&cap, m, 0.1, &mut b);
                let bits = |v: &[f32]| v.iter().map(|x| x.to_bits()).collect::<Vec<_>>();
                assert_eq!(
                    bits(&a),
                    bits(&b),
                    "round {round}, supply {:?}",
                    m.is_some()
                );
            }
        }
    }

    #[test]
    fn cycle_is_an_error() {
        let items = vec![links(&[], &[1]), links(&[], &[0])];
        assert!(matches!(
            Kernel::build(&items, 0, TaxonomyRule::WeightedMean),
            Err(KernelError::Cycle(_))
        ));
    }
}
