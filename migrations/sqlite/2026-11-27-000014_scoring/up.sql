-- Behaviour-based scoring: the catalogue admins keep, the decay setting, and the behaviours
-- each activity records as JSON `[{"code": …, "points": …}]` with the points of the time.
CREATE TABLE behaviors (
    code TEXT PRIMARY KEY NOT NULL,
    label TEXT NOT NULL,
    description TEXT,
    points BIGINT NOT NULL CHECK (points <> 0 AND points BETWEEN -1000 AND 1000),
    archived BOOLEAN NOT NULL,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL,
    version BIGINT NOT NULL
);
INSERT INTO behaviors (code, label, description, points, archived, created_at, updated_at, version)
VALUES
    ('requested_quote', 'Requested a quote', NULL, 20, 0, strftime('%Y-%m-%d %H:%M:%f', 'now'), strftime('%Y-%m-%d %H:%M:%f', 'now'), 1),
    ('attended_demo', 'Attended a demo', NULL, 15, 0, strftime('%Y-%m-%d %H:%M:%f', 'now'), strftime('%Y-%m-%d %H:%M:%f', 'now'), 1),
    ('replied_promptly', 'Replied promptly', NULL, 5, 0, strftime('%Y-%m-%d %H:%M:%f', 'now'), strftime('%Y-%m-%d %H:%M:%f', 'now'), 1),
    ('no_answer_3x', 'No answer three times', NULL, -10, 0, strftime('%Y-%m-%d %H:%M:%f', 'now'), strftime('%Y-%m-%d %H:%M:%f', 'now'), 1),
    ('chose_competitor', 'Chose a competitor', NULL, -30, 0, strftime('%Y-%m-%d %H:%M:%f', 'now'), strftime('%Y-%m-%d %H:%M:%f', 'now'), 1);

-- One row: the half-life of a behaviour's points, and when the stored scores were last
-- recomputed as a whole.
CREATE TABLE scoring_settings (
    id INTEGER PRIMARY KEY NOT NULL CHECK (id = 1),
    half_life_days BIGINT NOT NULL CHECK (half_life_days BETWEEN 1 AND 3650),
    updated_at TIMESTAMP NOT NULL,
    version BIGINT NOT NULL,
    scores_refreshed_at TIMESTAMP
);
INSERT INTO scoring_settings (id, half_life_days, updated_at, version) VALUES (1, 90, strftime('%Y-%m-%d %H:%M:%f', 'now'), 1);

ALTER TABLE activities ADD COLUMN behaviors TEXT NOT NULL DEFAULT '[]';
-- The customers whose scores decay: those with activities recording behaviours.
CREATE INDEX activities_scored ON activities (customer_id) WHERE behaviors <> '[]';
