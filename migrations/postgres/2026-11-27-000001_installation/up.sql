-- One row identifying this installation, created with the schema.
CREATE TABLE installation (
    id INTEGER PRIMARY KEY NOT NULL CHECK (id = 1),
    instance_id TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL DEFAULT (now() AT TIME ZONE 'UTC')
);

INSERT INTO installation (id, instance_id) VALUES (1, gen_random_uuid()::text);
