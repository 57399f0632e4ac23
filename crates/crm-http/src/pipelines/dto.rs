//! Request and response bodies of pipelines.

use chrono::{DateTime, Utc};
use crm_domain::pipelines::{
    check_kinds, check_name, check_stage, ChecklistItem, Pipeline, Stage, StageFields, StageKind,
    GUIDANCE_MAX,
};
use crm_domain::{DomainError, FieldError};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::responses::{non_null, nullable, nullable_whole, optional_text, patch_text};

/// What reaching a stage means for the deal.
#[derive(Debug, Clone, Copy, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub(crate) enum StageKindDto {
    /// Being worked.
    Open,
    /// Closed and won (probability 100).
    Won,
    /// Closed and lost (probability 0).
    Lost,
}

impl From<StageKindDto> for StageKind {
    fn from(k: StageKindDto) -> Self {
        match k {
            StageKindDto::Open => StageKind::Open,
            StageKindDto::Won => StageKind::Won,
            StageKindDto::Lost => StageKind::Lost,
        }
    }
}

impl From<StageKind> for StageKindDto {
    fn from(k: StageKind) -> Self {
        match k {
            StageKind::Open => StageKindDto::Open,
            StageKind::Won => StageKindDto::Won,
            StageKind::Lost => StageKindDto::Lost,
        }
    }
}

/// A checklist item of a stage.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct ChecklistItemDto {
    /// Stable id; what an opportunity's ticks name.
    #[schema(format = "uuid")]
    pub id: String,
    /// What to check.
    pub label: String,
    /// Moving past the stage needs it ticked (unless a manager overrides).
    pub required: bool,
}

/// A stage of a pipeline.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct StageDto {
    /// UUIDv7.
    #[schema(format = "uuid")]
    pub id: String,
    /// Name.
    pub name: String,
    /// Order in the pipeline, from 0.
    pub position: i64,
    /// Win probability in percent.
    pub probability: i64,
    /// Open, won or lost.
    pub kind: StageKindDto,
    /// Guidance for reps (markdown).
    pub guidance: Option<String>,
    /// What to check before moving on.
    pub checklist: Vec<ChecklistItemDto>,
}

impl From<Stage> for StageDto {
    fn from(s: Stage) -> Self {
        Self {
            id: s.id,
            name: s.fields.name,
            position: s.position,
            probability: s.fields.probability,
            kind: s.fields.kind.into(),
            guidance: s.fields.guidance,
            checklist: s
                .fields
                .checklist
                .into_iter()
                .map(|i| ChecklistItemDto {
                    id: i.id,
                    label: i.label,
                    required: i.required,
                })
                .collect(),
        }
    }
}

/// A sales pipeline with its stages in order.
#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({
    "id": "01930000-0000-7000-8000-000000000001", "name": "New business", "is_default": true,
    "stages": [{"id": "01930000-0000-7000-8000-000000000101", "name": "Qualification",
        "position": 0, "probability": 10, "kind": "open",
        "guidance": "Confirm the need, the budget and the decision maker.",
        "checklist": [{"id": "01930000-0000-7000-8000-000000000201",
            "label": "Budget confirmed", "required": true}]}],
    "created_at": "2026-11-26T09:30:00Z", "updated_at": "2026-11-26T09:30:00Z"
}))]
pub(crate) struct PipelineDto {
    /// UUIDv7.
    #[schema(format = "uuid")]
    pub id: String,
    /// Name, unique.
    pub name: String,
    /// New opportunities go here unless they name another pipeline.
    pub is_default: bool,
    /// Stages in order.
    pub stages: Vec<StageDto>,
    /// When created.
    pub created_at: DateTime<Utc>,
    /// When it or a stage last changed.
    pub updated_at: DateTime<Utc>,
}

impl From<Pipeline> for PipelineDto {
    fn from(p: Pipeline) -> Self {
        Self {
            id: p.id,
            name: p.name,
            is_default: p.is_default,
            stages: p.stages.into_iter().map(StageDto::from).collect(),
            created_at: p.created_at,
            updated_at: p.updated_at,
        }
    }
}

/// Every pipeline.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct PipelineList {
    /// The default pipeline first, then by name.
    pub items: Vec<PipelineDto>,
}

/// A checklist item as written: an `id` keeps an existing item, none adds one.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct ChecklistItemBody {
    /// The id of an item the stage has (on change); leave out for a new item.
    #[serde(default)]
    #[schema(value_type = Option<String>, format = "uuid")]
    pub id: Option<uuid::Uuid>,
    /// 1 to 200 characters.
    #[schema(
        min_length = 1,
        max_length = 200,
        pattern = r"^\s*[^\s\u0000][^\u0000]*$"
    )]
    pub label: String,
    /// Moving past the stage needs it ticked (default `false`).
    #[serde(default)]
    pub required: bool,
}

fn items(body: Vec<ChecklistItemBody>) -> Vec<ChecklistItem> {
    body.into_iter()
        .map(|i| ChecklistItem {
            id: i.id.map(|id| id.to_string()).unwrap_or_default(),
            // Checked as sent (its length included), then trimmed.
            label: i.label,
            required: i.required,
        })
        .collect()
}

/// `fields` with checklist labels trimmed, once they were checked as sent.
fn trimmed(mut fields: StageFields) -> StageFields {
    for item in &mut fields.checklist {
        item.label = item.label.trim().to_string();
    }
    fields
}

/// A new stage.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"name": "Demo", "probability": 30, "kind": "open",
    "guidance": "Show the product on the customer's own data.",
    "checklist": [{"label": "Demo held", "required": true}], "position": 2}))]
pub(crate) struct StageBody {
    /// 1 to 100 characters.
    #[schema(
        min_length = 1,
        max_length = 100,
        pattern = r"^\s*[^\s\u0000][^\u0000]*$"
    )]
    pub name: String,
    /// Win probability in percent: 0 to 100; 100 for a won stage, 0 for a lost one.
    #[serde(deserialize_with = "crate::responses::whole")]
    #[schema(minimum = 0, maximum = 100)]
    pub probability: i64,
    /// Open, won or lost.
    pub kind: StageKindDto,
    /// Guidance for reps (markdown), up to 10,000 characters.
    #[serde(default)]
    #[schema(max_length = 10000)]
    pub guidance: Option<String>,
    /// Up to 30 items.
    #[serde(default)]
    #[schema(max_items = 30)]
    pub checklist: Vec<ChecklistItemBody>,
    /// Adding a stage only: where it goes, from 0 (default: last). Ignored on pipeline create.
    #[serde(default, deserialize_with = "crate::responses::optional_whole")]
    #[schema(minimum = 0, maximum = 1000)]
    pub position: Option<i64>,
}

impl StageBody {
    /// The stage's fields, or every problem (pointers under `prefix`).
    pub(crate) fn fields(self, prefix: &str, errors: &mut Vec<FieldError>) -> Option<StageFields> {
        let name = check_name(&self.name, &format!("{prefix}/name"))
            .map_err(|e| errors.push(e))
            .ok();
        let guidance = optional_text(
            self.guidance,
            &format!("{prefix}/guidance"),
            GUIDANCE_MAX,
            errors,
        );
        let fields = StageFields {
            name: name.clone().unwrap_or_default(),
            probability: self.probability,
            kind: self.kind.into(),
            guidance,
            checklist: items(self.checklist),
        };
        let before = errors.len();
        errors.extend(check_stage(&fields, prefix));
        (name.is_some() && errors.len() == before).then(|| trimmed(fields))
    }
}

/// A new pipeline with its stages in order.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"name": "Renewal", "stages": [
    {"name": "Renewal due", "probability": 50, "kind": "open"},
    {"name": "Renewed", "probability": 100, "kind": "won"},
    {"name": "Churned", "probability": 0, "kind": "lost"}]}))]
pub(crate) struct CreatePipeline {
    /// 1 to 100 characters, unique.
    #[schema(
        min_length = 1,
        max_length = 100,
        pattern = r"^\s*[^\s\u0000][^\u0000]*$"
    )]
    pub name: String,
    /// In order; at least an open, a won and a lost stage, at most 30.
    #[schema(min_items = 3, max_items = 30)]
    pub stages: Vec<StageBody>,
}

impl CreatePipeline {
    /// Name and stages, or every problem.
    pub(crate) fn validate(self) -> Result<(String, Vec<StageFields>), DomainError> {
        let mut errors = Vec::new();
        let name = check_name(&self.name, "/name")
            .map_err(|e| errors.push(e))
            .ok();
        let kinds: Vec<StageFields> = self
            .stages
            .iter()
            .map(|s| StageFields {
                name: String::new(),
                probability: 0,
                kind: s.kind.into(),
                guidance: None,
                checklist: vec![],
            })
            .collect();
        errors.extend(check_kinds(&kinds, "/stages"));
        let stages: Vec<Option<StageFields>> = self
            .stages
            .into_iter()
            .enumerate()
            .map(|(i, s)| s.fields(&format!("/stages/{i}"), &mut errors))
            .collect();
        match name {
            Some(name) if errors.is_empty() => Ok((name, stages.into_iter().flatten().collect())),
            _ => Err(DomainError::Validation(errors)),
        }
    }
}

/// Changes to a pipeline (JSON merge patch).
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"name": "New customers", "is_default": true}))]
pub(crate) struct UpdatePipeline {
    /// 1 to 100 characters, unique.
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = String, min_length = 1, max_length = 100, pattern = r"^\s*[^\s\u0000][^\u0000]*$")]
    pub name: Option<Option<String>>,
    /// `true` makes this the default pipeline (the former default stops being one). To stop
    /// being the default, make another pipeline the default.
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = bool)]
    pub is_default: Option<Option<bool>>,
}

impl UpdatePipeline {
    /// The new name and whether to make it the default, or every problem.
    pub(crate) fn validate(self, is_default: bool) -> Result<(Option<String>, bool), DomainError> {
        let mut errors = Vec::new();
        let name = non_null(self.name, "/name", &mut errors)
            .and_then(|n| check_name(&n, "/name").map_err(|e| errors.push(e)).ok());
        let make_default = non_null(self.is_default, "/is_default", &mut errors);
        if make_default == Some(false) && is_default {
            errors.push(FieldError::new(
                "/is_default",
                "default_needed",
                "make another pipeline the default instead",
            ));
        }
        if !errors.is_empty() {
            return Err(DomainError::Validation(errors));
        }
        Ok((name, make_default == Some(true)))
    }
}

/// Changes to a stage (JSON merge patch): members left out stay; `checklist` replaces the list
/// (items with an `id` keep it, items without one are new).
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"probability": 65, "checklist": [
    {"id": "01930000-0000-7000-8000-000000000205", "label": "Quote approved internally",
        "required": true},
    {"label": "Discount signed off", "required": false}]}))]
pub(crate) struct UpdateStage {
    /// 1 to 100 characters.
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = String, min_length = 1, max_length = 100, pattern = r"^\s*[^\s\u0000][^\u0000]*$")]
    pub name: Option<Option<String>>,
    /// Win probability in percent.
    #[serde(default, deserialize_with = "nullable_whole")]
    #[schema(value_type = i64, minimum = 0, maximum = 100)]
    pub probability: Option<Option<i64>>,
    /// Open, won or lost; the pipeline keeps at least one of each.
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = StageKindDto)]
    pub kind: Option<Option<StageKindDto>>,
    /// Guidance (markdown); `null` clears it.
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = Option<String>, max_length = 10000)]
    pub guidance: Option<Option<String>>,
    /// The whole checklist, up to 30 items.
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = Vec<ChecklistItemBody>, max_items = 30)]
    pub checklist: Option<Option<Vec<ChecklistItemBody>>>,
}

impl UpdateStage {
    /// The stage's fields after the patch, or every problem.
    pub(crate) fn apply(self, current: &StageFields) -> Result<StageFields, DomainError> {
        let mut errors = Vec::new();
        let name = non_null(self.name, "/name", &mut errors)
            .and_then(|n| check_name(&n, "/name").map_err(|e| errors.push(e)).ok());
        let probability = non_null(self.probability, "/probability", &mut errors);
        let kind = non_null(self.kind, "/kind", &mut errors);
        let guidance = patch_text(self.guidance, "/guidance", GUIDANCE_MAX, &mut errors);
        let checklist = non_null(self.checklist, "/checklist", &mut errors);
        let fields = StageFields {
            name: name.unwrap_or_else(|| current.name.clone()),
            probability: probability.unwrap_or(current.probability),
            kind: kind.map_or(current.kind, Into::into),
            guidance: guidance.unwrap_or_else(|| current.guidance.clone()),
            checklist: checklist.map_or_else(|| current.checklist.clone(), items),
        };
        errors.extend(check_stage(&fields, ""));
        if !errors.is_empty() {
            return Err(DomainError::Validation(errors));
        }
        Ok(trimmed(fields))
    }
}

/// Where a removed stage's opportunities go.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub(crate) struct DeleteStageQuery {
    /// Another stage of the pipeline; required when the stage holds opportunities.
    pub move_to: Option<uuid::Uuid>,
}

/// The new order of a pipeline's stages.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct StageOrder {
    /// Every stage id of the pipeline, once each, in the new order.
    #[schema(max_items = 30)]
    pub stage_ids: Vec<uuid::Uuid>,
}
