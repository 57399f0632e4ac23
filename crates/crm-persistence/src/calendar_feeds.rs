//! `CalendarFeedStore` on the database.

use chrono::{DateTime, Utc};
use crm_domain::ports::CalendarFeedStore;
use crm_domain::DomainError;
use diesel::prelude::*;

use crate::convert::stored;
use crate::schema::calendar_feeds;
use crate::Database;

impl CalendarFeedStore for Database {
    fn set_calendar_feed(
        &self,
        user_id: &str,
        token_digest: &str,
        now: DateTime<Utc>,
    ) -> Result<(), DomainError> {
        self.write(|conn| {
            diesel::delete(calendar_feeds::table.find(user_id)).execute(conn)?;
            diesel::insert_into(calendar_feeds::table)
                .values((
                    calendar_feeds::user_id.eq(user_id),
                    calendar_feeds::token_digest.eq(token_digest),
                    calendar_feeds::created_at.eq(stored(now)),
                ))
                .execute(conn)?;
            Ok(())
        })
    }

    fn remove_calendar_feed(&self, user_id: &str) -> Result<bool, DomainError> {
        self.write(|conn| {
            let removed = diesel::delete(calendar_feeds::table.find(user_id)).execute(conn)?;
            Ok(removed > 0)
        })
    }

    fn calendar_feed_user(&self, token_digest: &str) -> Result<Option<String>, DomainError> {
        self.read(|conn| {
            Ok(calendar_feeds::table
                .filter(calendar_feeds::token_digest.eq(token_digest))
                .select(calendar_feeds::user_id)
                .get_result(conn)
                .optional()?)
        })
    }
}
