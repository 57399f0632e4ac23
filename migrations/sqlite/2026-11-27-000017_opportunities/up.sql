-- Deals with customers. Lines are JSON `[{"product_id", "description", "quantity" (thousandths),
-- "unit_price", "discount" (basis points), "amount"}]` in minor units of `currency`; `amount` is
-- their sum (or the manual amount when there are none). `checklist` holds the ticked item ids of
-- the current stage; `status` follows the stage's kind.
CREATE TABLE opportunities (
    id TEXT PRIMARY KEY NOT NULL,
    customer_id TEXT NOT NULL REFERENCES customers (id),
    owner_id TEXT NOT NULL,
    name TEXT NOT NULL,
    pipeline_id TEXT NOT NULL REFERENCES pipelines (id),
    stage_id TEXT NOT NULL REFERENCES pipeline_stages (id),
    status TEXT NOT NULL CHECK (status IN ('open', 'won', 'lost')),
    currency TEXT NOT NULL,
    lines TEXT NOT NULL,
    amount BIGINT NOT NULL CHECK (amount BETWEEN 0 AND 1000000000000000),
    expected_close_on DATE,
    closed_at TIMESTAMP,
    lost_reason TEXT,
    checklist TEXT NOT NULL,
    stage_entered_at TIMESTAMP NOT NULL,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL,
    deleted_at TIMESTAMP,
    version BIGINT NOT NULL
);
CREATE INDEX opportunities_customer ON opportunities (customer_id, status);
CREATE INDEX opportunities_updated ON opportunities (updated_at, id);
CREATE INDEX opportunities_owner ON opportunities (owner_id, updated_at, id);
CREATE INDEX opportunities_pipeline ON opportunities (pipeline_id, updated_at, id);
CREATE INDEX opportunities_stage ON opportunities (stage_id);

-- Every stage an opportunity entered, with the amount and probability of that moment and the
-- time spent in the stage it left.
CREATE TABLE opportunity_stage_changes (
    id TEXT PRIMARY KEY NOT NULL,
    opportunity_id TEXT NOT NULL REFERENCES opportunities (id),
    from_stage_id TEXT,
    to_stage_id TEXT NOT NULL,
    changed_by TEXT NOT NULL,
    changed_at TIMESTAMP NOT NULL,
    amount BIGINT NOT NULL,
    probability BIGINT NOT NULL,
    seconds_in_previous BIGINT NOT NULL,
    note TEXT,
    overridden BOOLEAN NOT NULL
);
CREATE INDEX opportunity_stage_changes_opportunity ON opportunity_stage_changes (opportunity_id, id);
