//! The admin-maintained list of lead sources.

pub(crate) mod dto;
pub(crate) mod routes;
