-- Sessions and credentials hardening (issue 14), SQLite dialect.
-- A token is either an API token (`api`) or a dashboard session (`session`). A session names the
-- API token it was minted from (`parent_id`): it is valid only while that token is, and never
-- longer than its own absolute `expires_at`; `idle_seconds` is its idle timeout, measured from
-- `last_used_at` (touched at most once a minute).
ALTER TABLE tokens ADD COLUMN kind TEXT NOT NULL DEFAULT 'api';
ALTER TABLE tokens ADD COLUMN parent_id INTEGER REFERENCES tokens(id);
ALTER TABLE tokens ADD COLUMN idle_seconds INTEGER;
ALTER TABLE tokens ADD COLUMN last_used_at INTEGER;
CREATE INDEX tokens_parent ON tokens (parent_id);
-- Sessions minted before this version carry no parent, so they cannot be bound to one: they end
-- here (their users sign in again). They were recognisable only by their label.
UPDATE tokens
SET kind = 'session',
    revoked_at = COALESCE(revoked_at, CAST(strftime('%s', 'now') AS INTEGER))
WHERE label = 'dashboard session';
