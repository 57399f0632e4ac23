//! Contacts: the people at a customer, nested under it, and a flat list across customers.

pub(crate) mod dto;
pub(crate) mod routes;
