-- Denial notices between partner authorities (sqlite dialect; issue 17). A notice is kept as
-- published; its withdrawal is a row of its own. Both tables are append-only: the database
-- refuses UPDATE and DELETE. `origin` marks a copy received by federation (`instance/uid`).
CREATE TABLE denial_notices (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    uid TEXT NOT NULL UNIQUE,
    org_id INTEGER NOT NULL REFERENCES orgs(id),
    user_id INTEGER REFERENCES users(id),
    reference TEXT NOT NULL,
    authority TEXT NOT NULL,
    jurisdiction TEXT NOT NULL,
    denied_on TEXT NOT NULL,
    destination TEXT NOT NULL,
    item_description TEXT NOT NULL,
    item_product TEXT,
    item_control_entry TEXT,
    item_model_item TEXT,
    end_user TEXT,
    end_user_aliases TEXT NOT NULL,
    consignees TEXT NOT NULL,
    reason_category TEXT NOT NULL,
    reason TEXT,
    tlp TEXT NOT NULL,
    distribution TEXT NOT NULL,
    sharing_group_id INTEGER REFERENCES sharing_groups(id),
    origin TEXT,
    created_at INTEGER NOT NULL,
    UNIQUE (org_id, authority, reference)
);
CREATE INDEX denial_notices_org ON denial_notices (org_id, id);
CREATE TABLE denial_withdrawals (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    notice_id INTEGER NOT NULL UNIQUE REFERENCES denial_notices(id),
    user_id INTEGER REFERENCES users(id),
    withdrawn_on TEXT NOT NULL,
    reason TEXT NOT NULL,
    created_at INTEGER NOT NULL
);
CREATE TRIGGER denial_notices_no_update BEFORE UPDATE ON denial_notices
BEGIN
    SELECT RAISE(ABORT, 'denial_notices is append-only: UPDATE refused');
END;
CREATE TRIGGER denial_notices_no_delete BEFORE DELETE ON denial_notices
BEGIN
    SELECT RAISE(ABORT, 'denial_notices is append-only: DELETE refused');
END;
CREATE TRIGGER denial_withdrawals_no_update BEFORE UPDATE ON denial_withdrawals
BEGIN
    SELECT RAISE(ABORT, 'denial_withdrawals is append-only: UPDATE refused');
END;
CREATE TRIGGER denial_withdrawals_no_delete BEFORE DELETE ON denial_withdrawals
BEGIN
    SELECT RAISE(ABORT, 'denial_withdrawals is append-only: DELETE refused');
END;
