//! Lead sources through the API: the seeded list, admin upkeep, and customers naming sources.

use actix_web::test;
use crm_domain::identity::Role;
use crm_persistence::test_support::TestDatabase;
use crm_tests::{api_state, backend_tests, header, login, request, seed_user, send};
use serde_json::json;

async fn admins_keep_the_list_and_customers_use_it(db: TestDatabase) {
    seed_user(&db, "admin@example.com", Role::Admin);
    seed_user(&db, "rep@example.com", Role::Rep);
    let app = test::init_service(crm_http::app(api_state(&db))).await;
    let (admin, _) = login(&app, "admin@example.com").await;
    let (rep, _) = login(&app, "rep@example.com").await;
    let (status, _, list) = send(
        &app,
        request("GET", "/api/v1/lead-sources", Some(&rep), None),
    )
    .await;
    assert_eq!(status, 200);
    let keys: Vec<&str> = list["items"]
        .as_array()
        .map(|items| items.iter().filter_map(|i| i["key"].as_str()).collect())
        .unwrap_or_default();
    assert_eq!(
        keys,
        [
            "website",
            "referral",
            "trade_show",
            "advertising",
            "cold_call",
            "social_media",
            "partner",
            "other"
        ]
    );
    let (status, headers, created) = send(
        &app,
        request(
            "POST",
            "/api/v1/lead-sources",
            Some(&admin),
            Some(json!({"key": "wechat_ads", "label": " WeChat ads ", "position": 15})),
        ),
    )
    .await;
    assert_eq!(status, 201, "{created}");
    assert_eq!(
        header(&headers, "location"),
        "/api/v1/lead-sources/wechat_ads"
    );
    assert_eq!(header(&headers, "etag"), "\"1\"");
    let mut expected =
        json!({"key": "wechat_ads", "label": "WeChat ads", "position": 15, "archived": false});
    expected["created_at"] = created["created_at"].clone();
    expected["updated_at"] = created["updated_at"].clone();
    assert_eq!(created, expected);
    let (status, headers_of_bad, problem) = send(
        &app,
        request(
            "POST",
            "/api/v1/lead-sources",
            Some(&admin),
            Some(json!({"key": "Bad Key", "label": " ", "position": 2000000})),
        ),
    )
    .await;
    assert_eq!(status, 422);
    let pointers: Vec<&str> = problem["errors"]
        .as_array()
        .map(|e| e.iter().filter_map(|x| x["pointer"].as_str()).collect())
        .unwrap_or_default();
    assert_eq!(pointers, ["/key", "/label", "/position"]);
    assert_eq!(
        header(&headers_of_bad, "content-type"),
        "application/problem+json"
    );
    let (_, _, after_bad) = send(
        &app,
        request(
            "GET",
            "/api/v1/lead-sources?include_archived=true",
            Some(&rep),
            None,
        ),
    )
    .await;
    assert_eq!(
        after_bad["items"].as_array().map(Vec::len),
        Some(9),
        "the refused source was not written"
    );
    let (status, _, _) = send(
        &app,
        request(
            "POST",
            "/api/v1/lead-sources",
            Some(&admin),
            Some(json!({"key": "website", "label": "Again"})),
        ),
    )
    .await;
    assert_eq!(status, 409);

    // A customer names an active source by key; unknown keys are listed with the other problems.
    let create = |body| request("POST", "/api/v1/customers", Some(&rep), Some(body));
    let (status, _, customer) = send(
        &app,
        create(json!({"kind": "company", "name": "Acme", "lead_source": "wechat_ads"})),
    )
    .await;
    assert_eq!(
        (status, customer["lead_source"].as_str()),
        (201, Some("wechat_ads"))
    );
    let (status, _, problem) = send(
        &app,
        create(json!({"kind": "company", "name": "Acme 2", "lead_source": "fax", "email": "nope"})),
    )
    .await;
    assert_eq!(status, 422);
    let codes: Vec<(&str, &str)> = problem["errors"]
        .as_array()
        .map(|e| {
            e.iter()
                .filter_map(|x| Some((x["pointer"].as_str()?, x["code"].as_str()?)))
                .collect()
        })
        .unwrap_or_default();
    assert!(
        codes.contains(&("/lead_source", "unknown_lead_source")),
        "{problem}"
    );
    assert!(codes.iter().any(|(p, _)| *p == "/email"), "{problem}");

    // Archiving: no new customers take the source; existing ones keep it and can still change.
    let (status, headers, archived) = send(
        &app,
        request(
            "PATCH",
            "/api/v1/lead-sources/wechat_ads",
            Some(&admin),
            Some(json!({"archived": true})),
        ),
    )
    .await;
    assert_eq!((status, archived["archived"].as_bool()), (200, Some(true)));
    assert_eq!(header(&headers, "etag"), "\"2\"");
    let (status, _, _) = send(
        &app,
        create(json!({"kind": "company", "name": "Acme 3", "lead_source": "wechat_ads"})),
    )
    .await;
    assert_eq!(status, 422);
    let id = customer["id"].as_str().unwrap_or_default();
    let (status, _, changed) = send(
        &app,
        request(
            "PATCH",
            &format!("/api/v1/customers/{id}"),
            Some(&rep),
            Some(json!({"name": "Acme Ltd"})),
        ),
    )
    .await;
    assert_eq!(
        (status, changed["lead_source"].as_str()),
        (200, Some("wechat_ads"))
    );
    let (_, _, active) = send(
        &app,
        request("GET", "/api/v1/lead-sources", Some(&rep), None),
    )
    .await;
    assert!(!active.to_string().contains("wechat_ads"));
    let (_, _, all) = send(
        &app,
        request(
            "GET",
            "/api/v1/lead-sources?include_archived=true",
            Some(&rep),
            None,
        ),
    )
    .await;
    assert!(all.to_string().contains("wechat_ads"));
    let (status, _, _) = send(
        &app,
        request(
            "PATCH",
            "/api/v1/lead-sources/wechat_ads",
            Some(&rep),
            Some(json!({"archived": false})),
        ),
    )
    .await;
    assert_eq!(status, 403);
    let (status, _, _) = send(
        &app,
        request(
            "PATCH",
            "/api/v1/lead-sources/nothing",
            Some(&admin),
            Some(json!({"archived": false})),
        ),
    )
    .await;
    assert_eq!(status, 404);
}

backend_tests!(async actix: admins_keep_the_list_and_customers_use_it);
