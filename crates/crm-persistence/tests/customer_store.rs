//! Customers on both backends: visibility, duplicates, updates with history, the pool.

use crm_domain::contact_points::{Phone, PhoneRegion};
use crm_domain::customers::{CustomerFields, CustomerKind, LifecycleStatus};
use crm_domain::identity::{Email, NewUser, Role, TeamDraft, UserChanges, Visibility};
use crm_domain::page::PageRequest;
use crm_domain::ports::{
    Actor, CustomerFilter, CustomerStore, OwnershipChange, TeamStore, UserStore,
};
use crm_domain::{DomainError, FieldError};
use crm_persistence::backend_tests;
use crm_persistence::test_support::TestDatabase;

fn user(db: &TestDatabase, email: &str, role: Role) -> String {
    db.database()
        .create_user(NewUser {
            email: Email::parse(email, "/email").unwrap_or_else(|e| panic!("{e:?}")),
            display_name: email.into(),
            role,
            password_hash: "x".into(),
        })
        .map(|u| u.id)
        .unwrap_or_else(|e| panic!("{e}"))
}

fn fields(name: &str, phone: Option<&str>, email: Option<&str>) -> CustomerFields {
    CustomerFields {
        phone: phone.map(|p| {
            Phone::parse(p, PhoneRegion::default(), "/phone").unwrap_or_else(|e| panic!("{e:?}"))
        }),
        email: email.map(|e| Email::parse(e, "/email").unwrap_or_else(|e| panic!("{e:?}"))),
        tags: vec!["vip".into()],
        ..CustomerFields::new(CustomerKind::Company, name)
    }
}

fn as_rep(id: &str) -> Actor {
    Actor {
        id: id.into(),
        visibility: Visibility::OwnersOrPool(vec![id.into()]),
        user_id: None,
    }
}

fn admin() -> Actor {
    Actor {
        id: "admin".into(),
        visibility: Visibility::All,
        user_id: None,
    }
}

fn ok<T>(r: Result<T, DomainError>) -> T {
    r.unwrap_or_else(|e| panic!("{e:?}"))
}

const NOT_FOUND: DomainError = DomainError::NotFound { entity: "customer" };

fn reps_see_their_own_and_the_pool_only(db: &TestDatabase) {
    let store = db.database();
    let a = user(db, "a@example.com", Role::Rep);
    let b = user(db, "b@example.com", Role::Rep);
    let mine = ok(store.create_customer(
        &as_rep(&a),
        fields("Mine", None, None),
        Some(a.clone()),
        false,
    ));
    let theirs = ok(store.create_customer(
        &as_rep(&b),
        fields("Theirs", None, None),
        Some(b.clone()),
        false,
    ));
    let pool = ok(store.create_customer(&as_rep(&a), fields("Pool", None, None), None, false));
    assert_eq!(
        ok(store.customer(&as_rep(&a), &mine.id)).fields.name,
        "Mine"
    );
    assert_eq!(store.customer(&as_rep(&a), &theirs.id), Err(NOT_FOUND));
    assert_eq!(ok(store.customer(&as_rep(&a), &pool.id)).owner_id, None);
    let listed: Vec<String> = ok(store.list_customers(
        &as_rep(&a),
        &CustomerFilter::default(),
        &PageRequest {
            limit: 50,
            after: None,
        },
    ))
    .items
    .into_iter()
    .map(|c| c.fields.name)
    .collect();
    assert_eq!(listed, ["Mine", "Pool"]);
    let everything = ok(store.list_customers(
        &admin(),
        &CustomerFilter::default(),
        &PageRequest {
            limit: 50,
            after: None,
        },
    ));
    assert_eq!(everything.items.len(), 3);
    let only_pool = ok(store.list_customers(
        &admin(),
        &CustomerFilter {
            pool: Some(true),
            ..CustomerFilter::default()
        },
        &PageRequest {
            limit: 50,
            after: None,
        },
    ));
    assert_eq!(only_pool.items.len(), 1);
    assert_eq!(
        store.update_customer(&as_rep(&a), &theirs.id, fields("Hijack", None, None), None),
        Err(NOT_FOUND)
    );
    assert_eq!(
        store.delete_customer(&as_rep(&a), &theirs.id),
        Err(NOT_FOUND)
    );
}

fn managers_see_their_teams(db: &TestDatabase) {
    let store = db.database();
    let manager = user(db, "m@example.com", Role::Manager);
    let member = user(db, "member@example.com", Role::Rep);
    let outsider = user(db, "out@example.com", Role::Rep);
    ok(store.create_team(TeamDraft {
        name: "East".into(),
        manager_ids: vec![manager.clone()],
        member_ids: vec![member.clone()],
    }));
    let member_customer = ok(store.create_customer(
        &as_rep(&member),
        fields("M", None, None),
        Some(member.clone()),
        false,
    ));
    let outside_customer = ok(store.create_customer(
        &as_rep(&outsider),
        fields("O", None, None),
        Some(outsider.clone()),
        false,
    ));
    let visibility = ok(store.visibility(&crm_domain::identity::Principal::User {
        user_id: manager.clone(),
        role: Role::Manager,
    }));
    let actor = Actor {
        id: manager,
        visibility,
        user_id: None,
    };
    assert!(store.customer(&actor, &member_customer.id).is_ok());
    assert_eq!(store.customer(&actor, &outside_customer.id), Err(NOT_FOUND));
}

fn duplicates_name_the_existing_customer_only_when_visible(db: &TestDatabase) {
    let store = db.database();
    let a = user(db, "a@example.com", Role::Rep);
    let b = user(db, "b@example.com", Role::Rep);
    let first = ok(store.create_customer(
        &as_rep(&a),
        fields("Acme", Some("138 1234 5678"), Some("Buyer@Acme.com")),
        Some(a.clone()),
        false,
    ));
    let same_phone = store.create_customer(
        &as_rep(&a),
        fields("Acme 2", Some("+86 13812345678"), None),
        Some(a.clone()),
        false,
    );
    assert_eq!(
        same_phone.err(),
        Some(DomainError::Duplicate {
            entity: "customer",
            existing_id: Some(first.id.clone())
        })
    );
    let same_email = store.create_customer(
        &as_rep(&b),
        fields("Acme 3", None, Some(" buyer@acme.COM")),
        Some(b.clone()),
        false,
    );
    assert_eq!(
        same_email.err(),
        Some(DomainError::Duplicate {
            entity: "customer",
            existing_id: None
        })
    );
    let count = |actor: &Actor| {
        ok(store.list_customers(
            actor,
            &CustomerFilter::default(),
            &PageRequest {
                limit: 50,
                after: None,
            },
        ))
        .items
        .len()
    };
    assert_eq!(count(&admin()), 1, "refused creates wrote nothing");
    ok(store.create_customer(
        &as_rep(&b),
        fields("Acme 3", None, Some("buyer@acme.com")),
        Some(b.clone()),
        true,
    ));
    assert_eq!(count(&admin()), 2, "allow_duplicate overrides");
}

fn updates_bump_the_version_and_record_each_change(db: &TestDatabase) {
    let store = db.database();
    let a = user(db, "a@example.com", Role::Rep);
    let actor = as_rep(&a);
    let created =
        ok(store.create_customer(&actor, fields("Acme", None, None), Some(a.clone()), false));
    let mut changed = created.fields.clone();
    changed.name = "Acme Ltd".into();
    changed.status = LifecycleStatus::Prospect;
    let updated = ok(store.update_customer(&actor, &created.id, changed.clone(), Some(1)));
    assert_eq!(
        (updated.version, updated.fields.name.as_str()),
        (2, "Acme Ltd")
    );
    assert_eq!(
        store.update_customer(&actor, &created.id, changed, Some(1)),
        Err(DomainError::PreconditionFailed { current_version: 2 })
    );
    let history = ok(store.customer_history(
        &actor,
        &created.id,
        &PageRequest {
            limit: 10,
            after: None,
        },
    ));
    let summary: Vec<(String, Vec<String>)> = history
        .items
        .iter()
        .map(|e| {
            (
                e.action.clone(),
                e.changes.iter().map(|c| c.field.clone()).collect(),
            )
        })
        .collect();
    assert_eq!(
        summary,
        vec![
            (
                "updated".to_string(),
                vec!["name".to_string(), "status".to_string()]
            ),
            (
                "created".to_string(),
                vec![
                    "kind".into(),
                    "name".into(),
                    "status".into(),
                    "tags".into(),
                    "owner_id".into()
                ]
            ),
        ]
    );
    assert_eq!(history.items[0].changes[0].old, serde_json::json!("Acme"));
    assert_eq!(history.items[0].actor_id, a);
}

fn deleted_customers_disappear(db: &TestDatabase) {
    let store = db.database();
    let created = ok(store.create_customer(
        &admin(),
        fields("Gone", Some("13812345678"), None),
        None,
        false,
    ));
    ok(store.delete_customer(&admin(), &created.id));
    assert_eq!(store.customer(&admin(), &created.id), Err(NOT_FOUND));
    assert_eq!(
        ok(store.list_customers(
            &admin(),
            &CustomerFilter::default(),
            &PageRequest {
                limit: 50,
                after: None
            }
        ))
        .items
        .len(),
        0
    );
    assert!(
        store
            .create_customer(
                &admin(),
                fields("New", Some("13812345678"), None),
                None,
                false
            )
            .is_ok(),
        "a deleted customer is no duplicate"
    );
}

fn the_pool_claim_release_assign(db: &TestDatabase) {
    let store = db.database();
    let a = user(db, "a@example.com", Role::Rep);
    let b = user(db, "b@example.com", Role::Rep);
    let pooled = ok(store.create_customer(&admin(), fields("Pooled", None, None), None, false));
    let claim = |user: &str, limit| OwnershipChange::Claim {
        user_id: user.into(),
        limit,
    };
    let claimed = ok(store.change_owner(&as_rep(&a), &pooled.id, claim(&a, 10)));
    assert_eq!(claimed.owner_id.as_deref(), Some(a.as_str()));
    assert_eq!(
        store.change_owner(&as_rep(&b), &pooled.id, claim(&b, 10)),
        Err(NOT_FOUND),
        "b no longer sees it"
    );
    let not_in_pool = store.change_owner(&as_rep(&a), &pooled.id, claim(&a, 10));
    assert!(matches!(
        not_in_pool,
        Err(DomainError::Conflict {
            code: "not_in_pool",
            ..
        })
    ));
    let released = ok(store.change_owner(&as_rep(&a), &pooled.id, OwnershipChange::Release));
    assert_eq!(released.owner_id, None);
    let limited = store.change_owner(&as_rep(&b), &pooled.id, claim(&b, 0));
    assert!(matches!(
        limited,
        Err(DomainError::Conflict {
            code: "claim_limit",
            ..
        })
    ));
    let assigned = ok(store.change_owner(
        &admin(),
        &pooled.id,
        OwnershipChange::Assign {
            owner_id: b.clone(),
        },
    ));
    assert_eq!(assigned.owner_id.as_deref(), Some(b.as_str()));
    let bad = store.change_owner(
        &admin(),
        &pooled.id,
        OwnershipChange::Assign {
            owner_id: "nobody".into(),
        },
    );
    assert!(matches!(bad, Err(DomainError::Validation(_))));
    let actions: Vec<String> = ok(store.customer_history(
        &admin(),
        &pooled.id,
        &PageRequest {
            limit: 10,
            after: None,
        },
    ))
    .items
    .into_iter()
    .map(|e| e.action)
    .collect();
    assert_eq!(actions, ["assigned", "released", "claimed", "created"]);
}

/// Owner and pool filters give each caller exactly the visible customers they name: a visible
/// owner's, the pool's, and nobody's for an owner the caller may not see.
fn owner_and_pool_filters_keep_to_the_visible(db: &TestDatabase) {
    let store = db.database();
    let a = user(db, "a@example.com", Role::Rep);
    let b = user(db, "b@example.com", Role::Rep);
    let mut names = std::collections::HashMap::new();
    for (name, owner) in [
        ("A1", Some(&a)),
        ("A2", Some(&a)),
        ("A3", Some(&a)),
        ("B1", Some(&b)),
        ("B2", Some(&b)),
        ("P1", None),
        ("P2", None),
    ] {
        let created =
            ok(store.create_customer(&admin(), fields(name, None, None), owner.cloned(), false));
        names.insert(created.id, name);
    }
    let gone =
        ok(store.create_customer(&admin(), fields("A4", None, None), Some(a.clone()), false));
    ok(store.delete_customer(&admin(), &gone.id));
    let manager = Actor {
        id: "manager".into(),
        visibility: Visibility::OwnersOrPool(vec![a.clone()]),
        user_id: None,
    };
    let listed = |actor: &Actor, owner: Option<&String>, pool: Option<bool>| -> Vec<&str> {
        let filter = CustomerFilter {
            owner_id: owner.cloned(),
            pool,
            ..CustomerFilter::default()
        };
        let mut found: Vec<&str> = ok(store.list_customers(
            actor,
            &filter,
            &PageRequest {
                limit: 50,
                after: None,
            },
        ))
        .items
        .iter()
        .map(|c| names[&c.id])
        .collect();
        found.sort_unstable();
        found
    };
    let rep = as_rep(&a);
    assert_eq!(listed(&rep, Some(&a), None), ["A1", "A2", "A3"]);
    assert_eq!(listed(&rep, Some(&b), None), Vec::<&str>::new());
    assert_eq!(listed(&rep, None, Some(true)), ["P1", "P2"]);
    assert_eq!(listed(&rep, None, Some(false)), ["A1", "A2", "A3"]);
    assert_eq!(listed(&rep, Some(&a), Some(true)), Vec::<&str>::new());
    assert_eq!(listed(&rep, Some(&b), Some(true)), Vec::<&str>::new());
    assert_eq!(listed(&rep, None, None), ["A1", "A2", "A3", "P1", "P2"]);
    assert_eq!(listed(&manager, Some(&a), None), ["A1", "A2", "A3"]);
    assert_eq!(listed(&manager, Some(&b), Some(false)), Vec::<&str>::new());
    assert_eq!(listed(&admin(), Some(&b), None), ["B1", "B2"]);
    assert_eq!(listed(&admin(), None, Some(true)), ["P1", "P2"]);
}

/// A new owner must be an active user; only the signed-in caller's own account, found active
/// when their request was authenticated, is not looked up again.
fn an_owner_is_looked_up_unless_it_is_the_signed_in_caller(db: &TestDatabase) {
    let store = db.database();
    let a = user(db, "a@example.com", Role::Rep);
    let b = user(db, "b@example.com", Role::Rep);
    let changes = UserChanges {
        active: Some(false),
        ..Default::default()
    };
    ok(store.update_user(&b, changes, None));
    let invalid_owner = Err(DomainError::Validation(vec![FieldError::new(
        "/owner_id",
        "invalid_owner",
        "not an active user whose customers you may manage",
    )]));
    // A deactivated owner is refused, for an admin and for a job acting for them.
    let owned_by_b = |actor: &Actor| {
        store.create_customer(actor, fields("B's", None, None), Some(b.clone()), false)
    };
    assert_eq!(owned_by_b(&admin()), invalid_owner);
    assert_eq!(owned_by_b(&as_rep(&b)), invalid_owner);
    // Another rep is refused although active: not someone whose customers a rep manages.
    let signed_in = |id: &str| Actor {
        user_id: Some(id.to_string()),
        ..as_rep(id)
    };
    assert_eq!(
        store.create_customer(
            &signed_in(&a),
            fields("X", None, None),
            Some(b.clone()),
            false
        ),
        invalid_owner
    );
    assert_eq!(db.count("SELECT COUNT(*) AS n FROM customers"), 0);
    // The signed-in caller owning it: their account is not read again (here it is even
    // deactivated since, as a request authenticated a moment before would see it).
    let own = ok(store.create_customer(
        &signed_in(&b),
        fields("Own", None, None),
        Some(b.clone()),
        false,
    ));
    assert_eq!(own.owner_id.as_deref(), Some(b.as_str()));
    let mine = ok(store.create_customer(
        &signed_in(&a),
        fields("Mine", None, None),
        Some(a.clone()),
        false,
    ));
    assert_eq!(mine.owner_id.as_deref(), Some(a.as_str()));
    assert_eq!(db.count("SELECT COUNT(*) AS n FROM customers"), 2);
}

backend_tests!(
    reps_see_their_own_and_the_pool_only,
    owner_and_pool_filters_keep_to_the_visible,
    managers_see_their_teams,
    duplicates_name_the_existing_customer_only_when_visible,
    updates_bump_the_version_and_record_each_change,
    deleted_customers_disappear,
    the_pool_claim_release_assign,
    an_owner_is_looked_up_unless_it_is_the_signed_in_caller,
);

fn search_and_filters(db: &TestDatabase) {
    use crm_domain::customers::ContactFields;
    use crm_domain::ports::ContactStore;
    let store = db.database();
    let mut acme = fields(
        "Acme 星辰 Trading",
        Some("13812345678"),
        Some("buyer@acme.example"),
    );
    acme.lead_source = Some("trade_show".into());
    acme.tags = vec!["VIP".into(), "east".into()];
    let acme = ok(store.create_customer(&admin(), acme, None, false));
    let mut other = fields("100% Real_Estate", None, None);
    other.tags = vec!["west".into()];
    let other = ok(store.create_customer(&admin(), other, None, false));
    let contact = ok(store.create_contact(
        &admin(),
        &other.id,
        ContactFields {
            name: "Zhang Wei".into(),
            title: None,
            phones: vec![],
            email: None,
            wechat_id: None,
            notes: None,
            custom_fields: Default::default(),
        },
        false,
        false,
    ));
    let names = |filter: CustomerFilter| -> Vec<String> {
        ok(store.list_customers(
            &admin(),
            &filter,
            &PageRequest {
                limit: 50,
                after: None,
            },
        ))
        .items
        .into_iter()
        .map(|c| c.fields.name)
        .collect()
    };
    let q = |text: &str| CustomerFilter {
        q: Some(text.into()),
        ..CustomerFilter::default()
    };
    assert_eq!(
        names(q("acme")),
        ["Acme 星辰 Trading"],
        "case-insensitive name"
    );
    assert_eq!(names(q("星辰")), ["Acme 星辰 Trading"]);
    assert_eq!(names(q("BUYER@")), ["Acme 星辰 Trading"], "email");
    assert_eq!(names(q("1234 5678")), ["Acme 星辰 Trading"], "phone digits");
    assert_eq!(names(q("zhang")), ["100% Real_Estate"], "a contact's name");
    assert_eq!(names(q("100%")), ["100% Real_Estate"], "% is literal");
    assert_eq!(names(q("l_e")), ["100% Real_Estate"], "_ is literal");
    assert_eq!(names(q("a_e")), Vec::<String>::new());
    for syntax in ["\"(*: OR", "name : x", "\"\"\"", "NEAR(a b)"] {
        assert_eq!(
            names(q(syntax)),
            Vec::<String>::new(),
            "{syntax} is plain text"
        );
    }
    assert_eq!(names(q("% real_")), ["100% Real_Estate"]);
    assert_eq!(
        names(CustomerFilter {
            tag: Some("vip".into()),
            ..CustomerFilter::default()
        }),
        ["Acme 星辰 Trading"]
    );
    assert_eq!(
        names(CustomerFilter {
            tag: Some("ea".into()),
            ..CustomerFilter::default()
        }),
        Vec::<String>::new(),
        "whole tags only"
    );
    assert_eq!(
        names(CustomerFilter {
            lead_source: Some("trade_show".into()),
            ..CustomerFilter::default()
        }),
        ["Acme 星辰 Trading"]
    );
    let after = acme.created_at;
    assert_eq!(
        names(CustomerFilter {
            created_after: Some(other.created_at),
            ..CustomerFilter::default()
        }),
        ["100% Real_Estate"]
    );
    assert_eq!(
        names(CustomerFilter {
            created_before: Some(other.created_at),
            ..CustomerFilter::default()
        }),
        ["Acme 星辰 Trading"]
    );
    assert_eq!(
        names(CustomerFilter {
            updated_after: Some(after),
            ..CustomerFilter::default()
        })
        .len(),
        2
    );
    // The search indexes follow every write: renames, changed tags, contacts edited and deleted.
    let mut renamed = fields("Borealis Imports", Some("13812345678"), None);
    renamed.tags = vec!["North".into()];
    ok(store.update_customer(&admin(), &acme.id, renamed, None));
    assert_eq!(
        names(q("acme")),
        Vec::<String>::new(),
        "the old name is gone"
    );
    assert_eq!(names(q("REALIS")), ["Borealis Imports"]);
    assert_eq!(
        names(q("buyer@")),
        Vec::<String>::new(),
        "the removed email is gone"
    );
    let tagged = |tag: &str| CustomerFilter {
        tag: Some(tag.into()),
        ..CustomerFilter::default()
    };
    assert_eq!(names(tagged("north")), ["Borealis Imports"]);
    assert_eq!(names(tagged("vip")), Vec::<String>::new());
    ok(store.update_contact(
        &admin(),
        &other.id,
        &contact.id,
        ContactFields {
            name: "Li Na".into(),
            title: None,
            phones: vec![],
            email: None,
            wechat_id: None,
            notes: None,
            custom_fields: Default::default(),
        },
        None,
        None,
    ));
    assert_eq!(names(q("zhang")), Vec::<String>::new());
    assert_eq!(names(q("li na")), ["100% Real_Estate"]);
    ok(store.delete_contact(&admin(), &other.id, &contact.id));
    assert_eq!(
        names(q("li na")),
        Vec::<String>::new(),
        "deleted contacts are not searched"
    );
}

backend_tests!(search_and_filters);

/// Every sort order, in both directions, walked one small page at a time, gives exactly the
/// order computed here, for an admin and for a rep (visibility applied), ties broken by id.
fn every_sort_order_pages_exactly(db: &TestDatabase) {
    use chrono::{DateTime, Duration, Utc};
    use crm_domain::customers::{Customer, CustomerSort};

    let store = db.database();
    let rep = user(db, "rep@example.com", Role::Rep);
    let other = user(db, "other@example.com", Role::Rep);
    let base = DateTime::parse_from_rfc3339("2026-05-01T08:00:00.000001Z")
        .map(|t| t.with_timezone(&Utc))
        .unwrap_or_else(|e| panic!("{e}"));
    // name, owner (0 = pool, 1 = rep, 2 = other), score, follow-up in hours, updated offset.
    let specs: [(&str, u8, i64, Option<i64>, i64); 9] = [
        ("beta", 1, 10, Some(5), 0),
        ("Alpha", 0, -5, None, 0),
        ("alpha", 1, 10, Some(5), 1),
        ("Gamma", 2, 30, Some(1), 2),
        ("delta", 1, 0, None, 0),
        ("Beta", 0, 10, Some(48), 3),
        ("epsilon", 2, -5, None, 1),
        ("zeta", 1, 7, Some(1), 3),
        ("Eta", 0, 0, Some(2), 2),
    ];
    for (name, owner, score, follow_up, updated) in specs {
        let owner = match owner {
            1 => Some(rep.clone()),
            2 => Some(other.clone()),
            _ => None,
        };
        let created = ok(store.create_customer(&admin(), fields(name, None, None), owner, false));
        db.set_customer_derived(
            &created.id,
            score,
            follow_up.map(|h| base + Duration::hours(h)),
            base + Duration::minutes(updated),
        );
    }
    let all_of = |actor: &Actor, sort: CustomerSort, limit: u32| -> Vec<Customer> {
        let filter = CustomerFilter {
            sort,
            ..CustomerFilter::default()
        };
        let mut seen = Vec::new();
        let mut after = None;
        loop {
            let page = ok(store.list_customers(actor, &filter, &PageRequest { limit, after }));
            assert!(page.items.len() <= limit as usize);
            seen.extend(page.items);
            match page.next_after {
                Some(next) => after = Some(next),
                None => return seen,
            }
        }
    };
    let everything = all_of(&admin(), CustomerSort::default(), 50);
    assert_eq!(everything.len(), 9);
    let names = [
        "name",
        "created_at",
        "updated_at",
        "score",
        "next_follow_up_at",
    ];
    for raw in names.iter().flat_map(|n| [n.to_string(), format!("-{n}")]) {
        let sort = CustomerSort::parse(&raw).unwrap_or_else(|| panic!("{raw}"));
        for (actor, label) in [(admin(), "admin"), (as_rep(&rep), "rep")] {
            let mut expected: Vec<Customer> = everything
                .iter()
                .filter(|c| actor.visibility.allows(c.owner_id.as_deref()))
                .cloned()
                .collect();
            expected.sort_by(|a, b| {
                let key = |c: &Customer| match raw.trim_start_matches('-') {
                    "name" => (0, c.fields.name.to_lowercase(), 0, None),
                    "created_at" => (0, String::new(), 0, Some(c.created_at)),
                    "updated_at" => (0, String::new(), 0, Some(c.updated_at)),
                    "score" => (0, String::new(), c.score, None),
                    _ => (
                        i32::from(c.next_follow_up_at.is_none()),
                        String::new(),
                        0,
                        c.next_follow_up_at,
                    ),
                };
                let (ka, kb) = (key(a), key(b));
                // Customers without a follow-up stay last in both directions.
                let nulls = ka.0.cmp(&kb.0);
                let by_key = (&ka.1, ka.2, ka.3).cmp(&(&kb.1, kb.2, kb.3));
                let by_id = a.id.cmp(&b.id);
                let ordered = by_key.then(by_id);
                nulls.then(if sort.descending {
                    ordered.reverse()
                } else {
                    ordered
                })
            });
            let expected: Vec<String> = expected.into_iter().map(|c| c.id).collect();
            for limit in [1, 2, 4] {
                let got: Vec<String> = all_of(&actor, sort, limit)
                    .into_iter()
                    .map(|c| c.id)
                    .collect();
                assert_eq!(got, expected, "{raw} as {label}, {limit} per page");
            }
        }
    }
    // The follow-up order really puts customers without one last, in both directions.
    for raw in ["next_follow_up_at", "-next_follow_up_at"] {
        let sort = CustomerSort::parse(raw).unwrap_or_default();
        let walked = all_of(&admin(), sort, 2);
        let missing: Vec<bool> = walked
            .iter()
            .map(|c| c.next_follow_up_at.is_none())
            .collect();
        assert_eq!(
            missing,
            [false, false, false, false, false, false, true, true, true],
            "{raw}"
        );
    }
    // A position written for one order is refused by another.
    let by_name = CustomerSort::parse("name").unwrap_or_default();
    let by_score = CustomerSort::parse("-score").unwrap_or_default();
    let first = ok(store.list_customers(
        &admin(),
        &CustomerFilter {
            sort: by_name,
            ..CustomerFilter::default()
        },
        &PageRequest {
            limit: 1,
            after: None,
        },
    ));
    assert!(matches!(
        store.list_customers(
            &admin(),
            &CustomerFilter {
                sort: by_score,
                ..CustomerFilter::default()
            },
            &PageRequest {
                limit: 1,
                after: first.next_after,
            },
        ),
        Err(DomainError::Validation(_))
    ));
}

backend_tests!(every_sort_order_pages_exactly);
