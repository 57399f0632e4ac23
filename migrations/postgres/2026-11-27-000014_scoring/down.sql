DROP INDEX activities_scored;
ALTER TABLE activities DROP COLUMN behaviors;
DROP TABLE scoring_settings;
DROP TABLE behaviors;
