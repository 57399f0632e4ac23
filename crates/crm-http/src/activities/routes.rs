//! Activity endpoints. An activity is reached through its customer: a customer the caller may
//! not see answers 404 for its activities too. Its author, a manager or an admin may change or
//! remove it.

use actix_web::{delete, get, patch, post, web, HttpRequest, HttpResponse};
use crm_domain::activities::Activity;
use crm_domain::custom_fields::FieldEntity;
use crm_domain::identity::{Principal, Role};
use crm_domain::ports::{ActivityFilter, Actor, FollowUpFilter};
use crm_domain::DomainError;

use super::dto::{
    ActivityBody, ActivityDto, ActivityList, ActivityQuery, DueDto, FollowUpItem, FollowUpList,
    FollowUpQuery,
};
use crate::auth::actor::actor;
use crate::auth::Caller;
use crate::blocking::{blocking, short_read};
use crate::custom_values::{
    check_custom_fields, check_custom_patch, custom_filters, custom_query, together,
};
use crate::extract::ApiJson;
use crate::pagination::{cursor, invalid_query, PageQuery};
use crate::responses::{created, if_match, ok_with_etag};
use crate::{ApiError, ApiState, Problem};

/// Logs an activity on a customer you may see, with the follow-up it schedules.
///
/// `answers` names an earlier activity of the same customer whose open follow-up this one
/// completes. The customer's `last_activity_at` and `next_follow_up_at` follow at once.
#[utoipa::path(
    tag = "activities",
    operation_id = "create_activity",
    summary = "Log an activity",
    request_body = ActivityBody,
    responses(
        (status = 201, description = "Logged.", body = ActivityDto,
            headers(("Location" = String, description = "The activity's URL."),
                ("ETag" = String, description = "The activity's version."))),
        (status = 404, description = "No such customer, or not one you may see.", body = Problem,
            content_type = "application/problem+json"),
    ),
)]
#[post("/activities")]
pub(crate) async fn create_activity(
    state: web::Data<ApiState>,
    caller: Caller,
    body: ApiJson<ActivityBody>,
) -> Result<HttpResponse, ApiError> {
    let now = state.clock.now();
    let mut body = body.0;
    let given = body.custom_fields.take().flatten();
    let behaviors = check_behaviors(&state, body.behaviors.as_ref(), &[]).await?;
    let patch = body.validate(true, now);
    let custom = check_custom_fields(&state, FieldEntity::Activity, given, None).await?;
    let (patch, custom) = together(patch, also(custom, behaviors))?;
    let mut fields = patch.apply(None);
    fields.custom_fields = custom;
    let plan = patch.plan();
    let customer_id = patch.customer_id.clone().unwrap_or_default();
    let answers = patch.answers.clone();
    let actor = actor(&state, &caller.0).await?;
    let store = state.stores.activities.clone();
    let activity =
        blocking(move || store.create_activity(&actor, &customer_id, fields, plan, answers, now))
            .await?;
    Ok(created(
        format!("/api/v1/activities/{}", activity.id),
        activity.version,
        &ActivityDto::at(activity, now),
    ))
}

/// Activities of the customers you may see, newest first; filtered by customer, author, kind and
/// time.
///
/// Custom fields filter too, as on the customer list: `cf.<key>=value`, `cf.<key>[gte]=value`,
/// `cf.<key>[lte]=value`, `cf.<key>[in]=a,b` and `cf.<key>[contains]=option`. A parameter naming
/// no live activity field, an unknown operator or a value the field cannot hold is a 400 naming
/// the parameter.
#[utoipa::path(
    tag = "activities",
    operation_id = "list_activities",
    summary = "List activities",
    params(ActivityQuery),
    responses(
        (status = 200, description = "A page of activities.", body = ActivityList),
        (status = 400, description = "An invalid or unknown query parameter.", body = Problem,
            content_type = "application/problem+json"),
        (status = 404, description = "`customer_id` names no customer you may see.", body = Problem,
            content_type = "application/problem+json"),
    ),
)]
#[get("/activities")]
pub(crate) async fn list_activities(
    req: HttpRequest,
    state: web::Data<ApiState>,
    caller: Caller,
) -> Result<HttpResponse, ApiError> {
    let now = state.clock.now();
    let (query, custom) = custom_query::<ActivityQuery>(&req)?;
    let page = PageQuery {
        limit: query.limit,
        cursor: query.cursor,
    }
    .page()?;
    let fits = |raw: &str| {
        raw.split_once(':')
            .is_some_and(|(micros, id)| micros.parse::<i64>().is_ok() && !id.is_empty())
    };
    if page.after.as_deref().is_some_and(|after| !fits(after)) {
        return Err(invalid_query(
            "cursor",
            "invalid",
            "not a cursor this API issued for this list".into(),
        ));
    }
    let actor = actor(&state, &caller.0).await?;
    let author_id = match query.author_id.as_deref() {
        Some("me") => Some(actor.id.clone()),
        Some(id) => Some(id.to_lowercase()),
        None => None,
    };
    if let Some(id) = &author_id {
        if uuid::Uuid::parse_str(id).is_err() {
            return Err(invalid_query(
                "author_id",
                "invalid",
                "a user or API key id, or `me`".into(),
            ));
        }
    }
    let filter = ActivityFilter {
        opportunity_id: query.opportunity_id.map(|id| id.to_string()),
        customer_id: query.customer_id.map(|id| id.to_string()),
        author_id,
        kind: query.kind.map(Into::into),
        occurred_after: query.occurred_after,
        occurred_before: query.occurred_before,
        custom: custom_filters(&state, FieldEntity::Activity, custom).await?,
    };
    let store = state.stores.activities.clone();
    let page = blocking(move || store.list_activities(&actor, &filter, &page)).await?;
    Ok(HttpResponse::Ok().json(ActivityList {
        items: page
            .items
            .into_iter()
            .map(|a| ActivityDto::at(a, now))
            .collect(),
        next_cursor: cursor(page.next_after),
    }))
}

/// Reads one activity.
#[utoipa::path(
    tag = "activities",
    operation_id = "get_activity",
    summary = "Get an activity",
    params(("id" = uuid::Uuid, Path, description = "The activity's id.")),
    responses(
        (status = 200, description = "The activity.", body = ActivityDto,
            headers(("ETag" = String, description = "The activity's version."))),
        (status = 404, description = "No such activity, or not one you may see.", body = Problem,
            content_type = "application/problem+json"),
    ),
)]
#[get("/activities/{id}")]
pub(crate) async fn get_activity(
    state: web::Data<ApiState>,
    caller: Caller,
    id: web::Path<uuid::Uuid>,
) -> Result<HttpResponse, ApiError> {
    let now = state.clock.now();
    let actor = actor(&state, &caller.0).await?;
    let activity = read(&state, &actor, id.to_string()).await?;
    Ok(ok_with_etag(
        activity.version,
        &ActivityDto::at(activity, now),
    ))
}

/// Changes an activity (JSON merge patch) and its follow-up: `follow_up.state` closes or reopens
/// it, a new `follow_up.due_at` (in the future) moves it, `"follow_up": null` removes it. Only
/// its author, a manager or an admin may.
#[utoipa::path(
    tag = "activities",
    operation_id = "update_activity",
    summary = "Update an activity",
    params(
        ("id" = uuid::Uuid, Path, description = "The activity's id."),
        ("If-Match" = Option<String>, Header, description = "The `ETag` you read; refused with 412 if the activity changed since."),
    ),
    request_body(content = ActivityBody, content_type = "application/merge-patch+json"),
    responses(
        (status = 200, description = "The changed activity.", body = ActivityDto,
            headers(("ETag" = String, description = "The activity's new version."))),
        (status = 404, description = "No such activity, or not one you may see.", body = Problem,
            content_type = "application/problem+json"),
        (status = 412, description = "The activity changed since the `If-Match` version.", body = Problem,
            content_type = "application/problem+json",
            headers(("ETag" = String, description = "The activity's current version."))),
    ),
)]
#[patch("/activities/{id}")]
pub(crate) async fn update_activity(
    req: HttpRequest,
    state: web::Data<ApiState>,
    caller: Caller,
    id: web::Path<uuid::Uuid>,
    body: ApiJson<ActivityBody>,
) -> Result<HttpResponse, ApiError> {
    let now = state.clock.now();
    let mut body = body.0;
    let given = body.custom_fields.take();
    let given_behaviors = body.behaviors.clone();
    let patch = body.validate(false, now);
    let id = id.to_string();
    let actor = actor(&state, &caller.0).await?;
    let current = read(&state, &actor, id.clone()).await?;
    may_change(&caller.0, &actor, &current)?;
    let custom = check_custom_patch(
        &state,
        FieldEntity::Activity,
        given,
        &current.fields.custom_fields,
    )
    .await?;
    let behaviors =
        check_behaviors(&state, given_behaviors.as_ref(), &current.fields.behaviors).await?;
    let (patch, custom) = together(patch, also(custom, behaviors))?;
    // Bad input is reported before a precondition is judged.
    let expected = if_match(&req)?;
    let mut fields = patch.apply(Some(&current.fields));
    fields.custom_fields = custom;
    let store = state.stores.activities.clone();
    let version = current.version;
    let follow_up = patch.follow_up;
    let activity = blocking(move || {
        store.update_activity(
            &actor,
            &id,
            fields,
            follow_up,
            expected.or(Some(version)),
            now,
        )
    })
    .await?;
    Ok(ok_with_etag(
        activity.version,
        &ActivityDto::at(activity, now),
    ))
}

/// Removes an activity with its follow-up; a follow-up it had completed is open again. Only its
/// author, a manager or an admin may.
#[utoipa::path(
    tag = "activities",
    operation_id = "delete_activity",
    summary = "Remove an activity",
    params(("id" = uuid::Uuid, Path, description = "The activity's id.")),
    responses(
        (status = 204, description = "Removed."),
        (status = 404, description = "No such activity, or not one you may see.", body = Problem,
            content_type = "application/problem+json"),
    ),
)]
#[delete("/activities/{id}")]
pub(crate) async fn delete_activity(
    state: web::Data<ApiState>,
    caller: Caller,
    id: web::Path<uuid::Uuid>,
) -> Result<HttpResponse, ApiError> {
    let id = id.to_string();
    let actor = actor(&state, &caller.0).await?;
    let current = read(&state, &actor, id.clone()).await?;
    may_change(&caller.0, &actor, &current)?;
    let store = state.stores.activities.clone();
    let now = state.clock.now();
    blocking(move || store.delete_activity(&actor, &id, now)).await?;
    Ok(HttpResponse::NoContent().finish())
}

/// Open follow-ups to remind of, soonest first; at the same due time the customer with the
/// higher score first. `due=today` means the calendar day in `tz`.
#[utoipa::path(
    tag = "activities",
    operation_id = "list_follow_ups",
    summary = "List follow-ups to do",
    params(FollowUpQuery),
    responses(
        (status = 200, description = "A page of open follow-ups.", body = FollowUpList),
        (status = 400, description = "An invalid or unknown query parameter.", body = Problem,
            content_type = "application/problem+json"),
    ),
)]
#[get("/follow-ups")]
pub(crate) async fn list_follow_ups(
    state: web::Data<ApiState>,
    caller: Caller,
    query: web::Query<FollowUpQuery>,
) -> Result<HttpResponse, ApiError> {
    let now = state.clock.now();
    let query = query.into_inner();
    let page = PageQuery {
        limit: query.limit,
        cursor: query.cursor,
    }
    .page()?;
    let fits = |raw: &str| {
        let mut parts = raw.splitn(3, ':');
        let micros = parts.next().and_then(|p| p.parse::<i64>().ok());
        let score = parts.next().and_then(|p| p.parse::<i64>().ok());
        micros.is_some() && score.is_some() && parts.next().is_some_and(|id| !id.is_empty())
    };
    if page.after.as_deref().is_some_and(|after| !fits(after)) {
        return Err(invalid_query(
            "cursor",
            "invalid",
            "not a cursor this API issued for this list".into(),
        ));
    }
    let zone: chrono_tz::Tz = match query.tz.as_deref() {
        None => chrono_tz::UTC,
        Some(name) => name
            .parse()
            .map_err(|_| invalid_query("tz", "invalid", "not an IANA time zone name".into()))?,
    };
    let actor = actor(&state, &caller.0).await?;
    let owner_id = match query.owner.as_deref() {
        None | Some("me") => Some(actor.id.clone()),
        Some("all") => None,
        Some(id) => Some(
            uuid::Uuid::parse_str(id)
                .map_err(|_| invalid_query("owner", "invalid", "`me`, `all` or a user id".into()))?
                .to_string(),
        ),
    };
    let just_after_now = now + chrono::Duration::microseconds(1);
    let (due_from, due_before) = match query.due {
        None => (None, None),
        Some(DueDto::Overdue) => (None, Some(just_after_now)),
        Some(DueDto::Upcoming) => (Some(just_after_now), None),
        Some(DueDto::Today) => {
            let today = now.with_timezone(&zone).date_naive();
            let start = |day: chrono::NaiveDate| {
                day.and_hms_opt(0, 0, 0)
                    .and_then(|midnight| midnight.and_local_timezone(zone).earliest())
                    .map(|at| at.with_timezone(&chrono::Utc))
            };
            (start(today), today.succ_opt().and_then(start))
        }
    };
    let filter = FollowUpFilter {
        owner_id,
        due_from,
        due_before,
    };
    let store = state.stores.activities.clone();
    let page = blocking(move || store.follow_ups(&actor, &filter, &page)).await?;
    let items = page
        .items
        .into_iter()
        .filter_map(|entry| {
            let follow_up = entry.activity.follow_up?;
            Some(FollowUpItem {
                state: follow_up.state_at(now).as_str(),
                activity_id: entry.activity.id,
                customer_id: entry.activity.customer_id,
                customer_name: entry.customer_name,
                customer_score: entry.customer_score,
                subject: entry.activity.fields.subject,
                due_at: follow_up.due_at,
                note: follow_up.note,
                owner_id: entry.activity.author_id,
            })
        })
        .collect();
    Ok(HttpResponse::Ok().json(FollowUpList {
        items,
        next_cursor: cursor(page.next_after),
    }))
}

async fn read(state: &ApiState, actor: &Actor, id: String) -> Result<Activity, ApiError> {
    let store = state.stores.activities.clone();
    let actor = actor.clone();
    short_read(state, move || store.activity(&actor, &id)).await
}

/// 403 unless the caller wrote the activity or is a manager or an admin (who see it, since it
/// was read through their visibility).
fn may_change(principal: &Principal, actor: &Actor, activity: &Activity) -> Result<(), ApiError> {
    let manages = matches!(principal.role(), Some(Role::Admin | Role::Manager));
    if manages || activity.author_id == actor.id {
        Ok(())
    } else {
        Err(DomainError::Forbidden.into())
    }
}

/// Every problem with the behaviour codes a body gives (none when it gives none), against the
/// catalogue; `already` are those the activity records. The store checks again in its
/// transaction.
async fn check_behaviors(
    state: &ApiState,
    given: Option<&Option<Vec<String>>>,
    already: &[String],
) -> Result<Vec<crm_domain::FieldError>, ApiError> {
    let Some(Some(codes)) = given else {
        return Ok(Vec::new());
    };
    let store = state.stores.scoring.clone();
    let catalogue = blocking(move || store.behaviors(true)).await?;
    Ok(crm_domain::scoring::check_recorded(
        codes, &catalogue, already,
    ))
}

/// `custom` with `more` problems.
fn also<T>(
    custom: Result<T, Vec<crm_domain::FieldError>>,
    more: Vec<crm_domain::FieldError>,
) -> Result<T, Vec<crm_domain::FieldError>> {
    match custom {
        Ok(_) if !more.is_empty() => Err(more),
        Ok(values) => Ok(values),
        Err(mut errors) => {
            errors.extend(more);
            Err(errors)
        }
    }
}
