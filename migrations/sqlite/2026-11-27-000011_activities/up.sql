-- What reps did with customers, and the follow-ups they promised. A follow-up lives on the
-- activity that scheduled it: `follow_up_state` is NULL (none), 'pending', 'done' or
-- 'cancelled' ('overdue' is a pending one past due, derived when read).
CREATE TABLE activities (
    id TEXT PRIMARY KEY NOT NULL,
    customer_id TEXT NOT NULL REFERENCES customers (id),
    contact_id TEXT REFERENCES contacts (id),
    author_id TEXT NOT NULL,
    kind TEXT NOT NULL CHECK (kind IN ('call', 'visit', 'meeting', 'email', 'message', 'note', 'other')),
    occurred_at TIMESTAMP NOT NULL,
    subject TEXT NOT NULL,
    content TEXT,
    outcome TEXT,
    attachments TEXT NOT NULL,
    custom_fields TEXT NOT NULL,
    follow_up_at TIMESTAMP,
    follow_up_note TEXT,
    follow_up_state TEXT CHECK (follow_up_state IN ('pending', 'done', 'cancelled')),
    follow_up_closed_at TIMESTAMP,
    follow_up_closed_by TEXT,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL,
    deleted_at TIMESTAMP,
    version BIGINT NOT NULL
);
-- Timelines newest first, per customer, per author and over everything.
CREATE INDEX activities_customer ON activities (customer_id, occurred_at, id);
CREATE INDEX activities_author ON activities (author_id, occurred_at, id);
CREATE INDEX activities_occurred ON activities (occurred_at, id);
-- Pending follow-ups by due time (reminders, a customer's next follow-up).
CREATE INDEX activities_follow_up ON activities (follow_up_state, follow_up_at);
CREATE INDEX activities_author_follow_up ON activities (author_id, follow_up_state, follow_up_at);
CREATE INDEX activities_customer_follow_up ON activities (customer_id, follow_up_state, follow_up_at);
