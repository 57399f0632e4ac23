DROP INDEX activities_due_unreminded;
ALTER TABLE activities DROP COLUMN follow_up_reminded_at;
DROP TABLE outbox_events;
