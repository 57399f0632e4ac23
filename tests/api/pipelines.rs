//! Pipelines over HTTP: the seeded default, every bad member listed with nothing written, stages
//! added, changed and reordered under the pipeline's `ETag`, the kinds a pipeline keeps, and one
//! default at a time.

use actix_web::test;
use crm_domain::identity::Role;
use crm_persistence::test_support::TestDatabase;
use crm_tests::{api_state, backend_tests, header, login, pointers, request, seed_user, send};
use serde_json::{json, Value};

fn stage_names(pipeline: &Value) -> Vec<&str> {
    pipeline["stages"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|s| s["name"].as_str())
        .collect()
}

fn stage_ids(pipeline: &Value) -> Vec<String> {
    pipeline["stages"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|s| s["id"].as_str().map(str::to_string))
        .collect()
}

async fn admins_shape_pipelines(db: TestDatabase) {
    seed_user(&db, "admin@example.com", Role::Admin);
    seed_user(&db, "rep@example.com", Role::Rep);
    let app = test::init_service(crm_http::app(api_state(&db))).await;
    let (admin, _) = login(&app, "admin@example.com").await;
    let (rep, _) = login(&app, "rep@example.com").await;
    let (status, _, list) = send(&app, request("GET", "/api/v1/pipelines", Some(&rep), None)).await;
    assert_eq!(status, 200);
    let default = list["items"][0].clone();
    assert_eq!(
        (&default["name"], &default["is_default"]),
        (&json!("New business"), &json!(true))
    );
    assert_eq!(stage_names(&default).len(), 8);
    assert_eq!(
        default["stages"][0]["checklist"][0],
        json!({"id": "01930000-0000-7000-8000-000000000201", "label": "Budget confirmed",
            "required": true})
    );
    // Every bad member listed; nothing written.
    let (status, _, problem) = send(
        &app,
        request(
            "POST",
            "/api/v1/pipelines",
            Some(&admin),
            Some(json!({"name": " ", "stages": [
                {"name": "Talk", "probability": 120, "kind": "open",
                    "checklist": [{"label": " ", "required": true}]},
                {"name": "Signed", "probability": 90, "kind": "won"}]})),
        ),
    )
    .await;
    assert_eq!(status, 422, "{problem}");
    assert_eq!(
        pointers(&problem),
        [
            "/name",
            "/stages",
            "/stages/0/probability",
            "/stages/0/checklist/0/label",
            "/stages/1/probability"
        ]
    );
    let (_, _, unchanged) = send(&app, request("GET", "/api/v1/pipelines", Some(&rep), None)).await;
    assert_eq!(unchanged["items"].as_array().map(Vec::len), Some(1));
    let (status, headers, made) = send(
        &app,
        request(
            "POST",
            "/api/v1/pipelines",
            Some(&admin),
            Some(json!({"name": "Renewal", "stages": [
                {"name": "Renewal due", "probability": 50, "kind": "open",
                    "guidance": "Review usage first.",
                    "checklist": [{"label": "Usage reviewed", "required": true}]},
                {"name": "Renewed", "probability": 100, "kind": "won"},
                {"name": "Churned", "probability": 0, "kind": "lost"}]})),
        ),
    )
    .await;
    assert_eq!(status, 201, "{made}");
    let id = made["id"].as_str().unwrap_or_default().to_string();
    let uri = format!("/api/v1/pipelines/{id}");
    assert_eq!(header(&headers, "location"), uri);
    assert_eq!(made["is_default"], false);
    assert_eq!(stage_names(&made), ["Renewal due", "Renewed", "Churned"]);
    let item = made["stages"][0]["checklist"][0]["id"].clone();
    // A stage added second, under the version read.
    let (status, headers, added) = send(
        &app,
        request(
            "POST",
            &format!("{uri}/stages"),
            Some(&admin),
            Some(json!({"name": "Offer sent", "probability": 75, "kind": "open", "position": 1})),
        )
        .insert_header(("If-Match", "\"1\"")),
    )
    .await;
    assert_eq!(status, 201, "{added}");
    assert_eq!(header(&headers, "etag"), "\"2\"");
    assert_eq!(
        stage_names(&added),
        ["Renewal due", "Offer sent", "Renewed", "Churned"]
    );
    let ids = stage_ids(&added);
    let (status, headers, _) = send(
        &app,
        request(
            "POST",
            &format!("{uri}/stages"),
            Some(&admin),
            Some(json!({"name": "Late", "probability": 5, "kind": "open"})),
        )
        .insert_header(("If-Match", "\"1\"")),
    )
    .await;
    assert_eq!((status, header(&headers, "etag")), (412, "\"2\""));
    // Lengths count as sent: spaces around a 200-character label make it too long.
    let (status, _, problem) = send(
        &app,
        request(
            "POST",
            &format!("{uri}/stages"),
            Some(&admin),
            Some(json!({"name": "Padded", "probability": 5, "kind": "open",
                "checklist": [{"label": format!(" {} ", "x".repeat(200))}]})),
        ),
    )
    .await;
    assert_eq!(status, 422, "{problem}");
    assert_eq!(pointers(&problem), ["/checklist/0/label"]);
    // A stage's checklist keeps its items by id.
    let stage_uri = format!("{uri}/stages/{}", ids[0]);
    let (status, _, changed) = send(
        &app,
        request(
            "PATCH",
            &stage_uri,
            Some(&admin),
            Some(json!({"probability": 55, "checklist": [
                {"id": item, "label": "Usage reviewed", "required": true},
                {"label": "Price agreed"}]})),
        ),
    )
    .await;
    assert_eq!(status, 200, "{changed}");
    assert_eq!(changed["stages"][0]["probability"], 55);
    assert_eq!(changed["stages"][0]["checklist"][0]["id"], item);
    assert_eq!(changed["stages"][0]["checklist"][1]["required"], false);
    let (status, _, problem) = send(
        &app,
        request(
            "PATCH",
            &stage_uri,
            Some(&admin),
            Some(json!({"kind": "won", "name": null})),
        ),
    )
    .await;
    assert_eq!(status, 422);
    assert_eq!(pointers(&problem), ["/name", "/probability"]);
    // The last lost stage stays lost.
    let (status, _, conflict) = send(
        &app,
        request(
            "PATCH",
            &format!("{uri}/stages/{}", ids[3]),
            Some(&admin),
            Some(json!({"kind": "open", "probability": 10})),
        ),
    )
    .await;
    assert_eq!(
        (status, conflict["code"].as_str()),
        (409, Some("stage_kinds"))
    );
    // Reordering names every stage once.
    let order_uri = format!("{uri}/stage-order");
    let (status, _, problem) = send(
        &app,
        request(
            "PUT",
            &order_uri,
            Some(&admin),
            Some(json!({"stage_ids": [ids[0]]})),
        ),
    )
    .await;
    assert_eq!(status, 422);
    assert_eq!(pointers(&problem), ["/stage_ids"]);
    // Too many ids is a 422 before any precondition is looked at.
    let many: Vec<String> = (0..31)
        .map(|i| format!("01930000-0000-7000-8000-{i:012}"))
        .collect();
    let (status, _, problem) = send(
        &app,
        request(
            "PUT",
            &order_uri,
            Some(&admin),
            Some(json!({"stage_ids": many})),
        )
        .insert_header(("If-Match", "null")),
    )
    .await;
    assert_eq!(status, 422, "{problem}");
    assert_eq!(problem["errors"][0]["code"], "too_many");
    let reversed: Vec<&String> = ids.iter().rev().collect();
    let (status, _, reordered) = send(
        &app,
        request(
            "PUT",
            &order_uri,
            Some(&admin),
            Some(json!({"stage_ids": reversed})),
        ),
    )
    .await;
    assert_eq!(status, 200, "{reordered}");
    assert_eq!(
        stage_names(&reordered),
        ["Churned", "Renewed", "Offer sent", "Renewal due"]
    );
    // Removing a stage: `move_to` must be another stage of the pipeline.
    let offer_uri = format!("{uri}/stages/{}", ids[1]);
    let (status, _, problem) = send(
        &app,
        request(
            "DELETE",
            &format!("{offer_uri}?move_to={}", ids[1]),
            Some(&admin),
            None,
        ),
    )
    .await;
    assert_eq!(status, 400);
    assert_eq!(pointers(&problem), ["/query/move_to"]);
    let (status, _, removed) = send(&app, request("DELETE", &offer_uri, Some(&admin), None)).await;
    assert_eq!(status, 200, "{removed}");
    assert_eq!(stage_names(&removed), ["Churned", "Renewed", "Renewal due"]);
    // One default at a time; the default cannot just stop being one.
    let default_uri = format!(
        "/api/v1/pipelines/{}",
        default["id"].as_str().unwrap_or_default()
    );
    let (status, _, problem) = send(
        &app,
        request(
            "PATCH",
            &default_uri,
            Some(&admin),
            Some(json!({"is_default": false})),
        ),
    )
    .await;
    assert_eq!(status, 422);
    assert_eq!(pointers(&problem), ["/is_default"]);
    let (status, _, now_default) = send(
        &app,
        request(
            "PATCH",
            &uri,
            Some(&admin),
            Some(json!({"is_default": true})),
        ),
    )
    .await;
    assert_eq!((status, &now_default["is_default"]), (200, &json!(true)));
    let (_, _, former) = send(&app, request("GET", &default_uri, Some(&rep), None)).await;
    assert_eq!(former["is_default"], false);
    let (status, _, taken) = send(
        &app,
        request(
            "PATCH",
            &uri,
            Some(&admin),
            Some(json!({"name": "New business"})),
        ),
    )
    .await;
    assert_eq!(
        (status, taken["code"].as_str()),
        (409, Some("pipeline_exists"))
    );
}

backend_tests!(async actix: admins_shape_pipelines);
