//! Request and response bodies of sign-in.

use crm_domain::identity::{EMAIL_MAX, PASSWORD_LENGTH};
use crm_domain::{DomainError, FieldError};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// Credentials.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"email": "li.wei@example.com", "password": "correct horse battery"}))]
pub(crate) struct LoginRequest {
    /// The account's email (any case).
    #[schema(max_length = 254)]
    pub email: String,
    /// The password.
    #[schema(max_length = 256)]
    pub password: String,
}

/// A refresh token to rotate or end.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"refresh_token": "Yq3v8n2PZ4m0rV1c7bXo9t5sK6wE2hJ8uLdN4aFgQe0"}))]
pub(crate) struct RefreshRequest {
    /// The refresh token from login or the last refresh.
    #[schema(max_length = 512)]
    pub refresh_token: String,
}

impl RefreshRequest {
    /// The token, or 422 when it is longer than any token we issue could be.
    pub(crate) fn token(self) -> Result<String, DomainError> {
        if self.refresh_token.chars().count() > TOKEN_MAX {
            return Err(DomainError::invalid(
                "/refresh_token",
                "too_long",
                format!("at most {TOKEN_MAX} characters"),
            ));
        }
        Ok(self.refresh_token)
    }
}

impl LoginRequest {
    /// Checks the documented length limits (not the credentials).
    pub(crate) fn check_lengths(&self) -> Result<(), DomainError> {
        let mut errors = Vec::new();
        if self.email.chars().count() > EMAIL_MAX {
            errors.push(FieldError::new(
                "/email",
                "too_long",
                format!("at most {EMAIL_MAX} characters"),
            ));
        }
        if self.password.chars().count() > PASSWORD_LENGTH.1 {
            errors.push(FieldError::new(
                "/password",
                "too_long",
                format!("at most {} characters", PASSWORD_LENGTH.1),
            ));
        }
        if errors.is_empty() {
            Ok(())
        } else {
            Err(DomainError::Validation(errors))
        }
    }
}

/// Longest refresh token accepted.
const TOKEN_MAX: usize = 512;

/// A new access token and refresh token.
#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({
    "access_token": "eyJ0eXAiOiJhdCtqd3QiLCJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIuLi4ifQ.c2lnbmF0dXJl",
    "token_type": "Bearer",
    "expires_in": 900,
    "refresh_token": "Yq3v8n2PZ4m0rV1c7bXo9t5sK6wE2hJ8uLdN4aFgQe0"
}))]
pub(crate) struct TokenResponse {
    /// Send as `Authorization: Bearer <access_token>`.
    pub access_token: String,
    /// Always `Bearer`.
    pub token_type: &'static str,
    /// Seconds until the access token expires.
    pub expires_in: u64,
    /// Exchange at `POST /api/v1/auth/refresh` for a new pair; usable once.
    pub refresh_token: String,
}
