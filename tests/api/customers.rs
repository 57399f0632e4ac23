//! Customers through the API: exact bodies, every bad field at once, duplicates, conditional
//! merge-patch updates, the pool and the history.

use actix_web::test;
use crm_domain::identity::Role;
use crm_persistence::test_support::TestDatabase;
use crm_tests::{api_state, backend_tests, header, login, pointers, request, seed_user, send};
use serde_json::{json, Value};

async fn create_read_and_list_a_customer(db: TestDatabase) {
    let rep = seed_user(&db, "rep@example.com", Role::Rep);
    let app = test::init_service(crm_http::app(api_state(&db))).await;
    let (token, _) = login(&app, "rep@example.com").await;
    let body = json!({
        "kind": "company", "name": " 上海星辰科技 ", "phone": "138-1234-5678", "email": " Buyer@XingChen.example.cn ",
        "website": "https://xingchen.example.cn", "tags": ["vip", "vip", "east"], "lead_source": "trade_show"
    });
    let (status, headers, customer) = send(
        &app,
        request("POST", "/api/v1/customers", Some(&token), Some(body)),
    )
    .await;
    assert_eq!(status, 201, "{customer}");
    let id = customer["id"].as_str().unwrap_or_default().to_string();
    assert_eq!(
        header(&headers, "location"),
        format!("/api/v1/customers/{id}")
    );
    assert_eq!(header(&headers, "etag"), "\"1\"");
    assert_eq!(header(&headers, "cache-control"), "no-store");
    let mut expected = json!({
        "id": id, "kind": "company", "name": "上海星辰科技", "legal_name": null, "industry": null,
        "company_size": null, "website": "https://xingchen.example.cn", "address": null, "tax_id": null,
        "gender": null, "birthday": null, "phone": "138-1234-5678", "phone_e164": "+8613812345678",
        "email": "Buyer@XingChen.example.cn", "status": "lead", "classification": null,
        "lead_source": "trade_show", "tags": ["vip", "east"], "external_id": null, "custom_fields": {},
        "owner_id": rep, "score": 0,
        "last_activity_at": null, "next_follow_up_at": null, "deleted_at": null
    });
    expected["created_at"] = customer["created_at"].clone();
    expected["updated_at"] = customer["updated_at"].clone();
    assert_eq!(customer, expected);
    let (status, _, read) = send(
        &app,
        request(
            "GET",
            &format!("/api/v1/customers/{id}"),
            Some(&token),
            None,
        ),
    )
    .await;
    assert_eq!((status, read), (200, expected.clone()));
    let (_, _, page) = send(
        &app,
        request(
            "GET",
            "/api/v1/customers?kind=company&status=lead&pool=false",
            Some(&token),
            None,
        ),
    )
    .await;
    assert_eq!(page["items"], json!([expected]));
    let (_, _, empty) = send(
        &app,
        request(
            "GET",
            "/api/v1/customers?kind=individual",
            Some(&token),
            None,
        ),
    )
    .await;
    assert_eq!(empty["items"], json!([]));
    let (status, _, _) = send(
        &app,
        request("GET", "/api/v1/customers?color=red", Some(&token), None),
    )
    .await;
    assert_eq!(status, 400, "unknown filters are refused");
    let (_, _, found) = send(
        &app,
        request(
            "GET",
            "/api/v1/customers?q=%E6%98%9F%E8%BE%B0&tag=VIP&lead_source=trade_show",
            Some(&token),
            None,
        ),
    )
    .await;
    assert_eq!(found["items"].as_array().map(Vec::len), Some(1), "{found}");
    let (_, _, none) = send(
        &app,
        request(
            "GET",
            "/api/v1/customers?created_after=2999-01-01T00:00:00Z",
            Some(&token),
            None,
        ),
    )
    .await;
    assert_eq!(none["items"], json!([]));
    let (status, _, problem) = send(
        &app,
        request(
            "GET",
            &format!("/api/v1/customers?q={}", "x".repeat(201)),
            Some(&token),
            None,
        ),
    )
    .await;
    assert_eq!(
        (status, problem["errors"][0]["pointer"].as_str()),
        (400, Some("/query/q"))
    );
}

async fn every_bad_field_is_listed_and_nothing_is_written(db: TestDatabase) {
    seed_user(&db, "rep@example.com", Role::Rep);
    let other = seed_user(&db, "other@example.com", Role::Rep);
    let app = test::init_service(crm_http::app(api_state(&db))).await;
    let (token, _) = login(&app, "rep@example.com").await;
    let body = json!({
        "name": "", "phone": "12345", "email": "not-mail", "website": "ftp://x", "birthday": "2999-01-01",
        "tags": ["", "x"], "industry": "i".repeat(101)
    });
    let (status, _, problem) = send(
        &app,
        request("POST", "/api/v1/customers", Some(&token), Some(body)),
    )
    .await;
    assert_eq!(status, 422);
    let pointers: Vec<&str> = problem["errors"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|e| e["pointer"].as_str())
        .collect();
    assert_eq!(
        pointers,
        [
            "/kind",
            "/name",
            "/industry",
            "/website",
            "/birthday",
            "/phone",
            "/email",
            "/tags/0"
        ]
    );
    let (status, _, problem) = send(
        &app,
        request(
            "POST",
            "/api/v1/customers",
            Some(&token),
            Some(json!({"kind": "company", "name": "X", "owner_id": other})),
        ),
    )
    .await;
    assert_eq!(
        (status, problem["errors"][0]["pointer"].as_str()),
        (422, Some("/owner_id")),
        "a rep cannot create for someone else"
    );
    let (status, _, problem) = send(
        &app,
        request(
            "POST",
            "/api/v1/customers",
            Some(&token),
            Some(json!({"kind": "company", "name": "X", "score": 99})),
        ),
    )
    .await;
    assert_eq!(
        (status, problem["errors"][0]["code"].as_str()),
        (422, Some("unknown_field"))
    );
    let (_, _, page) = send(
        &app,
        request("GET", "/api/v1/customers", Some(&token), None),
    )
    .await;
    assert_eq!(page["items"], json!([]));
}

async fn duplicates_are_refused_unless_allowed(db: TestDatabase) {
    seed_user(&db, "a@example.com", Role::Rep);
    seed_user(&db, "b@example.com", Role::Rep);
    let app = test::init_service(crm_http::app(api_state(&db))).await;
    let (a, _) = login(&app, "a@example.com").await;
    let (b, _) = login(&app, "b@example.com").await;
    let create =
        |token: &str, body: Value| request("POST", "/api/v1/customers", Some(token), Some(body));
    let (_, _, first) = send(
        &app,
        create(
            &a,
            json!({"kind": "individual", "name": "Wang", "phone": "13812345678"}),
        ),
    )
    .await;
    let (status, _, problem) = send(
        &app,
        create(
            &a,
            json!({"kind": "individual", "name": "Wang 2", "phone": "+86 138 1234 5678"}),
        ),
    )
    .await;
    assert_eq!((status, problem["code"].as_str()), (409, Some("duplicate")));
    assert_eq!(problem["existing_id"], first["id"]);
    let (status, _, problem) = send(
        &app,
        create(
            &b,
            json!({"kind": "individual", "name": "Wang 3", "phone": "0086 13812345678"}),
        ),
    )
    .await;
    assert_eq!(status, 409);
    assert_eq!(
        problem["existing_id"],
        Value::Null,
        "b may not learn which customer it is"
    );
    assert!(!problem
        .to_string()
        .contains(first["id"].as_str().unwrap_or("?")));
    let (status, _, _) = send(&app, create(&b, json!({"kind": "individual", "name": "Wang 3", "phone": "13812345678", "allow_duplicate": true}))).await;
    assert_eq!(status, 201);
}

async fn merge_patch_with_if_match_and_history(db: TestDatabase) {
    let rep = seed_user(&db, "rep@example.com", Role::Rep);
    let app = test::init_service(crm_http::app(api_state(&db))).await;
    let (token, _) = login(&app, "rep@example.com").await;
    let (_, _, created) = send(
        &app,
        request(
            "POST",
            "/api/v1/customers",
            Some(&token),
            Some(json!({"kind": "company", "name": "Acme", "industry": "Retail"})),
        ),
    )
    .await;
    let uri = format!(
        "/api/v1/customers/{}",
        created["id"].as_str().unwrap_or_default()
    );
    let patch = |etag: &str, body: Value| {
        request("PATCH", &uri, Some(&token), Some(body))
            .insert_header(("If-Match", etag.to_string()))
    };
    let (status, headers, updated) = send(
        &app,
        patch("\"1\"", json!({"industry": null, "status": "prospect"})),
    )
    .await;
    assert_eq!((status, header(&headers, "etag")), (200, "\"2\""));
    assert_eq!(
        (
            updated["industry"].clone(),
            updated["status"].clone(),
            updated["name"].clone()
        ),
        (Value::Null, json!("prospect"), json!("Acme"))
    );
    let (status, headers, _) = send(&app, patch("\"1\"", json!({"name": "Stale"}))).await;
    assert_eq!((status, header(&headers, "etag")), (412, "\"2\""));
    let (status, _, problem) = send(
        &app,
        patch("\"2\"", json!({"owner_id": null, "name": null})),
    )
    .await;
    assert_eq!(status, 422);
    assert_eq!(problem["errors"].as_array().map(Vec::len), Some(2));
    let (_, _, history) = send(
        &app,
        request("GET", &format!("{uri}/history"), Some(&token), None),
    )
    .await;
    assert_eq!(history["items"][0]["action"], "updated");
    assert_eq!(history["items"][0]["actor_id"], rep.as_str());
    assert_eq!(
        history["items"][0]["changes"],
        json!([{"field": "industry", "old": "Retail", "new": null}, {"field": "status", "old": "lead", "new": "prospect"}])
    );
    assert_eq!(history["items"][1]["action"], "created");
}

async fn the_pool_through_the_api(db: TestDatabase) {
    let rep = seed_user(&db, "rep@example.com", Role::Rep);
    seed_user(&db, "admin@example.com", Role::Admin);
    let app = test::init_service(crm_http::app(api_state(&db))).await;
    let (token, _) = login(&app, "rep@example.com").await;
    let (admin, _) = login(&app, "admin@example.com").await;
    let (_, _, pooled) = send(
        &app,
        request(
            "POST",
            "/api/v1/customers",
            Some(&admin),
            Some(json!({"kind": "company", "name": "Pooled", "owner_id": null})),
        ),
    )
    .await;
    assert_eq!(pooled["owner_id"], Value::Null);
    let uri = format!(
        "/api/v1/customers/{}",
        pooled["id"].as_str().unwrap_or_default()
    );
    let (_, _, pool) = send(
        &app,
        request("GET", "/api/v1/customers?pool=true", Some(&token), None),
    )
    .await;
    assert_eq!(pool["items"][0]["id"], pooled["id"]);
    let (status, _, claimed) = send(
        &app,
        request("POST", &format!("{uri}/claim"), Some(&token), None),
    )
    .await;
    assert_eq!(
        (status, claimed["owner_id"].as_str()),
        (200, Some(rep.as_str()))
    );
    let (status, _, problem) = send(
        &app,
        request("POST", &format!("{uri}/claim"), Some(&token), None),
    )
    .await;
    assert_eq!(
        (status, problem["code"].as_str()),
        (409, Some("not_in_pool"))
    );
    let (status, _, released) = send(
        &app,
        request("POST", &format!("{uri}/release"), Some(&token), None),
    )
    .await;
    assert_eq!((status, released["owner_id"].clone()), (200, Value::Null));
    let (status, _, _) = send(&app, request("DELETE", &uri, Some(&admin), None)).await;
    assert_eq!(status, 204);
    let (status, _, _) = send(&app, request("GET", &uri, Some(&admin), None)).await;
    assert_eq!(status, 404);
    let (status, _, _) = send(
        &app,
        request(
            "GET",
            "/api/v1/customers?include_deleted=true",
            Some(&token),
            None,
        ),
    )
    .await;
    assert_eq!(status, 403, "only admins list deleted customers");
    let (_, _, listed) = send(
        &app,
        request(
            "GET",
            "/api/v1/customers?include_deleted=true",
            Some(&admin),
            None,
        ),
    )
    .await;
    assert!(listed["items"][0]["deleted_at"].is_string(), "{listed}");
    let (status, _, restored) = send(
        &app,
        request("POST", &format!("{uri}/restore"), Some(&admin), None),
    )
    .await;
    assert_eq!((status, restored["deleted_at"].clone()), (200, Value::Null));
    let (status, _, _) = send(&app, request("GET", &uri, Some(&token), None)).await;
    assert_eq!(status, 200, "visible again");
    let (_, _, history) = send(
        &app,
        request("GET", &format!("{uri}/history"), Some(&admin), None),
    )
    .await;
    let actions: Vec<&str> = history["items"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|e| e["action"].as_str())
        .collect();
    assert_eq!(
        actions,
        ["restored", "deleted", "released", "claimed", "created"]
    );
}

async fn sorted_lists_page_with_their_own_cursors(db: TestDatabase) {
    seed_user(&db, "rep@example.com", Role::Rep);
    let app = test::init_service(crm_http::app(api_state(&db))).await;
    let (token, _) = login(&app, "rep@example.com").await;
    for name in ["beta", "Alpha", "delta", "Charlie"] {
        let (status, _, body) = send(
            &app,
            request(
                "POST",
                "/api/v1/customers",
                Some(&token),
                Some(json!({"kind": "individual", "name": name})),
            ),
        )
        .await;
        assert_eq!(status, 201, "{body}");
    }
    let walk = |sort: &'static str| {
        let app = &app;
        let token = token.clone();
        async move {
            let mut names = Vec::new();
            let mut uri = format!("/api/v1/customers?limit=3&sort={sort}");
            loop {
                let (status, _, page) = send(app, request("GET", &uri, Some(&token), None)).await;
                assert_eq!(status, 200, "{page}");
                for item in page["items"].as_array().cloned().unwrap_or_default() {
                    names.push(item["name"].as_str().unwrap_or_default().to_string());
                }
                match page["next_cursor"].as_str() {
                    Some(next) => {
                        uri = format!("/api/v1/customers?limit=3&sort={sort}&cursor={next}")
                    }
                    None => return names,
                }
            }
        }
    };
    assert_eq!(walk("name").await, ["Alpha", "beta", "Charlie", "delta"]);
    assert_eq!(walk("-name").await, ["delta", "Charlie", "beta", "Alpha"]);
    assert_eq!(
        walk("-created_at").await,
        ["Charlie", "delta", "Alpha", "beta"]
    );
    let (_, _, first) = send(
        &app,
        request(
            "GET",
            "/api/v1/customers?limit=1&sort=name",
            Some(&token),
            None,
        ),
    )
    .await;
    let cursor = first["next_cursor"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    let (status, headers, problem) = send(
        &app,
        request(
            "GET",
            &format!("/api/v1/customers?limit=1&sort=score&cursor={cursor}"),
            Some(&token),
            None,
        ),
    )
    .await;
    assert_eq!(status, 400);
    assert_eq!(header(&headers, "content-type"), "application/problem+json");
    assert_eq!(
        problem["errors"],
        json!([{"pointer": "/query/cursor", "code": "invalid",
            "message": "not a cursor this API issued for this sort order"}])
    );
    let (status, _, problem) = send(
        &app,
        request("GET", "/api/v1/customers?sort=owner", Some(&token), None),
    )
    .await;
    assert_eq!(status, 400, "{problem}");
}

async fn a_customer_is_created_with_its_first_contact(db: TestDatabase) {
    seed_user(&db, "rep@example.com", Role::Rep);
    let app = test::init_service(crm_http::app(api_state(&db))).await;
    let (token, _) = login(&app, "rep@example.com").await;
    let body = json!({
        "kind": "company", "name": "星辰科技", "phone": "138-1234-5678", "email": "office@xingchen.example.cn",
        "contact": {"name": " 王芳 ", "title": "采购经理", "email": "Wang.Fang@XingChen.example.cn"}
    });
    let (status, headers, created) = send(
        &app,
        request("POST", "/api/v1/customers", Some(&token), Some(body)),
    )
    .await;
    assert_eq!(status, 201, "{created}");
    let id = created["id"].as_str().unwrap_or_default().to_string();
    assert_eq!(
        header(&headers, "location"),
        format!("/api/v1/customers/{id}")
    );
    assert_eq!(header(&headers, "etag"), "\"1\"");
    let contact = created["contact"].clone();
    let contact_id = contact["id"].as_str().unwrap_or_default().to_string();
    let mut expected = json!({
        "id": contact_id, "customer_id": id, "name": "王芳", "title": "采购经理",
        "phones": [{"number": "138-1234-5678", "e164": "+8613812345678"}],
        "email": "Wang.Fang@XingChen.example.cn", "wechat_id": null,
        "primary": true, "notes": null, "custom_fields": {}
    });
    expected["created_at"] = contact["created_at"].clone();
    expected["updated_at"] = contact["updated_at"].clone();
    assert_eq!(
        contact, expected,
        "the contact has the customer's phone, its own email"
    );
    // The customer part of the answer is the customer as read.
    let (_, _, read) = send(
        &app,
        request(
            "GET",
            &format!("/api/v1/customers/{id}"),
            Some(&token),
            None,
        ),
    )
    .await;
    let mut without_contact = created.clone();
    if let Some(object) = without_contact.as_object_mut() {
        object.remove("contact");
    }
    assert_eq!(without_contact, read);
    let (_, _, contacts) = send(
        &app,
        request(
            "GET",
            &format!("/api/v1/customers/{id}/contacts"),
            Some(&token),
            None,
        ),
    )
    .await;
    assert_eq!(contacts["items"].as_array().map(Vec::len), Some(1));
    assert_eq!(contacts["items"][0]["id"], json!(contact_id));
    assert_eq!(contacts["items"][0]["primary"], json!(true));
    let (_, _, history) = send(
        &app,
        request(
            "GET",
            &format!("/api/v1/customers/{id}/history"),
            Some(&token),
            None,
        ),
    )
    .await;
    let actions: Vec<&str> = history["items"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|e| e["action"].as_str())
        .collect();
    assert_eq!(actions, ["contact_added", "created"]);
    // Without `contact` the answer has no `contact` member.
    let (status, _, plain) = send(
        &app,
        request(
            "POST",
            "/api/v1/customers",
            Some(&token),
            Some(json!({"kind": "individual", "name": "Li", "contact": null})),
        ),
    )
    .await;
    assert_eq!(status, 201);
    assert_eq!(plain.get("contact"), None);
    assert_eq!(db.count("SELECT COUNT(*) AS n FROM contacts"), 1);
    assert_eq!(db.count("SELECT COUNT(*) AS n FROM contact_phones"), 1);
}

async fn a_first_contact_is_checked_with_its_customer(db: TestDatabase) {
    seed_user(&db, "admin@example.com", Role::Admin);
    let app = test::init_service(crm_http::app(api_state(&db))).await;
    let (token, _) = login(&app, "admin@example.com").await;
    let (status, _, field) = send(
        &app,
        request(
            "POST",
            "/api/v1/custom-fields",
            Some(&token),
            Some(
                json!({"entity": "contact", "key": "badge", "label": "Badge", "type": "text",
                "unique": true}),
            ),
        ),
    )
    .await;
    assert_eq!(status, 201, "{field}");
    let create = |body: Value| request("POST", "/api/v1/customers", Some(&token), Some(body));
    // Every problem of the customer and of its contact at once.
    let (status, _, problem) = send(
        &app,
        create(json!({"kind": "company", "name": "", "contact": {
            "name": "", "email": "nope", "primary": false, "allow_duplicate": true,
            "custom_fields": {"badge": 7}}})),
    )
    .await;
    assert_eq!(status, 422, "{problem}");
    assert_eq!(
        pointers(&problem),
        [
            "/name",
            "/contact/primary",
            "/contact/allow_duplicate",
            "/contact/name",
            "/contact/email",
            "/contact/custom_fields/badge"
        ]
    );
    let (status, _, problem) = send(
        &app,
        create(json!({"kind": "company", "name": "X", "contact": {"name": "Y", "phone": "1"}})),
    )
    .await;
    assert_eq!(
        (status, problem["errors"][0]["pointer"].as_str()),
        (422, Some("/contact/phone")),
        "{problem}"
    );
    // A contact whose email another customer's contact has is a duplicate: nothing is written.
    let (status, _, first) = send(
        &app,
        create(json!({"kind": "company", "name": "A", "contact": {"name": "Wang", "email": "wang@example.com",
            "custom_fields": {"badge": "B-1"}}})),
    )
    .await;
    assert_eq!(status, 201, "{first}");
    let (status, _, problem) = send(
        &app,
        create(json!({"kind": "company", "name": "B", "contact": {"name": "Wang", "email": "WANG@example.com"}})),
    )
    .await;
    assert_eq!((status, problem["code"].as_str()), (409, Some("duplicate")));
    assert_eq!(problem["existing_id"], first["id"]);
    // A unique custom value of the contact taken: neither the customer nor the contact stays.
    let (status, _, problem) = send(
        &app,
        create(
            json!({"kind": "company", "name": "C", "contact": {"name": "Li",
            "custom_fields": {"badge": "B-1"}}}),
        ),
    )
    .await;
    assert_eq!(
        (status, problem["errors"][0]["pointer"].as_str()),
        (422, Some("/contact/custom_fields/badge")),
        "{problem}"
    );
    assert_eq!(db.count("SELECT COUNT(*) AS n FROM customers"), 1);
    assert_eq!(db.count("SELECT COUNT(*) AS n FROM contacts"), 1);
    assert_eq!(db.count("SELECT COUNT(*) AS n FROM customer_events"), 2);
    // `contact` is for create only.
    let id = first["id"].as_str().unwrap_or_default();
    let (status, _, problem) = send(
        &app,
        request(
            "PATCH",
            &format!("/api/v1/customers/{id}"),
            Some(&token),
            Some(json!({"contact": {"name": "Z"}})),
        )
        .insert_header(("If-Match", "\"1\"")),
    )
    .await;
    assert_eq!(
        (
            status,
            problem["errors"][0]["pointer"].as_str(),
            problem["errors"][0]["code"].as_str()
        ),
        (422, Some("/contact"), Some("read_only")),
        "{problem}"
    );
}

/// A customer and its first contact are each checked against their own entity's custom fields,
/// read together: the same key may mean different fields on each.
async fn a_first_contact_has_its_own_custom_fields(db: TestDatabase) {
    seed_user(&db, "admin@example.com", Role::Admin);
    let app = test::init_service(crm_http::app(api_state(&db))).await;
    let (token, _) = login(&app, "admin@example.com").await;
    for (entity, field_type) in [("customer", "integer"), ("contact", "text")] {
        let (status, _, field) = send(
            &app,
            request(
                "POST",
                "/api/v1/custom-fields",
                Some(&token),
                Some(
                    json!({"entity": entity, "key": "badge", "label": "Badge", "type": field_type}),
                ),
            ),
        )
        .await;
        assert_eq!(status, 201, "{field}");
    }
    let create = |body: Value| request("POST", "/api/v1/customers", Some(&token), Some(body));
    // Each value checked against the other entity's field: both refused, nothing written.
    let (status, _, problem) = send(
        &app,
        create(
            json!({"kind": "company", "name": "A", "custom_fields": {"badge": "B-1"},
            "contact": {"name": "Wang", "custom_fields": {"badge": 7}}}),
        ),
    )
    .await;
    assert_eq!(status, 422, "{problem}");
    assert_eq!(
        pointers(&problem),
        ["/custom_fields/badge", "/contact/custom_fields/badge"]
    );
    assert_eq!(db.count("SELECT COUNT(*) AS n FROM customers"), 0);
    // Each against its own: written as given.
    let (status, _, created) = send(
        &app,
        create(
            json!({"kind": "company", "name": "A", "custom_fields": {"badge": 7},
            "contact": {"name": "Wang", "custom_fields": {"badge": "B-1"}}}),
        ),
    )
    .await;
    assert_eq!(status, 201, "{created}");
    assert_eq!(created["custom_fields"], json!({"badge": 7}));
    assert_eq!(created["contact"]["custom_fields"], json!({"badge": "B-1"}));
}

backend_tests!(async actix:
    create_read_and_list_a_customer,
    sorted_lists_page_with_their_own_cursors,
    every_bad_field_is_listed_and_nothing_is_written,
    duplicates_are_refused_unless_allowed,
    merge_patch_with_if_match_and_history,
    the_pool_through_the_api,
    a_customer_is_created_with_its_first_contact,
    a_first_contact_is_checked_with_its_customer,
    a_first_contact_has_its_own_custom_fields,
);
