//! `OpportunityStore` on the database. An opportunity is reached through its customer: a
//! customer the caller may not see hides its opportunities too. Lines are priced with the
//! domain's exact arithmetic against the product catalogue in the write's transaction.

use chrono::{DateTime, NaiveDate, NaiveDateTime, Utc};
use crm_domain::custom_fields::FieldEntity;
use crm_domain::identity::Visibility;
use crm_domain::opportunities::{
    price_lines, unticked_on_the_way, Line, LineDraft, Offer, Opportunity, OpportunityChanges,
    OpportunityDraft, OpportunitySort, OpportunityStatus, StageChange, StageMove,
};
use crm_domain::page::{Page, PageRequest};
use crm_domain::pipelines::{Pipeline, StageKind};
use crm_domain::ports::{Actor, OpportunityFilter, OpportunityStore};
use crm_domain::{DomainError, FieldError};
use diesel::prelude::*;

use crate::convert::{corrupt, new_id, stored, utc};
use crate::custom_fields::{
    definitions_of, keep_archived, live_keys, write_new_values, write_values,
};
use crate::customers::{check_owner, load_visible};
use crate::errors::{check_version, TxError};
use crate::pipelines::{load as load_pipeline, load_default};
use crate::schema::{customers, opportunities, opportunity_stage_changes, products};
use crate::{Database, DbConnection};

const OPPORTUNITY: DomainError = DomainError::NotFound {
    entity: "opportunity",
};

#[derive(Queryable, Selectable)]
#[diesel(table_name = opportunities)]
struct OpportunityRow {
    id: String,
    customer_id: String,
    owner_id: String,
    name: String,
    pipeline_id: String,
    stage_id: String,
    status: String,
    currency: String,
    lines: String,
    amount: i64,
    expected_close_on: Option<NaiveDate>,
    closed_at: Option<NaiveDateTime>,
    lost_reason: Option<String>,
    checklist: String,
    stage_entered_at: NaiveDateTime,
    created_at: NaiveDateTime,
    updated_at: NaiveDateTime,
    version: i64,
    custom_fields: String,
}

fn status_of(kind: StageKind) -> OpportunityStatus {
    match kind {
        StageKind::Open => OpportunityStatus::Open,
        StageKind::Won => OpportunityStatus::Won,
        StageKind::Lost => OpportunityStatus::Lost,
    }
}

fn status_str(status: OpportunityStatus) -> &'static str {
    match status {
        OpportunityStatus::Open => "open",
        OpportunityStatus::Won => "won",
        OpportunityStatus::Lost => "lost",
    }
}

impl OpportunityRow {
    fn into_domain(self) -> Result<(Opportunity, Vec<String>), DomainError> {
        let status = StageKind::parse(&self.status)
            .map(status_of)
            .ok_or_else(|| corrupt("opportunities.status", &self.status))?;
        let lines: Vec<Line> = serde_json::from_str(&self.lines)
            .map_err(|_| corrupt("opportunities.lines", &self.lines))?;
        let ticked: Vec<String> = serde_json::from_str(&self.checklist)
            .map_err(|_| corrupt("opportunities.checklist", &self.checklist))?;
        Ok((
            Opportunity {
                id: self.id,
                customer_id: self.customer_id,
                owner_id: self.owner_id,
                name: self.name,
                pipeline_id: self.pipeline_id,
                stage_id: self.stage_id,
                status,
                currency: self.currency,
                lines,
                amount: self.amount,
                expected_close_on: self.expected_close_on,
                closed_at: self.closed_at.map(utc),
                lost_reason: self.lost_reason,
                stage_entered_at: utc(self.stage_entered_at),
                checked: ticked.clone(),
                custom_fields: serde_json::from_str(&self.custom_fields)
                    .map_err(|_| corrupt("opportunities.custom_fields", &self.custom_fields))?,
                created_at: utc(self.created_at),
                updated_at: utc(self.updated_at),
                version: self.version,
            },
            ticked,
        ))
    }
}

#[derive(Queryable, Selectable)]
#[diesel(table_name = opportunity_stage_changes)]
struct ChangeRow {
    id: String,
    from_stage_id: Option<String>,
    to_stage_id: String,
    changed_by: String,
    changed_at: NaiveDateTime,
    amount: i64,
    probability: i64,
    seconds_in_previous: i64,
    note: Option<String>,
    overridden: bool,
}

impl From<ChangeRow> for StageChange {
    fn from(row: ChangeRow) -> Self {
        StageChange {
            id: row.id,
            from_stage_id: row.from_stage_id,
            to_stage_id: row.to_stage_id,
            changed_by: row.changed_by,
            changed_at: utc(row.changed_at),
            amount: row.amount,
            probability: row.probability,
            seconds_in_previous: row.seconds_in_previous,
            note: row.note,
            overridden: row.overridden,
        }
    }
}

/// The live opportunity `id` with its ticks, when the caller may see its customer.
fn load(
    conn: &mut DbConnection,
    visibility: &Visibility,
    id: &str,
) -> Result<(Opportunity, Vec<String>), TxError> {
    let found: Option<(OpportunityRow, Option<String>)> = opportunities::table
        .inner_join(customers::table)
        .filter(opportunities::id.eq(id))
        .filter(opportunities::deleted_at.is_null())
        .filter(customers::deleted_at.is_null())
        .select((OpportunityRow::as_select(), customers::owner_id))
        .get_result(conn)
        .optional()?;
    let (row, owner) = found.ok_or(OPPORTUNITY)?;
    if !visibility.allows(owner.as_deref()) {
        return Err(OPPORTUNITY.into());
    }
    let live = live_keys(conn, FieldEntity::Opportunity)?;
    shown(row, &live)
}

/// The row as the domain's, with the values of live custom fields only.
fn shown(
    row: OpportunityRow,
    live: &std::collections::HashSet<String>,
) -> Result<(Opportunity, Vec<String>), TxError> {
    let (mut o, ticked) = row.into_domain()?;
    o.custom_fields.retain(|k, _| live.contains(k));
    Ok((o, ticked))
}

crate::custom_fields::custom_condition!(
    custom_condition,
    opportunities,
    diesel::dsl::InnerJoinQuerySource<opportunities::table, customers::table>
);

/// The catalogue entries `drafts` name.
fn offers(conn: &mut DbConnection, drafts: &[LineDraft]) -> Result<Vec<Offer>, TxError> {
    let ids: Vec<&str> = drafts
        .iter()
        .filter_map(|d| d.product_id.as_deref())
        .collect();
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    let rows: Vec<(String, String, i64, String, bool)> = products::table
        .filter(products::id.eq_any(ids))
        .select((
            products::id,
            products::name,
            products::unit_price,
            products::currency,
            products::active,
        ))
        .load(conn)?;
    Ok(rows
        .into_iter()
        .map(|(id, name, unit_price, currency, active)| Offer {
            id,
            name,
            unit_price,
            currency,
            active,
        })
        .collect())
}

/// Lines and amount: priced lines and their sum, or the manual amount without lines.
fn priced(
    conn: &mut DbConnection,
    drafts: &[LineDraft],
    manual: Option<i64>,
    currency: &str,
    kept: &[String],
) -> Result<(Vec<Line>, i64), TxError> {
    if !drafts.is_empty() && manual.is_some() {
        return Err(DomainError::Validation(vec![FieldError::new(
            "/amount",
            "amount_from_lines",
            "the amount is the sum of the lines; leave it out or remove the lines",
        )])
        .into());
    }
    let offers = offers(conn, drafts)?;
    let (lines, sum) =
        price_lines(drafts, &offers, currency, kept).map_err(DomainError::Validation)?;
    Ok((
        lines,
        if drafts.is_empty() {
            manual.unwrap_or(0)
        } else {
            sum
        },
    ))
}

fn record_change(
    conn: &mut DbConnection,
    opportunity_id: &str,
    change: &StageChange,
) -> Result<(), TxError> {
    diesel::insert_into(opportunity_stage_changes::table)
        .values((
            opportunity_stage_changes::id.eq(&change.id),
            opportunity_stage_changes::opportunity_id.eq(opportunity_id),
            opportunity_stage_changes::from_stage_id.eq(&change.from_stage_id),
            opportunity_stage_changes::to_stage_id.eq(&change.to_stage_id),
            opportunity_stage_changes::changed_by.eq(&change.changed_by),
            opportunity_stage_changes::changed_at.eq(stored(change.changed_at)),
            opportunity_stage_changes::amount.eq(change.amount),
            opportunity_stage_changes::probability.eq(change.probability),
            opportunity_stage_changes::seconds_in_previous.eq(change.seconds_in_previous),
            opportunity_stage_changes::note.eq(&change.note),
            opportunity_stage_changes::overridden.eq(change.overridden),
        ))
        .execute(conn)?;
    Ok(())
}

fn stage_in(pipeline: &Pipeline, stage_id: &str, pointer: &str) -> Result<usize, TxError> {
    pipeline
        .stages
        .iter()
        .position(|s| s.id == stage_id)
        .ok_or_else(|| {
            DomainError::Validation(vec![FieldError::new(
                pointer,
                "not_in_pipeline",
                "not a stage of the opportunity's pipeline",
            )])
            .into()
        })
}

fn json(value: &impl serde::Serialize) -> Result<String, DomainError> {
    serde_json::to_string(value).map_err(DomainError::internal)
}

impl OpportunityStore for Database {
    fn create_opportunity(
        &self,
        actor: &Actor,
        draft: OpportunityDraft,
        now: DateTime<Utc>,
    ) -> Result<Opportunity, DomainError> {
        let id = new_id();
        let at = stored(now);
        self.write(|conn| {
            load_visible(conn, &actor.visibility, &draft.customer_id)?;
            let pipeline = match &draft.pipeline_id {
                Some(pipeline_id) => load_pipeline(conn, pipeline_id).map_err(|e| match e {
                    TxError::Domain(DomainError::NotFound { .. }) => {
                        TxError::Domain(DomainError::Validation(vec![FieldError::new(
                            "/pipeline_id",
                            "unknown_pipeline",
                            "no such pipeline",
                        )]))
                    }
                    other => other,
                })?,
                None => load_default(conn)?,
            };
            let index = match &draft.stage_id {
                Some(stage_id) => stage_in(&pipeline, stage_id, "/stage_id")?,
                None => pipeline
                    .stages
                    .iter()
                    .position(|s| s.fields.kind == StageKind::Open)
                    .ok_or_else(|| DomainError::internal("a pipeline without an open stage"))?,
            };
            let stage = &pipeline.stages[index];
            let (lines, amount) = priced(conn, &draft.lines, draft.amount, &draft.currency, &[])?;
            let status = status_of(stage.fields.kind);
            diesel::insert_into(opportunities::table)
                .values((
                    opportunities::id.eq(&id),
                    opportunities::customer_id.eq(&draft.customer_id),
                    opportunities::owner_id.eq(&actor.id),
                    opportunities::name.eq(&draft.name),
                    opportunities::pipeline_id.eq(&pipeline.id),
                    opportunities::stage_id.eq(&stage.id),
                    opportunities::status.eq(status_str(status)),
                    opportunities::currency.eq(&draft.currency),
                    opportunities::lines.eq(json(&lines)?),
                    opportunities::amount.eq(amount),
                    opportunities::expected_close_on.eq(draft.expected_close_on),
                    opportunities::closed_at.eq((status != OpportunityStatus::Open).then_some(at)),
                    opportunities::checklist.eq("[]"),
                    opportunities::custom_fields.eq(json(&draft.custom_fields)?),
                    opportunities::stage_entered_at.eq(at),
                    opportunities::created_at.eq(at),
                    opportunities::updated_at.eq(at),
                    opportunities::version.eq(1_i64),
                ))
                .execute(conn)?;
            write_new_values(conn, FieldEntity::Opportunity, &id, &draft.custom_fields)?;
            record_change(
                conn,
                &id,
                &StageChange {
                    id: new_id(),
                    from_stage_id: None,
                    to_stage_id: stage.id.clone(),
                    changed_by: actor.id.clone(),
                    changed_at: now,
                    amount,
                    probability: stage.fields.probability,
                    seconds_in_previous: 0,
                    note: None,
                    overridden: false,
                },
            )?;
            Ok(load(conn, &Visibility::All, &id)?.0)
        })
    }

    fn opportunity(
        &self,
        actor: &Actor,
        id: &str,
    ) -> Result<(Opportunity, Vec<String>), DomainError> {
        self.read(|conn| load(conn, &actor.visibility, id))
    }

    fn list_opportunities(
        &self,
        actor: &Actor,
        filter: &OpportunityFilter,
        sort: OpportunitySort,
        page: &PageRequest,
    ) -> Result<Page<Opportunity>, DomainError> {
        let after = match &page.after {
            None => None,
            Some(raw) => Some(sort.decode(raw).ok_or_else(|| {
                DomainError::Validation(vec![FieldError::new(
                    "/query/cursor",
                    "invalid",
                    "not a cursor of this list",
                )])
            })?),
        };
        self.read(|conn| {
            if let Some(customer_id) = &filter.customer_id {
                load_visible(conn, &actor.visibility, customer_id)?;
            }
            list_in(conn, &actor.visibility, filter, sort, after, page)
        })
    }

    fn update_opportunity(
        &self,
        actor: &Actor,
        id: &str,
        changes: OpportunityChanges,
        expected_version: Option<i64>,
        now: DateTime<Utc>,
    ) -> Result<(Opportunity, Vec<String>), DomainError> {
        self.write(|conn| {
            let (current, ticked) = load(conn, &actor.visibility, id)?;
            check_version(expected_version, current.version)?;
            let currency = changes
                .currency
                .clone()
                .unwrap_or_else(|| current.currency.clone());
            let (lines, amount) = match &changes.lines {
                Some(drafts) => {
                    let kept: Vec<String> = current
                        .lines
                        .iter()
                        .filter_map(|l| l.product_id.clone())
                        .collect();
                    let manual = changes.amount.or(if drafts.is_empty() {
                        Some(current.amount)
                    } else {
                        None
                    });
                    priced(conn, drafts, manual, &currency, &kept)?
                }
                None if currency != current.currency && !current.lines.is_empty() => {
                    return Err(DomainError::Validation(vec![FieldError::new(
                        "/currency",
                        "lines_in_other_currency",
                        "the lines are priced in the old currency: give the lines again",
                    )])
                    .into());
                }
                None => match changes.amount {
                    Some(_) if !current.lines.is_empty() => {
                        return Err(DomainError::Validation(vec![FieldError::new(
                            "/amount",
                            "amount_from_lines",
                            "the amount is the sum of the lines; leave it out or remove the lines",
                        )])
                        .into());
                    }
                    Some(manual) => (Vec::new(), manual),
                    None => (current.lines.clone(), current.amount),
                },
            };
            let pipeline = load_pipeline(conn, &current.pipeline_id)?;
            let index = stage_in(&pipeline, &current.stage_id, "/stage_id")?;
            let ticks = match &changes.checklist {
                None => ticked.clone(),
                Some(given) => {
                    let items = &pipeline.stages[index].fields.checklist;
                    let errors: Vec<FieldError> = given
                        .iter()
                        .enumerate()
                        .filter(|(_, t)| !items.iter().any(|i| &i.id == *t))
                        .map(|(i, _)| {
                            FieldError::new(
                                format!("/checklist/{i}"),
                                "unknown_item",
                                "not a checklist item of the current stage",
                            )
                        })
                        .collect();
                    if !errors.is_empty() {
                        return Err(DomainError::Validation(errors).into());
                    }
                    let mut ticks = given.clone();
                    ticks.sort();
                    ticks.dedup();
                    ticks
                }
            };
            let name = changes.name.clone().unwrap_or_else(|| current.name.clone());
            let close = changes
                .expected_close_on
                .unwrap_or(current.expected_close_on);
            let reason = changes
                .lost_reason
                .clone()
                .unwrap_or_else(|| current.lost_reason.clone());
            let stored_raw: String = opportunities::table
                .find(id)
                .select(opportunities::custom_fields)
                .get_result(conn)?;
            let definitions = definitions_of(conn, FieldEntity::Opportunity)?;
            let stored_values: std::collections::BTreeMap<String, serde_json::Value> =
                serde_json::from_str(&stored_raw)
                    .map_err(|_| corrupt("opportunities.custom_fields", &stored_raw))?;
            let custom = match &changes.custom_fields {
                None => stored_values.clone(),
                Some(given) => {
                    let mut values = given.clone();
                    keep_archived(&definitions, &stored_raw, &mut values)?;
                    values
                }
            };
            let owner = changes
                .owner_id
                .clone()
                .unwrap_or_else(|| current.owner_id.clone());
            if owner != current.owner_id {
                check_owner(conn, actor, &owner)?;
            }
            let unchanged = custom == stored_values
                && owner == current.owner_id
                && name == current.name
                && currency == current.currency
                && lines == current.lines
                && amount == current.amount
                && close == current.expected_close_on
                && reason == current.lost_reason
                && ticks == ticked;
            if unchanged {
                return Ok((current, ticked));
            }
            diesel::update(opportunities::table.find(id))
                .set((
                    opportunities::name.eq(&name),
                    opportunities::currency.eq(&currency),
                    opportunities::lines.eq(json(&lines)?),
                    opportunities::amount.eq(amount),
                    opportunities::expected_close_on.eq(close),
                    opportunities::lost_reason.eq(&reason),
                    opportunities::checklist.eq(json(&ticks)?),
                    opportunities::custom_fields.eq(json(&custom)?),
                    opportunities::owner_id.eq(&owner),
                    opportunities::updated_at.eq(stored(now)),
                    opportunities::version.eq(current.version + 1),
                ))
                .execute(conn)?;
            write_values(conn, &definitions, id, &custom)?;
            load(conn, &Visibility::All, id)
        })
    }

    fn change_stage(
        &self,
        actor: &Actor,
        id: &str,
        change: StageMove,
        expected_version: Option<i64>,
        now: DateTime<Utc>,
    ) -> Result<(Opportunity, StageChange), DomainError> {
        self.write(|conn| {
            let (current, ticked) = load(conn, &actor.visibility, id)?;
            check_version(expected_version, current.version)?;
            let pipeline = load_pipeline(conn, &current.pipeline_id)?;
            let from = stage_in(&pipeline, &current.stage_id, "/stage_id")?;
            let to = stage_in(&pipeline, &change.to_stage_id, "/to_stage_id")?;
            if from == to {
                return Err(DomainError::Validation(vec![FieldError::new(
                    "/to_stage_id",
                    "same_stage",
                    "the opportunity is in this stage already",
                )])
                .into());
            }
            let missing = unticked_on_the_way(&pipeline.stages, from, to, &ticked);
            if !missing.is_empty() && !change.override_checklist {
                return Err(DomainError::Validation(
                    missing
                        .iter()
                        .map(|(stage, item)| {
                            FieldError::new(
                                "/to_stage_id",
                                "checklist_incomplete",
                                format!(
                                    "\u{201c}{}\u{201d} of stage \u{201c}{}\u{201d} is not ticked ({})",
                                    item.label, stage.fields.name, item.id
                                ),
                            )
                        })
                        .collect(),
                )
                .into());
            }
            let target = &pipeline.stages[to];
            let status = status_of(target.fields.kind);
            let closed_at = match status {
                OpportunityStatus::Open => None,
                _ => Some(now),
            };
            let lost_reason = match status {
                OpportunityStatus::Lost => change.lost_reason.clone().or(current.lost_reason.clone()),
                _ => current.lost_reason.clone(),
            };
            let recorded = StageChange {
                id: new_id(),
                from_stage_id: Some(current.stage_id.clone()),
                to_stage_id: target.id.clone(),
                changed_by: actor.id.clone(),
                changed_at: now,
                amount: current.amount,
                probability: target.fields.probability,
                seconds_in_previous: (now - current.stage_entered_at).num_seconds().max(0),
                note: change.note.clone(),
                overridden: !missing.is_empty(),
            };
            diesel::update(opportunities::table.find(id))
                .set((
                    opportunities::stage_id.eq(&target.id),
                    opportunities::status.eq(status_str(status)),
                    opportunities::closed_at.eq(closed_at.map(stored)),
                    opportunities::lost_reason.eq(&lost_reason),
                    opportunities::checklist.eq("[]"),
                    opportunities::stage_entered_at.eq(stored(now)),
                    opportunities::updated_at.eq(stored(now)),
                    opportunities::version.eq(current.version + 1),
                ))
                .execute(conn)?;
            record_change(conn, id, &recorded)?;
            Ok((load(conn, &Visibility::All, id)?.0, recorded))
        })
    }

    fn stage_history(
        &self,
        actor: &Actor,
        id: &str,
        page: &PageRequest,
    ) -> Result<Page<StageChange>, DomainError> {
        self.read(|conn| {
            load(conn, &actor.visibility, id)?;
            let mut query = opportunity_stage_changes::table
                .filter(opportunity_stage_changes::opportunity_id.eq(id))
                .select(ChangeRow::as_select())
                .order(opportunity_stage_changes::id.asc())
                .limit(i64::from(page.limit) + 1)
                .into_boxed();
            if let Some(after) = &page.after {
                query = query.filter(opportunity_stage_changes::id.gt(after.clone()));
            }
            let rows: Vec<ChangeRow> = query.load(conn)?;
            let items = rows.into_iter().map(StageChange::from).collect();
            Ok(Page::from_rows(items, page.limit, |c: &StageChange| {
                c.id.clone()
            }))
        })
    }
}

/// Opportunities matching `filter` that `visibility` allows, in `sort` order, after the decoded
/// cursor `after` (the customer of `filter.customer_id`, when given, is checked by the caller).
pub(crate) fn list_in(
    conn: &mut DbConnection,
    visibility: &Visibility,
    filter: &OpportunityFilter,
    sort: OpportunitySort,
    after: Option<(String, String)>,
    page: &PageRequest,
) -> Result<Page<Opportunity>, TxError> {
    let mut query = opportunities::table
        .inner_join(customers::table)
        .filter(opportunities::deleted_at.is_null())
        .filter(customers::deleted_at.is_null())
        .select(OpportunityRow::as_select())
        .limit(i64::from(page.limit) + 1)
        .into_boxed();
    if let Visibility::OwnersOrPool(owners) = visibility {
        query = query.filter(crate::conditions::owned_or_pool(owners));
    }
    if let Some(v) = &filter.pipeline_id {
        query = query.filter(opportunities::pipeline_id.eq(v.clone()));
    }
    if let Some(v) = &filter.stage_id {
        query = query.filter(opportunities::stage_id.eq(v.clone()));
    }
    if let Some(v) = &filter.owner_id {
        query = query.filter(opportunities::owner_id.eq(v.clone()));
    }
    if let Some(v) = &filter.customer_id {
        query = query.filter(opportunities::customer_id.eq(v.clone()));
    }
    if let Some(status) = filter.status {
        query = query.filter(opportunities::status.eq(status_str(status)));
    }
    if let Some(v) = filter.amount_min {
        query = query.filter(opportunities::amount.ge(v));
    }
    if let Some(v) = filter.amount_max {
        query = query.filter(opportunities::amount.le(v));
    }
    if let Some(v) = filter.close_from {
        query = query.filter(opportunities::expected_close_on.ge(v));
    }
    if let Some(v) = filter.close_to {
        query = query.filter(opportunities::expected_close_on.le(v));
    }
    for condition in crate::custom_fields::conditions(&filter.custom) {
        query = query.filter(custom_condition(&condition));
    }
    use opportunities::{amount, expected_close_on as close, id, updated_at};
    query = match sort {
        OpportunitySort::UpdatedDesc => query.order((updated_at.desc(), id.desc())),
        OpportunitySort::UpdatedAsc => query.order((updated_at.asc(), id.asc())),
        OpportunitySort::AmountDesc => query.order((amount.desc(), id.desc())),
        OpportunitySort::AmountAsc => query.order((amount.asc(), id.asc())),
        OpportunitySort::CloseAsc => query.order((close.is_null().asc(), close.asc(), id.asc())),
        OpportunitySort::CloseDesc => query.order((close.is_null().asc(), close.desc(), id.desc())),
    };
    if let Some((value, after_id)) = after {
        let bad = || DomainError::internal("a decoded cursor did not parse");
        query = match sort {
            OpportunitySort::UpdatedDesc | OpportunitySort::UpdatedAsc => {
                let micros: i64 = value.parse().map_err(|_| bad())?;
                let at = stored(DateTime::<Utc>::from_timestamp_micros(micros).ok_or_else(bad)?);
                if sort == OpportunitySort::UpdatedDesc {
                    query
                        .filter(updated_at.le(at))
                        .filter(updated_at.lt(at).or(updated_at.eq(at).and(id.lt(after_id))))
                } else {
                    query
                        .filter(updated_at.ge(at))
                        .filter(updated_at.gt(at).or(updated_at.eq(at).and(id.gt(after_id))))
                }
            }
            OpportunitySort::AmountDesc | OpportunitySort::AmountAsc => {
                let v: i64 = value.parse().map_err(|_| bad())?;
                if sort == OpportunitySort::AmountDesc {
                    query
                        .filter(amount.le(v))
                        .filter(amount.lt(v).or(amount.eq(v).and(id.lt(after_id))))
                } else {
                    query
                        .filter(amount.ge(v))
                        .filter(amount.gt(v).or(amount.eq(v).and(id.gt(after_id))))
                }
            }
            OpportunitySort::CloseAsc | OpportunitySort::CloseDesc => {
                let ascending = sort == OpportunitySort::CloseAsc;
                if value.is_empty() {
                    // In the trailing segment without a date.
                    if ascending {
                        query.filter(close.is_null().and(id.gt(after_id)))
                    } else {
                        query.filter(close.is_null().and(id.lt(after_id)))
                    }
                } else {
                    let d: NaiveDate = value.parse().map_err(|_| bad())?;
                    if ascending {
                        query.filter(
                            close
                                .gt(d)
                                .or(close.eq(d).and(id.gt(after_id)))
                                .or(close.is_null()),
                        )
                    } else {
                        query.filter(
                            close
                                .lt(d)
                                .or(close.eq(d).and(id.lt(after_id)))
                                .or(close.is_null()),
                        )
                    }
                }
            }
        };
    }
    let rows: Vec<OpportunityRow> = query.load(conn)?;
    let live = live_keys(conn, FieldEntity::Opportunity)?;
    let items = rows
        .into_iter()
        .map(|r| shown(r, &live).map(|(o, _)| o))
        .collect::<Result<Vec<_>, _>>()?;
    Ok(Page::from_rows(items, page.limit, |o: &Opportunity| {
        sort.position(o)
    }))
}
