//! Watchlists and alerts. A watchlist file names items, providers and countries; an event that
//! touches a watched node raises an alert. A watched item covers its taxonomy variants and the
//! items it is a variant of (watching lithography tools catches an ArF-immersion event). Alerts
//! print as JSON lines and can be posted to a webhook.

use crate::detect::Classified;
use crate::impact::Impact;
use crate::MonitorError;
use chipwatch_model::ValueChain;
use serde::{Deserialize, Serialize};
use std::collections::BTreeSet;

/// The watchlist file.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WatchConfig {
    /// Webhook URL alerts are POSTed to (JSON), optional.
    #[serde(default)]
    pub webhook: Option<String>,
    /// Events below this severity raise no alert (default 0: all relevant events).
    #[serde(default)]
    pub min_severity: f64,
    /// Attach a scenario-engine impact estimate to alerts whose event type maps to a shock.
    #[serde(default = "yes")]
    pub impact: bool,
    #[serde(rename = "watch")]
    pub watches: Vec<Watch>,
}

fn yes() -> bool {
    true
}

/// One watchlist entry.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct Watch {
    pub name: String,
    #[serde(default)]
    pub items: Vec<String>,
    #[serde(default)]
    pub providers: Vec<String>,
    #[serde(default)]
    pub countries: Vec<String>,
    /// Only these event types (empty: all).
    #[serde(default)]
    pub event_types: Vec<String>,
}

/// A watchlist resolved against the model.
#[derive(Debug, Clone)]
pub struct Watchlist {
    pub config: WatchConfig,
    /// Per watch: the item ids it covers (with taxonomy relatives).
    items: Vec<BTreeSet<String>>,
}

/// An alert.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Alert {
    pub watch: String,
    /// What matched: `item:N22`, `provider:P88`, `country:CHN`.
    pub matched: Vec<String>,
    pub event_type: String,
    pub severity: f64,
    pub title: String,
    pub url: Option<String>,
    pub source: String,
    pub cluster_id: Option<String>,
    pub seen_at: Option<String>,
    pub published_at: Option<String>,
    pub actors: crate::detect::Actors,
    pub items: Vec<String>,
    pub evidence: Vec<String>,
    /// Scenario-engine estimate, for event types that map to shocks.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub impact: Option<Impact>,
    /// Why there is no impact estimate, when there is none.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub impact_note: Option<String>,
}

impl Watchlist {
    /// Parse and resolve a watchlist; unknown item or provider ids are errors naming the entry.
    pub fn from_toml_str(text: &str, file: &str, vc: &ValueChain) -> Result<Self, MonitorError> {
        let config: WatchConfig = toml::from_str(text).map_err(|e| MonitorError::Config {
            file: file.to_string(),
            message: e.to_string(),
        })?;
        let mut items = Vec::new();
        for w in &config.watches {
            let mut set = BTreeSet::new();
            for id in w.items.iter() {
                let idx = vc.find_item(id).map_err(|e| MonitorError::Config {
                    file: file.to_string(),
                    message: format!("watch `{}`: field `items`: {e}", w.name),
                })?;
                set.insert(vc.item(idx).id.clone());
                for d in vc.descendants(idx).into_iter().chain(vc.ancestors(idx)) {
                    set.insert(vc.item(d).id.clone());
                }
            }
            for p in &w.providers {
                if vc.provider_by_id(p).is_none() && !p.starts_with("ext:") {
                    return Err(MonitorError::Config {
                        file: file.to_string(),
                        message: format!(
                            "watch `{}`: field `providers`: unknown provider id `{p}`",
                            w.name
                        ),
                    });
                }
            }
            items.push(set);
        }
        Ok(Watchlist { config, items })
    }

    /// The watches an event touches, with what matched.
    pub fn matches(&self, c: &Classified) -> Vec<(&Watch, Vec<String>)> {
        if !c.relevant || c.severity < self.config.min_severity {
            return Vec::new();
        }
        let mut out = Vec::new();
        for (w, items) in self.config.watches.iter().zip(&self.items) {
            if !w.event_types.is_empty() && !w.event_types.contains(&c.event_type) {
                continue;
            }
            let mut m = Vec::new();
            for i in c.items.iter() {
                if items.contains(i) {
                    m.push(format!("item:{i}"));
                }
            }
            for o in &c.organisations {
                if w.providers
                    .iter()
                    .any(|p| Some(p) == o.provider_id.as_ref() || *p == o.id)
                {
                    m.push(format!("provider:{}", o.id));
                }
            }
            let mut countries: Vec<&String> = c
                .actors
                .imposing
                .iter()
                .chain(&c.actors.target)
                .chain(&c.locations)
                .collect();
            countries.dedup();
            for k in countries {
                if w.countries.contains(k) && !m.contains(&format!("country:{k}")) {
                    m.push(format!("country:{k}"));
                }
            }
            if !m.is_empty() {
                out.push((w, m));
            }
        }
        out
    }
}

impl Alert {
    pub fn new(watch: &Watch, matched: Vec<String>, c: &Classified) -> Alert {
        Alert {
            watch: watch.name.clone(),
            matched,
            event_type: c.event_type.clone(),
            severity: c.severity,
            title: c.title.clone(),
            url: c.url.clone(),
            source: c.source.clone(),
            cluster_id: c.cluster_id.clone(),
            seen_at: c.seen_at.clone(),
            published_at: c.published_at.clone(),
            actors: c.actors.clone(),
            items: c.items.clone(),
            evidence: c.evidence.clone(),
            impact: None,
            impact_note: None,
        }
    }
}
