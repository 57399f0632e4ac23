-- Events for other systems (webhooks deliver them), written in the transaction that causes them,
-- and the mark that a follow-up's `follow_up.due` event was emitted for its current due time.
CREATE TABLE outbox_events (
    id TEXT PRIMARY KEY NOT NULL,
    event_type TEXT NOT NULL,
    subject_id TEXT NOT NULL,
    payload TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL,
    delivered_at TIMESTAMP
);
CREATE INDEX outbox_events_pending ON outbox_events (delivered_at, id);
ALTER TABLE activities ADD COLUMN follow_up_reminded_at TIMESTAMP;
CREATE INDEX activities_due_unreminded ON activities (follow_up_state, follow_up_reminded_at, follow_up_at);
