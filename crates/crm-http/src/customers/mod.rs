//! Customers: create, read, list, change, delete; the shared pool; history.

pub(crate) mod batch;
pub(crate) mod dto;
pub(crate) mod merges;
pub(crate) mod routes;
