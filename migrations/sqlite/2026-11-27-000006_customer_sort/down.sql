DROP INDEX customers_follow_up_sort;
DROP INDEX customers_score_sort;
DROP INDEX customers_updated_sort;
DROP INDEX customers_created_sort;
DROP INDEX customers_name_sort;
