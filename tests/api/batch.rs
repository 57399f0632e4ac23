//! `POST /customers/batch`: each item checked like a single create, a result per item, upserts
//! by email or phone, all-or-nothing on request, and nothing half-written.

use actix_web::test;
use crm_domain::identity::Role;
use crm_persistence::test_support::TestDatabase;
use crm_tests::{api_state, backend_tests, header, login, pointers, request, seed_user, send};
use serde_json::{json, Value};

fn batch(token: &str, body: Value) -> test::TestRequest {
    request("POST", "/api/v1/customers/batch", Some(token), Some(body))
}

macro_rules! count {
    ($app:expr, $token:expr) => {{
        let (_, _, list) = send(
            $app,
            request("GET", "/api/v1/customers?limit=200", Some($token), None),
        )
        .await;
        list["items"].as_array().map_or(0, Vec::len)
    }};
}

async fn each_item_is_created_or_refused_like_a_single_create(db: TestDatabase) {
    seed_user(&db, "admin@example.com", Role::Admin);
    let rep_id = seed_user(&db, "rep@example.com", Role::Rep);
    let other_id = seed_user(&db, "other@example.com", Role::Rep);
    let app = test::init_service(crm_http::app(api_state(&db))).await;
    let (admin, _) = login(&app, "admin@example.com").await;
    let (rep, _) = login(&app, "rep@example.com").await;
    let (_, _, existing) = send(
        &app,
        request(
            "POST",
            "/api/v1/customers",
            Some(&rep),
            Some(json!({
            "kind": "company", "name": "Existing", "email": "buy@existing.example"})),
        ),
    )
    .await;
    let (status, _, answer) = send(
        &app,
        batch(
            &rep,
            json!({"items": [
                {"kind": "company", "name": "星辰科技", "phone": "138 1234 5678",
                 "contact": {"name": "王芳", "title": "采购经理"}},
                {"kind": "robot", "name": " ", "email": "nope"},
                {"kind": "company", "name": "Existing again", "email": "BUY@existing.example"},
                {"kind": "company", "name": "Existing twin", "email": "buy@existing.example",
                 "allow_duplicate": true, "owner_id": null},
                {"kind": "individual", "name": "Not mine to give", "owner_id": other_id},
                "not an object"
            ]}),
        ),
    )
    .await;
    assert_eq!(status, 207, "{answer}");
    let results = answer["results"].as_array().cloned().unwrap_or_default();
    let statuses: Vec<i64> = results
        .iter()
        .filter_map(|r| r["status"].as_i64())
        .collect();
    assert_eq!(statuses, [201, 422, 409, 201, 422, 422]);
    let first = &results[0]["customer"];
    assert_eq!(first["name"], "星辰科技");
    assert_eq!(
        first["owner_id"],
        rep_id.as_str(),
        "a person's customers are theirs"
    );
    assert_eq!(results[0]["outcome"], "created");
    let invalid: Vec<&str> = results[1]["errors"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|e| e["pointer"].as_str())
        .collect();
    assert_eq!(
        invalid,
        ["/items/1/kind", "/items/1/name", "/items/1/email"]
    );
    assert_eq!(results[2]["code"], "duplicate_customer");
    assert_eq!(results[2]["existing_id"], existing["id"]);
    assert_eq!(results[3]["customer"]["owner_id"], Value::Null);
    assert_eq!(results[4]["errors"][0]["pointer"], "/items/4/owner_id");
    assert_eq!(results[5]["errors"][0]["code"], "invalid_type");
    // The first contact came with its customer.
    let id = first["id"].as_str().unwrap_or_default();
    let (_, _, contacts) = send(
        &app,
        request(
            "GET",
            &format!("/api/v1/customers/{id}/contacts"),
            Some(&rep),
            None,
        ),
    )
    .await;
    assert_eq!(contacts["items"][0]["name"], "王芳");
    assert_eq!(contacts["items"][0]["phones"][0]["e164"], "+8613812345678");
    assert_eq!(count!(&app, &admin), 3, "existing + two created");
}

async fn custom_fields_are_checked_per_item(db: TestDatabase) {
    seed_user(&db, "admin@example.com", Role::Admin);
    let app = test::init_service(crm_http::app(api_state(&db))).await;
    let (admin, _) = login(&app, "admin@example.com").await;
    for definition in [
        json!({"entity": "customer", "key": "budget", "label": "Budget", "type": "integer",
            "rules": {"min": 0}}),
        json!({"entity": "customer", "key": "region", "label": "Region", "type": "text",
            "required": true}),
    ] {
        let (status, _, field) = send(
            &app,
            request(
                "POST",
                "/api/v1/custom-fields",
                Some(&admin),
                Some(definition),
            ),
        )
        .await;
        assert_eq!(status, 201, "{field}");
    }
    let (status, _, answer) = send(
        &app,
        batch(&admin, json!({"items": [
            {"kind": "company", "name": "Fine", "custom_fields": {"budget": 10, "region": "north"}},
            {"kind": "company", "name": "Bad", "custom_fields": {"budget": -1, "colour": "red"}}
        ]})),
    )
    .await;
    assert_eq!(status, 207, "{answer}");
    assert_eq!(
        answer["results"][0]["customer"]["custom_fields"],
        json!({"budget": 10, "region": "north"})
    );
    let mut bad: Vec<(&str, &str)> = answer["results"][1]["errors"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|e| Some((e["pointer"].as_str()?, e["code"].as_str()?)))
        .collect();
    bad.sort();
    assert_eq!(
        bad,
        [
            ("/items/1/custom_fields/budget", "too_small"),
            ("/items/1/custom_fields/colour", "unknown_field"),
            ("/items/1/custom_fields/region", "required"),
        ]
    );
    // A first contact is always the primary one, covered by the item's `allow_duplicate`,
    // and takes no custom values here: each is refused, not ignored.
    let (status, _, answer) = send(
        &app,
        batch(
            &admin,
            json!({"items": [
                {"kind": "company", "name": "Contact", "custom_fields": {"region": "east"},
                 "contact": {"name": "Wang", "primary": false, "allow_duplicate": true,
                             "custom_fields": {"badge": "B-1"}}}
            ]}),
        ),
    )
    .await;
    assert_eq!(status, 207, "{answer}");
    let refused: Vec<(&str, &str)> = answer["results"][0]["errors"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|e| Some((e["pointer"].as_str()?, e["code"].as_str()?)))
        .collect();
    assert_eq!(
        refused,
        [
            ("/items/0/contact/primary", "invalid"),
            ("/items/0/contact/allow_duplicate", "invalid"),
            ("/items/0/contact/custom_fields", "unsupported"),
        ]
    );
    assert_eq!(count!(&app, &admin), 1);
    assert_eq!(db.count("SELECT COUNT(*) AS n FROM contacts"), 0);
}

async fn external_ids_identify_customers(db: TestDatabase) {
    seed_user(&db, "admin@example.com", Role::Admin);
    let app = test::init_service(crm_http::app(api_state(&db))).await;
    let (admin, _) = login(&app, "admin@example.com").await;
    let create = |body: Value| request("POST", "/api/v1/customers", Some(&admin), Some(body));
    let (status, _, first) = send(
        &app,
        create(json!({"kind": "company", "name": "Acme", "external_id": "ERP-1001"})),
    )
    .await;
    assert_eq!(status, 201, "{first}");
    assert_eq!(first["external_id"], "ERP-1001");
    let (status, _, problem) = send(
        &app,
        create(json!({"kind": "company", "name": "Other", "external_id": "ERP-1001"})),
    )
    .await;
    assert_eq!(status, 409, "{problem}");
    assert_eq!(problem["existing_id"], first["id"]);
    let (status, _, problem) = send(
        &app,
        create(json!({"kind": "company", "name": "Other", "external_id": " ERP-1002"})),
    )
    .await;
    assert_eq!(status, 422, "{problem}");
    assert_eq!(pointers(&problem), ["/external_id"]);
    // Upserts and imports find the customer by it.
    let (_, _, answer) = send(
        &app,
        batch(
            &admin,
            json!({"mode": "upsert", "match_on": ["external_id"], "items": [
            {"kind": "company", "name": "Acme Group", "external_id": "ERP-1001"}]}),
        ),
    )
    .await;
    assert_eq!(answer["results"][0]["status"], 200, "{answer}");
    assert_eq!(answer["results"][0]["customer"]["id"], first["id"]);
    assert_eq!(answer["results"][0]["customer"]["name"], "Acme Group");
    let (status, _, job) = send(
        &app,
        test::TestRequest::post()
            .uri("/api/v1/imports?match_on=external_id&on_match=overwrite")
            .insert_header(("Authorization", format!("Bearer {admin}")))
            .insert_header(("Content-Type", "text/csv"))
            .set_payload(
                "Company,External ID,Industry\nAcme AG,ERP-1001,Retail\nNew Co,ERP-1002,\n",
            ),
    )
    .await;
    assert_eq!(status, 202, "{job}");
    let uri = format!("/api/v1/imports/{}", job["id"].as_str().unwrap_or_default());
    let mut job = job;
    for _ in 0..500 {
        let (_, _, now) = send(&app, request("GET", &uri, Some(&admin), None)).await;
        job = now;
        if job["status"] == "completed" {
            break;
        }
        actix_web::rt::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    assert_eq!(
        job["counts"],
        json!({"created": 1, "updated": 1, "skipped": 0, "failed": 0}),
        "{job}"
    );
    let (_, _, read) = send(
        &app,
        request(
            "GET",
            &format!(
                "/api/v1/customers/{}",
                first["id"].as_str().unwrap_or_default()
            ),
            Some(&admin),
            None,
        ),
    )
    .await;
    assert_eq!(read["name"], "Acme AG");
    assert_eq!(read["industry"], "Retail");
    assert_eq!(count!(&app, &admin), 2);
}

async fn upserts_change_the_matching_customer(db: TestDatabase) {
    seed_user(&db, "admin@example.com", Role::Admin);
    let app = test::init_service(crm_http::app(api_state(&db))).await;
    let (admin, _) = login(&app, "admin@example.com").await;
    let (_, _, existing) = send(
        &app,
        request(
            "POST",
            "/api/v1/customers",
            Some(&admin),
            Some(json!({
            "kind": "company", "name": "Acme", "phone": "13900001111"})),
        ),
    )
    .await;
    let items = json!([
        {"kind": "company", "name": "Acme Group", "phone": "+86 139 0000 1111", "industry": "Retail"},
        {"kind": "company", "name": "Brand new", "email": "new@brand.example"}
    ]);
    let (status, _, answer) = send(
        &app,
        batch(
            &admin,
            json!({"mode": "upsert", "on_match": "update_empty_fields", "items": items}),
        ),
    )
    .await;
    assert_eq!(status, 207, "{answer}");
    assert_eq!(answer["results"][0]["status"], 200);
    assert_eq!(answer["results"][0]["outcome"], "updated");
    assert_eq!(answer["results"][0]["customer"]["id"], existing["id"]);
    assert_eq!(
        answer["results"][0]["customer"]["name"], "Acme",
        "set fields stay"
    );
    assert_eq!(answer["results"][0]["customer"]["industry"], "Retail");
    assert_eq!(answer["results"][1]["status"], 201);
    // Overwrite: the item's values win; the same again changes nothing.
    let (_, _, answer) = send(
        &app,
        batch(&admin, json!({"mode": "upsert", "items": items})),
    )
    .await;
    assert_eq!(answer["results"][0]["customer"]["name"], "Acme Group");
    assert_eq!(answer["results"][1]["outcome"], "unchanged");
    let (_, _, answer) = send(
        &app,
        batch(&admin, json!({"mode": "upsert", "items": items})),
    )
    .await;
    assert_eq!(answer["results"][0]["outcome"], "unchanged");
    assert_eq!(count!(&app, &admin), 2);
}

async fn atomic_batches_write_all_or_nothing(db: TestDatabase) {
    seed_user(&db, "admin@example.com", Role::Admin);
    let app = test::init_service(crm_http::app(api_state(&db))).await;
    let (admin, _) = login(&app, "admin@example.com").await;
    let (status, _, problem) = send(
        &app,
        batch(
            &admin,
            json!({"atomic": true, "items": [
                {"kind": "company", "name": "Fine"},
                {"kind": "company", "name": "", "phone": "12345"}
            ]}),
        ),
    )
    .await;
    assert_eq!(status, 422, "{problem}");
    assert_eq!(pointers(&problem), ["/items/1/name", "/items/1/phone"]);
    assert_eq!(count!(&app, &admin), 0);
    // A refusal only the database can see (a duplicate of the first item) undoes the first.
    let (status, _, problem) = send(
        &app,
        batch(
            &admin,
            json!({"atomic": true, "items": [
                {"kind": "company", "name": "One", "email": "same@x.example"},
                {"kind": "company", "name": "Two", "email": "same@x.example"}
            ]}),
        ),
    )
    .await;
    assert_eq!(status, 422, "{problem}");
    assert_eq!(pointers(&problem), ["/items/1"]);
    assert_eq!(problem["errors"][0]["code"], "duplicate_customer");
    assert_eq!(count!(&app, &admin), 0);
    // Sizes.
    for items in [
        json!([]),
        json!(vec![json!({"kind": "company", "name": "x"}); 501]),
    ] {
        let (status, _, problem) = send(&app, batch(&admin, json!({"items": items}))).await;
        assert_eq!(status, 422, "{problem}");
        assert_eq!(pointers(&problem), ["/items"]);
    }
    assert_eq!(count!(&app, &admin), 0);
    // A retry with the same key replays the answer instead of creating again.
    let body = json!({"items": [{"kind": "company", "name": "Once"}]});
    let keyed = || batch(&admin, body.clone()).insert_header(("Idempotency-Key", "batch-1"));
    let (status, _, first) = send(&app, keyed()).await;
    assert_eq!(status, 207);
    let (status, headers, again) = send(&app, keyed()).await;
    assert_eq!(status, 207);
    assert_eq!(header(&headers, "idempotent-replayed"), "true");
    assert_eq!(again, first);
    assert_eq!(count!(&app, &admin), 1);
}

backend_tests!(async actix:
    each_item_is_created_or_refused_like_a_single_create,
    custom_fields_are_checked_per_item,
    external_ids_identify_customers,
    upserts_change_the_matching_customer,
    atomic_batches_write_all_or_nothing,
);
