//! Credentials: API tokens and the dashboard sessions minted from them.
//!
//! Both live in `tokens` (only a SHA-256 of the secret is stored). An API token is issued to a
//! user by an admin or the CLI. A session is minted by the dashboard's sign-in from an API token,
//! its *parent*, and is bound to it: [`Store::authenticate`] checks on every request that the
//! parent is neither revoked nor expired, so revoking or expiring the API token ends its sessions
//! at once. A session also has an absolute end (never later than its parent's) and an idle
//! timeout, and it can never mint another credential ([`Store::create_session`] refuses a
//! session as parent; the server refuses token issuance to sessions).

use super::{bad, hash_secret, Org, OrgKind, Principal, Role};
use crate::{audit, col, Store, StoreError};
use serde::{Deserialize, Serialize};

/// Kind of credential.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Hash)]
#[serde(rename_all = "snake_case")]
pub enum Credential {
    /// An API token (`Authorization: Bearer`).
    Api,
    /// A dashboard session (the session cookie), bound to the API token it was minted from.
    Session,
}

impl Credential {
    pub fn as_str(self) -> &'static str {
        match self {
            Credential::Api => "api",
            Credential::Session => "session",
        }
    }
    pub fn parse(s: &str) -> Option<Credential> {
        match s {
            "api" => Some(Credential::Api),
            "session" => Some(Credential::Session),
            _ => None,
        }
    }
}

/// A token as listed (the secret is never stored, so never listed).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TokenInfo {
    pub id: i64,
    pub user_id: i64,
    pub label: String,
    /// `api` or `session`.
    pub kind: Credential,
    /// For a session: the API token it was minted from.
    pub parent_id: Option<i64>,
    pub created_at: i64,
    pub expires_at: Option<i64>,
    pub revoked_at: Option<i64>,
}

/// Label of the tokens minted for dashboard sessions.
pub const SESSION_LABEL: &str = "dashboard session";

/// A session's last use is written at most this often (seconds): it bounds the writes a busy
/// dashboard causes and is the precision of the idle timeout.
pub const TOUCH_INTERVAL: i64 = 60;

/// The outcome of presenting a secret.
#[derive(Debug, Clone, PartialEq)]
pub enum Authn {
    Accepted(Principal),
    /// Refused; the reason is for the server log only (clients learn nothing about which).
    Rejected(&'static str),
}

impl Store {
    /// Store an API token for `user_id` whose secret the caller generated (with a CSPRNG) and
    /// will show once; only its SHA-256 is kept.
    pub async fn create_token(
        &self,
        user_id: i64,
        secret: &str,
        label: &str,
        expires_at: Option<i64>,
        actor: &str,
    ) -> Result<TokenInfo, StoreError> {
        if secret.len() < 32 {
            return Err(StoreError::Invalid(
                "token secret shorter than 32 bytes".into(),
            ));
        }
        if self.user(user_id).await?.is_none() {
            return Err(StoreError::NotFound(format!("user {user_id}")));
        }
        let mut tx = self.begin_write().await?;
        let now = crate::time::now();
        let id: i64 = sqlx::query_scalar(
            "INSERT INTO tokens (user_id, secret_hash, label, created_at, expires_at, kind) \
             VALUES ($1, $2, $3, $4, $5, 'api') RETURNING id",
        )
        .bind(user_id)
        .bind(hash_secret(secret))
        .bind(label)
        .bind(now)
        .bind(expires_at)
        .fetch_one(tx.conn())
        .await?;
        audit::append(
            &mut tx,
            actor,
            "token.create",
            &format!("token:{id}"),
            &serde_json::json!({"user": user_id, "label": label, "expires_at": expires_at}),
        )
        .await?;
        tx.commit().await?;
        Ok(TokenInfo {
            id,
            user_id,
            label: label.to_string(),
            kind: Credential::Api,
            parent_id: None,
            created_at: now,
            expires_at,
            revoked_at: None,
        })
    }

    /// Mint a dashboard session for the user of `parent`, bound to the API token `parent`
    /// authenticated with. It ends `lifetime_secs` from now or when the parent token expires,
    /// whichever is first, and after `idle_secs` without use. Refused when `parent` is itself a
    /// session (a session never mints another) or a federation peer (peers have no dashboard).
    pub async fn create_session(
        &self,
        parent: &Principal,
        secret: &str,
        lifetime_secs: i64,
        idle_secs: i64,
    ) -> Result<TokenInfo, StoreError> {
        if parent.credential != Credential::Api {
            return Err(StoreError::Invalid(
                "a session cannot mint another session".into(),
            ));
        }
        if parent.org.kind != OrgKind::Local {
            return Err(StoreError::Invalid(
                "federation peers have no dashboard sessions".into(),
            ));
        }
        if secret.len() < 32 {
            return Err(StoreError::Invalid(
                "token secret shorter than 32 bytes".into(),
            ));
        }
        if lifetime_secs < 1 || idle_secs < 1 {
            return Err(StoreError::Invalid(
                "session lifetime and idle timeout must be positive".into(),
            ));
        }
        let mut tx = self.begin_write().await?;
        let now = crate::time::now();
        // Re-read the parent inside the transaction: it may have been revoked since it was
        // resolved.
        let row =
            sqlx::query("SELECT kind, user_id, expires_at, revoked_at FROM tokens WHERE id = $1")
                .bind(parent.token_id)
                .fetch_optional(tx.conn())
                .await?
                .ok_or_else(|| StoreError::NotFound(format!("token {}", parent.token_id)))?;
        let kind: String = col(&row, "kind")?;
        let user_id: i64 = col(&row, "user_id")?;
        let parent_expires: Option<i64> = col(&row, "expires_at")?;
        let parent_revoked: Option<i64> = col(&row, "revoked_at")?;
        if kind != Credential::Api.as_str() || user_id != parent.user_id {
            return Err(StoreError::Invalid(
                "a session cannot mint another session".into(),
            ));
        }
        if parent_revoked.is_some() || parent_expires.is_some_and(|e| e <= now) {
            return Err(StoreError::NotFound(format!("token {}", parent.token_id)));
        }
        let own_end = now.saturating_add(lifetime_secs);
        let expires = parent_expires.map_or(own_end, |p| p.min(own_end));
        let id: i64 = sqlx::query_scalar(
            "INSERT INTO tokens (user_id, secret_hash, label, created_at, expires_at, kind, \
                                 parent_id, idle_seconds, last_used_at) \
             VALUES ($1, $2, $3, $4, $5, 'session', $6, $7, $4) RETURNING id",
        )
        .bind(parent.user_id)
        .bind(hash_secret(secret))
        .bind(SESSION_LABEL)
        .bind(now)
        .bind(expires)
        .bind(parent.token_id)
        .bind(idle_secs)
        .fetch_one(tx.conn())
        .await?;
        audit::append(
            &mut tx,
            &parent.actor(),
            "session.create",
            &format!("token:{id}"),
            &serde_json::json!({"user": parent.user_id, "parent": parent.token_id,
                                "expires_at": expires, "idle_seconds": idle_secs}),
        )
        .await?;
        tx.commit().await?;
        Ok(TokenInfo {
            id,
            user_id: parent.user_id,
            label: SESSION_LABEL.to_string(),
            kind: Credential::Session,
            parent_id: Some(parent.token_id),
            created_at: now,
            expires_at: Some(expires),
            revoked_at: None,
        })
    }

    /// End the session `p` authenticated with (sign-out). Returns false when `p` did not come
    /// from a session (an API token is never revoked by signing out).
    pub async fn end_session(&self, p: &Principal) -> Result<bool, StoreError> {
        if p.credential != Credential::Session {
            return Ok(false);
        }
        let mut tx = self.begin_write().await?;
        let n = sqlx::query(
            "UPDATE tokens SET revoked_at = $1 WHERE id = $2 AND kind = 'session' \
             AND revoked_at IS NULL",
        )
        .bind(crate::time::now())
        .bind(p.token_id)
        .execute(tx.conn())
        .await?
        .rows_affected();
        if n > 0 {
            audit::append(
                &mut tx,
                &p.actor(),
                "session.end",
                &format!("token:{}", p.token_id),
                &serde_json::json!({}),
            )
            .await?;
        }
        tx.commit().await?;
        Ok(n > 0)
    }

    pub async fn tokens_of_org(&self, org_id: i64) -> Result<Vec<TokenInfo>, StoreError> {
        let rows = sqlx::query(
            "SELECT t.* FROM tokens t JOIN users u ON u.id = t.user_id WHERE u.org_id = $1 ORDER BY t.id",
        )
        .bind(org_id)
        .fetch_all(self.pool())
        .await?;
        rows.iter()
            .map(|r| {
                let kind: String = col(r, "kind")?;
                Ok(TokenInfo {
                    id: col(r, "id")?,
                    user_id: col(r, "user_id")?,
                    label: col(r, "label")?,
                    kind: Credential::parse(&kind).ok_or_else(|| bad("token kind", &kind))?,
                    parent_id: col(r, "parent_id")?,
                    created_at: col(r, "created_at")?,
                    expires_at: col(r, "expires_at")?,
                    revoked_at: col(r, "revoked_at")?,
                })
            })
            .collect()
    }

    /// Revoke a token of `org_id` (effective for the next request), and with it every session
    /// minted from it. Not found if the token belongs to another organisation.
    pub async fn revoke_token(
        &self,
        org_id: i64,
        token_id: i64,
        actor: &str,
    ) -> Result<(), StoreError> {
        let mut tx = self.begin_write().await?;
        let now = crate::time::now();
        let n = sqlx::query(
            "UPDATE tokens SET revoked_at = $1 WHERE id = $2 AND revoked_at IS NULL \
             AND user_id IN (SELECT id FROM users WHERE org_id = $3)",
        )
        .bind(now)
        .bind(token_id)
        .bind(org_id)
        .execute(tx.conn())
        .await?
        .rows_affected();
        if n == 0 {
            // Revoking is idempotent: an own token revoked already stays revoked (no new entry);
            // anything else is not found.
            let revoked: Option<Option<i64>> = sqlx::query_scalar(
                "SELECT revoked_at FROM tokens WHERE id = $1 \
                 AND user_id IN (SELECT id FROM users WHERE org_id = $2)",
            )
            .bind(token_id)
            .bind(org_id)
            .fetch_optional(tx.conn())
            .await?;
            return match revoked {
                Some(Some(_)) => Ok(()),
                _ => Err(StoreError::NotFound(format!("token {token_id}"))),
            };
        }
        // Authentication checks the parent anyway; revoking the sessions too keeps the token
        // list truthful.
        let sessions = sqlx::query(
            "UPDATE tokens SET revoked_at = $1 WHERE parent_id = $2 AND revoked_at IS NULL",
        )
        .bind(now)
        .bind(token_id)
        .execute(tx.conn())
        .await?
        .rows_affected();
        audit::append(
            &mut tx,
            actor,
            "token.revoke",
            &format!("token:{token_id}"),
            &serde_json::json!({"sessions_ended": sessions}),
        )
        .await?;
        tx.commit().await?;
        Ok(())
    }

    /// Resolve a presented token secret to its principal; `None` when unknown, revoked or
    /// expired, or a session whose parent is (the caller answers 401 without saying which).
    pub async fn principal_for_secret(
        &self,
        secret: &str,
    ) -> Result<Option<Principal>, StoreError> {
        Ok(match self.authenticate(secret).await? {
            Authn::Accepted(p) => Some(p),
            Authn::Rejected(_) => None,
        })
    }

    /// Resolve a presented secret, with the reason of a refusal (for the log). A session is
    /// accepted only while it is unrevoked, before its absolute end, used within its idle
    /// timeout, and its parent API token is unrevoked and unexpired; an accepted session's last
    /// use is recorded (at most once per [`TOUCH_INTERVAL`]).
    pub async fn authenticate(&self, secret: &str) -> Result<Authn, StoreError> {
        let row = sqlx::query(
            "SELECT t.id AS token_id, t.kind AS token_kind, t.user_id AS token_user, \
                    t.created_at AS token_created, t.expires_at, t.revoked_at, t.idle_seconds, \
                    t.last_used_at, t.parent_id, \
                    p.kind AS parent_kind, p.user_id AS parent_user, \
                    p.expires_at AS parent_expires, p.revoked_at AS parent_revoked, \
                    u.id AS user_id, u.name AS user_name, u.role, \
                    o.id AS org_id, o.uid, o.name AS org_name, o.kind, o.created_at \
             FROM tokens t JOIN users u ON u.id = t.user_id JOIN orgs o ON o.id = u.org_id \
             LEFT JOIN tokens p ON p.id = t.parent_id \
             WHERE t.secret_hash = $1",
        )
        .bind(hash_secret(secret))
        .fetch_optional(self.pool())
        .await?;
        let Some(r) = row else {
            return Ok(Authn::Rejected("unknown_token"));
        };
        let now = crate::time::now();
        let revoked: Option<i64> = col(&r, "revoked_at")?;
        let expires: Option<i64> = col(&r, "expires_at")?;
        if revoked.is_some() {
            return Ok(Authn::Rejected("revoked_token"));
        }
        if expires.is_some_and(|e| e <= now) {
            return Ok(Authn::Rejected("expired_token"));
        }
        let kind: String = col(&r, "token_kind")?;
        let credential = Credential::parse(&kind).ok_or_else(|| bad("token kind", &kind))?;
        let token_id: i64 = col(&r, "token_id")?;
        if credential == Credential::Session {
            let parent: Option<i64> = col(&r, "parent_id")?;
            let parent_kind: Option<String> = col(&r, "parent_kind")?;
            let parent_user: Option<i64> = col(&r, "parent_user")?;
            let parent_expires: Option<i64> = col(&r, "parent_expires")?;
            let parent_revoked: Option<i64> = col(&r, "parent_revoked")?;
            let token_user: i64 = col(&r, "token_user")?;
            if parent.is_none() || parent_kind.as_deref() != Some(Credential::Api.as_str()) {
                return Ok(Authn::Rejected("session_without_api_parent"));
            }
            if parent_user != Some(token_user) {
                return Ok(Authn::Rejected("session_parent_of_another_user"));
            }
            if parent_revoked.is_some() {
                return Ok(Authn::Rejected("session_parent_revoked"));
            }
            if parent_expires.is_some_and(|e| e <= now) {
                return Ok(Authn::Rejected("session_parent_expired"));
            }
            // A session without an absolute end is not one this code minted.
            if expires.is_none() {
                return Ok(Authn::Rejected("session_without_end"));
            }
            let idle: Option<i64> = col(&r, "idle_seconds")?;
            let last: Option<i64> = col(&r, "last_used_at")?;
            let created: i64 = col(&r, "token_created")?;
            let last = last.unwrap_or(created);
            if idle.is_some_and(|i| last.saturating_add(i) <= now) {
                return Ok(Authn::Rejected("session_idle_timeout"));
            }
            if last <= now - TOUCH_INTERVAL {
                self.touch_session(token_id, now).await?;
            }
        }
        let role: String = col(&r, "role")?;
        let org_kind: String = col(&r, "kind")?;
        Ok(Authn::Accepted(Principal {
            user_id: col(&r, "user_id")?,
            user_name: col(&r, "user_name")?,
            role: Role::parse(&role).ok_or_else(|| bad("role", &role))?,
            token_id,
            credential,
            org: Org {
                id: col(&r, "org_id")?,
                uid: col(&r, "uid")?,
                name: col(&r, "org_name")?,
                kind: OrgKind::parse(&org_kind).ok_or_else(|| bad("org kind", &org_kind))?,
                created_at: col(&r, "created_at")?,
            },
        }))
    }

    /// Record a session's use. Not audited: it changes no access, only the idle clock.
    async fn touch_session(&self, token_id: i64, now: i64) -> Result<(), StoreError> {
        let mut tx = self.begin_write().await?;
        sqlx::query(
            "UPDATE tokens SET last_used_at = $1 WHERE id = $2 AND kind = 'session' \
             AND (last_used_at IS NULL OR last_used_at < $1)",
        )
        .bind(now)
        .bind(token_id)
        .execute(tx.conn())
        .await?;
        tx.commit().await?;
        Ok(())
    }
}
