-- Aggregates that cannot be differenced (SQLite dialect; see src/partner/aggregates.rs).
-- Dominance rule per agreement: no firm above this share of a group's total.
ALTER TABLE agreements ADD COLUMN max_firm_share REAL NOT NULL DEFAULT 0.6;
-- Every country figure released, with its composition (normalised firm -> contribution, JSON),
-- so a new figure is released only when it differs from every earlier one in >= min_firms firms.
CREATE TABLE aggregate_releases (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    agreement_id INTEGER NOT NULL REFERENCES agreements(id),
    group_key TEXT NOT NULL,
    contributors TEXT NOT NULL,
    value_sum REAL NOT NULL,
    firms INTEGER NOT NULL,
    released_at INTEGER NOT NULL
);
CREATE INDEX aggregate_releases_agreement ON aggregate_releases (agreement_id, group_key);
