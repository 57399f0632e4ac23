//! `ScoringStore` on the database: the behaviour catalogue, the decay setting, and customers'
//! stored scores. An activity records its behaviours as JSON with the points of the time; a
//! customer's stored score is recomputed in every activity write's transaction and, as the
//! points decay, once a day by [`ScoringStore::refresh_scores`].

use chrono::{DateTime, NaiveDateTime, Utc};
use crm_domain::ports::{Actor, ScoringStore};
use crm_domain::scoring::{
    score, Behavior, BehaviorChanges, BehaviorDraft, RecordedBehavior, Recording, ScoringSettings,
};
use crm_domain::DomainError;
use diesel::prelude::*;

use crate::conditions::FixedSql;
use crate::convert::{corrupt, stored, utc};
use crate::customers::load_visible;
use crate::errors::{check_version, on_unique_violation, TxError};
use crate::schema::{activities, behaviors, customers, scoring_settings};
use crate::{Database, DbConnection};

/// Customers recomputed per transaction by the daily refresh.
const REFRESH_CHUNK: i64 = 500;

#[derive(Queryable, Selectable)]
#[diesel(table_name = behaviors)]
struct BehaviorRow {
    code: String,
    label: String,
    description: Option<String>,
    points: i64,
    archived: bool,
    created_at: NaiveDateTime,
    updated_at: NaiveDateTime,
    version: i64,
}

impl From<BehaviorRow> for Behavior {
    fn from(row: BehaviorRow) -> Self {
        Behavior {
            code: row.code,
            label: row.label,
            description: row.description,
            points: row.points,
            archived: row.archived,
            created_at: utc(row.created_at),
            updated_at: utc(row.updated_at),
            version: row.version,
        }
    }
}

#[derive(Queryable, Selectable)]
#[diesel(table_name = scoring_settings)]
struct SettingsRow {
    half_life_days: i64,
    updated_at: NaiveDateTime,
    version: i64,
    scores_refreshed_at: Option<NaiveDateTime>,
}

impl SettingsRow {
    fn half_life(&self) -> u32 {
        u32::try_from(self.half_life_days).unwrap_or(crm_domain::scoring::DEFAULT_HALF_LIFE_DAYS)
    }

    fn into_domain(self) -> ScoringSettings {
        ScoringSettings {
            half_life_days: self.half_life(),
            updated_at: utc(self.updated_at),
            version: self.version,
        }
    }
}

const BEHAVIOR: DomainError = DomainError::NotFound { entity: "behavior" };

/// The whole catalogue, archived behaviours too, by code.
pub(crate) fn catalogue(conn: &mut DbConnection) -> Result<Vec<Behavior>, TxError> {
    Ok(behaviors::table
        .select(BehaviorRow::as_select())
        .order(behaviors::code.asc())
        .load(conn)?
        .into_iter()
        .map(Behavior::from)
        .collect())
}

fn settings(conn: &mut DbConnection) -> Result<SettingsRow, TxError> {
    scoring_settings::table
        .find(1)
        .select(SettingsRow::as_select())
        .get_result(conn)
        .optional()?
        .ok_or_else(|| DomainError::internal("the scoring settings row is missing").into())
}

fn load_behavior(conn: &mut DbConnection, code: &str) -> Result<Behavior, TxError> {
    Ok(behaviors::table
        .find(code)
        .select(BehaviorRow::as_select())
        .get_result(conn)
        .optional()?
        .ok_or(BEHAVIOR)?
        .into())
}

/// Activities recording behaviours, as the partial index `activities_scored` says it (a literal,
/// so both planners match the index's predicate).
fn scored() -> FixedSql {
    FixedSql("activities.behaviors <> '[]'")
}

/// The recordings stored in an activity's `behaviors` column.
pub(crate) fn parse_recordings(raw: &str) -> Result<Vec<Recording>, DomainError> {
    serde_json::from_str(raw).map_err(|_| corrupt("activities.behaviors", raw))
}

/// The behaviours recorded on a customer's live activities, with the half-life their points
/// decay with.
pub(crate) fn behaviors_of(
    conn: &mut DbConnection,
    customer_id: &str,
) -> Result<(Vec<RecordedBehavior>, u32), TxError> {
    let half_life = half_life_days(conn)?;
    Ok((recorded_on(conn, customer_id)?, half_life))
}

/// The days in which a behaviour's points halve.
pub(crate) fn half_life_days(conn: &mut DbConnection) -> Result<u32, TxError> {
    Ok(settings(conn)?.half_life())
}

/// The behaviours recorded on the live activities of `customer_id`.
pub(crate) fn recorded_on(
    conn: &mut DbConnection,
    customer_id: &str,
) -> Result<Vec<RecordedBehavior>, TxError> {
    Ok(recorded_of(conn, &[customer_id.to_string()])?
        .into_iter()
        .map(|(_, r)| r)
        .collect())
}

/// The behaviours recorded on the live activities of `customer_ids`, by customer.
fn recorded_of(
    conn: &mut DbConnection,
    customer_ids: &[String],
) -> Result<Vec<(String, RecordedBehavior)>, TxError> {
    let query = activities::table
        .filter(activities::deleted_at.is_null())
        .filter(scored())
        .select((
            activities::customer_id,
            activities::id,
            activities::occurred_at,
            activities::behaviors,
        ))
        .into_boxed();
    // One customer (an overview) is an equality, which SQLite's statement cache keeps.
    let query = match customer_ids {
        [one] => query.filter(activities::customer_id.eq(one)),
        many => query.filter(activities::customer_id.eq_any(many)),
    };
    let rows: Vec<(String, String, NaiveDateTime, String)> = query.load(conn)?;
    let mut recorded = Vec::new();
    for (customer_id, activity_id, occurred_at, raw) in rows {
        for r in parse_recordings(&raw)? {
            recorded.push((
                customer_id.clone(),
                RecordedBehavior {
                    activity_id: activity_id.clone(),
                    code: r.code,
                    points: r.points,
                    occurred_at: utc(occurred_at),
                },
            ));
        }
    }
    Ok(recorded)
}

/// Recomputes the stored scores of `customer_ids` at `now`; a customer with no behaviours
/// scores 0. Like the other derived fields, the score does not change the customer's version.
pub(crate) fn recompute_scores(
    conn: &mut DbConnection,
    customer_ids: &[String],
    now: DateTime<Utc>,
) -> Result<(), TxError> {
    let half_life = settings(conn)?.half_life();
    let recorded = recorded_of(conn, customer_ids)?;
    for customer_id in customer_ids {
        let mine: Vec<RecordedBehavior> = recorded
            .iter()
            .filter(|(c, _)| c == customer_id)
            .map(|(_, r)| r.clone())
            .collect();
        let total = score(&mine, now, half_life).total;
        diesel::update(customers::table.find(customer_id))
            .filter(customers::score.ne(total))
            .set(customers::score.eq(total))
            .execute(conn)?;
    }
    Ok(())
}

impl ScoringStore for Database {
    fn behaviors(&self, include_archived: bool) -> Result<Vec<Behavior>, DomainError> {
        self.read(|conn| {
            let mut all = catalogue(conn)?;
            all.retain(|b| include_archived || !b.archived);
            Ok(all)
        })
    }

    fn create_behavior(
        &self,
        draft: BehaviorDraft,
        now: DateTime<Utc>,
    ) -> Result<Behavior, DomainError> {
        let at = stored(now);
        self.write_reference(|conn| {
            diesel::insert_into(behaviors::table)
                .values((
                    behaviors::code.eq(&draft.code),
                    behaviors::label.eq(&draft.label),
                    behaviors::description.eq(&draft.description),
                    behaviors::points.eq(draft.points),
                    behaviors::archived.eq(false),
                    behaviors::created_at.eq(at),
                    behaviors::updated_at.eq(at),
                    behaviors::version.eq(1_i64),
                ))
                .execute(conn)
                .map_err(|e| {
                    on_unique_violation(e, "behavior_exists", "a behaviour with this code exists")
                })?;
            load_behavior(conn, &draft.code)
        })
    }

    fn update_behavior(
        &self,
        code: &str,
        changes: BehaviorChanges,
        expected_version: Option<i64>,
        now: DateTime<Utc>,
    ) -> Result<Behavior, DomainError> {
        let at = stored(now);
        self.write_reference(|conn| {
            let current = load_behavior(conn, code)?;
            check_version(expected_version, current.version)?;
            let next = Behavior {
                label: changes.label.unwrap_or_else(|| current.label.clone()),
                description: changes
                    .description
                    .unwrap_or_else(|| current.description.clone()),
                points: changes.points.unwrap_or(current.points),
                archived: changes.archived.unwrap_or(current.archived),
                ..current.clone()
            };
            if next == current {
                return Ok(current);
            }
            diesel::update(behaviors::table.find(code))
                .set((
                    behaviors::label.eq(&next.label),
                    behaviors::description.eq(&next.description),
                    behaviors::points.eq(next.points),
                    behaviors::archived.eq(next.archived),
                    behaviors::updated_at.eq(at),
                    behaviors::version.eq(current.version + 1),
                ))
                .execute(conn)?;
            load_behavior(conn, code)
        })
    }

    fn scoring_settings(&self) -> Result<ScoringSettings, DomainError> {
        self.read(|conn| Ok(settings(conn)?.into_domain()))
    }

    fn update_scoring_settings(
        &self,
        half_life_days: u32,
        expected_version: Option<i64>,
        now: DateTime<Utc>,
    ) -> Result<ScoringSettings, DomainError> {
        self.write_reference(|conn| {
            let current = settings(conn)?;
            check_version(expected_version, current.version)?;
            if current.half_life() == half_life_days {
                return Ok(current.into_domain());
            }
            diesel::update(scoring_settings::table.find(1))
                .set((
                    scoring_settings::half_life_days.eq(i64::from(half_life_days)),
                    scoring_settings::updated_at.eq(stored(now)),
                    scoring_settings::version.eq(current.version + 1),
                    // Every stored score is due again.
                    scoring_settings::scores_refreshed_at.eq(None::<NaiveDateTime>),
                ))
                .execute(conn)?;
            Ok(settings(conn)?.into_domain())
        })
    }

    fn customer_behaviors(
        &self,
        actor: &Actor,
        customer_id: &str,
    ) -> Result<(Vec<RecordedBehavior>, u32), DomainError> {
        self.read(|conn| {
            load_visible(conn, &actor.visibility, customer_id)?;
            behaviors_of(conn, customer_id)
        })
    }

    fn refresh_scores(&self, now: DateTime<Utc>) -> Result<Option<u64>, DomainError> {
        let current = self.read(settings)?;
        let day_start = now.date_naive().and_hms_opt(0, 0, 0).unwrap_or_default();
        if current
            .scores_refreshed_at
            .is_some_and(|at| at >= day_start)
        {
            return Ok(None);
        }
        let mut after = String::new();
        let mut count = 0_u64;
        loop {
            let chunk: Vec<String> = self.read(|conn| {
                Ok(activities::table
                    .filter(scored())
                    .filter(activities::customer_id.gt(&after))
                    .select(activities::customer_id)
                    .distinct()
                    .order(activities::customer_id.asc())
                    .limit(REFRESH_CHUNK)
                    .load(conn)?)
            })?;
            let Some(last) = chunk.last().cloned() else {
                break;
            };
            self.write(|conn| recompute_scores(conn, &chunk, now))?;
            count += chunk.len() as u64;
            after = last;
        }
        self.write(|conn| {
            diesel::update(scoring_settings::table.find(1))
                .set(scoring_settings::scores_refreshed_at.eq(stored(now)))
                .execute(conn)?;
            Ok(())
        })?;
        Ok(Some(count))
    }
}
