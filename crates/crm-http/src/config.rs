//! Settings of the HTTP layer, filled in by the server's configuration.

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
}

impl Default for HttpConfig {
    fn default() -> Self {
        Self {
            json_limit: 1024 * 1024,
            upload_limit: 100 * 1024 * 1024,
            cors_origins: Vec::new(),
            signing_secret: Vec::new(),
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
            .finish_non_exhaustive()
    }
}
