CREATE INDEX activities_due_unreminded ON activities (follow_up_state, follow_up_reminded_at, follow_up_at);
DROP INDEX activities_due_unreminded_in_order;
