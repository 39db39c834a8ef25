-- Analyst feedback on monitor events (sqlite dialect): what an organisation's analysts said about
-- an event the monitor detected (correct, duplicate, irrelevant, wrong entity, wrong type, with
-- the right type), per organisation; exported as evaluation labels (`monitor feedback export`).
CREATE TABLE monitor_feedback (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    article_id INTEGER NOT NULL REFERENCES monitor_articles(id),
    org_id INTEGER NOT NULL REFERENCES orgs(id),
    user_id INTEGER NOT NULL REFERENCES users(id),
    verdict TEXT NOT NULL,
    event_type TEXT,
    entity TEXT,
    duplicate_of INTEGER REFERENCES monitor_articles(id),
    note TEXT,
    created_at INTEGER NOT NULL
);
CREATE INDEX monitor_feedback_article ON monitor_feedback (article_id);
CREATE INDEX monitor_feedback_org ON monitor_feedback (org_id, id);
