-- Licence register (postgres dialect): licences per organisation as granted (the licence as JSON,
-- with indexed copies of the fields the register is filtered by), and their dated events and
-- shipments. Nothing is rewritten: a licence's state on a date is reconstructed from its rows,
-- so the database refuses UPDATE and DELETE on all three tables.
CREATE TABLE licences (
    id BIGSERIAL PRIMARY KEY,
    org_id BIGINT NOT NULL REFERENCES orgs(id),
    number TEXT NOT NULL,
    authority TEXT NOT NULL,
    jurisdiction TEXT NOT NULL,
    kind TEXT NOT NULL,
    holder TEXT NOT NULL,
    granted_on TEXT NOT NULL,
    valid_from TEXT NOT NULL,
    valid_until TEXT,
    licence TEXT NOT NULL,
    user_id BIGINT NOT NULL REFERENCES users(id),
    created_at BIGINT NOT NULL,
    UNIQUE (org_id, number)
);
CREATE INDEX licences_org_holder ON licences (org_id, holder);
CREATE INDEX licences_org_authority ON licences (org_id, authority);
CREATE INDEX licences_org_validity ON licences (org_id, valid_from, valid_until);
CREATE TABLE licence_events (
    id BIGSERIAL PRIMARY KEY,
    licence_id BIGINT NOT NULL REFERENCES licences(id),
    org_id BIGINT NOT NULL REFERENCES orgs(id),
    date TEXT NOT NULL,
    kind TEXT NOT NULL,
    event TEXT NOT NULL,
    user_id BIGINT NOT NULL REFERENCES users(id),
    created_at BIGINT NOT NULL
);
CREATE INDEX licence_events_licence ON licence_events (licence_id, id);
CREATE TABLE licence_shipments (
    id BIGSERIAL PRIMARY KEY,
    licence_id BIGINT NOT NULL REFERENCES licences(id),
    org_id BIGINT NOT NULL REFERENCES orgs(id),
    reference TEXT NOT NULL,
    date TEXT NOT NULL,
    item TEXT NOT NULL,
    quantity DOUBLE PRECISION NOT NULL,
    value DOUBLE PRECISION NOT NULL,
    destination TEXT NOT NULL,
    consignee TEXT NOT NULL,
    shipment TEXT NOT NULL,
    user_id BIGINT NOT NULL REFERENCES users(id),
    created_at BIGINT NOT NULL,
    UNIQUE (licence_id, reference)
);
CREATE INDEX licence_shipments_licence ON licence_shipments (licence_id, id);
CREATE TRIGGER licences_append_only BEFORE UPDATE OR DELETE ON licences
    FOR EACH ROW EXECUTE FUNCTION chipwatch_append_only();
CREATE TRIGGER licences_no_truncate BEFORE TRUNCATE ON licences
    FOR EACH STATEMENT EXECUTE FUNCTION chipwatch_append_only();
CREATE TRIGGER licence_events_append_only BEFORE UPDATE OR DELETE ON licence_events
    FOR EACH ROW EXECUTE FUNCTION chipwatch_append_only();
CREATE TRIGGER licence_events_no_truncate BEFORE TRUNCATE ON licence_events
    FOR EACH STATEMENT EXECUTE FUNCTION chipwatch_append_only();
CREATE TRIGGER licence_shipments_append_only BEFORE UPDATE OR DELETE ON licence_shipments
    FOR EACH ROW EXECUTE FUNCTION chipwatch_append_only();
CREATE TRIGGER licence_shipments_no_truncate BEFORE TRUNCATE ON licence_shipments
    FOR EACH STATEMENT EXECUTE FUNCTION chipwatch_append_only();
