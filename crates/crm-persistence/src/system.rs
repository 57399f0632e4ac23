//! `SystemStore` on the database: liveness of the connection, installation facts, pool state.

use crm_domain::{Backend, DomainError, PoolStatus, SystemInfo, SystemStore};
use diesel::connection::SimpleConnection;
use diesel::prelude::*;

use crate::errors::TxError;
use crate::schema::installation;
use crate::{migrations, Database};

impl SystemStore for Database {
    fn backend(&self) -> Backend {
        Database::backend(self)
    }

    fn ping(&self) -> Result<(), DomainError> {
        let mut conn = self.conn()?;
        conn.batch_execute("SELECT 1").map_err(|e| {
            tracing::warn!(error = %e, "database ping failed");
            DomainError::Unavailable
        })
    }

    fn system_info(&self) -> Result<SystemInfo, DomainError> {
        let backend = Database::backend(self);
        self.read(|conn| {
            let instance_id = installation::table
                .select(installation::instance_id)
                .get_result::<String>(conn)?;
            let schema_version = migrations::latest_applied(conn)
                .map_err(DomainError::Internal)?
                .unwrap_or_default();
            Ok::<_, TxError>(SystemInfo {
                backend,
                instance_id,
                schema_version,
            })
        })
    }

    fn pool_status(&self) -> PoolStatus {
        let state = self.pool_state();
        PoolStatus {
            connections: state.connections,
            idle_connections: state.idle_connections,
            max_size: self.max_size(),
        }
    }
}
