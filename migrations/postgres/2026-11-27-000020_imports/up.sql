-- Lead import jobs. The upload is stored in parts with the job, so a job survives a restart
-- and resumes after its last committed row; each processed row keeps its result.
CREATE TABLE imports (
    id TEXT PRIMARY KEY NOT NULL,
    created_by TEXT NOT NULL,
    status TEXT NOT NULL,
    settings TEXT NOT NULL,
    size_bytes BIGINT NOT NULL,
    total_rows BIGINT,
    rows_processed BIGINT NOT NULL,
    created_count BIGINT NOT NULL,
    updated_count BIGINT NOT NULL,
    skipped_count BIGINT NOT NULL,
    failed_count BIGINT NOT NULL,
    error TEXT,
    created_at TIMESTAMP NOT NULL,
    started_at TIMESTAMP,
    finished_at TIMESTAMP
);
CREATE INDEX imports_unfinished ON imports (status, id) WHERE status IN ('uploading', 'queued', 'running');

CREATE TABLE import_uploads (
    import_id TEXT NOT NULL REFERENCES imports (id) ON DELETE CASCADE,
    seq BIGINT NOT NULL,
    data BYTEA NOT NULL,
    PRIMARY KEY (import_id, seq)
);

CREATE TABLE import_rows (
    import_id TEXT NOT NULL REFERENCES imports (id) ON DELETE CASCADE,
    row_number BIGINT NOT NULL,
    outcome TEXT NOT NULL,
    customer_id TEXT,
    matched_row BIGINT,
    errors TEXT NOT NULL,
    PRIMARY KEY (import_id, row_number)
);
CREATE INDEX import_rows_customer ON import_rows (import_id, customer_id) WHERE outcome = 'created';
