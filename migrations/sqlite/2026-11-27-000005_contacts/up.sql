-- People at customers.
CREATE TABLE contacts (
    id TEXT PRIMARY KEY NOT NULL,
    customer_id TEXT NOT NULL REFERENCES customers (id),
    name TEXT NOT NULL,
    title TEXT,
    phones TEXT NOT NULL,
    phones_normalized TEXT NOT NULL,
    email TEXT,
    email_normalized TEXT,
    wechat_id TEXT,
    notes TEXT,
    is_primary BOOLEAN NOT NULL,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL,
    deleted_at TIMESTAMP,
    version BIGINT NOT NULL
);
CREATE INDEX contacts_customer ON contacts (customer_id, id);
CREATE INDEX contacts_email ON contacts (email_normalized);
