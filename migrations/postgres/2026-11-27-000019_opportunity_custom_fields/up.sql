-- Values of the opportunity custom fields, as on the other records.
ALTER TABLE opportunities ADD COLUMN custom_fields TEXT NOT NULL DEFAULT '{}';
