//! Behaviour scoring over HTTP at a fixed clock: the catalogue admins keep, behaviours recorded
//! on activities (bad codes listed with nothing written), the explained score, the ranking by
//! score, the overview's breakdown and the half-life setting.

use std::sync::Arc;

use actix_web::test;
use chrono::{DateTime, Duration, Utc};
use crm_domain::clock::ManualClock;
use crm_domain::identity::Role;
use crm_persistence::test_support::TestDatabase;
use crm_tests::{api_state, backend_tests, header, login, pointers, request, seed_user, send};
use serde_json::{json, Value};

const NOW: &str = "2026-04-01T00:00:00Z";

fn at(raw: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(raw)
        .map(|t| t.with_timezone(&Utc))
        .unwrap_or_else(|e| panic!("{e}"))
}

fn codes(list: &Value, member: &str) -> Vec<String> {
    list["items"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|i| i[member].as_str().map(str::to_string))
        .collect()
}

async fn admins_keep_the_behaviour_catalogue(db: TestDatabase) {
    seed_user(&db, "admin@example.com", Role::Admin);
    seed_user(&db, "rep@example.com", Role::Rep);
    let clock = Arc::new(ManualClock::new(at(NOW)));
    let app = test::init_service(crm_http::app(api_state(&db).with_clock(clock))).await;
    let (admin, _) = login(&app, "admin@example.com").await;
    let (rep, _) = login(&app, "rep@example.com").await;
    let list = |token: String, query: &'static str| {
        request(
            "GET",
            &format!("/api/v1/behaviors{query}"),
            Some(&token),
            None,
        )
    };
    let seeded = [
        "attended_demo",
        "chose_competitor",
        "no_answer_3x",
        "replied_promptly",
        "requested_quote",
    ];
    let (status, _, catalogue) = send(&app, list(rep.clone(), "")).await;
    assert_eq!(status, 200);
    assert_eq!(codes(&catalogue, "code"), seeded);
    // Every bad member listed; nothing added.
    let (status, _, problem) = send(
        &app,
        request(
            "POST",
            "/api/v1/behaviors",
            Some(&admin),
            Some(
                json!({"code": "Visited Showroom", "label": " ", "points": 0,
                "description": "x".repeat(501)}),
            ),
        ),
    )
    .await;
    assert_eq!(status, 422, "{problem}");
    assert_eq!(
        pointers(&problem),
        ["/code", "/label", "/description", "/points"]
    );
    let (_, _, unchanged) = send(&app, list(admin.clone(), "?include_archived=true")).await;
    assert_eq!(codes(&unchanged, "code"), seeded);
    let (status, headers, made) = send(
        &app,
        request(
            "POST",
            "/api/v1/behaviors",
            Some(&admin),
            Some(
                json!({"code": "visited_showroom", "label": " Visited the showroom ",
                "points": 15}),
            ),
        ),
    )
    .await;
    assert_eq!(status, 201, "{made}");
    assert_eq!(
        header(&headers, "location"),
        "/api/v1/behaviors/visited_showroom"
    );
    assert_eq!(header(&headers, "etag"), "\"1\"");
    assert_eq!(
        made,
        json!({"code": "visited_showroom", "label": "Visited the showroom", "description": null,
            "points": 15, "archived": false, "created_at": NOW, "updated_at": NOW})
    );
    let (status, _, taken) = send(
        &app,
        request(
            "POST",
            "/api/v1/behaviors",
            Some(&admin),
            Some(json!({"code": "visited_showroom", "label": "Again", "points": 5})),
        ),
    )
    .await;
    assert_eq!(
        (status, taken["code"].as_str()),
        (409, Some("behavior_exists"))
    );
    let patch = |body: Value| {
        request(
            "PATCH",
            "/api/v1/behaviors/visited_showroom",
            Some(&admin),
            Some(body),
        )
    };
    let (status, _, problem) = send(&app, patch(json!({"points": 1001, "label": null}))).await;
    assert_eq!(status, 422);
    assert_eq!(pointers(&problem), ["/label", "/points"]);
    let (status, headers, changed) = send(
        &app,
        patch(json!({"points": 25, "archived": true, "description": "In person"}))
            .insert_header(("If-Match", "\"1\"")),
    )
    .await;
    assert_eq!(status, 200, "{changed}");
    assert_eq!(header(&headers, "etag"), "\"2\"");
    assert_eq!(
        (
            &changed["points"],
            &changed["archived"],
            &changed["description"]
        ),
        (&json!(25), &json!(true), &json!("In person"))
    );
    let (status, headers, _) = send(
        &app,
        patch(json!({"points": 30})).insert_header(("If-Match", "\"1\"")),
    )
    .await;
    assert_eq!((status, header(&headers, "etag")), (412, "\"2\""));
    let (_, _, live) = send(&app, list(rep.clone(), "")).await;
    assert_eq!(codes(&live, "code"), seeded, "archived ones are left out");
    let (_, _, all) = send(&app, list(rep.clone(), "?include_archived=true")).await;
    assert_eq!(codes(&all, "code").len(), 6);
    for path in ["/api/v1/behaviors/nope", "/api/v1/behaviors/Not%20A%20Code"] {
        let (status, _, _) = send(
            &app,
            request("PATCH", path, Some(&admin), Some(json!({"points": 5}))),
        )
        .await;
        assert_eq!(status, 404, "{path}");
    }
}

async fn behaviours_score_customers(db: TestDatabase) {
    seed_user(&db, "admin@example.com", Role::Admin);
    seed_user(&db, "rep@example.com", Role::Rep);
    let clock = Arc::new(ManualClock::new(at(NOW)));
    let app = test::init_service(crm_http::app(api_state(&db).with_clock(clock.clone()))).await;
    let (admin, _) = login(&app, "admin@example.com").await;
    let (rep, _) = login(&app, "rep@example.com").await;
    let mut ids = Vec::new();
    for name in ["Cold", "Warm", "Hot"] {
        let (_, _, customer) = send(
            &app,
            request(
                "POST",
                "/api/v1/customers",
                Some(&rep),
                Some(json!({"kind": "company", "name": name})),
            ),
        )
        .await;
        ids.push(customer["id"].as_str().unwrap_or_default().to_string());
    }
    let log = |customer: &str, occurred_at: &str, behaviors: Value| {
        request(
            "POST",
            "/api/v1/activities",
            Some(&rep),
            Some(
                json!({"customer_id": customer, "kind": "call", "occurred_at": occurred_at,
                "subject": "Call", "behaviors": behaviors}),
            ),
        )
    };
    // Bad codes are listed with the other bad members, and nothing is written.
    let (status, _, problem) = send(
        &app,
        request(
            "POST",
            "/api/v1/activities",
            Some(&rep),
            Some(json!({"customer_id": ids[2], "kind": "call",
                "occurred_at": "2026-03-31T00:00:00Z", "subject": " ",
                "behaviors": ["requested_quote", "made_up", "requested_quote", "Bad Code"]})),
        ),
    )
    .await;
    assert_eq!(status, 422, "{problem}");
    assert_eq!(
        pointers(&problem),
        ["/subject", "/behaviors/1", "/behaviors/2", "/behaviors/3"]
    );
    let error_codes: Vec<&str> = problem["errors"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|e| e["code"].as_str())
        .collect();
    assert_eq!(
        error_codes,
        ["required", "unknown_behavior", "duplicate", "invalid_key"]
    );
    let activities_of = format!("/api/v1/activities?customer_id={}", ids[2]);
    let (_, _, none) = send(&app, request("GET", &activities_of, Some(&rep), None)).await;
    assert_eq!(none["items"], json!([]), "nothing was logged");
    // Hot: a quote request 90 days ago (20 → 10) and a demo 45 days ago (15 → 10.61).
    let (status, _, quote) = send(
        &app,
        log(&ids[2], "2026-01-01T00:00:00Z", json!(["requested_quote"])),
    )
    .await;
    assert_eq!(status, 201, "{quote}");
    assert_eq!(quote["behaviors"], json!(["requested_quote"]));
    let (_, _, demo) = send(
        &app,
        log(&ids[2], "2026-02-15T00:00:00Z", json!(["attended_demo"])),
    )
    .await;
    // Warm: a prompt reply today (5). Cold: no answer today (-10).
    send(&app, log(&ids[1], NOW, json!(["replied_promptly"]))).await;
    send(&app, log(&ids[0], NOW, json!(["no_answer_3x"]))).await;
    let score_uri = format!("/api/v1/customers/{}/score", ids[2]);
    let (status, _, score) = send(&app, request("GET", &score_uri, Some(&rep), None)).await;
    assert_eq!(status, 200, "{score}");
    assert_eq!(
        score,
        json!({
            "total": 21, "half_life_days": 90, "computed_at": NOW,
            "breakdown": [
                {"behavior": "attended_demo", "label": "Attended a demo",
                    "activity_id": demo["id"], "occurred_at": "2026-02-15T00:00:00Z",
                    "points": 15, "points_now": 10.61},
                {"behavior": "requested_quote", "label": "Requested a quote",
                    "activity_id": quote["id"], "occurred_at": "2026-01-01T00:00:00Z",
                    "points": 20, "points_now": 10.0},
            ]
        })
    );
    let overview_uri = format!("/api/v1/customers/{}/overview", ids[2]);
    let (_, _, overview) = send(&app, request("GET", &overview_uri, Some(&rep), None)).await;
    assert_eq!(
        overview["score"], score,
        "the overview explains the same score"
    );
    assert_eq!(overview["customer"]["score"], 21);
    let (_, _, ranked) = send(
        &app,
        request("GET", "/api/v1/customers?sort=-score", Some(&rep), None),
    )
    .await;
    assert_eq!(codes(&ranked, "name"), ["Hot", "Warm", "Cold"]);
    // Removing the demo takes its points away at once.
    let demo_uri = format!(
        "/api/v1/activities/{}",
        demo["id"].as_str().unwrap_or_default()
    );
    let (status, _, _) = send(&app, request("DELETE", &demo_uri, Some(&rep), None)).await;
    assert_eq!(status, 204);
    let customer_uri = format!("/api/v1/customers/{}", ids[2]);
    let (_, _, hot) = send(&app, request("GET", &customer_uri, Some(&rep), None)).await;
    assert_eq!(hot["score"], 10);
    // Ninety days on, the explained score has decayed; a shorter half-life decays it faster.
    clock.advance(Duration::days(90));
    let (_, _, later) = send(&app, request("GET", &score_uri, Some(&rep), None)).await;
    assert_eq!(
        (&later["total"], &later["breakdown"][0]["points_now"]),
        (&json!(5), &json!(5.0))
    );
    let settings = |body: Value| {
        request(
            "PATCH",
            "/api/v1/scoring/settings",
            Some(&admin),
            Some(body),
        )
    };
    let (status, _, problem) = send(&app, settings(json!({"half_life_days": 0}))).await;
    assert_eq!(status, 422);
    assert_eq!(pointers(&problem), ["/half_life_days"]);
    let (status, headers, changed) = send(
        &app,
        settings(json!({"half_life_days": 45})).insert_header(("If-Match", "\"1\"")),
    )
    .await;
    assert_eq!(status, 200, "{changed}");
    assert_eq!(header(&headers, "etag"), "\"2\"");
    assert_eq!(changed["half_life_days"], 45);
    let (_, _, read) = send(
        &app,
        request("GET", "/api/v1/scoring/settings", Some(&rep), None),
    )
    .await;
    assert_eq!(read, changed);
    let (_, _, faster) = send(&app, request("GET", &score_uri, Some(&rep), None)).await;
    assert_eq!(
        (&faster["total"], &faster["half_life_days"]),
        (&json!(1), &json!(45)),
        "20 after 180 days at 45 days: 1.25"
    );
}

backend_tests!(
    async actix: admins_keep_the_behaviour_catalogue,
    behaviours_score_customers
);
