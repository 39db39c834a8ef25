-- Keyed, append-only audit log (PostgreSQL dialect).
-- `key_id` names the audit key whose HMAC-SHA256 the entry's `hash` column holds (see
-- src/audit.rs); entries written before this migration keep key_id '' and the plain SHA-256 chain.
ALTER TABLE audit_log ADD COLUMN key_id TEXT NOT NULL DEFAULT '';
-- The database refuses to rewrite history: UPDATE, DELETE and TRUNCATE raise. (A superuser can
-- drop the triggers; the keyed chain and the checkpoints outside the database detect what they do.)
CREATE FUNCTION chipwatch_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION '% is append-only: % refused', TG_TABLE_NAME, TG_OP;
END
$$;
CREATE TRIGGER audit_log_append_only BEFORE UPDATE OR DELETE ON audit_log
    FOR EACH ROW EXECUTE FUNCTION chipwatch_append_only();
CREATE TRIGGER audit_log_no_truncate BEFORE TRUNCATE ON audit_log
    FOR EACH STATEMENT EXECUTE FUNCTION chipwatch_append_only();
-- Signed checkpoints of federation peers' audit heads, kept as evidence of what their log
-- contained (a peer's truncated or rewritten log no longer matches them). Append-only as well.
CREATE TABLE audit_checkpoints (
    id BIGSERIAL PRIMARY KEY,
    org_id BIGINT NOT NULL REFERENCES orgs(id),
    seq BIGINT NOT NULL,
    hash TEXT NOT NULL,
    key_id TEXT NOT NULL,
    ts BIGINT NOT NULL,
    public_key TEXT NOT NULL,
    signature TEXT NOT NULL,
    received_at BIGINT NOT NULL,
    UNIQUE (org_id, seq, hash)
);
CREATE TRIGGER audit_checkpoints_append_only BEFORE UPDATE OR DELETE ON audit_checkpoints
    FOR EACH ROW EXECUTE FUNCTION chipwatch_append_only();
CREATE TRIGGER audit_checkpoints_no_truncate BEFORE TRUNCATE ON audit_checkpoints
    FOR EACH STATEMENT EXECUTE FUNCTION chipwatch_append_only();
