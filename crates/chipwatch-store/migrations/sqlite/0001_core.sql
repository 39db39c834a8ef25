-- Core schema of the partner exchange (SQLite dialect). Timestamps are unix seconds (UTC),
-- booleans 0/1, lists JSON arrays of strings.
CREATE TABLE orgs (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    uid TEXT NOT NULL UNIQUE,
    name TEXT NOT NULL UNIQUE,
    kind TEXT NOT NULL,
    created_at INTEGER NOT NULL
);
CREATE TABLE users (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    org_id INTEGER NOT NULL REFERENCES orgs(id),
    name TEXT NOT NULL,
    role TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    UNIQUE (org_id, name)
);
CREATE TABLE tokens (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    user_id INTEGER NOT NULL REFERENCES users(id),
    secret_hash TEXT NOT NULL UNIQUE,
    label TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    expires_at INTEGER,
    revoked_at INTEGER
);
CREATE TABLE sharing_groups (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    owner_org_id INTEGER NOT NULL REFERENCES orgs(id),
    name TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    UNIQUE (owner_org_id, name)
);
CREATE TABLE sharing_group_members (
    group_id INTEGER NOT NULL REFERENCES sharing_groups(id),
    org_id INTEGER NOT NULL REFERENCES orgs(id),
    PRIMARY KEY (group_id, org_id)
);
CREATE TABLE records (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    uid TEXT NOT NULL UNIQUE,
    org_id INTEGER NOT NULL REFERENCES orgs(id),
    item TEXT NOT NULL,
    provider TEXT,
    site TEXT,
    country TEXT,
    metric TEXT NOT NULL,
    value REAL,
    unit TEXT,
    period TEXT,
    provenance TEXT,
    tlp TEXT NOT NULL,
    distribution TEXT NOT NULL,
    sharing_group_id INTEGER REFERENCES sharing_groups(id),
    origin TEXT,
    created_at INTEGER NOT NULL
);
CREATE INDEX records_org_item ON records (org_id, item);
CREATE TABLE agreements (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    grantor_org_id INTEGER NOT NULL REFERENCES orgs(id),
    grantee_org_id INTEGER NOT NULL REFERENCES orgs(id),
    items TEXT NOT NULL,
    metrics TEXT NOT NULL,
    fields TEXT NOT NULL,
    granularity TEXT NOT NULL,
    min_firms INTEGER NOT NULL,
    valid_from INTEGER NOT NULL,
    valid_until INTEGER,
    revoked_at INTEGER,
    created_at INTEGER NOT NULL
);
CREATE INDEX agreements_grantee ON agreements (grantee_org_id);
CREATE INDEX agreements_grantor ON agreements (grantor_org_id);
CREATE TABLE info_requests (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    requester_org_id INTEGER NOT NULL REFERENCES orgs(id),
    addressee_org_id INTEGER NOT NULL REFERENCES orgs(id),
    legal_basis TEXT NOT NULL,
    purpose TEXT NOT NULL,
    scope_items TEXT NOT NULL,
    scope_metrics TEXT NOT NULL,
    deadline INTEGER NOT NULL,
    confidentiality TEXT NOT NULL,
    status TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL
);
CREATE TABLE request_records (
    request_id INTEGER NOT NULL REFERENCES info_requests(id),
    record_id INTEGER NOT NULL REFERENCES records(id),
    PRIMARY KEY (request_id, record_id)
);
CREATE TABLE peers (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    name TEXT NOT NULL UNIQUE,
    base_url TEXT NOT NULL,
    remote_token TEXT NOT NULL,
    local_org_id INTEGER NOT NULL REFERENCES orgs(id),
    created_at INTEGER NOT NULL
);
CREATE TABLE scenarios (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    org_id INTEGER NOT NULL REFERENCES orgs(id),
    name TEXT NOT NULL,
    spec TEXT NOT NULL,
    result TEXT,
    created_at INTEGER NOT NULL,
    run_at INTEGER
);
CREATE INDEX scenarios_org ON scenarios (org_id);
-- Append-only, hash-chained: seq is assigned by the writer (max + 1), never by AUTOINCREMENT, so a
-- removed entry shows as a gap; hash = sha256(prev_hash | seq | ts | actor | action | object | detail).
CREATE TABLE audit_log (
    seq INTEGER PRIMARY KEY,
    ts INTEGER NOT NULL,
    actor TEXT NOT NULL,
    action TEXT NOT NULL,
    object TEXT NOT NULL,
    detail TEXT NOT NULL,
    prev_hash TEXT NOT NULL,
    hash TEXT NOT NULL
);
