CREATE INDEX customer_events_customer ON customer_events (customer_id, id);
ALTER TABLE customer_events DROP CONSTRAINT customer_events_pkey;
ALTER TABLE customer_events ADD CONSTRAINT customer_events_pkey PRIMARY KEY (id);
