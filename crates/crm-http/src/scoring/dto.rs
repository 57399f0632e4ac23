//! Request and response bodies of scoring.

use chrono::{DateTime, Utc};
use crm_domain::lead_sources::check_label;
use crm_domain::scoring::{
    check_code, check_half_life, check_points, Behavior, BehaviorChanges, BehaviorDraft, Score,
    ScoringSettings, DESCRIPTION_MAX,
};
use crm_domain::{DomainError, FieldError};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use crate::responses::{non_null, nullable, nullable_whole, optional_text, whole};

/// A behaviour of the catalogue: something a customer does that makes a deal more or less
/// likely.
#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({
    "code": "requested_quote", "label": "Requested a quote", "description": null, "points": 20,
    "archived": false, "created_at": "2026-11-26T09:30:00Z", "updated_at": "2026-11-26T09:30:00Z"
}))]
pub(crate) struct BehaviorDto {
    /// Immutable code; what an activity's `behaviors` hold.
    pub code: String,
    /// What people read.
    pub label: String,
    /// When it counts.
    pub description: Option<String>,
    /// Points a new recording is worth, -1000 to 1000 and not 0.
    pub points: i64,
    /// Archived behaviours are no longer recorded; recorded ones keep counting.
    pub archived: bool,
    /// When created.
    pub created_at: DateTime<Utc>,
    /// When last changed.
    pub updated_at: DateTime<Utc>,
}

impl From<Behavior> for BehaviorDto {
    fn from(b: Behavior) -> Self {
        Self {
            code: b.code,
            label: b.label,
            description: b.description,
            points: b.points,
            archived: b.archived,
            created_at: b.created_at,
            updated_at: b.updated_at,
        }
    }
}

/// The behaviour catalogue.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct BehaviorList {
    /// Every behaviour (archived ones only when asked), by code.
    pub items: Vec<BehaviorDto>,
}

/// Which behaviours to list.
#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub(crate) struct BehaviorQuery {
    /// `true`: archived behaviours too.
    pub include_archived: Option<bool>,
}

/// A new behaviour.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"code": "visited_showroom", "label": "Visited the showroom", "points": 15}))]
pub(crate) struct CreateBehavior {
    /// Immutable code: lower-case letters, digits and `_`, starting with a letter.
    #[schema(min_length = 1, max_length = 50, pattern = "^[a-z][a-z0-9_]{0,49}$")]
    pub code: String,
    /// 1 to 100 characters.
    #[schema(
        min_length = 1,
        max_length = 100,
        pattern = r"^\s*[^\s\u0000][^\u0000]*$"
    )]
    pub label: String,
    /// When it counts, up to 500 characters.
    #[serde(default)]
    #[schema(max_length = 500)]
    pub description: Option<String>,
    /// Points a recording is worth: -1000 to 1000, not 0.
    #[serde(deserialize_with = "whole")]
    #[schema(minimum = -1000, maximum = 1000)]
    pub points: i64,
}

impl CreateBehavior {
    /// Every problem at once, or the draft.
    pub(crate) fn validate(self) -> Result<BehaviorDraft, DomainError> {
        let mut errors = Vec::new();
        let code = check_code(&self.code, "/code")
            .map_err(|e| errors.push(e))
            .ok();
        let label = check_label(&self.label, "/label")
            .map_err(|e| errors.push(e))
            .ok();
        let description = optional_text(
            self.description,
            "/description",
            DESCRIPTION_MAX,
            &mut errors,
        );
        errors.extend(check_points(self.points, "/points"));
        match (code, label) {
            (Some(code), Some(label)) if errors.is_empty() => Ok(BehaviorDraft {
                code,
                label,
                description,
                points: self.points,
            }),
            _ => Err(DomainError::Validation(errors)),
        }
    }
}

/// Changes to a behaviour (JSON merge patch). The code never changes; new points count for
/// recordings from then on.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"points": 25}))]
pub(crate) struct UpdateBehavior {
    /// New label.
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = String, min_length = 1, max_length = 100, pattern = r"^\s*[^\s\u0000][^\u0000]*$")]
    pub label: Option<Option<String>>,
    /// New description; `null` clears it.
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = Option<String>, max_length = 500)]
    pub description: Option<Option<String>>,
    /// New points.
    #[serde(default, deserialize_with = "nullable_whole")]
    #[schema(value_type = i64, minimum = -1000, maximum = 1000)]
    pub points: Option<Option<i64>>,
    /// `true` archives the behaviour, `false` brings it back.
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = bool)]
    pub archived: Option<Option<bool>>,
}

impl UpdateBehavior {
    /// Every problem at once, or the changes.
    pub(crate) fn validate(self) -> Result<BehaviorChanges, DomainError> {
        let mut errors = Vec::new();
        let label = non_null(self.label, "/label", &mut errors)
            .and_then(|l| check_label(&l, "/label").map_err(|e| errors.push(e)).ok());
        let description = self
            .description
            .map(|d| optional_text(d, "/description", DESCRIPTION_MAX, &mut errors));
        let points = non_null(self.points, "/points", &mut errors);
        if let Some(error) = points.and_then(|p| check_points(p, "/points")) {
            errors.push(error);
        }
        let archived = non_null(self.archived, "/archived", &mut errors);
        if !errors.is_empty() {
            return Err(DomainError::Validation(errors));
        }
        Ok(BehaviorChanges {
            label,
            description,
            points,
            archived,
        })
    }
}

/// How scores decay.
#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({"half_life_days": 90, "updated_at": "2026-11-26T09:30:00Z"}))]
pub(crate) struct ScoringSettingsDto {
    /// Days after which a behaviour's points are halved (1 to 3650).
    pub half_life_days: u32,
    /// When last changed.
    pub updated_at: DateTime<Utc>,
}

impl From<ScoringSettings> for ScoringSettingsDto {
    fn from(s: ScoringSettings) -> Self {
        Self {
            half_life_days: s.half_life_days,
            updated_at: s.updated_at,
        }
    }
}

/// Changes to the scoring settings (JSON merge patch).
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"half_life_days": 60}))]
pub(crate) struct UpdateScoringSettings {
    /// Days after which a behaviour's points are halved, 1 to 3650. Stored scores follow within
    /// a reminder interval.
    #[serde(default, deserialize_with = "nullable_whole")]
    #[schema(value_type = i64, minimum = 1, maximum = 3650)]
    pub half_life_days: Option<Option<i64>>,
}

impl UpdateScoringSettings {
    /// The new half-life (`None`: unchanged), or the problem.
    pub(crate) fn validate(self) -> Result<Option<u32>, DomainError> {
        let mut errors = Vec::new();
        let days = non_null(self.half_life_days, "/half_life_days", &mut errors);
        if let Some(error) = days.and_then(|d| check_half_life(d, "/half_life_days")) {
            errors.push(error);
        }
        if !errors.is_empty() {
            return Err(DomainError::Validation(errors));
        }
        Ok(days.and_then(|d| u32::try_from(d).ok()))
    }
}

/// One behaviour counted in a score.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct ScoreItem {
    /// Behaviour code, e.g. `requested_quote`.
    pub behavior: String,
    /// Its label in the catalogue.
    pub label: String,
    /// The activity that recorded it.
    #[schema(format = "uuid")]
    pub activity_id: String,
    /// When it happened (the activity's `occurred_at`).
    pub occurred_at: DateTime<Utc>,
    /// Its points when recorded.
    pub points: i64,
    /// Its points now, after time decay, to two decimals.
    pub points_now: f64,
}

/// A customer's score and what makes it up, as of `computed_at`.
#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({
    "total": 12, "half_life_days": 90, "computed_at": "2026-04-01T00:00:00Z",
    "breakdown": [{"behavior": "requested_quote", "label": "Requested a quote",
        "activity_id": "01936f0e-9c2d-7e3f-8a4b-5c6d7e8f9a0b",
        "occurred_at": "2026-01-01T00:00:00Z", "points": 20, "points_now": 10.0}]
}))]
pub(crate) struct ScoreDto {
    /// The sum of the points now, rounded half away from zero. The customer's stored `score`
    /// (which lists sort by) is recomputed with every activity and once a day.
    pub total: i64,
    /// The half-life applied.
    pub half_life_days: u32,
    /// The time the points are worth at.
    pub computed_at: DateTime<Utc>,
    /// Each behaviour counted, newest first.
    pub breakdown: Vec<ScoreItem>,
}

impl ScoreDto {
    /// `score` at `now`, labelled from `catalogue`.
    pub(crate) fn of(
        score: Score,
        half_life_days: u32,
        now: DateTime<Utc>,
        catalogue: &[Behavior],
    ) -> Self {
        Self {
            total: score.total,
            half_life_days,
            computed_at: now,
            breakdown: score
                .items
                .into_iter()
                .map(|item| ScoreItem {
                    label: catalogue
                        .iter()
                        .find(|b| b.code == item.behavior.code)
                        .map_or_else(|| item.behavior.code.clone(), |b| b.label.clone()),
                    behavior: item.behavior.code,
                    activity_id: item.behavior.activity_id,
                    occurred_at: item.behavior.occurred_at,
                    points: item.behavior.points,
                    points_now: (item.points_now * 100.0).round() / 100.0,
                })
                .collect(),
        }
    }
}

/// `NotFound` when `code` cannot name a behaviour.
pub(crate) fn code_path(code: &str) -> Result<(), DomainError> {
    check_code(code, "/code")
        .map(|_| ())
        .map_err(|_: FieldError| DomainError::NotFound { entity: "behavior" })
}
