//! The application: routes (and so the OpenAPI document), extractor settings, the documentation
//! UI, the fallback for unknown routes, and the middleware stack.

use actix_web::body::MessageBody;
use actix_web::dev::{ServiceFactory, ServiceRequest, ServiceResponse};
use actix_web::middleware::{from_fn, Compress};
use actix_web::{web, App};
use utoipa_actix_web::service_config::ServiceConfig;
use utoipa_actix_web::{scope, AppExt};

use crate::{
    activities, api_keys, auth, contacts, custom_fields, customers, docs, extract, fallback,
    idempotency, imports, lead_sources, observe, opportunities, pipelines, products, scoring,
    system, teams, users, ApiState,
};

/// Registers every API route. This list is the one source of both the served routes and the
/// OpenAPI document: register handlers here with `service(...)` only.
pub(crate) fn api_routes(cfg: &mut ServiceConfig) {
    cfg.service(system::routes::get_health)
        .service(system::routes::get_readiness)
        .service(system::routes::get_metrics)
        .service(
            scope::scope("/api/v1")
                .service(system::routes::get_openapi)
                .service(system::routes::get_meta)
                .service(auth::routes::create_session)
                .service(auth::routes::refresh_session)
                .service(auth::routes::delete_session)
                .service(users::routes::get_me)
                .service(users::routes::create_user)
                .service(users::routes::list_users)
                .service(users::routes::get_user)
                .service(users::routes::update_user)
                .service(teams::routes::create_team)
                .service(teams::routes::list_teams)
                .service(teams::routes::get_team)
                .service(teams::routes::update_team)
                .service(teams::routes::delete_team)
                .service(api_keys::routes::create_api_key)
                .service(api_keys::routes::list_api_keys)
                .service(api_keys::routes::delete_api_key)
                .service(customers::routes::create_customer)
                .service(customers::batch::create_customer_batch)
                .service(customers::merges::create_customer_merge)
                .service(customers::merges::get_customer_merge)
                .service(customers::merges::undo_customer_merge)
                .service(customers::routes::list_customers)
                .service(customers::routes::get_customer)
                .service(customers::routes::update_customer)
                .service(customers::routes::delete_customer)
                .service(customers::routes::restore_customer)
                .service(customers::routes::claim_customer)
                .service(customers::routes::release_customer)
                .service(customers::routes::assign_customer)
                .service(customers::routes::list_customer_history)
                .service(customers::routes::get_customer_overview)
                .service(contacts::routes::create_contact)
                .service(contacts::routes::list_customer_contacts)
                .service(contacts::routes::list_contacts)
                .service(contacts::routes::get_contact)
                .service(contacts::routes::update_contact)
                .service(contacts::routes::delete_contact)
                .service(lead_sources::routes::list_lead_sources)
                .service(lead_sources::routes::create_lead_source)
                .service(lead_sources::routes::update_lead_source)
                .service(custom_fields::routes::list_custom_fields)
                .service(custom_fields::routes::create_custom_field)
                .service(custom_fields::routes::get_custom_field_schema)
                .service(custom_fields::routes::get_custom_field)
                .service(custom_fields::routes::update_custom_field)
                .service(custom_fields::routes::delete_custom_field)
                .service(custom_fields::routes::restore_custom_field)
                .service(activities::routes::create_activity)
                .service(activities::routes::list_activities)
                .service(activities::routes::get_activity)
                .service(activities::routes::update_activity)
                .service(activities::routes::delete_activity)
                .service(activities::routes::list_follow_ups)
                .service(activities::calendar::create_calendar_feed)
                .service(activities::calendar::delete_calendar_feed)
                .service(activities::calendar::get_follow_up_calendar)
                .service(scoring::routes::list_behaviors)
                .service(scoring::routes::create_behavior)
                .service(scoring::routes::update_behavior)
                .service(scoring::routes::get_scoring_settings)
                .service(scoring::routes::update_scoring_settings)
                .service(scoring::routes::get_customer_score)
                .service(products::routes::list_products)
                .service(products::routes::create_product)
                .service(products::routes::get_product)
                .service(products::routes::update_product)
                .service(pipelines::routes::list_pipelines)
                .service(pipelines::routes::create_pipeline)
                .service(pipelines::routes::get_pipeline)
                .service(pipelines::routes::update_pipeline)
                .service(pipelines::routes::create_stage)
                .service(pipelines::routes::update_stage)
                .service(pipelines::routes::reorder_stages)
                .service(pipelines::routes::delete_stage)
                .service(opportunities::routes::create_opportunity)
                .service(opportunities::routes::list_opportunities)
                .service(opportunities::routes::get_opportunity)
                .service(opportunities::routes::update_opportunity)
                .service(opportunities::routes::create_stage_change)
                .service(opportunities::routes::list_opportunity_history)
                .service(imports::routes::create_import)
                .service(imports::routes::get_import)
                .service(imports::routes::list_import_results),
        );
}

/// The actix application over `state`, ready for `HttpServer::new` or `test::init_service`.
pub fn app(
    state: ApiState,
) -> App<
    impl ServiceFactory<
        ServiceRequest,
        Config = (),
        Response = ServiceResponse<impl MessageBody<Error = impl std::fmt::Debug>>,
        Error = actix_web::Error,
        InitError = (),
    >,
> {
    let cors = cors(&state.config.cors_origins);
    let json_limit = state.config.json_limit;
    let upload_limit = state.config.upload_limit;
    App::new()
        .app_data(web::Data::new(state))
        .app_data(extract::json_config(json_limit))
        .app_data(extract::query_config())
        .app_data(extract::path_config())
        .app_data(web::PayloadConfig::new(upload_limit))
        .into_utoipa_app()
        .configure(api_routes)
        .into_app()
        .service(docs::swagger_ui())
        .service(docs::docs_redirect())
        .default_service(web::to(fallback::no_route))
        .wrap(from_fn(idempotency::idempotency))
        .wrap(from_fn(auth::middleware::authorize))
        .wrap(Compress::default())
        .wrap(cors)
        .wrap(from_fn(observe::observe))
}

/// CORS for the configured origins; with none configured, no cross-origin access is granted.
/// Requests from other origins are still served (browsers enforce CORS), just without CORS headers.
fn cors(origins: &[String]) -> actix_cors::Cors {
    let mut cors = actix_cors::Cors::default()
        .allowed_methods(["GET", "POST", "PUT", "PATCH", "DELETE"])
        .allowed_headers([
            "authorization",
            "content-type",
            "if-match",
            "if-none-match",
            "idempotency-key",
            "x-request-id",
        ])
        .expose_headers([
            "etag",
            "location",
            "retry-after",
            "x-request-id",
            "idempotent-replayed",
            "ratelimit-limit",
            "ratelimit-remaining",
            "ratelimit-reset",
        ])
        .max_age(3600)
        .block_on_origin_mismatch(false);
    for origin in origins {
        cors = cors.allowed_origin(origin);
    }
    cors
}
