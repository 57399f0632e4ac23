//! Team endpoints.

use actix_web::{delete, get, patch, post, web, HttpRequest, HttpResponse};

use super::dto::{CreateTeam, TeamDto, TeamList, UpdateTeam};
use crate::blocking::blocking;
use crate::extract::ApiJson;
use crate::pagination::{cursor, PageQuery};
use crate::responses::{created, if_match, ok_with_etag};
use crate::{ApiError, ApiState, Problem};

/// Creates a team.
#[utoipa::path(
    tag = "teams",
    operation_id = "create_team",
    summary = "Create a team",
    request_body = CreateTeam,
    responses(
        (status = 201, description = "Created.", body = TeamDto,
            headers(("Location" = String, description = "The team's URL."),
                ("ETag" = String, description = "The team's version."))),
        (status = 409, description = "A team with this name exists.", body = Problem,
            content_type = "application/problem+json"),
        (status = 422, description = "Invalid fields (unknown users, managers without the role), each listed.",
            body = Problem, content_type = "application/problem+json"),
    ),
)]
#[post("/teams")]
pub(crate) async fn create_team(
    state: web::Data<ApiState>,
    body: ApiJson<CreateTeam>,
) -> Result<HttpResponse, ApiError> {
    let draft = body.0.validate()?;
    let store = state.stores.teams.clone();
    let team = blocking(move || store.create_team(draft)).await?;
    Ok(created(
        format!("/api/v1/teams/{}", team.id),
        team.version,
        &TeamDto::from(team),
    ))
}

/// Lists teams in creation order.
#[utoipa::path(
    tag = "teams",
    operation_id = "list_teams",
    summary = "List teams",
    params(PageQuery),
    responses(
        (status = 200, description = "A page of teams.", body = TeamList),
        (status = 400, description = "An invalid or unknown query parameter.", body = Problem,
            content_type = "application/problem+json"),
    ),
)]
#[get("/teams")]
pub(crate) async fn list_teams(
    state: web::Data<ApiState>,
    query: web::Query<PageQuery>,
) -> Result<HttpResponse, ApiError> {
    let page = query.page()?;
    let store = state.stores.teams.clone();
    let page = blocking(move || store.list_teams(&page)).await?;
    Ok(HttpResponse::Ok().json(TeamList {
        items: page.items.into_iter().map(TeamDto::from).collect(),
        next_cursor: cursor(page.next_after),
    }))
}

/// Reads one team.
#[utoipa::path(
    tag = "teams",
    operation_id = "get_team",
    summary = "Get a team",
    params(("id" = uuid::Uuid, Path, description = "The team's id.")),
    responses(
        (status = 200, description = "The team.", body = TeamDto,
            headers(("ETag" = String, description = "The team's version."))),
        (status = 404, description = "No such team.", body = Problem,
            content_type = "application/problem+json"),
    ),
)]
#[get("/teams/{id}")]
pub(crate) async fn get_team(
    state: web::Data<ApiState>,
    id: web::Path<uuid::Uuid>,
) -> Result<HttpResponse, ApiError> {
    let store = state.stores.teams.clone();
    let team = blocking(move || store.team(&id.to_string())).await?;
    Ok(ok_with_etag(team.version, &TeamDto::from(team)))
}

/// Changes a team (JSON merge patch); `manager_ids` or `member_ids` replace the old lists.
#[utoipa::path(
    tag = "teams",
    operation_id = "update_team",
    summary = "Update a team",
    params(
        ("id" = uuid::Uuid, Path, description = "The team's id."),
        ("If-Match" = Option<String>, Header, description = "The `ETag` you read; refused with 412 if the team changed since."),
    ),
    request_body(content = UpdateTeam, content_type = "application/merge-patch+json"),
    responses(
        (status = 200, description = "The changed team.", body = TeamDto,
            headers(("ETag" = String, description = "The team's new version."))),
        (status = 404, description = "No such team.", body = Problem,
            content_type = "application/problem+json"),
        (status = 409, description = "A team with this name exists.", body = Problem,
            content_type = "application/problem+json"),
        (status = 412, description = "The team changed since the `If-Match` version.", body = Problem,
            content_type = "application/problem+json",
            headers(("ETag" = String, description = "The team's current version."))),
        (status = 422, description = "Invalid fields, each listed.", body = Problem,
            content_type = "application/problem+json"),
    ),
)]
#[patch("/teams/{id}")]
pub(crate) async fn update_team(
    req: HttpRequest,
    state: web::Data<ApiState>,
    id: web::Path<uuid::Uuid>,
    body: ApiJson<UpdateTeam>,
) -> Result<HttpResponse, ApiError> {
    let patch = body.0.validate()?;
    let expected = if_match(&req)?;
    let store = state.stores.teams.clone();
    let team = blocking(move || {
        let current = store.team(&id.to_string())?;
        let version = current.version;
        store.replace_team(
            &id.to_string(),
            patch.apply(current),
            expected.or(Some(version)),
        )
    })
    .await?;
    Ok(ok_with_etag(team.version, &TeamDto::from(team)))
}

/// Deletes a team. Its users stay; managers stop seeing the members' records.
#[utoipa::path(
    tag = "teams",
    operation_id = "delete_team",
    summary = "Delete a team",
    params(("id" = uuid::Uuid, Path, description = "The team's id.")),
    responses(
        (status = 204, description = "Deleted."),
        (status = 404, description = "No such team.", body = Problem,
            content_type = "application/problem+json"),
    ),
)]
#[delete("/teams/{id}")]
pub(crate) async fn delete_team(
    state: web::Data<ApiState>,
    id: web::Path<uuid::Uuid>,
) -> Result<HttpResponse, ApiError> {
    let store = state.stores.teams.clone();
    blocking(move || store.delete_team(&id.to_string())).await?;
    Ok(HttpResponse::NoContent().finish())
}
