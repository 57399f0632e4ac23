//! Extractor settings so that malformed requests are answered in problem+json like every other
//! error: JSON syntax 400, wrong content type 415, too large 413, wrong values 422, bad query or
//! path parameters 400.

use actix_web::error::{JsonPayloadError, PathError, QueryPayloadError};
use actix_web::web;

use crate::{ApiError, ProblemFieldError};

/// JSON body settings with the given size limit.
pub fn json_config(limit: usize) -> web::JsonConfig {
    web::JsonConfig::default()
        .limit(limit)
        .error_handler(move |err, _req| json_error(err, limit).into())
}

fn json_error(err: JsonPayloadError, limit: usize) -> ApiError {
    match err {
        JsonPayloadError::Overflow { .. } | JsonPayloadError::OverflowKnownLength { .. } => {
            ApiError::payload_too_large(limit)
        }
        JsonPayloadError::ContentType => ApiError::unsupported_media_type("application/json"),
        JsonPayloadError::Deserialize(e) if e.is_data() => ApiError::from(
            crm_domain::DomainError::invalid("", "invalid", data_error_message(&e)),
        ),
        JsonPayloadError::Deserialize(e) => ApiError::bad_request(
            "malformed_json",
            format!("The body is not valid JSON: {e}."),
        ),
        JsonPayloadError::Payload(actix_web::error::PayloadError::Overflow) => {
            ApiError::payload_too_large(limit)
        }
        _ => ApiError::bad_request("unreadable_body", "The request body could not be read."),
    }
}

/// serde's message without the line/column suffix, which says nothing about a JSON document.
fn data_error_message(e: &serde_json::Error) -> String {
    let text = e.to_string();
    match text.rfind(" at line ") {
        Some(i) => text[..i].to_string(),
        None => text,
    }
}

/// Query string settings.
pub fn query_config() -> web::QueryConfig {
    web::QueryConfig::default().error_handler(|err, _req| query_error(err).into())
}

fn query_error(err: QueryPayloadError) -> ApiError {
    let message = match &err {
        QueryPayloadError::Deserialize(e) => e.to_string(),
        _ => "the query string could not be read".to_string(),
    };
    ApiError::bad_request(
        "invalid_query",
        "The query string has an invalid parameter.",
    )
    .with_errors(vec![ProblemFieldError {
        pointer: "/query".into(),
        code: "invalid".into(),
        message,
    }])
}

/// Path parameter settings: a parameter that does not parse names no existing record.
pub fn path_config() -> web::PathConfig {
    web::PathConfig::default().error_handler(|err, _req| path_error(err).into())
}

fn path_error(_err: PathError) -> ApiError {
    ApiError::new(
        actix_web::http::StatusCode::NOT_FOUND,
        "not_found",
        "Not found",
        "No record has this identifier.",
    )
}
