DROP TABLE opportunity_stage_changes;
DROP TABLE opportunities;
