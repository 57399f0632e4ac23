//! Settings of the HTTP layer, filled in by the server's configuration.

use std::time::Duration;

use crm_domain::contact_points::PhoneRegion;

/// HTTP settings.
#[derive(Clone)]
pub struct HttpConfig {
    /// Largest accepted JSON request body, in bytes (larger ones get 413).
    pub json_limit: usize,
    /// Largest accepted upload (imports), in bytes.
    pub upload_limit: usize,
    /// Origins allowed to call the API from a browser; empty means no cross-origin access.
    pub cors_origins: Vec<String>,
    /// Secret for signing access tokens (at least 32 bytes).
    pub signing_secret: Vec<u8>,
    /// How long an access token is valid.
    pub access_token_ttl: Duration,
    /// How long a refresh token is valid.
    pub refresh_token_ttl: Duration,
    /// The region assumed for phone numbers written without a country code.
    pub default_phone_region: PhoneRegion,
    /// Most customers one rep may own through claims from the pool.
    pub pool_claim_limit: i64,
}

impl Default for HttpConfig {
    fn default() -> Self {
        Self {
            json_limit: 1024 * 1024,
            upload_limit: 100 * 1024 * 1024,
            cors_origins: Vec::new(),
            signing_secret: Vec::new(),
            access_token_ttl: Duration::from_secs(15 * 60),
            refresh_token_ttl: Duration::from_secs(30 * 24 * 3600),
            default_phone_region: PhoneRegion::default(),
            pool_claim_limit: 500,
        }
    }
}

/// Never prints the signing secret.
impl std::fmt::Debug for HttpConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("HttpConfig")
            .field("json_limit", &self.json_limit)
            .field("upload_limit", &self.upload_limit)
            .field("cors_origins", &self.cors_origins)
            .field("access_token_ttl", &self.access_token_ttl)
            .field("refresh_token_ttl", &self.refresh_token_ttl)
            .finish_non_exhaustive()
    }
}
