//! Writing new leads: each customer with its first contact, history and custom values. Many
//! leads go in a handful of multi-row statements, so an import batch costs a few round trips
//! instead of a dozen per row.

use std::collections::HashMap;

use chrono::NaiveDateTime;
use crm_domain::custom_fields::{FieldDefinition, FieldEntity};
use crm_domain::identity::Visibility;
use crm_domain::imports::Lead;
use crm_domain::ports::Actor;
use crm_domain::{DomainError, FieldError};
use diesel::prelude::*;
use diesel::result::DatabaseErrorKind;

use crate::connection::on_backend;
use crate::contacts::ContactWrite;
use crate::convert::new_id;
use crate::custom_fields::{definitions_of, write_values};
use crate::customers::{created_changes, event, point_holders, CustomerWrite, Points};
use crate::errors::TxError;
use crate::schema::{contact_phones, contacts, customer_events, customers};
use crate::DbConnection;

/// Rows per multi-row statement, far below PostgreSQL's 65,535 bound parameters.
pub(crate) const ROWS_PER_STATEMENT: usize = 500;

/// A lead to be written as the new customer `customer_id`.
pub(crate) struct NewLead<'a> {
    pub(crate) customer_id: String,
    pub(crate) lead: &'a Lead,
}

/// Writes `leads` as new customers owned by `owner_id` (the pool when `None`), each with its
/// first contact as the primary one. Uniqueness the database enforces (external ids, unique
/// custom values) fails the whole call.
pub(crate) fn insert_leads(
    conn: &mut DbConnection,
    actor: &Actor,
    owner_id: Option<&str>,
    leads: &[NewLead<'_>],
    now: NaiveDateTime,
) -> Result<(), TxError> {
    let contact_ids: Vec<Option<String>> = leads
        .iter()
        .map(|l| l.lead.contact.as_ref().map(|_| new_id()))
        .collect();
    for chunk in leads.chunks(ROWS_PER_STATEMENT) {
        let rows = chunk
            .iter()
            .map(|l| {
                Ok((
                    CustomerWrite::of(&l.lead.customer)?,
                    customers::id.eq(&l.customer_id),
                    customers::owner_id.eq(owner_id),
                    customers::score.eq(0_i64),
                    customers::created_by.eq(&actor.id),
                    customers::created_at.eq(now),
                    customers::updated_at.eq(now),
                    customers::version.eq(1_i64),
                ))
            })
            .collect::<Result<Vec<_>, TxError>>()?;
        on_backend!(conn, |c| diesel::insert_into(customers::table)
            .values(rows)
            .execute(c))
        .map_err(|e| match (e, chunk) {
            // The only unique column a new customer has: its id in another system.
            (
                diesel::result::Error::DatabaseError(DatabaseErrorKind::UniqueViolation, _),
                [_single],
            ) => TxError::Domain(DomainError::Validation(vec![FieldError::new(
                "/external_id",
                "not_unique",
                "another customer has this external id",
            )])),
            (e, _) => e.into(),
        })?;
    }
    let with_contacts: Vec<(&NewLead<'_>, &str)> = leads
        .iter()
        .zip(&contact_ids)
        .filter_map(|(l, id)| id.as_deref().map(|id| (l, id)))
        .collect();
    for chunk in with_contacts.chunks(ROWS_PER_STATEMENT) {
        let mut rows = Vec::with_capacity(chunk.len());
        let mut phones = Vec::new();
        for (lead, contact_id) in chunk {
            let Some(contact) = &lead.lead.contact else {
                continue;
            };
            rows.push((
                ContactWrite::of(contact)?,
                contacts::id.eq(*contact_id),
                contacts::customer_id.eq(&lead.customer_id),
                contacts::is_primary.eq(true),
                contacts::created_at.eq(now),
                contacts::updated_at.eq(now),
                contacts::version.eq(1_i64),
            ));
            let mut own: Vec<&str> = contact
                .phones
                .iter()
                .map(|p| p.normalized.as_str())
                .collect();
            own.sort_unstable();
            own.dedup();
            phones.extend(own.into_iter().map(|phone| {
                (
                    contact_phones::contact_id.eq(*contact_id),
                    contact_phones::phone_normalized.eq(phone),
                )
            }));
        }
        on_backend!(conn, |c| diesel::insert_into(contacts::table)
            .values(rows)
            .execute(c))?;
        for phones in phones.chunks(ROWS_PER_STATEMENT) {
            on_backend!(conn, |c| diesel::insert_into(contact_phones::table)
                .values(phones)
                .execute(c))?;
        }
    }
    let mut events = Vec::with_capacity(leads.len() + with_contacts.len());
    for (lead, contact_id) in leads.iter().zip(&contact_ids) {
        let fields = &lead.lead.customer;
        let created = created_changes(fields, owner_id);
        events.push(event(&lead.customer_id, "created", actor, now, &created));
        if let (Some(contact), Some(_)) = (&lead.lead.contact, contact_id) {
            let added = contact.changes_from(None);
            events.push(event(
                &lead.customer_id,
                "contact_added",
                actor,
                now,
                &added,
            ));
        }
    }
    for chunk in events.chunks(ROWS_PER_STATEMENT) {
        on_backend!(conn, |c| diesel::insert_into(customer_events::table)
            .values(chunk)
            .execute(c))?;
    }
    write_custom_values(conn, leads, &contact_ids)
}

/// The custom values of new customers and contacts, definitions read once.
fn write_custom_values(
    conn: &mut DbConnection,
    leads: &[NewLead<'_>],
    contact_ids: &[Option<String>],
) -> Result<(), TxError> {
    let mut customer_definitions: Option<Vec<FieldDefinition>> = None;
    let mut contact_definitions: Option<Vec<FieldDefinition>> = None;
    for (lead, contact_id) in leads.iter().zip(contact_ids) {
        let values = &lead.lead.customer.custom_fields;
        if !values.is_empty() {
            let definitions = match &customer_definitions {
                Some(definitions) => definitions,
                None => customer_definitions.insert(definitions_of(conn, FieldEntity::Customer)?),
            };
            write_values(conn, definitions, &lead.customer_id, values)?;
        }
        if let (Some(contact), Some(contact_id)) = (&lead.lead.contact, contact_id) {
            if !contact.custom_fields.is_empty() {
                let definitions = match &contact_definitions {
                    Some(definitions) => definitions,
                    None => contact_definitions.insert(definitions_of(conn, FieldEntity::Contact)?),
                };
                write_values(conn, definitions, contact_id, &contact.custom_fields)?;
            }
        }
    }
    Ok(())
}

/// Who holds a match value: customers, each with whether the actor may see it.
pub(crate) type Known = HashMap<String, Vec<(String, bool)>>;

/// Which of `values` (`email:…`, `phone:…`, `external_id:…`, as `Lead::match_values` gives
/// them) a live customer or one of its live contacts already has, and which customers.
pub(crate) fn known_values<'v>(
    conn: &mut DbConnection,
    visibility: &Visibility,
    values: impl IntoIterator<Item = &'v String>,
) -> Result<Known, TxError> {
    let mut points = Points::default();
    for value in values {
        if let Some(phone) = value.strip_prefix("phone:") {
            points.phones.push(phone);
        } else if let Some(email) = value.strip_prefix("email:") {
            points.emails.push(email);
        } else if let Some(id) = value.strip_prefix("external_id:") {
            points.external_ids.push(id);
        }
    }
    let mut known = Known::new();
    for (point, id, owner) in point_holders(conn, &points, None)? {
        let visible = visibility.allows(owner.as_deref());
        known.entry(point).or_default().push((id, visible));
    }
    Ok(known)
}
