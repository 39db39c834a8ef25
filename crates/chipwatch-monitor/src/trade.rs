//! Trade signals as monitor events: an alert of the trade statistics (`chipwatch-trade`: a flow
//! that stops or collapses, an import surge, a surge with a unit-price drop) becomes a
//! [`Classified`] event, so it joins the news events in the same store, the same watchlists, the
//! same alert stream and webhooks, and the same dashboard.
//!
//! This crate does not depend on the trade engine (DataFusion): callers convert their alerts into
//! [`TradeSignal`]s. What the conversion decides, documented in `docs/trade.md`:
//!
//! - event type `trade_<kind>` ([`TRADE_EVENT_TYPES`]); the importer is the affected country
//!   (`actors.target`), the exporter the country the goods come from (`locations`), so a watch on
//!   either country matches; model items come from the HS mapping;
//! - the event date is the first day of the month that alerted (`published_at`, with
//!   `published_at_source = "trade period"`), never the time the statistics were read;
//! - severity = kind weight ([`kind_weight`]) × (0.5 + 0.5 × the exporter's share of the
//!   importer's imports of the code over the twelve months before); an unknown share counts as
//!   1 (the worst case, never the harmless one);
//! - an impact estimate for stops and collapses: an export block of the code's model items from
//!   the exporter to the importer, of the whole flow (stop) or of the part lost year on year
//!   (collapse). A code that covers more than the item makes this an upper bound; the
//!   assumption is echoed in the impact.
//!
//! Identity: one signal is one stored event, keyed by dataset, kind, importer, exporter, code
//! and month (`canonical_url` `trade:…`), so re-running the alerts over a grown dataset stores
//! only what is new.

use crate::detect::{Actors, Classified};
use crate::impact::{self, Impact};
use crate::MonitorError;
use chipwatch_analysis::scenario::Shock;
use chipwatch_model::ValueChain;
use serde::{Deserialize, Serialize};

/// Event types of trade signals, beside the news event types of
/// [`crate::gazetteer::EVENT_TYPES`].
pub const TRADE_EVENT_TYPES: &[&str] = &[
    "trade_stop",
    "trade_collapse",
    "trade_surge",
    "trade_surge_price_drop",
];

/// Whether `t` is an event type the monitor knows: a news type or a trade type.
pub fn known_event_type(t: &str) -> bool {
    crate::gazetteer::EVENT_TYPES.contains(&t) || TRADE_EVENT_TYPES.contains(&t)
}

/// One alert of the trade statistics.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TradeSignal {
    /// `stop`, `collapse`, `surge` or `surge_price_drop`.
    pub kind: String,
    /// Importer, ISO alpha-3.
    pub importer: String,
    /// Exporter, ISO alpha-3.
    pub exporter: String,
    /// Commodity code (digits).
    pub code: String,
    /// What the code is (from the HS mapping), if known.
    pub label: Option<String>,
    pub year: i32,
    pub month: u8,
    /// Value in the month that alerted.
    pub value: f64,
    /// Value twelve months before.
    pub value_year_before: f64,
    /// Currency of the values.
    pub currency: String,
    /// Year-on-year log change (none for a stop).
    pub log_change: Option<f64>,
    /// Robust z-score (none for a stop).
    pub z: Option<f64>,
    /// The exporter's share (0–1) of the importer's imports of the code over the twelve months
    /// before, when known.
    pub share_of_imports: Option<f64>,
    /// Model items of the code.
    pub items: Vec<String>,
    /// Dataset: `baci`, `comtrade`, `comext`, or a generated dataset's name.
    pub dataset: String,
    /// Vintage of the dataset, when known.
    pub vintage: Option<String>,
}

/// Weight of a kind in the severity: a stop is the strongest signal of a disruption.
pub fn kind_weight(kind: &str) -> f64 {
    match kind {
        "stop" => 0.8,
        "collapse" => 0.6,
        "surge_price_drop" => 0.5,
        _ => 0.3,
    }
}

/// A value with its currency, in k, M or bn.
pub fn money(v: f64, cur: &str) -> String {
    let a = v.abs();
    let (x, unit) = if a >= 1e9 {
        (v / 1e9, "bn")
    } else if a >= 1e6 {
        (v / 1e6, "M")
    } else if a >= 1e3 {
        (v / 1e3, "k")
    } else {
        (v, "")
    };
    format!("{cur} {x:.1}{unit}")
}

fn pct(x: f64) -> String {
    format!("{:+.0}%", (x.exp() - 1.0) * 100.0)
}

impl TradeSignal {
    /// The month as `YYYY-MM`.
    pub fn period(&self) -> String {
        format!("{}-{:02}", self.year, self.month)
    }

    /// The stable key of this signal (stored as the event's canonical URL).
    pub fn key(&self) -> String {
        format!(
            "trade:{}/{}/{}/{}/{}/{}",
            self.dataset,
            self.kind,
            self.importer,
            self.exporter,
            self.code,
            self.period()
        )
    }

    fn what(&self) -> String {
        match &self.label {
            Some(l) => format!("{} ({})", self.code, l),
            None => format!("HS {}", self.code),
        }
    }

    /// One English sentence saying what the statistics show.
    pub fn summary(&self) -> String {
        let what = self.what();
        let (imp, exp, p) = (&self.importer, &self.exporter, self.period());
        let before = money(self.value_year_before, &self.currency);
        let share = self
            .share_of_imports
            .map(|s| {
                format!(
                    "; {exp} supplied {:.0}% of {imp}'s imports of the code over the previous twelve months",
                    s * 100.0
                )
            })
            .unwrap_or_default();
        match self.kind.as_str() {
            "stop" => format!(
                "{imp}'s imports of {what} from {exp} stopped in {p}: no trade recorded that month after at least twelve months with trade ({before} in the same month a year before){share}."
            ),
            "collapse" => format!(
                "{imp}'s imports of {what} from {exp} collapsed in {p}: {} against {before} a year before ({}, robust z {:.1}){share}.",
                money(self.value, &self.currency),
                self.log_change.map(pct).unwrap_or_default(),
                self.z.unwrap_or(f64::NAN)
            ),
            "surge_price_drop" => format!(
                "{imp}'s imports of {what} from {exp} surged in quantity in {p} ({} year on year, robust z {:.1}) while the unit value fell; value {} against {before} a year before{share}.",
                self.log_change.map(pct).unwrap_or_default(),
                self.z.unwrap_or(f64::NAN),
                money(self.value, &self.currency)
            ),
            _ => format!(
                "{imp}'s imports of {what} from {exp} surged in {p}: {} against {before} a year before ({}, robust z {:.1}){share}.",
                money(self.value, &self.currency),
                self.log_change.map(pct).unwrap_or_default(),
                self.z.unwrap_or(f64::NAN)
            ),
        }
    }

    /// Severity in 0–1 (module docs).
    pub fn severity(&self) -> f64 {
        let share = self.share_of_imports.unwrap_or(1.0).clamp(0.0, 1.0);
        let s = kind_weight(&self.kind) * (0.5 + 0.5 * share);
        (s * 1000.0).round() / 1000.0
    }

    /// The signal as a monitor event.
    pub fn classified(&self) -> Classified {
        let summary = self.summary();
        let provenance = format!(
            "Source: trade statistics `{}`{}, {} flows as declared by the importer (BACI: reconciled flows); alert test of docs/trade.md.",
            self.dataset,
            self.vintage
                .as_deref()
                .map(|v| format!(" (vintage {v})"))
                .unwrap_or_default(),
            self.code
        );
        let key = self.key();
        Classified {
            source: format!("trade:{}", self.dataset),
            url: None,
            title: summary.clone(),
            language: "en".into(),
            seen_at: None,
            published_at: Some(format!("{}-{:02}-01", self.year, self.month)),
            published_at_source: Some("trade period".into()),
            relevant: true,
            event_type: format!("trade_{}", self.kind),
            status: Some("observed".into()),
            polarity: None,
            certainty: 1.0,
            countries: vec![self.importer.clone(), self.exporter.clone()],
            actors: Actors {
                imposing: Vec::new(),
                target: vec![self.importer.clone()],
            },
            organisations: Vec::new(),
            items: self.items.clone(),
            severity: self.severity(),
            cluster_id: None,
            evidence: vec![summary.clone(), provenance],
            other_event_types: Vec::new(),
            summary: Some(summary),
            learned: None,
            people: Vec::new(),
            locations: vec![self.exporter.clone()],
            dates: vec![self.period()],
            quantities: vec![
                money(self.value, &self.currency),
                money(self.value_year_before, &self.currency),
            ],
            content_hash: crate::article::content_hash(&key, ""),
            canonical_url: Some(key),
            warnings: Vec::new(),
        }
    }

    /// Shocks for the scenario engine, with the assumptions that made them, or why there are
    /// none.
    pub fn shocks(&self) -> Result<(Vec<Shock>, Vec<String>), String> {
        if self.items.is_empty() {
            return Err(format!(
                "code {} maps to no item of the model (data/hs/mapping.toml)",
                self.code
            ));
        }
        let fraction = match self.kind.as_str() {
            "stop" => None,
            "collapse" => {
                if self.value_year_before <= 0.0 {
                    return Err("no value a year before to measure the collapse against".into());
                }
                Some((1.0 - self.value / self.value_year_before).clamp(0.0, 1.0))
            }
            k => return Err(format!("a trade {k} does not map to a supply shock")),
        };
        let part = fraction
            .map(|f| format!("{:.0}% of the flows (the year-on-year fall)", f * 100.0))
            .unwrap_or_else(|| "all flows".into());
        let notes = vec![format!(
            "trade {}: {part} of {} from {} to {} stop from day 0 until the horizon, as seen in the statistics for {}; the code may cover more than the model items, so this is an upper bound",
            self.kind,
            self.items.join(", "),
            self.exporter,
            self.importer,
            self.period()
        )];
        Ok((
            vec![Shock::ExportBlock {
                from: vec![self.exporter.clone()],
                to: vec![self.importer.clone()],
                items: self.items.clone(),
                start_day: 0,
                duration_days: None,
                fraction,
            }],
            notes,
        ))
    }

    /// Impact estimate on the model (stops and collapses). An exporter the model does not list
    /// as a supplier is a gap between the model and the statistics, and said so, not an error of
    /// the shock.
    pub fn impact(&self, c: &Classified, vc: &ValueChain) -> Result<Impact, MonitorError> {
        let (shocks, notes) = self.shocks().map_err(MonitorError::Impact)?;
        if vc.country_provider(&self.exporter).is_none() {
            return Err(MonitorError::Impact(format!(
                "the model lists no supplier in {exp}, although the statistics show {exp} supplying {imp}{share}: no impact can be estimated (a gap between the model and the trade statistics)",
                exp = self.exporter,
                imp = self.importer,
                share = self
                    .share_of_imports
                    .map(|s| format!(" with {:.0}% of its imports of {}", s * 100.0, self.code))
                    .unwrap_or_default(),
            )));
        }
        impact::estimate_shocks(c, vc, shocks, notes)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn signal(kind: &str) -> TradeSignal {
        TradeSignal {
            kind: kind.into(),
            importer: "JPN".into(),
            exporter: "CHN".into(),
            code: "811292".into(),
            label: Some("gallium and germanium".into()),
            year: 2023,
            month: 8,
            value: if kind == "stop" { 0.0 } else { 250_000.0 },
            value_year_before: 1_000_000.0,
            currency: "USD".into(),
            log_change: (kind != "stop").then(|| 0.25f64.ln()),
            z: (kind != "stop").then_some(-6.2),
            share_of_imports: Some(0.6),
            items: vec!["N70".into()],
            dataset: "baci".into(),
            vintage: Some("V202401".into()),
        }
    }

    #[test]
    fn a_stop_is_an_event_of_the_importer_with_its_date_and_key() {
        let s = signal("stop");
        let c = s.classified();
        assert_eq!(c.event_type, "trade_stop");
        assert!(c.relevant);
        assert_eq!(c.actors.target, vec!["JPN"]);
        assert_eq!(c.locations, vec!["CHN"]);
        assert_eq!(c.published_at.as_deref(), Some("2023-08-01"));
        assert_eq!(
            c.canonical_url.as_deref(),
            Some("trade:baci/stop/JPN/CHN/811292/2023-08")
        );
        assert!(c.title.starts_with(
            "JPN's imports of 811292 (gallium and germanium) from CHN stopped in 2023-08"
        ));
        assert!(
            c.title.contains("CHN supplied 60% of JPN's imports"),
            "{}",
            c.title
        );
        // 0.8 x (0.5 + 0.5 x 0.6)
        assert!((c.severity - 0.64).abs() < 1e-9);
        assert!(known_event_type(&c.event_type));
        // The same signal is the same event; another month is another.
        let mut later = s.clone();
        later.month = 9;
        assert_eq!(s.classified().content_hash, c.content_hash);
        assert_ne!(later.classified().content_hash, c.content_hash);
    }

    #[test]
    fn an_exporter_the_model_does_not_know_is_a_named_gap_and_a_known_one_runs() {
        let vc = chipwatch_data::default_model();
        let mut s = signal("stop");
        s.exporter = "MDA".into();
        s.items = vec!["N22".into()];
        let err = s.impact(&s.classified(), &vc).unwrap_err().to_string();
        assert!(
            err.contains("lists no supplier in MDA") && err.contains("60%"),
            "{err}"
        );
        s.exporter = "NLD".into();
        s.importer = "CHN".into();
        let i = s.impact(&s.classified(), &vc).unwrap();
        assert!(i.consumers.iter().any(|c| c.country == "CHN"), "{i:?}");
    }

    #[test]
    fn an_unknown_share_counts_as_the_worst_case() {
        let mut s = signal("collapse");
        s.share_of_imports = None;
        assert!((s.severity() - 0.6).abs() < 1e-9);
        s.share_of_imports = Some(0.0);
        assert!((s.severity() - 0.3).abs() < 1e-9);
    }

    #[test]
    fn stops_and_collapses_map_to_export_blocks_surges_do_not() {
        let (shocks, notes) = signal("stop").shocks().unwrap();
        match &shocks[0] {
            Shock::ExportBlock {
                from, to, fraction, ..
            } => {
                assert_eq!((from[0].as_str(), to[0].as_str()), ("CHN", "JPN"));
                assert_eq!(*fraction, None);
            }
            s => panic!("{s:?}"),
        }
        assert!(notes[0].contains("upper bound"));
        let (shocks, _) = signal("collapse").shocks().unwrap();
        match &shocks[0] {
            Shock::ExportBlock { fraction, .. } => {
                assert!((fraction.unwrap() - 0.75).abs() < 1e-9)
            }
            s => panic!("{s:?}"),
        }
        assert!(signal("surge").shocks().is_err());
        let mut none = signal("stop");
        none.items.clear();
        assert!(none.shocks().unwrap_err().contains("maps to no item"));
    }
}
