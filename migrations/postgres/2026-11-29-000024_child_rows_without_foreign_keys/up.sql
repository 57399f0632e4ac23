-- History entries, the contact phone index and an import's row results are written only with
-- their parent, in the parent's transaction, by the code that writes the parent; their parents
-- are never deleted (customers and contacts are soft-deleted, and discarding an import deletes
-- its rows first). A foreign key on them checked every new row with a locked probe of the
-- parent: a third of the database's work in a lead import, guarding what the code already
-- guarantees.
ALTER TABLE customer_events DROP CONSTRAINT customer_events_customer_id_fkey;
ALTER TABLE contact_phones DROP CONSTRAINT contact_phones_contact_id_fkey;
ALTER TABLE import_rows DROP CONSTRAINT import_rows_import_id_fkey;
