//! Sign-in, access tokens, API key authentication and the access rules of every operation.

pub(crate) mod access;
pub(crate) mod actor;
pub(crate) mod dto;
pub(crate) mod middleware;
pub(crate) mod routes;
pub(crate) mod throttle;
pub(crate) mod tokens;

pub use middleware::Caller;
