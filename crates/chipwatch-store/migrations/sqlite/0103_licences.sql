-- Licence register (sqlite dialect): licences per organisation as granted (the licence as JSON,
-- with indexed copies of the fields the register is filtered by), and their dated events and
-- shipments. Nothing is rewritten: a licence's state on a date is reconstructed from its rows,
-- so the database refuses UPDATE and DELETE on all three tables.
CREATE TABLE licences (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    org_id INTEGER NOT NULL REFERENCES orgs(id),
    number TEXT NOT NULL,
    authority TEXT NOT NULL,
    jurisdiction TEXT NOT NULL,
    kind TEXT NOT NULL,
    holder TEXT NOT NULL,
    granted_on TEXT NOT NULL,
    valid_from TEXT NOT NULL,
    valid_until TEXT,
    licence TEXT NOT NULL,
    user_id INTEGER NOT NULL REFERENCES users(id),
    created_at INTEGER NOT NULL,
    UNIQUE (org_id, number)
);
CREATE INDEX licences_org_holder ON licences (org_id, holder);
CREATE INDEX licences_org_authority ON licences (org_id, authority);
CREATE INDEX licences_org_validity ON licences (org_id, valid_from, valid_until);
CREATE TABLE licence_events (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    licence_id INTEGER NOT NULL REFERENCES licences(id),
    org_id INTEGER NOT NULL REFERENCES orgs(id),
    date TEXT NOT NULL,
    kind TEXT NOT NULL,
    event TEXT NOT NULL,
    user_id INTEGER NOT NULL REFERENCES users(id),
    created_at INTEGER NOT NULL
);
CREATE INDEX licence_events_licence ON licence_events (licence_id, id);
CREATE TABLE licence_shipments (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    licence_id INTEGER NOT NULL REFERENCES licences(id),
    org_id INTEGER NOT NULL REFERENCES orgs(id),
    reference TEXT NOT NULL,
    date TEXT NOT NULL,
    item TEXT NOT NULL,
    quantity REAL NOT NULL,
    value REAL NOT NULL,
    destination TEXT NOT NULL,
    consignee TEXT NOT NULL,
    shipment TEXT NOT NULL,
    user_id INTEGER NOT NULL REFERENCES users(id),
    created_at INTEGER NOT NULL,
    UNIQUE (licence_id, reference)
);
CREATE INDEX licence_shipments_licence ON licence_shipments (licence_id, id);
CREATE TRIGGER licences_no_update BEFORE UPDATE ON licences
BEGIN
    SELECT RAISE(ABORT, 'licences is append-only: UPDATE refused');
END;
CREATE TRIGGER licences_no_delete BEFORE DELETE ON licences
BEGIN
    SELECT RAISE(ABORT, 'licences is append-only: DELETE refused');
END;
CREATE TRIGGER licence_events_no_update BEFORE UPDATE ON licence_events
BEGIN
    SELECT RAISE(ABORT, 'licence_events is append-only: UPDATE refused');
END;
CREATE TRIGGER licence_events_no_delete BEFORE DELETE ON licence_events
BEGIN
    SELECT RAISE(ABORT, 'licence_events is append-only: DELETE refused');
END;
CREATE TRIGGER licence_shipments_no_update BEFORE UPDATE ON licence_shipments
BEGIN
    SELECT RAISE(ABORT, 'licence_shipments is append-only: UPDATE refused');
END;
CREATE TRIGGER licence_shipments_no_delete BEFORE DELETE ON licence_shipments
BEGIN
    SELECT RAISE(ABORT, 'licence_shipments is append-only: DELETE refused');
END;
