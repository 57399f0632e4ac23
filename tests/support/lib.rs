//! Helpers for the black-box suites: the real API over a fresh database of either backend.

use actix_web::body::MessageBody;
use actix_web::dev::ServiceResponse;
use actix_web::http::header::HeaderMap;
use crm_http::{ApiState, BuildInfo, HttpConfig};
use crm_persistence::test_support::TestDatabase;
use serde_json::Value;

pub use crm_persistence::backend_tests;

/// The API's state over `db`, wired exactly as `crm serve` wires it.
pub fn api_state(db: &TestDatabase) -> ApiState {
    api_state_with(db, HttpConfig::default())
}

/// Like [`api_state`], with the given HTTP settings.
pub fn api_state_with(db: &TestDatabase, config: HttpConfig) -> ApiState {
    ApiState::new(
        crm_server::wiring::stores(db.shared()),
        HttpConfig {
            signing_secret: vec![7; 32],
            ..config
        },
        BuildInfo::new("0.0.0-test"),
    )
}

/// The response's status, headers and body parsed as JSON (`Value::Null` when empty or not JSON).
pub async fn read_json<B: MessageBody>(response: ServiceResponse<B>) -> (u16, HeaderMap, Value) {
    let status = response.status().as_u16();
    let headers = response.headers().clone();
    let bytes = actix_web::test::read_body(response).await;
    let body = serde_json::from_slice(&bytes).unwrap_or(Value::Null);
    (status, headers, body)
}

/// The header's value as text, or `""` when absent.
pub fn header<'h>(headers: &'h HeaderMap, name: &str) -> &'h str {
    headers
        .get(name)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
}
