//! Merging duplicate customers: `POST /customers/merges` (with `dry_run` to preview), reading a
//! merge, and undoing it within 30 days.

use std::collections::{BTreeMap, HashSet};

use actix_web::http::header;
use actix_web::{get, post, web, HttpResponse};
use chrono::{DateTime, Utc};
use crm_domain::merges::{Merge, DUPLICATES_MAX};
use crm_domain::{DomainError, FieldError};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::dto::CustomerDto;
use crate::auth::actor::actor;
use crate::auth::Caller;
use crate::blocking::blocking;
use crate::extract::ApiJson;
use crate::{ApiError, ApiState, Problem};

/// Which customers to merge, and which value each field keeps.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({
    "survivor_id": "01936f0e-9c2d-7e3f-8a4b-5c6d7e8f9a0b",
    "duplicate_ids": ["01936f0e-aaaa-7e3f-8a4b-5c6d7e8f9a0b"],
    "fields": {"name": "01936f0e-aaaa-7e3f-8a4b-5c6d7e8f9a0b"},
    "dry_run": true
}))]
pub(crate) struct MergeBody {
    /// The customer that remains.
    #[schema(format = "uuid")]
    pub survivor_id: String,
    /// The customers merged into it (1 to 10, each once, not the survivor); they are deleted
    /// and their contacts, activities, follow-ups and opportunities move to the survivor.
    #[schema(min_items = 1, max_items = 10)]
    pub duplicate_ids: Vec<String>,
    /// Per field (`name`, `phone`, `industry`, …, `tags`, `custom_fields.<key>`), the id of the
    /// customer whose value the survivor keeps, empty included. Fields not named keep the
    /// survivor's value, or the first duplicate's where the survivor has none; tags and custom
    /// values are combined.
    #[serde(default)]
    pub fields: BTreeMap<String, String>,
    /// Answer what the merge would do, changing nothing.
    #[serde(default)]
    pub dry_run: bool,
}

/// How many records moved.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct MovedDto {
    /// Contacts.
    pub contacts: usize,
    /// Activities, follow-ups included.
    pub activities: usize,
    /// Follow-ups still pending among them.
    pub follow_ups: i64,
    /// Opportunities.
    pub opportunities: usize,
}

/// A merge.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct MergeDto {
    /// The merge's id; `null` in a dry run.
    #[schema(format = "uuid")]
    pub id: Option<String>,
    /// Nothing was changed.
    pub dry_run: bool,
    /// The survivor after the merge (now, for a recorded merge).
    pub survivor: CustomerDto,
    /// The merged customers.
    pub duplicate_ids: Vec<String>,
    /// What moved to the survivor.
    pub moved: MovedDto,
    /// Who merged.
    #[schema(format = "uuid")]
    pub merged_by: String,
    /// When.
    pub merged_at: DateTime<Utc>,
    /// Until when `POST …/undo` works.
    pub undo_until: DateTime<Utc>,
    /// When it was undone.
    pub undone_at: Option<DateTime<Utc>>,
}

impl MergeDto {
    fn of(merge: Merge, dry_run: bool) -> Self {
        Self {
            undo_until: merge.undo_until(),
            id: merge.id,
            dry_run,
            survivor: CustomerDto::from(merge.survivor),
            duplicate_ids: merge.duplicate_ids,
            moved: MovedDto {
                contacts: merge.moved.contacts.len(),
                activities: merge.moved.activities.len(),
                follow_ups: merge.moved.follow_ups,
                opportunities: merge.moved.opportunities.len(),
            },
            merged_by: merge.merged_by,
            merged_at: merge.merged_at,
            undone_at: merge.undone_at,
        }
    }
}

/// Every problem with the ids of a merge body.
fn check_ids(body: &MergeBody) -> Result<(), DomainError> {
    let mut errors = Vec::new();
    let is_id = |id: &str| uuid::Uuid::parse_str(id).is_ok();
    if !is_id(&body.survivor_id) {
        errors.push(FieldError::new(
            "/survivor_id",
            "invalid",
            "not a customer id",
        ));
    }
    if body.duplicate_ids.is_empty() || body.duplicate_ids.len() > DUPLICATES_MAX {
        errors.push(FieldError::new(
            "/duplicate_ids",
            "count",
            format!("1 to {DUPLICATES_MAX} customers"),
        ));
    }
    let mut seen = HashSet::new();
    for (i, id) in body.duplicate_ids.iter().enumerate() {
        let pointer = format!("/duplicate_ids/{i}");
        if !is_id(id) {
            errors.push(FieldError::new(pointer, "invalid", "not a customer id"));
        } else if id == &body.survivor_id {
            errors.push(FieldError::new(
                pointer,
                "is_survivor",
                "the survivor itself",
            ));
        } else if !seen.insert(id.as_str()) {
            errors.push(FieldError::new(pointer, "repeated", "named twice"));
        }
    }
    if errors.is_empty() {
        Ok(())
    } else {
        Err(DomainError::Validation(errors))
    }
}

/// Merges duplicate customers into a survivor.
///
/// The survivor keeps its values (empty ones filled from the duplicates; `fields` picks another
/// customer's value per field), the duplicates' contacts, activities, follow-ups and
/// opportunities move to it, and the duplicates are deleted. The merge is recorded in every
/// customer's history and can be undone for 30 days. Every customer must be one you may see
/// (else 404). `dry_run` answers 200 with the would-be survivor and what would move.
#[utoipa::path(
    tag = "customers",
    operation_id = "create_customer_merge",
    summary = "Merge duplicate customers",
    request_body = MergeBody,
    responses(
        (status = 201, description = "Merged.", body = MergeDto,
            headers(("Location" = String, description = "The merge's URL."))),
        (status = 200, description = "A dry run: what the merge would do.", body = MergeDto),
        (status = 404, description = "A customer does not exist or is not yours to see.", body = Problem,
            content_type = "application/problem+json"),
    ),
)]
#[post("/customers/merges")]
pub(crate) async fn create_customer_merge(
    state: web::Data<ApiState>,
    caller: Caller,
    body: ApiJson<MergeBody>,
) -> Result<HttpResponse, ApiError> {
    let body = body.0;
    check_ids(&body)?;
    let actor = actor(&state, &caller.0).await?;
    let store = state.stores.customers.clone();
    let now = state.clock.now();
    let dry_run = body.dry_run;
    let merge = blocking(move || {
        store.merge_customers(
            &actor,
            &body.survivor_id,
            &body.duplicate_ids,
            &body.fields,
            body.dry_run,
            now,
        )
    })
    .await?;
    let dto = MergeDto::of(merge, dry_run);
    Ok(match &dto.id {
        Some(id) if !dry_run => HttpResponse::Created()
            .insert_header((header::LOCATION, format!("/api/v1/customers/merges/{id}")))
            .json(&dto),
        _ => HttpResponse::Ok().json(&dto),
    })
}

/// A recorded merge, with its survivor as it is now.
#[utoipa::path(
    tag = "customers",
    operation_id = "get_customer_merge",
    summary = "Get a merge",
    params(("id" = String, Path, description = "The merge's id.", format = "uuid")),
    responses(
        (status = 200, description = "The merge.", body = MergeDto),
        (status = 404, description = "No such merge, or its survivor is not yours to see.", body = Problem,
            content_type = "application/problem+json"),
    ),
)]
#[get("/customers/merges/{id}")]
pub(crate) async fn get_customer_merge(
    state: web::Data<ApiState>,
    caller: Caller,
    id: web::Path<uuid::Uuid>,
) -> Result<HttpResponse, ApiError> {
    let actor = actor(&state, &caller.0).await?;
    let store = state.stores.customers.clone();
    let id = id.into_inner().to_string();
    let merge = blocking(move || store.customer_merge(&actor, &id)).await?;
    Ok(HttpResponse::Ok().json(MergeDto::of(merge, false)))
}

/// Undoes a merge within 30 days: the duplicates come back with the contacts, activities and
/// opportunities that moved from them, and the survivor gets its fields back. 409 when already
/// undone, too old, or when the survivor was changed after the merge.
#[utoipa::path(
    tag = "customers",
    operation_id = "undo_customer_merge",
    summary = "Undo a merge",
    params(("id" = String, Path, description = "The merge's id.", format = "uuid")),
    responses(
        (status = 200, description = "Undone.", body = MergeDto),
        (status = 404, description = "No such merge, or its survivor is not yours to see.", body = Problem,
            content_type = "application/problem+json"),
        (status = 409, description = "Already undone, older than 30 days, or the survivor changed since.", body = Problem,
            content_type = "application/problem+json"),
    ),
)]
#[post("/customers/merges/{id}/undo")]
pub(crate) async fn undo_customer_merge(
    state: web::Data<ApiState>,
    caller: Caller,
    id: web::Path<uuid::Uuid>,
) -> Result<HttpResponse, ApiError> {
    let actor = actor(&state, &caller.0).await?;
    let store = state.stores.customers.clone();
    let id = id.into_inner().to_string();
    let now = state.clock.now();
    let merge = blocking(move || store.undo_merge(&actor, &id, now)).await?;
    Ok(HttpResponse::Ok().json(MergeDto::of(merge, false)))
}
