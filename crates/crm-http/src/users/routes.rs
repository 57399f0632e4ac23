//! Users: admins create, list, read and change them; everyone reads themselves at `/me`.

use actix_web::{get, patch, post, web, HttpRequest, HttpResponse};
use crm_domain::identity::{NewUser, Principal, UserChanges};
use crm_domain::secrets::hash_password;

use super::dto::{CallerKind, CreateUser, Me, UpdateUser, UserDto, UserList};
use crate::auth::Caller;
use crate::blocking::blocking;
use crate::extract::ApiJson;
use crate::pagination::{cursor, PageQuery};
use crate::responses::{created, if_match, ok_with_etag};
use crate::{ApiError, ApiState, Problem};

/// Creates a user. The password is stored as an argon2id hash only.
#[utoipa::path(
    tag = "users",
    operation_id = "create_user",
    summary = "Create a user",
    request_body = CreateUser,
    responses(
        (status = 201, description = "Created.", body = UserDto,
            headers(("Location" = String, description = "The user's URL."),
                ("ETag" = String, description = "The user's version."))),
        (status = 409, description = "A user with this email exists.", body = Problem,
            content_type = "application/problem+json"),
        (status = 422, description = "Invalid fields, each listed.", body = Problem,
            content_type = "application/problem+json"),
    ),
)]
#[post("/users")]
pub(crate) async fn create_user(
    state: web::Data<ApiState>,
    body: ApiJson<CreateUser>,
) -> Result<HttpResponse, ApiError> {
    let valid = body.0.validate()?;
    let store = state.stores.users.clone();
    let user = blocking(move || {
        let password_hash = hash_password(&valid.password)?;
        store.create_user(NewUser {
            email: valid.email,
            display_name: valid.display_name,
            role: valid.role,
            password_hash,
        })
    })
    .await?;
    Ok(created(
        format!("/api/v1/users/{}", user.id),
        user.version,
        &UserDto::from(user),
    ))
}

/// Lists users in creation order.
#[utoipa::path(
    tag = "users",
    operation_id = "list_users",
    summary = "List users",
    params(PageQuery),
    responses(
        (status = 200, description = "A page of users.", body = UserList),
        (status = 400, description = "An invalid or unknown query parameter.", body = Problem,
            content_type = "application/problem+json"),
    ),
)]
#[get("/users")]
pub(crate) async fn list_users(
    state: web::Data<ApiState>,
    query: web::Query<PageQuery>,
) -> Result<HttpResponse, ApiError> {
    let page = query.page()?;
    let store = state.stores.users.clone();
    let page = blocking(move || store.list_users(&page)).await?;
    Ok(HttpResponse::Ok().json(UserList {
        items: page.items.into_iter().map(UserDto::from).collect(),
        next_cursor: cursor(page.next_after),
    }))
}

/// Reads one user.
#[utoipa::path(
    tag = "users",
    operation_id = "get_user",
    summary = "Get a user",
    params(("id" = uuid::Uuid, Path, description = "The user's id.")),
    responses(
        (status = 200, description = "The user.", body = UserDto,
            headers(("ETag" = String, description = "The user's version."))),
        (status = 404, description = "No such user.", body = Problem,
            content_type = "application/problem+json"),
    ),
)]
#[get("/users/{id}")]
pub(crate) async fn get_user(
    state: web::Data<ApiState>,
    id: web::Path<uuid::Uuid>,
) -> Result<HttpResponse, ApiError> {
    let store = state.stores.users.clone();
    let user = blocking(move || store.user(&id.to_string())).await?;
    Ok(ok_with_etag(user.version, &UserDto::from(user)))
}

/// Changes a user (JSON merge patch). A new password or deactivation ends the user's sessions
/// at once: their access tokens and refresh tokens stop working (on other API servers sharing
/// the database, within a second). The last active admin cannot be deactivated or demoted.
#[utoipa::path(
    tag = "users",
    operation_id = "update_user",
    summary = "Update a user",
    params(
        ("id" = uuid::Uuid, Path, description = "The user's id."),
        ("If-Match" = Option<String>, Header, description = "The `ETag` you read; the update is refused with 412 if the user changed since."),
    ),
    request_body(content = UpdateUser, content_type = "application/merge-patch+json"),
    responses(
        (status = 200, description = "The changed user.", body = UserDto,
            headers(("ETag" = String, description = "The user's new version."))),
        (status = 404, description = "No such user.", body = Problem,
            content_type = "application/problem+json"),
        (status = 409, description = "The change would leave no active admin.", body = Problem,
            content_type = "application/problem+json"),
        (status = 412, description = "The user changed since the `If-Match` version.", body = Problem,
            content_type = "application/problem+json",
            headers(("ETag" = String, description = "The user's current version."))),
        (status = 422, description = "Invalid fields, each listed.", body = Problem,
            content_type = "application/problem+json"),
    ),
)]
#[patch("/users/{id}")]
pub(crate) async fn update_user(
    req: HttpRequest,
    state: web::Data<ApiState>,
    id: web::Path<uuid::Uuid>,
    body: ApiJson<UpdateUser>,
) -> Result<HttpResponse, ApiError> {
    let change = body.0.validate()?;
    let expected = if_match(&req)?;
    let store = state.stores.users.clone();
    let user = blocking(move || {
        let password_hash = change.password.as_deref().map(hash_password).transpose()?;
        let changes = UserChanges {
            display_name: change.display_name,
            role: change.role,
            active: change.active,
            password_hash,
        };
        store.update_user(&id.to_string(), changes, expected)
    })
    .await?;
    Ok(ok_with_etag(user.version, &UserDto::from(user)))
}

/// The caller: the signed-in user, or the API key.
#[utoipa::path(
    tag = "users",
    operation_id = "get_me",
    summary = "Who am I",
    responses((status = 200, description = "The caller.", body = Me)),
)]
#[get("/me")]
pub(crate) async fn get_me(
    state: web::Data<ApiState>,
    caller: Caller,
) -> Result<HttpResponse, ApiError> {
    let me = match caller.0 {
        Principal::User { user_id, .. } => {
            let store = state.stores.users.clone();
            let user = blocking(move || store.user(&user_id)).await?;
            Me {
                kind: CallerKind::User,
                user: Some(user.into()),
                api_key_id: None,
                scopes: Vec::new(),
            }
        }
        Principal::ApiKey { key_id, scopes } => Me {
            kind: CallerKind::ApiKey,
            user: None,
            api_key_id: Some(key_id),
            scopes: scopes.iter().map(|s| s.as_str().to_string()).collect(),
        },
    };
    Ok(HttpResponse::Ok().json(me))
}
