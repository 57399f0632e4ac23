//! `ActivityStore` on the database. An activity is reached through its customer: a customer the
//! caller may not see hides its activities too. Every write recomputes the customer's
//! `last_activity_at` and `next_follow_up_at` in the same transaction.

use chrono::{DateTime, NaiveDateTime, Utc};
use crm_domain::activities::{
    Activity, ActivityFields, ActivityKind, Attachment, FollowUp, FollowUpChange, FollowUpPlan,
    FollowUpState,
};
use crm_domain::custom_fields::FieldEntity;
use crm_domain::identity::Visibility;
use crm_domain::page::{Page, PageRequest};
use crm_domain::ports::{ActivityFilter, ActivityStore, Actor, FollowUpEntry, FollowUpFilter};
use crm_domain::scoring::{check_recorded, recordings, Recording};
use crm_domain::{DomainError, FieldError};
use diesel::prelude::*;

use crate::convert::{corrupt, new_id, stored, utc};
use crate::custom_fields::{
    definitions_of, keep_archived, live_keys, write_new_values, write_values,
};
use crate::customers::load_visible;
use crate::errors::{check_version, TxError};
use crate::schema::{activities, contacts, customers, opportunities};
use crate::scoring::{catalogue, parse_recordings, recompute_scores};
use crate::{Database, DbConnection};

const ACTIVITY: DomainError = DomainError::NotFound { entity: "activity" };

#[derive(Queryable, Selectable)]
#[diesel(table_name = activities)]
struct ActivityRow {
    id: String,
    customer_id: String,
    contact_id: Option<String>,
    author_id: String,
    kind: String,
    occurred_at: NaiveDateTime,
    subject: String,
    content: Option<String>,
    outcome: Option<String>,
    attachments: String,
    custom_fields: String,
    follow_up_at: Option<NaiveDateTime>,
    follow_up_note: Option<String>,
    follow_up_state: Option<String>,
    follow_up_closed_at: Option<NaiveDateTime>,
    follow_up_closed_by: Option<String>,
    created_at: NaiveDateTime,
    updated_at: NaiveDateTime,
    version: i64,
    follow_up_reminded_at: Option<NaiveDateTime>,
    behaviors: String,
    opportunity_id: Option<String>,
}

impl ActivityRow {
    fn into_domain(self) -> Result<Activity, DomainError> {
        let kind = ActivityKind::parse(&self.kind)
            .ok_or_else(|| corrupt("activities.kind", &self.kind))?;
        let attachments: Vec<Attachment> = serde_json::from_str(&self.attachments)
            .map_err(|_| corrupt("activities.attachments", &self.attachments))?;
        let follow_up = match (self.follow_up_at, self.follow_up_state) {
            (Some(due_at), Some(state)) => Some(FollowUp {
                due_at: utc(due_at),
                note: self.follow_up_note,
                state,
                closed_at: self.follow_up_closed_at.map(utc),
                closed_by: self.follow_up_closed_by,
                reminded_at: self.follow_up_reminded_at.map(utc),
            }),
            _ => None,
        };
        Ok(Activity {
            id: self.id,
            customer_id: self.customer_id,
            author_id: self.author_id,
            fields: ActivityFields {
                contact_id: self.contact_id,
                opportunity_id: self.opportunity_id,
                kind,
                occurred_at: utc(self.occurred_at),
                subject: self.subject,
                content: self.content,
                outcome: self.outcome,
                attachments,
                custom_fields: serde_json::from_str(&self.custom_fields)
                    .map_err(|_| corrupt("activities.custom_fields", &self.custom_fields))?,
                behaviors: parse_recordings(&self.behaviors)?
                    .into_iter()
                    .map(|r| r.code)
                    .collect(),
            },
            follow_up,
            created_at: utc(self.created_at),
            updated_at: utc(self.updated_at),
            version: self.version,
        })
    }
}

#[derive(Insertable, AsChangeset)]
#[diesel(table_name = activities, treat_none_as_null = true)]
struct ActivityWrite<'a> {
    contact_id: Option<&'a str>,
    opportunity_id: Option<&'a str>,
    kind: &'static str,
    occurred_at: NaiveDateTime,
    subject: &'a str,
    content: Option<&'a str>,
    outcome: Option<&'a str>,
    attachments: String,
    custom_fields: String,
    behaviors: String,
}

impl<'a> ActivityWrite<'a> {
    fn of(f: &'a ActivityFields, recorded: &[Recording]) -> Result<Self, DomainError> {
        Ok(Self {
            contact_id: f.contact_id.as_deref(),
            opportunity_id: f.opportunity_id.as_deref(),
            kind: f.kind.as_str(),
            occurred_at: stored(f.occurred_at),
            subject: &f.subject,
            content: f.content.as_deref(),
            outcome: f.outcome.as_deref(),
            attachments: serde_json::to_string(&f.attachments).map_err(DomainError::internal)?,
            custom_fields: serde_json::to_string(&f.custom_fields)
                .map_err(DomainError::internal)?,
            behaviors: serde_json::to_string(recorded).map_err(DomainError::internal)?,
        })
    }
}

/// The follow-up columns of a write.
#[derive(AsChangeset)]
#[diesel(table_name = activities, treat_none_as_null = true)]
struct FollowUpWrite {
    follow_up_at: Option<NaiveDateTime>,
    follow_up_note: Option<String>,
    follow_up_state: Option<String>,
    follow_up_closed_at: Option<NaiveDateTime>,
    follow_up_closed_by: Option<String>,
    follow_up_reminded_at: Option<NaiveDateTime>,
}

impl FollowUpWrite {
    fn of(follow_up: Option<&FollowUp>) -> Self {
        Self {
            follow_up_at: follow_up.map(|f| stored(f.due_at)),
            follow_up_note: follow_up.and_then(|f| f.note.clone()),
            follow_up_state: follow_up.map(|f| f.state.clone()),
            follow_up_closed_at: follow_up.and_then(|f| f.closed_at.map(stored)),
            follow_up_closed_by: follow_up.and_then(|f| f.closed_by.clone()),
            follow_up_reminded_at: follow_up.and_then(|f| f.reminded_at.map(stored)),
        }
    }
}

/// The live activity `id` with its custom values of live fields, when the caller may see its
/// customer.
fn load(conn: &mut DbConnection, visibility: &Visibility, id: &str) -> Result<Activity, TxError> {
    let found: Option<(ActivityRow, Option<String>)> = activities::table
        .inner_join(customers::table)
        .filter(activities::id.eq(id))
        .filter(activities::deleted_at.is_null())
        .filter(customers::deleted_at.is_null())
        .select((ActivityRow::as_select(), customers::owner_id))
        .get_result(conn)
        .optional()?;
    let (row, owner) = found.ok_or(ACTIVITY)?;
    if !visibility.allows(owner.as_deref()) {
        return Err(ACTIVITY.into());
    }
    let live = live_keys(conn, FieldEntity::Activity)?;
    shown(row, &live)
}

fn shown(row: ActivityRow, live: &std::collections::HashSet<String>) -> Result<Activity, TxError> {
    let mut activity = row.into_domain()?;
    activity
        .fields
        .custom_fields
        .retain(|k, _| live.contains(k));
    Ok(activity)
}

/// `Validation` unless `contact_id` is a live contact of `customer_id`.
fn check_contact(
    conn: &mut DbConnection,
    customer_id: &str,
    contact_id: Option<&str>,
) -> Result<(), TxError> {
    let Some(contact_id) = contact_id else {
        return Ok(());
    };
    let belongs: i64 = contacts::table
        .filter(contacts::id.eq(contact_id))
        .filter(contacts::customer_id.eq(customer_id))
        .filter(contacts::deleted_at.is_null())
        .count()
        .get_result(conn)?;
    if belongs == 0 {
        return Err(DomainError::Validation(vec![FieldError::new(
            "/contact_id",
            "not_of_customer",
            "not a contact of this customer",
        )])
        .into());
    }
    Ok(())
}

/// What the behaviour `codes` record, the catalogue's points for new ones and their own for
/// those `already` recorded; `Validation` naming each unknown, archived or repeated code.
fn record(
    conn: &mut DbConnection,
    codes: &[String],
    already: &[Recording],
) -> Result<Vec<Recording>, TxError> {
    let catalogue = catalogue(conn)?;
    let known: Vec<String> = already.iter().map(|r| r.code.clone()).collect();
    let errors = check_recorded(codes, &catalogue, &known);
    if !errors.is_empty() {
        return Err(DomainError::Validation(errors).into());
    }
    Ok(recordings(codes, &catalogue, already))
}

/// `Validation` unless `opportunity_id` is a live opportunity of `customer_id`.
fn check_opportunity(
    conn: &mut DbConnection,
    customer_id: &str,
    opportunity_id: Option<&str>,
) -> Result<(), TxError> {
    let Some(opportunity_id) = opportunity_id else {
        return Ok(());
    };
    let belongs: i64 = opportunities::table
        .filter(opportunities::id.eq(opportunity_id))
        .filter(opportunities::customer_id.eq(customer_id))
        .filter(opportunities::deleted_at.is_null())
        .count()
        .get_result(conn)?;
    if belongs == 0 {
        return Err(DomainError::Validation(vec![FieldError::new(
            "/opportunity_id",
            "not_of_customer",
            "not an opportunity of this customer",
        )])
        .into());
    }
    Ok(())
}

/// Recomputes the customer's latest activity, earliest open follow-up and score (at `now`).
/// These derived fields do not change the customer's version: a rep editing the customer is not
/// refused because a colleague logged a call.
pub(crate) fn refresh_customer(
    conn: &mut DbConnection,
    customer_id: &str,
    now: DateTime<Utc>,
) -> Result<(), TxError> {
    recompute_scores(conn, &[customer_id.to_string()], now)?;
    let live = activities::table
        .filter(activities::customer_id.eq(customer_id))
        .filter(activities::deleted_at.is_null());
    let last: Option<NaiveDateTime> = live
        .select(diesel::dsl::max(activities::occurred_at))
        .get_result(conn)?;
    let next: Option<NaiveDateTime> = live
        .filter(activities::follow_up_state.eq("pending"))
        .select(diesel::dsl::min(activities::follow_up_at))
        .get_result(conn)?;
    diesel::update(customers::table.find(customer_id))
        .set((
            customers::last_activity_at.eq(last),
            customers::next_follow_up_at.eq(next),
        ))
        .execute(conn)?;
    Ok(())
}

/// `(occurred_at in µs, id)` of a list position.
fn decode_position(raw: &str) -> Option<(NaiveDateTime, String)> {
    let (micros, id) = raw.split_once(':')?;
    let at = DateTime::<Utc>::from_timestamp_micros(micros.parse().ok()?)?;
    (!id.is_empty()).then(|| (stored(at), id.to_string()))
}

/// `(due time, customer score, id)` of a reminder list position.
fn decode_follow_up_position(raw: &str) -> Option<(NaiveDateTime, i64, String)> {
    let (micros, rest) = raw.split_once(':')?;
    let (score, id) = rest.split_once(':')?;
    let at = DateTime::<Utc>::from_timestamp_micros(micros.parse().ok()?)?;
    (!id.is_empty()).then_some((stored(at), score.parse().ok()?, id.to_string()))
}

fn encode_position(activity: &Activity) -> String {
    format!(
        "{}:{}",
        activity.fields.occurred_at.timestamp_micros(),
        activity.id
    )
}

crate::custom_fields::custom_condition!(
    custom_condition,
    activities,
    diesel::dsl::InnerJoinQuerySource<activities::table, customers::table>
);

impl ActivityStore for Database {
    fn create_activity(
        &self,
        actor: &Actor,
        customer_id: &str,
        fields: ActivityFields,
        follow_up: Option<FollowUpPlan>,
        answers: Option<String>,
        now: DateTime<Utc>,
    ) -> Result<Activity, DomainError> {
        let id = new_id();
        let at = stored(now);
        self.write(|conn| {
            load_visible(conn, &actor.visibility, customer_id)?;
            check_contact(conn, customer_id, fields.contact_id.as_deref())?;
            check_opportunity(conn, customer_id, fields.opportunity_id.as_deref())?;
            let recorded = record(conn, &fields.behaviors, &[])?;
            let write = ActivityWrite::of(&fields, &recorded)?;
            if let Some(answered) = &answers {
                let open: i64 = activities::table
                    .filter(activities::id.eq(answered))
                    .filter(activities::customer_id.eq(customer_id))
                    .filter(activities::deleted_at.is_null())
                    .filter(activities::follow_up_state.eq("pending"))
                    .count()
                    .get_result(conn)?;
                if open == 0 {
                    return Err(DomainError::Validation(vec![FieldError::new(
                        "/answers",
                        "no_open_follow_up",
                        "not an activity of this customer with an open follow-up",
                    )])
                    .into());
                }
            }
            diesel::insert_into(activities::table)
                .values((
                    &write,
                    activities::id.eq(&id),
                    activities::customer_id.eq(customer_id),
                    activities::author_id.eq(&actor.id),
                    activities::follow_up_at.eq(follow_up.as_ref().map(|f| stored(f.due_at))),
                    activities::follow_up_note.eq(follow_up.as_ref().and_then(|f| f.note.clone())),
                    activities::follow_up_state
                        .eq(follow_up.as_ref().map(|_| FollowUpState::Pending.stored())),
                    activities::created_at.eq(at),
                    activities::updated_at.eq(at),
                    activities::version.eq(1_i64),
                ))
                .execute(conn)?;
            write_new_values(conn, FieldEntity::Activity, &id, &fields.custom_fields)?;
            if let Some(answered) = &answers {
                diesel::update(activities::table.find(answered))
                    .set((
                        activities::follow_up_state.eq(FollowUpState::Done.stored()),
                        activities::follow_up_closed_at.eq(at),
                        activities::follow_up_closed_by.eq(&id),
                        activities::updated_at.eq(at),
                        activities::version.eq(activities::version + 1),
                    ))
                    .execute(conn)?;
            }
            refresh_customer(conn, customer_id, now)?;
            load(conn, &Visibility::All, &id)
        })
    }

    fn activity(&self, actor: &Actor, id: &str) -> Result<Activity, DomainError> {
        self.read(|conn| load(conn, &actor.visibility, id))
    }

    fn list_activities(
        &self,
        actor: &Actor,
        filter: &ActivityFilter,
        page: &PageRequest,
    ) -> Result<Page<Activity>, DomainError> {
        let after = match &page.after {
            None => None,
            Some(raw) => Some(decode_position(raw).ok_or_else(|| {
                DomainError::Validation(vec![FieldError::new(
                    "/query/cursor",
                    "invalid",
                    "not a cursor of this list",
                )])
            })?),
        };
        self.read(|conn| {
            if let Some(customer_id) = &filter.customer_id {
                load_visible(conn, &actor.visibility, customer_id)?;
            }
            let mut query = activities::table
                .inner_join(customers::table)
                .filter(activities::deleted_at.is_null())
                .filter(customers::deleted_at.is_null())
                .select(ActivityRow::as_select())
                .order((activities::occurred_at.desc(), activities::id.desc()))
                .limit(i64::from(page.limit) + 1)
                .into_boxed();
            if let Visibility::OwnersOrPool(owners) = &actor.visibility {
                query = query.filter(crate::conditions::owned_or_pool(owners));
            }
            if let Some(customer_id) = &filter.customer_id {
                query = query.filter(activities::customer_id.eq(customer_id));
            }
            if let Some(opportunity_id) = &filter.opportunity_id {
                query = query.filter(activities::opportunity_id.eq(opportunity_id.clone()));
            }
            if let Some(author_id) = &filter.author_id {
                query = query.filter(activities::author_id.eq(author_id));
            }
            if let Some(kind) = filter.kind {
                query = query.filter(activities::kind.eq(kind.as_str()));
            }
            if let Some(at) = filter.occurred_after {
                query = query.filter(activities::occurred_at.ge(stored(at)));
            }
            if let Some(at) = filter.occurred_before {
                query = query.filter(activities::occurred_at.lt(stored(at)));
            }
            for condition in crate::custom_fields::conditions(&filter.custom) {
                query = query.filter(custom_condition(&condition));
            }
            if let Some((at, id)) = &after {
                // The redundant bound on the time alone lets the database seek in the index.
                query = query.filter(activities::occurred_at.le(*at)).filter(
                    activities::occurred_at.lt(*at).or(activities::occurred_at
                        .eq(*at)
                        .and(activities::id.lt(id.clone()))),
                );
            }
            let rows: Vec<ActivityRow> = query.load(conn)?;
            let live = live_keys(conn, FieldEntity::Activity)?;
            let items = rows
                .into_iter()
                .map(|row| shown(row, &live))
                .collect::<Result<Vec<_>, _>>()?;
            Ok(Page::from_rows(items, page.limit, encode_position))
        })
    }

    fn update_activity(
        &self,
        actor: &Actor,
        id: &str,
        fields: ActivityFields,
        follow_up: FollowUpChange,
        expected_version: Option<i64>,
        now: DateTime<Utc>,
    ) -> Result<Activity, DomainError> {
        let at = stored(now);
        self.write(|conn| {
            let current = load(conn, &actor.visibility, id)?;
            check_version(expected_version, current.version)?;
            if fields.contact_id != current.fields.contact_id {
                check_contact(conn, &current.customer_id, fields.contact_id.as_deref())?;
            }
            if fields.opportunity_id != current.fields.opportunity_id {
                check_opportunity(conn, &current.customer_id, fields.opportunity_id.as_deref())?;
            }
            let next_follow_up = match follow_up {
                FollowUpChange::Keep => current.follow_up.clone(),
                FollowUpChange::Remove => None,
                FollowUpChange::Set {
                    due_at,
                    note,
                    state,
                } => {
                    let base = current.follow_up.clone();
                    let Some(due) = due_at.or(base.as_ref().map(|f| f.due_at)) else {
                        return Err(DomainError::Validation(vec![FieldError::new(
                            "/follow_up/due_at",
                            "required",
                            "the activity has no follow-up: give its due time",
                        )])
                        .into());
                    };
                    let mut next = base.unwrap_or(FollowUp {
                        due_at: due,
                        note: None,
                        state: FollowUpState::Pending.stored().into(),
                        closed_at: None,
                        closed_by: None,
                        reminded_at: None,
                    });
                    // A new due time comes due again.
                    if next.due_at != due {
                        next.reminded_at = None;
                    }
                    next.due_at = due;
                    if let Some(note) = note {
                        next.note = note;
                    }
                    // A new due time reopens a closed follow-up unless a state is given.
                    let state = state.or(due_at.map(|_| FollowUpState::Pending));
                    if let Some(state) = state {
                        if state.stored() != next.state {
                            next.state = state.stored().into();
                            let closed = !state.is_open();
                            next.closed_at = closed.then_some(now);
                            next.closed_by = closed.then(|| actor.id.clone());
                        }
                    }
                    Some(next)
                }
            };
            let (stored_raw, recorded_raw): (String, String) = activities::table
                .find(id)
                .select((activities::custom_fields, activities::behaviors))
                .get_result(conn)?;
            let recorded = record(conn, &fields.behaviors, &parse_recordings(&recorded_raw)?)?;
            let definitions = definitions_of(conn, FieldEntity::Activity)?;
            let mut fields = fields.clone();
            keep_archived(&definitions, &stored_raw, &mut fields.custom_fields)?;
            let unchanged = fields.contact_id == current.fields.contact_id
                && fields.opportunity_id == current.fields.opportunity_id
                && fields.kind == current.fields.kind
                && fields.occurred_at == current.fields.occurred_at
                && fields.subject == current.fields.subject
                && fields.content == current.fields.content
                && fields.outcome == current.fields.outcome
                && fields.attachments == current.fields.attachments
                && fields.behaviors == current.fields.behaviors
                && next_follow_up == current.follow_up;
            let stored_values: std::collections::BTreeMap<String, serde_json::Value> =
                serde_json::from_str(&stored_raw)
                    .map_err(|_| corrupt("activities.custom_fields", &stored_raw))?;
            if unchanged && fields.custom_fields == stored_values {
                return Ok(current);
            }
            let write = ActivityWrite::of(&fields, &recorded)?;
            diesel::update(activities::table.find(id))
                .set((
                    &write,
                    FollowUpWrite::of(next_follow_up.as_ref()),
                    activities::updated_at.eq(at),
                    activities::version.eq(current.version + 1),
                ))
                .execute(conn)?;
            write_values(conn, &definitions, id, &fields.custom_fields)?;
            refresh_customer(conn, &current.customer_id, now)?;
            load(conn, &Visibility::All, id)
        })
    }

    fn follow_ups(
        &self,
        actor: &Actor,
        filter: &FollowUpFilter,
        page: &PageRequest,
    ) -> Result<Page<FollowUpEntry>, DomainError> {
        let after = match &page.after {
            None => None,
            Some(raw) => Some(decode_follow_up_position(raw).ok_or_else(|| {
                DomainError::Validation(vec![FieldError::new(
                    "/query/cursor",
                    "invalid",
                    "not a cursor of this list",
                )])
            })?),
        };
        self.read(|conn| {
            let mut query = activities::table
                .inner_join(customers::table)
                .filter(activities::deleted_at.is_null())
                .filter(customers::deleted_at.is_null())
                .filter(activities::follow_up_state.eq(FollowUpState::Pending.stored()))
                .select((ActivityRow::as_select(), customers::name, customers::score))
                .order((
                    activities::follow_up_at.asc(),
                    customers::score.desc(),
                    activities::id.asc(),
                ))
                .limit(i64::from(page.limit) + 1)
                .into_boxed();
            if let Visibility::OwnersOrPool(owners) = &actor.visibility {
                query = query.filter(crate::conditions::owned_or_pool(owners));
            }
            if let Some(owner) = &filter.owner_id {
                query = query.filter(activities::author_id.eq(owner));
            }
            if let Some(at) = filter.due_from {
                query = query.filter(activities::follow_up_at.ge(stored(at)));
            }
            if let Some(at) = filter.due_before {
                query = query.filter(activities::follow_up_at.lt(stored(at)));
            }
            if let Some((due, score, id)) = &after {
                // The redundant bound on the due time alone lets the database seek in the index.
                query = query.filter(activities::follow_up_at.ge(*due)).filter(
                    activities::follow_up_at
                        .gt(*due)
                        .or(activities::follow_up_at.eq(*due).and(
                            customers::score.lt(*score).or(customers::score
                                .eq(*score)
                                .and(activities::id.gt(id.clone()))),
                        )),
                );
            }
            let rows: Vec<(ActivityRow, String, i64)> = query.load(conn)?;
            let live = live_keys(conn, FieldEntity::Activity)?;
            let entries = rows
                .into_iter()
                .map(|(row, customer_name, customer_score)| {
                    Ok(FollowUpEntry {
                        activity: shown(row, &live)?,
                        customer_name,
                        customer_score,
                    })
                })
                .collect::<Result<Vec<_>, TxError>>()?;
            Ok(Page::from_rows(entries, page.limit, |e| {
                format!(
                    "{}:{}:{}",
                    e.activity
                        .follow_up
                        .as_ref()
                        .map_or(0, |f| f.due_at.timestamp_micros()),
                    e.customer_score,
                    e.activity.id
                )
            }))
        })
    }

    fn delete_activity(
        &self,
        actor: &Actor,
        id: &str,
        now: DateTime<Utc>,
    ) -> Result<(), DomainError> {
        let at = stored(now);
        self.write(|conn| {
            let current = load(conn, &actor.visibility, id)?;
            diesel::update(activities::table.find(id))
                .set(activities::deleted_at.eq(at))
                .execute(conn)?;
            // A follow-up this activity completed is open again.
            diesel::update(
                activities::table
                    .filter(activities::follow_up_closed_by.eq(id))
                    .filter(activities::follow_up_state.eq(FollowUpState::Done.stored())),
            )
            .set((
                activities::follow_up_state.eq(FollowUpState::Pending.stored()),
                activities::follow_up_closed_at.eq(None::<NaiveDateTime>),
                activities::follow_up_closed_by.eq(None::<String>),
                activities::updated_at.eq(at),
                activities::version.eq(activities::version + 1),
            ))
            .execute(conn)?;
            refresh_customer(conn, &current.customer_id, now)
        })
    }
}

/// A customer's latest `limit` live activities (newest first) and those with a pending
/// follow-up (soonest first, at most `limit`).
pub(crate) fn timeline_of(
    conn: &mut DbConnection,
    customer_id: &str,
    limit: u32,
) -> Result<(Vec<Activity>, Vec<Activity>), TxError> {
    let live = activities::table
        .filter(activities::customer_id.eq(customer_id))
        .filter(activities::deleted_at.is_null());
    let recent: Vec<ActivityRow> = live
        .select(ActivityRow::as_select())
        .order((activities::occurred_at.desc(), activities::id.desc()))
        .limit(i64::from(limit))
        .load(conn)?;
    let open: Vec<ActivityRow> = live
        .filter(activities::follow_up_state.eq(FollowUpState::Pending.stored()))
        .select(ActivityRow::as_select())
        .order((activities::follow_up_at.asc(), activities::id.asc()))
        .limit(i64::from(limit))
        .load(conn)?;
    let keys = live_keys(conn, FieldEntity::Activity)?;
    let shown_all = |rows: Vec<ActivityRow>| {
        rows.into_iter()
            .map(|row| shown(row, &keys))
            .collect::<Result<Vec<_>, _>>()
    };
    Ok((shown_all(recent)?, shown_all(open)?))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn positions_round_trip() {
        let at = DateTime::<Utc>::from_timestamp_micros(1_780_000_000_123_456).unwrap_or_default();
        let raw = format!("{}:abc", at.timestamp_micros());
        assert_eq!(decode_position(&raw), Some((stored(at), "abc".into())));
        assert_eq!(decode_position("x:abc"), None);
        assert_eq!(decode_position("5:"), None);
        assert_eq!(
            decode_follow_up_position(&format!("{}:-7:abc", at.timestamp_micros())),
            Some((stored(at), -7, "abc".into()))
        );
        assert_eq!(decode_follow_up_position("5:x:abc"), None);
        assert_eq!(decode_follow_up_position("5:1:"), None);
    }
}
