//! The human-readable API documentation: Swagger UI, served from files compiled into the binary
//! (no CDN, works offline), reading the spec from `/api/v1/openapi.json`. The UI's static files
//! are not API operations and so are not part of the OpenAPI document.

use actix_web::http::header;
use actix_web::{web, HttpResponse};
use utoipa_swagger_ui::{Config, SwaggerUi};

/// Where the UI lives.
pub(crate) const DOCS_PATH: &str = "/docs";

pub(crate) fn swagger_ui() -> SwaggerUi {
    SwaggerUi::new("/docs/{_:.*}").config(
        Config::new(["/api/v1/openapi.json"])
            .try_it_out_enabled(true)
            .display_operation_id(true),
    )
}

/// `/docs` to `/docs/`, so the UI's relative asset links resolve.
pub(crate) fn docs_redirect() -> actix_web::Resource {
    web::resource(DOCS_PATH).route(web::get().to(|| async {
        HttpResponse::PermanentRedirect()
            .insert_header((header::LOCATION, "/docs/"))
            .finish()
    }))
}
