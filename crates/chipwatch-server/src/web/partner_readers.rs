//! "Who read your records": the data owner's view of every release of its records to another
//! organisation, read back from the audit log (the same entries `audit verify` checks): lists
//! and single reads through the API or the dashboard, records released with an information
//! request's answer, federation pulls and pushes, and the summaries of repeated identical reads
//! (`access_log`).

use super::partner::{action_words, Names};
use crate::error::ApiResult;
use crate::AppState;
use chipwatch_report::svg::escape;
use chipwatch_store::audit::{self, AuditEntry};
use chipwatch_store::partner::{Principal, Role};
use chipwatch_store::time;
use serde_json::Value;
use std::collections::{BTreeSet, HashMap, HashSet};
use std::fmt::Write;

/// Audit actions that release records to their reader.
pub const READ_ACTIONS: &[&str] = &[
    "records.read",
    "record.read",
    "request.records.read",
    "federation.outbox",
    "federation.push",
    "records.read.repeated",
];

/// Read entries looked at (newest first): the view covers recent history, and says so.
const SCANNED: i64 = 5_000;
/// Rows shown.
const SHOWN: usize = 60;

/// The record ids an entry released (its `records` list, or its `record:ID` object).
fn released(e: &AuditEntry) -> Vec<i64> {
    if let Some(id) = e
        .object
        .strip_prefix("record:")
        .and_then(|x| x.parse().ok())
    {
        return vec![id];
    }
    serde_json::from_str::<Value>(&e.detail)
        .ok()
        .and_then(|d| {
            d.get("records").and_then(Value::as_array).map(|a| {
                a.iter()
                    .filter_map(|x| x.as_i64().or_else(|| x.get("id").and_then(Value::as_i64)))
                    .collect()
            })
        })
        .unwrap_or_default()
}

fn how(action: &str) -> &'static str {
    match action {
        "records.read" => "list of shared records",
        "record.read" => "one record",
        "request.records.read" => "answer to an information request",
        "federation.outbox" => "federation pull",
        "federation.push" => "federation push",
        _ => "read",
    }
}

/// The section's HTML (analysts and admins of the owner; viewers get a note).
pub async fn section(
    s: &AppState,
    p: &Principal,
    orgs: &HashMap<i64, String>,
    own_ids: &HashSet<i64>,
) -> ApiResult<String> {
    let mut b = String::from(r#"<h2 id="readers">Who read your records</h2>"#);
    if p.role < Role::Analyst {
        b.push_str(
            "<p class=\"muted\">Shown to your organisation's analysts and administrators.</p>",
        );
        return Ok(b);
    }
    let entries = audit::newest_with_actions(&s.store, READ_ACTIONS, SCANNED).await?;
    let by_seq: HashMap<i64, Vec<i64>> = entries.iter().map(|e| (e.seq, released(e))).collect();
    let own_prefix = format!("org:{}/", p.org.id);
    let mut rows = Vec::new();
    let mut reader_orgs = BTreeSet::new();
    for e in &entries {
        if e.actor.starts_with(&own_prefix) {
            continue;
        }
        let (ids, repeated) = if e.action.ends_with(".repeated") {
            let d: Value = serde_json::from_str(&e.detail).unwrap_or(Value::Null);
            let first = d.get("first_seq").and_then(Value::as_i64).unwrap_or(0);
            let n = d.get("repeats").and_then(Value::as_u64).unwrap_or(0);
            (by_seq.get(&first).cloned().unwrap_or_default(), Some(n))
        } else {
            (released(e), None)
        };
        let mine: Vec<i64> = ids.into_iter().filter(|i| own_ids.contains(i)).collect();
        if mine.is_empty() {
            continue;
        }
        if let Some(o) = e
            .actor
            .strip_prefix("org:")
            .and_then(|r| r.split('/').next())
            .and_then(|o| o.parse::<i64>().ok())
        {
            reader_orgs.insert(o);
        }
        rows.push((e, mine, repeated));
    }
    if rows.is_empty() {
        let _ = write!(
            b,
            "<p class=\"muted\">No other organisation has read your records (newest {SCANNED} read entries of the audit log).</p>"
        );
        return Ok(b);
    }
    // Names of the readers' users, so a row says who, not `user 7`.
    let mut users = HashMap::new();
    for o in &reader_orgs {
        for u in s.store.users_of(*o).await? {
            users.insert(u.id, u.name);
        }
    }
    let names = Names {
        orgs: orgs.clone(),
        users,
    };
    let _ = write!(
        b,
        r#"<table><caption>Releases of your records to {} organisation(s), newest first (from the newest {SCANNED} read entries of the audit log{})</caption><thead><tr><th scope="col" class="n">Seq</th><th scope="col">Time (UTC)</th><th scope="col">Reader</th><th scope="col">How</th><th scope="col">Your records</th></tr></thead><tbody>"#,
        reader_orgs.len(),
        if rows.len() > SHOWN {
            format!("; {SHOWN} of {} shown", rows.len())
        } else {
            String::new()
        }
    );
    for (e, mine, repeated) in rows.iter().take(SHOWN) {
        let list = mine
            .iter()
            .take(12)
            .map(|i| i.to_string())
            .collect::<Vec<_>>()
            .join(", ");
        let more = if mine.len() > 12 {
            format!(" and {} more", mine.len() - 12)
        } else {
            String::new()
        };
        let how = match repeated {
            Some(n) => format!(
                "the same {} again, {n} time(s)",
                how(e.action.trim_end_matches(".repeated"))
            ),
            None => how(&e.action).to_string(),
        };
        let _ = write!(
            b,
            r#"<tr><td class="n">{}</td><td>{}</td><td>{}</td><td title="{}">{}</td><td>{}{}</td></tr>"#,
            e.seq,
            escape(&time::format(e.ts / 1000)),
            escape(&names.reference(&e.actor)),
            escape(&action_words(&e.action)),
            escape(&how),
            list,
            more
        );
    }
    b.push_str("</tbody></table>");
    Ok(b)
}
