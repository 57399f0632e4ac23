-- Typed custom fields: definitions per entity, values in each record's `custom_fields` (canonical
-- JSON), one index row per value key for filters and sorts, and one row per unique value whose
-- primary key enforces uniqueness under concurrency.
CREATE TABLE custom_fields (
    id TEXT PRIMARY KEY NOT NULL,
    entity TEXT NOT NULL CHECK (entity IN ('customer', 'contact', 'activity', 'opportunity')),
    key TEXT NOT NULL,
    label TEXT NOT NULL,
    help_text TEXT,
    field_type TEXT NOT NULL,
    required BOOLEAN NOT NULL,
    default_value TEXT,
    position BIGINT NOT NULL,
    rules TEXT NOT NULL,
    is_unique BOOLEAN NOT NULL,
    archived BOOLEAN NOT NULL,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL,
    version BIGINT NOT NULL
);
CREATE UNIQUE INDEX custom_fields_key ON custom_fields (entity, key);

ALTER TABLE customers ADD COLUMN custom_fields TEXT NOT NULL DEFAULT '{}';
ALTER TABLE contacts ADD COLUMN custom_fields TEXT NOT NULL DEFAULT '{}';

CREATE TABLE custom_field_values (
    field_id TEXT NOT NULL REFERENCES custom_fields (id),
    record_id TEXT NOT NULL,
    value_number BIGINT,
    value_text TEXT
);
CREATE INDEX custom_field_values_record ON custom_field_values (record_id, field_id);
CREATE INDEX custom_field_values_number ON custom_field_values (field_id, value_number, record_id);
CREATE INDEX custom_field_values_text ON custom_field_values (field_id, value_text, record_id);

CREATE TABLE custom_field_unique (
    field_id TEXT NOT NULL REFERENCES custom_fields (id),
    value_key TEXT NOT NULL,
    record_id TEXT NOT NULL,
    PRIMARY KEY (field_id, value_key)
);
CREATE INDEX custom_field_unique_record ON custom_field_unique (record_id);
