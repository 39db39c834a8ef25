//! Model validation. Returns diagnostics rather than failing, so a user can load an imperfect
//! model, see what is wrong, and still get answers from the parts that are sound.

use crate::graph::{ItemIdx, ValueChain};
use crate::types::*;
use serde::Serialize;
use std::collections::HashMap;

/// How serious a diagnostic is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Severity {
    Info,
    Warning,
    Error,
}

/// One finding about a model, with a stable machine-readable code.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Diagnostic {
    pub severity: Severity,
    pub code: &'static str,
    pub message: String,
}

impl Diagnostic {
    pub fn new(severity: Severity, code: &'static str, message: impl Into<String>) -> Self {
        Diagnostic {
            severity,
            code,
            message: message.into(),
        }
    }
    pub fn error(code: &'static str, message: impl Into<String>) -> Self {
        Self::new(Severity::Error, code, message)
    }
    pub fn warning(code: &'static str, message: impl Into<String>) -> Self {
        Self::new(Severity::Warning, code, message)
    }
    pub fn info(code: &'static str, message: impl Into<String>) -> Self {
        Self::new(Severity::Info, code, message)
    }
}

impl std::fmt::Display for Diagnostic {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let sev = match self.severity {
            Severity::Info => "info",
            Severity::Warning => "warning",
            Severity::Error => "error",
        };
        write!(f, "{sev}[{}]: {}", self.code, self.message)
    }
}

/// Tolerance for "shares summing far from 100": the ETO data rounds sub-1% shares up to 1%, so
/// sums slightly above 100 are normal.
pub const SHARE_SUM_LOW: f64 = 90.0;
pub const SHARE_SUM_HIGH: f64 = 110.0;

pub(crate) fn validate(vc: &ValueChain) -> Vec<Diagnostic> {
    let mut out = Vec::new();
    let m = vc.model();

    // Duplicate names: providers (per type) and items.
    let mut names: HashMap<(ProviderType, String), Vec<&str>> = HashMap::new();
    for p in &m.providers {
        names
            .entry((p.provider_type, p.name.to_lowercase()))
            .or_default()
            .push(&p.id);
    }
    let mut dup: Vec<_> = names.into_iter().filter(|(_, v)| v.len() > 1).collect();
    dup.sort();
    for ((_, name), ids) in dup {
        out.push(Diagnostic::warning(
            "duplicate_name",
            format!(
                "provider name `{name}` is shared by {} (join on ids, not names)",
                ids.join(", ")
            ),
        ));
    }
    let mut item_names: HashMap<String, Vec<&str>> = HashMap::new();
    for it in m.items.iter() {
        item_names
            .entry(it.name.to_lowercase())
            .or_default()
            .push(&it.id);
    }
    let mut dup: Vec<_> = item_names
        .into_iter()
        .filter(|(_, v)| v.len() > 1)
        .collect();
    dup.sort();
    for (name, ids) in dup {
        out.push(Diagnostic::warning(
            "duplicate_name",
            format!("item name `{name}` is shared by {}", ids.join(", ")),
        ));
    }

    // Organisations whose HQ country is not a country of the model.
    // (Not an error: a user model may name countries it has no shares for.)

    // Shares summing far from 100, per item, view and basis.
    for (i, it) in vc.items() {
        for basis in [Basis::Hq, Basis::Location] {
            for (view, shares) in [
                ("country", vc.country_shares(i, Some(basis))),
                (
                    "firm",
                    vc.firm_shares(i)
                        .into_iter()
                        .filter(|s| s.basis == basis)
                        .collect(),
                ),
            ] {
                if shares.is_empty() {
                    continue;
                }
                let blanks = shares.iter().filter(|s| s.share.is_none()).count();
                let sum: f64 = shares.iter().filter_map(|s| s.share).sum();
                let numeric = shares.len() - blanks;
                if numeric == 0 {
                    continue;
                }
                if sum > SHARE_SUM_HIGH || (blanks == 0 && sum < SHARE_SUM_LOW) {
                    out.push(Diagnostic::warning(
                        "share_sum",
                        format!(
                            "item {} ({}): {view} shares ({basis}) sum to {sum:.1}%{}",
                            it.id,
                            it.name,
                            if blanks > 0 {
                                format!(" with {blanks} listed without a number")
                            } else {
                                String::new()
                            }
                        ),
                    ));
                }
            }
        }
    }

    // Cycles in the process flow and in the taxonomy.
    for (label, next) in [
        (
            "goes_into",
            &(|vc: &ValueChain, i: ItemIdx| vc.feeds(i).to_vec())
                as &dyn Fn(&ValueChain, ItemIdx) -> Vec<ItemIdx>,
        ),
        ("is_type_of", &|vc: &ValueChain, i: ItemIdx| {
            vc.parents(i).to_vec()
        }),
    ] {
        if let Some(cycle) = find_cycle(vc, next) {
            let ids: Vec<&str> = cycle.iter().map(|&i| vc.item(i).id.as_str()).collect();
            out.push(Diagnostic::error(
                "cycle",
                format!("{label} has a cycle: {}", ids.join(" -> ")),
            ));
        }
    }
    out
}

fn find_cycle(
    vc: &ValueChain,
    next: &dyn Fn(&ValueChain, ItemIdx) -> Vec<ItemIdx>,
) -> Option<Vec<ItemIdx>> {
    // 0 = unvisited, 1 = on stack, 2 = done. Iterative DFS to survive deep user graphs.
    let n = vc.model().items.len();
    let mut color = vec![0u8; n];
    let mut parent: Vec<Option<ItemIdx>> = vec![None; n];
    for start in 0..n {
        if color[start] != 0 {
            continue;
        }
        let mut stack: Vec<(ItemIdx, Vec<ItemIdx>, usize)> = Vec::new();
        let s = ItemIdx(start as u32);
        color[start] = 1;
        stack.push((s, next(vc, s), 0));
        while let Some((node, succ, pos)) = stack.last_mut() {
            if *pos < succ.len() {
                let t = succ[*pos];
                *pos += 1;
                match color[t.ix()] {
                    0 => {
                        color[t.ix()] = 1;
                        parent[t.ix()] = Some(*node);
                        let ns = next(vc, t);
                        stack.push((t, ns, 0));
                    }
                    1 => {
                        let mut cyc = vec![t];
                        let mut cur = *node;
                        while cur != t {
                            cyc.push(cur);
                            cur = parent[cur.ix()].expect("on stack");
                        }
                        cyc.push(t);
                        cyc.reverse();
                        return Some(cyc);
                    }
                    _ => {}
                }
            } else {
                color[node.ix()] = 2;
                stack.pop();
            }
        }
    }
    None
}
