//! `POST /customers/batch`: up to 500 customers (each with an optional first contact) created or
//! upserted in one call, each item checked exactly like a single create, with a result per item.

use actix_web::{post, web, HttpResponse};
use crm_domain::imports::{MatchKey, OnMatch, RowOutcome};
use crm_domain::ports::BatchLead;
use crm_domain::{DomainError, FieldError};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use utoipa::ToSchema;

use super::dto::CustomerDto;
use crate::auth::actor::actor;
use crate::auth::Caller;
use crate::blocking::blocking;
use crate::extract::ApiJson;
use crate::imports::engine::rules;
use crate::imports::rows::check_lead;
use crate::{ApiError, ApiState, ProblemFieldError};

/// Most items per call.
pub(crate) const BATCH_MAX: usize = 500;

/// `create` or `upsert`.
#[derive(Debug, Clone, Copy, Default, Deserialize, Serialize, ToSchema, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub(crate) enum BatchMode {
    /// Each item is a create: a customer with the same phone or email is a 409 for that item,
    /// unless the item says `allow_duplicate`.
    #[default]
    Create,
    /// An item matching a customer you can see changes it (see `on_match`); others are created.
    Upsert,
}

/// What an upserted item does to the customer it matches.
#[derive(Debug, Clone, Copy, Default, Deserialize, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub(crate) enum UpsertMatch {
    /// Write every value the item has over the customer's.
    #[default]
    Overwrite,
    /// Fill only the customer's empty fields.
    UpdateEmptyFields,
    /// Leave the customer as it is.
    Skip,
}

/// A value an item is matched on.
#[derive(Debug, Clone, Copy, Deserialize, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub(crate) enum MatchKeyDto {
    /// Normalised email (the customer's own or a contact's).
    Email,
    /// Normalised phone.
    Phone,
    /// The customer's id in another system.
    ExternalId,
}

/// A batch of customers.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"mode": "upsert", "items": [
    {"kind": "company", "name": "上海星辰科技", "phone": "138 1234 5678",
     "contact": {"name": "王芳", "title": "采购经理"}},
    {"kind": "individual", "name": "李雷", "email": "li.lei@example.com", "owner_id": null}
]}))]
pub(crate) struct BatchBody {
    /// 1 to 500 customers, each a customer create body (`CustomerBody`, with its optional
    /// first `contact`; `owner_id` is the new customer's owner, `null` for the pool;
    /// `allow_duplicate` applies in `create` mode). Items are checked one by one: an item that
    /// is not a valid body is that item's 422 in the answer, not a refusal of the batch.
    #[schema(value_type = Vec<serde_json::Value>, min_items = 1, max_items = 500)]
    pub items: Vec<Value>,
    /// `create` (default) or `upsert`.
    #[serde(default)]
    pub mode: BatchMode,
    /// Upsert: what finds an existing customer (default email and phone).
    #[serde(default)]
    #[schema(max_items = 3)]
    pub match_on: Option<Vec<MatchKeyDto>>,
    /// Upsert: what a match does (default `overwrite`).
    #[serde(default)]
    pub on_match: UpsertMatch,
    /// All or nothing: if any item is refused, none is written and the answer is a 422 listing
    /// every problem under `/items/<i>`.
    #[serde(default)]
    pub atomic: bool,
}

/// What became of one item.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct BatchItemResult {
    /// The item's position in `items`.
    pub index: usize,
    /// As the single request would answer: 201 created, 200 updated or unchanged, 409 a
    /// duplicate, 422 invalid.
    pub status: u16,
    /// `created`, `updated`, `unchanged` or `failed`.
    #[schema(pattern = "^(created|updated|unchanged|failed)$")]
    pub outcome: String,
    /// The customer as stored (also for an unchanged match).
    pub customer: Option<CustomerDto>,
    /// Why it failed: `validation_failed` or `duplicate_customer`.
    pub code: Option<String>,
    /// For a duplicate: the existing customer, when you may see it.
    #[schema(format = "uuid")]
    pub existing_id: Option<String>,
    /// Every problem of the item, with pointers into the request (`/items/3/email`).
    pub errors: Vec<ProblemFieldError>,
}

/// The result of each item, in order.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct BatchResult {
    /// One per item.
    pub results: Vec<BatchItemResult>,
}

fn failed(index: usize, status: u16, code: &str, errors: Vec<FieldError>) -> BatchItemResult {
    BatchItemResult {
        index,
        status,
        outcome: "failed".into(),
        customer: None,
        code: Some(code.into()),
        existing_id: None,
        errors: errors.into_iter().map(ProblemFieldError::from).collect(),
    }
}

/// Creates or upserts up to 500 customers, each with an optional first contact.
///
/// Every item is checked exactly like `POST /api/v1/customers` (plus `contact` like
/// `POST …/contacts`) and written in its own step: the answer is 207 with each item's status
/// and customer, or its problems with pointers into this request. With `atomic`, one refused
/// item writes nothing and the answer is 422. Reps may own only their own customers or put
/// them in the pool. `Idempotency-Key` replays the first answer.
#[utoipa::path(
    tag = "customers",
    operation_id = "create_customer_batch",
    summary = "Create or upsert customers in a batch",
    request_body = BatchBody,
    responses(
        (status = 207, description = "Each item's result.", body = BatchResult),
        (status = 422, description = "The batch is malformed (no items, more than 500), or `atomic` and an item was refused.",
            body = crate::Problem, content_type = "application/problem+json"),
    ),
)]
#[post("/customers/batch")]
pub(crate) async fn create_customer_batch(
    state: web::Data<ApiState>,
    caller: Caller,
    body: ApiJson<BatchBody>,
) -> Result<HttpResponse, ApiError> {
    let body = body.0;
    if body.items.is_empty() || body.items.len() > BATCH_MAX {
        return Err(DomainError::invalid(
            "/items",
            "batch_size",
            format!("1 to {BATCH_MAX} items"),
        )
        .into());
    }
    let match_on: Vec<MatchKey> = match &body.match_on {
        None => vec![MatchKey::Email, MatchKey::Phone],
        Some(keys) => keys
            .iter()
            .map(|k| match k {
                MatchKeyDto::Email => MatchKey::Email,
                MatchKeyDto::Phone => MatchKey::Phone,
                MatchKeyDto::ExternalId => MatchKey::ExternalId,
            })
            .collect(),
    };
    let upsert = match body.on_match {
        UpsertMatch::Overwrite => OnMatch::Overwrite,
        UpsertMatch::UpdateEmptyFields => OnMatch::UpdateEmptyFields,
        UpsertMatch::Skip => OnMatch::Skip,
    };
    let caller_id = caller.0.user_id().map(str::to_owned);
    let checker = state.clone();
    let items = body.items;
    let mode = body.mode;
    let checked = blocking(move || {
        let rules = rules(&checker)?;
        Ok(items
            .into_iter()
            .map(|item| {
                let Value::Object(mut item) = item else {
                    return Err(vec![FieldError::new("", "invalid_type", "not an object")]);
                };
                let owner = match item.remove("owner_id") {
                    None => caller_id.clone(),
                    Some(Value::Null) => None,
                    Some(Value::String(id)) => Some(id),
                    Some(_) => {
                        return Err(vec![FieldError::new(
                            "/owner_id",
                            "invalid_type",
                            "a user id or null",
                        )])
                    }
                };
                let allow_duplicate = match item.remove("allow_duplicate") {
                    None | Some(Value::Bool(false)) => false,
                    Some(Value::Bool(true)) => true,
                    Some(_) => {
                        return Err(vec![FieldError::new(
                            "/allow_duplicate",
                            "invalid_type",
                            "true or false",
                        )])
                    }
                };
                let on_match = match (mode, allow_duplicate) {
                    (BatchMode::Upsert, _) => upsert,
                    (BatchMode::Create, true) => OnMatch::CreateAnyway,
                    (BatchMode::Create, false) => OnMatch::Refuse,
                };
                check_lead(item, Vec::new(), &rules, None)
                    .map(|lead| BatchLead {
                        lead,
                        owner_id: owner,
                        on_match,
                    })
                    .map_err(|errors| {
                        errors
                            .into_iter()
                            .map(|e| FieldError::new(e.pointer, e.code, e.message))
                            .collect()
                    })
            })
            .collect::<Vec<_>>())
    })
    .await?;
    let under = |i: usize, errors: &[FieldError]| -> Vec<FieldError> {
        errors
            .iter()
            .map(|e| FieldError::new(format!("/items/{i}{}", e.pointer), &e.code, &e.message))
            .collect()
    };
    if body.atomic && checked.iter().any(Result::is_err) {
        let errors = checked
            .iter()
            .enumerate()
            .filter_map(|(i, c)| c.as_ref().err().map(|e| under(i, e)))
            .flatten()
            .collect();
        return Err(DomainError::Validation(errors).into());
    }
    let actor = actor(&state, &caller.0).await?;
    let valid: Vec<(usize, BatchLead)> = checked
        .iter()
        .enumerate()
        .filter_map(|(i, c)| c.as_ref().ok().map(|lead| (i, lead.clone())))
        .collect();
    let positions: Vec<usize> = valid.iter().map(|(i, _)| *i).collect();
    let store = state.stores.customers.clone();
    let written = blocking(move || {
        store.write_leads(
            &actor,
            valid.into_iter().map(|(_, lead)| lead).collect(),
            &match_on,
            body.atomic,
        )
    })
    .await?;
    let mut results: Vec<BatchItemResult> = checked
        .iter()
        .enumerate()
        .filter_map(|(i, c)| {
            c.as_ref()
                .err()
                .map(|e| failed(i, 422, "validation_failed", under(i, e)))
        })
        .collect();
    for (index, outcome) in positions.into_iter().zip(written) {
        results.push(match outcome {
            Ok((outcome, customer)) => BatchItemResult {
                index,
                status: if outcome == RowOutcome::Created {
                    201
                } else {
                    200
                },
                outcome: match outcome {
                    RowOutcome::Created => "created",
                    RowOutcome::Updated => "updated",
                    RowOutcome::Skipped | RowOutcome::Failed => "unchanged",
                }
                .into(),
                customer: Some(CustomerDto::from(customer)),
                code: None,
                existing_id: None,
                errors: Vec::new(),
            },
            Err(DomainError::Duplicate { existing_id, .. }) => BatchItemResult {
                existing_id,
                ..failed(
                    index,
                    409,
                    "duplicate_customer",
                    vec![FieldError::new(
                        format!("/items/{index}"),
                        "duplicate_customer",
                        "a customer with the same phone or email exists",
                    )],
                )
            },
            Err(DomainError::Validation(errors)) => {
                failed(index, 422, "validation_failed", under(index, &errors))
            }
            Err(other) => return Err(other.into()),
        });
    }
    results.sort_by_key(|r| r.index);
    Ok(HttpResponse::MultiStatus().json(BatchResult { results }))
}
