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

pub(crate) fn query_error(err: QueryPayloadError) -> ApiError {
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

/// A JSON body deserialised with the path of the first offending value, so a wrong type or an
/// unknown field is reported with a JSON pointer (`/contacts/0/email`). Content type, size and
/// syntax are checked by [`json_config`].
#[derive(Debug)]
pub struct ApiJson<T>(pub T);

impl<T: serde::de::DeserializeOwned + 'static> actix_web::FromRequest for ApiJson<T> {
    type Error = actix_web::Error;
    type Future =
        std::pin::Pin<Box<dyn std::future::Future<Output = Result<Self, actix_web::Error>>>>;

    fn from_request(
        req: &actix_web::HttpRequest,
        payload: &mut actix_web::dev::Payload,
    ) -> Self::Future {
        let value = web::Json::<serde_json::Value>::from_request(req, payload);
        Box::pin(async move {
            let web::Json(value) = value.await?;
            // Every request body of the API is an object; serde would also read a struct from
            // an array, which no client means.
            if !value.is_object() {
                return Err(ApiError::from(crm_domain::DomainError::invalid(
                    "",
                    "invalid",
                    "the body must be a JSON object",
                ))
                .into());
            }
            if let Some(pointer) = nul_character(&value, &mut String::new()) {
                return Err(ApiError::from(crm_domain::DomainError::invalid(
                    pointer,
                    "invalid_character",
                    "text must not contain the NUL character",
                ))
                .into());
            }
            serde_path_to_error::deserialize(value)
                .map(ApiJson)
                .map_err(|e| {
                    ApiError::from(crm_domain::DomainError::Validation(vec![field_error(&e)]))
                        .into()
                })
        })
    }
}

/// The pointer to the first string (or object key) holding a NUL character, which no text
/// column of either database can store.
fn nul_character(value: &serde_json::Value, pointer: &mut String) -> Option<String> {
    use serde_json::Value;
    match value {
        Value::String(s) if s.contains('\0') => Some(pointer.clone()),
        Value::Array(items) => items.iter().enumerate().find_map(|(i, item)| {
            let len = pointer.len();
            pointer.push_str(&format!("/{i}"));
            let found = nul_character(item, pointer);
            pointer.truncate(len);
            found
        }),
        Value::Object(fields) => fields.iter().find_map(|(key, item)| {
            let len = pointer.len();
            pointer.push('/');
            pointer.push_str(&key.replace('~', "~0").replace('/', "~1"));
            let found = if key.contains('\0') {
                Some(pointer.clone())
            } else {
                nul_character(item, pointer)
            };
            pointer.truncate(len);
            found
        }),
        _ => None,
    }
}

/// The field error for a deserialisation failure at a known path.
fn field_error(e: &serde_path_to_error::Error<serde_json::Error>) -> crm_domain::FieldError {
    use serde_path_to_error::Segment;
    let mut pointer = String::new();
    for segment in e.path().iter() {
        match segment {
            Segment::Seq { index } => pointer.push_str(&format!("/{index}")),
            Segment::Map { key } | Segment::Enum { variant: key } => {
                pointer.push('/');
                pointer.push_str(&key.replace('~', "~0").replace('/', "~1"));
            }
            Segment::Unknown => {}
        }
    }
    let message = data_error_message(e.inner());
    let code = if message.starts_with("unknown field") {
        "unknown_field"
    } else if message.starts_with("missing field") {
        // A missing field is reported at its parent; point at the field itself.
        if let Some(name) = message.split('`').nth(1) {
            pointer.push('/');
            pointer.push_str(name);
        }
        "required"
    } else {
        "invalid"
    };
    crm_domain::FieldError::new(pointer, code, message)
}

#[cfg(test)]
mod tests {
    use actix_web::middleware::from_fn;
    use actix_web::{test, web, App, HttpResponse};
    use serde_json::{json, Value};

    #[derive(serde::Deserialize)]
    #[serde(deny_unknown_fields)]
    #[allow(dead_code)]
    struct Lead {
        name: String,
        size: Option<u32>,
    }

    async fn create(_lead: web::Json<Lead>) -> HttpResponse {
        HttpResponse::Created().finish()
    }

    async fn post(body: &'static str, content_type: Option<&'static str>) -> (u16, String, Value) {
        let app = test::init_service(
            App::new()
                .app_data(super::json_config(64))
                .wrap(from_fn(crate::observe::observe))
                .route("/leads", web::post().to(create)),
        )
        .await;
        let mut request = test::TestRequest::post()
            .uri("/leads")
            .insert_header(("x-request-id", "req-1"))
            .set_payload(body);
        if let Some(content_type) = content_type {
            request = request.insert_header(("content-type", content_type));
        }
        let response = test::call_service(&app, request.to_request()).await;
        let status = response.status().as_u16();
        let content_type = response
            .headers()
            .get("content-type")
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_string();
        let body = serde_json::from_slice(&test::read_body(response).await).unwrap_or(Value::Null);
        (status, content_type, body)
    }

    #[actix_web::test]
    async fn valid_json_reaches_the_handler() {
        let (status, _, _) = post(r#"{"name": "Acme"}"#, Some("application/json")).await;
        assert_eq!(status, 201);
        let merge_patch = post(r#"{"name": "Acme"}"#, Some("application/merge-patch+json")).await;
        assert_eq!(merge_patch.0, 201);
    }

    #[actix_web::test]
    async fn syntax_error_is_400_problem() {
        let (status, content_type, body) = post(r#"{"name": "#, Some("application/json")).await;
        assert_eq!(status, 400);
        assert_eq!(content_type, "application/problem+json");
        assert_eq!(body["code"], "malformed_json");
        assert_eq!(body["request_id"], "req-1");
    }

    #[actix_web::test]
    async fn wrong_content_type_is_415_problem() {
        for content_type in [Some("text/plain"), None] {
            let (status, ct, body) = post(r#"{"name": "Acme"}"#, content_type).await;
            assert_eq!(status, 415, "{content_type:?}");
            assert_eq!(ct, "application/problem+json");
            assert_eq!(body["code"], "unsupported_media_type");
        }
    }

    #[actix_web::test]
    async fn too_large_is_413_problem() {
        let big = r#"{"name": "Acme Trading Company Limited, Shanghai Branch, Room 1201"}"#;
        let (status, ct, body) = post(big, Some("application/json")).await;
        assert_eq!(status, 413);
        assert_eq!(ct, "application/problem+json");
        assert_eq!(body["code"], "payload_too_large");
        assert_eq!(
            body["detail"],
            "The request body exceeds the limit of 64 bytes."
        );
    }

    #[actix_web::test]
    async fn unknown_or_mistyped_fields_are_422() {
        let (status, _, body) =
            post(r#"{"name": "A", "score": 9}"#, Some("application/json")).await;
        assert_eq!(status, 422);
        assert_eq!(body["code"], "validation_failed");
        assert_eq!(body["errors"][0]["code"], "invalid");
        let message = body["errors"][0]["message"].as_str().unwrap_or_default();
        assert!(message.starts_with("unknown field `score`"), "{message}");
        assert!(!message.contains("line"), "{message}");

        let (status, _, body) =
            post(r#"{"name": "A", "size": -1}"#, Some("application/json")).await;
        assert_eq!(status, 422);
        assert_eq!(body["errors"].as_array().map(Vec::len), Some(1));
        assert_eq!(
            body,
            json!({
                "type": "urn:crm:problem:validation_failed",
                "title": "Validation failed",
                "status": 422,
                "detail": "The request has 1 invalid field.",
                "code": "validation_failed",
                "request_id": "req-1",
                "errors": [{"pointer": "", "code": "invalid", "message": "invalid value: integer `-1`, expected u32"}]
            })
        );
    }
}
