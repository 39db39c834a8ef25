-- Keyed, append-only audit log (SQLite dialect).
-- `key_id` names the audit key whose HMAC-SHA256 the entry's `hash` column holds (see
-- src/audit.rs); entries written before this migration keep key_id '' and the plain SHA-256 chain.
ALTER TABLE audit_log ADD COLUMN key_id TEXT NOT NULL DEFAULT '';
-- The database refuses to rewrite history. (Someone with write access to the file can drop
-- these triggers; the keyed chain and the checkpoints outside the database detect what they do.)
CREATE TRIGGER audit_log_no_update BEFORE UPDATE ON audit_log
BEGIN
    SELECT RAISE(ABORT, 'audit_log is append-only: UPDATE refused');
END;
CREATE TRIGGER audit_log_no_delete BEFORE DELETE ON audit_log
BEGIN
    SELECT RAISE(ABORT, 'audit_log is append-only: DELETE refused');
END;
-- Signed checkpoints of federation peers' audit heads, kept as evidence of what their log
-- contained (a peer's truncated or rewritten log no longer matches them). Append-only as well.
CREATE TABLE audit_checkpoints (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    org_id INTEGER NOT NULL REFERENCES orgs(id),
    seq INTEGER NOT NULL,
    hash TEXT NOT NULL,
    key_id TEXT NOT NULL,
    ts INTEGER NOT NULL,
    public_key TEXT NOT NULL,
    signature TEXT NOT NULL,
    received_at INTEGER NOT NULL,
    UNIQUE (org_id, seq, hash)
);
CREATE TRIGGER audit_checkpoints_no_update BEFORE UPDATE ON audit_checkpoints
BEGIN
    SELECT RAISE(ABORT, 'audit_checkpoints is append-only: UPDATE refused');
END;
CREATE TRIGGER audit_checkpoints_no_delete BEFORE DELETE ON audit_checkpoints
BEGIN
    SELECT RAISE(ABORT, 'audit_checkpoints is append-only: DELETE refused');
END;
