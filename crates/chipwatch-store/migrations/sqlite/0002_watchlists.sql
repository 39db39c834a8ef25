-- Monitor watchlists saved per organisation through the API (TOML text, validated by the server
-- against the model before it is stored).
CREATE TABLE watchlists (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    org_id INTEGER NOT NULL REFERENCES orgs(id),
    name TEXT NOT NULL,
    config TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    UNIQUE (org_id, name)
);
