//! `PipelineStore` on the database. A pipeline and its stages change together: every stage
//! write bumps the pipeline's version in the same transaction.

use std::collections::HashSet;

use chrono::{DateTime, NaiveDateTime, Utc};
use crm_domain::pipelines::{check_kinds, ChecklistItem, Pipeline, Stage, StageFields, StageKind};
use crm_domain::ports::PipelineStore;
use crm_domain::{DomainError, FieldError};
use diesel::prelude::*;

use crate::convert::{corrupt, new_id, stored, utc};
use crate::errors::{check_version, on_unique_violation, TxError};
use crate::schema::{opportunities, opportunity_stage_changes, pipeline_stages, pipelines};
use crate::{Database, DbConnection};

#[derive(Queryable, Selectable)]
#[diesel(table_name = pipelines)]
struct PipelineRow {
    id: String,
    name: String,
    is_default: bool,
    created_at: NaiveDateTime,
    updated_at: NaiveDateTime,
    version: i64,
}

#[derive(Queryable, Selectable)]
#[diesel(table_name = pipeline_stages)]
struct StageRow {
    id: String,
    pipeline_id: String,
    name: String,
    position: i64,
    probability: i64,
    kind: String,
    guidance: Option<String>,
    checklist: String,
}

impl StageRow {
    fn into_domain(self) -> Result<Stage, DomainError> {
        Ok(Stage {
            id: self.id,
            position: self.position,
            fields: StageFields {
                kind: StageKind::parse(&self.kind)
                    .ok_or_else(|| corrupt("pipeline_stages.kind", &self.kind))?,
                name: self.name,
                probability: self.probability,
                guidance: self.guidance,
                checklist: serde_json::from_str(&self.checklist)
                    .map_err(|_| corrupt("pipeline_stages.checklist", &self.checklist))?,
            },
        })
    }
}

const PIPELINE: DomainError = DomainError::NotFound { entity: "pipeline" };
const STAGE: DomainError = DomainError::NotFound { entity: "stage" };

fn assemble(rows: Vec<PipelineRow>, stages: Vec<StageRow>) -> Result<Vec<Pipeline>, TxError> {
    let mut pipelines: Vec<Pipeline> = rows
        .into_iter()
        .map(|row| Pipeline {
            id: row.id,
            name: row.name,
            is_default: row.is_default,
            stages: Vec::new(),
            created_at: utc(row.created_at),
            updated_at: utc(row.updated_at),
            version: row.version,
        })
        .collect();
    for row in stages {
        let owner = row.pipeline_id.clone();
        let stage = row.into_domain()?;
        if let Some(p) = pipelines.iter_mut().find(|p| p.id == owner) {
            p.stages.push(stage);
        }
    }
    Ok(pipelines)
}

pub(crate) fn load_all(conn: &mut DbConnection) -> Result<Vec<Pipeline>, TxError> {
    let rows = pipelines::table
        .select(PipelineRow::as_select())
        .order((pipelines::is_default.desc(), pipelines::name.asc()))
        .load(conn)?;
    let stages = pipeline_stages::table
        .select(StageRow::as_select())
        .order((pipeline_stages::pipeline_id, pipeline_stages::position))
        .load(conn)?;
    assemble(rows, stages)
}

pub(crate) fn load(conn: &mut DbConnection, id: &str) -> Result<Pipeline, TxError> {
    let row = pipelines::table
        .find(id)
        .select(PipelineRow::as_select())
        .get_result(conn)
        .optional()?
        .ok_or(PIPELINE)?;
    let stages = pipeline_stages::table
        .filter(pipeline_stages::pipeline_id.eq(id))
        .select(StageRow::as_select())
        .order(pipeline_stages::position)
        .load(conn)?;
    assemble(vec![row], stages)?
        .pop()
        .ok_or_else(|| PIPELINE.into())
}

/// The default pipeline.
pub(crate) fn load_default(conn: &mut DbConnection) -> Result<Pipeline, TxError> {
    let id: String = pipelines::table
        .filter(pipelines::is_default.eq(true))
        .select(pipelines::id)
        .first(conn)
        .optional()?
        .ok_or_else(|| DomainError::internal("no default pipeline"))?;
    load(conn, &id)
}

/// The checklist with ids for new items; `Validation` for an id the stage does not have.
fn with_ids(
    checklist: Vec<ChecklistItem>,
    known: &[ChecklistItem],
    prefix: &str,
) -> Result<Vec<ChecklistItem>, TxError> {
    let mut errors = Vec::new();
    let items = checklist
        .into_iter()
        .enumerate()
        .map(|(i, mut item)| {
            if item.id.is_empty() {
                item.id = new_id();
            } else if !known.iter().any(|k| k.id == item.id) {
                errors.push(FieldError::new(
                    format!("{prefix}/checklist/{i}/id"),
                    "unknown_item",
                    "not an item of this stage; leave the id out for a new item",
                ));
            }
            item
        })
        .collect();
    if errors.is_empty() {
        Ok(items)
    } else {
        Err(DomainError::Validation(errors).into())
    }
}

fn insert_stage(
    conn: &mut DbConnection,
    pipeline_id: &str,
    position: i64,
    stage: &StageFields,
) -> Result<(), TxError> {
    diesel::insert_into(pipeline_stages::table)
        .values((
            pipeline_stages::id.eq(new_id()),
            pipeline_stages::pipeline_id.eq(pipeline_id),
            pipeline_stages::name.eq(&stage.name),
            pipeline_stages::position.eq(position),
            pipeline_stages::probability.eq(stage.probability),
            pipeline_stages::kind.eq(stage.kind.as_str()),
            pipeline_stages::guidance.eq(&stage.guidance),
            pipeline_stages::checklist
                .eq(serde_json::to_string(&stage.checklist).map_err(DomainError::internal)?),
        ))
        .execute(conn)?;
    Ok(())
}

fn touch(conn: &mut DbConnection, current: &Pipeline, now: DateTime<Utc>) -> Result<(), TxError> {
    diesel::update(pipelines::table.find(&current.id))
        .set((
            pipelines::updated_at.eq(stored(now)),
            pipelines::version.eq(current.version + 1),
        ))
        .execute(conn)?;
    Ok(())
}

/// Rewrites the positions of `ordered` stage ids as 0, 1, 2, ….
fn renumber(conn: &mut DbConnection, ordered: &[String]) -> Result<(), TxError> {
    for (position, id) in ordered.iter().enumerate() {
        diesel::update(pipeline_stages::table.find(id))
            .set(pipeline_stages::position.eq(position as i64))
            .execute(conn)?;
    }
    Ok(())
}

/// Sets the status of the opportunities in `stage_id` after its kind: closing stamps
/// `closed_at`, opening clears it.
fn restate(
    conn: &mut DbConnection,
    stage_id: &str,
    kind: StageKind,
    now: DateTime<Utc>,
) -> Result<(), TxError> {
    let in_stage = opportunities::table
        .filter(opportunities::stage_id.eq(stage_id))
        .filter(opportunities::status.ne(kind.as_str()));
    let closed_at = (kind != StageKind::Open).then(|| stored(now));
    diesel::update(in_stage)
        .set((
            opportunities::status.eq(kind.as_str()),
            opportunities::closed_at.eq(closed_at),
        ))
        .execute(conn)?;
    Ok(())
}

fn kinds_conflict(error: FieldError) -> TxError {
    DomainError::Conflict {
        code: "stage_kinds",
        message: error.message,
    }
    .into()
}

impl PipelineStore for Database {
    fn pipelines(&self) -> Result<Vec<Pipeline>, DomainError> {
        self.read(load_all)
    }

    fn pipeline(&self, id: &str) -> Result<Pipeline, DomainError> {
        self.read(|conn| load(conn, id))
    }

    fn create_pipeline(
        &self,
        name: String,
        stages: Vec<StageFields>,
        now: DateTime<Utc>,
    ) -> Result<Pipeline, DomainError> {
        let id = new_id();
        let at = stored(now);
        self.write_reference(|conn| {
            diesel::insert_into(pipelines::table)
                .values((
                    pipelines::id.eq(&id),
                    pipelines::name.eq(&name),
                    pipelines::is_default.eq(false),
                    pipelines::created_at.eq(at),
                    pipelines::updated_at.eq(at),
                    pipelines::version.eq(1_i64),
                ))
                .execute(conn)
                .map_err(|e| {
                    on_unique_violation(e, "pipeline_exists", "a pipeline with this name exists")
                })?;
            for (position, stage) in stages.iter().enumerate() {
                let mut stage = stage.clone();
                stage.checklist = with_ids(stage.checklist, &[], &format!("/stages/{position}"))?;
                insert_stage(conn, &id, position as i64, &stage)?;
            }
            load(conn, &id)
        })
    }

    fn update_pipeline(
        &self,
        id: &str,
        name: Option<String>,
        make_default: bool,
        expected_version: Option<i64>,
        now: DateTime<Utc>,
    ) -> Result<Pipeline, DomainError> {
        self.write_reference(|conn| {
            let current = load(conn, id)?;
            check_version(expected_version, current.version)?;
            let renamed = name.as_ref().is_some_and(|n| n != &current.name);
            let defaulted = make_default && !current.is_default;
            if !renamed && !defaulted {
                return Ok(current);
            }
            if defaulted {
                diesel::update(pipelines::table.filter(pipelines::is_default.eq(true)))
                    .set(pipelines::is_default.eq(false))
                    .execute(conn)?;
            }
            diesel::update(pipelines::table.find(id))
                .set((
                    pipelines::name.eq(name.unwrap_or_else(|| current.name.clone())),
                    pipelines::is_default.eq(current.is_default || defaulted),
                    pipelines::updated_at.eq(stored(now)),
                    pipelines::version.eq(current.version + 1),
                ))
                .execute(conn)
                .map_err(|e| {
                    on_unique_violation(e, "pipeline_exists", "a pipeline with this name exists")
                })?;
            load(conn, id)
        })
    }

    fn add_stage(
        &self,
        pipeline_id: &str,
        stage: StageFields,
        position: Option<i64>,
        expected_version: Option<i64>,
        now: DateTime<Utc>,
    ) -> Result<Pipeline, DomainError> {
        self.write_reference(|conn| {
            let current = load(conn, pipeline_id)?;
            check_version(expected_version, current.version)?;
            let mut all: Vec<&StageFields> = current.stages.iter().map(|s| &s.fields).collect();
            all.push(&stage);
            if let Some(error) = check_kinds(all, "/stages") {
                if error.code == "too_many" {
                    return Err(DomainError::Conflict {
                        code: "too_many_stages",
                        message: error.message,
                    }
                    .into());
                }
            }
            let count = current.stages.len() as i64;
            let at = position.map_or(count, |p| p.clamp(0, count));
            let mut stage = stage;
            stage.checklist = with_ids(stage.checklist, &[], "")?;
            insert_stage(conn, pipeline_id, count, &stage)?;
            let added: String = pipeline_stages::table
                .filter(pipeline_stages::pipeline_id.eq(pipeline_id))
                .filter(pipeline_stages::position.eq(count))
                .select(pipeline_stages::id)
                .first(conn)?;
            let mut order: Vec<String> = current.stages.iter().map(|s| s.id.clone()).collect();
            order.insert(usize::try_from(at).unwrap_or(order.len()), added);
            renumber(conn, &order)?;
            touch(conn, &current, now)?;
            load(conn, pipeline_id)
        })
    }

    fn update_stage(
        &self,
        pipeline_id: &str,
        stage_id: &str,
        stage: StageFields,
        expected_version: Option<i64>,
        now: DateTime<Utc>,
    ) -> Result<Pipeline, DomainError> {
        self.write_reference(|conn| {
            let current = load(conn, pipeline_id)?;
            check_version(expected_version, current.version)?;
            let existing = current
                .stages
                .iter()
                .find(|s| s.id == stage_id)
                .ok_or(STAGE)?;
            let mut stage = stage;
            stage.checklist = with_ids(stage.checklist, &existing.fields.checklist, "")?;
            if stage == existing.fields {
                return Ok(current);
            }
            let after =
                current
                    .stages
                    .iter()
                    .map(|s| if s.id == stage_id { &stage } else { &s.fields });
            if let Some(error) = check_kinds(after, "/kind") {
                return Err(kinds_conflict(error));
            }
            if stage.kind != existing.fields.kind {
                restate(conn, stage_id, stage.kind, now)?;
            }
            diesel::update(pipeline_stages::table.find(stage_id))
                .set((
                    pipeline_stages::name.eq(&stage.name),
                    pipeline_stages::probability.eq(stage.probability),
                    pipeline_stages::kind.eq(stage.kind.as_str()),
                    pipeline_stages::guidance.eq(&stage.guidance),
                    pipeline_stages::checklist
                        .eq(serde_json::to_string(&stage.checklist)
                            .map_err(DomainError::internal)?),
                ))
                .execute(conn)?;
            touch(conn, &current, now)?;
            load(conn, pipeline_id)
        })
    }

    fn delete_stage(
        &self,
        pipeline_id: &str,
        stage_id: &str,
        move_to: Option<&str>,
        actor_id: &str,
        expected_version: Option<i64>,
        now: DateTime<Utc>,
    ) -> Result<Pipeline, DomainError> {
        self.write_reference(|conn| {
            let current = load(conn, pipeline_id)?;
            check_version(expected_version, current.version)?;
            if !current.stages.iter().any(|s| s.id == stage_id) {
                return Err(STAGE.into());
            }
            let rest = current.stages.iter().filter(|s| s.id != stage_id);
            if let Some(error) = check_kinds(rest.map(|s| &s.fields), "/kind") {
                return Err(kinds_conflict(error));
            }
            let held: Vec<(String, i64, NaiveDateTime)> = opportunities::table
                .filter(opportunities::stage_id.eq(stage_id))
                .filter(opportunities::deleted_at.is_null())
                .select((
                    opportunities::id,
                    opportunities::amount,
                    opportunities::stage_entered_at,
                ))
                .load(conn)?;
            let target = match move_to {
                Some(to) => Some(
                    current
                        .stages
                        .iter()
                        .find(|s| s.id == to && s.id != stage_id)
                        .ok_or_else(|| {
                            DomainError::Validation(vec![FieldError::new(
                                "/query/move_to",
                                "not_in_pipeline",
                                "another stage of this pipeline",
                            )])
                        })?,
                ),
                None => None,
            };
            match target {
                None if !held.is_empty() => {
                    return Err(DomainError::Conflict {
                        code: "stage_not_empty",
                        message: format!(
                            "{} opportunities are in this stage: name the stage they move to with move_to",
                            held.len()
                        ),
                    }
                    .into());
                }
                Some(target) if !held.is_empty() => {
                    let at = stored(now);
                    // Soft-deleted opportunities move too, so the stage row can go.
                    diesel::update(
                        opportunities::table.filter(opportunities::stage_id.eq(stage_id)),
                    )
                    .set((
                        opportunities::stage_id.eq(&target.id),
                        opportunities::checklist.eq("[]"),
                        opportunities::stage_entered_at.eq(at),
                        opportunities::updated_at.eq(at),
                        opportunities::version.eq(opportunities::version + 1),
                    ))
                    .execute(conn)?;
                    restate(conn, &target.id, target.fields.kind, now)?;
                    for (id, amount, entered) in &held {
                        diesel::insert_into(opportunity_stage_changes::table)
                            .values((
                                opportunity_stage_changes::id.eq(new_id()),
                                opportunity_stage_changes::opportunity_id.eq(id),
                                opportunity_stage_changes::from_stage_id.eq(stage_id),
                                opportunity_stage_changes::to_stage_id.eq(&target.id),
                                opportunity_stage_changes::changed_by.eq(actor_id),
                                opportunity_stage_changes::changed_at.eq(at),
                                opportunity_stage_changes::amount.eq(amount),
                                opportunity_stage_changes::probability
                                    .eq(target.fields.probability),
                                opportunity_stage_changes::seconds_in_previous
                                    .eq((now - utc(*entered)).num_seconds().max(0)),
                                opportunity_stage_changes::note.eq("the stage was removed"),
                                opportunity_stage_changes::overridden.eq(false),
                            ))
                            .execute(conn)?;
                    }
                }
                _ => {
                    // Only removed opportunities are left: they follow to any remaining stage,
                    // so the stage row can go.
                    let elsewhere = target
                        .or_else(|| current.stages.iter().find(|s| s.id != stage_id))
                        .map(|s| s.id.clone())
                        .unwrap_or_default();
                    diesel::update(
                        opportunities::table.filter(opportunities::stage_id.eq(stage_id)),
                    )
                    .set(opportunities::stage_id.eq(elsewhere))
                    .execute(conn)?;
                }
            }
            diesel::delete(pipeline_stages::table.find(stage_id)).execute(conn)?;
            let order: Vec<String> = current
                .stages
                .iter()
                .filter(|s| s.id != stage_id)
                .map(|s| s.id.clone())
                .collect();
            renumber(conn, &order)?;
            touch(conn, &current, now)?;
            load(conn, pipeline_id)
        })
    }

    fn reorder_stages(
        &self,
        pipeline_id: &str,
        stage_ids: &[String],
        expected_version: Option<i64>,
        now: DateTime<Utc>,
    ) -> Result<Pipeline, DomainError> {
        self.write_reference(|conn| {
            let current = load(conn, pipeline_id)?;
            check_version(expected_version, current.version)?;
            let have: HashSet<&str> = current.stages.iter().map(|s| s.id.as_str()).collect();
            let given: HashSet<&str> = stage_ids.iter().map(String::as_str).collect();
            if given != have || stage_ids.len() != have.len() {
                return Err(DomainError::Validation(vec![FieldError::new(
                    "/stage_ids",
                    "not_a_permutation",
                    "name every stage of the pipeline exactly once",
                )])
                .into());
            }
            let unchanged = current.stages.iter().map(|s| &s.id).eq(stage_ids.iter());
            if unchanged {
                return Ok(current);
            }
            renumber(conn, stage_ids)?;
            touch(conn, &current, now)?;
            load(conn, pipeline_id)
        })
    }
}
