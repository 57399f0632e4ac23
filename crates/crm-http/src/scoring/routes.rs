//! Scoring endpoints: anyone signed in reads the behaviour catalogue, the settings and the
//! scores of customers they may see; admins maintain the catalogue and the settings.

use actix_web::{get, patch, post, web, HttpRequest, HttpResponse};
use crm_domain::scoring::score;

use super::dto::{
    code_path, BehaviorDto, BehaviorList, BehaviorQuery, CreateBehavior, ScoreDto,
    ScoringSettingsDto, UpdateBehavior, UpdateScoringSettings,
};
use crate::auth::actor::actor;
use crate::auth::Caller;
use crate::blocking::blocking;
use crate::extract::ApiJson;
use crate::responses::{created, if_match, ok_with_etag};
use crate::{ApiError, ApiState, Problem};

/// Lists the behaviours an activity may record, with their points.
#[utoipa::path(
    tag = "scoring",
    operation_id = "list_behaviors",
    summary = "List behaviours",
    params(BehaviorQuery),
    responses(
        (status = 200, description = "The behaviours.", body = BehaviorList),
        (status = 400, description = "An invalid or unknown query parameter.", body = Problem,
            content_type = "application/problem+json"),
    ),
)]
#[get("/behaviors")]
pub(crate) async fn list_behaviors(
    state: web::Data<ApiState>,
    query: web::Query<BehaviorQuery>,
) -> Result<HttpResponse, ApiError> {
    let include_archived = query.include_archived.unwrap_or(false);
    let store = state.stores.scoring.clone();
    let behaviors = blocking(move || store.behaviors(include_archived)).await?;
    Ok(HttpResponse::Ok().json(BehaviorList {
        items: behaviors.into_iter().map(BehaviorDto::from).collect(),
    }))
}

/// Adds a behaviour to the catalogue.
#[utoipa::path(
    tag = "scoring",
    operation_id = "create_behavior",
    summary = "Create a behaviour",
    request_body = CreateBehavior,
    responses(
        (status = 201, description = "Created.", body = BehaviorDto,
            headers(("Location" = String, description = "The behaviour's URL."),
                ("ETag" = String, description = "The behaviour's version."))),
        (status = 409, description = "A behaviour with this code exists.", body = Problem,
            content_type = "application/problem+json"),
    ),
)]
#[post("/behaviors")]
pub(crate) async fn create_behavior(
    state: web::Data<ApiState>,
    body: ApiJson<CreateBehavior>,
) -> Result<HttpResponse, ApiError> {
    let draft = body.0.validate()?;
    let now = state.clock.now();
    let store = state.stores.scoring.clone();
    let behavior = blocking(move || store.create_behavior(draft, now)).await?;
    Ok(created(
        format!("/api/v1/behaviors/{}", behavior.code),
        behavior.version,
        &BehaviorDto::from(behavior),
    ))
}

/// Changes a behaviour's label, description or points, or archives it (JSON merge patch). New
/// points count for recordings from then on; recorded behaviours keep theirs.
#[utoipa::path(
    tag = "scoring",
    operation_id = "update_behavior",
    summary = "Update a behaviour",
    params(
        ("code" = String, Path, description = "The behaviour's code.", max_length = 50,
            pattern = "^[a-z][a-z0-9_]{0,49}$"),
        ("If-Match" = Option<String>, Header, description = "The `ETag` you read; refused with 412 if the behaviour changed since."),
    ),
    request_body(content = UpdateBehavior, content_type = "application/merge-patch+json"),
    responses(
        (status = 200, description = "The changed behaviour.", body = BehaviorDto,
            headers(("ETag" = String, description = "The behaviour's new version."))),
        (status = 404, description = "No such behaviour.", body = Problem,
            content_type = "application/problem+json"),
        (status = 412, description = "The behaviour changed since the `If-Match` version.", body = Problem,
            content_type = "application/problem+json",
            headers(("ETag" = String, description = "The behaviour's current version."))),
    ),
)]
#[patch("/behaviors/{code}")]
pub(crate) async fn update_behavior(
    req: HttpRequest,
    state: web::Data<ApiState>,
    code: web::Path<String>,
    body: ApiJson<UpdateBehavior>,
) -> Result<HttpResponse, ApiError> {
    code_path(&code)?;
    let changes = body.0.validate()?;
    let expected = if_match(&req)?;
    let now = state.clock.now();
    let store = state.stores.scoring.clone();
    let behavior =
        blocking(move || store.update_behavior(&code.into_inner(), changes, expected, now)).await?;
    Ok(ok_with_etag(behavior.version, &BehaviorDto::from(behavior)))
}

/// How scores decay.
#[utoipa::path(
    tag = "scoring",
    operation_id = "get_scoring_settings",
    summary = "Scoring settings",
    responses(
        (status = 200, description = "The settings.", body = ScoringSettingsDto,
            headers(("ETag" = String, description = "The settings' version."))),
    ),
)]
#[get("/scoring/settings")]
pub(crate) async fn get_scoring_settings(
    state: web::Data<ApiState>,
) -> Result<HttpResponse, ApiError> {
    let store = state.stores.scoring.clone();
    let settings = blocking(move || store.scoring_settings()).await?;
    Ok(ok_with_etag(
        settings.version,
        &ScoringSettingsDto::from(settings),
    ))
}

/// Sets the half-life of behaviour points (JSON merge patch). Stored scores, which lists sort
/// by, follow within one reminder interval; `GET /customers/{id}/score` at once.
#[utoipa::path(
    tag = "scoring",
    operation_id = "update_scoring_settings",
    summary = "Update scoring settings",
    params(
        ("If-Match" = Option<String>, Header, description = "The `ETag` you read; refused with 412 if the settings changed since."),
    ),
    request_body(content = UpdateScoringSettings, content_type = "application/merge-patch+json"),
    responses(
        (status = 200, description = "The settings.", body = ScoringSettingsDto,
            headers(("ETag" = String, description = "The settings' new version."))),
        (status = 412, description = "The settings changed since the `If-Match` version.", body = Problem,
            content_type = "application/problem+json",
            headers(("ETag" = String, description = "The settings' current version."))),
    ),
)]
#[patch("/scoring/settings")]
pub(crate) async fn update_scoring_settings(
    req: HttpRequest,
    state: web::Data<ApiState>,
    body: ApiJson<UpdateScoringSettings>,
) -> Result<HttpResponse, ApiError> {
    let days = body.0.validate()?;
    let expected = if_match(&req)?;
    let now = state.clock.now();
    let store = state.stores.scoring.clone();
    let settings = blocking(move || match days {
        Some(days) => store.update_scoring_settings(days, expected, now),
        None => {
            let current = store.scoring_settings()?;
            match expected {
                Some(v) if v != current.version => {
                    Err(crm_domain::DomainError::PreconditionFailed {
                        current_version: current.version,
                    })
                }
                _ => Ok(current),
            }
        }
    })
    .await?;
    Ok(ok_with_etag(
        settings.version,
        &ScoringSettingsDto::from(settings),
    ))
}

/// A customer's score explained: each behaviour recorded on its activities, when, and its
/// points now after time decay.
#[utoipa::path(
    tag = "customers",
    operation_id = "get_customer_score",
    summary = "A customer's score",
    params(("id" = uuid::Uuid, Path, description = "The customer's id.")),
    responses(
        (status = 200, description = "The score with its breakdown.", body = ScoreDto),
        (status = 404, description = "No such customer, or not one you may see.", body = Problem,
            content_type = "application/problem+json"),
    ),
)]
#[get("/customers/{id}/score")]
pub(crate) async fn get_customer_score(
    state: web::Data<ApiState>,
    caller: Caller,
    id: web::Path<uuid::Uuid>,
) -> Result<HttpResponse, ApiError> {
    let actor = actor(&state, &caller.0).await?;
    Ok(HttpResponse::Ok().json(customer_score(&state, actor, id.to_string()).await?))
}

/// The score of a customer `actor` may see, at the state's clock.
pub(crate) async fn customer_score(
    state: &ApiState,
    actor: crm_domain::ports::Actor,
    customer_id: String,
) -> Result<ScoreDto, ApiError> {
    let now = state.clock.now();
    let store = state.stores.scoring.clone();
    let (recorded, half_life, catalogue) = blocking(move || {
        let (recorded, half_life) = store.customer_behaviors(&actor, &customer_id)?;
        Ok((recorded, half_life, store.behaviors(true)?))
    })
    .await?;
    Ok(ScoreDto::of(
        score(&recorded, now, half_life),
        half_life,
        now,
        &catalogue,
    ))
}
