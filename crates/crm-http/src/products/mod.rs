//! The product catalogue opportunities quote from.

pub(crate) mod dto;
pub(crate) mod routes;
