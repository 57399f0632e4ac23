//! Errors that actix itself would answer: unknown routes, wrong methods. All are problem+json
//! carrying the request's id.

use actix_web::test;
use crm_persistence::test_support::TestDatabase;
use crm_tests::{api_state, backend_tests, header, read_json};
use serde_json::json;

async fn unknown_route_is_problem_json_with_the_request_id(db: TestDatabase) {
    let app = test::init_service(crm_http::app(api_state(&db))).await;
    let request = test::TestRequest::get()
        .uri("/api/v1/nothing-here?x=1")
        .insert_header(("X-Request-Id", "client-chosen-42"))
        .to_request();
    let (status, headers, body) = read_json(test::call_service(&app, request).await).await;
    assert_eq!(status, 404);
    assert_eq!(header(&headers, "content-type"), "application/problem+json");
    assert_eq!(header(&headers, "x-request-id"), "client-chosen-42");
    assert_eq!(
        body,
        json!({
            "type": "urn:crm:problem:route_not_found",
            "title": "Not found",
            "status": 404,
            "detail": "No resource exists at this path.",
            "code": "route_not_found",
            "request_id": "client-chosen-42",
            "errors": []
        })
    );
}

async fn wrong_method_is_405_with_allow(db: TestDatabase) {
    let app = test::init_service(crm_http::app(api_state(&db))).await;
    for method in ["POST", "PUT", "PATCH", "DELETE"] {
        let request = test::TestRequest::default()
            .method(method.parse().unwrap_or_default())
            .uri("/api/v1/meta")
            .to_request();
        let (status, headers, body) = read_json(test::call_service(&app, request).await).await;
        assert_eq!(status, 405, "{method}");
        assert_eq!(header(&headers, "allow"), "GET");
        assert_eq!(header(&headers, "content-type"), "application/problem+json");
        assert_eq!(body["code"], "method_not_allowed");
        assert_eq!(body["request_id"], header(&headers, "x-request-id"));
    }
}

async fn generated_request_ids_are_unique_uuids(db: TestDatabase) {
    let app = test::init_service(crm_http::app(api_state(&db))).await;
    let mut seen = Vec::new();
    for _ in 0..3 {
        let request = test::TestRequest::get()
            .uri("/healthz")
            .insert_header(("X-Request-Id", "has spaces; not kept"))
            .to_request();
        let response = test::call_service(&app, request).await;
        let id = header(response.headers(), "x-request-id").to_string();
        let parsed = uuid_version(&id);
        assert_eq!(parsed, Some(7), "{id}");
        assert!(!seen.contains(&id));
        seen.push(id);
    }
}

fn uuid_version(id: &str) -> Option<u32> {
    let parts: Vec<&str> = id.split('-').collect();
    let valid = parts.iter().map(|p| p.len()).eq([8, 4, 4, 4, 12])
        && id.chars().all(|c| c == '-' || c.is_ascii_hexdigit());
    valid
        .then(|| parts[2].chars().next().and_then(|c| c.to_digit(16)))
        .flatten()
}

async fn cross_origin_calls_only_from_configured_origins(db: TestDatabase) {
    let config = crm_http::HttpConfig {
        cors_origins: vec!["https://app.example.com".into()],
        ..crm_http::HttpConfig::default()
    };
    let app = test::init_service(crm_http::app(crm_tests::api_state_with(&db, config))).await;
    let preflight = |origin: &'static str| {
        test::TestRequest::default()
            .method(actix_web::http::Method::OPTIONS)
            .uri("/api/v1/meta")
            .insert_header(("Origin", origin))
            .insert_header(("Access-Control-Request-Method", "GET"))
            .insert_header(("Access-Control-Request-Headers", "authorization"))
            .to_request()
    };
    let allowed = test::call_service(&app, preflight("https://app.example.com")).await;
    assert_eq!(allowed.status().as_u16(), 200);
    assert_eq!(
        header(allowed.headers(), "access-control-allow-origin"),
        "https://app.example.com"
    );
    let other = test::call_service(&app, preflight("https://evil.example.net")).await;
    assert_eq!(header(other.headers(), "access-control-allow-origin"), "");

    let get = test::TestRequest::get()
        .uri("/healthz")
        .insert_header(("Origin", "https://app.example.com"))
        .to_request();
    let response = test::call_service(&app, get).await;
    assert_eq!(response.status().as_u16(), 200);
    assert_eq!(
        header(response.headers(), "access-control-allow-origin"),
        "https://app.example.com"
    );
}

async fn no_cross_origin_access_by_default(db: TestDatabase) {
    let app = test::init_service(crm_http::app(api_state(&db))).await;
    let get = test::TestRequest::get()
        .uri("/healthz")
        .insert_header(("Origin", "https://app.example.com"))
        .to_request();
    let response = test::call_service(&app, get).await;
    assert_eq!(response.status().as_u16(), 200);
    assert_eq!(
        header(response.headers(), "access-control-allow-origin"),
        ""
    );
}

backend_tests!(async actix:
    unknown_route_is_problem_json_with_the_request_id,
    wrong_method_is_405_with_allow,
    generated_request_ids_are_unique_uuids,
    cross_origin_calls_only_from_configured_origins,
    no_cross_origin_access_by_default,
);
