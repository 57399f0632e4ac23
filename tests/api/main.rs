//! The HTTP API over the real stores, on SQLite and (with `TEST_DATABASE_URL`) PostgreSQL.

mod access_matrix;
mod activities;
mod auth;
mod batch;
mod contacts;
mod custom_fields;
mod customers;
mod errors;
mod idempotency;
mod identity;
mod imports;
mod lead_sources;
mod merges;
mod opportunities;
mod pipelines;
mod products;
mod routes;
mod scoring;
mod system;
