//! Opportunities over HTTP at a fixed clock: exact amounts from the catalogue, every bad member
//! listed with nothing written, the checklist gate (a rep is stopped, a manager overrides),
//! winning, the stage history with time in stage, who may change what, and the overview.

use std::sync::Arc;

use actix_web::test;
use chrono::{DateTime, Duration, Utc};
use crm_domain::clock::ManualClock;
use crm_domain::identity::Role;
use crm_persistence::test_support::TestDatabase;
use crm_tests::{api_state, backend_tests, header, login, pointers, request, seed_user, send};
use serde_json::{json, Value};

const NOW: &str = "2026-05-01T09:00:00Z";
const QUALIFICATION: &str = "01930000-0000-7000-8000-000000000101";
const INTRODUCTION: &str = "01930000-0000-7000-8000-000000000102";
const WON: &str = "01930000-0000-7000-8000-000000000107";
const BUDGET: &str = "01930000-0000-7000-8000-000000000201";

fn at(raw: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(raw)
        .map(|t| t.with_timezone(&Utc))
        .unwrap_or_else(|e| panic!("{e}"))
}

fn id_of(body: &Value) -> String {
    body["id"].as_str().unwrap_or_default().to_string()
}

async fn deals_move_through_the_pipeline(db: TestDatabase) {
    seed_user(&db, "admin@example.com", Role::Admin);
    seed_user(&db, "manager@example.com", Role::Manager);
    seed_user(&db, "rep@example.com", Role::Rep);
    let other_id = seed_user(&db, "other@example.com", Role::Rep);
    let clock = Arc::new(ManualClock::new(at(NOW)));
    let app = test::init_service(crm_http::app(api_state(&db).with_clock(clock.clone()))).await;
    let (admin, _) = login(&app, "admin@example.com").await;
    let (manager, _) = login(&app, "manager@example.com").await;
    let (rep, _) = login(&app, "rep@example.com").await;
    let (other, _) = login(&app, "other@example.com").await;
    let (_, _, product) = send(
        &app,
        request(
            "POST",
            "/api/v1/products",
            Some(&admin),
            Some(json!({"sku": "PRO", "name": "CRM Pro", "unit_price": 129900, "currency": "CNY"})),
        ),
    )
    .await;
    let product_id = id_of(&product);
    // A pool customer, so every rep sees it.
    let (_, _, customer) = send(
        &app,
        request(
            "POST",
            "/api/v1/customers",
            Some(&admin),
            Some(json!({"kind": "company", "name": "Acme", "owner_id": null})),
        ),
    )
    .await;
    let customer_id = id_of(&customer);
    let (status, _, problem) = send(
        &app,
        request(
            "POST",
            "/api/v1/opportunities",
            Some(&rep),
            Some(
                json!({"customer_id": customer_id, "name": " ", "currency": "XYZ",
                "lines": [{"quantity": 1.2345, "discount_percent": 120},
                    {"product_id": product_id, "quantity": 1}]}),
            ),
        ),
    )
    .await;
    assert_eq!(status, 422, "{problem}");
    assert_eq!(
        pointers(&problem),
        [
            "/name",
            "/currency",
            "/lines/0/quantity",
            "/lines/0/discount_percent"
        ]
    );
    let (status, _, problem) = send(
        &app,
        request(
            "POST",
            "/api/v1/opportunities",
            Some(&rep),
            Some(
                json!({"customer_id": customer_id, "name": "Q1", "currency": "USD",
                "lines": [{"product_id": product_id}, {"quantity": 2}]}),
            ),
        ),
    )
    .await;
    assert_eq!(status, 422, "{problem}");
    assert_eq!(
        pointers(&problem),
        [
            "/lines/0/product_id",
            "/lines/1/unit_price",
            "/lines/1/description"
        ]
    );
    let (_, _, none) = send(
        &app,
        request("GET", "/api/v1/opportunities", Some(&rep), None),
    )
    .await;
    assert_eq!(none["items"], json!([]), "nothing was written");
    let (status, headers, made) = send(
        &app,
        request(
            "POST",
            "/api/v1/opportunities",
            Some(&rep),
            Some(json!({"customer_id": customer_id, "name": " Q1 order ",
                "expected_close_on": "2026-06-30",
                "lines": [{"product_id": product_id, "quantity": 3, "discount_percent": 10},
                    {"description": "Installation", "quantity": 1.5, "unit_price": 99}]})),
        ),
    )
    .await;
    assert_eq!(status, 201, "{made}");
    let id = id_of(&made);
    let uri = format!("/api/v1/opportunities/{id}");
    assert_eq!(header(&headers, "location"), uri);
    let rep_id = made["owner_id"].clone();
    assert_eq!(
        made,
        json!({
            "id": id, "customer_id": customer_id, "owner_id": rep_id, "name": "Q1 order",
            "pipeline_id": "01930000-0000-7000-8000-000000000001", "stage_id": QUALIFICATION,
            "status": "open", "currency": "CNY",
            "lines": [
                {"product_id": product_id, "description": "CRM Pro", "quantity": 3.0,
                    "unit_price": 129900, "discount_percent": 10.0, "amount": 350730},
                {"product_id": null, "description": "Installation", "quantity": 1.5,
                    "unit_price": 99, "discount_percent": 0.0, "amount": 149}
            ],
            "amount": 350879, "expected_close_on": "2026-06-30", "closed_at": null,
            "lost_reason": null, "checked_items": [], "custom_fields": {},
            "stage_entered_at": NOW,
            "created_at": NOW, "updated_at": NOW
        })
    );
    // Another rep sees the deal (the customer is in the pool) but may not change it.
    let (status, _, _) = send(
        &app,
        request("PATCH", &uri, Some(&other), Some(json!({"name": "Mine"}))),
    )
    .await;
    assert_eq!(status, 403);
    // The rep is stopped by the unticked required items, each listed.
    clock.advance(Duration::days(3));
    let stage_changes = format!("{uri}/stage-changes");
    let (status, _, gate) = send(
        &app,
        request(
            "POST",
            &stage_changes,
            Some(&rep),
            Some(json!({"to_stage_id": INTRODUCTION})),
        ),
    )
    .await;
    assert_eq!(status, 422, "{gate}");
    let messages: Vec<&str> = gate["errors"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|e| e["message"].as_str())
        .collect();
    assert_eq!(messages.len(), 2);
    assert!(messages[0].contains("Budget confirmed"), "{messages:?}");
    assert!(
        messages[1].contains("Decision maker identified"),
        "{messages:?}"
    );
    // A rep may not override; ticking one item and a manager's override lets it through.
    let (status, _, _) = send(
        &app,
        request(
            "POST",
            &stage_changes,
            Some(&rep),
            Some(json!({"to_stage_id": INTRODUCTION, "override": true})),
        ),
    )
    .await;
    assert_eq!(status, 403);
    let (status, _, ticked) = send(
        &app,
        request(
            "PATCH",
            &uri,
            Some(&rep),
            Some(json!({"checked_items": [BUDGET]})),
        ),
    )
    .await;
    assert_eq!((status, &ticked["checked_items"]), (200, &json!([BUDGET])));
    let (status, headers, change) = send(
        &app,
        request(
            "POST",
            &stage_changes,
            Some(&manager),
            Some(json!({"to_stage_id": INTRODUCTION, "override": true,
                "note": "Decision maker known by phone"})),
        ),
    )
    .await;
    assert_eq!(status, 201, "{change}");
    assert_eq!(header(&headers, "location"), format!("{uri}/history"));
    assert_eq!(
        (
            &change["from_stage_id"],
            &change["seconds_in_previous_stage"],
            &change["overridden"],
            &change["probability"],
            &change["amount"]
        ),
        (
            &json!(QUALIFICATION),
            &json!(3 * 86_400),
            &json!(true),
            &json!(20),
            &json!(350879)
        )
    );
    // Won, a day later, by the manager overriding what is left on the way.
    clock.advance(Duration::days(1));
    let (status, _, won) = send(
        &app,
        request(
            "POST",
            &stage_changes,
            Some(&manager),
            Some(json!({"to_stage_id": WON, "override": true})),
        ),
    )
    .await;
    assert_eq!(status, 201, "{won}");
    let (_, _, closed) = send(&app, request("GET", &uri, Some(&rep), None)).await;
    assert_eq!(
        (&closed["status"], &closed["closed_at"]),
        (&json!("won"), &json!("2026-05-05T09:00:00Z"))
    );
    let (_, _, history) = send(
        &app,
        request("GET", &format!("{uri}/history"), Some(&rep), None),
    )
    .await;
    let steps: Vec<(Value, Value, Value)> = history["items"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|c| {
            (
                c["to_stage_id"].clone(),
                c["seconds_in_previous_stage"].clone(),
                c["overridden"].clone(),
            )
        })
        .collect();
    assert_eq!(
        steps,
        [
            (json!(QUALIFICATION), json!(0), json!(false)),
            (json!(INTRODUCTION), json!(3 * 86_400), json!(true)),
            (json!(WON), json!(86_400), json!(true)),
        ]
    );
    // Open deals show on the customer's overview; a won one does not.
    let (_, _, open) = send(
        &app,
        request(
            "POST",
            "/api/v1/opportunities",
            Some(&rep),
            Some(json!({"customer_id": customer_id, "name": "Renewal", "amount": 500000})),
        ),
    )
    .await;
    let overview_uri = format!("/api/v1/customers/{customer_id}/overview");
    let (_, _, overview) = send(&app, request("GET", &overview_uri, Some(&rep), None)).await;
    assert_eq!(
        overview["open_opportunities"],
        json!([{"id": open["id"], "name": "Renewal", "stage_id": QUALIFICATION,
            "stage_name": "Qualification", "probability": 10,
            "amount": {"amount_minor": 500000, "currency": "CNY"},
            "expected_close_on": null}])
    );
    let (status, _, problem) = send(
        &app,
        request(
            "GET",
            "/api/v1/opportunities?amount_min=-1",
            Some(&rep),
            None,
        ),
    )
    .await;
    assert_eq!(
        (status, pointers(&problem)),
        (400, vec!["/query/amount_min".to_string()])
    );
    let (_, _, won_only) = send(
        &app,
        request("GET", "/api/v1/opportunities?status=won", Some(&rep), None),
    )
    .await;
    let ids: Vec<&str> = won_only["items"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|o| o["id"].as_str())
        .collect();
    assert_eq!(ids, [id.as_str()]);
    // Only a manager or an admin hands a deal to someone else, and only to an active user.
    let (status, _, _) = send(
        &app,
        request(
            "PATCH",
            &uri,
            Some(&rep),
            Some(json!({"owner_id": other_id})),
        ),
    )
    .await;
    assert_eq!(status, 403);
    let (status, _, problem) = send(
        &app,
        request(
            "PATCH",
            &uri,
            Some(&admin),
            Some(json!({"owner_id": "0193aaaa-0000-7000-8000-000000000000"})),
        ),
    )
    .await;
    assert_eq!(
        (status, pointers(&problem)),
        (422, vec!["/owner_id".to_string()])
    );
    let (status, _, handed) = send(
        &app,
        request(
            "PATCH",
            &uri,
            Some(&admin),
            Some(json!({"owner_id": other_id})),
        ),
    )
    .await;
    assert_eq!((status, &handed["owner_id"]), (200, &json!(other_id)));
    let (_, _, theirs) = send(
        &app,
        request(
            "GET",
            "/api/v1/opportunities?owner_id=me",
            Some(&other),
            None,
        ),
    )
    .await;
    assert_eq!(theirs["items"][0]["id"], json!(id));
}

/// Opportunity and activity custom fields: checked with the body's other members, filtered
/// on, and counted when a definition would tighten.
async fn deals_and_activities_take_custom_fields(db: TestDatabase) {
    seed_user(&db, "admin@example.com", Role::Admin);
    let clock = Arc::new(ManualClock::new(at(NOW)));
    let app = test::init_service(crm_http::app(api_state(&db).with_clock(clock))).await;
    let (admin, _) = login(&app, "admin@example.com").await;
    let define = |body: Value| request("POST", "/api/v1/custom-fields", Some(&admin), Some(body));
    let (status, _, channel) = send(
        &app,
        define(
            json!({"entity": "opportunity", "key": "channel", "label": "Channel",
            "type": "text", "rules": {"max_length": 20}}),
        ),
    )
    .await;
    assert_eq!(status, 201, "{channel}");
    let (_, _, mood) = send(
        &app,
        define(json!({"entity": "activity", "key": "mood", "label": "Mood", "type": "text"})),
    )
    .await;
    let (_, _, customer) = send(
        &app,
        request(
            "POST",
            "/api/v1/customers",
            Some(&admin),
            Some(json!({"kind": "company", "name": "Acme"})),
        ),
    )
    .await;
    let customer_id = id_of(&customer);
    let create = |name: &str, custom: Value| {
        request(
            "POST",
            "/api/v1/opportunities",
            Some(&admin),
            Some(json!({"customer_id": customer_id, "name": name, "custom_fields": custom})),
        )
    };
    let (status, _, problem) = send(
        &app,
        request(
            "POST",
            "/api/v1/opportunities",
            Some(&admin),
            Some(json!({"customer_id": customer_id, "name": " ",
                "custom_fields": {"channel": "x".repeat(21), "nope": 1}})),
        ),
    )
    .await;
    assert_eq!(status, 422, "{problem}");
    assert_eq!(
        pointers(&problem),
        ["/name", "/custom_fields/channel", "/custom_fields/nope"]
    );
    let (status, _, partner) = send(
        &app,
        create("Via partner", json!({"channel": "partner-long-name"})),
    )
    .await;
    assert_eq!(status, 201, "{partner}");
    assert_eq!(
        partner["custom_fields"],
        json!({"channel": "partner-long-name"})
    );
    send(&app, create("Direct", json!({"channel": "direct"}))).await;
    let (_, _, found) = send(
        &app,
        request(
            "GET",
            "/api/v1/opportunities?cf.channel=direct",
            Some(&admin),
            None,
        ),
    )
    .await;
    let names: Vec<&str> = found["items"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|o| o["name"].as_str())
        .collect();
    assert_eq!(names, ["Direct"]);
    let (status, _, _) = send(
        &app,
        request(
            "GET",
            "/api/v1/opportunities?cf.unknown=1",
            Some(&admin),
            None,
        ),
    )
    .await;
    assert_eq!(status, 400);
    let deal_uri = format!("/api/v1/opportunities/{}", id_of(&partner));
    let (status, _, changed) = send(
        &app,
        request(
            "PATCH",
            &deal_uri,
            Some(&admin),
            Some(json!({"custom_fields": {"channel": "partner"}})),
        ),
    )
    .await;
    assert_eq!(
        (status, &changed["custom_fields"]),
        (200, &json!({"channel": "partner"}))
    );
    // Tightening counts the values stored on opportunities and on activities.
    let (status, _, problem) = send(
        &app,
        request(
            "PATCH",
            &format!("/api/v1/custom-fields/{}", id_of(&channel)),
            Some(&admin),
            Some(json!({"rules": {"max_length": 6}})),
        ),
    )
    .await;
    assert_eq!(status, 409, "{problem}");
    assert_eq!(
        problem["detail"],
        "1 existing value(s) would not satisfy the changed definition"
    );
    let (status, _, logged) = send(
        &app,
        request(
            "POST",
            "/api/v1/activities",
            Some(&admin),
            Some(json!({"customer_id": customer_id, "kind": "call",
                "occurred_at": "2026-04-30T09:00:00Z", "subject": "Call",
                "opportunity_id": partner["id"], "custom_fields": {"mood": "cheerful"}})),
        ),
    )
    .await;
    assert_eq!(status, 201, "{logged}");
    assert_eq!(logged["opportunity_id"], partner["id"]);
    let (status, _, problem) = send(
        &app,
        request(
            "PATCH",
            &format!("/api/v1/custom-fields/{}", id_of(&mood)),
            Some(&admin),
            Some(json!({"rules": {"max_length": 3}})),
        ),
    )
    .await;
    assert_eq!(status, 409, "{problem}");
}

backend_tests!(
    async actix: deals_move_through_the_pipeline,
    deals_and_activities_take_custom_fields
);
