-- Sales pipelines and their ordered stages. A stage's checklist is JSON
-- `[{"id", "label", "required"}]`; item ids are stable so opportunities can tick them. One
-- pipeline is the default (a partial unique index keeps it to one).
CREATE TABLE pipelines (
    id TEXT PRIMARY KEY NOT NULL,
    name TEXT NOT NULL UNIQUE,
    is_default BOOLEAN NOT NULL,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL,
    version BIGINT NOT NULL
);
CREATE UNIQUE INDEX pipelines_one_default ON pipelines (is_default) WHERE is_default;

CREATE TABLE pipeline_stages (
    id TEXT PRIMARY KEY NOT NULL,
    pipeline_id TEXT NOT NULL REFERENCES pipelines (id),
    name TEXT NOT NULL,
    position BIGINT NOT NULL,
    probability BIGINT NOT NULL CHECK (probability BETWEEN 0 AND 100),
    kind TEXT NOT NULL CHECK (kind IN ('open', 'won', 'lost')),
    guidance TEXT,
    checklist TEXT NOT NULL
);
CREATE INDEX pipeline_stages_pipeline ON pipeline_stages (pipeline_id, position);

-- The default sales process, ready on first start.
INSERT INTO pipelines (id, name, is_default, created_at, updated_at, version)
VALUES ('01930000-0000-7000-8000-000000000001', 'New business', true, (now() AT TIME ZONE 'UTC'), (now() AT TIME ZONE 'UTC'), 1);
INSERT INTO pipeline_stages (id, pipeline_id, name, position, probability, kind, guidance, checklist)
VALUES
    ('01930000-0000-7000-8000-000000000101', '01930000-0000-7000-8000-000000000001', 'Qualification', 0, 10, 'open', 'Confirm the customer has a need, a budget and a decision maker before investing time.',
     '[{"id": "01930000-0000-7000-8000-000000000201", "label": "Budget confirmed", "required": true}, {"id": "01930000-0000-7000-8000-000000000202", "label": "Decision maker identified", "required": true}]'),
    ('01930000-0000-7000-8000-000000000102', '01930000-0000-7000-8000-000000000001', 'Product introduction', 1, 20, 'open', 'Present the products that fit; record which ones interest the customer.',
     '[{"id": "01930000-0000-7000-8000-000000000203", "label": "Product presentation given", "required": false}]'),
    ('01930000-0000-7000-8000-000000000103', '01930000-0000-7000-8000-000000000001', 'Needs confirmed', 2, 40, 'open', 'Write down the requirements the customer agreed to, in their words.',
     '[{"id": "01930000-0000-7000-8000-000000000204", "label": "Requirements documented", "required": true}]'),
    ('01930000-0000-7000-8000-000000000104', '01930000-0000-7000-8000-000000000001', 'Quote', 3, 60, 'open', 'Send a quote built from the opportunity''s line items.',
     '[{"id": "01930000-0000-7000-8000-000000000205", "label": "Quote approved internally", "required": true}, {"id": "01930000-0000-7000-8000-000000000206", "label": "Quote sent", "required": true}]'),
    ('01930000-0000-7000-8000-000000000105', '01930000-0000-7000-8000-000000000001', 'Objection handling', 4, 70, 'open', 'Answer price, timing and competitor objections; note each one and the answer.',
     '[]'),
    ('01930000-0000-7000-8000-000000000106', '01930000-0000-7000-8000-000000000001', 'Contract', 5, 90, 'open', 'Agree the terms and get the contract signed.',
     '[{"id": "01930000-0000-7000-8000-000000000207", "label": "Contract signed", "required": true}]'),
    ('01930000-0000-7000-8000-000000000107', '01930000-0000-7000-8000-000000000001', 'Won', 6, 100, 'won', NULL,
     '[]'),
    ('01930000-0000-7000-8000-000000000108', '01930000-0000-7000-8000-000000000001', 'Lost', 7, 0, 'lost', 'Record why the deal was lost.',
     '[]');
