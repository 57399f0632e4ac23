-- Merges of duplicate customers into a survivor, kept so a merge can be undone: the survivor's
-- row before the merge and every moved record with the customer it came from.
CREATE TABLE customer_merges (
    id TEXT PRIMARY KEY NOT NULL,
    survivor_id TEXT NOT NULL REFERENCES customers (id),
    duplicate_ids TEXT NOT NULL,
    survivor_before TEXT NOT NULL,
    survivor_version BIGINT NOT NULL,
    moved TEXT NOT NULL,
    merged_by TEXT NOT NULL,
    merged_at TIMESTAMP NOT NULL,
    undone_at TIMESTAMP,
    undone_by TEXT
);
CREATE INDEX customer_merges_survivor ON customer_merges (survivor_id);
