//! `ImportStore` on the database: jobs, their uploads in parts, and each row's result written in
//! the same transaction as the row's customer, so progress and data never disagree.

use std::collections::HashMap;

use chrono::{DateTime, NaiveDateTime, Utc};
use crm_domain::customers::Customer;
use crm_domain::identity::Visibility;
use crm_domain::imports::{
    fill_empty, overwrite, ImportFormat, ImportJob, ImportMode, ImportSettings, ImportStatus,
    JobError, Lead, MatchKey, OnMatch, OutcomeCounts, RowError, RowOutcome, RowResult,
};
use crm_domain::page::{Page, PageRequest};
use crm_domain::ports::{Actor, ImportRow, ImportStore};
use crm_domain::DomainError;
use diesel::connection::SimpleConnection;
use diesel::prelude::*;
use serde_json::{json, Value};

use crate::connection::insert_all;
use crate::convert::{corrupt, new_id, stored, utc};
use crate::customers::{
    find_duplicate, load_visible, matching_customers, own_points, rewrite_customer, Points,
};
use crate::errors::TxError;
use crate::leads::{insert_leads, known_values, Known, NewLead};
use crate::schema::{import_rows, import_uploads, imports};
use crate::{Database, DbConnection};

/// A stored row result: row, outcome, customer, matched row, errors (JSON).
type StoredResult = (i64, String, Option<String>, Option<i64>, String);

const IMPORT: DomainError = DomainError::NotFound { entity: "import" };

/// A job whose upload is still arriving.
const UPLOADING: &str = "uploading";

#[derive(Queryable, Selectable)]
#[diesel(table_name = imports)]
struct ImportRowDb {
    id: String,
    created_by: String,
    status: String,
    settings: String,
    size_bytes: i64,
    total_rows: Option<i64>,
    rows_processed: i64,
    created_count: i64,
    updated_count: i64,
    skipped_count: i64,
    failed_count: i64,
    error: Option<String>,
    created_at: NaiveDateTime,
    started_at: Option<NaiveDateTime>,
    finished_at: Option<NaiveDateTime>,
}

fn settings_json(s: &ImportSettings) -> String {
    json!({
        "format": s.format.as_str(),
        "encoding": s.encoding,
        "mode": s.mode.as_str(),
        "match_on": s.match_on.iter().map(|k| k.as_str()).collect::<Vec<_>>(),
        "on_match": s.on_match.as_str(),
        "dry_run": s.dry_run,
        "owner_id": s.owner_id,
        "mapping": s.mapping,
    })
    .to_string()
}

fn settings_of(raw: &str) -> Option<ImportSettings> {
    let v: Value = serde_json::from_str(raw).ok()?;
    Some(ImportSettings {
        format: ImportFormat::parse(v["format"].as_str()?)?,
        encoding: v["encoding"].as_str()?.to_string(),
        mode: ImportMode::parse(v["mode"].as_str()?)?,
        match_on: v["match_on"]
            .as_array()?
            .iter()
            .map(|k| k.as_str().and_then(MatchKey::parse))
            .collect::<Option<Vec<_>>>()?,
        on_match: OnMatch::parse(v["on_match"].as_str()?)?,
        dry_run: v["dry_run"].as_bool()?,
        owner_id: v["owner_id"].as_str().map(str::to_owned),
        mapping: serde_json::from_value(v["mapping"].clone()).ok()?,
    })
}

impl ImportRowDb {
    fn into_domain(self) -> Result<ImportJob, DomainError> {
        let settings =
            settings_of(&self.settings).ok_or_else(|| corrupt("imports.settings", &self.id))?;
        let status = match self.status.as_str() {
            UPLOADING => ImportStatus::Queued,
            other => ImportStatus::parse(other).ok_or_else(|| corrupt("imports.status", other))?,
        };
        let error = match &self.error {
            None => None,
            Some(raw) => {
                let v: Value =
                    serde_json::from_str(raw).map_err(|_| corrupt("imports.error", raw))?;
                Some(JobError {
                    code: v["code"].as_str().unwrap_or_default().to_string(),
                    message: v["message"].as_str().unwrap_or_default().to_string(),
                })
            }
        };
        Ok(ImportJob {
            id: self.id,
            created_by: self.created_by,
            settings,
            status,
            size_bytes: self.size_bytes,
            total_rows: self.total_rows,
            rows_processed: self.rows_processed,
            counts: OutcomeCounts {
                created: self.created_count,
                updated: self.updated_count,
                skipped: self.skipped_count,
                failed: self.failed_count,
            },
            error,
            created_at: utc(self.created_at),
            started_at: self.started_at.map(utc),
            finished_at: self.finished_at.map(utc),
        })
    }
}

fn load(conn: &mut DbConnection, id: &str) -> Result<ImportRowDb, TxError> {
    Ok(imports::table
        .find(id)
        .select(ImportRowDb::as_select())
        .get_result(conn)
        .optional()?
        .ok_or(IMPORT)?)
}

/// One row's outcome as stored.
#[derive(Insertable)]
#[diesel(table_name = import_rows, treat_none_as_default_value = false)]
struct ResultRow<'a> {
    import_id: &'a str,
    row_number: i64,
    outcome: &'a str,
    customer_id: Option<&'a str>,
    matched_row: Option<i64>,
    errors: String,
}

fn errors_json(errors: &[RowError]) -> String {
    Value::Array(
        errors
            .iter()
            .map(|e| {
                json!({"column": e.column, "pointer": e.pointer, "code": e.code,
                    "message": e.message})
            })
            .collect(),
    )
    .to_string()
}

fn errors_of(raw: &str) -> Result<Vec<RowError>, DomainError> {
    let v: Value = serde_json::from_str(raw).map_err(|_| corrupt("import_rows.errors", raw))?;
    Ok(v.as_array()
        .into_iter()
        .flatten()
        .map(|e| RowError {
            column: e["column"].as_str().map(str::to_owned),
            pointer: e["pointer"].as_str().unwrap_or_default().to_string(),
            code: e["code"].as_str().unwrap_or_default().to_string(),
            message: e["message"].as_str().unwrap_or_default().to_string(),
        })
        .collect())
}

fn failed(row: i64, errors: Vec<RowError>) -> RowResult {
    RowResult {
        row,
        outcome: RowOutcome::Failed,
        customer_id: None,
        matched_row: None,
        errors,
    }
}

fn outcome(row: i64, outcome: RowOutcome, customer_id: Option<String>) -> RowResult {
    RowResult {
        row,
        outcome,
        customer_id,
        matched_row: None,
        errors: Vec::new(),
    }
}

/// A row's failure from a refusal taken while writing it (a unique custom value taken, a
/// change that would duplicate another customer); `None` for errors that end the batch.
fn refusal(row: i64, err: &TxError) -> Option<RowResult> {
    let error = |pointer: &str, code: &str, message: &str| RowError {
        column: None,
        pointer: pointer.to_string(),
        code: code.to_string(),
        message: message.to_string(),
    };
    match err {
        TxError::Domain(DomainError::Validation(errors)) => Some(failed(
            row,
            errors
                .iter()
                .map(|e| error(&e.pointer, &e.code, &e.message))
                .collect(),
        )),
        TxError::Domain(DomainError::Duplicate { .. }) => Some(failed(
            row,
            vec![error(
                "",
                "duplicate_customer",
                "the change would give the matched customer the phone or email of another",
            )],
        )),
        TxError::Domain(DomainError::Conflict { code, message }) => {
            Some(failed(row, vec![error("", code, message)]))
        }
        _ => None,
    }
}

/// The row of this job that created `customer_id`, if one did.
fn created_by_row(
    conn: &mut DbConnection,
    job_id: &str,
    customer_id: &str,
) -> Result<Option<i64>, TxError> {
    Ok(created_by_rows(conn, job_id, &[customer_id])?
        .get(customer_id)
        .copied())
}

/// The rows of this job that created each of `customer_ids`.
///
/// A customer is created by one import row at most, so the rows are found from the customers
/// alone, in the partial index `import_rows_customer` (customer first, `created` rows only),
/// and the job is checked here. Naming the job in the query would let the planner, whose
/// statistics lag behind a table the import is filling, read every row of the job through
/// the primary key instead, once per batch. The outcome is a literal, not a bound value: a
/// prepared statement can only use a partial index whose condition it states.
fn created_by_rows(
    conn: &mut DbConnection,
    job_id: &str,
    customer_ids: &[&str],
) -> Result<HashMap<String, i64>, TxError> {
    if customer_ids.is_empty() {
        return Ok(HashMap::new());
    }
    let rows: Vec<(Option<String>, String, i64)> = import_rows::table
        .filter(import_rows::customer_id.eq_any(customer_ids))
        .filter(diesel::dsl::sql::<diesel::sql_types::Bool>(
            "import_rows.outcome = 'created'",
        ))
        .select((
            import_rows::customer_id,
            import_rows::import_id,
            import_rows::row_number,
        ))
        .load(conn)?;
    Ok(rows
        .into_iter()
        .filter(|(_, job, _)| job == job_id)
        .filter_map(|(id, _, row)| id.map(|id| (id, row)))
        .collect())
}

/// How a lead is written: what it is matched on, what a match does, who owns a new customer.
pub(crate) struct LeadRules<'a> {
    pub(crate) match_on: &'a [MatchKey],
    pub(crate) on_match: OnMatch,
    /// Nothing is written.
    pub(crate) dry_run: bool,
    /// The new customer's owner; `None`: the pool.
    pub(crate) owner_id: Option<&'a str>,
    /// The import the lead comes from, to name the row that created a matched customer.
    pub(crate) job_id: Option<&'a str>,
}

impl<'a> LeadRules<'a> {
    /// Whether leads are matched at all.
    fn matching(&self) -> bool {
        self.on_match != OnMatch::CreateAnyway && !self.match_on.is_empty()
    }

    fn of_job(job: &'a ImportJob) -> Self {
        Self {
            match_on: &job.settings.match_on,
            on_match: job.settings.on_match,
            dry_run: job.settings.dry_run,
            owner_id: job.settings.owner_id.as_deref(),
            job_id: Some(&job.id),
        }
    }
}

/// Matches, creates or updates one valid lead as `rules` say (writing nothing in a dry run).
pub(crate) fn apply_lead(
    conn: &mut DbConnection,
    rules: &LeadRules<'_>,
    actor: &Actor,
    row: i64,
    lead: &Lead,
    file_match: Option<i64>,
    now: NaiveDateTime,
) -> Result<RowResult, TxError> {
    let matching = rules.matching();
    let matches = if matching {
        let values = lead.match_values(rules.match_on);
        let phones: Vec<&str> = values
            .iter()
            .filter_map(|v| v.strip_prefix("phone:"))
            .collect();
        let emails: Vec<&str> = values
            .iter()
            .filter_map(|v| v.strip_prefix("email:"))
            .collect();
        let external_ids: Vec<&str> = values
            .iter()
            .filter_map(|v| v.strip_prefix("external_id:"))
            .collect();
        let points = Points {
            phones,
            emails,
            external_ids,
        };
        matching_customers(conn, &points, None)?
    } else {
        Vec::new()
    };
    let visible = matches
        .iter()
        .find(|(_, owner)| actor.visibility.allows(owner.as_deref()));
    if rules.on_match == OnMatch::Refuse && !matches.is_empty() {
        return Err(DomainError::Duplicate {
            entity: "customer",
            existing_id: visible.map(|(id, _)| id.clone()),
        }
        .into());
    }
    if let Some((id, _)) = visible {
        let matched_row = match rules.job_id {
            Some(job_id) => created_by_row(conn, job_id, id)?,
            None => None,
        };
        let current = load_visible(conn, &Visibility::All, id)?;
        let merged = match rules.on_match {
            OnMatch::UpdateEmptyFields => Some(fill_empty(&current.fields, &lead.customer)),
            OnMatch::Overwrite => Some(overwrite(&current.fields, &lead.customer, &|f| {
                lead.given.iter().any(|g| g == f)
            })),
            OnMatch::Skip | OnMatch::CreateAnyway | OnMatch::Refuse => None,
        };
        let result = match merged {
            Some(fields) => update_matched(conn, rules.dry_run, actor, &current, fields, now)?,
            None => outcome(row, RowOutcome::Skipped, Some(id.clone())),
        };
        return Ok(RowResult {
            row,
            matched_row,
            ..result
        });
    }
    if !matches.is_empty() {
        // A customer the caller may not see: left alone, and not named.
        return Ok(outcome(row, RowOutcome::Skipped, None));
    }
    if let (Some(earlier), true) = (file_match, matching) {
        let outcome_then = match rules.on_match {
            OnMatch::UpdateEmptyFields | OnMatch::Overwrite => RowOutcome::Updated,
            OnMatch::Skip | OnMatch::CreateAnyway | OnMatch::Refuse => RowOutcome::Skipped,
        };
        return Ok(RowResult {
            matched_row: Some(earlier),
            ..outcome(row, outcome_then, None)
        });
    }
    if rules.dry_run {
        return Ok(outcome(row, RowOutcome::Created, None));
    }
    let new = NewLead {
        customer_id: new_id(),
        lead,
    };
    insert_leads(conn, actor, rules.owner_id, std::slice::from_ref(&new), now)?;
    Ok(outcome(row, RowOutcome::Created, Some(new.customer_id)))
}

/// New leads of a batch waiting to be written together, with the match values they bring.
#[derive(Default)]
struct Pending<'a> {
    /// Each lead and the index of its result.
    leads: Vec<(usize, NewLead<'a>)>,
    /// Match value → index in `leads` of the first lead having it.
    values: HashMap<&'a str, usize>,
}

/// Why writing a batch stopped.
enum Stop {
    /// The database refused a lead written together with others: the batch is to be written
    /// row by row, so that only that row fails.
    Refused,
    Error(TxError),
}

impl From<TxError> for Stop {
    fn from(e: TxError) -> Self {
        Stop::Error(e)
    }
}

impl From<diesel::result::Error> for Stop {
    fn from(e: diesel::result::Error) -> Self {
        Stop::Error(e.into())
    }
}

/// The results of a batch of rows, written. With `together`, leads that match nothing (in the
/// database or earlier in the batch) are written in multi-row statements and a row matching a
/// lead of this batch is skipped in memory; every other row (a match to update, a dry run, any
/// row without `together`) is written on its own in a savepoint, exactly as a single lead.
fn write_rows(
    conn: &mut DbConnection,
    rules: &LeadRules<'_>,
    actor: &Actor,
    rows: &[ImportRow],
    together: bool,
    now: NaiveDateTime,
) -> Result<Vec<RowResult>, Stop> {
    let together = together && !rules.dry_run;
    let matching = rules.matching();
    let values: Vec<Vec<String>> = rows
        .iter()
        .map(|r| match &r.lead {
            Ok(lead) if matching => lead.match_values(rules.match_on),
            _ => Vec::new(),
        })
        .collect();
    let mut known = if matching && together {
        known_values(conn, &actor.visibility, values.iter().flatten())?
    } else {
        Known::new()
    };
    // Skipped rows whose customer an earlier batch created: (result, customer).
    let mut created_earlier: Vec<(usize, String)> = Vec::new();
    let mut results: Vec<RowResult> = Vec::with_capacity(rows.len());
    // Customers created by rows of this batch, for `matched_row`.
    let mut created_here: HashMap<String, i64> = HashMap::new();
    let mut pending = Pending::default();
    for (row, values) in rows.iter().zip(&values) {
        let lead = match &row.lead {
            Err(errors) => {
                results.push(failed(row.row, errors.clone()));
                continue;
            }
            Ok(lead) => lead,
        };
        let holders: Vec<&(String, bool)> = values
            .iter()
            .filter_map(|v| known.get(v))
            .flatten()
            .collect();
        if together && !holders.is_empty() && rules.on_match == OnMatch::Skip {
            // The customer the row matches first, as `apply_lead` picks it.
            if let Some(id) = holders
                .iter()
                .filter(|(_, visible)| *visible)
                .map(|(id, _)| id)
                .min()
            {
                let matched_row = created_here.get(id).copied();
                if matched_row.is_none() && rules.job_id.is_some() {
                    created_earlier.push((results.len(), id.clone()));
                }
                results.push(RowResult {
                    matched_row,
                    ..outcome(row.row, RowOutcome::Skipped, Some(id.clone()))
                });
                continue;
            }
        }
        if together && holders.is_empty() {
            let earlier = values
                .iter()
                .filter_map(|v| pending.values.get(v.as_str()).copied())
                .min();
            match earlier {
                None => {
                    for value in values {
                        pending.values.entry(value).or_insert(pending.leads.len());
                    }
                    let new = NewLead {
                        customer_id: new_id(),
                        lead,
                    };
                    created_here.insert(new.customer_id.clone(), row.row);
                    let created =
                        outcome(row.row, RowOutcome::Created, Some(new.customer_id.clone()));
                    pending.leads.push((results.len(), new));
                    results.push(created);
                    continue;
                }
                Some(i) if rules.on_match == OnMatch::Skip => {
                    let (first, new) = &pending.leads[i];
                    let skipped = if actor.visibility.allows(rules.owner_id) {
                        RowResult {
                            matched_row: Some(results[*first].row),
                            ..outcome(row.row, RowOutcome::Skipped, Some(new.customer_id.clone()))
                        }
                    } else {
                        outcome(row.row, RowOutcome::Skipped, None)
                    };
                    results.push(skipped);
                    continue;
                }
                Some(_) => {}
            }
        }
        // Written on its own, after the leads before it.
        write_pending(conn, rules, actor, &mut pending, &mut known, now)?;
        let applied = conn
            .transaction(|conn| apply_lead(conn, rules, actor, row.row, lead, row.file_match, now));
        let mut result = match applied {
            Ok(result) => RowResult {
                row: row.row,
                ..result
            },
            Err(err) => refusal(row.row, &err).ok_or(err)?,
        };
        match (&result.customer_id, result.outcome) {
            (Some(id), RowOutcome::Created) => {
                created_here.insert(id.clone(), row.row);
            }
            (Some(id), _) if result.matched_row.is_none() => {
                result.matched_row = created_here.get(id).copied();
            }
            _ => {}
        }
        if let (Some(id), RowOutcome::Created | RowOutcome::Updated) =
            (&result.customer_id, result.outcome)
        {
            for value in values {
                known
                    .entry(value.clone())
                    .or_default()
                    .push((id.clone(), true));
            }
        }
        results.push(result);
    }
    write_pending(conn, rules, actor, &mut pending, &mut known, now)?;
    if let Some(job_id) = rules.job_id {
        let ids: Vec<&str> = created_earlier.iter().map(|(_, id)| id.as_str()).collect();
        let rows = created_by_rows(conn, job_id, &ids)?;
        for (i, id) in &created_earlier {
            results[*i].matched_row = rows.get(id).copied();
        }
    }
    Ok(results)
}

/// Writes the pending leads together (`Stop::Refused` when the database refuses one of them:
/// a unique value taken).
fn write_pending(
    conn: &mut DbConnection,
    rules: &LeadRules<'_>,
    actor: &Actor,
    pending: &mut Pending<'_>,
    known: &mut Known,
    now: NaiveDateTime,
) -> Result<(), Stop> {
    if pending.leads.is_empty() {
        return Ok(());
    }
    let leads: Vec<NewLead<'_>> = pending.leads.drain(..).map(|(_, lead)| lead).collect();
    insert_leads(conn, actor, rules.owner_id, &leads, now).map_err(|err| match err {
        TxError::Db(diesel::result::Error::DatabaseError(..)) | TxError::Domain(_) => Stop::Refused,
        other => Stop::Error(other),
    })?;
    let visible = actor.visibility.allows(rules.owner_id);
    for (value, i) in pending.values.drain() {
        let id = leads[i].customer_id.clone();
        known
            .entry(value.to_string())
            .or_default()
            .push((id, visible));
    }
    Ok(())
}

/// Writes the merged fields over a matched customer: `updated`, or `skipped` when the lead
/// changes nothing.
fn update_matched(
    conn: &mut DbConnection,
    dry_run: bool,
    actor: &Actor,
    current: &Customer,
    fields: crm_domain::customers::CustomerFields,
    now: NaiveDateTime,
) -> Result<RowResult, TxError> {
    let changes = fields.changes_from(&current.fields);
    let id = Some(current.id.clone());
    if changes.is_empty() {
        return Ok(outcome(0, RowOutcome::Skipped, id));
    }
    if let Some(duplicate) =
        find_duplicate(conn, &Visibility::All, &own_points(&fields), id.as_deref())?
    {
        return Err(duplicate.into());
    }
    if !dry_run {
        rewrite_customer(conn, actor, current, &fields, &changes, now)?;
    }
    Ok(outcome(0, RowOutcome::Updated, id))
}

impl ImportStore for Database {
    /// PostgreSQL: 2,000 rows. A batch's fixed costs (its lookups, the job's row, the commit)
    /// are then spread over four times as many rows (200k leads: about 6% faster than 500),
    /// and other writers wait on it only for the rows it touches. SQLite: 500 rows, since a
    /// batch holds the database's one write lock until it commits, and API writes wait behind it.
    /// `DatabaseOptions::import_rows_per_batch` overrides both.
    fn rows_per_batch(&self) -> usize {
        self.import_rows_per_batch.unwrap_or(match self.backend() {
            crm_domain::Backend::Postgres => 2_000,
            crm_domain::Backend::Sqlite => 500,
        })
    }

    fn create_import(
        &self,
        created_by: &str,
        settings: &ImportSettings,
        now: DateTime<Utc>,
    ) -> Result<ImportJob, DomainError> {
        let id = new_id();
        self.write(|conn| {
            diesel::insert_into(imports::table)
                .values((
                    imports::id.eq(&id),
                    imports::created_by.eq(created_by),
                    imports::status.eq(UPLOADING),
                    imports::settings.eq(settings_json(settings)),
                    imports::size_bytes.eq(0_i64),
                    imports::rows_processed.eq(0_i64),
                    imports::created_count.eq(0_i64),
                    imports::updated_count.eq(0_i64),
                    imports::skipped_count.eq(0_i64),
                    imports::failed_count.eq(0_i64),
                    imports::created_at.eq(stored(now)),
                ))
                .execute(conn)?;
            load(conn, &id)?.into_domain().map_err(TxError::from)
        })
    }

    fn append_upload(&self, id: &str, seq: i64, data: &[u8]) -> Result<(), DomainError> {
        self.write(|conn| {
            diesel::insert_into(import_uploads::table)
                .values((
                    import_uploads::import_id.eq(id),
                    import_uploads::seq.eq(seq),
                    import_uploads::data.eq(data),
                ))
                .execute(conn)?;
            Ok(())
        })
    }

    fn upload_part(&self, id: &str, seq: i64) -> Result<Option<Vec<u8>>, DomainError> {
        self.read(|conn| {
            Ok(import_uploads::table
                .find((id, seq))
                .select(import_uploads::data)
                .get_result(conn)
                .optional()?)
        })
    }

    fn queue_import(
        &self,
        id: &str,
        size_bytes: i64,
        encoding: &str,
    ) -> Result<ImportJob, DomainError> {
        self.write(|conn| {
            let row = load(conn, id)?;
            let mut settings =
                settings_of(&row.settings).ok_or_else(|| corrupt("imports.settings", id))?;
            settings.encoding = encoding.to_string();
            diesel::update(imports::table.find(id))
                .set((
                    imports::status.eq(ImportStatus::Queued.as_str()),
                    imports::size_bytes.eq(size_bytes),
                    imports::settings.eq(settings_json(&settings)),
                ))
                .execute(conn)?;
            load(conn, id)?.into_domain().map_err(TxError::from)
        })
    }

    fn discard_import(&self, id: &str) -> Result<(), DomainError> {
        self.write(|conn| {
            diesel::delete(import_uploads::table.filter(import_uploads::import_id.eq(id)))
                .execute(conn)?;
            diesel::delete(import_rows::table.filter(import_rows::import_id.eq(id)))
                .execute(conn)?;
            diesel::delete(imports::table.find(id)).execute(conn)?;
            Ok(())
        })
    }

    fn import_job(&self, actor: &Actor, id: &str) -> Result<ImportJob, DomainError> {
        self.read(|conn| {
            let row = load(conn, id)?;
            let visible = row.created_by == actor.id
                || actor.visibility.allows(Some(row.created_by.as_str()));
            if !visible || row.status == UPLOADING {
                return Err(IMPORT.into());
            }
            row.into_domain().map_err(TxError::from)
        })
    }

    fn unfinished_imports(&self, now: DateTime<Utc>) -> Result<Vec<ImportJob>, DomainError> {
        self.write(|conn| {
            let interrupted: Vec<String> = imports::table
                .filter(imports::status.eq(UPLOADING))
                .select(imports::id)
                .load(conn)?;
            for id in &interrupted {
                diesel::delete(import_uploads::table.filter(import_uploads::import_id.eq(id)))
                    .execute(conn)?;
            }
            diesel::update(imports::table.filter(imports::status.eq(UPLOADING)))
                .set((
                    imports::status.eq(ImportStatus::Failed.as_str()),
                    imports::error.eq(json!({"code": "interrupted_upload",
                        "message": "the server stopped before the upload was complete; upload the file again"})
                        .to_string()),
                    imports::finished_at.eq(stored(now)),
                ))
                .execute(conn)?;
            let rows: Vec<ImportRowDb> = imports::table
                .filter(imports::status.eq_any([
                    ImportStatus::Queued.as_str(),
                    ImportStatus::Running.as_str(),
                ]))
                .select(ImportRowDb::as_select())
                .order(imports::id.asc())
                .load(conn)?;
            rows.into_iter()
                .map(|r| r.into_domain().map_err(TxError::from))
                .collect()
        })
    }

    fn start_import(&self, id: &str, now: DateTime<Utc>) -> Result<ImportJob, DomainError> {
        self.write(|conn| {
            let row = load(conn, id)?;
            diesel::update(imports::table.find(id))
                .set((
                    imports::status.eq(ImportStatus::Running.as_str()),
                    imports::started_at.eq(row.started_at.unwrap_or(stored(now))),
                ))
                .execute(conn)?;
            load(conn, id)?.into_domain().map_err(TxError::from)
        })
    }

    fn apply_import_rows(
        &self,
        job: &ImportJob,
        actor: &Actor,
        rows: Vec<ImportRow>,
        now: DateTime<Utc>,
    ) -> Result<Vec<RowResult>, DomainError> {
        let now = stored(now);
        self.write(|conn| {
            if let DbConnection::Pg(pg) = conn {
                // A batch looks up hundreds of emails and phones at once in tables the import
                // itself is filling, before their statistics catch up. The planner then takes
                // the trigram search indexes (GIN, bitmap scans only) for the cheapest way to
                // match them exactly, and every lookup walks posting lists shared by all rows:
                // an import becomes quadratic. Each lookup has a btree index; using it is
                // always right.
                // A batch's rows and the job's progress commit together, so a batch lost in a
                // database crash (asynchronous commit risks the last few hundred milliseconds,
                // never consistency) is simply written again when the job resumes. Not waiting
                // for the WAL flush of each batch makes an import about 15% faster.
                // The three settings go in one round trip.
                pg.batch_execute(
                    "SET LOCAL enable_bitmapscan = off; \
                     SET LOCAL enable_seqscan = off; \
                     SET LOCAL synchronous_commit = off",
                )?;
            }
            // Taking the job's row first serialises two servers resuming the same job.
            diesel::update(imports::table.find(&job.id))
                .set(imports::rows_processed.eq(imports::rows_processed))
                .execute(conn)?;
            let processed: i64 = imports::table
                .find(&job.id)
                .select(imports::rows_processed)
                .get_result(conn)?;
            let rows: Vec<ImportRow> = rows.into_iter().filter(|r| r.row > processed).collect();
            let rules = LeadRules::of_job(job);
            let results = match conn
                .transaction(|conn| write_rows(conn, &rules, actor, &rows, true, now))
            {
                Ok(results) => results,
                Err(Stop::Refused) => match write_rows(conn, &rules, actor, &rows, false, now) {
                    Ok(results) => results,
                    Err(Stop::Error(e)) => return Err(e),
                    Err(Stop::Refused) => {
                        return Err(DomainError::internal(
                            "a batch written row by row \
                                    was refused as a whole",
                        )
                        .into())
                    }
                },
                Err(Stop::Error(e)) => return Err(e),
            };
            let mut counts = OutcomeCounts::default();
            let mut last = processed;
            let mut stored = Vec::with_capacity(results.len());
            for result in &results {
                counts.add(result.outcome);
                last = result.row;
                stored.push(ResultRow {
                    import_id: &job.id,
                    row_number: result.row,
                    outcome: result.outcome.as_str(),
                    customer_id: result.customer_id.as_deref(),
                    matched_row: result.matched_row,
                    errors: errors_json(&result.errors),
                });
            }
            insert_all!(conn, import_rows::table, &stored)?;
            diesel::update(imports::table.find(&job.id))
                .set((
                    imports::rows_processed.eq(last),
                    imports::created_count.eq(imports::created_count + counts.created),
                    imports::updated_count.eq(imports::updated_count + counts.updated),
                    imports::skipped_count.eq(imports::skipped_count + counts.skipped),
                    imports::failed_count.eq(imports::failed_count + counts.failed),
                ))
                .execute(conn)?;
            Ok(results)
        })
    }

    fn finish_import(
        &self,
        id: &str,
        total_rows: i64,
        error: Option<JobError>,
        now: DateTime<Utc>,
    ) -> Result<ImportJob, DomainError> {
        self.write(|conn| {
            let status = match error {
                Some(_) => ImportStatus::Failed,
                None => ImportStatus::Completed,
            };
            diesel::update(imports::table.find(id))
                .set((
                    imports::status.eq(status.as_str()),
                    imports::total_rows.eq(total_rows),
                    imports::error
                        .eq(error
                            .map(|e| json!({"code": e.code, "message": e.message}).to_string())),
                    imports::finished_at.eq(stored(now)),
                ))
                .execute(conn)?;
            diesel::delete(import_uploads::table.filter(import_uploads::import_id.eq(id)))
                .execute(conn)?;
            load(conn, id)?.into_domain().map_err(TxError::from)
        })
    }

    fn import_results(
        &self,
        id: &str,
        outcome: Option<RowOutcome>,
        page: &PageRequest,
    ) -> Result<Page<RowResult>, DomainError> {
        // A position that is no row number comes after every row.
        let after: i64 = match &page.after {
            Some(after) => after.parse().unwrap_or(i64::MAX),
            None => 0,
        };
        self.read(|conn| {
            let mut query = import_rows::table
                .filter(import_rows::import_id.eq(id))
                .filter(import_rows::row_number.gt(after))
                .select((
                    import_rows::row_number,
                    import_rows::outcome,
                    import_rows::customer_id,
                    import_rows::matched_row,
                    import_rows::errors,
                ))
                .order(import_rows::row_number.asc())
                .limit(i64::from(page.limit) + 1)
                .into_boxed();
            if let Some(outcome) = outcome {
                query = query.filter(import_rows::outcome.eq(outcome.as_str()));
            }
            let rows: Vec<StoredResult> = query.load(conn)?;
            let mut items = rows
                .into_iter()
                .map(|(row, outcome, customer_id, matched_row, errors)| {
                    Ok(RowResult {
                        row,
                        outcome: RowOutcome::parse(&outcome)
                            .ok_or_else(|| corrupt("import_rows.outcome", &outcome))?,
                        customer_id,
                        matched_row,
                        errors: errors_of(&errors)?,
                    })
                })
                .collect::<Result<Vec<_>, DomainError>>()?;
            let next_after = if items.len() > page.limit as usize {
                items.truncate(page.limit as usize);
                items.last().map(|r| r.row.to_string())
            } else {
                None
            };
            Ok(Page { items, next_after })
        })
    }
}
