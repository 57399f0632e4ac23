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

/// The backend of [`DbConnection`] statements are built for (either database).
pub(crate) type DbBackend = <DbConnection as diesel::Connection>::Backend;

/// The columns of `Row` (a `Selectable` row struct) as a plain tuple, for a `RETURNING` clause
/// (the `as_returning()` form does not render for either backend of a multi-connection).
macro_rules! returned {
    ($row:ty) => {
        <$row as diesel::Selectable<$crate::connection::DbBackend>>::construct_selection()
    };
}
pub(crate) use returned;

/// Evaluates `$body` with `$c` bound to the backend's own connection (`PgConnection` or
/// `SqliteConnection`): for statements diesel builds only for a concrete backend, such as a
/// `UNION ALL`, written once and built for each.
macro_rules! per_backend {
    ($conn:expr, |$c:ident| $body:expr) => {
        match $conn {
            $crate::DbConnection::Pg($c) => $body,
            $crate::DbConnection::Sqlite($c) => $body,
        }
    };
}
pub(crate) use per_backend;

/// Rows per multi-row statement, far below both backends' bound-parameter limits.
pub(crate) const ROWS_PER_STATEMENT: usize = 500;

/// Writes `$rows` (a slice of flat `Insertable` rows of `$table`, every column given) in as
/// few statements as the backend allows: one binary `COPY … FROM STDIN` on PostgreSQL,
/// multi-row INSERTs of `ROWS_PER_STATEMENT` rows on SQLite. Evaluates to
/// `Result<(), diesel::result::Error>`; a unique or foreign key violation fails the whole
/// write.
macro_rules! insert_all {
    ($conn:expr, $table:expr, $rows:expr) => {{
        let rows = $rows;
        if rows.is_empty() {
            Ok(())
        } else {
            match $conn {
                $crate::DbConnection::Pg(c) => diesel::ExecuteCopyFromDsl::execute(
                    diesel::copy_from($table).from_insertable(rows),
                    c,
                )
                .map(|_| ()),
                $crate::DbConnection::Sqlite(c) => rows
                    .chunks($crate::connection::ROWS_PER_STATEMENT)
                    .try_for_each(|chunk| {
                        diesel::insert_into($table)
                            .values(chunk)
                            .execute(c)
                            .map(|_| ())
                    }),
            }
        }
    }};
}
pub(crate) use insert_all;

/// Writes `$rows` (a slice of at most `ROWS_PER_STATEMENT` flat `Insertable` rows of
/// `$table`) in one multi-row INSERT on either backend (none when empty): for a handful of rows, where a COPY
/// would cost a round trip more than it saves. Evaluates to `Result<(), diesel::result::Error>`.
macro_rules! insert_few {
    ($conn:expr, $table:expr, $rows:expr) => {{
        let rows = $rows;
        if rows.is_empty() {
            Ok(())
        } else {
            $crate::connection::per_backend!($conn, |c| diesel::insert_into($table)
                .values(rows)
                .execute(c)
                .map(|_| ()))
        }
    }};
}
pub(crate) use insert_few;
