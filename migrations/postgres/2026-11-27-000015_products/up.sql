-- The product catalogue opportunities quote from. `sku_key` (lower case) makes SKUs unique
-- regardless of case; `search_key` (lower-case SKU and name) serves the text filter.
CREATE TABLE products (
    id TEXT PRIMARY KEY NOT NULL,
    sku TEXT NOT NULL,
    sku_key TEXT NOT NULL UNIQUE,
    name TEXT NOT NULL,
    description TEXT,
    unit_price BIGINT NOT NULL CHECK (unit_price BETWEEN 0 AND 1000000000000000),
    currency TEXT NOT NULL,
    active BOOLEAN NOT NULL,
    search_key TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL,
    version BIGINT NOT NULL
);
