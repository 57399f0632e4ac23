//! `OutboxStore` on the database: events written in the transaction of the change (or the job)
//! that causes them, for delivery to other systems.

use chrono::{DateTime, NaiveDateTime, Utc};
use crm_domain::activities::FollowUpState;
use crm_domain::ports::{OutboxEvent, OutboxStore};
use crm_domain::DomainError;
use diesel::prelude::*;
use serde_json::json;

use crate::convert::{corrupt, new_id, stored, utc};
use crate::schema::{activities, customers, outbox_events};
use crate::Database;

/// The event a follow-up emits when it comes due.
pub const FOLLOW_UP_DUE: &str = "follow_up.due";

type DueRow = (
    String,
    String,
    String,
    String,
    Option<NaiveDateTime>,
    Option<String>,
);

impl OutboxStore for Database {
    fn emit_due_follow_ups(&self, now: DateTime<Utc>, limit: u32) -> Result<usize, DomainError> {
        let at = stored(now);
        self.write(|conn| {
            let due: Vec<DueRow> = activities::table
                .inner_join(customers::table)
                .filter(activities::follow_up_state.eq(FollowUpState::Pending.stored()))
                .filter(activities::follow_up_reminded_at.is_null())
                .filter(activities::follow_up_at.le(at))
                .filter(activities::deleted_at.is_null())
                .filter(customers::deleted_at.is_null())
                .select((
                    activities::id,
                    activities::customer_id,
                    activities::author_id,
                    activities::subject,
                    activities::follow_up_at,
                    activities::follow_up_note,
                ))
                .order((activities::follow_up_at.asc(), activities::id.asc()))
                .limit(i64::from(limit))
                .load(conn)?;
            for (id, customer_id, owner_id, subject, due_at, note) in &due {
                let payload = json!({
                    "activity_id": id,
                    "customer_id": customer_id,
                    "owner_id": owner_id,
                    "subject": subject,
                    "due_at": due_at.map(utc),
                    "note": note,
                });
                diesel::insert_into(outbox_events::table)
                    .values((
                        outbox_events::id.eq(new_id()),
                        outbox_events::event_type.eq(FOLLOW_UP_DUE),
                        outbox_events::subject_id.eq(id),
                        outbox_events::payload.eq(payload.to_string()),
                        outbox_events::created_at.eq(at),
                    ))
                    .execute(conn)?;
                diesel::update(activities::table.find(id))
                    .set(activities::follow_up_reminded_at.eq(at))
                    .execute(conn)?;
            }
            Ok(due.len())
        })
    }

    fn pending_events(
        &self,
        after: Option<&str>,
        limit: u32,
    ) -> Result<Vec<OutboxEvent>, DomainError> {
        self.read(|conn| {
            let mut query = outbox_events::table
                .filter(outbox_events::delivered_at.is_null())
                .select((
                    outbox_events::id,
                    outbox_events::event_type,
                    outbox_events::subject_id,
                    outbox_events::payload,
                    outbox_events::created_at,
                ))
                .order(outbox_events::id.asc())
                .limit(i64::from(limit))
                .into_boxed();
            if let Some(after) = after {
                query = query.filter(outbox_events::id.gt(after.to_string()));
            }
            let rows: Vec<(String, String, String, String, NaiveDateTime)> = query.load(conn)?;
            rows.into_iter()
                .map(|(id, event_type, subject_id, payload, created_at)| {
                    Ok(OutboxEvent {
                        payload: serde_json::from_str(&payload)
                            .map_err(|_| corrupt("outbox_events.payload", &payload))?,
                        id,
                        event_type,
                        subject_id,
                        created_at: utc(created_at),
                    })
                })
                .collect::<Result<Vec<_>, DomainError>>()
                .map_err(Into::into)
        })
    }
}
