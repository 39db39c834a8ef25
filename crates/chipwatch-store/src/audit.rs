//! The audit log: append-only, keyed and anchored outside the database (BRIEF 3.7). Every write
//! and every release of partner data appends one entry inside the same transaction as the
//! action, so an action and its audit entry commit or vanish together.
//!
//! # The chain
//!
//! Entry `n` stores in its `hash` column
//! `HMAC-SHA256(key, "chipwatch-audit-v2" | hash_{n-1} | n | ts | actor | action | object |
//! detail | key_id)` (length-prefixed fields; entry 1 chains to 64 zeros), where `key` is the
//! audit key named by `key_id`. The key lives in a file outside the database ([`keys`]), so
//! someone who can write the database but not read that file cannot recompute the chain after
//! altering, removing, renumbering or appending entries. Keys rotate: when the key file's
//! newest key differs from the key of the newest entry, the next write first appends an
//! `audit.key_rotate` entry MACed with the *old* key that names the new key id; from then on only
//! the new key is accepted (a leaked retired key cannot extend the log).
//!
//! Entries written before keyed chaining (`key_id` empty) keep their plain SHA-256 chain
//! ([`legacy_hash`]); the first keyed entry chains to their head, so they stay covered. An
//! unkeyed entry after a keyed one is a downgrade and is reported.
//!
//! # Anchors outside the database
//!
//! - The database refuses UPDATE and DELETE on `audit_log` (triggers, migration 0004).
//! - After every commit that appended entries, [`WriteTx::commit`](crate::WriteTx::commit)
//!   appends a signed [`Checkpoint`] of the head to the checkpoint file; federation pushes carry
//!   the newest checkpoint to peers, who keep them (`audit_checkpoints`). [`verify`] compares the
//!   chain with the newest checkpoint, so cutting off the newest entries, or deleting everything,
//!   is detected.
//!
//! # Verification
//!
//! [`verify`] streams the log in pages (linear time, one page in memory) through [`Verifier`]
//! and names the first wrong entry precisely: removed (a gap), altered (the MAC no longer matches
//! the stored content, later entries intact), moved or renumbered (the MAC matches the content at
//! another position), forged (entries after the last authentic one whose MAC does not verify, or
//! made with a key not in force), truncated (head older than the checkpoint) and corrupt columns.
//!
//! Actors are written as `org:<id>/user:<id>`, never with a credential.

pub mod keys;
mod verify;

pub use keys::{AuditKey, Checkpoint, CheckpointFile, KeyRing};
pub use verify::{verify, verify_with, AuditProblem, Verifier, VerifyReport};

use crate::{col, Store, StoreError, WriteTx};
use hmac::Mac;
use serde::Serialize;
use sha2::{Digest, Sha256};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

/// Hash that entry 1 chains to.
pub const GENESIS: &str = "0000000000000000000000000000000000000000000000000000000000000000";

/// Action of the entry that hands the chain over to a new key.
pub const KEY_ROTATE: &str = "audit.key_rotate";

/// One stored entry.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct AuditEntry {
    pub seq: i64,
    /// Milliseconds since the unix epoch.
    pub ts: i64,
    pub actor: String,
    pub action: String,
    pub object: String,
    /// JSON text.
    pub detail: String,
    pub prev_hash: String,
    /// The entry's MAC (its plain SHA-256 chain hash for entries with an empty `key_id`).
    pub hash: String,
    /// Audit key the MAC was made with; empty for entries written before keyed chaining.
    pub key_id: String,
}

/// Where the audit key and the checkpoint file of a store are.
#[derive(Debug, Clone, Default)]
pub struct AuditOptions {
    /// Key file; default for SQLite `<database file>.audit-key`. PostgreSQL has no default:
    /// without a key file every write fails (closed) and `audit verify` refuses to run.
    pub key_file: Option<PathBuf>,
    /// Checkpoint file; default the key file's path with `.checkpoints` appended.
    pub checkpoint_file: Option<PathBuf>,
    /// Create the key file when it is missing (`serve`, `admin`); `audit verify` never does.
    pub create_key: bool,
}

impl AuditOptions {
    /// Options that create the key file on first use (the development default).
    pub fn creating() -> AuditOptions {
        AuditOptions {
            create_key: true,
            ..AuditOptions::default()
        }
    }
}

/// The resolved audit configuration of a store: keys and checkpoint file.
#[derive(Debug)]
pub struct AuditConfig {
    pub keys: KeyRing,
    pub key_file: Option<PathBuf>,
    pub checkpoints: Option<CheckpointFile>,
    /// The newest checkpoint this process wrote (what a federation push carries).
    last: Mutex<Option<Checkpoint>>,
}

impl AuditConfig {
    /// A configuration from keys in memory (tests, tools).
    pub fn new(keys: KeyRing, checkpoint_file: Option<&Path>) -> Result<AuditConfig, StoreError> {
        Ok(AuditConfig {
            keys,
            key_file: None,
            checkpoints: checkpoint_file.map(CheckpointFile::open).transpose()?,
            last: Mutex::new(None),
        })
    }

    /// Load (or create, when `opts.create_key`) the key file and open the checkpoint file.
    /// `default_key_file` is used when the options name none (SQLite: next to the database).
    pub fn load(
        opts: &AuditOptions,
        default_key_file: Option<PathBuf>,
    ) -> Result<Option<AuditConfig>, StoreError> {
        let Some(key_file) = opts.key_file.clone().or(default_key_file) else {
            return Ok(None);
        };
        let keys = if opts.create_key {
            let (ring, created) = KeyRing::load_or_create(&key_file)?;
            if created {
                tracing::warn!(file = %key_file.display(),
                    "generated a new audit key; keep this file away from the database and back it up");
            }
            ring
        } else {
            KeyRing::load(&key_file)?
        };
        let cp_path = opts.checkpoint_file.clone().unwrap_or_else(|| {
            let mut p = key_file.clone().into_os_string();
            p.push(".checkpoints");
            PathBuf::from(p)
        });
        // Writers need an appendable file (checked now, not at the first write); a verifier
        // only reads and creates nothing.
        let checkpoints = if opts.create_key {
            CheckpointFile::open(&cp_path)?
        } else {
            CheckpointFile::at(&cp_path)
        };
        let scan = keys::scan_checkpoints(&cp_path, &keys)?;
        Ok(Some(AuditConfig {
            keys,
            key_file: Some(key_file),
            checkpoints: Some(checkpoints),
            last: Mutex::new(scan.newest),
        }))
    }

    /// The newest checkpoint written (by this process, or found in the file at start).
    pub fn last_checkpoint(&self) -> Option<Checkpoint> {
        self.last.lock().map(|g| g.clone()).unwrap_or(None)
    }

    /// Sign the head and append it to the checkpoint file (called after a commit).
    pub(crate) fn checkpoint(&self, seq: i64, hash: &str, key_id: &str) {
        let Some(key) = self.keys.get(key_id) else {
            return;
        };
        let cp = Checkpoint::sign(key, seq, hash, crate::time::now_ms());
        if let Some(file) = &self.checkpoints {
            // The entry is committed already; a failed checkpoint only leaves the anchor one
            // step behind (the next commit writes a newer one), so it is logged, not returned.
            if let Err(e) = file.append(&cp) {
                tracing::error!(error = %e, "could not write audit checkpoint");
            }
        }
        if let Ok(mut g) = self.last.lock() {
            if g.as_ref().is_none_or(|c| c.seq <= seq) {
                *g = Some(cp);
            }
        }
    }
}

fn put(mac: &mut impl Mac, part: &[u8]) {
    mac.update(&(part.len() as u64).to_le_bytes());
    mac.update(part);
}

/// MAC of an entry's content at position `seq` under `key`.
#[allow(clippy::too_many_arguments)]
pub fn entry_mac(
    key: &AuditKey,
    prev_hash: &str,
    seq: i64,
    ts: i64,
    actor: &str,
    action: &str,
    object: &str,
    detail: &str,
) -> String {
    let mut m = key.mac();
    // Length-prefix every field so no two field splits produce the same byte string.
    for part in [
        "chipwatch-audit-v2",
        prev_hash,
        &seq.to_string(),
        &ts.to_string(),
        actor,
        action,
        object,
        detail,
        &key.id,
    ] {
        put(&mut m, part.as_bytes());
    }
    hex::encode(m.finalize().into_bytes())
}

/// Plain SHA-256 chain hash of entries written before keyed chaining (`key_id` empty).
pub fn legacy_hash(
    prev_hash: &str,
    seq: i64,
    ts: i64,
    actor: &str,
    action: &str,
    object: &str,
    detail: &str,
) -> String {
    let mut h = Sha256::new();
    for part in [
        prev_hash,
        &seq.to_string(),
        &ts.to_string(),
        actor,
        action,
        object,
        detail,
    ] {
        h.update((part.len() as u64).to_le_bytes());
        h.update(part.as_bytes());
    }
    hex::encode(h.finalize())
}

impl AuditEntry {
    /// The MAC (or legacy hash) this entry's content would have at position `seq`; `None` when
    /// its key is not in `ring`.
    pub fn expected_hash_at(&self, ring: &KeyRing, seq: i64) -> Option<String> {
        if self.key_id.is_empty() {
            return Some(legacy_hash(
                &self.prev_hash,
                seq,
                self.ts,
                &self.actor,
                &self.action,
                &self.object,
                &self.detail,
            ));
        }
        let key = ring.get(&self.key_id)?;
        Some(entry_mac(
            key,
            &self.prev_hash,
            seq,
            self.ts,
            &self.actor,
            &self.action,
            &self.object,
            &self.detail,
        ))
    }
}

#[allow(clippy::too_many_arguments)]
async fn insert(
    tx: &mut WriteTx,
    key: &AuditKey,
    seq: i64,
    prev: &str,
    actor: &str,
    action: &str,
    object: &str,
    detail: &str,
) -> Result<String, StoreError> {
    let ts = crate::time::now_ms();
    let hash = entry_mac(key, prev, seq, ts, actor, action, object, detail);
    sqlx::query(
        "INSERT INTO audit_log (seq, ts, actor, action, object, detail, prev_hash, hash, key_id) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
    )
    .bind(seq)
    .bind(ts)
    .bind(actor)
    .bind(action)
    .bind(object)
    .bind(detail)
    .bind(prev)
    .bind(&hash)
    .bind(&key.id)
    .execute(tx.conn())
    .await?;
    tx.audit_head = Some((seq, hash.clone(), key.id.clone()));
    Ok(hash)
}

/// Append an entry inside a write transaction; returns its sequence number. Fails (closed) when
/// the store has no audit key, or when the newest entry's key is missing from the key file.
pub async fn append(
    tx: &mut WriteTx,
    actor: &str,
    action: &str,
    object: &str,
    detail: &serde_json::Value,
) -> Result<i64, StoreError> {
    let cfg = tx.audit.clone().ok_or_else(|| {
        StoreError::Invalid(
            "no audit key configured (pass --audit-key-file or set CHIPWATCH_AUDIT_KEY_FILE)"
                .into(),
        )
    })?;
    let last = sqlx::query("SELECT seq, hash, key_id FROM audit_log ORDER BY seq DESC LIMIT 1")
        .fetch_optional(tx.conn())
        .await?;
    let (mut seq, mut prev, last_key) = match last {
        Some(r) => (
            col::<i64>(&r, "seq")? + 1,
            col::<String>(&r, "hash")?,
            col::<String>(&r, "key_id")?,
        ),
        None => (1, GENESIS.to_string(), String::new()),
    };
    let current = cfg.keys.current();
    if !last_key.is_empty() && last_key != current.id {
        // Hand over to the new key with an entry the old key vouches for.
        let old = cfg.keys.get(&last_key).ok_or_else(|| {
            StoreError::Invalid(format!(
                "the newest audit entry was MACed with key `{last_key}`, which the key file does \
                 not contain (keep retired keys in the file; add new ones at the end)"
            ))
        })?;
        let detail = serde_json::json!({"new_key_id": current.id}).to_string();
        prev = insert(tx, old, seq, &prev, "system", KEY_ROTATE, "audit", &detail).await?;
        seq += 1;
    }
    insert(
        tx,
        current,
        seq,
        &prev,
        actor,
        action,
        object,
        &detail.to_string(),
    )
    .await?;
    Ok(seq)
}

fn entry_from_row(r: &sqlx::any::AnyRow) -> Result<AuditEntry, StoreError> {
    Ok(AuditEntry {
        seq: col(r, "seq")?,
        ts: col(r, "ts")?,
        actor: col(r, "actor")?,
        action: col(r, "action")?,
        object: col(r, "object")?,
        detail: col(r, "detail")?,
        prev_hash: col(r, "prev_hash")?,
        hash: col(r, "hash")?,
        key_id: col(r, "key_id")?,
    })
}

/// Entries in sequence order, optionally only those of actors whose id starts with `actor_prefix`.
pub async fn entries(
    store: &Store,
    actor_prefix: Option<&str>,
    after_seq: i64,
    limit: i64,
) -> Result<Vec<AuditEntry>, StoreError> {
    query_entries(store, actor_prefix, after_seq, limit, "ORDER BY seq").await
}

/// The newest `limit` entries (newest first), optionally only those whose actor starts with
/// `actor_prefix`: one indexed query, however long the log has grown.
pub async fn newest_entries(
    store: &Store,
    actor_prefix: Option<&str>,
    limit: i64,
) -> Result<Vec<AuditEntry>, StoreError> {
    query_entries(store, actor_prefix, 0, limit, "ORDER BY seq DESC").await
}

/// The newest `limit` entries whose action is one of `actions` (newest first): the reads of
/// partner data, for the owner's "who read your records" view.
pub async fn newest_with_actions(
    store: &Store,
    actions: &[&str],
    limit: i64,
) -> Result<Vec<AuditEntry>, StoreError> {
    if actions.is_empty() {
        return Ok(Vec::new());
    }
    let marks: Vec<String> = (1..=actions.len()).map(|i| format!("${i}")).collect();
    let sql = format!(
        "SELECT * FROM audit_log WHERE action IN ({}) ORDER BY seq DESC LIMIT ${}",
        marks.join(", "),
        actions.len() + 1
    );
    let mut q = sqlx::query(&sql);
    for a in actions {
        q = q.bind(*a);
    }
    let rows = q.bind(limit).fetch_all(store.pool()).await?;
    rows.iter().map(entry_from_row).collect()
}

async fn query_entries(
    store: &Store,
    actor_prefix: Option<&str>,
    after_seq: i64,
    limit: i64,
    order: &'static str,
) -> Result<Vec<AuditEntry>, StoreError> {
    let rows = match actor_prefix {
        Some(p) => {
            sqlx::query(&format!(
                "SELECT * FROM audit_log WHERE seq > $1 AND actor LIKE $2 ESCAPE '\\' \
                 {order} LIMIT $3"
            ))
            .bind(after_seq)
            .bind(format!(
                "{}%",
                p.replace('\\', "\\\\")
                    .replace('%', "\\%")
                    .replace('_', "\\_")
            ))
            .bind(limit)
            .fetch_all(store.pool())
            .await?
        }
        None => {
            sqlx::query(&format!(
                "SELECT * FROM audit_log WHERE seq > $1 {order} LIMIT $2"
            ))
            .bind(after_seq)
            .bind(limit)
            .fetch_all(store.pool())
            .await?
        }
    };
    rows.iter().map(entry_from_row).collect()
}

/// A checkpoint received from a federation peer, as stored.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PeerCheckpoint {
    pub org_id: i64,
    pub checkpoint: Checkpoint,
    pub received_at: i64,
}

impl Store {
    /// The store's audit configuration (keys and checkpoint file), if any.
    pub fn audit_config(&self) -> Option<&Arc<AuditConfig>> {
        self.audit.as_ref()
    }

    /// Keep a checkpoint a federation peer (`org_id`, its local stand-in) sent us. The signature
    /// must verify under the public key it carries, and that key must be the one this peer used
    /// before for the same key id (pinned on first use); an identical checkpoint is stored once.
    /// Returns whether it was new.
    pub async fn store_peer_checkpoint(
        &self,
        org_id: i64,
        cp: &Checkpoint,
    ) -> Result<bool, StoreError> {
        if !cp.self_signed_ok() {
            return Err(StoreError::Invalid(
                "checkpoint: signature does not verify".into(),
            ));
        }
        let mut tx = self.begin_write().await?;
        let pinned: Option<String> = sqlx::query_scalar(
            "SELECT public_key FROM audit_checkpoints WHERE org_id = $1 AND key_id = $2 \
             ORDER BY id LIMIT 1",
        )
        .bind(org_id)
        .bind(&cp.key_id)
        .fetch_optional(tx.conn())
        .await?;
        if pinned.as_ref().is_some_and(|p| p != &cp.public_key) {
            return Err(StoreError::Invalid(format!(
                "checkpoint: key `{}` of this peer had another public key before",
                cp.key_id
            )));
        }
        let seen: Option<i64> = sqlx::query_scalar(
            "SELECT id FROM audit_checkpoints WHERE org_id = $1 AND seq = $2 AND hash = $3",
        )
        .bind(org_id)
        .bind(cp.seq)
        .bind(&cp.hash)
        .fetch_optional(tx.conn())
        .await?;
        if seen.is_some() {
            return Ok(false);
        }
        sqlx::query(
            "INSERT INTO audit_checkpoints (org_id, seq, hash, key_id, ts, public_key, \
             signature, received_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
        )
        .bind(org_id)
        .bind(cp.seq)
        .bind(&cp.hash)
        .bind(&cp.key_id)
        .bind(cp.ts)
        .bind(&cp.public_key)
        .bind(&cp.signature)
        .bind(crate::time::now())
        .execute(tx.conn())
        .await?;
        append(
            &mut tx,
            "system",
            "audit.checkpoint_received",
            &format!("org:{org_id}"),
            &serde_json::json!({"seq": cp.seq, "hash": cp.hash, "key_id": cp.key_id}),
        )
        .await?;
        tx.commit().await?;
        Ok(true)
    }

    /// Checkpoints received from the peer stand-in `org_id`, oldest first.
    pub async fn peer_checkpoints(&self, org_id: i64) -> Result<Vec<PeerCheckpoint>, StoreError> {
        let rows = sqlx::query(
            "SELECT org_id, seq, hash, key_id, ts, public_key, signature, received_at \
             FROM audit_checkpoints WHERE org_id = $1 ORDER BY seq, id",
        )
        .bind(org_id)
        .fetch_all(self.pool())
        .await?;
        rows.iter()
            .map(|r| {
                Ok(PeerCheckpoint {
                    org_id: col(r, "org_id")?,
                    received_at: col(r, "received_at")?,
                    checkpoint: Checkpoint {
                        seq: col(r, "seq")?,
                        hash: col(r, "hash")?,
                        key_id: col(r, "key_id")?,
                        ts: col(r, "ts")?,
                        public_key: col(r, "public_key")?,
                        signature: col(r, "signature")?,
                    },
                })
            })
            .collect()
    }
}
