//! Denial notices between partner authorities (issue 17; Art. 23 of Regulation (EU) 2021/821
//! and the Wassenaar practice) and the "no undercut" match: before an authority grants a licence
//! for an essentially identical transaction that a partner denied, it consults that partner.
//!
//! A [`DenialNotice`] names the issuing authority, the item (description, catalogue product,
//! control entry, model item), the destination, the end user (with aliases) and consignees, the
//! reason and the date; a withdrawn notice carries its withdrawal date and matches nothing.
//!
//! [`match_notices`] is pure: a transaction (its parties and item) matches a notice when BOTH
//!
//! - a party (end user, consignee, purchaser or intermediate consignee of the check) is the
//!   notice's end user (or one of its aliases) or one of its consignees by [`name_match`], AND
//! - the item matches by one of [`ItemRule`]: the same catalogue product (names and aliases
//!   resolved through the catalogue), the same model item, or control entries of which one is
//!   the other or a sub-entry of it (`3B001` covers `3B001.f.1`; `3B001` never `3B0010`).
//!
//! Parameters alone never make an item match: two tools with similar figures are not the same
//! transaction. Fields an agreement withholds from the viewer are absent from the notices handed
//! in, so a match can never be made on (or reveal) a name the viewer was not given.
//!
//! The notice file format (`[[notice]]` tables) is parsed by [`parse_notices`]; errors name the
//! file and field.

use crate::catalogue::{product_key, Catalogue};
use crate::date::Date;
use crate::screening::Normaliser;
use crate::ControlsError;
use serde::{Deserialize, Serialize};

/// Why a partner denied (the categories of the EU and Wassenaar denial notifications).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize, Hash)]
#[serde(rename_all = "snake_case")]
pub enum ReasonCategory {
    /// Weapons of mass destruction or their delivery systems.
    Wmd,
    /// Military end use or a military end user.
    MilitaryEndUse,
    /// Risk of diversion to an undesirable end use or end user.
    DiversionRisk,
    /// Internal repression or serious violations of human rights.
    HumanRights,
    /// Regional peace, security and stability; arms embargoes.
    RegionalStability,
    Terrorism,
    Other,
}

impl ReasonCategory {
    pub const ALL: &'static [ReasonCategory] = &[
        ReasonCategory::Wmd,
        ReasonCategory::MilitaryEndUse,
        ReasonCategory::DiversionRisk,
        ReasonCategory::HumanRights,
        ReasonCategory::RegionalStability,
        ReasonCategory::Terrorism,
        ReasonCategory::Other,
    ];
    pub fn as_str(self) -> &'static str {
        match self {
            ReasonCategory::Wmd => "wmd",
            ReasonCategory::MilitaryEndUse => "military_end_use",
            ReasonCategory::DiversionRisk => "diversion_risk",
            ReasonCategory::HumanRights => "human_rights",
            ReasonCategory::RegionalStability => "regional_stability",
            ReasonCategory::Terrorism => "terrorism",
            ReasonCategory::Other => "other",
        }
    }
    pub fn parse(s: &str) -> Option<ReasonCategory> {
        Self::ALL.iter().copied().find(|c| c.as_str() == s)
    }
}

/// The item a notice denied.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DeniedItem {
    pub description: String,
    /// Catalogue product name or alias, if the item is in the catalogue.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub product: Option<String>,
    /// Control list entry (Annex I entry, ECCN...), e.g. "3B001.f.1".
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub control_entry: Option<String>,
    /// Item id of the value-chain model, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub model_item: Option<String>,
}

/// One denial notice. `end_user`, `end_user_aliases`, `consignees` and `reason` may be absent in
/// a copy released to a partner whose agreement withholds them.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DenialNotice {
    /// The issuing authority's reference, e.g. "BAFA-2025-0042".
    pub reference: String,
    /// Issuing authority, e.g. "BAFA".
    pub authority: String,
    /// ISO 3166-1 alpha-3 of the issuing state, or "EU".
    pub jurisdiction: String,
    pub denied_on: Date,
    pub item: DeniedItem,
    /// ISO 3166-1 alpha-3.
    pub destination: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub end_user: Option<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub end_user_aliases: Vec<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub consignees: Vec<String>,
    pub reason_category: ReasonCategory,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    /// Set once the issuing authority withdrew the notice; a withdrawn notice matches nothing.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub withdrawn_on: Option<Date>,
}

/// Longest text accepted in any notice field (reason: [`MAX_REASON`]).
pub const MAX_TEXT: usize = 300;
/// Longest free-text reason.
pub const MAX_REASON: usize = 4000;
/// At most this many aliases and consignees each.
pub const MAX_NAMES: usize = 50;

/// Check a notice; `Err((field, message))` names the first field at fault.
pub fn validate(n: &DenialNotice) -> Result<(), (String, String)> {
    validate_released(n)?;
    if n.end_user.is_none() && n.consignees.is_empty() {
        return Err((
            "end_user".into(),
            "a notice names its end user, a consignee or both (the match needs a party)".into(),
        ));
    }
    Ok(())
}

/// Check a copy released under an agreement (a federated copy): as [`validate`], except that
/// the parties may be absent, withheld by the agreement.
pub fn validate_released(n: &DenialNotice) -> Result<(), (String, String)> {
    let err = |f: &str, m: &str| Err((f.to_string(), m.to_string()));
    let text = |f: &str, v: &str, max: usize| -> Result<(), (String, String)> {
        if v.trim().is_empty() {
            return err(f, "must not be empty");
        }
        if v.chars().count() > max {
            return Err((f.to_string(), format!("at most {max} characters")));
        }
        if v.chars().any(|c| c.is_control() && c != '\n') {
            return err(f, "must not contain control characters");
        }
        Ok(())
    };
    text("reference", &n.reference, MAX_TEXT)?;
    text("authority", &n.authority, MAX_TEXT)?;
    if n.jurisdiction != "EU" && !crate::country::is_iso3(&n.jurisdiction) {
        return err(
            "jurisdiction",
            "must be an ISO 3166-1 alpha-3 code (upper case) or EU",
        );
    }
    if !crate::country::is_iso3(&n.destination) || n.destination != n.destination.to_uppercase() {
        return err(
            "destination",
            "must be an ISO 3166-1 alpha-3 code (upper case)",
        );
    }
    text("item.description", &n.item.description, MAX_TEXT)?;
    for (f, v) in [
        ("item.product", &n.item.product),
        ("item.control_entry", &n.item.control_entry),
        ("item.model_item", &n.item.model_item),
        ("end_user", &n.end_user),
    ] {
        if let Some(v) = v {
            text(f, v, MAX_TEXT)?;
        }
    }
    if let Some(r) = &n.reason {
        text("reason", r, MAX_REASON)?;
    }
    for (f, list) in [
        ("end_user_aliases", &n.end_user_aliases),
        ("consignees", &n.consignees),
    ] {
        if list.len() > MAX_NAMES {
            return Err((f.to_string(), format!("at most {MAX_NAMES} names")));
        }
        for (i, v) in list.iter().enumerate() {
            text(&format!("{f}[{i}]"), v, MAX_TEXT)?;
        }
    }
    if n.end_user.is_none() && !n.end_user_aliases.is_empty() {
        return err(
            "end_user_aliases",
            "aliases need the end_user they belong to",
        );
    }
    if n.withdrawn_on.is_some_and(|w| w < n.denied_on) {
        return err("withdrawn_on", "must not be before denied_on");
    }
    Ok(())
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawFile {
    #[serde(default)]
    notice: Vec<DenialNotice>,
}

/// Parse a notice file (TOML, `[[notice]]` tables with a `[notice.item]` table; dates as
/// "YYYY-MM-DD" strings). References must be unique per authority.
pub fn parse_notices(text: &str, file: &str) -> Result<Vec<DenialNotice>, ControlsError> {
    let raw: RawFile = toml::from_str(text).map_err(|e| ControlsError::Toml {
        file: file.to_string(),
        message: e.to_string(),
    })?;
    let mut seen = std::collections::BTreeSet::new();
    for (i, n) in raw.notice.iter().enumerate() {
        let field = |f: String, m: String| ControlsError::Field {
            file: file.to_string(),
            field: format!("notice[{i}].{f}"),
            message: m,
        };
        validate(n).map_err(|(f, m)| field(f, m))?;
        if !seen.insert((n.authority.clone(), n.reference.clone())) {
            return Err(field(
                "reference".into(),
                format!(
                    "`{}` of {} is used twice in the file",
                    n.reference, n.authority
                ),
            ));
        }
    }
    Ok(raw.notice)
}

/// How two party names were found to be the same.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum NameRule {
    /// Equal after normalisation (case, width, diacritics, punctuation, spacing, legal forms
    /// such as Co., Ltd., GmbH, B.V., Inc.; traditional/simplified Chinese; pinyin).
    Exact,
    /// The same words in another order.
    WordOrder,
    /// One name is the initials of the other (at least three words / letters: "SMEE").
    Acronym,
    /// A small spelling difference (see [`name_match`]).
    Spelling,
}

/// The largest edit distance (on the normalised name without spaces) that still counts as the
/// same name: none under 6 characters (short names differ by a letter: "Acme" is not "Acne"),
/// one from 6 to 19 characters, two from 20 on.
pub fn allowed_edits(len: usize) -> usize {
    match len {
        0..=5 => 0,
        6..=19 => 1,
        _ => 2,
    }
}

fn digits(s: &str) -> String {
    s.chars().filter(|c| c.is_ascii_digit()).collect()
}

/// Whether two party names denote the same party, and by which rule with which score (1.0 for
/// exact and word order, 0.9 for an acronym, 1 - edits / length for a spelling variant).
///
/// The rule, documented because officers rely on it: both names are normalised as in screening
/// ([`Normaliser::variants`]); equal forms, or the same words in another order, match; a single
/// word of at least three letters that spells the initials of the other name's words matches
/// (an acronym: "SMEE" for "Shanghai Micro Electronics Equipment"); otherwise the names match
/// when their digits are identical (so "Plant 1" is never "Plant 2") and the edit distance of
/// the forms without spaces is at most [`allowed_edits`] of the longer.
pub fn name_match(norm: &Normaliser, a: &str, b: &str) -> Option<(NameRule, f64)> {
    let mut best: Option<(NameRule, f64)> = None;
    let mut consider = |r: NameRule, s: f64| {
        if best.is_none_or(|(_, bs)| s > bs) {
            best = Some((r, s));
        }
    };
    for va in norm.variants(a) {
        for vb in norm.variants(b) {
            let ta: Vec<&str> = va.split_whitespace().collect();
            let tb: Vec<&str> = vb.split_whitespace().collect();
            if ta.is_empty() || tb.is_empty() {
                continue;
            }
            let (ca, cb) = (ta.concat(), tb.concat());
            if ca == cb {
                consider(NameRule::Exact, 1.0);
                continue;
            }
            let (mut sa, mut sb) = (ta.clone(), tb.clone());
            sa.sort_unstable();
            sb.sort_unstable();
            if sa == sb {
                consider(NameRule::WordOrder, 1.0);
                continue;
            }
            for (one, many) in [(&ta, &tb), (&tb, &ta)] {
                if one.len() == 1 && many.len() >= 3 && one[0].chars().count() == many.len() {
                    let initials: String = many.iter().filter_map(|w| w.chars().next()).collect();
                    if one[0].chars().all(char::is_alphabetic) && initials == one[0] {
                        consider(NameRule::Acronym, 0.9);
                    }
                }
            }
            if digits(&ca) != digits(&cb) {
                continue;
            }
            let len = ca.chars().count().max(cb.chars().count());
            let d = strsim::levenshtein(&ca, &cb);
            if d <= allowed_edits(len) {
                consider(NameRule::Spelling, 1.0 - d as f64 / len as f64);
            }
        }
    }
    best
}

/// Normalised control entry: upper case, no spaces, no trailing dot.
fn entry_key(s: &str) -> String {
    s.chars()
        .filter(|c| !c.is_whitespace())
        .flat_map(char::to_uppercase)
        .collect::<String>()
        .trim_end_matches('.')
        .to_string()
}

/// Whether two control entries are the same or one is a sub-entry of the other: equal, or the
/// shorter is a prefix of the longer ending at a `.` boundary. The shorter must be at least a
/// whole entry of four characters or more ("3B001", "3A090"), never a category ("3B").
pub fn entries_match(a: &str, b: &str) -> bool {
    let (a, b) = (entry_key(a), entry_key(b));
    let (short, long) = if a.len() <= b.len() { (a, b) } else { (b, a) };
    let base = short.split('.').next().unwrap_or("");
    if base.chars().count() < 4 {
        return false;
    }
    long == short || (long.starts_with(&short) && long[short.len()..].starts_with('.'))
}

/// Which item rule matched.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ItemRule {
    /// The same catalogue product (by name or alias).
    Product,
    /// The same item of the value-chain model.
    ModelItem,
    /// The same control entry, or one a sub-entry of the other.
    ControlEntry,
}

/// A party of the transaction being checked.
#[derive(Debug, Clone, PartialEq)]
pub struct QueryParty {
    /// end_user, consignee, purchaser, intermediate_consignee.
    pub role: String,
    pub name: String,
}

/// The transaction of a licence check, as the match needs it.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Transaction {
    pub parties: Vec<QueryParty>,
    /// Catalogue product name or alias.
    pub product: Option<String>,
    /// Control entries the item falls under (given by the officer).
    pub control_entries: Vec<String>,
    /// Model item; when absent, the catalogue product's model item (if any) is used.
    pub model_item: Option<String>,
    /// The date of the check: notices withdrawn on or before it, or issued after it, are out.
    pub date: Option<Date>,
}

/// Why one notice matched.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct DenialMatch {
    /// Index of the notice in the slice given to [`match_notices`].
    pub notice: usize,
    /// The role of the matching party in the checked transaction.
    pub party_role: String,
    pub party_name: String,
    /// `end_user` or `consignee`: where the notice names it.
    pub notice_field: String,
    pub notice_name: String,
    pub name_rule: NameRule,
    pub similarity: f64,
    pub item_rule: ItemRule,
    /// What matched of the item: the product, model item or the two control entries.
    pub item_detail: String,
}

/// Roles of a check whose names are compared with the notices' parties. The exporter is not
/// one: a denial is about where the goods go, not who sends them.
pub const MATCHED_ROLES: &[&str] = &[
    "end_user",
    "consignee",
    "purchaser",
    "intermediate_consignee",
];

fn canonical_product(cat: Option<&Catalogue>, p: &str) -> (String, Option<String>) {
    match cat.and_then(|c| c.find(p).ok()) {
        Some(prod) => (product_key(&prod.name), prod.model_item.clone()),
        None => (product_key(p), None),
    }
}

fn item_match(
    cat: Option<&Catalogue>,
    n: &DeniedItem,
    t: &Transaction,
) -> Option<(ItemRule, String)> {
    let tp = t.product.as_deref().map(|p| canonical_product(cat, p));
    if let (Some(np), Some((tk, _))) = (&n.product, &tp) {
        let (nk, _) = canonical_product(cat, np);
        if !nk.is_empty() && nk == *tk {
            return Some((ItemRule::Product, np.clone()));
        }
    }
    let model = t
        .model_item
        .clone()
        .or_else(|| tp.as_ref().and_then(|(_, m)| m.clone()));
    if let (Some(nm), Some(tm)) = (&n.model_item, &model) {
        if !nm.trim().is_empty() && nm.trim() == tm.trim() {
            return Some((ItemRule::ModelItem, nm.clone()));
        }
    }
    if let Some(ne) = &n.control_entry {
        for te in &t.control_entries {
            if entries_match(ne, te) {
                return Some((ItemRule::ControlEntry, format!("{ne} / {te}")));
            }
        }
    }
    None
}

/// Whether a notice is in force on `date` (or at all, without a date).
pub fn in_force(n: &DenialNotice, date: Option<Date>) -> bool {
    match date {
        None => n.withdrawn_on.is_none(),
        Some(d) => n.denied_on <= d && n.withdrawn_on.is_none_or(|w| d < w),
    }
}

/// The notices in force that an essentially identical transaction matches, best party match
/// per notice, in the order of `notices`.
pub fn match_notices(
    norm: &Normaliser,
    cat: Option<&Catalogue>,
    notices: &[DenialNotice],
    t: &Transaction,
) -> Vec<DenialMatch> {
    let mut out = Vec::new();
    for (i, n) in notices.iter().enumerate() {
        if !in_force(n, t.date) {
            continue;
        }
        let Some((item_rule, item_detail)) = item_match(cat, &n.item, t) else {
            continue;
        };
        let names = n
            .end_user
            .iter()
            .chain(&n.end_user_aliases)
            .map(|s| ("end_user", s))
            .chain(n.consignees.iter().map(|s| ("consignee", s)));
        let mut best: Option<DenialMatch> = None;
        for (field, nn) in names {
            for p in t
                .parties
                .iter()
                .filter(|p| MATCHED_ROLES.contains(&p.role.as_str()))
            {
                if let Some((rule, score)) = name_match(norm, &p.name, nn) {
                    if best.as_ref().is_none_or(|b| score > b.similarity) {
                        best = Some(DenialMatch {
                            notice: i,
                            party_role: p.role.clone(),
                            party_name: p.name.clone(),
                            notice_field: field.to_string(),
                            notice_name: nn.clone(),
                            name_rule: rule,
                            similarity: score,
                            item_rule,
                            item_detail: item_detail.clone(),
                        });
                    }
                }
            }
        }
        out.extend(best);
    }
    out
}

/// The line shown with every match.
pub const CONSULT_LINE: &str = "A partner authority denied an essentially identical transaction: \
consult the issuing authority before granting (no undercut; Art. 23 of Regulation (EU) 2021/821).";

#[cfg(test)]
#[path = "denials_tests.rs"]
mod tests;
