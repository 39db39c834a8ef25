//! Time-to-survive and time-to-recover on supply networks with quantities (BRIEF 3.4, after
//! Simchi-Levi et al., Interfaces 45(5), 2015): for every single-node disruption, the TTS linear
//! program (how long demand is met from inventories and alternative suppliers) and the TTR program
//! (lost profit while the node recovers: performance impact PI, risk exposure index REI), solved
//! with a pure-Rust LP solver (`microlp`, used directly for its warm-started re-solves).
//!
//! Network JSON format (documented in docs/scenarios.md):
//! `{"nodes": [{"id", "kind": "product"|"supplier"|"plant", "demand_per_day", "inventory",
//! "capacity_per_day", "profit_margin", "ttr_days"}], "edges": [{"from", "to", "part",
//! "units_per_output"}]}`. Suppliers of the same `part` to the same node are alternatives;
//! different parts are all required.

use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, HashMap};

/// Kinds of node.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum NodeKind {
    /// Sells to final demand.
    Product,
    /// Makes parts for other nodes.
    Supplier,
    /// An intermediate plant (same equations as a supplier).
    Plant,
}

/// A node of a supply network.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Node {
    pub id: String,
    pub kind: NodeKind,
    /// Final demand (units/day); products only.
    #[serde(default)]
    pub demand_per_day: f64,
    /// Units on hand (of the node's own output).
    #[serde(default)]
    pub inventory: f64,
    /// Production capacity (units/day); absent = unlimited.
    #[serde(default)]
    pub capacity_per_day: Option<f64>,
    /// Profit per unit of lost demand (products; TTR objective).
    #[serde(default = "one")]
    pub profit_margin: f64,
    /// Days this node needs to recover after a disruption (TTR).
    #[serde(default)]
    pub ttr_days: Option<f64>,
}

fn one() -> f64 {
    1.0
}

/// A bill-of-materials edge: `to` needs `units_per_output` of `part` from `from` per unit.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Edge {
    pub from: String,
    pub to: String,
    pub part: String,
    #[serde(default = "one")]
    pub units_per_output: f64,
}

/// A supply network.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Network {
    pub nodes: Vec<Node>,
    #[serde(default)]
    pub edges: Vec<Edge>,
}

/// Errors reading or solving a network; each names the field at fault.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum TtsError {
    #[error("{origin}: {message}")]
    Parse { origin: String, message: String },
    #[error("field `{field}`: {message}")]
    Field { field: String, message: String },
    #[error("LP solver failed for disruption of {node}: {message}")]
    Solver { node: String, message: String },
}

fn field(f: impl Into<String>, m: impl Into<String>) -> TtsError {
    TtsError::Field {
        field: f.into(),
        message: m.into(),
    }
}

impl Network {
    /// Parse and check a network JSON text; `origin` names the file in errors.
    pub fn from_json_str(text: &str, origin: &str) -> Result<Network, TtsError> {
        let n: Network = serde_json::from_str(text).map_err(|e| TtsError::Parse {
            origin: origin.into(),
            message: format!("line {}, column {}: {e}", e.line(), e.column()),
        })?;
        n.validate().map_err(|e| TtsError::Parse {
            origin: origin.into(),
            message: e.to_string(),
        })?;
        Ok(n)
    }

    /// Ranges, references and acyclicity.
    pub fn validate(&self) -> Result<(), TtsError> {
        if self.nodes.is_empty() {
            return Err(field("nodes", "the network has no nodes"));
        }
        let mut ids = HashMap::new();
        for (i, n) in self.nodes.iter().enumerate() {
            let f = |x: &str| format!("nodes[{i}].{x}");
            if n.id.trim().is_empty() {
                return Err(field(f("id"), "must not be empty"));
            }
            if ids.insert(n.id.as_str(), i).is_some() {
                return Err(field(f("id"), format!("duplicate node id `{}`", n.id)));
            }
            for (name, v) in [
                ("demand_per_day", Some(n.demand_per_day)),
                ("inventory", Some(n.inventory)),
                ("capacity_per_day", n.capacity_per_day),
                ("profit_margin", Some(n.profit_margin)),
                ("ttr_days", n.ttr_days),
            ] {
                if let Some(v) = v {
                    if !v.is_finite() || v < 0.0 {
                        return Err(field(f(name), format!("{v} must be a finite number >= 0")));
                    }
                }
            }
            if n.kind == NodeKind::Product && n.demand_per_day <= 0.0 {
                return Err(field(
                    f("demand_per_day"),
                    "a product needs a demand above 0",
                ));
            }
        }
        let mut succ = vec![Vec::new(); self.nodes.len()];
        for (k, e) in self.edges.iter().enumerate() {
            let f = |x: &str| format!("edges[{k}].{x}");
            let a = *ids
                .get(e.from.as_str())
                .ok_or_else(|| field(f("from"), format!("unknown node `{}`", e.from)))?;
            let b = *ids
                .get(e.to.as_str())
                .ok_or_else(|| field(f("to"), format!("unknown node `{}`", e.to)))?;
            if e.part.trim().is_empty() {
                return Err(field(f("part"), "must not be empty"));
            }
            if !(e.units_per_output.is_finite() && e.units_per_output > 0.0) {
                return Err(field(
                    f("units_per_output"),
                    format!("{} must be above 0", e.units_per_output),
                ));
            }
            succ[a].push(b);
        }
        // Cycle check (iterative DFS, colours).
        let mut colour = vec![0u8; self.nodes.len()];
        for s in 0..self.nodes.len() {
            if colour[s] != 0 {
                continue;
            }
            let mut stack = vec![(s, 0usize)];
            colour[s] = 1;
            while let Some(&mut (v, ref mut i)) = stack.last_mut() {
                if *i < succ[v].len() {
                    let w = succ[v][*i];
                    *i += 1;
                    match colour[w] {
                        0 => {
                            colour[w] = 1;
                            stack.push((w, 0));
                        }
                        1 => {
                            return Err(field(
                                "edges",
                                format!("cyclic flow through node `{}`", self.nodes[w].id),
                            ))
                        }
                        _ => {}
                    }
                } else {
                    colour[v] = 2;
                    stack.pop();
                }
            }
        }
        Ok(())
    }
}

/// Result for one single-node disruption.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct NodeResult {
    pub id: String,
    /// Days the network meets all demand with this node down (capped at the horizon).
    pub tts_days: f64,
    /// True when the network survives the whole horizon.
    pub tts_capped: bool,
    /// Performance impact: profit lost while the node recovers (`--ttr`).
    pub pi: Option<f64>,
    /// Risk exposure index: PI / max PI over all nodes (`--ttr`).
    pub rei: Option<f64>,
    pub ttr_days: Option<f64>,
    /// TTS < TTR: the node needs mitigation.
    pub needs_mitigation: Option<bool>,
}

/// All single-node results.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TtsReport {
    pub horizon_days: f64,
    pub nodes: Vec<NodeResult>,
}

/// The LP of BRIEF 3.4 for a network, built once with `t` as a variable and every production
/// variable free; each single-node disruption is then a warm-started re-solve (dual simplex)
/// after fixing `u_d = 0` (and, for TTR, `t = ttr_d`), which is what makes a thousand solves
/// cheap.
struct Lp {
    base: microlp::Solution,
    t: microlp::Variable,
    u: Vec<microlp::Variable>,
}

impl Lp {
    /// `tts`: maximise t (<= horizon) with no lost demand. Otherwise minimise lost profit, with
    /// t in [0, t_max] (fixed per disruption).
    fn new(net: &Network, tts: bool, t_max: f64) -> Result<Lp, TtsError> {
        use microlp::{ComparisonOp, OptimizationDirection, Problem};
        let ids: HashMap<&str, usize> = net
            .nodes
            .iter()
            .enumerate()
            .map(|(i, n)| (n.id.as_str(), i))
            .collect();
        let mut parts: Vec<BTreeMap<&str, Vec<usize>>> = vec![BTreeMap::new(); net.nodes.len()];
        let mut out = vec![Vec::new(); net.nodes.len()];
        for (k, e) in net.edges.iter().enumerate() {
            parts[ids[e.to.as_str()]]
                .entry(e.part.as_str())
                .or_default()
                .push(k);
            out[ids[e.from.as_str()]].push(k);
        }
        let mut p = Problem::new(if tts {
            OptimizationDirection::Maximize
        } else {
            OptimizationDirection::Minimize
        });
        let t = p.add_var(if tts { 1.0 } else { 0.0 }, (0.0, t_max));
        let u: Vec<_> = net
            .nodes
            .iter()
            .map(|_| p.add_var(0.0, (0.0, f64::INFINITY)))
            .collect();
        let y: Vec<_> = net
            .edges
            .iter()
            .map(|_| p.add_var(0.0, (0.0, f64::INFINITY)))
            .collect();
        for (j, n) in net.nodes.iter().enumerate() {
            // Production needs every part; alternative suppliers of a part add up.
            for edges in parts[j].values() {
                let mut row = vec![(u[j], 1.0)];
                for &k in edges {
                    row.push((y[k], -1.0 / net.edges[k].units_per_output));
                }
                p.add_constraint(row.as_slice(), ComparisonOp::Le, 0.0);
            }
            // Shipments come from production and inventory.
            if !out[j].is_empty() {
                let mut row = vec![(u[j], -1.0)];
                for &k in &out[j] {
                    row.push((y[k], 1.0));
                }
                p.add_constraint(row.as_slice(), ComparisonOp::Le, n.inventory);
            }
            if let Some(c) = n.capacity_per_day {
                p.add_constraint([(u[j], 1.0), (t, -c)].as_slice(), ComparisonOp::Le, 0.0);
            }
            if n.kind == NodeKind::Product {
                let mut row = vec![(u[j], 1.0), (t, -n.demand_per_day)];
                if !tts {
                    let l = p.add_var(n.profit_margin, (0.0, f64::INFINITY));
                    row.push((l, 1.0));
                }
                p.add_constraint(row.as_slice(), ComparisonOp::Ge, -n.inventory);
            }
        }
        let base = p
            .solve()
            .and_then(|o| {
                o.into_solution()
                    .map_err(|_| microlp::Error::InternalError("interrupted".into()))
            })
            .map_err(|e| TtsError::Solver {
                node: "(undisrupted network)".into(),
                message: e.to_string(),
            })?;
        Ok(Lp { base, t, u })
    }

    /// Optimum with node `down` out of production (and t fixed when given).
    fn solve(&self, net: &Network, down: usize, t_fixed: Option<f64>) -> Result<f64, TtsError> {
        let err = |e: microlp::Error| TtsError::Solver {
            node: net.nodes[down].id.clone(),
            message: e.to_string(),
        };
        let solved = |o: microlp::SolveOutcome| {
            o.into_solution()
                .map_err(|_| err(microlp::Error::InternalError("interrupted".into())))
        };
        let mut sol = solved(self.base.clone().fix_var(self.u[down], 0.0).map_err(err)?)?;
        if let Some(t) = t_fixed {
            sol = solved(sol.fix_var(self.t, t).map_err(err)?)?;
        }
        Ok(sol.objective())
    }
}

/// Solve TTS (and, with `ttr`, TTR/PI/REI) for every single-node disruption, in parallel.
pub fn analyse(net: &Network, horizon: f64, ttr: bool) -> Result<TtsReport, TtsError> {
    use rayon::prelude::*;
    net.validate()?;
    if !(horizon.is_finite() && horizon > 0.0) {
        return Err(field("horizon", format!("{horizon} must be above 0")));
    }
    if ttr {
        if let Some(i) = net.nodes.iter().position(|n| n.ttr_days.is_none()) {
            return Err(field(
                format!("nodes[{i}].ttr_days"),
                format!("node `{}` needs ttr_days for --ttr", net.nodes[i].id),
            ));
        }
    }
    let tts_lp = Lp::new(net, true, horizon)?;
    let ttr_lp = if ttr {
        let t_max = net
            .nodes
            .iter()
            .filter_map(|n| n.ttr_days)
            .fold(0.0, f64::max);
        Some(Lp::new(net, false, t_max)?)
    } else {
        None
    };
    let rows: Vec<Result<(f64, Option<f64>), TtsError>> = (0..net.nodes.len())
        .into_par_iter()
        .map(|i| {
            let t = tts_lp.solve(net, i, None)?;
            let pi = match &ttr_lp {
                Some(lp) => Some(lp.solve(net, i, net.nodes[i].ttr_days)?),
                None => None,
            };
            Ok((t, pi))
        })
        .collect();
    let rows: Vec<(f64, Option<f64>)> = rows.into_iter().collect::<Result<_, _>>()?;
    let max_pi = rows.iter().filter_map(|r| r.1).fold(0.0f64, f64::max);
    let nodes = net
        .nodes
        .iter()
        .zip(rows)
        .map(|(n, (t, pi))| {
            let capped = t >= horizon * (1.0 - 1e-9);
            let t = clean(t.min(horizon));
            NodeResult {
                id: n.id.clone(),
                tts_days: t,
                tts_capped: capped,
                pi: pi.map(clean),
                rei: pi.map(|p| if max_pi > 0.0 { clean(p / max_pi) } else { 0.0 }),
                ttr_days: n.ttr_days,
                needs_mitigation: if ttr {
                    n.ttr_days.map(|r| !capped && t < r)
                } else {
                    None
                },
            }
        })
        .collect();
    Ok(TtsReport {
        horizon_days: horizon,
        nodes,
    })
}

/// Round away solver noise (results are reported to 6 decimals).
fn clean(v: f64) -> f64 {
    let r = (v * 1e6).round() / 1e6;
    if r == 0.0 {
        0.0
    } else {
        r
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const ISSUE_EXAMPLE: &str = r#"{"nodes": [{"id": "P1", "kind": "product", "demand_per_day": 10.0, "inventory": 40.0,
            "capacity_per_day": 15.0, "profit_margin": 1.0, "ttr_days": 20.0},
           {"id": "S1", "kind": "supplier", "inventory": 30.0, "capacity_per_day": 12.0, "ttr_days": 30.0}],
     "edges": [{"from": "S1", "to": "P1", "part": "wafer", "units_per_output": 2.0}]}"#;

    #[test]
    fn hand_computed_two_node_network() {
        let net = Network::from_json_str(ISSUE_EXAMPLE, "ex.json").unwrap();
        let r = analyse(&net, 365.0, true).unwrap();
        // P1 down: only its inventory: 40 / 10 = 4 days.
        assert!((r.nodes[0].tts_days - 4.0).abs() < 1e-6, "{r:?}");
        // S1 down: P1 makes at most 30 / 2 = 15 units from S1's stock plus 40 on hand:
        // 10 t <= 55 -> t = 5.5 days.
        assert!((r.nodes[1].tts_days - 5.5).abs() < 1e-6, "{r:?}");
        // Nothing down is not a case, but the undisrupted network: S1 makes 12/day = 6 chips/day
        // < 10 demand, so even then the network lives on inventories.
        // TTR: P1 down 20 days: lost 10*20 - 40 = 160. S1 down 30 days: lost 300 - 55 = 245.
        assert!((r.nodes[0].pi.unwrap() - 160.0).abs() < 1e-6, "{r:?}");
        assert!((r.nodes[1].pi.unwrap() - 245.0).abs() < 1e-6, "{r:?}");
        assert!((r.nodes[1].rei.unwrap() - 1.0).abs() < 1e-9);
        assert!((r.nodes[0].rei.unwrap() - 160.0 / 245.0).abs() < 1e-6);
        assert_eq!(r.nodes[0].needs_mitigation, Some(true));
    }

    #[test]
    fn alternatives_keep_the_network_alive() {
        let text = r#"{"nodes": [
            {"id": "P", "kind": "product", "demand_per_day": 10, "capacity_per_day": 20},
            {"id": "A", "kind": "supplier", "capacity_per_day": 10},
            {"id": "B", "kind": "supplier", "capacity_per_day": 10, "inventory": 50}],
          "edges": [{"from": "A", "to": "P", "part": "x"}, {"from": "B", "to": "P", "part": "x"}]}"#;
        let net = Network::from_json_str(text, "alt.json").unwrap();
        let r = analyse(&net, 100.0, false).unwrap();
        // Either supplier alone makes 10/day: survives the horizon.
        assert!(r.nodes[1].tts_capped && r.nodes[2].tts_capped, "{r:?}");
        assert_eq!(r.nodes[1].tts_days, 100.0);
        assert!(!r.nodes[0].tts_capped);
        assert_eq!(r.nodes[0].tts_days, 0.0);
        assert_eq!(r.nodes[0].pi, None);
    }

    #[test]
    fn malformed_networks_name_the_field() {
        let cases = [
            (
                r#"{"nodes": [{"id": "P", "kind": "product", "demand_per_day": 1}], "edges": [{"from": "X", "to": "P", "part": "a"}]}"#,
                "edges[0].from",
                "unknown node `X`",
            ),
            (
                r#"{"nodes": [{"id": "P", "kind": "product", "demand_per_day": 1, "inventory": -3}]}"#,
                "nodes[0].inventory",
                "-3",
            ),
            (
                r#"{"nodes": [{"kind": "product", "demand_per_day": 1}]}"#,
                "missing field `id`",
                "line 1",
            ),
            (
                r#"{"nodes": [{"id": "A", "kind": "plant"}, {"id": "B", "kind": "plant"}], "edges": [{"from": "A", "to": "B", "part": "p"}, {"from": "B", "to": "A", "part": "q"}]}"#,
                "cyclic flow",
                "edges",
            ),
            (
                r#"{"nodes": [{"id": "P", "kind": "factory"}]}"#,
                "factory",
                "line 1",
            ),
            (
                r#"{"nodes": [{"id": "P", "kind": "product"}]}"#,
                "nodes[0].demand_per_day",
                "above 0",
            ),
            (r#"{"nodes": []}"#, "nodes", "no nodes"),
        ];
        for (text, a, b) in cases {
            let e = Network::from_json_str(text, "n.json")
                .unwrap_err()
                .to_string();
            assert!(
                e.starts_with("n.json: ") && e.contains(a) && e.contains(b),
                "{e}"
            );
        }
    }
}
