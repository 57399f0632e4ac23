//! `Idempotency-Key` on creating requests: a retry with the same key and body replays the first
//! answer (`Idempotent-Replayed: true`); the same key with another body is 422; a retry while
//! the first is still running is 409. Keys belong to the caller and are kept 24 hours. Answers
//! with a 5xx are not kept, so a retry can succeed.

use actix_web::body::{self, BoxBody, MessageBody};
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::header::{self, HeaderName, HeaderValue};
use actix_web::http::StatusCode;
use actix_web::middleware::Next;
use actix_web::web::Bytes;
use actix_web::{web, HttpMessage, HttpResponse};
use chrono::Utc;
use crm_domain::identity::Principal;
use crm_domain::ports::{IdempotencyStart, StoredResponse};
use sha2::{Digest, Sha256};

use crate::auth::Caller;
use crate::blocking::blocking;
use crate::fallback::MatchedRoute;
use crate::{ApiError, ApiState};

/// The request header.
pub(crate) const IDEMPOTENCY_KEY: HeaderName = HeaderName::from_static("idempotency-key");
/// The header on replayed answers.
pub(crate) const REPLAYED: HeaderName = HeaderName::from_static("idempotent-replayed");
/// Longest accepted key.
pub(crate) const KEY_MAX: usize = 255;

/// The operations that create a record and so accept `Idempotency-Key`.
pub(crate) const CREATING_OPERATIONS: [&str; 18] = [
    "create_customer_merge",
    "create_customer_batch",
    "create_import",
    "create_user",
    "create_team",
    "create_api_key",
    "create_customer",
    "create_contact",
    "create_lead_source",
    "create_custom_field",
    "create_activity",
    "create_calendar_feed",
    "create_behavior",
    "create_product",
    "create_pipeline",
    "create_stage",
    "create_opportunity",
    "create_stage_change",
];

/// Creating operations whose body is streamed (uploads): their handlers hash the body as it
/// arrives and apply the key themselves, with [`begin`] and [`finish`].
const STREAMED_OPERATIONS: [&str; 1] = ["create_import"];

/// Response headers stored and replayed.
const KEPT_HEADERS: [HeaderName; 3] = [header::LOCATION, header::ETAG, header::CONTENT_TYPE];

pub(crate) async fn idempotency(
    mut req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<BoxBody>, actix_web::Error> {
    let Some(raw_key) = req.headers().get(&IDEMPOTENCY_KEY).cloned() else {
        return next
            .call(req)
            .await
            .map(ServiceResponse::map_into_boxed_body);
    };
    let state = req.app_data::<web::Data<ApiState>>().cloned();
    let caller = req.extensions().get::<Caller>().cloned();
    let operation = MatchedRoute::of(&req).operation;
    let (Some(state), Some(caller), Some(operation)) = (state, caller, operation) else {
        return next
            .call(req)
            .await
            .map(ServiceResponse::map_into_boxed_body);
    };
    if !CREATING_OPERATIONS.contains(&&*operation) || STREAMED_OPERATIONS.contains(&&*operation) {
        return next
            .call(req)
            .await
            .map(ServiceResponse::map_into_boxed_body);
    }
    let key = match parse_key(&raw_key) {
        Ok(key) => key,
        Err(e) => return Ok(req.error_response(e)),
    };
    let scope = scope_of(&caller.0);
    let body = req.extract::<Bytes>().await?;
    let mut hasher = Sha256::new();
    hasher.update(req.method().as_str());
    hasher.update(b" ");
    hasher.update(req.path());
    hasher.update(b"\n");
    hasher.update(&body);
    let request_hash = hex::encode(hasher.finalize());
    req.set_payload(actix_web::dev::Payload::from(body));
    match begin(&state, &scope, &key, request_hash).await {
        Ok(None) => {}
        Ok(Some(answer)) => return Ok(req.into_response(answer)),
        Err(e) => return Ok(req.error_response(e)),
    }

    let response = next.call(req).await?;
    let (request, response) = response.into_parts();
    let status = response.status();
    let headers: Vec<(String, String)> = KEPT_HEADERS
        .iter()
        .filter_map(|name| {
            let value = response.headers().get(name)?.to_str().ok()?;
            Some((name.as_str().to_string(), value.to_string()))
        })
        .collect();
    let (response, body) = response.into_parts();
    let bytes = body::to_bytes(body).await.unwrap_or_default();
    finish(&state, scope, key, status, headers, &bytes).await;
    let response = response.set_body(BoxBody::new(bytes));
    let mut response = ServiceResponse::new(request, response);
    if let Ok(value) = HeaderValue::from_str("false") {
        response.headers_mut().insert(REPLAYED, value);
    }
    Ok(response)
}

/// The key as sent, when it is 1 to 255 visible ASCII characters (the documented `^[!-~]+$`).
pub(crate) fn parse_key(raw: &HeaderValue) -> Result<String, ApiError> {
    match raw.to_str() {
        Ok(k) if !k.is_empty() && k.len() <= KEY_MAX && k.bytes().all(|b| b.is_ascii_graphic()) => {
            Ok(k.to_string())
        }
        _ => Err(ApiError::bad_request(
            "invalid_idempotency_key",
            "Idempotency-Key must be 1 to 255 visible ASCII characters, without spaces.",
        )),
    }
}

/// Whose keys a key is one of.
pub(crate) fn scope_of(principal: &Principal) -> String {
    match principal {
        Principal::User { user_id, .. } => format!("user:{user_id}"),
        Principal::ApiKey { key_id, .. } => format!("key:{key_id}"),
    }
}

/// Claims `key` for a request with this hash: `None` to go on (then [`finish`]), or the stored
/// answer to replay; 409 while the first request runs, 422 for another request under the key.
pub(crate) async fn begin(
    state: &ApiState,
    scope: &str,
    key: &str,
    request_hash: String,
) -> Result<Option<HttpResponse>, ApiError> {
    let store = state.stores.idempotency.clone();
    let (s, k) = (scope.to_string(), key.to_string());
    match blocking(move || store.start(&s, &k, &request_hash, Utc::now())).await? {
        IdempotencyStart::Started => Ok(None),
        IdempotencyStart::Replay(stored) => {
            let mut response = HttpResponse::build(
                StatusCode::from_u16(stored.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR),
            );
            for (name, value) in &stored.headers {
                response.insert_header((name.as_str(), value.as_str()));
            }
            response.insert_header((REPLAYED, "true"));
            Ok(Some(response.body(stored.body)))
        }
        IdempotencyStart::InProgress => Err(ApiError::new(
            StatusCode::CONFLICT,
            "idempotency_in_progress",
            "Conflict",
            "A request with this Idempotency-Key is still being processed; retry shortly.",
        )),
        IdempotencyStart::Mismatch => Err(ApiError::from(crm_domain::DomainError::invalid(
            "/",
            "idempotency_key_reused",
            "this Idempotency-Key was used with a different request",
        ))),
    }
}

/// Keeps the answer to a request begun with [`begin`] (a 5xx is dropped, so a retry runs).
pub(crate) async fn finish(
    state: &ApiState,
    scope: String,
    key: String,
    status: StatusCode,
    headers: Vec<(String, String)>,
    body: &[u8],
) {
    let store = state.stores.idempotency.clone();
    let outcome = if status.is_server_error() {
        blocking(move || store.abandon(&scope, &key)).await
    } else {
        let stored = StoredResponse {
            status: status.as_u16(),
            headers,
            body: String::from_utf8_lossy(body).into_owned(),
        };
        blocking(move || store.complete(&scope, &key, &stored)).await
    };
    if let Err(err) = outcome {
        tracing::error!(error = %err, "cannot store the idempotent response");
    }
}
