//! Users, teams and API keys through the API: exact bodies, headers, conditional updates,
//! refused input that changes nothing, and key revocation.

use actix_web::test;
use crm_domain::identity::Role;
use crm_domain::ports::{TeamStore, UserStore};
use crm_persistence::test_support::TestDatabase;
use crm_tests::{api_state, backend_tests, header, login, request, seed_user, send};
use serde_json::json;

async fn admin_creates_reads_and_lists_users(db: TestDatabase) {
    seed_user(&db, "admin@example.com", Role::Admin);
    let app = test::init_service(crm_http::app(api_state(&db))).await;
    let (admin, _) = login(&app, "admin@example.com").await;
    let body = json!({"email": " Zhang.San@Example.com", "display_name": " 张三 ", "role": "manager", "password": "twelve-chars-ok"});
    let (status, headers, user) = send(
        &app,
        request("POST", "/api/v1/users", Some(&admin), Some(body)),
    )
    .await;
    assert_eq!(status, 201, "{user}");
    let id = user["id"].as_str().unwrap_or_default().to_string();
    assert_eq!(header(&headers, "location"), format!("/api/v1/users/{id}"));
    assert_eq!(header(&headers, "etag"), "\"1\"");
    assert_eq!(user["email"], "Zhang.San@Example.com");
    assert_eq!(user["display_name"], "张三");
    assert_eq!(user["role"], "manager");
    assert_eq!(user["active"], true);
    assert_eq!(
        user.as_object().map(|o| o.len()),
        Some(7),
        "no password or hash in the body: {user}"
    );
    let (status, headers, read) = send(
        &app,
        request("GET", &format!("/api/v1/users/{id}"), Some(&admin), None),
    )
    .await;
    assert_eq!((status, header(&headers, "etag")), (200, "\"1\""));
    assert_eq!(read, user);
    let (_, _, page) = send(
        &app,
        request("GET", "/api/v1/users?limit=1", Some(&admin), None),
    )
    .await;
    assert_eq!(page["items"].as_array().map(Vec::len), Some(1));
    let cursor = page["next_cursor"].as_str().unwrap_or_default().to_string();
    let (_, _, next) = send(
        &app,
        request(
            "GET",
            &format!("/api/v1/users?limit=1&cursor={cursor}"),
            Some(&admin),
            None,
        ),
    )
    .await;
    assert_eq!(next["items"][0]["id"], id.as_str());
    assert_eq!(next["next_cursor"], serde_json::Value::Null);
    let (status, _, _) = send(
        &app,
        request(
            "GET",
            "/api/v1/users/01936f0e-0000-7000-8000-000000000000",
            Some(&admin),
            None,
        ),
    )
    .await;
    assert_eq!(status, 404);
}

async fn invalid_users_are_refused_with_every_problem_and_nothing_written(db: TestDatabase) {
    seed_user(&db, "admin@example.com", Role::Admin);
    let app = test::init_service(crm_http::app(api_state(&db))).await;
    let (admin, _) = login(&app, "admin@example.com").await;
    let body =
        json!({"email": "not-an-email", "display_name": "  ", "role": "boss", "password": "short"});
    let (status, _, problem) = send(
        &app,
        request("POST", "/api/v1/users", Some(&admin), Some(body)),
    )
    .await;
    assert_eq!(status, 422);
    let pointers: Vec<_> = problem["errors"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|e| e["pointer"].as_str().unwrap_or_default())
        .collect();
    assert_eq!(pointers, ["/email", "/display_name", "/role", "/password"]);
    let duplicate = json!({"email": "ADMIN@example.com", "display_name": "X", "role": "rep", "password": "twelve-chars-ok"});
    let (status, _, problem) = send(
        &app,
        request("POST", "/api/v1/users", Some(&admin), Some(duplicate)),
    )
    .await;
    assert_eq!(
        (status, problem["code"].as_str()),
        (409, Some("duplicate_email"))
    );
    let smuggled = json!({"email": "x@example.com", "display_name": "X", "role": "rep", "password": "twelve-chars-ok", "active": false});
    let (status, _, problem) = send(
        &app,
        request("POST", "/api/v1/users", Some(&admin), Some(smuggled)),
    )
    .await;
    assert_eq!(
        (status, problem["errors"][0]["pointer"].as_str()),
        (422, Some("/active"))
    );
    assert_eq!(db.database().count_users().ok(), Some(1));
}

async fn updates_honour_if_match(db: TestDatabase) {
    seed_user(&db, "admin@example.com", Role::Admin);
    let rep = seed_user(&db, "rep@example.com", Role::Rep);
    let app = test::init_service(crm_http::app(api_state(&db))).await;
    let (admin, _) = login(&app, "admin@example.com").await;
    let uri = format!("/api/v1/users/{rep}");
    let patch = |etag: &str, body| {
        request("PATCH", &uri, Some(&admin), Some(body))
            .insert_header(("If-Match", etag.to_string()))
    };
    let (status, headers, user) =
        send(&app, patch("\"1\"", json!({"display_name": "Rep One"}))).await;
    assert_eq!((status, header(&headers, "etag")), (200, "\"2\""));
    assert_eq!(user["display_name"], "Rep One");
    let (status, headers, problem) = send(&app, patch("\"1\"", json!({"role": "manager"}))).await;
    assert_eq!((status, header(&headers, "etag")), (412, "\"2\""));
    assert_eq!(problem["code"], "precondition_failed");
    let (status, _, problem) = send(
        &app,
        patch("\"2\"", json!({"role": null, "display_name": ""})),
    )
    .await;
    assert_eq!(status, 422);
    assert_eq!(problem["errors"].as_array().map(Vec::len), Some(2));
    assert_eq!(
        db.database().user(&rep).map(|u| (u.role, u.version)).ok(),
        Some((Role::Rep, 2))
    );
    let (status, _, _) = send(
        &app,
        request(
            "PATCH",
            &uri,
            Some(&admin),
            Some(json!({"role": "manager"})),
        ),
    )
    .await;
    assert_eq!(status, 200, "no If-Match: last write wins");
}

async fn the_last_admin_cannot_demote_themselves(db: TestDatabase) {
    let admin_id = seed_user(&db, "admin@example.com", Role::Admin);
    let app = test::init_service(crm_http::app(api_state(&db))).await;
    let (admin, _) = login(&app, "admin@example.com").await;
    let (status, _, problem) = send(
        &app,
        request(
            "PATCH",
            &format!("/api/v1/users/{admin_id}"),
            Some(&admin),
            Some(json!({"active": false})),
        ),
    )
    .await;
    assert_eq!(
        (status, problem["code"].as_str()),
        (409, Some("last_admin"))
    );
}

async fn teams_through_the_api(db: TestDatabase) {
    seed_user(&db, "admin@example.com", Role::Admin);
    let manager = seed_user(&db, "manager@example.com", Role::Manager);
    let rep = seed_user(&db, "rep@example.com", Role::Rep);
    let app = test::init_service(crm_http::app(api_state(&db))).await;
    let (admin, _) = login(&app, "admin@example.com").await;
    let bad = json!({"name": "", "manager_ids": [], "member_ids": ["nobody"]});
    let (status, _, problem) = send(
        &app,
        request("POST", "/api/v1/teams", Some(&admin), Some(bad)),
    )
    .await;
    assert_eq!(status, 422);
    let pointers: Vec<_> = problem["errors"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|e| e["pointer"].as_str().unwrap_or_default())
        .collect();
    assert_eq!(pointers, ["/name", "/manager_ids"]);
    let body = json!({"name": "East", "manager_ids": [manager], "member_ids": [rep]});
    let (status, headers, team) = send(
        &app,
        request("POST", "/api/v1/teams", Some(&admin), Some(body)),
    )
    .await;
    assert_eq!(status, 201, "{team}");
    let id = team["id"].as_str().unwrap_or_default().to_string();
    assert_eq!(header(&headers, "location"), format!("/api/v1/teams/{id}"));
    assert_eq!(team["manager_ids"], json!([manager]));
    assert_eq!(team["member_ids"], json!([rep]));
    let (status, _, team) = send(
        &app,
        request(
            "PATCH",
            &format!("/api/v1/teams/{id}"),
            Some(&admin),
            Some(json!({"member_ids": []})),
        ),
    )
    .await;
    assert_eq!(
        (status, team["member_ids"].clone(), team["name"].clone()),
        (200, json!([]), json!("East"))
    );
    let (status, _, _) = send(
        &app,
        request("DELETE", &format!("/api/v1/teams/{id}"), Some(&admin), None),
    )
    .await;
    assert_eq!(status, 204);
    let (status, _, _) = send(
        &app,
        request("GET", &format!("/api/v1/teams/{id}"), Some(&admin), None),
    )
    .await;
    assert_eq!(status, 404);
    assert_eq!(
        db.database()
            .list_teams(&crm_domain::page::PageRequest {
                limit: 10,
                after: None
            })
            .map(|p| p.items.len())
            .ok(),
        Some(0)
    );
}

async fn api_keys_work_until_revoked(db: TestDatabase) {
    seed_user(&db, "admin@example.com", Role::Admin);
    let app = test::init_service(crm_http::app(api_state(&db))).await;
    let (admin, _) = login(&app, "admin@example.com").await;
    let body = json!({"name": "Directory sync", "scopes": ["users:read", "users:read"]});
    let (status, headers, created) = send(
        &app,
        request("POST", "/api/v1/api-keys", Some(&admin), Some(body)),
    )
    .await;
    assert_eq!(status, 201, "{created}");
    let key = created["key"].as_str().unwrap_or_default().to_string();
    let id = created["id"].as_str().unwrap_or_default().to_string();
    assert!(key.starts_with("crm_") && key.len() == 47, "{key}");
    assert_eq!(created["prefix"], &key[..10]);
    assert_eq!(created["scopes"], json!(["users:read"]));
    assert_eq!(
        header(&headers, "location"),
        format!("/api/v1/api-keys/{id}")
    );
    let (status, _, me) = send(&app, request("GET", "/api/v1/me", Some(&key), None)).await;
    assert_eq!(status, 200);
    assert_eq!(
        me,
        json!({"kind": "api_key", "user": null, "api_key_id": id, "scopes": ["users:read"]})
    );
    let (_, _, listed) = send(&app, request("GET", "/api/v1/api-keys", Some(&admin), None)).await;
    assert_eq!(
        listed["items"][0].get("key"),
        None,
        "the secret is never listed"
    );
    assert!(listed["items"][0]["last_used_at"].is_string());
    let (status, _, _) = send(
        &app,
        request(
            "DELETE",
            &format!("/api/v1/api-keys/{id}"),
            Some(&admin),
            None,
        ),
    )
    .await;
    assert_eq!(status, 204);
    let (status, _, problem) = send(&app, request("GET", "/api/v1/me", Some(&key), None)).await;
    assert_eq!(
        (status, problem["code"].as_str()),
        (401, Some("invalid_api_key"))
    );
    let (status, _, _) = send(
        &app,
        request(
            "DELETE",
            &format!("/api/v1/api-keys/{id}"),
            Some(&admin),
            None,
        ),
    )
    .await;
    assert_eq!(status, 404);
    let bad = json!({"name": "x", "scopes": ["everything"]});
    let (status, _, problem) = send(
        &app,
        request("POST", "/api/v1/api-keys", Some(&admin), Some(bad)),
    )
    .await;
    assert_eq!(
        (status, problem["errors"][0]["pointer"].as_str()),
        (422, Some("/scopes/0"))
    );
}

async fn list_parameters_are_checked(db: TestDatabase) {
    seed_user(&db, "admin@example.com", Role::Admin);
    let app = test::init_service(crm_http::app(api_state(&db))).await;
    let (admin, _) = login(&app, "admin@example.com").await;
    for (query, pointer) in [
        ("limit=0", "/query/limit"),
        ("limit=201", "/query/limit"),
        ("cursor=%%%", "/query/cursor"),
    ] {
        let (status, _, problem) = send(
            &app,
            request("GET", &format!("/api/v1/users?{query}"), Some(&admin), None),
        )
        .await;
        assert_eq!(status, 400, "{query}");
        assert_eq!(problem["errors"][0]["pointer"], pointer, "{query}");
    }
    let (status, _, problem) = send(
        &app,
        request("GET", "/api/v1/users?sort=name", Some(&admin), None),
    )
    .await;
    assert_eq!(
        (status, problem["code"].as_str()),
        (400, Some("invalid_query"))
    );
    let (status, _, page) = send(
        &app,
        request("GET", "/api/v1/teams?limit=200", Some(&admin), None),
    )
    .await;
    assert_eq!(
        (status, page["items"].as_array().map(Vec::len)),
        (200, Some(0))
    );
    // Any cursor matching the documented pattern is a position, even one we never issued.
    let (status, _, page) = send(
        &app,
        request("GET", "/api/v1/users?cursor=00", Some(&admin), None),
    )
    .await;
    assert_eq!(
        (status, page["items"].as_array().map(Vec::len)),
        (200, Some(1))
    );
}

/// No database text column can hold NUL: it is refused at the door on both backends.
async fn nul_characters_are_refused_and_malformed_ids_are_404(db: TestDatabase) {
    seed_user(&db, "admin@example.com", Role::Admin);
    let app = test::init_service(crm_http::app(api_state(&db))).await;
    let (admin, _) = login(&app, "admin@example.com").await;
    let body = json!({"name": "East", "manager_ids": ["a", "b\u{0}c"], "member_ids": []});
    let (status, _, problem) = send(
        &app,
        request("POST", "/api/v1/teams", Some(&admin), Some(body)),
    )
    .await;
    assert_eq!(status, 422);
    assert_eq!(
        problem["errors"],
        json!([{"pointer": "/manager_ids/1", "code": "invalid_character", "message": "text must not contain the NUL character"}])
    );
    let body = json!({"email": "a\u{0}@example.com", "password": "whatever-password"});
    let (status, _, problem) = send(
        &app,
        request("POST", "/api/v1/auth/login", None, Some(body)),
    )
    .await;
    assert_eq!(
        (status, problem["errors"][0]["pointer"].as_str()),
        (422, Some("/email"))
    );
    for uri in [
        "/api/v1/users/not-a-uuid",
        "/api/v1/teams/%00",
        "/api/v1/users/01936f0e-0000-7000-8000-00000000000%00",
    ] {
        let (status, _, problem) = send(&app, request("GET", uri, Some(&admin), None)).await;
        assert_eq!(
            (status, problem["code"].as_str()),
            (404, Some("not_found")),
            "{uri}"
        );
    }
}

backend_tests!(async actix:
    admin_creates_reads_and_lists_users,
    invalid_users_are_refused_with_every_problem_and_nothing_written,
    updates_honour_if_match,
    the_last_admin_cannot_demote_themselves,
    teams_through_the_api,
    api_keys_work_until_revoked,
    list_parameters_are_checked,
    nul_characters_are_refused_and_malformed_ids_are_404,
);
