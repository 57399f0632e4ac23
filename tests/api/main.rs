//! The HTTP API over the real stores, on SQLite and (with `TEST_DATABASE_URL`) PostgreSQL.

mod auth;
mod errors;
mod routes;
mod system;
