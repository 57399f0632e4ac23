//! Building single-resource responses: `ETag` always, `Location` on create.

use actix_web::http::header;
use actix_web::HttpResponse;
use serde::Serialize;

use crate::etag::etag;

/// 200 with the resource and its `ETag`.
pub(crate) fn ok_with_etag(version: i64, body: &impl Serialize) -> HttpResponse {
    HttpResponse::Ok()
        .insert_header((header::ETAG, etag(version)))
        .json(body)
}

/// 201 with the new resource, its `Location` and `ETag`.
pub(crate) fn created(location: String, version: i64, body: &impl Serialize) -> HttpResponse {
    HttpResponse::Created()
        .insert_header((header::LOCATION, location))
        .insert_header((header::ETAG, etag(version)))
        .json(body)
}

/// The version an `If-Match` header asks for: `Ok(None)` without the header, 412 for a value
/// that names no version of ours (it cannot match).
pub(crate) fn if_match(req: &actix_web::HttpRequest) -> Result<Option<i64>, crate::ApiError> {
    let Some(value) = req.headers().get(header::IF_MATCH) else {
        return Ok(None);
    };
    value
        .to_str()
        .ok()
        .and_then(crate::etag::parse_if_match)
        .map(Some)
        .ok_or_else(|| {
            crate::ApiError::new(
                actix_web::http::StatusCode::PRECONDITION_FAILED,
                "precondition_failed",
                "Precondition failed",
                "If-Match names no version of this record.",
            )
        })
}

/// Deserialises a field that may be absent (`None`), `null` (`Some(None)`) or a value
/// (`Some(Some(v))`), as merge-patch bodies need.
pub(crate) fn nullable<'de, T, D>(deserializer: D) -> Result<Option<Option<T>>, D::Error>
where
    T: serde::Deserialize<'de>,
    D: serde::Deserializer<'de>,
{
    <Option<T> as serde::Deserialize>::deserialize(deserializer).map(Some)
}

/// The value of a merge-patch field that must not be `null`: `None` when absent, the value when
/// given; a `null` is recorded as a `required` error at `pointer`.
pub(crate) fn non_null<T>(
    value: Option<Option<T>>,
    pointer: &str,
    errors: &mut Vec<crm_domain::FieldError>,
) -> Option<T> {
    match value {
        Some(None) => {
            errors.push(crm_domain::FieldError::new(
                pointer,
                "required",
                "must not be null",
            ));
            None
        }
        Some(Some(v)) => Some(v),
        None => None,
    }
}

/// A JSON number that is a whole number (`5` or `5.0`, as JSON Schema's `integer` allows) and
/// fits `T`.
fn whole_number<'de, T, D>(deserializer: D) -> Result<T, D::Error>
where
    T: TryFrom<i64>,
    D: serde::Deserializer<'de>,
{
    use serde::de::Error;
    let n = <serde_json::Number as serde::Deserialize>::deserialize(deserializer)?;
    crm_domain::custom_fields::whole(&serde_json::Value::Number(n.clone()))
        .and_then(|w| T::try_from(w).ok())
        .ok_or_else(|| D::Error::custom(format!("expected a whole number in range, got {n}")))
}

/// [`whole_number`] for a member that may be absent.
pub(crate) fn optional_whole<'de, T, D>(deserializer: D) -> Result<Option<T>, D::Error>
where
    T: TryFrom<i64>,
    D: serde::Deserializer<'de>,
{
    whole_number(deserializer).map(Some)
}

/// [`whole_number`] for a required member, or one with a `#[serde(default)]`.
pub(crate) fn whole<'de, T, D>(deserializer: D) -> Result<T, D::Error>
where
    T: TryFrom<i64>,
    D: serde::Deserializer<'de>,
{
    whole_number(deserializer)
}

/// [`whole_number`] for a merge-patch member: absent, `null` or a whole number.
pub(crate) fn nullable_whole<'de, T, D>(deserializer: D) -> Result<Option<Option<T>>, D::Error>
where
    T: TryFrom<i64>,
    D: serde::Deserializer<'de>,
{
    let value = <Option<serde_json::Number> as serde::Deserialize>::deserialize(deserializer)?;
    match value {
        None => Ok(Some(None)),
        Some(n) => whole_number(serde_json::Value::Number(n))
            .map(|w| Some(Some(w)))
            .map_err(serde::de::Error::custom),
    }
}

/// Optional text: trimmed, empty means none, at most `max` characters as sent (else a
/// `too_long` error at `pointer`).
pub(crate) fn optional_text(
    value: Option<String>,
    pointer: &str,
    max: usize,
    errors: &mut Vec<crm_domain::FieldError>,
) -> Option<String> {
    let value = value?;
    if value.chars().count() > max {
        errors.push(crm_domain::FieldError::new(
            pointer,
            "too_long",
            format!("at most {max} characters"),
        ));
        return None;
    }
    let trimmed = value.trim();
    (!trimmed.is_empty()).then(|| trimmed.to_string())
}

/// [`optional_text`] for a merge-patch member: `None` leaves it, `Some(None)` clears it.
pub(crate) fn patch_text(
    value: Option<Option<String>>,
    pointer: &str,
    max: usize,
    errors: &mut Vec<crm_domain::FieldError>,
) -> Option<Option<String>> {
    value.map(|v| optional_text(v, pointer, max, errors))
}
