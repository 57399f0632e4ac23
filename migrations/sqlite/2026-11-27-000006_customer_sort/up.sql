-- Keyset indexes for every documented customer sort order; each ends with the id that breaks ties.
CREATE INDEX customers_name_sort ON customers (lower(name), id);
CREATE INDEX customers_created_sort ON customers (created_at, id);
CREATE INDEX customers_updated_sort ON customers (updated_at, id);
CREATE INDEX customers_score_sort ON customers (score, id);
CREATE INDEX customers_follow_up_sort ON customers (next_follow_up_at, id);
