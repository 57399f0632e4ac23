//! Request and response bodies of users.

use chrono::{DateTime, Utc};
use crm_domain::identity::{check_name, check_password, Email, Role, User};
use crm_domain::{DomainError, FieldError};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::responses::{non_null, nullable};

/// What a user may do.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub(crate) enum RoleDto {
    /// Sees everything; manages users, teams and API keys.
    Admin,
    /// Sees the records of the teams they manage, and their own.
    Manager,
    /// Sees their own records and the shared pool.
    Rep,
}

impl From<Role> for RoleDto {
    fn from(r: Role) -> Self {
        match r {
            Role::Admin => RoleDto::Admin,
            Role::Manager => RoleDto::Manager,
            Role::Rep => RoleDto::Rep,
        }
    }
}

/// A role name, or the field error saying which names exist.
fn parse_role(raw: &str, pointer: &str) -> Result<Role, FieldError> {
    Role::parse(raw).ok_or_else(|| {
        FieldError::new(
            pointer,
            "invalid_choice",
            "one of `admin`, `manager`, `rep`",
        )
    })
}

/// A user account.
#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({
    "id": "01936f0e-8a7c-7d4e-9a51-3c2b1f0e9d8a",
    "email": "li.wei@example.com",
    "display_name": "Li Wei",
    "role": "rep",
    "active": true,
    "created_at": "2026-11-26T09:30:00Z",
    "updated_at": "2026-11-26T09:30:00Z"
}))]
pub(crate) struct UserDto {
    /// UUIDv7.
    #[schema(format = "uuid")]
    pub id: String,
    /// Email address, as entered.
    pub email: String,
    /// Name shown to colleagues.
    pub display_name: String,
    /// What the user may do.
    pub role: RoleDto,
    /// Inactive users cannot sign in.
    pub active: bool,
    /// When the account was created.
    pub created_at: DateTime<Utc>,
    /// When the account last changed.
    pub updated_at: DateTime<Utc>,
}

impl From<User> for UserDto {
    fn from(u: User) -> Self {
        Self {
            id: u.id,
            email: u.email,
            display_name: u.display_name,
            role: u.role.into(),
            active: u.active,
            created_at: u.created_at,
            updated_at: u.updated_at,
        }
    }
}

/// A new user.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({
    "email": "li.wei@example.com",
    "display_name": "Li Wei",
    "role": "rep",
    "password": "correct horse battery"
}))]
pub(crate) struct CreateUser {
    /// Unique (case-insensitively) email address.
    #[schema(max_length = 254, format = "email")]
    pub email: String,
    /// Name shown to colleagues, 1 to 200 characters.
    #[schema(
        min_length = 1,
        max_length = 200,
        pattern = r"^\s*[^\s\u0000][^\u0000]*$"
    )]
    pub display_name: String,
    /// What the user may do.
    #[schema(value_type = RoleDto)]
    pub role: String,
    /// At least 12 and at most 256 characters.
    #[schema(min_length = 12, max_length = 256)]
    pub password: String,
}

/// The validated fields of a new user.
pub(crate) struct ValidNewUser {
    pub email: Email,
    pub display_name: String,
    pub role: Role,
    pub password: String,
}

impl CreateUser {
    /// Every problem at once, or the valid fields.
    pub(crate) fn validate(self) -> Result<ValidNewUser, DomainError> {
        let mut errors = Vec::new();
        let email = Email::parse(&self.email, "/email")
            .map_err(|e| errors.push(e))
            .ok();
        let name = check_name(&self.display_name, "/display_name")
            .map_err(|e| errors.push(e))
            .ok();
        let role = parse_role(&self.role, "/role")
            .map_err(|e| errors.push(e))
            .ok();
        if let Err(e) = check_password(&self.password, "/password") {
            errors.push(e);
        }
        match (email, name, role) {
            (Some(email), Some(display_name), Some(role)) if errors.is_empty() => {
                Ok(ValidNewUser {
                    email,
                    display_name,
                    role,
                    password: self.password,
                })
            }
            _ => Err(DomainError::Validation(errors)),
        }
    }
}

/// Changes to a user (JSON merge patch): fields left out stay as they are.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"role": "manager", "active": true}))]
pub(crate) struct UpdateUser {
    /// New display name.
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = String, min_length = 1, max_length = 200, pattern = r"^\s*[^\s\u0000][^\u0000]*$")]
    pub display_name: Option<Option<String>>,
    /// New role.
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = RoleDto)]
    pub role: Option<Option<String>>,
    /// `false` deactivates the user and ends all their sessions at once.
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = bool)]
    pub active: Option<Option<bool>>,
    /// A new password (12 to 256 characters); ends all the user's sessions at once.
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = String, min_length = 12, max_length = 256)]
    pub password: Option<Option<String>>,
}

/// The validated fields of a user change.
pub(crate) struct ValidUserChange {
    pub display_name: Option<String>,
    pub role: Option<Role>,
    pub active: Option<bool>,
    pub password: Option<String>,
}

impl UpdateUser {
    pub(crate) fn validate(self) -> Result<ValidUserChange, DomainError> {
        let mut errors = Vec::new();
        let display_name = non_null(self.display_name, "/display_name", &mut errors);
        let role = non_null(self.role, "/role", &mut errors)
            .and_then(|r| parse_role(&r, "/role").map_err(|e| errors.push(e)).ok());
        let active = non_null(self.active, "/active", &mut errors);
        let password = non_null(self.password, "/password", &mut errors);
        let display_name = display_name.and_then(|n| {
            check_name(&n, "/display_name")
                .map_err(|e| errors.push(e))
                .ok()
        });
        if let Some(p) = &password {
            if let Err(e) = check_password(p, "/password") {
                errors.push(e);
            }
        }
        if !errors.is_empty() {
            return Err(DomainError::Validation(errors));
        }
        Ok(ValidUserChange {
            display_name,
            role,
            active,
            password,
        })
    }
}

/// A page of users.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct UserList {
    /// Users in creation order.
    pub items: Vec<UserDto>,
    /// Pass as `cursor` for the next page; `null` on the last page.
    pub next_cursor: Option<String>,
}

/// Who is calling: a user, or an integration's API key.
#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({
    "kind": "user",
    "user": {
        "id": "01936f0e-8a7c-7d4e-9a51-3c2b1f0e9d8a",
        "email": "li.wei@example.com",
        "display_name": "Li Wei",
        "role": "rep",
        "active": true,
        "created_at": "2026-11-26T09:30:00Z",
        "updated_at": "2026-11-26T09:30:00Z"
    },
    "api_key_id": null,
    "scopes": []
}))]
pub(crate) struct Me {
    /// `user` for a person, `api_key` for an integration.
    pub kind: CallerKind,
    /// The user, when a person is calling.
    pub user: Option<UserDto>,
    /// The key, when an integration is calling.
    #[schema(format = "uuid")]
    pub api_key_id: Option<String>,
    /// The key's scopes (empty for people).
    pub scopes: Vec<String>,
}

/// The kind of caller.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub(crate) enum CallerKind {
    /// A person with an access token.
    User,
    /// An integration with an API key.
    ApiKey,
}
