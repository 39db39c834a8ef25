//! Analyst feedback on monitor events, per organisation: an analyst marks an event correct, a
//! duplicate (of another event), irrelevant, naming a wrong entity, or of the wrong type (with
//! the right one). Every mark is audited; an organisation sees only its own marks. Exported with
//! the stored article, the marks become evaluation labels (`chipwatch monitor feedback export`).

use crate::partner::Principal;
use crate::{audit, col, Store, StoreError};
use serde::Serialize;
use sqlx::any::AnyRow;

/// What an analyst said about an event.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Verdict {
    Correct,
    Duplicate,
    Irrelevant,
    WrongEntity,
    WrongType,
}

impl Verdict {
    pub const ALL: &'static [Verdict] = &[
        Verdict::Correct,
        Verdict::Duplicate,
        Verdict::Irrelevant,
        Verdict::WrongEntity,
        Verdict::WrongType,
    ];
    pub fn as_str(self) -> &'static str {
        match self {
            Verdict::Correct => "correct",
            Verdict::Duplicate => "duplicate",
            Verdict::Irrelevant => "irrelevant",
            Verdict::WrongEntity => "wrong_entity",
            Verdict::WrongType => "wrong_type",
        }
    }
    pub fn parse(s: &str) -> Option<Verdict> {
        Verdict::ALL.iter().copied().find(|v| v.as_str() == s)
    }
}

/// A new mark.
#[derive(Debug, Clone, PartialEq)]
pub struct NewFeedback {
    pub article_id: i64,
    pub verdict: Verdict,
    /// The right event type (`wrong_type`; required there, refused elsewhere).
    pub event_type: Option<String>,
    /// The entity that is wrong (`wrong_entity`), e.g. `country JPN`.
    pub entity: Option<String>,
    /// The event this one duplicates (`duplicate`).
    pub duplicate_of: Option<i64>,
    pub note: Option<String>,
}

/// A stored mark.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Feedback {
    pub id: i64,
    pub article_id: i64,
    pub org_id: i64,
    pub user_id: i64,
    pub user_name: String,
    pub verdict: Verdict,
    pub event_type: Option<String>,
    pub entity: Option<String>,
    pub duplicate_of: Option<i64>,
    pub note: Option<String>,
    pub created_at: i64,
}

/// A mark with the stored article it is about (for exporting labels).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct LabelledArticle {
    pub feedback: Feedback,
    pub title: String,
    pub body: String,
    pub language: String,
    pub source: String,
    pub url: Option<String>,
    /// The monitor's own type for the article when it was stored.
    pub predicted_type: String,
    pub predicted_relevant: bool,
}

fn feedback_from_row(r: &AnyRow) -> Result<Feedback, StoreError> {
    let verdict: String = col(r, "verdict")?;
    Ok(Feedback {
        id: col(r, "id")?,
        article_id: col(r, "article_id")?,
        org_id: col(r, "org_id")?,
        user_id: col(r, "user_id")?,
        user_name: col(r, "user_name")?,
        verdict: Verdict::parse(&verdict)
            .ok_or_else(|| StoreError::Invalid(format!("stored verdict `{verdict}`")))?,
        event_type: col(r, "event_type")?,
        entity: col(r, "entity")?,
        duplicate_of: col(r, "duplicate_of")?,
        note: col(r, "note")?,
        created_at: col(r, "created_at")?,
    })
}

const SELECT: &str =
    "SELECT f.id, f.article_id, f.org_id, f.user_id, u.name AS user_name, f.verdict, \
     f.event_type, f.entity, f.duplicate_of, f.note, f.created_at FROM monitor_feedback f \
     JOIN users u ON u.id = f.user_id";

impl Store {
    /// Record a mark by `who` (the caller checks the role). The event must exist; the fields
    /// must fit the verdict; `event_types` lists the valid types.
    pub async fn monitor_add_feedback(
        &self,
        who: &Principal,
        f: NewFeedback,
        event_types: &[&str],
    ) -> Result<Feedback, StoreError> {
        // A missing event is a 404 whatever the fields say.
        let exists: Option<i64> =
            sqlx::query_scalar("SELECT id FROM monitor_articles WHERE id = $1")
                .bind(f.article_id)
                .fetch_optional(self.pool())
                .await?;
        if exists.is_none() {
            return Err(StoreError::NotFound(format!("event {}", f.article_id)));
        }
        match (f.verdict, &f.event_type) {
            (Verdict::WrongType, None) => {
                return Err(StoreError::Invalid(
                    "event_type: a wrong type needs the right one".into(),
                ))
            }
            (Verdict::WrongType, Some(t)) if !event_types.contains(&t.as_str()) => {
                return Err(StoreError::Invalid(format!(
                    "event_type: `{t}` is not an event type ({})",
                    event_types.join(", ")
                )))
            }
            (Verdict::WrongType, Some(_)) => {}
            (_, Some(_)) => {
                return Err(StoreError::Invalid(
                    "event_type: only with verdict wrong_type".into(),
                ))
            }
            _ => {}
        }
        if f.duplicate_of.is_some() && f.verdict != Verdict::Duplicate {
            return Err(StoreError::Invalid(
                "duplicate_of: only with verdict duplicate".into(),
            ));
        }
        if f.duplicate_of == Some(f.article_id) {
            return Err(StoreError::Invalid(
                "duplicate_of: an event is not a duplicate of itself".into(),
            ));
        }
        for (name, v) in [("entity", &f.entity), ("note", &f.note)] {
            if v.as_deref().is_some_and(|s| s.chars().count() > 2000) {
                return Err(StoreError::Invalid(format!(
                    "{name}: at most 2000 characters"
                )));
            }
        }
        let mut tx = self.begin_write().await?;
        for id in std::iter::once(f.article_id).chain(f.duplicate_of) {
            let exists: Option<i64> =
                sqlx::query_scalar("SELECT id FROM monitor_articles WHERE id = $1")
                    .bind(id)
                    .fetch_optional(tx.conn())
                    .await?;
            if exists.is_none() {
                return Err(StoreError::NotFound(format!("event {id}")));
            }
        }
        let now = crate::time::now();
        let id: i64 = sqlx::query_scalar(
            "INSERT INTO monitor_feedback (article_id, org_id, user_id, verdict, event_type, entity, \
             duplicate_of, note, created_at) VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9) RETURNING id",
        )
        .bind(f.article_id)
        .bind(who.org.id)
        .bind(who.user_id)
        .bind(f.verdict.as_str())
        .bind(&f.event_type)
        .bind(&f.entity)
        .bind(f.duplicate_of)
        .bind(&f.note)
        .bind(now)
        .fetch_one(tx.conn())
        .await?;
        audit::append(
            &mut tx,
            &who.actor(),
            "event.feedback",
            &format!("event:{}", f.article_id),
            &serde_json::json!({"verdict": f.verdict.as_str(), "event_type": f.event_type, "duplicate_of": f.duplicate_of}),
        )
        .await?;
        tx.commit().await?;
        Ok(Feedback {
            id,
            article_id: f.article_id,
            org_id: who.org.id,
            user_id: who.user_id,
            user_name: who.user_name.clone(),
            verdict: f.verdict,
            event_type: f.event_type,
            entity: f.entity,
            duplicate_of: f.duplicate_of,
            note: f.note,
            created_at: now,
        })
    }

    /// An organisation's marks, newest first, optionally on one event.
    pub async fn monitor_feedback_of(
        &self,
        org_id: i64,
        article_id: Option<i64>,
    ) -> Result<Vec<Feedback>, StoreError> {
        let rows = sqlx::query(&format!(
            "{SELECT} WHERE f.org_id = $1 AND ($2 IS NULL OR f.article_id = $2) ORDER BY f.id DESC"
        ))
        .bind(org_id)
        .bind(article_id)
        .fetch_all(self.pool())
        .await?;
        rows.iter().map(feedback_from_row).collect()
    }

    /// An organisation's latest mark per event, with the stored article: the labels it gave.
    pub async fn monitor_feedback_labels(
        &self,
        org_id: i64,
    ) -> Result<Vec<LabelledArticle>, StoreError> {
        let marks = self.monitor_feedback_of(org_id, None).await?;
        let mut seen = std::collections::HashSet::new();
        let mut out = Vec::new();
        for m in marks {
            if !seen.insert(m.article_id) {
                continue; // an older mark on the same event: the newest stands
            }
            let r = sqlx::query(
                "SELECT title, body, language, source, url, event_type, relevant FROM monitor_articles WHERE id = $1",
            )
            .bind(m.article_id)
            .fetch_one(self.pool())
            .await?;
            out.push(LabelledArticle {
                title: col(&r, "title")?,
                body: col(&r, "body")?,
                language: col(&r, "language")?,
                source: col(&r, "source")?,
                url: col(&r, "url")?,
                predicted_type: col(&r, "event_type")?,
                predicted_relevant: col::<i64>(&r, "relevant")? != 0,
                feedback: m,
            });
        }
        out.sort_by_key(|l| l.feedback.article_id);
        Ok(out)
    }
}
