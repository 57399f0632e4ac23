//! Creating users outside the API: the first admin on first start, and `crm user create`.

use crm_domain::identity::{check_name, check_password, Email, NewUser, Role};
use crm_domain::ports::UserStore;
use crm_domain::secrets::{hash_password, new_token};
use crm_domain::DomainError;

use crate::cli::RoleArg;

/// Environment variable with the first admin's password.
pub const ADMIN_PASSWORD_ENV: &str = "CRM_ADMIN_PASSWORD";
/// Environment variable with the password for `crm user create`.
pub const USER_PASSWORD_ENV: &str = "CRM_USER_PASSWORD";

impl From<RoleArg> for Role {
    fn from(r: RoleArg) -> Self {
        match r {
            RoleArg::Admin => Role::Admin,
            RoleArg::Manager => Role::Manager,
            RoleArg::Rep => Role::Rep,
        }
    }
}

/// A user created here, and the password to tell the operator when it was generated.
pub struct CreatedUser {
    /// The new user's id.
    pub id: String,
    /// The generated password, `None` when the operator supplied it.
    pub generated_password: Option<String>,
}

/// Creates a user; the password is `password`, or a generated one (returned).
pub fn create_user(
    store: &dyn UserStore,
    email: &str,
    name: Option<&str>,
    role: Role,
    password: Option<String>,
) -> anyhow::Result<CreatedUser> {
    let email =
        Email::parse(email, "email").map_err(|e| anyhow::anyhow!("email: {}", e.message))?;
    let default_name = email
        .display
        .split('@')
        .next()
        .unwrap_or("admin")
        .to_string();
    let display_name = check_name(name.unwrap_or(&default_name), "name")
        .map_err(|e| anyhow::anyhow!("name: {}", e.message))?;
    let (password, generated) = match password {
        Some(p) => (p, false),
        None => (new_token()?, true),
    };
    check_password(&password, "password")
        .map_err(|e| anyhow::anyhow!("password: {}", e.message))?;
    let user = store
        .create_user(NewUser {
            email,
            display_name,
            role,
            password_hash: hash_password(&password)?,
        })
        .map_err(|e| match e {
            DomainError::Conflict { message, .. } => anyhow::anyhow!("{message}"),
            other => anyhow::anyhow!("{other}"),
        })?;
    Ok(CreatedUser {
        id: user.id,
        generated_password: generated.then_some(password),
    })
}

/// On first start (no user at all), creates the admin account and tells the operator how to
/// sign in. Returns whether an admin was created.
pub fn ensure_first_admin(store: &dyn UserStore, email: &str) -> anyhow::Result<bool> {
    if store.count_users()? > 0 {
        return Ok(false);
    }
    let password = std::env::var(ADMIN_PASSWORD_ENV)
        .ok()
        .filter(|p| !p.is_empty());
    let created = create_user(store, email, Some("Administrator"), Role::Admin, password)?;
    tracing::info!(user_id = %created.id, %email, "first admin created");
    if let Some(password) = created.generated_password {
        // Printed once, to the terminal only: it is not stored anywhere in clear.
        eprintln!(
            "\nCreated the first admin account.\n  email:    {email}\n  password: {password}\n\
             Sign in with POST /api/v1/auth/login and change the password.\n"
        );
    }
    Ok(true)
}
