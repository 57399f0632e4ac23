//! The connection type over both backends and the transaction helpers every store method uses.

use diesel::connection::{AnsiTransactionManager, TransactionManager};
use diesel::pg::PgConnection;
use diesel::sqlite::SqliteConnection;
use diesel::Connection;

/// A connection to whichever database the installation uses.
#[derive(diesel::MultiConnection)]
pub enum DbConnection {
    /// PostgreSQL.
    Pg(PgConnection),
    /// SQLite.
    Sqlite(SqliteConnection),
}

impl DbConnection {
    /// Runs `f` in a transaction that may write. On SQLite it starts with `BEGIN IMMEDIATE`, so
    /// the write lock is taken up front and concurrent writers wait (up to `busy_timeout`)
    /// instead of failing when a read lock cannot be upgraded.
    pub fn write_transaction<T, E, F>(&mut self, f: F) -> Result<T, E>
    where
        F: FnOnce(&mut Self) -> Result<T, E>,
        E: From<diesel::result::Error>,
    {
        match self {
            DbConnection::Pg(_) => self.transaction(f),
            DbConnection::Sqlite(inner) => {
                AnsiTransactionManager::begin_transaction_sql(inner, "BEGIN IMMEDIATE")?;
                match f(self) {
                    Ok(value) => {
                        <Self as Connection>::TransactionManager::commit_transaction(self)?;
                        Ok(value)
                    }
                    Err(err) => {
                        <Self as Connection>::TransactionManager::rollback_transaction(self)?;
                        Err(err)
                    }
                }
            }
        }
    }
}

/// Runs `$body` with `$c` bound to the backend's own connection, for statements the shared
/// connection type does not offer (multi-row inserts).
macro_rules! on_backend {
    ($conn:expr, |$c:ident| $body:expr) => {
        match $conn {
            $crate::DbConnection::Pg($c) => $body,
            $crate::DbConnection::Sqlite($c) => $body,
        }
    };
}
pub(crate) use on_backend;
