//! The system store on both backends.

use crm_domain::{Backend, SystemStore};
use crm_persistence::backend_tests;
use crm_persistence::test_support::TestDatabase;

fn reports_the_backend_instance_and_schema(db: &TestDatabase) {
    let store = db.database();
    let info = store.system_info().unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(info.backend, store.url().backend());
    assert_eq!(info.instance_id.len(), 36, "{}", info.instance_id);
    assert_eq!(info.instance_id.chars().nth(14), Some('4'), "a v4 UUID");
    let (names, _) = crm_persistence::migration_names();
    let newest = names
        .last()
        .map(|n| n.split('_').next().unwrap_or_default().replace('-', ""));
    assert_eq!(Some(info.schema_version), newest);
}

fn ping_answers(db: &TestDatabase) {
    assert_eq!(db.database().ping(), Ok(()));
}

fn migrating_again_applies_nothing(db: &TestDatabase) {
    let applied = db.database().migrate().unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(applied, Vec::<String>::new());
}

fn pool_status_counts_connections(db: &TestDatabase) {
    let status = db.database().pool_status();
    assert_eq!(status.max_size, 4);
    assert!(
        status.connections >= 1 && status.connections <= 4,
        "{status:?}"
    );
    assert!(status.idle_connections <= status.connections);
}

fn instance_id_is_stable_across_reads(db: &TestDatabase) {
    let a = db.database().system_info().map(|i| i.instance_id);
    let b = db.database().system_info().map(|i| i.instance_id);
    assert!(a.is_ok());
    assert_eq!(a, b);
}

backend_tests!(
    reports_the_backend_instance_and_schema,
    ping_answers,
    migrating_again_applies_nothing,
    pool_status_counts_connections,
    instance_id_is_stable_across_reads,
);

#[test]
fn backend_names_are_lower_case() {
    assert_eq!(Backend::Sqlite.as_str(), "sqlite");
    assert_eq!(Backend::Postgres.as_str(), "postgres");
}
