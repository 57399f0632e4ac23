//! The one error type every use case returns. The HTTP layer maps it to problem+json in one place;
//! the persistence layer maps database errors into it in one place.

use std::fmt;

/// One invalid field of a request: where it is (a JSON pointer into the request body, or
/// `/query/<name>` for a query parameter), a stable machine-readable code and a human message.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct FieldError {
    /// JSON pointer to the offending value, e.g. `/contacts/0/email`.
    pub pointer: String,
    /// Stable code, e.g. `required`, `too_long`, `email`, `unknown_field`.
    pub code: String,
    /// Explanation for a person.
    pub message: String,
}

impl FieldError {
    /// A field error at `pointer` with the given code and message.
    pub fn new(
        pointer: impl Into<String>,
        code: impl Into<String>,
        message: impl Into<String>,
    ) -> Self {
        Self {
            pointer: pointer.into(),
            code: code.into(),
            message: message.into(),
        }
    }

    /// The same error inside the member at `prefix` (`/contact` + `/email`).
    pub fn under(self, prefix: &str) -> Self {
        Self {
            pointer: format!("{prefix}{}", self.pointer),
            ..self
        }
    }
}

/// Everything a use case can refuse or fail with.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DomainError {
    /// The record does not exist, or the caller may not see it (the two are indistinguishable).
    #[error("{entity} not found")]
    NotFound {
        /// What kind of record was looked for, e.g. `customer`.
        entity: &'static str,
    },
    /// The request is well-formed but its values break the rules; every broken field is listed.
    #[error("validation failed ({} problems)", .0.len())]
    Validation(Vec<FieldError>),
    /// The request conflicts with the current state (a duplicate, a state transition not allowed).
    #[error("conflict: {message}")]
    Conflict {
        /// Stable code, e.g. `duplicate`.
        code: &'static str,
        /// Explanation for a person.
        message: String,
    },
    /// A record with the same identifying value (normalised phone or email) exists.
    #[error("duplicate {entity}")]
    Duplicate {
        /// What kind of record, e.g. `customer`.
        entity: &'static str,
        /// The existing record, when the caller may see it; `None` otherwise.
        existing_id: Option<String>,
    },
    /// The caller's role may not use this function.
    #[error("forbidden")]
    Forbidden,
    /// The caller's `If-Match` does not match the record's current version.
    #[error("precondition failed")]
    PreconditionFailed {
        /// The record's current version (its entity tag).
        current_version: i64,
    },
    /// The database (or another dependency) cannot serve the request right now; retrying later may work.
    #[error("service unavailable")]
    Unavailable,
    /// A fault inside the service. The cause is logged, never shown to clients.
    #[error("internal error: {0}")]
    Internal(String),
}

impl DomainError {
    /// A validation error with a single field problem.
    pub fn invalid(
        pointer: impl Into<String>,
        code: impl Into<String>,
        message: impl Into<String>,
    ) -> Self {
        Self::Validation(vec![FieldError::new(pointer, code, message)])
    }

    /// An internal error whose cause is logged by the layer that maps it to a response.
    pub fn internal(cause: impl fmt::Display) -> Self {
        Self::Internal(cause.to_string())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn validation_error_reports_the_number_of_problems() {
        let err = DomainError::Validation(vec![
            FieldError::new("/name", "required", "name is required"),
            FieldError::new("/email", "email", "not an email address"),
        ]);
        assert_eq!(err.to_string(), "validation failed (2 problems)");
    }

    #[test]
    fn invalid_builds_a_single_field_problem() {
        assert_eq!(
            DomainError::invalid("/phone", "phone", "not a phone number"),
            DomainError::Validation(vec![FieldError {
                pointer: "/phone".into(),
                code: "phone".into(),
                message: "not a phone number".into(),
            }])
        );
    }
}
