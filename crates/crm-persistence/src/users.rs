//! `UserStore` and `SessionStore` on the database.

use std::time::Instant;

use chrono::{DateTime, NaiveDateTime, Utc};
use crm_domain::identity::{AuthSubject, Credentials, NewUser, Role, User, UserChanges};
use crm_domain::page::{Page, PageRequest};
use crm_domain::ports::{RefreshOutcome, SessionStore, UserStore};
use crm_domain::DomainError;
use diesel::prelude::*;
use diesel::result::Error as DieselError;

use crate::convert::{corrupt, new_id, stored, utc};
use crate::errors::{on_unique_violation, TxError};
use crate::schema::{refresh_tokens, users};
use crate::{Database, DbConnection};

#[derive(Queryable, Selectable)]
#[diesel(table_name = users)]
struct UserRow {
    id: String,
    email: String,
    display_name: String,
    role: String,
    active: bool,
    created_at: NaiveDateTime,
    updated_at: NaiveDateTime,
    version: i64,
}

impl UserRow {
    fn into_domain(self) -> Result<User, DomainError> {
        Ok(User {
            role: Role::parse(&self.role).ok_or_else(|| corrupt("users.role", &self.role))?,
            id: self.id,
            email: self.email,
            display_name: self.display_name,
            active: self.active,
            created_at: utc(self.created_at),
            updated_at: utc(self.updated_at),
            version: self.version,
        })
    }
}

const USER: DomainError = DomainError::NotFound { entity: "user" };

fn load_user(conn: &mut DbConnection, id: &str) -> Result<User, TxError> {
    let row = users::table
        .find(id)
        .select(UserRow::as_select())
        .get_result(conn)
        .optional()?
        .ok_or(USER)?;
    Ok(row.into_domain()?)
}

fn duplicate_email(err: DieselError) -> TxError {
    on_unique_violation(
        err,
        "duplicate_email",
        "a user with this email already exists",
    )
}

/// How many active admins would remain besides `except`.
fn other_active_admins(conn: &mut DbConnection, except: &str) -> Result<i64, TxError> {
    Ok(users::table
        .filter(users::role.eq(Role::Admin.as_str()))
        .filter(users::active.eq(true))
        .filter(users::id.ne(except))
        .count()
        .get_result(conn)?)
}

/// Marks every live refresh token of `user_id` revoked.
fn revoke_user_sessions(
    conn: &mut DbConnection,
    user_id: &str,
    now: NaiveDateTime,
) -> Result<(), TxError> {
    diesel::update(
        refresh_tokens::table
            .filter(refresh_tokens::user_id.eq(user_id))
            .filter(refresh_tokens::revoked_at.is_null()),
    )
    .set(refresh_tokens::revoked_at.eq(now))
    .execute(conn)?;
    Ok(())
}

impl UserStore for Database {
    fn count_users(&self) -> Result<i64, DomainError> {
        self.read(|conn| Ok(users::table.count().get_result(conn)?))
    }

    fn create_user(&self, user: NewUser) -> Result<User, DomainError> {
        let now = stored(Utc::now());
        let id = new_id();
        self.write(|conn| {
            diesel::insert_into(users::table)
                .values((
                    users::id.eq(&id),
                    users::email.eq(&user.email.display),
                    users::email_normalized.eq(&user.email.normalized),
                    users::display_name.eq(&user.display_name),
                    users::role.eq(user.role.as_str()),
                    users::active.eq(true),
                    users::password_hash.eq(&user.password_hash),
                    users::session_generation.eq(0_i64),
                    users::created_at.eq(now),
                    users::updated_at.eq(now),
                    users::version.eq(1_i64),
                ))
                .execute(conn)
                .map_err(duplicate_email)?;
            load_user(conn, &id)
        })
    }

    fn user(&self, id: &str) -> Result<User, DomainError> {
        self.read(|conn| load_user(conn, id))
    }

    fn list_users(&self, page: &PageRequest) -> Result<Page<User>, DomainError> {
        self.read(|conn| {
            let mut query = users::table
                .select(UserRow::as_select())
                .order(users::id.asc())
                .limit(i64::from(page.limit) + 1)
                .into_boxed();
            if let Some(after) = &page.after {
                query = query.filter(users::id.gt(after));
            }
            let rows = query
                .load(conn)?
                .into_iter()
                .map(UserRow::into_domain)
                .collect::<Result<Vec<_>, _>>()?;
            Ok(Page::from_rows(rows, page.limit, |u| u.id.clone()))
        })
    }

    fn update_user(
        &self,
        id: &str,
        changes: UserChanges,
        expected_version: Option<i64>,
    ) -> Result<User, DomainError> {
        let now = stored(Utc::now());
        let updated = self.write(|conn| {
            let current = load_user(conn, id)?;
            if let Some(expected) = expected_version {
                if expected != current.version {
                    return Err(DomainError::PreconditionFailed {
                        current_version: current.version,
                    }
                    .into());
                }
            }
            let stays_admin = changes.role.unwrap_or(current.role) == Role::Admin
                && changes.active.unwrap_or(current.active);
            if current.role == Role::Admin
                && current.active
                && !stays_admin
                && other_active_admins(conn, id)? == 0
            {
                return Err(DomainError::Conflict {
                    code: "last_admin",
                    message: "the last active admin cannot be deactivated or demoted".into(),
                }
                .into());
            }
            diesel::update(users::table.find(id))
                .set((
                    users::display_name.eq(changes
                        .display_name
                        .as_ref()
                        .unwrap_or(&current.display_name)),
                    users::role.eq(changes.role.unwrap_or(current.role).as_str()),
                    users::active.eq(changes.active.unwrap_or(current.active)),
                    users::updated_at.eq(now),
                    users::version.eq(current.version + 1),
                ))
                .execute(conn)?;
            if let Some(hash) = &changes.password_hash {
                diesel::update(users::table.find(id))
                    .set(users::password_hash.eq(hash))
                    .execute(conn)?;
            }
            if changes.ends_sessions() {
                diesel::update(users::table.find(id))
                    .set(users::session_generation.eq(users::session_generation + 1))
                    .execute(conn)?;
                revoke_user_sessions(conn, id, now)?;
            }
            load_user(conn, id)
        });
        // After the commit: no request on this server authenticates with the facts before it.
        self.subjects.forget();
        updated
    }

    fn credentials(&self, email_normalized: &str) -> Result<Option<Credentials>, DomainError> {
        self.read(|conn| {
            let row = users::table
                .filter(users::email_normalized.eq(email_normalized))
                .select((users::id, users::password_hash, users::active))
                .get_result::<(String, String, bool)>(conn)
                .optional()?;
            Ok(row.map(|(user_id, password_hash, active)| Credentials {
                user_id,
                password_hash,
                active,
            }))
        })
    }

    fn auth_subject(&self, user_id: &str) -> Result<Option<AuthSubject>, DomainError> {
        if let Some(subject) = self.recent_auth_subject(user_id) {
            return Ok(Some(subject));
        }
        let generation = self.subjects.generation();
        let read_at = Instant::now();
        // One indexed read: no transaction needed.
        let mut conn = self.conn()?;
        let subject = subject(&mut conn, user_id).map_err(TxError::into_domain)?;
        if let Some(subject) = &subject {
            self.subjects
                .put(user_id.to_string(), generation, read_at, subject.clone());
        }
        Ok(subject)
    }

    fn recent_auth_subject(&self, user_id: &str) -> Option<AuthSubject> {
        self.subjects.get(user_id, Instant::now())
    }
}

fn subject(conn: &mut DbConnection, user_id: &str) -> Result<Option<AuthSubject>, TxError> {
    let row = users::table
        .find(user_id)
        .select((users::role, users::active, users::session_generation))
        .get_result::<(String, bool, i64)>(conn)
        .optional()?;
    Ok(row
        .map(|(role, active, session_generation)| {
            Ok::<_, DomainError>(AuthSubject {
                user_id: user_id.to_string(),
                role: Role::parse(&role).ok_or_else(|| corrupt("users.role", &role))?,
                active,
                session_generation,
            })
        })
        .transpose()?)
}

fn revoke_family(
    conn: &mut DbConnection,
    family_id: &str,
    now: NaiveDateTime,
) -> Result<(), TxError> {
    diesel::update(
        refresh_tokens::table
            .filter(refresh_tokens::family_id.eq(family_id))
            .filter(refresh_tokens::revoked_at.is_null()),
    )
    .set(refresh_tokens::revoked_at.eq(now))
    .execute(conn)?;
    Ok(())
}

#[derive(Queryable)]
struct TokenRow {
    family_id: String,
    user_id: String,
    expires_at: NaiveDateTime,
    used_at: Option<NaiveDateTime>,
    revoked_at: Option<NaiveDateTime>,
}

fn token(conn: &mut DbConnection, digest: &str) -> Result<Option<TokenRow>, TxError> {
    Ok(refresh_tokens::table
        .find(digest)
        .select((
            refresh_tokens::family_id,
            refresh_tokens::user_id,
            refresh_tokens::expires_at,
            refresh_tokens::used_at,
            refresh_tokens::revoked_at,
        ))
        .get_result::<TokenRow>(conn)
        .optional()?)
}

fn insert_token(
    conn: &mut DbConnection,
    digest: &str,
    family_id: &str,
    user_id: &str,
    now: NaiveDateTime,
    expires_at: DateTime<Utc>,
) -> Result<(), TxError> {
    diesel::insert_into(refresh_tokens::table)
        .values((
            refresh_tokens::digest.eq(digest),
            refresh_tokens::family_id.eq(family_id),
            refresh_tokens::user_id.eq(user_id),
            refresh_tokens::created_at.eq(now),
            refresh_tokens::expires_at.eq(stored(expires_at)),
        ))
        .execute(conn)?;
    Ok(())
}

impl SessionStore for Database {
    fn start_session(
        &self,
        user_id: &str,
        token_digest: &str,
        expires_at: DateTime<Utc>,
    ) -> Result<(), DomainError> {
        let now = stored(Utc::now());
        self.write(|conn| insert_token(conn, token_digest, &new_id(), user_id, now, expires_at))
    }

    fn rotate_session(
        &self,
        presented_digest: &str,
        new_digest: &str,
        expires_at: DateTime<Utc>,
        now: DateTime<Utc>,
    ) -> Result<RefreshOutcome, DomainError> {
        let now = stored(now);
        self.write(|conn| {
            let Some(row) = token(conn, presented_digest)? else {
                return Ok(RefreshOutcome::Invalid);
            };
            if row.revoked_at.is_some() {
                return Ok(RefreshOutcome::Invalid);
            }
            if row.used_at.is_some() {
                revoke_family(conn, &row.family_id, now)?;
                return Ok(RefreshOutcome::Reused);
            }
            if row.expires_at <= now {
                return Ok(RefreshOutcome::Invalid);
            }
            let subject = match subject(conn, &row.user_id)? {
                Some(subject) if subject.active => subject,
                _ => {
                    revoke_family(conn, &row.family_id, now)?;
                    return Ok(RefreshOutcome::Invalid);
                }
            };
            diesel::update(refresh_tokens::table.find(presented_digest))
                .set(refresh_tokens::used_at.eq(now))
                .execute(conn)?;
            insert_token(
                conn,
                new_digest,
                &row.family_id,
                &row.user_id,
                now,
                expires_at,
            )?;
            Ok(RefreshOutcome::Rotated(subject))
        })
    }

    fn end_session(&self, presented_digest: &str, now: DateTime<Utc>) -> Result<bool, DomainError> {
        let now = stored(now);
        self.write(|conn| {
            let Some(row) = token(conn, presented_digest)? else {
                return Ok(false);
            };
            if row.revoked_at.is_some() {
                return Ok(false);
            }
            revoke_family(conn, &row.family_id, now)?;
            Ok(true)
        })
    }
}
