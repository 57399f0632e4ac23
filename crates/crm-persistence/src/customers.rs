//! `CustomerStore` on the database.

use std::collections::HashMap;

use chrono::{NaiveDate, NaiveDateTime, Utc};
use crm_domain::contact_points::Phone;
use crm_domain::custom_fields::{CustomFilter, CustomSort, FieldEntity, IndexKey};
use crm_domain::customers::{
    Contact, ContactFields, Customer, CustomerFields, CustomerKind, CustomerSort, CustomerSortKey,
    FieldChange, LifecycleStatus, SortPosition, SortValue,
};
use crm_domain::identity::{Email, Visibility};
use crm_domain::imports::MatchKey;
use crm_domain::opportunities::OpportunityStatus;
use crm_domain::page::{Page, PageRequest};
use crm_domain::ports::{
    Actor, BatchLead, BatchOutcome, CustomerEvent, CustomerFilter, CustomerOverviewParts,
    CustomerStore, OpportunityFilter, OverviewLimits, OwnershipChange,
};
use crm_domain::Backend;
use crm_domain::{DomainError, FieldError};
use diesel::dsl::sql;
use diesel::prelude::*;
use diesel::sql_types::{Bool, Nullable, Text};
use serde_json::{json, Value};

use crate::connection::{insert_few, per_backend, returned};
use crate::contacts::write_contact;
use crate::convert::{corrupt, new_id, stored, utc};
use crate::custom_fields::{
    definitions_of, keep_archived, live_keys, write_new_values, write_values,
};
use crate::errors::{check_version, TxError};
use crate::imports::{apply_lead, LeadRules};
use crate::schema::{
    contact_phones, contacts, custom_field_values, customer_events, customers, users,
};
use crate::{Database, DbConnection};

/// A customer's row as stored (also kept whole, as JSON, by merges to be undone).
#[derive(Queryable, Selectable, serde::Serialize, serde::Deserialize)]
#[diesel(table_name = customers)]
pub(crate) struct CustomerRow {
    id: String,
    kind: String,
    name: String,
    legal_name: Option<String>,
    industry: Option<String>,
    company_size: Option<String>,
    website: Option<String>,
    address: Option<String>,
    tax_id: Option<String>,
    gender: Option<String>,
    birthday: Option<NaiveDate>,
    phone: Option<String>,
    phone_normalized: Option<String>,
    email: Option<String>,
    email_normalized: Option<String>,
    status: String,
    classification: Option<String>,
    lead_source: Option<String>,
    tags: String,
    owner_id: Option<String>,
    score: i64,
    last_activity_at: Option<NaiveDateTime>,
    next_follow_up_at: Option<NaiveDateTime>,
    created_at: NaiveDateTime,
    updated_at: NaiveDateTime,
    deleted_at: Option<NaiveDateTime>,
    version: i64,
    custom_fields: String,
    external_id: Option<String>,
}

impl CustomerRow {
    pub(crate) fn into_domain(self) -> Result<Customer, DomainError> {
        let phone = match (self.phone, self.phone_normalized) {
            (Some(display), Some(normalized)) => Some(Phone {
                display,
                normalized,
            }),
            _ => None,
        };
        let email = match (self.email, self.email_normalized) {
            (Some(display), Some(normalized)) => Some(Email {
                display,
                normalized,
            }),
            _ => None,
        };
        Ok(Customer {
            fields: CustomerFields {
                kind: CustomerKind::parse(&self.kind)
                    .ok_or_else(|| corrupt("customers.kind", &self.kind))?,
                name: self.name,
                legal_name: self.legal_name,
                industry: self.industry,
                company_size: self.company_size,
                website: self.website,
                address: self.address,
                tax_id: self.tax_id,
                gender: self.gender,
                birthday: self.birthday,
                phone,
                email,
                status: LifecycleStatus::parse(&self.status)
                    .ok_or_else(|| corrupt("customers.status", &self.status))?,
                classification: self.classification,
                lead_source: self.lead_source,
                tags: serde_json::from_str(&self.tags)
                    .map_err(|_| corrupt("customers.tags", &self.tags))?,
                external_id: self.external_id,
                custom_fields: serde_json::from_str(&self.custom_fields)
                    .map_err(|_| corrupt("customers.custom_fields", &self.custom_fields))?,
            },
            id: self.id,
            owner_id: self.owner_id,
            score: self.score,
            last_activity_at: self.last_activity_at.map(utc),
            next_follow_up_at: self.next_follow_up_at.map(utc),
            created_at: utc(self.created_at),
            updated_at: utc(self.updated_at),
            deleted_at: self.deleted_at.map(utc),
            version: self.version,
        })
    }
}

/// The written columns of a customer.
#[derive(Insertable, AsChangeset)]
#[diesel(table_name = customers, treat_none_as_null = true)]
pub(crate) struct CustomerWrite<'a> {
    kind: &'a str,
    name: &'a str,
    legal_name: Option<&'a str>,
    industry: Option<&'a str>,
    company_size: Option<&'a str>,
    website: Option<&'a str>,
    address: Option<&'a str>,
    tax_id: Option<&'a str>,
    gender: Option<&'a str>,
    birthday: Option<NaiveDate>,
    phone: Option<&'a str>,
    phone_normalized: Option<&'a str>,
    email: Option<&'a str>,
    email_normalized: Option<&'a str>,
    status: &'a str,
    classification: Option<&'a str>,
    lead_source: Option<&'a str>,
    tags: String,
    custom_fields: String,
    external_id: Option<&'a str>,
}

impl<'a> CustomerWrite<'a> {
    pub(crate) fn of(f: &'a CustomerFields) -> Result<Self, DomainError> {
        Ok(Self {
            kind: f.kind.as_str(),
            name: &f.name,
            legal_name: f.legal_name.as_deref(),
            industry: f.industry.as_deref(),
            company_size: f.company_size.as_deref(),
            website: f.website.as_deref(),
            address: f.address.as_deref(),
            tax_id: f.tax_id.as_deref(),
            gender: f.gender.as_deref(),
            birthday: f.birthday,
            phone: f.phone.as_ref().map(|p| p.display.as_str()),
            phone_normalized: f.phone.as_ref().map(|p| p.normalized.as_str()),
            email: f.email.as_ref().map(|e| e.display.as_str()),
            email_normalized: f.email.as_ref().map(|e| e.normalized.as_str()),
            status: f.status.as_str(),
            classification: f.classification.as_deref(),
            lead_source: f.lead_source.as_deref(),
            tags: serde_json::to_string(&f.tags).map_err(DomainError::internal)?,
            custom_fields: serde_json::to_string(&f.custom_fields)
                .map_err(DomainError::internal)?,
            external_id: f.external_id.as_deref(),
        })
    }
}

/// Every column a new customer is written with, in one flat row: the shape a single INSERT,
/// a multi-row INSERT and a binary `COPY` all take.
#[derive(Insertable)]
#[diesel(table_name = customers, treat_none_as_default_value = false)]
pub(crate) struct NewCustomerRow<'a> {
    id: &'a str,
    kind: &'a str,
    name: &'a str,
    legal_name: Option<&'a str>,
    industry: Option<&'a str>,
    company_size: Option<&'a str>,
    website: Option<&'a str>,
    address: Option<&'a str>,
    tax_id: Option<&'a str>,
    gender: Option<&'a str>,
    birthday: Option<NaiveDate>,
    phone: Option<&'a str>,
    phone_normalized: Option<&'a str>,
    email: Option<&'a str>,
    email_normalized: Option<&'a str>,
    status: &'a str,
    classification: Option<&'a str>,
    lead_source: Option<&'a str>,
    tags: String,
    custom_fields: String,
    external_id: Option<&'a str>,
    owner_id: Option<&'a str>,
    score: i64,
    created_by: &'a str,
    created_at: NaiveDateTime,
    updated_at: NaiveDateTime,
    version: i64,
}

impl<'a> NewCustomerRow<'a> {
    /// The customer `id` created now by `created_by` with `fields`, owned by `owner_id` (the
    /// pool when `None`).
    pub(crate) fn new(
        id: &'a str,
        fields: &'a CustomerFields,
        owner_id: Option<&'a str>,
        created_by: &'a str,
        now: NaiveDateTime,
    ) -> Result<Self, DomainError> {
        let write = CustomerWrite::of(fields)?;
        Ok(Self {
            id,
            kind: write.kind,
            name: write.name,
            legal_name: write.legal_name,
            industry: write.industry,
            company_size: write.company_size,
            website: write.website,
            address: write.address,
            tax_id: write.tax_id,
            gender: write.gender,
            birthday: write.birthday,
            phone: write.phone,
            phone_normalized: write.phone_normalized,
            email: write.email,
            email_normalized: write.email_normalized,
            status: write.status,
            classification: write.classification,
            lead_source: write.lead_source,
            tags: write.tags,
            custom_fields: write.custom_fields,
            external_id: write.external_id,
            owner_id,
            score: 0,
            created_by,
            created_at: now,
            updated_at: now,
            version: 1,
        })
    }
}

type Db = <DbConnection as Connection>::Backend;

diesel::define_sql_function! {
    /// SQL `lower(text)`, on both backends.
    fn lower(x: diesel::sql_types::Text) -> diesel::sql_types::Text;
}

/// `%text%` for LIKE, with `%`, `_` and the escape character itself escaped by `\`.
pub(crate) fn like_pattern(text: &str) -> String {
    let escaped = text
        .replace('\\', "\\\\")
        .replace('%', "\\%")
        .replace('_', "\\_");
    format!("%{escaped}%")
}

/// The shortest search text the trigram indexes serve; shorter text is matched by a scan.
pub(crate) const TRIGRAM: usize = 3;

/// `text` as an FTS5 phrase: quoted, inner quotes doubled.
pub(crate) fn fts_phrase(text: &str) -> String {
    format!("\"{}\"", text.replace('"', "\"\""))
}

const CUSTOMER: DomainError = DomainError::NotFound { entity: "customer" };

/// The live customer `id`, when `visibility` lets the caller see it.
pub(crate) fn load_visible(
    conn: &mut DbConnection,
    visibility: &Visibility,
    id: &str,
) -> Result<Customer, TxError> {
    let row = per_backend!(conn, |c| customers::table
        .find(id)
        .filter(customers::deleted_at.is_null())
        .select(CustomerRow::as_select())
        .get_result(c)
        .optional())?
    .ok_or(CUSTOMER)?;
    if !visibility.allows(row.owner_id.as_deref()) {
        return Err(CUSTOMER.into());
    }
    shown(conn, row)
}

/// The customer of `row`, without the values of archived custom fields.
fn shown(conn: &mut DbConnection, row: CustomerRow) -> Result<Customer, TxError> {
    let mut customer = row.into_domain()?;
    let live = live_keys(conn, FieldEntity::Customer)?;
    customer
        .fields
        .custom_fields
        .retain(|k, _| live.contains(k));
    Ok(customer)
}

/// What finds a customer: normalised phones and emails (its own or its live contacts') and
/// external ids.
#[derive(Debug, Default)]
pub(crate) struct Points<'a> {
    pub(crate) phones: Vec<&'a str>,
    pub(crate) emails: Vec<&'a str>,
    pub(crate) external_ids: Vec<&'a str>,
}

impl<'a> Points<'a> {
    /// Adds a contact's normalised phones and email.
    pub(crate) fn add_contact(&mut self, contact: &'a ContactFields) {
        self.phones
            .extend(contact.phones.iter().map(|p| p.normalized.as_str()));
        self.emails
            .extend(contact.email.iter().map(|e| e.normalized.as_str()));
    }
}

/// Live customers other than `except` that have one of `points`, with their owners, in id
/// order.
pub(crate) fn matching_customers(
    conn: &mut DbConnection,
    points: &Points<'_>,
    except: Option<&str>,
) -> Result<Vec<(String, Option<String>)>, TxError> {
    let mut matches: Vec<(String, Option<String>)> = point_holders(conn, points, except)?
        .into_iter()
        .map(|(_, id, owner)| (id, owner))
        .collect();
    matches.sort();
    matches.dedup();
    Ok(matches)
}

/// Every live customer other than `except` holding one of `points` (as its own phone, email
/// or external id, or through one of its live contacts): the point (`phone:…`, `email:…`,
/// `external_id:…`), the customer and its owner.
///
/// Every statement starts from an index on the looked-up values or on primary keys and joins
/// nothing: with the hundreds of values of an import batch and statistics that lag behind a
/// table the import is filling, a join let PostgreSQL's planner walk all contacts instead. The
/// points are looked up in one statement, a `UNION ALL` of a branch per kind of point and
/// holder (an OR over the columns cannot use the partial index on external ids); a branch with
/// nothing to look up costs nothing. Only when a contact holds a point are the contacts, then
/// their customers, checked for being live, by primary key. Diesel builds a `UNION` only for a
/// concrete backend, so the statement is written once and built for each.
pub(crate) fn point_holders(
    conn: &mut DbConnection,
    points: &Points<'_>,
    except: Option<&str>,
) -> Result<Vec<(String, String, Option<String>)>, TxError> {
    let Points {
        phones,
        emails,
        external_ids,
    } = points;
    if phones.is_empty() && emails.is_empty() && external_ids.is_empty() {
        return Ok(Vec::new());
    }
    let except = except.unwrap_or_default();
    // (holder, kind of point, point, id, owner): a customer's own point with its id and owner,
    // or a contact's with the contact's id.
    const CUSTOMER: bool = false;
    const CONTACT: bool = true;
    let found: Vec<(bool, String, String, String, Option<String>)> = per_backend!(conn, |c| {
        let live = || {
            customers::deleted_at
                .is_null()
                .and(customers::id.ne(except))
        };
        let no_owner = || None::<String>.into_sql::<Nullable<Text>>();
        customers::table
            .filter(live())
            .filter(customers::phone_normalized.eq_any(phones))
            .select((
                CUSTOMER.into_sql::<Bool>(),
                "phone".into_sql::<Text>(),
                customers::phone_normalized.assume_not_null(),
                customers::id,
                customers::owner_id,
            ))
            .union_all(
                customers::table
                    .filter(live())
                    .filter(customers::email_normalized.eq_any(emails))
                    .select((
                        CUSTOMER.into_sql::<Bool>(),
                        "email".into_sql::<Text>(),
                        customers::email_normalized.assume_not_null(),
                        customers::id,
                        customers::owner_id,
                    )),
            )
            .union_all(
                customers::table
                    .filter(live())
                    .filter(customers::external_id.is_not_null())
                    .filter(customers::external_id.eq_any(external_ids))
                    .select((
                        CUSTOMER.into_sql::<Bool>(),
                        "external_id".into_sql::<Text>(),
                        customers::external_id.assume_not_null(),
                        customers::id,
                        customers::owner_id,
                    )),
            )
            .union_all(
                contacts::table
                    .filter(contacts::email_normalized.eq_any(emails))
                    .select((
                        CONTACT.into_sql::<Bool>(),
                        "email".into_sql::<Text>(),
                        contacts::email_normalized.assume_not_null(),
                        contacts::id,
                        no_owner(),
                    )),
            )
            .union_all(
                contact_phones::table
                    .filter(contact_phones::phone_normalized.eq_any(phones))
                    .select((
                        CONTACT.into_sql::<Bool>(),
                        "phone".into_sql::<Text>(),
                        contact_phones::phone_normalized,
                        contact_phones::contact_id,
                        no_owner(),
                    )),
            )
            .load(c)
    })?;
    let mut holders = Vec::new();
    // Contacts holding a point, then which of them are live and belong to a live customer.
    let mut by_contact: Vec<(String, String)> = Vec::new();
    for (holder, kind, point, id, owner) in found {
        match holder {
            CUSTOMER => holders.push((format!("{kind}:{point}"), id, owner)),
            CONTACT => by_contact.push((id, format!("{kind}:{point}"))),
        }
    }
    if by_contact.is_empty() {
        return Ok(holders);
    }
    let mut contact_ids: Vec<&str> = by_contact.iter().map(|(id, _)| id.as_str()).collect();
    contact_ids.sort_unstable();
    contact_ids.dedup();
    let live_contacts: HashMap<String, String> = contacts::table
        .filter(contacts::id.eq_any(&contact_ids))
        .filter(contacts::deleted_at.is_null())
        .select((contacts::id, contacts::customer_id))
        .load::<(String, String)>(conn)?
        .into_iter()
        .collect();
    let mut customer_ids: Vec<&str> = live_contacts.values().map(String::as_str).collect();
    customer_ids.sort_unstable();
    customer_ids.dedup();
    let live_customers: HashMap<String, Option<String>> = customers::table
        .filter(customers::id.eq_any(&customer_ids))
        .filter(customers::deleted_at.is_null())
        .filter(customers::id.ne(except))
        .select((customers::id, customers::owner_id))
        .load::<(String, Option<String>)>(conn)?
        .into_iter()
        .collect();
    for (contact, point) in by_contact {
        let customer = live_contacts.get(&contact);
        if let Some((id, owner)) = customer.and_then(|id| live_customers.get_key_value(id)) {
            holders.push((point, id.clone(), owner.clone()));
        }
    }
    Ok(holders)
}

/// `Duplicate` when a live customer other than `except` has one of `points`. The error names
/// the first such customer the caller may see, and no customer when they may see none of them.
pub(crate) fn find_duplicate(
    conn: &mut DbConnection,
    visibility: &Visibility,
    points: &Points<'_>,
    except: Option<&str>,
) -> Result<Option<DomainError>, TxError> {
    let matches = matching_customers(conn, points, except)?;
    if matches.is_empty() {
        return Ok(None);
    }
    let visible = matches
        .iter()
        .find(|(_, owner)| visibility.allows(owner.as_deref()))
        .map(|(id, _)| id.clone());
    Ok(Some(DomainError::Duplicate {
        entity: "customer",
        existing_id: visible,
    }))
}

/// Inserts a new customer with its custom values and its `created` history entry, and its first
/// contact (`(id, fields)`, the primary one, with its `contact_added` entry) when given; answers
/// both as written.
pub(crate) fn insert_customer(
    conn: &mut DbConnection,
    actor: &Actor,
    id: &str,
    fields: &CustomerFields,
    first_contact: Option<(&str, &ContactFields)>,
    owner_id: Option<&str>,
    now: NaiveDateTime,
) -> Result<(Customer, Option<Contact>), TxError> {
    let row = diesel::insert_into(customers::table)
        .values(NewCustomerRow::new(id, fields, owner_id, &actor.id, now)?)
        .returning(returned!(CustomerRow))
        .get_result(conn)?;
    write_new_values(conn, FieldEntity::Customer, id, &fields.custom_fields)?;
    let created = created_changes(fields, owner_id);
    let mut events = vec![event(id, "created", actor, now, &created)?];
    let contact = match first_contact {
        None => None,
        Some((contact_id, contact)) => {
            // Its problems point into the customer body's `contact`.
            let written =
                write_contact(conn, id, contact_id, contact, true, now).map_err(|e| match e {
                    TxError::Domain(DomainError::Validation(errors)) => {
                        TxError::Domain(DomainError::Validation(
                            errors.into_iter().map(|e| e.under("/contact")).collect(),
                        ))
                    }
                    other => other,
                })?;
            let added = contact.changes_from(None);
            events.push(event(id, "contact_added", actor, now, &added)?);
            Some(written)
        }
    };
    insert_few!(conn, customer_events::table, &events)?;
    Ok((shown(conn, row)?, contact))
}

/// What a new customer's history shows: every value it was created with, and its owner.
pub(crate) fn created_changes(fields: &CustomerFields, owner_id: Option<&str>) -> Vec<FieldChange> {
    let mut changes = fields.as_created();
    if owner_id.is_some() {
        changes.extend(owner_change(&None, &owner_id.map(str::to_owned)));
    }
    changes
}

/// Writes `fields` over the stored customer `current` (keeping values of archived custom
/// fields), moves its version on and records `changes`.
pub(crate) fn rewrite_customer(
    conn: &mut DbConnection,
    actor: &Actor,
    current: &Customer,
    fields: &CustomerFields,
    changes: &[FieldChange],
    now: NaiveDateTime,
) -> Result<(), TxError> {
    let id = current.id.as_str();
    // Values of archived fields are not shown but kept.
    let stored_raw: String = customers::table
        .find(id)
        .select(customers::custom_fields)
        .get_result(conn)?;
    let mut fields = fields.clone();
    let definitions = definitions_of(conn, FieldEntity::Customer)?;
    keep_archived(&definitions, &stored_raw, &mut fields.custom_fields)?;
    let write = CustomerWrite::of(&fields)?;
    diesel::update(customers::table.find(id))
        .set((
            &write,
            customers::updated_at.eq(now),
            customers::version.eq(current.version + 1),
        ))
        .execute(conn)?;
    write_values(conn, &definitions, id, &fields.custom_fields)?;
    record(conn, id, "updated", actor, now, changes)
}

/// A batch item's refusal as field errors under `/items/<i>`.
fn batch_errors(i: usize, refused: &DomainError) -> Vec<FieldError> {
    match refused {
        DomainError::Validation(errors) => errors
            .iter()
            .map(|e| FieldError::new(format!("/items/{i}{}", e.pointer), &e.code, &e.message))
            .collect(),
        DomainError::Duplicate { .. } => vec![FieldError::new(
            format!("/items/{i}"),
            "duplicate_customer",
            "a customer with the same phone or email exists",
        )],
        other => vec![FieldError::new(
            format!("/items/{i}"),
            "refused",
            other.to_string(),
        )],
    }
}

/// The normalised phone and email of a customer's own fields.
pub(crate) fn own_points(fields: &CustomerFields) -> Points<'_> {
    Points {
        phones: fields.phone.iter().map(|p| p.normalized.as_str()).collect(),
        emails: fields.email.iter().map(|e| e.normalized.as_str()).collect(),
        external_ids: fields.external_id.iter().map(String::as_str).collect(),
    }
}

pub(crate) fn record(
    conn: &mut DbConnection,
    customer_id: &str,
    action: &str,
    actor: &Actor,
    at: NaiveDateTime,
    changes: &[FieldChange],
) -> Result<(), TxError> {
    diesel::insert_into(customer_events::table)
        .values(event(customer_id, action, actor, at, changes)?)
        .execute(conn)?;
    Ok(())
}

/// The values of one history entry, for `record` and for multi-row inserts.
pub(crate) fn event(
    customer_id: &str,
    action: &str,
    actor: &Actor,
    at: NaiveDateTime,
    changes: &[FieldChange],
) -> Result<EventRow, TxError> {
    let changes: Vec<StoredChange<'_>> = changes
        .iter()
        .map(|c| StoredChange {
            field: &c.field,
            new: &c.new,
            old: &c.old,
        })
        .collect();
    let changes = serde_json::to_string(&changes)
        .map_err(|e| DomainError::internal(format!("history entry not serialisable: {e}")))?;
    Ok(EventRow {
        id: new_id(),
        customer_id: customer_id.to_string(),
        action: action.to_string(),
        actor_id: actor.id.clone(),
        at,
        changes,
    })
}

/// One change as a history entry stores it (`{"field", "new", "old"}`), written straight from
/// the change without building a JSON value first: an import writes two entries per lead.
#[derive(serde::Serialize)]
struct StoredChange<'a> {
    field: &'a str,
    new: &'a Value,
    old: &'a Value,
}

/// One history entry as written.
#[derive(Insertable)]
#[diesel(table_name = customer_events, treat_none_as_default_value = false)]
pub(crate) struct EventRow {
    id: String,
    customer_id: String,
    action: String,
    actor_id: String,
    at: NaiveDateTime,
    changes: String,
}

fn owner_change(old: &Option<String>, new: &Option<String>) -> Vec<FieldChange> {
    vec![FieldChange {
        field: "owner_id".to_string(),
        old: json!(old),
        new: json!(new),
    }]
}

/// The new owner must be an active user the actor can see records of.
pub(crate) fn check_owner(
    conn: &mut DbConnection,
    actor: &Actor,
    owner_id: &str,
) -> Result<(), TxError> {
    let visibility = &actor.visibility;
    // The caller's own account was found active when their request was authenticated.
    if actor.user_id.as_deref() == Some(owner_id) && visibility.allows(Some(owner_id)) {
        return Ok(());
    }
    let active: Option<bool> = users::table
        .find(owner_id)
        .select(users::active)
        .get_result(conn)
        .optional()?;
    let allowed = active == Some(true) && visibility.allows(Some(owner_id));
    if !allowed {
        return Err(DomainError::Validation(vec![FieldError::new(
            "/owner_id",
            "invalid_owner",
            "not an active user whose customers you may manage",
        )])
        .into());
    }
    Ok(())
}

/// The list queries of customers with their filters, for a query from `$from` (of type
/// `$query`, whose query source is `$source`): [`plain`] reads customers alone; [`valued`] joins
/// each to its index row of a custom field, to order by the value.
macro_rules! customer_lists {
    ($module:ident, $source:ty, $query:ty, $from:expr) => {
        pub(crate) mod $module {
            use super::*;

/// Customers whose name or email contains `needle` (lower-case, 3+ characters), whose phone
/// contains `digits` (3+), or with a live contact whose name contains `needle`: the ids come from
/// the trigram indexes (FTS5 on SQLite, pg_trgm on PostgreSQL).
fn indexed_search(
    backend: Backend,
    needle: &str,
    digits: &str,
) -> Box<dyn BoxableExpression<$source, Db, SqlType = Bool>> {
    match backend {
        Backend::Sqlite => {
            let mut customer_match = format!("{{name email}} : {}", fts_phrase(needle));
            if digits.len() >= TRIGRAM {
                customer_match.push_str(&format!(" OR phone : {}", fts_phrase(digits)));
            }
            Box::new(
                sql::<Bool>(
                    "customers.id IN (SELECT id FROM customers WHERE search_key IN \
                     (SELECT rowid FROM customer_search WHERE customer_search MATCH ",
                )
                .bind::<Text, _>(customer_match)
                .sql(
                    ") UNION ALL SELECT customer_id FROM contacts WHERE deleted_at IS NULL \
                     AND search_key IN (SELECT rowid FROM contact_search WHERE contact_search MATCH ",
                )
                .bind::<Text, _>(fts_phrase(needle))
                .sql("))"),
            )
        }
        Backend::Postgres => {
            let pattern = like_pattern(needle);
            let names =
                sql::<Bool>("customers.id IN (SELECT id FROM customers WHERE lower(name) LIKE ")
                    .bind::<Text, _>(pattern.clone())
                    .sql(" UNION ALL SELECT id FROM customers WHERE email_normalized LIKE ")
                    .bind::<Text, _>(pattern.clone())
                    .sql(
                        " UNION ALL SELECT customer_id FROM contacts \
                     WHERE deleted_at IS NULL AND lower(name) LIKE ",
                    )
                    .bind::<Text, _>(pattern);
            if digits.len() >= TRIGRAM {
                Box::new(
                    names
                        .sql(" UNION ALL SELECT id FROM customers WHERE phone_normalized LIKE ")
                        .bind::<Text, _>(like_pattern(digits))
                        .sql(")"),
                )
            } else {
                Box::new(names.sql(")"))
            }
        }
    }
}

/// The same match as [`indexed_search`] for text too short for a trigram index: a scan.
fn scanned_search(
    needle: &str,
    digits: &str,
) -> Box<dyn BoxableExpression<$source, Db, SqlType = Nullable<Bool>>> {
    let pattern = like_pattern(needle);
    let named_contacts = contacts::table
        .filter(contacts::deleted_at.is_null())
        .filter(lower(contacts::name).like(pattern.clone()).escape('\\'))
        .select(contacts::customer_id);
    let matches = lower(customers::name)
        .like(pattern.clone())
        .escape('\\')
        .or(customers::email_normalized.like(pattern).escape('\\'))
        .or(customers::id.eq_any(named_contacts).nullable());
    if digits.len() >= TRIGRAM {
        Box::new(
            matches.or(customers::phone_normalized
                .like(like_pattern(digits))
                .escape('\\')),
        )
    } else {
        Box::new(matches)
    }
}

pub(super) type ListQuery<'a> =
    diesel::dsl::IntoBoxed<'a, diesel::dsl::Select<$query, diesel::dsl::AsSelect<CustomerRow, Db>>, Db>;

/// The customers `actor` may see that match `filter`, in no order yet.
pub(super) fn filtered<'a>(
    backend: Backend,
    actor: &'a Actor,
    filter: &'a CustomerFilter,
) -> Result<ListQuery<'a>, TxError> {
    let mut query = $from.select(CustomerRow::as_select()).into_boxed();
    if let Visibility::OwnersOrPool(owners) = &actor.visibility {
        // A filter on a visible owner, or on the pool, already keeps to what the caller may
        // see; repeating it as a visibility condition would make the planner count that
        // owner's customers twice and misjudge the cheapest plan.
        let implied = filter.pool == Some(true)
            || filter.owner_id.as_ref().is_some_and(|o| owners.contains(o));
        if !implied {
            query = query.filter(crate::conditions::owned_or_pool(owners));
        }
    }
    if !filter.include_deleted {
        query = query.filter(customers::deleted_at.is_null());
    }
    if let Some(owner) = &filter.owner_id {
        query = query.filter(customers::owner_id.eq(owner));
    }
    if let Some(kind) = filter.kind {
        query = query.filter(customers::kind.eq(kind.as_str()));
    }
    if let Some(status) = filter.status {
        query = query.filter(customers::status.eq(status.as_str()));
    }
    match filter.pool {
        Some(true) => query = query.filter(customers::owner_id.is_null()),
        Some(false) => query = query.filter(customers::owner_id.is_not_null()),
        None => {}
    }
    if let Some(q) = filter.q.as_deref().map(str::trim).filter(|q| !q.is_empty()) {
        let needle = q.to_lowercase();
        let digits: String = q.chars().filter(char::is_ascii_digit).collect();
        if needle.chars().count() >= TRIGRAM {
            query = query.filter(indexed_search(backend, &needle, &digits));
        } else {
            query = query.filter(scanned_search(&needle, &digits));
        }
    }
    if let Some(source) = &filter.lead_source {
        query = query.filter(customers::lead_source.eq(source));
    }
    if let Some(tag) = &filter.tag {
        // Tags are stored as a JSON array: match the whole quoted tag.
        let quoted = serde_json::to_string(&tag.to_lowercase()).map_err(DomainError::internal)?;
        query = query.filter(match backend {
            Backend::Sqlite => sql::<Bool>(
                "customers.search_key IN \
                 (SELECT rowid FROM customer_search WHERE customer_search MATCH ",
            )
            .bind::<Text, _>(format!("tags : {}", fts_phrase(&quoted)))
            .sql(")"),
            Backend::Postgres => sql::<Bool>("lower(customers.tags) LIKE ")
                .bind::<Text, _>(like_pattern(&quoted))
                .sql(""),
        });
    }
    for condition in crate::custom_fields::conditions(&filter.custom) {
        query = query.filter(custom_condition(&condition));
    }
    if let Some(at) = filter.created_after {
        query = query.filter(customers::created_at.ge(stored(at)));
    }
    if let Some(at) = filter.created_before {
        query = query.filter(customers::created_at.lt(stored(at)));
    }
    if let Some(at) = filter.updated_after {
        query = query.filter(customers::updated_at.ge(stored(at)));
    }
    if let Some(at) = filter.updated_before {
        query = query.filter(customers::updated_at.lt(stored(at)));
    }
    Ok(query)
}

crate::custom_fields::custom_condition!(custom_condition, customers, $source);
        }
    };
}

customer_lists!(plain, customers::table, customers::table, customers::table);
diesel::alias!(custom_field_values as sort_values: SortValues);
customer_lists!(
    valued,
    diesel::dsl::InnerJoinQuerySource<
        customers::table,
        diesel::query_source::Alias<SortValues>,
        diesel::dsl::Eq<
            diesel::query_source::AliasedField<SortValues, custom_field_values::record_id>,
            customers::id,
        >,
    >,
    diesel::dsl::InnerJoinOn<
        customers::table,
        diesel::query_source::Alias<SortValues>,
        diesel::dsl::Eq<
            diesel::query_source::AliasedField<SortValues, custom_field_values::record_id>,
            customers::id,
        >,
    >,
    customers::table.inner_join(
        sort_values.on(sort_values
            .field(custom_field_values::record_id)
            .eq(customers::id))
    )
);
use plain::{filtered, ListQuery};

/// Orders `query` by `sort` and keeps at most `limit` rows after `after`.
///
/// Sorted by next follow-up, this is the segment of customers that have one; the caller reads
/// the customers without one (`IS NULL`, by id) as a second segment.
fn sorted_page<'a>(
    query: ListQuery<'a>,
    sort: CustomerSort,
    after: Option<&SortPosition>,
    limit: i64,
) -> ListQuery<'a> {
    macro_rules! keyset {
        ($query:expr, $key:expr, $value:expr) => {{
            let query = $query;
            match (after, sort.descending) {
                (None, false) => query.order(($key.asc(), customers::id.asc())),
                (None, true) => query.order(($key.desc(), customers::id.desc())),
                // The redundant bound on the key alone lets the database seek in the index.
                (Some(at), false) => query
                    .filter($key.ge($value))
                    .filter(
                        $key.gt($value)
                            .or($key.eq($value).and(customers::id.gt(at.id.clone()))),
                    )
                    .order(($key.asc(), customers::id.asc())),
                (Some(at), true) => query
                    .filter($key.le($value))
                    .filter(
                        $key.lt($value)
                            .or($key.eq($value).and(customers::id.lt(at.id.clone()))),
                    )
                    .order(($key.desc(), customers::id.desc())),
            }
        }};
    }
    let text = || match after.map(|a| &a.value) {
        Some(SortValue::Text(t)) => t.clone(),
        _ => String::new(),
    };
    let time = || match after.map(|a| &a.value) {
        Some(SortValue::Time(t)) => stored(*t),
        _ => NaiveDateTime::default(),
    };
    let query = match sort.key {
        CustomerSortKey::Id => match (after, sort.descending) {
            (None, false) => query.order(customers::id.asc()),
            (None, true) => query.order(customers::id.desc()),
            (Some(at), false) => query
                .filter(customers::id.gt(at.id.clone()))
                .order(customers::id.asc()),
            (Some(at), true) => query
                .filter(customers::id.lt(at.id.clone()))
                .order(customers::id.desc()),
        },
        CustomerSortKey::Name => keyset!(query, lower(customers::name), lower(text())),
        CustomerSortKey::CreatedAt => keyset!(query, customers::created_at, time()),
        CustomerSortKey::UpdatedAt => keyset!(query, customers::updated_at, time()),
        CustomerSortKey::Score => {
            let score = match after.map(|a| &a.value) {
                Some(SortValue::Int(n)) => *n,
                _ => 0,
            };
            keyset!(query, customers::score, score)
        }
        CustomerSortKey::NextFollowUpAt => match after.map(|a| &a.value) {
            // Within the customers without a follow-up: by id.
            Some(SortValue::Null) => {
                let by_id = CustomerSort {
                    key: CustomerSortKey::Id,
                    descending: sort.descending,
                };
                let position = after.filter(|a| !a.id.is_empty());
                return sorted_page(
                    query.filter(customers::next_follow_up_at.is_null()),
                    by_id,
                    position,
                    limit,
                );
            }
            _ => keyset!(
                query.filter(customers::next_follow_up_at.is_not_null()),
                customers::next_follow_up_at,
                time()
            ),
        },
    };
    query.limit(limit)
}

/// Orders `query` (customers joined to their index row of the sort's field) by the value, ties
/// by id, and keeps at most `limit` rows after `position`. The `(field, value, record)` index
/// serves the order, so a page costs the same wherever it is.
fn by_value<'a>(
    query: valued::ListQuery<'a>,
    sort: &CustomSort,
    conditions: &[CustomFilter],
    position: Option<&(IndexKey, String)>,
    limit: i64,
) -> valued::ListQuery<'a> {
    use crm_domain::custom_fields::CustomFilterOp as Op;
    let mut query = query
        .filter(
            sort_values
                .field(custom_field_values::field_id)
                .eq(sort.field_id.clone()),
        )
        .limit(limit);
    let number = sort_values.field(custom_field_values::value_number);
    let text = sort_values.field(custom_field_values::value_text);
    for condition in conditions {
        let (mut numbers, mut texts) = (Vec::new(), Vec::new());
        for key in &condition.keys {
            match key {
                IndexKey::Number(n) => numbers.push(*n),
                IndexKey::Text(t) => texts.push(crate::custom_fields::index_text(t)),
            }
        }
        query = match (condition.op, numbers.first(), texts.first()) {
            (Op::Gte, Some(n), _) => query.filter(number.ge(*n)),
            (Op::Lte, Some(n), _) => query.filter(number.le(*n)),
            (Op::Gte, None, Some(t)) => query.filter(text.ge(t.clone())),
            (Op::Lte, None, Some(t)) => query.filter(text.le(t.clone())),
            (_, Some(_), _) => query.filter(number.eq_any(numbers)),
            _ => query.filter(text.eq_any(texts)),
        };
    }
    let id = sort_values.field(custom_field_values::record_id);
    macro_rules! keyset {
        ($column:expr, $value:expr) => {{
            let column = $column;
            let query = query.filter(column.is_not_null());
            match (position, sort.descending) {
                (None, false) => query.order((column.asc(), id.asc())),
                (None, true) => query.order((column.desc(), id.desc())),
                // The redundant bound on the value alone lets the database seek in the index.
                (Some((_, after)), false) => query
                    .filter(column.ge($value))
                    .filter(
                        column
                            .gt($value)
                            .or(column.eq($value).and(id.gt(after.clone()))),
                    )
                    .order((column.asc(), id.asc())),
                (Some((_, after)), true) => query
                    .filter(column.le($value))
                    .filter(
                        column
                            .lt($value)
                            .or(column.eq($value).and(id.lt(after.clone()))),
                    )
                    .order((column.desc(), id.desc())),
            }
        }};
    }
    if sort.numeric {
        let value = match position {
            Some((IndexKey::Number(n), _)) => *n,
            _ => 0,
        };
        keyset!(sort_values.field(custom_field_values::value_number), value)
    } else {
        let value = match position {
            Some((IndexKey::Text(t), _)) => t.clone(),
            _ => String::new(),
        };
        keyset!(
            sort_values.field(custom_field_values::value_text),
            value.clone()
        )
    }
}

/// The customers matching `filter` joined to their index rows of a custom field, for a caller
/// who sees some owners and the pool kept to the index rows those owners hold: each index row of
/// a customer's value carries its owner, so the walk of an equality condition ordered by id,
/// which meets many customers for each one it keeps (a rep keeps about one in fifteen), skips
/// the others in the index, without reading them. The visibility condition on the customers' rows stays beside it, so visibility never
/// rests on the copy alone.
fn valued_visible<'a>(
    backend: Backend,
    actor: &'a Actor,
    filter: &'a CustomerFilter,
) -> Result<valued::ListQuery<'a>, TxError> {
    let query = valued::filtered(backend, actor, filter)?;
    let Visibility::OwnersOrPool(owners) = &actor.visibility else {
        return Ok(query);
    };
    let holder = sort_values.field(custom_field_values::owner_id);
    Ok(match owners.as_slice() {
        [owner] => query.filter(holder.eq(owner).or(holder.is_null())),
        _ => query.filter(holder.eq_any(owners).or(holder.is_null())),
    })
}

/// The sort field's index key of each of `ids` that has a value.
fn index_keys(
    conn: &mut DbConnection,
    sort: &CustomSort,
    ids: Vec<String>,
) -> Result<std::collections::HashMap<String, IndexKey>, TxError> {
    let rows: Vec<(String, Option<i64>, Option<String>)> = custom_field_values::table
        .filter(custom_field_values::field_id.eq(&sort.field_id))
        .filter(custom_field_values::record_id.eq_any(ids))
        .select((
            custom_field_values::record_id,
            custom_field_values::value_number,
            custom_field_values::value_text,
        ))
        .load(conn)?;
    Ok(rows
        .into_iter()
        .filter_map(|(id, number, text)| match (number, text) {
            (Some(n), _) if sort.numeric => Some((id, IndexKey::Number(n))),
            (_, Some(t)) if !sort.numeric => Some((id, IndexKey::Text(t))),
            _ => None,
        })
        .collect())
}

/// The most keys of an equality condition a list walks one value at a time (see
/// [`list_through_values`]); longer lists are matched as a set.
const MAX_WALKED_KEYS: usize = 16;

/// Whether the list ordered by id walks `condition`'s index rows: an equality (or one-of, or
/// has-option) condition with few keys.
fn drives_the_walk(condition: &CustomFilter) -> bool {
    use crm_domain::custom_fields::CustomFilterOp as Op;
    matches!(condition.op, Op::Eq | Op::In | Op::Contains)
        && (1..=MAX_WALKED_KEYS).contains(&condition.keys.len())
}

/// A page of customers ordered by id that match the custom condition `filter.custom[at]` and
/// the rest of `filter`.
///
/// The `(field, value, record)` index holds each value's customers in id order, so the page
/// walks that index from the position and stops after a page of matches: its cost follows the
/// page, not the number of customers with the value (matching the condition as a set of ids
/// would read every one of them first). A one-of condition walks each key's rows and merges them.
fn list_through_values(
    db: &Database,
    actor: &Actor,
    filter: &CustomerFilter,
    at: usize,
    page: &PageRequest,
) -> Result<Page<Customer>, DomainError> {
    let sort = filter.sort;
    let after = match &page.after {
        None => None,
        Some(raw) => Some(
            sort.decode_position(raw)
                .ok_or_else(|| {
                    DomainError::Validation(vec![FieldError::new(
                        "/query/cursor",
                        "invalid",
                        "not a cursor of this sort order",
                    )])
                })?
                .id,
        ),
    };
    let mut rest = filter.clone();
    let walked = rest.custom.remove(at);
    let wanted = i64::from(page.limit) + 1;
    let backend = db.backend();
    db.read(|conn| {
        let record = sort_values.field(custom_field_values::record_id);
        let mut rows: Vec<CustomerRow> = Vec::new();
        for key in &walked.keys {
            let query = valued_visible(backend, actor, &rest)?.filter(
                sort_values
                    .field(custom_field_values::field_id)
                    .eq(walked.field_id.clone()),
            );
            let query = match key {
                IndexKey::Number(n) => {
                    query.filter(sort_values.field(custom_field_values::value_number).eq(*n))
                }
                IndexKey::Text(t) => query.filter(
                    sort_values
                        .field(custom_field_values::value_text)
                        .eq(crate::custom_fields::index_text(t)),
                ),
            };
            let query = match (&after, sort.descending) {
                (None, false) => query.order(record.asc()),
                (None, true) => query.order(record.desc()),
                (Some(id), false) => query.filter(record.gt(id.clone())).order(record.asc()),
                (Some(id), true) => query.filter(record.lt(id.clone())).order(record.desc()),
            };
            rows.extend(query.limit(wanted).load::<CustomerRow>(conn)?);
        }
        if walked.keys.len() > 1 {
            // A multi-select customer may hold several of the keys.
            rows.sort_by(|a, b| a.id.cmp(&b.id));
            rows.dedup_by(|a, b| a.id == b.id);
            if sort.descending {
                rows.reverse();
            }
            rows.truncate(wanted as usize);
        }
        let rows = listed(conn, rows)?;
        Ok(Page::from_rows(rows, page.limit, |c| {
            sort.encode_position(c)
        }))
    })
}

/// The listed rows as customers, showing only the custom fields still defined.
fn listed(conn: &mut DbConnection, rows: Vec<CustomerRow>) -> Result<Vec<Customer>, TxError> {
    let live = live_keys(conn, FieldEntity::Customer)?;
    let customers = rows
        .into_iter()
        .map(|row| {
            let mut customer = row.into_domain()?;
            customer
                .fields
                .custom_fields
                .retain(|k, _| live.contains(k));
            Ok(customer)
        })
        .collect::<Result<Vec<_>, DomainError>>()?;
    Ok(customers)
}

/// A page of customers ordered by a custom field: the customers with a value, joined to their
/// index rows in the value's order (the database chooses between walking that index and
/// sorting the few customers a narrow filter leaves); when the values run out, the customers
/// without a value follow, by id.
fn list_by_custom_field(
    db: &Database,
    actor: &Actor,
    filter: &CustomerFilter,
    sort: &CustomSort,
    page: &PageRequest,
) -> Result<Page<Customer>, DomainError> {
    let after = match &page.after {
        None => None,
        Some(raw) => Some(sort.decode_position(raw).ok_or_else(|| {
            DomainError::Validation(vec![FieldError::new(
                "/query/cursor",
                "invalid",
                "not a cursor of this sort order",
            )])
        })?),
    };
    let wanted = page.limit as usize + 1;
    let backend = db.backend();
    // Conditions on the sorted field bound the walk of its index; the others are joined.
    let (own, others): (Vec<_>, Vec<_>) = filter
        .custom
        .iter()
        .cloned()
        .partition(|c| c.field_id == sort.field_id);
    let rest = CustomerFilter {
        custom: others,
        ..filter.clone()
    };
    db.read(|conn| {
        let mut found: Vec<(CustomerRow, Option<IndexKey>)> = Vec::new();
        if !matches!(after, Some((None, _))) {
            let position = after.clone().and_then(|(value, id)| value.map(|v| (v, id)));
            // Not `valued_visible`: with the owners checked on the index rows too, PostgreSQL
            // counts the visibility's selectivity twice and planned a manager's sorted page as
            // a full scan of the customers.
            let rows = by_value(
                valued::filtered(backend, actor, &rest)?,
                sort,
                &own,
                position.as_ref(),
                wanted as i64,
            )
            .load::<CustomerRow>(conn)?;
            let values = index_keys(conn, sort, rows.iter().map(|r| r.id.clone()).collect())?;
            for row in rows {
                let key = values.get(&row.id).cloned();
                found.push((row, key));
            }
        }
        // A condition on the sorted field excludes the customers without a value.
        if found.len() < wanted && own.is_empty() {
            let with_value = custom_field_values::table
                .filter(custom_field_values::field_id.eq(sort.field_id.clone()))
                .filter(custom_field_values::record_id.eq(customers::id));
            let mut query = filtered(backend, actor, filter)?
                .filter(diesel::dsl::not(diesel::dsl::exists(with_value)));
            let after_id = match &after {
                Some((None, id)) => Some(id.clone()),
                _ => None,
            };
            query = match (after_id, sort.descending) {
                (None, false) => query.order(customers::id.asc()),
                (None, true) => query.order(customers::id.desc()),
                (Some(id), false) => query
                    .filter(customers::id.gt(id))
                    .order(customers::id.asc()),
                (Some(id), true) => query
                    .filter(customers::id.lt(id))
                    .order(customers::id.desc()),
            };
            let rows: Vec<CustomerRow> = query.limit((wanted - found.len()) as i64).load(conn)?;
            found.extend(rows.into_iter().map(|row| (row, None)));
        }
        let live = live_keys(conn, FieldEntity::Customer)?;
        let pairs = found
            .into_iter()
            .map(|(row, key)| {
                let mut customer = row.into_domain()?;
                customer
                    .fields
                    .custom_fields
                    .retain(|k, _| live.contains(k));
                Ok((customer, key))
            })
            .collect::<Result<Vec<_>, DomainError>>()?;
        let page = Page::from_rows(pairs, page.limit, |(customer, key)| {
            sort.encode_position(key.as_ref(), &customer.id)
        });
        Ok(Page {
            items: page
                .items
                .into_iter()
                .map(|(customer, _)| customer)
                .collect(),
            next_after: page.next_after,
        })
    })
}

/// Creates a customer, with its first contact when given, in one transaction: the duplicate
/// check covers the contact's phones and email too.
fn create(
    db: &Database,
    actor: &Actor,
    fields: &CustomerFields,
    contact: Option<&ContactFields>,
    owner_id: Option<&str>,
    allow_duplicate: bool,
) -> Result<(Customer, Option<Contact>), DomainError> {
    let id = new_id();
    let first = contact.map(|fields| (new_id(), fields));
    let now = stored(Utc::now());
    db.write(|conn| {
        if let Some(owner) = owner_id {
            check_owner(conn, actor, owner)?;
        }
        if !allow_duplicate {
            let mut points = own_points(fields);
            if let Some(contact) = contact {
                points.add_contact(contact);
            }
            if let Some(duplicate) = find_duplicate(conn, &actor.visibility, &points, None)? {
                return Err(duplicate.into());
            }
        }
        let first_contact = first.as_ref().map(|(cid, fields)| (cid.as_str(), *fields));
        insert_customer(conn, actor, &id, fields, first_contact, owner_id, now)
    })
}

impl CustomerStore for Database {
    fn create_customer(
        &self,
        actor: &Actor,
        fields: CustomerFields,
        owner_id: Option<String>,
        allow_duplicate: bool,
    ) -> Result<Customer, DomainError> {
        create(
            self,
            actor,
            &fields,
            None,
            owner_id.as_deref(),
            allow_duplicate,
        )
        .map(|(customer, _)| customer)
    }

    fn create_customer_with_contact(
        &self,
        actor: &Actor,
        fields: CustomerFields,
        contact: ContactFields,
        owner_id: Option<String>,
        allow_duplicate: bool,
    ) -> Result<(Customer, Contact), DomainError> {
        let (customer, first) = create(
            self,
            actor,
            &fields,
            Some(&contact),
            owner_id.as_deref(),
            allow_duplicate,
        )?;
        let first = first.ok_or_else(|| DomainError::internal("the first contact was not read"))?;
        Ok((customer, first))
    }

    fn customer(&self, actor: &Actor, id: &str) -> Result<Customer, DomainError> {
        self.read_each(|conn| load_visible(conn, &actor.visibility, id))
    }

    fn list_customers(
        &self,
        actor: &Actor,
        filter: &CustomerFilter,
        page: &PageRequest,
    ) -> Result<Page<Customer>, DomainError> {
        if let Some(custom) = &filter.custom_sort {
            return list_by_custom_field(self, actor, filter, custom, page);
        }
        let sort = filter.sort;
        if sort.key == CustomerSortKey::Id {
            if let Some(at) = filter.custom.iter().position(drives_the_walk) {
                return list_through_values(self, actor, filter, at, page);
            }
        }
        let after = match &page.after {
            None => None,
            Some(raw) => Some(sort.decode_position(raw).ok_or_else(|| {
                DomainError::Validation(vec![FieldError::new(
                    "/query/cursor",
                    "invalid",
                    "not a cursor of this sort order",
                )])
            })?),
        };
        let wanted = i64::from(page.limit) + 1;
        let backend = self.backend();
        self.read(|conn| {
            let mut rows = sorted_page(
                filtered(backend, actor, filter)?,
                sort,
                after.as_ref(),
                wanted,
            )
            .load(conn)?;
            // Customers without a next follow-up come after all that have one.
            let null_segment = sort.key == CustomerSortKey::NextFollowUpAt
                && (rows.len() as i64) < wanted
                && !matches!(
                    after,
                    Some(SortPosition {
                        value: SortValue::Null,
                        ..
                    })
                );
            if null_segment {
                let null_start = SortPosition {
                    value: SortValue::Null,
                    id: String::new(),
                };
                let more = sorted_page(
                    filtered(backend, actor, filter)?,
                    sort,
                    Some(&null_start),
                    wanted - rows.len() as i64,
                )
                .load(conn)?;
                rows.extend(more);
            }
            let rows = listed(conn, rows)?;
            Ok(Page::from_rows(rows, page.limit, |c| {
                sort.encode_position(c)
            }))
        })
    }

    fn update_customer(
        &self,
        actor: &Actor,
        id: &str,
        fields: CustomerFields,
        expected_version: Option<i64>,
    ) -> Result<Customer, DomainError> {
        let now = stored(Utc::now());
        self.write(|conn| {
            let current = load_visible(conn, &actor.visibility, id)?;
            check_version(expected_version, current.version)?;
            let changes = fields.changes_from(&current.fields);
            if changes.is_empty() {
                return Ok(current);
            }
            let contact_changed = changes
                .iter()
                .any(|c| ["phone", "email", "external_id"].contains(&c.field.as_str()));
            if contact_changed {
                if let Some(duplicate) =
                    find_duplicate(conn, &actor.visibility, &own_points(&fields), Some(id))?
                {
                    return Err(duplicate.into());
                }
            }
            rewrite_customer(conn, actor, &current, &fields, &changes, now)?;
            load_visible(conn, &Visibility::All, id)
        })
    }

    fn delete_customer(&self, actor: &Actor, id: &str) -> Result<(), DomainError> {
        let now = stored(Utc::now());
        self.write(|conn| {
            let current = load_visible(conn, &actor.visibility, id)?;
            diesel::update(customers::table.find(id))
                .set((
                    customers::deleted_at.eq(now),
                    customers::updated_at.eq(now),
                    customers::version.eq(current.version + 1),
                ))
                .execute(conn)?;
            record(conn, id, "deleted", actor, now, &[])
        })
    }

    fn restore_customer(&self, actor: &Actor, id: &str) -> Result<Customer, DomainError> {
        let now = stored(Utc::now());
        self.write(|conn| {
            let row = customers::table
                .find(id)
                .select(CustomerRow::as_select())
                .get_result(conn)
                .optional()?
                .ok_or(CUSTOMER)?;
            if !actor.visibility.allows(row.owner_id.as_deref()) {
                return Err(CUSTOMER.into());
            }
            if row.deleted_at.is_none() {
                return Err(DomainError::Conflict {
                    code: "not_deleted",
                    message: "the customer is not deleted".into(),
                }
                .into());
            }
            diesel::update(customers::table.find(id))
                .set((
                    customers::deleted_at.eq(None::<NaiveDateTime>),
                    customers::updated_at.eq(now),
                    customers::version.eq(row.version + 1),
                ))
                .execute(conn)?;
            record(conn, id, "restored", actor, now, &[])?;
            load_visible(conn, &Visibility::All, id)
        })
    }

    fn change_owner(
        &self,
        actor: &Actor,
        id: &str,
        change: OwnershipChange,
    ) -> Result<Customer, DomainError> {
        let now = stored(Utc::now());
        self.write(|conn| {
            let current = load_visible(conn, &actor.visibility, id)?;
            let (action, new_owner) = match &change {
                OwnershipChange::Claim { user_id, limit } => {
                    if current.owner_id.is_some() {
                        return Err(DomainError::Conflict {
                            code: "not_in_pool",
                            message: "the customer is not in the pool".into(),
                        }
                        .into());
                    }
                    let owned: i64 = customers::table
                        .filter(customers::owner_id.eq(user_id))
                        .filter(customers::deleted_at.is_null())
                        .count()
                        .get_result(conn)?;
                    if owned >= *limit {
                        return Err(DomainError::Conflict {
                            code: "claim_limit",
                            message: format!(
                                "you already own {owned} customers, the most one rep may hold"
                            ),
                        }
                        .into());
                    }
                    ("claimed", Some(user_id.clone()))
                }
                OwnershipChange::Release => {
                    if current.owner_id.is_none() {
                        return Err(DomainError::Conflict {
                            code: "already_in_pool",
                            message: "the customer is already in the pool".into(),
                        }
                        .into());
                    }
                    ("released", None)
                }
                OwnershipChange::Assign { owner_id } => {
                    check_owner(conn, actor, owner_id)?;
                    ("assigned", Some(owner_id.clone()))
                }
            };
            if new_owner == current.owner_id {
                return Ok(current);
            }
            diesel::update(customers::table.find(id))
                .set((
                    customers::owner_id.eq(&new_owner),
                    customers::updated_at.eq(now),
                    customers::version.eq(current.version + 1),
                ))
                .execute(conn)?;
            record(
                conn,
                id,
                action,
                actor,
                now,
                &owner_change(&current.owner_id, &new_owner),
            )?;
            load_visible(conn, &Visibility::All, id)
        })
    }

    fn customer_overview(
        &self,
        actor: &Actor,
        id: &str,
        limits: OverviewLimits,
    ) -> Result<CustomerOverviewParts, DomainError> {
        self.read_with_reference(|conn, reference| {
            // The customer's visibility is checked once; every other part is the customer's.
            let customer = load_visible(conn, &actor.visibility, id)?;
            let contacts = crate::contacts::contacts_of(conn, id, limits.contacts)?;
            let (recent_activities, pending_follow_ups) =
                crate::activities::timeline_of(conn, id, limits.activities)?;
            let open = OpportunityFilter {
                customer_id: Some(id.to_string()),
                status: Some(OpportunityStatus::Open),
                ..Default::default()
            };
            let page = PageRequest {
                limit: limits.opportunities,
                after: None,
            };
            let open_opportunities = crate::opportunities::list_in(
                conn,
                &actor.visibility,
                &open,
                Default::default(),
                None,
                &page,
            )?
            .items;
            let recorded_behaviors = crate::scoring::recorded_on(conn, id)?;
            Ok(CustomerOverviewParts {
                customer,
                contacts,
                recent_activities,
                pending_follow_ups,
                open_opportunities,
                pipelines: reference.pipelines.as_ref().clone(),
                recorded_behaviors,
                half_life_days: reference.half_life_days,
                behaviors: reference.behaviors.as_ref().clone(),
            })
        })
    }

    fn write_leads(
        &self,
        actor: &Actor,
        items: Vec<BatchLead>,
        match_on: &[MatchKey],
        all_or_nothing: bool,
    ) -> Result<Vec<BatchOutcome>, DomainError> {
        let now = stored(Utc::now());
        self.write(|conn| {
            let mut outcomes = Vec::with_capacity(items.len());
            for (i, item) in items.iter().enumerate() {
                let rules = LeadRules {
                    match_on,
                    on_match: item.on_match,
                    dry_run: false,
                    owner_id: item.owner_id.as_deref(),
                    job_id: None,
                };
                let written = conn.transaction(|conn| {
                    if let Some(owner) = &item.owner_id {
                        check_owner(conn, actor, owner)?;
                    }
                    let result = apply_lead(conn, &rules, actor, i as i64, &item.lead, None, now)?;
                    let id = result.customer_id.ok_or(CUSTOMER)?;
                    Ok::<_, TxError>((result.outcome, load_visible(conn, &Visibility::All, &id)?))
                });
                outcomes.push(match written {
                    Ok(done) => Ok(done),
                    Err(TxError::Domain(refused)) => Err(refused),
                    Err(db) => return Err(db),
                });
            }
            if all_or_nothing && outcomes.iter().any(Result::is_err) {
                return Err(TxError::Domain(DomainError::Validation(
                    outcomes
                        .iter()
                        .enumerate()
                        .filter_map(|(i, o)| o.as_ref().err().map(|e| (i, e)))
                        .flat_map(|(i, e)| batch_errors(i, e))
                        .collect(),
                )));
            }
            Ok(outcomes)
        })
    }

    fn merge_customers(
        &self,
        actor: &Actor,
        survivor_id: &str,
        duplicate_ids: &[String],
        choices: &std::collections::BTreeMap<String, String>,
        dry_run: bool,
        now: chrono::DateTime<Utc>,
    ) -> Result<crm_domain::merges::Merge, DomainError> {
        self.write(|conn| {
            crate::merges::merge_customers(
                conn,
                actor,
                survivor_id,
                duplicate_ids,
                choices,
                dry_run,
                now,
            )
        })
    }

    fn customer_merge(
        &self,
        actor: &Actor,
        id: &str,
    ) -> Result<crm_domain::merges::Merge, DomainError> {
        self.read(|conn| crate::merges::customer_merge(conn, actor, id))
    }

    fn undo_merge(
        &self,
        actor: &Actor,
        id: &str,
        now: chrono::DateTime<Utc>,
    ) -> Result<crm_domain::merges::Merge, DomainError> {
        self.write(|conn| crate::merges::undo_merge(conn, actor, id, now))
    }

    fn customer_history(
        &self,
        actor: &Actor,
        id: &str,
        page: &PageRequest,
    ) -> Result<Page<CustomerEvent>, DomainError> {
        self.read(|conn| {
            load_visible(conn, &actor.visibility, id)?;
            let mut query = customer_events::table
                .filter(customer_events::customer_id.eq(id))
                .select((
                    customer_events::id,
                    customer_events::action,
                    customer_events::actor_id,
                    customer_events::at,
                    customer_events::changes,
                ))
                .order(customer_events::id.desc())
                .limit(i64::from(page.limit) + 1)
                .into_boxed();
            if let Some(after) = &page.after {
                query = query.filter(customer_events::id.lt(after));
            }
            let rows: Vec<(String, String, String, NaiveDateTime, String)> = query.load(conn)?;
            let events = rows
                .into_iter()
                .map(|(id, action, actor_id, at, changes)| {
                    let changes: Vec<Value> = serde_json::from_str(&changes)
                        .map_err(|_| corrupt("customer_events.changes", &changes))?;
                    Ok(CustomerEvent {
                        id,
                        action,
                        actor_id,
                        at: utc(at),
                        changes: changes
                            .into_iter()
                            .filter_map(|c| {
                                Some(FieldChange {
                                    field: c.get("field")?.as_str()?.to_string(),
                                    old: c.get("old").cloned().unwrap_or(Value::Null),
                                    new: c.get("new").cloned().unwrap_or(Value::Null),
                                })
                            })
                            .collect(),
                    })
                })
                .collect::<Result<Vec<_>, DomainError>>()?;
            Ok(Page::from_rows(events, page.limit, |e| e.id.clone()))
        })
    }
}
