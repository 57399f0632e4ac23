//! Contact endpoints. A contact is reached through its customer: a customer the caller may not
//! see answers 404 for its contacts too.

use actix_web::{delete, get, patch, post, web, HttpRequest, HttpResponse};
use crm_domain::contact_points::Phone;
use crm_domain::custom_fields::FieldEntity;
use crm_domain::ports::ContactFilter;

use super::dto::{ContactBody, ContactDto, ContactList, ContactQuery};
use crate::auth::actor::actor;
use crate::auth::Caller;
use crate::blocking::{blocking, short_read};
use crate::custom_values::{
    check_custom_fields, check_custom_patch, custom_filters, custom_query, together,
};
use crate::extract::ApiJson;
use crate::pagination::{cursor, invalid_query, PageQuery};
use crate::responses::{created, if_match, ok_with_etag};
use crate::{ApiError, ApiState, Problem};

/// Adds a contact to a customer. The first contact becomes the primary one.
///
/// A contact whose normalised phone or email already belongs to another customer (as its own or
/// one of its contacts') is refused with 409 (`existing_id` names that customer when you may see
/// it), unless `allow_duplicate` is `true`.
#[utoipa::path(
    tag = "contacts",
    operation_id = "create_contact",
    summary = "Add a contact",
    params(("id" = uuid::Uuid, Path, description = "The customer's id.")),
    request_body = ContactBody,
    responses(
        (status = 201, description = "Added.", body = ContactDto,
            headers(("Location" = String, description = "The contact's URL."),
                ("ETag" = String, description = "The contact's version."))),
        (status = 404, description = "No such customer, or not one you may see.", body = Problem,
            content_type = "application/problem+json"),
        (status = 409, description = "Another customer has the same phone or email.", body = Problem,
            content_type = "application/problem+json"),
    ),
)]
#[post("/customers/{id}/contacts")]
pub(crate) async fn create_contact(
    state: web::Data<ApiState>,
    caller: Caller,
    id: web::Path<uuid::Uuid>,
    body: ApiJson<ContactBody>,
) -> Result<HttpResponse, ApiError> {
    let mut body = body.0;
    let given = body.custom_fields.take().flatten();
    let patch = body.validate(true, state.config.default_phone_region);
    let custom = check_custom_fields(&state, FieldEntity::Contact, given, None).await?;
    let (patch, custom) = together(patch, custom)?;
    let mut fields = patch.apply(None);
    fields.custom_fields = custom;
    let primary = patch.primary.unwrap_or(false);
    let allow_duplicate = patch.allow_duplicate;
    let actor = actor(&state, &caller.0).await?;
    let store = state.stores.contacts.clone();
    let customer_id = id.to_string();
    let contact = blocking(move || {
        store.create_contact(&actor, &customer_id, fields, primary, allow_duplicate)
    })
    .await?;
    Ok(created(
        format!(
            "/api/v1/customers/{}/contacts/{}",
            contact.customer_id, contact.id
        ),
        contact.version,
        &ContactDto::from(contact),
    ))
}

/// The contacts of one customer, in creation order.
#[utoipa::path(
    tag = "contacts",
    operation_id = "list_customer_contacts",
    summary = "List a customer's contacts",
    params(("id" = uuid::Uuid, Path, description = "The customer's id."), PageQuery),
    responses(
        (status = 200, description = "A page of contacts.", body = ContactList),
        (status = 400, description = "An invalid or unknown query parameter.", body = Problem,
            content_type = "application/problem+json"),
        (status = 404, description = "No such customer, or not one you may see.", body = Problem,
            content_type = "application/problem+json"),
    ),
)]
#[get("/customers/{id}/contacts")]
pub(crate) async fn list_customer_contacts(
    state: web::Data<ApiState>,
    caller: Caller,
    id: web::Path<uuid::Uuid>,
    query: web::Query<PageQuery>,
) -> Result<HttpResponse, ApiError> {
    let filter = ContactFilter {
        customer_id: Some(id.to_string()),
        ..ContactFilter::default()
    };
    list(&state, &caller, filter, query.page()?).await
}

/// Contacts of every customer you may see, in creation order; filtered by customer, part of the
/// name, email or phone.
///
/// Custom fields filter too, as on the customer list: `cf.<key>=value`, `cf.<key>[gte]=value`,
/// `cf.<key>[lte]=value`, `cf.<key>[in]=a,b` and `cf.<key>[contains]=option`. A parameter naming
/// no live contact field, an unknown operator or a value the field cannot hold is a 400 naming
/// the parameter.
#[utoipa::path(
    tag = "contacts",
    operation_id = "list_contacts",
    summary = "List contacts",
    params(ContactQuery),
    responses(
        (status = 200, description = "A page of contacts.", body = ContactList),
        (status = 400, description = "An invalid or unknown query parameter.", body = Problem,
            content_type = "application/problem+json"),
        (status = 404, description = "`customer_id` names no customer you may see.", body = Problem,
            content_type = "application/problem+json"),
    ),
)]
#[get("/contacts")]
pub(crate) async fn list_contacts(
    state: web::Data<ApiState>,
    caller: Caller,
    req: HttpRequest,
) -> Result<HttpResponse, ApiError> {
    let (query, custom) = custom_query::<ContactQuery>(&req)?;
    let page = PageQuery {
        limit: query.limit,
        cursor: query.cursor,
    }
    .page()?;
    for (name, value, max) in [
        ("q", &query.q, 200),
        ("email", &query.email, 254),
        ("phone", &query.phone, 40),
    ] {
        if value
            .as_ref()
            .is_some_and(|v| v.chars().count() > max || v.contains('\0'))
        {
            return Err(invalid_query(
                name,
                "invalid",
                format!("at most {max} characters, without NUL"),
            ));
        }
    }
    // A filter value no contact can have (an impossible number) matches nothing.
    let email = query.email.as_deref().map(|e| e.trim().to_lowercase());
    let phone = query.phone.as_deref().map(|raw| {
        Phone::parse(raw, state.config.default_phone_region, "/query/phone")
            .map_or_else(|_| raw.to_string(), |p| p.normalized)
    });
    let filter = ContactFilter {
        customer_id: query.customer_id.map(|id| id.to_string()),
        q: query.q,
        email,
        phone,
        custom: custom_filters(&state, FieldEntity::Contact, custom).await?,
    };
    list(&state, &caller, filter, page).await
}

async fn list(
    state: &ApiState,
    caller: &Caller,
    filter: ContactFilter,
    page: crm_domain::page::PageRequest,
) -> Result<HttpResponse, ApiError> {
    let actor = actor(state, &caller.0).await?;
    let store = state.stores.contacts.clone();
    let page = blocking(move || store.list_contacts(&actor, &filter, &page)).await?;
    Ok(HttpResponse::Ok().json(ContactList {
        items: page.items.into_iter().map(ContactDto::from).collect(),
        next_cursor: cursor(page.next_after),
    }))
}

/// Reads one contact.
#[utoipa::path(
    tag = "contacts",
    operation_id = "get_contact",
    summary = "Get a contact",
    params(
        ("id" = uuid::Uuid, Path, description = "The customer's id."),
        ("contact_id" = uuid::Uuid, Path, description = "The contact's id."),
    ),
    responses(
        (status = 200, description = "The contact.", body = ContactDto,
            headers(("ETag" = String, description = "The contact's version."))),
        (status = 404, description = "No such customer or contact, or not one you may see.", body = Problem,
            content_type = "application/problem+json"),
    ),
)]
#[get("/customers/{id}/contacts/{contact_id}")]
pub(crate) async fn get_contact(
    state: web::Data<ApiState>,
    caller: Caller,
    path: web::Path<(uuid::Uuid, uuid::Uuid)>,
) -> Result<HttpResponse, ApiError> {
    let (customer_id, contact_id) = path.into_inner();
    let actor = actor(&state, &caller.0).await?;
    let store = state.stores.contacts.clone();
    let contact = short_read(&state, move || {
        store.contact(&actor, &customer_id.to_string(), &contact_id.to_string())
    })
    .await?;
    Ok(ok_with_etag(contact.version, &ContactDto::from(contact)))
}

/// Changes a contact (JSON merge patch). `"primary": true` makes it the primary contact. A
/// changed phone or email that belongs to another customer is refused with 409.
#[utoipa::path(
    tag = "contacts",
    operation_id = "update_contact",
    summary = "Update a contact",
    params(
        ("id" = uuid::Uuid, Path, description = "The customer's id."),
        ("contact_id" = uuid::Uuid, Path, description = "The contact's id."),
        ("If-Match" = Option<String>, Header, description = "The `ETag` you read; refused with 412 if the contact changed since."),
    ),
    request_body(content = ContactBody, content_type = "application/merge-patch+json"),
    responses(
        (status = 200, description = "The changed contact.", body = ContactDto,
            headers(("ETag" = String, description = "The contact's new version."))),
        (status = 404, description = "No such customer or contact, or not one you may see.", body = Problem,
            content_type = "application/problem+json"),
        (status = 409, description = "Another customer has the same phone or email.", body = Problem,
            content_type = "application/problem+json"),
        (status = 412, description = "The contact changed since the `If-Match` version.", body = Problem,
            content_type = "application/problem+json",
            headers(("ETag" = String, description = "The contact's current version."))),
    ),
)]
#[patch("/customers/{id}/contacts/{contact_id}")]
pub(crate) async fn update_contact(
    req: HttpRequest,
    state: web::Data<ApiState>,
    caller: Caller,
    path: web::Path<(uuid::Uuid, uuid::Uuid)>,
    body: ApiJson<ContactBody>,
) -> Result<HttpResponse, ApiError> {
    let mut body = body.0;
    let given = body.custom_fields.take();
    let patch = body.validate(false, state.config.default_phone_region);
    let (customer_id, contact_id) = path.into_inner();
    let (customer_id, contact_id) = (customer_id.to_string(), contact_id.to_string());
    let actor = actor(&state, &caller.0).await?;
    let current = {
        let store = state.stores.contacts.clone();
        let (actor, customer_id, contact_id) =
            (actor.clone(), customer_id.clone(), contact_id.clone());
        blocking(move || store.contact(&actor, &customer_id, &contact_id)).await?
    };
    let custom = check_custom_patch(
        &state,
        FieldEntity::Contact,
        given,
        &current.fields.custom_fields,
    )
    .await?;
    let (patch, custom) = together(patch, custom)?;
    // Bad input is reported before a precondition is judged.
    let expected = if_match(&req)?;
    let mut fields = patch.apply(Some(&current.fields));
    fields.custom_fields = custom;
    let store = state.stores.contacts.clone();
    let version = current.version;
    let contact = blocking(move || {
        store.update_contact(
            &actor,
            &customer_id,
            &contact_id,
            fields,
            patch.primary,
            expected.or(Some(version)),
        )
    })
    .await?;
    Ok(ok_with_etag(contact.version, &ContactDto::from(contact)))
}

/// Removes a contact. When it was the primary contact, the oldest remaining one becomes primary.
#[utoipa::path(
    tag = "contacts",
    operation_id = "delete_contact",
    summary = "Remove a contact",
    params(
        ("id" = uuid::Uuid, Path, description = "The customer's id."),
        ("contact_id" = uuid::Uuid, Path, description = "The contact's id."),
    ),
    responses(
        (status = 204, description = "Removed."),
        (status = 404, description = "No such customer or contact, or not one you may see.", body = Problem,
            content_type = "application/problem+json"),
    ),
)]
#[delete("/customers/{id}/contacts/{contact_id}")]
pub(crate) async fn delete_contact(
    state: web::Data<ApiState>,
    caller: Caller,
    path: web::Path<(uuid::Uuid, uuid::Uuid)>,
) -> Result<HttpResponse, ApiError> {
    let (customer_id, contact_id) = path.into_inner();
    let actor = actor(&state, &caller.0).await?;
    let store = state.stores.contacts.clone();
    blocking(move || {
        store.delete_contact(&actor, &customer_id.to_string(), &contact_id.to_string())
    })
    .await?;
    Ok(HttpResponse::NoContent().finish())
}
