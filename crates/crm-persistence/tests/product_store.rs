//! The product catalogue on both backends: SKUs unique regardless of case (also on change),
//! versions, and the list by SKU with its filters and keyset pages.

use chrono::{DateTime, Utc};
use crm_domain::page::PageRequest;
use crm_domain::ports::{ProductFilter, ProductStore};
use crm_domain::products::ProductFields;
use crm_domain::DomainError;
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

fn product(sku: &str, name: &str, price: i64, currency: &str, active: bool) -> ProductFields {
    ProductFields {
        sku: sku.into(),
        name: name.into(),
        description: None,
        unit_price: price,
        currency: currency.into(),
        active,
    }
}

fn skus(db: &TestDatabase, filter: &ProductFilter, limit: u32) -> Vec<String> {
    let mut found = Vec::new();
    let mut after = None;
    loop {
        let page = ok(db
            .database()
            .products(filter, &PageRequest { limit, after }));
        found.extend(page.items.into_iter().map(|p| p.fields.sku));
        match page.next_after {
            Some(next) => after = Some(next),
            None => break found,
        }
    }
}

fn skus_are_unique_regardless_of_case(db: &TestDatabase) {
    let store = db.database();
    let made = ok(store.create_product(product("CRM-Pro", "CRM Pro", 129_900, "CNY", true), now()));
    assert_eq!((made.version, made.created_at), (1, now()));
    assert_eq!(ok(store.product(&made.id)), made);
    let taken = DomainError::Conflict {
        code: "sku_exists",
        message: "another product has this SKU".into(),
    };
    assert_eq!(
        store
            .create_product(product("crm-pro", "Other", 1, "CNY", true), now())
            .map(|p| p.id),
        Err(taken.clone())
    );
    let other =
        ok(store.create_product(product("CRM-Lite", "CRM Lite", 59_900, "CNY", true), now()));
    assert_eq!(
        store
            .update_product(
                &other.id,
                product("CRM-PRO", "CRM Lite", 59_900, "CNY", true),
                None,
                now()
            )
            .map(|p| p.id),
        Err(taken)
    );
    // Its own SKU in another case is a change, not a clash.
    let renamed = ok(store.update_product(
        &other.id,
        product("crm-lite", "CRM Lite", 69_900, "CNY", false),
        Some(1),
        now(),
    ));
    assert_eq!(
        (
            renamed.fields.sku.as_str(),
            renamed.fields.unit_price,
            renamed.fields.active,
            renamed.version
        ),
        ("crm-lite", 69_900, false, 2)
    );
    assert_eq!(
        store.update_product(&other.id, renamed.fields.clone(), Some(1), now()),
        Err(DomainError::PreconditionFailed { current_version: 2 })
    );
    let same = ok(store.update_product(&other.id, renamed.fields.clone(), None, now()));
    assert_eq!(same.version, 2, "no change, no new version");
    assert_eq!(
        store.product("0193aaaa-0000-7000-8000-000000000000"),
        Err(DomainError::NotFound { entity: "product" })
    );
}

fn the_list_is_by_sku_with_filters(db: &TestDatabase) {
    let store = db.database();
    for (sku, name, price, currency, active) in [
        ("b-200", "Barcode scanner", 49_900, "CNY", true),
        ("A-100", "Annual support", 10_000, "USD", true),
        ("c_300", "Cloud 100% plan", 99_900, "CNY", true),
        ("D-400", "Desk phone", 29_900, "CNY", false),
        ("a-050", "Adapter", 1_500, "CNY", true),
    ] {
        ok(store.create_product(product(sku, name, price, currency, active), now()));
    }
    let all = ProductFilter::default();
    let everything = ["a-050", "A-100", "b-200", "c_300", "D-400"];
    assert_eq!(skus(db, &all, 50), everything);
    assert_eq!(skus(db, &all, 2), everything, "pages of two");
    let active = ProductFilter {
        active: Some(true),
        ..Default::default()
    };
    assert_eq!(skus(db, &active, 50), ["a-050", "A-100", "b-200", "c_300"]);
    let dollars = ProductFilter {
        currency: Some("USD".into()),
        ..Default::default()
    };
    assert_eq!(skus(db, &dollars, 50), ["A-100"]);
    let text = |t: &str| ProductFilter {
        text: Some(t.into()),
        ..Default::default()
    };
    assert_eq!(skus(db, &text("PHONE"), 50), ["D-400"], "names, any case");
    assert_eq!(
        skus(db, &text("a-"), 50),
        ["a-050", "A-100"],
        "SKUs, any case"
    );
    assert_eq!(skus(db, &text("100%"), 50), ["c_300"], "% is literal");
    assert_eq!(skus(db, &text("_"), 50), ["c_300"], "_ is literal");
    assert_eq!(skus(db, &text("nothing"), 50), Vec::<String>::new());
}

backend_tests!(
    skus_are_unique_regardless_of_case,
    the_list_is_by_sku_with_filters
);
