-- Monitor tables (SQLite dialect): articles (one row per de-duplicated article, with its
-- classification), alerts raised for watched nodes, and the polling state of each feed.
-- Timestamps are unix seconds (UTC); booleans 0/1; lists JSON text.
CREATE TABLE monitor_articles (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    canonical_url TEXT UNIQUE,
    content_hash TEXT NOT NULL UNIQUE,
    source TEXT NOT NULL,
    url TEXT,
    title TEXT NOT NULL,
    language TEXT NOT NULL,
    body TEXT NOT NULL,
    seen_at TEXT,
    published_at TEXT,
    event_time INTEGER NOT NULL,
    ingested_at INTEGER NOT NULL,
    relevant INTEGER NOT NULL,
    event_type TEXT NOT NULL,
    cluster_id TEXT,
    severity REAL NOT NULL,
    simhash INTEGER NOT NULL,
    entities TEXT NOT NULL,
    record TEXT NOT NULL
);
CREATE INDEX monitor_articles_event ON monitor_articles (event_type, event_time);
CREATE INDEX monitor_articles_time ON monitor_articles (event_time);
CREATE TABLE monitor_alerts (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    article_id INTEGER NOT NULL REFERENCES monitor_articles(id),
    watch TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    payload TEXT NOT NULL,
    delivered_at INTEGER,
    UNIQUE (article_id, watch)
);
CREATE TABLE monitor_feeds (
    url TEXT PRIMARY KEY,
    etag TEXT,
    last_modified TEXT,
    last_fetch INTEGER,
    last_status INTEGER,
    last_error TEXT,
    failures INTEGER NOT NULL DEFAULT 0
);
