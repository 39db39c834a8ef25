-- Core schema of the partner exchange (PostgreSQL dialect). Timestamps are unix seconds (UTC),
-- booleans 0/1, lists JSON arrays of strings.
CREATE TABLE orgs (
    id BIGSERIAL PRIMARY KEY,
    uid TEXT NOT NULL UNIQUE,
    name TEXT NOT NULL UNIQUE,
    kind TEXT NOT NULL,
    created_at BIGINT NOT NULL
);
CREATE TABLE users (
    id BIGSERIAL PRIMARY KEY,
    org_id BIGINT NOT NULL REFERENCES orgs(id),
    name TEXT NOT NULL,
    role TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    UNIQUE (org_id, name)
);
CREATE TABLE tokens (
    id BIGSERIAL PRIMARY KEY,
    user_id BIGINT NOT NULL REFERENCES users(id),
    secret_hash TEXT NOT NULL UNIQUE,
    label TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    expires_at BIGINT,
    revoked_at BIGINT
);
CREATE TABLE sharing_groups (
    id BIGSERIAL PRIMARY KEY,
    owner_org_id BIGINT NOT NULL REFERENCES orgs(id),
    name TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    UNIQUE (owner_org_id, name)
);
CREATE TABLE sharing_group_members (
    group_id BIGINT NOT NULL REFERENCES sharing_groups(id),
    org_id BIGINT NOT NULL REFERENCES orgs(id),
    PRIMARY KEY (group_id, org_id)
);
CREATE TABLE records (
    id BIGSERIAL PRIMARY KEY,
    uid TEXT NOT NULL UNIQUE,
    org_id BIGINT NOT NULL REFERENCES orgs(id),
    item TEXT NOT NULL,
    provider TEXT,
    site TEXT,
    country TEXT,
    metric TEXT NOT NULL,
    value DOUBLE PRECISION,
    unit TEXT,
    period TEXT,
    provenance TEXT,
    tlp TEXT NOT NULL,
    distribution TEXT NOT NULL,
    sharing_group_id BIGINT REFERENCES sharing_groups(id),
    origin TEXT,
    created_at BIGINT NOT NULL
);
CREATE INDEX records_org_item ON records (org_id, item);
CREATE TABLE agreements (
    id BIGSERIAL PRIMARY KEY,
    grantor_org_id BIGINT NOT NULL REFERENCES orgs(id),
    grantee_org_id BIGINT NOT NULL REFERENCES orgs(id),
    items TEXT NOT NULL,
    metrics TEXT NOT NULL,
    fields TEXT NOT NULL,
    granularity TEXT NOT NULL,
    min_firms BIGINT NOT NULL,
    valid_from BIGINT NOT NULL,
    valid_until BIGINT,
    revoked_at BIGINT,
    created_at BIGINT NOT NULL
);
CREATE INDEX agreements_grantee ON agreements (grantee_org_id);
CREATE INDEX agreements_grantor ON agreements (grantor_org_id);
CREATE TABLE info_requests (
    id BIGSERIAL PRIMARY KEY,
    requester_org_id BIGINT NOT NULL REFERENCES orgs(id),
    addressee_org_id BIGINT NOT NULL REFERENCES orgs(id),
    legal_basis TEXT NOT NULL,
    purpose TEXT NOT NULL,
    scope_items TEXT NOT NULL,
    scope_metrics TEXT NOT NULL,
    deadline BIGINT NOT NULL,
    confidentiality TEXT NOT NULL,
    status TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
);
CREATE TABLE request_records (
    request_id BIGINT NOT NULL REFERENCES info_requests(id),
    record_id BIGINT NOT NULL REFERENCES records(id),
    PRIMARY KEY (request_id, record_id)
);
CREATE TABLE peers (
    id BIGSERIAL PRIMARY KEY,
    name TEXT NOT NULL UNIQUE,
    base_url TEXT NOT NULL,
    remote_token TEXT NOT NULL,
    local_org_id BIGINT NOT NULL REFERENCES orgs(id),
    created_at BIGINT NOT NULL
);
CREATE TABLE scenarios (
    id BIGSERIAL PRIMARY KEY,
    org_id BIGINT NOT NULL REFERENCES orgs(id),
    name TEXT NOT NULL,
    spec TEXT NOT NULL,
    result TEXT,
    created_at BIGINT NOT NULL,
    run_at BIGINT
);
CREATE INDEX scenarios_org ON scenarios (org_id);
-- Append-only, hash-chained: seq is assigned by the writer (max + 1), never by AUTOINCREMENT, so a
-- removed entry shows as a gap; hash = sha256(prev_hash | seq | ts | actor | action | object | detail).
CREATE TABLE audit_log (
    seq BIGINT PRIMARY KEY,
    ts BIGINT NOT NULL,
    actor TEXT NOT NULL,
    action TEXT NOT NULL,
    object TEXT NOT NULL,
    detail TEXT NOT NULL,
    prev_hash TEXT NOT NULL,
    hash TEXT NOT NULL
);
