//! Activities on both backends: the customer's derived `last_activity_at` and
//! `next_follow_up_at` through every create, change, completion and delete; contacts and answered
//! follow-ups checked; visibility; the newest-first list and its filters.

use chrono::{DateTime, Duration, Utc};
use crm_domain::activities::{
    ActivityFields, ActivityKind, FollowUpChange, FollowUpPlan, FollowUpState,
};
use crm_domain::customers::{ContactFields, CustomerFields, CustomerKind};
use crm_domain::identity::Visibility;
use crm_domain::page::PageRequest;
use crm_domain::ports::{ActivityFilter, ActivityStore, Actor, ContactStore, CustomerStore};
use crm_domain::{DomainError, FieldError};
use crm_persistence::backend_tests;
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

fn at(raw: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(raw)
        .map(|t| t.with_timezone(&Utc))
        .unwrap_or_else(|e| panic!("{e}"))
}

fn customer(db: &TestDatabase, name: &str, owner: Option<String>) -> String {
    let fields = CustomerFields::new(CustomerKind::Company, name);
    ok(db
        .database()
        .create_customer(&admin(), fields, owner, false))
    .id
}

fn fields(occurred_at: &str, subject: &str) -> ActivityFields {
    ActivityFields {
        contact_id: None,
        opportunity_id: None,
        kind: ActivityKind::Call,
        occurred_at: at(occurred_at),
        subject: subject.into(),
        content: None,
        outcome: None,
        attachments: vec![],
        custom_fields: Default::default(),
        behaviors: vec![],
    }
}

fn plan(due: &str) -> Option<FollowUpPlan> {
    Some(FollowUpPlan {
        due_at: at(due),
        note: Some("call back".into()),
    })
}

/// The customer's `(last_activity_at, next_follow_up_at)`.
fn derived(db: &TestDatabase, id: &str) -> (Option<DateTime<Utc>>, Option<DateTime<Utc>>) {
    let c = ok(db.database().customer(&admin(), id));
    (c.last_activity_at, c.next_follow_up_at)
}

const NOW: &str = "2026-05-01T09:00:00Z";

fn derived_fields_follow_every_write(db: &TestDatabase) {
    let store = db.database();
    let now = at(NOW);
    let c = customer(db, "Acme", None);
    assert_eq!(derived(db, &c), (None, None));
    let a = ok(store.create_activity(
        &admin(),
        &c,
        fields("2026-04-01T10:00:00Z", "First call"),
        plan("2026-05-10T09:00:00Z"),
        None,
        now,
    ));
    assert_eq!(a.author_id, "admin");
    assert_eq!(
        a.follow_up.as_ref().map(|f| (f.state.as_str(), f.due_at)),
        Some(("pending", at("2026-05-10T09:00:00Z")))
    );
    assert_eq!(
        derived(db, &c),
        (
            Some(at("2026-04-01T10:00:00Z")),
            Some(at("2026-05-10T09:00:00Z"))
        )
    );
    let b = ok(store.create_activity(
        &admin(),
        &c,
        fields("2026-04-20T10:00:00Z", "Second call"),
        plan("2026-05-05T09:00:00Z"),
        None,
        now,
    ));
    assert_eq!(
        derived(db, &c),
        (
            Some(at("2026-04-20T10:00:00Z")),
            Some(at("2026-05-05T09:00:00Z"))
        )
    );
    // An older activity logged later does not move the latest one.
    let old = ok(store.create_activity(
        &admin(),
        &c,
        fields("2026-03-01T10:00:00Z", "Back-filled"),
        None,
        None,
        now,
    ));
    assert_eq!(derived(db, &c).0, Some(at("2026-04-20T10:00:00Z")));
    ok(store.delete_activity(&admin(), &b.id, at(NOW)));
    assert_eq!(
        derived(db, &c),
        (
            Some(at("2026-04-01T10:00:00Z")),
            Some(at("2026-05-10T09:00:00Z"))
        )
    );
    // A later activity answers A's follow-up: nothing is open any more.
    let answer = ok(store.create_activity(
        &admin(),
        &c,
        fields("2026-04-30T10:00:00Z", "Answered"),
        None,
        Some(a.id.clone()),
        now,
    ));
    let a_now = ok(store.activity(&admin(), &a.id));
    let closed = a_now.follow_up.clone().unwrap_or_else(|| panic!("kept"));
    assert_eq!(closed.state, "done");
    assert_eq!(closed.closed_by.as_deref(), Some(answer.id.as_str()));
    assert_eq!(a_now.version, 2);
    assert_eq!(derived(db, &c), (Some(at("2026-04-30T10:00:00Z")), None));
    // Removing the answer opens the follow-up again.
    ok(store.delete_activity(&admin(), &answer.id, at(NOW)));
    let reopened = ok(store.activity(&admin(), &a.id)).follow_up;
    assert_eq!(
        reopened.map(|f| (f.state, f.closed_by)),
        Some(("pending".into(), None))
    );
    assert_eq!(
        derived(db, &c),
        (
            Some(at("2026-04-01T10:00:00Z")),
            Some(at("2026-05-10T09:00:00Z"))
        )
    );
    // Cancelled by hand, then moved (which reopens it), then removed.
    let a_now = ok(store.activity(&admin(), &a.id));
    let cancelled = ok(store.update_activity(
        &admin(),
        &a.id,
        a_now.fields.clone(),
        FollowUpChange::Set {
            due_at: None,
            note: None,
            state: Some(FollowUpState::Cancelled),
        },
        Some(a_now.version),
        now,
    ));
    assert_eq!(
        cancelled
            .follow_up
            .as_ref()
            .map(|f| (f.state.as_str(), f.closed_by.as_deref())),
        Some(("cancelled", Some("admin")))
    );
    assert_eq!(derived(db, &c).1, None);
    let moved = ok(store.update_activity(
        &admin(),
        &a.id,
        cancelled.fields.clone(),
        FollowUpChange::Set {
            due_at: Some(at("2026-06-01T09:00:00Z")),
            note: Some(None),
            state: None,
        },
        None,
        now,
    ));
    assert_eq!(
        moved
            .follow_up
            .as_ref()
            .map(|f| (f.state.as_str(), f.note.clone())),
        Some(("pending", None))
    );
    assert_eq!(derived(db, &c).1, Some(at("2026-06-01T09:00:00Z")));
    // The occurred time moves the latest activity too.
    let mut later = moved.fields.clone();
    later.occurred_at = at("2026-04-25T10:00:00Z");
    let removed =
        ok(store.update_activity(&admin(), &a.id, later, FollowUpChange::Remove, None, now));
    assert_eq!(removed.follow_up, None);
    assert_eq!(derived(db, &c), (Some(at("2026-04-25T10:00:00Z")), None));
    // A stale version is refused and changes nothing.
    assert_eq!(
        store.update_activity(
            &admin(),
            &old.id,
            fields("2026-03-02T10:00:00Z", "x"),
            FollowUpChange::Keep,
            Some(7),
            now,
        ),
        Err(DomainError::PreconditionFailed { current_version: 1 })
    );
    ok(store.delete_activity(&admin(), &a.id, at(NOW)));
    ok(store.delete_activity(&admin(), &old.id, at(NOW)));
    assert_eq!(derived(db, &c), (None, None));
    assert_eq!(
        store.activity(&admin(), &a.id),
        Err(DomainError::NotFound { entity: "activity" })
    );
}

fn references_are_checked(db: &TestDatabase) {
    let store = db.database();
    let now = at(NOW);
    let c = customer(db, "Acme", None);
    let other = customer(db, "Other", None);
    let contact = |customer_id: &str| {
        ok(store.create_contact(
            &admin(),
            customer_id,
            ContactFields {
                name: "Li".into(),
                title: None,
                phones: vec![],
                email: None,
                wechat_id: None,
                notes: None,
                custom_fields: Default::default(),
            },
            false,
            true,
        ))
        .id
    };
    let mine = contact(&c);
    let theirs = contact(&other);
    let mut with_contact = fields("2026-04-01T10:00:00Z", "Met Li");
    with_contact.contact_id = Some(theirs.clone());
    assert_eq!(
        store.create_activity(&admin(), &c, with_contact.clone(), None, None, now),
        Err(DomainError::Validation(vec![FieldError::new(
            "/contact_id",
            "not_of_customer",
            "not a contact of this customer"
        )]))
    );
    with_contact.contact_id = Some(mine);
    // An opportunity must be the customer's too, on create and on change.
    let deal = |customer_id: &str| {
        use crm_domain::opportunities::OpportunityDraft;
        use crm_domain::ports::OpportunityStore;
        ok(store.create_opportunity(
            &admin(),
            OpportunityDraft {
                customer_id: customer_id.into(),
                name: "Deal".into(),
                pipeline_id: None,
                stage_id: None,
                currency: "CNY".into(),
                lines: vec![],
                amount: None,
                expected_close_on: None,
                custom_fields: Default::default(),
            },
            now,
        ))
        .id
    };
    let our_deal = deal(&c);
    let their_deal = deal(&other);
    let not_ours = || {
        DomainError::Validation(vec![FieldError::new(
            "/opportunity_id",
            "not_of_customer",
            "not an opportunity of this customer",
        )])
    };
    let mut about_deal = with_contact.clone();
    about_deal.opportunity_id = Some(their_deal.clone());
    assert_eq!(
        store
            .create_activity(&admin(), &c, about_deal.clone(), None, None, now)
            .map(|a| a.id),
        Err(not_ours())
    );
    about_deal.opportunity_id = Some(our_deal.clone());
    let on_deal = ok(store.create_activity(&admin(), &c, about_deal, None, None, now));
    assert_eq!(
        on_deal.fields.opportunity_id.as_deref(),
        Some(our_deal.as_str())
    );
    let mut moved = on_deal.fields.clone();
    moved.opportunity_id = Some(their_deal);
    assert_eq!(
        store
            .update_activity(
                &admin(),
                &on_deal.id,
                moved,
                FollowUpChange::Keep,
                None,
                now
            )
            .map(|a| a.id),
        Err(not_ours())
    );
    let by_deal = ok(store.list_activities(
        &admin(),
        &ActivityFilter {
            opportunity_id: Some(our_deal),
            ..Default::default()
        },
        &PageRequest {
            limit: 10,
            after: None,
        },
    ));
    assert_eq!(
        by_deal
            .items
            .iter()
            .map(|a| a.id.as_str())
            .collect::<Vec<_>>(),
        [on_deal.id.as_str()]
    );
    ok(store.delete_activity(&admin(), &on_deal.id, now));
    let a = ok(store.create_activity(&admin(), &c, with_contact, None, None, now));
    // No open follow-up on `a`, and none of another customer's.
    let other_follow_up = ok(store.create_activity(
        &admin(),
        &other,
        fields("2026-04-01T10:00:00Z", "Elsewhere"),
        plan("2026-06-01T00:00:00Z"),
        None,
        now,
    ));
    for answered in [a.id.clone(), other_follow_up.id.clone(), "nope".into()] {
        assert_eq!(
            store.create_activity(
                &admin(),
                &c,
                fields("2026-04-02T10:00:00Z", "Answer"),
                None,
                Some(answered),
                now
            ),
            Err(DomainError::Validation(vec![FieldError::new(
                "/answers",
                "no_open_follow_up",
                "not an activity of this customer with an open follow-up"
            )]))
        );
    }
    let listed = ok(store.list_activities(
        &admin(),
        &ActivityFilter {
            customer_id: Some(c.clone()),
            ..ActivityFilter::default()
        },
        &PageRequest {
            limit: 10,
            after: None,
        },
    ));
    assert_eq!(listed.items.len(), 1, "refused writes left nothing");
    assert_eq!(derived(db, &other).1, Some(at("2026-06-01T00:00:00Z")));
}

fn lists_are_newest_first_and_visible_only(db: &TestDatabase) {
    let store = db.database();
    let now = at(NOW);
    let rep = Actor {
        id: "rep".into(),
        visibility: Visibility::OwnersOrPool(vec!["rep-owner".into()]),
        user_id: None,
    };
    let pool = customer(db, "Pool", None);
    let hidden = customer(db, "Hidden", Some(seed_owner(db, "other")));
    let mut expected = Vec::new();
    for n in 0..7_i64 {
        let mut f = fields("2026-04-01T10:00:00Z", &format!("Call {n}"));
        // Two activities share each instant: ties go by id.
        f.occurred_at += Duration::hours(n / 2);
        if n % 3 == 0 {
            f.kind = ActivityKind::Visit;
        }
        let a = ok(store.create_activity(&rep, &pool, f, None, None, now));
        expected.push(a.id);
    }
    expected.reverse();
    ok(store.create_activity(
        &admin(),
        &hidden,
        fields("2026-04-05T10:00:00Z", "Hidden"),
        None,
        None,
        now,
    ));
    let walk = |actor: &Actor, filter: ActivityFilter| {
        let mut ids = Vec::new();
        let mut after = None;
        loop {
            let page = ok(store.list_activities(actor, &filter, &PageRequest { limit: 3, after }));
            ids.extend(page.items.into_iter().map(|a| a.id));
            match page.next_after {
                Some(next) => after = Some(next),
                None => break ids,
            }
        }
    };
    assert_eq!(walk(&rep, ActivityFilter::default()), expected);
    assert_eq!(walk(&admin(), ActivityFilter::default()).len(), 8);
    let visits = walk(
        &rep,
        ActivityFilter {
            kind: Some(ActivityKind::Visit),
            ..ActivityFilter::default()
        },
    );
    assert_eq!(visits.len(), 3);
    let ranged = walk(
        &rep,
        ActivityFilter {
            occurred_after: Some(at("2026-04-01T11:00:00Z")),
            occurred_before: Some(at("2026-04-01T13:00:00Z")),
            author_id: Some("rep".into()),
            ..ActivityFilter::default()
        },
    );
    assert_eq!(ranged, expected[1..5].to_vec());
    assert_eq!(
        store.list_activities(
            &rep,
            &ActivityFilter {
                customer_id: Some(hidden.clone()),
                ..ActivityFilter::default()
            },
            &PageRequest {
                limit: 3,
                after: None
            }
        ),
        Err(DomainError::NotFound { entity: "customer" })
    );
    assert_eq!(
        store.create_activity(&rep, &hidden, fields(NOW, "x"), None, None, now),
        Err(DomainError::NotFound { entity: "customer" })
    );
    let hidden_activity = walk(
        &admin(),
        ActivityFilter {
            customer_id: Some(hidden),
            ..ActivityFilter::default()
        },
    );
    assert_eq!(
        store.activity(&rep, &hidden_activity[0]),
        Err(DomainError::NotFound { entity: "activity" })
    );
    assert_eq!(
        store.delete_activity(&rep, &hidden_activity[0], at(NOW)),
        Err(DomainError::NotFound { entity: "activity" })
    );
}

fn seed_owner(db: &TestDatabase, name: &str) -> String {
    use crm_domain::identity::{Email, NewUser, Role};
    use crm_domain::ports::UserStore;
    let email = format!("{name}@example.com");
    ok(db.database().create_user(NewUser {
        email: Email::parse(&email, "/email").unwrap_or_else(|e| panic!("{e:?}")),
        display_name: name.into(),
        role: Role::Rep,
        password_hash: "x".into(),
    }))
    .id
}

fn reminders_rank_by_due_then_score(db: &TestDatabase) {
    use crm_domain::ports::FollowUpFilter;
    let store = db.database();
    let now = at(NOW);
    let low = customer(db, "Low", None);
    let high = customer(db, "High", None);
    let rep = Actor {
        id: "rep".into(),
        visibility: Visibility::OwnersOrPool(vec![]),
        user_id: None,
    };
    let mut made = Vec::new();
    for (who, customer_id, due) in [
        (&rep, &low, "2026-05-03T09:00:00Z"),
        (&rep, &high, "2026-05-03T09:00:00Z"),
        (&rep, &low, "2026-05-02T09:00:00Z"),
        (&admin(), &high, "2026-05-02T12:00:00Z"),
        (&rep, &high, "2026-05-09T09:00:00Z"),
    ] {
        let a = ok(store.create_activity(
            who,
            customer_id,
            fields("2026-04-30T10:00:00Z", due),
            plan(due),
            None,
            now,
        ));
        made.push(a.id);
    }
    // Closed and removed follow-ups are not reminded.
    let closed = ok(store.create_activity(
        &rep,
        &low,
        fields("2026-04-30T10:00:00Z", "closed"),
        plan("2026-05-01T10:00:00Z"),
        None,
        now,
    ));
    ok(store.create_activity(
        &rep,
        &low,
        fields("2026-04-30T11:00:00Z", "answer"),
        None,
        Some(closed.id),
        now,
    ));
    let removed = ok(store.create_activity(
        &rep,
        &low,
        fields("2026-04-30T10:00:00Z", "removed"),
        plan("2026-05-01T10:00:00Z"),
        None,
        now,
    ));
    ok(store.delete_activity(&rep, &removed.id, at(NOW)));
    // The rep's own follow-up on a customer since given to someone else is not theirs to see.
    let given_away = customer(db, "Given away", Some(seed_owner(db, "other")));
    let rep_before = Actor {
        id: "rep".into(),
        visibility: Visibility::All,
        user_id: None,
    };
    ok(store.create_activity(
        &rep_before,
        &given_away,
        fields("2026-04-30T10:00:00Z", "hidden"),
        plan("2026-05-02T10:00:00Z"),
        None,
        now,
    ));
    // Scores as behaviours would have left them (activity writes recompute them).
    db.set_customer_derived(&low, 5, None, now);
    db.set_customer_derived(&high, 80, None, now);
    let walk = |filter: FollowUpFilter| {
        let mut found = Vec::new();
        let mut after = None;
        loop {
            let page = ok(store.follow_ups(&rep, &filter, &PageRequest { limit: 2, after }));
            found.extend(
                page.items
                    .into_iter()
                    .map(|e| (e.activity.id, e.customer_name, e.customer_score)),
            );
            match page.next_after {
                Some(next) => after = Some(next),
                None => break found,
            }
        }
    };
    let all = walk(FollowUpFilter::default());
    let ids: Vec<&String> = all.iter().map(|(id, ..)| id).collect();
    // Soonest first; at the same time the higher-scoring customer first.
    assert_eq!(ids, [&made[2], &made[3], &made[1], &made[0], &made[4]]);
    assert_eq!(
        (all[2].1.as_str(), all[2].2),
        ("High", 80),
        "the entry carries its customer"
    );
    let mine = walk(FollowUpFilter {
        owner_id: Some("rep".into()),
        due_from: Some(at("2026-05-02T10:00:00Z")),
        due_before: Some(at("2026-05-04T00:00:00Z")),
    });
    let ids: Vec<&String> = mine.iter().map(|(id, ..)| id).collect();
    assert_eq!(ids, [&made[1], &made[0]]);
}

fn due_follow_ups_are_emitted_once(db: &TestDatabase) {
    use crm_domain::ports::OutboxStore;
    let store = db.database();
    let now = at(NOW);
    let c = customer(db, "Acme", None);
    let soon = ok(store.create_activity(
        &admin(),
        &c,
        fields("2026-04-30T10:00:00Z", "Soon"),
        plan("2026-05-02T09:00:00Z"),
        None,
        now,
    ));
    let later = ok(store.create_activity(
        &admin(),
        &c,
        fields("2026-04-30T10:00:00Z", "Later"),
        plan("2026-05-04T09:00:00Z"),
        None,
        now,
    ));
    let answered = ok(store.create_activity(
        &admin(),
        &c,
        fields("2026-04-30T10:00:00Z", "Answered"),
        plan("2026-05-02T08:00:00Z"),
        None,
        now,
    ));
    ok(store.create_activity(
        &admin(),
        &c,
        fields("2026-04-30T11:00:00Z", "Answer"),
        None,
        Some(answered.id),
        now,
    ));
    let removed = ok(store.create_activity(
        &admin(),
        &c,
        fields("2026-04-30T10:00:00Z", "Removed"),
        plan("2026-05-02T08:00:00Z"),
        None,
        now,
    ));
    ok(store.delete_activity(&admin(), &removed.id, at(NOW)));
    assert_eq!(
        ok(store.emit_due_follow_ups(now, 100)),
        0,
        "nothing due yet"
    );
    let first_due = at("2026-05-02T09:00:00Z");
    assert_eq!(ok(store.emit_due_follow_ups(first_due, 100)), 1);
    assert_eq!(ok(store.emit_due_follow_ups(first_due, 100)), 0, "once");
    let events = ok(store.pending_events(None, 10));
    assert_eq!(events.len(), 1);
    assert_eq!(
        (events[0].event_type.as_str(), events[0].subject_id.as_str()),
        ("follow_up.due", soon.id.as_str())
    );
    assert_eq!(
        events[0].payload,
        serde_json::json!({"activity_id": soon.id, "customer_id": c, "owner_id": "admin",
            "subject": "Soon", "due_at": "2026-05-02T09:00:00Z", "note": "call back"})
    );
    assert_eq!(
        ok(store.activity(&admin(), &soon.id))
            .follow_up
            .and_then(|f| f.reminded_at),
        Some(first_due)
    );
    // Moved to a new time, it comes due again then.
    let current = ok(store.activity(&admin(), &soon.id));
    ok(store.update_activity(
        &admin(),
        &soon.id,
        current.fields,
        FollowUpChange::Set {
            due_at: Some(at("2026-05-03T09:00:00Z")),
            note: None,
            state: None,
        },
        None,
        first_due,
    ));
    assert_eq!(ok(store.emit_due_follow_ups(first_due, 100)), 0);
    let much_later = at("2026-05-05T00:00:00Z");
    assert_eq!(
        ok(store.emit_due_follow_ups(much_later, 1)),
        1,
        "the limit holds"
    );
    assert_eq!(ok(store.emit_due_follow_ups(much_later, 100)), 1);
    let events = ok(store.pending_events(None, 10));
    let subjects: Vec<&str> = events.iter().map(|e| e.subject_id.as_str()).collect();
    assert_eq!(subjects, [&soon.id, &soon.id, &later.id]);
    let rest = ok(store.pending_events(Some(&events[0].id), 10));
    assert_eq!(rest.len(), 2);
}

fn score_of(db: &TestDatabase, id: &str) -> i64 {
    ok(db.database().customer(&admin(), id)).score
}

fn recording(occurred_at: &str, codes: &[&str]) -> ActivityFields {
    ActivityFields {
        behaviors: codes.iter().map(|c| c.to_string()).collect(),
        ..fields(occurred_at, "scored")
    }
}

fn codes_of<T>(result: Result<T, DomainError>) -> Vec<(String, String)> {
    match result {
        Err(DomainError::Validation(errors)) => {
            errors.into_iter().map(|e| (e.pointer, e.code)).collect()
        }
        Err(other) => panic!("not a validation error: {other}"),
        Ok(_) => panic!("accepted"),
    }
}

/// The catalogue: seeded behaviours, a new one, a taken code, changes with versions, archiving.
fn the_behaviour_catalogue_is_maintained(db: &TestDatabase) {
    use crm_domain::ports::ScoringStore;
    use crm_domain::scoring::{BehaviorChanges, BehaviorDraft};
    let store = db.database();
    let now = at(NOW);
    let seeded: Vec<(String, i64)> = ok(store.behaviors(false))
        .into_iter()
        .map(|b| (b.code, b.points))
        .collect();
    assert_eq!(
        seeded,
        [
            ("attended_demo".to_string(), 15),
            ("chose_competitor".to_string(), -30),
            ("no_answer_3x".to_string(), -10),
            ("replied_promptly".to_string(), 5),
            ("requested_quote".to_string(), 20),
        ]
    );
    let draft = BehaviorDraft {
        code: "visited_showroom".into(),
        label: "Visited the showroom".into(),
        description: Some("Came in person".into()),
        points: 15,
    };
    let made = ok(store.create_behavior(draft.clone(), now));
    assert_eq!(
        (made.version, made.archived, made.created_at),
        (1, false, now)
    );
    assert_eq!(
        store.create_behavior(draft, now).map(|b| b.code),
        Err(DomainError::Conflict {
            code: "behavior_exists",
            message: "a behaviour with this code exists".into(),
        })
    );
    let changed = ok(store.update_behavior(
        "visited_showroom",
        BehaviorChanges {
            points: Some(25),
            description: Some(None),
            ..Default::default()
        },
        Some(1),
        now,
    ));
    assert_eq!(
        (changed.points, changed.description, changed.version),
        (25, None, 2)
    );
    assert_eq!(
        store.update_behavior("visited_showroom", BehaviorChanges::default(), Some(1), now),
        Err(DomainError::PreconditionFailed { current_version: 2 })
    );
    let unchanged = ok(store.update_behavior(
        "visited_showroom",
        BehaviorChanges {
            points: Some(25),
            ..Default::default()
        },
        None,
        now,
    ));
    assert_eq!(unchanged.version, 2, "no change, no new version");
    ok(store.update_behavior(
        "visited_showroom",
        BehaviorChanges {
            archived: Some(true),
            ..Default::default()
        },
        None,
        now,
    ));
    assert!(!ok(store.behaviors(false))
        .iter()
        .any(|b| b.code == "visited_showroom"));
    assert!(ok(store.behaviors(true))
        .iter()
        .any(|b| b.code == "visited_showroom" && b.archived));
    assert_eq!(
        store.update_behavior("nope", BehaviorChanges::default(), None, now),
        Err(DomainError::NotFound { entity: "behavior" })
    );
}

/// Behaviours on activities score the customer at the injected clock, in the activity's
/// transaction, through create, change and delete; recorded points survive catalogue changes.
fn behaviours_score_customers_at_fixed_clocks(db: &TestDatabase) {
    use crm_domain::ports::ScoringStore;
    use crm_domain::scoring::BehaviorChanges;
    let store = db.database();
    let now = at("2026-04-01T00:00:00Z");
    let c = customer(db, "Acme", None);
    // requested_quote 90 days ago (one half-life): 20 → 10.
    let quote = ok(store.create_activity(
        &admin(),
        &c,
        recording("2026-01-01T00:00:00Z", &["requested_quote"]),
        None,
        None,
        now,
    ));
    assert_eq!(quote.fields.behaviors, ["requested_quote"]);
    assert_eq!(score_of(db, &c), 10);
    // no_answer_3x today (-10) and attended_demo 45 days ago (15 / √2 = 10.61).
    let mixed = ok(store.create_activity(
        &admin(),
        &c,
        recording("2026-04-01T00:00:00Z", &["no_answer_3x"]),
        None,
        None,
        now,
    ));
    let demo = ok(store.create_activity(
        &admin(),
        &c,
        recording("2026-02-15T00:00:00Z", &["attended_demo"]),
        None,
        None,
        now,
    ));
    assert_eq!(score_of(db, &c), 11, "10 - 10 + 10.61");
    // The catalogue's new points count for new recordings only.
    ok(store.update_behavior(
        "requested_quote",
        BehaviorChanges {
            points: Some(40),
            ..Default::default()
        },
        None,
        now,
    ));
    let mut keep = demo.fields.clone();
    keep.behaviors = vec!["attended_demo".into(), "requested_quote".into()];
    ok(store.update_activity(&admin(), &demo.id, keep, FollowUpChange::Keep, None, now));
    // attended_demo keeps 15; requested_quote 45 days ago at 40 → 28.28.
    assert_eq!(score_of(db, &c), 39, "10 - 10 + 10.61 + 28.28 = 38.89");
    let (recorded, half_life) = ok(store.customer_behaviors(&admin(), &c));
    assert_eq!(half_life, 90);
    let mut points: Vec<(String, i64, String)> = recorded
        .into_iter()
        .map(|r| (r.code, r.points, r.activity_id))
        .collect();
    points.sort();
    assert_eq!(
        points,
        [
            ("attended_demo".to_string(), 15, demo.id.clone()),
            ("no_answer_3x".to_string(), -10, mixed.id.clone()),
            ("requested_quote".to_string(), 20, quote.id.clone()),
            ("requested_quote".to_string(), 40, demo.id.clone()),
        ]
    );
    // Moving an activity in time moves its decay: the quote now happened today.
    let mut moved = quote.fields.clone();
    moved.occurred_at = now;
    ok(store.update_activity(&admin(), &quote.id, moved, FollowUpChange::Keep, None, now));
    assert_eq!(score_of(db, &c), 49, "20 - 10 + 10.61 + 28.28 = 48.89");
    // A later clock decays everything on the next write.
    let later = now + Duration::days(90);
    ok(store.delete_activity(&admin(), &mixed.id, later));
    assert_eq!(score_of(db, &c), 29, "10 + 5.30 + 14.14 = 29.44");
    ok(store.delete_activity(&admin(), &demo.id, later));
    ok(store.delete_activity(&admin(), &quote.id, later));
    assert_eq!(score_of(db, &c), 0, "no behaviours left");
    assert_eq!(ok(store.customer_behaviors(&admin(), &c)).0, []);
}

/// Unknown, archived and repeated behaviour codes are refused and change nothing; an archived
/// behaviour already on an activity may stay.
fn behaviour_codes_are_checked(db: &TestDatabase) {
    use crm_domain::ports::ScoringStore;
    use crm_domain::scoring::BehaviorChanges;
    let store = db.database();
    let now = at(NOW);
    let c = customer(db, "Acme", None);
    let kept = ok(store.create_activity(
        &admin(),
        &c,
        recording(NOW, &["chose_competitor"]),
        None,
        None,
        now,
    ));
    assert_eq!(score_of(db, &c), -30);
    ok(store.update_behavior(
        "chose_competitor",
        BehaviorChanges {
            archived: Some(true),
            ..Default::default()
        },
        None,
        now,
    ));
    let refused = store.create_activity(
        &admin(),
        &c,
        recording(
            NOW,
            &[
                "requested_quote",
                "made_up",
                "requested_quote",
                "chose_competitor",
            ],
        ),
        None,
        None,
        now,
    );
    assert_eq!(
        codes_of(refused),
        [
            ("/behaviors/1".to_string(), "unknown_behavior".to_string()),
            ("/behaviors/2".to_string(), "duplicate".to_string()),
            ("/behaviors/3".to_string(), "archived_behavior".to_string()),
        ]
    );
    let page = ok(store.list_activities(
        &admin(),
        &ActivityFilter {
            customer_id: Some(c.clone()),
            ..Default::default()
        },
        &PageRequest {
            limit: 10,
            after: None,
        },
    ));
    assert_eq!(page.items.len(), 1, "nothing was written");
    assert_eq!(score_of(db, &c), -30);
    // The archived behaviour stays where it was recorded, beside a new live one.
    let mut more = kept.fields.clone();
    more.behaviors.push("replied_promptly".into());
    let changed =
        ok(store.update_activity(&admin(), &kept.id, more, FollowUpChange::Keep, None, now));
    assert_eq!(
        changed.fields.behaviors,
        ["chose_competitor", "replied_promptly"]
    );
    assert_eq!(score_of(db, &c), -25);
    // Removed from the activity, it cannot come back while archived.
    let mut less = changed.fields.clone();
    less.behaviors = vec![];
    ok(store.update_activity(
        &admin(),
        &kept.id,
        less.clone(),
        FollowUpChange::Keep,
        None,
        now,
    ));
    assert_eq!(score_of(db, &c), 0);
    less.behaviors = vec!["chose_competitor".into()];
    assert_eq!(
        codes_of(store.update_activity(&admin(), &kept.id, less, FollowUpChange::Keep, None, now)),
        [("/behaviors/0".to_string(), "archived_behavior".to_string())]
    );
    // Someone else's customer: its score is not theirs to read.
    let rep = Actor {
        id: "rep".into(),
        visibility: Visibility::OwnersOrPool(vec!["rep".into()]),
        user_id: None,
    };
    let owned = customer(db, "Owned", Some(seed_owner(db, "owner")));
    assert_eq!(
        store.customer_behaviors(&rep, &owned).map(|_| ()),
        Err(DomainError::NotFound { entity: "customer" })
    );
}

/// Stored scores decay once a day and follow a new half-life; the refresh runs once per day.
fn scores_refresh_daily_and_after_the_half_life_changes(db: &TestDatabase) {
    use crm_domain::ports::ScoringStore;
    let store = db.database();
    let day = at("2026-04-01T06:00:00Z");
    let customers: Vec<String> = (0..3)
        .map(|i| customer(db, &format!("C{i}"), None))
        .collect();
    for c in &customers {
        ok(store.create_activity(
            &admin(),
            c,
            recording("2026-04-01T00:00:00Z", &["requested_quote"]),
            None,
            None,
            day,
        ));
    }
    let quiet = customer(db, "Quiet", None);
    assert_eq!(ok(store.refresh_scores(day)), Some(3), "first refresh runs");
    assert_eq!(
        ok(store.refresh_scores(day + Duration::hours(12))),
        None,
        "once a day"
    );
    for c in &customers {
        assert_eq!(score_of(db, c), 20);
    }
    let next_quarter = at("2026-06-30T01:00:00Z");
    assert_eq!(ok(store.refresh_scores(next_quarter)), Some(3));
    for c in &customers {
        assert_eq!(score_of(db, c), 10, "one half-life later");
    }
    assert_eq!(score_of(db, &quiet), 0);
    let settings = ok(store.update_scoring_settings(45, Some(1), next_quarter));
    assert_eq!((settings.half_life_days, settings.version), (45, 2));
    assert_eq!(
        store.update_scoring_settings(30, Some(1), next_quarter),
        Err(DomainError::PreconditionFailed { current_version: 2 })
    );
    let after_change = next_quarter + Duration::minutes(1);
    assert_eq!(
        ok(store.refresh_scores(after_change)),
        Some(3),
        "a new half-life refreshes"
    );
    for c in &customers {
        assert_eq!(score_of(db, c), 5, "two 45-day half-lives");
    }
    assert_eq!(ok(store.refresh_scores(after_change)), None);
    assert_eq!(ok(store.scoring_settings()).half_life_days, 45);
}

backend_tests!(
    the_behaviour_catalogue_is_maintained,
    behaviours_score_customers_at_fixed_clocks,
    behaviour_codes_are_checked,
    scores_refresh_daily_and_after_the_half_life_changes,
    due_follow_ups_are_emitted_once,
    reminders_rank_by_due_then_score,
    derived_fields_follow_every_write,
    references_are_checked,
    lists_are_newest_first_and_visible_only
);
