//! Denial notices between partner authorities (issue 17), stored per organisation.
//!
//! A notice is kept as published and never rewritten: the database refuses UPDATE and DELETE
//! on `denial_notices` and `denial_withdrawals` (migration 0104), and a withdrawal is a row of
//! its own (at most one per notice). Publishing and withdrawing are announced in the audit
//! chain (`denial.publish`, `denial.withdraw`; federation: `federation.ingest_denials`).
//!
//! Notices carry a TLP marking and a MISP distribution level like partner records, and other
//! organisations see them only as [`partner::policy::notice_access`] decides: an active
//! firm-level agreement from the owner listing the metric `denial_notice` releases the notice
//! with the agreed [`DENIAL_SHAREABLE_FIELDS`](crate::partner::policy::DENIAL_SHAREABLE_FIELDS);
//! revoked or expired agreements release nothing. Federated copies (`origin` set) arrive
//! already masked by the sender and are governed by their narrowed distribution level.

use crate::partner::policy::{self, Access, NoticeScope, Viewer};
use crate::partner::{Agreement, Distribution, Org, Principal, Tlp};
use crate::{audit, col, Store, StoreError};
use chipwatch_controls::denials::{
    validate, validate_released, DenialNotice, DeniedItem, ReasonCategory,
};
use chipwatch_controls::Date;
use serde::Serialize;
use sqlx::any::AnyRow;

/// A notice to publish (or a federated copy to keep).
#[derive(Debug, Clone, PartialEq)]
pub struct NewDenialNotice {
    pub notice: DenialNotice,
    /// Default amber.
    pub tlp: Option<Tlp>,
    /// Default organisation_only (nothing is shared until the publisher says so).
    pub distribution: Option<Distribution>,
    pub sharing_group_id: Option<i64>,
}

/// A stored notice, as its owner sees it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct StoredDenial {
    pub id: i64,
    pub uid: String,
    pub org_id: i64,
    #[serde(flatten)]
    pub notice: DenialNotice,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub withdrawal_reason: Option<String>,
    pub tlp: Tlp,
    pub distribution: Distribution,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sharing_group_id: Option<i64>,
    /// `instance/uid` of the original, for federated copies.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub origin: Option<String>,
    pub created_at: i64,
}

impl StoredDenial {
    pub fn scope(&self) -> NoticeScope<'_> {
        NoticeScope {
            org_id: self.org_id,
            distribution: self.distribution,
            sharing_group_id: self.sharing_group_id,
            federated: self.origin.is_some(),
            control_entry: self.notice.item.control_entry.as_deref(),
            model_item: self.notice.item.model_item.as_deref(),
        }
    }
}

/// A notice as released to a viewer: withheld fields are absent and named in `withheld`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct DenialView {
    pub id: i64,
    pub uid: String,
    pub owner_org_id: i64,
    /// The viewer's own notice.
    pub own: bool,
    /// A copy received from a federated instance.
    pub federated: bool,
    #[serde(flatten)]
    pub notice: DenialNotice,
    /// Owner only.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub withdrawal_reason: Option<String>,
    pub tlp: Tlp,
    pub distribution: Distribution,
    /// Fields the notice has but the agreement does not release to the viewer.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub withheld: Vec<String>,
    pub created_at: i64,
}

/// Apply the policy to one stored notice for a viewer.
pub fn release(
    d: &StoredDenial,
    viewer: &Viewer,
    agreements: &[Agreement],
    now: i64,
) -> Option<DenialView> {
    let access = policy::notice_access(&d.scope(), viewer, agreements, now);
    let full = access == Access::Full;
    let (notice, withheld) = policy::mask_notice(&d.notice, &access)?;
    Some(DenialView {
        id: d.id,
        uid: d.uid.clone(),
        owner_org_id: d.org_id,
        own: d.org_id == viewer.org_id,
        federated: d.origin.is_some(),
        notice,
        withdrawal_reason: d.withdrawal_reason.clone().filter(|_| full),
        tlp: d.tlp,
        distribution: d.distribution,
        withheld,
        created_at: d.created_at,
    })
}

/// Filters of a notice list.
#[derive(Debug, Clone, Default)]
pub struct DenialFilter {
    /// ISO alpha-3.
    pub destination: Option<String>,
    pub authority: Option<String>,
    /// Include withdrawn notices (default: only those in force).
    pub include_withdrawn: bool,
    /// Text in the reference, item description or control entry (case-insensitive).
    pub text: Option<String>,
}

impl DenialFilter {
    pub fn admits(&self, v: &DenialView) -> bool {
        let n = &v.notice;
        let text = self.text.as_deref().map(str::to_lowercase);
        (self.include_withdrawn || n.withdrawn_on.is_none())
            && self
                .destination
                .as_deref()
                .is_none_or(|d| n.destination == d)
            && self
                .authority
                .as_deref()
                .is_none_or(|a| n.authority.eq_ignore_ascii_case(a))
            && text.is_none_or(|t| {
                [
                    Some(n.reference.as_str()),
                    Some(n.item.description.as_str()),
                    n.item.control_entry.as_deref(),
                ]
                .into_iter()
                .flatten()
                .any(|s| s.to_lowercase().contains(&t))
            })
    }
}

const SELECT: &str = "SELECT n.*, w.withdrawn_on, w.reason AS withdrawal_reason \
     FROM denial_notices n LEFT JOIN denial_withdrawals w ON w.notice_id = n.id";

fn list(r: &AnyRow, name: &str) -> Result<Vec<String>, StoreError> {
    let t: String = col(r, name)?;
    serde_json::from_str(&t).map_err(|e| StoreError::Corrupt(format!("{name}: {e}")))
}

fn from_row(r: &AnyRow) -> Result<StoredDenial, StoreError> {
    let date = |name: &str| -> Result<Option<Date>, StoreError> {
        let t: Option<String> = col(r, name)?;
        t.map(|t| Date::parse(&t).map_err(|e| StoreError::Corrupt(format!("{name}: {e}"))))
            .transpose()
    };
    let cat: String = col(r, "reason_category")?;
    let tlp: String = col(r, "tlp")?;
    let dist: String = col(r, "distribution")?;
    Ok(StoredDenial {
        id: col(r, "id")?,
        uid: col(r, "uid")?,
        org_id: col(r, "org_id")?,
        notice: DenialNotice {
            reference: col(r, "reference")?,
            authority: col(r, "authority")?,
            jurisdiction: col(r, "jurisdiction")?,
            denied_on: date("denied_on")?
                .ok_or_else(|| StoreError::Corrupt("denied_on: missing".into()))?,
            item: DeniedItem {
                description: col(r, "item_description")?,
                product: col(r, "item_product")?,
                control_entry: col(r, "item_control_entry")?,
                model_item: col(r, "item_model_item")?,
            },
            destination: col(r, "destination")?,
            end_user: col(r, "end_user")?,
            end_user_aliases: list(r, "end_user_aliases")?,
            consignees: list(r, "consignees")?,
            reason_category: ReasonCategory::parse(&cat)
                .ok_or_else(|| StoreError::Corrupt(format!("reason_category: {cat}")))?,
            reason: col(r, "reason")?,
            withdrawn_on: date("withdrawn_on")?,
        },
        withdrawal_reason: col(r, "withdrawal_reason")?,
        tlp: Tlp::parse(&tlp).ok_or_else(|| StoreError::Corrupt(format!("tlp: {tlp}")))?,
        distribution: Distribution::parse(&dist)
            .ok_or_else(|| StoreError::Corrupt(format!("distribution: {dist}")))?,
        sharing_group_id: col(r, "sharing_group_id")?,
        origin: col(r, "origin")?,
        created_at: col(r, "created_at")?,
    })
}

fn invalid((field, message): (String, String)) -> StoreError {
    StoreError::Invalid(format!("{field}: {message}"))
}

async fn insert(
    tx: &mut crate::WriteTx,
    org_id: i64,
    user_id: Option<i64>,
    uid: &str,
    origin: Option<&str>,
    n: &NewDenialNotice,
) -> Result<i64, StoreError> {
    let d = &n.notice;
    let id: i64 = sqlx::query_scalar(
        "INSERT INTO denial_notices (uid, org_id, user_id, reference, authority, jurisdiction, denied_on, \
         destination, item_description, item_product, item_control_entry, item_model_item, end_user, \
         end_user_aliases, consignees, reason_category, reason, tlp, distribution, sharing_group_id, \
         origin, created_at) \
         VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10,$11,$12,$13,$14,$15,$16,$17,$18,$19,$20,$21,$22) RETURNING id",
    )
    .bind(uid)
    .bind(org_id)
    .bind(user_id)
    .bind(d.reference.trim())
    .bind(d.authority.trim())
    .bind(&d.jurisdiction)
    .bind(d.denied_on.to_string())
    .bind(&d.destination)
    .bind(&d.item.description)
    .bind(&d.item.product)
    .bind(&d.item.control_entry)
    .bind(&d.item.model_item)
    .bind(&d.end_user)
    .bind(serde_json::to_string(&d.end_user_aliases).unwrap_or_default())
    .bind(serde_json::to_string(&d.consignees).unwrap_or_default())
    .bind(d.reason_category.as_str())
    .bind(&d.reason)
    .bind(n.tlp.unwrap_or(Tlp::Amber).as_str())
    .bind(n.distribution.unwrap_or(Distribution::OrganisationOnly).as_str())
    .bind(n.sharing_group_id)
    .bind(origin)
    .bind(crate::time::now())
    .fetch_one(tx.conn())
    .await
    .map_err(|e| {
        let e = StoreError::Db(e);
        if e.is_unique_violation() {
            StoreError::Conflict(format!(
                "reference: {} already published a notice `{}`",
                d.authority, d.reference
            ))
        } else {
            e
        }
    })?;
    Ok(id)
}

async fn insert_withdrawal(
    tx: &mut crate::WriteTx,
    notice_id: i64,
    user_id: Option<i64>,
    on: Date,
    reason: &str,
) -> Result<(), StoreError> {
    sqlx::query(
        "INSERT INTO denial_withdrawals (notice_id, user_id, withdrawn_on, reason, created_at) \
         VALUES ($1,$2,$3,$4,$5)",
    )
    .bind(notice_id)
    .bind(user_id)
    .bind(on.to_string())
    .bind(reason)
    .bind(crate::time::now())
    .execute(tx.conn())
    .await
    .map_err(|e| {
        let e = StoreError::Db(e);
        if e.is_unique_violation() {
            StoreError::Conflict(format!("denial notice {notice_id} is already withdrawn"))
        } else {
            e
        }
    })?;
    Ok(())
}

fn check_sharing(n: &NewDenialNotice) -> Result<(), StoreError> {
    match (n.distribution, n.sharing_group_id) {
        (Some(Distribution::SharingGroup), None) => Err(StoreError::Invalid(
            "sharing_group_id: distribution sharing_group needs a sharing group".into(),
        )),
        (d, Some(_)) if d != Some(Distribution::SharingGroup) => Err(StoreError::Invalid(
            "sharing_group_id: only allowed with distribution sharing_group".into(),
        )),
        _ => Ok(()),
    }
}

impl Store {
    /// Publish a notice of the principal's organisation (the caller checks the role).
    pub async fn publish_denial(
        &self,
        who: &Principal,
        n: NewDenialNotice,
    ) -> Result<StoredDenial, StoreError> {
        validate(&n.notice).map_err(invalid)?;
        if n.notice.withdrawn_on.is_some() {
            return Err(StoreError::Invalid(
                "withdrawn_on: a notice is withdrawn by appending a withdrawal, not published withdrawn"
                    .into(),
            ));
        }
        check_sharing(&n)?;
        let uid = crate::partner::new_uid();
        let mut tx = self.begin_write().await?;
        if let Some(g) = n.sharing_group_id {
            let member: Option<i64> = sqlx::query_scalar(
                "SELECT group_id FROM sharing_group_members WHERE group_id = $1 AND org_id = $2",
            )
            .bind(g)
            .bind(who.org.id)
            .fetch_optional(tx.conn())
            .await?;
            if member.is_none() {
                return Err(StoreError::Invalid(format!(
                    "sharing_group_id: organisation is not a member of group {g}"
                )));
            }
        }
        let id = insert(&mut tx, who.org.id, Some(who.user_id), &uid, None, &n).await?;
        audit::append(
            &mut tx,
            &who.actor(),
            "denial.publish",
            &format!("denial:{id}"),
            &serde_json::json!({"reference": n.notice.reference, "authority": n.notice.authority,
                "destination": n.notice.destination, "tlp": n.tlp.unwrap_or(Tlp::Amber).as_str(),
                "distribution": n.distribution.unwrap_or(Distribution::OrganisationOnly).as_str()}),
        )
        .await?;
        tx.commit().await?;
        self.denial_raw(id)
            .await?
            .ok_or_else(|| StoreError::NotFound(format!("denial notice {id}")))
    }

    /// Append the withdrawal of one of the principal's organisation's notices. Another
    /// organisation's notice (or a federated copy) is `NotFound`, a second withdrawal a conflict.
    pub async fn withdraw_denial(
        &self,
        who: &Principal,
        id: i64,
        on: Date,
        reason: &str,
    ) -> Result<StoredDenial, StoreError> {
        // Another organisation's notice is not found, whatever else is wrong with the request.
        let d = self
            .denial_raw(id)
            .await?
            .filter(|d| d.org_id == who.org.id && d.origin.is_none())
            .ok_or_else(|| StoreError::NotFound(format!("denial notice {id}")))?;
        let reason = reason.trim();
        if reason.is_empty() || reason.chars().count() > 2000 {
            return Err(StoreError::Invalid(
                "reason: 1 to 2000 characters saying why the notice is withdrawn".into(),
            ));
        }
        if on < d.notice.denied_on {
            return Err(StoreError::Invalid(
                "withdrawn_on: must not be before the date of denial".into(),
            ));
        }
        let mut tx = self.begin_write().await?;
        insert_withdrawal(&mut tx, id, Some(who.user_id), on, reason).await?;
        audit::append(
            &mut tx,
            &who.actor(),
            "denial.withdraw",
            &format!("denial:{id}"),
            &serde_json::json!({"withdrawn_on": on.to_string(), "reason": reason}),
        )
        .await?;
        tx.commit().await?;
        self.denial_raw(id)
            .await?
            .ok_or_else(|| StoreError::NotFound(format!("denial notice {id}")))
    }

    /// One notice as stored, whoever owns it (callers apply [`release`]).
    pub async fn denial_raw(&self, id: i64) -> Result<Option<StoredDenial>, StoreError> {
        let row = sqlx::query(&format!("{SELECT} WHERE n.id = $1"))
            .bind(id)
            .fetch_optional(self.pool())
            .await?;
        row.as_ref().map(from_row).transpose()
    }

    /// The notices a viewer may see (own, released by agreements, federated copies), masked,
    /// newest first, filtered.
    pub async fn visible_denials(
        &self,
        org: &Org,
        f: &DenialFilter,
    ) -> Result<Vec<DenialView>, StoreError> {
        let viewer = Viewer {
            org_id: org.id,
            kind: org.kind,
            groups: self.group_ids_of(org.id).await?,
        };
        let agreements = self.agreements_granted_to(org.id).await?;
        let now = crate::time::now();
        // Candidates: own, from grantors of active notice agreements, and federated copies; the
        // policy decides each one.
        let mut orgs = vec![org.id];
        for a in &agreements {
            if policy::agreement_active(a, now) && !orgs.contains(&a.grantor_org_id) {
                orgs.push(a.grantor_org_id);
            }
        }
        let mut out = Vec::new();
        let mut seen = std::collections::BTreeSet::new();
        let mut consider = |rows: Vec<AnyRow>| -> Result<(), StoreError> {
            for r in &rows {
                let d = from_row(r)?;
                if seen.insert(d.id) {
                    if let Some(v) = release(&d, &viewer, &agreements, now) {
                        if f.admits(&v) {
                            out.push(v);
                        }
                    }
                }
            }
            Ok(())
        };
        for o in &orgs {
            consider(
                sqlx::query(&format!("{SELECT} WHERE n.org_id = $1"))
                    .bind(*o)
                    .fetch_all(self.pool())
                    .await?,
            )?;
        }
        consider(
            sqlx::query(&format!("{SELECT} WHERE n.origin IS NOT NULL"))
                .fetch_all(self.pool())
                .await?,
        )?;
        out.sort_by_key(|v| std::cmp::Reverse(v.id));
        Ok(out)
    }

    /// One notice as released to a viewer; `None` when missing or not visible (the API answers
    /// 404 for both, so ids of other organisations' notices reveal nothing).
    pub async fn visible_denial(
        &self,
        org: &Org,
        id: i64,
    ) -> Result<Option<DenialView>, StoreError> {
        let Some(d) = self.denial_raw(id).await? else {
            return Ok(None);
        };
        let viewer = Viewer {
            org_id: org.id,
            kind: org.kind,
            groups: self.group_ids_of(org.id).await?,
        };
        let agreements = self.agreements_granted_to(org.id).await?;
        Ok(release(&d, &viewer, &agreements, crate::time::now()))
    }

    /// Keep notices received from a federation peer as notices of `peer_org` (its local
    /// stand-in): a new uid is inserted; a known uid of the same peer only gains a withdrawal
    /// the copy lacks (notices are never rewritten); uids owned by anyone else are skipped.
    /// Returns (inserted, withdrawn, skipped).
    pub async fn ingest_federated_denials(
        &self,
        peer_org: &Org,
        actor: &str,
        notices: Vec<(String, String, NewDenialNotice)>,
    ) -> Result<(usize, usize, usize), StoreError> {
        for (uid, _, n) in &notices {
            // A copy may lack the parties the sender's agreement withholds.
            validate_released(&n.notice)
                .map_err(|(f, m)| StoreError::Invalid(format!("denials: `{uid}`: {f}: {m}")))?;
        }
        let mut tx = self.begin_write().await?;
        let (mut ins, mut wd, mut skip) = (0, 0, 0);
        for (uid, origin, mut n) in notices {
            let known = sqlx::query(
                "SELECT n.id, n.org_id, w.id AS wid FROM denial_notices n \
                 LEFT JOIN denial_withdrawals w ON w.notice_id = n.id WHERE n.uid = $1",
            )
            .bind(&uid)
            .fetch_optional(tx.conn())
            .await?;
            let withdrawn = n.notice.withdrawn_on.take();
            let (id, already_withdrawn) = match known {
                None => {
                    n.sharing_group_id = None;
                    ins += 1;
                    let id = insert(&mut tx, peer_org.id, None, &uid, Some(&origin), &n).await?;
                    (id, false)
                }
                Some(r) if col::<i64>(&r, "org_id")? == peer_org.id => {
                    let wid: Option<i64> = col(&r, "wid")?;
                    (col::<i64>(&r, "id")?, wid.is_some())
                }
                Some(_) => {
                    skip += 1;
                    continue;
                }
            };
            if let Some(on) = withdrawn.filter(|_| !already_withdrawn) {
                insert_withdrawal(&mut tx, id, None, on, "withdrawn by the issuing authority")
                    .await?;
                wd += 1;
            }
        }
        audit::append(
            &mut tx,
            actor,
            "federation.ingest_denials",
            &format!("org:{}", peer_org.id),
            &serde_json::json!({"inserted": ins, "withdrawn": wd, "skipped": skip}),
        )
        .await?;
        tx.commit().await?;
        Ok((ins, wd, skip))
    }
}
