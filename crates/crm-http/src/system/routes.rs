//! Handlers of the system endpoints.

use actix_web::http::header::{self, ContentType};
use actix_web::{get, web, HttpResponse};

use super::dto::{Health, Meta, Readiness};
use crate::blocking::blocking;
use crate::{ApiError, ApiState, Problem};

/// Liveness: the process is up and serving HTTP. Does not touch the database.
#[utoipa::path(
    tag = "system",
    operation_id = "get_health",
    summary = "Liveness check",
    responses((status = 200, description = "The process is alive.", body = Health)),
)]
#[get("/healthz")]
pub(crate) async fn get_health() -> web::Json<Health> {
    web::Json(Health { status: "ok" })
}

/// Readiness: the database answers, so requests can be served.
#[utoipa::path(
    tag = "system",
    operation_id = "get_readiness",
    summary = "Readiness check",
    responses(
        (status = 200, description = "The database answers.", body = Readiness),
        (status = 503, description = "The database does not answer.", body = Problem,
            content_type = "application/problem+json",
            headers(("Retry-After" = u32, description = "Seconds to wait before retrying."))),
    ),
)]
#[get("/readyz")]
pub(crate) async fn get_readiness(
    state: web::Data<ApiState>,
) -> Result<web::Json<Readiness>, ApiError> {
    let store = state.stores.system.clone();
    let backend = store.backend();
    blocking(move || store.ping()).await?;
    Ok(web::Json(Readiness {
        status: "ready",
        database_backend: backend.into(),
    }))
}

/// Prometheus metrics in the text exposition format.
#[utoipa::path(
    tag = "system",
    operation_id = "get_metrics",
    summary = "Prometheus metrics",
    responses((status = 200, description = "Request counts and latency histograms by route and \
        status, requests in flight, and database pool usage.",
        body = String, content_type = "text/plain; version=0.0.4")),
)]
#[get("/metrics")]
pub(crate) async fn get_metrics(state: web::Data<ApiState>) -> HttpResponse {
    let body = state.metrics.render(state.stores.system.pool_status());
    HttpResponse::Ok()
        .insert_header((header::CONTENT_TYPE, "text/plain; version=0.0.4"))
        .body(body)
}

/// This OpenAPI document.
#[utoipa::path(
    tag = "system",
    operation_id = "get_openapi",
    summary = "The OpenAPI document",
    responses((status = 200, description = "The OpenAPI 3.1 document of this API.",
        body = Object, content_type = "application/json")),
)]
#[get("/openapi.json")]
pub(crate) async fn get_openapi(state: web::Data<ApiState>) -> HttpResponse {
    HttpResponse::Ok()
        .insert_header(ContentType::json())
        .body(state.spec.json.clone())
}

/// Facts about this installation: API and server version, build, database backend and schema.
#[utoipa::path(
    tag = "meta",
    operation_id = "get_meta",
    summary = "Installation facts",
    responses(
        (status = 200, description = "Facts about this installation.", body = Meta),
        (status = 503, description = "The database does not answer.", body = Problem,
            content_type = "application/problem+json",
            headers(("Retry-After" = u32, description = "Seconds to wait before retrying."))),
    ),
)]
#[get("/meta")]
pub(crate) async fn get_meta(state: web::Data<ApiState>) -> Result<web::Json<Meta>, ApiError> {
    let store = state.stores.system.clone();
    let info = blocking(move || store.system_info()).await?;
    Ok(web::Json(Meta {
        api_version: "v1",
        server_version: state.build.version,
        build_profile: state.build.profile,
        database_backend: info.backend.into(),
        schema_version: info.schema_version,
        instance_id: info.instance_id,
    }))
}
