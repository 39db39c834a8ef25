//! Read-only queries the web dashboard needs beyond the monitor's own ([`crate::monitor`]): every
//! recent alert (not only undelivered ones) and the stored text of an article, so the event feed
//! can show the original text beside what was detected in it.

use crate::monitor::AlertRow;
use crate::{col, Store, StoreError};

/// Stored text of one article.
#[derive(Debug, Clone, PartialEq)]
pub struct ArticleText {
    pub id: i64,
    pub language: String,
    pub source: String,
    pub body: String,
}

impl Store {
    /// The newest alerts (delivered or not), newest first.
    pub async fn monitor_recent_alerts(&self, limit: i64) -> Result<Vec<AlertRow>, StoreError> {
        let rows = sqlx::query(
            "SELECT id, article_id, watch, created_at, payload, delivered_at FROM monitor_alerts \
             ORDER BY created_at DESC, id DESC LIMIT $1",
        )
        .bind(limit.max(0))
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

    /// Language, source and body of the articles with these ids (missing ids are skipped).
    pub async fn monitor_article_texts(&self, ids: &[i64]) -> Result<Vec<ArticleText>, StoreError> {
        let mut out = Vec::with_capacity(ids.len());
        // One indexed lookup per id: the dashboard asks for a page of events at a time, and a
        // bound parameter per id keeps the statement text fixed on both backends.
        for &id in ids {
            let r = sqlx::query(
                "SELECT id, language, source, body FROM monitor_articles WHERE id = $1",
            )
            .bind(id)
            .fetch_optional(self.pool())
            .await?;
            if let Some(r) = r {
                out.push(ArticleText {
                    id: col(&r, "id")?,
                    language: col(&r, "language")?,
                    source: col(&r, "source")?,
                    body: col(&r, "body")?,
                });
            }
        }
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use crate::monitor::{NewAlert, NewArticle};

    #[tokio::test]
    async fn alerts_and_texts_round_trip() {
        let dir = tempfile::tempdir().unwrap();
        for (name, store) in crate::test_stores(dir.path()).await {
            let a = NewArticle {
                canonical_url: Some(format!("https://example.org/{name}")),
                content_hash: format!("h-{name}"),
                source: "test".into(),
                url: None,
                title: "Fire at a fab".into(),
                language: "en".into(),
                body: "A fire <b>stopped</b> production.".into(),
                seen_at: None,
                published_at: None,
                event_time: 1_700_000_000,
                relevant: true,
                event_type: "factory_fire".into(),
                cluster_id: Some("c1".into()),
                severity: 0.5,
                simhash: 7,
                entities: "[]".into(),
                record: "{}".into(),
            };
            let id = match store
                .monitor_insert_article(
                    &a,
                    &[NewAlert {
                        watch: "fabs".into(),
                        payload: "{}".into(),
                    }],
                )
                .await
                .unwrap()
            {
                crate::monitor::Inserted::New(id) => id,
                other => panic!("{name}: {other:?}"),
            };
            let alerts = store.monitor_recent_alerts(10).await.unwrap();
            assert_eq!(alerts.len(), 1, "{name}");
            assert_eq!(alerts[0].article_id, id);
            store.monitor_mark_delivered(alerts[0].id).await.unwrap();
            assert_eq!(
                store.monitor_recent_alerts(10).await.unwrap().len(),
                1,
                "{name}: delivered alerts stay listed"
            );
            let t = store.monitor_article_texts(&[id, id + 1000]).await.unwrap();
            assert_eq!(t.len(), 1);
            assert_eq!(t[0].body, "A fire <b>stopped</b> production.");
            assert_eq!(t[0].language, "en");
        }
    }
}
