DROP INDEX import_rows_customer;
CREATE INDEX import_rows_customer ON import_rows (import_id, customer_id) WHERE outcome = 'created';
