//! Request and response bodies of opportunities.

use chrono::{DateTime, NaiveDate, Utc};
use crm_domain::money::check_currency;
use crm_domain::opportunities::{
    basis_points, thousandths, LineDraft, Opportunity, OpportunityChanges, OpportunityDraft,
    OpportunityStatus, StageChange, StageMove, LOST_REASON_MAX, NAME_MAX,
};
use crm_domain::{DomainError, FieldError};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use crate::responses::{non_null, nullable, nullable_whole, optional_text, patch_text};

/// Where an opportunity stands.
#[derive(Debug, Clone, Copy, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub(crate) enum OpportunityStatusDto {
    /// Being worked.
    Open,
    /// Won.
    Won,
    /// Lost.
    Lost,
}

impl From<OpportunityStatus> for OpportunityStatusDto {
    fn from(s: OpportunityStatus) -> Self {
        match s {
            OpportunityStatus::Open => Self::Open,
            OpportunityStatus::Won => Self::Won,
            OpportunityStatus::Lost => Self::Lost,
        }
    }
}

impl From<OpportunityStatusDto> for OpportunityStatus {
    fn from(s: OpportunityStatusDto) -> Self {
        match s {
            OpportunityStatusDto::Open => Self::Open,
            OpportunityStatusDto::Won => Self::Won,
            OpportunityStatusDto::Lost => Self::Lost,
        }
    }
}

/// A quoted line with its amount.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct LineDto {
    /// The catalogue product, if any.
    #[schema(format = "uuid")]
    pub product_id: Option<String>,
    /// What is sold.
    pub description: String,
    /// Quantity, up to three decimals.
    pub quantity: f64,
    /// Price of one unit in minor units.
    pub unit_price: i64,
    /// Discount in percent, up to two decimals.
    pub discount_percent: f64,
    /// `quantity × unit_price × (1 − discount)` in minor units, rounded half away from zero.
    pub amount: i64,
}

/// A deal with a customer.
#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({
    "id": "01936f0e-9c2d-7e3f-8a4b-5c6d7e8f9a0b",
    "customer_id": "01936f0e-8a7c-7d4e-9a51-3c2b1f0e9d8a",
    "owner_id": "01936f0e-7b6a-7c5d-8e4f-3a2b1c0d9e8f", "name": "Q1 order",
    "pipeline_id": "01930000-0000-7000-8000-000000000001",
    "stage_id": "01930000-0000-7000-8000-000000000101", "status": "open", "currency": "CNY",
    "lines": [{"product_id": "01936f0e-aaaa-7e3f-8a4b-5c6d7e8f9a0b", "description": "CRM Pro",
        "quantity": 3.0, "unit_price": 129900, "discount_percent": 10.0, "amount": 350730}],
    "amount": 350730, "expected_close_on": "2026-12-31", "closed_at": null, "lost_reason": null,
    "checked_items": [], "custom_fields": {}, "stage_entered_at": "2026-11-26T09:30:00Z",
    "created_at": "2026-11-26T09:30:00Z", "updated_at": "2026-11-26T09:30:00Z"
}))]
pub(crate) struct OpportunityDto {
    /// UUIDv7.
    #[schema(format = "uuid")]
    pub id: String,
    /// The customer.
    #[schema(format = "uuid")]
    pub customer_id: String,
    /// Who works it.
    #[schema(format = "uuid")]
    pub owner_id: String,
    /// Name.
    pub name: String,
    /// The pipeline.
    #[schema(format = "uuid")]
    pub pipeline_id: String,
    /// The current stage.
    #[schema(format = "uuid")]
    pub stage_id: String,
    /// From the stage's kind.
    pub status: OpportunityStatusDto,
    /// ISO 4217 code of every amount.
    pub currency: String,
    /// Quoted lines.
    pub lines: Vec<LineDto>,
    /// The sum of the lines, or the manual amount when there are none, in minor units.
    pub amount: i64,
    /// When it is expected to close.
    pub expected_close_on: Option<NaiveDate>,
    /// When it was won or lost.
    pub closed_at: Option<DateTime<Utc>>,
    /// Why it was lost.
    pub lost_reason: Option<String>,
    /// The ticked checklist items of the current stage (ids from the pipeline).
    pub checked_items: Vec<String>,
    /// Values of the opportunity custom fields, by key;
    /// `GET /api/v1/custom-fields/schema/opportunity` gives their JSON Schema.
    #[schema(value_type = Object)]
    pub custom_fields: std::collections::BTreeMap<String, serde_json::Value>,
    /// When it entered the current stage.
    pub stage_entered_at: DateTime<Utc>,
    /// When created.
    pub created_at: DateTime<Utc>,
    /// When last changed.
    pub updated_at: DateTime<Utc>,
}

impl From<Opportunity> for OpportunityDto {
    fn from(o: Opportunity) -> Self {
        Self {
            id: o.id,
            customer_id: o.customer_id,
            owner_id: o.owner_id,
            name: o.name,
            pipeline_id: o.pipeline_id,
            stage_id: o.stage_id,
            status: o.status.into(),
            currency: o.currency,
            lines: o
                .lines
                .into_iter()
                .map(|l| LineDto {
                    product_id: l.product_id,
                    description: l.description,
                    quantity: l.quantity as f64 / 1_000.0,
                    unit_price: l.unit_price,
                    discount_percent: l.discount as f64 / 100.0,
                    amount: l.amount,
                })
                .collect(),
            amount: o.amount,
            expected_close_on: o.expected_close_on,
            closed_at: o.closed_at,
            lost_reason: o.lost_reason,
            checked_items: o.checked,
            custom_fields: o.custom_fields,
            stage_entered_at: o.stage_entered_at,
            created_at: o.created_at,
            updated_at: o.updated_at,
        }
    }
}

/// A page of opportunities, most recently changed first.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct OpportunityList {
    /// Opportunities.
    pub items: Vec<OpportunityDto>,
    /// Pass as `cursor` for the next page; `null` on the last page.
    pub next_cursor: Option<String>,
}

/// A quoted line: a catalogue product or free text.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct LineBody {
    /// A catalogue product (active, unless the opportunity quotes it already).
    #[serde(default)]
    #[schema(value_type = Option<String>, format = "uuid")]
    pub product_id: Option<uuid::Uuid>,
    /// What is sold, up to 500 characters; required without a product.
    #[serde(default)]
    #[schema(max_length = 500)]
    pub description: Option<String>,
    /// Quantity, 0 to 1,000,000,000 with up to three decimals (default 1).
    #[serde(default)]
    #[schema(minimum = 0, maximum = 1000000000)]
    pub quantity: Option<f64>,
    /// Price of one unit in minor units, 0 to 10^15; default the product's (which must be in
    /// the opportunity's currency). Required without a product.
    #[serde(default, deserialize_with = "crate::responses::optional_whole")]
    #[schema(minimum = 0, maximum = 1000000000000000_i64)]
    pub unit_price: Option<i64>,
    /// Discount in percent, 0 to 100 with up to two decimals (default 0).
    #[serde(default)]
    #[schema(minimum = 0, maximum = 100)]
    pub discount_percent: Option<f64>,
}

fn line_drafts(lines: Vec<LineBody>, errors: &mut Vec<FieldError>) -> Vec<LineDraft> {
    lines
        .into_iter()
        .enumerate()
        .map(|(i, l)| {
            let quantity = match l.quantity {
                None => 1_000,
                Some(q) => thousandths(q).unwrap_or_else(|| {
                    errors.push(FieldError::new(
                        format!("/lines/{i}/quantity"),
                        "out_of_range",
                        "0 to 1,000,000,000 with at most 3 decimals",
                    ));
                    0
                }),
            };
            let discount = match l.discount_percent {
                None => 0,
                Some(d) => basis_points(d).unwrap_or_else(|| {
                    errors.push(FieldError::new(
                        format!("/lines/{i}/discount_percent"),
                        "out_of_range",
                        "0 to 100 with at most 2 decimals",
                    ));
                    0
                }),
            };
            LineDraft {
                product_id: l.product_id.map(|id| id.to_string()),
                description: l.description,
                quantity,
                unit_price: l.unit_price,
                discount,
            }
        })
        .collect()
}

fn check_opportunity_name(raw: &str, errors: &mut Vec<FieldError>) -> Option<String> {
    let trimmed = raw.trim();
    if trimmed.is_empty() || raw.chars().count() > NAME_MAX {
        errors.push(FieldError::new(
            "/name",
            "invalid_name",
            format!("1 to {NAME_MAX} characters, not only spaces"),
        ));
        return None;
    }
    Some(trimmed.to_string())
}

/// A new opportunity.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"customer_id": "01936f0e-8a7c-7d4e-9a51-3c2b1f0e9d8a",
    "name": "Q1 order", "currency": "CNY", "expected_close_on": "2026-12-31",
    "lines": [{"product_id": "01936f0e-aaaa-7e3f-8a4b-5c6d7e8f9a0b", "quantity": 3,
        "discount_percent": 10}]}))]
pub(crate) struct CreateOpportunity {
    /// The customer, one you may see.
    #[schema(value_type = String, format = "uuid")]
    pub customer_id: uuid::Uuid,
    /// 1 to 200 characters.
    #[schema(
        min_length = 1,
        max_length = 200,
        pattern = r"^\s*[^\s\u0000][^\u0000]*$"
    )]
    pub name: String,
    /// The pipeline (default: the default pipeline).
    #[serde(default)]
    #[schema(value_type = Option<String>, format = "uuid")]
    pub pipeline_id: Option<uuid::Uuid>,
    /// A stage of that pipeline (default: its first open stage).
    #[serde(default)]
    #[schema(value_type = Option<String>, format = "uuid")]
    pub stage_id: Option<uuid::Uuid>,
    /// ISO 4217 code of a currency in use (default CNY).
    #[serde(default)]
    #[schema(pattern = "^[A-Za-z]{3}$")]
    pub currency: Option<String>,
    /// Quoted lines, up to 100.
    #[serde(default)]
    #[schema(max_items = 100)]
    pub lines: Vec<LineBody>,
    /// The amount in minor units when there are no lines (default 0).
    #[serde(default, deserialize_with = "crate::responses::optional_whole")]
    #[schema(minimum = 0, maximum = 1000000000000000_i64)]
    pub amount: Option<i64>,
    /// When it is expected to close.
    #[serde(default)]
    pub expected_close_on: Option<NaiveDate>,
    /// Custom field values by key (`GET /api/v1/custom-fields/schema/opportunity`).
    #[serde(default)]
    #[schema(value_type = Option<Object>)]
    pub custom_fields: Option<serde_json::Map<String, serde_json::Value>>,
}

impl CreateOpportunity {
    /// The draft, or every problem the body shows on its own.
    pub(crate) fn validate(self) -> Result<OpportunityDraft, DomainError> {
        let mut errors = Vec::new();
        let name = check_opportunity_name(&self.name, &mut errors);
        let currency = match &self.currency {
            None => Some("CNY".to_string()),
            Some(c) => check_currency(c, "/currency")
                .map_err(|e| errors.push(e))
                .ok(),
        };
        if let Some(e) = self
            .amount
            .and_then(|a| crm_domain::money::check_amount(a, "/amount"))
        {
            errors.push(e);
        }
        let lines = line_drafts(self.lines, &mut errors);
        match (name, currency) {
            (Some(name), Some(currency)) if errors.is_empty() => Ok(OpportunityDraft {
                customer_id: self.customer_id.to_string(),
                name,
                pipeline_id: self.pipeline_id.map(|id| id.to_string()),
                stage_id: self.stage_id.map(|id| id.to_string()),
                currency,
                lines,
                amount: self.amount,
                expected_close_on: self.expected_close_on,
                // Checked separately, against the field definitions.
                custom_fields: Default::default(),
            }),
            _ => Err(DomainError::Validation(errors)),
        }
    }
}

/// Changes to an opportunity (JSON merge patch). Stages change through
/// `POST /opportunities/{id}/stage-changes`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"expected_close_on": "2027-01-15",
    "checked_items": ["01930000-0000-7000-8000-000000000201"]}))]
pub(crate) struct UpdateOpportunity {
    /// 1 to 200 characters.
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = String, min_length = 1, max_length = 200, pattern = r"^\s*[^\s\u0000][^\u0000]*$")]
    pub name: Option<Option<String>>,
    /// ISO 4217 code; with lines, give the lines again in the new currency.
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = String, pattern = "^[A-Za-z]{3}$")]
    pub currency: Option<Option<String>>,
    /// The lines, replacing all (`[]` for none).
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = Vec<LineBody>, max_items = 100)]
    pub lines: Option<Option<Vec<LineBody>>>,
    /// The manual amount in minor units (only without lines).
    #[serde(default, deserialize_with = "nullable_whole")]
    #[schema(value_type = i64, minimum = 0, maximum = 1000000000000000_i64)]
    pub amount: Option<Option<i64>>,
    /// When it is expected to close; `null` clears it.
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = Option<NaiveDate>)]
    pub expected_close_on: Option<Option<NaiveDate>>,
    /// Why it was lost, up to 2,000 characters; `null` clears it.
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = Option<String>, max_length = 2000)]
    pub lost_reason: Option<Option<String>>,
    /// The ticked checklist items of the current stage, replacing the ticks.
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = Vec<String>, max_items = 30)]
    pub checked_items: Option<Option<Vec<uuid::Uuid>>>,
    /// Custom field values by key: keys given replace their values and `null` removes one;
    /// `"custom_fields": null` removes them all.
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = Option<Object>)]
    pub custom_fields: Option<Option<serde_json::Map<String, serde_json::Value>>>,
    /// Managers and admins: hand the opportunity to another active user whose records they
    /// manage.
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = String, format = "uuid")]
    pub owner_id: Option<Option<uuid::Uuid>>,
}

impl UpdateOpportunity {
    /// The changes, or every problem the body shows on its own.
    pub(crate) fn validate(self) -> Result<OpportunityChanges, DomainError> {
        let mut errors = Vec::new();
        let name = non_null(self.name, "/name", &mut errors)
            .and_then(|n| check_opportunity_name(&n, &mut errors));
        let currency = non_null(self.currency, "/currency", &mut errors).and_then(|c| {
            check_currency(&c, "/currency")
                .map_err(|e| errors.push(e))
                .ok()
        });
        let lines =
            non_null(self.lines, "/lines", &mut errors).map(|l| line_drafts(l, &mut errors));
        let amount = non_null(self.amount, "/amount", &mut errors);
        if let Some(e) = amount.and_then(|a| crm_domain::money::check_amount(a, "/amount")) {
            errors.push(e);
        }
        let lost_reason = patch_text(
            self.lost_reason,
            "/lost_reason",
            LOST_REASON_MAX,
            &mut errors,
        );
        let owner_id = non_null(self.owner_id, "/owner_id", &mut errors).map(|id| id.to_string());
        let checklist = non_null(self.checked_items, "/checked_items", &mut errors)
            .map(|ids| ids.into_iter().map(|id| id.to_string()).collect());
        if !errors.is_empty() {
            return Err(DomainError::Validation(errors));
        }
        Ok(OpportunityChanges {
            name,
            currency,
            lines,
            amount,
            expected_close_on: self.expected_close_on,
            lost_reason,
            checklist,
            // Checked and merged separately, against the field definitions.
            custom_fields: None,
            owner_id,
        })
    }
}

/// Filters and paging of the opportunity list.
#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub(crate) struct OpportunityQuery {
    /// Items per page, 1 to 200 (default 50).
    #[param(minimum = 1, maximum = 200)]
    pub limit: Option<i64>,
    /// The `next_cursor` of the previous page (of the same `sort`).
    #[param(max_length = 512, pattern = "^([0-9a-f]{2})+$")]
    pub cursor: Option<String>,
    /// The order: `updated_at`, `amount` or `expected_close_on` (those without a date last),
    /// `-` in front for descending; default `-updated_at`.
    #[param(
        pattern = "^-?(updated_at|amount|expected_close_on)$",
        example = "-amount"
    )]
    pub sort: Option<String>,
    /// Only this pipeline's.
    pub pipeline_id: Option<uuid::Uuid>,
    /// Only those in this stage.
    pub stage_id: Option<uuid::Uuid>,
    /// Only this owner's (`me` for yours).
    #[param(pattern = "^(me|[0-9a-fA-F-]{36})$")]
    pub owner_id: Option<String>,
    /// Only this customer's.
    pub customer_id: Option<uuid::Uuid>,
    /// Only open, won or lost ones.
    pub status: Option<OpportunityStatusDto>,
    /// Amount at least, in minor units.
    #[param(minimum = 0)]
    pub amount_min: Option<i64>,
    /// Amount at most, in minor units.
    #[param(minimum = 0)]
    pub amount_max: Option<i64>,
    /// Expected to close on or after.
    pub close_from: Option<NaiveDate>,
    /// Expected to close on or before.
    pub close_to: Option<NaiveDate>,
}

/// A stage change to make.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"to_stage_id": "01930000-0000-7000-8000-000000000102",
    "note": "Budget and decision maker confirmed"}))]
pub(crate) struct StageChangeBody {
    /// A stage of the opportunity's pipeline.
    #[schema(value_type = String, format = "uuid")]
    pub to_stage_id: uuid::Uuid,
    /// Why, up to 2,000 characters.
    #[serde(default)]
    #[schema(max_length = 2000)]
    pub note: Option<String>,
    /// Managers and admins: move on although required checklist items are not ticked (the
    /// change records it).
    #[serde(default, rename = "override")]
    pub override_checklist: bool,
    /// When moving to a lost stage: why, up to 2,000 characters.
    #[serde(default)]
    #[schema(max_length = 2000)]
    pub lost_reason: Option<String>,
}

impl StageChangeBody {
    /// The move, or every problem.
    pub(crate) fn validate(self) -> Result<StageMove, DomainError> {
        let mut errors = Vec::new();
        let note = optional_text(self.note, "/note", 2_000, &mut errors);
        let lost_reason = optional_text(
            self.lost_reason,
            "/lost_reason",
            LOST_REASON_MAX,
            &mut errors,
        );
        if !errors.is_empty() {
            return Err(DomainError::Validation(errors));
        }
        Ok(StageMove {
            to_stage_id: self.to_stage_id.to_string(),
            note,
            override_checklist: self.override_checklist,
            lost_reason,
        })
    }
}

/// One recorded stage change.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct StageChangeDto {
    /// UUIDv7.
    #[schema(format = "uuid")]
    pub id: String,
    /// The stage left; `null` for the creation.
    #[schema(format = "uuid")]
    pub from_stage_id: Option<String>,
    /// The stage entered.
    #[schema(format = "uuid")]
    pub to_stage_id: String,
    /// Who moved it.
    #[schema(format = "uuid")]
    pub changed_by: String,
    /// When.
    pub changed_at: DateTime<Utc>,
    /// The amount at that moment, in minor units.
    pub amount: i64,
    /// The entered stage's win probability at that moment.
    pub probability: i64,
    /// Seconds spent in the stage left (0 for the creation).
    pub seconds_in_previous_stage: i64,
    /// The note given.
    pub note: Option<String>,
    /// Whether unticked required checklist items were overridden.
    pub overridden: bool,
}

impl From<StageChange> for StageChangeDto {
    fn from(c: StageChange) -> Self {
        Self {
            id: c.id,
            from_stage_id: c.from_stage_id,
            to_stage_id: c.to_stage_id,
            changed_by: c.changed_by,
            changed_at: c.changed_at,
            amount: c.amount,
            probability: c.probability,
            seconds_in_previous_stage: c.seconds_in_previous,
            note: c.note,
            overridden: c.overridden,
        }
    }
}

/// A page of an opportunity's stage changes, oldest first.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct StageHistory {
    /// Changes, oldest first.
    pub items: Vec<StageChangeDto>,
    /// Pass as `cursor` for the next page; `null` on the last page.
    pub next_cursor: Option<String>,
}
