//! Login, refresh, logout, throttling, and every way an access token can be wrong.

use actix_web::test;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use crm_domain::identity::Role;
use crm_persistence::test_support::TestDatabase;
use crm_tests::{
    api_state, backend_tests, header, login, request, seed_user, send, PASSWORD, SIGNING_SECRET,
};
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use serde_json::{json, Value};

async fn login_returns_a_token_pair_that_works(db: TestDatabase) {
    let id = seed_user(&db, "Li.Wei@example.com", Role::Rep);
    let app = test::init_service(crm_http::app(api_state(&db))).await;
    let body = json!({"email": "  li.wei@EXAMPLE.com ", "password": PASSWORD});
    let (status, headers, tokens) = send(
        &app,
        request("POST", "/api/v1/auth/login", None, Some(body)),
    )
    .await;
    assert_eq!(status, 200, "{tokens}");
    assert_eq!(tokens["token_type"], "Bearer");
    assert_eq!(tokens["expires_in"], 900);
    assert_eq!(tokens["refresh_token"].as_str().map(str::len), Some(43));
    assert_eq!(header(&headers, "cache-control"), "");
    let access = tokens["access_token"].as_str().unwrap_or_default();
    let (status, headers, me) = send(&app, request("GET", "/api/v1/me", Some(access), None)).await;
    assert_eq!(status, 200);
    assert_eq!(header(&headers, "cache-control"), "no-store");
    assert_eq!(me["kind"], "user");
    assert_eq!(me["user"]["id"], id.as_str());
    assert_eq!(me["user"]["role"], "rep");
}

async fn unknown_email_and_wrong_password_get_the_same_answer(db: TestDatabase) {
    seed_user(&db, "rep@example.com", Role::Rep);
    let app = test::init_service(crm_http::app(api_state(&db))).await;
    let mut answers = Vec::new();
    for (email, password) in [
        ("rep@example.com", "wrong-password-1"),
        ("nobody@example.com", PASSWORD),
    ] {
        let body = json!({"email": email, "password": password});
        let (status, headers, mut problem) = send(
            &app,
            request("POST", "/api/v1/auth/login", None, Some(body)),
        )
        .await;
        assert_eq!(status, 401);
        assert_eq!(header(&headers, "www-authenticate"), "Bearer");
        problem["request_id"] = Value::Null;
        answers.push(problem);
    }
    assert_eq!(answers[0], answers[1]);
    assert_eq!(answers[0]["code"], "invalid_credentials");
}

async fn repeated_failures_lock_the_account_out(db: TestDatabase) {
    seed_user(&db, "rep@example.com", Role::Rep);
    let app = test::init_service(crm_http::app(api_state(&db))).await;
    let attempt = |password: &str| json!({"email": "rep@example.com", "password": password});
    for _ in 0..5 {
        let (status, _, _) = send(
            &app,
            request(
                "POST",
                "/api/v1/auth/login",
                None,
                Some(attempt("wrong-password-1")),
            ),
        )
        .await;
        assert_eq!(status, 401);
    }
    // Locked: even the right password is refused until the lockout ends.
    let (status, headers, problem) = send(
        &app,
        request("POST", "/api/v1/auth/login", None, Some(attempt(PASSWORD))),
    )
    .await;
    assert_eq!(status, 429);
    assert_eq!(problem["code"], "too_many_attempts");
    let retry_after: u64 = header(&headers, "retry-after").parse().unwrap_or_default();
    assert!((890..=900).contains(&retry_after), "{retry_after}");
    assert_eq!(header(&headers, "ratelimit-limit"), "5");
    assert_eq!(header(&headers, "ratelimit-remaining"), "0");
    assert_eq!(header(&headers, "ratelimit-reset"), retry_after.to_string());
}

async fn repeated_failures_lock_the_client_address_out(db: TestDatabase) {
    seed_user(&db, "rep@example.com", Role::Rep);
    let app = test::init_service(crm_http::app(api_state(&db))).await;
    let from = |address: &str, email: &str, password: &str| {
        request(
            "POST",
            "/api/v1/auth/login",
            None,
            Some(json!({"email": email, "password": password})),
        )
        .peer_addr(address.parse().unwrap_or_else(|e| panic!("{e}")))
    };
    // Twenty failures spread over many accounts, from one address.
    for i in 0..20 {
        let (status, _, _) = send(
            &app,
            from(
                "127.0.0.2:40000",
                &format!("guess{i}@example.com"),
                "wrong-password-1",
            ),
        )
        .await;
        assert_eq!(status, 401);
    }
    let (status, _, problem) =
        send(&app, from("127.0.0.2:40001", "rep@example.com", PASSWORD)).await;
    assert_eq!(
        (status, problem["code"].as_str()),
        (429, Some("too_many_attempts"))
    );
    let (status, _, _) = send(&app, from("127.0.0.3:40000", "rep@example.com", PASSWORD)).await;
    assert_eq!(status, 200, "another address is not affected");
}

async fn inactive_users_cannot_log_in(db: TestDatabase) {
    use crm_domain::identity::UserChanges;
    use crm_domain::ports::UserStore;
    let id = seed_user(&db, "rep@example.com", Role::Rep);
    let changes = UserChanges {
        active: Some(false),
        ..UserChanges::default()
    };
    db.database()
        .update_user(&id, changes, None)
        .unwrap_or_else(|e| panic!("{e}"));
    let app = test::init_service(crm_http::app(api_state(&db))).await;
    let body = json!({"email": "rep@example.com", "password": PASSWORD});
    let (status, _, problem) = send(
        &app,
        request("POST", "/api/v1/auth/login", None, Some(body)),
    )
    .await;
    assert_eq!(
        (status, problem["code"].as_str()),
        (401, Some("invalid_credentials"))
    );
}

async fn refresh_rotates_and_reuse_ends_the_session(db: TestDatabase) {
    seed_user(&db, "rep@example.com", Role::Rep);
    let app = test::init_service(crm_http::app(api_state(&db))).await;
    let (_, first) = login(&app, "rep@example.com").await;
    let refresh = |token: &str| {
        request(
            "POST",
            "/api/v1/auth/refresh",
            None,
            Some(json!({"refresh_token": token})),
        )
    };
    let (status, _, pair) = send(&app, refresh(&first)).await;
    assert_eq!(status, 200);
    let second = pair["refresh_token"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    assert_ne!(second, first);
    let access = pair["access_token"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    assert_eq!(
        send(&app, request("GET", "/api/v1/me", Some(&access), None))
            .await
            .0,
        200
    );
    // The first token again: reuse. The whole family dies, including `second`.
    let (status, _, problem) = send(&app, refresh(&first)).await;
    assert_eq!(
        (status, problem["code"].as_str()),
        (401, Some("invalid_refresh_token"))
    );
    let (status, _, _) = send(&app, refresh(&second)).await;
    assert_eq!(status, 401);
}

async fn logout_ends_the_session(db: TestDatabase) {
    seed_user(&db, "rep@example.com", Role::Rep);
    let app = test::init_service(crm_http::app(api_state(&db))).await;
    let (_, refresh_token) = login(&app, "rep@example.com").await;
    let body = json!({"refresh_token": refresh_token});
    let (status, _, _) = send(
        &app,
        request("POST", "/api/v1/auth/logout", None, Some(body.clone())),
    )
    .await;
    assert_eq!(status, 204);
    let (status, _, _) = send(
        &app,
        request("POST", "/api/v1/auth/refresh", None, Some(body.clone())),
    )
    .await;
    assert_eq!(status, 401);
    let (status, _, _) = send(
        &app,
        request("POST", "/api/v1/auth/logout", None, Some(body)),
    )
    .await;
    assert_eq!(status, 204, "logging out twice is fine");
}

async fn deactivation_and_password_change_end_sessions_at_once(db: TestDatabase) {
    seed_user(&db, "admin@example.com", Role::Admin);
    let rep = seed_user(&db, "rep@example.com", Role::Rep);
    let other = seed_user(&db, "other@example.com", Role::Rep);
    let app = test::init_service(crm_http::app(api_state(&db))).await;
    let (admin, _) = login(&app, "admin@example.com").await;
    for (user, change) in [
        (&rep, json!({"active": false})),
        (&other, json!({"password": "a-brand-new-password"})),
    ] {
        let email = if *user == rep {
            "rep@example.com"
        } else {
            "other@example.com"
        };
        let (access, refresh_token) = login(&app, email).await;
        assert_eq!(
            send(&app, request("GET", "/api/v1/me", Some(&access), None))
                .await
                .0,
            200
        );
        let (status, _, _) = send(
            &app,
            request(
                "PATCH",
                &format!("/api/v1/users/{user}"),
                Some(&admin),
                Some(change),
            ),
        )
        .await;
        assert_eq!(status, 200);
        let (status, _, problem) =
            send(&app, request("GET", "/api/v1/me", Some(&access), None)).await;
        assert_eq!(
            (status, problem["code"].as_str()),
            (401, Some("invalid_token")),
            "{email}"
        );
        let body = json!({"refresh_token": refresh_token});
        assert_eq!(
            send(
                &app,
                request("POST", "/api/v1/auth/refresh", None, Some(body))
            )
            .await
            .0,
            401
        );
    }
}

/// Builds a token with the given header and claims, signed with `secret` (or unsigned).
fn forge(header: Value, claims: Value, secret: Option<&[u8]>) -> String {
    let encode = |v: &Value| URL_SAFE_NO_PAD.encode(v.to_string());
    let unsigned = format!("{}.{}", encode(&header), encode(&claims));
    match secret {
        None => format!("{unsigned}."),
        Some(secret) => {
            let alg: Algorithm = header["alg"]
                .as_str()
                .unwrap_or("HS256")
                .parse()
                .unwrap_or(Algorithm::HS256);
            let mut h = Header::new(alg);
            h.typ = header["typ"].as_str().map(str::to_owned);
            jsonwebtoken::encode(&h, &claims, &EncodingKey::from_secret(secret)).unwrap_or_default()
        }
    }
}

async fn malformed_tokens_are_401_problems(db: TestDatabase) {
    let id = seed_user(&db, "rep@example.com", Role::Rep);
    let app = test::init_service(crm_http::app(api_state(&db))).await;
    let now = chrono::Utc::now().timestamp();
    let claims = json!({"sub": id, "iss": "crm", "aud": "crm-api", "exp": now + 600, "iat": now, "nbf": now, "jti": "x", "sgn": 0});
    let with = |key: &str, value: Value| {
        let mut c = claims.clone();
        c[key] = value;
        c
    };
    let without = |key: &str| {
        let mut c = claims.clone();
        c.as_object_mut().map(|o| o.remove(key));
        c
    };
    let hs256 = json!({"alg": "HS256", "typ": "at+jwt"});
    let good = forge(hs256.clone(), claims.clone(), Some(&SIGNING_SECRET));
    assert_eq!(
        send(&app, request("GET", "/api/v1/me", Some(&good), None))
            .await
            .0,
        200,
        "the control token works"
    );
    let mut tampered = good.clone();
    tampered.pop();
    tampered.push(if good.ends_with('A') { 'B' } else { 'A' });
    let cases = [
        (
            "alg none",
            forge(
                json!({"alg": "none", "typ": "at+jwt"}),
                claims.clone(),
                None,
            ),
        ),
        (
            "another algorithm",
            forge(
                json!({"alg": "HS384", "typ": "at+jwt"}),
                claims.clone(),
                Some(&SIGNING_SECRET),
            ),
        ),
        ("bad signature", tampered),
        (
            "another key",
            forge(hs256.clone(), claims.clone(), Some(&[9; 32])),
        ),
        (
            "expired",
            forge(
                hs256.clone(),
                with("exp", json!(now - 3600)),
                Some(&SIGNING_SECRET),
            ),
        ),
        (
            "wrong aud",
            forge(
                hs256.clone(),
                with("aud", json!("other-api")),
                Some(&SIGNING_SECRET),
            ),
        ),
        (
            "wrong iss",
            forge(
                hs256.clone(),
                with("iss", json!("someone-else")),
                Some(&SIGNING_SECRET),
            ),
        ),
        (
            "exp as a string",
            forge(
                hs256.clone(),
                with("exp", json!((now + 600).to_string())),
                Some(&SIGNING_SECRET),
            ),
        ),
        (
            "missing sub",
            forge(hs256.clone(), without("sub"), Some(&SIGNING_SECRET)),
        ),
        (
            "missing exp",
            forge(hs256.clone(), without("exp"), Some(&SIGNING_SECRET)),
        ),
        (
            "wrong typ",
            forge(
                json!({"alg": "HS256", "typ": "JWT"}),
                claims.clone(),
                Some(&SIGNING_SECRET),
            ),
        ),
        (
            "unknown user",
            forge(
                hs256.clone(),
                with("sub", json!("01936f0e-0000-7000-8000-000000000000")),
                Some(&SIGNING_SECRET),
            ),
        ),
        (
            "old session generation",
            forge(hs256.clone(), with("sgn", json!(-1)), Some(&SIGNING_SECRET)),
        ),
        ("not a token", "garbage".to_string()),
    ];
    for (case, token) in cases {
        let (status, headers, problem) =
            send(&app, request("GET", "/api/v1/me", Some(&token), None)).await;
        assert_eq!(status, 401, "{case}");
        assert_eq!(
            header(&headers, "content-type"),
            "application/problem+json",
            "{case}"
        );
        assert_eq!(header(&headers, "www-authenticate"), "Bearer", "{case}");
        let code = problem["code"].as_str().unwrap_or_default();
        let expected = if case == "expired" {
            "token_expired"
        } else {
            "invalid_token"
        };
        assert_eq!(code, expected, "{case}");
    }
    for bad_header in ["Basic cmVwOnB3", "Bearer", "Bearer  "] {
        let req = test::TestRequest::get()
            .uri("/api/v1/me")
            .insert_header(("Authorization", bad_header));
        let (status, _, problem) = send(&app, req).await;
        assert_eq!(
            (status, problem["code"].as_str()),
            (401, Some("missing_credentials")),
            "{bad_header}"
        );
    }
}

async fn token_of_a_deactivated_user_is_refused(db: TestDatabase) {
    use crm_domain::identity::UserChanges;
    use crm_domain::ports::UserStore;
    let id = seed_user(&db, "rep@example.com", Role::Rep);
    let app = test::init_service(crm_http::app(api_state(&db))).await;
    let (access, _) = login(&app, "rep@example.com").await;
    let changes = UserChanges {
        active: Some(false),
        ..UserChanges::default()
    };
    db.database()
        .update_user(&id, changes, None)
        .unwrap_or_else(|e| panic!("{e}"));
    let (status, _, problem) = send(&app, request("GET", "/api/v1/me", Some(&access), None)).await;
    assert_eq!(
        (status, problem["code"].as_str()),
        (401, Some("invalid_token"))
    );
}

async fn login_body_problems_are_listed(db: TestDatabase) {
    let app = test::init_service(crm_http::app(api_state(&db))).await;
    let (status, _, problem) = send(
        &app,
        request(
            "POST",
            "/api/v1/auth/login",
            None,
            Some(json!({"email": "a@b.c"})),
        ),
    )
    .await;
    assert_eq!(status, 422);
    assert_eq!(
        problem["errors"],
        json!([{"pointer": "/password", "code": "required", "message": "missing field `password`"}])
    );
    let (status, _, problem) = send(
        &app,
        request(
            "POST",
            "/api/v1/auth/login",
            None,
            Some(json!({"email": "a@b.c", "password": "x", "remember": true})),
        ),
    )
    .await;
    assert_eq!(status, 422);
    assert_eq!(problem["errors"][0]["pointer"], "/remember");
    assert_eq!(problem["errors"][0]["code"], "unknown_field");
}

backend_tests!(async actix:
    login_returns_a_token_pair_that_works,
    unknown_email_and_wrong_password_get_the_same_answer,
    repeated_failures_lock_the_account_out,
    repeated_failures_lock_the_client_address_out,
    inactive_users_cannot_log_in,
    refresh_rotates_and_reuse_ends_the_session,
    logout_ends_the_session,
    deactivation_and_password_change_end_sessions_at_once,
    malformed_tokens_are_401_problems,
    token_of_a_deactivated_user_is_refused,
    login_body_problems_are_listed,
);
