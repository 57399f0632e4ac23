//! Activities over HTTP at a fixed clock: logging with a follow-up, every bad field listed with
//! nothing written, visibility, who may change what, follow-ups coming due, answered and
//! reopened, the customer's derived fields and overview, the newest-first list.

use std::sync::Arc;

use actix_web::test;
use chrono::{DateTime, Duration, Utc};
use crm_domain::clock::ManualClock;
use crm_domain::identity::Role;
use crm_persistence::test_support::TestDatabase;
use crm_tests::{api_state, backend_tests, header, login, pointers, request, seed_user, send};
use serde_json::{json, Value};

const NOW: &str = "2026-05-01T09:00:00Z";

fn at(raw: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(raw)
        .map(|t| t.with_timezone(&Utc))
        .unwrap_or_else(|e| panic!("{e}"))
}

fn id_of(body: &Value) -> String {
    body["id"].as_str().unwrap_or_default().to_string()
}

async fn follow_ups_come_due_and_are_answered(db: TestDatabase) {
    seed_user(&db, "rep@example.com", Role::Rep);
    let clock = Arc::new(ManualClock::new(at(NOW)));
    let app = test::init_service(crm_http::app(api_state(&db).with_clock(clock.clone()))).await;
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
    let customer_id = id_of(&customer);
    let (status, headers, first) = send(
        &app,
        request(
            "POST",
            "/api/v1/activities",
            Some(&token),
            Some(json!({
                "customer_id": customer_id, "kind": "call", "occurred_at": "2026-05-01T08:30:00Z",
                "subject": "  Discussed the Q1 order ", "content": "Wants a quote.",
                "attachments": [{"url": "https://files.example/brief.pdf", "name": "Brief"}],
                "follow_up": {"due_at": "2026-05-02T09:00:00Z", "note": "Send the quote"}
            })),
        ),
    )
    .await;
    assert_eq!(status, 201, "{first}");
    let first_id = id_of(&first);
    assert_eq!(
        header(&headers, "location"),
        format!("/api/v1/activities/{first_id}")
    );
    assert_eq!(header(&headers, "etag"), "\"1\"");
    assert_eq!(
        first,
        json!({
            "id": first_id, "customer_id": customer_id, "contact_id": null,
            "opportunity_id": null,
            "author_id": first["author_id"], "kind": "call",
            "occurred_at": "2026-05-01T08:30:00Z", "subject": "Discussed the Q1 order",
            "content": "Wants a quote.", "outcome": null,
            "attachments": [{"url": "https://files.example/brief.pdf", "name": "Brief"}],
            "follow_up": {"due_at": "2026-05-02T09:00:00Z", "note": "Send the quote",
                "state": "pending", "closed_at": null, "closed_by": null},
            "custom_fields": {}, "behaviors": [],
            "created_at": first["created_at"], "updated_at": first["updated_at"]
        })
    );
    let customer_uri = format!("/api/v1/customers/{customer_id}");
    let (_, _, read) = send(&app, request("GET", &customer_uri, Some(&token), None)).await;
    assert_eq!(
        (&read["last_activity_at"], &read["next_follow_up_at"]),
        (
            &json!("2026-05-01T08:30:00Z"),
            &json!("2026-05-02T09:00:00Z")
        )
    );
    // A day and a bit later the follow-up is overdue.
    clock.advance(Duration::hours(25));
    let first_uri = format!("/api/v1/activities/{first_id}");
    let (_, _, read) = send(&app, request("GET", &first_uri, Some(&token), None)).await;
    assert_eq!(read["follow_up"]["state"], "overdue");
    let (_, _, overview) = send(
        &app,
        request(
            "GET",
            &format!("{customer_uri}/overview"),
            Some(&token),
            None,
        ),
    )
    .await;
    assert_eq!(
        overview["pending_follow_ups"],
        json!([{"id": first_id, "due_at": "2026-05-02T09:00:00Z", "note": "Send the quote",
            "owner_id": first["author_id"]}])
    );
    assert_eq!(overview["timeline"][0]["id"], json!(first_id));
    assert_eq!(overview["days_since_last_contact"], 1);
    // The visit answers the call's follow-up.
    let (status, _, visit) = send(
        &app,
        request(
            "POST",
            "/api/v1/activities",
            Some(&token),
            Some(json!({"customer_id": customer_id, "kind": "visit",
                "occurred_at": "2026-05-02T10:00:00Z", "subject": "Brought the quote",
                "answers": first_id})),
        ),
    )
    .await;
    assert_eq!(status, 201, "{visit}");
    let (_, _, read) = send(&app, request("GET", &first_uri, Some(&token), None)).await;
    assert_eq!(
        (&read["follow_up"]["state"], &read["follow_up"]["closed_by"]),
        (&json!("done"), &visit["id"])
    );
    let (_, _, customer_now) = send(&app, request("GET", &customer_uri, Some(&token), None)).await;
    assert_eq!(
        (
            &customer_now["last_activity_at"],
            &customer_now["next_follow_up_at"]
        ),
        (&json!("2026-05-02T10:00:00Z"), &Value::Null)
    );
    // Removing the visit opens the follow-up again.
    let (status, _, _) = send(
        &app,
        request(
            "DELETE",
            &format!("/api/v1/activities/{}", id_of(&visit)),
            Some(&token),
            None,
        ),
    )
    .await;
    assert_eq!(status, 204);
    let (_, _, read) = send(&app, request("GET", &first_uri, Some(&token), None)).await;
    assert_eq!(read["follow_up"]["state"], "overdue");
    // Moved to a new time: pending again; a time in the past is refused.
    let (status, _, problem) = send(
        &app,
        request(
            "PATCH",
            &first_uri,
            Some(&token),
            Some(json!({"follow_up": {"due_at": "2026-05-01T00:00:00Z"}})),
        ),
    )
    .await;
    assert_eq!(
        (status, pointers(&problem)),
        (422, vec!["/follow_up/due_at".to_string()])
    );
    let (status, headers, moved) = send(
        &app,
        request(
            "PATCH",
            &first_uri,
            Some(&token),
            Some(json!({"follow_up": {"due_at": "2026-05-09T09:00:00Z", "note": null}})),
        ),
    )
    .await;
    assert_eq!(status, 200, "{moved}");
    assert_eq!(
        moved["follow_up"],
        json!({"due_at": "2026-05-09T09:00:00Z", "note": null, "state": "pending",
            "closed_at": null, "closed_by": null})
    );
    let version = header(&headers, "etag").to_string();
    // Cancelled with the version just read; a stale version is refused.
    let (status, _, _) = send(
        &app,
        request(
            "PATCH",
            &first_uri,
            Some(&token),
            Some(json!({"follow_up": {"state": "cancelled"}})),
        )
        .insert_header(("If-Match", "\"1\"")),
    )
    .await;
    assert_eq!(status, 412);
    let (status, _, cancelled) = send(
        &app,
        request(
            "PATCH",
            &first_uri,
            Some(&token),
            Some(json!({"follow_up": {"state": "cancelled"}})),
        )
        .insert_header(("If-Match", version.as_str())),
    )
    .await;
    assert_eq!(
        (status, &cancelled["follow_up"]["state"]),
        (200, &json!("cancelled"))
    );
    let (_, _, customer_now) = send(&app, request("GET", &customer_uri, Some(&token), None)).await;
    assert_eq!(customer_now["next_follow_up_at"], Value::Null);
}

async fn bad_activities_are_refused_whole(db: TestDatabase) {
    seed_user(&db, "rep@example.com", Role::Rep);
    let other_rep = seed_user(&db, "other@example.com", Role::Rep);
    let clock = Arc::new(ManualClock::new(at(NOW)));
    let app = test::init_service(crm_http::app(api_state(&db).with_clock(clock))).await;
    let (token, _) = login(&app, "rep@example.com").await;
    let (other, _) = login(&app, "other@example.com").await;
    let create =
        |token: &str, body: Value| request("POST", "/api/v1/customers", Some(token), Some(body));
    let (_, _, mine) = send(
        &app,
        create(&token, json!({"kind": "company", "name": "Mine"})),
    )
    .await;
    let (_, _, theirs) = send(
        &app,
        create(
            &other,
            json!({"kind": "company", "name": "Theirs", "owner_id": other_rep}),
        ),
    )
    .await;
    let (_, _, other_customer) = send(
        &app,
        create(&token, json!({"kind": "company", "name": "Second"})),
    )
    .await;
    let (_, _, their_contact) = send(
        &app,
        request(
            "POST",
            &format!("/api/v1/customers/{}/contacts", id_of(&other_customer)),
            Some(&token),
            Some(json!({"name": "Li"})),
        ),
    )
    .await;
    let (status, _, problem) = send(
        &app,
        request(
            "POST",
            "/api/v1/activities",
            Some(&token),
            Some(json!({
                "customer_id": id_of(&mine), "occurred_at": "2026-05-01T10:30:00Z",
                "subject": "   ", "attachments": [{"url": "ftp://files.example/x"}],
                "follow_up": {"due_at": "2026-04-30T09:00:00Z", "state": "done"},
                "custom_fields": {"nope": 1}
            })),
        ),
    )
    .await;
    assert_eq!(status, 422, "{problem}");
    assert_eq!(
        pointers(&problem),
        [
            "/kind",
            "/occurred_at",
            "/subject",
            "/attachments/0/url",
            "/follow_up/due_at",
            "/follow_up/state",
            "/custom_fields/nope"
        ]
    );
    let call = |customer: &Value, extra: Value| {
        let mut body = json!({"customer_id": id_of(customer), "kind": "call",
            "occurred_at": "2026-05-01T08:00:00Z", "subject": "Call"});
        if let (Some(body), Some(extra)) = (body.as_object_mut(), extra.as_object()) {
            body.extend(extra.clone());
        }
        request("POST", "/api/v1/activities", Some(&token), Some(body))
    };
    let (status, _, problem) = send(
        &app,
        call(&mine, json!({"contact_id": id_of(&their_contact)})),
    )
    .await;
    assert_eq!(
        (status, pointers(&problem)),
        (422, vec!["/contact_id".to_string()])
    );
    let (status, _, problem) = send(&app, call(&theirs, json!({}))).await;
    assert_eq!(
        (status, &problem["code"]),
        (404, &json!("not_found")),
        "{problem}"
    );
    let (status, _, problem) = send(
        &app,
        call(
            &mine,
            json!({"answers": "01936f0e-9c2d-7e3f-8a4b-5c6d7e8f9a0b"}),
        ),
    )
    .await;
    assert_eq!(
        (status, pointers(&problem)),
        (422, vec!["/answers".to_string()])
    );
    let (_, _, listed) = send(
        &app,
        request("GET", "/api/v1/activities", Some(&token), None),
    )
    .await;
    assert_eq!(listed["items"], json!([]), "nothing was written");
    let (_, _, customer) = send(
        &app,
        request(
            "GET",
            &format!("/api/v1/customers/{}", id_of(&mine)),
            Some(&token),
            None,
        ),
    )
    .await;
    assert_eq!(customer["last_activity_at"], Value::Null);
    // Another rep's activity on a pool customer: readable, not theirs to change.
    let (status, _, logged) = send(&app, call(&mine, json!({}))).await;
    assert_eq!(status, 201);
    let uri = format!("/api/v1/activities/{}", id_of(&logged));
    let (status, _, problem) = send(
        &app,
        request(
            "PATCH",
            &uri,
            Some(&token),
            Some(json!({"customer_id": id_of(&mine)})),
        ),
    )
    .await;
    assert_eq!(
        (status, pointers(&problem)),
        (422, vec!["/customer_id".to_string()])
    );
    let (_, _, pool) = send(
        &app,
        create(&token, json!({"kind": "company", "name": "Pool"})),
    )
    .await;
    let (_, _, released) = send(
        &app,
        request(
            "POST",
            &format!("/api/v1/customers/{}/release", id_of(&pool)),
            Some(&token),
            None,
        ),
    )
    .await;
    assert_eq!(released["owner_id"], Value::Null, "{released}");
    let (status, _, pooled) = send(&app, call(&pool, json!({}))).await;
    assert_eq!(status, 201);
    let pooled_uri = format!("/api/v1/activities/{}", id_of(&pooled));
    let (status, _, _) = send(&app, request("GET", &pooled_uri, Some(&other), None)).await;
    assert_eq!(status, 200);
    for (method, body) in [
        ("PATCH", Some(json!({"subject": "Mine now"}))),
        ("DELETE", None),
    ] {
        let (status, _, _) = send(&app, request(method, &pooled_uri, Some(&other), body)).await;
        assert_eq!(status, 403, "{method}");
    }
    // Mine (the owned customer's) is invisible to the other rep altogether.
    let (status, _, _) = send(&app, request("GET", &uri, Some(&other), None)).await;
    assert_eq!(status, 404);
}

async fn lists_are_newest_first(db: TestDatabase) {
    seed_user(&db, "rep@example.com", Role::Rep);
    seed_user(&db, "manager@example.com", Role::Manager);
    let clock = Arc::new(ManualClock::new(at(NOW)));
    let app = test::init_service(crm_http::app(api_state(&db).with_clock(clock))).await;
    let (token, _) = login(&app, "rep@example.com").await;
    let (manager, _) = login(&app, "manager@example.com").await;
    let (_, _, customer) = send(
        &app,
        request(
            "POST",
            "/api/v1/customers",
            Some(&token),
            Some(json!({"kind": "company", "name": "Pool"})),
        ),
    )
    .await;
    send(
        &app,
        request(
            "POST",
            &format!("/api/v1/customers/{}/release", id_of(&customer)),
            Some(&token),
            None,
        ),
    )
    .await;
    let mut subjects = Vec::new();
    for (n, (who, kind)) in [
        (&token, "call"),
        (&manager, "visit"),
        (&token, "email"),
        (&token, "call"),
    ]
    .into_iter()
    .enumerate()
    {
        let subject = format!("A{n}");
        let (status, _, body) = send(
            &app,
            request(
                "POST",
                "/api/v1/activities",
                Some(who),
                Some(json!({"customer_id": id_of(&customer), "kind": kind,
                    "occurred_at": format!("2026-04-0{}T09:00:00Z", n + 1), "subject": subject})),
            ),
        )
        .await;
        assert_eq!(status, 201, "{body}");
        subjects.push(subject);
    }
    subjects.reverse();
    let subjects_of = |query: &str| {
        let app = &app;
        let token = token.clone();
        let query = query.to_string();
        async move {
            let mut found = Vec::new();
            let mut uri = format!("/api/v1/activities?limit=1&{query}");
            loop {
                let (status, _, page) = send(app, request("GET", &uri, Some(&token), None)).await;
                assert_eq!(status, 200, "{query}: {page}");
                for item in page["items"].as_array().cloned().unwrap_or_default() {
                    found.push(item["subject"].as_str().unwrap_or_default().to_string());
                }
                match page["next_cursor"].as_str() {
                    Some(next) => uri = format!("/api/v1/activities?limit=1&{query}&cursor={next}"),
                    None => break found,
                }
            }
        }
    };
    assert_eq!(subjects_of("").await, subjects);
    assert_eq!(subjects_of("author_id=me").await, ["A3", "A2", "A0"]);
    assert_eq!(subjects_of("kind=call").await, ["A3", "A0"]);
    assert_eq!(
        subjects_of(&format!(
            "customer_id={}&occurred_after=2026-04-02T00:00:00Z&occurred_before=2026-04-04T00:00:00Z",
            id_of(&customer)
        ))
        .await,
        ["A2", "A1"]
    );
    for query in [
        "cursor=00",
        "author_id=someone",
        "kind=fax",
        "occurred_after=yesterday",
    ] {
        let (status, _, problem) = send(
            &app,
            request(
                "GET",
                &format!("/api/v1/activities?{query}"),
                Some(&token),
                None,
            ),
        )
        .await;
        assert_eq!(status, 400, "{query}: {problem}");
    }
}

async fn activities_carry_their_own_fields(db: TestDatabase) {
    seed_user(&db, "admin@example.com", Role::Admin);
    seed_user(&db, "rep@example.com", Role::Rep);
    let clock = Arc::new(ManualClock::new(at(NOW)));
    let app = test::init_service(crm_http::app(api_state(&db).with_clock(clock))).await;
    let (admin, _) = login(&app, "admin@example.com").await;
    let (token, _) = login(&app, "rep@example.com").await;
    let (status, _, field) = send(
        &app,
        request(
            "POST",
            "/api/v1/custom-fields",
            Some(&admin),
            Some(
                json!({"entity": "activity", "key": "minutes", "label": "Minutes",
                "type": "integer", "required": true, "rules": {"min": 1}}),
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
            Some(json!({"kind": "company", "name": "Acme"})),
        ),
    )
    .await;
    let body = |minutes: Value| {
        json!({"customer_id": id_of(&customer), "kind": "call",
            "occurred_at": "2026-05-01T08:00:00Z", "subject": "Call", "custom_fields": minutes})
    };
    for (values, pointer) in [
        (json!({}), "/custom_fields/minutes"),
        (json!({"minutes": 0}), "/custom_fields/minutes"),
    ] {
        let (status, _, problem) = send(
            &app,
            request(
                "POST",
                "/api/v1/activities",
                Some(&token),
                Some(body(values)),
            ),
        )
        .await;
        assert_eq!(
            (status, pointers(&problem)),
            (422, vec![pointer.to_string()]),
            "{problem}"
        );
    }
    let (status, _, logged) = send(
        &app,
        request(
            "POST",
            "/api/v1/activities",
            Some(&token),
            Some(body(json!({"minutes": 15}))),
        ),
    )
    .await;
    assert_eq!(
        (status, &logged["custom_fields"]),
        (201, &json!({"minutes": 15}))
    );
    let (status, _, changed) = send(
        &app,
        request(
            "PATCH",
            &format!("/api/v1/activities/{}", id_of(&logged)),
            Some(&token),
            Some(json!({"custom_fields": {"minutes": 20}, "outcome": "Quote requested"})),
        ),
    )
    .await;
    assert_eq!(status, 200, "{changed}");
    assert_eq!(
        (&changed["custom_fields"], &changed["outcome"]),
        (&json!({"minutes": 20}), &json!("Quote requested"))
    );
    let (status, _, other) = send(
        &app,
        request(
            "POST",
            "/api/v1/activities",
            Some(&token),
            Some(body(json!({"minutes": 5}))),
        ),
    )
    .await;
    assert_eq!(status, 201, "{other}");
    for (query, expected) in [
        ("cf.minutes[gte]=10", vec![id_of(&logged)]),
        ("cf.minutes=15", vec![]),
        ("cf.minutes[in]=5,20", vec![id_of(&other), id_of(&logged)]),
        ("cf.minutes[lte]=10&kind=call", vec![id_of(&other)]),
    ] {
        let (status, _, page) = send(
            &app,
            request(
                "GET",
                &format!("/api/v1/activities?{query}"),
                Some(&token),
                None,
            ),
        )
        .await;
        assert_eq!(status, 200, "{query}: {page}");
        let ids: Vec<String> = page["items"]
            .as_array()
            .map(|items| items.iter().map(id_of).collect())
            .unwrap_or_default();
        assert_eq!(ids, expected, "{query}");
    }
    for (query, pointer) in [
        ("cf.nope=1", "/query/cf.nope"),
        ("cf.minutes=many", "/query/cf.minutes"),
    ] {
        let (status, _, problem) = send(
            &app,
            request(
                "GET",
                &format!("/api/v1/activities?{query}"),
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

async fn reminders_by_due_day_and_owner(db: TestDatabase) {
    seed_user(&db, "rep@example.com", Role::Rep);
    seed_user(&db, "manager@example.com", Role::Manager);
    // 09:00 in Shanghai, 01:00 UTC.
    let clock = Arc::new(ManualClock::new(at("2026-05-01T01:00:00Z")));
    let app = test::init_service(crm_http::app(api_state(&db).with_clock(clock.clone()))).await;
    let (token, _) = login(&app, "rep@example.com").await;
    let (manager, _) = login(&app, "manager@example.com").await;
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
    send(
        &app,
        request(
            "POST",
            &format!("/api/v1/customers/{}/release", id_of(&customer)),
            Some(&token),
            None,
        ),
    )
    .await;
    // Due: 08:00 UTC today (16:00 Shanghai), 17:00 UTC today (01:00 tomorrow in Shanghai),
    // next week, and the manager's at 03:00 UTC.
    for (who, subject, due) in [
        (&token, "afternoon", "2026-05-01T08:00:00Z"),
        (&token, "late", "2026-05-01T17:00:00Z"),
        (&token, "next week", "2026-05-08T02:00:00Z"),
        (&manager, "manager's", "2026-05-01T03:00:00Z"),
    ] {
        let (status, _, body) = send(
            &app,
            request(
                "POST",
                "/api/v1/activities",
                Some(who),
                Some(json!({"customer_id": id_of(&customer), "kind": "call",
                    "occurred_at": "2026-05-01T00:30:00Z", "subject": subject,
                    "follow_up": {"due_at": due}})),
            ),
        )
        .await;
        assert_eq!(status, 201, "{body}");
    }
    // Nine hours on: 10:00 UTC, 18:00 in Shanghai.
    clock.advance(Duration::hours(9));
    let reminders = |query: &str| {
        let app = &app;
        let token = token.clone();
        let query = query.to_string();
        async move {
            let (status, _, page) = send(
                app,
                request(
                    "GET",
                    &format!("/api/v1/follow-ups?{query}"),
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
                        .map(|i| {
                            format!(
                                "{} {}",
                                i["subject"].as_str().unwrap_or_default(),
                                i["state"].as_str().unwrap_or_default()
                            )
                        })
                        .collect::<Vec<_>>()
                })
                .unwrap_or_default()
        }
    };
    assert_eq!(
        reminders("").await,
        ["afternoon overdue", "late pending", "next week pending"]
    );
    assert_eq!(reminders("due=overdue").await, ["afternoon overdue"]);
    assert_eq!(
        reminders("due=upcoming").await,
        ["late pending", "next week pending"]
    );
    assert_eq!(
        reminders("due=today").await,
        ["afternoon overdue", "late pending"],
        "today in UTC"
    );
    assert_eq!(
        reminders("due=today&tz=Asia/Shanghai").await,
        ["afternoon overdue"],
        "01:00 tomorrow in Shanghai is not today there"
    );
    assert_eq!(
        reminders("owner=all&due=overdue").await,
        ["manager's overdue", "afternoon overdue"]
    );
    let (_, _, page) = send(
        &app,
        request("GET", "/api/v1/follow-ups?limit=1", Some(&token), None),
    )
    .await;
    assert_eq!(
        page["items"][0],
        json!({"activity_id": page["items"][0]["activity_id"], "customer_id": id_of(&customer),
            "customer_name": "Acme", "customer_score": 0, "subject": "afternoon",
            "due_at": "2026-05-01T08:00:00Z", "note": null, "state": "overdue",
            "owner_id": page["items"][0]["owner_id"]})
    );
    let next = page["next_cursor"].as_str().unwrap_or_default();
    assert_eq!(
        reminders(&format!("limit=1&cursor={next}")).await,
        ["late pending"]
    );
    for query in ["tz=Mars/Olympus", "due=soon", "owner=someone", "cursor=00"] {
        let (status, _, problem) = send(
            &app,
            request(
                "GET",
                &format!("/api/v1/follow-ups?{query}"),
                Some(&token),
                None,
            ),
        )
        .await;
        assert_eq!(status, 400, "{query}: {problem}");
    }
}

async fn follow_ups_feed_a_calendar(db: TestDatabase) {
    use icalendar::{Calendar, CalendarComponent, Component, DatePerhapsTime};
    seed_user(&db, "rep@example.com", Role::Rep);
    seed_user(&db, "other@example.com", Role::Rep);
    let clock = Arc::new(ManualClock::new(at(NOW)));
    let app = test::init_service(crm_http::app(api_state(&db).with_clock(clock))).await;
    let (token, _) = login(&app, "rep@example.com").await;
    let (other, _) = login(&app, "other@example.com").await;
    let (_, _, customer) = send(
        &app,
        request(
            "POST",
            "/api/v1/customers",
            Some(&token),
            Some(json!({"kind": "company", "name": "上海星辰科技"})),
        ),
    )
    .await;
    for (who, subject, due, note) in [
        (
            &token,
            "Quote",
            "2026-05-02T09:00:00Z",
            Some("Send the quote; call Li, then email"),
        ),
        (&token, "Visit", "2026-05-05T02:00:00Z", None),
        (&other, "Not mine", "2026-05-03T09:00:00Z", None),
    ] {
        send(
            &app,
            request(
                "POST",
                &format!("/api/v1/customers/{}/release", id_of(&customer)),
                Some(&token),
                None,
            ),
        )
        .await;
        let (status, _, body) = send(
            &app,
            request(
                "POST",
                "/api/v1/activities",
                Some(who),
                Some(json!({"customer_id": id_of(&customer), "kind": "call",
                    "occurred_at": "2026-05-01T08:00:00Z", "subject": subject,
                    "follow_up": {"due_at": due, "note": note}})),
            ),
        )
        .await;
        assert_eq!(status, 201, "{body}");
    }
    let (status, headers, feed) = send(
        &app,
        request(
            "POST",
            "/api/v1/follow-ups/calendar-feed",
            Some(&token),
            None,
        ),
    )
    .await;
    assert_eq!(status, 201, "{feed}");
    assert_eq!(
        header(&headers, "location"),
        "/api/v1/follow-ups/calendar.ics"
    );
    let url = feed["url"].as_str().unwrap_or_default().to_string();
    assert_eq!(
        url,
        format!(
            "/api/v1/follow-ups/calendar.ics?token={}",
            feed["token"].as_str().unwrap_or_default()
        )
    );
    let fetch = |uri: String| {
        let app = &app;
        async move {
            let response =
                test::call_service(app, test::TestRequest::get().uri(&uri).to_request()).await;
            let status = response.status().as_u16();
            let kind = response
                .headers()
                .get("content-type")
                .and_then(|v| v.to_str().ok())
                .unwrap_or_default()
                .to_string();
            let body = test::read_body(response).await;
            (status, kind, String::from_utf8_lossy(&body).to_string())
        }
    };
    // No bearer: the token in the address is the credential.
    let (status, kind, text) = fetch(url.clone()).await;
    assert_eq!(
        (status, kind.as_str()),
        (200, "text/calendar; charset=utf-8"),
        "{text}"
    );
    let calendar: Calendar = text.parse().unwrap_or_else(|e| panic!("{e}: {text}"));
    let events: Vec<_> = calendar
        .components
        .iter()
        .filter_map(|c| match c {
            CalendarComponent::Event(event) => Some(event),
            _ => None,
        })
        .collect();
    let summaries: Vec<&str> = events.iter().filter_map(|e| e.get_summary()).collect();
    assert_eq!(
        summaries,
        [
            "Follow up: 上海星辰科技 — Quote",
            "Follow up: 上海星辰科技 — Visit"
        ],
        "the rep's own open follow-ups, soonest first"
    );
    assert_eq!(
        events[0].get_description(),
        Some("Send the quote; call Li, then email")
    );
    assert_eq!(
        events[0].get_start(),
        Some(DatePerhapsTime::DateTime(icalendar::CalendarDateTime::Utc(
            at("2026-05-02T09:00:00Z")
        )))
    );
    // A new feed revokes the old address; revoking ends the new one.
    let (_, _, renewed) = send(
        &app,
        request(
            "POST",
            "/api/v1/follow-ups/calendar-feed",
            Some(&token),
            None,
        ),
    )
    .await;
    let renewed_url = renewed["url"].as_str().unwrap_or_default().to_string();
    assert_eq!(fetch(url.clone()).await.0, 404);
    assert_eq!(fetch(renewed_url.clone()).await.0, 200);
    let (status, _, _) = send(
        &app,
        request(
            "DELETE",
            "/api/v1/follow-ups/calendar-feed",
            Some(&token),
            None,
        ),
    )
    .await;
    assert_eq!(status, 204);
    assert_eq!(fetch(renewed_url).await.0, 404);
    let (status, _, _) = send(
        &app,
        request(
            "DELETE",
            "/api/v1/follow-ups/calendar-feed",
            Some(&token),
            None,
        ),
    )
    .await;
    assert_eq!(status, 404, "nothing left to revoke");
    assert_eq!(
        fetch("/api/v1/follow-ups/calendar.ics?token=guess".into())
            .await
            .0,
        404
    );
    assert_eq!(fetch("/api/v1/follow-ups/calendar.ics".into()).await.0, 400);
}

backend_tests!(async actix:
    follow_ups_feed_a_calendar,
    reminders_by_due_day_and_owner,
    follow_ups_come_due_and_are_answered,
    bad_activities_are_refused_whole,
    lists_are_newest_first,
    activities_carry_their_own_fields,
);
