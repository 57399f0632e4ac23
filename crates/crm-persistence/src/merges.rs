//! Merging duplicate customers into a survivor, and undoing it: everything moved is recorded
//! with the customer it came from, and the survivor's row before the merge is kept whole.

use std::collections::BTreeMap;

use chrono::{DateTime, Duration, NaiveDateTime, Utc};
use crm_domain::custom_fields::FieldEntity;
use crm_domain::customers::{Customer, FieldChange};
use crm_domain::identity::Visibility;
use crm_domain::merges::{merged_fields, Merge, Moved, UNDO_DAYS};
use crm_domain::ports::Actor;
use crm_domain::DomainError;
use diesel::prelude::*;
use serde_json::{json, Value};

use crate::activities::refresh_customer;
use crate::convert::{corrupt, new_id, stored, utc};
use crate::custom_fields::{definitions_of, write_values};
use crate::customers::{load_visible, record, rewrite_customer, CustomerRow};
use crate::errors::TxError;
use crate::schema::{activities, contacts, customer_merges, customers, opportunities};
use crate::DbConnection;

const MERGE: DomainError = DomainError::NotFound { entity: "merge" };

/// One moved record: its id, the customer it came from, and (contacts) whether it was primary.
#[derive(serde::Serialize, serde::Deserialize)]
struct MovedRecord {
    id: String,
    from: String,
    #[serde(default)]
    primary: bool,
}

#[derive(serde::Serialize, serde::Deserialize, Default)]
struct MovedRecords {
    contacts: Vec<MovedRecord>,
    activities: Vec<MovedRecord>,
    opportunities: Vec<MovedRecord>,
    follow_ups: i64,
}

impl MovedRecords {
    fn summary(&self) -> Moved {
        let ids = |records: &[MovedRecord]| records.iter().map(|r| r.id.clone()).collect();
        Moved {
            contacts: ids(&self.contacts),
            activities: ids(&self.activities),
            opportunities: ids(&self.opportunities),
            follow_ups: self.follow_ups,
        }
    }
}

/// What would move from the duplicates.
fn to_move(conn: &mut DbConnection, duplicate_ids: &[String]) -> Result<MovedRecords, TxError> {
    let contacts: Vec<(String, String, bool)> = contacts::table
        .filter(contacts::customer_id.eq_any(duplicate_ids))
        .filter(contacts::deleted_at.is_null())
        .select((contacts::id, contacts::customer_id, contacts::is_primary))
        .order(contacts::id.asc())
        .load(conn)?;
    let activities: Vec<(String, String, Option<String>)> = activities::table
        .filter(activities::customer_id.eq_any(duplicate_ids))
        .filter(activities::deleted_at.is_null())
        .select((
            activities::id,
            activities::customer_id,
            activities::follow_up_state,
        ))
        .order(activities::id.asc())
        .load(conn)?;
    let opportunities: Vec<(String, String)> = opportunities::table
        .filter(opportunities::customer_id.eq_any(duplicate_ids))
        .filter(opportunities::deleted_at.is_null())
        .select((opportunities::id, opportunities::customer_id))
        .order(opportunities::id.asc())
        .load(conn)?;
    Ok(MovedRecords {
        follow_ups: activities
            .iter()
            .filter(|(_, _, state)| state.as_deref() == Some("pending"))
            .count() as i64,
        contacts: contacts
            .into_iter()
            .map(|(id, from, primary)| MovedRecord { id, from, primary })
            .collect(),
        activities: activities
            .into_iter()
            .map(|(id, from, _)| MovedRecord {
                id,
                from,
                primary: false,
            })
            .collect(),
        opportunities: opportunities
            .into_iter()
            .map(|(id, from)| MovedRecord {
                id,
                from,
                primary: false,
            })
            .collect(),
    })
}

fn raw_row(conn: &mut DbConnection, id: &str) -> Result<CustomerRow, TxError> {
    Ok(customers::table
        .find(id)
        .select(CustomerRow::as_select())
        .get_result(conn)?)
}

/// Sets the customer's soft-deletion (`None`: live again), moving its version, and records it.
fn set_deleted(
    conn: &mut DbConnection,
    actor: &Actor,
    id: &str,
    deleted_at: Option<NaiveDateTime>,
    action: &str,
    changes: &[FieldChange],
    now: NaiveDateTime,
) -> Result<(), TxError> {
    diesel::update(customers::table.find(id))
        .set((
            customers::deleted_at.eq(deleted_at),
            customers::updated_at.eq(now),
            customers::version.eq(customers::version + 1),
        ))
        .execute(conn)?;
    record(conn, id, action, actor, now, changes)
}

fn change(field: &str, old: Value, new: Value) -> FieldChange {
    FieldChange {
        field: field.into(),
        old,
        new,
    }
}

pub(crate) fn merge_customers(
    conn: &mut DbConnection,
    actor: &Actor,
    survivor_id: &str,
    duplicate_ids: &[String],
    choices: &BTreeMap<String, String>,
    dry_run: bool,
    now: DateTime<Utc>,
) -> Result<Merge, TxError> {
    let survivor = load_visible(conn, &actor.visibility, survivor_id)?;
    let duplicates = duplicate_ids
        .iter()
        .map(|id| load_visible(conn, &actor.visibility, id))
        .collect::<Result<Vec<Customer>, TxError>>()?;
    let fields = merged_fields(&survivor, &duplicates, choices).map_err(DomainError::Validation)?;
    let moved = to_move(conn, duplicate_ids)?;
    let summary = moved.summary();
    if dry_run {
        return Ok(Merge {
            id: None,
            survivor: Customer { fields, ..survivor },
            duplicate_ids: duplicate_ids.to_vec(),
            moved: summary,
            merged_by: actor.id.clone(),
            merged_at: now,
            undone_at: None,
        });
    }
    let at = stored(now);
    let before = raw_row(conn, survivor_id)?;
    let definitions = definitions_of(conn, FieldEntity::Customer)?;
    for duplicate in duplicate_ids {
        // The duplicate's unique custom values step aside for the survivor's (undo puts them back).
        write_values(conn, &definitions, duplicate, &BTreeMap::new())?;
        set_deleted(
            conn,
            actor,
            duplicate,
            Some(at),
            "merged",
            &[change("merged_into", Value::Null, json!(survivor_id))],
            at,
        )?;
    }
    let survivor_has_contacts: i64 = contacts::table
        .filter(contacts::customer_id.eq(survivor_id))
        .filter(contacts::deleted_at.is_null())
        .count()
        .get_result(conn)?;
    let contact_ids: Vec<&str> = moved.contacts.iter().map(|c| c.id.as_str()).collect();
    if survivor_has_contacts > 0 {
        diesel::update(contacts::table.filter(contacts::id.eq_any(&contact_ids)))
            .set(contacts::is_primary.eq(false))
            .execute(conn)?;
    }
    diesel::update(contacts::table.filter(contacts::id.eq_any(&contact_ids)))
        .set(contacts::customer_id.eq(survivor_id))
        .execute(conn)?;
    let activity_ids: Vec<&str> = moved.activities.iter().map(|a| a.id.as_str()).collect();
    diesel::update(activities::table.filter(activities::id.eq_any(&activity_ids)))
        .set(activities::customer_id.eq(survivor_id))
        .execute(conn)?;
    let opportunity_ids: Vec<&str> = moved.opportunities.iter().map(|o| o.id.as_str()).collect();
    diesel::update(opportunities::table.filter(opportunities::id.eq_any(&opportunity_ids)))
        .set(opportunities::customer_id.eq(survivor_id))
        .execute(conn)?;
    let changes = fields.changes_from(&survivor.fields);
    if !changes.is_empty() {
        rewrite_customer(conn, actor, &survivor, &fields, &changes, at)?;
    }
    record(
        conn,
        survivor_id,
        "merged",
        actor,
        at,
        &[change("merged_from", Value::Null, json!(duplicate_ids))],
    )?;
    refresh_customer(conn, survivor_id, now)?;
    let merged = load_visible(conn, &Visibility::All, survivor_id)?;
    let id = new_id();
    diesel::insert_into(customer_merges::table)
        .values((
            customer_merges::id.eq(&id),
            customer_merges::survivor_id.eq(survivor_id),
            customer_merges::duplicate_ids.eq(json!(duplicate_ids).to_string()),
            customer_merges::survivor_before
                .eq(serde_json::to_string(&before).map_err(DomainError::internal)?),
            customer_merges::survivor_version.eq(merged.version),
            customer_merges::moved
                .eq(serde_json::to_string(&moved).map_err(DomainError::internal)?),
            customer_merges::merged_by.eq(&actor.id),
            customer_merges::merged_at.eq(at),
        ))
        .execute(conn)?;
    Ok(Merge {
        id: Some(id),
        survivor: merged,
        duplicate_ids: duplicate_ids.to_vec(),
        moved: summary,
        merged_by: actor.id.clone(),
        merged_at: utc(at),
        undone_at: None,
    })
}

#[derive(Queryable)]
struct MergeRow {
    id: String,
    survivor_id: String,
    duplicate_ids: String,
    survivor_before: String,
    survivor_version: i64,
    moved: String,
    merged_by: String,
    merged_at: NaiveDateTime,
    undone_at: Option<NaiveDateTime>,
}

fn load_merge(conn: &mut DbConnection, actor: &Actor, id: &str) -> Result<MergeRow, TxError> {
    let row: MergeRow = customer_merges::table
        .find(id)
        .select((
            customer_merges::id,
            customer_merges::survivor_id,
            customer_merges::duplicate_ids,
            customer_merges::survivor_before,
            customer_merges::survivor_version,
            customer_merges::moved,
            customer_merges::merged_by,
            customer_merges::merged_at,
            customer_merges::undone_at,
        ))
        .get_result(conn)
        .optional()?
        .ok_or(MERGE)?;
    let owner: Option<Option<String>> = customers::table
        .find(&row.survivor_id)
        .select(customers::owner_id)
        .get_result(conn)
        .optional()?;
    match owner {
        Some(owner) if actor.visibility.allows(owner.as_deref()) => Ok(row),
        _ => Err(MERGE.into()),
    }
}

fn merge_of(conn: &mut DbConnection, row: MergeRow) -> Result<Merge, TxError> {
    let moved: MovedRecords =
        serde_json::from_str(&row.moved).map_err(|_| corrupt("customer_merges.moved", &row.id))?;
    let duplicate_ids: Vec<String> = serde_json::from_str(&row.duplicate_ids)
        .map_err(|_| corrupt("customer_merges.duplicate_ids", &row.id))?;
    let survivor = raw_row(conn, &row.survivor_id)?.into_domain()?;
    Ok(Merge {
        id: Some(row.id),
        survivor,
        duplicate_ids,
        moved: moved.summary(),
        merged_by: row.merged_by,
        merged_at: utc(row.merged_at),
        undone_at: row.undone_at.map(utc),
    })
}

pub(crate) fn customer_merge(
    conn: &mut DbConnection,
    actor: &Actor,
    id: &str,
) -> Result<Merge, TxError> {
    let row = load_merge(conn, actor, id)?;
    merge_of(conn, row)
}

pub(crate) fn undo_merge(
    conn: &mut DbConnection,
    actor: &Actor,
    id: &str,
    now: DateTime<Utc>,
) -> Result<Merge, TxError> {
    let row = load_merge(conn, actor, id)?;
    let conflict = |code: &'static str, message: &str| -> TxError {
        DomainError::Conflict {
            code,
            message: message.into(),
        }
        .into()
    };
    if row.undone_at.is_some() {
        return Err(conflict("already_undone", "this merge was undone already"));
    }
    if utc(row.merged_at) + Duration::days(UNDO_DAYS) < now {
        return Err(conflict(
            "undo_expired",
            "a merge can be undone for 30 days only",
        ));
    }
    let current = load_visible(conn, &Visibility::All, &row.survivor_id)?;
    if current.version != row.survivor_version {
        return Err(conflict(
            "survivor_changed",
            "the surviving customer changed after the merge; undoing would lose those changes",
        ));
    }
    let at = stored(now);
    let before: CustomerRow = serde_json::from_str(&row.survivor_before)
        .map_err(|_| corrupt("customer_merges.survivor_before", &row.id))?;
    let before = before.into_domain()?;
    let changes = before.fields.changes_from(&current.fields);
    if !changes.is_empty() {
        rewrite_customer(conn, actor, &current, &before.fields, &changes, at)?;
    }
    let moved: MovedRecords =
        serde_json::from_str(&row.moved).map_err(|_| corrupt("customer_merges.moved", &row.id))?;
    for contact in &moved.contacts {
        diesel::update(contacts::table.find(&contact.id))
            .set((
                contacts::customer_id.eq(&contact.from),
                contacts::is_primary.eq(contact.primary),
            ))
            .execute(conn)?;
    }
    for activity in &moved.activities {
        diesel::update(activities::table.find(&activity.id))
            .set(activities::customer_id.eq(&activity.from))
            .execute(conn)?;
    }
    for opportunity in &moved.opportunities {
        diesel::update(opportunities::table.find(&opportunity.id))
            .set(opportunities::customer_id.eq(&opportunity.from))
            .execute(conn)?;
    }
    let duplicate_ids: Vec<String> = serde_json::from_str(&row.duplicate_ids)
        .map_err(|_| corrupt("customer_merges.duplicate_ids", &row.id))?;
    let definitions = definitions_of(conn, FieldEntity::Customer)?;
    for duplicate in &duplicate_ids {
        set_deleted(
            conn,
            actor,
            duplicate,
            None,
            "unmerged",
            &[change("merged_into", json!(row.survivor_id), Value::Null)],
            at,
        )?;
        let restored = raw_row(conn, duplicate)?.into_domain()?;
        write_values(
            conn,
            &definitions,
            duplicate,
            &restored.fields.custom_fields,
        )?;
        refresh_customer(conn, duplicate, now)?;
    }
    record(
        conn,
        &row.survivor_id,
        "unmerged",
        actor,
        at,
        &[change("merged_from", json!(duplicate_ids), Value::Null)],
    )?;
    refresh_customer(conn, &row.survivor_id, now)?;
    diesel::update(customer_merges::table.find(&row.id))
        .set((
            customer_merges::undone_at.eq(at),
            customer_merges::undone_by.eq(&actor.id),
        ))
        .execute(conn)?;
    let row = load_merge(conn, actor, id)?;
    merge_of(conn, row)
}
