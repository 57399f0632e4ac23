ALTER TABLE customer_events ADD CONSTRAINT customer_events_customer_id_fkey
    FOREIGN KEY (customer_id) REFERENCES customers (id);
ALTER TABLE contact_phones ADD CONSTRAINT contact_phones_contact_id_fkey
    FOREIGN KEY (contact_id) REFERENCES contacts (id);
ALTER TABLE import_rows ADD CONSTRAINT import_rows_import_id_fkey
    FOREIGN KEY (import_id) REFERENCES imports (id) ON DELETE CASCADE;
