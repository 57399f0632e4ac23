//! The `crm` server: command line and environment configuration, logging, wiring the database
//! store into the HTTP API, and the subcommands.

pub mod cli;
pub mod serve;
pub mod telemetry;
pub mod users;
pub mod wiring;
