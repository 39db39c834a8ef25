//! Time-to-survive and time-to-recover on supply networks with quantities (BRIEF 3.4, after
//! Simchi-Levi et al., Interfaces 45(5), 2015): for every single-node disruption, the TTS linear
//! program (how long demand is met from inventories and alternative suppliers) and the TTR program
//! (lost profit while the node recovers: performance impact PI, risk exposure index REI), solved
//! with a pure-Rust LP solver (`good_lp` + `microlp`).
//!
//! Network JSON format (documented in docs/scenarios.md):
//! `{"nodes": [{"id", "kind": "product"|"supplier"|"plant", "demand_per_day", "inventory",
//! "capacity_per_day", "profit_margin", "ttr_days"}], "edges": [{"from", "to", "part",
//! "units_per_output"}]}`. Suppliers of the same `part` to the same node are alternatives;
//! different parts are all required.

use good_lp::{
    constraint, microlp, variable, Expression, ProblemVariables, Solution, SolverModel, Variable,
};
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
                return Err(field(f("demand_per_day"), "a product needs a demand above 0"));
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

/// Indexed form of a network for building LPs.
struct Lp<'a> {
    net: &'a Network,
    /// Incoming edges of each node, grouped by part: node -> part -> edge indexes.
    parts: Vec<BTreeMap<&'a str, Vec<usize>>>,
    /// Outgoing edges of each node.
    out: Vec<Vec<usize>>,
    from: Vec<usize>,
}

impl<'a> Lp<'a> {
    fn new(net: &'a Network) -> Self {
        let ids: HashMap<&str, usize> = net
            .nodes
            .iter()
            .enumerate()
            .map(|(i, n)| (n.id.as_str(), i))
            .collect();
        let mut parts = vec![BTreeMap::new(); net.nodes.len()];
        let mut out = vec![Vec::new(); net.nodes.len()];
        let mut from = Vec::with_capacity(net.edges.len());
        for (k, e) in net.edges.iter().enumerate() {
            let a = ids[e.from.as_str()];
            let b = ids[e.to.as_str()];
            parts[b].entry(e.part.as_str()).or_insert_with(Vec::new).push(k);
            out[a].push(k);
            from.push(a);
        }
        Lp {
            net,
            parts,
            out,
            from,
        }
    }

    /// Build and solve. `tts`: maximise t (<= horizon) with no lost demand; otherwise minimise
    /// lost profit over a fixed `t`.
    fn solve(&self, down: usize, tts: bool, t_fixed: f64, horizon: f64) -> Result<f64, TtsError> {
        let net = self.net;
        let mut vars = ProblemVariables::new();
        let t: Expression = if tts {
            vars.add(variable().min(0.0).max(horizon)).into()
        } else {
            Expression::from(t_fixed)
        };
        let u: Vec<Variable> = net
            .nodes
            .iter()
            .enumerate()
            .map(|(i, _)| {
                if i == down {
                    vars.add(variable().min(0.0).max(0.0))
                } else {
                    vars.add(variable().min(0.0))
                }
            })
            .collect();
        let y: Vec<Variable> = net.edges.iter().map(|_| vars.add(variable().min(0.0))).collect();
        let lost: Vec<Option<Variable>> = net
            .nodes
            .iter()
            .map(|n| (!tts && n.kind == NodeKind::Product).then(|| vars.add(variable().min(0.0))))
            .collect();
        let objective: Expression = if tts {
            t.clone()
        } else {
            net.nodes
                .iter()
                .zip(&lost)
                .filter_map(|(n, l)| l.map(|l| n.profit_margin * l))
                .sum()
        };
        let mut cons = Vec::new();
        for (j, n) in net.nodes.iter().enumerate() {
            // Production needs every part; alternatives of a part add up.
            for edges in self.parts[j].values() {
                let supply: Expression = edges
                    .iter()
                    .map(|&k| y[k] * (1.0 / net.edges[k].units_per_output))
                    .sum();
                cons.push(constraint!(u[j] - supply <= 0.0));
            }
            // Shipments come from production and inventory.
            if !self.out[j].is_empty() {
                let shipped: Expression = self.out[j].iter().map(|&k| y[k]).sum();
                cons.push(constraint!(shipped - u[j] <= n.inventory));
            }
            if let Some(c) = n.capacity_per_day {
                cons.push(constraint!(u[j] - c * t.clone() <= 0.0));
            }
            if n.kind == NodeKind::Product {
                let met = match lost[j] {
                    Some(l) => u[j] + l,
                    None => u[j].into(),
                };
                cons.push(constraint!(met - n.demand_per_day * t.clone() >= -n.inventory));
            }
        }
        let _ = &self.from;
        let problem = if tts {
            vars.maximise(objective.clone())
        } else {
            vars.minimise(objective.clone())
        };
        let sol = problem
            .using(microlp)
            .with_all(cons)
            .solve()
            .map_err(|e| TtsError::Solver {
                node: net.nodes[down].id.clone(),
                message: e.to_string(),
            })?;
        Ok(sol.eval(&objective))
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
    let lp = Lp::new(net);
    let rows: Vec<Result<(f64, Option<f64>), TtsError>> = (0..net.nodes.len())
        .into_par_iter()
        .map(|i| {
            let t = lp.solve(i, true, 0.0, horizon)?;
            let pi = if ttr {
                Some(lp.solve(i, false, net.nodes[i].ttr_days.unwrap_or(0.0), horizon)?)
            } else {
                None
            };
            Ok((t, pi))
        })
        .collect();
    let rows: Vec<(f64, Option<f64>)> = rows.into_iter().collect::<Result<_, _>>()?;
    let max_pi = rows
        .iter()
        .filter_map(|r| r.1)
        .fold(0.0f64, f64::max);
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
            (r#"{"nodes": [{"id": "P", "kind": "product", "demand_per_day": 1}], "edges": [{"from": "X", "to": "P", "part": "a"}]}"#, "edges[0].from", "unknown node `X`"),
            (r#"{"nodes": [{"id": "P", "kind": "product", "demand_per_day": 1, "inventory": -3}]}"#, "nodes[0].inventory", "-3"),
            (r#"{"nodes": [{"kind": "product", "demand_per_day": 1}]}"#, "missing field `id`", "line 1"),
            (r#"{"nodes": [{"id": "A", "kind": "plant"}, {"id": "B", "kind": "plant"}], "edges": [{"from": "A", "to": "B", "part": "p"}, {"from": "B", "to": "A", "part": "q"}]}"#, "cyclic flow", "edges"),
            (r#"{"nodes": [{"id": "P", "kind": "factory"}]}"#, "factory", "line 1"),
            (r#"{"nodes": [{"id": "P", "kind": "product"}]}"#, "nodes[0].demand_per_day", "above 0"),
            (r#"{"nodes": []}"#, "nodes", "no nodes"),
        ];
        for (text, a, b) in cases {
            let e = Network::from_json_str(text, "n.json").unwrap_err().to_string();
            assert!(e.starts_with("n.json: ") && e.contains(a) && e.contains(b), "{e}");
        }
    }
}
