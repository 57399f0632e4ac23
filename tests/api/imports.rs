//! Lead imports over HTTP: the sample file's known outcome, encodings, matching modes, atomic
//! and dry runs, refusals that store nothing, idempotent replays, resuming a stopped job and
//! the spreadsheet-safe results download.

use std::collections::BTreeMap;

use actix_web::test;
use crm_domain::identity::Role;
use crm_domain::ports::ImportStore;
use crm_persistence::test_support::{test_options, TestDatabase};
use crm_persistence::DatabaseOptions;
use crm_tests::{api_state, backend_tests, header, login, pointers, request, seed_user, send};
use serde_json::{json, Value};

/// The messy sample lead file and the outcome a correct import of it must have.
const SAMPLE: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/fixtures/leads-sample.csv");
const TRUTH: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/fixtures/leads-sample.csv.truth.json"
);

/// An upload of `body` with this content type and query.
fn upload(token: &str, query: &str, content_type: &str, body: Vec<u8>) -> test::TestRequest {
    test::TestRequest::post()
        .uri(&format!("/api/v1/imports{query}"))
        .insert_header(("Authorization", format!("Bearer {token}")))
        .insert_header(("Content-Type", content_type))
        .set_payload(body)
}

macro_rules! finished {
    ($app:expr, $token:expr, $job:expr) => {{
        let uri = format!(
            "/api/v1/imports/{}",
            $job["id"].as_str().unwrap_or_default()
        );
        let mut job = Value::Null;
        for _ in 0..3000 {
            let (status, _, body) = send($app, request("GET", &uri, Some($token), None)).await;
            assert_eq!(status, 200, "{body}");
            job = body;
            if job["status"] == "completed" || job["status"] == "failed" {
                break;
            }
            actix_web::rt::time::sleep(std::time::Duration::from_millis(20)).await;
        }
        job
    }};
}

macro_rules! all_results {
    ($app:expr, $token:expr, $id:expr) => {{
        let mut items: Vec<Value> = Vec::new();
        let mut cursor = String::new();
        loop {
            let uri = format!("/api/v1/imports/{}/results?limit=200{cursor}", $id);
            let (status, _, page) = send($app, request("GET", &uri, Some($token), None)).await;
            assert_eq!(status, 200, "{page}");
            items.extend(page["items"].as_array().cloned().unwrap_or_default());
            match page["next_cursor"].as_str() {
                Some(next) => cursor = format!("&cursor={next}"),
                None => break,
            }
        }
        items
    }};
}

macro_rules! customers {
    ($app:expr, $token:expr) => {{
        let mut items: Vec<Value> = Vec::new();
        let mut cursor = String::new();
        loop {
            let uri = format!("/api/v1/customers?limit=200{cursor}");
            let (status, _, page) = send($app, request("GET", &uri, Some($token), None)).await;
            assert_eq!(status, 200, "{page}");
            items.extend(page["items"].as_array().cloned().unwrap_or_default());
            match page["next_cursor"].as_str() {
                Some(next) => cursor = format!("&cursor={next}"),
                None => break,
            }
        }
        items
    }};
}

fn sample() -> Vec<u8> {
    std::fs::read(SAMPLE).unwrap_or_else(|e| panic!("{SAMPLE}: {e}"))
}

fn truth() -> Value {
    let raw = std::fs::read_to_string(TRUTH).unwrap_or_else(|e| panic!("{TRUTH}: {e}"));
    serde_json::from_str(&raw).unwrap_or_default()
}

/// The error (code, column) a rejection reason of the truth file stands for.
fn expected_error(reason: &str) -> (&'static str, &'static str) {
    match reason {
        "no_name" => ("required", "客户名称"),
        "too_long" => ("too_long", "客户名称"),
        "bad_phone" => ("phone", "手机"),
        "bad_email" => ("email", "邮箱"),
        other => panic!("unknown reason {other}"),
    }
}

/// Checks a finished import of the sample file against its truth.
fn assert_truth(job: &Value, results: &[Value]) {
    let truth = truth();
    let rows = truth["data_rows"].as_i64().unwrap_or_default();
    let unique = truth["unique_leads"].as_i64().unwrap_or_default();
    let duplicates = truth["duplicates"].as_i64().unwrap_or_default();
    let rejects = truth["rejects"].as_array().cloned().unwrap_or_default();
    assert_eq!(job["status"], "completed", "{job}");
    let expected: Vec<i64> = rejects.iter().filter_map(|r| r["row"].as_i64()).collect();
    let surprises: Vec<&Value> = results
        .iter()
        .filter(|r| {
            r["outcome"] == "failed" && !expected.contains(&r["row"].as_i64().unwrap_or_default())
        })
        .take(8)
        .collect();
    assert!(surprises.is_empty(), "{surprises:#?}");
    assert_eq!(job["total_rows"], rows);
    assert_eq!(job["rows_processed"], rows);
    assert_eq!(
        job["counts"],
        json!({"created": unique, "updated": 0, "skipped": duplicates,
            "failed": rejects.len()})
    );
    assert_eq!(results.len() as i64, rows);
    let numbers: Vec<i64> = results.iter().filter_map(|r| r["row"].as_i64()).collect();
    assert_eq!(
        numbers,
        (1..=rows).collect::<Vec<_>>(),
        "one result per row"
    );
    let failed: BTreeMap<i64, &Value> = results
        .iter()
        .filter(|r| r["outcome"] == "failed")
        .map(|r| (r["row"].as_i64().unwrap_or_default(), r))
        .collect();
    assert_eq!(
        failed.keys().copied().collect::<Vec<_>>(),
        rejects
            .iter()
            .filter_map(|r| r["row"].as_i64())
            .collect::<Vec<_>>()
    );
    for reject in &rejects {
        let row = reject["row"].as_i64().unwrap_or_default();
        let (code, column) = expected_error(reject["reason"].as_str().unwrap_or_default());
        let errors = failed[&row]["errors"]
            .as_array()
            .cloned()
            .unwrap_or_default();
        assert!(
            errors
                .iter()
                .any(|e| e["code"] == code && e["column"] == column),
            "row {row}: expected {code} in {column}, got {errors:?}"
        );
        assert_eq!(failed[&row]["customer_id"], Value::Null);
    }
    for skipped in results.iter().filter(|r| r["outcome"] == "skipped") {
        let row = skipped["row"].as_i64().unwrap_or_default();
        let earlier = skipped["matched_row"].as_i64().unwrap_or(i64::MAX);
        assert!(earlier < row, "row {row} matches an earlier row: {skipped}");
        let first = &results[(earlier - 1) as usize];
        assert_eq!(first["outcome"], "created");
        assert_eq!(skipped["customer_id"], first["customer_id"]);
    }
}

async fn the_sample_file_imports_to_its_truth(db: TestDatabase) {
    seed_user(&db, "admin@example.com", Role::Admin);
    let rep = seed_user(&db, "rep@example.com", Role::Rep);
    let app = test::init_service(crm_http::app(api_state(&db))).await;
    let (admin, _) = login(&app, "admin@example.com").await;
    let (rep_token, _) = login(&app, "rep@example.com").await;
    let (status, headers, job) = send(
        &app,
        upload(
            &rep_token,
            "?mode=partial&match_on=email,phone&on_match=skip",
            "text/csv",
            sample(),
        ),
    )
    .await;
    assert_eq!(status, 202, "{job}");
    let id = job["id"].as_str().unwrap_or_default().to_string();
    assert_eq!(
        header(&headers, "location"),
        format!("/api/v1/imports/{id}")
    );
    assert_eq!(
        job["owner_id"],
        rep.as_str(),
        "a person's import is theirs by default"
    );
    assert_eq!(job["encoding"], "UTF-8");
    let job = finished!(&app, &rep_token, job);
    let results = all_results!(&app, &rep_token, id);
    assert_truth(&job, &results);
    let stored = customers!(&app, &admin);
    assert_eq!(
        stored.len() as i64,
        truth()["unique_leads"].as_i64().unwrap_or(-1)
    );
    assert!(stored.iter().all(|c| c["owner_id"] == rep.as_str()));
    // A row as the single create reads it: kind words, lead source names and the first contact.
    let first = results[0]["customer_id"].as_str().unwrap_or_default();
    let (_, _, customer) = send(
        &app,
        request(
            "GET",
            &format!("/api/v1/customers/{first}"),
            Some(&rep_token),
            None,
        ),
    )
    .await;
    assert_eq!(customer["name"], "南京马刚Co., Ltd.");
    assert_eq!(customer["kind"], "company");
    assert_eq!(customer["lead_source"], "website");
    assert_eq!(customer["phone"], "13830166131");
    assert_eq!(customer["email"], "lead0.226@example.com");
    assert_eq!(customer["address"], "西安");
    let (_, _, contacts) = send(
        &app,
        request(
            "GET",
            &format!("/api/v1/customers/{first}/contacts"),
            Some(&rep_token),
            None,
        ),
    )
    .await;
    assert_eq!(contacts["items"][0]["name"], "黎英");
    assert_eq!(
        contacts["items"][0]["phones"],
        json!([{"number": "13830166131", "e164": "+8613830166131"}])
    );
    assert_eq!(contacts["items"][0]["primary"], true);
    // Only failed rows, on request.
    let (_, _, failed) = send(
        &app,
        request(
            "GET",
            &format!("/api/v1/imports/{id}/results?outcome=failed&limit=1"),
            Some(&rep_token),
            None,
        ),
    )
    .await;
    assert_eq!(failed["items"][0]["row"], 62);
    assert_eq!(failed["items"][0]["errors"][0]["pointer"], "/name");
    // Importing the same file again creates nothing: every row matches.
    let (_, _, again) = send(&app, upload(&rep_token, "", "text/csv", sample())).await;
    let again = finished!(&app, &rep_token, again);
    assert_eq!(again["counts"]["created"], 0, "{again}");
    assert_eq!(
        again["counts"]["skipped"],
        truth()["unique_leads"].as_i64().unwrap_or(-1)
            + truth()["duplicates"].as_i64().unwrap_or(-1)
    );
    assert_eq!(db.orphan_rows(), 0);
}

/// The sample file stored as the upload of a queued job of `uploader` (matching on email and
/// phone, skipping matches, into the pool), as a server finds it when it starts the job.
fn queued_sample_job(db: &TestDatabase, uploader: &str) -> crm_domain::imports::ImportJob {
    let store = db.shared();
    let settings = crm_domain::imports::ImportSettings {
        format: crm_domain::imports::ImportFormat::Csv,
        encoding: "UTF-8".into(),
        mode: crm_domain::imports::ImportMode::Partial,
        match_on: vec![
            crm_domain::imports::MatchKey::Email,
            crm_domain::imports::MatchKey::Phone,
        ],
        on_match: crm_domain::imports::OnMatch::Skip,
        dry_run: false,
        owner_id: None,
        mapping: BTreeMap::new(),
    };
    let job = store
        .create_import(uploader, &settings, chrono::Utc::now())
        .unwrap_or_else(|e| panic!("{e}"));
    let file = sample();
    for (seq, part) in file.chunks(10_000).enumerate() {
        store
            .append_upload(&job.id, seq as i64, part)
            .unwrap_or_else(|e| panic!("{e}"));
    }
    store
        .queue_import(&job.id, file.len() as i64, "UTF-8")
        .unwrap_or_else(|e| panic!("{e}"))
}

async fn a_stopped_job_resumes_without_writing_a_row_twice(db: TestDatabase) {
    // Batches of 500 rows on both backends (PostgreSQL's 2,000 would create every customer of
    // the sample in the first batch), so the resumed job still has customers to write.
    let options = DatabaseOptions {
        import_rows_per_batch: Some(500),
        ..test_options()
    };
    let Some(db) = TestDatabase::with_options(db.database().backend(), &options) else {
        return;
    };
    let admin_id = seed_user(&db, "admin@example.com", Role::Admin);
    let state = api_state(&db);
    let app = test::init_service(crm_http::app(state.clone())).await;
    let (admin, _) = login(&app, "admin@example.com").await;
    // A job whose upload was stored before the server stopped.
    let job = queued_sample_job(&db, &admin_id);
    // The server stops after the first batch of 500 rows…
    crm_http::imports::run_import_now(&state, &job.id, Some(1))
        .await
        .unwrap_or_else(|e| panic!("{e:?}"));
    let uri = format!("/api/v1/imports/{}", job.id);
    let (_, _, halfway) = send(&app, request("GET", &uri, Some(&admin), None)).await;
    assert_eq!(halfway["status"], "running");
    assert_eq!(halfway["rows_processed"], 500);
    let written = customers!(&app, &admin).len();
    // …and the next start picks it up where it stopped.
    crm_http::imports::resume_imports(state.clone()).await;
    let (_, _, job_after) = send(&app, request("GET", &uri, Some(&admin), None)).await;
    let results = all_results!(&app, &admin, job.id);
    assert_truth(&job_after, &results);
    assert!(written > 0 && written < 1757, "{written}");
    let stored = customers!(&app, &admin);
    assert_eq!(stored.len(), 1757, "no row was written twice");
    assert!(
        stored.iter().all(|c| c["owner_id"].is_null()),
        "pool import"
    );
    assert_eq!(db.orphan_rows(), 0);
}

/// With the default options a batch is 2,000 rows on PostgreSQL and 500 on SQLite: a server
/// stopped after its first batch has processed exactly that many rows of the sample, with their
/// results stored.
async fn a_batch_is_the_backends_number_of_rows(db: TestDatabase) {
    let admin_id = seed_user(&db, "admin@example.com", Role::Admin);
    let state = api_state(&db);
    let app = test::init_service(crm_http::app(state.clone())).await;
    let (admin, _) = login(&app, "admin@example.com").await;
    let job = queued_sample_job(&db, &admin_id);
    let expected: i64 = match db.database().backend() {
        crm_domain::Backend::Postgres => 2_000,
        crm_domain::Backend::Sqlite => 500,
    };
    assert_eq!(
        i64::try_from(db.shared().rows_per_batch()).ok(),
        Some(expected)
    );
    crm_http::imports::run_import_now(&state, &job.id, Some(1))
        .await
        .unwrap_or_else(|e| panic!("{e:?}"));
    let uri = format!("/api/v1/imports/{}", job.id);
    let (_, _, stopped) = send(&app, request("GET", &uri, Some(&admin), None)).await;
    assert_eq!(stopped["status"], "running");
    assert_eq!(stopped["rows_processed"], expected);
    let results = all_results!(&app, &admin, job.id);
    let rows: Vec<i64> = results.iter().filter_map(|r| r["row"].as_i64()).collect();
    assert_eq!(rows, (1..=expected).collect::<Vec<_>>());
}

async fn gb18030_files_are_detected_or_declared(db: TestDatabase) {
    seed_user(&db, "admin@example.com", Role::Admin);
    let app = test::init_service(crm_http::app(api_state(&db))).await;
    let (admin, _) = login(&app, "admin@example.com").await;
    let text = "客户名称,类型,联系人,手机,邮箱,线索来源\r\n\
                上海星辰科技有限公司,企业,王芳,１３８１２３４５６７８,wang@xingchen.example.cn,展会\r\n\
                李雷,个人,,+86 139 0000 1111,,转介绍\r\n";
    let (bytes, _, lossy) = encoding_rs::GB18030.encode(text);
    assert!(!lossy);
    assert!(std::str::from_utf8(&bytes).is_err(), "really not UTF-8");
    for (query, content_type) in [
        ("", "text/csv"),
        ("?encoding=gbk&match_on=", "text/csv"),
        ("?match_on=", "text/csv; charset=GB18030"),
    ] {
        let (status, _, job) =
            send(&app, upload(&admin, query, content_type, bytes.to_vec())).await;
        assert_eq!(status, 202, "{job}");
        assert_eq!(job["encoding"], "gb18030");
        let job = finished!(&app, &admin, job);
        assert_eq!(job["status"], "completed", "{job}");
        assert_eq!(job["total_rows"], 2);
        if query.is_empty() {
            assert_eq!(job["counts"]["created"], 2, "{job}");
        }
    }
    let stored = customers!(&app, &admin);
    let names: Vec<&str> = stored.iter().filter_map(|c| c["name"].as_str()).collect();
    assert!(
        names.contains(&"上海星辰科技有限公司") && names.contains(&"李雷"),
        "{names:?}"
    );
    let person = stored
        .iter()
        .find(|c| c["name"] == "李雷")
        .cloned()
        .unwrap_or_default();
    assert_eq!(person["kind"], "individual");
    assert_eq!(person["lead_source"], "referral");
    // UTF-8 with a byte order mark, English headers.
    let mut bom = vec![0xEF, 0xBB, 0xBF];
    bom.extend_from_slice(b"Company,Email,Source\nAcme GmbH,info@acme.example,Trade Show\n");
    let (_, _, job) = send(&app, upload(&admin, "", "text/csv", bom)).await;
    let job = finished!(&app, &admin, job);
    assert_eq!(job["encoding"], "UTF-8");
    assert_eq!(job["counts"]["created"], 1, "{job}");
    let acme = customers!(&app, &admin)
        .into_iter()
        .find(|c| c["name"] == "Acme GmbH")
        .unwrap_or_default();
    assert_eq!(acme["email"], "info@acme.example");
    assert_eq!(acme["lead_source"], "trade_show");
}

async fn matches_skip_fill_overwrite_or_create_as_asked(db: TestDatabase) {
    seed_user(&db, "admin@example.com", Role::Admin);
    seed_user(&db, "rep@example.com", Role::Rep);
    seed_user(&db, "other@example.com", Role::Rep);
    let app = test::init_service(crm_http::app(api_state(&db))).await;
    let (admin, _) = login(&app, "admin@example.com").await;
    let (rep, _) = login(&app, "rep@example.com").await;
    let (other, _) = login(&app, "other@example.com").await;
    let create =
        |token: &str, body: Value| request("POST", "/api/v1/customers", Some(token), Some(body));
    let (_, _, mine) = send(
        &app,
        create(
            &rep,
            json!({"kind": "company", "name": "Mine Ltd", "email": "a@mine.example"}),
        ),
    )
    .await;
    let (_, _, theirs) = send(
        &app,
        create(
            &other,
            json!({"kind": "company", "name": "Theirs Ltd", "phone": "13900001111"}),
        ),
    )
    .await;
    let file = "name,email,phone,industry\n\
                Mine Renamed,A@Mine.example,,Retail\n\
                Theirs Renamed,,139 0000 1111,Mining\n";
    let run = |query: &str| upload(&rep, query, "text/csv", file.as_bytes().to_vec());
    // skip: the visible match is named, the invisible one is not.
    let (_, _, job) = send(&app, run("")).await;
    let job = finished!(&app, &rep, job);
    assert_eq!(
        job["counts"],
        json!({"created": 0, "updated": 0, "skipped": 2, "failed": 0})
    );
    let results = all_results!(&app, &rep, job["id"].as_str().unwrap_or_default());
    assert_eq!(results[0]["customer_id"], mine["id"]);
    assert_eq!(results[0]["matched_row"], Value::Null);
    assert_eq!(
        results[1]["customer_id"],
        Value::Null,
        "another rep's customer stays unnamed"
    );
    // update_empty_fields: only the empty industry is filled.
    let (_, _, job) = send(&app, run("?on_match=update_empty_fields")).await;
    let job = finished!(&app, &rep, job);
    assert_eq!(
        job["counts"],
        json!({"created": 0, "updated": 1, "skipped": 1, "failed": 0})
    );
    let uri = format!(
        "/api/v1/customers/{}",
        mine["id"].as_str().unwrap_or_default()
    );
    let (_, headers, after) = send(&app, request("GET", &uri, Some(&rep), None)).await;
    assert_eq!(after["name"], "Mine Ltd");
    assert_eq!(after["industry"], "Retail");
    assert_eq!(header(&headers, "etag"), crm_http::etag::etag(2));
    // Again: nothing left to fill, so skipped.
    let (_, _, job) = send(&app, run("?on_match=update_empty_fields")).await;
    let job = finished!(&app, &rep, job);
    assert_eq!(job["counts"]["skipped"], 2, "{job}");
    // overwrite: the row's values win.
    let (_, _, job) = send(&app, run("?on_match=overwrite")).await;
    finished!(&app, &rep, job);
    let (_, _, after) = send(&app, request("GET", &uri, Some(&rep), None)).await;
    assert_eq!(after["name"], "Mine Renamed");
    assert_eq!(after["email"], "A@Mine.example");
    let (_, _, unchanged) = send(
        &app,
        request(
            "GET",
            &format!(
                "/api/v1/customers/{}",
                theirs["id"].as_str().unwrap_or_default()
            ),
            Some(&other),
            None,
        ),
    )
    .await;
    assert_eq!(
        unchanged["name"], "Theirs Ltd",
        "an invisible match is never changed"
    );
    // create_anyway, and matching switched off, create.
    let (_, _, job) = send(&app, run("?on_match=create_anyway")).await;
    let job = finished!(&app, &rep, job);
    assert_eq!(job["counts"]["created"], 2, "{job}");
    let (_, _, job) = send(&app, run("?match_on=")).await;
    let job = finished!(&app, &rep, job);
    assert_eq!(job["counts"]["created"], 2, "{job}");
    assert_eq!(customers!(&app, &admin).len(), 6);
    assert_eq!(db.orphan_rows(), 0);
}

async fn atomic_and_dry_runs_write_nothing(db: TestDatabase) {
    seed_user(&db, "admin@example.com", Role::Admin);
    let app = test::init_service(crm_http::app(api_state(&db))).await;
    let (admin, _) = login(&app, "admin@example.com").await;
    let (status, _, job) = send(&app, upload(&admin, "?mode=atomic", "text/csv", sample())).await;
    assert_eq!(status, 202);
    let job = finished!(&app, &admin, job);
    assert_eq!(job["status"], "failed");
    assert_eq!(job["error"]["code"], "rows_invalid");
    assert_eq!(
        job["counts"],
        json!({"created": 0, "updated": 0, "skipped": 0, "failed": 89})
    );
    assert_eq!(customers!(&app, &admin).len(), 0);
    let failed = all_results!(&app, &admin, job["id"].as_str().unwrap_or_default());
    assert_eq!(failed.len(), 89);
    // A dry run reports what would happen, in-file duplicates included, and writes nothing.
    let (_, _, job) = send(&app, upload(&admin, "?dry_run=true", "text/csv", sample())).await;
    let job = finished!(&app, &admin, job);
    assert_eq!(job["dry_run"], true);
    let results = all_results!(&app, &admin, job["id"].as_str().unwrap_or_default());
    assert_eq!(
        job["counts"],
        json!({"created": 1757, "updated": 0, "skipped": 154, "failed": 89})
    );
    assert!(results.iter().all(|r| r["customer_id"].is_null()));
    assert_eq!(customers!(&app, &admin).len(), 0);
    // An atomic file without bad rows lands whole.
    let good = "客户名称,手机\n甲公司,13800000001\n乙公司,13800000002\n";
    let (_, _, job) = send(
        &app,
        upload(&admin, "?mode=atomic", "text/csv", good.as_bytes().to_vec()),
    )
    .await;
    let job = finished!(&app, &admin, job);
    assert_eq!(job["status"], "completed");
    assert_eq!(job["counts"]["created"], 2);
}

async fn bad_uploads_are_refused_and_nothing_is_kept(db: TestDatabase) {
    seed_user(&db, "admin@example.com", Role::Admin);
    let rep_id = seed_user(&db, "rep@example.com", Role::Rep);
    let other_id = seed_user(&db, "other@example.com", Role::Rep);
    let state = crm_tests::api_state_with(
        &db,
        crm_http::HttpConfig {
            upload_limit: 4096,
            ..Default::default()
        },
    );
    let app = test::init_service(crm_http::app(state)).await;
    let (admin, _) = login(&app, "admin@example.com").await;
    let (rep, _) = login(&app, "rep@example.com").await;
    let csv = |text: &str| text.as_bytes().to_vec();
    // No name column.
    let (status, _, problem) = send(
        &app,
        upload(&admin, "", "text/csv", csv("手机,邮箱\n138,a@b.c\n")),
    )
    .await;
    assert_eq!(status, 422, "{problem}");
    assert_eq!(problem["errors"][0]["code"], "no_name_column");
    // A mapping with every kind of problem, listed together.
    let mapping = r#"{"Ghost":"name","Mail":"nonsense","Budget":"cf.budget"}"#;
    let query = format!(
        "?mapping={}",
        url::form_urlencoded::byte_serialize(mapping.as_bytes()).collect::<String>()
    );
    let (status, _, problem) = send(
        &app,
        upload(
            &admin,
            &query,
            "text/csv",
            csv("Firma,Mail,Budget\nA,b,1\n"),
        ),
    )
    .await;
    assert_eq!(status, 422, "{problem}");
    assert_eq!(
        pointers(&problem),
        [
            "/mapping/Budget",
            "/mapping/Ghost",
            "/mapping/Mail",
            "/mapping"
        ]
    );
    // Nothing at all.
    let (status, _, problem) =
        send(&app, upload(&admin, "", "application/x-ndjson", Vec::new())).await;
    assert_eq!(status, 422, "{problem}");
    assert_eq!(problem["errors"][0]["code"], "empty_file");
    // Not text at all.
    let (status, _, problem) = send(
        &app,
        upload(&admin, "", "text/csv", vec![0, 159, 146, 150, 0, 1]),
    )
    .await;
    assert_eq!(status, 422, "{problem}");
    // Too large, wrong type, bad parameters, an owner a rep may not name.
    let (status, _, problem) = send(&app, upload(&admin, "", "text/csv", vec![b'a'; 5000])).await;
    assert_eq!(status, 413, "{problem}");
    assert_eq!(problem["code"], "payload_too_large");
    let (status, _, _) = send(&app, upload(&admin, "", "application/pdf", csv("x"))).await;
    assert_eq!(status, 415);
    let (status, _, problem) = send(
        &app,
        upload(&admin, "?on_match=merge", "text/csv", csv("name\nA\n")),
    )
    .await;
    assert_eq!(status, 400, "{problem}");
    let long = format!("?mapping={}", "x".repeat(4001));
    let (status, _, problem) =
        send(&app, upload(&admin, &long, "text/csv", csv("name\nA\n"))).await;
    assert_eq!(status, 400, "{problem}");
    assert_eq!(pointers(&problem), ["/query/mapping"]);
    let (status, _, problem) = send(
        &app,
        upload(&admin, "?encoding=klingon", "text/csv", csv("name\nA\n")),
    )
    .await;
    assert_eq!(status, 400, "{problem}");
    assert_eq!(pointers(&problem), ["/query/encoding"]);
    let (status, _, problem) = send(
        &app,
        upload(
            &rep,
            &format!("?owner_id={other_id}"),
            "text/csv",
            csv("name\nA\n"),
        ),
    )
    .await;
    assert_eq!(status, 422, "{problem}");
    assert_eq!(pointers(&problem), ["/owner_id"]);
    let (status, _, job) = send(
        &app,
        upload(
            &rep,
            &format!("?owner_id={rep_id}"),
            "text/csv",
            csv("name\nA\n"),
        ),
    )
    .await;
    assert_eq!(status, 202, "{job}");
    let job = finished!(&app, &rep, job);
    assert_eq!(job["counts"]["created"], 1);
    assert_eq!(
        customers!(&app, &admin).len(),
        1,
        "only the accepted upload wrote"
    );
    // Wrong cell counts and bad values fail their rows only, with their columns.
    let (_, _, job) = send(
        &app,
        upload(
            &rep,
            "?owner_id=pool",
            "text/csv",
            csv("name,kind,email\nB,company\nC,robot,not-an-email\nD,B2C,d@d.example\n"),
        ),
    )
    .await;
    let job = finished!(&app, &rep, job);
    let results = all_results!(&app, &rep, job["id"].as_str().unwrap_or_default());
    assert_eq!(results[0]["errors"][0]["code"], "column_count");
    assert_eq!(
        results[1]["errors"],
        json!([
            {"column": "kind", "pointer": "/kind", "code": "invalid_kind",
             "message": "not a kind: company (企业, B2B) or individual (个人, B2C)"},
            {"column": "email", "pointer": "/email", "code": "email",
             "message": results[1]["errors"][1]["message"]}
        ])
    );
    assert_eq!(results[2]["outcome"], "created");
}

async fn retries_with_an_idempotency_key_replay_the_job(db: TestDatabase) {
    seed_user(&db, "admin@example.com", Role::Admin);
    let app = test::init_service(crm_http::app(api_state(&db))).await;
    let (admin, _) = login(&app, "admin@example.com").await;
    let file = b"name,phone\nA,13800000001\n".to_vec();
    let keyed = |body: Vec<u8>| {
        upload(&admin, "", "text/csv", body).insert_header(("Idempotency-Key", "leads-2026-11-27"))
    };
    let (status, headers, first) = send(&app, keyed(file.clone())).await;
    assert_eq!(status, 202, "{first}");
    assert_eq!(header(&headers, "idempotent-replayed"), "false");
    finished!(&app, &admin, first);
    let (status, headers, again) = send(&app, keyed(file.clone())).await;
    assert_eq!(status, 202);
    assert_eq!(header(&headers, "idempotent-replayed"), "true");
    assert_eq!(again["id"], first["id"]);
    let (status, _, problem) = send(&app, keyed(b"name\nB\n".to_vec())).await;
    assert_eq!(status, 422, "{problem}");
    assert_eq!(problem["errors"][0]["code"], "idempotency_key_reused");
    assert_eq!(customers!(&app, &admin).len(), 1);
}

async fn json_lines_and_custom_fields_import(db: TestDatabase) {
    seed_user(&db, "admin@example.com", Role::Admin);
    let app = test::init_service(crm_http::app(api_state(&db))).await;
    let (admin, _) = login(&app, "admin@example.com").await;
    let (status, _, field) = send(
        &app,
        request(
            "POST",
            "/api/v1/custom-fields",
            Some(&admin),
            Some(json!({
            "entity": "customer", "key": "budget", "label": "Budget", "type": "integer",
            "rules": {"min": 0}})),
        ),
    )
    .await;
    assert_eq!(status, 201, "{field}");
    let lines = concat!(
        r#"{"kind": "company", "name": "Acme", "custom_fields": {"budget": 5000}, "contact": {"name": "Ann", "email": "ann@acme.example"}}"#,
        "\n",
        "\n",
        r#"{"kind": "company", "name": "", "custom_fields": {"budget": -1}}"#,
        "\n",
        "not json\n",
        r#"{"kind": "company", "name": "Ann again", "email": "ANN@acme.example"}"#,
        "\n",
    );
    let (status, _, job) = send(
        &app,
        upload(
            &admin,
            "",
            "application/x-ndjson",
            lines.as_bytes().to_vec(),
        ),
    )
    .await;
    assert_eq!(status, 202, "{job}");
    let job = finished!(&app, &admin, job);
    assert_eq!(job["total_rows"], 5);
    let results = all_results!(&app, &admin, job["id"].as_str().unwrap_or_default());
    let outcomes: Vec<(i64, &str)> = results
        .iter()
        .map(|r| {
            (
                r["row"].as_i64().unwrap_or_default(),
                r["outcome"].as_str().unwrap_or_default(),
            )
        })
        .collect();
    assert_eq!(
        outcomes,
        [(1, "created"), (3, "failed"), (4, "failed"), (5, "skipped")]
    );
    let bad: Vec<&str> = results[1]["errors"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|e| e["column"].as_str())
        .collect();
    assert_eq!(bad, ["/name", "/custom_fields/budget"]);
    assert_eq!(results[2]["errors"][0]["code"], "invalid_json");
    assert_eq!(results[3]["matched_row"], 1, "the contact's email matched");
    // CSV with a mapped custom field.
    let mapping =
        url::form_urlencoded::byte_serialize(br#"{"Etat":"cf.budget"}"#).collect::<String>();
    let (status, _, job) = send(
        &app,
        upload(
            &admin,
            &format!("?mapping={mapping}"),
            "text/csv",
            b"name,Etat\nBeta,1200\nGamma,lots\n".to_vec(),
        ),
    )
    .await;
    assert_eq!(status, 202, "{job}");
    let job = finished!(&app, &admin, job);
    let results = all_results!(&app, &admin, job["id"].as_str().unwrap_or_default());
    assert_eq!(results[0]["outcome"], "created");
    assert_eq!(results[1]["errors"][0]["column"], "Etat");
    assert_eq!(results[1]["errors"][0]["pointer"], "/custom_fields/budget");
    let beta = customers!(&app, &admin)
        .into_iter()
        .find(|c| c["name"] == "Beta")
        .unwrap_or_default();
    assert_eq!(beta["custom_fields"], json!({"budget": 1200}));
}

/// Refusals only the database sees (a unique custom value taken, an external id in use) fail
/// their row alone: the leads before and after it land, and a later row with the refused
/// row's email is created, not matched to a customer that was never written.
async fn refusals_the_database_makes_fail_their_row_only(db: TestDatabase) {
    seed_user(&db, "admin@example.com", Role::Admin);
    let app = test::init_service(crm_http::app(api_state(&db))).await;
    let (admin, _) = login(&app, "admin@example.com").await;
    let (status, _, field) = send(
        &app,
        request(
            "POST",
            "/api/v1/custom-fields",
            Some(&admin),
            Some(
                json!({"entity": "customer", "key": "contract_no", "label": "Contract",
                "type": "text", "unique": true}),
            ),
        ),
    )
    .await;
    assert_eq!(status, 201, "{field}");
    let (status, _, existing) = send(
        &app,
        request(
            "POST",
            "/api/v1/customers",
            Some(&admin),
            Some(
                json!({"kind": "company", "name": "Existing", "external_id": "CRM-1",
                "custom_fields": {"contract_no": "C-100"}}),
            ),
        ),
    )
    .await;
    assert_eq!(status, 201, "{existing}");
    let lines = [
        json!({"kind": "company", "name": "One", "email": "one@x.example",
            "custom_fields": {"contract_no": "C-1"}}),
        json!({"kind": "company", "name": "Two", "email": "two@x.example",
            "custom_fields": {"contract_no": "C-1"}}),
        json!({"kind": "company", "name": "Three", "email": "three@x.example",
            "external_id": "CRM-1"}),
        json!({"kind": "company", "name": "One again", "email": "one@x.example"}),
        json!({"kind": "company", "name": "Two again", "email": "two@x.example"}),
        json!({"kind": "company", "name": "Four", "email": "four@x.example",
            "custom_fields": {"contract_no": "C-100"}}),
        json!({"kind": "company", "name": "Five", "email": "five@x.example"}),
    ]
    .iter()
    .map(|l| format!("{l}\n"))
    .collect::<String>();
    let (status, _, job) = send(
        &app,
        upload(
            &admin,
            "?match_on=email",
            "application/x-ndjson",
            lines.into_bytes(),
        ),
    )
    .await;
    assert_eq!(status, 202, "{job}");
    let job = finished!(&app, &admin, job);
    assert_eq!(job["status"], "completed", "{job}");
    assert_eq!(
        job["counts"],
        json!({"created": 3, "updated": 0, "skipped": 1, "failed": 3})
    );
    let results = all_results!(&app, &admin, job["id"].as_str().unwrap_or_default());
    type Summary<'a> = (i64, &'a str, Option<i64>, Vec<(&'a str, &'a str)>);
    let summary: Vec<Summary> = results
        .iter()
        .map(|r| {
            (
                r["row"].as_i64().unwrap_or_default(),
                r["outcome"].as_str().unwrap_or_default(),
                r["matched_row"].as_i64(),
                r["errors"]
                    .as_array()
                    .into_iter()
                    .flatten()
                    .map(|e| {
                        (
                            e["pointer"].as_str().unwrap_or_default(),
                            e["code"].as_str().unwrap_or_default(),
                        )
                    })
                    .collect(),
            )
        })
        .collect();
    assert_eq!(
        summary,
        [
            (1, "created", None, vec![]),
            (
                2,
                "failed",
                None,
                vec![("/custom_fields/contract_no", "not_unique")]
            ),
            (3, "failed", None, vec![("/external_id", "not_unique")]),
            (4, "skipped", Some(1), vec![]),
            (5, "created", None, vec![]),
            (
                6,
                "failed",
                None,
                vec![("/custom_fields/contract_no", "not_unique")]
            ),
            (7, "created", None, vec![]),
        ]
    );
    assert_eq!(results[3]["customer_id"], results[0]["customer_id"]);
    let mut names: Vec<String> = customers!(&app, &admin)
        .iter()
        .map(|c| c["name"].as_str().unwrap_or_default().to_string())
        .collect();
    names.sort();
    assert_eq!(names, ["Existing", "Five", "One", "Two again"]);
}

async fn the_results_download_is_safe_to_open(db: TestDatabase) {
    seed_user(&db, "admin@example.com", Role::Admin);
    seed_user(&db, "rep@example.com", Role::Rep);
    let app = test::init_service(crm_http::app(api_state(&db))).await;
    let (admin, _) = login(&app, "admin@example.com").await;
    let (rep, _) = login(&app, "rep@example.com").await;
    let mapping = url::form_urlencoded::byte_serialize(br#"{"=cmd|' /C calc'!A0":"email"}"#)
        .collect::<String>();
    let file =
        "name,=cmd|' /C calc'!A0\n=HYPERLINK(\"http://x\"),not-an-email\nGood,g@good.example\n";
    let (status, _, job) = send(
        &app,
        upload(
            &admin,
            &format!("?mapping={mapping}"),
            "text/csv",
            file.as_bytes().to_vec(),
        ),
    )
    .await;
    assert_eq!(status, 202, "{job}");
    let job = finished!(&app, &admin, job);
    let id = job["id"].as_str().unwrap_or_default();
    let response = test::call_service(
        &app,
        request(
            "GET",
            &format!("/api/v1/imports/{id}/results?format=csv"),
            Some(&admin),
            None,
        )
        .to_request(),
    )
    .await;
    assert_eq!(response.status(), 200);
    assert_eq!(
        response
            .headers()
            .get("content-type")
            .and_then(|v| v.to_str().ok()),
        Some("text/csv; charset=utf-8")
    );
    let body = test::read_body(response).await;
    let text = String::from_utf8_lossy(&body).to_string();
    let customer = all_results!(&app, &admin, id)[1]["customer_id"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    assert_eq!(
        text,
        format!(
            "\u{feff}row,outcome,customer_id,matched_row,column,code,message\n\
             1,failed,,,'=cmd|' /C calc'!A0,email,not an email address\n\
             2,created,{customer},,,,\n"
        )
    );
    // Someone else's job is not there.
    let (status, _, _) = send(
        &app,
        request("GET", &format!("/api/v1/imports/{id}"), Some(&rep), None),
    )
    .await;
    assert_eq!(status, 404);
    let (status, _, _) = send(
        &app,
        request(
            "GET",
            &format!("/api/v1/imports/{id}/results"),
            Some(&rep),
            None,
        ),
    )
    .await;
    assert_eq!(status, 404);
}

backend_tests!(async actix:
    the_sample_file_imports_to_its_truth,
    a_stopped_job_resumes_without_writing_a_row_twice,
    a_batch_is_the_backends_number_of_rows,
    gb18030_files_are_detected_or_declared,
    matches_skip_fill_overwrite_or_create_as_asked,
    atomic_and_dry_runs_write_nothing,
    bad_uploads_are_refused_and_nothing_is_kept,
    retries_with_an_idempotency_key_replay_the_job,
    json_lines_and_custom_fields_import,
    refusals_the_database_makes_fail_their_row_only,
    the_results_download_is_safe_to_open,
);
