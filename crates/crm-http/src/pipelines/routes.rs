//! Pipeline endpoints: anyone signed in reads the pipelines; admins shape them. Every change
//! answers with the whole pipeline and its new `ETag`.

use actix_web::{delete, get, patch, post, put, web, HttpRequest, HttpResponse};

use super::dto::{
    CreatePipeline, DeleteStageQuery, PipelineDto, PipelineList, StageBody, StageOrder,
    UpdatePipeline, UpdateStage,
};
use crate::auth::Caller;
use crate::blocking::blocking;
use crate::extract::ApiJson;
use crate::responses::{created, if_match, ok_with_etag};
use crate::{ApiError, ApiState, Problem};

/// Lists the pipelines with their stages.
#[utoipa::path(
    tag = "pipelines",
    operation_id = "list_pipelines",
    summary = "List pipelines",
    responses((status = 200, description = "The pipelines.", body = PipelineList)),
)]
#[get("/pipelines")]
pub(crate) async fn list_pipelines(state: web::Data<ApiState>) -> Result<HttpResponse, ApiError> {
    let store = state.stores.pipelines.clone();
    let pipelines = blocking(move || store.pipelines()).await?;
    Ok(HttpResponse::Ok().json(PipelineList {
        items: pipelines.into_iter().map(PipelineDto::from).collect(),
    }))
}

/// Reads one pipeline with its stages, guidance and checklists.
#[utoipa::path(
    tag = "pipelines",
    operation_id = "get_pipeline",
    summary = "Get a pipeline",
    params(("id" = uuid::Uuid, Path, description = "The pipeline's id.")),
    responses(
        (status = 200, description = "The pipeline.", body = PipelineDto,
            headers(("ETag" = String, description = "The pipeline's version."))),
        (status = 404, description = "No such pipeline.", body = Problem,
            content_type = "application/problem+json"),
    ),
)]
#[get("/pipelines/{id}")]
pub(crate) async fn get_pipeline(
    state: web::Data<ApiState>,
    id: web::Path<uuid::Uuid>,
) -> Result<HttpResponse, ApiError> {
    let store = state.stores.pipelines.clone();
    let pipeline = blocking(move || store.pipeline(&id.to_string())).await?;
    Ok(ok_with_etag(pipeline.version, &PipelineDto::from(pipeline)))
}

/// Adds a pipeline with its stages in order (at least an open, a won and a lost one).
#[utoipa::path(
    tag = "pipelines",
    operation_id = "create_pipeline",
    summary = "Create a pipeline",
    request_body = CreatePipeline,
    responses(
        (status = 201, description = "Created.", body = PipelineDto,
            headers(("Location" = String, description = "The pipeline's URL."),
                ("ETag" = String, description = "The pipeline's version."))),
        (status = 409, description = "A pipeline with this name exists.", body = Problem,
            content_type = "application/problem+json"),
    ),
)]
#[post("/pipelines")]
pub(crate) async fn create_pipeline(
    state: web::Data<ApiState>,
    body: ApiJson<CreatePipeline>,
) -> Result<HttpResponse, ApiError> {
    let (name, stages) = body.0.validate()?;
    let now = state.clock.now();
    let store = state.stores.pipelines.clone();
    let pipeline = blocking(move || store.create_pipeline(name, stages, now)).await?;
    Ok(created(
        format!("/api/v1/pipelines/{}", pipeline.id),
        pipeline.version,
        &PipelineDto::from(pipeline),
    ))
}

/// Renames a pipeline or makes it the default (JSON merge patch).
#[utoipa::path(
    tag = "pipelines",
    operation_id = "update_pipeline",
    summary = "Update a pipeline",
    params(
        ("id" = uuid::Uuid, Path, description = "The pipeline's id."),
        ("If-Match" = Option<String>, Header, description = "The `ETag` you read; refused with 412 if the pipeline changed since."),
    ),
    request_body(content = UpdatePipeline, content_type = "application/merge-patch+json"),
    responses(
        (status = 200, description = "The changed pipeline.", body = PipelineDto,
            headers(("ETag" = String, description = "The pipeline's new version."))),
        (status = 404, description = "No such pipeline.", body = Problem,
            content_type = "application/problem+json"),
        (status = 409, description = "A pipeline with this name exists.", body = Problem,
            content_type = "application/problem+json"),
        (status = 412, description = "The pipeline changed since the `If-Match` version.", body = Problem,
            content_type = "application/problem+json",
            headers(("ETag" = String, description = "The pipeline's current version."))),
    ),
)]
#[patch("/pipelines/{id}")]
pub(crate) async fn update_pipeline(
    req: HttpRequest,
    state: web::Data<ApiState>,
    id: web::Path<uuid::Uuid>,
    body: ApiJson<UpdatePipeline>,
) -> Result<HttpResponse, ApiError> {
    let id = id.to_string();
    let current = read(&state, id.clone()).await?;
    let (name, make_default) = body.0.validate(current.is_default)?;
    let expected = if_match(&req)?.or(Some(current.version));
    let now = state.clock.now();
    let store = state.stores.pipelines.clone();
    let pipeline =
        blocking(move || store.update_pipeline(&id, name, make_default, expected, now)).await?;
    Ok(ok_with_etag(pipeline.version, &PipelineDto::from(pipeline)))
}

/// Adds a stage to a pipeline, at `position` (default: last); later stages move down. Open
/// opportunities stay where they are.
#[utoipa::path(
    tag = "pipelines",
    operation_id = "create_stage",
    summary = "Add a stage",
    params(
        ("id" = uuid::Uuid, Path, description = "The pipeline's id."),
        ("If-Match" = Option<String>, Header, description = "The `ETag` you read; refused with 412 if the pipeline changed since."),
    ),
    request_body = StageBody,
    responses(
        (status = 201, description = "The pipeline with the new stage.", body = PipelineDto,
            headers(("Location" = String, description = "The pipeline's URL."),
                ("ETag" = String, description = "The pipeline's new version."))),
        (status = 404, description = "No such pipeline.", body = Problem,
            content_type = "application/problem+json"),
        (status = 409, description = "The pipeline has the most stages it may have.", body = Problem,
            content_type = "application/problem+json"),
        (status = 412, description = "The pipeline changed since the `If-Match` version.", body = Problem,
            content_type = "application/problem+json",
            headers(("ETag" = String, description = "The pipeline's current version."))),
    ),
)]
#[post("/pipelines/{id}/stages")]
pub(crate) async fn create_stage(
    req: HttpRequest,
    state: web::Data<ApiState>,
    id: web::Path<uuid::Uuid>,
    body: ApiJson<StageBody>,
) -> Result<HttpResponse, ApiError> {
    let id = id.to_string();
    let body = body.0;
    let position = body.position;
    let mut errors = Vec::new();
    let stage = body.fields("", &mut errors);
    let stage = match stage {
        Some(stage) if errors.is_empty() => stage,
        _ => return Err(crm_domain::DomainError::Validation(errors).into()),
    };
    let expected = if_match(&req)?;
    let now = state.clock.now();
    let store = state.stores.pipelines.clone();
    let pipeline_id = id.clone();
    let pipeline =
        blocking(move || store.add_stage(&pipeline_id, stage, position, expected, now)).await?;
    Ok(created(
        format!("/api/v1/pipelines/{id}"),
        pipeline.version,
        &PipelineDto::from(pipeline),
    ))
}

/// Changes a stage (JSON merge patch): name, probability, kind, guidance or checklist. Open
/// opportunities in it stay; the pipeline keeps at least one open, one won and one lost stage.
#[utoipa::path(
    tag = "pipelines",
    operation_id = "update_stage",
    summary = "Update a stage",
    params(
        ("id" = uuid::Uuid, Path, description = "The pipeline's id."),
        ("stage_id" = uuid::Uuid, Path, description = "The stage's id."),
        ("If-Match" = Option<String>, Header, description = "The pipeline's `ETag` you read; refused with 412 if it changed since."),
    ),
    request_body(content = UpdateStage, content_type = "application/merge-patch+json"),
    responses(
        (status = 200, description = "The pipeline with the changed stage.", body = PipelineDto,
            headers(("ETag" = String, description = "The pipeline's new version."))),
        (status = 404, description = "No such pipeline or stage.", body = Problem,
            content_type = "application/problem+json"),
        (status = 409, description = "The pipeline would lose its last open, won or lost stage.", body = Problem,
            content_type = "application/problem+json"),
        (status = 412, description = "The pipeline changed since the `If-Match` version.", body = Problem,
            content_type = "application/problem+json",
            headers(("ETag" = String, description = "The pipeline's current version."))),
    ),
)]
#[patch("/pipelines/{id}/stages/{stage_id}")]
pub(crate) async fn update_stage(
    req: HttpRequest,
    state: web::Data<ApiState>,
    path: web::Path<(uuid::Uuid, uuid::Uuid)>,
    body: ApiJson<UpdateStage>,
) -> Result<HttpResponse, ApiError> {
    let (id, stage_id) = path.into_inner();
    let (id, stage_id) = (id.to_string(), stage_id.to_string());
    let current = read(&state, id.clone()).await?;
    let existing = current
        .stages
        .iter()
        .find(|s| s.id == stage_id)
        .ok_or(crm_domain::DomainError::NotFound { entity: "stage" })?;
    let stage = body.0.apply(&existing.fields)?;
    let expected = if_match(&req)?.or(Some(current.version));
    let now = state.clock.now();
    let store = state.stores.pipelines.clone();
    let pipeline =
        blocking(move || store.update_stage(&id, &stage_id, stage, expected, now)).await?;
    Ok(ok_with_etag(pipeline.version, &PipelineDto::from(pipeline)))
}

/// Removes a stage. When it holds opportunities, `move_to` names the stage they move to; each
/// move is recorded in the opportunity's history.
#[utoipa::path(
    tag = "pipelines",
    operation_id = "delete_stage",
    summary = "Remove a stage",
    params(
        ("id" = uuid::Uuid, Path, description = "The pipeline's id."),
        ("stage_id" = uuid::Uuid, Path, description = "The stage's id."),
        DeleteStageQuery,
        ("If-Match" = Option<String>, Header, description = "The pipeline's `ETag` you read; refused with 412 if it changed since."),
    ),
    responses(
        (status = 200, description = "The pipeline without the stage.", body = PipelineDto,
            headers(("ETag" = String, description = "The pipeline's new version."))),
        (status = 400, description = "`move_to` is not another stage of the pipeline, or an unknown parameter.", body = Problem,
            content_type = "application/problem+json"),
        (status = 404, description = "No such pipeline or stage.", body = Problem,
            content_type = "application/problem+json"),
        (status = 409, description = "The stage holds opportunities and no `move_to` was given, or it is the pipeline's last open, won or lost stage.", body = Problem,
            content_type = "application/problem+json"),
        (status = 412, description = "The pipeline changed since the `If-Match` version.", body = Problem,
            content_type = "application/problem+json",
            headers(("ETag" = String, description = "The pipeline's current version."))),
    ),
)]
#[delete("/pipelines/{id}/stages/{stage_id}")]
pub(crate) async fn delete_stage(
    req: HttpRequest,
    state: web::Data<ApiState>,
    caller: Caller,
    path: web::Path<(uuid::Uuid, uuid::Uuid)>,
    query: web::Query<DeleteStageQuery>,
) -> Result<HttpResponse, ApiError> {
    let (id, stage_id) = path.into_inner();
    let (id, stage_id) = (id.to_string(), stage_id.to_string());
    let move_to = query.move_to.map(|m| m.to_string());
    let current = read(&state, id.clone()).await?;
    if let Some(to) = &move_to {
        if to == &stage_id || !current.stages.iter().any(|s| &s.id == to) {
            return Err(crate::pagination::invalid_query(
                "move_to",
                "not_in_pipeline",
                "another stage of this pipeline".into(),
            ));
        }
    }
    let expected = if_match(&req)?;
    let now = state.clock.now();
    let actor_id = crate::auth::actor::actor(&state, &caller.0).await?.id;
    let store = state.stores.pipelines.clone();
    let pipeline = blocking(move || {
        store.delete_stage(&id, &stage_id, move_to.as_deref(), &actor_id, expected, now)
    })
    .await?;
    Ok(ok_with_etag(pipeline.version, &PipelineDto::from(pipeline)))
}

/// Puts a pipeline's stages in a new order: every stage id once.
#[utoipa::path(
    tag = "pipelines",
    operation_id = "reorder_stages",
    summary = "Reorder the stages",
    params(
        ("id" = uuid::Uuid, Path, description = "The pipeline's id."),
        ("If-Match" = Option<String>, Header, description = "The `ETag` you read; refused with 412 if the pipeline changed since."),
    ),
    request_body = StageOrder,
    responses(
        (status = 200, description = "The pipeline in its new order.", body = PipelineDto,
            headers(("ETag" = String, description = "The pipeline's new version."))),
        (status = 404, description = "No such pipeline.", body = Problem,
            content_type = "application/problem+json"),
        (status = 412, description = "The pipeline changed since the `If-Match` version.", body = Problem,
            content_type = "application/problem+json",
            headers(("ETag" = String, description = "The pipeline's current version."))),
    ),
)]
#[put("/pipelines/{id}/stage-order")]
pub(crate) async fn reorder_stages(
    req: HttpRequest,
    state: web::Data<ApiState>,
    id: web::Path<uuid::Uuid>,
    body: ApiJson<StageOrder>,
) -> Result<HttpResponse, ApiError> {
    let id = id.to_string();
    // The body is checked before the precondition: a malformed order is a 422 whatever If-Match says.
    if body.0.stage_ids.len() > crm_domain::pipelines::STAGES_MAX {
        return Err(crm_domain::DomainError::invalid(
            "/stage_ids",
            "too_many",
            format!("at most {} stages", crm_domain::pipelines::STAGES_MAX),
        )
        .into());
    }
    let order: Vec<String> = body.0.stage_ids.iter().map(ToString::to_string).collect();
    let expected = if_match(&req)?;
    let now = state.clock.now();
    let store = state.stores.pipelines.clone();
    let pipeline = blocking(move || store.reorder_stages(&id, &order, expected, now)).await?;
    Ok(ok_with_etag(pipeline.version, &PipelineDto::from(pipeline)))
}

async fn read(state: &ApiState, id: String) -> Result<crm_domain::pipelines::Pipeline, ApiError> {
    let store = state.stores.pipelines.clone();
    blocking(move || store.pipeline(&id)).await
}
