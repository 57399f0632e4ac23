//! Per-request observation: the `X-Request-Id` (accepted or generated, echoed on every response),
//! a tracing span with method, route, status, latency and request id, one log line per request,
//! and the request metrics.

use std::time::Instant;

use actix_web::body::{BoxBody, MessageBody};
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::header::{HeaderName, HeaderValue};
use actix_web::middleware::Next;
use actix_web::{web, HttpMessage};
use tracing::Instrument;

use crate::fallback::MatchedRoute;
use crate::ApiState;

/// The request id header.
pub const REQUEST_ID: HeaderName = HeaderName::from_static("x-request-id");

/// Longest accepted client-supplied request id.
const MAX_REQUEST_ID_LEN: usize = 128;

tokio::task_local! {
    static CURRENT_REQUEST_ID: String;
}

/// The id of the request being served on this task, if any.
pub(crate) fn current_request_id() -> Option<String> {
    CURRENT_REQUEST_ID.try_with(Clone::clone).ok()
}

/// A client-supplied id is kept when it is short and made of safe characters; otherwise a new
/// UUIDv7 is generated, so log lines can never be forged or bloated through this header.
fn request_id_from(header: Option<&HeaderValue>) -> String {
    header
        .and_then(|v| v.to_str().ok())
        .filter(|v| {
            !v.is_empty()
                && v.len() <= MAX_REQUEST_ID_LEN
                && v.bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b"-_.:".contains(&b))
        })
        .map(str::to_owned)
        .unwrap_or_else(|| uuid::Uuid::now_v7().to_string())
}

/// The outermost middleware.
pub(crate) async fn observe(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<BoxBody>, actix_web::Error> {
    let started = Instant::now();
    let id = request_id_from(req.headers().get(&REQUEST_ID));
    let method = req.method().clone();
    let matched = MatchedRoute::find(&req);
    let route = matched
        .pattern
        .clone()
        .unwrap_or_else(|| "unmatched".into());
    req.extensions_mut().insert(matched);
    let state = req.app_data::<web::Data<ApiState>>().cloned();
    let span = tracing::info_span!(
        "request",
        request_id = %id,
        method = %method,
        route = %route,
        status = tracing::field::Empty,
        latency_ms = tracing::field::Empty,
    );
    if let Some(state) = &state {
        state.metrics.in_flight.inc();
    }

    let outcome = CURRENT_REQUEST_ID
        .scope(id.clone(), next.call(req).instrument(span.clone()))
        .await;
    let mut response = match outcome {
        Ok(response) => response.map_into_boxed_body(),
        Err(err) => {
            // Handlers and extractors answer with responses; only a middleware fault gets here.
            if let Some(state) = &state {
                state.metrics.in_flight.dec();
            }
            tracing::error!(parent: &span, error = %err, "request failed in middleware");
            return Err(err);
        }
    };

    if let Ok(value) = HeaderValue::from_str(&id) {
        response.headers_mut().insert(REQUEST_ID, value);
    }
    let status = response.status().as_u16();
    let elapsed = started.elapsed();
    let latency_ms = elapsed.as_secs_f64() * 1000.0;
    span.record("status", status);
    span.record("latency_ms", latency_ms);
    if let Some(state) = &state {
        state.metrics.in_flight.dec();
        state
            .metrics
            .observe(method.as_str(), &route, status, elapsed.as_secs_f64());
    }
    let _entered = span.enter();
    if status >= 500 {
        tracing::error!(status, latency_ms, "request failed");
    } else {
        tracing::info!(status, latency_ms, "request served");
    }
    Ok(response)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn safe_client_ids_are_kept() {
        let header = HeaderValue::from_static("import-job:42.retry_1");
        assert_eq!(request_id_from(Some(&header)), "import-job:42.retry_1");
    }

    #[test]
    fn unsafe_or_missing_ids_are_replaced() {
        let spaces = HeaderValue::from_static("a b");
        let long = HeaderValue::from_str(&"x".repeat(129)).ok();
        for header in [Some(&spaces), long.as_ref(), None] {
            let id = request_id_from(header);
            assert!(uuid::Uuid::parse_str(&id).is_ok(), "{id}");
        }
    }
}
