//! Request and response bodies of lead sources.

use chrono::{DateTime, Utc};
use crm_domain::lead_sources::{
    check_key, check_label, LeadSource, LeadSourceChanges, LeadSourceDraft,
};
use crm_domain::{DomainError, FieldError};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use crate::responses::{non_null, nullable, nullable_whole, whole};

/// A lead source: where customers come from.
#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({
    "key": "trade_show", "label": "Trade show", "position": 30, "archived": false,
    "created_at": "2026-11-26T09:30:00Z", "updated_at": "2026-11-26T09:30:00Z"
}))]
pub(crate) struct LeadSourceDto {
    /// Immutable key; what a customer's `lead_source` holds.
    pub key: String,
    /// What people read.
    pub label: String,
    /// Display order, smallest first.
    pub position: i64,
    /// Archived sources are kept on existing customers but not accepted for new values.
    pub archived: bool,
    /// When created.
    pub created_at: DateTime<Utc>,
    /// When last changed.
    pub updated_at: DateTime<Utc>,
}

impl From<LeadSource> for LeadSourceDto {
    fn from(s: LeadSource) -> Self {
        Self {
            key: s.key,
            label: s.label,
            position: s.position,
            archived: s.archived,
            created_at: s.created_at,
            updated_at: s.updated_at,
        }
    }
}

/// The lead sources, by position.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct LeadSourceList {
    /// Every lead source (archived ones only when asked), by position then key.
    pub items: Vec<LeadSourceDto>,
}

/// Which lead sources to list.
#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub(crate) struct LeadSourceQuery {
    /// `true`: archived sources too.
    pub include_archived: Option<bool>,
}

/// A new lead source.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"key": "wechat_ads", "label": "WeChat ads", "position": 15}))]
pub(crate) struct CreateLeadSource {
    /// Immutable key: lower-case letters, digits and `_`, starting with a letter.
    #[schema(min_length = 1, max_length = 50, pattern = "^[a-z][a-z0-9_]{0,49}$")]
    pub key: String,
    /// 1 to 100 characters.
    #[schema(
        min_length = 1,
        max_length = 100,
        pattern = r"^\s*[^\s\u0000][^\u0000]*$"
    )]
    pub label: String,
    /// Display order (default 0), smallest first.
    #[serde(default, deserialize_with = "whole")]
    #[schema(minimum = -1000000, maximum = 1000000)]
    pub position: i64,
}

/// The largest position either way.
const POSITION_MAX: i64 = 1_000_000;

fn check_position(position: i64, errors: &mut Vec<FieldError>) {
    if !(-POSITION_MAX..=POSITION_MAX).contains(&position) {
        errors.push(FieldError::new(
            "/position",
            "out_of_range",
            format!("between -{POSITION_MAX} and {POSITION_MAX}"),
        ));
    }
}

impl CreateLeadSource {
    /// Every problem at once, or the draft.
    pub(crate) fn validate(self) -> Result<LeadSourceDraft, DomainError> {
        let mut errors = Vec::new();
        let key = check_key(&self.key, "/key")
            .map_err(|e| errors.push(e))
            .ok();
        let label = check_label(&self.label, "/label")
            .map_err(|e| errors.push(e))
            .ok();
        check_position(self.position, &mut errors);
        match (key, label) {
            (Some(key), Some(label)) if errors.is_empty() => Ok(LeadSourceDraft {
                key,
                label,
                position: self.position,
            }),
            _ => Err(DomainError::Validation(errors)),
        }
    }
}

/// Changes to a lead source (JSON merge patch). The key never changes.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"label": "Trade shows", "archived": true}))]
pub(crate) struct UpdateLeadSource {
    /// New label.
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = String, min_length = 1, max_length = 100, pattern = r"^\s*[^\s\u0000][^\u0000]*$")]
    pub label: Option<Option<String>>,
    /// New position.
    #[serde(default, deserialize_with = "nullable_whole")]
    #[schema(value_type = i64, minimum = -1000000, maximum = 1000000)]
    pub position: Option<Option<i64>>,
    /// `true` archives the source, `false` brings it back.
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = bool)]
    pub archived: Option<Option<bool>>,
}

impl UpdateLeadSource {
    /// Every problem at once, or the changes.
    pub(crate) fn validate(self) -> Result<LeadSourceChanges, DomainError> {
        let mut errors = Vec::new();
        let label = non_null(self.label, "/label", &mut errors)
            .and_then(|l| check_label(&l, "/label").map_err(|e| errors.push(e)).ok());
        let position = non_null(self.position, "/position", &mut errors);
        if let Some(p) = position {
            check_position(p, &mut errors);
        }
        let archived = non_null(self.archived, "/archived", &mut errors);
        if !errors.is_empty() {
            return Err(DomainError::Validation(errors));
        }
        Ok(LeadSourceChanges {
            label,
            position,
            archived,
        })
    }
}
