-- Each user's private calendar feed of follow-ups: one token per user (stored as a digest),
-- replaced when a new one is issued and removed when revoked.
CREATE TABLE calendar_feeds (
    user_id TEXT PRIMARY KEY NOT NULL REFERENCES users (id),
    token_digest TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL
);
CREATE UNIQUE INDEX calendar_feeds_digest ON calendar_feeds (token_digest);
