//! Lead sources on both backends: the seeded list, adding, archiving, conflicts and versions.

use crm_domain::lead_sources::{LeadSourceChanges, LeadSourceDraft};
use crm_domain::ports::LeadSourceStore;
use crm_domain::DomainError;
use crm_persistence::backend_tests;
use crm_persistence::test_support::TestDatabase;

fn ok<T>(r: Result<T, DomainError>) -> T {
    r.unwrap_or_else(|e| panic!("{e:?}"))
}

fn keys(db: &TestDatabase, include_archived: bool) -> Vec<String> {
    ok(db.database().lead_sources(include_archived))
        .into_iter()
        .map(|s| s.key)
        .collect()
}

fn the_list_is_seeded_and_maintained(db: &TestDatabase) {
    let store = db.database();
    let seeded = [
        "website",
        "referral",
        "trade_show",
        "advertising",
        "cold_call",
        "social_media",
        "partner",
        "other",
    ];
    assert_eq!(keys(db, false), seeded);
    let created = ok(store.create_lead_source(LeadSourceDraft {
        key: "wechat_ads".into(),
        label: "WeChat ads".into(),
        position: 15,
    }));
    assert_eq!(
        (created.label.as_str(), created.archived, created.version),
        ("WeChat ads", false, 1)
    );
    assert_eq!(keys(db, false)[..3], ["website", "wechat_ads", "referral"]);
    assert_eq!(
        store.create_lead_source(LeadSourceDraft {
            key: "website".into(),
            label: "Again".into(),
            position: 1,
        }),
        Err(DomainError::Conflict {
            code: "lead_source_exists",
            message: "a lead source with this key exists".into()
        })
    );
    let archived = ok(store.update_lead_source(
        "cold_call",
        LeadSourceChanges {
            archived: Some(true),
            label: Some("Cold calls".into()),
            ..LeadSourceChanges::default()
        },
        Some(1),
    ));
    assert_eq!(
        (archived.label.as_str(), archived.archived, archived.version),
        ("Cold calls", true, 2)
    );
    assert!(!keys(db, false).contains(&"cold_call".to_string()));
    assert!(keys(db, true).contains(&"cold_call".to_string()));
    assert_eq!(
        store.update_lead_source("cold_call", LeadSourceChanges::default(), Some(1)),
        Err(DomainError::PreconditionFailed { current_version: 2 })
    );
    let unchanged = ok(store.update_lead_source("cold_call", LeadSourceChanges::default(), None));
    assert_eq!(unchanged.version, 2, "no change, no new version");
    assert_eq!(
        store.update_lead_source("nope", LeadSourceChanges::default(), None),
        Err(DomainError::NotFound {
            entity: "lead source"
        })
    );
}

backend_tests!(the_list_is_seeded_and_maintained);
