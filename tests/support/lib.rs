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
            signing_secret: SIGNING_SECRET.to_vec(),
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

/// The password every seeded user has.
pub const PASSWORD: &str = "seeded-password-123";

/// The token signing secret of [`api_state`].
pub const SIGNING_SECRET: [u8; 32] = [7; 32];

/// Creates a user with [`PASSWORD`] directly in the store; returns its id.
pub fn seed_user(db: &TestDatabase, email: &str, role: crm_domain::identity::Role) -> String {
    use crm_domain::identity::{Email, NewUser};
    use crm_domain::ports::UserStore;
    let hash = crm_domain::secrets::hash_password(PASSWORD).unwrap_or_else(|e| panic!("{e}"));
    db.database()
        .create_user(NewUser {
            email: Email::parse(email, "/email").unwrap_or_else(|e| panic!("{e:?}")),
            display_name: email.split('@').next().unwrap_or_default().to_string(),
            role,
            password_hash: hash,
        })
        .map(|u| u.id)
        .unwrap_or_else(|e| panic!("{e}"))
}

/// Sends a request and reads the answer as JSON.
pub async fn send<S, B>(app: &S, request: actix_web::test::TestRequest) -> (u16, HeaderMap, Value)
where
    S: actix_web::dev::Service<
        actix_http::Request,
        Response = ServiceResponse<B>,
        Error = actix_web::Error,
    >,
    B: MessageBody,
{
    read_json(actix_web::test::call_service(app, request.to_request()).await).await
}

/// A JSON request with an optional bearer credential.
pub fn request(
    method: &str,
    uri: &str,
    bearer: Option<&str>,
    body: Option<Value>,
) -> actix_web::test::TestRequest {
    let mut request = actix_web::test::TestRequest::default()
        .method(method.parse().unwrap_or_default())
        .uri(uri);
    if let Some(token) = bearer {
        request = request.insert_header(("Authorization", format!("Bearer {token}")));
    }
    if let Some(body) = body {
        request = request.set_json(body);
    }
    request
}

/// Logs in with [`PASSWORD`]; returns the access and refresh tokens.
pub async fn login<S, B>(app: &S, email: &str) -> (String, String)
where
    S: actix_web::dev::Service<
        actix_http::Request,
        Response = ServiceResponse<B>,
        Error = actix_web::Error,
    >,
    B: MessageBody,
{
    let body = serde_json::json!({"email": email, "password": PASSWORD});
    let (status, _, tokens) =
        send(app, request("POST", "/api/v1/auth/login", None, Some(body))).await;
    assert_eq!(status, 200, "login of {email}: {tokens}");
    let text = |k: &str| tokens[k].as_str().unwrap_or_default().to_string();
    (text("access_token"), text("refresh_token"))
}

/// The JSON pointers of a problem's `errors`, in order.
pub fn pointers(problem: &Value) -> Vec<String> {
    problem["errors"]
        .as_array()
        .map(|errors| {
            errors
                .iter()
                .filter_map(|e| e["pointer"].as_str().map(str::to_string))
                .collect()
        })
        .unwrap_or_default()
}
