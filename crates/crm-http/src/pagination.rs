//! Keyset pagination parameters and cursors. A cursor is opaque to clients: the hex form of the
//! last key of the previous page. Any even-length hex string is a position, so a cursor that
//! matches its documented pattern is never refused.
use crm_domain::page::{PageRequest, PAGE_LIMIT_DEFAULT, PAGE_LIMIT_MAX};
use serde::Deserialize;
use utoipa::IntoParams;

use crate::{ApiError, ProblemFieldError};

/// `limit` and `cursor`.
#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub(crate) struct PageQuery {
    /// Items per page, 1 to 200 (default 50).
    #[param(minimum = 1, maximum = 200, example = 50)]
    pub limit: Option<i64>,
    /// The `next_cursor` of the previous page; omit for the first page.
    #[param(max_length = 512, pattern = "^([0-9a-f]{2})+$")]
    pub cursor: Option<String>,
}

impl PageQuery {
    /// The page to read; 400 for a limit out of range or a cursor we did not issue.
    pub(crate) fn page(&self) -> Result<PageRequest, ApiError> {
        let limit = self.limit.unwrap_or(i64::from(PAGE_LIMIT_DEFAULT));
        let limit = u32::try_from(limit)
            .ok()
            .filter(|l| (1..=PAGE_LIMIT_MAX).contains(l))
            .ok_or_else(|| {
                invalid_query(
                    "limit",
                    "out_of_range",
                    format!("limit must be between 1 and {PAGE_LIMIT_MAX}"),
                )
            })?;
        let after = match &self.cursor {
            None => None,
            Some(cursor) => Some(
                hex::decode(cursor)
                    .ok()
                    .filter(|_| cursor.len() <= 512 && !cursor.is_empty())
                    .filter(|_| !cursor.bytes().any(|b| b.is_ascii_uppercase()))
                    // Keys never hold NUL, and no database text can: drop it from the position.
                    .map(|bytes| String::from_utf8_lossy(&bytes).replace('\0', ""))
                    .ok_or_else(|| {
                        invalid_query("cursor", "invalid", "not a cursor this API issued".into())
                    })?,
            ),
        };
        Ok(PageRequest { limit, after })
    }
}

/// The cursor for the page after `key`.
pub(crate) fn cursor(key: Option<String>) -> Option<String> {
    key.map(hex::encode)
}

/// 400 for one bad query parameter.
pub(crate) fn invalid_query(name: &str, code: &str, message: String) -> ApiError {
    ApiError::bad_request(
        "invalid_query",
        "The query string has an invalid parameter.",
    )
    .with_errors(vec![ProblemFieldError {
        pointer: format!("/query/{name}"),
        code: code.into(),
        message,
    }])
}
