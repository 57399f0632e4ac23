//! Users, roles, teams, API keys and who a caller is.

use chrono::{DateTime, Utc};

use crate::{DomainError, FieldError};

/// What a user may do. Admins run the installation; managers lead teams; reps sell.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Role {
    /// Sees everything, manages users, teams and keys.
    Admin,
    /// Sees the records of the teams they manage, and their own.
    Manager,
    /// Sees their own records and the shared pool.
    Rep,
}

impl Role {
    /// Every role, most powerful first.
    pub const ALL: [Role; 3] = [Role::Admin, Role::Manager, Role::Rep];

    /// The lower-case name.
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Admin => "admin",
            Role::Manager => "manager",
            Role::Rep => "rep",
        }
    }

    /// Parses the lower-case name.
    pub fn parse(raw: &str) -> Option<Role> {
        Role::ALL.into_iter().find(|r| r.as_str() == raw)
    }
}

/// A permission an API key can carry. Keys act as service principals with only their scopes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Scope {
    /// Read customers and contacts.
    CustomersRead,
    /// Create and change customers and contacts.
    CustomersWrite,
    /// Read activities and follow-ups.
    ActivitiesRead,
    /// Record activities.
    ActivitiesWrite,
    /// Read opportunities.
    OpportunitiesRead,
    /// Create and move opportunities.
    OpportunitiesWrite,
    /// Import leads.
    ImportsWrite,
    /// Read users and teams.
    UsersRead,
}

impl Scope {
    /// Every scope.
    pub const ALL: [Scope; 8] = [
        Scope::CustomersRead,
        Scope::CustomersWrite,
        Scope::ActivitiesRead,
        Scope::ActivitiesWrite,
        Scope::OpportunitiesRead,
        Scope::OpportunitiesWrite,
        Scope::ImportsWrite,
        Scope::UsersRead,
    ];

    /// The `resource:action` name.
    pub fn as_str(self) -> &'static str {
        match self {
            Scope::CustomersRead => "customers:read",
            Scope::CustomersWrite => "customers:write",
            Scope::ActivitiesRead => "activities:read",
            Scope::ActivitiesWrite => "activities:write",
            Scope::OpportunitiesRead => "opportunities:read",
            Scope::OpportunitiesWrite => "opportunities:write",
            Scope::ImportsWrite => "imports:write",
            Scope::UsersRead => "users:read",
        }
    }

    /// Parses a `resource:action` name.
    pub fn parse(raw: &str) -> Option<Scope> {
        Scope::ALL.into_iter().find(|s| s.as_str() == raw)
    }
}

/// A user account.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct User {
    /// UUIDv7.
    pub id: String,
    /// The address as entered (trimmed).
    pub email: String,
    /// Name shown to colleagues.
    pub display_name: String,
    /// What the user may do.
    pub role: Role,
    /// Inactive users cannot log in and their tokens stop working.
    pub active: bool,
    /// When the account was created.
    pub created_at: DateTime<Utc>,
    /// When the account last changed.
    pub updated_at: DateTime<Utc>,
    /// Row version, the `ETag`.
    pub version: i64,
}

/// The minimum and maximum password length in characters.
pub const PASSWORD_LENGTH: (usize, usize) = (12, 256);
/// The longest display name or team name.
pub const NAME_MAX: usize = 200;
/// The longest email address (RFC 5321).
pub const EMAIL_MAX: usize = 254;

/// An email address: trimmed for display, lower-cased for matching.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Email {
    /// As entered, trimmed.
    pub display: String,
    /// Lower-cased: the form used for uniqueness and lookups.
    pub normalized: String,
}

impl Email {
    /// Parses an address; `pointer` names the field in errors.
    pub fn parse(raw: &str, pointer: &str) -> Result<Email, FieldError> {
        use validator::ValidateEmail;
        let display = raw.trim();
        if display.chars().count() > EMAIL_MAX {
            return Err(FieldError::new(
                pointer,
                "too_long",
                format!("at most {EMAIL_MAX} characters"),
            ));
        }
        if !display.validate_email() || !display.contains('.') {
            return Err(FieldError::new(pointer, "email", "not an email address"));
        }
        Ok(Email {
            display: display.to_string(),
            normalized: display.to_lowercase(),
        })
    }
}

/// Checks a new password against the policy.
pub fn check_password(password: &str, pointer: &str) -> Result<(), FieldError> {
    let length = password.chars().count();
    let (min, max) = PASSWORD_LENGTH;
    if length < min {
        return Err(FieldError::new(
            pointer,
            "too_short",
            format!("at least {min} characters"),
        ));
    }
    if length > max {
        return Err(FieldError::new(
            pointer,
            "too_long",
            format!("at most {max} characters"),
        ));
    }
    Ok(())
}

/// Checks a required name: at most [`NAME_MAX`] characters as sent, not blank; returns it
/// trimmed.
pub fn check_name(name: &str, pointer: &str) -> Result<String, FieldError> {
    let trimmed = name.trim();
    if trimmed.is_empty() {
        return Err(FieldError::new(pointer, "required", "must not be blank"));
    }
    if name.chars().count() > NAME_MAX {
        return Err(FieldError::new(
            pointer,
            "too_long",
            format!("at most {NAME_MAX} characters"),
        ));
    }
    Ok(trimmed.to_string())
}

/// A validated request to create a user (the password already hashed).
#[derive(Debug, Clone)]
pub struct NewUser {
    /// The address.
    pub email: Email,
    /// Name shown to colleagues.
    pub display_name: String,
    /// What the user may do.
    pub role: Role,
    /// The argon2id PHC string.
    pub password_hash: String,
}

/// A validated change to a user; `None` leaves a field as it is.
#[derive(Debug, Clone, Default)]
pub struct UserChanges {
    /// New display name.
    pub display_name: Option<String>,
    /// New role.
    pub role: Option<Role>,
    /// Activate or deactivate (deactivating ends every session).
    pub active: Option<bool>,
    /// New password hash (ends every session).
    pub password_hash: Option<String>,
}

impl UserChanges {
    /// Whether the change must end the user's sessions.
    pub fn ends_sessions(&self) -> bool {
        self.password_hash.is_some() || self.active == Some(false)
    }
}

/// What login needs to know about an account.
#[derive(Debug, Clone)]
pub struct Credentials {
    /// The user.
    pub user_id: String,
    /// The argon2id PHC string.
    pub password_hash: String,
    /// Inactive users cannot log in.
    pub active: bool,
}

/// What authenticating a token needs to know about its user, checked on every request so a
/// deactivation, role change or password change applies at once (on another server sharing
/// the database, within a second).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuthSubject {
    /// The user.
    pub user_id: String,
    /// Current role.
    pub role: Role,
    /// Inactive users' tokens are refused.
    pub active: bool,
    /// Bumped when sessions are ended; tokens carrying an older generation are refused.
    pub session_generation: i64,
}

/// A team: managers lead it, members belong to it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Team {
    /// UUIDv7.
    pub id: String,
    /// Unique name.
    pub name: String,
    /// Users who manage the team (one or more).
    pub manager_ids: Vec<String>,
    /// Users who belong to the team.
    pub member_ids: Vec<String>,
    /// When the team was created.
    pub created_at: DateTime<Utc>,
    /// When the team last changed.
    pub updated_at: DateTime<Utc>,
    /// Row version, the `ETag`.
    pub version: i64,
}

/// A validated team definition (for create, or the full replacement on update).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TeamDraft {
    /// Unique name.
    pub name: String,
    /// One or more managers.
    pub manager_ids: Vec<String>,
    /// Members.
    pub member_ids: Vec<String>,
}

/// An API key as listed (never with its secret).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiKey {
    /// UUIDv7.
    pub id: String,
    /// What the key is for.
    pub name: String,
    /// The key's first characters, to recognise it.
    pub prefix: String,
    /// What the key may do.
    pub scopes: Vec<Scope>,
    /// The admin who created it.
    pub created_by: String,
    /// When it was created.
    pub created_at: DateTime<Utc>,
    /// When it last authenticated a request (to the minute).
    pub last_used_at: Option<DateTime<Utc>>,
    /// When it was revoked; revoked keys authenticate nothing.
    pub revoked_at: Option<DateTime<Utc>>,
}

/// Who is calling.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Principal {
    /// A person, authenticated by an access token.
    User {
        /// The user.
        user_id: String,
        /// Their current role.
        role: Role,
    },
    /// An integration, authenticated by an API key.
    ApiKey {
        /// The key.
        key_id: String,
        /// What it may do.
        scopes: Vec<Scope>,
    },
}

impl Principal {
    /// The acting user, if a person is calling.
    pub fn user_id(&self) -> Option<&str> {
        match self {
            Principal::User { user_id, .. } => Some(user_id),
            Principal::ApiKey { .. } => None,
        }
    }

    /// The role of a person calling.
    pub fn role(&self) -> Option<Role> {
        match self {
            Principal::User { role, .. } => Some(*role),
            Principal::ApiKey { .. } => None,
        }
    }

    /// Fails with `Forbidden` unless a person with one of `roles` is calling.
    pub fn require_role(&self, roles: &[Role]) -> Result<(), DomainError> {
        match self.role() {
            Some(role) if roles.contains(&role) => Ok(()),
            _ => Err(DomainError::Forbidden),
        }
    }
}

/// Which records a caller may see, by owner. The one visibility rule: admins and API keys see
/// everything; a manager sees records owned by members of the teams they manage and their own; a
/// rep sees their own. Managers and reps also see unowned records (the shared pool).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Visibility {
    /// Every record.
    All,
    /// Records owned by one of these users, or owned by nobody.
    OwnersOrPool(Vec<String>),
}

impl Visibility {
    /// Whether a record with this owner is visible.
    pub fn allows(&self, owner_id: Option<&str>) -> bool {
        match (self, owner_id) {
            (Visibility::All, _) | (Visibility::OwnersOrPool(_), None) => true,
            (Visibility::OwnersOrPool(owners), Some(owner)) => owners.iter().any(|o| o == owner),
        }
    }

    /// The visibility of a caller whose role alone decides it (admins, reps, API keys);
    /// `None` for a manager, whose teams decide it.
    pub fn by_role(principal: &Principal) -> Option<Visibility> {
        match principal {
            Principal::ApiKey { .. } => Some(Visibility::All),
            Principal::User { role, user_id } => match role {
                Role::Admin => Some(Visibility::All),
                Role::Rep => Some(Visibility::OwnersOrPool(vec![user_id.clone()])),
                Role::Manager => None,
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn emails_are_trimmed_for_display_and_lower_cased_for_matching() {
        let email = Email::parse("  Li.Wei@Example.COM ", "/email");
        assert_eq!(
            email,
            Ok(Email {
                display: "Li.Wei@Example.COM".into(),
                normalized: "li.wei@example.com".into(),
            })
        );
    }

    #[test]
    fn malformed_emails_are_refused() {
        for bad in [
            "",
            "li",
            "li@",
            "@example.com",
            "li wei@example.com",
            "li@localhost",
        ] {
            assert_eq!(
                Email::parse(bad, "/email").map_err(|e| e.code),
                Err("email".to_string()),
                "{bad:?}"
            );
        }
    }

    #[test]
    fn passwords_need_twelve_characters() {
        assert_eq!(
            check_password("short-pass1", "/password").map_err(|e| e.code),
            Err("too_short".into())
        );
        assert_eq!(check_password("long-enough-1", "/password"), Ok(()));
        assert_eq!(
            check_password("密码密码密码密码密码密码", "/password"),
            Ok(()),
            "counted in characters"
        );
    }

    #[test]
    fn names_are_trimmed_and_bounded() {
        assert_eq!(check_name("  East  ", "/name"), Ok("East".into()));
        assert_eq!(
            check_name("   ", "/name").map_err(|e| e.code),
            Err("required".into())
        );
        assert_eq!(
            check_name(&"x".repeat(201), "/name").map_err(|e| e.code),
            Err("too_long".into())
        );
        let padded = format!(" {} ", "x".repeat(199));
        assert_eq!(
            check_name(&padded, "/name").map_err(|e| e.code),
            Err("too_long".into()),
            "the limit counts what was sent, as the schema's maxLength does"
        );
    }

    #[test]
    fn visibility_rule() {
        let rep = Visibility::OwnersOrPool(vec!["u1".into()]);
        assert!(rep.allows(Some("u1")));
        assert!(rep.allows(None));
        assert!(!rep.allows(Some("u2")));
        assert!(Visibility::All.allows(Some("u2")));
    }

    #[test]
    fn roles_and_scopes_round_trip() {
        for role in Role::ALL {
            assert_eq!(Role::parse(role.as_str()), Some(role));
        }
        for scope in Scope::ALL {
            assert_eq!(Scope::parse(scope.as_str()), Some(scope));
        }
        assert_eq!(Role::parse("Admin"), None);
    }

    #[test]
    fn only_listed_roles_pass() {
        let rep = Principal::User {
            user_id: "u".into(),
            role: Role::Rep,
        };
        assert_eq!(
            rep.require_role(&[Role::Admin]),
            Err(DomainError::Forbidden)
        );
        assert_eq!(rep.require_role(&[Role::Admin, Role::Rep]), Ok(()));
        let key = Principal::ApiKey {
            key_id: "k".into(),
            scopes: vec![],
        };
        assert_eq!(
            key.require_role(&[Role::Admin]),
            Err(DomainError::Forbidden)
        );
    }
}
