//! Choosing the backend from the database URL, opening the connection pool and running migrations.

use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use crm_domain::identity::AuthSubject;
use crm_domain::{Backend, DomainError};
use diesel::connection::SimpleConnection;
use diesel::pg::PgConnection;
use diesel::r2d2::{self, ManageConnection, Pool, PooledConnection};
use diesel::sqlite::SqliteConnection;
use diesel::Connection;
use parking_lot::{Mutex, MutexGuard};

use crate::checkpoints::{self, Checkpointer};
use crate::errors::TxError;
use crate::live_fields::{self, LiveFieldCache};
use crate::reference::{self, ReferenceCache};
use crate::remembered::Remembered;
use crate::slow_statements::SlowStatements;
use crate::{migrations, DbConnection};

/// How long a user's authentication facts are used before they are read again: a role change,
/// deactivation or ended sessions apply at once on the server that made them and within this
/// time on every other server sharing the database.
const SUBJECTS_FRESH_FOR: Duration = Duration::from_secs(1);

/// How many users' authentication facts are kept at most (a few hundred bytes each).
const SUBJECTS_KEPT: usize = 100_000;

/// A database location, with the backend decided by the URL scheme (never by trial and error).
#[derive(Clone, PartialEq, Eq)]
pub enum DatabaseUrl {
    /// An SQLite file, created with its parent folder when missing.
    Sqlite(PathBuf),
    /// A PostgreSQL connection URL.
    Postgres(String),
}

impl DatabaseUrl {
    /// Parses `sqlite://PATH`, `sqlite:PATH`, `postgres://…` or `postgresql://…`.
    pub fn parse(raw: &str) -> Result<Self, ConnectError> {
        let raw = raw.trim();
        if raw.starts_with("postgres://") || raw.starts_with("postgresql://") {
            return Ok(DatabaseUrl::Postgres(raw.to_string()));
        }
        if let Some(rest) = raw.strip_prefix("sqlite:") {
            let path = rest.strip_prefix("//").unwrap_or(rest);
            if path.is_empty() || path == ":memory:" {
                return Err(ConnectError::InvalidUrl(
                    "an SQLite URL needs a file path, e.g. sqlite://./data/crm.db".into(),
                ));
            }
            return Ok(DatabaseUrl::Sqlite(PathBuf::from(path)));
        }
        let scheme = raw.split_once("://").map(|(s, _)| s).unwrap_or(raw);
        Err(ConnectError::InvalidUrl(format!(
            "unsupported database URL scheme '{}': use sqlite://PATH or postgres://USER@HOST/DB",
            redact(scheme)
        )))
    }

    /// An SQLite database at `path`.
    pub fn sqlite(path: impl AsRef<Path>) -> Self {
        DatabaseUrl::Sqlite(path.as_ref().to_path_buf())
    }

    /// The backend this URL selects.
    pub fn backend(&self) -> Backend {
        match self {
            DatabaseUrl::Sqlite(_) => Backend::Sqlite,
            DatabaseUrl::Postgres(_) => Backend::Postgres,
        }
    }
}

/// Shows the URL without its password.
impl fmt::Display for DatabaseUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            DatabaseUrl::Sqlite(path) => write!(f, "sqlite://{}", path.display()),
            DatabaseUrl::Postgres(url) => f.write_str(&redact(url)),
        }
    }
}

impl fmt::Debug for DatabaseUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self, f)
    }
}

/// Replaces the password of a URL with `***`; text that is not a URL is returned unchanged.
fn redact(raw: &str) -> String {
    match url::Url::parse(raw) {
        Ok(mut url) if url.password().is_some() => {
            // Setting a password only fails on URLs that cannot carry one, which we checked.
            let _ = url.set_password(Some("***"));
            url.to_string()
        }
        _ => raw.to_string(),
    }
}

/// Why the database could not be opened or migrated.
#[derive(Debug, thiserror::Error)]
pub enum ConnectError {
    /// The URL names no supported backend.
    #[error("{0}")]
    InvalidUrl(String),
    /// The database did not accept a connection.
    #[error("cannot connect to the database at {url}: {cause}")]
    Unreachable {
        /// The URL, without its password.
        url: String,
        /// What the driver said.
        cause: String,
    },
    /// Applying the schema migrations failed.
    #[error("cannot migrate the database at {url}: {cause}")]
    Migration {
        /// The URL, without its password.
        url: String,
        /// What went wrong.
        cause: String,
    },
}

/// Driver messages (libpq's especially) span several lines; an operator's error is one line.
fn one_line(text: &str) -> String {
    text.lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .collect::<Vec<_>>()
        .join(" ")
}

/// Pool settings.
#[derive(Debug, Clone)]
pub struct DatabaseOptions {
    /// The most connections the pool opens.
    pub pool_size: u32,
    /// How long a request waits for a free connection (and start-up for the first one).
    pub connect_timeout: Duration,
    /// Rows an import commits per transaction; `None` for the backend's own choice
    /// (`ImportStore::rows_per_batch`).
    pub import_rows_per_batch: Option<usize>,
    /// How long an SQLite write waits for the write lock while another process (a second
    /// server, a migration, a backup tool) holds it. This server's own writers never wait on
    /// it: they queue in order in the server (`Database::write`).
    pub sqlite_busy_timeout: Duration,
    /// Statements and transactions that take at least this long are logged as warnings
    /// (`slow_statements`); `None` logs none.
    pub slow_statement: Option<Duration>,
}

impl Default for DatabaseOptions {
    fn default() -> Self {
        Self {
            pool_size: 8,
            connect_timeout: Duration::from_secs(5),
            import_rows_per_batch: None,
            sqlite_busy_timeout: Duration::from_secs(5),
            slow_statement: None,
        }
    }
}

/// Opens connections for the pool, with each backend's per-connection settings.
#[derive(Debug)]
pub(crate) struct ConnectionManager {
    url: DatabaseUrl,
    sqlite_busy_timeout: Duration,
    slow_statement: Option<Duration>,
}

impl ManageConnection for ConnectionManager {
    type Connection = DbConnection;
    type Error = r2d2::Error;

    fn connect(&self) -> Result<DbConnection, r2d2::Error> {
        let mut conn = match &self.url {
            DatabaseUrl::Postgres(url) => {
                let mut conn =
                    PgConnection::establish(url).map_err(r2d2::Error::ConnectionError)?;
                // No parallel plans: starting a query's workers takes longer than the whole
                // serial plan of a page (12–15 ms against under 1 ms for a rep's page filtered by
                // a custom field at 1M customers), and the server's connections already keep
                // the cores busy. An index probe is priced as what it is on SSDs with the hot
                // pages cached, not as a seek of a spinning disk (the default, 4): at the
                // default, a manager's page filtered by a custom field range and sorted by
                // another field cost about as much as reading every customer, and the planner
                // chose either plan from one ANALYZE sample to the next. See
                // docs/architecture.md.
                conn.batch_execute(
                    "SET max_parallel_workers_per_gather = 0; SET random_page_cost = 1.1",
                )
                .map_err(r2d2::Error::QueryError)?;
                DbConnection::Pg(conn)
            }
            DatabaseUrl::Sqlite(path) => {
                let path = path.to_string_lossy();
                let mut conn =
                    SqliteConnection::establish(&path).map_err(r2d2::Error::ConnectionError)?;
                conn.batch_execute(&format!(
                    "PRAGMA busy_timeout = {};
                     PRAGMA journal_mode = WAL;
                     PRAGMA synchronous = NORMAL;
                     PRAGMA foreign_keys = ON;
                     PRAGMA wal_autocheckpoint = {};",
                    self.sqlite_busy_timeout.as_millis(),
                    checkpoints::BACKSTOP_PAGES
                ))
                .map_err(r2d2::Error::QueryError)?;
                DbConnection::Sqlite(conn)
            }
        };
        if let Some(threshold) = self.slow_statement {
            conn.set_instrumentation(SlowStatements::new(threshold));
        }
        Ok(conn)
    }

    fn is_valid(&self, conn: &mut DbConnection) -> Result<(), r2d2::Error> {
        conn.batch_execute("SELECT 1")
            .map_err(r2d2::Error::QueryError)
    }

    fn has_broken(&self, conn: &mut DbConnection) -> bool {
        r2d2::R2D2Connection::is_broken(conn)
    }
}

/// The connection pool over the installation's database; the store traits are implemented on it.
pub struct Database {
    pool: Pool<ConnectionManager>,
    url: DatabaseUrl,
    pub(crate) live_fields: Arc<LiveFieldCache>,
    /// The authentication facts of users who sent a token lately (`users::auth_subject`).
    pub(crate) subjects: Remembered<String, AuthSubject>,
    /// What customer overviews show of the settings (`reference`).
    pub(crate) reference: ReferenceCache,
    /// `DatabaseOptions::import_rows_per_batch`.
    pub(crate) import_rows_per_batch: Option<usize>,
    /// On SQLite, the queue of this server's writers (`Database::write`).
    write_queue: Option<Mutex<()>>,
    /// On SQLite, the thread that checkpoints the write-ahead log after writes.
    checkpoints: Option<Checkpointer>,
}

impl fmt::Debug for Database {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Database").field("url", &self.url).finish()
    }
}

impl Database {
    /// Opens the pool. Fails at once, with the driver's reason, when the database does not accept
    /// a first connection.
    pub fn connect(url: &DatabaseUrl, options: &DatabaseOptions) -> Result<Self, ConnectError> {
        if let DatabaseUrl::Sqlite(path) = url {
            if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
                std::fs::create_dir_all(parent).map_err(|e| ConnectError::Unreachable {
                    url: url.to_string(),
                    cause: format!("cannot create folder {}: {e}", parent.display()),
                })?;
            }
        }
        let manager = ConnectionManager {
            url: url.clone(),
            sqlite_busy_timeout: options.sqlite_busy_timeout,
            slow_statement: options.slow_statement,
        };
        let unreachable = |cause: String| ConnectError::Unreachable {
            url: url.to_string(),
            cause: one_line(&cause),
        };
        // One direct connection first: its error names the real cause, where the pool would only
        // report a time-out.
        let first = manager.connect().map_err(|e| unreachable(e.to_string()))?;
        drop(first);
        let pool = Pool::builder()
            .max_size(options.pool_size.max(1))
            .min_idle(Some(1))
            .connection_timeout(options.connect_timeout)
            .test_on_check_out(false)
            .build(manager)
            .map_err(|e| unreachable(e.to_string()))?;
        Ok(Self {
            pool,
            url: url.clone(),
            live_fields: live_fields::cache(),
            subjects: Remembered::new(SUBJECTS_FRESH_FOR, SUBJECTS_KEPT),
            reference: reference::cache(),
            import_rows_per_batch: options.import_rows_per_batch.map(|rows| rows.max(1)),
            write_queue: match url {
                DatabaseUrl::Sqlite(_) => Some(Mutex::new(())),
                DatabaseUrl::Postgres(_) => None,
            },
            checkpoints: match url {
                DatabaseUrl::Sqlite(path) => Checkpointer::start(path, options.sqlite_busy_timeout),
                DatabaseUrl::Postgres(_) => None,
            },
        })
    }

    /// Applies pending migrations; returns the names of those applied.
    pub fn migrate(&self) -> Result<Vec<String>, ConnectError> {
        let failed = |cause: String| ConnectError::Migration {
            url: self.url.to_string(),
            cause: one_line(&cause),
        };
        let mut conn = self.pool.get().map_err(|e| failed(e.to_string()))?;
        migrations::run_pending(&mut conn).map_err(failed)
    }

    /// The backend in use.
    pub fn backend(&self) -> Backend {
        self.url.backend()
    }

    /// The database URL, without its password when displayed.
    pub fn url(&self) -> &DatabaseUrl {
        &self.url
    }

    pub(crate) fn pool_state(&self) -> r2d2::State {
        self.pool.state()
    }

    pub(crate) fn max_size(&self) -> u32 {
        self.pool.max_size()
    }

    /// A pooled connection; `Unavailable` when none frees up in time or the database is down.
    pub(crate) fn conn(&self) -> Result<PooledConnection<ConnectionManager>, DomainError> {
        self.pool.get().map_err(|e| {
            tracing::warn!(error = %e, "no database connection available");
            DomainError::Unavailable
        })
    }

    /// Runs `f`, which only reads. On SQLite in a read transaction: its statements see one
    /// snapshot. On PostgreSQL each statement takes its own snapshot at the `READ COMMITTED`
    /// level whether in a transaction or not, so a transaction would add its `BEGIN` and
    /// `COMMIT` round trips (two of a GET's five) and nothing else.
    pub(crate) fn read<T>(
        &self,
        f: impl FnOnce(&mut DbConnection) -> Result<T, TxError>,
    ) -> Result<T, DomainError> {
        self.read_each(|conn| match conn {
            DbConnection::Pg(_) => f(conn),
            DbConnection::Sqlite(_) => conn.transaction(f),
        })
    }

    /// Runs `f`, which only reads, with every statement its own snapshot on both backends: for
    /// a read whose statements need not agree with one another, such as one row found by its
    /// key (with the live custom fields, which are remembered anyway). On SQLite this saves the
    /// `BEGIN` and `COMMIT` of [`read`](Self::read), about 5% of a customer GET's CPU.
    pub(crate) fn read_each<T>(
        &self,
        f: impl FnOnce(&mut DbConnection) -> Result<T, TxError>,
    ) -> Result<T, DomainError> {
        let mut pooled = self.conn()?;
        let conn: &mut DbConnection = &mut pooled;
        live_fields::within(&self.live_fields, || f(conn)).map_err(TxError::into_domain)
    }

    /// Runs `f` in a write transaction (`BEGIN IMMEDIATE` on SQLite).
    ///
    /// SQLite has one writer at a time. Writers waiting in its busy handler sleep 1, 2, 5, 10,
    /// 15, 20, 25… ms between attempts, so under load one write in a hundred waited 20 ms or
    /// more for a lock held about one. This server's writers instead queue on a fair lock taken
    /// before a connection (a queued writer holds none) and handed over in arrival order the
    /// moment the previous write commits; only another process's writes meet the busy handler.
    pub(crate) fn write<T>(
        &self,
        f: impl FnOnce(&mut DbConnection) -> Result<T, TxError>,
    ) -> Result<T, DomainError> {
        let turn = self.write_queue.as_ref().map(Mutex::lock);
        let result = {
            let mut pooled = self.conn()?;
            let conn: &mut DbConnection = &mut pooled;
            live_fields::within(&self.live_fields, || conn.write_transaction(f))
                .map_err(TxError::into_domain)
        };
        if let Some(turn) = turn {
            MutexGuard::unlock_fair(turn);
        }
        if let Some(checkpoints) = &self.checkpoints {
            checkpoints.nudge();
        }
        result
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scheme_selects_the_backend() {
        assert_eq!(
            DatabaseUrl::parse("sqlite://./data/crm.db").ok(),
            Some(DatabaseUrl::Sqlite(PathBuf::from("./data/crm.db")))
        );
        assert_eq!(
            DatabaseUrl::parse("sqlite:crm.db").ok(),
            Some(DatabaseUrl::Sqlite(PathBuf::from("crm.db")))
        );
        assert_eq!(
            DatabaseUrl::parse("sqlite:///var/lib/crm/crm.db").ok(),
            Some(DatabaseUrl::Sqlite(PathBuf::from("/var/lib/crm/crm.db")))
        );
        assert_eq!(
            DatabaseUrl::parse("postgresql://crm@db/crm").ok(),
            Some(DatabaseUrl::Postgres("postgresql://crm@db/crm".into()))
        );
    }

    #[test]
    fn unknown_scheme_is_refused_without_leaking_the_password() {
        let err = DatabaseUrl::parse("mysql://root:hunter2@db/crm")
            .err()
            .map(|e| e.to_string());
        assert_eq!(
            err.as_deref(),
            Some("unsupported database URL scheme 'mysql': use sqlite://PATH or postgres://USER@HOST/DB")
        );
        assert!(DatabaseUrl::parse("sqlite::memory:").is_err());
        assert!(DatabaseUrl::parse("./crm.db").is_err());
    }

    #[test]
    fn display_hides_the_password() {
        let url = DatabaseUrl::parse("postgres://crm:s3cret@db:5432/crm").ok();
        assert_eq!(
            url.map(|u| u.to_string()).as_deref(),
            Some("postgres://crm:***@db:5432/crm")
        );
    }

    #[test]
    fn unreachable_postgres_is_one_clear_error() {
        let url =
            DatabaseUrl::Postgres("postgres://crm:pw@127.0.0.1:1/crm?connect_timeout=2".into());
        let err = Database::connect(&url, &DatabaseOptions::default())
            .err()
            .map(|e| e.to_string())
            .unwrap_or_default();
        assert!(
            err.starts_with("cannot connect to the database at postgres://crm:***@127.0.0.1:1/crm"),
            "{err}"
        );
        assert!(!err.contains("pw@"), "{err}");
    }
}
