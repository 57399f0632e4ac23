CREATE TABLE customer_events_rebuilt (
    id TEXT PRIMARY KEY NOT NULL,
    customer_id TEXT NOT NULL,
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
