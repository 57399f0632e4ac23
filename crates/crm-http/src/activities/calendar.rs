//! Each rep's follow-ups as a private iCalendar feed, so phone and desktop calendars remind them
//! without an app: a per-user token (shown once, stored as a digest) in the feed's URL, replaced
//! when a new one is issued and revoked on request.

use actix_web::{delete, get, post, web, HttpResponse};
use chrono::Duration;
use crm_domain::identity::Principal;
use crm_domain::page::PageRequest;
use crm_domain::ports::FollowUpFilter;
use crm_domain::secrets::{new_token, token_digest};
use crm_domain::DomainError;
use icalendar::{Calendar, Component, Event, EventLike};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use crate::auth::actor::actor;
use crate::auth::Caller;
use crate::blocking::blocking;
use crate::responses::created;
use crate::{ApiError, ApiState, Problem};

/// The feed path; the token follows as `?token=`.
const FEED_PATH: &str = "/api/v1/follow-ups/calendar.ics";
/// Most follow-ups one feed holds (soonest first).
const FEED_MAX: u32 = 500;
/// How long each follow-up's calendar entry lasts.
const ENTRY_MINUTES: i64 = 30;

/// A calendar feed's address: subscribe to it in a calendar app. Shown only in this answer.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct CalendarFeedDto {
    /// The feed's path with its token; prefix it with this server's address.
    #[schema(example = "/api/v1/follow-ups/calendar.ics?token=Zk9x…")]
    pub url: String,
    /// The token alone.
    pub token: String,
}

/// The feed's token.
#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub(crate) struct FeedQuery {
    /// The token from `POST /api/v1/follow-ups/calendar-feed`.
    #[param(max_length = 200)]
    pub token: String,
}

fn user_id(principal: &Principal) -> Result<String, ApiError> {
    match principal {
        Principal::User { user_id, .. } => Ok(user_id.clone()),
        Principal::ApiKey { .. } => Err(DomainError::Forbidden.into()),
    }
}

/// Issues your private calendar feed of open follow-ups, revoking any earlier one. The token is
/// shown only in this answer.
#[utoipa::path(
    tag = "activities",
    operation_id = "create_calendar_feed",
    summary = "Issue my follow-up calendar feed",
    responses(
        (status = 201, description = "The feed's address.", body = CalendarFeedDto,
            headers(("Location" = String, description = "The feed's path (without its token)."),
                ("ETag" = String, description = "Always `\"1\"`."))),
    ),
)]
#[post("/follow-ups/calendar-feed")]
pub(crate) async fn create_calendar_feed(
    state: web::Data<ApiState>,
    caller: Caller,
) -> Result<HttpResponse, ApiError> {
    let user_id = user_id(&caller.0)?;
    let token = new_token()?;
    let digest = token_digest(&token);
    let now = state.clock.now();
    let store = state.stores.calendar_feeds.clone();
    blocking(move || store.set_calendar_feed(&user_id, &digest, now)).await?;
    Ok(created(
        FEED_PATH.to_string(),
        1,
        &CalendarFeedDto {
            url: format!("{FEED_PATH}?token={token}"),
            token,
        },
    ))
}

/// Revokes your calendar feed: its address stops working.
#[utoipa::path(
    tag = "activities",
    operation_id = "delete_calendar_feed",
    summary = "Revoke my follow-up calendar feed",
    responses(
        (status = 204, description = "Revoked."),
        (status = 404, description = "You have no feed.", body = Problem,
            content_type = "application/problem+json"),
    ),
)]
#[delete("/follow-ups/calendar-feed")]
pub(crate) async fn delete_calendar_feed(
    state: web::Data<ApiState>,
    caller: Caller,
) -> Result<HttpResponse, ApiError> {
    let user_id = user_id(&caller.0)?;
    let store = state.stores.calendar_feeds.clone();
    if blocking(move || store.remove_calendar_feed(&user_id)).await? {
        Ok(HttpResponse::NoContent().finish())
    } else {
        Err(DomainError::NotFound {
            entity: "calendar feed",
        }
        .into())
    }
}

/// A user's open follow-ups (up to 500, soonest first, overdue ones included) as iCalendar
/// events of 30 minutes at their due time, for calendar apps to subscribe to. The token in the
/// query authenticates; an unknown or revoked one, or one of a deactivated user, is a 404.
#[utoipa::path(
    tag = "activities",
    operation_id = "get_follow_up_calendar",
    summary = "A follow-up calendar feed",
    params(FeedQuery),
    responses(
        (status = 200, description = "The feed (RFC 5545).", body = String,
            content_type = "text/calendar"),
        (status = 400, description = "No `token` parameter, or an unknown parameter.", body = Problem,
            content_type = "application/problem+json"),
        (status = 404, description = "No feed has this token.", body = Problem,
            content_type = "application/problem+json"),
    ),
)]
#[get("/follow-ups/calendar.ics")]
pub(crate) async fn get_follow_up_calendar(
    state: web::Data<ApiState>,
    query: web::Query<FeedQuery>,
) -> Result<HttpResponse, ApiError> {
    let not_found = || -> ApiError {
        DomainError::NotFound {
            entity: "calendar feed",
        }
        .into()
    };
    let digest = token_digest(&query.token);
    let feeds = state.stores.calendar_feeds.clone();
    let user_id = blocking(move || feeds.calendar_feed_user(&digest))
        .await?
        .ok_or_else(not_found)?;
    let users = state.stores.users.clone();
    let id = user_id.clone();
    let user = blocking(move || match users.user(&id) {
        Ok(user) => Ok(Some(user)),
        Err(DomainError::NotFound { .. }) => Ok(None),
        Err(e) => Err(e),
    })
    .await?
    .filter(|user| user.active)
    .ok_or_else(not_found)?;
    let principal = Principal::User {
        user_id: user.id.clone(),
        role: user.role,
    };
    let actor = actor(&state, &principal).await?;
    let store = state.stores.activities.clone();
    let filter = FollowUpFilter {
        owner_id: Some(user.id),
        ..FollowUpFilter::default()
    };
    let page = blocking(move || {
        store.follow_ups(
            &actor,
            &filter,
            &PageRequest {
                limit: FEED_MAX,
                after: None,
            },
        )
    })
    .await?;
    let mut calendar = Calendar::new();
    calendar.name("CRM follow-ups");
    for entry in page.items {
        let Some(follow_up) = entry.activity.follow_up else {
            continue;
        };
        let mut event = Event::new();
        event
            .uid(&format!("follow-up-{}@crm", entry.activity.id))
            .summary(&format!(
                "Follow up: {} — {}",
                entry.customer_name, entry.activity.fields.subject
            ))
            .starts(follow_up.due_at)
            .ends(follow_up.due_at + Duration::minutes(ENTRY_MINUTES));
        if let Some(note) = &follow_up.note {
            event.description(note);
        }
        calendar.push(event.done());
    }
    Ok(HttpResponse::Ok()
        .content_type("text/calendar; charset=utf-8")
        .insert_header(("Cache-Control", "private, max-age=300"))
        .body(calendar.done().to_string()))
}
