//! Checking the `custom_fields` member of a record body against the entity's definitions, so
//! its problems are listed together with those of the record's own fields.

use std::collections::{BTreeMap, HashSet};

use crm_domain::custom_fields::{
    check_values, CustomFilter, CustomFilterOp, FieldDefinition, FieldEntity, FieldType,
};
use crm_domain::{DomainError, FieldError};
use serde_json::{Map, Value};

use crate::blocking::blocking;
use crate::pagination::invalid_query;
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
        blocking(move || store.live_definitions(&[entity])).await?
    };
    check_against(state, &definitions, given, current).await
}

/// [`check_custom_fields`] against the live definitions of the record's entity, already read.
pub(crate) async fn check_against(
    state: &ApiState,
    definitions: &[FieldDefinition],
    given: Option<Map<String, Value>>,
    current: Option<BTreeMap<String, Value>>,
) -> Result<Result<BTreeMap<String, Value>, Vec<FieldError>>, ApiError> {
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
    let active: HashSet<String> = if user_ids.is_empty() {
        HashSet::new()
    } else {
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
        definitions,
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

/// A list's query: the `cf.<key>[op]` parameters, which name custom fields, apart; the rest
/// read as `Q` (an unknown one is a 400).
pub(crate) fn custom_query<Q: serde::de::DeserializeOwned>(
    req: &actix_web::HttpRequest,
) -> Result<(Q, Vec<(String, String)>), ApiError> {
    let (custom, documented): (Vec<_>, Vec<_>) =
        url::form_urlencoded::parse(req.query_string().as_bytes())
            .into_owned()
            .partition(|(name, _)| name.starts_with("cf."));
    let documented = url::form_urlencoded::Serializer::new(String::new())
        .extend_pairs(documented)
        .finish();
    let query = actix_web::web::Query::<Q>::from_query(&documented)
        .map_err(crate::extract::query_error)?
        .into_inner();
    Ok((query, custom))
}

/// The custom field conditions of a list: `cf.<key>=v`, `cf.<key>[gte]=v`, `[lte]`, `[in]=a,b`,
/// `[contains]=option`, each resolved against the entity's live definitions; a parameter that
/// names no field, an unknown operator or an impossible value is a 400 naming the parameter.
pub(crate) async fn custom_filters(
    state: &ApiState,
    entity: FieldEntity,
    params: Vec<(String, String)>,
) -> Result<Vec<CustomFilter>, ApiError> {
    if params.is_empty() {
        return Ok(Vec::new());
    }
    let store = state.stores.custom_fields.clone();
    let definitions = blocking(move || store.field_definitions(entity, false)).await?;
    let region = state.config.default_phone_region;
    params
        .into_iter()
        .map(|(name, value)| {
            let spec = name.trim_start_matches("cf.");
            let (key, op) = match spec.split_once('[') {
                // `cf.key[op` without its `]` names no operator.
                Some((key, rest)) => (key, Some(rest.strip_suffix(']').unwrap_or(""))),
                None => (spec, None),
            };
            let bad = |message: String| invalid_query(&name, "invalid", message);
            let op = CustomFilterOp::parse(op)
                .ok_or_else(|| bad("the operator is one of gte, lte, in, contains".into()))?;
            let definition = definitions
                .iter()
                .find(|d| d.key == key)
                .ok_or_else(|| bad("no such custom field".into()))?;
            if value.len() > 1000 || value.contains('\0') {
                return Err(bad("at most 1000 characters, without NUL".into()));
            }
            definition.filter(op, &value, region).map_err(bad)
        })
        .collect()
}
