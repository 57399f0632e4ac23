//! Write transactions on both backends: commit, rollback, nesting, and concurrent writers.

use std::sync::{Arc, Barrier};
use std::time::{Duration, Instant};

use crm_domain::lead_sources::LeadSourceDraft;
use crm_domain::ports::LeadSourceStore;
use crm_domain::{Backend, DomainError};
use crm_persistence::backend_tests;
use crm_persistence::test_support::{test_options, TestDatabase};
use crm_persistence::{DatabaseOptions, DatabaseUrl, DbConnection};
use diesel::prelude::*;
use diesel::result::Error;
use diesel::sql_types::{BigInt, Text};

#[derive(QueryableByName)]
struct Instance {
    #[diesel(sql_type = Text)]
    instance_id: String,
}

fn instance_id(conn: &mut DbConnection) -> String {
    diesel::sql_query("SELECT instance_id FROM installation")
        .get_result::<Instance>(conn)
        .map(|r| r.instance_id)
        .unwrap_or_else(|e| panic!("{e}"))
}

fn set_instance_id(conn: &mut DbConnection, value: &str) -> Result<usize, Error> {
    diesel::sql_query("UPDATE installation SET instance_id = $1")
        .bind::<Text, _>(value)
        .execute(conn)
}

fn committed_write_is_visible(db: &TestDatabase) {
    let mut conn = db.connection();
    let written = conn.write_transaction(|c| set_instance_id(c, "committed"));
    assert_eq!(written, Ok(1));
    assert_eq!(instance_id(&mut db.connection()), "committed");
}

fn failed_write_leaves_nothing_behind(db: &TestDatabase) {
    let before = instance_id(&mut db.connection());
    let mut conn = db.connection();
    let result: Result<(), Error> = conn.write_transaction(|c| {
        set_instance_id(c, "rolled back")?;
        Err(Error::RollbackTransaction)
    });
    assert_eq!(result, Err(Error::RollbackTransaction));
    assert_eq!(instance_id(&mut conn), before);
}

fn nested_transaction_is_a_savepoint(db: &TestDatabase) {
    let mut conn = db.connection();
    let result = conn.write_transaction(|c| {
        set_instance_id(c, "outer")?;
        let inner: Result<(), Error> = c.transaction(|c| {
            set_instance_id(c, "inner")?;
            Err(Error::RollbackTransaction)
        });
        assert_eq!(inner, Err(Error::RollbackTransaction));
        Ok::<_, Error>(())
    });
    assert_eq!(result, Ok(()));
    assert_eq!(instance_id(&mut conn), "outer");
}

/// Two writers that both read before writing: with `BEGIN IMMEDIATE` the second waits for the
/// first instead of failing to upgrade its read lock.
fn concurrent_writers_both_commit(db: &TestDatabase) {
    let barrier = Arc::new(Barrier::new(2));
    std::thread::scope(|scope| {
        let handles: Vec<_> = ["first", "second"]
            .into_iter()
            .map(|value| {
                let barrier = Arc::clone(&barrier);
                scope.spawn(move || {
                    let mut conn = db.connection();
                    barrier.wait();
                    conn.write_transaction(|c| {
                        let _ = instance_id(c);
                        std::thread::sleep(Duration::from_millis(50));
                        set_instance_id(c, value)
                    })
                })
            })
            .collect();
        for handle in handles {
            assert_eq!(handle.join().ok(), Some(Ok(1)));
        }
    });
    let last = instance_id(&mut db.connection());
    assert!(last == "first" || last == "second", "{last}");
}

/// History, contact phone index rows and import results carry no foreign key (the code writes
/// them with their parent); `orphan_rows`, which the tests of those code paths check, counts
/// each kind that lost its parent.
fn orphan_rows_are_counted(db: &TestDatabase) {
    assert_eq!(db.orphan_rows(), 0);
    let mut conn = db.connection();
    for sql in [
        "INSERT INTO customer_events (id, customer_id, action, actor_id, at, changes) \
         VALUES ('e1', 'no-such-customer', 'created', 'u1', '2026-01-01 00:00:00', '[]')",
        "INSERT INTO contact_phones (contact_id, phone_normalized) \
         VALUES ('no-such-contact', '+8613800000000')",
        "INSERT INTO import_rows (import_id, row_number, outcome, errors) \
         VALUES ('no-such-import', 1, 'failed', '[]')",
    ] {
        assert_eq!(diesel::sql_query(sql).execute(&mut *conn), Ok(1), "{sql}");
    }
    drop(conn);
    assert_eq!(db.orphan_rows(), 3);
}

/// The server's own writers take turns in the server: with SQLite's busy handler switched off
/// (`sqlite_busy_timeout` zero), eight threads writing through the store at once all succeed,
/// where two connections contending for the write lock would fail at once with "database is
/// locked".
fn concurrent_store_writes_take_turns(backend: Backend) {
    let options = DatabaseOptions {
        sqlite_busy_timeout: Duration::ZERO,
        ..test_options()
    };
    let Some(db) = TestDatabase::with_options(backend, &options) else {
        return;
    };
    let before = ok(db.database().lead_sources(true)).len();
    let barrier = Barrier::new(8);
    std::thread::scope(|scope| {
        let writers: Vec<_> = (0..8)
            .map(|writer| {
                let (db, barrier) = (&db, &barrier);
                scope.spawn(move || {
                    barrier.wait();
                    (0..20)
                        .map(|n| {
                            db.database()
                                .create_lead_source(LeadSourceDraft {
                                    key: format!("source_{writer}_{n}"),
                                    label: format!("Source {writer}.{n}"),
                                    position: n,
                                })
                                .map(|_| ())
                        })
                        .collect::<Vec<_>>()
                })
            })
            .collect();
        for writer in writers {
            let results = writer.join().unwrap_or_default();
            assert_eq!(results, vec![Ok(()); 20]);
        }
    });
    assert_eq!(ok(db.database().lead_sources(true)).len(), before + 160);
}

#[test]
fn concurrent_store_writes_take_turns_sqlite() {
    concurrent_store_writes_take_turns(Backend::Sqlite);
}

#[test]
fn concurrent_store_writes_take_turns_postgres() {
    concurrent_store_writes_take_turns(Backend::Postgres);
}

#[derive(QueryableByName)]
struct Pages {
    #[diesel(sql_type = BigInt)]
    page_count: i64,
    #[diesel(sql_type = BigInt)]
    page_size: i64,
}

/// SQLite's own checkpoint waits until the log holds thousands of pages; the database's
/// checkpoint thread copies committed writes into the database file within a moment, so the
/// file soon holds every page of the database.
#[test]
fn sqlite_writes_reach_the_database_file_in_the_background() {
    let db = TestDatabase::sqlite();
    let DatabaseUrl::Sqlite(path) = db.database().url().clone() else {
        unreachable!("an SQLite test database")
    };
    for n in 0..500 {
        ok(db.database().create_lead_source(LeadSourceDraft {
            key: format!("source_{n}"),
            label: format!("Source {n} with a label long enough to fill a few pages"),
            position: n,
        }));
    }
    let database_bytes = diesel::sql_query("SELECT * FROM pragma_page_count(), pragma_page_size()")
        .get_result::<Pages>(&mut *db.connection())
        .map(|p| (p.page_count * p.page_size) as u64)
        .unwrap_or_else(|e| panic!("{e}"));
    let file_bytes = || std::fs::metadata(&path).map(|m| m.len()).unwrap_or(0);
    let deadline = Instant::now() + Duration::from_secs(10);
    while file_bytes() < database_bytes && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(20));
    }
    assert_eq!(file_bytes(), database_bytes);
}

fn ok<T>(r: Result<T, DomainError>) -> T {
    r.unwrap_or_else(|e| panic!("{e:?}"))
}

/// Every pooled connection carries its backend's settings: on SQLite foreign keys and the
/// write-ahead log, on PostgreSQL serial plans only (a parallel plan's workers take longer to
/// start than a page takes to read).
fn pooled_connections_carry_their_settings(db: &TestDatabase) {
    let checks: &[(&str, i64)] = match db.database().backend() {
        crm_domain::Backend::Sqlite => &[
            ("SELECT foreign_keys AS n FROM pragma_foreign_keys", 1),
            (
                "SELECT count(*) AS n FROM pragma_journal_mode WHERE journal_mode = 'wal'",
                1,
            ),
        ],
        crm_domain::Backend::Postgres => &[
            (
                "SELECT current_setting('max_parallel_workers_per_gather')::bigint AS n",
                0,
            ),
            (
                "SELECT (current_setting('random_page_cost')::float8 * 10)::bigint AS n",
                11,
            ),
        ],
    };
    for (sql, want) in checks {
        assert_eq!(db.count(sql), *want, "{sql}");
    }
}

backend_tests!(
    pooled_connections_carry_their_settings,
    orphan_rows_are_counted,
    committed_write_is_visible,
    failed_write_leaves_nothing_behind,
    nested_transaction_is_a_savepoint,
    concurrent_writers_both_commit,
);
