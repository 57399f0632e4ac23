//! Pipelines on both backends: the seeded default, creation with checklist ids, one default at
//! a time, adding, changing and reordering stages with versions, and the kinds every pipeline
//! keeps.

use chrono::{DateTime, Utc};
use crm_domain::pipelines::{ChecklistItem, Pipeline, StageFields, StageKind};
use crm_domain::ports::PipelineStore;
use crm_domain::{DomainError, FieldError};
use crm_persistence::backend_tests;
use crm_persistence::test_support::TestDatabase;

fn ok<T>(r: Result<T, DomainError>) -> T {
    r.unwrap_or_else(|e| panic!("{e}"))
}

fn now() -> DateTime<Utc> {
    DateTime::parse_from_rfc3339("2026-05-01T09:00:00Z")
        .map(|t| t.with_timezone(&Utc))
        .unwrap_or_else(|e| panic!("{e}"))
}

fn stage(name: &str, kind: StageKind, probability: i64) -> StageFields {
    StageFields {
        name: name.into(),
        probability,
        kind,
        guidance: None,
        checklist: vec![],
    }
}

fn names(p: &Pipeline) -> Vec<(&str, i64)> {
    p.stages
        .iter()
        .map(|s| (s.fields.name.as_str(), s.position))
        .collect()
}

fn the_default_pipeline_is_seeded(db: &TestDatabase) {
    let all = ok(db.database().pipelines());
    assert_eq!(all.len(), 1);
    let default = &all[0];
    assert_eq!(
        (default.name.as_str(), default.is_default),
        ("New business", true)
    );
    let stages: Vec<(&str, i64, &str)> = default
        .stages
        .iter()
        .map(|s| {
            (
                s.fields.name.as_str(),
                s.fields.probability,
                s.fields.kind.as_str(),
            )
        })
        .collect();
    assert_eq!(
        stages,
        [
            ("Qualification", 10, "open"),
            ("Product introduction", 20, "open"),
            ("Needs confirmed", 40, "open"),
            ("Quote", 60, "open"),
            ("Objection handling", 70, "open"),
            ("Contract", 90, "open"),
            ("Won", 100, "won"),
            ("Lost", 0, "lost"),
        ]
    );
    let required: Vec<&str> = default.stages[0]
        .fields
        .checklist
        .iter()
        .filter(|i| i.required)
        .map(|i| i.label.as_str())
        .collect();
    assert_eq!(required, ["Budget confirmed", "Decision maker identified"]);
}

fn pipelines_are_shaped_safely(db: &TestDatabase) {
    let store = db.database();
    let mut first = stage("Renewal due", StageKind::Open, 50);
    first.checklist = vec![ChecklistItem {
        id: String::new(),
        label: "Usage reviewed".into(),
        required: true,
    }];
    let made = ok(store.create_pipeline(
        "Renewal".into(),
        vec![
            first,
            stage("Renewed", StageKind::Won, 100),
            stage("Churned", StageKind::Lost, 0),
        ],
        now(),
    ));
    assert_eq!((made.version, made.is_default), (1, false));
    assert_eq!(
        names(&made),
        [("Renewal due", 0), ("Renewed", 1), ("Churned", 2)]
    );
    let item_id = made.stages[0].fields.checklist[0].id.clone();
    assert_eq!(item_id.len(), 36, "new items get ids");
    assert_eq!(
        store
            .create_pipeline("Renewal".into(), vec![], now())
            .map(|p| p.id),
        Err(DomainError::Conflict {
            code: "pipeline_exists",
            message: "a pipeline with this name exists".into(),
        })
    );
    // One default at a time.
    let defaulted = ok(store.update_pipeline(&made.id, None, true, Some(1), now()));
    assert_eq!((defaulted.is_default, defaulted.version), (true, 2));
    let all = ok(store.pipelines());
    let defaults: Vec<&str> = all
        .iter()
        .filter(|p| p.is_default)
        .map(|p| p.name.as_str())
        .collect();
    assert_eq!(defaults, ["Renewal"]);
    assert_eq!(all[0].name, "Renewal", "the default first");
    // A stage added in the middle moves the later ones down.
    let added = ok(store.add_stage(
        &made.id,
        stage("Offer sent", StageKind::Open, 75),
        Some(1),
        Some(2),
        now(),
    ));
    assert_eq!(
        names(&added),
        [
            ("Renewal due", 0),
            ("Offer sent", 1),
            ("Renewed", 2),
            ("Churned", 3)
        ]
    );
    assert_eq!(added.version, 3);
    assert_eq!(
        store.add_stage(
            &made.id,
            stage("Late", StageKind::Open, 5),
            None,
            Some(2),
            now()
        ),
        Err(DomainError::PreconditionFailed { current_version: 3 })
    );
    // Changing a stage keeps known checklist items, adds new ones, refuses foreign ids.
    let renewal_due = added.stages[0].id.clone();
    let mut changed = added.stages[0].fields.clone();
    changed.probability = 55;
    changed.checklist.push(ChecklistItem {
        id: String::new(),
        label: "Price agreed".into(),
        required: false,
    });
    let after = ok(store.update_stage(&made.id, &renewal_due, changed.clone(), None, now()));
    let checklist = &after.stages[0].fields.checklist;
    assert_eq!(
        (
            checklist[0].id.as_str(),
            checklist.len(),
            after.stages[0].fields.probability
        ),
        (item_id.as_str(), 2, 55)
    );
    changed.checklist[0].id = "01930000-0000-7000-8000-00000000ffff".into();
    assert_eq!(
        store.update_stage(&made.id, &renewal_due, changed, None, now()),
        Err(DomainError::Validation(vec![FieldError::new(
            "/checklist/0/id",
            "unknown_item",
            "not an item of this stage; leave the id out for a new item",
        )]))
    );
    // The last lost stage cannot become something else; another open stage can.
    let churned = after.stages[3].id.clone();
    assert_eq!(
        store
            .update_stage(
                &made.id,
                &churned,
                stage("Churned", StageKind::Open, 10),
                None,
                now()
            )
            .map(|p| p.version),
        Err(DomainError::Conflict {
            code: "stage_kinds",
            message: "a pipeline needs open, won and lost stages; missing: lost".into(),
        })
    );
    let offer = after.stages[1].id.clone();
    ok(store.update_stage(
        &made.id,
        &offer,
        stage("Offer lost", StageKind::Lost, 0),
        None,
        now(),
    ));
    assert_eq!(
        store.update_stage(
            &made.id,
            "nope",
            stage("X", StageKind::Open, 1),
            None,
            now()
        ),
        Err(DomainError::NotFound { entity: "stage" })
    );
    // Reordering names every stage once.
    let current = ok(store.pipeline(&made.id));
    let mut order: Vec<String> = current.stages.iter().map(|s| s.id.clone()).collect();
    order.reverse();
    let reordered = ok(store.reorder_stages(&made.id, &order, Some(current.version), now()));
    assert_eq!(
        names(&reordered),
        [
            ("Churned", 0),
            ("Renewed", 1),
            ("Offer lost", 2),
            ("Renewal due", 3)
        ]
    );
    assert_eq!(reordered.version, current.version + 1);
    order.pop();
    assert_eq!(
        store
            .reorder_stages(&made.id, &order, None, now())
            .map(|p| p.version),
        Err(DomainError::Validation(vec![FieldError::new(
            "/stage_ids",
            "not_a_permutation",
            "name every stage of the pipeline exactly once",
        )]))
    );
    assert_eq!(
        store.pipeline("0193aaaa-0000-7000-8000-000000000000"),
        Err(DomainError::NotFound { entity: "pipeline" })
    );
}

backend_tests!(the_default_pipeline_is_seeded, pipelines_are_shaped_safely);
