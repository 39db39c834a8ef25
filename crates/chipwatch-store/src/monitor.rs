//! Monitor storage: de-duplicated articles with their classification, alerts, and feed polling
//! state. The monitor crate stays storage-agnostic: callers pass plain rows (JSON text for the
//! full classification record).
//!
//! Ingestion is idempotent and crash-safe: an article, its classification and its alerts are
//! written in one transaction, and an article whose canonical URL or content hash is already
//! stored is reported as a duplicate instead of inserted. Re-running an interrupted ingestion
//! therefore stores exactly what was missing: no duplicates, no loss.

use crate::{col, Store, StoreError};
use sqlx::any::AnyRow;

/// An article to store.
#[derive(Debug, Clone, PartialEq)]
pub struct NewArticle {
    pub canonical_url: Option<String>,
    pub content_hash: String,
    pub source: String,
    pub url: Option<String>,
    pub title: String,
    pub language: String,
    pub body: String,
    pub seen_at: Option<String>,
    pub published_at: Option<String>,
    /// Unix seconds used for `--since` filtering and clustering (published, else seen, else now).
    pub event_time: i64,
    pub relevant: bool,
    pub event_type: String,
    pub cluster_id: Option<String>,
    pub severity: f64,
    pub simhash: u64,
    /// JSON array of entity keys used by clustering.
    pub entities: String,
    /// The full classification as JSON.
    pub record: String,
}

/// An alert to store with its article.
#[derive(Debug, Clone, PartialEq)]
pub struct NewAlert {
    /// Name of the watchlist entry that matched.
    pub watch: String,
    pub payload: String,
}

/// Outcome of an insert.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Inserted {
    New(i64),
    /// Already stored (same canonical URL or same content); the id of the stored article.
    Duplicate(i64),
}

/// A stored article/event.
#[derive(Debug, Clone, PartialEq)]
pub struct EventRow {
    pub id: i64,
    pub event_time: i64,
    pub ingested_at: i64,
    pub event_type: String,
    pub relevant: bool,
    pub cluster_id: Option<String>,
    pub severity: f64,
    pub title: String,
    pub url: Option<String>,
    pub record: String,
}

/// What clustering needs of a stored article.
#[derive(Debug, Clone, PartialEq)]
pub struct ClusterSeed {
    pub cluster_id: String,
    pub simhash: u64,
    pub event_type: String,
    pub entities: String,
    pub event_time: i64,
}

/// A stored alert.
#[derive(Debug, Clone, PartialEq)]
pub struct AlertRow {
    pub id: i64,
    pub article_id: i64,
    pub watch: String,
    pub created_at: i64,
    pub payload: String,
    pub delivered_at: Option<i64>,
}

/// Conditional-GET state of a feed.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct FeedState {
    pub url: String,
    pub etag: Option<String>,
    pub last_modified: Option<String>,
    pub last_fetch: Option<i64>,
    pub last_status: Option<i64>,
    pub last_error: Option<String>,
    pub failures: i64,
}

/// Filter for [`Store::monitor_events`].
#[derive(Debug, Clone, Default)]
pub struct EventFilter {
    pub since: Option<i64>,
    pub event_type: Option<String>,
    pub relevant_only: bool,
    pub limit: Option<i64>,
}

fn event_row(r: &AnyRow) -> Result<EventRow, StoreError> {
    Ok(EventRow {
        id: col(r, "id")?,
        event_time: col(r, "event_time")?,
        ingested_at: col(r, "ingested_at")?,
        event_type: col(r, "event_type")?,
        relevant: col::<i64>(r, "relevant")? != 0,
        cluster_id: col(r, "cluster_id")?,
        severity: col(r, "severity")?,
        title: col(r, "title")?,
        url: col(r, "url")?,
        record: col(r, "record")?,
    })
}

impl Store {
    /// Store an article with its alerts in one transaction, unless it is already stored.
    pub async fn monitor_insert_article(
        &self,
        a: &NewArticle,
        alerts: &[NewAlert],
    ) -> Result<Inserted, StoreError> {
        let mut tx = self.begin_write().await?;
        let existing = sqlx::query(
            "SELECT id FROM monitor_articles WHERE content_hash = $1 \
             OR (canonical_url IS NOT NULL AND canonical_url = $2) ORDER BY id LIMIT 1",
        )
        .bind(&a.content_hash)
        .bind(a.canonical_url.clone().unwrap_or_default())
        .fetch_optional(tx.conn())
        .await?;
        if let Some(r) = existing {
            return Ok(Inserted::Duplicate(col(&r, "id")?));
        }
        let now = crate::time::now();
        let row = sqlx::query(
            "INSERT INTO monitor_articles (canonical_url, content_hash, source, url, title, language, body, \
             seen_at, published_at, event_time, ingested_at, relevant, event_type, cluster_id, severity, \
             simhash, entities, record) VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10,$11,$12,$13,$14,$15,$16,$17,$18) \
             RETURNING id",
        )
        .bind(a.canonical_url.clone())
        .bind(&a.content_hash)
        .bind(&a.source)
        .bind(a.url.clone())
        .bind(&a.title)
        .bind(&a.language)
        .bind(&a.body)
        .bind(a.seen_at.clone())
        .bind(a.published_at.clone())
        .bind(a.event_time)
        .bind(now)
        .bind(a.relevant as i64)
        .bind(&a.event_type)
        .bind(a.cluster_id.clone())
        .bind(a.severity)
        // Stored as the signed integer with the same bits: both backends have 64-bit integers.
        .bind(a.simhash as i64)
        .bind(&a.entities)
        .bind(&a.record)
        .fetch_one(tx.conn())
        .await?;
        let id: i64 = col(&row, "id")?;
        for al in alerts {
            sqlx::query("INSERT INTO monitor_alerts (article_id, watch, created_at, payload) VALUES ($1,$2,$3,$4)")
                .bind(id)
                .bind(&al.watch)
                .bind(now)
                .bind(&al.payload)
                .execute(tx.conn())
                .await?;
        }
        tx.commit().await?;
        Ok(Inserted::New(id))
    }

    /// Stored events, newest first.
    pub async fn monitor_events(&self, f: &EventFilter) -> Result<Vec<EventRow>, StoreError> {
        let rows = sqlx::query(
            "SELECT id, event_time, ingested_at, event_type, relevant, cluster_id, severity, title, url, record \
             FROM monitor_articles WHERE event_time >= $1 AND ($2 = '' OR event_type = $2) AND relevant >= $3 \
             ORDER BY event_time DESC, id DESC LIMIT $4",
        )
        .bind(f.since.unwrap_or(i64::MIN))
        .bind(f.event_type.clone().unwrap_or_default())
        .bind(f.relevant_only as i64)
        .bind(f.limit.unwrap_or(i64::MAX))
        .fetch_all(self.pool())
        .await?;
        rows.iter().map(event_row).collect()
    }

    /// Number of stored articles.
    pub async fn monitor_article_count(&self) -> Result<i64, StoreError> {
        let r = sqlx::query("SELECT COUNT(*) AS n FROM monitor_articles")
            .fetch_one(self.pool())
            .await?;
        col(&r, "n")
    }

    /// Articles since `since` (unix seconds), oldest first, to re-seed the clusterer.
    pub async fn monitor_cluster_seeds(&self, since: i64) -> Result<Vec<ClusterSeed>, StoreError> {
        let rows = sqlx::query(
            "SELECT cluster_id, simhash, event_type, entities, event_time FROM monitor_articles \
             WHERE event_time >= $1 AND cluster_id IS NOT NULL ORDER BY event_time, id",
        )
        .bind(since)
        .fetch_all(self.pool())
        .await?;
        rows.iter()
            .map(|r| {
                Ok(ClusterSeed {
                    cluster_id: col(r, "cluster_id")?,
                    simhash: col::<i64>(r, "simhash")? as u64,
                    event_type: col(r, "event_type")?,
                    entities: col(r, "entities")?,
                    event_time: col(r, "event_time")?,
                })
            })
            .collect()
    }

    /// Alerts not yet delivered to the webhook, oldest first.
    pub async fn monitor_undelivered_alerts(&self) -> Result<Vec<AlertRow>, StoreError> {
        let rows = sqlx::query(
            "SELECT id, article_id, watch, created_at, payload, delivered_at FROM monitor_alerts \
             WHERE delivered_at IS NULL ORDER BY id",
        )
        .fetch_all(self.pool())
        .await?;
        rows.iter()
            .map(|r| {
                Ok(AlertRow {
                    id: col(r, "id")?,
                    article_id: col(r, "article_id")?,
                    watch: col(r, "watch")?,
                    created_at: col(r, "created_at")?,
                    payload: col(r, "payload")?,
                    delivered_at: col(r, "delivered_at")?,
                })
            })
            .collect()
    }

    /// Mark an alert delivered.
    pub async fn monitor_mark_delivered(&self, alert_id: i64) -> Result<(), StoreError> {
        let mut tx = self.begin_write().await?;
        sqlx::query("UPDATE monitor_alerts SET delivered_at = $1 WHERE id = $2")
            .bind(crate::time::now())
            .bind(alert_id)
            .execute(tx.conn())
            .await?;
        tx.commit().await
    }

    /// Polling state of a feed, if it was polled before.
    pub async fn monitor_feed_state(&self, url: &str) -> Result<Option<FeedState>, StoreError> {
        let r = sqlx::query(
            "SELECT url, etag, last_modified, last_fetch, last_status, last_error, failures FROM monitor_feeds WHERE url = $1",
        )
        .bind(url)
        .fetch_optional(self.pool())
        .await?;
        r.map(|r| {
            Ok(FeedState {
                url: col(&r, "url")?,
                etag: col(&r, "etag")?,
                last_modified: col(&r, "last_modified")?,
                last_fetch: col(&r, "last_fetch")?,
                last_status: col(&r, "last_status")?,
                last_error: col(&r, "last_error")?,
                failures: col(&r, "failures")?,
            })
        })
        .transpose()
    }

    /// Save the polling state of a feed (insert or replace).
    pub async fn monitor_save_feed_state(&self, s: &FeedState) -> Result<(), StoreError> {
        let mut tx = self.begin_write().await?;
        sqlx::query("DELETE FROM monitor_feeds WHERE url = $1")
            .bind(&s.url)
            .execute(tx.conn())
            .await?;
        sqlx::query(
            "INSERT INTO monitor_feeds (url, etag, last_modified, last_fetch, last_status, last_error, failures) \
             VALUES ($1,$2,$3,$4,$5,$6,$7)",
        )
        .bind(&s.url)
        .bind(s.etag.clone())
        .bind(s.last_modified.clone())
        .bind(s.last_fetch)
        .bind(s.last_status)
        .bind(s.last_error.clone())
        .bind(s.failures)
        .execute(tx.conn())
        .await?;
        tx.commit().await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn article(hash: &str, url: Option<&str>) -> NewArticle {
        NewArticle {
            canonical_url: url.map(str::to_string),
            content_hash: hash.to_string(),
            source: "f#1".into(),
            url: url.map(str::to_string),
            title: "t".into(),
            language: "zh".into(),
            body: "b".into(),
            seen_at: None,
            published_at: None,
            event_time: 1_700_000_000,
            relevant: true,
            event_type: "export_control".into(),
            cluster_id: Some("c1".into()),
            severity: 0.5,
            simhash: u64::MAX - 5,
            entities: "[]".into(),
            record: "{}".into(),
        }
    }

    #[tokio::test]
    async fn dedupe_by_hash_and_url_and_alerts_roundtrip() {
        let dir = tempfile::tempdir().unwrap();
        for (name, s) in crate::test_stores(dir.path()).await {
            let a = article("h1", Some("https://x/a"));
            let alerts = vec![NewAlert {
                watch: "asml".into(),
                payload: "{}".into(),
            }];
            let Inserted::New(id) = s.monitor_insert_article(&a, &alerts).await.unwrap() else {
                panic!("{name}")
            };
            assert_eq!(
                s.monitor_insert_article(&a, &alerts).await.unwrap(),
                Inserted::Duplicate(id)
            );
            // Same URL, different content: duplicate. Same content, no URL: duplicate.
            assert_eq!(
                s.monitor_insert_article(&article("h2", Some("https://x/a")), &[])
                    .await
                    .unwrap(),
                Inserted::Duplicate(id)
            );
            assert_eq!(
                s.monitor_insert_article(&article("h1", None), &[])
                    .await
                    .unwrap(),
                Inserted::Duplicate(id)
            );
            assert!(matches!(
                s.monitor_insert_article(&article("h3", None), &[])
                    .await
                    .unwrap(),
                Inserted::New(_)
            ));
            assert_eq!(s.monitor_article_count().await.unwrap(), 2, "{name}");
            let ev = s
                .monitor_events(&EventFilter {
                    event_type: Some("export_control".into()),
                    ..Default::default()
                })
                .await
                .unwrap();
            assert_eq!(ev.len(), 2);
            assert!(s
                .monitor_events(&EventFilter {
                    since: Some(1_800_000_000),
                    ..Default::default()
                })
                .await
                .unwrap()
                .is_empty());
            let seeds = s.monitor_cluster_seeds(0).await.unwrap();
            assert_eq!(seeds[0].simhash, u64::MAX - 5);
            let pending = s.monitor_undelivered_alerts().await.unwrap();
            assert_eq!(pending.len(), 1);
            s.monitor_mark_delivered(pending[0].id).await.unwrap();
            assert!(s.monitor_undelivered_alerts().await.unwrap().is_empty());
            let st = FeedState {
                url: "https://f/x".into(),
                etag: Some("\"e1\"".into()),
                failures: 2,
                ..Default::default()
            };
            s.monitor_save_feed_state(&st).await.unwrap();
            s.monitor_save_feed_state(&st).await.unwrap();
            assert_eq!(s.monitor_feed_state("https://f/x").await.unwrap(), Some(st));
            assert_eq!(s.monitor_feed_state("https://f/y").await.unwrap(), None);
        }
    }
}
