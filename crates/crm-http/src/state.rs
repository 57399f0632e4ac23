//! What every handler can reach: the stores, the settings, the metrics and the API's own spec.

use std::sync::Arc;

use crm_domain::clock::{Clock, SystemClock};
use crm_domain::ports::{
    ActivityStore, ApiKeyStore, CalendarFeedStore, ContactStore, CustomFieldStore, CustomerStore,
    IdempotencyStore, LeadSourceStore, OpportunityStore, PipelineStore, ProductStore, ScoringStore,
    SessionStore, TeamStore, UserStore,
};
use crm_domain::SystemStore;

use crate::auth::throttle::LoginThrottle;
use crate::auth::tokens::TokenKeys;

use crate::fallback::RouteTable;
use crate::metrics::Metrics;
use crate::HttpConfig;

/// The store ports the API uses, each behind a trait object built by the server.
#[derive(Clone)]
pub struct Stores {
    /// Installation facts, health and pool state.
    pub system: Arc<dyn SystemStore>,
    /// Users.
    pub users: Arc<dyn UserStore>,
    /// Refresh-token sessions.
    pub sessions: Arc<dyn SessionStore>,
    /// API keys.
    pub api_keys: Arc<dyn ApiKeyStore>,
    /// Teams and visibility.
    pub teams: Arc<dyn TeamStore>,
    /// Customers.
    pub customers: Arc<dyn CustomerStore>,
    /// Contacts.
    pub contacts: Arc<dyn ContactStore>,
    /// Lead sources.
    pub lead_sources: Arc<dyn LeadSourceStore>,
    /// Custom field definitions.
    pub custom_fields: Arc<dyn CustomFieldStore>,
    /// Activities and their follow-ups.
    pub activities: Arc<dyn ActivityStore>,
    /// Private calendar feeds of follow-ups.
    pub calendar_feeds: Arc<dyn CalendarFeedStore>,
    /// The behaviour catalogue and customers' scores.
    pub scoring: Arc<dyn ScoringStore>,
    /// The product catalogue.
    pub products: Arc<dyn ProductStore>,
    /// Sales pipelines and their stages.
    pub pipelines: Arc<dyn PipelineStore>,
    /// Opportunities and their stage history.
    pub opportunities: Arc<dyn OpportunityStore>,
    /// Lead import jobs.
    pub imports: Arc<dyn crm_domain::ports::ImportStore>,
    /// Stored answers to creating requests.
    pub idempotency: Arc<dyn IdempotencyStore>,
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
    pub(crate) tokens: Arc<TokenKeys>,
    pub(crate) refresh_ttl: chrono::Duration,
    pub(crate) throttle: Arc<LoginThrottle>,
    pub(crate) clock: Arc<dyn Clock>,
    /// Import jobs run one at a time: the running one holds this.
    pub(crate) imports_turn: Arc<tokio::sync::Mutex<()>>,
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
        let tokens = Arc::new(TokenKeys::new(
            &config.signing_secret,
            config.access_token_ttl,
        ));
        let refresh_ttl = chrono::Duration::from_std(config.refresh_token_ttl)
            .unwrap_or(chrono::Duration::days(30));
        Self {
            stores,
            tokens,
            refresh_ttl,
            throttle: Arc::new(LoginThrottle::default()),
            config: Arc::new(config),
            metrics: Metrics::new(),
            spec: Arc::new(Spec {
                json: crate::openapi::to_json(&document),
                routes,
            }),
            build,
            clock: Arc::new(SystemClock),
            imports_turn: Arc::new(tokio::sync::Mutex::new(())),
        }
    }

    /// The same state reading the time from `clock` (tests fix it).
    pub fn with_clock(mut self, clock: Arc<dyn Clock>) -> Self {
        self.clock = clock;
        self
    }
}
