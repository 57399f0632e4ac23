//! Teams: a name, one or more managers, members. Admins manage them.

pub(crate) mod dto;
pub(crate) mod routes;
