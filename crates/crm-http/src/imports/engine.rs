//! Running import jobs: the stored upload is read part by part, decoded, split into rows, and
//! handed to the store in batches, each batch one transaction that also moves the job's
//! progress. A job interrupted by a stop resumes after its last committed row.

use std::collections::HashSet;
use std::io::{BufRead, BufReader, Read};
use std::sync::Arc;

use chrono::Utc;
use crm_domain::custom_fields::{FieldEntity, FieldType};
use crm_domain::identity::Principal;
use crm_domain::imports::{
    resolve_columns, ImportFormat, ImportJob, ImportMode, JobError, OnMatch, RowError,
};
use crm_domain::page::{PageRequest, PAGE_LIMIT_MAX};
use crm_domain::ports::{Actor, ImportRow, ImportStore};
use crm_domain::DomainError;

use super::rows::{check_lead, csv_body, json_line, Columns, RowRules, Seen};
use crate::state::Stores;
use crate::ApiState;

/// The stored upload of a job as one byte stream.
pub(crate) struct UploadReader {
    store: Arc<dyn ImportStore>,
    id: String,
    next: i64,
    part: Vec<u8>,
    pos: usize,
    done: bool,
}

impl UploadReader {
    pub(crate) fn new(store: Arc<dyn ImportStore>, id: &str) -> Self {
        Self {
            store,
            id: id.to_string(),
            next: 0,
            part: Vec::new(),
            pos: 0,
            done: false,
        }
    }
}

impl Read for UploadReader {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        while self.pos >= self.part.len() {
            if self.done {
                return Ok(0);
            }
            match self.store.upload_part(&self.id, self.next) {
                Ok(Some(part)) => {
                    self.part = part;
                    self.pos = 0;
                    self.next += 1;
                }
                Ok(None) => self.done = true,
                Err(e) => return Err(std::io::Error::other(e.to_string())),
            }
        }
        let n = buf.len().min(self.part.len() - self.pos);
        buf[..n].copy_from_slice(&self.part[self.pos..self.pos + n]);
        self.pos += n;
        Ok(n)
    }
}

/// The upload decoded to UTF-8 from `encoding` (a byte order mark wins and is dropped).
pub(crate) fn decoded(reader: UploadReader, encoding: &str) -> impl Read {
    let encoding = encoding_rs::Encoding::for_label(encoding.as_bytes());
    encoding_rs_io::DecodeReaderBytesBuilder::new()
        .encoding(encoding)
        .bom_override(true)
        .build(reader)
}

/// A CSV reader over the decoded upload: rows may have any number of cells (a wrong count is
/// reported per row).
pub(crate) fn csv_reader<R: Read>(input: R) -> csv::Reader<R> {
    csv::ReaderBuilder::new()
        .flexible(true)
        .has_headers(true)
        .from_reader(input)
}

/// The field each column of the file fills, or every problem of the mapping.
pub(crate) fn columns_of(
    headers: &csv::StringRecord,
    mapping: &std::collections::BTreeMap<String, String>,
    custom_keys: &[String],
) -> Result<Columns, Vec<crm_domain::FieldError>> {
    let headers: Vec<String> = headers.iter().map(str::to_owned).collect();
    let targets = resolve_columns(&headers, mapping, custom_keys)?;
    Ok(Columns { headers, targets })
}

/// The live customer custom field keys.
pub(crate) fn custom_keys(stores: &Stores) -> Result<Vec<String>, DomainError> {
    Ok(stores
        .custom_fields
        .field_definitions(FieldEntity::Customer, false)?
        .into_iter()
        .map(|d| d.key)
        .collect())
}

/// What every row is checked against, read once.
pub(crate) fn rules(state: &ApiState) -> Result<RowRules, DomainError> {
    let stores = &state.stores;
    let definitions = stores
        .custom_fields
        .field_definitions(FieldEntity::Customer, false)?;
    let mut active_users = HashSet::new();
    if definitions.iter().any(|d| d.field_type == FieldType::User) {
        let mut page = PageRequest {
            limit: PAGE_LIMIT_MAX,
            after: None,
        };
        loop {
            let users = stores.users.list_users(&page)?;
            active_users.extend(users.items.into_iter().filter(|u| u.active).map(|u| u.id));
            match users.next_after {
                Some(after) => page.after = Some(after),
                None => break,
            }
        }
    }
    Ok(RowRules {
        region: state.config.default_phone_region,
        today: state.clock.now().date_naive(),
        sources: stores
            .lead_sources
            .lead_sources(false)?
            .into_iter()
            .map(|s| (s.key, s.label))
            .collect(),
        definitions,
        active_users,
    })
}

/// Who the rows are written as: the uploader, with the records they may see today. `None`
/// when the uploading user was deactivated.
fn uploader(stores: &Stores, created_by: &str) -> Result<Option<Actor>, DomainError> {
    let principal = match stores.users.auth_subject(created_by)? {
        Some(subject) if subject.active => Principal::User {
            user_id: subject.user_id,
            role: subject.role,
        },
        Some(_) => return Ok(None),
        None => Principal::ApiKey {
            key_id: created_by.to_string(),
            scopes: Vec::new(),
        },
    };
    Ok(Some(Actor {
        id: created_by.to_string(),
        visibility: stores.teams.visibility(&principal)?,
        user_id: None,
    }))
}

type Rows<'a> = Box<
    dyn Iterator<Item = Result<(i64, Result<crm_domain::imports::Lead, Vec<RowError>>), JobError>>
        + 'a,
>;

/// The rows of the job's file, each checked.
fn rows<'a>(state: &ApiState, job: &ImportJob, rules: &'a RowRules) -> Result<Rows<'a>, JobError> {
    let input = decoded(
        UploadReader::new(state.stores.imports.clone(), &job.id),
        &job.settings.encoding,
    );
    let broken = |e: &dyn std::fmt::Display| JobError {
        code: "unreadable_file".into(),
        message: format!("the file could not be read: {e}"),
    };
    match job.settings.format {
        ImportFormat::Csv => {
            let mut reader = csv_reader(input);
            let headers = reader.headers().map_err(|e| broken(&e))?.clone();
            let keys = custom_keys(&state.stores).map_err(|e| broken(&e))?;
            let columns =
                columns_of(&headers, &job.settings.mapping, &keys).map_err(|errors| JobError {
                    code: "invalid_mapping".into(),
                    message: errors
                        .iter()
                        .map(|e| format!("{}: {}", e.pointer, e.message))
                        .collect::<Vec<_>>()
                        .join("; "),
                })?;
            let width = headers.len();
            let mut n = 0_i64;
            Ok(Box::new(reader.into_records().map(move |record| {
                n += 1;
                let record = match record {
                    Ok(record) => record,
                    Err(e) if e.is_io_error() => return Err(broken(&e)),
                    Err(e) => return Ok((n, Err(vec![whole_row("malformed_row", e.to_string())]))),
                };
                if record.len() != width {
                    return Ok((
                        n,
                        Err(vec![whole_row(
                            "column_count",
                            format!("{} cells where the header has {width}", record.len()),
                        )]),
                    ));
                }
                let (body, errors) = csv_body(&record, &columns, rules);
                Ok((n, check_lead(body, errors, rules, Some(&columns))))
            })))
        }
        ImportFormat::JsonLines => Ok(Box::new(
            BufReader::new(input)
                .lines()
                .enumerate()
                .filter(|(_, line)| line.as_ref().map_or(true, |l| !l.trim().is_empty()))
                .map(move |(i, line)| {
                    let line = line.map_err(|e| broken(&e))?;
                    Ok((i as i64 + 1, json_line(&line, rules)))
                }),
        )),
    }
}

fn whole_row(code: &str, message: String) -> RowError {
    RowError {
        column: None,
        pointer: String::new(),
        code: code.into(),
        message,
    }
}

/// Runs (or resumes) one job to its end. `stop_after` batches, the job is left running, as a
/// stopped server leaves it (tests of resuming use this).
pub(crate) fn run_job(
    state: &ApiState,
    job: ImportJob,
    stop_after: Option<usize>,
) -> Result<ImportJob, DomainError> {
    let store = state.stores.imports.clone();
    let job = store.start_import(&job.id, state.clock.now())?;
    let fail =
        |error: JobError, total: i64| store.finish_import(&job.id, total, Some(error), Utc::now());
    let Some(actor) = uploader(&state.stores, &job.created_by)? else {
        return fail(
            JobError {
                code: "uploader_inactive".into(),
                message: "the user who uploaded the file was deactivated".into(),
            },
            job.rows_processed,
        );
    };
    let rules = rules(state)?;
    let settings = &job.settings;
    if settings.mode == ImportMode::Atomic && !settings.dry_run && job.rows_processed == 0 {
        // Every row is checked before any is written.
        let mut refused = Vec::new();
        let mut total = 0;
        for row in match rows(state, &job, &rules) {
            Ok(rows) => rows,
            Err(e) => return fail(e, 0),
        } {
            let (n, lead) = match row {
                Ok(row) => row,
                Err(e) => return fail(e, total),
            };
            total = n;
            if let Err(errors) = lead {
                refused.push(ImportRow {
                    row: n,
                    lead: Err(errors),
                    file_match: None,
                });
            }
        }
        if !refused.is_empty() {
            let bad = refused.len();
            for batch in refused.chunks(store.rows_per_batch()) {
                store.apply_import_rows(&job, &actor, batch.to_vec(), Utc::now())?;
            }
            return fail(
                JobError {
                    code: "rows_invalid".into(),
                    message: format!(
                        "{bad} of {total} rows are invalid (see the results); in atomic mode \
                         nothing was imported"
                    ),
                },
                total,
            );
        }
    }
    // The file is read and checked on a thread of its own while the batch before is written,
    // so the server's work on a batch overlaps the database's work on the previous one.
    std::thread::scope(|scope| {
        let (sender, batches) = std::sync::mpsc::sync_channel(2);
        scope.spawn(|| read_batches(state, &job, &rules, sender));
        let mut written = 0;
        for batch in batches {
            match batch {
                Batch::Rows(rows) => {
                    store.apply_import_rows(&job, &actor, rows, Utc::now())?;
                    written += 1;
                    if stop_after.is_some_and(|stop| written >= stop) {
                        return store.import_job(&actor_all(&job), &job.id);
                    }
                }
                Batch::End { total } => {
                    return store.finish_import(&job.id, total, None, Utc::now())
                }
                Batch::Failed { error, total } => return fail(error, total),
            }
        }
        Err(DomainError::internal(
            "the file reader stopped without a last batch",
        ))
    })
}

/// What the file reader hands to the writer.
enum Batch {
    /// The next rows, at most the store's `rows_per_batch`.
    Rows(Vec<ImportRow>),
    /// Every row was handed over; the file has `total` rows.
    End { total: i64 },
    /// The file cannot be read past row `total`.
    Failed { error: JobError, total: i64 },
}

/// Reads the job's file and sends its rows not yet processed in batches of the store's
/// `rows_per_batch` (one transaction each), then how
/// it ended. Stops early when the writer stops listening.
fn read_batches(
    state: &ApiState,
    job: &ImportJob,
    rules: &RowRules,
    sender: std::sync::mpsc::SyncSender<Batch>,
) {
    let settings = &job.settings;
    let matching = settings.on_match != OnMatch::CreateAnyway && !settings.match_on.is_empty();
    let mut seen = Seen::new();
    let per_batch = state.stores.imports.rows_per_batch();
    let mut batch = Vec::with_capacity(per_batch);
    let mut total = 0;
    let all = match rows(state, job, rules) {
        Ok(rows) => rows,
        Err(error) => {
            let _ = sender.send(Batch::Failed { error, total: 0 });
            return;
        }
    };
    for row in all {
        let (n, lead) = match row {
            Ok(row) => row,
            Err(error) => {
                let _ = sender.send(Batch::Failed { error, total });
                return;
            }
        };
        total = n;
        let mut file_match = None;
        if settings.dry_run && matching {
            if let Ok(lead) = &lead {
                let values = lead.match_values(&settings.match_on);
                file_match = values.iter().find_map(|v| seen.get(v).copied());
                if file_match.is_none() {
                    seen.extend(values.into_iter().map(|v| (v, n)));
                }
            }
        }
        if n <= job.rows_processed {
            continue;
        }
        batch.push(ImportRow {
            row: n,
            lead,
            file_match,
        });
        if batch.len() == per_batch
            && sender
                .send(Batch::Rows(std::mem::replace(
                    &mut batch,
                    Vec::with_capacity(per_batch),
                )))
                .is_err()
        {
            return;
        }
    }
    if !batch.is_empty() && sender.send(Batch::Rows(batch)).is_err() {
        return;
    }
    let _ = sender.send(Batch::End { total });
}

/// An actor that sees every job (the engine reading its own job back).
fn actor_all(job: &ImportJob) -> Actor {
    Actor {
        id: job.created_by.clone(),
        visibility: crm_domain::identity::Visibility::All,
        user_id: None,
    }
}

/// Runs the job `id` now, on a blocking thread, and waits for it. After `stop_after` batches
/// the job is left running, exactly as a server stopped at that point leaves it (tests of
/// resuming use this).
pub async fn run_import_now(
    state: &ApiState,
    id: &str,
    stop_after: Option<usize>,
) -> Result<(), crate::ApiError> {
    let state = state.clone();
    let id = id.to_string();
    crate::blocking::blocking(move || {
        let job = state.stores.imports.import_job(
            &Actor {
                id: String::new(),
                visibility: crm_domain::identity::Visibility::All,
                user_id: None,
            },
            &id,
        )?;
        run_job(&state, job, stop_after).map(|_| ())
    })
    .await
}

/// Runs jobs one at a time: a job waits for the one before it.
pub(crate) async fn run(state: ApiState, job: ImportJob) {
    let _turn = state.imports_turn.clone().lock_owned().await;
    let id = job.id.clone();
    let ran = actix_web::web::block(move || run_job(&state, job, None)).await;
    match ran {
        Ok(Ok(job)) => tracing::info!(
            import_id = %id,
            status = job.status.as_str(),
            created = job.counts.created,
            updated = job.counts.updated,
            skipped = job.counts.skipped,
            failed = job.counts.failed,
            "import finished"
        ),
        Ok(Err(e)) => {
            tracing::error!(import_id = %id, error = %e, "import stopped; it resumes on the next start")
        }
        Err(e) => tracing::error!(import_id = %id, error = %e, "import did not run"),
    }
}

/// Runs the jobs a stop interrupted and those still queued, oldest first; the server calls this
/// once at start.
pub async fn resume_imports(state: ApiState) {
    let store = state.stores.imports.clone();
    let unfinished = actix_web::web::block(move || store.unfinished_imports(Utc::now())).await;
    match unfinished {
        Ok(Ok(jobs)) => {
            for job in jobs {
                tracing::info!(import_id = %job.id, from_row = job.rows_processed + 1, "resuming import");
                run(state.clone(), job).await;
            }
        }
        Ok(Err(e)) => tracing::error!(error = %e, "cannot read unfinished imports"),
        Err(e) => tracing::error!(error = %e, "cannot read unfinished imports"),
    }
}
