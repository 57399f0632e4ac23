//! Opportunities on both backends: exact amounts from the catalogue, bad lines refused whole,
//! the checklist gate and its override, closing and reopening, history with time in stage at
//! injected instants, visibility, and the list's filters.

use chrono::{DateTime, Duration, NaiveDate, Utc};
use crm_domain::customers::{CustomerFields, CustomerKind};
use crm_domain::identity::Visibility;
use crm_domain::opportunities::{
    LineDraft, OpportunityChanges, OpportunityDraft, OpportunityStatus, StageMove,
};
use crm_domain::page::PageRequest;
use crm_domain::ports::{
    Actor, CustomerStore, OpportunityFilter, OpportunityStore, PipelineStore, ProductStore,
};
use crm_domain::products::ProductFields;
use crm_domain::DomainError;
use crm_persistence::backend_tests;
use crm_persistence::test_support::TestDatabase;

fn ok<T>(r: Result<T, DomainError>) -> T {
    r.unwrap_or_else(|e| panic!("{e}"))
}

fn at(raw: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(raw)
        .map(|t| t.with_timezone(&Utc))
        .unwrap_or_else(|e| panic!("{e}"))
}

fn admin() -> Actor {
    Actor {
        id: "admin".into(),
        visibility: Visibility::All,
        user_id: None,
    }
}

fn customer(db: &TestDatabase, name: &str, owner: Option<String>) -> String {
    let fields = CustomerFields::new(CustomerKind::Company, name);
    ok(db
        .database()
        .create_customer(&admin(), fields, owner, false))
    .id
}

fn product(db: &TestDatabase, sku: &str, price: i64, currency: &str, active: bool) -> String {
    ok(db.database().create_product(
        ProductFields {
            sku: sku.into(),
            name: format!("Product {sku}"),
            description: None,
            unit_price: price,
            currency: currency.into(),
            active,
        },
        at("2026-05-01T00:00:00Z"),
    ))
    .id
}

fn draft(customer_id: &str, lines: Vec<LineDraft>) -> OpportunityDraft {
    OpportunityDraft {
        customer_id: customer_id.into(),
        name: "Q1 order".into(),
        pipeline_id: None,
        stage_id: None,
        currency: "CNY".into(),
        lines,
        amount: None,
        expected_close_on: None,
        custom_fields: Default::default(),
    }
}

fn line(
    product_id: Option<&str>,
    quantity: i64,
    unit_price: Option<i64>,
    discount: i64,
) -> LineDraft {
    LineDraft {
        product_id: product_id.map(str::to_string),
        description: product_id.is_none().then(|| "Installation".to_string()),
        quantity,
        unit_price,
        discount,
    }
}

fn codes<T>(result: Result<T, DomainError>) -> Vec<(String, String)> {
    match result {
        Err(DomainError::Validation(errors)) => {
            errors.into_iter().map(|e| (e.pointer, e.code)).collect()
        }
        Err(other) => panic!("not a validation error: {other}"),
        Ok(_) => panic!("accepted"),
    }
}

const T0: &str = "2026-05-01T09:00:00Z";

fn amounts_are_exact_and_bad_lines_change_nothing(db: &TestDatabase) {
    let store = db.database();
    let c = customer(db, "Acme", None);
    let pro = product(db, "PRO", 129_900, "CNY", true);
    let usd = product(db, "USD-1", 10_000, "USD", true);
    let old = product(db, "OLD", 5_000, "CNY", false);
    let made = ok(store.create_opportunity(
        &admin(),
        draft(
            &c,
            vec![
                line(Some(&pro), 3_000, None, 1_000),
                line(None, 1_500, Some(99), 0),
            ],
        ),
        at(T0),
    ));
    assert_eq!(made.amount, 350_879, "3 × 1,299.00 − 10 % + 1.5 × 0.99");
    assert_eq!((made.lines[0].amount, made.lines[1].amount), (350_730, 149));
    assert_eq!(made.status, OpportunityStatus::Open);
    let default = ok(store.pipelines()).remove(0);
    assert_eq!(
        (made.pipeline_id.as_str(), made.stage_id.as_str()),
        (default.id.as_str(), default.stages[0].id.as_str()),
        "the default pipeline's first stage"
    );
    let refused = store.create_opportunity(
        &admin(),
        draft(
            &c,
            vec![
                line(Some(&usd), 1_000, None, 0),
                line(Some(&old), 1_000, None, 0),
                line(None, -1_000, Some(100), 0),
            ],
        ),
        at(T0),
    );
    assert_eq!(
        codes(refused),
        [
            (
                "/lines/0/product_id".to_string(),
                "currency_mismatch".to_string()
            ),
            (
                "/lines/1/product_id".to_string(),
                "inactive_product".to_string()
            ),
            ("/lines/2/quantity".to_string(), "out_of_range".to_string()),
        ]
    );
    let mut manual = draft(&c, vec![line(None, 1_000, Some(100), 0)]);
    manual.amount = Some(5);
    assert_eq!(
        codes(store.create_opportunity(&admin(), manual, at(T0))),
        [("/amount".to_string(), "amount_from_lines".to_string())]
    );
    let mut elsewhere = draft(&c, vec![]);
    elsewhere.stage_id = Some("01930000-0000-7000-8000-00000000ffff".into());
    assert_eq!(
        codes(store.create_opportunity(&admin(), elsewhere, at(T0))),
        [("/stage_id".to_string(), "not_in_pipeline".to_string())]
    );
    let page = ok(store.list_opportunities(
        &admin(),
        &OpportunityFilter::default(),
        Default::default(),
        &PageRequest {
            limit: 10,
            after: None,
        },
    ));
    assert_eq!(page.items.len(), 1, "nothing else was written");
    // A manual amount without lines; lines replace it; an overflowing total is refused.
    let mut plain = draft(&c, vec![]);
    plain.amount = Some(1_000_000);
    let plain = ok(store.create_opportunity(&admin(), plain, at(T0)));
    assert_eq!((plain.amount, plain.lines.len()), (1_000_000, 0));
    let (relined, _) = ok(store.update_opportunity(
        &admin(),
        &plain.id,
        OpportunityChanges {
            lines: Some(vec![line(Some(&pro), 2_000, Some(120_000), 2_500)]),
            ..Default::default()
        },
        Some(1),
        at(T0),
    ));
    assert_eq!((relined.amount, relined.version), (180_000, 2));
    let huge = crm_domain::money::AMOUNT_MAX;
    assert_eq!(
        codes(store.update_opportunity(
            &admin(),
            &plain.id,
            OpportunityChanges {
                lines: Some(vec![
                    line(None, 1_000, Some(huge), 0),
                    line(None, 1_000, Some(1), 0)
                ]),
                ..Default::default()
            },
            None,
            at(T0),
        )),
        [("/lines".to_string(), "amount_overflow".to_string())]
    );
    assert_eq!(
        codes(store.update_opportunity(
            &admin(),
            &plain.id,
            OpportunityChanges {
                currency: Some("USD".into()),
                ..Default::default()
            },
            None,
            at(T0),
        )),
        [(
            "/currency".to_string(),
            "lines_in_other_currency".to_string()
        )]
    );
    assert_eq!(ok(store.opportunity(&admin(), &plain.id)).0.amount, 180_000);
}

fn stages_are_gated_recorded_and_timed(db: &TestDatabase) {
    let store = db.database();
    let c = customer(db, "Acme", None);
    let pipeline = ok(store.pipelines()).remove(0);
    let stage = |i: usize| pipeline.stages[i].id.clone();
    let made = ok(store.create_opportunity(&admin(), draft(&c, vec![]), at(T0)));
    let rep = Actor {
        id: "rep".into(),
        visibility: Visibility::All,
        user_id: None,
    };
    let forward = |to: usize, override_checklist: bool| StageMove {
        to_stage_id: stage(to),
        note: Some("moving on".into()),
        override_checklist,
        lost_reason: None,
    };
    // Qualification has two required items; neither is ticked.
    let refused = store.change_stage(&rep, &made.id, forward(1, false), None, at(T0));
    let found = codes(refused);
    assert_eq!(found.len(), 2);
    assert!(found
        .iter()
        .all(|(p, c)| p == "/to_stage_id" && c == "checklist_incomplete"));
    // Ticking them opens the way; ticks must be the current stage's.
    let items: Vec<String> = pipeline.stages[0]
        .fields
        .checklist
        .iter()
        .map(|i| i.id.clone())
        .collect();
    assert_eq!(
        codes(store.update_opportunity(
            &rep,
            &made.id,
            OpportunityChanges {
                checklist: Some(vec!["not-an-item".into()]),
                ..Default::default()
            },
            None,
            at(T0),
        )),
        [("/checklist/0".to_string(), "unknown_item".to_string())]
    );
    let (_, ticked) = ok(store.update_opportunity(
        &rep,
        &made.id,
        OpportunityChanges {
            checklist: Some(items.clone()),
            ..Default::default()
        },
        None,
        at(T0),
    ));
    assert_eq!(ticked.len(), 2);
    let two_days = at(T0) + Duration::days(2);
    let (moved, change) = ok(store.change_stage(&rep, &made.id, forward(1, false), None, two_days));
    assert_eq!(moved.stage_id, stage(1));
    assert_eq!(
        (
            change.seconds_in_previous,
            change.probability,
            change.overridden
        ),
        (2 * 86_400, 20, false)
    );
    assert_eq!(
        ok(store.opportunity(&rep, &made.id)).1,
        Vec::<String>::new(),
        "ticks reset"
    );
    // Skipping "Needs confirmed" passes its required item: a manager overrides, recorded.
    let later = two_days + Duration::hours(5);
    let (_, overridden) = ok(store.change_stage(&admin(), &made.id, forward(3, true), None, later));
    assert_eq!(
        (overridden.overridden, overridden.seconds_in_previous),
        (true, 5 * 3_600)
    );
    // Won closes it and stamps the date; reopening clears it; lost needs no checklist.
    let won_at = later + Duration::days(1);
    let (won, _) = ok(store.change_stage(&admin(), &made.id, forward(6, true), None, won_at));
    assert_eq!(
        (won.status, won.closed_at),
        (OpportunityStatus::Won, Some(won_at))
    );
    let (reopened, _) = ok(store.change_stage(&rep, &made.id, forward(4, false), None, won_at));
    assert_eq!(
        (reopened.status, reopened.closed_at),
        (OpportunityStatus::Open, None)
    );
    let lost_at = won_at + Duration::minutes(30);
    let (lost, _) = ok(store.change_stage(
        &rep,
        &made.id,
        StageMove {
            to_stage_id: stage(7),
            note: None,
            override_checklist: false,
            lost_reason: Some("Chose a competitor".into()),
        },
        None,
        lost_at,
    ));
    assert_eq!(
        (lost.status, lost.closed_at, lost.lost_reason.as_deref()),
        (
            OpportunityStatus::Lost,
            Some(lost_at),
            Some("Chose a competitor")
        )
    );
    assert_eq!(
        codes(store.change_stage(&rep, &made.id, forward(7, false), None, lost_at)),
        [("/to_stage_id".to_string(), "same_stage".to_string())]
    );
    let history = ok(store.stage_history(
        &rep,
        &made.id,
        &PageRequest {
            limit: 50,
            after: None,
        },
    ));
    let steps: Vec<(Option<String>, String, i64, bool)> = history
        .items
        .iter()
        .map(|c| {
            (
                c.from_stage_id.clone(),
                c.to_stage_id.clone(),
                c.seconds_in_previous,
                c.overridden,
            )
        })
        .collect();
    assert_eq!(
        steps,
        [
            (None, stage(0), 0, false),
            (Some(stage(0)), stage(1), 2 * 86_400, false),
            (Some(stage(1)), stage(3), 5 * 3_600, true),
            (Some(stage(3)), stage(6), 86_400, true),
            (Some(stage(6)), stage(4), 0, false),
            (Some(stage(4)), stage(7), 1_800, false),
        ]
    );
    assert_eq!(history.items[1].note.as_deref(), Some("moving on"));
    assert_eq!(history.items[1].changed_by, "rep");
    assert_eq!(
        store
            .change_stage(&rep, &made.id, forward(0, false), Some(1), lost_at)
            .map(|_| ()),
        Err(DomainError::PreconditionFailed {
            current_version: lost.version
        })
    );
}

fn opportunities_follow_their_customers(db: &TestDatabase) {
    let store = db.database();
    let owner = {
        use crm_domain::identity::{Email, NewUser, Role};
        use crm_domain::ports::UserStore;
        ok(store.create_user(NewUser {
            email: Email::parse("owner@example.com", "/email").unwrap_or_else(|e| panic!("{e:?}")),
            display_name: "Owner".into(),
            role: Role::Rep,
            password_hash: "x".into(),
        }))
        .id
    };
    let theirs = customer(db, "Theirs", Some(owner.clone()));
    let pool = customer(db, "Pool", None);
    let hidden = ok(store.create_opportunity(&admin(), draft(&theirs, vec![]), at(T0)));
    let mut closing = draft(&pool, vec![]);
    closing.amount = Some(50_000);
    closing.expected_close_on = NaiveDate::from_ymd_opt(2026, 6, 30);
    let shown = ok(store.create_opportunity(&admin(), closing, at(T0)));
    let rep = Actor {
        id: "rep".into(),
        visibility: Visibility::OwnersOrPool(vec!["rep".into()]),
        user_id: None,
    };
    assert_eq!(
        store.opportunity(&rep, &hidden.id).map(|_| ()),
        Err(DomainError::NotFound {
            entity: "opportunity"
        })
    );
    assert_eq!(
        store
            .create_opportunity(&rep, draft(&theirs, vec![]), at(T0))
            .map(|_| ()),
        Err(DomainError::NotFound { entity: "customer" })
    );
    let ids = |filter: OpportunityFilter, actor: &Actor| -> Vec<String> {
        ok(store.list_opportunities(
            actor,
            &filter,
            Default::default(),
            &PageRequest {
                limit: 50,
                after: None,
            },
        ))
        .items
        .into_iter()
        .map(|o| o.id)
        .collect()
    };
    assert_eq!(ids(OpportunityFilter::default(), &rep), [shown.id.as_str()]);
    assert_eq!(ids(OpportunityFilter::default(), &admin()).len(), 2);
    let in_range = OpportunityFilter {
        amount_min: Some(50_000),
        close_to: NaiveDate::from_ymd_opt(2026, 6, 30),
        ..Default::default()
    };
    assert_eq!(ids(in_range, &admin()), [shown.id.as_str()]);
    let won_only = OpportunityFilter {
        status: Some(OpportunityStatus::Won),
        ..Default::default()
    };
    assert_eq!(ids(won_only, &admin()), Vec::<String>::new());
    // Newest change first, across pages.
    let mut seen = Vec::new();
    let mut after = None;
    loop {
        let page = ok(store.list_opportunities(
            &admin(),
            &OpportunityFilter::default(),
            Default::default(),
            &PageRequest { limit: 1, after },
        ));
        seen.extend(page.items.into_iter().map(|o| o.id));
        match page.next_after {
            Some(next) => after = Some(next),
            None => break,
        }
    }
    assert_eq!(seen, [shown.id, hidden.id]);
}

/// Renaming, reordering and adding stages leave open deals where they are; removing a stage
/// that holds deals needs a stage to move them to, and records the move; a stage that becomes
/// won closes its deals.
fn pipeline_edits_keep_open_deals_safe(db: &TestDatabase) {
    let store = db.database();
    let c = customer(db, "Acme", None);
    let pipeline = ok(store.pipelines()).remove(0);
    let first = pipeline.stages[0].clone();
    let second = pipeline.stages[1].id.clone();
    let deal = ok(store.create_opportunity(&admin(), draft(&c, vec![]), at(T0)));
    let mut renamed = first.fields.clone();
    renamed.name = "Qualify".into();
    ok(store.update_stage(&pipeline.id, &first.id, renamed, None, at(T0)));
    let mut order: Vec<String> = pipeline.stages.iter().map(|s| s.id.clone()).collect();
    order.swap(0, 1);
    ok(store.reorder_stages(&pipeline.id, &order, None, at(T0)));
    let extra = crm_domain::pipelines::StageFields {
        name: "Demo".into(),
        probability: 30,
        kind: crm_domain::pipelines::StageKind::Open,
        guidance: None,
        checklist: vec![],
    };
    ok(store.add_stage(&pipeline.id, extra, Some(0), None, at(T0)));
    let (still, _) = ok(store.opportunity(&admin(), &deal.id));
    assert_eq!(
        (still.stage_id.as_str(), still.status, still.version),
        (first.id.as_str(), OpportunityStatus::Open, 1)
    );
    let later = at(T0) + Duration::hours(6);
    assert_eq!(
        store.delete_stage(&pipeline.id, &first.id, None, "admin", None, later),
        Err(DomainError::Conflict {
            code: "stage_not_empty",
            message: "1 opportunities are in this stage: name the stage they move to with move_to"
                .into(),
        })
    );
    assert_eq!(
        codes(store.delete_stage(
            &pipeline.id,
            &first.id,
            Some(&first.id),
            "admin",
            None,
            later
        )),
        [("/query/move_to".to_string(), "not_in_pipeline".to_string())]
    );
    let after =
        ok(store.delete_stage(&pipeline.id, &first.id, Some(&second), "admin", None, later));
    assert!(after.stages.iter().all(|s| s.id != first.id));
    assert_eq!(
        after.stages.iter().map(|s| s.position).collect::<Vec<_>>(),
        (0..after.stages.len() as i64).collect::<Vec<_>>()
    );
    let (moved, _) = ok(store.opportunity(&admin(), &deal.id));
    assert_eq!(
        (moved.stage_id.as_str(), moved.stage_entered_at),
        (second.as_str(), later)
    );
    let history = ok(store.stage_history(
        &admin(),
        &deal.id,
        &PageRequest {
            limit: 10,
            after: None,
        },
    ));
    let last = history.items.last().cloned();
    assert_eq!(
        last.map(|c| (
            c.from_stage_id,
            c.to_stage_id,
            c.seconds_in_previous,
            c.note
        )),
        Some((
            Some(first.id.clone()),
            second.clone(),
            6 * 3_600,
            Some("the stage was removed".to_string())
        ))
    );
    // The last lost stage stays.
    let lost = after
        .stages
        .iter()
        .find(|s| s.fields.kind == crm_domain::pipelines::StageKind::Lost)
        .map(|s| s.id.clone())
        .unwrap_or_default();
    assert_eq!(
        store
            .delete_stage(&pipeline.id, &lost, None, "admin", None, later)
            .map(|p| p.version),
        Err(DomainError::Conflict {
            code: "stage_kinds",
            message: "a pipeline needs open, won and lost stages; missing: lost".into(),
        })
    );
    // A stage turned won closes the deals in it.
    let mut won = ok(store.pipeline(&pipeline.id))
        .stages
        .into_iter()
        .find(|s| s.id == second)
        .map(|s| s.fields)
        .unwrap_or_else(|| panic!("the second stage"));
    won.kind = crm_domain::pipelines::StageKind::Won;
    won.probability = 100;
    ok(store.update_stage(&pipeline.id, &second, won, None, later));
    let (closed, _) = ok(store.opportunity(&admin(), &deal.id));
    assert_eq!(
        (closed.status, closed.closed_at),
        (OpportunityStatus::Won, Some(later))
    );
}

/// Every order, walked a page at a time, gives every opportunity once in the right order;
/// those without a close date come last either way.
fn lists_sort_by_amount_close_date_and_change(db: &TestDatabase) {
    use crm_domain::opportunities::OpportunitySort;
    let store = db.database();
    let c = customer(db, "Acme", None);
    let date = |d: &str| d.parse::<NaiveDate>().ok();
    let mut made = Vec::new();
    for (i, (name, amount, close)) in [
        ("a", 300, date("2026-07-01")),
        ("b", 100, None),
        ("c", 300, date("2026-06-01")),
        ("d", 200, date("2026-07-01")),
        ("e", 500, None),
    ]
    .into_iter()
    .enumerate()
    {
        let mut d = draft(&c, vec![]);
        d.name = name.into();
        d.amount = Some(amount);
        d.expected_close_on = close;
        let o = ok(store.create_opportunity(&admin(), d, at(T0) + Duration::minutes(i as i64)));
        made.push(o);
    }
    let walk = |sort: OpportunitySort| -> Vec<String> {
        let mut names = Vec::new();
        let mut after = None;
        loop {
            let page = ok(store.list_opportunities(
                &admin(),
                &OpportunityFilter::default(),
                sort,
                &PageRequest { limit: 2, after },
            ));
            names.extend(page.items.into_iter().map(|o| o.name));
            match page.next_after {
                Some(next) => after = Some(next),
                None => break names,
            }
        }
    };
    assert_eq!(
        walk(OpportunitySort::UpdatedDesc),
        ["e", "d", "c", "b", "a"]
    );
    assert_eq!(walk(OpportunitySort::UpdatedAsc), ["a", "b", "c", "d", "e"]);
    // Ties by id: "a" was made before "c".
    assert_eq!(walk(OpportunitySort::AmountAsc), ["b", "d", "a", "c", "e"]);
    assert_eq!(walk(OpportunitySort::AmountDesc), ["e", "c", "a", "d", "b"]);
    assert_eq!(walk(OpportunitySort::CloseAsc), ["c", "a", "d", "b", "e"]);
    assert_eq!(walk(OpportunitySort::CloseDesc), ["d", "a", "c", "e", "b"]);
    assert_eq!(
        store
            .list_opportunities(
                &admin(),
                &OpportunityFilter::default(),
                OpportunitySort::AmountAsc,
                &PageRequest {
                    limit: 2,
                    after: Some(OpportunitySort::CloseAsc.position(&made[0])),
                },
            )
            .map(|p| p.items.len()),
        Err(DomainError::Validation(vec![crm_domain::FieldError::new(
            "/query/cursor",
            "invalid",
            "not a cursor of this list",
        )])),
        "a cursor continues only its own order"
    );
}

backend_tests!(
    amounts_are_exact_and_bad_lines_change_nothing,
    lists_sort_by_amount_close_date_and_change,
    pipeline_edits_keep_open_deals_safe,
    stages_are_gated_recorded_and_timed,
    opportunities_follow_their_customers
);
