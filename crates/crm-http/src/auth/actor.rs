//! The acting principal as the stores need it: an id for audit and the records it may see.

use crm_domain::identity::{Principal, Visibility};
use crm_domain::ports::Actor;

use crate::blocking::blocking;
use crate::{ApiError, ApiState};

/// The actor for `principal`: its visibility comes from its role, or a manager's from team
/// membership.
pub(crate) async fn actor(state: &ApiState, principal: &Principal) -> Result<Actor, ApiError> {
    let (id, user_id) = match principal {
        Principal::User { user_id, .. } => (user_id.clone(), Some(user_id.clone())),
        Principal::ApiKey { key_id, .. } => (key_id.clone(), None),
    };
    // Only a manager's visibility needs the database (their teams).
    let visibility = match Visibility::by_role(principal) {
        Some(visibility) => visibility,
        None => {
            let teams = state.stores.teams.clone();
            let principal = principal.clone();
            blocking(move || teams.visibility(&principal)).await?
        }
    };
    Ok(Actor {
        id,
        visibility,
        user_id,
    })
}
