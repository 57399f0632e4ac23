//! Store calls block (diesel is synchronous); they run on actix's blocking thread pool so that
//! no async worker waits on the database. The one exception is a short read on SQLite (see
//! [`short_read`]).

use actix_web::web;
use crm_domain::{Backend, DomainError, PoolStatus};

use crate::{ApiError, ApiState};

/// Runs a blocking store call on the blocking thread pool.
pub(crate) async fn blocking<T: Send + 'static>(
    f: impl FnOnce() -> Result<T, DomainError> + Send + 'static,
) -> Result<T, ApiError> {
    match web::block(f).await {
        Ok(result) => result.map_err(ApiError::from),
        Err(e) => {
            tracing::error!(error = %e, "blocking task failed");
            Err(ApiError::internal())
        }
    }
}

/// Runs a short read (one record found by its key, or a customer's overview: a few indexed
/// statements) in place on SQLite while a pooled connection is idle, and on the blocking pool
/// otherwise.
///
/// On SQLite such a read is some ten microseconds of CPU over the operating system's page
/// cache, less than handing it to a blocking thread and waking the worker again costs (two
/// context switches); in place, a GET of a customer serves about a fifth more requests per
/// second. PostgreSQL reads wait on the network, and with no idle connection the read would
/// wait for one: both go to the blocking pool as every other store call does.
pub(crate) async fn short_read<T: Send + 'static>(
    state: &ApiState,
    f: impl FnOnce() -> Result<T, DomainError> + Send + 'static,
) -> Result<T, ApiError> {
    let system = &state.stores.system;
    if reads_in_place(system.backend(), system.pool_status()) {
        return f().map_err(ApiError::from);
    }
    blocking(f).await
}

/// Whether a short read runs on the request's own thread.
fn reads_in_place(backend: Backend, pool: PoolStatus) -> bool {
    backend == Backend::Sqlite && pool.idle_connections > 0
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pool(idle_connections: u32) -> PoolStatus {
        PoolStatus {
            connections: 4,
            idle_connections,
            max_size: 8,
        }
    }

    #[test]
    fn only_sqlite_reads_with_an_idle_connection_run_in_place() {
        assert!(reads_in_place(Backend::Sqlite, pool(1)));
        assert!(!reads_in_place(Backend::Sqlite, pool(0)));
        assert!(!reads_in_place(Backend::Postgres, pool(1)));
        assert!(!reads_in_place(Backend::Postgres, pool(0)));
    }
}
