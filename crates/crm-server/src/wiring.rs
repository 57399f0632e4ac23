//! Builds the concrete stores and hands them to the HTTP layer as trait objects.

use std::sync::Arc;

use crm_http::Stores;
use crm_persistence::Database;

/// The API's stores, all backed by `database`.
pub fn stores(database: Arc<Database>) -> Stores {
    Stores {
        system: database.clone(),
        users: database.clone(),
        sessions: database.clone(),
        api_keys: database.clone(),
        teams: database.clone(),
        customers: database.clone(),
        contacts: database.clone(),
        lead_sources: database.clone(),
        custom_fields: database.clone(),
        activities: database.clone(),
        calendar_feeds: database.clone(),
        scoring: database.clone(),
        products: database.clone(),
        pipelines: database.clone(),
        opportunities: database.clone(),
        imports: database.clone(),
        idempotency: database,
    }
}
