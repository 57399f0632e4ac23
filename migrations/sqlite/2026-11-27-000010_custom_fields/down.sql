DROP TABLE custom_field_unique;
DROP TABLE custom_field_values;
ALTER TABLE contacts DROP COLUMN custom_fields;
ALTER TABLE customers DROP COLUMN custom_fields;
DROP TABLE custom_fields;
