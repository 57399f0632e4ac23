//! Liveness, readiness, metrics, the OpenAPI document, and facts about the installation.

pub(crate) mod dto;
pub(crate) mod routes;
