-- Analyst feedback on monitor events (postgres dialect): what an organisation's analysts said about
-- an event the monitor detected (correct, duplicate, irrelevant, wrong entity, wrong type, with
-- the right type), per organisation; exported as evaluation labels (`monitor feedback export`).
CREATE TABLE monitor_feedback (
    id BIGSERIAL PRIMARY KEY,
    article_id BIGINT NOT NULL REFERENCES monitor_articles(id),
    org_id BIGINT NOT NULL REFERENCES orgs(id),
    user_id BIGINT NOT NULL REFERENCES users(id),
    verdict TEXT NOT NULL,
    event_type TEXT,
    entity TEXT,
    duplicate_of BIGINT REFERENCES monitor_articles(id),
    note TEXT,
    created_at BIGINT NOT NULL
);
CREATE INDEX monitor_feedback_article ON monitor_feedback (article_id);
CREATE INDEX monitor_feedback_org ON monitor_feedback (org_id, id);
