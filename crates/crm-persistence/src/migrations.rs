//! Schema migrations, embedded in the binary: one folder per backend with the same names.

use diesel::migration::MigrationSource;
use diesel::pg::Pg;
use diesel::sqlite::Sqlite;
use diesel_migrations::{embed_migrations, EmbeddedMigrations, MigrationHarness};

use crate::DbConnection;

const SQLITE: EmbeddedMigrations = embed_migrations!("../../migrations/sqlite");
const POSTGRES: EmbeddedMigrations = embed_migrations!("../../migrations/postgres");

/// The names of the embedded migrations for each backend, in order: `(sqlite, postgres)`.
pub fn migration_names() -> (Vec<String>, Vec<String>) {
    fn names<DB: diesel::backend::Backend>(source: &impl MigrationSource<DB>) -> Vec<String> {
        let mut names: Vec<String> = source
            .migrations()
            .map(|ms| ms.iter().map(|m| m.name().to_string()).collect())
            .unwrap_or_default();
        names.sort();
        names
    }
    (names::<Sqlite>(&SQLITE), names::<Pg>(&POSTGRES))
}

/// Applies every pending migration; returns the names of those applied.
pub(crate) fn run_pending(conn: &mut DbConnection) -> Result<Vec<String>, String> {
    let applied = match conn {
        DbConnection::Sqlite(c) => c.run_pending_migrations(SQLITE).map(versions),
        DbConnection::Pg(c) => c.run_pending_migrations(POSTGRES).map(versions),
    };
    applied.map_err(|e| e.to_string())
}

/// The newest applied migration's version.
pub(crate) fn latest_applied(conn: &mut DbConnection) -> Result<Option<String>, String> {
    let applied = match conn {
        DbConnection::Sqlite(c) => c.applied_migrations(),
        DbConnection::Pg(c) => c.applied_migrations(),
    }
    .map_err(|e| e.to_string())?;
    Ok(applied.into_iter().map(|v| v.to_string()).max())
}

fn versions(vs: Vec<diesel::migration::MigrationVersion<'_>>) -> Vec<String> {
    vs.into_iter().map(|v| v.to_string()).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn both_backends_have_the_same_migrations() {
        let (sqlite, postgres) = migration_names();
        assert!(!sqlite.is_empty(), "no migrations embedded");
        assert_eq!(sqlite, postgres);
    }
}
