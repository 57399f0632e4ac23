//! Conversions between stored columns and domain values.

use chrono::{DateTime, NaiveDateTime, SubsecRound, Utc};
use crm_domain::DomainError;

/// A UTC instant as stored (timestamp without time zone, always UTC), to the microsecond: the
/// precision both backends keep, so a value reads back as it was written.
pub(crate) fn stored(at: DateTime<Utc>) -> NaiveDateTime {
    at.naive_utc().trunc_subsecs(6)
}

/// A stored timestamp as a UTC instant.
pub(crate) fn utc(at: NaiveDateTime) -> DateTime<Utc> {
    at.and_utc()
}

/// A new record id: UUIDv7, so ids sort by creation time.
pub(crate) fn new_id() -> String {
    uuid::Uuid::now_v7().to_string()
}

/// A stored enum value that no longer parses is a fault in the data, not the caller's.
pub(crate) fn corrupt(column: &str, value: &str) -> DomainError {
    DomainError::internal(format!("unexpected value {value:?} in {column}"))
}
