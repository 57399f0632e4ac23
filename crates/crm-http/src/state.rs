//! What every handler can reach: the stores, the settings, the metrics and the API's own spec.

use std::sync::Arc;

use crm_domain::SystemStore;

use crate::fallback::RouteTable;
use crate::metrics::Metrics;
use crate::HttpConfig;

/// The store ports the API uses, each behind a trait object built by the server.
#[derive(Clone)]
pub struct Stores {
    /// Installation facts, health and pool state.
    pub system: Arc<dyn SystemStore>,
}

/// Facts about this build, reported by `GET /api/v1/meta`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BuildInfo {
    /// The server's version.
    pub version: &'static str,
    /// `release` or `debug`.
    pub profile: &'static str,
}

impl BuildInfo {
    /// The build of the crate calling this (pass the server's own package version).
    pub fn new(version: &'static str) -> Self {
        Self {
            version,
            profile: if cfg!(debug_assertions) {
                "debug"
            } else {
                "release"
            },
        }
    }
}

/// Shared state of the API, cloned cheaply into every worker.
#[derive(Clone)]
pub struct ApiState {
    pub(crate) stores: Stores,
    pub(crate) config: Arc<HttpConfig>,
    pub(crate) metrics: Metrics,
    pub(crate) spec: Arc<Spec>,
    pub(crate) build: BuildInfo,
}

/// The OpenAPI document, serialised once, and the route table derived from it.
pub(crate) struct Spec {
    pub(crate) json: String,
    pub(crate) routes: RouteTable,
}

impl ApiState {
    /// State for an API over `stores`.
    pub fn new(stores: Stores, config: HttpConfig, build: BuildInfo) -> Self {
        let document = crate::openapi::document();
        let routes = RouteTable::from_openapi(&document);
        Self {
            stores,
            config: Arc::new(config),
            metrics: Metrics::new(),
            spec: Arc::new(Spec {
                json: crate::openapi::to_json(&document),
                routes,
            }),
            build,
        }
    }
}
