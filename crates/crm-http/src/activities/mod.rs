//! Activities: what reps did with customers, and the follow-ups they scheduled.

pub(crate) mod calendar;
pub(crate) mod dto;
pub(crate) mod routes;
