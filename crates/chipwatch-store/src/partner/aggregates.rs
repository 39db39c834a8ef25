//! Country aggregates that cannot be differenced (docs/partner-exchange.md, "Aggregates").
//!
//! A country-granularity agreement releases sums per (item, metric, country, unit, period). Three
//! rules keep a single firm's figure from being read off them:
//!
//! 1. **Distinct firms by normalised identity** ([`normalise_firm`]): case, width, punctuation,
//!    spacing and legal forms (`Co., Ltd.`, `Inc.`, `B.V.`, `GmbH`, `株式会社`, `有限公司`, ...)
//!    are ignored, so `SK hynix`, `SK Hynix Inc.` and `ＳＫ-HYNIX` are one firm; its records are
//!    summed into one contribution. A group needs `min_firms` such firms.
//! 2. **Dominance**: no firm's contribution may exceed `max_firm_share` of the group's total
//!    (by absolute value; default [`DEFAULT_MAX_FIRM_SHARE`]), else the group is suppressed.
//! 3. **No differencing over time**: every figure released is remembered with its composition
//!    (firm → contribution; table `aggregate_releases`). A new figure is released only when its
//!    composition differs from *every* earlier release of that group under that agreement in at
//!    least `k = min_firms` firms (added, removed, or with a changed figure); otherwise the latest
//!    earlier release is served again (`current: false`, with its `as_of` time).
//!
//! Guarantee (per agreement and group): any two figures the grantee can obtain are either equal
//! or differ by the contributions of at least `min_firms` distinct firms — the same protection a
//! single release gives — and every figure has at least `min_firms` distinct firms, none above
//! `max_firm_share` of the total. Not covered: several grantees pooling what different agreements
//! released to them, and contributors recognisable only through a translation of their name
//! (`Tokyo Electron` vs `東京エレクトロン`): grant country agreements with care.

use super::policy::{agreement_covers, distribution_allows, Viewer};
use super::{Agreement, Granularity, Record};
use crate::{audit, col, Store, StoreError};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// Default dominance threshold: no firm above 60% of a group's total.
pub const DEFAULT_MAX_FIRM_SHARE: f64 = 0.6;

/// Legal-form words dropped at the end of a Latin-script name (after dots are removed, so
/// `B.V.` is `bv`).
const LEGAL_FORMS: &[&str] = &[
    "co",
    "company",
    "corp",
    "corporation",
    "inc",
    "incorporated",
    "ltd",
    "limited",
    "llc",
    "llp",
    "lp",
    "plc",
    "gmbh",
    "mbh",
    "ag",
    "kg",
    "se",
    "bv",
    "nv",
    "sa",
    "sas",
    "spa",
    "srl",
    "ab",
    "as",
    "asa",
    "oy",
    "kk",
    "pte",
    "pty",
    "holding",
    "holdings",
    "group",
];

/// Legal forms in CJK scripts, prefix or suffix (longest first).
const CJK_FORMS: &[&str] = &[
    "股份有限公司",
    "有限责任公司",
    "有限責任公司",
    "有限公司",
    "株式会社",
    "有限会社",
    "주식회사",
    "(주)",
    "㈜",
    "集团",
    "集團",
    "公司",
];

/// The identity a provider name is counted under: lower case, full-width folded, punctuation
/// and spaces removed, legal forms dropped. Empty when nothing identifying is left.
pub fn normalise_firm(name: &str) -> String {
    let folded: String = name
        .chars()
        .map(|c| match c {
            '\u{FF01}'..='\u{FF5E}' => char::from_u32(c as u32 - 0xFEE0).unwrap_or(c),
            '\u{3000}' => ' ',
            _ => c,
        })
        .collect::<String>()
        .to_lowercase();
    let mut s = folded;
    for f in CJK_FORMS {
        s = s.replace(f, " ");
    }
    // Dots and apostrophes join (`b.v.` -> `bv`); every other non-alphanumeric separates.
    let cleaned: String = s
        .chars()
        .filter(|c| !matches!(c, '.' | '\'' | '\u{2019}'))
        .map(|c| if c.is_alphanumeric() { c } else { ' ' })
        .collect();
    let mut toks: Vec<&str> = cleaned.split_whitespace().collect();
    while toks.len() > 1 && toks.last().is_some_and(|t| LEGAL_FORMS.contains(t)) {
        toks.pop();
    }
    while toks.len() > 1 && toks[0] == "the" {
        toks.remove(0);
    }
    toks.concat()
}

/// A country-level figure released under a country-granularity agreement.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Aggregate {
    pub agreement_id: i64,
    pub grantor_org_id: i64,
    pub item: String,
    pub metric: String,
    pub country: String,
    pub unit: Option<String>,
    pub period: Option<String>,
    pub value_sum: f64,
    /// Distinct firms (by normalised identity) contributing; always >= `min_firms`.
    pub firms: usize,
    /// When this figure was first released (unix seconds).
    pub as_of: i64,
    /// Whether the figure reflects the current records (false: too few firms changed since
    /// the last release to release a new figure without exposing a single firm's change).
    pub current: bool,
}

/// One group's current composition under one agreement.
#[derive(Debug, Clone, PartialEq)]
pub struct Candidate {
    pub agreement_id: i64,
    pub grantor_org_id: i64,
    pub item: String,
    pub metric: String,
    pub country: String,
    pub unit: Option<String>,
    pub period: Option<String>,
    /// Normalised firm -> summed contribution.
    pub contributors: BTreeMap<String, f64>,
}

impl Candidate {
    /// Stable text key of the group (JSON array).
    pub fn group_key(&self) -> String {
        serde_json::json!([self.item, self.metric, self.country, self.unit, self.period])
            .to_string()
    }
}

/// Current compositions of every group the viewer's active country agreements cover. Records
/// without a value or an identifiable provider cannot be counted as a firm's figure and are
/// left out.
pub fn candidates(
    records: &[Record],
    viewer: &Viewer,
    agreements: &[Agreement],
    now: i64,
) -> Vec<Candidate> {
    type Key = (String, String, String, Option<String>, Option<String>);
    let mut out = Vec::new();
    for a in agreements {
        if a.grantee_org_id != viewer.org_id || a.granularity != Granularity::Country {
            continue;
        }
        let mut groups: BTreeMap<Key, BTreeMap<String, f64>> = BTreeMap::new();
        for r in records {
            let (Some(provider), Some(value)) = (r.provider.as_deref(), r.value) else {
                continue;
            };
            let firm = normalise_firm(provider);
            if firm.is_empty() || !value.is_finite() {
                continue;
            }
            if !agreement_covers(a, r, now) || !distribution_allows(r, viewer) {
                continue;
            }
            let key = (
                r.item.clone(),
                r.metric.clone(),
                r.country.clone().unwrap_or_else(|| "unspecified".into()),
                r.unit.clone(),
                r.period.clone(),
            );
            *groups.entry(key).or_default().entry(firm).or_insert(0.0) += value;
        }
        for ((item, metric, country, unit, period), contributors) in groups {
            out.push(Candidate {
                agreement_id: a.id,
                grantor_org_id: a.grantor_org_id,
                item,
                metric,
                country,
                unit,
                period,
                contributors,
            });
        }
    }
    out
}

/// Whether a composition may be released at all: enough distinct firms, none dominant.
pub fn passes_rules(contributors: &BTreeMap<String, f64>, min_firms: i64, max_share: f64) -> bool {
    if (contributors.len() as i64) < min_firms {
        return false;
    }
    let total: f64 = contributors.values().map(|v| v.abs()).sum();
    if total == 0.0 {
        // All zero: no firm dominates a zero total.
        return true;
    }
    contributors.values().all(|v| v.abs() / total <= max_share)
}

/// Firms whose contribution differs between two compositions (added, removed or changed).
pub fn changed_firms(a: &BTreeMap<String, f64>, b: &BTreeMap<String, f64>) -> usize {
    let mut n = a
        .iter()
        .filter(|(f, v)| b.get(*f).is_none_or(|w| w.to_bits() != v.to_bits()))
        .count();
    n += b.keys().filter(|f| !a.contains_key(*f)).count();
    n
}

/// A figure released earlier.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Release {
    pub agreement_id: i64,
    pub group_key: String,
    pub contributors: BTreeMap<String, f64>,
    pub value_sum: f64,
    pub released_at: i64,
}

/// What to answer for one group.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Decision {
    /// Release the current composition as a new figure.
    New,
    /// The current composition was released before (this one): the same figure.
    Same(usize),
    /// Serve this earlier release again: the current one is too close to an earlier one, or
    /// fails the rules now.
    Stale(usize),
    /// Nothing may be shown.
    Suppress,
}

/// Decide for one group given its earlier releases (oldest first) and `k`, the number of firms
/// that must differ from every earlier release.
pub fn decide(
    current: &BTreeMap<String, f64>,
    passes: bool,
    history: &[Release],
    k: usize,
) -> Decision {
    if passes {
        if let Some(i) = history.iter().position(|r| &r.contributors == current) {
            return Decision::Same(i);
        }
        if history
            .iter()
            .all(|r| changed_firms(&r.contributors, current) >= k)
        {
            return Decision::New;
        }
    }
    match history.len() {
        0 => Decision::Suppress,
        n => Decision::Stale(n - 1),
    }
}

impl Store {
    /// Earlier releases of the given agreements, oldest first.
    async fn aggregate_history(&self, agreement_ids: &[i64]) -> Result<Vec<Release>, StoreError> {
        if agreement_ids.is_empty() {
            return Ok(Vec::new());
        }
        let placeholders: Vec<String> =
            (1..=agreement_ids.len()).map(|i| format!("${i}")).collect();
        let sql = format!(
            "SELECT agreement_id, group_key, contributors, value_sum, released_at \
             FROM aggregate_releases WHERE agreement_id IN ({}) ORDER BY id",
            placeholders.join(", ")
        );
        let mut q = sqlx::query(&sql);
        for id in agreement_ids {
            q = q.bind(*id);
        }
        let rows = q.fetch_all(self.pool()).await?;
        rows.iter()
            .map(|r| {
                let c: String = col(r, "contributors")?;
                Ok(Release {
                    agreement_id: col(r, "agreement_id")?,
                    group_key: col(r, "group_key")?,
                    contributors: serde_json::from_str(&c).map_err(|e| {
                        StoreError::Corrupt(format!("aggregate_releases.contributors: {e}"))
                    })?,
                    value_sum: col(r, "value_sum")?,
                    released_at: col(r, "released_at")?,
                })
            })
            .collect()
    }

    /// The country aggregates `viewer` may see now under its active country `agreements` over
    /// the grantors' `records`, applying the three rules of this module. New figures are
    /// remembered (and audited as `aggregates.release`) in one transaction.
    pub async fn release_aggregates(
        &self,
        records: &[Record],
        viewer: &Viewer,
        agreements: &[Agreement],
        now: i64,
        actor: &str,
    ) -> Result<Vec<Aggregate>, StoreError> {
        let cands = candidates(records, viewer, agreements, now);
        let ids: Vec<i64> = agreements.iter().map(|a| a.id).collect();
        let history = self.aggregate_history(&ids).await?;
        let mut out = Vec::new();
        let mut new = Vec::new();
        for c in &cands {
            let Some(a) = agreements.iter().find(|a| a.id == c.agreement_id) else {
                continue;
            };
            let key = c.group_key();
            let past: Vec<Release> = history
                .iter()
                .filter(|r| r.agreement_id == a.id && r.group_key == key)
                .cloned()
                .collect();
            let passes = passes_rules(&c.contributors, a.min_firms, a.max_firm_share);
            let k = a.min_firms.max(2) as usize;
            let shown = match decide(&c.contributors, passes, &past, k) {
                Decision::Suppress => continue,
                Decision::New => {
                    let sum: f64 = c.contributors.values().sum();
                    new.push((c.clone(), sum));
                    (sum, c.contributors.len(), now, true)
                }
                Decision::Same(i) => (
                    past[i].value_sum,
                    past[i].contributors.len(),
                    past[i].released_at,
                    true,
                ),
                Decision::Stale(i) => (
                    past[i].value_sum,
                    past[i].contributors.len(),
                    past[i].released_at,
                    false,
                ),
            };
            out.push(Aggregate {
                agreement_id: c.agreement_id,
                grantor_org_id: c.grantor_org_id,
                item: c.item.clone(),
                metric: c.metric.clone(),
                country: c.country.clone(),
                unit: c.unit.clone(),
                period: c.period.clone(),
                value_sum: shown.0,
                firms: shown.1,
                as_of: shown.2,
                current: shown.3,
            });
        }
        if !new.is_empty() {
            let mut tx = self.begin_write().await?;
            for (c, sum) in &new {
                let contributors = serde_json::to_string(&c.contributors)
                    .map_err(|e| StoreError::Invalid(format!("aggregate: {e}")))?;
                sqlx::query(
                    "INSERT INTO aggregate_releases (agreement_id, group_key, contributors, \
                     value_sum, firms, released_at) VALUES ($1, $2, $3, $4, $5, $6)",
                )
                .bind(c.agreement_id)
                .bind(c.group_key())
                .bind(&contributors)
                .bind(*sum)
                .bind(c.contributors.len() as i64)
                .bind(now)
                .execute(tx.conn())
                .await?;
                audit::append(
                    &mut tx,
                    actor,
                    "aggregates.release",
                    &format!("agreement:{}", c.agreement_id),
                    &serde_json::json!({"group": c.group_key(), "firms": c.contributors.len()}),
                )
                .await?;
            }
            tx.commit().await?;
        }
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spelling_variants_are_one_firm() {
        let one = [
            "SK hynix",
            "SK Hynix Inc.",
            "SK-HYNIX",
            "ＳＫ　ｈｙｎｉｘ",
            "sk hynix co., ltd.",
            "SK Hynix Holdings",
        ];
        for n in one {
            assert_eq!(normalise_firm(n), "skhynix", "{n}");
        }
        assert_eq!(normalise_firm("ASML Holding N.V."), normalise_firm("ASML"));
        assert_eq!(normalise_firm("ASML B.V."), "asml");
        assert_eq!(
            normalise_firm("Infineon Technologies AG"),
            normalise_firm("infineon technologies")
        );
        assert_eq!(normalise_firm("Carl Zeiss SMT GmbH"), "carlzeisssmt");
        assert_eq!(
            normalise_firm("东京电子株式会社"),
            normalise_firm("东京电子")
        );
        assert_eq!(normalise_firm("株式会社ニコン"), normalise_firm("ニコン"));
        assert_eq!(
            normalise_firm("中芯国际集成电路制造有限公司"),
            normalise_firm("中芯国际集成电路制造")
        );
        assert_eq!(
            normalise_firm("삼성전자 주식회사"),
            normalise_firm("삼성전자")
        );
        assert_ne!(normalise_firm("Samsung"), normalise_firm("SK hynix"));
        // A bare legal form is still a (strange) name, not nothing; punctuation alone is nothing.
        assert_eq!(normalise_firm("Inc."), "inc");
        assert_eq!(normalise_firm(" -- "), "");
    }

    fn comp(pairs: &[(&str, f64)]) -> BTreeMap<String, f64> {
        pairs.iter().map(|(f, v)| (f.to_string(), *v)).collect()
    }

    fn rel(c: &BTreeMap<String, f64>) -> Release {
        Release {
            agreement_id: 1,
            group_key: "g".into(),
            contributors: c.clone(),
            value_sum: c.values().sum(),
            released_at: 0,
        }
    }

    #[test]
    fn dominance_and_minimum() {
        assert!(passes_rules(
            &comp(&[("a", 10.), ("b", 10.), ("c", 10.)]),
            3,
            0.6
        ));
        assert!(!passes_rules(&comp(&[("a", 10.), ("b", 10.)]), 3, 0.6));
        assert!(!passes_rules(
            &comp(&[("a", 1000.), ("b", 10.), ("c", 10.)]),
            3,
            0.6
        ));
        assert!(passes_rules(
            &comp(&[("a", 1000.), ("b", 10.), ("c", 10.)]),
            3,
            1.0
        ));
    }

    #[test]
    fn no_release_differs_from_an_earlier_one_in_fewer_than_k_firms() {
        let r1 = comp(&[("a", 100.), ("b", 200.), ("c", 150.)]);
        let h = vec![rel(&r1)];
        // One firm joins: the earlier figure again.
        let c = comp(&[("a", 100.), ("b", 200.), ("c", 150.), ("d", 70.)]);
        assert_eq!(decide(&c, true, &h, 3), Decision::Stale(0));
        // One firm's figure changes: the same.
        let c = comp(&[("a", 101.), ("b", 200.), ("c", 150.)]);
        assert_eq!(decide(&c, true, &h, 3), Decision::Stale(0));
        // Three firms join: a new figure.
        let c2 = comp(&[
            ("a", 100.),
            ("b", 200.),
            ("c", 150.),
            ("d", 70.),
            ("e", 5.),
            ("f", 9.),
        ]);
        assert_eq!(decide(&c2, true, &h, 3), Decision::New);
        // Back to an earlier composition: the same figure as then.
        let h2 = vec![rel(&r1), rel(&c2)];
        assert_eq!(decide(&r1, true, &h2, 3), Decision::Same(0));
        // Far from the latest release but one firm from the first one: refused (the difference
        // to the first release would expose "g").
        let c3 = comp(&[("a", 100.), ("b", 200.), ("c", 150.), ("g", 1.)]);
        assert!(changed_firms(&c3, &c2) >= 3);
        assert_eq!(decide(&c3, true, &h2, 3), Decision::Stale(1));
        // Nothing released yet and the rules fail: nothing.
        assert_eq!(decide(&c3, false, &[], 3), Decision::Suppress);
    }
}
