//! Diesel implementation of the CRM's store traits, over SQLite (embedded, the default) and
//! PostgreSQL, with one codebase: a `MultiConnection` over both, portable column types, and a
//! `match` on the inner connection where the SQL really differs.
//!
//! A lookup of one row by a key reads it with `get_result`, not `first`: `first` binds its
//! `LIMIT 1` as a parameter, and SQLite recompiles a statement whose `LIMIT` parameter was bound
//! again, so every cached lookup was parsed and planned anew (half of a GET's CPU time). `first`
//! stays where an order picks one row of many.

mod activities;
mod api_keys;
mod calendar_feeds;
mod checkpoints;
mod conditions;
mod connection;
mod contacts;
mod convert;
mod custom_fields;
mod customers;
mod database;
mod errors;
mod idempotency;
mod imports;
mod lead_sources;
mod leads;
mod live_fields;
mod merges;
mod migrations;
mod opportunities;
mod outbox;
mod pipelines;
mod products;
#[cfg(feature = "test-support")]
pub mod query_plan;
mod reference;
mod remembered;
mod schema;
mod scoring;
mod slow_statements;
mod system;
mod teams;
#[cfg(feature = "test-support")]
pub mod test_support;
mod users;

pub use connection::DbConnection;
pub use database::{ConnectError, Database, DatabaseOptions, DatabaseUrl};
pub use migrations::migration_names;
pub use slow_statements::{STATEMENT_TARGET, TRANSACTION_TARGET};
