-- An activity may be about one of its customer's opportunities.
ALTER TABLE activities ADD COLUMN opportunity_id TEXT REFERENCES opportunities (id);
CREATE INDEX activities_opportunity ON activities (opportunity_id, occurred_at, id);
