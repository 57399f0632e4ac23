//! Facts about the running installation: which database backs it, whether the database answers,
//! and how the connection pool is doing.

use crate::DomainError;

/// The database engine behind the store.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Backend {
    /// Embedded SQLite (the default for a single server).
    Sqlite,
    /// PostgreSQL (production, several API processes over one dataset).
    Postgres,
}

impl Backend {
    /// The lower-case name used in URLs, logs and the API.
    pub fn as_str(self) -> &'static str {
        match self {
            Backend::Sqlite => "sqlite",
            Backend::Postgres => "postgres",
        }
    }
}

/// What the database says about this installation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SystemInfo {
    /// The engine in use.
    pub backend: Backend,
    /// Identifier of this installation, generated when its database was first migrated.
    pub instance_id: String,
    /// The newest schema migration applied to the database.
    pub schema_version: String,
}

/// A snapshot of the connection pool.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PoolStatus {
    /// Connections currently open (idle and in use).
    pub connections: u32,
    /// Open connections not in use.
    pub idle_connections: u32,
    /// The most connections the pool will open.
    pub max_size: u32,
}

/// The store port for installation-level facts, used by the health, readiness, metrics and meta
/// endpoints. Methods block; callers on an async executor run them on a blocking thread.
pub trait SystemStore: Send + Sync {
    /// The engine in use.
    fn backend(&self) -> Backend;

    /// Round-trips a trivial query; `Unavailable` when the database does not answer.
    fn ping(&self) -> Result<(), DomainError>;

    /// Installation facts read from the database.
    fn system_info(&self) -> Result<SystemInfo, DomainError>;

    /// The connection pool's current state (no database round trip).
    fn pool_status(&self) -> PoolStatus;
}
