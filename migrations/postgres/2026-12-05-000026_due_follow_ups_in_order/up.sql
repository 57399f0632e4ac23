-- The reminder check takes the follow-ups that came due and have no reminder yet a batch at a
-- time, the earliest due first (`follow_up_state = ?`, `follow_up_reminded_at IS NULL`,
-- `follow_up_at <= ?`, ordered by `follow_up_at, id`). The earlier index kept
-- `follow_up_reminded_at` between the state and the due time, so it gave the rows in the wrong
-- order: every due row was read and sorted before the first batch could be taken, which after
-- a large import of overdue follow-ups took minutes. This index holds only the rows a check
-- can still take, in the order it takes them, so a check reads one batch's rows, and a
-- follow-up leaves the index once its reminder is recorded. Activities without a follow-up
-- (most of them) are not in it.
CREATE INDEX activities_due_unreminded_in_order ON activities (follow_up_state, follow_up_at, id)
    WHERE follow_up_state IS NOT NULL AND follow_up_reminded_at IS NULL AND deleted_at IS NULL;
DROP INDEX activities_due_unreminded;
