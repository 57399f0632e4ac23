//! Behaviour-based scoring: the behaviour catalogue, the decay setting and a customer's score
//! with what makes it up.

pub(crate) mod dto;
pub(crate) mod routes;
