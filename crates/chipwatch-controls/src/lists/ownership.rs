//! Ownership data and the BIS affiliates rule (50% ownership).
//!
//! The user loads ownership data as CSV with the header `owner,owned,percent,source,date`
//! (columns found by name, any order; `percent` in (0, 100], a trailing `%` allowed; `date`
//! YYYY-MM-DD, the date the stake was known). [`Screener::with_ownership`] resolves each owner
//! by screening its name, then finds every owned entity that listed owners (or owners that are
//! themselves covered) hold 50% or more of, in the aggregate, and indexes it as an affiliate
//! entry: a hit on it carries [`Affiliation`] (the stakes summed, the chain from the listed
//! owner, the owner's entry) and the owner's list, licence requirement and review policy (the
//! most restrictive owner's, as the rule says).
//!
//! Chains: an entity covered by the rule counts as an owner with its whole stake (the rule
//! follows Treasury's 50 percent rule: A listed owns 50% of B, B owns 50% of C, so C is
//! covered); shares are not multiplied down a chain. The rule is dated: in force from
//! 29 Sept 2025, suspended 10 Nov 2025 to 9 Nov 2026; [`AffiliatesRule::in_force_on`] and
//! [`crate::Hit::applies_on`] apply it only on dates it is in force.

use crate::measure::ReviewPolicy;
use crate::screening::{Hit, ListEntry, ListInfo, Screener, DEFAULT_THRESHOLD};
use crate::{ControlsError, Date};
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

/// One stake: `owner` holds `percent` of `owned`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct OwnershipLink {
    pub owner: String,
    pub owned: String,
    pub percent: f64,
    pub source: String,
    pub date: Date,
    /// Line in the ownership file.
    pub line: u64,
}

/// Ownership data loaded from a file.
#[derive(Debug, Clone, PartialEq)]
pub struct OwnershipData {
    pub links: Vec<OwnershipLink>,
    pub file: String,
}

/// Columns of an ownership file.
const COLUMNS: [&str; 5] = ["owner", "owned", "percent", "source", "date"];

impl OwnershipData {
    /// Parse ownership CSV (`file` names it in errors).
    pub fn from_csv_str(text: &str, file: &str) -> Result<OwnershipData, ControlsError> {
        let text = super::strip_bom(text);
        let mut rdr = csv::ReaderBuilder::new()
            .flexible(true)
            .trim(csv::Trim::All)
            .from_reader(text.as_bytes());
        let csv_err = |line: u64, message: String| ControlsError::Csv {
            file: file.to_string(),
            line,
            message,
        };
        let headers = rdr
            .headers()
            .map_err(|e| csv_err(1, e.to_string()))?
            .clone();
        let mut col = [0usize; 5];
        for (i, c) in COLUMNS.iter().enumerate() {
            col[i] = headers
                .iter()
                .position(|h| h.eq_ignore_ascii_case(c))
                .ok_or_else(|| ControlsError::MissingColumn {
                    file: file.to_string(),
                    column: c.to_string(),
                })?;
        }
        let mut links = Vec::new();
        let mut seen: HashMap<(String, String), u64> = HashMap::new();
        for rec in rdr.records() {
            let rec = rec.map_err(|e| {
                let line = e.position().map_or(0, |p| p.line());
                csv_err(line, e.to_string())
            })?;
            let line = rec.position().map_or(0, |p| p.line());
            let field = |i: usize| rec.get(col[i]).unwrap_or("").to_string();
            let bad = |f: &str, m: String| csv_err(line, format!("field `{f}`: {m}"));
            let (owner, owned, pct, source, date) =
                (field(0), field(1), field(2), field(3), field(4));
            for (f, v) in [("owner", &owner), ("owned", &owned), ("source", &source)] {
                if v.is_empty() {
                    return Err(bad(f, "must not be empty".into()));
                }
            }
            let percent: f64 = pct
                .trim_end_matches('%')
                .trim()
                .parse()
                .map_err(|_| bad("percent", format!("`{pct}` is not a number")))?;
            if !(percent > 0.0 && percent <= 100.0) {
                return Err(bad(
                    "percent",
                    format!("{pct} is outside (0, 100]: a stake is a percentage of the shares"),
                ));
            }
            let date = Date::parse(&date).map_err(|m| bad("date", m))?;
            let key = (owner.to_lowercase(), owned.to_lowercase());
            if let Some(first) = seen.insert(key, line) {
                return Err(bad(
                    "owner",
                    format!("`{owner}` -> `{owned}` is given twice (lines {first} and {line})"),
                ));
            }
            links.push(OwnershipLink {
                owner,
                owned,
                percent,
                source,
                date,
                line,
            });
        }
        // The stakes in one entity cannot add up to more than all of it.
        let mut total: BTreeMap<String, (f64, Vec<u64>)> = BTreeMap::new();
        for l in &links {
            let t = total.entry(l.owned.to_lowercase()).or_default();
            t.0 += l.percent;
            t.1.push(l.line);
        }
        for (owned, (sum, lines)) in total {
            if sum > 100.0 + 1e-6 {
                return Err(ControlsError::Field {
                    file: file.to_string(),
                    field: format!("percent (lines {lines:?})"),
                    message: format!("stakes in `{owned}` add up to {sum}%, more than 100%"),
                });
            }
        }
        Ok(OwnershipData {
            links,
            file: file.to_string(),
        })
    }

    /// Provenance of the data as a list the screener holds.
    fn info(&self, affiliates: usize) -> ListInfo {
        ListInfo {
            name: "Ownership data (affiliates rule)".to_string(),
            source: "loaded by the user; each stake names its own source".to_string(),
            authority: None,
            published: self.links.iter().map(|l| l.date).max(),
            compiled: false,
            partial: false,
            rows: Some(self.links.len()),
            entries: affiliates,
            format: Some("ownership CSV".to_string()),
            file: self.file.clone(),
            imported_from: None,
        }
    }
}

/// A period in which the rule does not apply; both ends inclusive.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RuleSuspension {
    pub from: Date,
    pub until: Date,
    pub instrument: String,
}

/// An ownership rule as data (`data/screening/us-affiliates-rule.toml`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AffiliatesRule {
    pub id: String,
    pub title: String,
    pub instrument: String,
    pub citation: String,
    /// Aggregate stake (percent) from which an entity is covered.
    pub threshold_percent: f64,
    /// Lists whose entries pass their restrictions to the entities they own.
    pub owner_lists: Vec<String>,
    pub in_force_from: Date,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub in_force_until: Option<Date>,
    #[serde(default, rename = "suspension", skip_serializing_if = "Vec::is_empty")]
    pub suspensions: Vec<RuleSuspension>,
}

impl AffiliatesRule {
    /// Parse a rule file.
    pub fn from_toml_str(text: &str, file: &str) -> Result<AffiliatesRule, ControlsError> {
        let r: AffiliatesRule = toml::from_str(text).map_err(|e| ControlsError::Toml {
            file: file.to_string(),
            message: e.to_string(),
        })?;
        let err = |f: &str, m: &str| ControlsError::Field {
            file: file.to_string(),
            field: f.to_string(),
            message: m.to_string(),
        };
        if !(r.threshold_percent > 0.0 && r.threshold_percent <= 100.0) {
            return Err(err("threshold_percent", "must be in (0, 100]"));
        }
        if r.owner_lists.is_empty() {
            return Err(err("owner_lists", "name at least one list"));
        }
        for (i, s) in r.suspensions.iter().enumerate() {
            if s.until < s.from {
                return Err(err(
                    &format!("suspension[{i}].until"),
                    "ends before it starts",
                ));
            }
        }
        Ok(r)
    }

    /// Is the rule in force on `d` (after entry into force, before any end, not suspended)?
    pub fn in_force_on(&self, d: Date) -> bool {
        d >= self.in_force_from
            && self.in_force_until.is_none_or(|u| d <= u)
            && !self.suspensions.iter().any(|s| s.from <= d && d <= s.until)
    }
}

/// Why an unlisted entity screens as a hit: who owns it and under which rule.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Affiliation {
    /// The listed entry the restrictions come from (the most restrictive owner's).
    pub owner_entry: String,
    pub owner_list: String,
    pub owner_citation: String,
    /// Aggregate stake held by listed or covered owners, percent.
    pub total_percent: f64,
    /// The stakes in this entity that were added up.
    pub stakes: Vec<OwnershipLink>,
    /// From the listed owner down to this entity.
    pub chain: Vec<OwnershipLink>,
    #[serde(serialize_with = "crate::screening::ser_arc")]
    pub rule: Arc<AffiliatesRule>,
    pub ownership_file: String,
}

/// An owner that counts under the rule: the listed entry it resolves to, and the chain to it.
#[derive(Debug, Clone)]
struct Root {
    hit: Hit,
    chain: Vec<OwnershipLink>,
}

/// Rank of restrictiveness (higher = stricter); no policy counts as the least strict.
fn strictness(p: Option<ReviewPolicy>) -> u8 {
    match p {
        Some(ReviewPolicy::PresumptionOfDenial) => 4,
        Some(ReviewPolicy::PerApplication) => 3,
        Some(ReviewPolicy::CaseByCase) => 2,
        Some(ReviewPolicy::PresumptionOfApproval) => 1,
        None => 0,
    }
}

impl Screener {
    /// This screener plus the affiliates `rule` derives from `data`: every entity listed owners
    /// hold at least the threshold of becomes an entry (see the module docs). Owners resolve by
    /// screening their names at [`DEFAULT_THRESHOLD`] against the rule's owner lists.
    pub fn with_ownership(mut self, data: &OwnershipData, rule: &AffiliatesRule) -> Screener {
        let rule = Arc::new(rule.clone());
        // Names normalised once (the passes below look them up many times).
        let mut norm: HashMap<&str, String> = HashMap::new();
        for l in &data.links {
            for n in [l.owner.as_str(), l.owned.as_str()] {
                norm.entry(n)
                    .or_insert_with(|| self.normaliser().primary(n));
            }
        }
        let key = |s: &str| norm.get(s).cloned().unwrap_or_default();
        // Owners on the rule's lists, resolved once per distinct name.
        let mut listed: HashMap<String, Option<Hit>> = HashMap::new();
        for l in &data.links {
            listed.entry(key(&l.owner)).or_insert_with(|| {
                self.screen(&l.owner, DEFAULT_THRESHOLD)
                    .into_iter()
                    .find(|h| h.affiliate_of.is_none() && rule.owner_lists.contains(&h.list))
            });
        }
        // Stakes by owned entity, in file order.
        let mut by_owned: Vec<(String, Vec<&OwnershipLink>)> = Vec::new();
        let mut pos: HashMap<String, usize> = HashMap::new();
        for l in &data.links {
            let k = key(&l.owned);
            let i = *pos.entry(k.clone()).or_insert_with(|| {
                by_owned.push((k, Vec::new()));
                by_owned.len() - 1
            });
            by_owned[i].1.push(l);
        }
        // Fixed point over a work list: an entity is (re)computed when one of its owners became
        // covered or stricter. Each entity's aggregate stake and its strictest owner only grow,
        // so the list empties; a deep chain costs its depth, not passes over all the data.
        let mut owns: HashMap<&str, Vec<usize>> = HashMap::new();
        for (i, (_, stakes)) in by_owned.iter().enumerate() {
            for l in stakes {
                owns.entry(norm[l.owner.as_str()].as_str())
                    .or_default()
                    .push(i);
            }
        }
        let mut covered: HashMap<String, (Root, f64, Vec<OwnershipLink>)> = HashMap::new();
        let mut queue: std::collections::VecDeque<usize> = (0..by_owned.len()).collect();
        let mut queued = vec![true; by_owned.len()];
        while let Some(i) = queue.pop_front() {
            queued[i] = false;
            let (k, stakes) = &by_owned[i];
            let mut total = 0.0;
            let mut counted = Vec::new();
            let mut best: Option<Root> = None;
            for l in stakes {
                let ok = &norm[l.owner.as_str()];
                let root = match (listed.get(ok).and_then(Option::as_ref), covered.get(ok)) {
                    (Some(h), _) => Root {
                        hit: h.clone(),
                        chain: vec![(*l).clone()],
                    },
                    // An entity never passes restrictions to itself through a cycle.
                    (None, Some((r, _, _)))
                        if !r.chain.iter().any(|c| norm[c.owner.as_str()] == *k) =>
                    {
                        let mut chain = r.chain.clone();
                        chain.push((*l).clone());
                        Root {
                            hit: r.hit.clone(),
                            chain,
                        }
                    }
                    _ => continue,
                };
                total += l.percent;
                counted.push((*l).clone());
                let stricter = best.as_ref().is_none_or(|b| {
                    strictness(root.hit.review_policy) > strictness(b.hit.review_policy)
                });
                if stricter {
                    best = Some(root);
                }
            }
            let Some(root) = best else { continue };
            if total + 1e-9 < rule.threshold_percent {
                continue;
            }
            let grew = covered.get(k).is_none_or(|(old, old_total, _)| {
                total > *old_total + 1e-9
                    || strictness(root.hit.review_policy) > strictness(old.hit.review_policy)
            });
            if grew {
                covered.insert(k.clone(), (root, total, counted));
                for &j in owns.get(k.as_str()).into_iter().flatten() {
                    if !queued[j] {
                        queued[j] = true;
                        queue.push_back(j);
                    }
                }
            }
        }
        let info = data.info(covered.len());
        self.push_list_info(info);
        for (k, stakes) in &by_owned {
            let Some((root, total, counted)) = covered.remove(k) else {
                continue;
            };
            let owned = stakes[0].owned.clone();
            // An entity on the rule's lists itself keeps its own entry; no second, derived one.
            // Only an exact match counts: a near name may be another entity, and skipping would
            // lose the affiliate hit.
            let on_list = |h: &Hit| {
                h.score >= 0.999 && h.affiliate_of.is_none() && rule.owner_lists.contains(&h.list)
            };
            if listed.get(k).is_some_and(Option::is_some)
                || self.screen(&owned, DEFAULT_THRESHOLD).iter().any(on_list)
            {
                continue;
            }
            let h = &root.hit;
            let listed_on = match h.listed_on.as_deref().and_then(|d| Date::parse(d).ok()) {
                Some(d) if d > rule.in_force_from => d,
                _ => rule.in_force_from,
            };
            let entry = ListEntry {
                list: h.list.clone(),
                name: owned,
                aliases: Vec::new(),
                country: None,
                licence_requirement: h.licence_requirement.clone(),
                review_policy: h.review_policy,
                citation: format!(
                    "{} ({}): owned {}% by listed entities; owner `{}`: {}",
                    rule.title, rule.citation, total, h.entry_name, h.citation
                ),
                listed_on: Some(listed_on.to_string()),
                remarks: None,
            };
            let aff = Affiliation {
                owner_entry: h.entry_name.clone(),
                owner_list: h.list.clone(),
                owner_citation: h.citation.clone(),
                total_percent: total,
                stakes: counted,
                chain: root.chain,
                rule: rule.clone(),
                ownership_file: data.file.clone(),
            };
            let list = self.list_index_of(&h.list_info);
            self.add_entry(entry, list, Some(Arc::new(aff)));
        }
        self.count_tokens();
        self
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rule_dates() {
        let r = crate::default_affiliates_rule().unwrap();
        let d = |s: &str| Date::parse(s).unwrap();
        assert!(!r.in_force_on(d("2025-09-28")));
        assert!(r.in_force_on(d("2025-09-29")));
        assert!(r.in_force_on(d("2025-11-09")));
        assert!(!r.in_force_on(d("2025-11-10")));
        assert!(!r.in_force_on(d("2026-11-09")));
        assert!(r.in_force_on(d("2026-11-10")));
    }

    #[test]
    fn strictness_order() {
        assert!(
            strictness(Some(ReviewPolicy::PresumptionOfDenial))
                > strictness(Some(ReviewPolicy::CaseByCase))
        );
        assert!(strictness(Some(ReviewPolicy::CaseByCase)) > strictness(None));
    }
}
