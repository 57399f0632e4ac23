-- Substring search over customers (name, email, phone, tags) and contact names through
-- pg_trgm GIN indexes, which serve `LIKE '%…%'` for patterns of three or more characters.
CREATE EXTENSION IF NOT EXISTS pg_trgm;
CREATE INDEX customers_name_search ON customers USING gin (lower(name) gin_trgm_ops);
CREATE INDEX customers_email_search ON customers USING gin (email_normalized gin_trgm_ops);
CREATE INDEX customers_phone_search ON customers USING gin (phone_normalized gin_trgm_ops);
CREATE INDEX customers_tags_search ON customers USING gin (lower(tags) gin_trgm_ops);
CREATE INDEX contacts_name_search ON contacts USING gin (lower(name) gin_trgm_ops);
