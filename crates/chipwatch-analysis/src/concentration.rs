//! Concentration metrics (BRIEF 3.2): HHI, effective number of providers, CRk, countries needed to
//! reach 75%, single points of failure, value-weighted country shares of a set of items, and the
//! bilateral dependence lens.
//!
//! Only the country view of an item enters these metrics; buckets ("Various countries", "EUR")
//! are reported as residuals and never ranked as countries.

use chipwatch_model::{Basis, ItemIdx, LookupError, Share, ValueChain};
use serde::Serialize;
use std::collections::BTreeMap;

/// Default threshold for a single point of failure: one country above 65% (SIA/BCG criterion).
pub const DEFAULT_SPOF_THRESHOLD: f64 = 65.0;
/// ETO's own indicator: how many countries it takes to reach this cumulative share.
pub const CUMULATIVE_TARGET: f64 = 75.0;

/// Metrics of a vector of shares in percent.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Metrics {
    /// Herfindahl-Hirschman index, sum of squared percent shares (0..10000).
    pub hhi: f64,
    /// 10000 / HHI.
    pub effective_providers: f64,
    pub cr1: f64,
    pub cr3: f64,
    /// Smallest k whose top-k sum reaches 75%; `None` if the listed shares never do.
    pub countries_to_75: Option<usize>,
}

/// Compute metrics over shares in percent (any order).
pub fn metrics(shares: &[f64]) -> Metrics {
    let mut s: Vec<f64> = shares.iter().copied().filter(|v| *v > 0.0).collect();
    s.sort_by(|a, b| b.total_cmp(a));
    let hhi: f64 = s.iter().map(|v| v * v).sum();
    let mut cum = 0.0;
    let mut to75 = None;
    for (k, v) in s.iter().enumerate() {
        cum += v;
        // Shares carry one decimal; compare with a tolerance against float noise.
        if cum + 1e-9 >= CUMULATIVE_TARGET {
            to75 = Some(k + 1);
            break;
        }
    }
    Metrics {
        hhi,
        effective_providers: if hhi > 0.0 { 10000.0 / hhi } else { 0.0 },
        cr1: s.first().copied().unwrap_or(0.0),
        cr3: s.iter().take(3).sum(),
        countries_to_75: to75,
    }
}

/// How much we know about an item's country shares.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Coverage {
    /// Every listed country has a number.
    Numeric,
    /// Some countries have numbers, some are listed without one.
    Partial,
    /// Countries are listed, none with a number: nothing is computed.
    ListedWithoutNumbers,
}

/// One row of the chokepoint report.
#[derive(Debug, Clone, Serialize)]
pub struct Chokepoint {
    pub item_id: String,
    pub name: String,
    pub hhi: Option<f64>,
    pub effective_providers: Option<f64>,
    pub cr1: Option<f64>,
    pub cr3: Option<f64>,
    pub top_country: Option<String>,
    pub countries_to_75: Option<usize>,
    pub single_point_of_failure: bool,
    pub coverage: Coverage,
    pub basis: Basis,
    /// Countries with numeric shares, largest first (ISO alpha-3, percent).
    pub countries: Vec<(String, f64)>,
    /// Countries listed without a number.
    pub listed_without_number: Vec<String>,
    /// Share held by buckets ("Various countries", "EUR"): never ranked.
    pub bucket_share: f64,
    pub year: Option<i32>,
    pub sources: Vec<String>,
    /// With countries listed without a number: the HHI over every way of giving them the
    /// unassigned share (lowest: split evenly among them; highest: all to one of them). `hhi`
    /// counts the numbered countries only.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub hhi_range: Option<(f64, f64)>,
    /// The same interval for the largest country's share (CR1).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cr1_range: Option<(f64, f64)>,
}

impl Chokepoint {
    /// Single point of failure as the data allow: `yes` when a country's known share is above
    /// the threshold; `unknown` when countries listed without a number could together hold more
    /// than the threshold (one of them might); `no` otherwise. Missing data is never "no".
    pub fn spof_status(&self, threshold: f64) -> &'static str {
        if self.single_point_of_failure {
            return "yes";
        }
        let known: f64 = self.countries.iter().map(|c| c.1).sum::<f64>() + self.bucket_share;
        if !self.listed_without_number.is_empty() && 100.0 - known > threshold {
            "unknown"
        } else {
            "no"
        }
    }
}

impl Coverage {
    /// Words for users.
    pub fn label(self) -> &'static str {
        match self {
            Coverage::Numeric => "every listed country has a share",
            Coverage::Partial => "some countries listed without a share",
            Coverage::ListedWithoutNumbers => "countries listed without shares (unknown)",
        }
    }
}

/// Options of [`chokepoints`].
#[derive(Debug, Clone, Copy)]
pub struct ChokepointOptions {
    pub threshold: f64,
    /// Restrict to shares of this basis; `None` takes whatever basis an item's shares have.
    pub basis: Option<Basis>,
}

impl Default for ChokepointOptions {
    fn default() -> Self {
        ChokepointOptions {
            threshold: DEFAULT_SPOF_THRESHOLD,
            basis: None,
        }
    }
}

/// The chokepoint report: one row per item (and per stage with stage-level shares) that has
/// country shares, sorted by HHI descending, rows without numbers last.
pub fn chokepoints(vc: &ValueChain, opts: ChokepointOptions) -> Vec<Chokepoint> {
    let mut rows = Vec::new();
    for (i, it) in vc.items() {
        for basis in bases(opts.basis) {
            let shares = vc.country_shares(i, Some(basis));
            if let Some(r) = row(vc, &it.id, &it.name, basis, &shares, opts.threshold) {
                rows.push(r);
            }
        }
    }
    for st in &vc.model().stages {
        for basis in bases(opts.basis) {
            let shares: Vec<&Share> = vc
                .stage_shares(&st.id)
                .into_iter()
                .filter(|s| s.basis == basis)
                .filter(|s| {
                    vc.provider_by_id(&s.provider)
                        .is_some_and(|p| p.in_country_view())
                })
                .collect();
            let name = format!("{} (stage)", st.name);
            if let Some(r) = row(vc, &st.id, &name, basis, &shares, opts.threshold) {
                rows.push(r);
            }
        }
    }
    rows.sort_by(|a, b| {
        b.hhi
            .unwrap_or(-1.0)
            .total_cmp(&a.hhi.unwrap_or(-1.0))
            .then_with(|| a.item_id.cmp(&b.item_id))
    });
    rows
}

fn bases(b: Option<Basis>) -> Vec<Basis> {
    match b {
        Some(b) => vec![b],
        None => vec![Basis::Hq, Basis::Location],
    }
}

fn row(
    vc: &ValueChain,
    id: &str,
    name: &str,
    basis: Basis,
    shares: &[&Share],
    threshold: f64,
) -> Option<Chokepoint> {
    if shares.is_empty() {
        return None;
    }
    let mut countries: Vec<(String, f64)> = Vec::new();
    let mut listed = Vec::new();
    let mut bucket_share = 0.0;
    let mut year = None;
    let mut sources: Vec<String> = Vec::new();
    for s in shares {
        let p = vc.provider_by_id(&s.provider)?;
        year = year.max(s.year);
        if let Some(src) = s.source.as_deref().and_then(|id| vc.source_label(id)) {
            if !sources.iter().any(|x| x == src) {
                sources.push(src.to_string());
            }
        }
        let is_country = p.provider_type == chipwatch_model::ProviderType::Country;
        match (s.share, is_country) {
            (Some(v), true) => countries.push((p.country.clone().unwrap_or(p.name.clone()), v)),
            (Some(v), false) => bucket_share += v,
            (None, true) => listed.push(p.country.clone().unwrap_or(p.name.clone())),
            (None, false) => {}
        }
    }
    countries.sort_by(|a, b| b.1.total_cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
    let coverage = match (countries.is_empty(), listed.is_empty()) {
        (true, true) => return None, // buckets only
        (true, false) => Coverage::ListedWithoutNumbers,
        (false, true) => Coverage::Numeric,
        (false, false) => Coverage::Partial,
    };
    let (m, top) = if countries.is_empty() {
        (None, None)
    } else {
        let v: Vec<f64> = countries.iter().map(|c| c.1).collect();
        (Some(metrics(&v)), Some(countries[0].0.clone()))
    };
    // Unknown shares as an interval: the remainder goes to the listed countries evenly (lowest
    // concentration) or to one of them (highest).
    let (hhi_range, cr1_range) = if listed.is_empty() {
        (None, None)
    } else {
        let known: f64 = countries.iter().map(|c| c.1).sum::<f64>() + bucket_share;
        let rest = (100.0 - known).max(0.0);
        let k = listed.len() as f64;
        let sq: f64 = countries.iter().map(|c| c.1 * c.1).sum();
        let top = countries.first().map_or(0.0, |c| c.1);
        (
            Some((sq + rest * rest / k, sq + rest * rest)),
            Some((top.max(rest / k), top.max(rest))),
        )
    };
    Some(Chokepoint {
        hhi_range,
        cr1_range,
        item_id: id.to_string(),
        name: name.to_string(),
        hhi: m.map(|m| m.hhi),
        effective_providers: m.map(|m| m.effective_providers),
        cr1: m.map(|m| m.cr1),
        cr3: m.map(|m| m.cr3),
        top_country: top,
        countries_to_75: m.and_then(|m| m.countries_to_75),
        single_point_of_failure: m.is_some_and(|m| m.cr1 > threshold),
        coverage,
        basis,
        countries,
        listed_without_number: listed,
        bucket_share,
        year,
        sources,
    })
}

/// Errors of the set-based analytics.
#[derive(Debug, thiserror::Error)]
pub enum AnalysisError {
    #[error(transparent)]
    Lookup(#[from] LookupError),
    #[error(
        "the set mixes `{parent}` with its own variant `{child}`: their market sizes overlap, \
         so the value would be counted twice; drop one of them"
    )]
    ParentWithVariant { parent: String, child: String },
    #[error("no items given")]
    Empty,
    #[error("unknown country `{0}` (use an ISO 3166-1 alpha-3 code the model has, e.g. KOR)")]
    UnknownCountry(String),
}

/// Result of [`value_share`].
#[derive(Debug, Clone, Serialize)]
pub struct ValueShare {
    pub items: Vec<ValueShareItem>,
    /// Country -> value-weighted share in percent, largest first.
    pub shares: Vec<(String, f64)>,
    /// Value-weighted share of buckets ("Various countries", "EUR").
    pub bucket_share: f64,
    /// Value of items with numeric country shares / value of all items with a market size.
    pub coverage: f64,
    pub covered_value_usd: f64,
    pub total_value_usd: f64,
    pub assumption: &'static str,
}

/// One item's contribution to a [`ValueShare`].
#[derive(Debug, Clone, Serialize)]
pub struct ValueShareItem {
    pub item_id: String,
    pub name: String,
    pub market_size_usd: Option<f64>,
    pub year: Option<i32>,
    pub basis: Option<Basis>,
    /// Whether this item's country shares entered the weighted share.
    pub covered: bool,
}

/// Value-weighted country shares over a non-overlapping set of items:
/// sum_s V_s share_{c,s} / sum_s V_s over the items that have a market size and numeric shares.
pub fn value_share(vc: &ValueChain, queries: &[String]) -> Result<ValueShare, AnalysisError> {
    if queries.is_empty() {
        return Err(AnalysisError::Empty);
    }
    let mut idx: Vec<ItemIdx> = Vec::new();
    for q in queries {
        let i = vc.find_item(q)?;
        if !idx.contains(&i) {
            idx.push(i);
        }
    }
    for &i in &idx {
        for a in vc.ancestors(i) {
            if idx.contains(&a) {
                return Err(AnalysisError::ParentWithVariant {
                    parent: format!("{} ({})", vc.item(a).id, vc.item(a).name),
                    child: format!("{} ({})", vc.item(i).id, vc.item(i).name),
                });
            }
        }
    }
    let mut acc: BTreeMap<String, f64> = BTreeMap::new();
    let mut bucket = 0.0;
    let mut covered_value = 0.0;
    let mut total_value = 0.0;
    let mut items = Vec::new();
    for &i in &idx {
        let it = vc.item(i);
        let v = it.market_size.as_ref().map(|m| m.usd);
        let shares = vc.country_shares(i, None);
        let numeric: Vec<&&Share> = shares.iter().filter(|s| s.share.is_some()).collect();
        let covered = v.is_some() && !numeric.is_empty();
        if let Some(v) = v {
            total_value += v;
            if covered {
                covered_value += v;
                for s in &numeric {
                    let p = vc.provider_by_id(&s.provider).expect("indexed share");
                    let pct = s.share.unwrap_or(0.0);
                    if p.provider_type == chipwatch_model::ProviderType::Country {
                        *acc.entry(p.country.clone().unwrap_or(p.name.clone()))
                            .or_default() += v * pct;
                    } else {
                        bucket += v * pct;
                    }
                }
            }
        }
        items.push(ValueShareItem {
            item_id: it.id.clone(),
            name: it.name.clone(),
            market_size_usd: v,
            year: it.market_size.as_ref().and_then(|m| m.year),
            basis: shares.first().map(|s| s.basis),
            covered,
        });
    }
    let mut out: Vec<(String, f64)> = acc
        .into_iter()
        .map(|(c, x)| {
            (
                c,
                if covered_value > 0.0 {
                    x / covered_value
                } else {
                    0.0
                },
            )
        })
        .collect();
    out.sort_by(|a, b| b.1.total_cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
    Ok(ValueShare {
        items,
        shares: out,
        bucket_share: if covered_value > 0.0 {
            bucket / covered_value
        } else {
            0.0
        },
        coverage: if total_value > 0.0 {
            covered_value / total_value
        } else {
            0.0
        },
        covered_value_usd: covered_value,
        total_value_usd: total_value,
        assumption: "weights are the items' market sizes (USD, each at its own vintage); items \
                     without a market size or without numeric country shares are left out of \
                     the weighted share and counted in coverage",
    })
}

/// One row of [`dependence`].
#[derive(Debug, Clone, Serialize)]
pub struct Dependence {
    pub item_id: String,
    pub name: String,
    /// Supplier country's share of the global market, percent.
    pub supplier_share: f64,
    /// Consumer country's own share (0 when it is not a provider).
    pub consumer_share: f64,
    /// Supplier's share of what the consumer must import, assuming it first uses its own supply:
    /// supplier / (100 - consumer own share), capped at 100.
    pub import_share: f64,
    pub market_size_usd: Option<f64>,
    pub year: Option<i32>,
    pub basis: Basis,
}

/// Items for which `supplier` holds at least `min_share` percent of the global market, seen from
/// `consumer` (who is assumed to buy at global shares after using its own production).
pub fn dependence(
    vc: &ValueChain,
    consumer: &str,
    supplier: &str,
    min_share: f64,
) -> Result<Vec<Dependence>, AnalysisError> {
    let consumer = consumer.to_ascii_uppercase();
    let supplier = supplier.to_ascii_uppercase();
    for c in [&consumer, &supplier] {
        if vc.country_provider(c).is_none() {
            return Err(AnalysisError::UnknownCountry(c.clone()));
        }
    }
    let mut out = Vec::new();
    for (i, it) in vc.items() {
        for basis in [Basis::Hq, Basis::Location] {
            let shares = vc.country_shares(i, Some(basis));
            let get = |c: &str| {
                shares
                    .iter()
                    .find(|s| {
                        vc.provider_by_id(&s.provider)
                            .is_some_and(|p| p.country.as_deref() == Some(c))
                    })
                    .and_then(|s| s.share)
            };
            let Some(sup) = get(&supplier) else { continue };
            if sup + 1e-9 < min_share {
                continue;
            }
            let cons = get(&consumer).unwrap_or(0.0);
            let rest = (100.0 - cons).max(0.0);
            out.push(Dependence {
                item_id: it.id.clone(),
                name: it.name.clone(),
                supplier_share: sup,
                consumer_share: cons,
                import_share: if rest > 0.0 {
                    (sup / rest * 100.0).min(100.0)
                } else {
                    0.0
                },
                market_size_usd: it.market_size.as_ref().map(|m| m.usd),
                year: shares.iter().filter_map(|s| s.year).max(),
                basis,
            });
        }
    }
    out.sort_by(|a, b| {
        b.supplier_share
            .total_cmp(&a.supplier_share)
            .then_with(|| {
                b.market_size_usd
                    .unwrap_or(0.0)
                    .total_cmp(&a.market_size_usd.unwrap_or(0.0))
            })
            .then_with(|| a.item_id.cmp(&b.item_id))
    });
    Ok(out)
}

/// Market value of the items of a [`dependence`] answer without double counting: each item once
/// (an item can have an HQ-based and a location-based row), and an item none of whose taxonomy
/// ancestors is also listed (the parent's market size already contains its variants', so a
/// parent and its variants are never added). Returns the value, the items counted and the ids left
/// out as variants of a listed parent. Items without a market size add nothing and are counted in
/// `unknown` by the caller.
pub fn dependence_value(vc: &ValueChain, rows: &[Dependence]) -> (f64, Vec<String>, Vec<String>) {
    let mut ids: Vec<&str> = rows.iter().map(|r| r.item_id.as_str()).collect();
    ids.sort_unstable();
    ids.dedup();
    let idx: Vec<ItemIdx> = ids.iter().filter_map(|id| vc.find_item(id).ok()).collect();
    let mut total = 0.0;
    let mut counted = Vec::new();
    let mut variants = Vec::new();
    for &i in &idx {
        let it = vc.item(i);
        if vc.ancestors(i).iter().any(|a| idx.contains(a)) {
            variants.push(it.id.clone());
            continue;
        }
        if let Some(m) = &it.market_size {
            total += m.usd;
        }
        counted.push(it.id.clone());
    }
    (total, counted, variants)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn metrics_by_hand() {
        let m = metrics(&[50.0, 30.0, 20.0]);
        assert_eq!(m.hhi, 2500.0 + 900.0 + 400.0);
        assert!((m.effective_providers - 10000.0 / 3800.0).abs() < 1e-12);
        assert_eq!(m.cr1, 50.0);
        assert_eq!(m.cr3, 100.0);
        assert_eq!(m.countries_to_75, Some(2));
        let m = metrics(&[100.0]);
        assert_eq!(
            (m.hhi, m.effective_providers, m.countries_to_75),
            (10000.0, 1.0, Some(1))
        );
        let m = metrics(&[30.0, 20.0]);
        assert_eq!(m.countries_to_75, None);
        let m = metrics(&[]);
        assert_eq!((m.hhi, m.effective_providers, m.cr1), (0.0, 0.0, 0.0));
    }

    /// Partial data: KOR 40% known, JPN and USA listed without numbers share the other 60%:
    /// HHI from 1600 + 2 x 30^2 = 3400 to 1600 + 60^2 = 5200, CR1 from 40 to 60.
    #[test]
    fn unknown_shares_give_intervals() {
        use chipwatch_model::{Item, Model, Provider, ProviderType, Share};
        let mut m = Model::default();
        m.items.push(Item {
            id: "N1".into(),
            name: "x".into(),
            kind: chipwatch_model::ItemKind::Material,
            stage: None,
            is_type_of: vec![],
            goes_into: vec![],
            market_size: None,
            year: None,
            hs_codes: vec![],
            control_entries: vec![],
            parameters: Default::default(),
        });
        for (id, iso, v) in [
            ("PK", "KOR", Some(40.0)),
            ("PJ", "JPN", None),
            ("PU", "USA", None),
        ] {
            m.providers.push(Provider {
                id: id.into(),
                name: iso.into(),
                provider_type: ProviderType::Country,
                country: Some(iso.into()),
                aliases: vec![],
                bucket_of: None,
            });
            m.shares.push(Share {
                provider: id.into(),
                item: "N1".into(),
                share: v,
                year: Some(2022),
                source: None,
                basis: Basis::Hq,
            });
        }
        let vc = chipwatch_model::ValueChain::new(m).unwrap();
        let rows = chokepoints(&vc, ChokepointOptions::default());
        let r = rows.iter().find(|r| r.item_id == "N1").unwrap();
        assert_eq!(r.hhi_range, Some((3400.0, 5200.0)));
        assert_eq!(r.cr1_range, Some((40.0, 60.0)));
        assert_eq!(r.spof_status(65.0), "no");
        assert_eq!(r.spof_status(50.0), "unknown");
    }

    #[test]
    fn missing_shares_make_a_single_point_of_failure_unknown_not_no() {
        let mut r = Chokepoint {
            item_id: "N1".into(),
            name: "x".into(),
            hhi: None,
            effective_providers: None,
            cr1: None,
            cr3: None,
            top_country: None,
            countries_to_75: None,
            single_point_of_failure: false,
            coverage: Coverage::ListedWithoutNumbers,
            basis: Basis::Hq,
            countries: vec![],
            listed_without_number: vec!["JPN".into(), "USA".into()],
            bucket_share: 0.0,
            year: None,
            sources: vec![],
            hhi_range: None,
            cr1_range: None,
        };
        assert_eq!(r.spof_status(65.0), "unknown");
        // 40% known: the listed countries share 60%, so none can be above 65%.
        r.countries = vec![("KOR".into(), 40.0)];
        r.coverage = Coverage::Partial;
        assert_eq!(r.spof_status(65.0), "no");
        r.countries = vec![("KOR".into(), 30.0)];
        assert_eq!(r.spof_status(65.0), "unknown");
        r.listed_without_number.clear();
        assert_eq!(r.spof_status(65.0), "no");
        r.single_point_of_failure = true;
        assert_eq!(r.spof_status(65.0), "yes");
    }

    #[test]
    fn metrics_do_not_depend_on_order() {
        let a = metrics(&[10.0, 70.0, 20.0]);
        let b = metrics(&[70.0, 20.0, 10.0]);
        assert_eq!(a, b);
    }
}
