//! The answer for requests no route takes: 405 with `Allow` when the path exists with other
//! methods, else 404. Which methods a path has is read from the OpenAPI document, the same list
//! the routes were registered from.

use std::collections::HashMap;
use std::sync::Arc;

use actix_web::dev::{ResourceDef, ServiceRequest};
use actix_web::{web, HttpMessage, HttpRequest};

use crate::{ApiError, ApiState};

const METHODS: [&str; 8] = [
    "get", "put", "post", "delete", "options", "head", "patch", "trace",
];

/// Path templates of the API with the methods each supports.
pub(crate) struct RouteTable {
    routes: Vec<(ResourceDef, Vec<&'static str>)>,
    /// Path template to the operation id of each of its methods.
    operations: HashMap<String, Vec<(&'static str, Arc<str>)>>,
}

impl RouteTable {
    pub(crate) fn from_openapi(document: &utoipa::openapi::OpenApi) -> Self {
        let value = serde_json::to_value(document).unwrap_or_default();
        let mut operations: HashMap<String, Vec<(&'static str, Arc<str>)>> = HashMap::new();
        for (path, item) in value
            .get("paths")
            .and_then(|p| p.as_object())
            .into_iter()
            .flatten()
        {
            for method in METHODS {
                if let Some(id) = item
                    .get(method)
                    .and_then(|op| op.get("operationId"))
                    .and_then(|id| id.as_str())
                {
                    operations
                        .entry(path.clone())
                        .or_default()
                        .push((upper(method), Arc::from(id)));
                }
            }
        }
        let routes = value
            .get("paths")
            .and_then(|p| p.as_object())
            .map(|paths| {
                paths
                    .iter()
                    .map(|(path, item)| {
                        let methods = METHODS
                            .iter()
                            .filter(|m| item.get(**m).is_some())
                            .map(|m| upper(m))
                            .collect();
                        (ResourceDef::new(path.as_str()), methods)
                    })
                    .collect()
            })
            .unwrap_or_default();
        Self { routes, operations }
    }

    /// The operation registered for `method` on the route template `pattern`.
    pub(crate) fn operation_id(&self, method: &str, pattern: &str) -> Option<&Arc<str>> {
        self.operations
            .get(pattern)?
            .iter()
            .find(|(m, _)| *m == method)
            .map(|(_, id)| id)
    }

    /// The methods of the template-free route that is exactly `path`, when `method` is not one
    /// of them (a concrete path is matched before any template, as OpenAPI says).
    pub(crate) fn concrete_without(&self, method: &str, path: &str) -> Option<&[&'static str]> {
        self.routes
            .iter()
            .find(|(def, _)| !def.is_prefix() && def.pattern() == Some(path) && !path.contains('{'))
            .map(|(_, methods)| methods.as_slice())
            .filter(|methods| !methods.contains(&method))
    }

    /// The methods served at `path`, or `None` when no route has this path.
    pub(crate) fn allowed_methods(&self, path: &str) -> Option<&[&'static str]> {
        self.routes
            .iter()
            .find(|(def, _)| def.is_match(path))
            .map(|(_, methods)| methods.as_slice())
    }
}

/// The route a request matched: found once, by the outermost middleware, and read from the
/// request's extensions by the middlewares inside it (route matching walks every template).
#[derive(Debug, Clone, Default)]
pub(crate) struct MatchedRoute {
    /// The path template (`/api/v1/customers/{id}`); `None` when no route has the path.
    pub(crate) pattern: Option<String>,
    /// The OpenAPI operation of the request's method on that template.
    pub(crate) operation: Option<Arc<str>>,
}

impl MatchedRoute {
    /// Matches `req` against the routes.
    pub(crate) fn find(req: &ServiceRequest) -> Self {
        let pattern = req.match_pattern();
        let operation = pattern.as_deref().and_then(|pattern| {
            req.app_data::<web::Data<ApiState>>().and_then(|state| {
                state
                    .spec
                    .routes
                    .operation_id(req.method().as_str(), pattern)
                    .cloned()
            })
        });
        Self { pattern, operation }
    }

    /// The route `req` matched, as found before (or found now when no middleware did).
    pub(crate) fn of(req: &ServiceRequest) -> Self {
        let found = req.extensions().get::<MatchedRoute>().cloned();
        found.unwrap_or_else(|| Self::find(req))
    }
}

fn upper(method: &str) -> &'static str {
    match method {
        "get" => "GET",
        "put" => "PUT",
        "post" => "POST",
        "delete" => "DELETE",
        "options" => "OPTIONS",
        "head" => "HEAD",
        "patch" => "PATCH",
        _ => "TRACE",
    }
}

/// The app's default service.
pub(crate) async fn no_route(
    req: HttpRequest,
    state: web::Data<ApiState>,
) -> Result<actix_web::HttpResponse, ApiError> {
    Err(match state.spec.routes.allowed_methods(req.path()) {
        Some(methods) => ApiError::method_not_allowed(methods),
        None => ApiError::route_not_found(),
    })
}
