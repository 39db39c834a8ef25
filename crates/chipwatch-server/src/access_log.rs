//! Summarised access entries: reading shared data cannot flood the audit log.
//!
//! Every release of partner data is audited, but a viewer (or a script with a viewer's token)
//! that reloads the same list a thousand times would otherwise add a thousand identical
//! entries. Reads are therefore summarised per *(actor, action, object, exact released set)* and
//! time window ([`WINDOW_MS`]):
//!
//! - the first read of a set in a window is appended at once, with the full detail (which
//!   records, which aggregates), in the request, before the data is returned;
//! - identical reads later in the window only count in memory;
//! - when the window ends (checked on the next read, by a sweep every minute in `serve`, and at
//!   graceful shutdown), one `<action>.repeated` entry records the count, the time span and the
//!   sequence number of the first entry.
//!
//! So *what* was released to *whom* is always in the log durably; only the repetition count of a
//! window still open when the process is killed can be lost. At most [`MAX_OPEN`] windows are
//! kept; beyond that all are flushed.

use crate::error::ApiResult;
use crate::AppState;
use serde_json::{json, Value};
use sha2::{Digest, Sha256};
use std::collections::HashMap;
use std::sync::Mutex;

/// Length of a summary window.
pub const WINDOW_MS: i64 = 10 * 60 * 1000;
/// Open windows kept in memory at most.
pub const MAX_OPEN: usize = 10_000;

#[derive(Debug, Clone, PartialEq, Eq, Hash)]
struct Key {
    actor: String,
    action: String,
    object: String,
    detail_digest: [u8; 32],
}

#[derive(Debug, Clone)]
struct Window {
    first_seq: i64,
    started_ms: i64,
    last_ms: i64,
    repeats: u64,
}

/// The open summary windows of a server.
#[derive(Debug, Default)]
pub struct AccessLog {
    open: Mutex<HashMap<Key, Window>>,
}

impl AccessLog {
    fn take(&self, pred: impl Fn(&Window) -> bool) -> Vec<(Key, Window)> {
        let Ok(mut g) = self.open.lock() else {
            return Vec::new();
        };
        let keys: Vec<Key> = g
            .iter()
            .filter(|(_, w)| pred(w))
            .map(|(k, _)| k.clone())
            .collect();
        keys.into_iter()
            .filter_map(|k| g.remove(&k).map(|w| (k, w)))
            .collect()
    }

    /// Number of open windows (for tests and metrics).
    pub fn open_windows(&self) -> usize {
        self.open.lock().map(|g| g.len()).unwrap_or(0)
    }
}

async fn write_summaries(s: &AppState, windows: Vec<(Key, Window)>) -> ApiResult<()> {
    for (k, w) in windows.into_iter().filter(|(_, w)| w.repeats > 0) {
        s.store
            .audit(
                &k.actor,
                &format!("{}.repeated", k.action),
                &k.object,
                json!({
                    "first_seq": w.first_seq,
                    "repeats": w.repeats,
                    "from_ms": w.started_ms,
                    "to_ms": w.last_ms,
                }),
            )
            .await?;
    }
    Ok(())
}

/// Audit a read of partner data, summarising identical reads within a window.
pub async fn record_access(
    s: &AppState,
    actor: &str,
    action: &str,
    object: &str,
    detail: Value,
) -> ApiResult<()> {
    let now = chipwatch_store::time::now_ms();
    let key = Key {
        actor: actor.to_string(),
        action: action.to_string(),
        object: object.to_string(),
        detail_digest: Sha256::digest(detail.to_string().as_bytes()).into(),
    };
    let log = &s.access;
    let expired = {
        let mut g = log
            .open
            .lock()
            .map_err(|_| crate::error::ApiError::internal(&"access log state poisoned"))?;
        match g.get_mut(&key) {
            Some(w) if now - w.started_ms < WINDOW_MS => {
                w.repeats += 1;
                w.last_ms = now;
                return Ok(());
            }
            Some(_) => g
                .remove(&key)
                .map(|w| vec![(key.clone(), w)])
                .unwrap_or_default(),
            None => Vec::new(),
        }
    };
    write_summaries(s, expired).await?;
    if log.open_windows() >= MAX_OPEN {
        flush(s, true).await?;
    }
    let seq = s.store.audit(actor, action, object, detail).await?;
    if let Ok(mut g) = log.open.lock() {
        g.insert(
            key,
            Window {
                first_seq: seq,
                started_ms: now,
                last_ms: now,
                repeats: 0,
            },
        );
    }
    Ok(())
}

/// Write the summaries of ended windows (`all`: of every window, e.g. at shutdown).
pub async fn flush(s: &AppState, all: bool) -> ApiResult<()> {
    let now = chipwatch_store::time::now_ms();
    let windows = s.access.take(|w| all || now - w.started_ms >= WINDOW_MS);
    write_summaries(s, windows).await
}
