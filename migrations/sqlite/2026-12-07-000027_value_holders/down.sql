DROP TRIGGER customers_owner_to_values;
DROP INDEX custom_field_values_number;
DROP INDEX custom_field_values_text;
ALTER TABLE custom_field_values DROP COLUMN owner_id;
CREATE INDEX custom_field_values_number ON custom_field_values (field_id, value_number, record_id);
CREATE INDEX custom_field_values_text ON custom_field_values (field_id, value_text, record_id);
