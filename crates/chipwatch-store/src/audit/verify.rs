//! Verification of the keyed audit chain: one streaming pass, linear in the log, one page of
//! entries in memory (see the parent module for the chain).
//!
//! How each kind of tampering shows:
//!
//! | tampering | problem |
//! |---|---|
//! | delete entries (no renumbering) | [`AuditProblem::Removed`] (a gap in `seq`) |
//! | change content (hash kept or recomputed without the key) | [`AuditProblem::Altered`] |
//! | swap, move or renumber entries | [`AuditProblem::Moved`] (the MAC matches another position) |
//! | replace an entry by another authentic one | [`AuditProblem::BrokenLink`] |
//! | append entries without the key | [`AuditProblem::Forged`] |
//! | MAC with a retired or unknown key | [`AuditProblem::WrongKey`] |
//! | write an unkeyed entry after keyed ones | [`AuditProblem::Unkeyed`] |
//! | drop the newest entries / delete everything | [`AuditProblem::Truncated`] |
//! | a column of the wrong type or NULL | [`AuditProblem::Corrupt`] |
//!
//! A MAC mismatch is *altered* when a later entry is authentic or a checkpoint covers it, and
//! *forged* when it lies past both (nothing vouches that such an entry ever existed).

use super::keys::{scan_checkpoints, CheckpointScan, KeyRing};
use super::{AuditEntry, GENESIS, KEY_ROTATE};
use crate::{Store, StoreError};
use serde::Serialize;

/// Problems listed at most; further ones are counted in [`VerifyReport::more_problems`].
pub const MAX_PROBLEMS: usize = 1000;
/// How far from its position an entry's MAC is tried to recognise moved entries.
const MOVE_WINDOW: i64 = 32;
/// Entries read per query.
const PAGE: i64 = 1000;

/// One problem found by [`verify`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum AuditProblem {
    /// Sequence numbers `from..=to` are missing.
    Removed { from: i64, to: i64 },
    /// The entry's MAC does not match its stored content.
    Altered { seq: i64 },
    /// Entries at positions `from..=to` are authentic entries written at positions
    /// `original_from..` (swapped, moved, or renumbered after a removal).
    Moved {
        from: i64,
        to: i64,
        original_from: i64,
    },
    /// The entry is authentic but was not written after the entry now before it (that entry was
    /// replaced, e.g. by an authentic entry from another log under the same key).
    BrokenLink { seq: i64, previous_seq: i64 },
    /// The entry lies after the last authentic entry and checkpoint and its MAC does not verify.
    Forged { seq: i64 },
    /// The entry was MACed with a key that is unknown or not in force at its position.
    WrongKey {
        seq: i64,
        key_id: String,
        expected: Option<String>,
    },
    /// An unkeyed (pre-MAC) entry after keyed ones: a downgrade.
    Unkeyed { seq: i64 },
    /// The newest entry is older than the newest signed checkpoint.
    Truncated { head: i64, checkpoint_seq: i64 },
    /// The entry a checkpoint covers has another MAC than the checkpoint says.
    CheckpointMismatch { seq: i64 },
    /// A column of the entry cannot be read (wrong type, NULL, invalid text).
    Corrupt { seq: i64, column: String },
    /// A line of the checkpoint file is not a checkpoint signed by one of our keys.
    BadCheckpoint { line: usize },
}

impl std::fmt::Display for AuditProblem {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        use AuditProblem::*;
        match self {
            Removed { from, to } if from == to => write!(f, "entry {from} was removed"),
            Removed { from, to } => write!(f, "entries {from}..={to} were removed"),
            Altered { seq } => write!(
                f,
                "entry {seq} was altered (its MAC does not match its content)"
            ),
            Moved {
                from,
                to,
                original_from,
            } if from == to => write!(
                f,
                "entry at position {from} was written as entry {original_from} (reordered or renumbered)"
            ),
            Moved {
                from,
                to,
                original_from,
            } => write!(
                f,
                "entries at positions {from}..={to} were written as entries {original_from}..={} \
                 (reordered or renumbered)",
                original_from + (to - from)
            ),
            BrokenLink { seq, previous_seq } => write!(
                f,
                "entry {seq} does not chain to entry {previous_seq} (entry {previous_seq} was replaced)"
            ),
            Forged { seq } => write!(
                f,
                "entry {seq} was forged (appended after the last authentic entry; its MAC does not verify)"
            ),
            WrongKey {
                seq,
                key_id,
                expected: Some(x),
            } => write!(
                f,
                "entry {seq} was forged: MACed with key `{key_id}` where key `{x}` was in force"
            ),
            WrongKey {
                seq,
                key_id,
                expected: None,
            } => write!(
                f,
                "entry {seq} was forged: MACed with key `{key_id}`, which is not in the key file"
            ),
            Unkeyed { seq } => write!(
                f,
                "entry {seq} was forged: an unkeyed entry after keyed entries"
            ),
            Truncated { head: 0, checkpoint_seq } => write!(
                f,
                "the log was emptied: no entries, but a signed checkpoint covers entry {checkpoint_seq}"
            ),
            Truncated {
                head,
                checkpoint_seq,
            } => write!(
                f,
                "the log was truncated: the head is entry {head}, but a signed checkpoint covers entry {checkpoint_seq}"
            ),
            CheckpointMismatch { seq } => {
                write!(f, "entry {seq} differs from the signed checkpoint of it")
            }
            Corrupt { seq, column } => {
                write!(f, "entry {seq} is corrupt: column `{column}` cannot be read")
            }
            BadCheckpoint { line } => write!(
                f,
                "checkpoint file line {line} is forged or damaged (not signed by an audit key)"
            ),
        }
    }
}

/// Result of [`verify`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct VerifyReport {
    pub entries: u64,
    /// `(seq, hash)` of the newest entry.
    pub head: Option<(i64, String)>,
    /// `(seq, hash)` of the newest signed checkpoint compared with the log, if any.
    pub checkpoint: Option<(i64, String)>,
    pub problems: Vec<AuditProblem>,
    /// Problems found beyond [`MAX_PROBLEMS`].
    pub more_problems: u64,
}

impl VerifyReport {
    pub fn ok(&self) -> bool {
        self.problems.is_empty() && self.more_problems == 0
    }
}

#[derive(Debug)]
struct Prev {
    seq: i64,
    hash: String,
    authentic: bool,
}

/// The streaming checker: feed entries in `seq` order, then [`Verifier::finish`].
#[derive(Debug)]
pub struct Verifier<'a> {
    ring: &'a KeyRing,
    checkpoint: Option<(i64, String)>,
    checkpoint_hash_seen: Option<String>,
    expected_seq: i64,
    prev: Option<Prev>,
    /// Key in force for the next entry (`None`: any key of the ring, before the first keyed entry).
    expected_key: Option<String>,
    keyed_seen: bool,
    /// Entries with a MAC mismatch since the last authentic entry (classified later).
    pending: Vec<i64>,
    entries: u64,
    head: Option<(i64, String)>,
    problems: Vec<AuditProblem>,
    more: u64,
}

impl<'a> Verifier<'a> {
    /// A verifier with the keys and the newest signed checkpoint `(seq, hash)`, if any.
    pub fn new(ring: &'a KeyRing, checkpoint: Option<(i64, String)>) -> Verifier<'a> {
        Verifier {
            ring,
            checkpoint,
            checkpoint_hash_seen: None,
            expected_seq: 1,
            prev: None,
            expected_key: None,
            keyed_seen: false,
            pending: Vec::new(),
            entries: 0,
            head: None,
            problems: Vec::new(),
            more: 0,
        }
    }

    fn problem(&mut self, p: AuditProblem) {
        // Consecutive entries shifted by the same offset are one renumbering.
        if let (
            AuditProblem::Moved {
                from,
                original_from,
                ..
            },
            Some(AuditProblem::Moved {
                from: f0,
                to: t0,
                original_from: o0,
            }),
        ) = (&p, self.problems.last_mut())
        {
            if *from == *t0 + 1 && original_from - from == *o0 - *f0 {
                *t0 = *from;
                return;
            }
        }
        if self.problems.len() < MAX_PROBLEMS {
            self.problems.push(p);
        } else {
            self.more += 1;
        }
    }

    /// Position handling common to readable and corrupt entries.
    fn position(&mut self, seq: i64) -> bool {
        self.entries += 1;
        let gap = seq > self.expected_seq;
        if gap {
            self.problem(AuditProblem::Removed {
                from: self.expected_seq,
                to: seq - 1,
            });
        }
        self.expected_seq = seq + 1;
        gap
    }

    /// An entry whose column `column` could not be read.
    pub fn corrupt(&mut self, seq: i64, column: &str) {
        self.position(seq);
        self.problem(AuditProblem::Corrupt {
            seq,
            column: column.to_string(),
        });
        self.head = Some((seq, String::new()));
        self.prev = Some(Prev {
            seq,
            hash: String::new(),
            authentic: false,
        });
    }

    /// Check the next entry (entries must come in increasing `seq`).
    pub fn feed(&mut self, e: &AuditEntry) {
        let gap = self.position(e.seq);
        if self.checkpoint.as_ref().is_some_and(|(s, _)| *s == e.seq) {
            self.checkpoint_hash_seen = Some(e.hash.clone());
        }
        self.head = Some((e.seq, e.hash.clone()));

        let mut explained = false;
        let mut authentic = false;
        if e.key_id.is_empty() && self.keyed_seen {
            self.problem(AuditProblem::Unkeyed { seq: e.seq });
            explained = true;
        } else {
            match e.expected_hash_at(self.ring, e.seq) {
                None => {
                    self.problem(AuditProblem::WrongKey {
                        seq: e.seq,
                        key_id: e.key_id.clone(),
                        expected: None,
                    });
                    explained = true;
                }
                Some(h) if h == e.hash => authentic = true,
                Some(_) => {}
            }
        }
        if !authentic && !explained {
            // Authentic content at another position? Nearest positions first; a bounded window
            // keeps the pass linear.
            let moved = (1..=MOVE_WINDOW)
                .flat_map(|d| [e.seq + d, e.seq - d])
                .filter(|&o| o >= 1)
                .find(|&o| e.expected_hash_at(self.ring, o).as_deref() == Some(&e.hash));
            match moved {
                Some(o) => self.problem(AuditProblem::Moved {
                    from: e.seq,
                    to: e.seq,
                    original_from: o,
                }),
                None => {
                    if self.pending.len() < MAX_PROBLEMS {
                        self.pending.push(e.seq);
                    } else {
                        self.more += 1;
                    }
                }
            }
        }

        if authentic {
            // Whatever failed before an authentic entry existed and was altered.
            for seq in std::mem::take(&mut self.pending) {
                self.problem(AuditProblem::Altered { seq });
            }
            if !e.key_id.is_empty() {
                if let Some(x) = &self.expected_key {
                    if x != &e.key_id {
                        let expected = Some(x.clone());
                        self.problem(AuditProblem::WrongKey {
                            seq: e.seq,
                            key_id: e.key_id.clone(),
                            expected,
                        });
                    }
                }
            }
            let expected_prev = match &self.prev {
                Some(p) => Some((p.seq, p.hash.as_str(), p.authentic)),
                None if e.seq == 1 => Some((0, GENESIS, true)),
                None => None,
            };
            if let Some((pseq, phash, pauth)) = expected_prev {
                // After a gap the removal explains the link; after a flagged entry, its flag.
                if !gap && pauth && e.prev_hash != phash {
                    self.problem(AuditProblem::BrokenLink {
                        seq: e.seq,
                        previous_seq: pseq,
                    });
                }
            }
            if !e.key_id.is_empty() {
                self.keyed_seen = true;
                let next = if e.action == KEY_ROTATE {
                    serde_json::from_str::<serde_json::Value>(&e.detail)
                        .ok()
                        .and_then(|v| v["new_key_id"].as_str().map(str::to_string))
                } else {
                    None
                };
                // A rotation entry hands over to the key it names; otherwise the key stays.
                if self.expected_key.is_none() || self.expected_key.as_deref() == Some(&e.key_id) {
                    self.expected_key = Some(next.unwrap_or_else(|| e.key_id.clone()));
                }
            }
        }
        self.prev = Some(Prev {
            seq: e.seq,
            hash: e.hash.clone(),
            authentic,
        });
    }

    /// Classify what is left and compare the head with the checkpoint.
    pub fn finish(mut self) -> VerifyReport {
        let covered = self.checkpoint.as_ref().map(|(s, _)| *s).unwrap_or(0);
        for seq in std::mem::take(&mut self.pending) {
            if seq <= covered {
                self.problem(AuditProblem::Altered { seq });
            } else {
                self.problem(AuditProblem::Forged { seq });
            }
        }
        if let Some((cseq, chash)) = self.checkpoint.clone() {
            let head = self.head.as_ref().map(|(s, _)| *s).unwrap_or(0);
            if head < cseq {
                self.problem(AuditProblem::Truncated {
                    head,
                    checkpoint_seq: cseq,
                });
            } else if self.checkpoint_hash_seen.as_deref() != Some(chash.as_str()) {
                self.problem(AuditProblem::CheckpointMismatch { seq: cseq });
            }
        }
        VerifyReport {
            entries: self.entries,
            head: self.head,
            checkpoint: self.checkpoint,
            problems: self.problems,
            more_problems: self.more,
        }
    }
}

/// Read one row, naming the first column that cannot be decoded.
fn read_row(r: &sqlx::any::AnyRow) -> Result<AuditEntry, (i64, &'static str)> {
    use sqlx::Row;
    let seq: i64 = r.try_get("seq").map_err(|_| (-1, "seq"))?;
    macro_rules! get {
        ($name:literal) => {
            r.try_get($name).map_err(|_| (seq, $name))?
        };
    }
    Ok(AuditEntry {
        seq,
        ts: get!("ts"),
        actor: get!("actor"),
        action: get!("action"),
        object: get!("object"),
        detail: get!("detail"),
        prev_hash: get!("prev_hash"),
        hash: get!("hash"),
        key_id: get!("key_id"),
    })
}

/// Verify the store's log with its keys and its checkpoint file.
pub async fn verify(store: &Store) -> Result<VerifyReport, StoreError> {
    let cfg = store.audit_config().ok_or_else(|| {
        StoreError::Invalid(
            "no audit key configured: verification needs the audit key file \
             (--audit-key-file or CHIPWATCH_AUDIT_KEY_FILE)"
                .into(),
        )
    })?;
    let scan = match &cfg.checkpoints {
        Some(f) => scan_checkpoints(f.path(), &cfg.keys)?,
        None => CheckpointScan::default(),
    };
    verify_with(store, &cfg.keys, &scan).await
}

/// Verify the log with explicit keys and checkpoints (e.g. a checkpoint file from a peer).
pub async fn verify_with(
    store: &Store,
    ring: &KeyRing,
    scan: &CheckpointScan,
) -> Result<VerifyReport, StoreError> {
    let mut v = Verifier::new(ring, scan.newest.as_ref().map(|c| (c.seq, c.hash.clone())));
    let mut after = i64::MIN;
    loop {
        let rows = sqlx::query("SELECT * FROM audit_log WHERE seq > $1 ORDER BY seq LIMIT $2")
            .bind(after)
            .bind(PAGE)
            .fetch_all(store.pool())
            .await?;
        let Some(last) = rows.last() else { break };
        let next = {
            use sqlx::Row;
            last.try_get::<i64, _>("seq")
                .map_err(|e| StoreError::Corrupt(format!("audit_log.seq: {e}")))?
        };
        for r in &rows {
            match read_row(r) {
                Ok(e) => v.feed(&e),
                Err((seq, column)) => v.corrupt(seq, column),
            }
        }
        after = next;
    }
    let mut report = v.finish();
    for &line in &scan.bad_lines {
        if report.problems.len() < MAX_PROBLEMS {
            report.problems.push(AuditProblem::BadCheckpoint { line });
        } else {
            report.more_problems += 1;
        }
    }
    Ok(report)
}

#[cfg(test)]
mod tests {
    use super::super::{entry_mac, legacy_hash, AuditKey};
    use super::*;

    fn ring() -> KeyRing {
        KeyRing::new(vec![
            AuditKey::from_parts("old", [7; 32]).unwrap(),
            AuditKey::from_parts("new", [9; 32]).unwrap(),
        ])
        .unwrap()
    }

    fn make(
        ring: &KeyRing,
        key: &str,
        prev: &str,
        seq: i64,
        action: &str,
        detail: &str,
    ) -> AuditEntry {
        let k = ring.get(key).unwrap();
        let hash = entry_mac(
            k,
            prev,
            seq,
            1000 + seq,
            "org:1/user:1",
            action,
            "x",
            detail,
        );
        AuditEntry {
            seq,
            ts: 1000 + seq,
            actor: "org:1/user:1".into(),
            action: action.into(),
            object: "x".into(),
            detail: detail.into(),
            prev_hash: prev.into(),
            hash,
            key_id: key.into(),
        }
    }

    /// `n` entries under key "old".
    fn chain(ring: &KeyRing, n: i64) -> Vec<AuditEntry> {
        let mut out: Vec<AuditEntry> = Vec::new();
        for seq in 1..=n {
            let prev = out.last().map(|e| e.hash.clone()).unwrap_or(GENESIS.into());
            out.push(make(
                ring,
                "old",
                &prev,
                seq,
                "write",
                &format!("{{\"n\":{seq}}}"),
            ));
        }
        out
    }

    fn check(ring: &KeyRing, c: &[AuditEntry], cp: Option<i64>) -> Vec<AuditProblem> {
        let cp = cp.map(|s| {
            let e = c.iter().find(|e| e.seq == s).map(|e| e.hash.clone());
            (s, e.unwrap_or_else(|| "gone".into()))
        });
        let mut v = Verifier::new(ring, cp);
        for e in c {
            v.feed(e);
        }
        v.finish().problems
    }

    #[test]
    fn intact_chains_verify() {
        let r = ring();
        assert!(check(&r, &chain(&r, 5), Some(5)).is_empty());
        assert!(check(&r, &[], None).is_empty());
    }

    #[test]
    fn each_tampering_is_named() {
        let r = ring();
        // Altered content, hash kept.
        let mut c = chain(&r, 6);
        c[2].detail = "{\"n\":999}".into();
        assert_eq!(
            check(&r, &c, Some(6)),
            vec![AuditProblem::Altered { seq: 3 }]
        );

        // Altered, then every later hash "recomputed" without the key (plain SHA-256).
        let mut c = chain(&r, 6);
        c[2].detail = "{}".into();
        for i in 2..6 {
            let prev = if i == 0 {
                GENESIS.to_string()
            } else {
                c[i - 1].hash.clone()
            };
            let e = &c[i];
            let h = legacy_hash(
                &prev, e.seq, e.ts, &e.actor, &e.action, &e.object, &e.detail,
            );
            c[i].prev_hash = prev;
            c[i].hash = h;
        }
        let p = check(&r, &c, Some(6));
        assert_eq!(p[0], AuditProblem::Altered { seq: 3 }, "{p:?}");

        // Removed without renumbering.
        let mut c = chain(&r, 6);
        c.remove(3);
        assert_eq!(
            check(&r, &c, Some(6)),
            vec![AuditProblem::Removed { from: 4, to: 4 }]
        );

        // Removed and renumbered: later entries were written one position further on.
        let mut c = chain(&r, 6);
        c.remove(3);
        for e in c.iter_mut().skip(3) {
            e.seq -= 1;
        }
        assert_eq!(
            check(&r, &c, Some(6)),
            vec![
                AuditProblem::Moved {
                    from: 4,
                    to: 5,
                    original_from: 5
                },
                AuditProblem::Truncated {
                    head: 5,
                    checkpoint_seq: 6
                }
            ]
        );

        // Swapped contents of positions 2 and 3.
        let mut c = chain(&r, 6);
        let (a, b) = (c[1].clone(), c[2].clone());
        c[1] = AuditEntry { seq: 2, ..b };
        c[2] = AuditEntry { seq: 3, ..a };
        assert_eq!(
            check(&r, &c, Some(6)),
            vec![
                AuditProblem::Moved {
                    from: 2,
                    to: 2,
                    original_from: 3
                },
                AuditProblem::Moved {
                    from: 3,
                    to: 3,
                    original_from: 2
                }
            ]
        );

        // Forged entry appended (hash made without the key).
        let mut c = chain(&r, 4);
        let prev = c[3].hash.clone();
        let mut f = make(&r, "old", &prev, 5, "write", "{}");
        f.hash = legacy_hash(&prev, 5, f.ts, &f.actor, &f.action, &f.object, &f.detail);
        c.push(f);
        assert_eq!(
            check(&r, &c, Some(4)),
            vec![AuditProblem::Forged { seq: 5 }]
        );

        // Last entry dropped; everything deleted.
        let mut c = chain(&r, 4);
        c.pop();
        assert_eq!(
            check(&r, &c, Some(4)),
            vec![AuditProblem::Truncated {
                head: 3,
                checkpoint_seq: 4
            }]
        );
        let v = Verifier::new(&r, Some((4, "h".into())));
        assert_eq!(
            v.finish().problems,
            vec![AuditProblem::Truncated {
                head: 0,
                checkpoint_seq: 4
            }]
        );

        // Unknown key.
        let mut c = chain(&r, 3);
        c[2].key_id = "stolen".into();
        assert_eq!(
            check(&r, &c, Some(3)),
            vec![AuditProblem::WrongKey {
                seq: 3,
                key_id: "stolen".into(),
                expected: None
            }]
        );

        // Unkeyed entry after keyed ones (downgrade to the plain chain).
        let mut c = chain(&r, 3);
        let prev = c[2].hash.clone();
        let mut f = make(&r, "old", &prev, 4, "write", "{}");
        f.key_id = String::new();
        f.hash = legacy_hash(&prev, 4, f.ts, &f.actor, &f.action, &f.object, &f.detail);
        c.push(f);
        assert_eq!(check(&r, &c, None), vec![AuditProblem::Unkeyed { seq: 4 }]);
    }

    #[test]
    fn rotation_hands_over_and_retired_key_cannot_extend() {
        let r = ring();
        let mut c = chain(&r, 3);
        let rot = make(
            &r,
            "old",
            &c[2].hash,
            4,
            KEY_ROTATE,
            "{\"new_key_id\":\"new\"}",
        );
        c.push(rot);
        let e5 = make(&r, "new", &c[3].hash, 5, "write", "{}");
        c.push(e5);
        assert!(check(&r, &c, Some(5)).is_empty());
        // An entry MACed with the retired key after the rotation is refused.
        let e6 = make(&r, "old", &c[4].hash, 6, "write", "{}");
        c.push(e6);
        assert_eq!(
            check(&r, &c, None),
            vec![AuditProblem::WrongKey {
                seq: 6,
                key_id: "old".into(),
                expected: Some("new".into())
            }]
        );
    }

    #[test]
    fn legacy_prefix_then_keyed_entries_verify() {
        let r = ring();
        let e1h = legacy_hash(GENESIS, 1, 5, "cli", "a", "o", "{}");
        let e1 = AuditEntry {
            seq: 1,
            ts: 5,
            actor: "cli".into(),
            action: "a".into(),
            object: "o".into(),
            detail: "{}".into(),
            prev_hash: GENESIS.into(),
            hash: e1h.clone(),
            key_id: String::new(),
        };
        let e2 = make(&r, "old", &e1h, 2, "write", "{}");
        assert!(check(&r, &[e1, e2], Some(2)).is_empty());
    }
}
