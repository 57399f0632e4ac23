//! The CRM's versioned REST API on actix-web.
//!
//! Routes and the OpenAPI document come from one registration list (utoipa-actix-web), so the
//! served API and its contract cannot drift apart. Handlers turn DTOs into domain calls on the
//! store traits; they never see SQL. Every error leaves as `application/problem+json`.

mod activities;
mod api_keys;
mod app;
mod auth;
mod blocking;
mod config;
mod contacts;
mod custom_fields;
mod custom_values;
mod customers;
mod docs;
pub mod etag;
mod extract;
mod fallback;
mod idempotency;
pub mod imports;
mod lead_sources;
mod metrics;
mod observe;
pub mod openapi;
mod opportunities;
mod pagination;
mod pipelines;
mod problem;
mod products;
mod responses;
mod scoring;
mod state;
mod system;
mod teams;
mod users;

pub use app::app;
pub use auth::Caller;
pub use config::HttpConfig;
pub use extract::{json_config, path_config, query_config, ApiJson};
pub use problem::{ApiError, Problem, ProblemFieldError};
pub use state::{ApiState, BuildInfo, Stores};
