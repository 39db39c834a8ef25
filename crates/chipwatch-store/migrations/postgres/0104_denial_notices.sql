-- Denial notices between partner authorities (postgres dialect; issue 17). A notice is kept as
-- published; its withdrawal is a row of its own. Both tables are append-only: the database
-- refuses UPDATE, DELETE and TRUNCATE. `origin` marks a copy received by federation
-- (`instance/uid`).
CREATE TABLE denial_notices (
    id BIGSERIAL PRIMARY KEY,
    uid TEXT NOT NULL UNIQUE,
    org_id BIGINT NOT NULL REFERENCES orgs(id),
    user_id BIGINT REFERENCES users(id),
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
    sharing_group_id BIGINT REFERENCES sharing_groups(id),
    origin TEXT,
    created_at BIGINT NOT NULL,
    UNIQUE (org_id, authority, reference)
);
CREATE INDEX denial_notices_org ON denial_notices (org_id, id);
CREATE TABLE denial_withdrawals (
    id BIGSERIAL PRIMARY KEY,
    notice_id BIGINT NOT NULL UNIQUE REFERENCES denial_notices(id),
    user_id BIGINT REFERENCES users(id),
    withdrawn_on TEXT NOT NULL,
    reason TEXT NOT NULL,
    created_at BIGINT NOT NULL
);
CREATE TRIGGER denial_notices_append_only BEFORE UPDATE OR DELETE ON denial_notices
    FOR EACH ROW EXECUTE FUNCTION chipwatch_append_only();
CREATE TRIGGER denial_notices_no_truncate BEFORE TRUNCATE ON denial_notices
    FOR EACH STATEMENT EXECUTE FUNCTION chipwatch_append_only();
CREATE TRIGGER denial_withdrawals_append_only BEFORE UPDATE OR DELETE ON denial_withdrawals
    FOR EACH ROW EXECUTE FUNCTION chipwatch_append_only();
CREATE TRIGGER denial_withdrawals_no_truncate BEFORE TRUNCATE ON denial_withdrawals
    FOR EACH STATEMENT EXECUTE FUNCTION chipwatch_append_only();
