//! Contacts on both backends: one primary, visibility through the customer, history.

use crm_domain::contact_points::{Phone, PhoneRegion};
use crm_domain::customers::{ContactFields, CustomerFields, CustomerKind};
use crm_domain::identity::{Email, NewUser, Role, Visibility};
use crm_domain::page::PageRequest;
use crm_domain::ports::{Actor, ContactFilter, ContactStore, CustomerStore, UserStore};
use crm_domain::DomainError;
use crm_persistence::backend_tests;
use crm_persistence::test_support::TestDatabase;

fn ok<T>(r: Result<T, DomainError>) -> T {
    r.unwrap_or_else(|e| panic!("{e:?}"))
}

fn contact(name: &str) -> ContactFields {
    ContactFields {
        name: name.into(),
        title: Some("采购经理".into()),
        phones: vec![ok(Phone::parse(
            "13812345678",
            PhoneRegion::default(),
            "/phones/0",
        )
        .map_err(|e| DomainError::Validation(vec![e])))],
        email: Some(ok(
            Email::parse("li@example.com", "/email").map_err(|e| DomainError::Validation(vec![e]))
        )),
        wechat_id: Some("li_wechat".into()),
        notes: None,
        custom_fields: Default::default(),
    }
}

fn setup(db: &TestDatabase) -> (Actor, Actor, String) {
    let store = db.database();
    let mut ids = Vec::new();
    for email in ["a@example.com", "b@example.com"] {
        let user = ok(store.create_user(NewUser {
            email: ok(Email::parse(email, "/email").map_err(|e| DomainError::Validation(vec![e]))),
            display_name: email.into(),
            role: Role::Rep,
            password_hash: "x".into(),
        }));
        ids.push(user.id);
    }
    let a = Actor {
        id: ids[0].clone(),
        visibility: Visibility::OwnersOrPool(vec![ids[0].clone()]),
        user_id: None,
    };
    let b = Actor {
        id: ids[1].clone(),
        visibility: Visibility::OwnersOrPool(vec![ids[1].clone()]),
        user_id: None,
    };
    let fields = CustomerFields::new(CustomerKind::Company, "Acme");
    let customer = ok(store.create_customer(&a, fields, Some(ids[0].clone()), false));
    (a, b, customer.id)
}

fn exactly_one_primary_contact(db: &TestDatabase) {
    let store = db.database();
    let (a, _, customer) = setup(db);
    let first = ok(store.create_contact(&a, &customer, contact("Li"), false, false));
    assert!(first.primary, "the first contact is primary");
    let second = ok(store.create_contact(&a, &customer, contact("Wang"), true, false));
    assert!(second.primary);
    assert!(
        !ok(store.contact(&a, &customer, &first.id)).primary,
        "only one primary"
    );
    let refused = store.update_contact(
        &a,
        &customer,
        &second.id,
        contact("Wang"),
        Some(false),
        None,
    );
    assert!(matches!(refused, Err(DomainError::Validation(_))));
    ok(store.delete_contact(&a, &customer, &second.id));
    assert!(
        ok(store.contact(&a, &customer, &first.id)).primary,
        "the oldest remaining becomes primary"
    );
    assert_eq!(
        store.contact(&a, &customer, &second.id),
        Err(DomainError::NotFound { entity: "contact" })
    );
    let history = ok(store.customer_history(
        &a,
        &customer,
        &PageRequest {
            limit: 10,
            after: None,
        },
    ));
    let actions: Vec<&str> = history.items.iter().map(|e| e.action.as_str()).collect();
    assert_eq!(
        actions,
        [
            "contact_removed",
            "contact_added",
            "contact_added",
            "created"
        ]
    );
}

fn contacts_follow_their_customers_visibility(db: &TestDatabase) {
    let store = db.database();
    let (a, b, customer) = setup(db);
    let created = ok(store.create_contact(&a, &customer, contact("Li"), false, false));
    let hidden = DomainError::NotFound { entity: "customer" };
    assert_eq!(
        store.contact(&b, &customer, &created.id),
        Err(hidden.clone())
    );
    assert_eq!(
        store
            .create_contact(&b, &customer, contact("X"), false, false)
            .err(),
        Some(hidden.clone())
    );
    assert_eq!(
        store
            .list_contacts(
                &b,
                &ContactFilter::default(),
                &PageRequest {
                    limit: 10,
                    after: None
                }
            )
            .map(|p| p.items.len()),
        Ok(0)
    );
    assert_eq!(
        store
            .list_contacts(
                &a,
                &ContactFilter::default(),
                &PageRequest {
                    limit: 10,
                    after: None
                }
            )
            .map(|p| p.items.len()),
        Ok(1)
    );
    let mut changed = contact("Li Lei");
    changed.phones.clear();
    let updated = ok(store.update_contact(&a, &customer, &created.id, changed, None, Some(1)));
    assert_eq!((updated.version, updated.fields.phones.len()), (2, 0));
    assert_eq!(
        store.update_contact(&a, &customer, &created.id, contact("Stale"), None, Some(1)),
        Err(DomainError::PreconditionFailed { current_version: 2 })
    );
}

fn customer(name: &str, phone: Option<&str>, email: Option<&str>) -> CustomerFields {
    CustomerFields {
        phone: phone.map(|p| {
            ok(Phone::parse(p, PhoneRegion::default(), "/phone")
                .map_err(|e| DomainError::Validation(vec![e])))
        }),
        email: email
            .map(|e| ok(Email::parse(e, "/email").map_err(|e| DomainError::Validation(vec![e])))),
        ..CustomerFields::new(CustomerKind::Individual, name)
    }
}

/// Phones and emails of contacts count as the customer's: a new customer or a contact of
/// another customer that repeats one is a duplicate; contacts of the same customer may share.
fn contact_points_find_duplicates(db: &TestDatabase) {
    let store = db.database();
    let (a, b, acme) = setup(db);
    let duplicate_of = |id: Option<&str>| DomainError::Duplicate {
        entity: "customer",
        existing_id: id.map(str::to_string),
    };
    let li = ok(store.create_contact(&a, &acme, contact("Li"), false, false));
    let wang = ok(store.create_contact(&a, &acme, contact("Wang"), false, false));
    let other = ok(store.create_customer(&a, customer("Other", None, None), None, false));
    assert_eq!(
        store.create_contact(&a, &other.id, contact("Zhao"), false, false),
        Err(duplicate_of(Some(&acme)))
    );
    assert_eq!(
        store.create_customer(
            &b,
            customer("B's", None, Some("LI@example.com ")),
            None,
            false
        ),
        Err(duplicate_of(None)),
        "a match b may not see is not named"
    );
    assert_eq!(
        store.create_customer(
            &a,
            customer("Same phone", Some("138 1234 5678"), None),
            None,
            false
        ),
        Err(duplicate_of(Some(&acme)))
    );
    let mut zhao = contact("Zhao");
    zhao.phones = vec![ok(Phone::parse(
        "13900001111",
        PhoneRegion::default(),
        "/phones/0",
    )
    .map_err(|e| DomainError::Validation(vec![e])))];
    zhao.email = None;
    let zhao = ok(store.create_contact(&a, &other.id, zhao, false, false));
    assert_eq!(
        store.update_contact(&a, &other.id, &zhao.id, contact("Zhao"), None, None),
        Err(duplicate_of(Some(&acme))),
        "changing to a taken phone"
    );
    let allowed = ok(store.create_contact(&a, &other.id, contact("Zhao 2"), false, true));
    ok(store.delete_contact(&a, &acme, &li.id));
    ok(store.delete_contact(&a, &acme, &wang.id));
    assert_eq!(
        store.create_customer(
            &a,
            customer("Third", Some("13812345678"), None),
            None,
            false
        ),
        Err(duplicate_of(Some(&other.id))),
        "the allowed duplicate on the other customer still counts"
    );
    ok(store.delete_contact(&a, &other.id, &allowed.id));
    let third = ok(store.create_customer(
        &a,
        customer("Third", Some("13812345678"), None),
        None,
        false,
    ));
    assert_eq!(third.fields.name, "Third");
}

/// The flat list filters by name part, email and phone, on visible customers only.
fn the_flat_list_filters(db: &TestDatabase) {
    let store = db.database();
    let (a, b, acme) = setup(db);
    let mut li = contact("Li Na");
    li.email =
        Some(ok(Email::parse("Li.Na@Acme.example", "/email")
            .map_err(|e| DomainError::Validation(vec![e]))));
    let li = ok(store.create_contact(&a, &acme, li, false, false));
    let mut wang = contact("Wang Lina");
    wang.phones = vec![ok(Phone::parse(
        "13900001111",
        PhoneRegion::default(),
        "/p",
    )
    .map_err(|e| DomainError::Validation(vec![e])))];
    wang.email = None;
    let wang = ok(store.create_contact(&a, &acme, wang, false, false));
    let names = |actor: &Actor, filter: ContactFilter| -> Vec<String> {
        ok(store.list_contacts(
            actor,
            &filter,
            &PageRequest {
                limit: 10,
                after: None,
            },
        ))
        .items
        .into_iter()
        .map(|c| c.fields.name)
        .collect()
    };
    let q = |text: &str| ContactFilter {
        q: Some(text.into()),
        ..ContactFilter::default()
    };
    assert_eq!(names(&a, q("LINA")), ["Wang Lina"], "trigram search");
    assert_eq!(
        names(&a, q("na")),
        ["Li Na", "Wang Lina"],
        "short text scans"
    );
    assert_eq!(names(&a, q("li n")), ["Li Na"]);
    assert_eq!(names(&b, q("lina")), Vec::<String>::new(), "b sees none");
    let by_email = ContactFilter {
        email: Some("li.na@acme.example".into()),
        ..ContactFilter::default()
    };
    assert_eq!(names(&a, by_email), ["Li Na"]);
    let by_phone = ContactFilter {
        phone: Some("+8613900001111".into()),
        ..ContactFilter::default()
    };
    assert_eq!(names(&a, by_phone.clone()), ["Wang Lina"]);
    let mut renumbered = contact("Wang Lina");
    renumbered.email = None;
    ok(store.update_contact(&a, &acme, &wang.id, renumbered, None, None));
    assert_eq!(
        names(&a, by_phone),
        Vec::<String>::new(),
        "the old number is gone"
    );
    let of_customer = ContactFilter {
        customer_id: Some(acme.clone()),
        q: Some("li na".into()),
        ..ContactFilter::default()
    };
    assert_eq!(names(&a, of_customer.clone()), ["Li Na"]);
    assert_eq!(
        store
            .list_contacts(
                &b,
                &of_customer,
                &PageRequest {
                    limit: 10,
                    after: None
                }
            )
            .err(),
        Some(DomainError::NotFound { entity: "customer" })
    );
    assert_eq!(li.fields.name, "Li Na");
}

backend_tests!(
    the_flat_list_filters,
    exactly_one_primary_contact,
    contacts_follow_their_customers_visibility,
    contact_points_find_duplicates
);
