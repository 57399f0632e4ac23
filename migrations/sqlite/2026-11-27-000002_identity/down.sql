DROP TABLE api_keys;
DROP TABLE refresh_tokens;
DROP TABLE team_members;
DROP TABLE teams;
DROP TABLE users;
