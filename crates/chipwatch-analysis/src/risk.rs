//! Monte Carlo risk: random disruptions of supplying countries (probability, lost fraction and
//! duration per country, configurable, with documented defaults), each sample run through the
//! scenario engine; reports the distribution of every consumer's finished-chip availability and
//! the countries whose failures contribute most to expected loss. Samples run in parallel
//! (rayon) and are deterministic for a seed: sample `i` draws from its own generator seeded by
//! `(seed, i)`, so results do not depend on thread scheduling.

use crate::gen::Rng;
use crate::scenario::engine::Prepared;
use crate::scenario::{Assumptions, Scenario, ScenarioError, Shock};
use chipwatch_model::{ProviderType, ValueChain};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// Disruption parameters of one supplying country.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Hazard {
    /// Probability that the country is disrupted at some point within the horizon.
    pub probability: f64,
    /// Range of the capacity fraction lost (uniform).
    pub fraction: (f64, f64),
    /// Range of the full-strength duration in days (uniform); recovery takes a third of it.
    pub duration_days: (u32, u32),
}

impl Default for Hazard {
    fn default() -> Self {
        Hazard {
            probability: 0.05,
            fraction: (0.2, 1.0),
            duration_days: (7, 90),
        }
    }
}

/// Risk configuration (TOML; see docs/scenarios.md).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct RiskConfig {
    pub horizon_days: u32,
    /// Hazard of every supplying country not listed in `country`.
    pub default: Hazard,
    /// Per-country hazards, keyed by ISO alpha-3 code.
    pub country: BTreeMap<String, Hazard>,
    pub assumptions: Assumptions,
}

impl Default for RiskConfig {
    fn default() -> Self {
        RiskConfig {
            horizon_days: 180,
            default: Hazard::default(),
            country: BTreeMap::new(),
            assumptions: Assumptions::default(),
        }
    }
}

impl RiskConfig {
    /// Parse a risk config file; errors name the file, line and field.
    pub fn from_toml_str(text: &str, origin: &str) -> Result<RiskConfig, ScenarioError> {
        let c: RiskConfig = toml::from_str(text).map_err(|e| ScenarioError::Parse {
            origin: origin.into(),
            message: crate::scenario::describe_toml_error(text, &e),
        })?;
        c.validate().map_err(|e| ScenarioError::Parse {
            origin: origin.into(),
            message: e.to_string(),
        })?;
        Ok(c)
    }

    pub fn validate(&self) -> Result<(), ScenarioError> {
        let bad = |f: String, m: String| ScenarioError::Field {
            field: f,
            message: m,
        };
        if self.horizon_days == 0 || self.horizon_days > 3650 {
            return Err(bad(
                "horizon_days".into(),
                format!("{} is outside 1..=3650", self.horizon_days),
            ));
        }
        let mut s = Scenario::new("risk");
        s.assumptions = self.assumptions.clone();
        s.validate()?;
        for (name, h) in std::iter::once(("default".to_string(), &self.default)).chain(
            self.country
                .iter()
                .map(|(k, v)| (format!("country.{k}"), v)),
        ) {
            if !(0.0..=1.0).contains(&h.probability) {
                return Err(bad(
                    format!("{name}.probability"),
                    format!("{} is outside 0..=1", h.probability),
                ));
            }
            let (a, b) = h.fraction;
            if !(0.0..=1.0).contains(&a) || !(0.0..=1.0).contains(&b) || a > b {
                return Err(bad(
                    format!("{name}.fraction"),
                    format!("[{a}, {b}] must be a range within 0..=1"),
                ));
            }
            if h.duration_days.0 > h.duration_days.1 {
                return Err(bad(
                    format!("{name}.duration_days"),
                    "the first number must not exceed the second".into(),
                ));
            }
        }
        Ok(())
    }
}

/// Distribution of one consumer's mean finished-chip availability over the horizon.
#[derive(Debug, Clone, Serialize)]
pub struct Distribution {
    pub country: String,
    pub mean: f64,
    pub p5: f64,
    pub p50: f64,
    pub p95: f64,
}

/// A supplying country's contribution to expected loss.
#[derive(Debug, Clone, Serialize)]
pub struct Contributor {
    pub country: String,
    /// Expected world loss (capacity-weighted days of finished chips per horizon) attributed to
    /// this country's disruptions (a sample's loss is split equally among its disrupted
    /// countries).
    pub expected_loss_days: f64,
    /// Share of the total expected loss.
    pub share: f64,
    /// Fraction of samples in which it was disrupted.
    pub disrupted_rate: f64,
}

/// Result of a Monte Carlo run.
#[derive(Debug, Clone, Serialize)]
pub struct RiskResult {
    pub samples: u64,
    pub seed: u64,
    pub horizon_days: u32,
    pub consumers: Vec<Distribution>,
    pub world: Distribution,
    pub contributors: Vec<Contributor>,
    pub config: RiskConfig,
    pub model: String,
    pub vintage: String,
}

/// Run `samples` random disruption scenarios. `progress` is called once per finished sample.
pub fn monte_carlo(
    vc: &ValueChain,
    cfg: &RiskConfig,
    samples: u64,
    seed: u64,
    progress: &(dyn Fn() + Sync),
) -> Result<RiskResult, ScenarioError> {
    use rayon::prelude::*;
    cfg.validate()?;
    let prep = Prepared::new(vc, &cfg.assumptions, None)?;
    // Supplying countries: those with shares in the country view.
    let mut countries: Vec<String> = prep
        .providers
        .iter()
        .filter_map(|p| p.provider)
        .filter(|&p| vc.provider(p).provider_type == ProviderType::Country)
        .filter_map(|p| vc.provider(p).country.clone())
        .collect();
    countries.sort();
    countries.dedup();
    let hazards: Vec<&Hazard> = countries
        .iter()
        .map(|c| cfg.country.get(c).unwrap_or(&cfg.default))
        .collect();
    let nc = prep.consumers.len();
    let wsum: f64 = prep.consumers.iter().map(|c| c.weight).sum();
    let weights: Vec<f64> = prep
        .consumers
        .iter()
        .map(|c| {
            if wsum > 0.0 {
                c.weight / wsum
            } else {
                1.0 / nc as f64
            }
        })
        .collect();
    let days = cfg.horizon_days;
    type Sample = (Vec<f64>, f64, Vec<u32>);
    let rows: Vec<Result<Sample, ScenarioError>> = (0..samples)
        .into_par_iter()
        .map(|i| {
            let mut rng = Rng::new(seed ^ i.wrapping_mul(0xA24B_AED4_963E_E407));
            let mut shocks = Vec::new();
            let mut hit = Vec::new();
            for (ci, (c, h)) in countries.iter().zip(&hazards).enumerate() {
                if rng.f64() < h.probability {
                    let frac = h.fraction.0 + (h.fraction.1 - h.fraction.0) * rng.f64();
                    let dur = h.duration_days.0
                        + rng.below(u64::from(h.duration_days.1 - h.duration_days.0) + 1) as u32;
                    let start = rng.below(u64::from(days.max(2) / 2)) as u32;
                    shocks.push(Shock::CapacityLoss {
                        provider: c.clone(),
                        items: vec!["*".into()],
                        fraction: frac,
                        start_day: start,
                        duration_days: Some(dur),
                        recovery_days: dur / 3,
                    });
                    hit.push(ci as u32);
                }
            }
            let fx = prep.resolve(vc, &shocks)?;
            let sim = prep.simulate(&fx, days, None);
            let mut per = vec![0.0; nc];
            for t in 0..days as usize {
                for (c, p) in per.iter_mut().enumerate() {
                    *p += f64::from(sim.fin[t * nc + c]);
                }
            }
            per.iter_mut().for_each(|p| *p /= f64::from(days));
            let world: f64 = per.iter().zip(&weights).map(|(a, w)| a * w).sum();
            progress();
            Ok((per, world, hit))
        })
        .collect();
    let rows: Vec<Sample> = rows.into_iter().collect::<Result<_, _>>()?;
    let dist = |name: &str, mut v: Vec<f64>| -> Distribution {
        v.sort_by(f64::total_cmp);
        let q = |p: f64| -> f64 {
            if v.is_empty() {
                return 1.0;
            }
            let k = ((v.len() - 1) as f64 * p).round() as usize;
            round6(v[k])
        };
        Distribution {
            country: name.to_string(),
            mean: round6(v.iter().sum::<f64>() / v.len().max(1) as f64),
            p5: q(0.05),
            p50: q(0.5),
            p95: q(0.95),
        }
    };
    let consumers = prep
        .consumers
        .iter()
        .enumerate()
        .map(|(c, con)| dist(&con.country, rows.iter().map(|r| r.0[c]).collect()))
        .collect();
    let world = dist("world", rows.iter().map(|r| r.1).collect());
    let mut loss = vec![0.0; countries.len()];
    let mut count = vec![0u64; countries.len()];
    for (_, w, hit) in &rows {
        let l = (1.0 - w) * f64::from(days);
        for &c in hit {
            loss[c as usize] += l / hit.len() as f64;
            count[c as usize] += 1;
        }
    }
    let n = samples.max(1) as f64;
    let total: f64 = loss.iter().sum();
    let mut contributors: Vec<Contributor> = countries
        .iter()
        .enumerate()
        .map(|(i, c)| Contributor {
            country: c.clone(),
            expected_loss_days: round6(loss[i] / n),
            share: if total > 0.0 {
                round6(loss[i] / total)
            } else {
                0.0
            },
            disrupted_rate: round6(count[i] as f64 / n),
        })
        .collect();
    contributors.sort_by(|a, b| {
        b.expected_loss_days
            .total_cmp(&a.expected_loss_days)
            .then(a.country.cmp(&b.country))
    });
    Ok(RiskResult {
        samples,
        seed,
        horizon_days: days,
        consumers,
        world,
        contributors,
        config: cfg.clone(),
        model: vc.model().meta.name.clone(),
        vintage: vc.model().meta.vintage.clone(),
    })
}

fn round6(v: f64) -> f64 {
    (v * 1e6).round() / 1e6
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn deterministic_for_a_seed_and_sensible() {
        let vc = chipwatch_data::default_model();
        let cfg = RiskConfig {
            horizon_days: 60,
            default: Hazard {
                probability: 0.2,
                ..Hazard::default()
            },
            ..RiskConfig::default()
        };
        let a = monte_carlo(&vc, &cfg, 24, 42, &|| {}).unwrap();
        let b = monte_carlo(&vc, &cfg, 24, 42, &|| {}).unwrap();
        assert_eq!(
            serde_json::to_string(&a).unwrap(),
            serde_json::to_string(&b).unwrap()
        );
        let c = monte_carlo(&vc, &cfg, 24, 43, &|| {}).unwrap();
        assert_ne!(
            serde_json::to_string(&a.world).unwrap(),
            serde_json::to_string(&c.world).unwrap()
        );
        for d in a.consumers.iter().chain([&a.world]) {
            assert!(d.p5 <= d.p50 && d.p50 <= d.p95 && d.p95 <= 1.0, "{d:?}");
            assert!(d.mean > 0.0 && d.mean <= 1.0);
        }
        let s: f64 = a.contributors.iter().map(|c| c.share).sum();
        assert!(s == 0.0 || (s - 1.0).abs() < 1e-4, "{s}");
    }

    #[test]
    fn zero_probability_means_no_loss() {
        let vc = chipwatch_data::default_model();
        let cfg = RiskConfig {
            horizon_days: 30,
            default: Hazard {
                probability: 0.0,
                ..Hazard::default()
            },
            ..RiskConfig::default()
        };
        let r = monte_carlo(&vc, &cfg, 8, 1, &|| {}).unwrap();
        assert_eq!(r.world.mean, 1.0);
        assert!(r.contributors.iter().all(|c| c.expected_loss_days == 0.0));
    }

    #[test]
    fn malformed_config_names_the_field() {
        let e = RiskConfig::from_toml_str("[default]\nprobability = 1.5\n", "r.toml")
            .unwrap_err()
            .to_string();
        assert!(e.contains("default.probability"), "{e}");
        let e = RiskConfig::from_toml_str("[country.TWN]\nfraction = [0.9, 0.1]\n", "r.toml")
            .unwrap_err()
            .to_string();
        assert!(e.contains("country.TWN.fraction"), "{e}");
        let e = RiskConfig::from_toml_str("horizon = 3\n", "r.toml")
            .unwrap_err()
            .to_string();
        assert!(e.contains("line 1") && e.contains("horizon"), "{e}");
    }
}
