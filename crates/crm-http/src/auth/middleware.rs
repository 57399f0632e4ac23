//! Authentication and authorization of every request, before any handler runs: the operation's
//! access rule is looked up; public operations pass; otherwise the bearer credential (an access
//! token or an API key) must be valid (else 401) and permitted by the rule (else 403). The
//! caller is then available to handlers as [`Caller`].

use std::future::{ready, Ready};

use actix_web::body::{BoxBody, MessageBody};
use actix_web::dev::{Payload, ServiceRequest, ServiceResponse};
use actix_web::http::header::{self, HeaderMap, HeaderValue};
use actix_web::middleware::Next;
use actix_web::{web, FromRequest, HttpMessage, HttpRequest};
use chrono::Utc;
use crm_domain::identity::Principal;
use crm_domain::secrets::{token_digest, API_KEY_PREFIX};
use crm_domain::DomainError;

use super::access;
use super::tokens::TokenError;
use crate::blocking::blocking;
use crate::fallback::MatchedRoute;
use crate::{ApiError, ApiState};

/// The authenticated caller of the current request.
#[derive(Debug, Clone)]
pub struct Caller(pub Principal);

impl FromRequest for Caller {
    type Error = ApiError;
    type Future = Ready<Result<Self, ApiError>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        ready(req.extensions().get::<Caller>().cloned().ok_or_else(|| {
            unauthorized(
                "missing_credentials",
                "Send `Authorization: Bearer <token>`.",
            )
        }))
    }
}

/// 401 with the `WWW-Authenticate` challenge.
pub(crate) fn unauthorized(code: &'static str, detail: &'static str) -> ApiError {
    ApiError::new(
        actix_web::http::StatusCode::UNAUTHORIZED,
        code,
        "Unauthorized",
        detail,
    )
}

pub(crate) async fn authorize(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<BoxBody>, actix_web::Error> {
    let Some(state) = req.app_data::<web::Data<ApiState>>().cloned() else {
        return next
            .call(req)
            .await
            .map(ServiceResponse::map_into_boxed_body);
    };
    // A concrete path wins over a template (`/customers/batch` is not a customer id): a method
    // it does not have is a 405, whatever template the path also fits.
    if let Some(methods) = state
        .spec
        .routes
        .concrete_without(req.method().as_str(), req.path())
    {
        return Ok(req.error_response(ApiError::method_not_allowed(methods)));
    }
    let operation = MatchedRoute::of(&req).operation;
    // Paths and methods without an operation are answered by the fallback (404/405) or are
    // the documentation UI.
    let Some(operation) = operation else {
        return next
            .call(req)
            .await
            .map(ServiceResponse::map_into_boxed_body);
    };
    let Some(rule) = access::rule(&operation) else {
        tracing::error!(%operation, "operation has no access rule; refused");
        return Ok(req.error_response(ApiError::from(DomainError::Forbidden)));
    };
    if rule.is_public() {
        return next
            .call(req)
            .await
            .map(ServiceResponse::map_into_boxed_body);
    }
    let principal = match authenticate(&state, req.headers()).await {
        Ok(principal) => principal,
        Err(err) => return Ok(req.error_response(err)),
    };
    if let Err(err) = rule.check(&principal) {
        return Ok(req.error_response(ApiError::from(err)));
    }
    req.extensions_mut().insert(Caller(principal));
    let mut response = next.call(req).await?.map_into_boxed_body();
    // Responses to authenticated requests hold someone's data: never cache them.
    response
        .headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    Ok(response)
}

fn bearer(headers: &HeaderMap) -> Option<&str> {
    let value = headers.get(header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, token) = value.split_once(' ')?;
    let token = token.trim();
    (scheme.eq_ignore_ascii_case("bearer") && !token.is_empty()).then_some(token)
}

/// The principal behind the request's bearer credential.
pub(crate) async fn authenticate(
    state: &ApiState,
    headers: &HeaderMap,
) -> Result<Principal, ApiError> {
    let Some(token) = bearer(headers) else {
        return Err(unauthorized(
            "missing_credentials",
            "Send `Authorization: Bearer <token>` with an access token or API key.",
        ));
    };
    if token.starts_with(API_KEY_PREFIX) {
        let digest = token_digest(token);
        let store = state.stores.api_keys.clone();
        let key = blocking(move || store.authenticate_api_key(&digest, Utc::now())).await?;
        return key
            .map(|k| Principal::ApiKey {
                key_id: k.id,
                scopes: k.scopes,
            })
            .ok_or_else(|| unauthorized("invalid_api_key", "The API key is unknown or revoked."));
    }
    let verified = state.tokens.verify(token).map_err(|e| match e {
        TokenError::Expired => unauthorized(
            "token_expired",
            "The access token has expired; refresh it with POST /api/v1/auth/refresh.",
        ),
        TokenError::Invalid => unauthorized("invalid_token", "The access token is not valid."),
    })?;
    let subject = match state.stores.users.recent_auth_subject(&verified.user_id) {
        // Answered from memory: no hand-off to a blocking thread.
        Some(subject) => Some(subject),
        None => {
            let store = state.stores.users.clone();
            let user_id = verified.user_id.clone();
            blocking(move || store.auth_subject(&user_id)).await?
        }
    };
    match subject {
        Some(s) if s.active && s.session_generation == verified.session_generation => {
            Ok(Principal::User {
                user_id: s.user_id,
                role: s.role,
            })
        }
        _ => Err(unauthorized(
            "invalid_token",
            "The access token is not valid.",
        )),
    }
}
