//! `LeadSourceStore` on the database.

use chrono::{NaiveDateTime, Utc};
use crm_domain::lead_sources::{LeadSource, LeadSourceChanges, LeadSourceDraft};
use crm_domain::ports::LeadSourceStore;
use crm_domain::DomainError;
use diesel::prelude::*;

use crate::convert::{stored, utc};
use crate::errors::{check_version, on_unique_violation, TxError};
use crate::schema::lead_sources;
use crate::{Database, DbConnection};

#[derive(Queryable, Selectable)]
#[diesel(table_name = lead_sources)]
struct LeadSourceRow {
    key: String,
    label: String,
    position: i64,
    archived: bool,
    created_at: NaiveDateTime,
    updated_at: NaiveDateTime,
    version: i64,
}

impl From<LeadSourceRow> for LeadSource {
    fn from(row: LeadSourceRow) -> Self {
        LeadSource {
            key: row.key,
            label: row.label,
            position: row.position,
            archived: row.archived,
            created_at: utc(row.created_at),
            updated_at: utc(row.updated_at),
            version: row.version,
        }
    }
}

const LEAD_SOURCE: DomainError = DomainError::NotFound {
    entity: "lead source",
};

fn load(conn: &mut DbConnection, key: &str) -> Result<LeadSource, TxError> {
    let row = lead_sources::table
        .find(key)
        .select(LeadSourceRow::as_select())
        .get_result(conn)
        .optional()?
        .ok_or(LEAD_SOURCE)?;
    Ok(row.into())
}

impl LeadSourceStore for Database {
    fn lead_sources(&self, include_archived: bool) -> Result<Vec<LeadSource>, DomainError> {
        self.read(|conn| {
            let mut query = lead_sources::table
                .select(LeadSourceRow::as_select())
                .order((lead_sources::position.asc(), lead_sources::key.asc()))
                .into_boxed();
            if !include_archived {
                query = query.filter(lead_sources::archived.eq(false));
            }
            Ok(query
                .load(conn)?
                .into_iter()
                .map(LeadSource::from)
                .collect())
        })
    }

    fn create_lead_source(&self, draft: LeadSourceDraft) -> Result<LeadSource, DomainError> {
        let now = stored(Utc::now());
        self.write(|conn| {
            diesel::insert_into(lead_sources::table)
                .values((
                    lead_sources::key.eq(&draft.key),
                    lead_sources::label.eq(&draft.label),
                    lead_sources::position.eq(draft.position),
                    lead_sources::archived.eq(false),
                    lead_sources::created_at.eq(now),
                    lead_sources::updated_at.eq(now),
                    lead_sources::version.eq(1_i64),
                ))
                .execute(conn)
                .map_err(|e| {
                    on_unique_violation(
                        e,
                        "lead_source_exists",
                        "a lead source with this key exists",
                    )
                })?;
            load(conn, &draft.key)
        })
    }

    fn update_lead_source(
        &self,
        key: &str,
        changes: LeadSourceChanges,
        expected_version: Option<i64>,
    ) -> Result<LeadSource, DomainError> {
        let now = stored(Utc::now());
        self.write(|conn| {
            let current = load(conn, key)?;
            check_version(expected_version, current.version)?;
            let label = changes.label.unwrap_or_else(|| current.label.clone());
            let position = changes.position.unwrap_or(current.position);
            let archived = changes.archived.unwrap_or(current.archived);
            if (&label, position, archived) == (&current.label, current.position, current.archived)
            {
                return Ok(current);
            }
            diesel::update(lead_sources::table.find(key))
                .set((
                    lead_sources::label.eq(&label),
                    lead_sources::position.eq(position),
                    lead_sources::archived.eq(archived),
                    lead_sources::updated_at.eq(now),
                    lead_sources::version.eq(current.version + 1),
                ))
                .execute(conn)?;
            load(conn, key)
        })
    }
}
