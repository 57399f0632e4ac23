//! Lead source endpoints: anyone signed in reads the list; admins maintain it.

use actix_web::{get, patch, post, web, HttpRequest, HttpResponse};

use super::dto::{
    CreateLeadSource, LeadSourceDto, LeadSourceList, LeadSourceQuery, UpdateLeadSource,
};
use crate::blocking::blocking;
use crate::extract::ApiJson;
use crate::responses::{created, if_match, ok_with_etag};
use crate::{ApiError, ApiState, Problem};

/// Lists the lead sources a customer's `lead_source` may name.
#[utoipa::path(
    tag = "lead-sources",
    operation_id = "list_lead_sources",
    summary = "List lead sources",
    params(LeadSourceQuery),
    responses(
        (status = 200, description = "The lead sources.", body = LeadSourceList),
        (status = 400, description = "An invalid or unknown query parameter.", body = Problem,
            content_type = "application/problem+json"),
    ),
)]
#[get("/lead-sources")]
pub(crate) async fn list_lead_sources(
    state: web::Data<ApiState>,
    query: web::Query<LeadSourceQuery>,
) -> Result<HttpResponse, ApiError> {
    let include_archived = query.include_archived.unwrap_or(false);
    let store = state.stores.lead_sources.clone();
    let sources = blocking(move || store.lead_sources(include_archived)).await?;
    Ok(HttpResponse::Ok().json(LeadSourceList {
        items: sources.into_iter().map(LeadSourceDto::from).collect(),
    }))
}

/// Adds a lead source.
#[utoipa::path(
    tag = "lead-sources",
    operation_id = "create_lead_source",
    summary = "Create a lead source",
    request_body = CreateLeadSource,
    responses(
        (status = 201, description = "Created.", body = LeadSourceDto,
            headers(("Location" = String, description = "The lead source's URL."),
                ("ETag" = String, description = "The lead source's version."))),
        (status = 409, description = "A lead source with this key exists.", body = Problem,
            content_type = "application/problem+json"),
    ),
)]
#[post("/lead-sources")]
pub(crate) async fn create_lead_source(
    state: web::Data<ApiState>,
    body: ApiJson<CreateLeadSource>,
) -> Result<HttpResponse, ApiError> {
    let draft = body.0.validate()?;
    let store = state.stores.lead_sources.clone();
    let source = blocking(move || store.create_lead_source(draft)).await?;
    Ok(created(
        format!("/api/v1/lead-sources/{}", source.key),
        source.version,
        &LeadSourceDto::from(source),
    ))
}

/// Changes a lead source's label or position, or archives it (JSON merge patch).
#[utoipa::path(
    tag = "lead-sources",
    operation_id = "update_lead_source",
    summary = "Update a lead source",
    params(
        ("key" = String, Path, description = "The lead source's key.", max_length = 50,
            pattern = "^[a-z][a-z0-9_]{0,49}$"),
        ("If-Match" = Option<String>, Header, description = "The `ETag` you read; refused with 412 if the lead source changed since."),
    ),
    request_body(content = UpdateLeadSource, content_type = "application/merge-patch+json"),
    responses(
        (status = 200, description = "The changed lead source.", body = LeadSourceDto,
            headers(("ETag" = String, description = "The lead source's new version."))),
        (status = 404, description = "No such lead source.", body = Problem,
            content_type = "application/problem+json"),
        (status = 412, description = "The lead source changed since the `If-Match` version.", body = Problem,
            content_type = "application/problem+json",
            headers(("ETag" = String, description = "The lead source's current version."))),
    ),
)]
#[patch("/lead-sources/{key}")]
pub(crate) async fn update_lead_source(
    req: HttpRequest,
    state: web::Data<ApiState>,
    key: web::Path<String>,
    body: ApiJson<UpdateLeadSource>,
) -> Result<HttpResponse, ApiError> {
    // A key that cannot exist names no lead source.
    crm_domain::lead_sources::check_key(&key, "/key").map_err(|_| {
        crm_domain::DomainError::NotFound {
            entity: "lead source",
        }
    })?;
    let changes = body.0.validate()?;
    let expected = if_match(&req)?;
    let store = state.stores.lead_sources.clone();
    let source =
        blocking(move || store.update_lead_source(&key.into_inner(), changes, expected)).await?;
    Ok(ok_with_etag(source.version, &LeadSourceDto::from(source)))
}
