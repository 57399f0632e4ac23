//! Merging duplicate customers: a dry run changes nothing, a merge moves contacts, activities,
//! follow-ups and opportunities to the survivor and deletes the duplicates, and an undo within
//! 30 days puts everything back.

use std::sync::Arc;

use actix_web::test;
use chrono::{DateTime, Duration, Utc};
use crm_domain::clock::ManualClock;
use crm_domain::identity::Role;
use crm_persistence::test_support::TestDatabase;
use crm_tests::{api_state, backend_tests, header, login, pointers, request, seed_user, send};
use serde_json::{json, Value};

fn at(text: &str) -> DateTime<Utc> {
    text.parse().unwrap_or_else(|e| panic!("{text}: {e}"))
}

fn id_of(body: &Value) -> String {
    body["id"].as_str().unwrap_or_default().to_string()
}

async fn merges_move_everything_and_undo_puts_it_back(db: TestDatabase) {
    seed_user(&db, "admin@example.com", Role::Admin);
    seed_user(&db, "rep@example.com", Role::Rep);
    let clock = Arc::new(ManualClock::new(at("2026-05-03T00:00:00Z")));
    let app = test::init_service(crm_http::app(api_state(&db).with_clock(clock.clone()))).await;
    let (admin, _) = login(&app, "admin@example.com").await;
    let (rep, _) = login(&app, "rep@example.com").await;
    let post = |uri: &str, body: Value| request("POST", uri, Some(&admin), Some(body));
    let (_, _, survivor) = send(
        &app,
        post(
            "/api/v1/customers",
            json!({"kind": "company", "name": "Acme", "email": "a@acme.example", "tags": ["vip"]}),
        ),
    )
    .await;
    let (_, _, first) = send(
        &app,
        post(
            "/api/v1/customers",
            json!({"kind": "company", "name": "ACME Ltd", "industry": "Retail",
            "phone": "13800000001", "tags": ["expo"], "owner_id": null}),
        ),
    )
    .await;
    let (_, _, second) = send(
        &app,
        post(
            "/api/v1/customers",
            json!({"kind": "company", "name": "Acme (old)",
            "website": "https://acme.example", "owner_id": null}),
        ),
    )
    .await;
    let (s, d1, d2) = (id_of(&survivor), id_of(&first), id_of(&second));
    let (status, _, contact) = send(
        &app,
        post(
            &format!("/api/v1/customers/{d1}/contacts"),
            json!({"name": "Wang Fang"}),
        ),
    )
    .await;
    assert_eq!(status, 201, "{contact}");
    let (status, _, activity) = send(
        &app,
        post(
            "/api/v1/activities",
            json!({"customer_id": d1, "kind": "call",
            "occurred_at": "2026-05-01T08:30:00Z", "subject": "Intro call",
            "follow_up": {"due_at": "2026-05-04T09:00:00Z", "note": "Send the quote"}}),
        ),
    )
    .await;
    assert_eq!(status, 201, "{activity}");
    let (status, _, deal) = send(
        &app,
        post(
            "/api/v1/opportunities",
            json!({"customer_id": d2, "name": "Renewal",
            "currency": "CNY", "amount": 500000}),
        ),
    )
    .await;
    assert_eq!(status, 201, "{deal}");
    let merges = "/api/v1/customers/merges";
    // Bad bodies are refused whole, listing each problem.
    let (status, _, problem) = send(
        &app,
        post(
            merges,
            json!({"survivor_id": s, "duplicate_ids": [s, d1, d1, "nope"]}),
        ),
    )
    .await;
    assert_eq!(status, 422, "{problem}");
    assert_eq!(
        pointers(&problem),
        ["/duplicate_ids/0", "/duplicate_ids/2", "/duplicate_ids/3"]
    );
    let (status, _, problem) = send(
        &app,
        post(merges, json!({"survivor_id": s, "duplicate_ids": [d1], "fields": {"colour": d1, "name": s.clone() + "x"}})),
    )
    .await;
    assert_eq!(status, 422, "{problem}");
    assert_eq!(pointers(&problem), ["/fields/colour", "/fields/name"]);
    // Reps may not merge; a customer the caller cannot see is a 404.
    let (status, _, _) = send(
        &app,
        request(
            "POST",
            merges,
            Some(&rep),
            Some(json!({"survivor_id": s, "duplicate_ids": [d1]})),
        ),
    )
    .await;
    assert_eq!(status, 403);
    let (status, _, _) = send(
        &app,
        post(
            merges,
            json!({"survivor_id": s, "duplicate_ids": [uuid_like()]}),
        ),
    )
    .await;
    assert_eq!(status, 404);
    // A dry run shows the result and changes nothing.
    let body = json!({"survivor_id": s, "duplicate_ids": [d1, d2], "fields": {"name": d1}});
    let (status, _, preview) = send(
        &app,
        post(
            merges,
            json!({"dry_run": true, "survivor_id": s,
        "duplicate_ids": [d1, d2], "fields": {"name": d1}}),
        ),
    )
    .await;
    assert_eq!(status, 200, "{preview}");
    assert_eq!(preview["id"], Value::Null);
    assert_eq!(preview["survivor"]["name"], "ACME Ltd");
    assert_eq!(preview["survivor"]["industry"], "Retail");
    assert_eq!(preview["survivor"]["website"], "https://acme.example");
    assert_eq!(preview["survivor"]["email"], "a@acme.example");
    assert_eq!(preview["survivor"]["phone"], "13800000001");
    assert_eq!(preview["survivor"]["tags"], json!(["vip", "expo"]));
    assert_eq!(
        preview["moved"],
        json!({"contacts": 1, "activities": 1, "follow_ups": 1, "opportunities": 1})
    );
    let (status, _, _) = send(
        &app,
        request(
            "GET",
            &format!("/api/v1/customers/{d1}"),
            Some(&admin),
            None,
        ),
    )
    .await;
    assert_eq!(status, 200, "the dry run deleted nothing");
    let (_, _, unchanged) = send(
        &app,
        request("GET", &format!("/api/v1/customers/{s}"), Some(&admin), None),
    )
    .await;
    assert_eq!(unchanged["name"], "Acme");
    // The merge.
    let (status, headers, merged) = send(&app, post(merges, body.clone())).await;
    assert_eq!(status, 201, "{merged}");
    let merge_id = id_of(&merged);
    assert_eq!(header(&headers, "location"), format!("{merges}/{merge_id}"));
    assert_eq!(merged["survivor"]["name"], "ACME Ltd");
    assert_eq!(merged["undo_until"], "2026-06-02T00:00:00Z");
    for gone in [&d1, &d2] {
        let (status, _, _) = send(
            &app,
            request(
                "GET",
                &format!("/api/v1/customers/{gone}"),
                Some(&admin),
                None,
            ),
        )
        .await;
        assert_eq!(status, 404, "a merged duplicate is deleted");
    }
    let (_, _, contacts) = send(
        &app,
        request(
            "GET",
            &format!("/api/v1/customers/{s}/contacts"),
            Some(&admin),
            None,
        ),
    )
    .await;
    assert_eq!(contacts["items"][0]["id"], contact["id"]);
    assert_eq!(
        contacts["items"][0]["primary"], true,
        "the survivor had no contact of its own"
    );
    let (_, _, moved) = send(
        &app,
        request(
            "GET",
            &format!("/api/v1/activities/{}", id_of(&activity)),
            Some(&admin),
            None,
        ),
    )
    .await;
    assert_eq!(moved["customer_id"], s.as_str());
    let (_, _, moved) = send(
        &app,
        request(
            "GET",
            &format!("/api/v1/opportunities/{}", id_of(&deal)),
            Some(&admin),
            None,
        ),
    )
    .await;
    assert_eq!(moved["customer_id"], s.as_str());
    let (_, _, read) = send(
        &app,
        request("GET", &format!("/api/v1/customers/{s}"), Some(&admin), None),
    )
    .await;
    assert_eq!(read["next_follow_up_at"], "2026-05-04T09:00:00Z");
    assert_eq!(read["last_activity_at"], "2026-05-01T08:30:00Z");
    let (_, _, history) = send(
        &app,
        request(
            "GET",
            &format!("/api/v1/customers/{s}/history"),
            Some(&admin),
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
    assert!(actions.starts_with(&["merged", "updated"]), "{actions:?}");
    let (status, _, read_merge) = send(
        &app,
        request("GET", &format!("{merges}/{merge_id}"), Some(&admin), None),
    )
    .await;
    assert_eq!(status, 200);
    assert_eq!(read_merge["duplicate_ids"], json!([d1, d2]));
    // Undo: everything returns.
    let (status, _, undone) =
        send(&app, post(&format!("{merges}/{merge_id}/undo"), json!({}))).await;
    assert_eq!(status, 200, "{undone}");
    assert_eq!(undone["undone_at"], "2026-05-03T00:00:00Z");
    assert_eq!(undone["survivor"]["name"], "Acme");
    assert_eq!(undone["survivor"]["website"], Value::Null);
    assert_eq!(undone["survivor"]["next_follow_up_at"], Value::Null);
    let (status, _, back) = send(
        &app,
        request(
            "GET",
            &format!("/api/v1/customers/{d1}"),
            Some(&admin),
            None,
        ),
    )
    .await;
    assert_eq!(status, 200);
    assert_eq!(back["next_follow_up_at"], "2026-05-04T09:00:00Z");
    let (_, _, contacts) = send(
        &app,
        request(
            "GET",
            &format!("/api/v1/customers/{d1}/contacts"),
            Some(&admin),
            None,
        ),
    )
    .await;
    assert_eq!(contacts["items"][0]["id"], contact["id"]);
    assert_eq!(contacts["items"][0]["primary"], true);
    let (_, _, deal_back) = send(
        &app,
        request(
            "GET",
            &format!("/api/v1/opportunities/{}", id_of(&deal)),
            Some(&admin),
            None,
        ),
    )
    .await;
    assert_eq!(deal_back["customer_id"], d2.as_str());
    let (status, _, problem) =
        send(&app, post(&format!("{merges}/{merge_id}/undo"), json!({}))).await;
    assert_eq!(status, 409);
    assert_eq!(problem["code"], "already_undone");
    // A survivor changed after its merge cannot be unmerged; nor can a merge older than 30 days.
    let (_, _, again) = send(
        &app,
        post(merges, json!({"survivor_id": s, "duplicate_ids": [d2]})),
    )
    .await;
    let again_id = id_of(&again);
    let (status, _, _) = send(
        &app,
        request(
            "PATCH",
            &format!("/api/v1/customers/{s}"),
            Some(&admin),
            Some(json!({"classification": "A"})),
        ),
    )
    .await;
    assert_eq!(status, 200);
    let (status, _, problem) =
        send(&app, post(&format!("{merges}/{again_id}/undo"), json!({}))).await;
    assert_eq!(status, 409);
    assert_eq!(problem["code"], "survivor_changed");
    let (_, _, third) = send(
        &app,
        post(merges, json!({"survivor_id": s, "duplicate_ids": [d1]})),
    )
    .await;
    clock.advance(Duration::days(31));
    let (status, _, problem) = send(
        &app,
        post(&format!("{merges}/{}/undo", id_of(&third)), json!({})),
    )
    .await;
    assert_eq!(status, 409);
    assert_eq!(problem["code"], "undo_expired");
    assert_eq!(db.orphan_rows(), 0);
}

fn uuid_like() -> String {
    "01936f0e-0000-7000-8000-0000000000ff".to_string()
}

backend_tests!(async actix: merges_move_everything_and_undo_puts_it_back);
