//! Sales pipelines and their stages.

pub(crate) mod dto;
pub(crate) mod routes;
