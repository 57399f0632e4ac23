//! A customer overview shows the pipelines, the behaviour catalogue and the half-life as they
//! are: remembered for a moment between overviews, forgotten by every change written through the
//! same database.

use chrono::Utc;
use crm_domain::customers::{CustomerFields, CustomerKind};
use crm_domain::identity::Visibility;
use crm_domain::pipelines::StageFields;
use crm_domain::ports::{
    Actor, CustomerOverviewParts, CustomerStore, OverviewLimits, PipelineStore, ScoringStore,
};
use crm_domain::scoring::{BehaviorChanges, BehaviorDraft};
use crm_domain::DomainError;
use crm_persistence::backend_tests;
use crm_persistence::query_plan::capture_sql;
use crm_persistence::test_support::TestDatabase;

fn ok<T>(r: Result<T, DomainError>) -> T {
    r.unwrap_or_else(|e| panic!("{e}"))
}

fn admin() -> Actor {
    Actor {
        id: "admin".into(),
        visibility: Visibility::All,
        user_id: None,
    }
}

const LIMITS: OverviewLimits = OverviewLimits {
    contacts: 10,
    activities: 10,
    opportunities: 10,
};

/// The overview of `id` and the tables its statements read settings from.
fn overview(db: &TestDatabase, id: &str) -> (CustomerOverviewParts, Vec<&'static str>) {
    let (parts, statements) = capture_sql(|| db.database().customer_overview(&admin(), id, LIMITS));
    let read: Vec<&'static str> = [
        "pipelines",
        "pipeline_stages",
        "behaviors",
        "scoring_settings",
    ]
    .into_iter()
    .filter(|table| {
        statements.iter().any(|s| {
            s.sql.contains(&format!(r#"FROM "{table}""#))
                || s.sql.contains(&format!("FROM `{table}`"))
        })
    })
    .collect();
    (ok(parts), read)
}

const EVERY_SETTING: [&str; 4] = [
    "pipelines",
    "pipeline_stages",
    "behaviors",
    "scoring_settings",
];

fn settings_are_remembered_and_changes_show_at_once(db: &TestDatabase) {
    let store = db.database();
    let now = Utc::now();
    let id = ok(store.create_customer(
        &admin(),
        CustomerFields::new(CustomerKind::Company, "Acme"),
        None,
        false,
    ))
    .id;
    let (first, read) = overview(db, &id);
    assert_eq!(read, EVERY_SETTING);
    assert_eq!(first.pipelines, ok(store.pipelines()));
    assert_eq!(first.behaviors, ok(store.behaviors(true)));
    assert_eq!(
        first.half_life_days,
        ok(store.scoring_settings()).half_life_days
    );

    // Remembered: the next overview reads only the customer's own rows.
    let (again, read) = overview(db, &id);
    assert_eq!(read, Vec::<&str>::new());
    assert_eq!(
        (again.pipelines, again.behaviors, again.half_life_days),
        (
            first.pipelines.clone(),
            first.behaviors.clone(),
            first.half_life_days
        )
    );

    // A stage renamed.
    let pipeline = &first.pipelines[0];
    let stage = &pipeline.stages[0];
    ok(store.update_stage(
        &pipeline.id,
        &stage.id,
        StageFields {
            name: "First call".into(),
            ..stage.fields.clone()
        },
        None,
        now,
    ));
    let (renamed, read) = overview(db, &id);
    assert_eq!(read, EVERY_SETTING);
    assert_eq!(renamed.pipelines, ok(store.pipelines()));
    assert_eq!(renamed.pipelines[0].stages[0].fields.name, "First call");

    // A behaviour added, then changed.
    ok(store.create_behavior(
        BehaviorDraft {
            code: "asked_for_demo".into(),
            label: "Asked for a demo".into(),
            description: None,
            points: 15,
        },
        now,
    ));
    let (added, read) = overview(db, &id);
    assert_eq!(read, EVERY_SETTING);
    assert!(added
        .behaviors
        .iter()
        .any(|b| b.code == "asked_for_demo" && b.points == 15));
    ok(store.update_behavior(
        "asked_for_demo",
        BehaviorChanges {
            points: Some(20),
            ..BehaviorChanges::default()
        },
        None,
        now,
    ));
    let (changed, _) = overview(db, &id);
    assert_eq!(changed.behaviors, ok(store.behaviors(true)));
    assert!(changed
        .behaviors
        .iter()
        .any(|b| b.code == "asked_for_demo" && b.points == 20));

    // The half-life changed.
    let half_life = first.half_life_days + 7;
    ok(store.update_scoring_settings(half_life, None, now));
    let (decaying, read) = overview(db, &id);
    assert_eq!(read, EVERY_SETTING);
    assert_eq!(decaying.half_life_days, half_life);

    // A refused change leaves them as they were, and they are read again once.
    let refused = store.update_stage(
        &pipeline.id,
        "no-such-stage",
        stage.fields.clone(),
        None,
        now,
    );
    assert!(
        matches!(refused, Err(DomainError::NotFound { .. })),
        "{refused:?}"
    );
    let (after_refusal, _) = overview(db, &id);
    assert_eq!(after_refusal.pipelines, renamed.pipelines);
    assert_eq!(overview(db, &id).1, Vec::<&str>::new());
}

backend_tests!(settings_are_remembered_and_changes_show_at_once);
