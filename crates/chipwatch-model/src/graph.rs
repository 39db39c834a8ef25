//! The value-chain graph: indexes over a [`Model`] (ids to positions, taxonomy and process-flow
//! adjacency, shares per item) built once, so analytics never search lists.

use crate::types::*;
use crate::validate::{self, Diagnostic};
use crate::ModelError;
use foldhash::HashMapExt;
use std::collections::HashMap;

type IdMap<V> = foldhash::HashMap<String, V>;

/// Position of an item in [`Model::items`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ItemIdx(pub u32);

/// Position of a provider in [`Model::providers`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ProviderIdx(pub u32);

impl ItemIdx {
    pub fn ix(self) -> usize {
        self.0 as usize
    }
}
impl ProviderIdx {
    pub fn ix(self) -> usize {
        self.0 as usize
    }
}

/// A model with its indexes. Dangling references are dropped from the indexes and reported as
/// diagnostics; duplicate ids are errors because nothing could be joined reliably.
#[derive(Debug, Clone)]
pub struct ValueChain {
    model: Model,
    /// Id lookups use foldhash, not SipHash: ids are not attacker-chosen keys here, and a
    /// 10^6-item model looks ids up tens of millions of times while loading and compiling.
    item_by_id: IdMap<ItemIdx>,
    provider_by_id: IdMap<ProviderIdx>,
    /// `is_type_of` parents and children.
    parents: Vec<Vec<ItemIdx>>,
    children: Vec<Vec<ItemIdx>>,
    /// `goes_into` targets (what the item feeds) and sources (its inputs).
    feeds: Vec<Vec<ItemIdx>>,
    inputs: Vec<Vec<ItemIdx>>,
    /// Stages each item serves (declared for processes, derived through the flow for the rest).
    stages: Vec<Vec<StageKind>>,
    /// Indexes into `model.shares`, per item; valid shares only.
    shares_by_item: Vec<Vec<usize>>,
    /// Stage-level shares (item field names a stage id), per stage id.
    shares_by_stage: HashMap<String, Vec<usize>>,
    diagnostics: Vec<Diagnostic>,
}

impl ValueChain {
    /// Index a model. Fails only on duplicate ids and out-of-range shares.
    pub fn new(model: Model) -> Result<Self, ModelError> {
        let mut item_by_id = IdMap::with_capacity(model.items.len());
        for (i, it) in model.items.iter().enumerate() {
            if item_by_id
                .insert(it.id.clone(), ItemIdx(i as u32))
                .is_some()
            {
                return Err(ModelError::DuplicateItemId(it.id.clone()));
            }
        }
        let mut provider_by_id = IdMap::with_capacity(model.providers.len());
        for (i, p) in model.providers.iter().enumerate() {
            if provider_by_id
                .insert(p.id.clone(), ProviderIdx(i as u32))
                .is_some()
            {
                return Err(ModelError::DuplicateProviderId(p.id.clone()));
            }
        }
        for (index, s) in model.shares.iter().enumerate() {
            if let Some(v) = s.share {
                if !(0.0..=100.0).contains(&v) || v.is_nan() {
                    return Err(ModelError::ShareOutOfRange { index, share: v });
                }
            }
        }
        let n = model.items.len();
        let mut diagnostics = Vec::new();
        let mut parents = vec![Vec::new(); n];
        let mut children = vec![Vec::new(); n];
        let mut feeds = vec![Vec::new(); n];
        let mut inputs = vec![Vec::new(); n];
        for (i, it) in model.items.iter().enumerate() {
            for p in &it.is_type_of {
                match item_by_id.get(p.as_str()) {
                    Some(&pi) => {
                        parents[i].push(pi);
                        children[pi.ix()].push(ItemIdx(i as u32));
                    }
                    None => diagnostics.push(Diagnostic::error(
                        "dangling_reference",
                        format!("item {}: is_type_of names unknown item {p}", it.id),
                    )),
                }
            }
            for t in &it.goes_into {
                match item_by_id.get(t.as_str()) {
                    Some(&ti) => {
                        feeds[i].push(ti);
                        inputs[ti.ix()].push(ItemIdx(i as u32));
                    }
                    None => diagnostics.push(Diagnostic::error(
                        "dangling_reference",
                        format!("item {}: goes_into names unknown item {t}", it.id),
                    )),
                }
            }
        }
        let stage_ids: HashMap<&str, ()> =
            model.stages.iter().map(|s| (s.id.as_str(), ())).collect();
        let mut shares_by_item = vec![Vec::new(); n];
        let mut shares_by_stage: HashMap<String, Vec<usize>> = HashMap::new();
        for (k, s) in model.shares.iter().enumerate() {
            if !provider_by_id.contains_key(s.provider.as_str()) {
                diagnostics.push(Diagnostic::error(
                    "dangling_reference",
                    format!(
                        "share #{k}: unknown provider id {} (item {})",
                        s.provider, s.item
                    ),
                ));
                continue;
            }
            if let Some(&ii) = item_by_id.get(s.item.as_str()) {
                shares_by_item[ii.ix()].push(k);
            } else if stage_ids.contains_key(s.item.as_str()) {
                shares_by_stage
                    .entry(s.item.to_string())
                    .or_default()
                    .push(k);
            } else {
                diagnostics.push(Diagnostic::error(
                    "dangling_reference",
                    format!(
                        "share #{k}: unknown item or stage id {} (provider {})",
                        s.item, s.provider
                    ),
                ));
            }
        }
        let mut vc = ValueChain {
            model,
            item_by_id,
            provider_by_id,
            parents,
            children,
            feeds,
            inputs,
            stages: vec![Vec::new(); n],
            shares_by_item,
            shares_by_stage,
            diagnostics,
        };
        vc.stages = vc.derive_stages();
        let extra = validate::validate(&vc);
        vc.diagnostics.extend(extra);
        Ok(vc)
    }

    pub fn model(&self) -> &Model {
        &self.model
    }
    pub fn into_model(self) -> Model {
        self.model
    }
    pub fn diagnostics(&self) -> &[Diagnostic] {
        &self.diagnostics
    }
    pub fn items(&self) -> impl ExactSizeIterator<Item = (ItemIdx, &Item)> {
        self.model
            .items
            .iter()
            .enumerate()
            .map(|(i, it)| (ItemIdx(i as u32), it))
    }
    pub fn item(&self, i: ItemIdx) -> &Item {
        &self.model.items[i.ix()]
    }
    pub fn provider(&self, p: ProviderIdx) -> &Provider {
        &self.model.providers[p.ix()]
    }
    pub fn providers(&self) -> impl ExactSizeIterator<Item = (ProviderIdx, &Provider)> {
        self.model
            .providers
            .iter()
            .enumerate()
            .map(|(i, p)| (ProviderIdx(i as u32), p))
    }
    pub fn item_idx(&self, id: &str) -> Option<ItemIdx> {
        self.item_by_id.get(id).copied()
    }
    pub fn provider_idx(&self, id: &str) -> Option<ProviderIdx> {
        self.provider_by_id.get(id).copied()
    }
    pub fn provider_by_id(&self, id: &str) -> Option<&Provider> {
        self.provider_idx(id).map(|p| self.provider(p))
    }
    pub fn source_label(&self, id: &str) -> Option<&str> {
        self.model
            .sources
            .iter()
            .find(|s| s.id == id)
            .map(|s| s.label.as_str())
    }

    /// Find an item by id (exact) or name (case-insensitive, exact, then unique prefix).
    pub fn find_item(&self, query: &str) -> Result<ItemIdx, LookupError> {
        if let Some(i) = self.item_idx(query) {
            return Ok(i);
        }
        let q = query.trim().to_lowercase();
        let exact: Vec<_> = self
            .items()
            .filter(|(_, it)| it.name.to_lowercase() == q)
            .map(|(i, _)| i)
            .collect();
        if exact.len() == 1 {
            return Ok(exact[0]);
        }
        let partial: Vec<_> = if exact.is_empty() {
            self.items()
                .filter(|(_, it)| it.name.to_lowercase().contains(&q))
                .map(|(i, _)| i)
                .collect()
        } else {
            exact
        };
        match partial.len() {
            0 => Err(LookupError::NotFound(query.to_string())),
            1 => Ok(partial[0]),
            _ => Err(LookupError::Ambiguous(
                query.to_string(),
                partial
                    .iter()
                    .take(8)
                    .map(|&i| format!("{} ({})", self.item(i).id, self.item(i).name))
                    .collect(),
            )),
        }
    }

    /// Find a provider by id, ISO code of a country, exact name or alias (case-insensitive).
    /// Country providers win over organisations when a name is shared.
    pub fn find_provider(&self, query: &str) -> Result<ProviderIdx, LookupError> {
        if let Some(p) = self.provider_idx(query) {
            return Ok(p);
        }
        let q = query.trim().to_lowercase();
        let hits: Vec<_> = self
            .providers()
            .filter(|(_, p)| {
                p.name.to_lowercase() == q || p.aliases.iter().any(|a| a.to_lowercase() == q)
            })
            .map(|(i, _)| i)
            .collect();
        match hits.len() {
            0 => Err(LookupError::NotFound(query.to_string())),
            1 => Ok(hits[0]),
            _ => {
                let countries: Vec<_> = hits
                    .iter()
                    .copied()
                    .filter(|&i| self.provider(i).provider_type == ProviderType::Country)
                    .collect();
                if countries.len() == 1 {
                    Ok(countries[0])
                } else {
                    Err(LookupError::Ambiguous(
                        query.to_string(),
                        hits.iter()
                            .map(|&i| {
                                let p = self.provider(i);
                                format!(
                                    "{} ({}, {})",
                                    p.id,
                                    p.name,
                                    p.country.as_deref().unwrap_or("-")
                                )
                            })
                            .collect(),
                    ))
                }
            }
        }
    }

    /// The country provider for an ISO alpha-3 code, if the model has one.
    pub fn country_provider(&self, iso3: &str) -> Option<ProviderIdx> {
        self.providers()
            .find(|(_, p)| {
                p.provider_type == ProviderType::Country && p.country.as_deref() == Some(iso3)
            })
            .map(|(i, _)| i)
    }

    pub fn parents(&self, i: ItemIdx) -> &[ItemIdx] {
        &self.parents[i.ix()]
    }
    pub fn children(&self, i: ItemIdx) -> &[ItemIdx] {
        &self.children[i.ix()]
    }
    /// Items this item goes into (what it feeds).
    pub fn feeds(&self, i: ItemIdx) -> &[ItemIdx] {
        &self.feeds[i.ix()]
    }
    /// Items that go into this item (its inputs and upstream processes).
    pub fn inputs(&self, i: ItemIdx) -> &[ItemIdx] {
        &self.inputs[i.ix()]
    }
    /// Stages an item serves; the first is the earliest.
    pub fn stages(&self, i: ItemIdx) -> &[StageKind] {
        &self.stages[i.ix()]
    }
    /// Primary stage: the earliest stage the item serves.
    pub fn stage(&self, i: ItemIdx) -> Option<StageKind> {
        self.stages[i.ix()].first().copied()
    }

    /// All `is_type_of` descendants of `i` (not including `i`), depth-first.
    pub fn descendants(&self, i: ItemIdx) -> Vec<ItemIdx> {
        let mut out = Vec::new();
        let mut seen = vec![false; self.model.items.len()];
        let mut stack = self.children(i).to_vec();
        while let Some(c) = stack.pop() {
            if std::mem::replace(&mut seen[c.ix()], true) {
                continue;
            }
            out.push(c);
            stack.extend_from_slice(self.children(c));
        }
        out
    }

    /// All `is_type_of` ancestors of `i` (not including `i`).
    pub fn ancestors(&self, i: ItemIdx) -> Vec<ItemIdx> {
        let mut out = Vec::new();
        let mut seen = vec![false; self.model.items.len()];
        let mut stack = self.parents(i).to_vec();
        while let Some(c) = stack.pop() {
            if std::mem::replace(&mut seen[c.ix()], true) {
                continue;
            }
            out.push(c);
            stack.extend_from_slice(self.parents(c));
        }
        out
    }

    /// All valid shares of an item, every vintage.
    pub fn all_shares(&self, i: ItemIdx) -> impl Iterator<Item = &Share> {
        self.shares_by_item[i.ix()]
            .iter()
            .map(move |&k| &self.model.shares[k])
    }

    /// Shares of an item at its latest vintage per (provider, basis): when several years exist for
    /// the same provider, only the newest counts. Order follows the model file.
    pub fn latest_shares(&self, i: ItemIdx) -> Vec<&Share> {
        latest(
            self.shares_by_item[i.ix()]
                .iter()
                .map(|&k| &self.model.shares[k]),
        )
    }

    /// Latest stage-level shares for a stage id.
    pub fn stage_shares(&self, stage_id: &str) -> Vec<&Share> {
        match self.shares_by_stage.get(stage_id) {
            Some(v) => latest(v.iter().map(|&k| &self.model.shares[k])),
            None => Vec::new(),
        }
    }

    /// Latest shares of the country view (countries and country buckets) of an item, optionally
    /// restricted to one basis.
    pub fn country_shares(&self, i: ItemIdx, basis: Option<Basis>) -> Vec<&Share> {
        self.latest_shares(i)
            .into_iter()
            .filter(|s| basis.is_none_or(|b| s.basis == b))
            .filter(|s| {
                self.provider_by_id(&s.provider)
                    .is_some_and(|p| p.in_country_view())
            })
            .collect()
    }

    /// Latest shares of the firm view (organisations and firm buckets) of an item.
    pub fn firm_shares(&self, i: ItemIdx) -> Vec<&Share> {
        self.latest_shares(i)
            .into_iter()
            .filter(|s| {
                self.provider_by_id(&s.provider)
                    .is_some_and(|p| !p.in_country_view())
            })
            .collect()
    }

    /// Items ordered so that every item comes after all its `goes_into` inputs (Kahn's algorithm).
    /// Items on a cycle are left out; validation reports the cycle.
    pub fn flow_topo_order(&self) -> Vec<ItemIdx> {
        let n = self.model.items.len();
        let mut indeg: Vec<usize> = (0..n).map(|i| self.inputs[i].len()).collect();
        let mut queue: std::collections::VecDeque<ItemIdx> = (0..n)
            .filter(|&i| indeg[i] == 0)
            .map(|i| ItemIdx(i as u32))
            .collect();
        let mut out = Vec::with_capacity(n);
        while let Some(i) = queue.pop_front() {
            out.push(i);
            for &t in self.feeds(i) {
                indeg[t.ix()] -= 1;
                if indeg[t.ix()] == 0 {
                    queue.push_back(t);
                }
            }
        }
        out
    }

    fn derive_stages(&self) -> Vec<Vec<StageKind>> {
        let n = self.model.items.len();
        let mut memo: Vec<Option<Vec<StageKind>>> = vec![None; n];
        // One flag vector for all walks: every walk clears the flags it set before returning
        // (allocating it per item made loading quadratic: minutes at 10^6 items).
        let mut visiting = vec![false; n];
        for i in 0..n {
            self.stage_rec(ItemIdx(i as u32), &mut memo, &mut visiting);
        }
        memo.into_iter().map(|m| m.unwrap_or_default()).collect()
    }

    fn stage_rec(
        &self,
        i: ItemIdx,
        memo: &mut [Option<Vec<StageKind>>],
        visiting: &mut [bool],
    ) -> Vec<StageKind> {
        if let Some(s) = &memo[i.ix()] {
            return s.clone();
        }
        if std::mem::replace(&mut visiting[i.ix()], true) {
            return Vec::new(); // cycle: validation reports it
        }
        let it = self.item(i);
        let mut out: Vec<StageKind> = Vec::new();
        if let Some(s) = it.stage {
            out.push(s);
        } else if it.kind == ItemKind::DesignResource {
            out.push(StageKind::Design);
        } else if it.kind != ItemKind::FinalOutput {
            for &t in self.feeds(i) {
                out.extend(self.stage_rec(t, memo, visiting));
            }
            if out.is_empty() {
                for &p in self.parents(i) {
                    out.extend(self.stage_rec(p, memo, visiting));
                }
            }
        }
        out.sort();
        out.dedup();
        visiting[i.ix()] = false;
        memo[i.ix()] = Some(out.clone());
        out
    }
}

fn latest<'a>(shares: impl Iterator<Item = &'a Share>) -> Vec<&'a Share> {
    let all: Vec<&Share> = shares.collect();
    // Items list a handful of shares: comparing each with the others is cheaper than a hash
    // map per call (this runs for every item when a scenario compiles a 10^6-item model).
    if all.len() <= 16 {
        let keep = |s: &Share| {
            !all.iter()
                .any(|o| o.provider == s.provider && o.basis == s.basis && o.year > s.year)
        };
        return all.iter().copied().filter(|s| keep(s)).collect();
    }
    let mut best: HashMap<(&str, Basis), Option<i32>> = HashMap::new();
    for s in &all {
        let e = best.entry((s.provider.as_str(), s.basis)).or_insert(s.year);
        if s.year > *e {
            *e = s.year;
        }
    }
    all.into_iter()
        .filter(|s| best[&(s.provider.as_str(), s.basis)] == s.year)
        .collect()
}

/// Looking up an item or provider by a user's words.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum LookupError {
    #[error("no item or provider matches `{0}`")]
    NotFound(String),
    #[error("`{0}` is ambiguous; candidates: {list}", list = .1.join(", "))]
    Ambiguous(String, Vec<String>),
}
