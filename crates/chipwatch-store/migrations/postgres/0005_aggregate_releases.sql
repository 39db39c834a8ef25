-- Aggregates that cannot be differenced (PostgreSQL dialect; see src/partner/aggregates.rs).
-- Dominance rule per agreement: no firm above this share of a group's total.
ALTER TABLE agreements ADD COLUMN max_firm_share DOUBLE PRECISION NOT NULL DEFAULT 0.6;
-- Every country figure released, with its composition (normalised firm -> contribution, JSON),
-- so a new figure is released only when it differs from every earlier one in >= min_firms firms.
CREATE TABLE aggregate_releases (
    id BIGSERIAL PRIMARY KEY,
    agreement_id BIGINT NOT NULL REFERENCES agreements(id),
    group_key TEXT NOT NULL,
    contributors TEXT NOT NULL,
    value_sum DOUBLE PRECISION NOT NULL,
    firms BIGINT NOT NULL,
    released_at BIGINT NOT NULL
);
CREATE INDEX aggregate_releases_agreement ON aggregate_releases (agreement_id, group_key);
