//! The product catalogue over HTTP: every bad member listed with nothing written, SKUs unique
//! regardless of case, changes with versions, and the filtered list.

use actix_web::test;
use crm_domain::identity::Role;
use crm_persistence::test_support::TestDatabase;
use crm_tests::{api_state, backend_tests, header, login, pointers, request, seed_user, send};
use serde_json::{json, Value};

fn skus(list: &Value) -> Vec<&str> {
    list["items"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|p| p["sku"].as_str())
        .collect()
}

async fn admins_keep_the_product_catalogue(db: TestDatabase) {
    seed_user(&db, "admin@example.com", Role::Admin);
    seed_user(&db, "rep@example.com", Role::Rep);
    let app = test::init_service(crm_http::app(api_state(&db))).await;
    let (admin, _) = login(&app, "admin@example.com").await;
    let (rep, _) = login(&app, "rep@example.com").await;
    let create = |body: Value| request("POST", "/api/v1/products", Some(&admin), Some(body));
    let (status, _, problem) = send(
        &app,
        create(
            json!({"sku": "-bad sku", "name": "  ", "unit_price": -1, "currency": "XYZ",
            "description": "d".repeat(2001)}),
        ),
    )
    .await;
    assert_eq!(status, 422, "{problem}");
    assert_eq!(
        pointers(&problem),
        ["/sku", "/name", "/description", "/unit_price", "/currency"]
    );
    let (status, _, problem) = send(&app, create(json!({"name": "Only a name"}))).await;
    assert_eq!(status, 422);
    assert_eq!(pointers(&problem), ["/sku", "/unit_price", "/currency"]);
    let (_, _, empty) = send(&app, request("GET", "/api/v1/products", Some(&rep), None)).await;
    assert_eq!(
        empty,
        json!({"items": [], "next_cursor": null}),
        "nothing written"
    );
    let (status, headers, made) = send(
        &app,
        create(json!({"sku": " CRM-Pro-1Y ", "name": " CRM Pro, one year ",
            "unit_price": 129900, "currency": "cny"})),
    )
    .await;
    assert_eq!(status, 201, "{made}");
    let id = made["id"].as_str().unwrap_or_default().to_string();
    assert_eq!(
        header(&headers, "location"),
        format!("/api/v1/products/{id}")
    );
    assert_eq!(
        made,
        json!({"id": id, "sku": "CRM-Pro-1Y", "name": "CRM Pro, one year", "description": null,
            "unit_price": 129900, "currency": "CNY", "active": true,
            "created_at": made["created_at"], "updated_at": made["created_at"]})
    );
    let (status, _, clash) = send(
        &app,
        create(json!({"sku": "crm-pro-1y", "name": "Copy", "unit_price": 1, "currency": "CNY"})),
    )
    .await;
    assert_eq!((status, clash["code"].as_str()), (409, Some("sku_exists")));
    send(
        &app,
        create(
            json!({"sku": "SCAN-1", "name": "Barcode scanner", "unit_price": 49900,
            "currency": "CNY", "active": false}),
        ),
    )
    .await;
    let uri = format!("/api/v1/products/{id}");
    let (status, _, problem) = send(
        &app,
        request(
            "PATCH",
            &uri,
            Some(&admin),
            Some(json!({"unit_price": null, "currency": "US"})),
        ),
    )
    .await;
    assert_eq!(status, 422);
    assert_eq!(pointers(&problem), ["/unit_price", "/currency"]);
    let (status, headers, changed) = send(
        &app,
        request(
            "PATCH",
            &uri,
            Some(&admin),
            Some(json!({"unit_price": 119900, "description": "Twelve months"})),
        )
        .insert_header(("If-Match", "\"1\"")),
    )
    .await;
    assert_eq!(status, 200, "{changed}");
    assert_eq!(header(&headers, "etag"), "\"2\"");
    assert_eq!(
        (
            &changed["unit_price"],
            &changed["description"],
            &changed["sku"]
        ),
        (
            &json!(119900),
            &json!("Twelve months"),
            &json!("CRM-Pro-1Y")
        )
    );
    let (status, _, read) = send(&app, request("GET", &uri, Some(&rep), None)).await;
    assert_eq!((status, &read), (200, &changed));
    let list = |query: &str| request("GET", &format!("/api/v1/products{query}"), Some(&rep), None);
    let (_, _, all) = send(&app, list("")).await;
    assert_eq!(skus(&all), ["CRM-Pro-1Y", "SCAN-1"]);
    let (_, _, active) = send(&app, list("?active=true")).await;
    assert_eq!(skus(&active), ["CRM-Pro-1Y"]);
    let (_, _, found) = send(&app, list("?q=SCANNER")).await;
    assert_eq!(skus(&found), ["SCAN-1"]);
    let (_, _, first) = send(&app, list("?limit=1")).await;
    let next = first["next_cursor"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    let (_, _, second) = send(&app, list(&format!("?limit=1&cursor={next}"))).await;
    assert_eq!(
        (skus(&first), skus(&second)),
        (vec!["CRM-Pro-1Y"], vec!["SCAN-1"])
    );
    let (status, _, problem) = send(&app, list("?q=")).await;
    assert_eq!(
        (status, pointers(&problem)),
        (400, vec!["/query/q".to_string()])
    );
    let (status, _, problem) = send(&app, list("?currency=XYZ")).await;
    assert_eq!(status, 400);
    assert_eq!(pointers(&problem), ["/query/currency"]);
    let (status, _, _) = send(
        &app,
        request(
            "GET",
            "/api/v1/products/0193aaaa-0000-7000-8000-000000000000",
            Some(&rep),
            None,
        ),
    )
    .await;
    assert_eq!(status, 404);
}

backend_tests!(async actix: admins_keep_the_product_catalogue);
