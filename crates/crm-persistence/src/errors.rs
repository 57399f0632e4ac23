//! The one place where database errors become domain errors. Causes are logged here; clients
//! only ever see the domain error.

use crm_domain::DomainError;
use diesel::result::{DatabaseErrorKind, Error as DieselError};

/// The error type of a store transaction: either a database error (mapped on the way out) or a
/// domain decision taken inside the transaction (which rolls it back).
#[derive(Debug)]
pub(crate) enum TxError {
    Db(DieselError),
    Domain(DomainError),
}

impl From<DieselError> for TxError {
    fn from(e: DieselError) -> Self {
        TxError::Db(e)
    }
}

impl From<DomainError> for TxError {
    fn from(e: DomainError) -> Self {
        TxError::Domain(e)
    }
}

impl TxError {
    pub(crate) fn into_domain(self) -> DomainError {
        match self {
            TxError::Domain(e) => e,
            TxError::Db(e) => map_diesel_error(e),
        }
    }
}

/// A unique-constraint violation as the given conflict; any other error unchanged.
pub(crate) fn on_unique_violation(
    err: DieselError,
    code: &'static str,
    message: &'static str,
) -> TxError {
    match err {
        DieselError::DatabaseError(DatabaseErrorKind::UniqueViolation, _) => {
            TxError::Domain(DomainError::Conflict {
                code,
                message: message.into(),
            })
        }
        other => other.into(),
    }
}

/// `PreconditionFailed` when the caller expected another version than the record's `current`.
pub(crate) fn check_version(expected: Option<i64>, current: i64) -> Result<(), TxError> {
    match expected {
        Some(v) if v != current => Err(DomainError::PreconditionFailed {
            current_version: current,
        }
        .into()),
        _ => Ok(()),
    }
}

/// Maps a diesel error to what the client may learn of it.
pub(crate) fn map_diesel_error(err: DieselError) -> DomainError {
    match &err {
        DieselError::NotFound => DomainError::NotFound { entity: "record" },
        DieselError::DatabaseError(kind, info) => match kind {
            DatabaseErrorKind::UniqueViolation => DomainError::Conflict {
                code: "duplicate",
                message: "a record with the same unique value already exists".into(),
            },
            DatabaseErrorKind::ForeignKeyViolation => DomainError::Conflict {
                code: "reference",
                message: "the change refers to a record that does not exist or is still referenced"
                    .into(),
            },
            DatabaseErrorKind::SerializationFailure | DatabaseErrorKind::ClosedConnection => {
                tracing::warn!(error = %err, "database temporarily unavailable");
                DomainError::Unavailable
            }
            _ if is_sqlite_busy(info.message()) => {
                tracing::warn!(error = %err, "database busy");
                DomainError::Unavailable
            }
            _ => internal(err),
        },
        _ => internal(err),
    }
}

fn is_sqlite_busy(message: &str) -> bool {
    message.contains("database is locked") || message.contains("database is busy")
}

fn internal(err: DieselError) -> DomainError {
    tracing::error!(error = %err, "database error");
    DomainError::internal(err)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn not_found_maps_to_not_found() {
        assert_eq!(
            map_diesel_error(DieselError::NotFound),
            DomainError::NotFound { entity: "record" }
        );
    }

    #[test]
    fn unique_violation_maps_to_conflict_without_the_sql_message() {
        let err = DieselError::DatabaseError(
            DatabaseErrorKind::UniqueViolation,
            Box::new(String::from("UNIQUE constraint failed: users.email")),
        );
        assert_eq!(
            map_diesel_error(err),
            DomainError::Conflict {
                code: "duplicate",
                message: "a record with the same unique value already exists".into(),
            }
        );
    }

    #[test]
    fn sqlite_lock_timeout_maps_to_unavailable() {
        let err = DieselError::DatabaseError(
            DatabaseErrorKind::Unknown,
            Box::new(String::from("database is locked")),
        );
        assert_eq!(map_diesel_error(err), DomainError::Unavailable);
    }
}
