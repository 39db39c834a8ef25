//! The partner-data access policy, as pure functions (no IO), so every path that releases data
//! (API reads, information requests, federation) decides the same way and tests can compare it
//! with an independent reference.
//!
//! A viewer sees a record when (1) it owns it (every field), or (2) the record's MISP
//! distribution level admits the viewer's organisation AND at least one active firm-level
//! agreement from the owner to the viewer covers the record's item and metric; the viewer then
//! sees the union of the fields those agreements list. Country-level agreements never release a
//! single record: they release sums per (item, metric, unit, period, country) under the rules of
//! [`super::aggregates`] (distinct normalised firms, dominance, no differencing over time). Revoked, not yet valid and expired
//! agreements count for nothing, so revocation takes effect with the next request.
//!
//! Federated copies (records with an `origin`, received from a peer instance) are the exception:
//! the sender's agreement already chose and masked what travelled, so on the receiving instance
//! their narrowed distribution level alone decides who sees them (MISP semantics).

use super::{Agreement, OrgKind, Record};
use serde::{Deserialize, Serialize};
use std::collections::BTreeSet;

/// Optional record fields an agreement can release. `item`, `metric`, `tlp` and `distribution`
/// are always shown: without them a shared figure cannot be read or handled correctly.
pub const SHAREABLE_FIELDS: &[&str] = &[
    "provider",
    "site",
    "country",
    "value",
    "unit",
    "period",
    "provenance",
];

/// Traffic Light Protocol 2.0 marking: how recipients may pass the data on. Carried with the
/// record everywhere; [`Tlp::Red`] additionally never leaves the instance by federation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize, Hash)]
pub enum Tlp {
    #[serde(rename = "clear")]
    Clear,
    #[serde(rename = "green")]
    Green,
    #[serde(rename = "amber")]
    Amber,
    #[serde(rename = "amber+strict")]
    AmberStrict,
    #[serde(rename = "red")]
    Red,
}

impl Tlp {
    pub fn as_str(self) -> &'static str {
        match self {
            Tlp::Clear => "clear",
            Tlp::Green => "green",
            Tlp::Amber => "amber",
            Tlp::AmberStrict => "amber+strict",
            Tlp::Red => "red",
        }
    }
    pub fn parse(s: &str) -> Option<Tlp> {
        match s {
            "clear" => Some(Tlp::Clear),
            "green" => Some(Tlp::Green),
            "amber" => Some(Tlp::Amber),
            "amber+strict" => Some(Tlp::AmberStrict),
            "red" => Some(Tlp::Red),
            _ => None,
        }
    }
}

/// MISP distribution level: who may receive the record at all (agreements then narrow further).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Hash)]
#[serde(rename_all = "snake_case")]
pub enum Distribution {
    /// Only the owning organisation.
    OrganisationOnly,
    /// Organisations of this instance.
    Community,
    /// This instance and directly connected (federated) instances; becomes `community` on the
    /// receiving instance.
    ConnectedCommunities,
    /// Anyone; stays `all` when federated.
    All,
    /// The members of one named sharing group (never federated in this version).
    SharingGroup,
}

impl Distribution {
    pub fn as_str(self) -> &'static str {
        match self {
            Distribution::OrganisationOnly => "organisation_only",
            Distribution::Community => "community",
            Distribution::ConnectedCommunities => "connected_communities",
            Distribution::All => "all",
            Distribution::SharingGroup => "sharing_group",
        }
    }
    pub fn parse(s: &str) -> Option<Distribution> {
        match s {
            "organisation_only" => Some(Distribution::OrganisationOnly),
            "community" => Some(Distribution::Community),
            "connected_communities" => Some(Distribution::ConnectedCommunities),
            "all" => Some(Distribution::All),
            "sharing_group" => Some(Distribution::SharingGroup),
            _ => None,
        }
    }
    /// The distribution a copy carries on the receiving instance; `None`: it does not travel.
    /// Never wider than the original (MISP semantics).
    pub fn narrowed_for_federation(self) -> Option<Distribution> {
        match self {
            Distribution::OrganisationOnly
            | Distribution::Community
            | Distribution::SharingGroup => None,
            Distribution::ConnectedCommunities => Some(Distribution::Community),
            Distribution::All => Some(Distribution::All),
        }
    }
}

/// Aggregation level an agreement releases.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Hash)]
#[serde(rename_all = "snake_case")]
pub enum Granularity {
    /// Individual records (with the agreed fields).
    Firm,
    /// Only sums per country with at least `min_firms` contributing firms.
    Country,
}

impl Granularity {
    pub fn as_str(self) -> &'static str {
        match self {
            Granularity::Firm => "firm",
            Granularity::Country => "country",
        }
    }
    pub fn parse(s: &str) -> Option<Granularity> {
        match s {
            "firm" => Some(Granularity::Firm),
            "country" => Some(Granularity::Country),
            _ => None,
        }
    }
}

/// The organisation asking, as the policy needs it.
#[derive(Debug, Clone, PartialEq)]
pub struct Viewer {
    pub org_id: i64,
    pub kind: OrgKind,
    /// Sharing groups the org belongs to.
    pub groups: Vec<i64>,
}

/// `"*"` matches anything; otherwise exact match.
pub fn list_matches(list: &[String], v: &str) -> bool {
    list.iter().any(|x| x == "*" || x == v)
}

/// Whether a record's distribution level admits the viewer (ignoring agreements).
pub fn distribution_allows(rec: &Record, viewer: &Viewer) -> bool {
    distribution_admits(rec.distribution, rec.sharing_group_id, viewer)
}

/// Whether a distribution level (with its sharing group) admits the viewer; the rule of
/// [`distribution_allows`] for anything that carries a level (records, denial notices).
pub fn distribution_admits(d: Distribution, group: Option<i64>, viewer: &Viewer) -> bool {
    match d {
        Distribution::OrganisationOnly => false,
        Distribution::Community => viewer.kind == OrgKind::Local,
        Distribution::ConnectedCommunities | Distribution::All => true,
        Distribution::SharingGroup => group.is_some_and(|g| viewer.groups.contains(&g)),
    }
}

pub fn agreement_active(a: &Agreement, now: i64) -> bool {
    a.revoked_at.is_none() && a.valid_from <= now && a.valid_until.is_none_or(|u| now < u)
}

/// Whether an agreement (of any granularity) covers a record for its grantee.
pub fn agreement_covers(a: &Agreement, rec: &Record, now: i64) -> bool {
    a.grantor_org_id == rec.org_id
        && agreement_active(a, now)
        && list_matches(&a.items, &rec.item)
        && list_matches(&a.metrics, &rec.metric)
}

/// What a viewer may see of one record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Access {
    None,
    /// The owner: every field.
    Full,
    /// These of [`SHAREABLE_FIELDS`].
    Fields(BTreeSet<String>),
}

/// Decide access to one record. `agreements` may contain any agreements; only active firm-level
/// ones from the owner to the viewer count.
pub fn record_access(rec: &Record, viewer: &Viewer, agreements: &[Agreement], now: i64) -> Access {
    if rec.org_id == viewer.org_id {
        return Access::Full;
    }
    if !distribution_allows(rec, viewer) {
        return Access::None;
    }
    if rec.origin.is_some() {
        // A federated copy: the sending instance's agreement already decided what travels and
        // masked the rest; here its (narrowed) distribution level governs, as in MISP.
        return Access::Fields(SHAREABLE_FIELDS.iter().map(|f| f.to_string()).collect());
    }
    let mut fields = BTreeSet::new();
    let mut any = false;
    for a in agreements {
        if a.grantee_org_id == viewer.org_id
            && a.granularity == Granularity::Firm
            && agreement_covers(a, rec, now)
        {
            any = true;
            fields.extend(a.fields.iter().cloned());
        }
    }
    if any {
        Access::Fields(fields)
    } else {
        Access::None
    }
}

/// A record as released to a viewer: masked fields are absent.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RecordView {
    pub id: i64,
    pub uid: String,
    pub owner_org_id: i64,
    pub item: String,
    pub metric: String,
    pub tlp: Tlp,
    pub distribution: Distribution,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub provider: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub site: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub country: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub value: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub unit: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub period: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub provenance: Option<String>,
    /// Owner only.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sharing_group_id: Option<i64>,
    /// Owner only.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub origin: Option<String>,
    pub created_at: i64,
}

/// Apply an access decision; `None` for [`Access::None`].
pub fn view(rec: &Record, access: &Access) -> Option<RecordView> {
    let allowed = |f: &str| match access {
        Access::Full => true,
        Access::Fields(fs) => fs.contains(f),
        Access::None => false,
    };
    if *access == Access::None {
        return None;
    }
    let full = *access == Access::Full;
    Some(RecordView {
        id: rec.id,
        uid: rec.uid.clone(),
        owner_org_id: rec.org_id,
        item: rec.item.clone(),
        metric: rec.metric.clone(),
        tlp: rec.tlp,
        distribution: rec.distribution,
        provider: rec.provider.clone().filter(|_| allowed("provider")),
        site: rec.site.clone().filter(|_| allowed("site")),
        country: rec.country.clone().filter(|_| allowed("country")),
        value: rec.value.filter(|_| allowed("value")),
        unit: rec.unit.clone().filter(|_| allowed("unit")),
        period: rec.period.clone().filter(|_| allowed("period")),
        provenance: rec.provenance.clone().filter(|_| allowed("provenance")),
        sharing_group_id: rec.sharing_group_id.filter(|_| full),
        origin: rec.origin.clone().filter(|_| full),
        created_at: rec.created_at,
    })
}

pub use super::aggregates::Aggregate;

// ---------------------------------------------------------------------------------------------
// Denial notices (issue 17)

/// The metric an agreement lists to cover denial notices. Only this exact name counts, never
/// `"*"`: agreements written for supply-chain records before notices existed must not start
/// releasing denials (fail closed).
pub const DENIAL_METRIC: &str = "denial_notice";

/// Notice fields an agreement can release (`end_user` includes its aliases). Always shown:
/// reference, authority, jurisdiction, date, item, destination, reason category, TLP,
/// distribution and a withdrawal: without them a partner cannot tell what was denied, by whom,
/// or whether it still stands.
pub const DENIAL_SHAREABLE_FIELDS: &[&str] = &["end_user", "consignees", "reason"];

/// What the policy needs of a stored notice.
#[derive(Debug, Clone, PartialEq)]
pub struct NoticeScope<'a> {
    pub org_id: i64,
    pub distribution: Distribution,
    pub sharing_group_id: Option<i64>,
    /// Federated copy (received from a peer instance).
    pub federated: bool,
    pub control_entry: Option<&'a str>,
    pub model_item: Option<&'a str>,
}

/// Whether an agreement covers a notice: from its owner, active, firm-level, listing
/// [`DENIAL_METRIC`], and listing `"*"`, the notice's model item or its control entry as item.
pub fn agreement_covers_notice(a: &Agreement, n: &NoticeScope, now: i64) -> bool {
    a.grantor_org_id == n.org_id
        && agreement_active(a, now)
        && a.granularity == Granularity::Firm
        && a.metrics.iter().any(|m| m == DENIAL_METRIC)
        && (a.items.iter().any(|i| i == "*")
            || [n.model_item, n.control_entry]
                .into_iter()
                .flatten()
                .any(|v| a.items.iter().any(|i| i == v)))
}

/// Decide access to one notice, as [`record_access`] does for records: the owner sees all; a
/// federated copy (masked by the sender) is governed by its distribution level; otherwise the
/// level must admit the viewer AND an active agreement cover the notice, and the viewer sees
/// the union of the [`DENIAL_SHAREABLE_FIELDS`] those agreements list.
pub fn notice_access(
    n: &NoticeScope,
    viewer: &Viewer,
    agreements: &[Agreement],
    now: i64,
) -> Access {
    if n.org_id == viewer.org_id {
        return Access::Full;
    }
    if !distribution_admits(n.distribution, n.sharing_group_id, viewer) {
        return Access::None;
    }
    if n.federated {
        return Access::Fields(
            DENIAL_SHAREABLE_FIELDS
                .iter()
                .map(|f| f.to_string())
                .collect(),
        );
    }
    let mut fields = BTreeSet::new();
    let mut any = false;
    for a in agreements {
        if a.grantee_org_id == viewer.org_id && agreement_covers_notice(a, n, now) {
            any = true;
            fields.extend(
                a.fields
                    .iter()
                    .filter(|f| DENIAL_SHAREABLE_FIELDS.contains(&f.as_str()))
                    .cloned(),
            );
        }
    }
    if any {
        Access::Fields(fields)
    } else {
        Access::None
    }
}

/// Mask a notice for an access decision: withheld fields are emptied and named in the answer
/// (`None` for [`Access::None`]).
pub fn mask_notice(
    n: &chipwatch_controls::denials::DenialNotice,
    access: &Access,
) -> Option<(chipwatch_controls::denials::DenialNotice, Vec<String>)> {
    let allowed = |f: &str| match access {
        Access::Full => true,
        Access::Fields(fs) => fs.contains(f),
        Access::None => false,
    };
    if *access == Access::None {
        return None;
    }
    let mut out = n.clone();
    let mut withheld = Vec::new();
    if !allowed("end_user") {
        if out.end_user.take().is_some() {
            withheld.push("end_user".to_string());
        }
        out.end_user_aliases.clear();
    }
    if !allowed("consignees") && !out.consignees.is_empty() {
        out.consignees.clear();
        withheld.push("consignees".to_string());
    }
    if !allowed("reason") && out.reason.take().is_some() {
        withheld.push("reason".to_string());
    }
    Some((out, withheld))
}

#[cfg(test)]
mod denial_tests {
    use super::*;
    use chipwatch_controls::denials::{DenialNotice, DeniedItem, ReasonCategory};

    fn agreement(metrics: &[&str], items: &[&str], fields: &[&str]) -> Agreement {
        Agreement {
            id: 1,
            grantor_org_id: 1,
            grantee_org_id: 2,
            items: items.iter().map(|s| s.to_string()).collect(),
            metrics: metrics.iter().map(|s| s.to_string()).collect(),
            fields: fields.iter().map(|s| s.to_string()).collect(),
            granularity: Granularity::Firm,
            min_firms: 1,
            max_firm_share: 0.6,
            valid_from: 0,
            valid_until: Some(100),
            revoked_at: None,
            created_at: 0,
        }
    }

    fn scope(d: Distribution) -> NoticeScope<'static> {
        NoticeScope {
            org_id: 1,
            distribution: d,
            sharing_group_id: None,
            federated: false,
            control_entry: Some("3B001.f"),
            model_item: None,
        }
    }

    const VIEWER: Viewer = Viewer {
        org_id: 2,
        kind: OrgKind::Local,
        groups: Vec::new(),
    };

    #[test]
    fn only_active_firm_agreements_naming_denial_notice_release_notices() {
        let s = scope(Distribution::Community);
        let ok = agreement(&[DENIAL_METRIC], &["*"], &["end_user", "provider"]);
        assert_eq!(
            notice_access(&s, &VIEWER, std::slice::from_ref(&ok), 50),
            Access::Fields(["end_user".to_string()].into()),
            "record fields are not notice fields"
        );
        // Expired (now 100 = valid_until), not yet valid, revoked, "*" metric, country
        // granularity, another entry, another grantee or grantor: nothing.
        assert_eq!(
            notice_access(&s, &VIEWER, std::slice::from_ref(&ok), 100),
            Access::None
        );
        let mut later = ok.clone();
        later.valid_from = 60;
        let mut revoked = ok.clone();
        revoked.revoked_at = Some(10);
        let mut country = ok.clone();
        country.granularity = Granularity::Country;
        let mut other_grantee = ok.clone();
        other_grantee.grantee_org_id = 3;
        let mut other_grantor = ok.clone();
        other_grantor.grantor_org_id = 3;
        for a in [
            later,
            revoked,
            country,
            other_grantee,
            other_grantor,
            agreement(&["*"], &["*"], &["end_user"]),
            agreement(&[DENIAL_METRIC], &["3B001.g"], &["end_user"]),
        ] {
            assert_eq!(
                notice_access(&s, &VIEWER, std::slice::from_ref(&a), 50),
                Access::None,
                "{a:?}"
            );
        }
        // The notice's control entry as item counts; the union of fields over agreements.
        let a = agreement(&[DENIAL_METRIC], &["3B001.f"], &["reason"]);
        assert_eq!(
            notice_access(&s, &VIEWER, &[ok, a], 50),
            Access::Fields(["end_user".to_string(), "reason".to_string()].into())
        );
        // Organisation-only notices never leave, whatever the agreement.
        let a = agreement(&[DENIAL_METRIC], &["*"], &["end_user"]);
        assert_eq!(
            notice_access(&scope(Distribution::OrganisationOnly), &VIEWER, &[a], 50),
            Access::None
        );
        // The owner sees everything without any agreement.
        let mut own = scope(Distribution::OrganisationOnly);
        own.org_id = 2;
        assert_eq!(notice_access(&own, &VIEWER, &[], 50), Access::Full);
    }

    #[test]
    fn masking_empties_and_names_withheld_fields() {
        let n = DenialNotice {
            reference: "R".into(),
            authority: "BAFA".into(),
            jurisdiction: "DEU".into(),
            denied_on: chipwatch_controls::Date::parse("2025-03-14").unwrap(),
            item: DeniedItem {
                description: "scanner".into(),
                ..Default::default()
            },
            destination: "CHN".into(),
            end_user: Some("E".into()),
            end_user_aliases: vec!["A".into()],
            consignees: vec!["C".into()],
            reason_category: ReasonCategory::Other,
            reason: Some("why".into()),
            withdrawn_on: None,
        };
        let (m, w) = mask_notice(&n, &Access::Fields(["consignees".to_string()].into())).unwrap();
        assert_eq!(w, vec!["end_user", "reason"]);
        assert!(m.end_user.is_none() && m.end_user_aliases.is_empty() && m.reason.is_none());
        assert_eq!(m.consignees, vec!["C"]);
        assert_eq!(
            (m.item, m.destination),
            (n.item.clone(), n.destination.clone())
        );
        assert_eq!(mask_notice(&n, &Access::Full).unwrap(), (n.clone(), vec![]));
        assert!(mask_notice(&n, &Access::None).is_none());
    }
}
