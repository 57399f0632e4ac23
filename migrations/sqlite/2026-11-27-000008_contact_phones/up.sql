-- Each normalised phone of each contact, so duplicate checks find a number among contacts by
-- index.
CREATE TABLE contact_phones (
    contact_id TEXT NOT NULL REFERENCES contacts (id),
    phone_normalized TEXT NOT NULL,
    PRIMARY KEY (contact_id, phone_normalized)
);
CREATE INDEX contact_phones_phone ON contact_phones (phone_normalized);
INSERT OR IGNORE INTO contact_phones (contact_id, phone_normalized)
    SELECT contacts.id, phone.value FROM contacts, json_each(contacts.phones_normalized) AS phone;
