//! Product endpoints: anyone signed in reads the catalogue; admins maintain it.

use actix_web::{get, patch, post, web, HttpRequest, HttpResponse};
use crm_domain::ports::ProductFilter;

use super::dto::{ProductBody, ProductDto, ProductList, ProductQuery};
use crate::blocking::blocking;
use crate::extract::ApiJson;
use crate::pagination::{cursor, invalid_query, PageQuery};
use crate::responses::{created, if_match, ok_with_etag};
use crate::{ApiError, ApiState, Problem};

/// Lists the products, by SKU, filtered by active flag, currency and text.
#[utoipa::path(
    tag = "products",
    operation_id = "list_products",
    summary = "List products",
    params(ProductQuery),
    responses(
        (status = 200, description = "A page of products.", body = ProductList),
        (status = 400, description = "An invalid or unknown query parameter.", body = Problem,
            content_type = "application/problem+json"),
    ),
)]
#[get("/products")]
pub(crate) async fn list_products(
    state: web::Data<ApiState>,
    query: web::Query<ProductQuery>,
) -> Result<HttpResponse, ApiError> {
    let query = query.into_inner();
    let page = PageQuery {
        limit: query.limit,
        cursor: query.cursor,
    }
    .page()?;
    let currency = match query.currency.as_deref() {
        None => None,
        Some(raw) => Some(
            crm_domain::money::check_currency(raw, "/query/currency").map_err(|_| {
                invalid_query(
                    "currency",
                    "invalid_currency",
                    "an ISO 4217 currency code such as CNY".into(),
                )
            })?,
        ),
    };
    if query
        .q
        .as_ref()
        .is_some_and(|q| q.is_empty() || q.chars().count() > 200)
    {
        return Err(invalid_query("q", "invalid", "1 to 200 characters".into()));
    }
    let text = query
        .q
        .map(|q| q.trim().to_string())
        .filter(|q| !q.is_empty());
    let filter = ProductFilter {
        active: query.active,
        currency,
        text,
    };
    let store = state.stores.products.clone();
    let page = blocking(move || store.products(&filter, &page)).await?;
    Ok(HttpResponse::Ok().json(ProductList {
        items: page.items.into_iter().map(ProductDto::from).collect(),
        next_cursor: cursor(page.next_after),
    }))
}

/// Adds a product to the catalogue.
#[utoipa::path(
    tag = "products",
    operation_id = "create_product",
    summary = "Create a product",
    request_body = ProductBody,
    responses(
        (status = 201, description = "Created.", body = ProductDto,
            headers(("Location" = String, description = "The product's URL."),
                ("ETag" = String, description = "The product's version."))),
        (status = 409, description = "Another product has this SKU.", body = Problem,
            content_type = "application/problem+json"),
    ),
)]
#[post("/products")]
pub(crate) async fn create_product(
    state: web::Data<ApiState>,
    body: ApiJson<ProductBody>,
) -> Result<HttpResponse, ApiError> {
    let fields = body.0.validate(None)?;
    let now = state.clock.now();
    let store = state.stores.products.clone();
    let product = blocking(move || store.create_product(fields, now)).await?;
    Ok(created(
        format!("/api/v1/products/{}", product.id),
        product.version,
        &ProductDto::from(product),
    ))
}

/// Reads one product.
#[utoipa::path(
    tag = "products",
    operation_id = "get_product",
    summary = "Get a product",
    params(("id" = uuid::Uuid, Path, description = "The product's id.")),
    responses(
        (status = 200, description = "The product.", body = ProductDto,
            headers(("ETag" = String, description = "The product's version."))),
        (status = 404, description = "No such product.", body = Problem,
            content_type = "application/problem+json"),
    ),
)]
#[get("/products/{id}")]
pub(crate) async fn get_product(
    state: web::Data<ApiState>,
    id: web::Path<uuid::Uuid>,
) -> Result<HttpResponse, ApiError> {
    let store = state.stores.products.clone();
    let product = blocking(move || store.product(&id.to_string())).await?;
    Ok(ok_with_etag(product.version, &ProductDto::from(product)))
}

/// Changes a product (JSON merge patch); `"active": false` stops offering it for new lines.
#[utoipa::path(
    tag = "products",
    operation_id = "update_product",
    summary = "Update a product",
    params(
        ("id" = uuid::Uuid, Path, description = "The product's id."),
        ("If-Match" = Option<String>, Header, description = "The `ETag` you read; refused with 412 if the product changed since."),
    ),
    request_body(content = ProductBody, content_type = "application/merge-patch+json"),
    responses(
        (status = 200, description = "The changed product.", body = ProductDto,
            headers(("ETag" = String, description = "The product's new version."))),
        (status = 404, description = "No such product.", body = Problem,
            content_type = "application/problem+json"),
        (status = 409, description = "Another product has this SKU.", body = Problem,
            content_type = "application/problem+json"),
        (status = 412, description = "The product changed since the `If-Match` version.", body = Problem,
            content_type = "application/problem+json",
            headers(("ETag" = String, description = "The product's current version."))),
    ),
)]
#[patch("/products/{id}")]
pub(crate) async fn update_product(
    req: HttpRequest,
    state: web::Data<ApiState>,
    id: web::Path<uuid::Uuid>,
    body: ApiJson<ProductBody>,
) -> Result<HttpResponse, ApiError> {
    let id = id.to_string();
    let store = state.stores.products.clone();
    let reader = id.clone();
    let current = blocking(move || store.product(&reader)).await?;
    let fields = body.0.validate(Some(&current.fields))?;
    let expected = if_match(&req)?;
    let now = state.clock.now();
    let store = state.stores.products.clone();
    let version = current.version;
    let product =
        blocking(move || store.update_product(&id, fields, expected.or(Some(version)), now))
            .await?;
    Ok(ok_with_etag(product.version, &ProductDto::from(product)))
}
