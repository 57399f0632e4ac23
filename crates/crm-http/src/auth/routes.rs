//! Login, refresh and logout.

use std::time::Instant;

use actix_web::http::header::{self, HeaderName};
use actix_web::http::StatusCode;
use actix_web::{post, web, HttpRequest, HttpResponse};
use chrono::Utc;
use crm_domain::ports::RefreshOutcome;
use crm_domain::secrets::{new_token, token_digest, verify_password};
use crm_domain::DomainError;

use super::dto::{LoginRequest, RefreshRequest, TokenResponse};
use super::middleware::unauthorized;
use super::throttle::{Limit, PER_ACCOUNT, PER_ADDRESS};
use crate::blocking::blocking;
use crate::extract::ApiJson;
use crate::{ApiError, ApiState, Problem};

/// Signs in with email and password.
///
/// An unknown email and a wrong password get the same answer in similar time. Repeated failures
/// lock the account and the client address out for a while (429 with `Retry-After`).
#[utoipa::path(
    tag = "auth",
    operation_id = "create_session",
    summary = "Log in",
    request_body = LoginRequest,
    responses(
        (status = 200, description = "Signed in.", body = TokenResponse),
        (status = 401, description = "Wrong email or password, or the account is inactive.", body = Problem,
            content_type = "application/problem+json"),
        (status = 422, description = "The body is not a login request.", body = Problem,
            content_type = "application/problem+json"),
        (status = 429, description = "Too many failed logins; retry after `Retry-After` seconds.", body = Problem,
            content_type = "application/problem+json",
            headers(("Retry-After" = u64, description = "Seconds until login may be tried again."),
                ("RateLimit-Limit" = u32, description = "Failed logins allowed in the window."),
                ("RateLimit-Remaining" = u32, description = "Failed logins left: 0."),
                ("RateLimit-Reset" = u64, description = "Seconds until the lockout ends."))),
    ),
)]
#[post("/auth/login")]
pub(crate) async fn create_session(
    req: HttpRequest,
    state: web::Data<ApiState>,
    body: ApiJson<LoginRequest>,
) -> Result<HttpResponse, ApiError> {
    body.0.check_lengths()?;
    let LoginRequest { email, password } = body.0;
    let email = email.trim().to_lowercase();
    let account_key = format!("account:{email}");
    let address_key = format!(
        "address:{}",
        req.peer_addr()
            .map(|a| a.ip().to_string())
            .unwrap_or_default()
    );
    let now = Instant::now();
    for (key, limit) in [(&account_key, PER_ACCOUNT), (&address_key, PER_ADDRESS)] {
        if let Err(wait) = state.throttle.check(key, now) {
            return Err(too_many_attempts(limit, wait.as_secs().max(1)));
        }
    }

    let store = state.stores.users.clone();
    let lookup = email.clone();
    let user = blocking(move || {
        let credentials = store.credentials(&lookup)?;
        let matches = verify_password(
            &password,
            credentials.as_ref().map(|c| c.password_hash.as_str()),
        );
        Ok(credentials.filter(|c| matches && c.active))
    })
    .await?;
    let Some(credentials) = user else {
        state
            .throttle
            .record_failure(&account_key, PER_ACCOUNT, now);
        state
            .throttle
            .record_failure(&address_key, PER_ADDRESS, now);
        return Err(unauthorized(
            "invalid_credentials",
            "The email or password is wrong, or the account is inactive.",
        ));
    };
    state.throttle.clear(&account_key);
    let tokens = issue_session(&state, credentials.user_id).await?;
    Ok(HttpResponse::Ok().json(tokens))
}

fn too_many_attempts(limit: Limit, wait_seconds: u64) -> ApiError {
    ApiError::new(
        StatusCode::TOO_MANY_REQUESTS,
        "too_many_attempts",
        "Too many requests",
        format!("Too many failed logins; try again in {wait_seconds} seconds."),
    )
    .with_header(header::RETRY_AFTER, wait_seconds.to_string())
    .with_header(
        HeaderName::from_static("ratelimit-limit"),
        limit.failures.to_string(),
    )
    .with_header(HeaderName::from_static("ratelimit-remaining"), "0")
    .with_header(
        HeaderName::from_static("ratelimit-reset"),
        wait_seconds.to_string(),
    )
}

/// Starts a session: an access token and the first refresh token of a new family.
async fn issue_session(state: &ApiState, user_id: String) -> Result<TokenResponse, ApiError> {
    let users = state.stores.users.clone();
    let sessions = state.stores.sessions.clone();
    let refresh_ttl = state.refresh_ttl;
    let (refresh_token, generation, user_id) = blocking(move || {
        let subject = users
            .auth_subject(&user_id)?
            .ok_or(DomainError::NotFound { entity: "user" })?;
        let token = new_token()?;
        sessions.start_session(&user_id, &token_digest(&token), Utc::now() + refresh_ttl)?;
        Ok((token, subject.session_generation, user_id))
    })
    .await?;
    token_response(state, &user_id, generation, refresh_token)
}

fn token_response(
    state: &ApiState,
    user_id: &str,
    generation: i64,
    refresh_token: String,
) -> Result<TokenResponse, ApiError> {
    let access_token = state
        .tokens
        .issue(user_id, generation, Utc::now())
        .map_err(|e| ApiError::from(DomainError::internal(e)))?;
    Ok(TokenResponse {
        access_token,
        token_type: "Bearer",
        expires_in: state.tokens.ttl.as_secs(),
        refresh_token,
    })
}

/// Exchanges a refresh token for a new access token and refresh token.
///
/// Each refresh token works once. Presenting one that was already used ends its whole session
/// (the newer tokens issued from it stop working too), since it has probably been stolen.
#[utoipa::path(
    tag = "auth",
    operation_id = "refresh_session",
    summary = "Refresh tokens",
    request_body = RefreshRequest,
    responses(
        (status = 200, description = "A new token pair; the presented refresh token is used up.", body = TokenResponse),
        (status = 401, description = "The refresh token is unknown, expired, revoked or reused.", body = Problem,
            content_type = "application/problem+json"),
        (status = 422, description = "The body is not a refresh request.", body = Problem,
            content_type = "application/problem+json"),
    ),
)]
#[post("/auth/refresh")]
pub(crate) async fn refresh_session(
    state: web::Data<ApiState>,
    body: ApiJson<RefreshRequest>,
) -> Result<HttpResponse, ApiError> {
    let presented = token_digest(&body.0.token()?);
    let sessions = state.stores.sessions.clone();
    let refresh_ttl = state.refresh_ttl;
    let (outcome, token) = blocking(move || {
        let token = new_token()?;
        let now = Utc::now();
        let outcome =
            sessions.rotate_session(&presented, &token_digest(&token), now + refresh_ttl, now)?;
        Ok((outcome, token))
    })
    .await?;
    match outcome {
        RefreshOutcome::Rotated(subject) => Ok(HttpResponse::Ok().json(token_response(
            &state,
            &subject.user_id,
            subject.session_generation,
            token,
        )?)),
        RefreshOutcome::Reused => {
            tracing::warn!("refresh token reused; its session was ended");
            Err(unauthorized(
                "invalid_refresh_token",
                "The refresh token is not valid.",
            ))
        }
        RefreshOutcome::Invalid => Err(unauthorized(
            "invalid_refresh_token",
            "The refresh token is not valid.",
        )),
    }
}

/// Ends the session of a refresh token (log out). Answers 204 whether or not the token was live,
/// so the endpoint tells nothing about tokens.
#[utoipa::path(
    tag = "auth",
    operation_id = "delete_session",
    summary = "Log out",
    request_body = RefreshRequest,
    responses(
        (status = 204, description = "The session is ended."),
        (status = 422, description = "The body is not a logout request.", body = Problem,
            content_type = "application/problem+json"),
    ),
)]
#[post("/auth/logout")]
pub(crate) async fn delete_session(
    state: web::Data<ApiState>,
    body: ApiJson<RefreshRequest>,
) -> Result<HttpResponse, ApiError> {
    let presented = token_digest(&body.0.token()?);
    let sessions = state.stores.sessions.clone();
    blocking(move || sessions.end_session(&presented, Utc::now())).await?;
    Ok(HttpResponse::NoContent().finish())
}
