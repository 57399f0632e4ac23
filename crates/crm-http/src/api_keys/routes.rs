//! API key endpoints.

use actix_web::{delete, get, post, web, HttpResponse};
use chrono::Utc;
use crm_domain::identity::Principal;
use crm_domain::ports::NewApiKey;
use crm_domain::secrets::{new_api_key, token_digest};
use crm_domain::DomainError;

use super::dto::{ApiKeyDto, ApiKeyList, CreateApiKey, CreatedApiKey};
use crate::auth::Caller;
use crate::blocking::blocking;
use crate::extract::ApiJson;
use crate::pagination::{cursor, PageQuery};
use crate::responses::created;
use crate::{ApiError, ApiState, Problem};

/// Characters of a key kept, in clear, to recognise it in lists.
const PREFIX_LEN: usize = 10;

/// Creates an API key. The response is the only time the key's secret is shown.
#[utoipa::path(
    tag = "api-keys",
    operation_id = "create_api_key",
    summary = "Create an API key",
    request_body = CreateApiKey,
    responses(
        (status = 201, description = "Created; `key` is shown only now.", body = CreatedApiKey,
            headers(("Location" = String, description = "The key's URL."),
                ("ETag" = String, description = "The key's version."))),
        (status = 422, description = "Invalid fields, each listed.", body = Problem,
            content_type = "application/problem+json"),
    ),
)]
#[post("/api-keys")]
pub(crate) async fn create_api_key(
    state: web::Data<ApiState>,
    caller: Caller,
    body: ApiJson<CreateApiKey>,
) -> Result<HttpResponse, ApiError> {
    let (name, scopes) = body.0.validate()?;
    let Principal::User { user_id, .. } = caller.0 else {
        return Err(DomainError::Forbidden.into());
    };
    let store = state.stores.api_keys.clone();
    let (key, secret) = blocking(move || {
        let secret = new_api_key()?;
        let key = store.create_api_key(NewApiKey {
            name,
            prefix: secret.chars().take(PREFIX_LEN).collect(),
            digest: token_digest(&secret),
            scopes,
            created_by: user_id,
        })?;
        Ok((key, secret))
    })
    .await?;
    Ok(created(
        format!("/api/v1/api-keys/{}", key.id),
        1,
        &CreatedApiKey {
            api_key: key.into(),
            key: secret,
        },
    ))
}

/// Lists API keys, revoked ones included.
#[utoipa::path(
    tag = "api-keys",
    operation_id = "list_api_keys",
    summary = "List API keys",
    params(PageQuery),
    responses(
        (status = 200, description = "A page of keys.", body = ApiKeyList),
        (status = 400, description = "An invalid or unknown query parameter.", body = Problem,
            content_type = "application/problem+json"),
    ),
)]
#[get("/api-keys")]
pub(crate) async fn list_api_keys(
    state: web::Data<ApiState>,
    query: web::Query<PageQuery>,
) -> Result<HttpResponse, ApiError> {
    let page = query.page()?;
    let store = state.stores.api_keys.clone();
    let page = blocking(move || store.list_api_keys(&page)).await?;
    Ok(HttpResponse::Ok().json(ApiKeyList {
        items: page.items.into_iter().map(ApiKeyDto::from).collect(),
        next_cursor: cursor(page.next_after),
    }))
}

/// Revokes an API key; it authenticates nothing from the next request on.
#[utoipa::path(
    tag = "api-keys",
    operation_id = "delete_api_key",
    summary = "Revoke an API key",
    params(("id" = uuid::Uuid, Path, description = "The key's id.")),
    responses(
        (status = 204, description = "Revoked."),
        (status = 404, description = "No such live key.", body = Problem,
            content_type = "application/problem+json"),
    ),
)]
#[delete("/api-keys/{id}")]
pub(crate) async fn delete_api_key(
    state: web::Data<ApiState>,
    id: web::Path<uuid::Uuid>,
) -> Result<HttpResponse, ApiError> {
    let store = state.stores.api_keys.clone();
    blocking(move || store.revoke_api_key(&id.to_string(), Utc::now())).await?;
    Ok(HttpResponse::NoContent().finish())
}
