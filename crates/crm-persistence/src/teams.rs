//! `TeamStore` on the database, and the visibility rule that depends on team membership.

use std::collections::HashMap;

use chrono::{NaiveDateTime, Utc};
use crm_domain::identity::{Principal, Role, Team, TeamDraft, Visibility};
use crm_domain::page::{Page, PageRequest};
use crm_domain::ports::TeamStore;
use crm_domain::{DomainError, FieldError};
use diesel::prelude::*;
use diesel::result::Error as DieselError;

use crate::convert::{new_id, stored, utc};
use crate::errors::{check_version, on_unique_violation, TxError};
use crate::schema::{team_members, teams, users};
use crate::{Database, DbConnection};

#[derive(Queryable, Selectable)]
#[diesel(table_name = teams)]
struct TeamRow {
    id: String,
    name: String,
    created_at: NaiveDateTime,
    updated_at: NaiveDateTime,
    version: i64,
}

const TEAM: DomainError = DomainError::NotFound { entity: "team" };

/// Teams with their managers and members, read with one query for all their memberships.
fn with_members(conn: &mut DbConnection, rows: Vec<TeamRow>) -> Result<Vec<Team>, TxError> {
    let ids: Vec<&str> = rows.iter().map(|r| r.id.as_str()).collect();
    let memberships: Vec<(String, String, bool)> = team_members::table
        .filter(team_members::team_id.eq_any(&ids))
        .order((team_members::team_id, team_members::user_id))
        .select((
            team_members::team_id,
            team_members::user_id,
            team_members::is_manager,
        ))
        .load(conn)?;
    let mut by_team: HashMap<String, (Vec<String>, Vec<String>)> = HashMap::new();
    for (team_id, user_id, is_manager) in memberships {
        let entry = by_team.entry(team_id).or_default();
        if is_manager {
            entry.0.push(user_id);
        } else {
            entry.1.push(user_id);
        }
    }
    Ok(rows
        .into_iter()
        .map(|row| {
            let (manager_ids, member_ids) = by_team.remove(&row.id).unwrap_or_default();
            Team {
                id: row.id,
                name: row.name,
                manager_ids,
                member_ids,
                created_at: utc(row.created_at),
                updated_at: utc(row.updated_at),
                version: row.version,
            }
        })
        .collect())
}

fn load(conn: &mut DbConnection, id: &str) -> Result<Team, TxError> {
    let row = teams::table
        .find(id)
        .select(TeamRow::as_select())
        .get_result(conn)
        .optional()?
        .ok_or(TEAM)?;
    with_members(conn, vec![row])?.pop().ok_or(TEAM.into())
}

/// Every listed user must exist, and managers must be managers or admins.
fn check_users(conn: &mut DbConnection, team: &TeamDraft) -> Result<(), TxError> {
    let ids: Vec<&str> = team
        .manager_ids
        .iter()
        .chain(&team.member_ids)
        .map(String::as_str)
        .collect();
    let roles: HashMap<String, String> = users::table
        .filter(users::id.eq_any(&ids))
        .select((users::id, users::role))
        .load::<(String, String)>(conn)?
        .into_iter()
        .collect();
    let mut errors = Vec::new();
    for (field, list) in [
        ("manager_ids", &team.manager_ids),
        ("member_ids", &team.member_ids),
    ] {
        for (i, id) in list.iter().enumerate() {
            let pointer = format!("/{field}/{i}");
            match roles.get(id).map(String::as_str) {
                None => errors.push(FieldError::new(
                    pointer,
                    "unknown_user",
                    "no user has this id",
                )),
                Some(role) if field == "manager_ids" && role == Role::Rep.as_str() => {
                    errors.push(FieldError::new(
                        pointer,
                        "not_a_manager",
                        "a team manager must have the manager or admin role",
                    ))
                }
                Some(_) => {}
            }
        }
    }
    if errors.is_empty() {
        Ok(())
    } else {
        Err(DomainError::Validation(errors).into())
    }
}

fn write_members(conn: &mut DbConnection, team_id: &str, team: &TeamDraft) -> Result<(), TxError> {
    diesel::delete(team_members::table.filter(team_members::team_id.eq(team_id))).execute(conn)?;
    let rows: Vec<_> = team
        .manager_ids
        .iter()
        .map(|id| (id, true))
        .chain(
            team.member_ids
                .iter()
                .filter(|id| !team.manager_ids.contains(id))
                .map(|id| (id, false)),
        )
        .map(|(user_id, is_manager)| {
            (
                team_members::team_id.eq(team_id),
                team_members::user_id.eq(user_id),
                team_members::is_manager.eq(is_manager),
            )
        })
        .collect();
    for row in rows {
        diesel::insert_into(team_members::table)
            .values(row)
            .execute(conn)?;
    }
    Ok(())
}

fn duplicate_name(err: DieselError) -> TxError {
    on_unique_violation(
        err,
        "duplicate_name",
        "a team with this name already exists",
    )
}

impl TeamStore for Database {
    fn create_team(&self, team: TeamDraft) -> Result<Team, DomainError> {
        let id = new_id();
        let now = stored(Utc::now());
        self.write(|conn| {
            check_users(conn, &team)?;
            diesel::insert_into(teams::table)
                .values((
                    teams::id.eq(&id),
                    teams::name.eq(&team.name),
                    teams::name_normalized.eq(team.name.to_lowercase()),
                    teams::created_at.eq(now),
                    teams::updated_at.eq(now),
                    teams::version.eq(1_i64),
                ))
                .execute(conn)
                .map_err(duplicate_name)?;
            write_members(conn, &id, &team)?;
            load(conn, &id)
        })
    }

    fn team(&self, id: &str) -> Result<Team, DomainError> {
        self.read(|conn| load(conn, id))
    }

    fn list_teams(&self, page: &PageRequest) -> Result<Page<Team>, DomainError> {
        self.read(|conn| {
            let mut query = teams::table
                .select(TeamRow::as_select())
                .order(teams::id.asc())
                .limit(i64::from(page.limit) + 1)
                .into_boxed();
            if let Some(after) = &page.after {
                query = query.filter(teams::id.gt(after));
            }
            let rows = query.load(conn)?;
            let page = Page::from_rows(rows, page.limit, |t| t.id.clone());
            Ok(Page {
                items: with_members(conn, page.items)?,
                next_after: page.next_after,
            })
        })
    }

    fn replace_team(
        &self,
        id: &str,
        team: TeamDraft,
        expected_version: Option<i64>,
    ) -> Result<Team, DomainError> {
        let now = stored(Utc::now());
        self.write(|conn| {
            let current = load(conn, id)?;
            check_version(expected_version, current.version)?;
            check_users(conn, &team)?;
            diesel::update(teams::table.find(id))
                .set((
                    teams::name.eq(&team.name),
                    teams::name_normalized.eq(team.name.to_lowercase()),
                    teams::updated_at.eq(now),
                    teams::version.eq(current.version + 1),
                ))
                .execute(conn)
                .map_err(duplicate_name)?;
            write_members(conn, id, &team)?;
            load(conn, id)
        })
    }

    fn delete_team(&self, id: &str) -> Result<(), DomainError> {
        self.write(|conn| {
            diesel::delete(team_members::table.filter(team_members::team_id.eq(id)))
                .execute(conn)?;
            let deleted = diesel::delete(teams::table.find(id)).execute(conn)?;
            if deleted == 0 {
                return Err(TEAM.into());
            }
            Ok(())
        })
    }

    fn visibility(&self, principal: &Principal) -> Result<Visibility, DomainError> {
        if let Some(visibility) = Visibility::by_role(principal) {
            return Ok(visibility);
        }
        match principal {
            Principal::ApiKey { .. } => Ok(Visibility::All),
            Principal::User { user_id, .. } => {
                let mut conn = self.conn()?;
                let db_error = |e| TxError::from(e).into_domain();
                let managed: Vec<String> = team_members::table
                    .filter(team_members::user_id.eq(user_id))
                    .filter(team_members::is_manager.eq(true))
                    .select(team_members::team_id)
                    .load(&mut *conn)
                    .map_err(db_error)?;
                let mut owners: Vec<String> = team_members::table
                    .filter(team_members::team_id.eq_any(&managed))
                    .select(team_members::user_id)
                    .distinct()
                    .load(&mut *conn)
                    .map_err(db_error)?;
                if !owners.contains(user_id) {
                    owners.push(user_id.clone());
                }
                owners.sort();
                Ok(Visibility::OwnersOrPool(owners))
            }
        }
    }
}
