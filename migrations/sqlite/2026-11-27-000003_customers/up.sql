-- Customers (companies and individuals) and their history.
CREATE TABLE customers (
    id TEXT PRIMARY KEY NOT NULL,
    kind TEXT NOT NULL CHECK (kind IN ('company', 'individual')),
    name TEXT NOT NULL,
    legal_name TEXT,
    industry TEXT,
    company_size TEXT,
    website TEXT,
    address TEXT,
    tax_id TEXT,
    gender TEXT,
    birthday DATE,
    phone TEXT,
    phone_normalized TEXT,
    email TEXT,
    email_normalized TEXT,
    status TEXT NOT NULL CHECK (status IN ('lead', 'prospect', 'customer', 'inactive')),
    classification TEXT,
    lead_source TEXT,
    tags TEXT NOT NULL,
    owner_id TEXT REFERENCES users (id),
    score BIGINT NOT NULL DEFAULT 0,
    last_activity_at TIMESTAMP,
    next_follow_up_at TIMESTAMP,
    created_by TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL,
    deleted_at TIMESTAMP,
    version BIGINT NOT NULL
);
CREATE INDEX customers_owner ON customers (owner_id, id);
CREATE INDEX customers_phone ON customers (phone_normalized);
CREATE INDEX customers_email ON customers (email_normalized);

CREATE TABLE customer_events (
    id TEXT PRIMARY KEY NOT NULL,
    customer_id TEXT NOT NULL REFERENCES customers (id),
    action TEXT NOT NULL,
    actor_id TEXT NOT NULL,
    at TIMESTAMP NOT NULL,
    changes TEXT NOT NULL
);
CREATE INDEX customer_events_customer ON customer_events (customer_id, id);
