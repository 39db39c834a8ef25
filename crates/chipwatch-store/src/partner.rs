//! Partner exchange data (BRIEF 3.7): organisations (tenants), users with roles, API tokens
//! and dashboard sessions (only a SHA-256 of the secret is stored; see `partner::credentials`),
//! critical-item records with TLP marking and MISP distribution level, sharing groups, sharing
//! agreements, information requests (EU Chips Act Art. 25), federation peers (their tokens
//! sealed at rest) and saved scenarios.
//!
//! The access policy itself is in [`policy`]: pure functions, so the server, the federation code
//! and the tests all decide the same way. Functions here that return partner data to someone
//! other than its owner take the viewer's org and apply the policy before anything leaves.

pub mod aggregates;
mod credentials;
pub mod policy;

use crate::{audit, col, Store, StoreError, WriteTx};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use sqlx::any::AnyRow;

pub use credentials::{Authn, Credential, TokenInfo, SESSION_LABEL, TOUCH_INTERVAL};
pub use policy::{Distribution, Granularity, Tlp, SHAREABLE_FIELDS};

/// Role of a user inside its organisation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize, Hash)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    Viewer,
    Analyst,
    Admin,
}

impl Role {
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Viewer => "viewer",
            Role::Analyst => "analyst",
            Role::Admin => "admin",
        }
    }
    pub fn parse(s: &str) -> Option<Role> {
        match s {
            "viewer" => Some(Role::Viewer),
            "analyst" => Some(Role::Analyst),
            "admin" => Some(Role::Admin),
            _ => None,
        }
    }
}

/// Kind of organisation: a tenant of this instance, or the local stand-in of a federated peer
/// instance (its records arrive by federation; agreements granting it access define what is
/// pushed to / pulled by that instance).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Hash)]
#[serde(rename_all = "snake_case")]
pub enum OrgKind {
    Local,
    Peer,
}

impl OrgKind {
    pub fn as_str(self) -> &'static str {
        match self {
            OrgKind::Local => "local",
            OrgKind::Peer => "peer",
        }
    }
    pub fn parse(s: &str) -> Option<OrgKind> {
        match s {
            "local" => Some(OrgKind::Local),
            "peer" => Some(OrgKind::Peer),
            _ => None,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Org {
    pub id: i64,
    pub uid: String,
    pub name: String,
    pub kind: OrgKind,
    pub created_at: i64,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct User {
    pub id: i64,
    pub org_id: i64,
    pub name: String,
    pub role: Role,
    pub created_at: i64,
}

/// Who is calling: resolved from an API token or a dashboard session.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Principal {
    pub user_id: i64,
    pub user_name: String,
    pub role: Role,
    pub org: Org,
    pub token_id: i64,
    /// Which kind of credential authenticated the call: a session may not mint credentials.
    pub credential: Credential,
}

impl Principal {
    /// Actor string for the audit log (never contains a credential).
    pub fn actor(&self) -> String {
        format!("org:{}/user:{}", self.org.id, self.user_id)
    }
}

/// A critical-item data record as stored.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Record {
    pub id: i64,
    pub uid: String,
    pub org_id: i64,
    pub item: String,
    pub provider: Option<String>,
    pub site: Option<String>,
    pub country: Option<String>,
    pub metric: String,
    pub value: Option<f64>,
    pub unit: Option<String>,
    pub period: Option<String>,
    pub provenance: Option<String>,
    pub tlp: Tlp,
    pub distribution: Distribution,
    pub sharing_group_id: Option<i64>,
    /// For federated copies: `instance/uid` of the original.
    pub origin: Option<String>,
    pub created_at: i64,
}

/// Fields of a new record (validated by the caller's layer and again here).
#[derive(Debug, Clone, PartialEq, Default)]
pub struct NewRecord {
    pub uid: Option<String>,
    pub item: String,
    pub provider: Option<String>,
    pub site: Option<String>,
    pub country: Option<String>,
    pub metric: String,
    pub value: Option<f64>,
    pub unit: Option<String>,
    pub period: Option<String>,
    pub provenance: Option<String>,
    pub tlp: Option<Tlp>,
    pub distribution: Option<Distribution>,
    pub sharing_group_id: Option<i64>,
    pub origin: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Agreement {
    pub id: i64,
    pub grantor_org_id: i64,
    pub grantee_org_id: i64,
    /// Item ids, or `"*"` for every item.
    pub items: Vec<String>,
    /// Metric names, or `"*"`.
    pub metrics: Vec<String>,
    /// Which of [`SHAREABLE_FIELDS`] the grantee sees.
    pub fields: Vec<String>,
    pub granularity: Granularity,
    /// For country granularity: a group is shown only with at least this many distinct firms.
    pub min_firms: i64,
    /// For country granularity: no firm may contribute more than this share of a group's total
    /// (dominance rule; [`aggregates`]).
    pub max_firm_share: f64,
    pub valid_from: i64,
    pub valid_until: Option<i64>,
    pub revoked_at: Option<i64>,
    pub created_at: i64,
}

#[derive(Debug, Clone, PartialEq)]
pub struct NewAgreement {
    pub grantee_org_id: i64,
    pub items: Vec<String>,
    pub metrics: Vec<String>,
    pub fields: Vec<String>,
    pub granularity: Granularity,
    pub min_firms: i64,
    /// Dominance threshold in (0, 1]; [`aggregates::DEFAULT_MAX_FIRM_SHARE`] by default.
    pub max_firm_share: f64,
    pub valid_from: i64,
    pub valid_until: Option<i64>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SharingGroup {
    pub id: i64,
    pub owner_org_id: i64,
    pub name: String,
    pub members: Vec<i64>,
    pub created_at: i64,
}

/// Status of an information request.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RequestStatus {
    Open,
    Answered,
    Declined,
    Withdrawn,
}

impl RequestStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            RequestStatus::Open => "open",
            RequestStatus::Answered => "answered",
            RequestStatus::Declined => "declined",
            RequestStatus::Withdrawn => "withdrawn",
        }
    }
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "open" => Some(RequestStatus::Open),
            "answered" => Some(RequestStatus::Answered),
            "declined" => Some(RequestStatus::Declined),
            "withdrawn" => Some(RequestStatus::Withdrawn),
            _ => None,
        }
    }
}

/// Confidentiality of an information request and of what is provided under it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Confidentiality {
    /// Readable by every user of the requesting organisation.
    Standard,
    /// Readable only by analysts and admins of the requesting organisation.
    Confidential,
}

impl Confidentiality {
    pub fn as_str(self) -> &'static str {
        match self {
            Confidentiality::Standard => "standard",
            Confidentiality::Confidential => "confidential",
        }
    }
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "standard" => Some(Confidentiality::Standard),
            "confidential" => Some(Confidentiality::Confidential),
            _ => None,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct InfoRequest {
    pub id: i64,
    pub requester_org_id: i64,
    pub addressee_org_id: i64,
    pub legal_basis: String,
    pub purpose: String,
    pub scope_items: Vec<String>,
    pub scope_metrics: Vec<String>,
    pub deadline: i64,
    pub confidentiality: Confidentiality,
    pub status: RequestStatus,
    pub created_at: i64,
    pub updated_at: i64,
}

#[derive(Debug, Clone, PartialEq)]
pub struct NewInfoRequest {
    pub addressee_org_id: i64,
    pub legal_basis: String,
    pub purpose: String,
    pub scope_items: Vec<String>,
    pub scope_metrics: Vec<String>,
    pub deadline: i64,
    pub confidentiality: Confidentiality,
}

/// A federation peer: another chipwatch instance. (`Debug` leaves the token out.)
#[derive(Clone, PartialEq)]
pub struct Peer {
    pub id: i64,
    pub name: String,
    pub base_url: String,
    /// Token issued BY the peer instance to us (a credential: never logged or returned). Held
    /// opened in memory only; the database keeps it sealed with the peer key (`crate::secret`).
    pub remote_token: String,
    /// Local org standing for the peer: what agreements let it see is what we push; what we
    /// pull is stored as its records.
    pub local_org_id: i64,
    pub created_at: i64,
}

impl std::fmt::Debug for Peer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Peer")
            .field("id", &self.id)
            .field("name", &self.name)
            .field("base_url", &self.base_url)
            .field("local_org_id", &self.local_org_id)
            .finish_non_exhaustive()
    }
}

/// A saved scenario of an organisation.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SavedScenario {
    pub id: i64,
    pub org_id: i64,
    pub name: String,
    pub spec: serde_json::Value,
    pub result: Option<serde_json::Value>,
    pub created_at: i64,
    pub run_at: Option<i64>,
}

// ---------------------------------------------------------------------------------------------
// Helpers

/// A fresh random uid (as records get): unique across instances, so federated copies keep it.
pub(crate) fn new_uid() -> String {
    random_hex(16)
}

fn random_hex(bytes: usize) -> String {
    let raw: [u8; 32] = rand::random();
    hex::encode(&raw[..bytes.min(32)])
}

/// SHA-256 of a token secret, as stored.
pub fn hash_secret(secret: &str) -> String {
    hex::encode(Sha256::digest(secret.as_bytes()))
}

fn json_list(v: &[String]) -> String {
    serde_json::to_string(v).unwrap_or_else(|_| "[]".into())
}

fn parse_list(row: &AnyRow, name: &str) -> Result<Vec<String>, StoreError> {
    let text: String = col(row, name)?;
    serde_json::from_str(&text).map_err(|e| StoreError::Corrupt(format!("column {name}: {e}")))
}

fn bad(what: &str, value: &str) -> StoreError {
    StoreError::Corrupt(format!("unknown {what} `{value}`"))
}

fn org_from_row(r: &AnyRow) -> Result<Org, StoreError> {
    let kind: String = col(r, "kind")?;
    Ok(Org {
        id: col(r, "id")?,
        uid: col(r, "uid")?,
        name: col(r, "name")?,
        kind: OrgKind::parse(&kind).ok_or_else(|| bad("org kind", &kind))?,
        created_at: col(r, "created_at")?,
    })
}

fn user_from_row(r: &AnyRow) -> Result<User, StoreError> {
    let role: String = col(r, "role")?;
    Ok(User {
        id: col(r, "id")?,
        org_id: col(r, "org_id")?,
        name: col(r, "name")?,
        role: Role::parse(&role).ok_or_else(|| bad("role", &role))?,
        created_at: col(r, "created_at")?,
    })
}

fn record_from_row(r: &AnyRow) -> Result<Record, StoreError> {
    let tlp: String = col(r, "tlp")?;
    let dist: String = col(r, "distribution")?;
    Ok(Record {
        id: col(r, "id")?,
        uid: col(r, "uid")?,
        org_id: col(r, "org_id")?,
        item: col(r, "item")?,
        provider: col(r, "provider")?,
        site: col(r, "site")?,
        country: col(r, "country")?,
        metric: col(r, "metric")?,
        value: col(r, "value")?,
        unit: col(r, "unit")?,
        period: col(r, "period")?,
        provenance: col(r, "provenance")?,
        tlp: Tlp::parse(&tlp).ok_or_else(|| bad("tlp", &tlp))?,
        distribution: Distribution::parse(&dist).ok_or_else(|| bad("distribution", &dist))?,
        sharing_group_id: col(r, "sharing_group_id")?,
        origin: col(r, "origin")?,
        created_at: col(r, "created_at")?,
    })
}

fn agreement_from_row(r: &AnyRow) -> Result<Agreement, StoreError> {
    let g: String = col(r, "granularity")?;
    Ok(Agreement {
        id: col(r, "id")?,
        grantor_org_id: col(r, "grantor_org_id")?,
        grantee_org_id: col(r, "grantee_org_id")?,
        items: parse_list(r, "items")?,
        metrics: parse_list(r, "metrics")?,
        fields: parse_list(r, "fields")?,
        granularity: Granularity::parse(&g).ok_or_else(|| bad("granularity", &g))?,
        min_firms: col(r, "min_firms")?,
        max_firm_share: col(r, "max_firm_share")?,
        valid_from: col(r, "valid_from")?,
        valid_until: col(r, "valid_until")?,
        revoked_at: col(r, "revoked_at")?,
        created_at: col(r, "created_at")?,
    })
}

fn request_from_row(r: &AnyRow) -> Result<InfoRequest, StoreError> {
    let c: String = col(r, "confidentiality")?;
    let s: String = col(r, "status")?;
    Ok(InfoRequest {
        id: col(r, "id")?,
        requester_org_id: col(r, "requester_org_id")?,
        addressee_org_id: col(r, "addressee_org_id")?,
        legal_basis: col(r, "legal_basis")?,
        purpose: col(r, "purpose")?,
        scope_items: parse_list(r, "scope_items")?,
        scope_metrics: parse_list(r, "scope_metrics")?,
        deadline: col(r, "deadline")?,
        confidentiality: Confidentiality::parse(&c).ok_or_else(|| bad("confidentiality", &c))?,
        status: RequestStatus::parse(&s).ok_or_else(|| bad("status", &s))?,
        created_at: col(r, "created_at")?,
        updated_at: col(r, "updated_at")?,
    })
}

fn nonempty(field: &str, v: &str) -> Result<(), StoreError> {
    if v.trim().is_empty() {
        Err(StoreError::Invalid(format!("{field} must not be empty")))
    } else if v.len() > 1000 {
        Err(StoreError::Invalid(format!(
            "{field} is longer than 1000 bytes"
        )))
    } else {
        Ok(())
    }
}

// ---------------------------------------------------------------------------------------------
// Organisations, users, tokens

impl Store {
    pub async fn create_org(
        &self,
        name: &str,
        kind: OrgKind,
        actor: &str,
    ) -> Result<Org, StoreError> {
        nonempty("name", name)?;
        let mut tx = self.begin_write().await?;
        let uid = random_hex(16);
        let now = crate::time::now();
        let id: i64 = sqlx::query_scalar(
            "INSERT INTO orgs (uid, name, kind, created_at) VALUES ($1, $2, $3, $4) RETURNING id",
        )
        .bind(&uid)
        .bind(name)
        .bind(kind.as_str())
        .bind(now)
        .fetch_one(tx.conn())
        .await
        .map_err(|e| conflict_or(e, format!("organisation `{name}` exists")))?;
        audit::append(
            &mut tx,
            actor,
            "org.create",
            &format!("org:{id}"),
            &serde_json::json!({"name": name, "kind": kind.as_str()}),
        )
        .await?;
        tx.commit().await?;
        Ok(Org {
            id,
            uid,
            name: name.to_string(),
            kind,
            created_at: now,
        })
    }

    pub async fn org(&self, id: i64) -> Result<Option<Org>, StoreError> {
        let row = sqlx::query("SELECT * FROM orgs WHERE id = $1")
            .bind(id)
            .fetch_optional(self.pool())
            .await?;
        row.as_ref().map(org_from_row).transpose()
    }

    pub async fn org_by_name(&self, name: &str) -> Result<Option<Org>, StoreError> {
        let row = sqlx::query("SELECT * FROM orgs WHERE name = $1")
            .bind(name)
            .fetch_optional(self.pool())
            .await?;
        row.as_ref().map(org_from_row).transpose()
    }

    pub async fn orgs(&self) -> Result<Vec<Org>, StoreError> {
        let rows = sqlx::query("SELECT * FROM orgs ORDER BY id")
            .fetch_all(self.pool())
            .await?;
        rows.iter().map(org_from_row).collect()
    }

    pub async fn create_user(
        &self,
        org_id: i64,
        name: &str,
        role: Role,
        actor: &str,
    ) -> Result<User, StoreError> {
        nonempty("name", name)?;
        if self.org(org_id).await?.is_none() {
            return Err(StoreError::NotFound(format!("org {org_id}")));
        }
        let mut tx = self.begin_write().await?;
        let now = crate::time::now();
        let id: i64 = sqlx::query_scalar(
            "INSERT INTO users (org_id, name, role, created_at) VALUES ($1, $2, $3, $4) RETURNING id",
        )
        .bind(org_id)
        .bind(name)
        .bind(role.as_str())
        .bind(now)
        .fetch_one(tx.conn())
        .await
        .map_err(|e| conflict_or(e, format!("user `{name}` exists in org {org_id}")))?;
        audit::append(
            &mut tx,
            actor,
            "user.create",
            &format!("user:{id}"),
            &serde_json::json!({"org": org_id, "name": name, "role": role.as_str()}),
        )
        .await?;
        tx.commit().await?;
        Ok(User {
            id,
            org_id,
            name: name.to_string(),
            role,
            created_at: now,
        })
    }

    pub async fn user(&self, id: i64) -> Result<Option<User>, StoreError> {
        let row = sqlx::query("SELECT * FROM users WHERE id = $1")
            .bind(id)
            .fetch_optional(self.pool())
            .await?;
        row.as_ref().map(user_from_row).transpose()
    }

    pub async fn users_of(&self, org_id: i64) -> Result<Vec<User>, StoreError> {
        let rows = sqlx::query("SELECT * FROM users WHERE org_id = $1 ORDER BY id")
            .bind(org_id)
            .fetch_all(self.pool())
            .await?;
        rows.iter().map(user_from_row).collect()
    }
}

fn conflict_or(e: sqlx::Error, msg: String) -> StoreError {
    let e = StoreError::Db(e);
    if e.is_unique_violation() {
        StoreError::Conflict(msg)
    } else {
        e
    }
}

// ---------------------------------------------------------------------------------------------
// Sharing groups

impl Store {
    pub async fn create_sharing_group(
        &self,
        owner: &Principal,
        name: &str,
        members: &[i64],
    ) -> Result<SharingGroup, StoreError> {
        nonempty("name", name)?;
        let mut all: Vec<i64> = members.to_vec();
        all.push(owner.org.id);
        all.sort_unstable();
        all.dedup();
        for m in &all {
            if self.org(*m).await?.is_none() {
                return Err(StoreError::Invalid(format!(
                    "members: unknown organisation {m}"
                )));
            }
        }
        let mut tx = self.begin_write().await?;
        let now = crate::time::now();
        let id: i64 = sqlx::query_scalar(
            "INSERT INTO sharing_groups (owner_org_id, name, created_at) VALUES ($1, $2, $3) RETURNING id",
        )
        .bind(owner.org.id)
        .bind(name)
        .bind(now)
        .fetch_one(tx.conn())
        .await
        .map_err(|e| conflict_or(e, format!("sharing group `{name}` exists")))?;
        for m in &all {
            sqlx::query("INSERT INTO sharing_group_members (group_id, org_id) VALUES ($1, $2)")
                .bind(id)
                .bind(*m)
                .execute(tx.conn())
                .await?;
        }
        audit::append(
            &mut tx,
            &owner.actor(),
            "sharing_group.create",
            &format!("sharing_group:{id}"),
            &serde_json::json!({"name": name, "members": all}),
        )
        .await?;
        tx.commit().await?;
        Ok(SharingGroup {
            id,
            owner_org_id: owner.org.id,
            name: name.to_string(),
            members: all,
            created_at: now,
        })
    }

    /// Groups the org owns or belongs to.
    pub async fn sharing_groups_of(&self, org_id: i64) -> Result<Vec<SharingGroup>, StoreError> {
        let rows = sqlx::query(
            "SELECT g.* FROM sharing_groups g WHERE g.id IN \
             (SELECT group_id FROM sharing_group_members WHERE org_id = $1) ORDER BY g.id",
        )
        .bind(org_id)
        .fetch_all(self.pool())
        .await?;
        let mut out = Vec::new();
        for r in &rows {
            let id: i64 = col(r, "id")?;
            out.push(SharingGroup {
                id,
                owner_org_id: col(r, "owner_org_id")?,
                name: col(r, "name")?,
                members: self.group_members(id).await?,
                created_at: col(r, "created_at")?,
            });
        }
        Ok(out)
    }

    async fn group_members(&self, group_id: i64) -> Result<Vec<i64>, StoreError> {
        Ok(sqlx::query_scalar(
            "SELECT org_id FROM sharing_group_members WHERE group_id = $1 ORDER BY org_id",
        )
        .bind(group_id)
        .fetch_all(self.pool())
        .await?)
    }

    /// Ids of the sharing groups an org is a member of.
    pub async fn group_ids_of(&self, org_id: i64) -> Result<Vec<i64>, StoreError> {
        Ok(
            sqlx::query_scalar("SELECT group_id FROM sharing_group_members WHERE org_id = $1")
                .bind(org_id)
                .fetch_all(self.pool())
                .await?,
        )
    }
}

// ---------------------------------------------------------------------------------------------
// Records

impl Store {
    /// Create a record owned by the principal's organisation.
    pub async fn create_record(
        &self,
        who: &Principal,
        rec: NewRecord,
    ) -> Result<Record, StoreError> {
        let mut tx = self.begin_write().await?;
        let r = insert_record(&mut tx, who.org.id, rec, self).await?;
        audit::append(
            &mut tx,
            &who.actor(),
            "record.create",
            &format!("record:{}", r.id),
            &serde_json::json!({"uid": r.uid, "item": r.item, "metric": r.metric}),
        )
        .await?;
        tx.commit().await?;
        Ok(r)
    }

    /// Delete a record of the principal's organisation. Records attached to an information
    /// request are kept (the response must stay reproducible): Conflict.
    pub async fn delete_record(&self, who: &Principal, id: i64) -> Result<(), StoreError> {
        let mut tx = self.begin_write().await?;
        let attached: Option<i64> = sqlx::query_scalar(
            "SELECT request_id FROM request_records WHERE record_id = $1 LIMIT 1",
        )
        .bind(id)
        .fetch_optional(tx.conn())
        .await?;
        let owner: Option<i64> = sqlx::query_scalar("SELECT org_id FROM records WHERE id = $1")
            .bind(id)
            .fetch_optional(tx.conn())
            .await?;
        if owner != Some(who.org.id) {
            return Err(StoreError::NotFound(format!("record {id}")));
        }
        if let Some(req) = attached {
            return Err(StoreError::Conflict(format!(
                "record {id} is part of the response to request {req}"
            )));
        }
        sqlx::query("DELETE FROM records WHERE id = $1")
            .bind(id)
            .execute(tx.conn())
            .await?;
        audit::append(
            &mut tx,
            &who.actor(),
            "record.delete",
            &format!("record:{id}"),
            &serde_json::json!({}),
        )
        .await?;
        tx.commit().await?;
        Ok(())
    }

    /// Replace the values of a record of the principal's organisation; its id, uid, owner and
    /// creation time stay, so partners and federation peers see the new values under the same
    /// identity. A record attached to an information request's answer is kept as it was
    /// answered (Conflict), as for [`Store::delete_record`]. The audit entry names the fields
    /// that changed, not their values.
    pub async fn update_record(
        &self,
        who: &Principal,
        id: i64,
        rec: NewRecord,
    ) -> Result<Record, StoreError> {
        validate_record(&rec)?;
        let mut tx = self.begin_write().await?;
        let old = sqlx::query("SELECT * FROM records WHERE id = $1")
            .bind(id)
            .fetch_optional(tx.conn())
            .await?
            .as_ref()
            .map(record_from_row)
            .transpose()?
            .filter(|r| r.org_id == who.org.id)
            .ok_or_else(|| StoreError::NotFound(format!("record {id}")))?;
        let attached: Option<i64> = sqlx::query_scalar(
            "SELECT request_id FROM request_records WHERE record_id = $1 LIMIT 1",
        )
        .bind(id)
        .fetch_optional(tx.conn())
        .await?;
        if let Some(req) = attached {
            return Err(StoreError::Conflict(format!(
                "record {id} is part of the response to request {req}; publish a new record instead"
            )));
        }
        check_group_member(&mut tx, rec.sharing_group_id, who.org.id).await?;
        let new = rec.into_record(
            id,
            old.uid.clone(),
            old.org_id,
            old.origin.clone(),
            old.created_at,
        );
        let mut changed = Vec::new();
        macro_rules! diff {
            ($($f:ident),*) => {$(
                if old.$f != new.$f {
                    changed.push(stringify!($f));
                }
            )*};
        }
        diff!(
            item,
            provider,
            site,
            country,
            metric,
            value,
            unit,
            period,
            provenance,
            tlp,
            distribution,
            sharing_group_id
        );
        sqlx::query(
            "UPDATE records SET item=$1, provider=$2, site=$3, country=$4, metric=$5, value=$6, \
             unit=$7, period=$8, provenance=$9, tlp=$10, distribution=$11, sharing_group_id=$12 \
             WHERE id=$13",
        )
        .bind(&new.item)
        .bind(&new.provider)
        .bind(&new.site)
        .bind(&new.country)
        .bind(&new.metric)
        .bind(new.value)
        .bind(&new.unit)
        .bind(&new.period)
        .bind(&new.provenance)
        .bind(new.tlp.as_str())
        .bind(new.distribution.as_str())
        .bind(new.sharing_group_id)
        .bind(id)
        .execute(tx.conn())
        .await?;
        audit::append(
            &mut tx,
            &who.actor(),
            "record.update",
            &format!("record:{id}"),
            &serde_json::json!({"uid": new.uid, "changed": changed}),
        )
        .await?;
        tx.commit().await?;
        Ok(new)
    }

    /// Raw record by id, no access check (callers apply [`policy`]).
    pub async fn record_raw(&self, id: i64) -> Result<Option<Record>, StoreError> {
        let row = sqlx::query("SELECT * FROM records WHERE id = $1")
            .bind(id)
            .fetch_optional(self.pool())
            .await?;
        row.as_ref().map(record_from_row).transpose()
    }

    /// Records owned by the given organisations, optionally filtered by item and metric.
    pub async fn records_of_orgs(
        &self,
        orgs: &[i64],
        item: Option<&str>,
        metric: Option<&str>,
    ) -> Result<Vec<Record>, StoreError> {
        let mut out = Vec::new();
        for org in orgs {
            let rows = sqlx::query(
                "SELECT * FROM records WHERE org_id = $1 AND ($2 IS NULL OR item = $2) \
                 AND ($3 IS NULL OR metric = $3) ORDER BY id",
            )
            .bind(*org)
            .bind(item)
            .bind(metric)
            .fetch_all(self.pool())
            .await?;
            for r in &rows {
                out.push(record_from_row(r)?);
            }
        }
        Ok(out)
    }

    /// Federated copies received from peers (records with an origin).
    pub async fn federated_records(
        &self,
        item: Option<&str>,
        metric: Option<&str>,
    ) -> Result<Vec<Record>, StoreError> {
        let rows = sqlx::query(
            "SELECT * FROM records WHERE origin IS NOT NULL AND ($1 IS NULL OR item = $1) \
             AND ($2 IS NULL OR metric = $2) ORDER BY id",
        )
        .bind(item)
        .bind(metric)
        .fetch_all(self.pool())
        .await?;
        rows.iter().map(record_from_row).collect()
    }

    /// Append an audit entry on its own (for read access to partner data).
    pub async fn audit(
        &self,
        actor: &str,
        action: &str,
        object: &str,
        detail: serde_json::Value,
    ) -> Result<i64, StoreError> {
        let mut tx = self.begin_write().await?;
        let seq = audit::append(&mut tx, actor, action, object, &detail).await?;
        tx.commit().await?;
        Ok(seq)
    }

    /// Store records received from a federation peer as records of `peer_org` (the local
    /// stand-in of that instance): insert new uids, update known ones the same peer owns, skip
    /// uids owned by anyone else. Returns (inserted, updated, skipped).
    pub async fn ingest_federated(
        &self,
        peer_org: &Org,
        actor: &str,
        records: Vec<NewRecord>,
    ) -> Result<(usize, usize, usize), StoreError> {
        let mut tx = self.begin_write().await?;
        let (mut ins, mut upd, mut skip) = (0, 0, 0);
        for rec in records {
            let uid = rec
                .uid
                .clone()
                .ok_or_else(|| StoreError::Invalid("federated record without uid".into()))?;
            let owner: Option<i64> =
                sqlx::query_scalar("SELECT org_id FROM records WHERE uid = $1")
                    .bind(&uid)
                    .fetch_optional(tx.conn())
                    .await?;
            match owner {
                None => {
                    insert_record(&mut tx, peer_org.id, rec, self).await?;
                    ins += 1;
                }
                Some(o) if o == peer_org.id => {
                    let d = rec.distribution.unwrap_or(Distribution::OrganisationOnly);
                    sqlx::query(
                        "UPDATE records SET item=$1, provider=$2, site=$3, country=$4, metric=$5, value=$6, \
                         unit=$7, period=$8, provenance=$9, tlp=$10, distribution=$11, origin=$12 WHERE uid=$13",
                    )
                    .bind(&rec.item)
                    .bind(&rec.provider)
                    .bind(&rec.site)
                    .bind(&rec.country)
                    .bind(&rec.metric)
                    .bind(rec.value)
                    .bind(&rec.unit)
                    .bind(&rec.period)
                    .bind(&rec.provenance)
                    .bind(rec.tlp.unwrap_or(Tlp::Amber).as_str())
                    .bind(d.as_str())
                    .bind(&rec.origin)
                    .bind(&uid)
                    .execute(tx.conn())
                    .await?;
                    upd += 1;
                }
                Some(_) => skip += 1,
            }
        }
        audit::append(
            &mut tx,
            actor,
            "federation.ingest",
            &format!("org:{}", peer_org.id),
            &serde_json::json!({"inserted": ins, "updated": upd, "skipped": skip}),
        )
        .await?;
        tx.commit().await?;
        Ok((ins, upd, skip))
    }
}

fn validate_record(rec: &NewRecord) -> Result<(), StoreError> {
    nonempty("item", &rec.item)?;
    nonempty("metric", &rec.metric)?;
    for (name, v) in [
        ("provider", &rec.provider),
        ("site", &rec.site),
        ("country", &rec.country),
        ("unit", &rec.unit),
        ("period", &rec.period),
        ("provenance", &rec.provenance),
        ("uid", &rec.uid),
        ("origin", &rec.origin),
    ] {
        if let Some(v) = v {
            nonempty(name, v)?;
        }
    }
    if let Some(v) = rec.value {
        if !v.is_finite() {
            return Err(StoreError::Invalid("value must be a finite number".into()));
        }
    }
    match (rec.distribution, rec.sharing_group_id) {
        (Some(Distribution::SharingGroup), None) => Err(StoreError::Invalid(
            "distribution sharing_group needs sharing_group_id".into(),
        )),
        (Some(d), Some(_)) if d != Distribution::SharingGroup => Err(StoreError::Invalid(
            "sharing_group_id is only allowed with distribution sharing_group".into(),
        )),
        (None, Some(_)) => Err(StoreError::Invalid(
            "sharing_group_id is only allowed with distribution sharing_group".into(),
        )),
        _ => Ok(()),
    }
}

/// A record may name only a sharing group its organisation belongs to.
async fn check_group_member(
    tx: &mut WriteTx,
    group: Option<i64>,
    org_id: i64,
) -> Result<(), StoreError> {
    let Some(g) = group else { return Ok(()) };
    let member: Option<i64> = sqlx::query_scalar(
        "SELECT group_id FROM sharing_group_members WHERE group_id = $1 AND org_id = $2",
    )
    .bind(g)
    .bind(org_id)
    .fetch_optional(tx.conn())
    .await?;
    if member.is_none() {
        return Err(StoreError::Invalid(format!(
            "sharing_group_id: organisation is not a member of group {g}"
        )));
    }
    Ok(())
}

async fn insert_record(
    tx: &mut WriteTx,
    org_id: i64,
    rec: NewRecord,
    _store: &Store,
) -> Result<Record, StoreError> {
    validate_record(&rec)?;
    check_group_member(tx, rec.sharing_group_id, org_id).await?;
    let uid = rec.uid.clone().unwrap_or_else(|| random_hex(16));
    let tlp = rec.tlp.unwrap_or(Tlp::Amber);
    let dist = rec.distribution.unwrap_or(Distribution::OrganisationOnly);
    let now = crate::time::now();
    let id: i64 = sqlx::query_scalar(
        "INSERT INTO records (uid, org_id, item, provider, site, country, metric, value, unit, period, \
         provenance, tlp, distribution, sharing_group_id, origin, created_at) \
         VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10,$11,$12,$13,$14,$15,$16) RETURNING id",
    )
    .bind(&uid)
    .bind(org_id)
    .bind(&rec.item)
    .bind(&rec.provider)
    .bind(&rec.site)
    .bind(&rec.country)
    .bind(&rec.metric)
    .bind(rec.value)
    .bind(&rec.unit)
    .bind(&rec.period)
    .bind(&rec.provenance)
    .bind(tlp.as_str())
    .bind(dist.as_str())
    .bind(rec.sharing_group_id)
    .bind(&rec.origin)
    .bind(now)
    .fetch_one(tx.conn())
    .await
    .map_err(|e| conflict_or(e, format!("record uid `{uid}` exists")))?;
    let origin = rec.origin.clone();
    Ok(rec.into_record(id, uid, org_id, origin, now))
}

impl NewRecord {
    /// The stored record these values make, with its identity (id, uid, owner, origin,
    /// creation time) and the defaults TLP:AMBER and organisation-only distribution.
    fn into_record(
        self,
        id: i64,
        uid: String,
        org_id: i64,
        origin: Option<String>,
        created_at: i64,
    ) -> Record {
        Record {
            id,
            uid,
            org_id,
            item: self.item,
            provider: self.provider,
            site: self.site,
            country: self.country,
            metric: self.metric,
            value: self.value,
            unit: self.unit,
            period: self.period,
            provenance: self.provenance,
            tlp: self.tlp.unwrap_or(Tlp::Amber),
            distribution: self.distribution.unwrap_or(Distribution::OrganisationOnly),
            sharing_group_id: self.sharing_group_id,
            origin,
            created_at,
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Agreements

impl Store {
    /// Create an agreement granting `a.grantee_org_id` access to the principal's org's records.
    pub async fn create_agreement(
        &self,
        grantor: &Principal,
        a: NewAgreement,
    ) -> Result<Agreement, StoreError> {
        if a.grantee_org_id == grantor.org.id {
            return Err(StoreError::Invalid(
                "grantee_org_id: an organisation cannot grant itself".into(),
            ));
        }
        if self.org(a.grantee_org_id).await?.is_none() {
            return Err(StoreError::Invalid(format!(
                "grantee_org_id: unknown organisation {}",
                a.grantee_org_id
            )));
        }
        for (name, list) in [("items", &a.items), ("metrics", &a.metrics)] {
            if list.is_empty() {
                return Err(StoreError::Invalid(format!(
                    "{name} must list at least one entry (or \"*\")"
                )));
            }
            for v in list.iter() {
                nonempty(name, v)?;
            }
        }
        for f in &a.fields {
            // Record fields, and the denial-notice fields for agreements listing `denial_notice`.
            if !SHAREABLE_FIELDS.contains(&f.as_str())
                && !policy::DENIAL_SHAREABLE_FIELDS.contains(&f.as_str())
            {
                return Err(StoreError::Invalid(format!(
                    "fields: unknown field `{f}` (allowed: {}, {})",
                    SHAREABLE_FIELDS.join(", "),
                    policy::DENIAL_SHAREABLE_FIELDS.join(", ")
                )));
            }
        }
        if a.granularity == Granularity::Country && a.min_firms < 2 {
            return Err(StoreError::Invalid(
                "min_firms must be at least 2 for country granularity".into(),
            ));
        }
        if !(a.max_firm_share > 0.0 && a.max_firm_share <= 1.0) {
            return Err(StoreError::Invalid(
                "max_firm_share must be above 0 and at most 1".into(),
            ));
        }
        if a.valid_until.is_some_and(|u| u <= a.valid_from) {
            return Err(StoreError::Invalid(
                "valid_until must be after valid_from".into(),
            ));
        }
        let mut tx = self.begin_write().await?;
        let now = crate::time::now();
        let id: i64 = sqlx::query_scalar(
            "INSERT INTO agreements (grantor_org_id, grantee_org_id, items, metrics, fields, granularity, \
             min_firms, max_firm_share, valid_from, valid_until, created_at) \
             VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10,$11) RETURNING id",
        )
        .bind(grantor.org.id)
        .bind(a.grantee_org_id)
        .bind(json_list(&a.items))
        .bind(json_list(&a.metrics))
        .bind(json_list(&a.fields))
        .bind(a.granularity.as_str())
        .bind(a.min_firms)
        .bind(a.max_firm_share)
        .bind(a.valid_from)
        .bind(a.valid_until)
        .bind(now)
        .fetch_one(tx.conn())
        .await?;
        audit::append(&mut tx, &grantor.actor(), "agreement.create", &format!("agreement:{id}"), &serde_json::json!({"grantee": a.grantee_org_id, "items": a.items, "metrics": a.metrics, "fields": a.fields, "granularity": a.granularity.as_str()})).await?;
        tx.commit().await?;
        Ok(Agreement {
            id,
            grantor_org_id: grantor.org.id,
            grantee_org_id: a.grantee_org_id,
            items: a.items,
            metrics: a.metrics,
            fields: a.fields,
            granularity: a.granularity,
            min_firms: a.min_firms,
            max_firm_share: a.max_firm_share,
            valid_from: a.valid_from,
            valid_until: a.valid_until,
            revoked_at: None,
            created_at: now,
        })
    }

    pub async fn agreement(&self, id: i64) -> Result<Option<Agreement>, StoreError> {
        let row = sqlx::query("SELECT * FROM agreements WHERE id = $1")
            .bind(id)
            .fetch_optional(self.pool())
            .await?;
        row.as_ref().map(agreement_from_row).transpose()
    }

    /// Agreements where the org is grantor or grantee.
    pub async fn agreements_of(&self, org_id: i64) -> Result<Vec<Agreement>, StoreError> {
        let rows = sqlx::query(
            "SELECT * FROM agreements WHERE grantor_org_id = $1 OR grantee_org_id = $1 ORDER BY id",
        )
        .bind(org_id)
        .fetch_all(self.pool())
        .await?;
        rows.iter().map(agreement_from_row).collect()
    }

    /// Agreements granting the org access (all, including revoked/expired: the policy decides).
    pub async fn agreements_granted_to(&self, org_id: i64) -> Result<Vec<Agreement>, StoreError> {
        let rows = sqlx::query(
            "SELECT * FROM agreements WHERE grantee_org_id = $1 AND revoked_at IS NULL ORDER BY id",
        )
        .bind(org_id)
        .fetch_all(self.pool())
        .await?;
        rows.iter().map(agreement_from_row).collect()
    }

    /// Revoke an agreement the principal's org granted; takes effect for the next request.
    pub async fn revoke_agreement(&self, grantor: &Principal, id: i64) -> Result<(), StoreError> {
        let mut tx = self.begin_write().await?;
        let n = sqlx::query("UPDATE agreements SET revoked_at = $1 WHERE id = $2 AND grantor_org_id = $3 AND revoked_at IS NULL")
            .bind(crate::time::now())
            .bind(id)
            .bind(grantor.org.id)
            .execute(tx.conn())
            .await?
            .rows_affected();
        if n == 0 {
            return Err(StoreError::NotFound(format!("agreement {id}")));
        }
        audit::append(
            &mut tx,
            &grantor.actor(),
            "agreement.revoke",
            &format!("agreement:{id}"),
            &serde_json::json!({}),
        )
        .await?;
        tx.commit().await?;
        Ok(())
    }
}

// ---------------------------------------------------------------------------------------------
// Information requests

impl Store {
    pub async fn create_request(
        &self,
        who: &Principal,
        r: NewInfoRequest,
    ) -> Result<InfoRequest, StoreError> {
        nonempty("legal_basis", &r.legal_basis)?;
        nonempty("purpose", &r.purpose)?;
        if r.addressee_org_id == who.org.id {
            return Err(StoreError::Invalid(
                "addressee_org_id: cannot address a request to oneself".into(),
            ));
        }
        if self.org(r.addressee_org_id).await?.is_none() {
            return Err(StoreError::Invalid(format!(
                "addressee_org_id: unknown organisation {}",
                r.addressee_org_id
            )));
        }
        for (name, list) in [
            ("scope_items", &r.scope_items),
            ("scope_metrics", &r.scope_metrics),
        ] {
            if list.is_empty() {
                return Err(StoreError::Invalid(format!(
                    "{name}: a request must name its scope (proportionality)"
                )));
            }
            for v in list.iter() {
                nonempty(name, v)?;
            }
        }
        let now = crate::time::now();
        if r.deadline <= now {
            return Err(StoreError::Invalid("deadline must be in the future".into()));
        }
        let mut tx = self.begin_write().await?;
        let id: i64 = sqlx::query_scalar(
            "INSERT INTO info_requests (requester_org_id, addressee_org_id, legal_basis, purpose, scope_items, \
             scope_metrics, deadline, confidentiality, status, created_at, updated_at) \
             VALUES ($1,$2,$3,$4,$5,$6,$7,$8,'open',$9,$9) RETURNING id",
        )
        .bind(who.org.id)
        .bind(r.addressee_org_id)
        .bind(&r.legal_basis)
        .bind(&r.purpose)
        .bind(json_list(&r.scope_items))
        .bind(json_list(&r.scope_metrics))
        .bind(r.deadline)
        .bind(r.confidentiality.as_str())
        .bind(now)
        .fetch_one(tx.conn())
        .await?;
        audit::append(
            &mut tx,
            &who.actor(),
            "request.create",
            &format!("request:{id}"),
            &serde_json::json!({"addressee": r.addressee_org_id, "legal_basis": r.legal_basis}),
        )
        .await?;
        tx.commit().await?;
        Ok(InfoRequest {
            id,
            requester_org_id: who.org.id,
            addressee_org_id: r.addressee_org_id,
            legal_basis: r.legal_basis,
            purpose: r.purpose,
            scope_items: r.scope_items,
            scope_metrics: r.scope_metrics,
            deadline: r.deadline,
            confidentiality: r.confidentiality,
            status: RequestStatus::Open,
            created_at: now,
            updated_at: now,
        })
    }

    pub async fn request(&self, id: i64) -> Result<Option<InfoRequest>, StoreError> {
        let row = sqlx::query("SELECT * FROM info_requests WHERE id = $1")
            .bind(id)
            .fetch_optional(self.pool())
            .await?;
        row.as_ref().map(request_from_row).transpose()
    }

    /// Requests the org sent or received.
    pub async fn requests_of(&self, org_id: i64) -> Result<Vec<InfoRequest>, StoreError> {
        let rows = sqlx::query("SELECT * FROM info_requests WHERE requester_org_id = $1 OR addressee_org_id = $1 ORDER BY id")
            .bind(org_id)
            .fetch_all(self.pool())
            .await?;
        rows.iter().map(request_from_row).collect()
    }

    /// The addressee answers with some of its own records, each inside the request's scope.
    pub async fn respond_request(
        &self,
        who: &Principal,
        id: i64,
        record_ids: &[i64],
    ) -> Result<InfoRequest, StoreError> {
        let req = self
            .request(id)
            .await?
            .filter(|r| r.addressee_org_id == who.org.id || r.requester_org_id == who.org.id);
        let Some(req) = req else {
            return Err(StoreError::NotFound(format!("request {id}")));
        };
        if req.addressee_org_id != who.org.id {
            return Err(StoreError::Invalid("only the addressee can respond".into()));
        }
        if req.status != RequestStatus::Open && req.status != RequestStatus::Answered {
            return Err(StoreError::Conflict(format!(
                "request {id} is {}",
                req.status.as_str()
            )));
        }
        if record_ids.is_empty() {
            return Err(StoreError::Invalid("record_ids must not be empty".into()));
        }
        let mut tx = self.begin_write().await?;
        for rid in record_ids {
            let rec = sqlx::query("SELECT * FROM records WHERE id = $1")
                .bind(*rid)
                .fetch_optional(tx.conn())
                .await?;
            let rec = match rec.as_ref().map(record_from_row).transpose()? {
                Some(r) if r.org_id == who.org.id => r,
                _ => {
                    return Err(StoreError::Invalid(format!(
                        "record_ids: record {rid} is not one of your records"
                    )))
                }
            };
            if !policy::list_matches(&req.scope_items, &rec.item)
                || !policy::list_matches(&req.scope_metrics, &rec.metric)
            {
                return Err(StoreError::Invalid(format!(
                    "record_ids: record {rid} ({} / {}) is outside the request's scope",
                    rec.item, rec.metric
                )));
            }
            let exists: Option<i64> = sqlx::query_scalar(
                "SELECT record_id FROM request_records WHERE request_id = $1 AND record_id = $2",
            )
            .bind(id)
            .bind(*rid)
            .fetch_optional(tx.conn())
            .await?;
            if exists.is_none() {
                sqlx::query("INSERT INTO request_records (request_id, record_id) VALUES ($1, $2)")
                    .bind(id)
                    .bind(*rid)
                    .execute(tx.conn())
                    .await?;
            }
        }
        let now = crate::time::now();
        sqlx::query("UPDATE info_requests SET status = 'answered', updated_at = $1 WHERE id = $2")
            .bind(now)
            .bind(id)
            .execute(tx.conn())
            .await?;
        audit::append(
            &mut tx,
            &who.actor(),
            "request.respond",
            &format!("request:{id}"),
            &serde_json::json!({"records": record_ids}),
        )
        .await?;
        tx.commit().await?;
        Ok(InfoRequest {
            status: RequestStatus::Answered,
            updated_at: now,
            ..req
        })
    }

    /// Change status: the addressee may decline an open request, the requester may withdraw.
    pub async fn set_request_status(
        &self,
        who: &Principal,
        id: i64,
        status: RequestStatus,
    ) -> Result<InfoRequest, StoreError> {
        let req = self
            .request(id)
            .await?
            .filter(|r| r.addressee_org_id == who.org.id || r.requester_org_id == who.org.id);
        let Some(req) = req else {
            return Err(StoreError::NotFound(format!("request {id}")));
        };
        let allowed = match status {
            RequestStatus::Declined => {
                req.addressee_org_id == who.org.id && req.status == RequestStatus::Open
            }
            RequestStatus::Withdrawn => {
                req.requester_org_id == who.org.id && req.status != RequestStatus::Withdrawn
            }
            _ => false,
        };
        if !allowed {
            return Err(StoreError::Conflict(format!(
                "request {id}: cannot change {} to {}",
                req.status.as_str(),
                status.as_str()
            )));
        }
        let mut tx = self.begin_write().await?;
        let now = crate::time::now();
        sqlx::query("UPDATE info_requests SET status = $1, updated_at = $2 WHERE id = $3")
            .bind(status.as_str())
            .bind(now)
            .bind(id)
            .execute(tx.conn())
            .await?;
        audit::append(
            &mut tx,
            &who.actor(),
            "request.status",
            &format!("request:{id}"),
            &serde_json::json!({"status": status.as_str()}),
        )
        .await?;
        tx.commit().await?;
        Ok(InfoRequest {
            status,
            updated_at: now,
            ..req
        })
    }

    /// Records attached to a request (no access check: the caller checks the request).
    pub async fn request_records(&self, id: i64) -> Result<Vec<Record>, StoreError> {
        let rows = sqlx::query("SELECT r.* FROM records r JOIN request_records q ON q.record_id = r.id WHERE q.request_id = $1 ORDER BY r.id")
            .bind(id)
            .fetch_all(self.pool())
            .await?;
        rows.iter().map(record_from_row).collect()
    }
}

// ---------------------------------------------------------------------------------------------
// Federation peers

/// Associated data of a sealed peer token: the peer's name, so a sealed value moved to another
/// peer's row does not open.
fn peer_token_context(name: &str) -> String {
    format!("chipwatch peer token|{name}")
}

/// A token another instance issued to us goes into an HTTP header: printable ASCII only.
fn valid_remote_token(t: &str) -> Result<(), StoreError> {
    if t.is_empty() || t.len() > 200 || !t.bytes().all(|b| b.is_ascii_graphic()) {
        return Err(StoreError::Invalid(
            "remote token: 1 to 200 printable ASCII characters without spaces".into(),
        ));
    }
    if crate::secret::is_sealed(t) {
        return Err(StoreError::Invalid(
            "remote token: looks sealed already".into(),
        ));
    }
    Ok(())
}

impl Store {
    pub async fn add_peer(
        &self,
        name: &str,
        base_url: &str,
        remote_token: &str,
        local_org_id: i64,
        actor: &str,
    ) -> Result<Peer, StoreError> {
        nonempty("name", name)?;
        if !(base_url.starts_with("http://") || base_url.starts_with("https://")) {
            return Err(StoreError::Invalid(
                "base_url must start with http:// or https://".into(),
            ));
        }
        match self.org(local_org_id).await? {
            Some(o) if o.kind == OrgKind::Peer => {}
            Some(_) => {
                return Err(StoreError::Invalid(format!(
                    "org {local_org_id} is not a peer organisation"
                )))
            }
            None => return Err(StoreError::NotFound(format!("org {local_org_id}"))),
        }
        valid_remote_token(remote_token)?;
        // Sealed before the transaction: no key, no row.
        let sealed = self
            .peer_key()?
            .seal(&peer_token_context(name), remote_token)?;
        let mut tx = self.begin_write().await?;
        let now = crate::time::now();
        let id: i64 = sqlx::query_scalar(
            "INSERT INTO peers (name, base_url, remote_token, local_org_id, created_at) VALUES ($1,$2,$3,$4,$5) RETURNING id",
        )
        .bind(name)
        .bind(base_url.trim_end_matches('/'))
        .bind(&sealed)
        .bind(local_org_id)
        .bind(now)
        .fetch_one(tx.conn())
        .await
        .map_err(|e| conflict_or(e, format!("peer `{name}` exists")))?;
        audit::append(
            &mut tx,
            actor,
            "peer.add",
            &format!("peer:{id}"),
            &serde_json::json!({"name": name, "base_url": base_url, "local_org": local_org_id}),
        )
        .await?;
        tx.commit().await?;
        Ok(Peer {
            id,
            name: name.into(),
            base_url: base_url.trim_end_matches('/').into(),
            remote_token: remote_token.into(),
            local_org_id,
            created_at: now,
        })
    }

    pub async fn peer_by_name(&self, name: &str) -> Result<Option<Peer>, StoreError> {
        let row = sqlx::query("SELECT * FROM peers WHERE name = $1")
            .bind(name)
            .fetch_optional(self.pool())
            .await?;
        row.map(|r| {
            let name: String = col(&r, "name")?;
            let stored: String = col(&r, "remote_token")?;
            if !crate::secret::is_sealed(&stored) {
                return Err(StoreError::Invalid(format!(
                    "peer `{name}`: its token is stored in plaintext (added before encryption at \
                     rest); run `chipwatch admin peer seal-tokens` with the peer key to encrypt it"
                )));
            }
            // A configuration problem the admin must see (not an internal error): say so.
            let remote_token = self
                .peer_key()?
                .open(&peer_token_context(&name), &stored)
                .map_err(|_| {
                    StoreError::Invalid(format!(
                        "peer `{name}`: its stored token does not open with the configured peer \
                         key (another key, or the row was altered)"
                    ))
                })?;
            Ok(Peer {
                id: col(&r, "id")?,
                name,
                base_url: col(&r, "base_url")?,
                remote_token,
                local_org_id: col(&r, "local_org_id")?,
                created_at: col(&r, "created_at")?,
            })
        })
        .transpose()
    }

    /// Encrypt the peer tokens still stored in plaintext (rows from before encryption at rest)
    /// with the configured peer key; returns how many were sealed. Idempotent.
    pub async fn seal_plaintext_peer_tokens(&self, actor: &str) -> Result<usize, StoreError> {
        let key = self.peer_key()?.clone();
        let mut tx = self.begin_write().await?;
        let rows = sqlx::query("SELECT id, name, remote_token FROM peers ORDER BY id")
            .fetch_all(tx.conn())
            .await?;
        let mut sealed = 0;
        for r in rows {
            let stored: String = col(&r, "remote_token")?;
            if crate::secret::is_sealed(&stored) {
                continue;
            }
            let id: i64 = col(&r, "id")?;
            let name: String = col(&r, "name")?;
            let value = key.seal(&peer_token_context(&name), &stored)?;
            sqlx::query("UPDATE peers SET remote_token = $1 WHERE id = $2")
                .bind(value)
                .bind(id)
                .execute(tx.conn())
                .await?;
            audit::append(
                &mut tx,
                actor,
                "peer.seal_token",
                &format!("peer:{id}"),
                &serde_json::json!({}),
            )
            .await?;
            sealed += 1;
        }
        tx.commit().await?;
        Ok(sealed)
    }

    pub async fn peer_names(&self) -> Result<Vec<String>, StoreError> {
        Ok(sqlx::query_scalar("SELECT name FROM peers ORDER BY id")
            .fetch_all(self.pool())
            .await?)
    }
}

// ---------------------------------------------------------------------------------------------
// Saved scenarios

fn scenario_from_row(r: &AnyRow) -> Result<SavedScenario, StoreError> {
    let spec: String = col(r, "spec")?;
    let result: Option<String> = col(r, "result")?;
    let parse = |s: &str| {
        serde_json::from_str(s).map_err(|e| StoreError::Corrupt(format!("scenario json: {e}")))
    };
    Ok(SavedScenario {
        id: col(r, "id")?,
        org_id: col(r, "org_id")?,
        name: col(r, "name")?,
        spec: parse(&spec)?,
        result: result.as_deref().map(parse).transpose()?,
        created_at: col(r, "created_at")?,
        run_at: col(r, "run_at")?,
    })
}

impl Store {
    pub async fn save_scenario(
        &self,
        who: &Principal,
        name: &str,
        spec: &serde_json::Value,
    ) -> Result<SavedScenario, StoreError> {
        nonempty("name", name)?;
        let mut tx = self.begin_write().await?;
        let now = crate::time::now();
        let id: i64 = sqlx::query_scalar("INSERT INTO scenarios (org_id, name, spec, created_at) VALUES ($1,$2,$3,$4) RETURNING id")
            .bind(who.org.id)
            .bind(name)
            .bind(spec.to_string())
            .bind(now)
            .fetch_one(tx.conn())
            .await?;
        audit::append(
            &mut tx,
            &who.actor(),
            "scenario.save",
            &format!("scenario:{id}"),
            &serde_json::json!({"name": name}),
        )
        .await?;
        tx.commit().await?;
        Ok(SavedScenario {
            id,
            org_id: who.org.id,
            name: name.into(),
            spec: spec.clone(),
            result: None,
            created_at: now,
            run_at: None,
        })
    }

    pub async fn scenarios_of(&self, org_id: i64) -> Result<Vec<SavedScenario>, StoreError> {
        let rows = sqlx::query("SELECT * FROM scenarios WHERE org_id = $1 ORDER BY id")
            .bind(org_id)
            .fetch_all(self.pool())
            .await?;
        rows.iter().map(scenario_from_row).collect()
    }

    /// A scenario of the org (None if missing or another org's).
    pub async fn scenario(
        &self,
        org_id: i64,
        id: i64,
    ) -> Result<Option<SavedScenario>, StoreError> {
        let row = sqlx::query("SELECT * FROM scenarios WHERE id = $1 AND org_id = $2")
            .bind(id)
            .bind(org_id)
            .fetch_optional(self.pool())
            .await?;
        row.as_ref().map(scenario_from_row).transpose()
    }

    pub async fn set_scenario_result(
        &self,
        who: &Principal,
        id: i64,
        result: &serde_json::Value,
    ) -> Result<(), StoreError> {
        let mut tx = self.begin_write().await?;
        let n = sqlx::query(
            "UPDATE scenarios SET result = $1, run_at = $2 WHERE id = $3 AND org_id = $4",
        )
        .bind(result.to_string())
        .bind(crate::time::now())
        .bind(id)
        .bind(who.org.id)
        .execute(tx.conn())
        .await?
        .rows_affected();
        if n == 0 {
            return Err(StoreError::NotFound(format!("scenario {id}")));
        }
        audit::append(
            &mut tx,
            &who.actor(),
            "scenario.run",
            &format!("scenario:{id}"),
            &serde_json::json!({}),
        )
        .await?;
        tx.commit().await?;
        Ok(())
    }
}

// ---------------------------------------------------------------------------------------------
// Monitor watchlists of an organisation

/// A watchlist saved by an organisation (monitor configuration in TOML).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SavedWatchlist {
    pub id: i64,
    pub org_id: i64,
    pub name: String,
    pub config: String,
    pub created_at: i64,
}

fn watchlist_from_row(r: &AnyRow) -> Result<SavedWatchlist, StoreError> {
    Ok(SavedWatchlist {
        id: col(r, "id")?,
        org_id: col(r, "org_id")?,
        name: col(r, "name")?,
        config: col(r, "config")?,
        created_at: col(r, "created_at")?,
    })
}

impl Store {
    /// Save a watchlist the caller validated.
    pub async fn save_watchlist(
        &self,
        who: &Principal,
        name: &str,
        config: &str,
    ) -> Result<SavedWatchlist, StoreError> {
        nonempty("name", name)?;
        let mut tx = self.begin_write().await?;
        let now = crate::time::now();
        let id: i64 = sqlx::query_scalar("INSERT INTO watchlists (org_id, name, config, created_at) VALUES ($1,$2,$3,$4) RETURNING id")
            .bind(who.org.id)
            .bind(name)
            .bind(config)
            .bind(now)
            .fetch_one(tx.conn())
            .await
            .map_err(|e| conflict_or(e, format!("watchlist `{name}` exists")))?;
        audit::append(
            &mut tx,
            &who.actor(),
            "watchlist.save",
            &format!("watchlist:{id}"),
            &serde_json::json!({"name": name}),
        )
        .await?;
        tx.commit().await?;
        Ok(SavedWatchlist {
            id,
            org_id: who.org.id,
            name: name.into(),
            config: config.into(),
            created_at: now,
        })
    }

    pub async fn watchlists_of(&self, org_id: i64) -> Result<Vec<SavedWatchlist>, StoreError> {
        let rows = sqlx::query("SELECT * FROM watchlists WHERE org_id = $1 ORDER BY id")
            .bind(org_id)
            .fetch_all(self.pool())
            .await?;
        rows.iter().map(watchlist_from_row).collect()
    }

    /// A watchlist of the org (None if missing or another org's).
    pub async fn watchlist(
        &self,
        org_id: i64,
        id: i64,
    ) -> Result<Option<SavedWatchlist>, StoreError> {
        let row = sqlx::query("SELECT * FROM watchlists WHERE id = $1 AND org_id = $2")
            .bind(id)
            .bind(org_id)
            .fetch_optional(self.pool())
            .await?;
        row.as_ref().map(watchlist_from_row).transpose()
    }
}
