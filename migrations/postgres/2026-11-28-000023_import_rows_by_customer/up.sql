-- The row of an import that created a customer, found from the customer. The customer leads
-- the index: a batch asks for many customers at once (`customer_id IN (…)`), which an index
-- can only match on its leading column (PostgreSQL before 17 otherwise filters every row of
-- the job, once per batch).
DROP INDEX import_rows_customer;
CREATE INDEX import_rows_customer ON import_rows (customer_id, import_id) WHERE outcome = 'created';
