-- A customer's history is only ever read by customer, newest first (`customer_id = ?`, `id`
-- descending), and an entry is never looked up by its id alone. Keying the entries by
-- (customer_id, id) makes the history index the primary key, so each new entry (two per
-- imported lead) updates one index instead of two.
-- SQLite changes a primary key by rebuilding the table.
CREATE TABLE customer_events_rebuilt (
    id TEXT NOT NULL,
    customer_id TEXT NOT NULL,
    action TEXT NOT NULL,
    actor_id TEXT NOT NULL,
    at TIMESTAMP NOT NULL,
    changes TEXT NOT NULL,
    PRIMARY KEY (customer_id, id)
);
INSERT INTO customer_events_rebuilt (id, customer_id, action, actor_id, at, changes)
    SELECT id, customer_id, action, actor_id, at, changes FROM customer_events;
DROP TABLE customer_events;
ALTER TABLE customer_events_rebuilt RENAME TO customer_events;
