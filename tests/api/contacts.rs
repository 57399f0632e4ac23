//! Contacts through the API.

use actix_web::test;
use crm_domain::identity::Role;
use crm_persistence::test_support::TestDatabase;
use crm_tests::{api_state, backend_tests, header, login, request, seed_user, send};
use serde_json::{json, Value};

async fn contacts_of_a_customer(db: TestDatabase) {
    seed_user(&db, "rep@example.com", Role::Rep);
    seed_user(&db, "other@example.com", Role::Rep);
    let app = test::init_service(crm_http::app(api_state(&db))).await;
    let (token, _) = login(&app, "rep@example.com").await;
    let (_, _, customer) = send(
        &app,
        request(
            "POST",
            "/api/v1/customers",
            Some(&token),
            Some(json!({"kind": "company", "name": "Acme"})),
        ),
    )
    .await;
    let base = format!(
        "/api/v1/customers/{}/contacts",
        customer["id"].as_str().unwrap_or_default()
    );
    let body = json!({"name": " 李娜 ", "title": "采购经理", "phones": ["138 1234 5678", "+86 13812345678", "010-6552 9988"], "email": "Li.Na@Example.com", "wechat_id": "lina_xc"});
    let (status, headers, first) =
        send(&app, request("POST", &base, Some(&token), Some(body))).await;
    assert_eq!(status, 201, "{first}");
    let first_id = first["id"].as_str().unwrap_or_default().to_string();
    assert_eq!(header(&headers, "location"), format!("{base}/{first_id}"));
    let mut expected = json!({
        "id": first_id, "customer_id": customer["id"], "name": "李娜", "title": "采购经理",
        "phones": [{"number": "138 1234 5678", "e164": "+8613812345678"}, {"number": "010-6552 9988", "e164": "+861065529988"}],
        "email": "Li.Na@Example.com", "wechat_id": "lina_xc", "primary": true, "notes": null,
        "custom_fields": {}
    });
    expected["created_at"] = first["created_at"].clone();
    expected["updated_at"] = first["updated_at"].clone();
    assert_eq!(
        first, expected,
        "the same number twice is kept once; the first contact is primary"
    );

    let (_, _, second) = send(
        &app,
        request(
            "POST",
            &base,
            Some(&token),
            Some(json!({"name": "Wang", "primary": true})),
        ),
    )
    .await;
    let (_, _, list) = send(&app, request("GET", &base, Some(&token), None)).await;
    let primaries: Vec<bool> = list["items"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|c| c["primary"] == true)
        .collect();
    assert_eq!(primaries, [false, true]);
    let second_uri = format!("{base}/{}", second["id"].as_str().unwrap_or_default());
    let (status, _, problem) = send(
        &app,
        request(
            "PATCH",
            &second_uri,
            Some(&token),
            Some(json!({"primary": false})),
        ),
    )
    .await;
    assert_eq!(
        (status, problem["errors"][0]["code"].as_str()),
        (422, Some("primary_required"))
    );
    let (status, _, patched) = send(
        &app,
        request(
            "PATCH",
            &second_uri,
            Some(&token),
            Some(json!({"title": "CEO", "phones": null})),
        ),
    )
    .await;
    assert_eq!(
        (status, patched["title"].clone(), patched["phones"].clone()),
        (200, json!("CEO"), json!([]))
    );
    let (status, _, _) = send(&app, request("DELETE", &second_uri, Some(&token), None)).await;
    assert_eq!(status, 204);
    let (_, _, first_again) = send(
        &app,
        request("GET", &format!("{base}/{first_id}"), Some(&token), None),
    )
    .await;
    assert_eq!(first_again["primary"], true);

    let (_, _, flat) = send(
        &app,
        request(
            "GET",
            &format!(
                "/api/v1/contacts?customer_id={}",
                customer["id"].as_str().unwrap_or_default()
            ),
            Some(&token),
            None,
        ),
    )
    .await;
    assert_eq!(flat["items"].as_array().map(Vec::len), Some(1));
    let (other, _) = login(&app, "other@example.com").await;
    let (_, _, none) = send(&app, request("GET", "/api/v1/contacts", Some(&other), None)).await;
    assert_eq!(
        none["items"],
        json!([]),
        "another rep sees no contact of a customer they cannot see"
    );
    let (status, _, _) = send(&app, request("GET", &base, Some(&other), None)).await;
    assert_eq!(status, 404);
    assert_eq!(db.orphan_rows(), 0);
}

async fn bad_contacts_are_refused_with_every_problem(db: TestDatabase) {
    seed_user(&db, "rep@example.com", Role::Rep);
    let app = test::init_service(crm_http::app(api_state(&db))).await;
    let (token, _) = login(&app, "rep@example.com").await;
    let (_, _, customer) = send(
        &app,
        request(
            "POST",
            "/api/v1/customers",
            Some(&token),
            Some(json!({"kind": "company", "name": "Acme"})),
        ),
    )
    .await;
    let base = format!(
        "/api/v1/customers/{}/contacts",
        customer["id"].as_str().unwrap_or_default()
    );
    let body = json!({"title": "t".repeat(101), "phones": ["12", "13812345678"], "email": "x", "customer_id": "smuggled"});
    let (status, _, problem) = send(&app, request("POST", &base, Some(&token), Some(body))).await;
    assert_eq!(
        (status, problem["errors"][0]["code"].as_str()),
        (422, Some("unknown_field"))
    );
    let body = json!({"title": "t".repeat(101), "phones": ["12", "13812345678"], "email": "x"});
    let (status, _, problem) = send(&app, request("POST", &base, Some(&token), Some(body))).await;
    assert_eq!(status, 422);
    let pointers: Vec<&str> = problem["errors"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|e| e["pointer"].as_str())
        .collect();
    assert_eq!(pointers, ["/name", "/title", "/email", "/phones/0"]);
    let (_, _, list) = send(&app, request("GET", &base, Some(&token), None)).await;
    assert_eq!(list["items"], Value::Array(vec![]));
}

async fn the_overview_shows_the_customer_and_its_contacts(db: TestDatabase) {
    seed_user(&db, "rep@example.com", Role::Rep);
    let app = test::init_service(crm_http::app(api_state(&db))).await;
    let (token, _) = login(&app, "rep@example.com").await;
    let (_, _, customer) = send(
        &app,
        request(
            "POST",
            "/api/v1/customers",
            Some(&token),
            Some(json!({"kind": "company", "name": "Acme"})),
        ),
    )
    .await;
    let id = customer["id"].as_str().unwrap_or_default().to_string();
    for name in ["First", "Second"] {
        send(
            &app,
            request(
                "POST",
                &format!("/api/v1/customers/{id}/contacts"),
                Some(&token),
                Some(json!({"name": name, "primary": name == "Second"})),
            ),
        )
        .await;
    }
    let (status, headers, overview) = send(
        &app,
        request(
            "GET",
            &format!("/api/v1/customers/{id}/overview"),
            Some(&token),
            None,
        ),
    )
    .await;
    assert_eq!(status, 200);
    assert_eq!(
        header(&headers, "etag"),
        "\"3\"",
        "adding contacts moves the customer's version"
    );
    assert_eq!(overview["customer"]["id"], id.as_str());
    let names: Vec<&str> = overview["contacts"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|c| c["name"].as_str())
        .collect();
    assert_eq!(names, ["Second", "First"], "primary first");
    assert_eq!(overview["timeline"], json!([]));
    assert_eq!(overview["open_opportunities"], json!([]));
    assert_eq!(overview["pending_follow_ups"], json!([]));
    assert_eq!(
        overview["score"],
        json!({"total": 0, "half_life_days": 90, "breakdown": [],
            "computed_at": overview["score"]["computed_at"]})
    );
    assert_eq!(overview["days_since_last_contact"], Value::Null);
}

async fn contact_duplicates_through_the_api(db: TestDatabase) {
    seed_user(&db, "rep@example.com", Role::Rep);
    let app = test::init_service(crm_http::app(api_state(&db))).await;
    let (token, _) = login(&app, "rep@example.com").await;
    let mut ids = Vec::new();
    for name in ["Acme", "Borealis"] {
        let (_, _, c) = send(
            &app,
            request(
                "POST",
                "/api/v1/customers",
                Some(&token),
                Some(json!({"kind": "company", "name": name})),
            ),
        )
        .await;
        ids.push(c["id"].as_str().unwrap_or_default().to_string());
    }
    let add = |customer: &str, body: Value| {
        request(
            "POST",
            &format!("/api/v1/customers/{customer}/contacts"),
            Some(&token),
            Some(body),
        )
    };
    let (status, _, li) = send(
        &app,
        add(&ids[0], json!({"name": "Li", "email": "li@acme.example"})),
    )
    .await;
    assert_eq!(status, 201, "{li}");
    let (status, headers, problem) = send(
        &app,
        add(
            &ids[1],
            json!({"name": "Li again", "email": " LI@acme.example"}),
        ),
    )
    .await;
    assert_eq!(status, 409);
    assert_eq!(header(&headers, "content-type"), "application/problem+json");
    assert_eq!(
        (problem["code"].as_str(), problem["existing_id"].as_str()),
        (Some("duplicate"), Some(ids[0].as_str()))
    );
    let (status, _, customer) = send(
        &app,
        request(
            "POST",
            "/api/v1/customers",
            Some(&token),
            Some(json!({"kind": "individual", "name": "Li", "email": "li@acme.example"})),
        ),
    )
    .await;
    assert_eq!(
        (status, customer["existing_id"].as_str()),
        (409, Some(ids[0].as_str())),
        "a contact's email counts for new customers"
    );
    let (status, _, allowed) = send(
        &app,
        add(
            &ids[1],
            json!({"name": "Li again", "email": "li@acme.example", "allow_duplicate": true}),
        ),
    )
    .await;
    assert_eq!(status, 201, "{allowed}");
    let (status, _, problem) = send(
        &app,
        request(
            "PATCH",
            &format!(
                "/api/v1/customers/{}/contacts/{}",
                ids[1],
                allowed["id"].as_str().unwrap_or_default()
            ),
            Some(&token),
            Some(json!({"allow_duplicate": true})),
        ),
    )
    .await;
    assert_eq!(status, 422);
    assert_eq!(
        problem["errors"],
        json!([{"pointer": "/allow_duplicate", "code": "read_only", "message": "only for create"}])
    );
}

async fn the_flat_contact_list_filters(db: TestDatabase) {
    seed_user(&db, "rep@example.com", Role::Rep);
    let app = test::init_service(crm_http::app(api_state(&db))).await;
    let (token, _) = login(&app, "rep@example.com").await;
    let (_, _, customer) = send(
        &app,
        request(
            "POST",
            "/api/v1/customers",
            Some(&token),
            Some(json!({"kind": "company", "name": "Acme"})),
        ),
    )
    .await;
    let id = customer["id"].as_str().unwrap_or_default();
    let (status, _, li) = send(
        &app,
        request(
            "POST",
            &format!("/api/v1/customers/{id}/contacts"),
            Some(&token),
            Some(
                json!({"name": "李娜", "phones": ["138 1234 5678"], "email": "Li.Na@acme.example"}),
            ),
        ),
    )
    .await;
    assert_eq!(status, 201, "{li}");
    let get = |uri: &str| request("GET", uri, Some(&token), None);
    for uri in [
        "/api/v1/contacts?phone=%2B86%20138-1234-5678",
        "/api/v1/contacts?email=LI.NA%40acme.example",
        "/api/v1/contacts?q=%E6%9D%8E",
    ] {
        let (status, _, page) = send(&app, get(uri)).await;
        assert_eq!(status, 200, "{uri}: {page}");
        assert_eq!(page["items"], json!([li]), "{uri}");
    }
    let (_, _, none) = send(&app, get("/api/v1/contacts?phone=13900001111")).await;
    assert_eq!(none["items"], json!([]));
    for uri in ["/api/v1/contacts?phone=12", "/api/v1/contacts?email=nope"] {
        let (status, _, page) = send(&app, get(uri)).await;
        assert_eq!(
            (status, &page["items"]),
            (200, &json!([])),
            "{uri}: impossible values match nothing"
        );
    }
    let (status, _, problem) = send(&app, get("/api/v1/contacts?email=a%00b")).await;
    assert_eq!(
        (status, problem["errors"][0]["pointer"].as_str()),
        (400, Some("/query/email"))
    );
    let long = format!("/api/v1/contacts?q={}", "x".repeat(201));
    let (status, _, problem) = send(&app, get(&long)).await;
    assert_eq!(
        (status, problem["errors"][0]["pointer"].as_str()),
        (400, Some("/query/q"))
    );
}

backend_tests!(async actix:
    contacts_of_a_customer,
    the_flat_contact_list_filters,
    contact_duplicates_through_the_api,
    bad_contacts_are_refused_with_every_problem,
    the_overview_shows_the_customer_and_its_contacts,
);
