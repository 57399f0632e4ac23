//! `ContactStore` on the database. Contacts are reached through their customer, so the
//! customer's visibility decides.

use chrono::{NaiveDateTime, Utc};
use crm_domain::contact_points::Phone;
use crm_domain::custom_fields::FieldEntity;
use crm_domain::customers::{Contact, ContactFields};
use crm_domain::identity::{Email, Visibility};
use crm_domain::page::{Page, PageRequest};
use crm_domain::ports::{Actor, ContactFilter, ContactStore};
use crm_domain::Backend;
use crm_domain::{DomainError, FieldError};
use diesel::dsl::sql;
use diesel::prelude::*;
use diesel::sql_types::{Bool, Text};

use crate::connection::{insert_few, returned};
use crate::convert::{corrupt, new_id, stored, utc};
use crate::custom_fields::{
    definitions_of, keep_archived, live_keys, write_new_values, write_values,
};
use crate::customers::{
    find_duplicate, fts_phrase, like_pattern, load_visible, lower, record, TRIGRAM,
};
use crate::errors::{check_version, TxError};
use crate::schema::{contact_phones, contacts, customers};
use crate::{Database, DbConnection};

#[derive(Queryable, Selectable)]
#[diesel(table_name = contacts)]
struct ContactRow {
    id: String,
    customer_id: String,
    name: String,
    title: Option<String>,
    phones: String,
    phones_normalized: String,
    email: Option<String>,
    email_normalized: Option<String>,
    wechat_id: Option<String>,
    notes: Option<String>,
    is_primary: bool,
    created_at: NaiveDateTime,
    updated_at: NaiveDateTime,
    version: i64,
    custom_fields: String,
}

impl ContactRow {
    fn into_domain(self) -> Result<Contact, DomainError> {
        let displays: Vec<String> = serde_json::from_str(&self.phones)
            .map_err(|_| corrupt("contacts.phones", &self.phones))?;
        let normalized: Vec<String> = serde_json::from_str(&self.phones_normalized)
            .map_err(|_| corrupt("contacts.phones_normalized", &self.phones_normalized))?;
        let phones = displays
            .into_iter()
            .zip(normalized)
            .map(|(display, normalized)| Phone {
                display,
                normalized,
            })
            .collect();
        let email = match (self.email, self.email_normalized) {
            (Some(display), Some(normalized)) => Some(Email {
                display,
                normalized,
            }),
            _ => None,
        };
        Ok(Contact {
            id: self.id,
            customer_id: self.customer_id,
            fields: ContactFields {
                name: self.name,
                title: self.title,
                phones,
                email,
                wechat_id: self.wechat_id,
                notes: self.notes,
                custom_fields: serde_json::from_str(&self.custom_fields)
                    .map_err(|_| corrupt("contacts.custom_fields", &self.custom_fields))?,
            },
            primary: self.is_primary,
            created_at: utc(self.created_at),
            updated_at: utc(self.updated_at),
            version: self.version,
        })
    }
}

#[derive(Insertable, AsChangeset)]
#[diesel(table_name = contacts, treat_none_as_null = true)]
pub(crate) struct ContactWrite<'a> {
    name: &'a str,
    title: Option<&'a str>,
    phones: String,
    phones_normalized: String,
    email: Option<&'a str>,
    email_normalized: Option<&'a str>,
    wechat_id: Option<&'a str>,
    notes: Option<&'a str>,
    custom_fields: String,
}

impl<'a> ContactWrite<'a> {
    pub(crate) fn of(f: &'a ContactFields) -> Result<Self, DomainError> {
        let json = |v: Vec<&String>| serde_json::to_string(&v).map_err(DomainError::internal);
        Ok(Self {
            name: &f.name,
            title: f.title.as_deref(),
            phones: json(f.phones.iter().map(|p| &p.display).collect())?,
            phones_normalized: json(f.phones.iter().map(|p| &p.normalized).collect())?,
            email: f.email.as_ref().map(|e| e.display.as_str()),
            email_normalized: f.email.as_ref().map(|e| e.normalized.as_str()),
            wechat_id: f.wechat_id.as_deref(),
            notes: f.notes.as_deref(),
            custom_fields: serde_json::to_string(&f.custom_fields)
                .map_err(DomainError::internal)?,
        })
    }
}

/// Every column a new contact is written with, in one flat row: the shape a single INSERT, a
/// multi-row INSERT and a binary `COPY` all take.
#[derive(Insertable)]
#[diesel(table_name = contacts, treat_none_as_default_value = false)]
pub(crate) struct NewContactRow<'a> {
    id: &'a str,
    customer_id: &'a str,
    name: &'a str,
    title: Option<&'a str>,
    phones: String,
    phones_normalized: String,
    email: Option<&'a str>,
    email_normalized: Option<&'a str>,
    wechat_id: Option<&'a str>,
    notes: Option<&'a str>,
    custom_fields: String,
    is_primary: bool,
    created_at: NaiveDateTime,
    updated_at: NaiveDateTime,
    version: i64,
}

impl<'a> NewContactRow<'a> {
    /// The contact `id` of `customer_id` created now with `fields`.
    pub(crate) fn new(
        id: &'a str,
        customer_id: &'a str,
        fields: &'a ContactFields,
        is_primary: bool,
        now: NaiveDateTime,
    ) -> Result<Self, DomainError> {
        let write = ContactWrite::of(fields)?;
        Ok(Self {
            id,
            customer_id,
            name: write.name,
            title: write.title,
            phones: write.phones,
            phones_normalized: write.phones_normalized,
            email: write.email,
            email_normalized: write.email_normalized,
            wechat_id: write.wechat_id,
            notes: write.notes,
            custom_fields: write.custom_fields,
            is_primary,
            created_at: now,
            updated_at: now,
            version: 1,
        })
    }
}

/// One row of a contact's phones, for duplicate checks.
#[derive(Insertable)]
#[diesel(table_name = contact_phones, treat_none_as_default_value = false)]
pub(crate) struct ContactPhoneRow<'a> {
    contact_id: &'a str,
    phone_normalized: &'a str,
}

/// The rows of `fields`' phones for the contact `contact_id`, each normalised phone once.
pub(crate) fn phone_rows<'a>(
    contact_id: &'a str,
    fields: &'a ContactFields,
) -> Vec<ContactPhoneRow<'a>> {
    let mut phones: Vec<&str> = fields
        .phones
        .iter()
        .map(|p| p.normalized.as_str())
        .collect();
    phones.sort_unstable();
    phones.dedup();
    phones
        .into_iter()
        .map(|phone_normalized| ContactPhoneRow {
            contact_id,
            phone_normalized,
        })
        .collect()
}

/// The live contacts of a customer, primary first, then oldest first.
pub(crate) fn contacts_of(
    conn: &mut DbConnection,
    customer_id: &str,
    limit: u32,
) -> Result<Vec<Contact>, TxError> {
    let rows: Vec<ContactRow> = contacts::table
        .filter(contacts::customer_id.eq(customer_id))
        .filter(contacts::deleted_at.is_null())
        .order((contacts::is_primary.desc(), contacts::id.asc()))
        .limit(i64::from(limit))
        .select(ContactRow::as_select())
        .load(conn)?;
    let live = live_keys(conn, FieldEntity::Contact)?;
    rows.into_iter().map(|row| shown(row, &live)).collect()
}

const CONTACT: DomainError = DomainError::NotFound { entity: "contact" };

fn load(conn: &mut DbConnection, customer_id: &str, contact_id: &str) -> Result<Contact, TxError> {
    let row = contacts::table
        .find(contact_id)
        .filter(contacts::customer_id.eq(customer_id))
        .filter(contacts::deleted_at.is_null())
        .select(ContactRow::as_select())
        .get_result(conn)
        .optional()?
        .ok_or(CONTACT)?;
    let live = live_keys(conn, FieldEntity::Contact)?;
    shown(row, &live)
}

/// The contact, without the values of archived custom fields.
fn shown(row: ContactRow, live: &std::collections::HashSet<String>) -> Result<Contact, TxError> {
    let mut contact = row.into_domain()?;
    contact.fields.custom_fields.retain(|k, _| live.contains(k));
    Ok(contact)
}

/// Makes `contact_id` the customer's only primary contact.
fn make_primary(
    conn: &mut DbConnection,
    customer_id: &str,
    contact_id: &str,
) -> Result<(), TxError> {
    diesel::update(contacts::table.filter(contacts::customer_id.eq(customer_id)))
        .set(contacts::is_primary.eq(contacts::id.eq(contact_id)))
        .execute(conn)?;
    Ok(())
}

/// Indexes the contact's normalised phones for duplicate checks.
fn write_phones(
    conn: &mut DbConnection,
    contact_id: &str,
    fields: &ContactFields,
) -> Result<(), TxError> {
    insert_few!(conn, contact_phones::table, &phone_rows(contact_id, fields))?;
    Ok(())
}

/// `Duplicate` when another customer has one of the contact's phones or its email.
fn refuse_duplicate(
    conn: &mut DbConnection,
    visibility: &Visibility,
    customer_id: &str,
    fields: &ContactFields,
) -> Result<(), TxError> {
    let mut points = crate::customers::Points::default();
    points.add_contact(fields);
    match find_duplicate(conn, visibility, &points, Some(customer_id))? {
        Some(duplicate) => Err(duplicate.into()),
        None => Ok(()),
    }
}

/// Adds a contact to a customer (primary when asked or when it is the first), with its phones,
/// custom values and a `contact_added` entry in the customer's history. The customer's version
/// is left to the caller.
pub(crate) fn insert_contact(
    conn: &mut DbConnection,
    actor: &Actor,
    customer_id: &str,
    id: &str,
    fields: &ContactFields,
    primary: bool,
    now: NaiveDateTime,
) -> Result<(), TxError> {
    let existing: i64 = contacts::table
        .filter(contacts::customer_id.eq(customer_id))
        .filter(contacts::deleted_at.is_null())
        .count()
        .get_result(conn)?;
    let first = existing == 0;
    write_contact(conn, customer_id, id, fields, first, now)?;
    if primary && !first {
        make_primary(conn, customer_id, id)?;
    }
    let changes = fields.changes_from(None);
    record(conn, customer_id, "contact_added", actor, now, &changes)
}

/// Writes a contact's row (primary or not, as said), its phones and its custom values, and
/// answers the contact as written; no history entry.
pub(crate) fn write_contact(
    conn: &mut DbConnection,
    customer_id: &str,
    id: &str,
    fields: &ContactFields,
    primary: bool,
    now: NaiveDateTime,
) -> Result<Contact, TxError> {
    let row = diesel::insert_into(contacts::table)
        .values(NewContactRow::new(id, customer_id, fields, primary, now)?)
        .returning(returned!(ContactRow))
        .get_result(conn)?;
    write_phones(conn, id, fields)?;
    write_new_values(conn, FieldEntity::Contact, id, &fields.custom_fields)?;
    let live = live_keys(conn, FieldEntity::Contact)?;
    shown(row, &live)
}

/// Keeps the customer's row version moving with its contacts, so a customer's `ETag` changes
/// when its contacts do.
fn touch_customer(
    conn: &mut DbConnection,
    customer_id: &str,
    now: NaiveDateTime,
) -> Result<(), TxError> {
    diesel::update(customers::table.find(customer_id))
        .set((
            customers::updated_at.eq(now),
            customers::version.eq(customers::version + 1),
        ))
        .execute(conn)?;
    Ok(())
}

crate::custom_fields::custom_condition!(
    custom_condition,
    contacts,
    diesel::dsl::InnerJoinQuerySource<contacts::table, customers::table>
);

impl ContactStore for Database {
    fn create_contact(
        &self,
        actor: &Actor,
        customer_id: &str,
        fields: ContactFields,
        primary: bool,
        allow_duplicate: bool,
    ) -> Result<Contact, DomainError> {
        let id = new_id();
        let now = stored(Utc::now());
        self.write(|conn| {
            load_visible(conn, &actor.visibility, customer_id)?;
            if !allow_duplicate {
                refuse_duplicate(conn, &actor.visibility, customer_id, &fields)?;
            }
            insert_contact(conn, actor, customer_id, &id, &fields, primary, now)?;
            touch_customer(conn, customer_id, now)?;
            load(conn, customer_id, &id)
        })
    }

    fn contact(
        &self,
        actor: &Actor,
        customer_id: &str,
        contact_id: &str,
    ) -> Result<Contact, DomainError> {
        self.read(|conn| {
            load_visible(conn, &actor.visibility, customer_id)?;
            load(conn, customer_id, contact_id)
        })
    }

    fn list_contacts(
        &self,
        actor: &Actor,
        filter: &ContactFilter,
        page: &PageRequest,
    ) -> Result<Page<Contact>, DomainError> {
        let backend = self.backend();
        self.read(|conn| {
            if let Some(customer_id) = &filter.customer_id {
                load_visible(conn, &actor.visibility, customer_id)?;
            }
            let mut query = contacts::table
                .inner_join(customers::table)
                .filter(contacts::deleted_at.is_null())
                .filter(customers::deleted_at.is_null())
                .select(ContactRow::as_select())
                .order(contacts::id.asc())
                .limit(i64::from(page.limit) + 1)
                .into_boxed();
            if let Visibility::OwnersOrPool(owners) = &actor.visibility {
                query = query.filter(crate::conditions::owned_or_pool(owners));
            }
            if let Some(customer_id) = &filter.customer_id {
                query = query.filter(contacts::customer_id.eq(customer_id));
            }
            if let Some(email) = &filter.email {
                query = query.filter(contacts::email_normalized.eq(email));
            }
            if let Some(phone) = &filter.phone {
                let with_phone = contact_phones::table
                    .filter(contact_phones::phone_normalized.eq(phone))
                    .select(contact_phones::contact_id);
                query = query.filter(contacts::id.eq_any(with_phone));
            }
            if let Some(q) = filter.q.as_deref().map(str::trim).filter(|q| !q.is_empty()) {
                let needle = q.to_lowercase();
                if needle.chars().count() >= TRIGRAM {
                    query = query.filter(match backend {
                        Backend::Sqlite => sql::<Bool>(
                            "contacts.search_key IN \
                             (SELECT rowid FROM contact_search WHERE contact_search MATCH ",
                        )
                        .bind::<Text, _>(fts_phrase(&needle))
                        .sql(")"),
                        Backend::Postgres => sql::<Bool>("lower(contacts.name) LIKE ")
                            .bind::<Text, _>(like_pattern(&needle))
                            .sql(""),
                    });
                } else {
                    query = query.filter(
                        lower(contacts::name)
                            .like(like_pattern(&needle))
                            .escape('\\'),
                    );
                }
            }
            for condition in crate::custom_fields::conditions(&filter.custom) {
                query = query.filter(custom_condition(&condition));
            }
            if let Some(after) = &page.after {
                query = query.filter(contacts::id.gt(after));
            }
            let rows: Vec<ContactRow> = query.load(conn)?;
            let live = live_keys(conn, FieldEntity::Contact)?;
            let rows = rows
                .into_iter()
                .map(|row| shown(row, &live))
                .collect::<Result<Vec<_>, _>>()?;
            Ok(Page::from_rows(rows, page.limit, |c| c.id.clone()))
        })
    }

    fn update_contact(
        &self,
        actor: &Actor,
        customer_id: &str,
        contact_id: &str,
        fields: ContactFields,
        primary: Option<bool>,
        expected_version: Option<i64>,
    ) -> Result<Contact, DomainError> {
        let now = stored(Utc::now());
        self.write(|conn| {
            load_visible(conn, &actor.visibility, customer_id)?;
            let current = load(conn, customer_id, contact_id)?;
            check_version(expected_version, current.version)?;
            if primary == Some(false) && current.primary {
                return Err(DomainError::Validation(vec![FieldError::new(
                    "/primary",
                    "primary_required",
                    "a customer with contacts keeps one primary contact: make another contact primary instead",
                )])
                .into());
            }
            let changes = fields.changes_from(Some(&current.fields));
            let becomes_primary = primary == Some(true) && !current.primary;
            if changes.is_empty() && !becomes_primary {
                return Ok(current);
            }
            let points_changed = fields.phones != current.fields.phones
                || fields.email.as_ref().map(|e| &e.normalized)
                    != current.fields.email.as_ref().map(|e| &e.normalized);
            if points_changed {
                refuse_duplicate(conn, &actor.visibility, customer_id, &fields)?;
            }
            // Values of archived fields are not shown but kept.
            let stored_raw: String = contacts::table
                .find(contact_id)
                .select(contacts::custom_fields)
                .get_result(conn)?;
            let definitions = definitions_of(conn, FieldEntity::Contact)?;
            let mut fields = fields.clone();
            keep_archived(&definitions, &stored_raw, &mut fields.custom_fields)?;
            let write = ContactWrite::of(&fields)?;
            diesel::update(contacts::table.find(contact_id))
                .set((
                    &write,
                    contacts::updated_at.eq(now),
                    contacts::version.eq(current.version + 1),
                ))
                .execute(conn)?;
            write_values(conn, &definitions, contact_id, &fields.custom_fields)?;
            if fields.phones != current.fields.phones {
                diesel::delete(
                    contact_phones::table.filter(contact_phones::contact_id.eq(contact_id)),
                )
                .execute(conn)?;
                write_phones(conn, contact_id, &fields)?;
            }
            if becomes_primary {
                make_primary(conn, customer_id, contact_id)?;
            }
            touch_customer(conn, customer_id, now)?;
            record(conn, customer_id, "contact_updated", actor, now, &changes)?;
            load(conn, customer_id, contact_id)
        })
    }

    fn delete_contact(
        &self,
        actor: &Actor,
        customer_id: &str,
        contact_id: &str,
    ) -> Result<(), DomainError> {
        let now = stored(Utc::now());
        self.write(|conn| {
            load_visible(conn, &actor.visibility, customer_id)?;
            let current = load(conn, customer_id, contact_id)?;
            diesel::update(contacts::table.find(contact_id))
                .set((contacts::deleted_at.eq(now), contacts::is_primary.eq(false)))
                .execute(conn)?;
            if current.primary {
                let next: Option<String> = contacts::table
                    .filter(contacts::customer_id.eq(customer_id))
                    .filter(contacts::deleted_at.is_null())
                    .order(contacts::id.asc())
                    .select(contacts::id)
                    .first(conn)
                    .optional()?;
                if let Some(next) = next {
                    make_primary(conn, customer_id, &next)?;
                }
            }
            touch_customer(conn, customer_id, now)?;
            let removed = current
                .fields
                .audit_values()
                .into_iter()
                .filter(|(_, v)| !v.is_null())
                .map(|(field, old)| crm_domain::customers::FieldChange {
                    field: field.to_string(),
                    old,
                    new: serde_json::Value::Null,
                })
                .collect::<Vec<_>>();
            record(conn, customer_id, "contact_removed", actor, now, &removed)
        })
    }
}
