//! Errors as RFC 9457 problem details. Every error response of the API, including actix's own
//! (unknown route, wrong method, bad JSON, wrong content type, body too large), is built here.

use actix_web::http::header::{self, HeaderName, HeaderValue};
use actix_web::http::StatusCode;
use actix_web::{HttpResponse, ResponseError};
use crm_domain::{DomainError, FieldError};
use serde::Serialize;
use utoipa::ToSchema;

use crate::observe::current_request_id;

/// The media type of every error body.
pub const PROBLEM_JSON: &str = "application/problem+json";

/// An error response: RFC 9457 problem details with a stable `code` and every invalid field.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
#[schema(example = json!({
    "type": "urn:crm:problem:validation_failed",
    "title": "Validation failed",
    "status": 422,
    "detail": "The request has 1 invalid field.",
    "code": "validation_failed",
    "request_id": "01936f0e-8a7c-7d4e-9a51-3c2b1f0e9d8a",
    "errors": [{"pointer": "/email", "code": "email", "message": "not an email address"}]
}))]
pub struct Problem {
    /// URI identifying the problem type: `urn:crm:problem:<code>`.
    #[serde(rename = "type")]
    #[schema(rename = "type")]
    pub problem_type: String,
    /// Short summary of the problem type.
    pub title: String,
    /// The HTTP status code.
    #[schema(minimum = 400, maximum = 599)]
    pub status: u16,
    /// Explanation of this occurrence, for a person.
    pub detail: String,
    /// Stable, machine-readable problem code.
    pub code: String,
    /// The request's `X-Request-Id`; quote it when reporting a problem.
    pub request_id: String,
    /// Every invalid field, each with a JSON pointer; empty when the problem is not about fields.
    pub errors: Vec<ProblemFieldError>,
    /// On `duplicate` conflicts only: the existing record, when you may see it (`null` when it
    /// exists but is not visible to you).
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(format = "uuid")]
    pub existing_id: Option<Option<String>>,
}

/// One invalid field.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct ProblemFieldError {
    /// JSON pointer to the value in the request body (`/query/<name>` for a query parameter).
    pub pointer: String,
    /// Stable code, e.g. `required`, `too_long`, `email`.
    pub code: String,
    /// Explanation for a person.
    pub message: String,
}

impl From<FieldError> for ProblemFieldError {
    fn from(e: FieldError) -> Self {
        Self {
            pointer: e.pointer,
            code: e.code,
            message: e.message,
        }
    }
}

/// An error on its way to the client. Converts from [`DomainError`]; renders as problem+json.
#[derive(Debug, Clone)]
pub struct ApiError {
    /// Boxed: set only on duplicate conflicts, and it keeps `Result<_, ApiError>` small.
    existing_id: Option<Box<Option<String>>>,
    status: StatusCode,
    code: &'static str,
    title: &'static str,
    detail: String,
    errors: Vec<ProblemFieldError>,
    headers: Vec<(HeaderName, String)>,
}

impl ApiError {
    /// An error with the given status, code, title and detail.
    pub fn new(
        status: StatusCode,
        code: &'static str,
        title: &'static str,
        detail: impl Into<String>,
    ) -> Self {
        Self {
            existing_id: None,
            status,
            code,
            title,
            detail: detail.into(),
            errors: Vec::new(),
            headers: Vec::new(),
        }
    }

    /// Adds field problems.
    pub fn with_errors(mut self, errors: Vec<ProblemFieldError>) -> Self {
        self.errors = errors;
        self
    }

    /// Adds a response header.
    pub fn with_header(mut self, name: HeaderName, value: impl Into<String>) -> Self {
        self.headers.push((name, value.into()));
        self
    }

    /// 400: the request is malformed.
    pub fn bad_request(code: &'static str, detail: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, code, "Bad request", detail)
    }

    /// 404 for a path that no route serves.
    pub fn route_not_found() -> Self {
        Self::new(
            StatusCode::NOT_FOUND,
            "route_not_found",
            "Not found",
            "No resource exists at this path.",
        )
    }

    /// 405 listing the methods the path does support.
    pub fn method_not_allowed(allowed: &[&str]) -> Self {
        let allow = allowed.join(", ");
        Self::new(
            StatusCode::METHOD_NOT_ALLOWED,
            "method_not_allowed",
            "Method not allowed",
            format!("This resource supports {allow}."),
        )
        .with_header(header::ALLOW, allow)
    }

    /// 413: the body is larger than the configured limit.
    pub fn payload_too_large(limit: usize) -> Self {
        Self::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            "payload_too_large",
            "Payload too large",
            format!("The request body exceeds the limit of {limit} bytes."),
        )
    }

    /// 415: the body is not in a media type this endpoint accepts.
    pub fn unsupported_media_type(expected: &str) -> Self {
        Self::new(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "unsupported_media_type",
            "Unsupported media type",
            format!("The request body must be sent as {expected}."),
        )
    }

    /// 500 for a fault whose cause has been logged.
    pub fn internal() -> Self {
        Self::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "internal",
            "Internal server error",
            "An unexpected error occurred. It has been logged with this request's id.",
        )
    }

    /// The stable problem code.
    pub fn code(&self) -> &'static str {
        self.code
    }

    /// The problem body as sent (with the current request's id).
    pub fn problem(&self) -> Problem {
        Problem {
            problem_type: format!("urn:crm:problem:{}", self.code),
            title: self.title.to_string(),
            status: self.status.as_u16(),
            detail: self.detail.clone(),
            code: self.code.to_string(),
            request_id: current_request_id().unwrap_or_default(),
            errors: self.errors.clone(),
            existing_id: self.existing_id.as_deref().cloned(),
        }
    }
}

impl std::fmt::Display for ApiError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} {}: {}", self.status.as_u16(), self.code, self.detail)
    }
}

impl ResponseError for ApiError {
    fn status_code(&self) -> StatusCode {
        self.status
    }

    fn error_response(&self) -> HttpResponse {
        let mut response = HttpResponse::build(self.status);
        response.insert_header((header::CONTENT_TYPE, PROBLEM_JSON));
        response.insert_header((header::CACHE_CONTROL, "no-store"));
        if self.status == StatusCode::UNAUTHORIZED {
            response.insert_header((header::WWW_AUTHENTICATE, "Bearer"));
        }
        for (name, value) in &self.headers {
            if let Ok(value) = HeaderValue::from_str(value) {
                response.insert_header((name.clone(), value));
            }
        }
        match serde_json::to_vec(&self.problem()) {
            Ok(body) => response.body(body),
            Err(_) => response.finish(),
        }
    }
}

impl From<DomainError> for ApiError {
    fn from(err: DomainError) -> Self {
        match err {
            DomainError::NotFound { entity } => Self::new(
                StatusCode::NOT_FOUND,
                "not_found",
                "Not found",
                format!("The {entity} does not exist."),
            ),
            DomainError::Validation(errors) => {
                let n = errors.len();
                Self::new(
                    StatusCode::UNPROCESSABLE_ENTITY,
                    "validation_failed",
                    "Validation failed",
                    format!(
                        "The request has {n} invalid field{}.",
                        if n == 1 { "" } else { "s" }
                    ),
                )
                .with_errors(errors.into_iter().map(Into::into).collect())
            }
            DomainError::Conflict { code, message } => {
                Self::new(StatusCode::CONFLICT, code, "Conflict", message)
            }
            DomainError::Duplicate {
                entity,
                existing_id,
            } => {
                let detail = match &existing_id {
                    Some(id) => format!("A {entity} with the same phone or email exists: {id}."),
                    None => format!(
                        "A {entity} with the same phone or email exists that you cannot see."
                    ),
                };
                let mut err = Self::new(StatusCode::CONFLICT, "duplicate", "Conflict", detail);
                err.existing_id = Some(Box::new(existing_id));
                err
            }
            DomainError::Forbidden => Self::new(
                StatusCode::FORBIDDEN,
                "forbidden",
                "Forbidden",
                "Your role may not use this function.",
            ),
            DomainError::PreconditionFailed { current_version } => Self::new(
                StatusCode::PRECONDITION_FAILED,
                "precondition_failed",
                "Precondition failed",
                "The record changed since you read it; read it again and retry.",
            )
            .with_header(header::ETAG, crate::etag::etag(current_version)),
            DomainError::Unavailable => Self::new(
                StatusCode::SERVICE_UNAVAILABLE,
                "unavailable",
                "Service unavailable",
                "The database is not available right now; retry shortly.",
            )
            .with_header(header::RETRY_AFTER, "5"),
            DomainError::Internal(cause) => {
                tracing::error!(%cause, "internal error");
                Self::internal()
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn validation_lists_every_field_and_counts_them() {
        let err = ApiError::from(DomainError::Validation(vec![
            FieldError::new("/name", "required", "name is required"),
            FieldError::new("/email", "email", "not an email address"),
        ]));
        let problem = err.problem();
        assert_eq!(problem.status, 422);
        assert_eq!(problem.code, "validation_failed");
        assert_eq!(problem.problem_type, "urn:crm:problem:validation_failed");
        assert_eq!(problem.detail, "The request has 2 invalid fields.");
        assert_eq!(problem.errors.len(), 2);
        assert_eq!(problem.errors[1].pointer, "/email");
    }

    #[test]
    fn internal_errors_do_not_reveal_their_cause() {
        let err = ApiError::from(DomainError::internal("syntax error at or near \"SELEC\""));
        let body = serde_json::to_string(&err.problem()).unwrap_or_default();
        assert!(!body.contains("SELEC"), "{body}");
        assert_eq!(err.status_code(), StatusCode::INTERNAL_SERVER_ERROR);
    }

    #[test]
    fn unavailable_asks_to_retry() {
        let response = ApiError::from(DomainError::Unavailable).error_response();
        assert_eq!(response.status(), StatusCode::SERVICE_UNAVAILABLE);
        assert_eq!(
            response
                .headers()
                .get(header::RETRY_AFTER)
                .map(|v| v.as_bytes()),
            Some(&b"5"[..])
        );
        assert_eq!(
            response
                .headers()
                .get(header::CONTENT_TYPE)
                .map(|v| v.as_bytes()),
            Some(PROBLEM_JSON.as_bytes())
        );
    }

    #[test]
    fn method_not_allowed_names_the_allowed_methods() {
        let response = ApiError::method_not_allowed(&["GET", "POST"]).error_response();
        assert_eq!(response.status(), StatusCode::METHOD_NOT_ALLOWED);
        assert_eq!(
            response.headers().get(header::ALLOW).map(|v| v.as_bytes()),
            Some(&b"GET, POST"[..])
        );
    }
}
