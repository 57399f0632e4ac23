//! Custom field endpoints.

use actix_web::{delete, get, patch, post, web, HttpRequest, HttpResponse};
use crm_domain::custom_fields::{object_schema, FieldEntity};
use crm_domain::DomainError;

use super::dto::{CreateField, EntityDto, FieldDto, FieldList, FieldQuery, UpdateField};
use crate::blocking::blocking;
use crate::extract::ApiJson;
use crate::responses::{created, if_match, ok_with_etag};
use crate::{ApiError, ApiState, Problem};

/// Lists the custom field definitions of an entity.
#[utoipa::path(
    tag = "custom-fields",
    operation_id = "list_custom_fields",
    summary = "List custom fields",
    params(FieldQuery),
    responses(
        (status = 200, description = "The definitions.", body = FieldList),
        (status = 400, description = "An invalid or unknown query parameter.", body = Problem,
            content_type = "application/problem+json"),
    ),
)]
#[get("/custom-fields")]
pub(crate) async fn list_custom_fields(
    state: web::Data<ApiState>,
    query: web::Query<FieldQuery>,
) -> Result<HttpResponse, ApiError> {
    let entity = query
        .entity
        .map(FieldEntity::from)
        .unwrap_or(FieldEntity::Customer);
    let include_archived = query.include_archived.unwrap_or(false);
    let store = state.stores.custom_fields.clone();
    let definitions = blocking(move || store.field_definitions(entity, include_archived)).await?;
    Ok(HttpResponse::Ok().json(FieldList {
        items: definitions.into_iter().map(FieldDto::from).collect(),
    }))
}

/// Defines a custom field.
#[utoipa::path(
    tag = "custom-fields",
    operation_id = "create_custom_field",
    summary = "Create a custom field",
    request_body = CreateField,
    responses(
        (status = 201, description = "Created.", body = FieldDto,
            headers(("Location" = String, description = "The definition's URL."),
                ("ETag" = String, description = "The definition's version."))),
        (status = 409, description = "The entity already has a field with this key.", body = Problem,
            content_type = "application/problem+json"),
        (status = 422, description = "An invalid definition: every problem listed.", body = Problem,
            content_type = "application/problem+json"),
    ),
)]
#[post("/custom-fields")]
pub(crate) async fn create_custom_field(
    state: web::Data<ApiState>,
    body: ApiJson<CreateField>,
) -> Result<HttpResponse, ApiError> {
    let draft = body.0.validate(state.config.default_phone_region)?;
    let store = state.stores.custom_fields.clone();
    let field = blocking(move || store.create_field(draft)).await?;
    Ok(created(
        format!("/api/v1/custom-fields/{}", field.id),
        field.version,
        &FieldDto::from(field),
    ))
}

/// Reads one custom field definition. A deleted (archived) field answers 404 here; the list
/// shows it with `include_archived=true` and `POST /custom-fields/{id}/restore` brings it back.
#[utoipa::path(
    tag = "custom-fields",
    operation_id = "get_custom_field",
    summary = "Get a custom field",
    params(("id" = uuid::Uuid, Path, description = "The definition's id.")),
    responses(
        (status = 200, description = "The definition.", body = FieldDto,
            headers(("ETag" = String, description = "The definition's version."))),
        (status = 404, description = "No such definition, or an archived one.", body = Problem,
            content_type = "application/problem+json"),
    ),
)]
#[get("/custom-fields/{id}")]
pub(crate) async fn get_custom_field(
    state: web::Data<ApiState>,
    id: web::Path<uuid::Uuid>,
) -> Result<HttpResponse, ApiError> {
    let field = live_field(&state, &id.to_string()).await?;
    Ok(ok_with_etag(field.version, &FieldDto::from(field)))
}

/// Changes a custom field (JSON merge patch). Labels, help, positions, new options and looser
/// rules apply at once; a new type or tighter rules are refused with 409 while stored values
/// would break, and the problem says how many.
#[utoipa::path(
    tag = "custom-fields",
    operation_id = "update_custom_field",
    summary = "Update a custom field",
    params(
        ("id" = uuid::Uuid, Path, description = "The definition's id."),
        ("If-Match" = Option<String>, Header, description = "The `ETag` you read; refused with 412 if the definition changed since."),
    ),
    request_body(content = UpdateField, content_type = "application/merge-patch+json"),
    responses(
        (status = 200, description = "The changed definition.", body = FieldDto,
            headers(("ETag" = String, description = "The definition's new version."))),
        (status = 404, description = "No such definition, or a deleted one.", body = Problem,
            content_type = "application/problem+json"),
        (status = 409, description = "Stored values would not satisfy the change.", body = Problem,
            content_type = "application/problem+json"),
        (status = 412, description = "The definition changed since the `If-Match` version.", body = Problem,
            content_type = "application/problem+json",
            headers(("ETag" = String, description = "The definition's current version."))),
        (status = 422, description = "An invalid definition: every problem listed.", body = Problem,
            content_type = "application/problem+json"),
    ),
)]
#[patch("/custom-fields/{id}")]
pub(crate) async fn update_custom_field(
    req: HttpRequest,
    state: web::Data<ApiState>,
    id: web::Path<uuid::Uuid>,
    body: ApiJson<UpdateField>,
) -> Result<HttpResponse, ApiError> {
    let id = id.to_string();
    let current = live_field(&state, &id).await?;
    let draft = body.0.apply(&current, state.config.default_phone_region)?;
    // Bad input is reported before a precondition is judged.
    let expected = if_match(&req)?;
    let store = state.stores.custom_fields.clone();
    let version = current.version;
    let field =
        blocking(move || store.update_field(&id, draft, false, expected.or(Some(version)))).await?;
    Ok(ok_with_etag(field.version, &FieldDto::from(field)))
}

/// Deletes a custom field by archiving it: its values are hidden and kept, and come back when
/// the field is restored (`POST /custom-fields/{id}/restore`).
#[utoipa::path(
    tag = "custom-fields",
    operation_id = "delete_custom_field",
    summary = "Archive a custom field",
    params(("id" = uuid::Uuid, Path, description = "The definition's id.")),
    responses(
        (status = 204, description = "Archived."),
        (status = 404, description = "No such definition, or one already archived.", body = Problem,
            content_type = "application/problem+json"),
    ),
)]
#[delete("/custom-fields/{id}")]
pub(crate) async fn delete_custom_field(
    state: web::Data<ApiState>,
    id: web::Path<uuid::Uuid>,
) -> Result<HttpResponse, ApiError> {
    let region = state.config.default_phone_region;
    let store = state.stores.custom_fields.clone();
    blocking(move || {
        let id = id.to_string();
        let current = store.field_definition(&id)?;
        if current.archived {
            return Err(DomainError::NotFound {
                entity: "custom field",
            });
        }
        let draft = UpdateField::keep().apply(&current, region)?;
        store.update_field(&id, draft, true, Some(current.version))
    })
    .await?;
    Ok(HttpResponse::NoContent().finish())
}

/// Restores a deleted (archived) custom field with the values records kept.
#[utoipa::path(
    tag = "custom-fields",
    operation_id = "restore_custom_field",
    summary = "Restore a custom field",
    params(("id" = uuid::Uuid, Path, description = "The definition's id.")),
    responses(
        (status = 200, description = "The restored definition.", body = FieldDto,
            headers(("ETag" = String, description = "The definition's new version."))),
        (status = 404, description = "No such definition.", body = Problem,
            content_type = "application/problem+json"),
        (status = 409, description = "The field is not deleted.", body = Problem,
            content_type = "application/problem+json"),
    ),
)]
#[post("/custom-fields/{id}/restore")]
pub(crate) async fn restore_custom_field(
    state: web::Data<ApiState>,
    id: web::Path<uuid::Uuid>,
) -> Result<HttpResponse, ApiError> {
    let region = state.config.default_phone_region;
    let store = state.stores.custom_fields.clone();
    let field = blocking(move || {
        let id = id.to_string();
        let current = store.field_definition(&id)?;
        if !current.archived {
            return Err(DomainError::Conflict {
                code: "not_deleted",
                message: "the custom field is not deleted".into(),
            });
        }
        let draft = UpdateField::keep().apply(&current, region)?;
        store.update_field(&id, draft, false, Some(current.version))
    })
    .await?;
    Ok(ok_with_etag(field.version, &FieldDto::from(field)))
}

/// The live (not deleted) definition `id`.
async fn live_field(
    state: &ApiState,
    id: &str,
) -> Result<crm_domain::custom_fields::FieldDefinition, ApiError> {
    let store = state.stores.custom_fields.clone();
    let id = id.to_string();
    let field = blocking(move || store.field_definition(&id)).await?;
    if field.archived {
        return Err(DomainError::NotFound {
            entity: "custom field",
        }
        .into());
    }
    Ok(field)
}

/// The JSON Schema of an entity's `custom_fields` object under the current definitions, for
/// rendering and validating forms. The server validates with the same definitions.
#[utoipa::path(
    tag = "custom-fields",
    operation_id = "get_custom_field_schema",
    summary = "JSON Schema of an entity's custom fields",
    params(("entity" = EntityDto, Path, description = "The entity.")),
    responses(
        (status = 200, description = "A JSON Schema (draft 2020-12) of the `custom_fields` object.",
            body = Object),
        (status = 404, description = "No such entity.", body = Problem,
            content_type = "application/problem+json"),
    ),
)]
#[get("/custom-fields/schema/{entity}")]
pub(crate) async fn get_custom_field_schema(
    state: web::Data<ApiState>,
    entity: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let entity = FieldEntity::parse(&entity)
        .ok_or(crm_domain::DomainError::NotFound { entity: "entity" })?;
    let store = state.stores.custom_fields.clone();
    let definitions = blocking(move || store.field_definitions(entity, false)).await?;
    Ok(HttpResponse::Ok().json(object_schema(entity, &definitions)))
}
