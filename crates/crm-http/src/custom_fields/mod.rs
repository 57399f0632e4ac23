//! Custom field definitions: admins define them, everyone signed in reads them, and the JSON
//! Schema of an entity's `custom_fields` is served for forms.

pub(crate) mod dto;
pub(crate) mod routes;
