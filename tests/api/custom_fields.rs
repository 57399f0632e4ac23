//! Custom fields through the API: definitions, the JSON Schema, values on customers checked
//! with every other field, uniqueness, archiving, and definition changes that would break data.

use actix_web::test;
use crm_domain::identity::Role;
use crm_persistence::test_support::TestDatabase;
use crm_tests::{api_state, backend_tests, header, login, pointers, request, seed_user, send};
use serde_json::{json, Value};

async fn definitions_schema_and_values(db: TestDatabase) {
    seed_user(&db, "admin@example.com", Role::Admin);
    let rep = seed_user(&db, "rep@example.com", Role::Rep);
    let app = test::init_service(crm_http::app(api_state(&db))).await;
    let (admin, _) = login(&app, "admin@example.com").await;
    let (token, _) = login(&app, "rep@example.com").await;
    let define = |body: Value| request("POST", "/api/v1/custom-fields", Some(&admin), Some(body));
    let (status, headers, budget) = send(
        &app,
        define(
            json!({"entity": "customer", "key": "budget", "label": "Budget", "type": "decimal",
            "rules": {"decimal_places": 2, "min": 0, "max": 1000000}, "position": 1}),
        ),
    )
    .await;
    assert_eq!(status, 201, "{budget}");
    let budget_id = budget["id"].as_str().unwrap_or_default().to_string();
    assert_eq!(
        header(&headers, "location"),
        format!("/api/v1/custom-fields/{budget_id}")
    );
    assert_eq!(
        budget["rules"],
        json!({"decimal_places": 2, "min": 0.0, "max": 1000000.0})
    );
    let (status, _, _) = send(
        &app,
        define(json!({"entity": "customer", "key": "tier", "label": "Tier", "type": "single_select",
            "required": true, "position": 2,
            "rules": {"options": [{"key": "gold", "label": "Gold"}, {"key": "silver", "label": "Silver"}]}})),
    )
    .await;
    assert_eq!(status, 201);
    let (status, _, _) = send(
        &app,
        define(
            json!({"entity": "customer", "key": "tax_code", "label": "Tax code", "type": "text",
            "unique": true, "rules": {"pattern": "[0-9A-Z]{6}"}}),
        ),
    )
    .await;
    assert_eq!(status, 201);
    let (status, _, _) = send(
        &app,
        define(
            json!({"entity": "customer", "key": "account_manager", "label": "AM", "type": "user"}),
        ),
    )
    .await;
    assert_eq!(status, 201);
    let (status, _, problem) = send(
        &app,
        define(
            json!({"entity": "customer", "key": "Bad Key", "label": "", "type": "integer",
            "rules": {"options": [{"key": "a", "label": "A"}]}, "default": "x"}),
        ),
    )
    .await;
    assert_eq!(status, 422);
    assert_eq!(pointers(&problem), ["/key", "/label", "/rules/options"]);
    let (_, _, defined) = send(
        &app,
        request(
            "GET",
            "/api/v1/custom-fields?include_archived=true",
            Some(&admin),
            None,
        ),
    )
    .await;
    assert_eq!(
        defined["items"].as_array().map(Vec::len),
        Some(4),
        "the refused definition was not written"
    );
    let (status, _, _) = send(
        &app,
        define(json!({"entity": "customer", "key": "budget", "label": "Again", "type": "text"})),
    )
    .await;
    assert_eq!(status, 409);

    // The JSON Schema forms use.
    let (status, _, schema) = send(
        &app,
        request(
            "GET",
            "/api/v1/custom-fields/schema/customer",
            Some(&token),
            None,
        ),
    )
    .await;
    assert_eq!(status, 200);
    assert_eq!(schema["required"], json!(["tier"]));
    assert_eq!(
        schema["properties"]["tier"]["enum"],
        json!(["gold", "silver"])
    );
    assert_eq!(schema["properties"]["budget"]["multipleOf"], json!(0.01));
    assert_eq!(schema["additionalProperties"], json!(false));
    let (status, _, _) = send(
        &app,
        request(
            "GET",
            "/api/v1/custom-fields/schema/planet",
            Some(&token),
            None,
        ),
    )
    .await;
    assert_eq!(status, 404);

    // Values travel with the customer, every problem listed with the customer's own.
    let create = |body: Value| request("POST", "/api/v1/customers", Some(&token), Some(body));
    let (status, _, problem) = send(
        &app,
        create(json!({"kind": "company", "name": "", "custom_fields":
            {"budget": 12.345, "nope": 1, "tax_code": "abc", "account_manager": "01936f0e-8a7c-7d4e-9a51-3c2b1f0e9d8b"}})),
    )
    .await;
    assert_eq!(status, 422, "{problem}");
    assert_eq!(
        pointers(&problem),
        [
            "/name",
            "/custom_fields/account_manager",
            "/custom_fields/budget",
            "/custom_fields/nope",
            "/custom_fields/tax_code",
            "/custom_fields/tier"
        ]
    );
    let (_, _, list) = send(
        &app,
        request("GET", "/api/v1/customers", Some(&token), None),
    )
    .await;
    assert_eq!(list["items"], json!([]), "nothing written");
    let (status, _, acme) = send(
        &app,
        create(json!({"kind": "company", "name": "Acme", "custom_fields":
            {"budget": 1200.5, "tier": "gold", "tax_code": "ABC123", "account_manager": rep}})),
    )
    .await;
    assert_eq!(status, 201, "{acme}");
    assert_eq!(
        acme["custom_fields"],
        json!({"account_manager": rep, "budget": 1200.5, "tax_code": "ABC123", "tier": "gold"})
    );
    let (status, _, problem) = send(
        &app,
        create(json!({"kind": "company", "name": "Copy", "custom_fields": {"tier": "silver", "tax_code": "ABC123"}})),
    )
    .await;
    assert_eq!(
        (status, pointers(&problem)),
        (422, vec!["/custom_fields/tax_code".to_string()]),
        "unique values"
    );
    let id = acme["id"].as_str().unwrap_or_default().to_string();
    let (status, _, changed) = send(
        &app,
        request(
            "PATCH",
            &format!("/api/v1/customers/{id}"),
            Some(&token),
            Some(json!({"custom_fields": {"budget": null, "tier": "silver"}})),
        ),
    )
    .await;
    assert_eq!(status, 200, "{changed}");
    assert_eq!(
        changed["custom_fields"],
        json!({"account_manager": rep, "tax_code": "ABC123", "tier": "silver"})
    );
    let (status, _, problem) = send(
        &app,
        request(
            "PATCH",
            &format!("/api/v1/customers/{id}"),
            Some(&token),
            Some(json!({"custom_fields": {"tier": null}})),
        ),
    )
    .await;
    assert_eq!(
        (status, pointers(&problem)),
        (422, vec!["/custom_fields/tier".to_string()])
    );
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
    assert_eq!(
        history["items"][0]["changes"],
        json!([
            {"field": "custom_fields.budget", "old": 1200.5, "new": null},
            {"field": "custom_fields.tier", "old": "gold", "new": "silver"}
        ])
    );

    // A change that stored values would break is refused with the count; looser ones apply.
    let field = format!("/api/v1/custom-fields/{}", budget_id);
    let patch = |body: Value| request("PATCH", &field, Some(&admin), Some(body));
    let (status, _, problem) = send(
        &app,
        patch(json!({"label": format!("\t{}", "x".repeat(100))})),
    )
    .await;
    assert_eq!(
        (status, pointers(&problem)),
        (422, vec!["/label".to_string()]),
        "lengths count as sent"
    );
    let (status, _, problem) = send(&app, patch(json!({"type": "integer"}))).await;
    assert_eq!(
        (status, pointers(&problem)),
        (422, vec!["/rules/decimal_places".to_string()]),
        "the old rules do not fit the new type"
    );
    let (status, _, changed) =
        send(&app, patch(json!({"type": "integer", "rules": {"min": 0}}))).await;
    assert_eq!(status, 200, "no stored budget: the type may change");
    assert_eq!(
        (changed["type"].as_str(), &changed["rules"]),
        (Some("integer"), &json!({"min": 0}))
    );
    let (_, _, tier_list) = send(
        &app,
        request("GET", "/api/v1/custom-fields", Some(&token), None),
    )
    .await;
    let tier_id = tier_list["items"]
        .as_array()
        .and_then(|items| items.iter().find(|i| i["key"] == "tier"))
        .and_then(|i| i["id"].as_str())
        .unwrap_or_default()
        .to_string();
    let tier = format!("/api/v1/custom-fields/{tier_id}");
    let (status, _, problem) = send(
        &app,
        request(
            "PATCH",
            &tier,
            Some(&admin),
            Some(json!({"rules": {"options": [{"key": "gold", "label": "Gold"}]}})),
        ),
    )
    .await;
    assert_eq!(status, 409, "{problem}");
    assert_eq!(
        problem["detail"],
        "1 existing value(s) would not satisfy the changed definition"
    );
    let (status, _, _) = send(
        &app,
        request("PATCH", &tier, Some(&admin), Some(json!({"rules": {"options": [
            {"key": "gold", "label": "Gold"}, {"key": "silver", "label": "Silver", "archived": true},
            {"key": "bronze", "label": "Bronze"}]}}))),
    )
    .await;
    assert_eq!(status, 200, "archiving an option keeps the data");

    // Archiving a field hides its values and keeps them; restoring brings them back.
    let (status, _, _) = send(&app, request("DELETE", &tier, Some(&admin), None)).await;
    assert_eq!(status, 204);
    let (status, _, _) = send(&app, request("GET", &tier, Some(&token), None)).await;
    assert_eq!(status, 404, "a deleted field is gone from reads");
    let (status, _, _) = send(&app, request("DELETE", &tier, Some(&admin), None)).await;
    assert_eq!(status, 404, "and cannot be deleted twice");
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
    assert_eq!(read["custom_fields"].get("tier"), None);
    let (status, _, _) = send(
        &app,
        request(
            "PATCH",
            &format!("/api/v1/customers/{id}"),
            Some(&token),
            Some(json!({"name": "Acme Ltd"})),
        ),
    )
    .await;
    assert_eq!(status, 200);
    let (status, _, _) = send(
        &app,
        request("PATCH", &tier, Some(&admin), Some(json!({"label": "Tier"}))),
    )
    .await;
    assert_eq!(status, 404, "a deleted field cannot be changed");
    let restore = format!("{tier}/restore");
    let (status, _, restored) = send(&app, request("POST", &restore, Some(&admin), None)).await;
    assert_eq!((status, restored["archived"].as_bool()), (200, Some(false)));
    let (status, _, _) = send(&app, request("POST", &restore, Some(&admin), None)).await;
    assert_eq!(status, 409, "restoring a live field");
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
    assert_eq!(
        read["custom_fields"]["tier"], "silver",
        "kept while archived"
    );
    let (status, _, _) = send(
        &app,
        request("PATCH", &tier, Some(&token), Some(json!({"label": "x"}))),
    )
    .await;
    assert_eq!(status, 403);
}

async fn contacts_carry_their_own_fields(db: TestDatabase) {
    seed_user(&db, "admin@example.com", Role::Admin);
    seed_user(&db, "rep@example.com", Role::Rep);
    let app = test::init_service(crm_http::app(api_state(&db))).await;
    let (admin, _) = login(&app, "admin@example.com").await;
    let (token, _) = login(&app, "rep@example.com").await;
    let (status, _, field) = send(
        &app,
        request(
            "POST",
            "/api/v1/custom-fields",
            Some(&admin),
            Some(
                json!({"entity": "contact", "key": "birthday_gift", "label": "Gift idea",
                "type": "multi_select", "rules": {"options": [
                    {"key": "tea", "label": "Tea"}, {"key": "wine", "label": "Wine"}]}}),
            ),
        ),
    )
    .await;
    assert_eq!(status, 201, "{field}");
    let (_, _, customer) = send(
        &app,
        request(
            "POST",
            "/api/v1/customers",
            Some(&token),
            Some(json!({"kind": "company", "name": "Acme", "custom_fields": {}})),
        ),
    )
    .await;
    let id = customer["id"].as_str().unwrap_or_default().to_string();
    let contacts = format!("/api/v1/customers/{id}/contacts");
    let (status, _, problem) = send(
        &app,
        request(
            "POST",
            &contacts,
            Some(&token),
            Some(json!({"name": "Li", "custom_fields": {"birthday_gift": ["tea", "cake"], "budget": 1}})),
        ),
    )
    .await;
    assert_eq!(status, 422);
    assert_eq!(
        pointers(&problem),
        ["/custom_fields/birthday_gift/1", "/custom_fields/budget"],
        "a customer field is unknown on contacts"
    );
    let (status, _, li) = send(
        &app,
        request(
            "POST",
            &contacts,
            Some(&token),
            Some(json!({"name": "Li", "custom_fields": {"birthday_gift": ["tea", "wine", "tea"]}})),
        ),
    )
    .await;
    assert_eq!(status, 201, "{li}");
    assert_eq!(
        li["custom_fields"],
        json!({"birthday_gift": ["tea", "wine"]})
    );
    let (status, _, wang) = send(
        &app,
        request(
            "POST",
            &contacts,
            Some(&token),
            Some(json!({"name": "Wang", "custom_fields": {"birthday_gift": ["tea"]}})),
        ),
    )
    .await;
    assert_eq!(status, 201, "{wang}");
    for (query, expected) in [
        ("cf.birthday_gift[contains]=wine", vec!["Li"]),
        ("cf.birthday_gift=tea", vec!["Li", "Wang"]),
        ("cf.birthday_gift[in]=wine,tea&q=wan", vec!["Wang"]),
        ("cf.birthday_gift=wine&cf.birthday_gift=tea", vec!["Li"]),
    ] {
        let (status, _, page) = send(
            &app,
            request(
                "GET",
                &format!("/api/v1/contacts?{query}"),
                Some(&token),
                None,
            ),
        )
        .await;
        assert_eq!(status, 200, "{query}: {page}");
        let names: Vec<&str> = page["items"]
            .as_array()
            .map(|items| items.iter().filter_map(|i| i["name"].as_str()).collect())
            .unwrap_or_default();
        assert_eq!(names, expected, "{query}");
    }
    for (query, pointer) in [
        ("cf.budget=1", "/query/cf.budget"),
        ("cf.birthday_gift[gte]=tea", "/query/cf.birthday_gift[gte]"),
        ("cf.birthday_gift=cake", "/query/cf.birthday_gift"),
        ("nope=1", "/query"),
    ] {
        let (status, _, problem) = send(
            &app,
            request(
                "GET",
                &format!("/api/v1/contacts?{query}"),
                Some(&token),
                None,
            ),
        )
        .await;
        assert_eq!(
            (status, problem["errors"][0]["pointer"].as_str()),
            (400, Some(pointer)),
            "{query}: {problem}"
        );
    }
    let contact = format!("{contacts}/{}", li["id"].as_str().unwrap_or_default());
    let (status, _, changed) = send(
        &app,
        request(
            "PATCH",
            &contact,
            Some(&token),
            Some(json!({"custom_fields": null})),
        ),
    )
    .await;
    assert_eq!((status, &changed["custom_fields"]), (200, &json!({})));
    let (_, _, listed) = send(&app, request("GET", "/api/v1/contacts", Some(&token), None)).await;
    assert_eq!(listed["items"][0]["custom_fields"], json!({}));
    let (_, _, listed) = send(
        &app,
        request(
            "GET",
            "/api/v1/contacts?cf.birthday_gift=wine",
            Some(&token),
            None,
        ),
    )
    .await;
    assert_eq!(listed["items"], json!([]), "Li's values were cleared");
}

async fn lists_filter_by_custom_fields(db: TestDatabase) {
    seed_user(&db, "admin@example.com", Role::Admin);
    seed_user(&db, "rep@example.com", Role::Rep);
    let app = test::init_service(crm_http::app(api_state(&db))).await;
    let (admin, _) = login(&app, "admin@example.com").await;
    let (token, _) = login(&app, "rep@example.com").await;
    for body in [
        json!({"entity": "customer", "key": "budget", "label": "Budget", "type": "decimal"}),
        json!({"entity": "customer", "key": "tier", "label": "Tier", "type": "single_select",
            "rules": {"options": [{"key": "gold", "label": "Gold"}, {"key": "silver", "label": "Silver"}]}}),
        json!({"entity": "customer", "key": "interests", "label": "Interests", "type": "multi_select",
            "rules": {"options": [{"key": "tea", "label": "Tea"}, {"key": "wine", "label": "Wine"}]}}),
        json!({"entity": "customer", "key": "signed_on", "label": "Signed", "type": "date"}),
        json!({"entity": "customer", "key": "vip", "label": "VIP", "type": "boolean"}),
    ] {
        let (status, _, field) = send(
            &app,
            request("POST", "/api/v1/custom-fields", Some(&admin), Some(body)),
        )
        .await;
        assert_eq!(status, 201, "{field}");
    }
    for (name, values) in [
        (
            "A",
            json!({"budget": 50, "tier": "gold", "interests": ["tea"], "signed_on": "2026-01-15", "vip": true}),
        ),
        (
            "B",
            json!({"budget": 150.25, "tier": "silver", "interests": ["tea", "wine"], "signed_on": "2026-07-01"}),
        ),
        (
            "C",
            json!({"budget": 1000, "interests": ["wine"], "vip": false}),
        ),
        ("D", json!({})),
    ] {
        let (status, _, body) = send(
            &app,
            request(
                "POST",
                "/api/v1/customers",
                Some(&token),
                Some(json!({"kind": "company", "name": name, "custom_fields": values})),
            ),
        )
        .await;
        assert_eq!(status, 201, "{body}");
    }
    let names = |query: &'static str| {
        let app = &app;
        let token = token.clone();
        async move {
            let (status, _, page) = send(
                app,
                request(
                    "GET",
                    &format!("/api/v1/customers?{query}"),
                    Some(&token),
                    None,
                ),
            )
            .await;
            assert_eq!(status, 200, "{query}: {page}");
            page["items"]
                .as_array()
                .map(|items| {
                    items
                        .iter()
                        .filter_map(|i| i["name"].as_str().map(str::to_string))
                        .collect::<Vec<_>>()
                })
                .unwrap_or_default()
        }
    };
    assert_eq!(names("cf.budget%5Bgte%5D=100").await, ["B", "C"]);
    assert_eq!(names("cf.budget[lte]=150.25").await, ["A", "B"]);
    assert_eq!(names("cf.budget=150.25").await, ["B"]);
    assert_eq!(names("cf.tier=gold").await, ["A"]);
    assert_eq!(names("cf.tier[in]=gold,silver").await, ["A", "B"]);
    assert_eq!(names("cf.interests[contains]=wine").await, ["B", "C"]);
    assert_eq!(names("cf.signed_on[lte]=2026-06-30").await, ["A"]);
    assert_eq!(names("cf.vip=false").await, ["C"]);
    assert_eq!(
        names("cf.budget[gte]=100&cf.interests[contains]=tea&sort=-name").await,
        ["B"]
    );
    assert_eq!(names("sort=cf.budget").await, ["A", "B", "C", "D"]);
    assert_eq!(
        names("sort=-cf.budget").await,
        ["C", "B", "A", "D"],
        "no value: last"
    );
    assert_eq!(names("sort=cf.signed_on").await, ["A", "B", "C", "D"]);
    assert_eq!(
        names("sort=-cf.budget&cf.budget[gte]=100").await,
        ["C", "B"],
        "a condition on the sorted field leaves out customers without a value"
    );
    assert_eq!(
        names("sort=cf.budget&cf.budget[lte]=150.25&cf.budget[gte]=50").await,
        ["A", "B"]
    );
    assert_eq!(
        names("sort=cf.tier&cf.tier[in]=silver,gold&cf.interests[contains]=wine").await,
        ["B"]
    );
    assert_eq!(
        names("sort=-cf.vip&cf.budget[lte]=1000").await,
        ["A", "C", "B"]
    );
    for sort in ["cf.budget", "-cf.budget", "-cf.signed_on"] {
        let mut walked = Vec::new();
        let mut uri = format!("/api/v1/customers?limit=1&sort={sort}");
        loop {
            let (status, _, page) = send(&app, request("GET", &uri, Some(&token), None)).await;
            assert_eq!(status, 200, "{page}");
            for item in page["items"].as_array().cloned().unwrap_or_default() {
                walked.push(item["name"].as_str().unwrap_or_default().to_string());
            }
            match page["next_cursor"].as_str() {
                Some(next) => uri = format!("/api/v1/customers?limit=1&sort={sort}&cursor={next}"),
                None => break,
            }
        }
        let whole = names(match sort {
            "cf.budget" => "sort=cf.budget",
            "-cf.budget" => "sort=-cf.budget",
            _ => "sort=-cf.signed_on",
        })
        .await;
        assert_eq!(walked, whole, "{sort} one page at a time");
    }
    for (query, pointer) in [
        ("sort=cf.interests", "/query/sort"),
        ("sort=cf.nope", "/query/sort"),
        ("sort=budget", "/query/sort"),
        ("cf.nope=1", "/query/cf.nope"),
        ("cf.budget[near]=1", "/query/cf.budget[near]"),
        ("cf.budget=lots", "/query/cf.budget"),
        ("cf.tier[gte]=gold", "/query/cf.tier[gte]"),
        ("cf.tier=bronze", "/query/cf.tier"),
    ] {
        let (status, _, problem) = send(
            &app,
            request(
                "GET",
                &format!("/api/v1/customers?{query}"),
                Some(&token),
                None,
            ),
        )
        .await;
        assert_eq!(
            (status, problem["errors"][0]["pointer"].as_str()),
            (400, Some(pointer)),
            "{query}: {problem}"
        );
    }
}

/// Every type that lists can filter by: equality (in the type's own notation), ranges where the
/// type has an order, `[in]`, and both sort directions with customers without a value last.
async fn every_type_filters_and_sorts(db: TestDatabase) {
    let admin_id = seed_user(&db, "admin@example.com", Role::Admin);
    let rep_id = seed_user(&db, "rep@example.com", Role::Rep);
    let app = test::init_service(crm_http::app(api_state(&db))).await;
    let (admin, _) = login(&app, "admin@example.com").await;
    let (token, _) = login(&app, "rep@example.com").await;
    // (type, rules, low value, high value, equality for low, lower bound that only high meets)
    let cases = [
        (
            "text",
            json!({}),
            json!("apple"),
            json!("Banana"),
            "APPLE".to_string(),
            Some("b"),
        ),
        (
            "long_text",
            json!({}),
            json!("alpha story"),
            json!("beta story"),
            "alpha story".into(),
            None,
        ),
        (
            "integer",
            json!({}),
            json!(-5),
            json!(12),
            "-5".into(),
            Some("0"),
        ),
        (
            "datetime",
            json!({}),
            json!("2026-03-01T08:00:00+08:00"),
            json!("2026-03-01T09:00:00Z"),
            "2026-03-01T00:00:00Z".into(),
            Some("2026-03-01T05:00:00Z"),
        ),
        (
            "email",
            json!({}),
            json!("a@example.com"),
            json!("B@example.com"),
            "A@Example.com".into(),
            None,
        ),
        (
            "phone",
            json!({}),
            json!("+8613800000001"),
            json!("+8613900000002"),
            "+86 138 0000 0001".into(),
            None,
        ),
        (
            "url",
            json!({}),
            json!("https://a.example"),
            json!("https://b.example"),
            "https://a.example".into(),
            None,
        ),
        (
            "money",
            json!({"currency": "CNY"}),
            json!({"amount_minor": 100, "currency": "CNY"}),
            json!({"amount_minor": 2500, "currency": "CNY"}),
            "100".into(),
            Some("1000"),
        ),
        (
            "user",
            json!({}),
            json!(admin_id),
            json!(rep_id),
            admin_id.clone(),
            None,
        ),
    ];
    let mut low = serde_json::Map::new();
    let mut high = serde_json::Map::new();
    for (field_type, rules, lo, hi, _, _) in &cases {
        let key = format!("f_{field_type}");
        let (status, _, field) = send(
            &app,
            request(
                "POST",
                "/api/v1/custom-fields",
                Some(&admin),
                Some(json!({"entity": "customer", "key": key, "label": key,
                    "type": field_type, "rules": rules})),
            ),
        )
        .await;
        assert_eq!(status, 201, "{field}");
        low.insert(key.clone(), lo.clone());
        high.insert(key, hi.clone());
    }
    for (name, values) in [("Lo", low), ("Hi", high), ("None", serde_json::Map::new())] {
        let (status, _, body) = send(
            &app,
            request(
                "POST",
                "/api/v1/customers",
                Some(&token),
                Some(json!({"kind": "company", "name": name, "custom_fields": values})),
            ),
        )
        .await;
        assert_eq!(status, 201, "{body}");
    }
    let names = |query: String| {
        let app = &app;
        let token = token.clone();
        async move {
            let (status, _, page) = send(
                app,
                request(
                    "GET",
                    &format!("/api/v1/customers?{query}"),
                    Some(&token),
                    None,
                ),
            )
            .await;
            assert_eq!(status, 200, "{query}: {page}");
            page["items"]
                .as_array()
                .map(|items| {
                    items
                        .iter()
                        .filter_map(|i| i["name"].as_str().map(str::to_string))
                        .collect::<Vec<_>>()
                })
                .unwrap_or_default()
        }
    };
    let encode =
        |raw: &str| url::form_urlencoded::byte_serialize(raw.as_bytes()).collect::<String>();
    for (field_type, _, _, hi, equal, bound) in &cases {
        let key = format!("f_{field_type}");
        assert_eq!(
            names(format!("cf.{key}={}", encode(equal))).await,
            ["Lo"],
            "{key}"
        );
        let high_raw = match hi {
            serde_json::Value::String(s) => s.clone(),
            serde_json::Value::Object(money) => money["amount_minor"].to_string(),
            number => number.to_string(),
        };
        assert_eq!(
            names(format!(
                "cf.{key}[in]={},{}",
                encode(equal),
                encode(&high_raw)
            ))
            .await,
            ["Lo", "Hi"],
            "{key}"
        );
        if let Some(bound) = bound {
            assert_eq!(
                names(format!("cf.{key}[gte]={}", encode(bound))).await,
                ["Hi"],
                "{key}"
            );
            assert_eq!(
                names(format!("cf.{key}[lte]={}", encode(bound))).await,
                ["Lo"],
                "{key}"
            );
        } else {
            let (status, _, _) = send(
                &app,
                request(
                    "GET",
                    &format!("/api/v1/customers?cf.{key}[gte]=a"),
                    Some(&token),
                    None,
                ),
            )
            .await;
            assert_eq!(status, 400, "{key} has no order");
        }
        assert_eq!(
            names(format!("sort=cf.{key}")).await,
            ["Lo", "Hi", "None"],
            "{key}"
        );
        assert_eq!(
            names(format!("sort=-cf.{key}")).await,
            ["Hi", "Lo", "None"],
            "{key}"
        );
    }
}

backend_tests!(async actix:
    every_type_filters_and_sorts,
    definitions_schema_and_values,
    contacts_carry_their_own_fields,
    lists_filter_by_custom_fields,
);
