//! Customer endpoints. Every one applies the caller's visibility: a customer the caller may not
//! see answers 404, exactly like one that does not exist.

use actix_web::{delete, get, patch, post, web, HttpRequest, HttpResponse};
use chrono::Utc;
use crm_domain::custom_fields::{CustomSort, FieldDefinition, FieldEntity, FieldType};
use crm_domain::customers::ContactFields;
use crm_domain::customers::CustomerSort;
use crm_domain::identity::{Principal, Role};
use crm_domain::ports::{CustomerFilter, CustomerOverviewParts, OverviewLimits, OwnershipChange};
use crm_domain::scoring::score;
use crm_domain::{DomainError, FieldError};

use super::dto::{
    AssignBody, CreatedCustomer, CustomerBody, CustomerDto, CustomerHistory, CustomerList,
    CustomerOverview, CustomerQuery, FollowUpSummary, MoneyDto, OpportunitySummary, TimelineEntry,
};
use crate::auth::actor::actor;
use crate::auth::Caller;
use crate::blocking::{blocking, short_read};
use crate::contacts::dto::{ContactBody, ContactDto};
use crate::custom_values::{
    check_against, check_custom_patch, custom_filters, custom_query, together,
};
use crate::extract::ApiJson;
use crate::pagination::{cursor, invalid_query, PageQuery};
use crate::responses::{created, if_match, ok_with_etag};
use crate::scoring::dto::ScoreDto;
use crate::{ApiError, ApiState, Problem};

/// Creates a customer. Only `kind` and `name` are required; everything else can come later.
///
/// A customer whose normalised phone or email matches an existing one is refused with 409
/// (`existing_id` names it when you may see it), unless `allow_duplicate` is `true`. With
/// `contact`, its first contact is added in the same step (both or neither), and the answer
/// holds it as `contact`.
#[utoipa::path(
    tag = "customers",
    operation_id = "create_customer",
    summary = "Create a customer",
    request_body = CustomerBody,
    responses(
        (status = 201, description = "Created.", body = CreatedCustomer,
            headers(("Location" = String, description = "The customer's URL."),
                ("ETag" = String, description = "The customer's version."))),
        (status = 409, description = "A customer with the same phone or email exists.", body = Problem,
            content_type = "application/problem+json"),
    ),
)]
#[post("/customers")]
pub(crate) async fn create_customer(
    state: web::Data<ApiState>,
    caller: Caller,
    body: ApiJson<CustomerBody>,
) -> Result<HttpResponse, ApiError> {
    let mut body = body.0;
    let owner = match body.owner_id.take() {
        Some(owner) => owner,
        None => caller.0.user_id().map(str::to_owned),
    };
    let allow_duplicate = body.allow_duplicate;
    let given = body.custom_fields.take().flatten();
    let contact_body = body.contact.take();
    // What the checks need, read in one hand-off: the live custom fields of a customer (and of
    // a contact when one is given), and the lead sources when one is named.
    let (definitions, sources) = {
        let (custom_fields, lead_sources) = (
            state.stores.custom_fields.clone(),
            state.stores.lead_sources.clone(),
        );
        let entities: &'static [FieldEntity] = match contact_body {
            Some(_) => &[FieldEntity::Customer, FieldEntity::Contact],
            None => &[FieldEntity::Customer],
        };
        let named_source = matches!(body.lead_source, Some(Some(_)));
        blocking(move || {
            let sources = match named_source {
                true => lead_sources.lead_sources(false)?,
                false => Vec::new(),
            };
            Ok((custom_fields.live_definitions(entities)?, sources))
        })
        .await?
    };
    let sources: Vec<String> = sources.into_iter().map(|s| s.key).collect();
    let (customer_fields, contact_fields): (Vec<_>, Vec<_>) = definitions
        .into_iter()
        .partition(|d| d.entity == FieldEntity::Customer);
    let patch = body.validate(
        true,
        state.config.default_phone_region,
        Utc::now().date_naive(),
        &sources,
    );
    let custom = check_against(&state, &customer_fields, given, None).await?;
    let contact = match contact_body {
        Some(contact) => Some(first_contact(&state, &contact_fields, contact).await?),
        None => None,
    };
    let ((patch, custom), contact) = match (together(patch, custom), contact.transpose()) {
        (Ok(checked), Ok(contact)) => (checked, contact),
        (Err(DomainError::Validation(mut errors)), Err(more)) => {
            errors.extend(more);
            return Err(DomainError::Validation(errors).into());
        }
        (Ok(_), Err(errors)) => return Err(DomainError::Validation(errors).into()),
        (Err(e), _) => return Err(e.into()),
    };
    let mut fields = patch.apply(None);
    fields.custom_fields = custom;
    let actor = actor(&state, &caller.0).await?;
    let store = state.stores.customers.clone();
    let (customer, contact) = blocking(move || match contact {
        None => store
            .create_customer(&actor, fields, owner, allow_duplicate)
            .map(|customer| (customer, None)),
        Some(contact) => {
            let contact = contact.reached_through(&fields);
            store
                .create_customer_with_contact(&actor, fields, contact, owner, allow_duplicate)
                .map(|(customer, contact)| (customer, Some(contact)))
        }
    })
    .await?;
    Ok(created(
        format!("/api/v1/customers/{}", customer.id),
        customer.version,
        &CreatedCustomer {
            customer: CustomerDto::from(customer),
            contact: contact.map(ContactDto::from),
        },
    ))
}

/// A first contact given with a new customer, checked as `POST …/contacts` checks a body
/// (problems under `/contact`), except that it is always the primary one and the customer's
/// `allow_duplicate` covers it.
async fn first_contact(
    state: &ApiState,
    definitions: &[FieldDefinition],
    mut body: ContactBody,
) -> Result<Result<ContactFields, Vec<FieldError>>, ApiError> {
    let mut errors = body.first_contact_errors();
    let given = body.custom_fields.take().flatten();
    let patch = body.validate(true, state.config.default_phone_region);
    let custom = check_against(state, definitions, given, None).await?;
    match together(patch, custom) {
        Ok((patch, custom)) if errors.is_empty() => {
            let mut fields = patch.apply(None);
            fields.custom_fields = custom;
            Ok(Ok(fields))
        }
        Ok(_) => Ok(Err(errors)),
        Err(DomainError::Validation(list)) => {
            errors.extend(list.into_iter().map(|e| e.under("/contact")));
            Ok(Err(errors))
        }
        Err(other) => Err(other.into()),
    }
}

/// Lists the customers you may see, filtered, in the requested order (default: creation order).
///
/// Custom fields filter too: `cf.<key>=value` (equal; for a multi-select, has the option),
/// `cf.<key>[gte]=value` and `cf.<key>[lte]=value` (numbers, money in minor units, dates,
/// instants, text), `cf.<key>[in]=a,b`, and `cf.<key>[contains]=option` for multi-selects.
/// Values are written as in the field's type (`true`/`false`, `2026-06-30`, `150.25`). A
/// parameter naming no live field, an unknown operator or a value the field cannot hold is a 400
/// naming the parameter.
#[utoipa::path(
    tag = "customers",
    operation_id = "list_customers",
    summary = "List customers",
    params(CustomerQuery),
    responses(
        (status = 200, description = "A page of customers.", body = CustomerList),
        (status = 400, description = "An invalid or unknown query parameter.", body = Problem,
            content_type = "application/problem+json"),
        (status = 403, description = "`include_deleted` is for admins only.", body = Problem,
            content_type = "application/problem+json"),
    ),
)]
#[get("/customers")]
pub(crate) async fn list_customers(
    req: HttpRequest,
    state: web::Data<ApiState>,
    caller: Caller,
) -> Result<HttpResponse, ApiError> {
    let (query, custom) = custom_query::<CustomerQuery>(&req)?;
    query.check()?;
    let custom = custom_filters(&state, FieldEntity::Customer, custom).await?;
    let page = PageQuery {
        limit: query.limit,
        cursor: query.cursor,
    }
    .page()?;
    let (sort, custom_sort) = sort_of(&state, query.sort.as_deref()).await?;
    let cursor_fits = |after: &str| match &custom_sort {
        Some(custom) => custom.decode_position(after).is_some(),
        None => sort.decode_position(after).is_some(),
    };
    if page
        .after
        .as_deref()
        .is_some_and(|after| !cursor_fits(after))
    {
        return Err(invalid_query(
            "cursor",
            "invalid",
            "not a cursor this API issued for this sort order".into(),
        ));
    }
    let include_deleted = query.include_deleted.unwrap_or(false);
    if include_deleted {
        caller.0.require_role(&[Role::Admin])?;
    }
    let filter = CustomerFilter {
        owner_id: query.owner_id.map(|id| id.to_string()),
        kind: query.kind.map(Into::into),
        status: query.status.map(Into::into),
        pool: query.pool,
        include_deleted,
        q: query.q,
        lead_source: query.lead_source,
        tag: query.tag,
        created_after: query.created_after,
        created_before: query.created_before,
        updated_after: query.updated_after,
        updated_before: query.updated_before,
        sort,
        custom,
        custom_sort,
    };
    let actor = actor(&state, &caller.0).await?;
    let store = state.stores.customers.clone();
    let page = blocking(move || store.list_customers(&actor, &filter, &page)).await?;
    Ok(HttpResponse::Ok().json(CustomerList {
        items: page.items.into_iter().map(CustomerDto::from).collect(),
        next_cursor: cursor(page.next_after),
    }))
}

/// Reads one customer.
#[utoipa::path(
    tag = "customers",
    operation_id = "get_customer",
    summary = "Get a customer",
    params(("id" = uuid::Uuid, Path, description = "The customer's id.")),
    responses(
        (status = 200, description = "The customer.", body = CustomerDto,
            headers(("ETag" = String, description = "The customer's version."))),
        (status = 404, description = "No such customer, or not one you may see.", body = Problem,
            content_type = "application/problem+json"),
    ),
)]
#[get("/customers/{id}")]
pub(crate) async fn get_customer(
    state: web::Data<ApiState>,
    caller: Caller,
    id: web::Path<uuid::Uuid>,
) -> Result<HttpResponse, ApiError> {
    let actor = actor(&state, &caller.0).await?;
    let store = state.stores.customers.clone();
    let customer = short_read(&state, move || store.customer(&actor, &id.to_string())).await?;
    Ok(ok_with_etag(customer.version, &CustomerDto::from(customer)))
}

/// Changes a customer (JSON merge patch: fields left out stay, `null` clears an optional
/// field). Every changed field is recorded in the history. The owner changes only through
/// claim, release and assign.
#[utoipa::path(
    tag = "customers",
    operation_id = "update_customer",
    summary = "Update a customer",
    params(
        ("id" = uuid::Uuid, Path, description = "The customer's id."),
        ("If-Match" = Option<String>, Header, description = "The `ETag` you read; refused with 412 if the customer changed since."),
    ),
    request_body(content = CustomerBody, content_type = "application/merge-patch+json"),
    responses(
        (status = 200, description = "The changed customer.", body = CustomerDto,
            headers(("ETag" = String, description = "The customer's new version."))),
        (status = 404, description = "No such customer, or not one you may see.", body = Problem,
            content_type = "application/problem+json"),
        (status = 409, description = "The new phone or email belongs to another customer.", body = Problem,
            content_type = "application/problem+json"),
        (status = 412, description = "The customer changed since the `If-Match` version.", body = Problem,
            content_type = "application/problem+json",
            headers(("ETag" = String, description = "The customer's current version."))),
    ),
)]
#[patch("/customers/{id}")]
pub(crate) async fn update_customer(
    req: HttpRequest,
    state: web::Data<ApiState>,
    caller: Caller,
    id: web::Path<uuid::Uuid>,
    body: ApiJson<CustomerBody>,
) -> Result<HttpResponse, ApiError> {
    let mut body = body.0;
    let sources = active_lead_sources(&state, &body.lead_source).await?;
    let given = body.custom_fields.take();
    let patch = body.validate(
        false,
        state.config.default_phone_region,
        Utc::now().date_naive(),
        &sources,
    );
    let actor = actor(&state, &caller.0).await?;
    let id = id.to_string();
    let current = {
        let store = state.stores.customers.clone();
        let (actor, id) = (actor.clone(), id.clone());
        blocking(move || store.customer(&actor, &id)).await?
    };
    let custom = check_custom_patch(
        &state,
        FieldEntity::Customer,
        given,
        &current.fields.custom_fields,
    )
    .await?;
    let (patch, custom) = together(patch, custom)?;
    // Bad input is reported before a precondition is judged.
    let expected = if_match(&req)?;
    let mut fields = patch.apply(Some(&current.fields));
    fields.custom_fields = custom;
    let store = state.stores.customers.clone();
    let version = current.version;
    let customer =
        blocking(move || store.update_customer(&actor, &id, fields, expected.or(Some(version))))
            .await?;
    Ok(ok_with_etag(customer.version, &CustomerDto::from(customer)))
}

/// Deletes a customer (soft: it disappears from reads and lists; its history stays).
#[utoipa::path(
    tag = "customers",
    operation_id = "delete_customer",
    summary = "Delete a customer",
    params(("id" = uuid::Uuid, Path, description = "The customer's id.")),
    responses(
        (status = 204, description = "Deleted."),
        (status = 404, description = "No such customer, or not one you may see.", body = Problem,
            content_type = "application/problem+json"),
    ),
)]
#[delete("/customers/{id}")]
pub(crate) async fn delete_customer(
    state: web::Data<ApiState>,
    caller: Caller,
    id: web::Path<uuid::Uuid>,
) -> Result<HttpResponse, ApiError> {
    let actor = actor(&state, &caller.0).await?;
    let store = state.stores.customers.clone();
    blocking(move || store.delete_customer(&actor, &id.to_string())).await?;
    Ok(HttpResponse::NoContent().finish())
}

/// Brings a deleted customer back, with its history.
#[utoipa::path(
    tag = "customers",
    operation_id = "restore_customer",
    summary = "Restore a deleted customer",
    params(("id" = uuid::Uuid, Path, description = "The customer's id.")),
    responses(
        (status = 200, description = "Restored.", body = CustomerDto,
            headers(("ETag" = String, description = "The customer's new version."))),
        (status = 404, description = "No such customer.", body = Problem,
            content_type = "application/problem+json"),
        (status = 409, description = "The customer is not deleted.", body = Problem,
            content_type = "application/problem+json"),
    ),
)]
#[post("/customers/{id}/restore")]
pub(crate) async fn restore_customer(
    state: web::Data<ApiState>,
    caller: Caller,
    id: web::Path<uuid::Uuid>,
) -> Result<HttpResponse, ApiError> {
    let actor = actor(&state, &caller.0).await?;
    let store = state.stores.customers.clone();
    let customer = blocking(move || store.restore_customer(&actor, &id.to_string())).await?;
    Ok(ok_with_etag(customer.version, &CustomerDto::from(customer)))
}

async fn change_owner(
    state: &ApiState,
    caller: &Caller,
    id: uuid::Uuid,
    change: OwnershipChange,
) -> Result<HttpResponse, ApiError> {
    let actor = actor(state, &caller.0).await?;
    let store = state.stores.customers.clone();
    let customer = blocking(move || store.change_owner(&actor, &id.to_string(), change)).await?;
    Ok(ok_with_etag(customer.version, &CustomerDto::from(customer)))
}

fn acting_user(caller: &Caller) -> Result<String, ApiError> {
    match &caller.0 {
        Principal::User { user_id, .. } => Ok(user_id.clone()),
        Principal::ApiKey { .. } => Err(DomainError::Forbidden.into()),
    }
}

/// Takes a customer from the shared pool. A rep may own at most the configured number of
/// customers (`CRM_POOL_CLAIM_LIMIT`).
#[utoipa::path(
    tag = "customers",
    operation_id = "claim_customer",
    summary = "Claim a pool customer",
    params(("id" = uuid::Uuid, Path, description = "The customer's id.")),
    responses(
        (status = 200, description = "Now yours.", body = CustomerDto,
            headers(("ETag" = String, description = "The customer's new version."))),
        (status = 404, description = "No such customer, or not one you may see.", body = Problem,
            content_type = "application/problem+json"),
        (status = 409, description = "Not in the pool (`not_in_pool`), or you own the most customers allowed (`claim_limit`).",
            body = Problem, content_type = "application/problem+json"),
    ),
)]
#[post("/customers/{id}/claim")]
pub(crate) async fn claim_customer(
    state: web::Data<ApiState>,
    caller: Caller,
    id: web::Path<uuid::Uuid>,
) -> Result<HttpResponse, ApiError> {
    let change = OwnershipChange::Claim {
        user_id: acting_user(&caller)?,
        limit: state.config.pool_claim_limit,
    };
    change_owner(&state, &caller, id.into_inner(), change).await
}

/// Returns a customer to the shared pool.
#[utoipa::path(
    tag = "customers",
    operation_id = "release_customer",
    summary = "Release a customer to the pool",
    params(("id" = uuid::Uuid, Path, description = "The customer's id.")),
    responses(
        (status = 200, description = "Now in the pool.", body = CustomerDto,
            headers(("ETag" = String, description = "The customer's new version."))),
        (status = 404, description = "No such customer, or not one you may see.", body = Problem,
            content_type = "application/problem+json"),
        (status = 409, description = "Already in the pool.", body = Problem,
            content_type = "application/problem+json"),
    ),
)]
#[post("/customers/{id}/release")]
pub(crate) async fn release_customer(
    state: web::Data<ApiState>,
    caller: Caller,
    id: web::Path<uuid::Uuid>,
) -> Result<HttpResponse, ApiError> {
    change_owner(&state, &caller, id.into_inner(), OwnershipChange::Release).await
}

/// Gives a customer to a user (managers: a member of a team they manage, or themselves).
#[utoipa::path(
    tag = "customers",
    operation_id = "assign_customer",
    summary = "Assign a customer",
    params(("id" = uuid::Uuid, Path, description = "The customer's id.")),
    request_body = AssignBody,
    responses(
        (status = 200, description = "Assigned.", body = CustomerDto,
            headers(("ETag" = String, description = "The customer's new version."))),
        (status = 404, description = "No such customer, or not one you may see.", body = Problem,
            content_type = "application/problem+json"),
    ),
)]
#[post("/customers/{id}/assign")]
pub(crate) async fn assign_customer(
    state: web::Data<ApiState>,
    caller: Caller,
    id: web::Path<uuid::Uuid>,
    body: ApiJson<AssignBody>,
) -> Result<HttpResponse, ApiError> {
    let change = OwnershipChange::Assign {
        owner_id: body.0.owner_id.to_string(),
    };
    change_owner(&state, &caller, id.into_inner(), change).await
}

/// The 360° view of a customer.
///
/// The record, its contacts (primary first, at most 50), the latest 20 activities, the open
/// opportunities (latest changed first, at most 50), the pending follow-ups (soonest first, at
/// most 20), the score with its breakdown at this moment and the days since the last contact,
/// read together with a fixed number of queries.
#[utoipa::path(
    tag = "customers",
    operation_id = "get_customer_overview",
    summary = "A customer's 360° overview",
    params(("id" = uuid::Uuid, Path, description = "The customer's id.")),
    responses(
        (status = 200, description = "The overview.", body = CustomerOverview,
            headers(("ETag" = String, description = "The customer's version."))),
        (status = 404, description = "No such customer, or not one you may see.", body = Problem,
            content_type = "application/problem+json"),
    ),
)]
#[get("/customers/{id}/overview")]
pub(crate) async fn get_customer_overview(
    state: web::Data<ApiState>,
    caller: Caller,
    id: web::Path<uuid::Uuid>,
) -> Result<HttpResponse, ApiError> {
    let actor = actor(&state, &caller.0).await?;
    let store = state.stores.customers.clone();
    let limits = OverviewLimits {
        contacts: 50,
        activities: 20,
        opportunities: 50,
    };
    let parts = short_read(&state, move || {
        store.customer_overview(&actor, &id.to_string(), limits)
    })
    .await?;
    let CustomerOverviewParts {
        customer,
        contacts,
        recent_activities: recent,
        pending_follow_ups: open,
        open_opportunities: open_deals,
        pipelines,
        recorded_behaviors,
        half_life_days,
        behaviors,
    } = parts;
    let open_opportunities = open_deals
        .into_iter()
        .map(|o| {
            let stage = pipelines
                .iter()
                .flat_map(|p| p.stages.iter())
                .find(|s| s.id == o.stage_id);
            OpportunitySummary {
                id: o.id,
                name: o.name,
                stage_name: stage.map(|s| s.fields.name.clone()).unwrap_or_default(),
                probability: stage.map_or(0, |s| s.fields.probability),
                stage_id: o.stage_id,
                amount: MoneyDto {
                    amount_minor: o.amount,
                    currency: o.currency,
                },
                expected_close_on: o.expected_close_on,
            }
        })
        .collect();
    let now = state.clock.now();
    let score = ScoreDto::of(
        score(&recorded_behaviors, now, half_life_days),
        half_life_days,
        now,
        &behaviors,
    );
    let days_since_last_contact = customer
        .last_activity_at
        .map(|at| (now - at).num_days().max(0));
    let version = customer.version;
    Ok(ok_with_etag(
        version,
        &CustomerOverview {
            customer: customer.into(),
            contacts: contacts.into_iter().map(Into::into).collect(),
            timeline: recent
                .into_iter()
                .map(|a| TimelineEntry {
                    id: a.id,
                    kind: a.fields.kind.as_str().to_string(),
                    occurred_at: a.fields.occurred_at,
                    subject: Some(a.fields.subject),
                    author_id: a.author_id,
                })
                .collect(),
            open_opportunities,
            pending_follow_ups: open
                .into_iter()
                .filter_map(|a| {
                    let follow_up = a.follow_up?;
                    Some(FollowUpSummary {
                        id: a.id,
                        due_at: follow_up.due_at,
                        note: follow_up.note,
                        owner_id: a.author_id,
                    })
                })
                .collect(),
            score,
            days_since_last_contact,
        },
    ))
}

/// Who changed what and when: every change to the customer, newest first.
#[utoipa::path(
    tag = "customers",
    operation_id = "list_customer_history",
    summary = "A customer's history",
    params(("id" = uuid::Uuid, Path, description = "The customer's id."), PageQuery),
    responses(
        (status = 200, description = "A page of events.", body = CustomerHistory),
        (status = 400, description = "An invalid or unknown query parameter.", body = Problem,
            content_type = "application/problem+json"),
        (status = 404, description = "No such customer, or not one you may see.", body = Problem,
            content_type = "application/problem+json"),
    ),
)]
#[get("/customers/{id}/history")]
pub(crate) async fn list_customer_history(
    state: web::Data<ApiState>,
    caller: Caller,
    id: web::Path<uuid::Uuid>,
    query: web::Query<PageQuery>,
) -> Result<HttpResponse, ApiError> {
    let page = query.page()?;
    let actor = actor(&state, &caller.0).await?;
    let store = state.stores.customers.clone();
    let page = blocking(move || store.customer_history(&actor, &id.to_string(), &page)).await?;
    Ok(HttpResponse::Ok().json(CustomerHistory {
        items: page.items.into_iter().map(Into::into).collect(),
        next_cursor: cursor(page.next_after),
    }))
}

/// The keys of the active lead sources, read only when the body names a source.
async fn active_lead_sources(
    state: &ApiState,
    lead_source: &Option<Option<String>>,
) -> Result<Vec<String>, ApiError> {
    if !matches!(lead_source, Some(Some(_))) {
        return Ok(Vec::new());
    }
    let store = state.stores.lead_sources.clone();
    let sources = blocking(move || store.lead_sources(false)).await?;
    Ok(sources.into_iter().map(|s| s.key).collect())
}

/// The order `sort` names: a built-in one, or a custom field's (which must be a live field of a
/// type with an order). 400 naming `sort` otherwise.
async fn sort_of(
    state: &ApiState,
    sort: Option<&str>,
) -> Result<(CustomerSort, Option<CustomSort>), ApiError> {
    let Some(raw) = sort else {
        return Ok((CustomerSort::default(), None));
    };
    let bad = |message: &str| invalid_query("sort", "invalid", message.to_string());
    let (descending, name) = match raw.strip_prefix('-') {
        Some(name) => (true, name),
        None => (false, raw),
    };
    let Some(key) = name.strip_prefix("cf.") else {
        return CustomerSort::parse(raw)
            .map(|sort| (sort, None))
            .ok_or_else(|| bad("not a sort order of customers"));
    };
    let store = state.stores.custom_fields.clone();
    let definitions =
        blocking(move || store.field_definitions(FieldEntity::Customer, false)).await?;
    let definition = definitions
        .into_iter()
        .find(|d| d.key == key)
        .ok_or_else(|| bad("no such custom field"))?;
    if definition.field_type == FieldType::MultiSelect {
        return Err(bad("multi_select fields have no order"));
    }
    Ok((
        CustomerSort::default(),
        Some(CustomSort {
            numeric: definition.field_type.is_numeric(),
            field_id: definition.id,
            key: definition.key,
            descending,
        }),
    ))
}
