//! The CRM's domain: entities, value objects, rules and the store traits (ports) that the use
//! cases need. This crate performs no I/O and knows nothing of HTTP or SQL; the persistence crate
//! implements the store traits and the HTTP crate calls them.

pub mod activities;
pub mod clock;
pub mod contact_points;
pub mod custom_fields;
pub mod customers;
pub mod error;
pub mod identity;
pub mod imports;
pub mod keys;
pub mod lead_sources;
pub mod merges;
pub mod money;
pub mod opportunities;
pub mod page;
pub mod pipelines;
pub mod ports;
pub mod products;
pub mod scoring;
pub mod secrets;
pub mod system;

pub use error::{DomainError, FieldError};
pub use system::{Backend, PoolStatus, SystemInfo, SystemStore};
