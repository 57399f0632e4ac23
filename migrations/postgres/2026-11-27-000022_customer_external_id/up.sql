-- A customer's id in another system: unique among live customers, for imports and integrations
-- to match on.
ALTER TABLE customers ADD COLUMN external_id TEXT;
CREATE UNIQUE INDEX customers_external_id ON customers (external_id)
    WHERE deleted_at IS NULL AND external_id IS NOT NULL;
