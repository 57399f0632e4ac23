//! The `crm` binary as an operator runs it.

use std::io::Read;
use std::net::TcpListener;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use crm_persistence::test_support::TestDatabase;

const CRM: &str = env!("CARGO_BIN_EXE_crm");

fn crm(args: &[&str], dir: &Path) -> std::process::Output {
    Command::new(CRM)
        .args(args)
        .current_dir(dir)
        .env_remove("DATABASE_URL")
        .env("CRM_LOG_FORMAT", "json")
        .output()
        .unwrap_or_else(|e| panic!("cannot run crm: {e}"))
}

fn temp_dir() -> tempfile::TempDir {
    tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"))
}

#[test]
fn committed_openapi_document_is_current() {
    let dir = temp_dir();
    let output = crm(&["openapi"], dir.path());
    assert!(output.status.success());
    let generated = String::from_utf8_lossy(&output.stdout);
    let committed_path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../openapi/openapi.json");
    let committed = std::fs::read_to_string(&committed_path).unwrap_or_default();
    assert!(
        generated == committed,
        "openapi/openapi.json is stale: run `cargo run -p crm-server -- openapi > openapi/openapi.json`"
    );
}

#[test]
fn unknown_database_scheme_is_one_error_line_and_exit_1() {
    let dir = temp_dir();
    let output = crm(
        &["migrate", "--database-url", "mysql://root:secret@db/crm"],
        dir.path(),
    );
    assert_eq!(output.status.code(), Some(1));
    assert_eq!(
        String::from_utf8_lossy(&output.stderr),
        "error: unsupported database URL scheme 'mysql': use sqlite://PATH or postgres://USER@HOST/DB\n"
    );
}

#[test]
fn unreachable_database_is_one_error_line_and_exit_1() {
    let dir = temp_dir();
    let output = Command::new(CRM)
        .args(["serve", "--bind", "127.0.0.1:0"])
        .current_dir(dir.path())
        .env("DATABASE_URL", "postgres://crm:secret@127.0.0.1:1/crm")
        .env("RUST_LOG", "off")
        .output()
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(output.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
    assert!(
        stderr.starts_with(
            "error: cannot connect to the database at postgres://crm:***@127.0.0.1:1/crm: "
        ),
        "{stderr}"
    );
}

#[test]
fn short_jwt_secret_is_refused() {
    let dir = temp_dir();
    let output = Command::new(CRM)
        .args(["serve", "--jwt-secret", "too-short"])
        .current_dir(dir.path())
        .env("RUST_LOG", "off")
        .output()
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(output.status.code(), Some(1));
    assert_eq!(
        String::from_utf8_lossy(&output.stderr),
        "error: the JWT signing secret must be at least 32 bytes long\n"
    );
    assert!(
        !dir.path().join("data").exists(),
        "nothing created before the check"
    );
}

#[test]
fn migrate_creates_the_default_sqlite_database() {
    let dir = temp_dir();
    let output = crm(&["migrate"], dir.path());
    assert!(output.status.success(), "{output:?}");
    assert!(dir.path().join("data/crm.db").is_file());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains(r#""message":"migration applied""#),
        "{stderr}"
    );
    let again = crm(&["migrate"], dir.path());
    assert!(!String::from_utf8_lossy(&again.stderr).contains("migration applied"));
}

#[test]
fn user_create_makes_an_account_that_can_sign_in() {
    let dir = temp_dir();
    let output = Command::new(CRM)
        .args([
            "user",
            "create",
            "--email",
            "Ops@Example.com",
            "--role",
            "manager",
        ])
        .current_dir(dir.path())
        .env_remove("DATABASE_URL")
        .env("CRM_USER_PASSWORD", "scripted-password-1")
        .env("RUST_LOG", "off")
        .output()
        .unwrap_or_else(|e| panic!("{e}"));
    assert!(output.status.success(), "{output:?}");
    let id = String::from_utf8_lossy(&output.stdout).trim().to_string();
    assert_eq!(id.len(), 36, "prints the new id: {id}");
    assert!(
        !String::from_utf8_lossy(&output.stderr).contains("password"),
        "a given password is not echoed"
    );
    let again = Command::new(CRM)
        .args(["user", "create", "--email", "ops@example.com"])
        .current_dir(dir.path())
        .env_remove("DATABASE_URL")
        .env("RUST_LOG", "off")
        .output()
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(again.status.code(), Some(1));
    assert_eq!(
        String::from_utf8_lossy(&again.stderr),
        "error: a user with this email already exists\n"
    );
    let generated = Command::new(CRM)
        .args(["user", "create", "--email", "rep@example.com"])
        .current_dir(dir.path())
        .env_remove("DATABASE_URL")
        .env_remove("CRM_USER_PASSWORD")
        .env("RUST_LOG", "off")
        .output()
        .unwrap_or_else(|e| panic!("{e}"));
    let stderr = String::from_utf8_lossy(&generated.stderr);
    let password = stderr.trim().strip_prefix("password: ").unwrap_or_default();
    assert_eq!(
        password.len(),
        43,
        "a generated password is printed once: {stderr}"
    );
}

#[test]
fn first_start_creates_an_admin_and_prints_a_generated_password_once() {
    let dir = temp_dir();
    let server = Server::start(dir.path(), None);
    let (code, log) = server.terminate();
    assert_eq!(code, Some(0));
    assert!(log.contains("Created the first admin account."), "{log}");
    assert!(log.contains("email:    admin@crm.local"), "{log}");
    let password = log
        .lines()
        .find_map(|l| l.trim().strip_prefix("password: "))
        .unwrap_or_default()
        .to_string();
    assert_eq!(password.len(), 43);
    let second = Server::start(dir.path(), None);
    let body = format!(r#"{{"email": "admin@crm.local", "password": "{password}"}}"#);
    assert_eq!(
        second.post("/api/v1/auth/login", &body).map(|(s, _)| s),
        Some(200)
    );
    let (_, log) = second.terminate();
    assert!(
        !log.contains("Created the first admin account."),
        "only on the first start"
    );
}

#[test]
fn serve_help_documents_every_setting_and_its_variable() {
    let dir = temp_dir();
    let help = String::from_utf8_lossy(&crm(&["serve", "--help"], dir.path()).stdout).into_owned();
    for (flag, env) in [
        ("--bind", "CRM_BIND"),
        ("--database-url", "DATABASE_URL"),
        ("--pool-size", "CRM_POOL_SIZE"),
        ("--jwt-secret", "CRM_JWT_SECRET"),
        ("--jwt-key-file", "CRM_JWT_KEY_FILE"),
        ("--cors-origins", "CRM_CORS_ORIGINS"),
        ("--log-format", "CRM_LOG_FORMAT"),
        ("--json-limit", "CRM_JSON_LIMIT"),
        ("--upload-limit", "CRM_UPLOAD_LIMIT"),
        ("--reminder-interval", "CRM_REMINDER_INTERVAL"),
    ] {
        assert!(help.contains(flag), "{flag} missing from help");
        assert!(
            help.contains(&format!("env: {env}")),
            "{env} missing from help"
        );
    }
}

/// A running `crm serve`, stopped with SIGTERM when dropped.
struct Server {
    child: Child,
    base: String,
}

/// An HTTP client that hands back error statuses as answers.
fn agent() -> ureq::Agent {
    ureq::Agent::config_builder()
        .http_status_as_error(false)
        .build()
        .new_agent()
}

/// Creates an account with `crm user create` (password `scripted-password-1`) in the database
/// `database_url` names, or the default SQLite database of `dir`.
fn create_user(dir: &Path, database_url: Option<&str>, email: &str, role: &str) {
    let mut command = Command::new(CRM);
    command
        .args(["user", "create", "--email", email, "--role", role])
        .current_dir(dir)
        .env_remove("DATABASE_URL")
        .env("CRM_USER_PASSWORD", "scripted-password-1")
        .env("RUST_LOG", "off");
    if let Some(url) = database_url {
        command.env("DATABASE_URL", url);
    }
    let created = command.output().unwrap_or_else(|e| panic!("{e}"));
    assert!(created.status.success(), "{created:?}");
}

impl Server {
    fn start(dir: &Path, database_url: Option<&str>) -> Self {
        Self::start_with(dir, database_url, &[])
    }

    fn start_with(dir: &Path, database_url: Option<&str>, env: &[(&str, &str)]) -> Self {
        let port = TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .map(|a| a.port())
            .unwrap_or_else(|e| panic!("{e}"));
        let mut command = Command::new(CRM);
        command
            .args(["serve", "--bind", &format!("127.0.0.1:{port}")])
            .current_dir(dir)
            .env_remove("DATABASE_URL")
            .env("CRM_LOG_FORMAT", "json")
            .stdout(Stdio::null())
            .stderr(Stdio::piped());
        if let Some(url) = database_url {
            command.env("DATABASE_URL", url);
        }
        command
            .env_remove("CRM_ADMIN_PASSWORD")
            .env_remove("CRM_ADMIN_EMAIL");
        for (name, value) in env {
            command.env(name, value);
        }
        let child = command.spawn().unwrap_or_else(|e| panic!("{e}"));
        let server = Self {
            child,
            base: format!("http://127.0.0.1:{port}"),
        };
        let deadline = Instant::now() + Duration::from_secs(20);
        while server.get("/healthz").map(|(s, _)| s) != Some(200) {
            assert!(Instant::now() < deadline, "server did not start");
            std::thread::sleep(Duration::from_millis(50));
        }
        server
    }

    fn get(&self, path: &str) -> Option<(u16, String)> {
        self.get_as(path, None)
    }

    fn get_as(&self, path: &str, bearer: Option<&str>) -> Option<(u16, String)> {
        let agent = agent();
        let mut request = agent.get(&format!("{}{path}", self.base));
        if let Some(token) = bearer {
            request = request.header("Authorization", &format!("Bearer {token}"));
        }
        let mut response = request.call().ok()?;
        let status = response.status().as_u16();
        let body = response.body_mut().read_to_string().ok()?;
        Some((status, body))
    }

    /// Uploads `body` as a CSV file to `path`.
    fn post_csv(&self, path: &str, body: &[u8], bearer: &str) -> Option<(u16, String)> {
        let agent = agent();
        let mut response = agent
            .post(&format!("{}{path}", self.base))
            .header("Content-Type", "text/csv")
            .header("Authorization", &format!("Bearer {bearer}"))
            .send(body)
            .ok()?;
        let status = response.status().as_u16();
        let body = response.body_mut().read_to_string().ok()?;
        Some((status, body))
    }

    /// Signs in as `email` (created by [`create_user`]) and returns the access token.
    fn login(&self, email: &str) -> String {
        let body = serde_json::json!({"email": email, "password": "scripted-password-1"});
        let (status, tokens) = self
            .post("/api/v1/auth/login", &body.to_string())
            .unwrap_or_default();
        assert_eq!(status, 200, "{tokens}");
        serde_json::from_str::<serde_json::Value>(&tokens).unwrap_or_default()["access_token"]
            .as_str()
            .unwrap_or_default()
            .to_string()
    }

    /// Kills the process at once (SIGKILL): no shutdown, no commit of what is in flight.
    fn kill(mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }

    fn post(&self, path: &str, json: &str) -> Option<(u16, String)> {
        self.post_as(path, json, None)
    }

    fn post_as(&self, path: &str, json: &str, bearer: Option<&str>) -> Option<(u16, String)> {
        let agent = agent();
        let mut request = agent
            .post(&format!("{}{path}", self.base))
            .header("Content-Type", "application/json");
        if let Some(token) = bearer {
            request = request.header("Authorization", &format!("Bearer {token}"));
        }
        let mut response = request.send(json).ok()?;
        let status = response.status().as_u16();
        let body = response.body_mut().read_to_string().ok()?;
        Some((status, body))
    }

    /// Sends SIGTERM and returns the exit code and everything logged.
    fn terminate(mut self) -> (Option<i32>, String) {
        let pid = self.child.id().to_string();
        let _ = Command::new("kill").args(["-TERM", &pid]).status();
        let status = self.child.wait().ok().and_then(|s| s.code());
        let mut log = String::new();
        if let Some(mut stderr) = self.child.stderr.take() {
            let _ = stderr.read_to_string(&mut log);
        }
        (status, log)
    }
}

fn serves_and_stops_gracefully(database_url: Option<&str>, backend: &str) {
    let dir = temp_dir();
    let server = Server::start(dir.path(), database_url);
    assert_eq!(
        server.get("/readyz"),
        Some((
            200,
            format!(r#"{{"status":"ready","database_backend":"{backend}"}}"#)
        ))
    );
    let (status, meta) = server.get("/api/v1/meta").unwrap_or_default();
    assert_eq!(status, 200);
    assert!(
        meta.contains(&format!(r#""database_backend":"{backend}""#)),
        "{meta}"
    );
    let (status, spec) = server.get("/api/v1/openapi.json").unwrap_or_default();
    assert_eq!(status, 200);
    assert!(spec.starts_with('{') && spec.contains(r#""openapi": "3.1.0""#));
    let (status, docs) = server.get("/docs/").unwrap_or_default();
    assert_eq!(status, 200);
    assert!(docs.contains("swagger-ui"));
    let (code, log) = server.terminate();
    assert_eq!(code, Some(0), "{log}");
    assert!(log.contains("graceful shutdown"), "{log}");
    assert!(log.contains(r#""message":"stopped""#), "{log}");
    assert!(log.contains(r#""route":"/api/v1/meta""#), "{log}");
}

/// A request still being received when SIGTERM arrives is finished and answered before the
/// server exits.
#[test]
fn sigterm_lets_an_in_flight_request_finish() {
    use std::io::Write;
    use std::net::TcpStream;
    let dir = temp_dir();
    let server = Server::start(dir.path(), None);
    let address = server.base.trim_start_matches("http://").to_string();
    let body = r#"{"email": "nobody@example.com", "password": "not-the-password"}"#;
    let mut stream = TcpStream::connect(&address).unwrap_or_else(|e| panic!("{e}"));
    let head = format!(
        "POST /api/v1/auth/login HTTP/1.1\r\nHost: {address}\r\nContent-Type: application/json\r\n\
         Content-Length: {}\r\nConnection: close\r\n\r\n",
        body.len()
    );
    let (first, rest) = body.split_at(10);
    stream
        .write_all(head.as_bytes())
        .and_then(|_| stream.write_all(first.as_bytes()))
        .unwrap_or_else(|e| panic!("{e}"));
    std::thread::sleep(Duration::from_millis(300));
    let pid = server.child.id().to_string();
    let _ = Command::new("kill").args(["-TERM", &pid]).status();
    std::thread::sleep(Duration::from_millis(300));
    stream
        .write_all(rest.as_bytes())
        .unwrap_or_else(|e| panic!("{e}"));
    let mut answer = String::new();
    let _ = stream.read_to_string(&mut answer);
    assert!(answer.starts_with("HTTP/1.1 401"), "{answer}");
    assert!(answer.contains("invalid_credentials"), "{answer}");
    let (code, log) = server.terminate();
    assert_eq!(code, Some(0), "{log}");
}

#[test]
fn serves_sqlite_by_default_and_stops_on_sigterm() {
    serves_and_stops_gracefully(None, "sqlite");
}

#[test]
fn serves_postgres_when_database_url_says_so() {
    let Some(db) = TestDatabase::postgres() else {
        return;
    };
    let url = match db.database().url() {
        crm_persistence::DatabaseUrl::Postgres(url) => url.clone(),
        other => panic!("not postgres: {other}"),
    };
    serves_and_stops_gracefully(Some(&url), "postgres");
}

/// The running server records a `follow_up.due` event once a follow-up comes due.
#[test]
fn the_server_records_follow_ups_that_come_due() {
    let dir = temp_dir();
    create_user(dir.path(), None, "rep@example.com", "rep");
    let server = Server::start_with(dir.path(), None, &[("CRM_REMINDER_INTERVAL", "1")]);
    let json = |body: &str| -> serde_json::Value { serde_json::from_str(body).unwrap_or_default() };
    let token = server.login("rep@example.com");
    let (status, customer) = server
        .post_as(
            "/api/v1/customers",
            r#"{"kind": "company", "name": "Acme"}"#,
            Some(&token),
        )
        .unwrap_or_default();
    assert_eq!(status, 201, "{customer}");
    let now = chrono::Utc::now();
    let body = serde_json::json!({
        "customer_id": json(&customer)["id"], "kind": "call", "occurred_at": now,
        "subject": "Call", "follow_up": {"due_at": now + chrono::Duration::seconds(2)}
    });
    let (status, activity) = server
        .post_as("/api/v1/activities", &body.to_string(), Some(&token))
        .unwrap_or_default();
    assert_eq!(status, 201, "{activity}");
    std::thread::sleep(Duration::from_secs(5));
    let (code, log) = server.terminate();
    assert_eq!(code, Some(0), "{log}");
    let recorded: Vec<&str> = log
        .lines()
        .filter(|line| line.contains("follow_up.due events recorded"))
        .collect();
    assert_eq!(recorded.len(), 1, "once: {log}");
    assert!(recorded[0].contains(r#""emitted":1"#), "{log}");
}

/// An import whose server is killed mid-job (SIGKILL, a batch in flight) is resumed by the next
/// start and ends exactly as an uninterrupted one: every row processed once, every lead
/// created once, the duplicates skipped.
fn an_import_survives_a_killed_server(db: &TestDatabase) {
    const ROWS: i64 = 20_000;
    let dir = temp_dir();
    let url = match db.database().url() {
        crm_persistence::DatabaseUrl::Postgres(full) => full.clone(),
        sqlite => sqlite.to_string(),
    };
    create_user(dir.path(), Some(&url), "admin@example.com", "admin");
    let json = |body: &str| -> serde_json::Value { serde_json::from_str(body).unwrap_or_default() };
    // Every tenth row repeats the email of the row before it.
    let mut file = String::from("客户名称,类型,邮箱\n");
    for row in 1..=ROWS {
        let lead = if row % 10 == 0 { row - 1 } else { row };
        file.push_str(&format!("Lead {row},企业,lead-{lead}@example.com\n"));
    }
    let server = Server::start(dir.path(), Some(&url));
    let token = server.login("admin@example.com");
    let (status, job) = server
        .post_csv(
            "/api/v1/imports?match_on=email&owner_id=pool",
            file.as_bytes(),
            &token,
        )
        .unwrap_or_default();
    assert_eq!(status, 202, "{job}");
    let uri = format!(
        "/api/v1/imports/{}",
        json(&job)["id"].as_str().unwrap_or_default()
    );
    let progress = |server: &Server, token: &str| -> serde_json::Value {
        let (status, job) = server.get_as(&uri, Some(token)).unwrap_or_default();
        assert_eq!(status, 200, "{job}");
        json(&job)
    };
    // Killed as soon as the first batch has committed, while the next one is being written.
    let deadline = Instant::now() + Duration::from_secs(120);
    loop {
        let job = progress(&server, &token);
        if job["rows_processed"].as_i64().unwrap_or(0) > 0 {
            break;
        }
        assert!(Instant::now() < deadline, "no batch committed: {job}");
        std::thread::sleep(Duration::from_millis(10));
    }
    server.kill();
    let server = Server::start(dir.path(), Some(&url));
    let token = server.login("admin@example.com");
    let deadline = Instant::now() + Duration::from_secs(300);
    let job = loop {
        let job = progress(&server, &token);
        if job["status"] == "completed" || job["status"] == "failed" {
            break job;
        }
        assert!(Instant::now() < deadline, "the job did not finish: {job}");
        std::thread::sleep(Duration::from_millis(100));
    };
    let (code, log) = server.terminate();
    assert_eq!(code, Some(0), "{log}");
    assert!(log.contains("resuming import"), "{log}");
    let leads = ROWS - ROWS / 10;
    assert_eq!(job["status"], "completed", "{job}");
    assert_eq!(job["rows_processed"], ROWS, "{job}");
    assert_eq!(job["counts"]["created"], leads, "{job}");
    assert_eq!(job["counts"]["skipped"], ROWS / 10, "{job}");
    assert_eq!(job["counts"]["failed"], 0, "{job}");
    assert_eq!(db.count("SELECT COUNT(*) AS n FROM customers"), leads);
    assert_eq!(
        db.count("SELECT COUNT(DISTINCT email_normalized) AS n FROM customers"),
        leads,
        "no lead was created twice"
    );
    assert_eq!(db.count("SELECT COUNT(*) AS n FROM import_rows"), ROWS);
    assert_eq!(
        db.count("SELECT COUNT(DISTINCT row_number) AS n FROM import_rows"),
        ROWS,
        "every row has one result"
    );
    assert_eq!(db.orphan_rows(), 0);
}

#[test]
fn an_import_survives_a_killed_server_on_sqlite() {
    an_import_survives_a_killed_server(&TestDatabase::sqlite());
}

#[test]
fn an_import_survives_a_killed_server_on_postgres() {
    let Some(db) = TestDatabase::postgres() else {
        return;
    };
    an_import_survives_a_killed_server(&db);
}
