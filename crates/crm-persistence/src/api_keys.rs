//! `ApiKeyStore` on the database.

use chrono::{DateTime, Duration, NaiveDateTime, Utc};
use crm_domain::identity::{ApiKey, Scope};
use crm_domain::page::{Page, PageRequest};
use crm_domain::ports::{ApiKeyStore, NewApiKey};
use crm_domain::DomainError;
use diesel::prelude::*;

use crate::convert::{corrupt, new_id, stored, utc};
use crate::errors::TxError;
use crate::schema::api_keys;
use crate::{Database, DbConnection};

#[derive(Queryable, Selectable)]
#[diesel(table_name = api_keys)]
struct ApiKeyRow {
    id: String,
    name: String,
    prefix: String,
    scopes: String,
    created_by: String,
    created_at: NaiveDateTime,
    last_used_at: Option<NaiveDateTime>,
    revoked_at: Option<NaiveDateTime>,
}

impl ApiKeyRow {
    fn into_domain(self) -> Result<ApiKey, DomainError> {
        let scopes = self
            .scopes
            .split_whitespace()
            .map(|s| Scope::parse(s).ok_or_else(|| corrupt("api_keys.scopes", s)))
            .collect::<Result<Vec<_>, _>>()?;
        Ok(ApiKey {
            id: self.id,
            name: self.name,
            prefix: self.prefix,
            scopes,
            created_by: self.created_by,
            created_at: utc(self.created_at),
            last_used_at: self.last_used_at.map(utc),
            revoked_at: self.revoked_at.map(utc),
        })
    }
}

fn load(conn: &mut DbConnection, id: &str) -> Result<ApiKey, TxError> {
    let row = api_keys::table
        .find(id)
        .select(ApiKeyRow::as_select())
        .get_result(conn)
        .optional()?
        .ok_or(DomainError::NotFound { entity: "API key" })?;
    Ok(row.into_domain()?)
}

/// Last use is recorded at most this often, so a busy key does not write on every request.
const LAST_USE_RESOLUTION: Duration = Duration::seconds(60);

impl ApiKeyStore for Database {
    fn create_api_key(&self, key: NewApiKey) -> Result<ApiKey, DomainError> {
        let id = new_id();
        let now = stored(Utc::now());
        let scopes: Vec<&str> = key.scopes.iter().map(|s| s.as_str()).collect();
        self.write(|conn| {
            diesel::insert_into(api_keys::table)
                .values((
                    api_keys::id.eq(&id),
                    api_keys::name.eq(&key.name),
                    api_keys::prefix.eq(&key.prefix),
                    api_keys::digest.eq(&key.digest),
                    api_keys::scopes.eq(scopes.join(" ")),
                    api_keys::created_by.eq(&key.created_by),
                    api_keys::created_at.eq(now),
                ))
                .execute(conn)?;
            load(conn, &id)
        })
    }

    fn list_api_keys(&self, page: &PageRequest) -> Result<Page<ApiKey>, DomainError> {
        self.read(|conn| {
            let mut query = api_keys::table
                .select(ApiKeyRow::as_select())
                .order(api_keys::id.asc())
                .limit(i64::from(page.limit) + 1)
                .into_boxed();
            if let Some(after) = &page.after {
                query = query.filter(api_keys::id.gt(after));
            }
            let rows = query
                .load(conn)?
                .into_iter()
                .map(ApiKeyRow::into_domain)
                .collect::<Result<Vec<_>, _>>()?;
            Ok(Page::from_rows(rows, page.limit, |k| k.id.clone()))
        })
    }

    fn revoke_api_key(&self, id: &str, now: DateTime<Utc>) -> Result<(), DomainError> {
        self.write(|conn| {
            let revoked = diesel::update(
                api_keys::table
                    .filter(api_keys::id.eq(id))
                    .filter(api_keys::revoked_at.is_null()),
            )
            .set(api_keys::revoked_at.eq(stored(now)))
            .execute(conn)?;
            if revoked == 0 {
                return Err(DomainError::NotFound { entity: "API key" }.into());
            }
            Ok(())
        })
    }

    fn authenticate_api_key(
        &self,
        digest: &str,
        now: DateTime<Utc>,
    ) -> Result<Option<ApiKey>, DomainError> {
        let mut conn = self.conn()?;
        let row = api_keys::table
            .filter(api_keys::digest.eq(digest))
            .filter(api_keys::revoked_at.is_null())
            .select(ApiKeyRow::as_select())
            .get_result(&mut *conn)
            .optional()
            .map_err(|e| TxError::from(e).into_domain())?;
        let Some(key) = row.map(ApiKeyRow::into_domain).transpose()? else {
            return Ok(None);
        };
        let stale = key
            .last_used_at
            .is_none_or(|at| now - at >= LAST_USE_RESOLUTION);
        if stale {
            // A write: it takes its turn with the others (`Database::write`).
            drop(conn);
            self.write(|conn| {
                diesel::update(api_keys::table.find(&key.id))
                    .set(api_keys::last_used_at.eq(stored(now)))
                    .execute(conn)?;
                Ok(())
            })?;
        }
        Ok(Some(ApiKey {
            last_used_at: if stale { Some(now) } else { key.last_used_at },
            ..key
        }))
    }
}
