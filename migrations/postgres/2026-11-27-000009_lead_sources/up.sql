-- Where customers come from: a list the admin maintains. Customers store the immutable key.
CREATE TABLE lead_sources (
    key TEXT PRIMARY KEY NOT NULL,
    label TEXT NOT NULL,
    position BIGINT NOT NULL,
    archived BOOLEAN NOT NULL,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL,
    version BIGINT NOT NULL
);
INSERT INTO lead_sources (key, label, position, archived, created_at, updated_at, version)
VALUES
    ('website', 'Website', 10, false, (now() AT TIME ZONE 'UTC'), (now() AT TIME ZONE 'UTC'), 1),
    ('referral', 'Referral', 20, false, (now() AT TIME ZONE 'UTC'), (now() AT TIME ZONE 'UTC'), 1),
    ('trade_show', 'Trade show', 30, false, (now() AT TIME ZONE 'UTC'), (now() AT TIME ZONE 'UTC'), 1),
    ('advertising', 'Advertising', 40, false, (now() AT TIME ZONE 'UTC'), (now() AT TIME ZONE 'UTC'), 1),
    ('cold_call', 'Cold call', 50, false, (now() AT TIME ZONE 'UTC'), (now() AT TIME ZONE 'UTC'), 1),
    ('social_media', 'Social media', 60, false, (now() AT TIME ZONE 'UTC'), (now() AT TIME ZONE 'UTC'), 1),
    ('partner', 'Partner', 70, false, (now() AT TIME ZONE 'UTC'), (now() AT TIME ZONE 'UTC'), 1),
    ('other', 'Other', 80, false, (now() AT TIME ZONE 'UTC'), (now() AT TIME ZONE 'UTC'), 1);
