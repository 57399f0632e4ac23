//! API keys for integrations: created by admins, shown once, stored hashed, revocable.

pub(crate) mod dto;
pub(crate) mod routes;
