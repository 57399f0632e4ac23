//! `Idempotency-Key` on creating requests.

use actix_web::test;
use crm_domain::identity::Role;
use crm_persistence::test_support::TestDatabase;
use crm_tests::{api_state, backend_tests, header, login, request, seed_user, send};
use serde_json::json;

async fn a_retry_replays_the_first_answer(db: TestDatabase) {
    seed_user(&db, "rep@example.com", Role::Rep);
    seed_user(&db, "other@example.com", Role::Rep);
    let app = test::init_service(crm_http::app(api_state(&db))).await;
    let (token, _) = login(&app, "rep@example.com").await;
    let body = json!({"kind": "company", "name": "Retry Ltd", "phone": "13812345678"});
    let create = |token: &str, body: serde_json::Value| {
        request("POST", "/api/v1/customers", Some(token), Some(body))
            .insert_header(("Idempotency-Key", "import-row-17"))
    };
    let (status, headers, first) = send(&app, create(&token, body.clone())).await;
    assert_eq!(status, 201);
    assert_eq!(header(&headers, "idempotent-replayed"), "false");
    let location = header(&headers, "location").to_string();
    let (status, headers, again) = send(&app, create(&token, body.clone())).await;
    assert_eq!(status, 201, "replayed, not a duplicate conflict");
    assert_eq!(header(&headers, "idempotent-replayed"), "true");
    assert_eq!(header(&headers, "location"), location);
    assert_eq!(header(&headers, "etag"), "\"1\"");
    assert_eq!(again, first);
    let (_, _, page) = send(
        &app,
        request("GET", "/api/v1/customers", Some(&token), None),
    )
    .await;
    assert_eq!(
        page["items"].as_array().map(Vec::len),
        Some(1),
        "created once"
    );

    let (status, _, problem) = send(
        &app,
        create(&token, json!({"kind": "company", "name": "Other"})),
    )
    .await;
    assert_eq!(
        (status, problem["errors"][0]["code"].as_str()),
        (422, Some("idempotency_key_reused"))
    );

    // Keys belong to their caller: the same key from someone else is a new request.
    let (other, _) = login(&app, "other@example.com").await;
    let (status, _, problem) = send(&app, create(&other, body)).await;
    assert_eq!((status, problem["code"].as_str()), (409, Some("duplicate")));

    let (status, _, problem) = send(
        &app,
        request(
            "POST",
            "/api/v1/customers",
            Some(&token),
            Some(json!({"kind": "company", "name": "X"})),
        )
        .insert_header(("Idempotency-Key", "k".repeat(256))),
    )
    .await;
    assert_eq!(
        (status, problem["code"].as_str()),
        (400, Some("invalid_idempotency_key"))
    );
}

async fn refused_requests_are_replayed_too(db: TestDatabase) {
    seed_user(&db, "rep@example.com", Role::Rep);
    let app = test::init_service(crm_http::app(api_state(&db))).await;
    let (token, _) = login(&app, "rep@example.com").await;
    let bad = || {
        request(
            "POST",
            "/api/v1/customers",
            Some(&token),
            Some(json!({"kind": "company"})),
        )
        .insert_header(("Idempotency-Key", "bad-1"))
    };
    let (status, _, first) = send(&app, bad()).await;
    assert_eq!(status, 422);
    let (status, headers, again) = send(&app, bad()).await;
    assert_eq!(
        (status, header(&headers, "idempotent-replayed")),
        (422, "true")
    );
    assert_eq!(again["errors"], first["errors"]);
}

async fn a_second_start_while_running_is_in_progress(db: TestDatabase) {
    use crm_domain::ports::{IdempotencyStart, IdempotencyStore, StoredResponse};
    let store = db.database();
    let now = chrono::Utc::now();
    assert_eq!(
        store.start("user:a", "k", "h1", now),
        Ok(IdempotencyStart::Started)
    );
    assert_eq!(
        store.start("user:a", "k", "h1", now),
        Ok(IdempotencyStart::InProgress)
    );
    assert_eq!(
        store.start("user:a", "k", "h2", now),
        Ok(IdempotencyStart::Mismatch)
    );
    assert_eq!(
        store.start("user:b", "k", "h1", now),
        Ok(IdempotencyStart::Started)
    );
    let response = StoredResponse {
        status: 201,
        headers: vec![("location".into(), "/x".into())],
        body: "{}".into(),
    };
    assert_eq!(store.complete("user:a", "k", &response), Ok(()));
    assert_eq!(
        store.start("user:a", "k", "h1", now),
        Ok(IdempotencyStart::Replay(response))
    );
    let later = now + chrono::Duration::hours(25);
    assert_eq!(
        store.start("user:a", "k", "h2", later),
        Ok(IdempotencyStart::Started),
        "expired keys are reusable"
    );
    assert_eq!(store.abandon("user:b", "k"), Ok(()));
    assert_eq!(
        store.start("user:b", "k", "h9", now),
        Ok(IdempotencyStart::Started)
    );
}

backend_tests!(async actix:
    a_retry_replays_the_first_answer,
    refused_requests_are_replayed_too,
    a_second_start_while_running_is_in_progress,
);
