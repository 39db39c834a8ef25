-- Determination records (sqlite dialect): a licence check made for a case, kept as it was made —
-- inputs, the full determination (verdicts, measures, rule-set version, list dates), who and
-- when, and any override with its reason. Append-only: the database refuses UPDATE and DELETE.
CREATE TABLE determination_records (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    org_id INTEGER NOT NULL REFERENCES orgs(id),
    user_id INTEGER NOT NULL REFERENCES users(id),
    case_ref TEXT NOT NULL,
    outcome TEXT NOT NULL,
    ruleset TEXT NOT NULL,
    inputs TEXT NOT NULL,
    determination TEXT NOT NULL,
    override_outcome TEXT,
    override_reason TEXT,
    created_at INTEGER NOT NULL
);
CREATE INDEX determination_records_org ON determination_records (org_id, id);
CREATE TRIGGER determination_records_no_update BEFORE UPDATE ON determination_records
BEGIN
    SELECT RAISE(ABORT, 'determination_records is append-only: UPDATE refused');
END;
CREATE TRIGGER determination_records_no_delete BEFORE DELETE ON determination_records
BEGIN
    SELECT RAISE(ABORT, 'determination_records is append-only: DELETE refused');
END;
