//! The OpenAPI document. Paths and schemas are collected from the same `service(...)` calls that
//! register the routes (see [`crate::app`]); this module adds what is common to every operation.

use utoipa::openapi::content::ContentBuilder;
use utoipa::openapi::header::Header;
use utoipa::openapi::path::Operation;
use utoipa::openapi::response::{Response, ResponseBuilder};
use utoipa::openapi::schema::{ArrayItems, Object, ObjectBuilder, Schema, SchemaType, Type};
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityRequirement, SecurityScheme};
use utoipa::openapi::{OpenApi as OpenApiDocument, Ref, RefOr};

use crate::problem::PROBLEM_JSON;
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
        (name = "auth", description = "Log in, refresh tokens, log out."),
        (name = "users", description = "User accounts (admins) and the caller."),
        (name = "teams", description = "Teams: managers see their members' records."),
        (name = "api-keys", description = "Keys for integrations, with scopes."),
        (name = "customers", description = "Companies and individuals, the shared pool, history."),
        (name = "contacts", description = "The people at each customer."),
        (name = "activities", description = "Calls, visits and messages with customers, and the follow-ups they schedule."),
        (name = "scoring", description = "The behaviours that score customers, and how scores decay."),
        (name = "products", description = "The product catalogue opportunities quote from."),
        (name = "opportunities", description = "Deals with customers: quoted lines, stages and their history."),
        (name = "imports", description = "Lead imports from CSV or JSON Lines files, with matching and a result per row."),
        (name = "pipelines", description = "The company's sales processes: ordered stages with probabilities, guidance and checklists."),
    ),
    components(schemas(
        crate::Problem,
        crate::ProblemFieldError
    ))
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
    apply_access_rules(&mut document);
    narrow_patches(&mut document);
    document_idempotency(&mut document);
    forbid_nul_in_request_text(&mut document);
    add_request_id_header(&mut document);
    document
}

/// The name of the bearer security scheme.
const BEARER: &str = "bearer";

/// Security and the 401/403 answers of every operation, from the access rule table, so the
/// document says exactly what the authorization middleware does.
fn apply_access_rules(document: &mut OpenApiDocument) {
    let components = document.components.get_or_insert_with(Default::default);
    components.add_security_scheme(
        BEARER,
        SecurityScheme::Http(
            HttpBuilder::new()
                .scheme(HttpAuthScheme::Bearer)
                .bearer_format("JWT")
                .description(Some(
                    "An access token from `POST /api/v1/auth/login`, or an API key (`crm_…`) \
                     created by an admin.",
                ))
                .build(),
        ),
    );
    for operation in operations_mut(document) {
        if operation.request_body.is_some() {
            add_body_errors(operation);
        }
        let rule = operation
            .operation_id
            .as_deref()
            .and_then(crate::auth::access::rule);
        let Some(rule) = rule else { continue };
        if rule.is_public() {
            continue;
        }
        operation.security = Some(vec![SecurityRequirement::new(BEARER, Vec::<String>::new())]);
        let responses = &mut operation.responses.responses;
        let mut unauthorized = problem_response("Missing, invalid or expired credentials.");
        let mut challenge = Header::new(ObjectBuilder::new().schema_type(Type::String));
        challenge.description = Some("`Bearer`".to_string());
        unauthorized
            .headers
            .insert("WWW-Authenticate".to_string(), RefOr::T(challenge));
        responses
            .entry("401".to_string())
            .or_insert(RefOr::T(unauthorized));
        responses
            .entry("403".to_string())
            .or_insert(RefOr::T(problem_response(
                "The caller's role or the API key's scopes do not allow this operation.",
            )));
    }
}

/// The `Idempotency-Key` header, its replay marker and its 409 on every creating operation.
fn document_idempotency(document: &mut OpenApiDocument) {
    use utoipa::openapi::path::{ParameterBuilder, ParameterIn};
    use utoipa::openapi::Required;
    let parameter = ParameterBuilder::new()
        .name("Idempotency-Key")
        .parameter_in(ParameterIn::Header)
        .required(Required::False)
        .description(Some(
            "Any string up to 255 characters. A retry with the same key and body replays the \
             first answer (`Idempotent-Replayed: true`); the same key with another body is 422; \
             a retry while the first request runs is 409. Keys are per caller, kept 24 hours.",
        ))
        .schema(Some(
            ObjectBuilder::new()
                .schema_type(Type::String)
                .min_length(Some(1))
                .max_length(Some(crate::idempotency::KEY_MAX))
                .pattern(Some("^[!-~]+$")),
        ))
        .build();
    let mut replayed = Header::new(ObjectBuilder::new().schema_type(Type::String));
    replayed.description = Some(
        "`true` when this answer is the replay of an earlier request with the same key.".into(),
    );
    for operation in operations_mut(document) {
        let creating = operation
            .operation_id
            .as_deref()
            .is_some_and(|id| crate::idempotency::CREATING_OPERATIONS.contains(&id));
        if !creating {
            continue;
        }
        operation
            .parameters
            .get_or_insert_with(Vec::new)
            .push(RefOr::T(parameter.clone()));
        for (status, response) in operation.responses.responses.iter_mut() {
            if let (true, RefOr::T(response)) = (status.starts_with('2'), response) {
                response.headers.insert(
                    "Idempotent-Replayed".to_string(),
                    RefOr::T(replayed.clone()),
                );
            }
        }
        operation
            .responses
            .responses
            .entry("409".to_string())
            .or_insert(RefOr::T(problem_response(
                "A request with this Idempotency-Key is still being processed.",
            )));
        // Operations without a body have no 400 and 422 of their own; the key brings them.
        operation
            .responses
            .responses
            .entry("400".to_string())
            .or_insert(RefOr::T(problem_response(
                "The Idempotency-Key header is not 1 to 255 visible ASCII characters.",
            )));
        operation
            .responses
            .responses
            .entry("422".to_string())
            .or_insert(RefOr::T(problem_response(
                "This Idempotency-Key was used with a different request.",
            )));
    }
}

/// Creating and changing a customer or contact read the same body type, but on PATCH the
/// create-only members are refused: give each PATCH its own schema without them, so the document
/// says exactly what each accepts.
fn narrow_patches(document: &mut OpenApiDocument) {
    narrow_patch(
        document,
        ("CustomerBody", "CustomerChanges", "update_customer"),
        &["owner_id", "allow_duplicate", "contact"],
        "Changes to a customer (JSON merge patch): members left out stay, `null` clears an \
         optional member. The owner changes only through claim, release and assign.",
    );
    narrow_patch(
        document,
        ("ActivityBody", "ActivityChanges", "update_activity"),
        &["customer_id", "answers"],
        "Changes to an activity (JSON merge patch): members left out stay, `null` clears an \
         optional member; `follow_up` changes the follow-up, `null` removes it.",
    );
    narrow_patch(
        document,
        ("ContactBody", "ContactChanges", "update_contact"),
        &["allow_duplicate"],
        "Changes to a contact (JSON merge patch): members left out stay, `null` clears an \
         optional member.",
    );
}

fn narrow_patch(
    document: &mut OpenApiDocument,
    (body_name, changes_name, operation_id): (&str, &str, &str),
    create_only: &[&str],
    description: &str,
) {
    let Some(components) = document.components.as_mut() else {
        return;
    };
    let Some(RefOr::T(Schema::Object(body))) = components.schemas.get(body_name) else {
        return;
    };
    let mut changes = body.clone();
    for member in create_only {
        changes.properties.remove(*member);
    }
    changes.description = Some(description.to_string());
    components
        .schemas
        .insert(changes_name.to_string(), RefOr::T(Schema::Object(changes)));
    for operation in operations_mut(document) {
        if operation.operation_id.as_deref() != Some(operation_id) {
            continue;
        }
        if let Some(RefOr::T(body)) = operation.request_body.as_mut() {
            for content in body.content.values_mut() {
                if let RefOr::T(content) = content {
                    content.schema = Some(RefOr::Ref(Ref::from_schema_name(changes_name)));
                }
            }
        }
    }
}

/// Text with no NUL character (which no database column can store; see `ApiJson`).
pub(crate) const NO_NUL: &str = "^[^\\u0000]*$";

/// Every string in a request body is refused when it holds a NUL character; say so with a
/// pattern on each string property (and string array item) of every request body schema.
fn forbid_nul_in_request_text(document: &mut OpenApiDocument) {
    let bodies: Vec<String> = operations_mut(document)
        .filter_map(|op| match op.request_body.as_ref() {
            Some(RefOr::T(body)) => Some(body),
            _ => None,
        })
        .flat_map(|body| body.content.values())
        .filter_map(|content| match content {
            RefOr::T(content) => content.schema.as_ref(),
            RefOr::Ref(_) => None,
        })
        .filter_map(|schema| match schema {
            RefOr::Ref(r) => r.ref_location.rsplit('/').next().map(str::to_owned),
            RefOr::T(_) => None,
        })
        .collect();
    let Some(components) = document.components.as_mut() else {
        return;
    };
    for name in bodies {
        if let Some(RefOr::T(Schema::Object(object))) = components.schemas.get_mut(&name) {
            for property in object.properties.values_mut() {
                match property {
                    RefOr::T(Schema::Object(field)) => no_nul(field),
                    RefOr::T(Schema::Array(array)) => {
                        if let ArrayItems::RefOrSchema(item) = &mut array.items {
                            if let RefOr::T(Schema::Object(item)) = item.as_mut() {
                                no_nul(item);
                            }
                        }
                    }
                    _ => {}
                }
            }
        }
    }
}

fn no_nul(field: &mut Object) {
    let is_text = match &field.schema_type {
        SchemaType::Type(t) => *t == Type::String,
        SchemaType::Array(types) => types.contains(&Type::String),
        SchemaType::AnyValue => false,
    };
    if is_text && field.pattern.is_none() && field.enum_values.is_none() {
        field.pattern = Some(NO_NUL.to_string());
    }
}

/// Every operation of the document.
fn operations_mut(document: &mut OpenApiDocument) -> impl Iterator<Item = &mut Operation> {
    document.paths.paths.values_mut().flat_map(|item| {
        [
            &mut item.get,
            &mut item.put,
            &mut item.post,
            &mut item.delete,
            &mut item.patch,
        ]
        .into_iter()
        .flatten()
    })
}

/// What the JSON extractor answers before a handler runs, for every operation with a body.
fn add_body_errors(operation: &mut Operation) {
    let responses = &mut operation.responses.responses;
    for (status, description) in [
        ("400", "The body is not valid JSON."),
        ("413", "The body is larger than the configured limit."),
        (
            "415",
            "The body is not sent as JSON (`Content-Type: application/json`).",
        ),
        (
            "422",
            "The body's values are invalid; every problem is listed.",
        ),
    ] {
        responses
            .entry(status.to_string())
            .or_insert(RefOr::T(problem_response(description)));
    }
}

/// Operations that have no access rule: refused to everyone at run time; must stay empty.
pub fn operations_without_access_rule() -> Vec<String> {
    let value = serde_json::to_value(document()).unwrap_or_default();
    let mut missing = Vec::new();
    for item in value["paths"]
        .as_object()
        .into_iter()
        .flat_map(|p| p.values())
    {
        for operation in item.as_object().into_iter().flat_map(|o| o.values()) {
            if let Some(id) = operation.get("operationId").and_then(|v| v.as_str()) {
                if crate::auth::access::rule(id).is_none() {
                    missing.push(id.to_string());
                }
            }
        }
    }
    missing
}

fn problem_response(description: &str) -> Response {
    ResponseBuilder::new()
        .description(description)
        .content(
            PROBLEM_JSON,
            ContentBuilder::new()
                .schema(Some(Ref::from_schema_name("Problem")))
                .build(),
        )
        .build()
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
    for operation in operations_mut(document) {
        add_header(operation, &header);
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
