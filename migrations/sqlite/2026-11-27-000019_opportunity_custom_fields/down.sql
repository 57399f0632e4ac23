ALTER TABLE opportunities DROP COLUMN custom_fields;
