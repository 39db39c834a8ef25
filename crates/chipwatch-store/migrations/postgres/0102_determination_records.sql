-- Determination records (postgres dialect): a licence check made for a case, kept as it was made —
-- inputs, the full determination (verdicts, measures, rule-set version, list dates), who and
-- when, and any override with its reason. Append-only: the database refuses UPDATE and DELETE.
CREATE TABLE determination_records (
    id BIGSERIAL PRIMARY KEY,
    org_id BIGINT NOT NULL REFERENCES orgs(id),
    user_id BIGINT NOT NULL REFERENCES users(id),
    case_ref TEXT NOT NULL,
    outcome TEXT NOT NULL,
    ruleset TEXT NOT NULL,
    inputs TEXT NOT NULL,
    determination TEXT NOT NULL,
    override_outcome TEXT,
    override_reason TEXT,
    created_at BIGINT NOT NULL
);
CREATE INDEX determination_records_org ON determination_records (org_id, id);
CREATE TRIGGER determination_records_append_only BEFORE UPDATE OR DELETE ON determination_records
    FOR EACH ROW EXECUTE FUNCTION chipwatch_append_only();
CREATE TRIGGER determination_records_no_truncate BEFORE TRUNCATE ON determination_records
    FOR EACH STATEMENT EXECUTE FUNCTION chipwatch_append_only();
