//! Request parameters and response bodies of lead imports.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use crm_domain::imports::{ImportJob, JobError, RowError, RowResult};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

/// How to read and load the uploaded file. The file itself is the request body.
#[derive(Debug, Default, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub(crate) struct ImportQuery {
    /// `partial` (default): good rows land, bad rows are reported; `atomic`: nothing lands if
    /// any row is bad.
    #[param(inline, value_type = Option<ModeDto>)]
    pub mode: Option<ModeDto>,
    /// Comma-separated values that find an existing customer: `email`, `phone` (normalised; the
    /// customer's own or a contact's), `external_id`. Default `email,phone`; empty: no matching.
    #[param(
        max_length = 40,
        pattern = "^((email|phone|external_id)(,(email|phone|external_id))*)?$"
    )]
    pub match_on: Option<String>,
    /// What a matching row does: `skip` (default), `update_empty_fields`, `overwrite`,
    /// `create_anyway`.
    #[param(inline, value_type = Option<OnMatchDto>)]
    pub on_match: Option<OnMatchDto>,
    /// Report what would happen without writing any customer.
    pub dry_run: Option<bool>,
    /// Owner of the new customers: a user id, or `pool` for the shared pool. Default: you (a
    /// person) or the pool (an API key). Reps may name only themselves.
    #[param(
        max_length = 36,
        pattern = "^(pool|[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12})$"
    )]
    pub owner_id: Option<String>,
    /// The file's character set when it is not UTF-8 (`gb18030`, `gbk`, `utf-8`); also read
    /// from the `charset` of `Content-Type`. Undeclared: UTF-8 (with or without BOM), else
    /// GB18030 as Excel writes it in China.
    #[param(max_length = 40, pattern = "^[A-Za-z0-9_.:-]+$")]
    pub encoding: Option<String>,
    /// CSV only: a JSON object from header to field, e.g.
    /// `{"Firma": "name", "Budget": "cf.budget", "Fax": "ignore"}`. Fields: `name`, `kind`,
    /// `legal_name`, `industry`, `company_size`, `website`, `address`, `tax_id`, `phone`,
    /// `email`, `status`, `classification`, `lead_source`, `tags`, `gender`,
    /// `external_id`, `contact.name`, `contact.title`, `contact.phone`, `contact.email`, `contact.wechat_id`,
    /// `contact.notes`, `cf.<key>`. Headers not named keep their defaults (common Chinese and
    /// English headers such as 客户名称, 手机, 邮箱, Company, Email are known).
    /// At most 4,000 characters, so the whole URL stays within what HTTP servers accept.
    #[param(max_length = 4000)]
    pub mapping: Option<String>,
}

/// `partial` or `atomic`.
#[derive(Debug, Clone, Copy, Deserialize, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub(crate) enum ModeDto {
    /// Good rows land.
    Partial,
    /// All or nothing.
    Atomic,
}

/// What a matching row does.
#[derive(Debug, Clone, Copy, Deserialize, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub(crate) enum OnMatchDto {
    /// Leave the customer alone.
    Skip,
    /// Fill the customer's empty fields.
    UpdateEmptyFields,
    /// Write the row's values over the customer's.
    Overwrite,
    /// Create a new customer anyway.
    CreateAnyway,
}

/// Rows per outcome.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct CountsDto {
    /// New customers (in a dry run: would be created).
    pub created: i64,
    /// Changed customers.
    pub updated: i64,
    /// Rows matching a customer, left alone.
    pub skipped: i64,
    /// Refused rows.
    pub failed: i64,
}

/// Why a job failed.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct JobErrorDto {
    /// Stable code: `rows_invalid` (atomic mode), `invalid_mapping`, `unreadable_file`,
    /// `interrupted_upload`, `uploader_inactive`.
    pub code: String,
    /// Explanation.
    pub message: String,
}

impl From<JobError> for JobErrorDto {
    fn from(e: JobError) -> Self {
        Self {
            code: e.code,
            message: e.message,
        }
    }
}

/// An import job.
#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({
    "id": "01936f0e-9c2d-7e3f-8a4b-5c6d7e8f9a0b", "status": "completed", "format": "csv",
    "encoding": "UTF-8", "mode": "partial", "match_on": ["email", "phone"], "on_match": "skip",
    "dry_run": false, "owner_id": null, "mapping": {}, "size_bytes": 254311,
    "total_rows": 2000, "rows_processed": 2000,
    "counts": {"created": 1757, "updated": 0, "skipped": 154, "failed": 89}, "error": null,
    "created_by": "01936f0e-0000-7000-8000-000000000001",
    "created_at": "2026-11-27T09:30:00Z", "started_at": "2026-11-27T09:30:00Z",
    "finished_at": "2026-11-27T09:30:02Z"
}))]
pub(crate) struct ImportDto {
    /// UUIDv7.
    #[schema(format = "uuid")]
    pub id: String,
    /// `queued`, `running`, `completed` or `failed`.
    #[schema(pattern = "^(queued|running|completed|failed)$")]
    pub status: String,
    /// `csv` or `jsonl`.
    #[schema(pattern = "^(csv|jsonl)$")]
    pub format: String,
    /// The character set the file is read in.
    pub encoding: String,
    /// `partial` or `atomic`.
    pub mode: ModeDto,
    /// What rows are matched on.
    pub match_on: Vec<String>,
    /// What a matching row does.
    pub on_match: OnMatchDto,
    /// Nothing is written.
    pub dry_run: bool,
    /// Owner of the new customers; `null`: the pool.
    #[schema(format = "uuid")]
    pub owner_id: Option<String>,
    /// Header → field, as given.
    pub mapping: BTreeMap<String, String>,
    /// Bytes uploaded.
    pub size_bytes: i64,
    /// Data rows in the file, once all are read.
    pub total_rows: Option<i64>,
    /// Rows with a result so far.
    pub rows_processed: i64,
    /// Rows per outcome so far.
    pub counts: CountsDto,
    /// Why the job failed.
    pub error: Option<JobErrorDto>,
    /// Who uploaded it (user or API key id).
    #[schema(format = "uuid")]
    pub created_by: String,
    /// When uploaded.
    pub created_at: DateTime<Utc>,
    /// When processing started.
    pub started_at: Option<DateTime<Utc>>,
    /// When it completed or failed.
    pub finished_at: Option<DateTime<Utc>>,
}

impl From<ImportJob> for ImportDto {
    fn from(job: ImportJob) -> Self {
        let s = job.settings;
        Self {
            id: job.id,
            status: job.status.as_str().to_string(),
            format: s.format.as_str().to_string(),
            encoding: s.encoding,
            mode: match s.mode {
                crm_domain::imports::ImportMode::Partial => ModeDto::Partial,
                crm_domain::imports::ImportMode::Atomic => ModeDto::Atomic,
            },
            match_on: s.match_on.iter().map(|k| k.as_str().to_string()).collect(),
            on_match: match s.on_match {
                // Jobs never refuse matches; a stored `refuse` reads as skipping them.
                crm_domain::imports::OnMatch::Skip | crm_domain::imports::OnMatch::Refuse => {
                    OnMatchDto::Skip
                }
                crm_domain::imports::OnMatch::UpdateEmptyFields => OnMatchDto::UpdateEmptyFields,
                crm_domain::imports::OnMatch::Overwrite => OnMatchDto::Overwrite,
                crm_domain::imports::OnMatch::CreateAnyway => OnMatchDto::CreateAnyway,
            },
            dry_run: s.dry_run,
            owner_id: s.owner_id,
            mapping: s.mapping,
            size_bytes: job.size_bytes,
            total_rows: job.total_rows,
            rows_processed: job.rows_processed,
            counts: CountsDto {
                created: job.counts.created,
                updated: job.counts.updated,
                skipped: job.counts.skipped,
                failed: job.counts.failed,
            },
            error: job.error.map(JobErrorDto::from),
            created_by: job.created_by,
            created_at: job.created_at,
            started_at: job.started_at,
            finished_at: job.finished_at,
        }
    }
}

/// One problem of a row.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct RowErrorDto {
    /// The column's header (JSON Lines: the field's pointer); `null` for the whole row.
    pub column: Option<String>,
    /// The field's pointer in the lead (`/name`, `/contact/email`, `/custom_fields/budget`).
    pub pointer: String,
    /// Stable code, as the single-record endpoints use (`required`, `too_long`, `phone`,
    /// `email`, `unknown_lead_source`, `column_count`, …).
    pub code: String,
    /// Explanation.
    pub message: String,
}

impl From<RowError> for RowErrorDto {
    fn from(e: RowError) -> Self {
        Self {
            column: e.column,
            pointer: e.pointer,
            code: e.code,
            message: e.message,
        }
    }
}

/// The result of one row.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct RowResultDto {
    /// 1-based data row (the header is not counted).
    pub row: i64,
    /// `created`, `updated`, `skipped` (matched a customer, left alone) or `failed`.
    #[schema(pattern = "^(created|updated|skipped|failed)$")]
    pub outcome: String,
    /// The created, updated or matched customer; `null` when failed, in a dry run, or when the
    /// match is a customer you may not see.
    #[schema(format = "uuid")]
    pub customer_id: Option<String>,
    /// For a match created by an earlier row of this file: that row.
    pub matched_row: Option<i64>,
    /// Why the row failed.
    pub errors: Vec<RowErrorDto>,
}

impl From<RowResult> for RowResultDto {
    fn from(r: RowResult) -> Self {
        Self {
            row: r.row,
            outcome: r.outcome.as_str().to_string(),
            customer_id: r.customer_id,
            matched_row: r.matched_row,
            errors: r.errors.into_iter().map(RowErrorDto::from).collect(),
        }
    }
}

/// A page of row results.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct RowResultList {
    /// Results in row order.
    pub items: Vec<RowResultDto>,
    /// Pass as `cursor` for the next page; `null` on the last page.
    pub next_cursor: Option<String>,
}

/// Filters, paging and format of the results.
#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub(crate) struct ResultsQuery {
    /// Items per page, 1 to 200 (default 50); JSON only.
    #[param(minimum = 1, maximum = 200)]
    pub limit: Option<i64>,
    /// The `next_cursor` of the previous page; JSON only.
    #[param(max_length = 512, pattern = "^([0-9a-f]{2})+$")]
    pub cursor: Option<String>,
    /// Only rows with this outcome.
    #[param(pattern = "^(created|updated|skipped|failed)$")]
    pub outcome: Option<String>,
    /// `csv`: every result (of the outcome) as a CSV download, one line per error, with
    /// values that a spreadsheet would run as formulas neutralised.
    #[param(pattern = "^(json|csv)$")]
    pub format: Option<String>,
}
