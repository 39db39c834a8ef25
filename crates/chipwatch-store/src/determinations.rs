//! Determination records: a licence check made for a case, kept as it was made (inputs, the
//! full determination with its rule-set version and list dates, the user, the time, and any
//! override with its reason). Append-only in the database (triggers refuse UPDATE and DELETE),
//! each record announced in the audit chain, per organisation, searchable and exportable.

use crate::partner::Principal;
use crate::{audit, col, Store, StoreError};
use serde::Serialize;
use sqlx::any::AnyRow;

/// Outcomes a determination (or an officer's override) can have, as the controls engine names
/// them; shared by every interface that keeps records (API, dashboard, CLI).
pub const OUTCOMES: &[&str] = &[
    "not_required",
    "general_authorisation",
    "exception_with_notification",
    "undetermined",
    "licence_required",
    "prohibited",
];

/// A record to append.
#[derive(Debug, Clone, PartialEq)]
pub struct NewDeterminationRecord {
    /// The case the check was made for (file number, order, shipment reference).
    pub case_ref: String,
    /// The overall outcome of the determination.
    pub outcome: String,
    /// Rule-set version (SHA-256 over the rules data) the determination names.
    pub ruleset: String,
    /// The inputs as JSON text.
    pub inputs: String,
    /// The whole determination as JSON text.
    pub determination: String,
    /// An officer's different conclusion, with its reason (both or neither).
    pub override_outcome: Option<String>,
    pub override_reason: Option<String>,
}

/// A stored record.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct DeterminationRecord {
    pub id: i64,
    pub org_id: i64,
    pub user_id: i64,
    pub user_name: String,
    pub case_ref: String,
    pub outcome: String,
    pub ruleset: String,
    pub inputs: serde_json::Value,
    pub determination: serde_json::Value,
    pub override_outcome: Option<String>,
    pub override_reason: Option<String>,
    pub created_at: i64,
}

/// Search of an organisation's records.
#[derive(Debug, Clone, Default)]
pub struct RecordFilter {
    /// Text found in the case reference or the inputs (case-insensitive).
    pub text: Option<String>,
    pub outcome: Option<String>,
    /// Unix seconds, inclusive.
    pub from: Option<i64>,
    pub until: Option<i64>,
    pub limit: Option<i64>,
}

fn from_row(r: &AnyRow) -> Result<DeterminationRecord, StoreError> {
    let json = |name: &str| -> Result<serde_json::Value, StoreError> {
        let t: String = col(r, name)?;
        serde_json::from_str(&t).map_err(|e| StoreError::Corrupt(format!("{name}: {e}")))
    };
    Ok(DeterminationRecord {
        id: col(r, "id")?,
        org_id: col(r, "org_id")?,
        user_id: col(r, "user_id")?,
        user_name: col(r, "user_name")?,
        case_ref: col(r, "case_ref")?,
        outcome: col(r, "outcome")?,
        ruleset: col(r, "ruleset")?,
        inputs: json("inputs")?,
        determination: json("determination")?,
        override_outcome: col(r, "override_outcome")?,
        override_reason: col(r, "override_reason")?,
        created_at: col(r, "created_at")?,
    })
}

impl Store {
    /// Append a record by `who` (the caller checks the role).
    pub async fn record_determination(
        &self,
        who: &Principal,
        r: NewDeterminationRecord,
    ) -> Result<DeterminationRecord, StoreError> {
        let case = r.case_ref.trim();
        if case.is_empty() || case.chars().count() > 200 {
            return Err(StoreError::Invalid(
                "case: 1 to 200 characters naming the case".into(),
            ));
        }
        match (&r.override_outcome, &r.override_reason) {
            (Some(_), Some(reason)) if !reason.trim().is_empty() => {}
            (None, None) => {}
            _ => {
                return Err(StoreError::Invalid(
                    "override: an overriding outcome needs its reason, and a reason its outcome"
                        .into(),
                ))
            }
        }
        let inputs: serde_json::Value = serde_json::from_str(&r.inputs)
            .map_err(|e| StoreError::Invalid(format!("inputs: {e}")))?;
        let determination: serde_json::Value = serde_json::from_str(&r.determination)
            .map_err(|e| StoreError::Invalid(format!("determination: {e}")))?;
        let now = crate::time::now();
        let mut tx = self.begin_write().await?;
        let id: i64 = sqlx::query_scalar(
            "INSERT INTO determination_records (org_id, user_id, case_ref, outcome, ruleset, inputs, \
             determination, override_outcome, override_reason, created_at) \
             VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10) RETURNING id",
        )
        .bind(who.org.id)
        .bind(who.user_id)
        .bind(case)
        .bind(&r.outcome)
        .bind(&r.ruleset)
        .bind(&r.inputs)
        .bind(&r.determination)
        .bind(&r.override_outcome)
        .bind(&r.override_reason)
        .bind(now)
        .fetch_one(tx.conn())
        .await?;
        audit::append(
            &mut tx,
            &who.actor(),
            "determination.record",
            &format!("determination:{id}"),
            &serde_json::json!({"case": case, "outcome": r.outcome, "ruleset": r.ruleset,
                "override": r.override_outcome}),
        )
        .await?;
        tx.commit().await?;
        Ok(DeterminationRecord {
            id,
            org_id: who.org.id,
            user_id: who.user_id,
            user_name: who.user_name.clone(),
            case_ref: case.to_string(),
            outcome: r.outcome,
            ruleset: r.ruleset,
            inputs,
            determination,
            override_outcome: r.override_outcome,
            override_reason: r.override_reason,
            created_at: now,
        })
    }

    /// An organisation's records, newest first, filtered.
    pub async fn determination_records(
        &self,
        org_id: i64,
        f: &RecordFilter,
    ) -> Result<Vec<DeterminationRecord>, StoreError> {
        let text = f
            .text
            .as_deref()
            .map(|t| format!("%{}%", t.to_lowercase().replace(['%', '_'], "")));
        let rows = sqlx::query(
            "SELECT d.id, d.org_id, d.user_id, u.name AS user_name, d.case_ref, d.outcome, d.ruleset, \
             d.inputs, d.determination, d.override_outcome, d.override_reason, d.created_at \
             FROM determination_records d JOIN users u ON u.id = d.user_id \
             WHERE d.org_id = $1 AND ($2 IS NULL OR LOWER(d.case_ref) LIKE $2 OR LOWER(d.inputs) LIKE $2) \
             AND ($3 IS NULL OR d.outcome = $3 OR d.override_outcome = $3) \
             AND d.created_at >= $4 AND d.created_at <= $5 ORDER BY d.id DESC LIMIT $6",
        )
        .bind(org_id)
        .bind(text)
        .bind(&f.outcome)
        .bind(f.from.unwrap_or(i64::MIN))
        .bind(f.until.unwrap_or(i64::MAX))
        .bind(f.limit.unwrap_or(1000))
        .fetch_all(self.pool())
        .await?;
        rows.iter().map(from_row).collect()
    }
}
