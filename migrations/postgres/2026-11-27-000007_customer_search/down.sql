DROP INDEX contacts_name_search;
DROP INDEX customers_tags_search;
DROP INDEX customers_phone_search;
DROP INDEX customers_email_search;
DROP INDEX customers_name_search;
