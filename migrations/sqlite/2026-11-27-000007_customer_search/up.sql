-- Substring search over customers (name, email, phone, tags) and contact names through FTS5
-- trigram indexes. Each indexed row carries a stable integer `search_key` (rowids may change on
-- VACUUM); triggers keep the indexes in step with every write.
ALTER TABLE customers ADD COLUMN search_key INTEGER;
UPDATE customers SET search_key = rowid;
CREATE UNIQUE INDEX customers_search_key ON customers (search_key);

ALTER TABLE contacts ADD COLUMN search_key INTEGER;
UPDATE contacts SET search_key = rowid;
CREATE UNIQUE INDEX contacts_search_key ON contacts (search_key);

CREATE VIRTUAL TABLE customer_search USING fts5 (
    name, email, phone, tags, tokenize = 'trigram case_sensitive 0'
);
INSERT INTO customer_search (rowid, name, email, phone, tags)
    SELECT search_key, name, email_normalized, phone_normalized, tags FROM customers;

CREATE VIRTUAL TABLE contact_search USING fts5 (name, tokenize = 'trigram case_sensitive 0');
INSERT INTO contact_search (rowid, name) SELECT search_key, name FROM contacts;

CREATE TRIGGER customers_search_insert AFTER INSERT ON customers BEGIN
    UPDATE customers
        SET search_key = (SELECT coalesce(max(search_key), 0) + 1 FROM customers)
        WHERE id = new.id;
    INSERT INTO customer_search (rowid, name, email, phone, tags)
        SELECT search_key, name, email_normalized, phone_normalized, tags
        FROM customers WHERE id = new.id;
END;
CREATE TRIGGER customers_search_update
    AFTER UPDATE OF name, email_normalized, phone_normalized, tags ON customers BEGIN
    DELETE FROM customer_search WHERE rowid = old.search_key;
    INSERT INTO customer_search (rowid, name, email, phone, tags)
        VALUES (new.search_key, new.name, new.email_normalized, new.phone_normalized, new.tags);
END;
CREATE TRIGGER customers_search_delete AFTER DELETE ON customers BEGIN
    DELETE FROM customer_search WHERE rowid = old.search_key;
END;

CREATE TRIGGER contacts_search_insert AFTER INSERT ON contacts BEGIN
    UPDATE contacts
        SET search_key = (SELECT coalesce(max(search_key), 0) + 1 FROM contacts)
        WHERE id = new.id;
    INSERT INTO contact_search (rowid, name)
        SELECT search_key, name FROM contacts WHERE id = new.id;
END;
CREATE TRIGGER contacts_search_update AFTER UPDATE OF name ON contacts BEGIN
    DELETE FROM contact_search WHERE rowid = old.search_key;
    INSERT INTO contact_search (rowid, name) VALUES (new.search_key, new.name);
END;
CREATE TRIGGER contacts_search_delete AFTER DELETE ON contacts BEGIN
    DELETE FROM contact_search WHERE rowid = old.search_key;
END;
