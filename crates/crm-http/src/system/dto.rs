//! Response bodies of the system endpoints.

use serde::Serialize;
use utoipa::ToSchema;

/// The process is alive.
#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({"status": "ok"}))]
pub(crate) struct Health {
    /// Always `ok`.
    #[schema(example = "ok")]
    pub status: &'static str,
}

/// The service can serve requests: its database answers.
#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({"status": "ready", "database_backend": "sqlite"}))]
pub(crate) struct Readiness {
    /// Always `ready`.
    pub status: &'static str,
    /// The database engine in use.
    pub database_backend: DatabaseBackend,
}

/// A database engine.
#[derive(Debug, Clone, Copy, Serialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub(crate) enum DatabaseBackend {
    /// Embedded SQLite.
    Sqlite,
    /// PostgreSQL.
    Postgres,
}

impl From<crm_domain::Backend> for DatabaseBackend {
    fn from(b: crm_domain::Backend) -> Self {
        match b {
            crm_domain::Backend::Sqlite => DatabaseBackend::Sqlite,
            crm_domain::Backend::Postgres => DatabaseBackend::Postgres,
        }
    }
}

/// Facts about this installation and build.
#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({
    "api_version": "v1",
    "server_version": "0.1.0",
    "build_profile": "release",
    "database_backend": "postgres",
    "schema_version": "20261127000001",
    "instance_id": "6f1c2a9e-3b4d-4e8f-9a0b-1c2d3e4f5a6b"
}))]
pub(crate) struct Meta {
    /// The API version in the base path.
    pub api_version: &'static str,
    /// The server's version.
    pub server_version: &'static str,
    /// How the server was built: `release` or `debug`.
    pub build_profile: &'static str,
    /// The database engine in use.
    pub database_backend: DatabaseBackend,
    /// The newest database migration applied.
    pub schema_version: String,
    /// Identifier of this installation, fixed when its database was created.
    pub instance_id: String,
}
