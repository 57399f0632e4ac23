//! Request and response bodies of API keys.

use chrono::{DateTime, Utc};
use crm_domain::identity::{check_name, ApiKey, Scope};
use crm_domain::{DomainError, FieldError};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// What an API key may do.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, ToSchema)]
pub(crate) enum ScopeDto {
    /// Read customers and contacts.
    #[serde(rename = "customers:read")]
    CustomersRead,
    /// Create and change customers and contacts.
    #[serde(rename = "customers:write")]
    CustomersWrite,
    /// Read activities and follow-ups.
    #[serde(rename = "activities:read")]
    ActivitiesRead,
    /// Record activities.
    #[serde(rename = "activities:write")]
    ActivitiesWrite,
    /// Read opportunities.
    #[serde(rename = "opportunities:read")]
    OpportunitiesRead,
    /// Create and move opportunities.
    #[serde(rename = "opportunities:write")]
    OpportunitiesWrite,
    /// Import leads.
    #[serde(rename = "imports:write")]
    ImportsWrite,
    /// Read users and teams.
    #[serde(rename = "users:read")]
    UsersRead,
}

impl From<Scope> for ScopeDto {
    fn from(s: Scope) -> Self {
        match s {
            Scope::CustomersRead => ScopeDto::CustomersRead,
            Scope::CustomersWrite => ScopeDto::CustomersWrite,
            Scope::ActivitiesRead => ScopeDto::ActivitiesRead,
            Scope::ActivitiesWrite => ScopeDto::ActivitiesWrite,
            Scope::OpportunitiesRead => ScopeDto::OpportunitiesRead,
            Scope::OpportunitiesWrite => ScopeDto::OpportunitiesWrite,
            Scope::ImportsWrite => ScopeDto::ImportsWrite,
            Scope::UsersRead => ScopeDto::UsersRead,
        }
    }
}

/// An API key, without its secret.
#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({
    "id": "01936f0e-a1b2-7c3d-8e4f-5a6b7c8d9e0f",
    "name": "Web form import",
    "prefix": "crm_Yq3v8n",
    "scopes": ["customers:write", "imports:write"],
    "created_by": "01936f0e-8a7c-7d4e-9a51-3c2b1f0e9d8a",
    "created_at": "2026-11-26T09:30:00Z",
    "last_used_at": null,
    "revoked_at": null
}))]
pub(crate) struct ApiKeyDto {
    /// UUIDv7.
    #[schema(format = "uuid")]
    pub id: String,
    /// What the key is for.
    pub name: String,
    /// The key's first characters, to recognise it.
    pub prefix: String,
    /// What the key may do.
    pub scopes: Vec<ScopeDto>,
    /// The admin who created it.
    #[schema(format = "uuid")]
    pub created_by: String,
    /// When it was created.
    pub created_at: DateTime<Utc>,
    /// When it last authenticated a request (to the minute).
    pub last_used_at: Option<DateTime<Utc>>,
    /// When it was revoked.
    pub revoked_at: Option<DateTime<Utc>>,
}

impl From<ApiKey> for ApiKeyDto {
    fn from(k: ApiKey) -> Self {
        Self {
            id: k.id,
            name: k.name,
            prefix: k.prefix,
            scopes: k.scopes.into_iter().map(ScopeDto::from).collect(),
            created_by: k.created_by,
            created_at: k.created_at,
            last_used_at: k.last_used_at,
            revoked_at: k.revoked_at,
        }
    }
}

/// A new API key.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"name": "Web form import", "scopes": ["customers:write", "imports:write"]}))]
pub(crate) struct CreateApiKey {
    /// What the key is for, 1 to 200 characters.
    #[schema(
        min_length = 1,
        max_length = 200,
        pattern = r"^\s*[^\s\u0000][^\u0000]*$"
    )]
    pub name: String,
    /// One or more scopes.
    #[schema(value_type = Vec<ScopeDto>, min_items = 1, max_items = 8)]
    pub scopes: Vec<String>,
}

impl CreateApiKey {
    pub(crate) fn validate(self) -> Result<(String, Vec<Scope>), DomainError> {
        let mut errors = Vec::new();
        let name = check_name(&self.name, "/name")
            .map_err(|e| errors.push(e))
            .ok();
        if self.scopes.is_empty() {
            errors.push(FieldError::new(
                "/scopes",
                "required",
                "a key needs at least one scope",
            ));
        }
        if self.scopes.len() > Scope::ALL.len() {
            errors.push(FieldError::new(
                "/scopes",
                "too_long",
                format!("at most {} scopes", Scope::ALL.len()),
            ));
        }
        let mut scopes = Vec::new();
        for (i, raw) in self.scopes.iter().enumerate() {
            match Scope::parse(raw) {
                Some(scope) => scopes.push(scope),
                None => errors.push(FieldError::new(
                    format!("/scopes/{i}"),
                    "invalid_choice",
                    "not a scope: see the ScopeDto schema for the list",
                )),
            }
        }
        scopes.sort();
        scopes.dedup();
        match name {
            Some(name) if errors.is_empty() => Ok((name, scopes)),
            _ => Err(DomainError::Validation(errors)),
        }
    }
}

/// A new API key with its secret, shown this once.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct CreatedApiKey {
    /// The key as stored.
    #[serde(flatten)]
    pub api_key: ApiKeyDto,
    /// The secret: send as `Authorization: Bearer <key>`. It cannot be shown again.
    pub key: String,
}

/// A page of API keys.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct ApiKeyList {
    /// Keys in creation order, revoked ones included.
    pub items: Vec<ApiKeyDto>,
    /// Pass as `cursor` for the next page; `null` on the last page.
    pub next_cursor: Option<String>,
}
