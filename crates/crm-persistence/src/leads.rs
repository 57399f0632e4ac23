//! Writing new leads: each customer with its first contact, history and custom values. Many
//! leads go in a handful of multi-row statements, so an import batch costs a few round trips
//! instead of a dozen per row.

use std::collections::HashMap;

use chrono::NaiveDateTime;
use crm_domain::custom_fields::{FieldDefinition, FieldEntity};
use crm_domain::customers::ContactFields;
use crm_domain::identity::Visibility;
use crm_domain::imports::Lead;
use crm_domain::ports::Actor;
use crm_domain::{DomainError, FieldError};
use diesel::prelude::*;
use diesel::result::DatabaseErrorKind;

use crate::connection::insert_all;
use crate::contacts::{phone_rows, NewContactRow};
use crate::convert::new_id;
use crate::custom_fields::{definitions_of, insert_values};
use crate::customers::{created_changes, event, point_holders, NewCustomerRow, Points};
use crate::errors::TxError;
use crate::schema::{contact_phones, contacts, customer_events, customers};
use crate::DbConnection;

/// A lead to be written as the new customer `customer_id`.
pub(crate) struct NewLead<'a> {
    pub(crate) customer_id: String,
    pub(crate) lead: &'a Lead,
}

/// Writes `leads` as new customers owned by `owner_id` (the pool when `None`), each with its
/// first contact as the primary one, every table in one bulk write (`insert_all!`).
/// Uniqueness the database enforces (external ids, unique custom values) fails the whole call.
pub(crate) fn insert_leads(
    conn: &mut DbConnection,
    actor: &Actor,
    owner_id: Option<&str>,
    leads: &[NewLead<'_>],
    now: NaiveDateTime,
) -> Result<(), TxError> {
    let customers = leads
        .iter()
        .map(|l| NewCustomerRow::new(&l.customer_id, &l.lead.customer, owner_id, &actor.id, now))
        .collect::<Result<Vec<_>, DomainError>>()?;
    insert_all!(conn, customers::table, &customers).map_err(|e| match (e, leads) {
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
    drop(customers);
    // Each lead's first contact: (lead, contact id, fields).
    let firsts: Vec<(&NewLead<'_>, String, &ContactFields)> = leads
        .iter()
        .filter_map(|l| l.lead.contact.as_ref().map(|c| (l, new_id(), c)))
        .collect();
    let contacts = firsts
        .iter()
        .map(|(l, id, contact)| NewContactRow::new(id, &l.customer_id, contact, true, now))
        .collect::<Result<Vec<_>, DomainError>>()?;
    insert_all!(conn, contacts::table, &contacts)?;
    drop(contacts);
    let phones: Vec<_> = firsts
        .iter()
        .flat_map(|(_, id, contact)| phone_rows(id, contact))
        .collect();
    insert_all!(conn, contact_phones::table, &phones)?;
    let mut events = Vec::with_capacity(leads.len() + firsts.len());
    for lead in leads {
        let created = created_changes(&lead.lead.customer, owner_id);
        events.push(event(&lead.customer_id, "created", actor, now, &created)?);
    }
    for (lead, _, contact) in &firsts {
        let added = contact.changes_from(None);
        events.push(event(
            &lead.customer_id,
            "contact_added",
            actor,
            now,
            &added,
        )?);
    }
    insert_all!(conn, customer_events::table, &events)?;
    write_custom_values(conn, leads, &firsts)
}

/// The custom values of new customers and their first contacts, definitions read once.
fn write_custom_values(
    conn: &mut DbConnection,
    leads: &[NewLead<'_>],
    firsts: &[(&NewLead<'_>, String, &ContactFields)],
) -> Result<(), TxError> {
    let mut definitions: Option<Vec<FieldDefinition>> = None;
    for lead in leads {
        let values = &lead.lead.customer.custom_fields;
        if !values.is_empty() {
            let definitions = match &definitions {
                Some(definitions) => definitions,
                None => definitions.insert(definitions_of(conn, FieldEntity::Customer)?),
            };
            insert_values(conn, definitions, &lead.customer_id, values)?;
        }
    }
    let mut definitions: Option<Vec<FieldDefinition>> = None;
    for (_, contact_id, contact) in firsts {
        if !contact.custom_fields.is_empty() {
            let definitions = match &definitions {
                Some(definitions) => definitions,
                None => definitions.insert(definitions_of(conn, FieldEntity::Contact)?),
            };
            insert_values(conn, definitions, contact_id, &contact.custom_fields)?;
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
