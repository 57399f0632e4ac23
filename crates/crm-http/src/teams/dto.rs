//! Request and response bodies of teams.

use chrono::{DateTime, Utc};
use crm_domain::identity::{check_name, Team, TeamDraft};
use crm_domain::{DomainError, FieldError};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::responses::{non_null, nullable};

/// Most managers or members one team may list.
const TEAM_USERS_MAX: usize = 500;

/// A team.
#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({
    "id": "01936f0e-9b1d-7c2e-8f3a-4d5e6f708192",
    "name": "East China",
    "manager_ids": ["01936f0e-8a7c-7d4e-9a51-3c2b1f0e9d8a"],
    "member_ids": ["01936f0e-8a7c-7d4e-9a51-3c2b1f0e9d8b"],
    "created_at": "2026-11-26T09:30:00Z",
    "updated_at": "2026-11-26T09:30:00Z"
}))]
pub(crate) struct TeamDto {
    /// UUIDv7.
    #[schema(format = "uuid")]
    pub id: String,
    /// Unique (case-insensitively) name.
    pub name: String,
    /// Users who manage the team.
    pub manager_ids: Vec<String>,
    /// Users who belong to the team (managers are not repeated here).
    pub member_ids: Vec<String>,
    /// When the team was created.
    pub created_at: DateTime<Utc>,
    /// When the team last changed.
    pub updated_at: DateTime<Utc>,
}

impl From<Team> for TeamDto {
    fn from(t: Team) -> Self {
        Self {
            id: t.id,
            name: t.name,
            manager_ids: t.manager_ids,
            member_ids: t.member_ids,
            created_at: t.created_at,
            updated_at: t.updated_at,
        }
    }
}

/// A new team.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({
    "name": "East China",
    "manager_ids": ["01936f0e-8a7c-7d4e-9a51-3c2b1f0e9d8a"],
    "member_ids": ["01936f0e-8a7c-7d4e-9a51-3c2b1f0e9d8b"]
}))]
pub(crate) struct CreateTeam {
    /// 1 to 200 characters, unique.
    #[schema(
        min_length = 1,
        max_length = 200,
        pattern = r"^\s*[^\s\u0000][^\u0000]*$"
    )]
    pub name: String,
    /// One or more users with the manager or admin role.
    #[schema(min_items = 1, max_items = 500)]
    pub manager_ids: Vec<String>,
    /// Members.
    #[serde(default)]
    #[schema(max_items = 500)]
    pub member_ids: Vec<String>,
}

impl CreateTeam {
    pub(crate) fn validate(self) -> Result<TeamDraft, DomainError> {
        let patch = UpdateTeam {
            name: Some(Some(self.name)),
            manager_ids: Some(Some(self.manager_ids)),
            member_ids: Some(Some(self.member_ids)),
        }
        .validate()?;
        let mut manager_ids = patch.manager_ids.unwrap_or_default();
        let mut member_ids = patch.member_ids.unwrap_or_default();
        manager_ids.dedup();
        member_ids.dedup();
        Ok(TeamDraft {
            name: patch.name.unwrap_or_default(),
            manager_ids,
            member_ids,
        })
    }
}

/// Changes to a team (JSON merge patch); a list given replaces the old one.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"member_ids": ["01936f0e-8a7c-7d4e-9a51-3c2b1f0e9d8b"]}))]
pub(crate) struct UpdateTeam {
    /// New name.
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = String, min_length = 1, max_length = 200, pattern = r"^\s*[^\s\u0000][^\u0000]*$")]
    pub name: Option<Option<String>>,
    /// New managers (replaces the list).
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = Vec<String>, min_items = 1, max_items = 500)]
    pub manager_ids: Option<Option<Vec<String>>>,
    /// New members (replaces the list).
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = Vec<String>, max_items = 500)]
    pub member_ids: Option<Option<Vec<String>>>,
}

impl UpdateTeam {
    /// Every problem of the patch itself, or the validated changes.
    pub(crate) fn validate(self) -> Result<TeamPatch, DomainError> {
        let mut errors = Vec::new();
        let name = non_null(self.name, "/name", &mut errors)
            .and_then(|n| check_name(&n, "/name").map_err(|e| errors.push(e)).ok());
        let manager_ids = non_null(self.manager_ids, "/manager_ids", &mut errors);
        let member_ids = non_null(self.member_ids, "/member_ids", &mut errors);
        if manager_ids.as_ref().is_some_and(Vec::is_empty) {
            errors.push(FieldError::new(
                "/manager_ids",
                "required",
                "a team needs at least one manager",
            ));
        }
        for (pointer, list) in [("/manager_ids", &manager_ids), ("/member_ids", &member_ids)] {
            if list.as_ref().is_some_and(|l| l.len() > TEAM_USERS_MAX) {
                errors.push(FieldError::new(
                    pointer,
                    "too_long",
                    format!("at most {TEAM_USERS_MAX} users"),
                ));
            }
        }
        if !errors.is_empty() {
            return Err(DomainError::Validation(errors));
        }
        Ok(TeamPatch {
            name,
            manager_ids,
            member_ids,
        })
    }
}

/// A validated team change: `None` keeps the current value.
pub(crate) struct TeamPatch {
    name: Option<String>,
    manager_ids: Option<Vec<String>>,
    member_ids: Option<Vec<String>>,
}

impl TeamPatch {
    /// The team's full new definition.
    pub(crate) fn apply(self, current: Team) -> TeamDraft {
        let mut manager_ids = self.manager_ids.unwrap_or(current.manager_ids);
        let mut member_ids = self.member_ids.unwrap_or(current.member_ids);
        manager_ids.dedup();
        member_ids.dedup();
        TeamDraft {
            name: self.name.unwrap_or(current.name),
            manager_ids,
            member_ids,
        }
    }
}

/// A page of teams.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct TeamList {
    /// Teams in creation order.
    pub items: Vec<TeamDto>,
    /// Pass as `cursor` for the next page; `null` on the last page.
    pub next_cursor: Option<String>,
}
