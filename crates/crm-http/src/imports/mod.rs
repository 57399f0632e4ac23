//! Lead imports: upload a CSV or JSON Lines file, let it load in the background, read what
//! became of each row.

pub(crate) mod dto;
pub(crate) mod engine;
pub(crate) mod routes;
pub(crate) mod rows;

pub use engine::{resume_imports, run_import_now};
