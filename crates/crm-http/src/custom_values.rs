//! Checking the `custom_fields` member of a record body against the entity's definitions, so
//! its problems are listed together with those of the record's own fields.

use std::collections::{BTreeMap, HashSet};

use crm_domain::custom_fields::{check_values, FieldEntity, FieldType};
use crm_domain::{DomainError, FieldError};
use serde_json::{Map, Value};

use crate::blocking::blocking;
use crate::{ApiError, ApiState};

/// The record's custom field values after `given` (a create when `current` is `None`, else a
/// merge patch), or every problem with them. User references are looked up.
pub(crate) async fn check_custom_fields(
    state: &ApiState,
    entity: FieldEntity,
    given: Option<Map<String, Value>>,
    current: Option<BTreeMap<String, Value>>,
) -> Result<Result<BTreeMap<String, Value>, Vec<FieldError>>, ApiError> {
    let definitions = {
        let store = state.stores.custom_fields.clone();
        blocking(move || store.field_definitions(entity, false)).await?
    };
    let user_ids: Vec<String> = given
        .iter()
        .flat_map(|g| g.iter())
        .filter(|(key, _)| {
            definitions
                .iter()
                .any(|d| &d.key == *key && d.field_type == FieldType::User)
        })
        .filter_map(|(_, value)| value.as_str().map(str::to_string))
        .collect();
    let active: HashSet<String> = {
        let store = state.stores.users.clone();
        blocking(move || {
            let mut active = HashSet::new();
            for id in user_ids {
                match store.user(&id) {
                    Ok(user) if user.active => {
                        active.insert(id);
                    }
                    Ok(_) | Err(DomainError::NotFound { .. }) => {}
                    Err(e) => return Err(e),
                }
            }
            Ok(active)
        })
        .await?
    };
    let region = state.config.default_phone_region;
    Ok(check_values(
        &definitions,
        given.as_ref(),
        current.as_ref(),
        region,
        &|id| active.contains(id),
    )
    .map(|checked| checked.values))
}

/// [`check_custom_fields`] for a merge patch of a stored record: `given` is the body's
/// `custom_fields` member (absent, `null` to remove every value, or the values to change).
pub(crate) async fn check_custom_patch(
    state: &ApiState,
    entity: FieldEntity,
    given: Option<Option<Map<String, Value>>>,
    current: &BTreeMap<String, Value>,
) -> Result<Result<BTreeMap<String, Value>, Vec<FieldError>>, ApiError> {
    let given = given.map(|given| {
        given.unwrap_or_else(|| current.keys().map(|k| (k.clone(), Value::Null)).collect())
    });
    check_custom_fields(state, entity, given, Some(current.clone())).await
}

/// The record's validated fields and its custom values, or one validation error listing the
/// problems of both.
pub(crate) fn together<T>(
    fields: Result<T, DomainError>,
    custom: Result<BTreeMap<String, Value>, Vec<FieldError>>,
) -> Result<(T, BTreeMap<String, Value>), DomainError> {
    match (fields, custom) {
        (Ok(fields), Ok(custom)) => Ok((fields, custom)),
        (Err(DomainError::Validation(mut errors)), Err(more)) => {
            errors.extend(more);
            Err(DomainError::Validation(errors))
        }
        (Err(e), _) => Err(e),
        (Ok(_), Err(errors)) => Err(DomainError::Validation(errors)),
    }
}
