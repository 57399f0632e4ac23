//! Store calls block (diesel is synchronous); they run on actix's blocking thread pool so that
//! no async worker ever waits on the database.

use actix_web::web;

use crate::ApiError;

/// Runs a blocking store call on the blocking thread pool.
pub(crate) async fn blocking<T: Send + 'static>(
    f: impl FnOnce() -> Result<T, crm_domain::DomainError> + Send + 'static,
) -> Result<T, ApiError> {
    match web::block(f).await {
        Ok(result) => result.map_err(ApiError::from),
        Err(e) => {
            tracing::error!(error = %e, "blocking task failed");
            Err(ApiError::internal())
        }
    }
}
