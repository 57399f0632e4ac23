//! Opportunities: deals with customers moving through a pipeline.

pub(crate) mod dto;
pub(crate) mod routes;
