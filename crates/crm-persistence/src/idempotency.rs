//! `IdempotencyStore` on the database.

use chrono::{DateTime, Duration, NaiveDateTime, Utc};
use crm_domain::ports::{IdempotencyStart, IdempotencyStore, StoredResponse};
use crm_domain::DomainError;
use diesel::prelude::*;

use crate::convert::stored;
use crate::errors::TxError;
use crate::schema::idempotency_keys;
use crate::Database;

/// How long a key is remembered.
const KEPT_FOR: Duration = Duration::hours(24);
/// A request still unanswered after this long is taken to have died; its key may be reused.
const ABANDONED_AFTER: Duration = Duration::minutes(5);

#[derive(Queryable)]
struct KeyRow {
    request_hash: String,
    status: Option<i32>,
    response_headers: Option<String>,
    response_body: Option<String>,
    created_at: NaiveDateTime,
}

impl IdempotencyStore for Database {
    fn start(
        &self,
        scope: &str,
        key: &str,
        request_hash: &str,
        now: DateTime<Utc>,
    ) -> Result<IdempotencyStart, DomainError> {
        let now = stored(now);
        self.write(|conn| {
            let row = idempotency_keys::table
                .find((scope, key))
                .select((
                    idempotency_keys::request_hash,
                    idempotency_keys::status,
                    idempotency_keys::response_headers,
                    idempotency_keys::response_body,
                    idempotency_keys::created_at,
                ))
                .get_result::<KeyRow>(conn)
                .optional()?;
            if let Some(row) = row {
                let expired = row.created_at + KEPT_FOR <= now;
                let abandoned = row.status.is_none() && row.created_at + ABANDONED_AFTER <= now;
                if !expired && !abandoned {
                    if row.request_hash != request_hash {
                        return Ok(IdempotencyStart::Mismatch);
                    }
                    let Some(status) = row.status else {
                        return Ok(IdempotencyStart::InProgress);
                    };
                    let headers: Vec<(String, String)> = row
                        .response_headers
                        .as_deref()
                        .and_then(|h| serde_json::from_str(h).ok())
                        .unwrap_or_default();
                    return Ok(IdempotencyStart::Replay(StoredResponse {
                        status: u16::try_from(status).unwrap_or(500),
                        headers,
                        body: row.response_body.unwrap_or_default(),
                    }));
                }
                diesel::delete(idempotency_keys::table.find((scope, key))).execute(conn)?;
            }
            diesel::insert_into(idempotency_keys::table)
                .values((
                    idempotency_keys::scope.eq(scope),
                    idempotency_keys::key.eq(key),
                    idempotency_keys::request_hash.eq(request_hash),
                    idempotency_keys::created_at.eq(now),
                ))
                .execute(conn)?;
            Ok::<_, TxError>(IdempotencyStart::Started)
        })
    }

    fn complete(
        &self,
        scope: &str,
        key: &str,
        response: &StoredResponse,
    ) -> Result<(), DomainError> {
        let headers = serde_json::to_string(&response.headers).map_err(DomainError::internal)?;
        self.write(|conn| {
            diesel::update(idempotency_keys::table.find((scope, key)))
                .set((
                    idempotency_keys::status.eq(i32::from(response.status)),
                    idempotency_keys::response_headers.eq(&headers),
                    idempotency_keys::response_body.eq(&response.body),
                ))
                .execute(conn)?;
            Ok(())
        })
    }

    fn abandon(&self, scope: &str, key: &str) -> Result<(), DomainError> {
        self.write(|conn| {
            diesel::delete(idempotency_keys::table.find((scope, key))).execute(conn)?;
            Ok(())
        })
    }
}
