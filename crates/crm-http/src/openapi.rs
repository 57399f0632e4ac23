//! The OpenAPI document. Paths and schemas are collected from the same `service(...)` calls that
//! register the routes (see [`crate::app`]); this module adds what is common to every operation.

use utoipa::openapi::header::Header;
use utoipa::openapi::path::Operation;
use utoipa::openapi::schema::{ObjectBuilder, Type};
use utoipa::openapi::{OpenApi as OpenApiDocument, RefOr};
use utoipa::OpenApi;
use utoipa_actix_web::AppExt;

use crate::app::api_routes;

#[derive(OpenApi)]
#[openapi(
    info(
        title = "CRM API",
        description = "Customers, contacts, follow-up activities and opportunities for sales teams.\n\n\
            Conventions: JSON in and out; errors are `application/problem+json` (RFC 9457) with a \
            stable `code` and every invalid field in `errors`; every response carries `X-Request-Id`. \
            The interactive documentation at `/docs` is generated from this document.",
        license(name = "Apache-2.0", identifier = "Apache-2.0"),
    ),
    tags(
        (name = "system", description = "Liveness, readiness, metrics and this document."),
        (name = "meta", description = "Facts about this installation."),
    ),
    components(schemas(crate::Problem, crate::ProblemFieldError))
)]
struct ApiDoc;

/// The API's OpenAPI document, generated from the registered routes.
pub fn document() -> OpenApiDocument {
    let (_, mut document) = actix_web::App::new()
        .into_utoipa_app()
        .openapi(ApiDoc::openapi())
        .configure(api_routes)
        .split_for_parts();
    document.info.version = env!("CARGO_PKG_VERSION").to_string();
    add_request_id_header(&mut document);
    document
}

/// The document as committed in `openapi/openapi.json`: pretty-printed, keys in a stable order,
/// ending with a newline.
pub fn to_json(document: &OpenApiDocument) -> String {
    // Going through `Value` sorts every object's keys, so the text is stable across builds.
    let value = serde_json::to_value(document).unwrap_or_default();
    let mut text = serde_json::to_string_pretty(&value).unwrap_or_default();
    text.push('\n');
    text
}

/// Every response carries `X-Request-Id`; say so on every response of every operation.
fn add_request_id_header(document: &mut OpenApiDocument) {
    let mut header = Header::new(ObjectBuilder::new().schema_type(Type::String));
    header.description = Some(
        "The request's id: the client's `X-Request-Id` when it was safe to keep, else a new UUIDv7."
            .to_string(),
    );
    for item in document.paths.paths.values_mut() {
        let operations = [
            &mut item.get,
            &mut item.put,
            &mut item.post,
            &mut item.delete,
            &mut item.patch,
        ];
        for operation in operations.into_iter().flatten() {
            add_header(operation, &header);
        }
    }
}

fn add_header(operation: &mut Operation, header: &Header) {
    for response in operation.responses.responses.values_mut() {
        if let RefOr::T(response) = response {
            response
                .headers
                .insert("X-Request-Id".to_string(), RefOr::T(header.clone()));
        }
    }
}
