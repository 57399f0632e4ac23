CREATE TABLE customer_events_rebuilt (
    id TEXT PRIMARY KEY NOT NULL,
    customer_id TEXT NOT NULL REFERENCES customers (id),
    action TEXT NOT NULL,
    actor_id TEXT NOT NULL,
    at TIMESTAMP NOT NULL,
    changes TEXT NOT NULL
);
INSERT INTO customer_events_rebuilt (id, customer_id, action, actor_id, at, changes)
    SELECT id, customer_id, action, actor_id, at, changes FROM customer_events;
DROP TABLE customer_events;
ALTER TABLE customer_events_rebuilt RENAME TO customer_events;
CREATE INDEX customer_events_customer ON customer_events (customer_id, id);

CREATE TABLE contact_phones_rebuilt (
    contact_id TEXT NOT NULL REFERENCES contacts (id),
    phone_normalized TEXT NOT NULL,
    PRIMARY KEY (contact_id, phone_normalized)
);
INSERT INTO contact_phones_rebuilt (contact_id, phone_normalized)
    SELECT contact_id, phone_normalized FROM contact_phones;
DROP TABLE contact_phones;
ALTER TABLE contact_phones_rebuilt RENAME TO contact_phones;
CREATE INDEX contact_phones_phone ON contact_phones (phone_normalized);

CREATE TABLE import_rows_rebuilt (
    import_id TEXT NOT NULL REFERENCES imports (id) ON DELETE CASCADE,
    row_number BIGINT NOT NULL,
    outcome TEXT NOT NULL,
    customer_id TEXT,
    matched_row BIGINT,
    errors TEXT NOT NULL,
    PRIMARY KEY (import_id, row_number)
);
INSERT INTO import_rows_rebuilt (import_id, row_number, outcome, customer_id, matched_row, errors)
    SELECT import_id, row_number, outcome, customer_id, matched_row, errors FROM import_rows;
DROP TABLE import_rows;
ALTER TABLE import_rows_rebuilt RENAME TO import_rows;
CREATE INDEX import_rows_customer ON import_rows (customer_id, import_id) WHERE outcome = 'created';
