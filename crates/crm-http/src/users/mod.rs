//! Users (admin) and the caller's own view of themselves.

pub(crate) mod dto;
pub(crate) mod routes;
