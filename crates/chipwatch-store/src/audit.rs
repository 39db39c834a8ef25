//! The audit log: append-only and hash-chained (BRIEF 3.7). Every write and every access to
//! partner data appends one entry inside the same transaction as the action, so an action and its
//! audit entry commit or vanish together.
//!
//! Entry `n` stores `hash_n = sha256(hash_{n-1} | n | ts | actor | action | object | detail)`;
//! entry 1 chains to 64 zeros. [`verify`] recomputes the chain and names every entry that was
//! altered (its own hash no longer matches), removed (a gap in `seq`), or reordered (its content
//! hashes correctly only at another position). Truncating the newest entries leaves a valid
//! shorter chain; operators who need to detect that keep the head hash ([`VerifyReport::head`])
//! somewhere else and compare.
//!
//! Actors are written as `org:<id>/user:<id>`, never with a credential.

use crate::{col, Store, StoreError, WriteTx};
use serde::Serialize;
use sha2::{Digest, Sha256};

/// Hash that entry 1 chains to.
pub const GENESIS: &str = "0000000000000000000000000000000000000000000000000000000000000000";

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
    pub hash: String,
}

/// Chain hash of an entry's content at position `seq`.
pub fn entry_hash(
    prev_hash: &str,
    seq: i64,
    ts: i64,
    actor: &str,
    action: &str,
    object: &str,
    detail: &str,
) -> String {
    let mut h = Sha256::new();
    // Length-prefix every field so no two field splits produce the same byte string.
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

/// Append an entry inside a write transaction; returns its sequence number.
pub async fn append(
    tx: &mut WriteTx,
    actor: &str,
    action: &str,
    object: &str,
    detail: &serde_json::Value,
) -> Result<i64, StoreError> {
    let last = sqlx::query("SELECT seq, hash FROM audit_log ORDER BY seq DESC LIMIT 1")
        .fetch_optional(tx.conn())
        .await?;
    let (seq, prev) = match last {
        Some(r) => (col::<i64>(&r, "seq")? + 1, col::<String>(&r, "hash")?),
        None => (1, GENESIS.to_string()),
    };
    let ts = crate::time::now_ms();
    let detail = detail.to_string();
    let hash = entry_hash(&prev, seq, ts, actor, action, object, &detail);
    sqlx::query(
        "INSERT INTO audit_log (seq, ts, actor, action, object, detail, prev_hash, hash) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
    )
    .bind(seq)
    .bind(ts)
    .bind(actor)
    .bind(action)
    .bind(object)
    .bind(&detail)
    .bind(&prev)
    .bind(&hash)
    .execute(tx.conn())
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

/// One problem found by [`verify`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum AuditProblem {
    /// The entry's content no longer matches its hash.
    Altered { seq: i64 },
    /// Sequence numbers `from..=to` are missing.
    Removed { from: i64, to: i64 },
    /// The entry's content hashes correctly only at position `original_seq`.
    Reordered { seq: i64, original_seq: i64 },
    /// The entry is intact but does not chain to its predecessor: the predecessor was altered
    /// and its hash recomputed, or entries were swapped.
    BrokenLink { seq: i64, previous_seq: i64 },
}

impl std::fmt::Display for AuditProblem {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            AuditProblem::Altered { seq } => write!(f, "entry {seq} was altered"),
            AuditProblem::Removed { from, to } if from == to => {
                write!(f, "entry {from} was removed")
            }
            AuditProblem::Removed { from, to } => write!(f, "entries {from}..={to} were removed"),
            AuditProblem::Reordered { seq, original_seq } => write!(
                f,
                "entry at position {seq} was moved there from position {original_seq} (reordered)"
            ),
            AuditProblem::BrokenLink { seq, previous_seq } => write!(
                f,
                "entry {seq} does not chain to entry {previous_seq} (entry {previous_seq} altered \
                 with a recomputed hash, or entries reordered)"
            ),
        }
    }
}

/// Result of [`verify`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct VerifyReport {
    pub entries: u64,
    /// `(seq, hash)` of the newest entry; keep it elsewhere to detect truncation later.
    pub head: Option<(i64, String)>,
    pub problems: Vec<AuditProblem>,
}

impl VerifyReport {
    pub fn ok(&self) -> bool {
        self.problems.is_empty()
    }
}

/// Check a list of entries (in stored `seq` order).
pub fn verify_entries(entries: &[AuditEntry]) -> VerifyReport {
    let mut problems = Vec::new();
    let by_hash: std::collections::HashMap<&str, i64> =
        entries.iter().map(|e| (e.hash.as_str(), e.seq)).collect();
    let mut expected_seq = 1;
    let mut prev: Option<&AuditEntry> = None;
    let mut prev_flagged = false;
    for e in entries {
        if e.seq > expected_seq {
            problems.push(AuditProblem::Removed {
                from: expected_seq,
                to: e.seq - 1,
            });
        }
        let own = entry_hash(
            &e.prev_hash,
            e.seq,
            e.ts,
            &e.actor,
            &e.action,
            &e.object,
            &e.detail,
        );
        let hash_at = |seq: i64| {
            entry_hash(
                &e.prev_hash,
                seq,
                e.ts,
                &e.actor,
                &e.action,
                &e.object,
                &e.detail,
            )
        };
        let flagged = if own != e.hash {
            // Does the content hash correctly at another position? Try the slot after its
            // recorded predecessor first, then every position (only for broken entries).
            let hint = if e.prev_hash == GENESIS {
                Some(1)
            } else {
                by_hash.get(e.prev_hash.as_str()).map(|s| s + 1)
            };
            let last = entries.last().map(|l| l.seq).unwrap_or(0);
            let original = hint
                .into_iter()
                .chain(1..=last + 1)
                .find(|&o| o != e.seq && hash_at(o) == e.hash);
            match original {
                Some(o) => problems.push(AuditProblem::Reordered {
                    seq: e.seq,
                    original_seq: o,
                }),
                None => problems.push(AuditProblem::Altered { seq: e.seq }),
            }
            true
        } else {
            let expected_prev = prev.map(|p| p.hash.as_str()).unwrap_or(GENESIS);
            // After a gap the link is already reported as a removal, after a flagged entry as
            // that entry's problem.
            if e.prev_hash != expected_prev && e.seq == expected_seq && !prev_flagged {
                problems.push(AuditProblem::BrokenLink {
                    seq: e.seq,
                    previous_seq: prev.map(|p| p.seq).unwrap_or(0),
                });
            }
            false
        };
        prev_flagged = flagged;
        expected_seq = e.seq + 1;
        prev = Some(e);
    }
    VerifyReport {
        entries: entries.len() as u64,
        head: entries.last().map(|e| (e.seq, e.hash.clone())),
        problems,
    }
}

/// Recompute the whole chain stored in the database.
pub async fn verify(store: &Store) -> Result<VerifyReport, StoreError> {
    let mut all = Vec::new();
    let mut after = 0;
    loop {
        let page = entries(store, None, after, 10_000).await?;
        match page.last() {
            Some(last) => after = last.seq,
            None => break,
        }
        all.extend(page);
    }
    Ok(verify_entries(&all))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn chain(n: i64) -> Vec<AuditEntry> {
        let mut out: Vec<AuditEntry> = Vec::new();
        for seq in 1..=n {
            let prev = out.last().map(|e| e.hash.clone()).unwrap_or(GENESIS.into());
            let detail = format!("{{\"n\":{seq}}}");
            let hash = entry_hash(
                &prev,
                seq,
                1000 + seq,
                "org:1/user:1",
                "write",
                "x",
                &detail,
            );
            out.push(AuditEntry {
                seq,
                ts: 1000 + seq,
                actor: "org:1/user:1".into(),
                action: "write".into(),
                object: "x".into(),
                detail,
                prev_hash: prev,
                hash,
            });
        }
        out
    }

    #[test]
    fn intact_chain_verifies() {
        assert!(verify_entries(&chain(5)).ok());
        assert!(verify_entries(&[]).ok());
    }

    #[test]
    fn names_altered_removed_and_reordered_entries() {
        let mut c = chain(6);
        c[2].detail = "{\"n\":999}".into();
        assert_eq!(
            verify_entries(&c).problems,
            vec![AuditProblem::Altered { seq: 3 }]
        );

        let mut c = chain(6);
        c.remove(3);
        assert_eq!(
            verify_entries(&c).problems,
            vec![AuditProblem::Removed { from: 4, to: 4 }]
        );

        // Swap the contents of positions 2 and 3, keeping the sequence numbers.
        let mut c = chain(6);
        let (a, b) = (c[1].clone(), c[2].clone());
        c[1] = AuditEntry { seq: 2, ..b };
        c[2] = AuditEntry { seq: 3, ..a };
        let p = verify_entries(&c).problems;
        assert!(
            p.contains(&AuditProblem::Reordered {
                seq: 2,
                original_seq: 3
            }),
            "{p:?}"
        );
        assert!(
            p.contains(&AuditProblem::Reordered {
                seq: 3,
                original_seq: 2
            }),
            "{p:?}"
        );

        // Altered with a recomputed hash: the next entry's link names it.
        let mut c = chain(6);
        c[1].detail = "{}".into();
        c[1].hash = entry_hash(
            &c[1].prev_hash,
            2,
            c[1].ts,
            &c[1].actor,
            &c[1].action,
            &c[1].object,
            "{}",
        );
        assert_eq!(
            verify_entries(&c).problems,
            vec![AuditProblem::BrokenLink {
                seq: 3,
                previous_seq: 2
            }]
        );
    }
}
