//! Health, readiness, metrics, meta and the served OpenAPI document.

use std::time::Duration;

use actix_web::test;
use crm_domain::Backend;
use crm_persistence::test_support::{test_options, TestDatabase};
use crm_persistence::DatabaseOptions;
use crm_tests::{api_state, backend_tests, header, read_json};
use serde_json::json;

async fn health_is_ok_without_the_database(db: TestDatabase) {
    let app = test::init_service(crm_http::app(api_state(&db))).await;
    let response =
        test::call_service(&app, test::TestRequest::get().uri("/healthz").to_request()).await;
    let (status, headers, body) = read_json(response).await;
    assert_eq!(status, 200);
    assert_eq!(header(&headers, "content-type"), "application/json");
    assert_eq!(body, json!({"status": "ok"}));
}

async fn ready_names_the_backend(db: TestDatabase) {
    let backend = db.database().backend().as_str();
    let app = test::init_service(crm_http::app(api_state(&db))).await;
    let response =
        test::call_service(&app, test::TestRequest::get().uri("/readyz").to_request()).await;
    let (status, _, body) = read_json(response).await;
    assert_eq!(status, 200);
    assert_eq!(
        body,
        json!({"status": "ready", "database_backend": backend})
    );
}

/// With every pooled connection taken, readiness answers 503 problem+json after the pool's
/// wait, with `Retry-After`, instead of hanging.
async fn not_ready_when_no_connection_is_available(db: TestDatabase) {
    let backend = db.database().backend();
    let options = DatabaseOptions {
        pool_size: 1,
        connect_timeout: Duration::from_millis(300),
        ..test_options()
    };
    let Some(db) = TestDatabase::with_options(backend, &options) else {
        return;
    };
    let app = test::init_service(crm_http::app(api_state(&db))).await;
    let held = db.connection();
    let request = test::TestRequest::get()
        .uri("/readyz")
        .insert_header(("x-request-id", "ready-check-1"))
        .to_request();
    let (status, headers, body) = read_json(test::call_service(&app, request).await).await;
    drop(held);
    assert_eq!(status, 503);
    assert_eq!(header(&headers, "content-type"), "application/problem+json");
    assert_eq!(header(&headers, "retry-after"), "5");
    assert_eq!(
        body,
        json!({
            "type": "urn:crm:problem:unavailable",
            "title": "Service unavailable",
            "status": 503,
            "detail": "The database is not available right now; retry shortly.",
            "code": "unavailable",
            "request_id": "ready-check-1",
            "errors": []
        })
    );
    let again =
        test::call_service(&app, test::TestRequest::get().uri("/readyz").to_request()).await;
    assert_eq!(
        again.status().as_u16(),
        200,
        "ready again once a connection frees up"
    );
}

async fn meta_reports_version_backend_and_schema(db: TestDatabase) {
    let info =
        crm_domain::SystemStore::system_info(db.database()).unwrap_or_else(|e| panic!("{e}"));
    let app = test::init_service(crm_http::app(api_state(&db))).await;
    let response = test::call_service(
        &app,
        test::TestRequest::get().uri("/api/v1/meta").to_request(),
    )
    .await;
    let (status, _, body) = read_json(response).await;
    assert_eq!(status, 200);
    assert_eq!(
        body,
        json!({
            "api_version": "v1",
            "server_version": "0.0.0-test",
            "build_profile": if cfg!(debug_assertions) { "debug" } else { "release" },
            "database_backend": match info.backend { Backend::Sqlite => "sqlite", Backend::Postgres => "postgres" },
            "schema_version": info.schema_version,
            "instance_id": info.instance_id,
        })
    );
}

async fn metrics_count_requests_by_route_and_status(db: TestDatabase) {
    let app = test::init_service(crm_http::app(api_state(&db))).await;
    for uri in ["/healthz", "/healthz", "/no/such/route"] {
        test::call_service(&app, test::TestRequest::get().uri(uri).to_request()).await;
    }
    let response =
        test::call_service(&app, test::TestRequest::get().uri("/metrics").to_request()).await;
    assert_eq!(response.status().as_u16(), 200);
    assert_eq!(
        header(response.headers(), "content-type"),
        "text/plain; version=0.0.4"
    );
    let body = String::from_utf8(test::read_body(response).await.to_vec()).unwrap_or_default();
    let line = |prefix: &str| {
        body.lines()
            .find(|l| l.starts_with(prefix))
            .map(str::to_owned)
    };
    assert_eq!(
        line(r#"crm_http_requests_total{method="GET",route="/healthz",status="200"}"#).as_deref(),
        Some(r#"crm_http_requests_total{method="GET",route="/healthz",status="200"} 2"#)
    );
    assert_eq!(
        line(r#"crm_http_requests_total{method="GET",route="unmatched",status="404"}"#).as_deref(),
        Some(r#"crm_http_requests_total{method="GET",route="unmatched",status="404"} 1"#)
    );
    assert!(
        line(r#"crm_http_request_duration_seconds_count{method="GET",route="/healthz",status="200"} 2"#).is_some(),
        "{body}"
    );
    assert_eq!(
        line("crm_db_pool_max_connections").as_deref(),
        Some("crm_db_pool_max_connections 4")
    );
    assert!(line("crm_db_pool_connections ").is_some(), "{body}");
    assert_eq!(
        line("crm_http_requests_in_flight").as_deref(),
        Some("crm_http_requests_in_flight 1")
    );
}

async fn served_spec_is_the_generated_document(db: TestDatabase) {
    let app = test::init_service(crm_http::app(api_state(&db))).await;
    let response = test::call_service(
        &app,
        test::TestRequest::get()
            .uri("/api/v1/openapi.json")
            .to_request(),
    )
    .await;
    assert_eq!(response.status().as_u16(), 200);
    assert_eq!(
        header(response.headers(), "content-type"),
        "application/json"
    );
    let body = test::read_body(response).await;
    let expected = crm_http::openapi::to_json(&crm_http::openapi::document());
    assert_eq!(std::str::from_utf8(&body).ok(), Some(expected.as_str()));
}

async fn docs_are_served_without_any_external_link(db: TestDatabase) {
    let app = test::init_service(crm_http::app(api_state(&db))).await;
    let redirect =
        test::call_service(&app, test::TestRequest::get().uri("/docs").to_request()).await;
    assert_eq!(redirect.status().as_u16(), 308);
    assert_eq!(header(redirect.headers(), "location"), "/docs/");
    for asset in [
        "/docs/",
        "/docs/swagger-initializer.js",
        "/docs/swagger-ui-bundle.js",
        "/docs/swagger-ui.css",
    ] {
        let response =
            test::call_service(&app, test::TestRequest::get().uri(asset).to_request()).await;
        assert_eq!(response.status().as_u16(), 200, "{asset}");
        let body = String::from_utf8_lossy(&test::read_body(response).await).into_owned();
        if asset.ends_with('/') {
            for tag in [
                "<script src=\"http",
                "<link rel=\"stylesheet\" type=\"text/css\" href=\"http",
            ] {
                assert!(!body.contains(tag), "{asset} loads from the network: {tag}");
            }
        }
        if asset.ends_with("initializer.js") {
            assert!(body.contains("/api/v1/openapi.json"), "{body}");
        }
    }
}

backend_tests!(async actix:
    health_is_ok_without_the_database,
    ready_names_the_backend,
    not_ready_when_no_connection_is_available,
    meta_reports_version_backend_and_schema,
    metrics_count_requests_by_route_and_status,
    served_spec_is_the_generated_document,
    docs_are_served_without_any_external_link,
);
