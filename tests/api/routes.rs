//! The spec and the routes agree: every operation in the OpenAPI document reaches a handler and
//! answers only with statuses the document lists; every other method on a documented path is 405.

use actix_web::http::Method;
use actix_web::test;
use crm_persistence::test_support::TestDatabase;
use crm_tests::{api_state, backend_tests, header, read_json};
use serde_json::Value;

const METHODS: [&str; 5] = ["get", "put", "post", "delete", "patch"];

/// `(path with sample parameters, method, documented statuses)` for every operation.
fn operations() -> Vec<(String, String, Vec<String>)> {
    let document = serde_json::to_value(crm_http::openapi::document()).unwrap_or_default();
    let mut operations = Vec::new();
    for (path, item) in document["paths"].as_object().into_iter().flatten() {
        for method in METHODS {
            if let Some(op) = item.get(method) {
                let statuses = op["responses"]
                    .as_object()
                    .map(|r| r.keys().cloned().collect())
                    .unwrap_or_default();
                operations.push((sample_path(path), method.to_string(), statuses));
            }
        }
    }
    operations
}

/// The path with each `{parameter}` replaced by a well-formed UUID.
fn sample_path(template: &str) -> String {
    template
        .split('/')
        .map(|segment| {
            if segment.starts_with('{') {
                "01936f0e-8a7c-7d4e-9a51-3c2b1f0e9d8a"
            } else {
                segment
            }
        })
        .collect::<Vec<_>>()
        .join("/")
}

async fn every_documented_operation_is_served(db: TestDatabase) {
    let app = test::init_service(crm_http::app(api_state(&db))).await;
    let operations = operations();
    assert!(operations.len() >= 5, "{operations:?}");
    for (path, method, statuses) in operations {
        let request = test::TestRequest::default()
            .method(Method::from_bytes(method.to_uppercase().as_bytes()).unwrap_or_default())
            .uri(&path)
            .to_request();
        let response = test::call_service(&app, request).await;
        let status = response.status().as_u16().to_string();
        let is_json_problem =
            header(response.headers(), "content-type") == "application/problem+json";
        let (_, _, body) = read_json(response).await;
        if is_json_problem {
            let code = body["code"].as_str().unwrap_or_default();
            assert!(
                code != "route_not_found" && code != "method_not_allowed",
                "{method} {path} is documented but not routed"
            );
        }
        assert!(
            statuses.contains(&status),
            "{method} {path} answered {status}, documented {statuses:?}"
        );
    }
}

async fn undocumented_methods_are_405_listing_the_documented_ones(db: TestDatabase) {
    let app = test::init_service(crm_http::app(api_state(&db))).await;
    let document = serde_json::to_value(crm_http::openapi::document()).unwrap_or_default();
    for (path, item) in document["paths"].as_object().into_iter().flatten() {
        let documented: Vec<String> = METHODS
            .iter()
            .filter(|m| item.get(**m).is_some_and(Value::is_object))
            .map(|m| m.to_uppercase())
            .collect();
        for method in METHODS.iter().map(|m| m.to_uppercase()) {
            if documented.contains(&method) {
                continue;
            }
            let request = test::TestRequest::default()
                .method(Method::from_bytes(method.as_bytes()).unwrap_or_default())
                .uri(&sample_path(path))
                .to_request();
            let response = test::call_service(&app, request).await;
            assert_eq!(response.status().as_u16(), 405, "{method} {path}");
            assert_eq!(header(response.headers(), "allow"), documented.join(", "));
        }
    }
}

backend_tests!(async actix:
    every_documented_operation_is_served,
    undocumented_methods_are_405_listing_the_documented_ones,
);
