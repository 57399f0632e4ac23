//! The authorization matrix: every protected operation × every kind of caller, from one table.
//! Each later resource adds its rows here (and, for records, the owned / team / other / pool
//! columns); a test fails while an operation in the spec has no row.

use std::collections::BTreeSet;

use crm_domain::identity::{Role, Scope};
use crm_domain::ports::{ApiKeyStore, CustomFieldStore, NewApiKey, TeamStore};
use crm_domain::secrets::{new_api_key, token_digest};
use crm_persistence::test_support::TestDatabase;
use crm_tests::{api_state, backend_tests, login, request, seed_user, send};
use serde_json::{json, Value};

/// The callers of the matrix, in column order.
const CALLERS: [&str; 6] = [
    "admin",
    "manager",
    "rep",
    "key users:read",
    "key customers:read",
    "anonymous",
];

/// `(operation id, method, path, body, expected status per caller)`; `{user}`, `{team}` and
/// `{key}` in the path are replaced by fresh records for every call.
type Row = (
    &'static str,
    &'static str,
    &'static str,
    Option<Value>,
    [u16; 6],
);

/// Whose customer `{customer}` is: the calling rep's, a teammate's (in the manager's team), an
/// outsider's, or nobody's (the pool).
#[derive(Debug, Clone, Copy)]
enum Target {
    Own,
    Teammate,
    Other,
    Pool,
}

/// Rows about one customer: the expected statuses per target and caller.
type RecordRow = (
    &'static str,
    &'static str,
    &'static str,
    Option<Value>,
    [(Target, [u16; 6]); 4],
);

/// `expected` with every 200 replaced by `success`.
fn statuses(expected: [(Target, [u16; 6]); 4], success: u16) -> [(Target, [u16; 6]); 4] {
    expected.map(|(target, row)| (target, row.map(|s| if s == 200 { success } else { s })))
}

fn record_rows() -> Vec<RecordRow> {
    use Target::*;
    let read = [
        (Own, [200, 200, 200, 403, 200, 401]),
        (Teammate, [200, 200, 404, 403, 200, 401]),
        (Other, [200, 404, 404, 403, 200, 401]),
        (Pool, [200, 200, 200, 403, 200, 401]),
    ];
    let write = [
        (Own, [200, 200, 200, 403, 403, 401]),
        (Teammate, [200, 200, 404, 403, 403, 401]),
        (Other, [200, 404, 404, 403, 403, 401]),
        (Pool, [200, 200, 200, 403, 403, 401]),
    ];
    vec![
        (
            "get_customer",
            "GET",
            "/api/v1/customers/{customer}",
            None,
            read,
        ),
        (
            "list_customer_history",
            "GET",
            "/api/v1/customers/{customer}/history",
            None,
            read,
        ),
        (
            "update_customer",
            "PATCH",
            "/api/v1/customers/{customer}",
            Some(json!({"name": "Renamed"})),
            [
                (Own, [200, 200, 200, 403, 403, 401]),
                (Teammate, [200, 200, 404, 403, 403, 401]),
                (Other, [200, 404, 404, 403, 403, 401]),
                (Pool, [200, 200, 200, 403, 403, 401]),
            ],
        ),
        (
            "delete_customer",
            "DELETE",
            "/api/v1/customers/{customer}",
            None,
            [
                (Own, [204, 204, 403, 403, 403, 401]),
                (Teammate, [204, 204, 403, 403, 403, 401]),
                (Other, [204, 404, 403, 403, 403, 401]),
                (Pool, [204, 204, 403, 403, 403, 401]),
            ],
        ),
        (
            "claim_customer",
            "POST",
            "/api/v1/customers/{customer}/claim",
            None,
            [
                (Own, [409, 409, 409, 403, 403, 401]),
                (Teammate, [409, 409, 404, 403, 403, 401]),
                (Other, [409, 404, 404, 403, 403, 401]),
                (Pool, [200, 200, 200, 403, 403, 401]),
            ],
        ),
        (
            "release_customer",
            "POST",
            "/api/v1/customers/{customer}/release",
            None,
            [
                (Own, [200, 200, 200, 403, 403, 401]),
                (Teammate, [200, 200, 404, 403, 403, 401]),
                (Other, [200, 404, 404, 403, 403, 401]),
                (Pool, [409, 409, 409, 403, 403, 401]),
            ],
        ),
        (
            "get_customer_score",
            "GET",
            "/api/v1/customers/{customer}/score",
            None,
            read,
        ),
        (
            "create_opportunity",
            "POST",
            "/api/v1/opportunities",
            Some(json!({"customer_id": "{customer}", "name": "Matrix {n}"})),
            statuses(write, 201),
        ),
        (
            "get_opportunity",
            "GET",
            "/api/v1/opportunities/{opportunity}",
            None,
            // Keys read opportunities with `opportunities:read`, not with `customers:read`.
            read.map(|(target, mut row)| {
                row[4] = 403;
                (target, row)
            }),
        ),
        (
            "list_opportunity_history",
            "GET",
            "/api/v1/opportunities/{opportunity}/history",
            None,
            read.map(|(target, mut row)| {
                row[4] = 403;
                (target, row)
            }),
        ),
        (
            "update_opportunity",
            "PATCH",
            "/api/v1/opportunities/{opportunity}",
            Some(json!({"name": "Changed"})),
            [
                // The seeded opportunity is nobody's here: only managers and admins may change it.
                (Own, [200, 200, 403, 403, 403, 401]),
                (Teammate, [200, 200, 404, 403, 403, 401]),
                (Other, [200, 404, 404, 403, 403, 401]),
                (Pool, [200, 200, 403, 403, 403, 401]),
            ],
        ),
        (
            "create_stage_change",
            "POST",
            "/api/v1/opportunities/{opportunity}/stage-changes",
            // To the default pipeline's lost stage, which no checklist gates.
            Some(json!({"to_stage_id": "01930000-0000-7000-8000-000000000108"})),
            [
                (Own, [201, 201, 403, 403, 403, 401]),
                (Teammate, [201, 201, 404, 403, 403, 401]),
                (Other, [201, 404, 404, 403, 403, 401]),
                (Pool, [201, 201, 403, 403, 403, 401]),
            ],
        ),
        (
            "get_customer_overview",
            "GET",
            "/api/v1/customers/{customer}/overview",
            None,
            read,
        ),
        (
            "list_customer_contacts",
            "GET",
            "/api/v1/customers/{customer}/contacts",
            None,
            read,
        ),
        (
            "get_contact",
            "GET",
            "/api/v1/customers/{customer}/contacts/{contact}",
            None,
            read,
        ),
        (
            "create_contact",
            "POST",
            "/api/v1/customers/{customer}/contacts",
            Some(json!({"name": "Li Na"})),
            statuses(write, 201),
        ),
        (
            "update_contact",
            "PATCH",
            "/api/v1/customers/{customer}/contacts/{contact}",
            Some(json!({"title": "Buyer"})),
            write,
        ),
        (
            "delete_contact",
            "DELETE",
            "/api/v1/customers/{customer}/contacts/{contact}",
            None,
            statuses(write, 204),
        ),
        (
            "create_activity",
            "POST",
            "/api/v1/activities",
            Some(json!({"customer_id": "{customer}", "kind": "call",
                "occurred_at": "2026-01-01T00:00:00Z", "subject": "Matrix {n}"})),
            statuses(write, 201),
        ),
        (
            "get_activity",
            "GET",
            "/api/v1/activities/{activity}",
            None,
            // Keys read activities with `activities:read` (see the test below), not with
            // `customers:read`.
            read.map(|(target, mut row)| {
                row[4] = 403;
                (target, row)
            }),
        ),
        (
            "update_activity",
            "PATCH",
            "/api/v1/activities/{activity}",
            Some(json!({"subject": "Changed"})),
            [
                // The seeded activity is nobody's here: only managers and admins may change it.
                (Own, [200, 200, 403, 403, 403, 401]),
                (Teammate, [200, 200, 404, 403, 403, 401]),
                (Other, [200, 404, 404, 403, 403, 401]),
                (Pool, [200, 200, 403, 403, 403, 401]),
            ],
        ),
        (
            "delete_activity",
            "DELETE",
            "/api/v1/activities/{activity}",
            None,
            [
                (Own, [204, 204, 403, 403, 403, 401]),
                (Teammate, [204, 204, 404, 403, 403, 401]),
                (Other, [204, 404, 404, 403, 403, 401]),
                (Pool, [204, 204, 403, 403, 403, 401]),
            ],
        ),
        (
            "restore_customer",
            "POST",
            "/api/v1/customers/{customer}/restore",
            None,
            [
                (Own, [409, 403, 403, 403, 403, 401]),
                (Teammate, [409, 403, 403, 403, 403, 401]),
                (Other, [409, 403, 403, 403, 403, 401]),
                (Pool, [409, 403, 403, 403, 403, 401]),
            ],
        ),
        (
            "assign_customer",
            "POST",
            "/api/v1/customers/{customer}/assign",
            Some(json!({"owner_id": "{rep}"})),
            [
                (Own, [200, 200, 403, 403, 403, 401]),
                (Teammate, [200, 200, 403, 403, 403, 401]),
                (Other, [200, 404, 403, 403, 403, 401]),
                (Pool, [200, 200, 403, 403, 403, 401]),
            ],
        ),
    ]
}

fn rows() -> Vec<Row> {
    let team = json!({"name": "Team {n}", "manager_ids": ["{manager}"], "member_ids": []});
    vec![
        (
            "get_me",
            "GET",
            "/api/v1/me",
            None,
            [200, 200, 200, 200, 403, 401],
        ),
        (
            "list_users",
            "GET",
            "/api/v1/users",
            None,
            [200, 403, 403, 200, 403, 401],
        ),
        (
            "get_user",
            "GET",
            "/api/v1/users/{user}",
            None,
            [200, 403, 403, 200, 403, 401],
        ),
        (
            "create_user",
            "POST",
            "/api/v1/users",
            Some(
                json!({"email": "new{n}@example.com", "display_name": "New", "role": "rep", "password": "a-long-password"}),
            ),
            [201, 403, 403, 403, 403, 401],
        ),
        (
            "update_user",
            "PATCH",
            "/api/v1/users/{user}",
            Some(json!({"display_name": "Renamed"})),
            [200, 403, 403, 403, 403, 401],
        ),
        (
            "list_teams",
            "GET",
            "/api/v1/teams",
            None,
            [200, 403, 403, 200, 403, 401],
        ),
        (
            "get_team",
            "GET",
            "/api/v1/teams/{team}",
            None,
            [200, 403, 403, 200, 403, 401],
        ),
        (
            "create_team",
            "POST",
            "/api/v1/teams",
            Some(team),
            [201, 403, 403, 403, 403, 401],
        ),
        (
            "update_team",
            "PATCH",
            "/api/v1/teams/{team}",
            Some(json!({"name": "Renamed {n}"})),
            [200, 403, 403, 403, 403, 401],
        ),
        (
            "delete_team",
            "DELETE",
            "/api/v1/teams/{team}",
            None,
            [204, 403, 403, 403, 403, 401],
        ),
        (
            "create_api_key",
            "POST",
            "/api/v1/api-keys",
            Some(json!({"name": "Key", "scopes": ["customers:read"]})),
            [201, 403, 403, 403, 403, 401],
        ),
        (
            "list_api_keys",
            "GET",
            "/api/v1/api-keys",
            None,
            [200, 403, 403, 403, 403, 401],
        ),
        (
            "delete_api_key",
            "DELETE",
            "/api/v1/api-keys/{key}",
            None,
            [204, 403, 403, 403, 403, 401],
        ),
        (
            "list_contacts",
            "GET",
            "/api/v1/contacts",
            None,
            [200, 200, 200, 403, 200, 401],
        ),
        (
            "list_customers",
            "GET",
            "/api/v1/customers",
            None,
            [200, 200, 200, 403, 200, 401],
        ),
        (
            "list_opportunities",
            "GET",
            "/api/v1/opportunities",
            None,
            [200, 200, 200, 403, 403, 401],
        ),
        (
            "list_activities",
            "GET",
            "/api/v1/activities",
            None,
            [200, 200, 200, 403, 403, 401],
        ),
        (
            "create_calendar_feed",
            "POST",
            "/api/v1/follow-ups/calendar-feed",
            None,
            [201, 201, 201, 403, 403, 401],
        ),
        (
            "delete_calendar_feed",
            "DELETE",
            "/api/v1/follow-ups/calendar-feed",
            None,
            // Each user's feed was issued by the row above.
            [204, 204, 204, 403, 403, 401],
        ),
        (
            "list_follow_ups",
            "GET",
            "/api/v1/follow-ups?due=today&tz=Asia/Shanghai",
            None,
            [200, 200, 200, 403, 403, 401],
        ),
        (
            "create_customer",
            "POST",
            "/api/v1/customers",
            Some(json!({"kind": "company", "name": "Matrix {n}"})),
            [201, 201, 201, 403, 403, 401],
        ),
        (
            "list_lead_sources",
            "GET",
            "/api/v1/lead-sources",
            None,
            [200, 200, 200, 403, 200, 401],
        ),
        (
            "create_lead_source",
            "POST",
            "/api/v1/lead-sources",
            Some(json!({"key": "source_{n}", "label": "Source {n}"})),
            [201, 403, 403, 403, 403, 401],
        ),
        (
            "update_lead_source",
            "PATCH",
            "/api/v1/lead-sources/website",
            Some(json!({"label": "Website {n}"})),
            [200, 403, 403, 403, 403, 401],
        ),
        (
            "list_behaviors",
            "GET",
            "/api/v1/behaviors",
            None,
            [200, 200, 200, 403, 200, 401],
        ),
        (
            "create_behavior",
            "POST",
            "/api/v1/behaviors",
            Some(json!({"code": "behavior_{n}", "label": "Behaviour {n}", "points": 5})),
            [201, 403, 403, 403, 403, 401],
        ),
        (
            "update_behavior",
            "PATCH",
            "/api/v1/behaviors/requested_quote",
            Some(json!({"label": "Quote asked {n}"})),
            [200, 403, 403, 403, 403, 401],
        ),
        (
            "get_scoring_settings",
            "GET",
            "/api/v1/scoring/settings",
            None,
            [200, 200, 200, 403, 200, 401],
        ),
        (
            "update_scoring_settings",
            "PATCH",
            "/api/v1/scoring/settings",
            Some(json!({"half_life_days": 60})),
            [200, 403, 403, 403, 403, 401],
        ),
        (
            "list_products",
            "GET",
            "/api/v1/products",
            None,
            // Keys read the catalogue with `opportunities:read`.
            [200, 200, 200, 403, 403, 401],
        ),
        (
            "create_product",
            "POST",
            "/api/v1/products",
            Some(
                json!({"sku": "SKU-{n}", "name": "Product {n}", "unit_price": 100,
                "currency": "CNY"}),
            ),
            [201, 403, 403, 403, 403, 401],
        ),
        (
            "get_product",
            "GET",
            "/api/v1/products/{product}",
            None,
            [200, 200, 200, 403, 403, 401],
        ),
        (
            "update_product",
            "PATCH",
            "/api/v1/products/{product}",
            Some(json!({"name": "Renamed {n}"})),
            [200, 403, 403, 403, 403, 401],
        ),
        (
            "list_pipelines",
            "GET",
            "/api/v1/pipelines",
            None,
            [200, 200, 200, 403, 403, 401],
        ),
        (
            "get_pipeline",
            "GET",
            "/api/v1/pipelines/{pipeline}",
            None,
            [200, 200, 200, 403, 403, 401],
        ),
        (
            "create_pipeline",
            "POST",
            "/api/v1/pipelines",
            Some(json!({"name": "Pipeline {n}", "stages": [
                {"name": "Open", "probability": 50, "kind": "open"},
                {"name": "Won", "probability": 100, "kind": "won"},
                {"name": "Lost", "probability": 0, "kind": "lost"}]})),
            [201, 403, 403, 403, 403, 401],
        ),
        (
            "update_pipeline",
            "PATCH",
            "/api/v1/pipelines/{pipeline}",
            Some(json!({"name": "Renamed {n}"})),
            [200, 403, 403, 403, 403, 401],
        ),
        (
            "create_stage",
            "POST",
            "/api/v1/pipelines/{pipeline}/stages",
            Some(json!({"name": "Demo", "probability": 30, "kind": "open"})),
            [201, 403, 403, 403, 403, 401],
        ),
        (
            "update_stage",
            "PATCH",
            "/api/v1/pipelines/{pipeline}/stages/{stage0}",
            Some(json!({"probability": 55})),
            [200, 403, 403, 403, 403, 401],
        ),
        (
            "reorder_stages",
            "PUT",
            "/api/v1/pipelines/{pipeline}/stage-order",
            Some(json!({"stage_ids": ["{stage2}", "{stage0}", "{stage1}", "{stage3}"]})),
            [200, 403, 403, 403, 403, 401],
        ),
        (
            "delete_stage",
            "DELETE",
            "/api/v1/pipelines/{pipeline}/stages/{stage3}",
            None,
            [200, 403, 403, 403, 403, 401],
        ),
        (
            "list_custom_fields",
            "GET",
            "/api/v1/custom-fields?entity=contact",
            None,
            [200, 200, 200, 403, 200, 401],
        ),
        (
            "get_custom_field_schema",
            "GET",
            "/api/v1/custom-fields/schema/customer",
            None,
            [200, 200, 200, 403, 200, 401],
        ),
        (
            "create_custom_field",
            "POST",
            "/api/v1/custom-fields",
            Some(
                json!({"entity": "customer", "key": "field_{n}", "label": "Field {n}", "type": "text"}),
            ),
            [201, 403, 403, 403, 403, 401],
        ),
        (
            "get_custom_field",
            "GET",
            "/api/v1/custom-fields/{field}",
            None,
            [200, 200, 200, 403, 200, 401],
        ),
        (
            "update_custom_field",
            "PATCH",
            "/api/v1/custom-fields/{field}",
            Some(json!({"label": "Renamed {n}"})),
            [200, 403, 403, 403, 403, 401],
        ),
        (
            "delete_custom_field",
            "DELETE",
            "/api/v1/custom-fields/{field}",
            None,
            [204, 403, 403, 403, 403, 401],
        ),
        (
            "create_customer_merge",
            "POST",
            "/api/v1/customers/merges",
            Some(json!({"survivor_id": "{survivor}", "duplicate_ids": ["{duplicate}"]})),
            [201, 201, 403, 403, 403, 401],
        ),
        (
            "get_customer_merge",
            "GET",
            "/api/v1/customers/merges/{merge}",
            None,
            [200, 200, 403, 403, 200, 401],
        ),
        (
            "undo_customer_merge",
            "POST",
            "/api/v1/customers/merges/{merge}/undo",
            None,
            [200, 200, 403, 403, 403, 401],
        ),
        (
            "create_customer_batch",
            "POST",
            "/api/v1/customers/batch",
            Some(json!({"items": [{"kind": "company", "name": "Batch {n}", "owner_id": null}]})),
            [207, 207, 207, 403, 403, 401],
        ),
        (
            "create_import",
            "POST",
            "/api/v1/imports?owner_id=pool",
            // A string body is sent as CSV.
            Some(json!("name,phone\nLead {n},\n")),
            [202, 202, 202, 403, 403, 401],
        ),
        (
            "get_import",
            "GET",
            "/api/v1/imports/{import}",
            None,
            [200, 200, 200, 403, 403, 401],
        ),
        (
            "list_import_results",
            "GET",
            "/api/v1/imports/{import}/results",
            None,
            [200, 200, 200, 403, 403, 401],
        ),
        (
            "restore_custom_field",
            "POST",
            "/api/v1/custom-fields/{archived_field}/restore",
            None,
            [200, 403, 403, 403, 403, 401],
        ),
    ]
}

fn key_with(db: &TestDatabase, admin: &str, scope: Scope) -> String {
    let secret = new_api_key().unwrap_or_default();
    db.database()
        .create_api_key(NewApiKey {
            name: scope.as_str().into(),
            prefix: secret.chars().take(10).collect(),
            digest: token_digest(&secret),
            scopes: vec![scope],
            created_by: admin.into(),
        })
        .unwrap_or_else(|e| panic!("{e}"));
    secret
}

fn seed_customer(db: &TestDatabase, name: &str, owner: Option<String>) -> String {
    use crm_domain::customers::{CustomerFields, CustomerKind};
    use crm_domain::ports::{Actor, CustomerStore};
    let fields = CustomerFields::new(CustomerKind::Company, name);
    let actor = Actor {
        id: "seed".into(),
        visibility: crm_domain::identity::Visibility::All,
        user_id: None,
    };
    db.database()
        .create_customer(&actor, fields, owner, false)
        .map(|c| c.id)
        .unwrap_or_else(|e| panic!("{e}"))
}

fn seed_contact(db: &TestDatabase, customer_id: &str) -> String {
    use crm_domain::customers::ContactFields;
    use crm_domain::ports::{Actor, ContactStore};
    let fields = ContactFields {
        name: "Seed".into(),
        title: None,
        phones: vec![],
        email: None,
        wechat_id: None,
        notes: None,
        custom_fields: Default::default(),
    };
    let actor = Actor {
        id: "seed".into(),
        visibility: crm_domain::identity::Visibility::All,
        user_id: None,
    };
    db.database()
        .create_contact(&actor, customer_id, fields, false, false)
        .map(|c| c.id)
        .unwrap_or_else(|e| panic!("{e}"))
}

fn seed_activity(db: &TestDatabase, customer_id: &str) -> String {
    use crm_domain::activities::{ActivityFields, ActivityKind};
    use crm_domain::ports::{ActivityStore, Actor};
    let fields = ActivityFields {
        contact_id: None,
        opportunity_id: None,
        kind: ActivityKind::Call,
        occurred_at: chrono::DateTime::UNIX_EPOCH + chrono::Duration::days(20_000),
        subject: "Seed".into(),
        content: None,
        outcome: None,
        attachments: vec![],
        custom_fields: Default::default(),
        behaviors: vec![],
    };
    let actor = Actor {
        id: "seed".into(),
        visibility: crm_domain::identity::Visibility::All,
        user_id: None,
    };
    db.database()
        .create_activity(&actor, customer_id, fields, None, None, chrono::Utc::now())
        .map(|a| a.id)
        .unwrap_or_else(|e| panic!("{e}"))
}

fn seed_opportunity(db: &TestDatabase, customer_id: &str) -> String {
    use crm_domain::opportunities::OpportunityDraft;
    use crm_domain::ports::{Actor, OpportunityStore};
    let actor = Actor {
        id: "seed".into(),
        visibility: crm_domain::identity::Visibility::All,
        user_id: None,
    };
    let draft = OpportunityDraft {
        customer_id: customer_id.into(),
        name: "Seed".into(),
        pipeline_id: None,
        stage_id: None,
        currency: "CNY".into(),
        lines: vec![],
        amount: Some(100),
        expected_close_on: None,
        custom_fields: Default::default(),
    };
    db.database()
        .create_opportunity(&actor, draft, chrono::Utc::now())
        .map(|o| o.id)
        .unwrap_or_else(|e| panic!("{e}"))
}

fn fill(text: &str, n: usize, ids: &[(&str, &str)]) -> String {
    let mut text = text.replace("{n}", &n.to_string());
    for (name, id) in ids {
        text = text.replace(&format!("{{{name}}}"), id);
    }
    text
}

async fn every_caller_gets_exactly_its_rights(db: TestDatabase) {
    let admin = seed_user(&db, "admin@example.com", Role::Admin);
    let manager = seed_user(&db, "manager@example.com", Role::Manager);
    let rep = seed_user(&db, "rep@example.com", Role::Rep);
    let teammate = seed_user(&db, "teammate@example.com", Role::Rep);
    let outsider = seed_user(&db, "outsider@example.com", Role::Rep);
    db.database()
        .create_team(crm_domain::identity::TeamDraft {
            name: "Matrix team".into(),
            manager_ids: vec![manager.clone()],
            member_ids: vec![rep.clone(), teammate.clone()],
        })
        .unwrap_or_else(|e| panic!("{e}"));
    let app = actix_web::test::init_service(crm_http::app(api_state(&db))).await;
    let mut credentials: Vec<Option<String>> = Vec::new();
    for email in [
        "admin@example.com",
        "manager@example.com",
        "rep@example.com",
    ] {
        credentials.push(Some(login(&app, email).await.0));
    }
    credentials.push(Some(key_with(&db, &admin, Scope::UsersRead)));
    credentials.push(Some(key_with(&db, &admin, Scope::CustomersRead)));
    credentials.push(None);

    let mut n = 0;
    for (operation, method, path, body, expected) in rows() {
        for (column, credential) in credentials.iter().enumerate() {
            n += 1;
            // Fresh records for every call, so a delete or rename by one caller cannot change
            // what the next one sees.
            let user = seed_user(&db, &format!("target{n}@example.com"), Role::Rep);
            let team = db
                .database()
                .create_team(crm_domain::identity::TeamDraft {
                    name: format!("Fixture {n}"),
                    manager_ids: vec![manager.clone()],
                    member_ids: vec![],
                })
                .map(|t| t.id)
                .unwrap_or_else(|e| panic!("{e}"));
            let key = db
                .database()
                .create_api_key(NewApiKey {
                    name: "fixture".into(),
                    prefix: "crm_fixtur".into(),
                    digest: format!("fixture-{n}"),
                    scopes: vec![Scope::CustomersRead],
                    created_by: admin.clone(),
                })
                .map(|k| k.id)
                .unwrap_or_else(|e| panic!("{e}"));
            let field = db
                .database()
                .create_field(crm_domain::custom_fields::FieldDraft {
                    entity: crm_domain::custom_fields::FieldEntity::Contact,
                    key: format!("fixture_{n}"),
                    label: "Fixture".into(),
                    help_text: None,
                    field_type: crm_domain::custom_fields::FieldType::Text,
                    required: false,
                    default: None,
                    position: 0,
                    rules: Default::default(),
                    unique: false,
                })
                .map(|f| f.id)
                .unwrap_or_else(|e| panic!("{e}"));
            // Two pool customers to merge, and a merge of two others by the admin.
            let survivor = seed_customer(&db, &format!("Survivor {n}"), None);
            let duplicate = seed_customer(&db, &format!("Duplicate {n}"), None);
            let merge = {
                use crm_domain::ports::{Actor, CustomerStore};
                let kept = seed_customer(&db, &format!("Kept {n}"), None);
                let gone = seed_customer(&db, &format!("Gone {n}"), None);
                let actor = Actor {
                    id: admin.clone(),
                    visibility: crm_domain::identity::Visibility::All,
                    user_id: None,
                };
                db.database()
                    .merge_customers(
                        &actor,
                        &kept,
                        &[gone],
                        &Default::default(),
                        false,
                        chrono::Utc::now(),
                    )
                    .ok()
                    .and_then(|m| m.id)
                    .unwrap_or_default()
            };
            // A finished import by the rep, whom the manager manages.
            let import = {
                use crm_domain::ports::ImportStore;
                let store = db.database();
                let settings = crm_domain::imports::ImportSettings {
                    format: crm_domain::imports::ImportFormat::Csv,
                    encoding: "UTF-8".into(),
                    mode: crm_domain::imports::ImportMode::Partial,
                    match_on: vec![],
                    on_match: crm_domain::imports::OnMatch::Skip,
                    dry_run: true,
                    owner_id: None,
                    mapping: Default::default(),
                };
                let job = store
                    .create_import(&rep, &settings, chrono::Utc::now())
                    .and_then(|job| store.queue_import(&job.id, 0, "UTF-8"))
                    .and_then(|job| store.finish_import(&job.id, 0, None, chrono::Utc::now()))
                    .unwrap_or_else(|e| panic!("{e}"));
                job.id
            };
            let archived_field = {
                let store = db.database();
                let archived = store
                    .field_definition(&field)
                    .and_then(|f| {
                        let draft = crm_domain::custom_fields::FieldDraft {
                            entity: f.entity,
                            key: format!("archived_{n}"),
                            label: f.label.clone(),
                            help_text: None,
                            field_type: f.field_type,
                            required: false,
                            default: None,
                            position: 0,
                            rules: Default::default(),
                            unique: false,
                        };
                        let created = store.create_field(draft.clone())?;
                        store.update_field(&created.id, draft, true, None)
                    })
                    .unwrap_or_else(|e| panic!("{e}"));
                archived.id
            };
            let product = {
                use crm_domain::ports::ProductStore;
                db.database()
                    .create_product(
                        crm_domain::products::ProductFields {
                            sku: format!("FIXTURE-{n}"),
                            name: "Fixture".into(),
                            description: None,
                            unit_price: 100,
                            currency: "CNY".into(),
                            active: true,
                        },
                        chrono::Utc::now(),
                    )
                    .map(|p| p.id)
                    .unwrap_or_else(|e| panic!("{e}"))
            };
            let pipeline = {
                use crm_domain::pipelines::{StageFields, StageKind};
                use crm_domain::ports::PipelineStore;
                let stage = |kind: StageKind, probability: i64| StageFields {
                    name: kind.as_str().into(),
                    probability,
                    kind,
                    guidance: None,
                    checklist: vec![],
                };
                db.database()
                    .create_pipeline(
                        format!("Fixture {n}"),
                        vec![
                            stage(StageKind::Open, 50),
                            stage(StageKind::Won, 100),
                            stage(StageKind::Lost, 0),
                            stage(StageKind::Open, 60),
                        ],
                        chrono::Utc::now(),
                    )
                    .unwrap_or_else(|e| panic!("{e}"))
            };
            let stage_ids: Vec<&str> = pipeline.stages.iter().map(|s| s.id.as_str()).collect();
            let ids = [
                ("pipeline", pipeline.id.as_str()),
                ("stage0", stage_ids[0]),
                ("stage1", stage_ids[1]),
                ("stage2", stage_ids[2]),
                ("stage3", stage_ids[3]),
                ("product", product.as_str()),
                ("user", user.as_str()),
                ("team", team.as_str()),
                ("key", key.as_str()),
                ("manager", manager.as_str()),
                ("field", field.as_str()),
                ("archived_field", archived_field.as_str()),
                ("import", import.as_str()),
                ("survivor", survivor.as_str()),
                ("duplicate", duplicate.as_str()),
                ("merge", merge.as_str()),
            ];
            let uri = fill(path, n, &ids);
            let body: Option<Value> = body
                .as_ref()
                .map(|b| serde_json::from_str(&fill(&b.to_string(), n, &ids)).unwrap_or_default());
            let call = match body {
                Some(Value::String(csv)) => request(method, &uri, credential.as_deref(), None)
                    .insert_header(("Content-Type", "text/csv"))
                    .set_payload(csv),
                other => request(method, &uri, credential.as_deref(), other),
            };
            let (status, _, answer) = send(&app, call).await;
            assert_eq!(
                status, expected[column],
                "{operation} as {}: {answer}",
                CALLERS[column]
            );
            if status >= 400 {
                assert_eq!(
                    answer["status"], status,
                    "{operation} as {}: problem+json",
                    CALLERS[column]
                );
            }
        }
    }
    for (operation, method, path, body, targets) in record_rows() {
        for (target, expected) in targets {
            for (column, credential) in credentials.iter().enumerate() {
                n += 1;
                let owner = match target {
                    Target::Own => Some(rep.clone()),
                    Target::Teammate => Some(teammate.clone()),
                    Target::Other => Some(outsider.clone()),
                    Target::Pool => None,
                };
                let customer = seed_customer(&db, &format!("Customer {n}"), owner);
                let contact = seed_contact(&db, &customer);
                let activity = seed_activity(&db, &customer);
                let opportunity = seed_opportunity(&db, &customer);
                let ids = [
                    ("customer", customer.as_str()),
                    ("contact", contact.as_str()),
                    ("activity", activity.as_str()),
                    ("opportunity", opportunity.as_str()),
                    ("rep", rep.as_str()),
                ];
                let uri = fill(path, n, &ids);
                let body = body.as_ref().map(|b| {
                    serde_json::from_str(&fill(&b.to_string(), n, &ids)).unwrap_or_default()
                });
                let (status, _, answer) =
                    send(&app, request(method, &uri, credential.as_deref(), body)).await;
                assert_eq!(
                    status, expected[column],
                    "{operation} on {target:?} as {}: {answer}",
                    CALLERS[column]
                );
            }
        }
    }
}

#[test]
fn every_protected_operation_has_a_matrix_row() {
    assert_eq!(
        crm_http::openapi::operations_without_access_rule(),
        Vec::<String>::new()
    );
    let document = serde_json::to_value(crm_http::openapi::document()).unwrap_or_default();
    let protected: BTreeSet<String> = document["paths"]
        .as_object()
        .into_iter()
        .flat_map(|paths| paths.values())
        .flat_map(|item| item.as_object().into_iter().flat_map(|ops| ops.values()))
        .filter(|op| op.get("security").is_some())
        .filter_map(|op| op["operationId"].as_str().map(str::to_owned))
        .collect();
    let covered: BTreeSet<String> = rows()
        .into_iter()
        .map(|r| r.0.to_string())
        .chain(record_rows().into_iter().map(|r| r.0.to_string()))
        .collect();
    assert_eq!(protected, covered);
}

/// API keys reach activities through the activity scopes: `activities:read` lists and reads,
/// `activities:write` logs, and neither reaches customers.
async fn keys_use_the_activity_scopes(db: TestDatabase) {
    let admin = seed_user(&db, "admin@example.com", Role::Admin);
    let customer = seed_customer(&db, "Keyed", None);
    let activity = seed_activity(&db, &customer);
    let app = actix_web::test::init_service(crm_http::app(api_state(&db))).await;
    let reader = key_with(&db, &admin, Scope::ActivitiesRead);
    let writer = key_with(&db, &admin, Scope::ActivitiesWrite);
    let log = json!({"customer_id": customer, "kind": "call",
        "occurred_at": "2026-01-01T00:00:00Z", "subject": "By key"});
    let activity_uri = format!("/api/v1/activities/{activity}");
    let cases = [
        (&reader, "GET", "/api/v1/activities", None, 200),
        (&reader, "GET", activity_uri.as_str(), None, 200),
        (&reader, "GET", "/api/v1/follow-ups?due=overdue", None, 200),
        (&reader, "GET", "/api/v1/customers", None, 403),
        (
            &reader,
            "POST",
            "/api/v1/activities",
            Some(log.clone()),
            403,
        ),
        (&writer, "POST", "/api/v1/activities", Some(log), 201),
        (&writer, "GET", "/api/v1/activities", None, 403),
    ];
    for (key, method, uri, body, expected) in cases {
        let (status, _, answer) = send(&app, request(method, uri, Some(key), body)).await;
        assert_eq!(status, expected, "{method} {uri}: {answer}");
    }
}

backend_tests!(async actix: every_caller_gets_exactly_its_rights, keys_use_the_activity_scopes);
