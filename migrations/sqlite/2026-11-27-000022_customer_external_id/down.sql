DROP INDEX customers_external_id;
ALTER TABLE customers DROP COLUMN external_id;
