//! Fresh, migrated databases for tests: a temporary SQLite file, or a new PostgreSQL database
//! created on the server named by `TEST_DATABASE_URL` and dropped afterwards.
//!
//! Every test gets its own database, so tests run in parallel and never see each other's rows.
//! `backend_tests!` declares one test per backend for a test body written once.

use std::io::Write;
use std::sync::Arc;

use crm_domain::Backend;
use diesel::connection::SimpleConnection;
use diesel::pg::PgConnection;
use diesel::Connection;

use crate::{Database, DatabaseOptions, DatabaseUrl};

/// The environment variable naming the PostgreSQL server for tests (any database on it; the
/// tests create and drop their own).
pub const TEST_DATABASE_URL: &str = "TEST_DATABASE_URL";

/// When set, every test database created is logged to this file as a line naming its backend,
/// so CI can prove the PostgreSQL tests really ran.
pub const BACKEND_LOG: &str = "CRM_TEST_BACKEND_LOG";

/// A migrated database that disappears when dropped.
pub struct TestDatabase {
    database: Option<Arc<Database>>,
    cleanup: Cleanup,
}

enum Cleanup {
    Sqlite(#[allow(dead_code)] tempfile::TempDir),
    Postgres { admin_url: String, name: String },
}

impl TestDatabase {
    /// A fresh database on `backend`, or `None` for PostgreSQL when `TEST_DATABASE_URL` is unset.
    ///
    /// # Panics
    /// When the database cannot be created or migrated: the test cannot run.
    pub fn new(backend: Backend) -> Option<Self> {
        Self::with_options(backend, &test_options())
    }

    /// Like [`TestDatabase::new`], with the given pool settings.
    ///
    /// # Panics
    /// When the database cannot be created or migrated.
    pub fn with_options(backend: Backend, options: &DatabaseOptions) -> Option<Self> {
        match backend {
            Backend::Sqlite => Some(Self::sqlite_with(options)),
            Backend::Postgres => Self::postgres_with(options),
        }
    }

    /// A fresh SQLite database in a temporary folder.
    ///
    /// # Panics
    /// When the database cannot be created or migrated.
    pub fn sqlite() -> Self {
        Self::sqlite_with(&test_options())
    }

    fn sqlite_with(options: &DatabaseOptions) -> Self {
        let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("temporary folder: {e}"));
        let url = DatabaseUrl::sqlite(dir.path().join("crm.db"));
        let database = open(&url, options);
        log_backend(Backend::Sqlite);
        Self {
            database: Some(Arc::new(database)),
            cleanup: Cleanup::Sqlite(dir),
        }
    }

    /// A fresh PostgreSQL database, or `None` when `TEST_DATABASE_URL` is unset.
    ///
    /// # Panics
    /// When `TEST_DATABASE_URL` is set but the server refuses to create or migrate the database.
    pub fn postgres() -> Option<Self> {
        Self::postgres_with(&test_options())
    }

    fn postgres_with(options: &DatabaseOptions) -> Option<Self> {
        let admin_url = std::env::var(TEST_DATABASE_URL).ok()?;
        let name = format!("crm_test_{}", uuid::Uuid::now_v7().simple());
        let mut admin = PgConnection::establish(&admin_url)
            .unwrap_or_else(|e| panic!("{TEST_DATABASE_URL}: cannot connect: {e}"));
        admin
            .batch_execute(&format!("CREATE DATABASE {name}"))
            .unwrap_or_else(|e| panic!("cannot create test database {name}: {e}"));
        let url = with_database(&admin_url, &name);
        let database = open(&DatabaseUrl::Postgres(url), options);
        log_backend(Backend::Postgres);
        Some(Self {
            database: Some(Arc::new(database)),
            cleanup: Cleanup::Postgres { admin_url, name },
        })
    }

    /// The database, migrated and ready.
    pub fn database(&self) -> &Database {
        match &self.database {
            Some(db) => db,
            None => unreachable!("the database is only taken when the test database is dropped"),
        }
    }

    /// A pooled connection, for tests that exercise transactions directly.
    ///
    /// # Panics
    /// When no connection is available.
    pub fn connection(&self) -> impl std::ops::DerefMut<Target = crate::DbConnection> + '_ {
        self.database()
            .conn()
            .unwrap_or_else(|e| panic!("no connection: {e}"))
    }

    /// Sets the columns that later features derive (score, next follow-up) and the change time
    /// of a customer, so list orders over them can be tested before those features write them.
    ///
    /// # Panics
    /// When the update fails.
    pub fn set_customer_derived(
        &self,
        id: &str,
        score: i64,
        next_follow_up_at: Option<chrono::DateTime<chrono::Utc>>,
        updated_at: chrono::DateTime<chrono::Utc>,
    ) {
        use crate::schema::customers;
        use diesel::prelude::*;
        diesel::update(customers::table.find(id))
            .set((
                customers::score.eq(score),
                customers::next_follow_up_at.eq(next_follow_up_at.map(crate::convert::stored)),
                customers::updated_at.eq(crate::convert::stored(updated_at)),
            ))
            .execute(&mut *self.connection())
            .unwrap_or_else(|e| panic!("{e}"));
    }

    /// The rows that name a parent which does not exist: history entries without their
    /// customer, contact phone index rows without their contact, import results without their
    /// job. The schema leaves these to the code (they are written in their parent's
    /// transaction), so tests of the code paths that write them check that none exist.
    ///
    /// # Panics
    /// When the query fails.
    pub fn orphan_rows(&self) -> i64 {
        self.count(
            "SELECT \
               (SELECT COUNT(*) FROM customer_events e \
                  WHERE NOT EXISTS (SELECT 1 FROM customers c WHERE c.id = e.customer_id)) \
             + (SELECT COUNT(*) FROM contact_phones p \
                  WHERE NOT EXISTS (SELECT 1 FROM contacts c WHERE c.id = p.contact_id)) \
             + (SELECT COUNT(*) FROM import_rows r \
                  WHERE NOT EXISTS (SELECT 1 FROM imports i WHERE i.id = r.import_id)) AS n",
        )
    }

    /// The number `sql` (one row, one integer column named `n`) computes, for tests that check
    /// what is stored without going through the API.
    ///
    /// # Panics
    /// When the query fails.
    pub fn count(&self, sql: &str) -> i64 {
        use diesel::prelude::*;
        use diesel::sql_types::BigInt;
        #[derive(QueryableByName)]
        struct Count {
            #[diesel(sql_type = BigInt)]
            n: i64,
        }
        diesel::sql_query(sql)
            .get_result::<Count>(&mut *self.connection())
            .map(|c| c.n)
            .unwrap_or_else(|e| panic!("{sql}: {e}"))
    }

    /// A shared handle, e.g. for the HTTP layer's stores. The database is still removed when this
    /// guard is dropped.
    pub fn shared(&self) -> Arc<Database> {
        match &self.database {
            Some(db) => Arc::clone(db),
            None => unreachable!("the database is only taken when the test database is dropped"),
        }
    }
}

impl Drop for TestDatabase {
    fn drop(&mut self) {
        // Close the pool before dropping the database it points at.
        self.database.take();
        if let Cleanup::Postgres { admin_url, name } = &self.cleanup {
            if let Ok(mut admin) = PgConnection::establish(admin_url) {
                let _ =
                    admin.batch_execute(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"));
            }
        }
    }
}

/// Small pools: tests are many and run in parallel.
pub fn test_options() -> DatabaseOptions {
    DatabaseOptions {
        pool_size: 4,
        ..DatabaseOptions::default()
    }
}

fn open(url: &DatabaseUrl, options: &DatabaseOptions) -> Database {
    crate::query_plan::install();
    let db = Database::connect(url, options).unwrap_or_else(|e| panic!("{e}"));
    db.migrate().unwrap_or_else(|e| panic!("{e}"));
    db
}

/// `url` with its database name (the path) replaced by `name`.
fn with_database(url: &str, name: &str) -> String {
    match url::Url::parse(url) {
        Ok(mut parsed) => {
            parsed.set_path(&format!("/{name}"));
            parsed.to_string()
        }
        Err(e) => panic!("{TEST_DATABASE_URL} is not a URL: {e}"),
    }
}

fn log_backend(backend: Backend) {
    if let Ok(path) = std::env::var(BACKEND_LOG) {
        if let Ok(mut file) = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(path)
        {
            let _ = writeln!(file, "{}", backend.as_str());
        }
    }
}

/// Declares each listed test body once per backend, as `<name>::sqlite` and `<name>::postgres`.
/// A body is a function taking the fresh database. The PostgreSQL variant returns at once when
/// `TEST_DATABASE_URL` is unset (CI always sets it and checks that these tests ran).
///
/// `backend_tests!(fn_a, fn_b);` for `fn(&TestDatabase)` bodies;
/// `backend_tests!(async actix: fn_c);` for `async fn(TestDatabase)` bodies under actix-web's runtime.
#[macro_export]
macro_rules! backend_tests {
    (async actix: $($name:ident),+ $(,)?) => {
        $(
            mod $name {
                #[::actix_web::test]
                async fn sqlite() {
                    super::$name($crate::test_support::TestDatabase::sqlite()).await
                }

                #[::actix_web::test]
                async fn postgres() {
                    if let Some(db) = $crate::test_support::TestDatabase::postgres() {
                        super::$name(db).await
                    }
                }
            }
        )+
    };
    ($($name:ident),+ $(,)?) => {
        $(
            mod $name {
                #[test]
                fn sqlite() {
                    super::$name(&$crate::test_support::TestDatabase::sqlite())
                }

                #[test]
                fn postgres() {
                    if let Some(db) = $crate::test_support::TestDatabase::postgres() {
                        super::$name(&db)
                    }
                }
            }
        )+
    };
}
