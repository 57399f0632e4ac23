-- A customer's history is only ever read by customer, newest first (`customer_id = ?`, `id`
-- descending), and an entry is never looked up by its id alone. Keying the entries by
-- (customer_id, id) makes the history index the primary key, so each new entry (two per
-- imported lead) updates one index instead of two.
ALTER TABLE customer_events DROP CONSTRAINT customer_events_pkey;
ALTER TABLE customer_events ADD CONSTRAINT customer_events_pkey PRIMARY KEY (customer_id, id);
DROP INDEX customer_events_customer;
