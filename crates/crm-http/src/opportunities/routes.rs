//! Opportunity endpoints. An opportunity is reached through its customer: a customer the caller
//! may not see answers 404 for its opportunities too. Its owner, a manager or an admin may
//! change it or move it between stages.

use actix_web::{get, patch, post, web, HttpRequest, HttpResponse};
use crm_domain::custom_fields::FieldEntity;
use crm_domain::identity::{Principal, Role};
use crm_domain::opportunities::{Opportunity, OpportunitySort};
use crm_domain::ports::{Actor, OpportunityFilter};
use crm_domain::DomainError;

use super::dto::{
    CreateOpportunity, OpportunityDto, OpportunityList, OpportunityQuery, StageChangeBody,
    StageChangeDto, StageHistory, UpdateOpportunity,
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

/// Opens an opportunity on a customer you may see, owned by you, in the default pipeline's
/// first open stage unless you name a pipeline and stage.
#[utoipa::path(
    tag = "opportunities",
    operation_id = "create_opportunity",
    summary = "Create an opportunity",
    request_body = CreateOpportunity,
    responses(
        (status = 201, description = "Created.", body = OpportunityDto,
            headers(("Location" = String, description = "The opportunity's URL."),
                ("ETag" = String, description = "The opportunity's version."))),
        (status = 404, description = "No such customer, or not one you may see.", body = Problem,
            content_type = "application/problem+json"),
    ),
)]
#[post("/opportunities")]
pub(crate) async fn create_opportunity(
    state: web::Data<ApiState>,
    caller: Caller,
    body: ApiJson<CreateOpportunity>,
) -> Result<HttpResponse, ApiError> {
    let mut body = body.0;
    let given = body.custom_fields.take();
    let draft = body.validate();
    let custom = check_custom_fields(&state, FieldEntity::Opportunity, given, None).await?;
    let (mut draft, custom) = together(draft, custom)?;
    draft.custom_fields = custom;
    let now = state.clock.now();
    let actor = actor(&state, &caller.0).await?;
    let store = state.stores.opportunities.clone();
    let made = blocking(move || store.create_opportunity(&actor, draft, now)).await?;
    Ok(created(
        format!("/api/v1/opportunities/{}", made.id),
        made.version,
        &OpportunityDto::from(made),
    ))
}

/// Opportunities of the customers you may see, most recently changed first unless `sort` says
/// otherwise; filtered by pipeline, stage, owner, customer, status, amount and expected close.
///
/// Custom fields filter too, as on the customer list: `cf.<key>=value`, `cf.<key>[gte]=value`,
/// `cf.<key>[lte]=value`, `cf.<key>[in]=a,b` and `cf.<key>[contains]=option`. A parameter naming
/// no live opportunity field, an unknown operator or a value the field cannot hold is a 400
/// naming the parameter.
#[utoipa::path(
    tag = "opportunities",
    operation_id = "list_opportunities",
    summary = "List opportunities",
    params(OpportunityQuery),
    responses(
        (status = 200, description = "A page of opportunities.", body = OpportunityList),
        (status = 400, description = "An invalid or unknown query parameter.", body = Problem,
            content_type = "application/problem+json"),
        (status = 404, description = "`customer_id` names no customer you may see.", body = Problem,
            content_type = "application/problem+json"),
    ),
)]
#[get("/opportunities")]
pub(crate) async fn list_opportunities(
    req: HttpRequest,
    state: web::Data<ApiState>,
    caller: Caller,
) -> Result<HttpResponse, ApiError> {
    let (query, custom) = custom_query::<OpportunityQuery>(&req)?;
    let page = PageQuery {
        limit: query.limit,
        cursor: query.cursor,
    }
    .page()?;
    let sort = match query.sort.as_deref() {
        None => OpportunitySort::default(),
        Some(raw) => OpportunitySort::parse(raw).ok_or_else(|| {
            invalid_query(
                "sort",
                "invalid",
                "updated_at, amount or expected_close_on, with - for descending".into(),
            )
        })?,
    };
    if page
        .after
        .as_deref()
        .is_some_and(|after| sort.decode(after).is_none())
    {
        return Err(invalid_query(
            "cursor",
            "invalid",
            "not a cursor this API issued for this list".into(),
        ));
    }
    for (name, value) in [
        ("amount_min", query.amount_min),
        ("amount_max", query.amount_max),
    ] {
        if value.is_some_and(|v| v < 0) {
            return Err(invalid_query(name, "out_of_range", "0 or more".into()));
        }
    }
    let actor = actor(&state, &caller.0).await?;
    let owner_id = match query.owner_id.as_deref() {
        Some("me") => Some(actor.id.clone()),
        Some(id) => Some(
            uuid::Uuid::parse_str(id)
                .map_err(|_| invalid_query("owner_id", "invalid", "a user id, or `me`".into()))?
                .to_string(),
        ),
        None => None,
    };
    let filter = OpportunityFilter {
        pipeline_id: query.pipeline_id.map(|id| id.to_string()),
        stage_id: query.stage_id.map(|id| id.to_string()),
        owner_id,
        customer_id: query.customer_id.map(|id| id.to_string()),
        status: query.status.map(Into::into),
        amount_min: query.amount_min,
        amount_max: query.amount_max,
        close_from: query.close_from,
        close_to: query.close_to,
        custom: custom_filters(&state, FieldEntity::Opportunity, custom).await?,
    };
    let store = state.stores.opportunities.clone();
    let page = blocking(move || store.list_opportunities(&actor, &filter, sort, &page)).await?;
    Ok(HttpResponse::Ok().json(OpportunityList {
        items: page.items.into_iter().map(OpportunityDto::from).collect(),
        next_cursor: cursor(page.next_after),
    }))
}

/// Reads one opportunity with the ticked checklist items of its stage.
#[utoipa::path(
    tag = "opportunities",
    operation_id = "get_opportunity",
    summary = "Get an opportunity",
    params(("id" = uuid::Uuid, Path, description = "The opportunity's id.")),
    responses(
        (status = 200, description = "The opportunity.", body = OpportunityDto,
            headers(("ETag" = String, description = "The opportunity's version."))),
        (status = 404, description = "No such opportunity, or not one you may see.", body = Problem,
            content_type = "application/problem+json"),
    ),
)]
#[get("/opportunities/{id}")]
pub(crate) async fn get_opportunity(
    state: web::Data<ApiState>,
    caller: Caller,
    id: web::Path<uuid::Uuid>,
) -> Result<HttpResponse, ApiError> {
    let actor = actor(&state, &caller.0).await?;
    let found = read(&state, &actor, id.to_string()).await?;
    Ok(ok_with_etag(found.version, &OpportunityDto::from(found)))
}

/// Changes an opportunity (JSON merge patch): name, lines, amount, currency, expected close,
/// lost reason, custom fields and the ticked checklist items of its stage. Only its owner, a
/// manager or an admin may; only a manager or an admin may hand it to another owner.
#[utoipa::path(
    tag = "opportunities",
    operation_id = "update_opportunity",
    summary = "Update an opportunity",
    params(
        ("id" = uuid::Uuid, Path, description = "The opportunity's id."),
        ("If-Match" = Option<String>, Header, description = "The `ETag` you read; refused with 412 if the opportunity changed since."),
    ),
    request_body(content = UpdateOpportunity, content_type = "application/merge-patch+json"),
    responses(
        (status = 200, description = "The changed opportunity.", body = OpportunityDto,
            headers(("ETag" = String, description = "The opportunity's new version."))),
        (status = 404, description = "No such opportunity, or not one you may see.", body = Problem,
            content_type = "application/problem+json"),
        (status = 412, description = "The opportunity changed since the `If-Match` version.", body = Problem,
            content_type = "application/problem+json",
            headers(("ETag" = String, description = "The opportunity's current version."))),
    ),
)]
#[patch("/opportunities/{id}")]
pub(crate) async fn update_opportunity(
    req: HttpRequest,
    state: web::Data<ApiState>,
    caller: Caller,
    id: web::Path<uuid::Uuid>,
    body: ApiJson<UpdateOpportunity>,
) -> Result<HttpResponse, ApiError> {
    let id = id.to_string();
    let mut body = body.0;
    let given = body.custom_fields.take();
    let changes = body.validate();
    let actor = actor(&state, &caller.0).await?;
    let current = read(&state, &actor, id.clone()).await?;
    may_change(&caller.0, &actor, &current)?;
    let custom = check_custom_patch(
        &state,
        FieldEntity::Opportunity,
        given,
        &current.custom_fields,
    )
    .await?;
    let (mut changes, custom) = together(changes, custom)?;
    changes.custom_fields = Some(custom);
    let reassigns = changes
        .owner_id
        .as_ref()
        .is_some_and(|owner| owner != &current.owner_id);
    if reassigns && !manages(&caller.0) {
        return Err(DomainError::Forbidden.into());
    }
    let expected = if_match(&req)?.or(Some(current.version));
    let now = state.clock.now();
    let store = state.stores.opportunities.clone();
    let (changed, _) =
        blocking(move || store.update_opportunity(&actor, &id, changes, expected, now)).await?;
    Ok(ok_with_etag(
        changed.version,
        &OpportunityDto::from(changed),
    ))
}

/// Moves an opportunity to another stage of its pipeline and records the change.
///
/// Moving forward past a stage whose required checklist items are not ticked is refused with
/// 422 listing each one, unless a manager or an admin passes `"override": true` (recorded).
/// Won and lost stages close the opportunity and stamp `closed_at`; an open stage reopens it.
#[utoipa::path(
    tag = "opportunities",
    operation_id = "create_stage_change",
    summary = "Change an opportunity's stage",
    params(
        ("id" = uuid::Uuid, Path, description = "The opportunity's id."),
        ("If-Match" = Option<String>, Header, description = "The `ETag` you read; refused with 412 if the opportunity changed since."),
    ),
    request_body = StageChangeBody,
    responses(
        (status = 201, description = "The recorded change.", body = StageChangeDto,
            headers(("Location" = String, description = "The opportunity's stage history."),
                ("ETag" = String, description = "The opportunity's new version."))),
        (status = 404, description = "No such opportunity, or not one you may see.", body = Problem,
            content_type = "application/problem+json"),
        (status = 412, description = "The opportunity changed since the `If-Match` version.", body = Problem,
            content_type = "application/problem+json",
            headers(("ETag" = String, description = "The opportunity's current version."))),
    ),
)]
#[post("/opportunities/{id}/stage-changes")]
pub(crate) async fn create_stage_change(
    req: HttpRequest,
    state: web::Data<ApiState>,
    caller: Caller,
    id: web::Path<uuid::Uuid>,
    body: ApiJson<StageChangeBody>,
) -> Result<HttpResponse, ApiError> {
    let id = id.to_string();
    let change = body.0.validate()?;
    let actor = actor(&state, &caller.0).await?;
    let current = read(&state, &actor, id.clone()).await?;
    may_change(&caller.0, &actor, &current)?;
    if change.override_checklist && !manages(&caller.0) {
        return Err(DomainError::Forbidden.into());
    }
    let expected = if_match(&req)?.or(Some(current.version));
    let now = state.clock.now();
    let store = state.stores.opportunities.clone();
    let target = id.clone();
    let (moved, recorded) =
        blocking(move || store.change_stage(&actor, &target, change, expected, now)).await?;
    Ok(created(
        format!("/api/v1/opportunities/{id}/history"),
        moved.version,
        &StageChangeDto::from(recorded),
    ))
}

/// Every stage the opportunity entered, oldest first: from, to, who, when, the amount and
/// probability of that moment and the time spent in the stage left.
#[utoipa::path(
    tag = "opportunities",
    operation_id = "list_opportunity_history",
    summary = "An opportunity's stage history",
    params(("id" = uuid::Uuid, Path, description = "The opportunity's id."), PageQuery),
    responses(
        (status = 200, description = "A page of stage changes.", body = StageHistory),
        (status = 400, description = "An invalid or unknown query parameter.", body = Problem,
            content_type = "application/problem+json"),
        (status = 404, description = "No such opportunity, or not one you may see.", body = Problem,
            content_type = "application/problem+json"),
    ),
)]
#[get("/opportunities/{id}/history")]
pub(crate) async fn list_opportunity_history(
    state: web::Data<ApiState>,
    caller: Caller,
    id: web::Path<uuid::Uuid>,
    query: web::Query<PageQuery>,
) -> Result<HttpResponse, ApiError> {
    let page = query.page()?;
    let actor = actor(&state, &caller.0).await?;
    let store = state.stores.opportunities.clone();
    let page = blocking(move || store.stage_history(&actor, &id.to_string(), &page)).await?;
    Ok(HttpResponse::Ok().json(StageHistory {
        items: page.items.into_iter().map(StageChangeDto::from).collect(),
        next_cursor: cursor(page.next_after),
    }))
}

async fn read(state: &ApiState, actor: &Actor, id: String) -> Result<Opportunity, ApiError> {
    let store = state.stores.opportunities.clone();
    let actor = actor.clone();
    Ok(short_read(state, move || store.opportunity(&actor, &id))
        .await?
        .0)
}

fn manages(principal: &Principal) -> bool {
    matches!(principal.role(), Some(Role::Admin | Role::Manager))
}

/// 403 unless the caller owns the opportunity or is a manager or an admin (who see it, since it
/// was read through their visibility).
fn may_change(principal: &Principal, actor: &Actor, o: &Opportunity) -> Result<(), ApiError> {
    if manages(principal) || o.owner_id == actor.id {
        Ok(())
    } else {
        Err(DomainError::Forbidden.into())
    }
}
