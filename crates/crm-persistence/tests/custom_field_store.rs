//! Custom fields on both backends: definitions, values written with their customer, unique
//! values under concurrent writers, and definition changes that stored values would break.

use std::sync::{Arc, Barrier};

use crm_domain::custom_fields::{FieldDraft, FieldEntity, FieldRules, FieldType, SelectOption};
use crm_domain::customers::{CustomerFields, CustomerKind, LifecycleStatus};
use crm_domain::identity::Visibility;
use crm_domain::ports::{Actor, CustomFieldStore, CustomerStore};
use crm_domain::{DomainError, FieldError};
use crm_persistence::backend_tests;
use crm_persistence::test_support::{test_options, TestDatabase};
use crm_persistence::Database;
use serde_json::json;

fn ok<T>(r: Result<T, DomainError>) -> T {
    r.unwrap_or_else(|e| panic!("{e:?}"))
}

fn admin() -> Actor {
    Actor {
        id: "admin".into(),
        visibility: Visibility::All,
        user_id: None,
    }
}

fn draft(key: &str, field_type: FieldType, rules: FieldRules, unique: bool) -> FieldDraft {
    FieldDraft {
        entity: FieldEntity::Customer,
        key: key.into(),
        label: key.into(),
        help_text: None,
        field_type,
        required: false,
        default: None,
        position: 0,
        rules,
        unique,
    }
}

/// A new rep `<name>@example.com`; answers their id.
fn new_rep(db: &TestDatabase, name: &str) -> String {
    use crm_domain::identity::{Email, NewUser, Role};
    use crm_domain::ports::UserStore;
    let email = format!("{name}@example.com");
    ok(db.database().create_user(NewUser {
        email: Email::parse(&email, "/email").unwrap_or_else(|e| panic!("{e:?}")),
        display_name: email.clone(),
        role: Role::Rep,
        password_hash: "x".into(),
    }))
    .id
}

/// The ids on the first page (10) of `actor`'s customers matching `filter`, in list order.
fn first_ids(
    store: &Database,
    actor: &Actor,
    filter: &crm_domain::ports::CustomerFilter,
) -> Vec<String> {
    let page = crm_domain::page::PageRequest {
        limit: 10,
        after: None,
    };
    ok(store.list_customers(actor, filter, &page))
        .items
        .into_iter()
        .map(|c| c.id)
        .collect()
}

fn customer(name: &str, values: serde_json::Value) -> CustomerFields {
    CustomerFields {
        custom_fields: serde_json::from_value(values).unwrap_or_default(),
        ..CustomerFields::new(CustomerKind::Company, name)
    }
}

fn definitions_are_kept_per_entity(db: &TestDatabase) {
    let store = db.database();
    let created = ok(store.create_field(draft(
        "budget",
        FieldType::Integer,
        FieldRules::default(),
        false,
    )));
    assert_eq!((created.key.as_str(), created.version), ("budget", 1));
    assert_eq!(
        store.create_field(draft(
            "budget",
            FieldType::Text,
            FieldRules::default(),
            false
        )),
        Err(DomainError::Conflict {
            code: "custom_field_exists",
            message: "the entity already has a custom field with this key".into()
        })
    );
    let mut for_contacts = draft("budget", FieldType::Text, FieldRules::default(), false);
    for_contacts.entity = FieldEntity::Contact;
    ok(store.create_field(for_contacts));
    let archived = ok(store.update_field(
        &created.id,
        draft("budget", FieldType::Integer, FieldRules::default(), false),
        true,
        Some(1),
    ));
    assert!(archived.archived);
    assert!(ok(store.field_definitions(FieldEntity::Customer, false)).is_empty());
    assert_eq!(
        ok(store.field_definitions(FieldEntity::Customer, true)).len(),
        1
    );
    assert_eq!(
        store.update_field(
            &created.id,
            draft("budget", FieldType::Integer, FieldRules::default(), false),
            false,
            Some(1)
        ),
        Err(DomainError::PreconditionFailed { current_version: 2 })
    );
}

/// Two writers racing for the same unique value: exactly one wins, the other is told which
/// field, and nothing of the loser is written.
fn unique_values_hold_under_concurrency(db: &TestDatabase) {
    let store = db.shared();
    ok(store.create_field(draft(
        "tax_code",
        FieldType::Text,
        FieldRules::default(),
        true,
    )));
    let barrier = Arc::new(Barrier::new(2));
    let handles: Vec<_> = (0..2)
        .map(|i| {
            let store = Arc::clone(&store);
            let barrier = Arc::clone(&barrier);
            std::thread::spawn(move || {
                barrier.wait();
                store.create_customer(
                    &admin(),
                    customer(&format!("Racer {i}"), json!({"tax_code": "ABC123"})),
                    None,
                    false,
                )
            })
        })
        .collect();
    let results: Vec<_> = handles
        .into_iter()
        .map(|h| h.join().unwrap_or_else(|_| panic!("writer panicked")))
        .collect();
    let won = results.iter().filter(|r| r.is_ok()).count();
    assert_eq!(won, 1, "{results:?}");
    let lost = results.into_iter().find_map(Result::err);
    assert_eq!(
        lost,
        Some(DomainError::Validation(vec![FieldError::new(
            "/custom_fields/tax_code",
            "not_unique",
            "another record has this value"
        )]))
    );
    let listed = ok(store.list_customers(
        &admin(),
        &Default::default(),
        &crm_domain::page::PageRequest {
            limit: 10,
            after: None,
        },
    ));
    assert_eq!(listed.items.len(), 1, "the loser wrote nothing");
    // Case does not make a text value different.
    assert!(matches!(
        store.create_customer(
            &admin(),
            customer("Again", json!({"tax_code": "abc123"})),
            None,
            false
        ),
        Err(DomainError::Validation(_))
    ));
}

fn changes_that_break_values_are_refused(db: &TestDatabase) {
    let store = db.database();
    let options = |keys: &[&str]| FieldRules {
        options: keys
            .iter()
            .map(|k| SelectOption {
                key: (*k).into(),
                label: k.to_uppercase(),
                archived: false,
            })
            .collect(),
        ..FieldRules::default()
    };
    let tier = ok(store.create_field(draft(
        "tier",
        FieldType::SingleSelect,
        options(&["a", "b"]),
        false,
    )));
    for (name, value) in [("One", "a"), ("Two", "b"), ("Three", "b")] {
        ok(store.create_customer(
            &admin(),
            customer(name, json!({"tier": value})),
            None,
            false,
        ));
    }
    let refused = store.update_field(
        &tier.id,
        draft("tier", FieldType::SingleSelect, options(&["a"]), false),
        false,
        None,
    );
    assert_eq!(
        refused,
        Err(DomainError::Conflict {
            code: "values_violate_change",
            message: "2 existing value(s) would not satisfy the changed definition".into()
        })
    );
    let refused = store.update_field(
        &tier.id,
        draft("tier", FieldType::SingleSelect, options(&["a", "b"]), true),
        false,
        None,
    );
    assert!(
        matches!(refused, Err(DomainError::Conflict { ref message, .. }) if message.starts_with("1 ")),
        "two customers share b: {refused:?}"
    );
    let refused = store.update_field(
        &tier.id,
        draft("tier", FieldType::Text, FieldRules::default(), false),
        false,
        None,
    );
    assert!(
        matches!(refused, Err(DomainError::Conflict { ref message, .. }) if message.starts_with("3 ")),
        "a new type counts every value: {refused:?}"
    );
    let added = ok(store.update_field(
        &tier.id,
        draft(
            "tier",
            FieldType::SingleSelect,
            options(&["a", "b", "c"]),
            false,
        ),
        false,
        None,
    ));
    assert_eq!(added.rules.options.len(), 3, "adding options is instant");
}

/// Ordered by a custom field over more values than one step of the walk reads, with a filter
/// that skips most of them: every page is exact, and customers without a value come last.
fn custom_field_order_walks_the_whole_index(db: &TestDatabase) {
    use crm_domain::custom_fields::CustomSort;
    use crm_domain::page::PageRequest;
    use crm_domain::ports::CustomerFilter;
    let store = db.database();
    let rank = ok(store.create_field(draft(
        "rank",
        FieldType::Integer,
        FieldRules::default(),
        false,
    )));
    let mut expected = Vec::new();
    for n in 0..460_i64 {
        let mut fields = customer(&format!("C{n}"), json!({"rank": (n * 7919) % 1000}));
        if n % 5 != 0 {
            fields.status = LifecycleStatus::Prospect;
        }
        if n >= 450 {
            fields.custom_fields.clear();
        }
        let created = ok(store.create_customer(&admin(), fields, None, false));
        if n % 5 == 0 {
            let key = (n < 450).then_some((n * 7919) % 1000);
            expected.push((key, created.id));
        }
    }
    for descending in [false, true] {
        let mut want = expected.clone();
        want.sort_by(|(ka, ia), (kb, ib)| match (ka, kb) {
            (Some(a), Some(b)) if descending => (b, ib).cmp(&(a, ia)),
            (Some(a), Some(b)) => (a, ia).cmp(&(b, ib)),
            (Some(_), None) => std::cmp::Ordering::Less,
            (None, Some(_)) => std::cmp::Ordering::Greater,
            (None, None) if descending => ib.cmp(ia),
            (None, None) => ia.cmp(ib),
        });
        let want: Vec<String> = want.into_iter().map(|(_, id)| id).collect();
        let filter = CustomerFilter {
            status: Some(LifecycleStatus::Lead),
            custom_sort: Some(CustomSort {
                field_id: rank.id.clone(),
                key: "rank".into(),
                numeric: true,
                descending,
            }),
            ..CustomerFilter::default()
        };
        let mut walked = Vec::new();
        let mut after = None;
        loop {
            let page =
                ok(store.list_customers(&admin(), &filter, &PageRequest { limit: 7, after }));
            walked.extend(page.items.into_iter().map(|c| c.id));
            match page.next_after {
                Some(next) => after = Some(next),
                None => break,
            }
        }
        assert_eq!(walked, want, "descending: {descending}");
    }
}

/// Text values of any length and script are stored, filtered, sorted and kept unique: the index
/// holds their first characters, uniqueness a digest of long ones.
fn long_values_are_indexed(db: &TestDatabase) {
    use crm_domain::contact_points::PhoneRegion;
    use crm_domain::custom_fields::{CustomFilterOp, CustomSort};
    use crm_domain::ports::CustomerFilter;
    let store = db.database();
    let motto =
        ok(store.create_field(draft("motto", FieldType::Text, FieldRules::default(), true)));
    let story = ok(store.create_field(draft(
        "story",
        FieldType::LongText,
        FieldRules::default(),
        false,
    )));
    // 1,000 three-byte characters: over PostgreSQL's B-tree entry limit if indexed whole.
    let long = "中".repeat(999);
    let values = [format!("{long}甲"), format!("{long}乙"), "中".repeat(200)];
    let mut ids = Vec::new();
    for (n, value) in values.iter().enumerate() {
        let created = ok(store.create_customer(
            &admin(),
            customer(
                &format!("C{n}"),
                json!({"motto": value, "story": "长".repeat(20_000)}),
            ),
            None,
            false,
        ));
        assert_eq!(created.fields.custom_fields["motto"], json!(value));
        ids.push(created.id);
    }
    // Equal to 200 characters of another value is not equal to it; whole values stay unique.
    assert_eq!(
        store.create_customer(
            &admin(),
            customer("Again", json!({"motto": values[1]})),
            None,
            false,
        ),
        Err(DomainError::Validation(vec![FieldError::new(
            "/custom_fields/motto",
            "not_unique",
            "another record has this value"
        )]))
    );
    let list = |filter: CustomerFilter| first_ids(store, &admin(), &filter);
    let condition = |op, raw: &str| {
        motto
            .filter(op, raw, PhoneRegion::default())
            .unwrap_or_else(|e| panic!("{e}"))
    };
    assert_eq!(
        list(CustomerFilter {
            custom: vec![condition(CustomFilterOp::Eq, &values[2])],
            ..CustomerFilter::default()
        }),
        [ids[2].clone()]
    );
    assert_eq!(
        list(CustomerFilter {
            custom: vec![condition(CustomFilterOp::Gte, &values[2])],
            ..CustomerFilter::default()
        }),
        ids,
        "the cut values sort after the value that is their first characters"
    );
    let sorted = list(CustomerFilter {
        custom_sort: Some(CustomSort {
            field_id: motto.id.clone(),
            key: "motto".into(),
            numeric: false,
            descending: false,
        }),
        ..CustomerFilter::default()
    });
    assert_eq!(sorted[0], ids[2]);
    assert_eq!(sorted.len(), 3);
    let story_filter = story
        .filter(
            CustomFilterOp::Eq,
            &"长".repeat(20_000),
            PhoneRegion::default(),
        )
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(
        list(CustomerFilter {
            custom: vec![story_filter],
            ..CustomerFilter::default()
        })
        .len(),
        3
    );
}

/// Lists ordered by id with equality, one-of and has-option conditions walk each value's
/// customers page by page: every page is the next of exactly the matches the caller sees (an
/// admin all, a rep their own and the pool, a team lead two reps' and the pool), in both
/// directions, with a customer holding several of the keys listed once.
fn equality_filters_page_through_their_values(db: &TestDatabase) {
    use crm_domain::contact_points::PhoneRegion;
    use crm_domain::custom_fields::{CustomFilter, CustomFilterOp};
    use crm_domain::customers::{CustomerSort, CustomerSortKey};
    use crm_domain::page::PageRequest;
    use crm_domain::ports::CustomerFilter;
    let store = db.database();
    let (mine, theirs, others) = (
        new_rep(db, "walker0"),
        new_rep(db, "walker1"),
        new_rep(db, "walker2"),
    );
    let options = FieldRules {
        options: (0..5)
            .map(|n| SelectOption {
                key: format!("o{n}"),
                label: format!("Option {n}"),
                archived: false,
            })
            .collect(),
        ..FieldRules::default()
    };
    let interests = ok(store.create_field(draft(
        "interests",
        FieldType::MultiSelect,
        options.clone(),
        false,
    )));
    let tier = ok(store.create_field(draft("tier", FieldType::SingleSelect, options, false)));
    let budget = ok(store.create_field(draft(
        "budget",
        FieldType::Integer,
        FieldRules::default(),
        false,
    )));
    // (id, owner, status, interests, tier, budget) of every customer.
    let mut all = Vec::new();
    for n in 0..90_usize {
        let owner = [
            Some(mine.clone()),
            Some(theirs.clone()),
            None,
            Some(others.clone()),
        ][(n / 5) % 4]
            .clone();
        let picked: Vec<String> = [n % 5, (n / 5) % 5]
            .iter()
            .map(|o| format!("o{o}"))
            .collect::<std::collections::BTreeSet<_>>()
            .into_iter()
            .collect();
        let tier_key = format!("o{}", (n / 3) % 5);
        let amount = (n % 4) as i64;
        let mut fields = customer(
            &format!("W{n}"),
            json!({"interests": picked, "tier": tier_key, "budget": amount}),
        );
        if n % 2 == 1 {
            fields.status = LifecycleStatus::Prospect;
        }
        let status = fields.status;
        let created = ok(store.create_customer(&admin(), fields, owner.clone(), false));
        all.push((created.id, owner, status, picked, tier_key, amount));
    }
    let rep_actor = Actor {
        id: mine.clone(),
        visibility: Visibility::OwnersOrPool(vec![mine.clone()]),
        user_id: None,
    };
    // A team lead sees two reps' customers and the pool, not the third rep's.
    let lead_actor = Actor {
        id: mine.clone(),
        visibility: Visibility::OwnersOrPool(vec![mine.clone(), theirs.clone()]),
        user_id: None,
    };
    let condition = |definition: &crm_domain::custom_fields::FieldDefinition, op, raw: &str| {
        definition
            .filter(op, raw, PhoneRegion::default())
            .unwrap_or_else(|e| panic!("{e}"))
    };
    type Row = (
        String,
        Option<String>,
        LifecycleStatus,
        Vec<String>,
        String,
        i64,
    );
    type Case<'a> = (
        &'a str,
        Vec<CustomFilter>,
        Option<LifecycleStatus>,
        Box<dyn Fn(&Row) -> bool>,
    );
    let has = |keys: &'static [&'static str]| {
        move |r: &Row| keys.iter().any(|k| r.3.contains(&k.to_string()))
    };
    let cases: Vec<Case> = vec![
        (
            "has o1",
            vec![condition(&interests, CustomFilterOp::Contains, "o1")],
            None,
            Box::new(has(&["o1"])),
        ),
        (
            "has o1 or o2",
            vec![condition(&interests, CustomFilterOp::In, "o1,o2")],
            None,
            Box::new(has(&["o1", "o2"])),
        ),
        (
            "budget 3, has o2, prospect",
            vec![
                condition(&budget, CustomFilterOp::Eq, "3"),
                condition(&interests, CustomFilterOp::Contains, "o2"),
            ],
            Some(LifecycleStatus::Prospect),
            Box::new(|r: &Row| r.5 == 3 && r.3.contains(&"o2".to_string())),
        ),
        (
            "tier o0 or o4, budget at least 2",
            vec![
                condition(&tier, CustomFilterOp::In, "o4,o0"),
                condition(&budget, CustomFilterOp::Gte, "2"),
            ],
            None,
            Box::new(|r: &Row| (r.4 == "o0" || r.4 == "o4") && r.5 >= 2),
        ),
    ];
    for (label, custom, status, matches) in &cases {
        for (who, actor) in [
            ("admin", admin()),
            ("rep", rep_actor.clone()),
            ("lead", lead_actor.clone()),
        ] {
            for descending in [false, true] {
                let sees = |owner: &Option<String>| match (who, owner) {
                    ("admin", _) | (_, None) => true,
                    ("lead", Some(o)) => *o == mine || *o == theirs,
                    (_, Some(o)) => *o == mine,
                };
                let mut want: Vec<String> = all
                    .iter()
                    .filter(|r| sees(&r.1))
                    .filter(|r| status.is_none_or(|s| r.2 == s))
                    .filter(|r| matches(r))
                    .map(|r| r.0.clone())
                    .collect();
                want.sort();
                if descending {
                    want.reverse();
                }
                let filter = CustomerFilter {
                    status: *status,
                    custom: custom.clone(),
                    sort: CustomerSort {
                        key: CustomerSortKey::Id,
                        descending,
                    },
                    ..CustomerFilter::default()
                };
                let mut walked = Vec::new();
                let mut after = None;
                loop {
                    let page =
                        ok(store.list_customers(&actor, &filter, &PageRequest { limit: 4, after }));
                    assert!(page.items.len() <= 4);
                    walked.extend(page.items.into_iter().map(|c| c.id));
                    match page.next_after {
                        Some(next) => after = Some(next),
                        None => break,
                    }
                }
                assert!(!want.is_empty(), "{label}: the case matches someone");
                assert_eq!(walked, want, "{label}, {who}, descending: {descending}");
            }
        }
    }
}

/// The index rows of a customer's values carry its owner, so a rep's filtered walk skips other
/// owners' customers in the index: every change of owner (assign, release, claim) carries to
/// them, and rewritten values take the owner of the moment. Each rep's walk, filtered and
/// sorted by the field, lists exactly the customers they see after every change; the rows
/// themselves hold the owner, and a contact's rows none.
fn value_rows_follow_their_customer_s_owner(db: &TestDatabase) {
    use crm_domain::contact_points::PhoneRegion;
    use crm_domain::custom_fields::{CustomFilterOp, CustomSort};
    use crm_domain::ports::{ContactStore, CustomerFilter, OwnershipChange};
    let store = db.database();
    let (ann, bob) = (new_rep(db, "ann"), new_rep(db, "bob"));
    let as_rep = |id: &str| Actor {
        id: id.into(),
        visibility: Visibility::OwnersOrPool(vec![id.into()]),
        user_id: Some(id.into()),
    };
    let options = FieldRules {
        options: ["gold", "silver"]
            .iter()
            .map(|k| SelectOption {
                key: (*k).into(),
                label: (*k).into(),
                archived: false,
            })
            .collect(),
        ..FieldRules::default()
    };
    let tier = ok(store.create_field(draft("tier", FieldType::SingleSelect, options, false)));
    let mut contact_tier = draft(
        "contact_tier",
        FieldType::Text,
        FieldRules::default(),
        false,
    );
    contact_tier.entity = FieldEntity::Contact;
    ok(store.create_field(contact_tier));
    let gold = |name: &str, owner: Option<&String>| {
        ok(store.create_customer(
            &admin(),
            customer(name, json!({"tier": "gold"})),
            owner.cloned(),
            false,
        ))
        .id
    };
    let moving = gold("Moving", Some(&ann));
    let pooled = gold("Pooled", None);
    let bobs = gold("Bob's", Some(&bob));
    let filtered = CustomerFilter {
        custom: vec![tier
            .filter(CustomFilterOp::Eq, "gold", PhoneRegion::default())
            .unwrap_or_else(|e| panic!("{e}"))],
        ..CustomerFilter::default()
    };
    let sorted = CustomerFilter {
        custom_sort: Some(CustomSort {
            field_id: tier.id.clone(),
            key: "tier".into(),
            numeric: false,
            descending: false,
        }),
        ..filtered.clone()
    };
    let walk = |who: &str, filter: &CustomerFilter| -> Vec<String> {
        let mut ids = first_ids(store, &as_rep(who), filter);
        ids.sort();
        ids
    };
    let holders_of = |id: &str, owner: Option<&String>| {
        let holder = owner.map_or("owner_id IS NULL".to_string(), |o| {
            format!("owner_id = '{o}'")
        });
        db.count(&format!(
            "SELECT count(*) AS n FROM custom_field_values WHERE record_id = '{id}' AND {holder}"
        ))
    };
    let check = |step: &str, ann_sees: &[&String], bob_sees: &[&String], owner: Option<&String>| {
        for (who, sees) in [(&ann, ann_sees), (&bob, bob_sees)] {
            let mut want: Vec<String> = sees.iter().map(|s| (*s).clone()).collect();
            want.sort();
            assert_eq!(walk(who, &filtered), want, "{step}: filtered walk of {who}");
            assert_eq!(walk(who, &sorted), want, "{step}: sorted walk of {who}");
        }
        assert_eq!(
            holders_of(&moving, owner),
            1,
            "{step}: the row holds the owner"
        );
    };
    check(
        "created",
        &[&moving, &pooled],
        &[&pooled, &bobs],
        Some(&ann),
    );
    assert_eq!(holders_of(&pooled, None), 1);
    assert_eq!(holders_of(&bobs, Some(&bob)), 1);
    ok(store.change_owner(
        &admin(),
        &moving,
        OwnershipChange::Assign {
            owner_id: bob.clone(),
        },
    ));
    check(
        "assigned to bob",
        &[&pooled],
        &[&moving, &pooled, &bobs],
        Some(&bob),
    );
    ok(store.change_owner(&as_rep(&bob), &moving, OwnershipChange::Release));
    check(
        "released",
        &[&moving, &pooled],
        &[&moving, &pooled, &bobs],
        None,
    );
    ok(store.change_owner(
        &as_rep(&ann),
        &moving,
        OwnershipChange::Claim {
            user_id: ann.clone(),
            limit: 100,
        },
    ));
    check(
        "claimed by ann",
        &[&moving, &pooled],
        &[&pooled, &bobs],
        Some(&ann),
    );
    // Values rewritten by an update carry the owner of the moment.
    let current = ok(store.customer(&admin(), &moving));
    let mut fields = current.fields.clone();
    fields.custom_fields =
        serde_json::from_value(json!({"tier": "silver"})).unwrap_or_else(|e| panic!("{e}"));
    ok(store.update_customer(&admin(), &moving, fields.clone(), Some(current.version)));
    check("silver", &[&pooled], &[&pooled, &bobs], Some(&ann));
    fields.custom_fields =
        serde_json::from_value(json!({"tier": "gold"})).unwrap_or_else(|e| panic!("{e}"));
    ok(store.update_customer(&admin(), &moving, fields, Some(current.version + 1)));
    check(
        "gold again",
        &[&moving, &pooled],
        &[&pooled, &bobs],
        Some(&ann),
    );
    // A contact's values are not a customer's: their rows hold no owner.
    let contact = ok(store.create_contact(
        &admin(),
        &moving,
        crm_domain::customers::ContactFields {
            name: "Ada".into(),
            title: None,
            phones: Vec::new(),
            email: None,
            wechat_id: None,
            notes: None,
            custom_fields: serde_json::from_value(json!({"contact_tier": "vip"}))
                .unwrap_or_else(|e| panic!("{e}")),
        },
        true,
        false,
    ));
    assert_eq!(holders_of(&contact.id, None), 1);
    assert_eq!(
        db.count("SELECT count(*) AS n FROM custom_field_values WHERE owner_id IS NOT NULL"),
        2,
        "Moving's and Bob's"
    );
}

/// Archiving a field hides its values from reads at once on the server that archived it, and
/// within a second on another server sharing the database; the value itself is kept.
fn another_server_hides_an_archived_field_within_a_second(db: &TestDatabase) {
    let here = db.database();
    let there = ok(Database::connect(here.url(), &test_options())
        .map_err(|e| DomainError::internal(e.to_string())));
    let tier = draft("tier", FieldType::Text, FieldRules::default(), false);
    let field = ok(here.create_field(tier.clone()));
    let id = ok(here.create_customer(
        &admin(),
        customer("Acme", json!({"tier": "gold"})),
        None,
        false,
    ))
    .id;
    let tier_of = |server: &Database| {
        ok(server.customer(&admin(), &id))
            .fields
            .custom_fields
            .get("tier")
            .cloned()
    };
    for server in [here, &there] {
        assert_eq!(tier_of(server), Some(json!("gold")));
    }
    ok(here.update_field(&field.id, tier.clone(), true, None));
    assert_eq!(tier_of(here), None, "hidden at once where it was archived");
    assert_eq!(
        tier_of(&there),
        Some(json!("gold")),
        "remembered for up to a second"
    );
    std::thread::sleep(std::time::Duration::from_millis(1_100));
    assert_eq!(tier_of(&there), None);
    ok(here.update_field(&field.id, tier, false, None));
    assert_eq!(tier_of(here), Some(json!("gold")), "kept while archived");
}

backend_tests!(
    equality_filters_page_through_their_values,
    value_rows_follow_their_customer_s_owner,
    long_values_are_indexed,
    custom_field_order_walks_the_whole_index,
    definitions_are_kept_per_entity,
    unique_values_hold_under_concurrency,
    changes_that_break_values_are_refused,
    another_server_hides_an_archived_field_within_a_second
);
