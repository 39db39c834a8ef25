-- Monitor tables (PostgreSQL dialect): articles (one row per de-duplicated article, with its
-- classification), alerts raised for watched nodes, and the polling state of each feed.
-- Timestamps are unix seconds (UTC); booleans 0/1; lists JSON text.
CREATE TABLE monitor_articles (
    id BIGSERIAL PRIMARY KEY,
    canonical_url TEXT UNIQUE,
    content_hash TEXT NOT NULL UNIQUE,
    source TEXT NOT NULL,
    url TEXT,
    title TEXT NOT NULL,
    language TEXT NOT NULL,
    body TEXT NOT NULL,
    seen_at TEXT,
    published_at TEXT,
    event_time BIGINT NOT NULL,
    ingested_at BIGINT NOT NULL,
    relevant BIGINT NOT NULL,
    event_type TEXT NOT NULL,
    cluster_id TEXT,
    severity DOUBLE PRECISION NOT NULL,
    simhash BIGINT NOT NULL,
    entities TEXT NOT NULL,
    record TEXT NOT NULL
);
CREATE INDEX monitor_articles_event ON monitor_articles (event_type, event_time);
CREATE INDEX monitor_articles_time ON monitor_articles (event_time);
CREATE TABLE monitor_alerts (
    id BIGSERIAL PRIMARY KEY,
    article_id BIGINT NOT NULL REFERENCES monitor_articles(id),
    watch TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    payload TEXT NOT NULL,
    delivered_at BIGINT,
    UNIQUE (article_id, watch)
);
CREATE TABLE monitor_feeds (
    url TEXT PRIMARY KEY,
    etag TEXT,
    last_modified TEXT,
    last_fetch BIGINT,
    last_status BIGINT,
    last_error TEXT,
    failures BIGINT NOT NULL DEFAULT 0
);
