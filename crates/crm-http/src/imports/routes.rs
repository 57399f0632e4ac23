//! Import endpoints: upload a file of leads (answered 202 with the job), follow the job, read
//! or download each row's result.

use std::collections::BTreeMap;

use actix_web::http::header::{self, HeaderValue};
use actix_web::http::StatusCode;
use actix_web::web::Bytes;
use actix_web::{get, post, web, HttpRequest, HttpResponse};
use chrono::Utc;
use crm_domain::identity::Principal;
use crm_domain::imports::{
    ImportFormat, ImportMode, ImportSettings, MatchKey, OnMatch, RowOutcome, RowResult,
};
use crm_domain::page::PageRequest;
use crm_domain::ports::Actor;
use crm_domain::{DomainError, FieldError};
use futures_util::StreamExt;
use sha2::{Digest, Sha256};

use super::dto::{ImportDto, ImportQuery, ModeDto, OnMatchDto, ResultsQuery, RowResultList};
use super::engine::{columns_of, csv_reader, custom_keys, decoded, run, UploadReader};
use crate::auth::actor::actor;
use crate::auth::Caller;
use crate::blocking::blocking;
use crate::extract::query_error;
use crate::idempotency::{begin, finish, parse_key, scope_of, IDEMPOTENCY_KEY};
use crate::pagination::{cursor, invalid_query, PageQuery};
use crate::{ApiError, ApiState, Problem};

/// The longest `mapping` parameter, in characters.
const MAPPING_MAX: usize = 4000;

/// Bytes per stored part of an upload.
const PART: usize = 1024 * 1024;

/// The format a `Content-Type` names, with its `charset` if given.
fn format_of(req: &HttpRequest) -> Result<(ImportFormat, Option<String>), ApiError> {
    let expected = "text/csv or application/x-ndjson";
    let raw = req
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .ok_or_else(|| ApiError::unsupported_media_type(expected))?;
    let mut parts = raw.split(';').map(str::trim);
    let media = parts.next().unwrap_or_default().to_ascii_lowercase();
    let charset = parts
        .filter_map(|p| p.split_once('='))
        .find(|(k, _)| k.trim().eq_ignore_ascii_case("charset"))
        .map(|(_, v)| v.trim().trim_matches('"').to_string());
    let format = match media.as_str() {
        "text/csv" => ImportFormat::Csv,
        "application/x-ndjson" | "application/jsonl" | "application/jsonlines" => {
            ImportFormat::JsonLines
        }
        _ => return Err(ApiError::unsupported_media_type(expected)),
    };
    Ok((format, charset))
}

/// A declared character set, as the decoder names it; 400 for one we cannot read.
fn declared_encoding(label: &str, parameter: &str) -> Result<String, ApiError> {
    encoding_rs::Encoding::for_label(label.trim().as_bytes())
        .filter(|e| *e != encoding_rs::REPLACEMENT)
        // GBK files are read as GB18030, which extends it (the decoder is the same).
        .map(|e| {
            if e == encoding_rs::GBK {
                encoding_rs::GB18030
            } else {
                e
            }
        })
        .map(|e| e.name().to_string())
        .ok_or_else(|| {
            invalid_query(
                parameter,
                "unknown_encoding",
                "not a character set this server reads (use utf-8 or gb18030)".into(),
            )
        })
}

/// The job's settings from the query; 400 naming a bad parameter.
fn settings_of(
    query: ImportQuery,
    format: ImportFormat,
    charset: Option<String>,
    principal: &Principal,
) -> Result<(ImportSettings, Option<String>), ApiError> {
    let encoding = match (&query.encoding, &charset) {
        (Some(label), _) => Some(declared_encoding(label, "encoding")?),
        (None, Some(label)) => Some(
            declared_encoding(label, "charset")
                .map_err(|_| ApiError::unsupported_media_type("a charset of utf-8 or gb18030"))?,
        ),
        (None, None) => None,
    };
    let mut match_on = Vec::new();
    for word in query
        .match_on
        .as_deref()
        .unwrap_or("email,phone")
        .split(',')
        .filter(|w| !w.is_empty())
    {
        let key = MatchKey::parse(word).ok_or_else(|| {
            invalid_query(
                "match_on",
                "invalid",
                "comma-separated email, phone and external_id".into(),
            )
        })?;
        if !match_on.contains(&key) {
            match_on.push(key);
        }
    }
    let mapping: BTreeMap<String, String> = match &query.mapping {
        None => BTreeMap::new(),
        Some(raw) if raw.chars().count() > MAPPING_MAX => {
            return Err(invalid_query(
                "mapping",
                "too_long",
                format!("at most {MAPPING_MAX} characters"),
            ))
        }
        Some(raw) => serde_json::from_str(raw).map_err(|_| {
            invalid_query(
                "mapping",
                "invalid",
                "a JSON object from header to field name".into(),
            )
        })?,
    };
    if format == ImportFormat::JsonLines && !mapping.is_empty() {
        return Err(invalid_query(
            "mapping",
            "not_applicable",
            "JSON Lines rows name their fields; mapping is for CSV".into(),
        ));
    }
    let owner = match query.owner_id.as_deref() {
        Some("pool") => None,
        Some(id) => Some(
            uuid::Uuid::parse_str(id)
                .map_err(|_| invalid_query("owner_id", "invalid", "a user id or pool".into()))?
                .to_string(),
        ),
        None => principal.user_id().map(str::to_owned),
    };
    let settings = ImportSettings {
        format,
        encoding: encoding.clone().unwrap_or_default(),
        mode: match query.mode.unwrap_or(ModeDto::Partial) {
            ModeDto::Partial => ImportMode::Partial,
            ModeDto::Atomic => ImportMode::Atomic,
        },
        match_on,
        on_match: match query.on_match.unwrap_or(OnMatchDto::Skip) {
            OnMatchDto::Skip => OnMatch::Skip,
            OnMatchDto::UpdateEmptyFields => OnMatch::UpdateEmptyFields,
            OnMatchDto::Overwrite => OnMatch::Overwrite,
            OnMatchDto::CreateAnyway => OnMatch::CreateAnyway,
        },
        dry_run: query.dry_run.unwrap_or(false),
        owner_id: owner,
        mapping,
    };
    Ok((settings, encoding))
}

/// The new customers' owner must be an active user whose records the caller manages (a rep:
/// only themselves).
async fn check_owner(state: &ApiState, actor: &Actor, owner: &str) -> Result<(), ApiError> {
    let users = state.stores.users.clone();
    let id = owner.to_string();
    let user = blocking(move || match users.user(&id) {
        Ok(user) => Ok(Some(user)),
        Err(DomainError::NotFound { .. }) => Ok(None),
        Err(e) => Err(e),
    })
    .await?;
    let allowed = user.is_some_and(|u| u.active) && actor.visibility.allows(Some(owner));
    if allowed {
        Ok(())
    } else {
        Err(DomainError::Validation(vec![FieldError::new(
            "/owner_id",
            "invalid_owner",
            "not an active user whose customers you may manage",
        )])
        .into())
    }
}

/// Tracks whether a byte stream is UTF-8 as it arrives.
#[derive(Default)]
struct Utf8Check {
    carry: Vec<u8>,
    invalid: bool,
}

impl Utf8Check {
    fn feed(&mut self, chunk: &[u8]) {
        if self.invalid {
            return;
        }
        let mut data = std::mem::take(&mut self.carry);
        data.extend_from_slice(chunk);
        if let Err(e) = std::str::from_utf8(&data) {
            match e.error_len() {
                None => self.carry = data[e.valid_up_to()..].to_vec(),
                Some(_) => self.invalid = true,
            }
        }
    }

    fn is_utf8(&self) -> bool {
        !self.invalid && self.carry.is_empty()
    }
}

/// Streams the body into the job's stored parts, hashing it; 413 past `limit`.
async fn store_upload(
    state: &ApiState,
    id: &str,
    mut payload: web::Payload,
    hasher: &mut Sha256,
) -> Result<(i64, String), ApiError> {
    let limit = state.config.upload_limit;
    let mut size = 0_usize;
    let mut part = Vec::with_capacity(PART);
    let mut seq = 0_i64;
    let mut utf8 = Utf8Check::default();
    let mut head: Vec<u8> = Vec::new();
    while let Some(chunk) = payload.next().await {
        let chunk = chunk.map_err(|_| {
            ApiError::bad_request(
                "unreadable_body",
                "The upload was interrupted or malformed.",
            )
        })?;
        size += chunk.len();
        if size > limit {
            return Err(ApiError::payload_too_large(limit));
        }
        hasher.update(&chunk);
        utf8.feed(&chunk);
        if head.len() < 4 {
            head.extend(chunk.iter().take(4 - head.len()));
        }
        part.extend_from_slice(&chunk);
        while part.len() >= PART {
            let rest = part.split_off(PART);
            let full = std::mem::replace(&mut part, rest);
            save_part(state, id, seq, full).await?;
            seq += 1;
        }
    }
    if !part.is_empty() {
        save_part(state, id, seq, part).await?;
    }
    let bom = |b: &[u8]| head.starts_with(b);
    let encoding = if bom(&[0xEF, 0xBB, 0xBF]) || utf8.is_utf8() {
        encoding_rs::UTF_8
    } else if bom(&[0xFF, 0xFE]) {
        encoding_rs::UTF_16LE
    } else if bom(&[0xFE, 0xFF]) {
        encoding_rs::UTF_16BE
    } else {
        encoding_rs::GB18030
    };
    Ok((size as i64, encoding.name().to_string()))
}

async fn save_part(state: &ApiState, id: &str, seq: i64, data: Vec<u8>) -> Result<(), ApiError> {
    let store = state.stores.imports.clone();
    let id = id.to_string();
    blocking(move || store.append_upload(&id, seq, &data)).await
}

/// The problems of a CSV file's header: 422 with every mapping problem, or for a file
/// without one.
async fn check_header(
    state: &ApiState,
    id: &str,
    settings: &ImportSettings,
) -> Result<(), ApiError> {
    if settings.format != ImportFormat::Csv {
        return Ok(());
    }
    let state = state.clone();
    let id = id.to_string();
    let settings = settings.clone();
    blocking(move || {
        let reader = UploadReader::new(state.stores.imports.clone(), &id);
        let mut csv = csv_reader(decoded(reader, &settings.encoding));
        let unreadable = || {
            DomainError::invalid(
                "/",
                "not_csv",
                "the file is not CSV with a header row in the declared character set",
            )
        };
        let headers = csv.headers().map_err(|_| unreadable())?.clone();
        if headers.iter().all(|h| h.trim().is_empty()) || headers.iter().any(|h| h.contains('\0')) {
            return Err(unreadable());
        }
        let keys = custom_keys(&state.stores)?;
        columns_of(&headers, &settings.mapping, &keys)
            .map(|_| ())
            .map_err(DomainError::Validation)
    })
    .await
}

/// Uploads a file of leads and starts importing it in the background.
///
/// The body is the file itself: CSV with a header row (`Content-Type: text/csv`; UTF-8 with or
/// without BOM, or GB18030/GBK as Excel writes it in China, detected or declared with
/// `charset` or `encoding`) or JSON Lines (`application/x-ndjson`), one lead per line shaped
/// like a customer create body plus an optional `contact` (a contact create body). Each row is
/// a customer with its first contact and custom fields, checked exactly as a single create.
///
/// The answer is 202 with the job; follow it at `GET /api/v1/imports/{id}` and read each row's
/// outcome at `GET /api/v1/imports/{id}/results`. Problems with the header or `mapping` (no
/// column for the name, a mapped header missing, an unknown field) are a 422 here, and nothing
/// is stored. A job survives a restart of the server and resumes after its last committed row.
/// `Idempotency-Key` replays the first answer for the same file and parameters.
#[utoipa::path(
    tag = "imports",
    operation_id = "create_import",
    summary = "Import leads from a file",
    params(ImportQuery),
    request_body(description = "The file of leads.",
        content(
            (String = "text/csv", example = "客户名称,类型,联系人,手机,邮箱,线索来源\n上海星辰科技有限公司,企业,王芳,138 1234 5678,wang@xingchen.example.cn,展会\n"),
            (String = "application/x-ndjson", example = "{\"name\": \"上海星辰科技有限公司\", \"kind\": \"company\", \"phone\": \"138 1234 5678\", \"contact\": {\"name\": \"王芳\"}}\n"),
        )),
    responses(
        (status = 202, description = "Stored and queued.", body = ImportDto,
            headers(("Location" = String, description = "The job's URL."))),
        (status = 400, description = "A bad query parameter, or the upload broke off.", body = Problem,
            content_type = "application/problem+json"),
        (status = 413, description = "The file exceeds the upload limit.", body = Problem,
            content_type = "application/problem+json"),
        (status = 415, description = "Not CSV or JSON Lines, or an unknown charset.", body = Problem,
            content_type = "application/problem+json"),
        (status = 422, description = "The header or mapping cannot be used, the owner is not one you manage, or the Idempotency-Key was used for another request.", body = Problem,
            content_type = "application/problem+json"),
    ),
)]
#[post("/imports")]
pub(crate) async fn create_import(
    req: HttpRequest,
    state: web::Data<ApiState>,
    caller: Caller,
    payload: web::Payload,
) -> Result<HttpResponse, ApiError> {
    let query = web::Query::<ImportQuery>::from_query(req.query_string())
        .map_err(query_error)?
        .into_inner();
    let (format, charset) = format_of(&req)?;
    let (settings, declared) = settings_of(query, format, charset, &caller.0)?;
    let key = req
        .headers()
        .get(&IDEMPOTENCY_KEY)
        .map(parse_key)
        .transpose()?;
    let length = req
        .headers()
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    if length.is_some_and(|l| l > state.config.upload_limit as u64) {
        return Err(ApiError::payload_too_large(state.config.upload_limit));
    }
    let actor = actor(&state, &caller.0).await?;
    if let Some(owner) = &settings.owner_id {
        check_owner(&state, &actor, owner).await?;
    }
    let store = state.stores.imports.clone();
    let (by, draft) = (actor.id.clone(), settings.clone());
    let job = blocking(move || store.create_import(&by, &draft, Utc::now())).await?;
    let mut hasher = Sha256::new();
    hasher.update(format!("POST /api/v1/imports?{}\n", req.query_string()));
    if let Some(content_type) = req.headers().get(header::CONTENT_TYPE) {
        hasher.update(content_type.as_bytes());
    }
    hasher.update(b"\n");
    let discard = |state: web::Data<ApiState>, id: String| async move {
        let store = state.stores.imports.clone();
        if let Err(e) = blocking(move || store.discard_import(&id)).await {
            tracing::warn!(error = ?e, "cannot remove a refused upload");
        }
    };
    let stored = store_upload(&state, &job.id, payload, &mut hasher).await;
    let (size, detected) = match stored {
        Ok(stored) => stored,
        Err(e) => {
            discard(state.clone(), job.id.clone()).await;
            return Err(e);
        }
    };
    let begun = match &key {
        Some(key) => {
            let scope = scope_of(&caller.0);
            let hash = hex::encode(hasher.finalize());
            match begin(&state, &scope, key, hash).await {
                Ok(None) => Some((scope, key.clone())),
                Ok(Some(replay)) => {
                    discard(state.clone(), job.id.clone()).await;
                    return Ok(replay);
                }
                Err(e) => {
                    discard(state.clone(), job.id.clone()).await;
                    return Err(e);
                }
            }
        }
        None => None,
    };
    let encoding = declared.unwrap_or(detected);
    let settings = ImportSettings {
        encoding: encoding.clone(),
        ..settings
    };
    let checked = if size == 0 {
        Err(DomainError::invalid("/", "empty_file", "the upload is empty").into())
    } else {
        check_header(&state, &job.id, &settings).await
    };
    let queued = match checked {
        Ok(()) => {
            let store = state.stores.imports.clone();
            let id = job.id.clone();
            blocking(move || store.queue_import(&id, size, &encoding)).await
        }
        Err(e) => Err(e),
    };
    let response = match queued {
        Ok(job) => {
            let location = format!("/api/v1/imports/{}", job.id);
            let body = ImportDto::from(job.clone());
            actix_web::rt::spawn(run(state.get_ref().clone(), job));
            HttpResponse::Accepted()
                .insert_header((header::LOCATION, location))
                .json(body)
        }
        Err(e) => {
            discard(state.clone(), job.id.clone()).await;
            actix_web::ResponseError::error_response(&e)
        }
    };
    if let Some((scope, key)) = begun {
        let (response, bytes) = keep(response).await;
        let kept: Vec<(String, String)> = [header::LOCATION, header::CONTENT_TYPE]
            .iter()
            .filter_map(|name| {
                let value = response.headers().get(name)?.to_str().ok()?;
                Some((name.as_str().to_string(), value.to_string()))
            })
            .collect();
        finish(&state, scope, key, response.status(), kept, &bytes).await;
        let mut response = response.set_body(actix_web::body::BoxBody::new(bytes));
        response.headers_mut().insert(
            crate::idempotency::REPLAYED,
            HeaderValue::from_static("false"),
        );
        return Ok(response);
    }
    Ok(response)
}

/// The response with its body read out, to store and send.
async fn keep(response: HttpResponse) -> (HttpResponse<()>, Bytes) {
    let (response, body) = response.into_parts();
    let bytes = actix_web::body::to_bytes(body).await.unwrap_or_default();
    (response, bytes)
}

async fn visible_job(
    state: &ApiState,
    caller: &Caller,
    id: String,
) -> Result<crm_domain::imports::ImportJob, ApiError> {
    let actor = actor(state, &caller.0).await?;
    let store = state.stores.imports.clone();
    blocking(move || store.import_job(&actor, &id)).await
}

/// An import job: status, progress (`rows_processed` of `total_rows`, known once every row was
/// read) and rows per outcome. Jobs are visible to whoever uploaded them and to those who
/// manage them.
#[utoipa::path(
    tag = "imports",
    operation_id = "get_import",
    summary = "Get an import job",
    params(("id" = String, Path, description = "The job's id.", format = "uuid")),
    responses(
        (status = 200, description = "The job.", body = ImportDto),
        (status = 404, description = "No such job, or not yours to see.", body = Problem,
            content_type = "application/problem+json"),
    ),
)]
#[get("/imports/{id}")]
pub(crate) async fn get_import(
    state: web::Data<ApiState>,
    caller: Caller,
    id: web::Path<uuid::Uuid>,
) -> Result<HttpResponse, ApiError> {
    let job = visible_job(&state, &caller, id.into_inner().to_string()).await?;
    Ok(HttpResponse::Ok().json(ImportDto::from(job)))
}

/// Each row's outcome (`created`, `updated`, `skipped`, `failed`) in row order, with the
/// customer created, updated or matched and every error with its column. `format=csv`
/// downloads all of them (one line per error) for a spreadsheet, with values that would run
/// as formulas neutralised.
#[utoipa::path(
    tag = "imports",
    operation_id = "list_import_results",
    summary = "List or download an import's row results",
    params(("id" = String, Path, description = "The job's id.", format = "uuid"), ResultsQuery),
    responses(
        (status = 200, description = "A page of results, or the CSV download.",
            content((RowResultList = "application/json"), (String = "text/csv"))),
        (status = 400, description = "An invalid query parameter.", body = Problem,
            content_type = "application/problem+json"),
        (status = 404, description = "No such job, or not yours to see.", body = Problem,
            content_type = "application/problem+json"),
    ),
)]
#[get("/imports/{id}/results")]
pub(crate) async fn list_import_results(
    state: web::Data<ApiState>,
    caller: Caller,
    id: web::Path<uuid::Uuid>,
    query: web::Query<ResultsQuery>,
) -> Result<HttpResponse, ApiError> {
    let query = query.into_inner();
    let outcome = match query.outcome.as_deref() {
        None => None,
        Some(raw) => Some(RowOutcome::parse(raw).ok_or_else(|| {
            invalid_query(
                "outcome",
                "invalid",
                "created, updated, skipped or failed".into(),
            )
        })?),
    };
    let csv = match query.format.as_deref() {
        None | Some("json") => false,
        Some("csv") => true,
        Some(_) => {
            return Err(invalid_query("format", "invalid", "json or csv".into()));
        }
    };
    let page = PageQuery {
        limit: query.limit,
        cursor: query.cursor,
    }
    .page()?;
    let job = visible_job(&state, &caller, id.into_inner().to_string()).await?;
    if csv {
        return Ok(download(state.get_ref().clone(), job.id, outcome));
    }
    let store = state.stores.imports.clone();
    let results = blocking(move || store.import_results(&job.id, outcome, &page)).await?;
    Ok(HttpResponse::Ok().json(RowResultList {
        items: results.items.into_iter().map(Into::into).collect(),
        next_cursor: cursor(results.next_after),
    }))
}

/// The results as CSV lines: a row without errors is one line, a failed row one line per error.
fn csv_lines(results: &[RowResult]) -> Vec<u8> {
    use crm_domain::imports::spreadsheet_safe;
    let mut out = csv::Writer::from_writer(Vec::new());
    for r in results {
        let row = r.row.to_string();
        let matched = r.matched_row.map(|m| m.to_string()).unwrap_or_default();
        let customer = r.customer_id.clone().unwrap_or_default();
        let mut line = |column: &str, code: &str, message: &str| {
            let _ = out.write_record([
                row.as_str(),
                r.outcome.as_str(),
                customer.as_str(),
                matched.as_str(),
                &spreadsheet_safe(column),
                &spreadsheet_safe(code),
                &spreadsheet_safe(message),
            ]);
        };
        if r.errors.is_empty() {
            line("", "", "");
        }
        for e in &r.errors {
            line(e.column.as_deref().unwrap_or_default(), &e.code, &e.message);
        }
    }
    out.into_inner().unwrap_or_default()
}

/// Streams every result of the job as CSV, a page at a time.
fn download(state: ApiState, id: String, outcome: Option<RowOutcome>) -> HttpResponse {
    // A byte order mark, so spreadsheet programs read the file as UTF-8.
    let head = Bytes::from_static(
        "\u{feff}row,outcome,customer_id,matched_row,column,code,message\n".as_bytes(),
    );
    let filename = format!("attachment; filename=\"import-{id}-results.csv\"");
    let pages = futures_util::stream::unfold(Some(None), move |after: Option<Option<String>>| {
        let state = state.clone();
        let id = id.clone();
        async move {
            let after = after?;
            let store = state.stores.imports.clone();
            let page = PageRequest { limit: 1000, after };
            match blocking(move || store.import_results(&id, outcome, &page)).await {
                Ok(page) => {
                    let bytes = Bytes::from(csv_lines(&page.items));
                    Some((Ok::<_, std::io::Error>(bytes), page.next_after.map(Some)))
                }
                Err(e) => Some((Err(std::io::Error::other(e.to_string())), None)),
            }
        }
    });
    let body =
        futures_util::stream::once(async move { Ok::<_, std::io::Error>(head) }).chain(pages);
    HttpResponse::build(StatusCode::OK)
        .insert_header((header::CONTENT_TYPE, "text/csv; charset=utf-8"))
        .insert_header((header::CONTENT_DISPOSITION, filename))
        .streaming(body)
}
