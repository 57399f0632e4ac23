//! Command line and environment configuration. Every setting has a flag and an environment
//! variable (`CRM_` prefix, plus the conventional `DATABASE_URL`); flags win.

use std::net::SocketAddr;
use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};

/// The default database: an SQLite file beside the working directory.
pub const DEFAULT_DATABASE_URL: &str = "sqlite://./data/crm.db";

/// A self-hostable CRM API.
#[derive(Debug, Parser)]
#[command(name = "crm", version, about, long_about = None)]
pub struct Cli {
    /// Log format: `pretty` for people, `json` for log collectors; `auto` picks `pretty` when
    /// standard error is a terminal. The level comes from `RUST_LOG` (default `info`).
    #[arg(long, env = "CRM_LOG_FORMAT", value_enum, default_value_t = LogFormat::Auto, global = true)]
    pub log_format: LogFormat,

    /// What to do.
    #[command(subcommand)]
    pub command: Command,
}

/// The subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Apply pending migrations and serve the API.
    Serve(ServeArgs),
    /// Apply pending migrations and exit.
    Migrate(DatabaseArgs),
    /// Print the OpenAPI document (the committed `openapi/openapi.json`).
    Openapi,
    /// Manage users from the command line (for scripted setups).
    #[command(subcommand)]
    User(UserCommand),
}

/// `crm user …`.
#[derive(Debug, Subcommand)]
pub enum UserCommand {
    /// Create a user. The password comes from `CRM_USER_PASSWORD`, or is generated and printed once.
    Create(UserCreateArgs),
}

/// Settings of `crm user create`.
#[derive(Debug, Clone, Args)]
pub struct UserCreateArgs {
    /// The database.
    #[command(flatten)]
    pub database: DatabaseArgs,

    /// The user's email address.
    #[arg(long)]
    pub email: String,

    /// Name shown to colleagues (default: the email's local part).
    #[arg(long)]
    pub name: Option<String>,

    /// The user's role.
    #[arg(long, value_enum, default_value_t = RoleArg::Rep)]
    pub role: RoleArg,
}

/// A role on the command line.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum RoleArg {
    /// Sees everything; manages users, teams and keys.
    Admin,
    /// Sees the records of the teams they manage.
    Manager,
    /// Sees their own records and the shared pool.
    Rep,
}

/// How log lines are written.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum LogFormat {
    /// `pretty` on a terminal, `json` otherwise.
    Auto,
    /// Human-readable lines.
    Pretty,
    /// One JSON object per line.
    Json,
}

/// Where the data lives.
#[derive(Debug, Clone, Args)]
pub struct DatabaseArgs {
    /// Database URL: `sqlite://PATH` (created when missing) or `postgres://USER:PASSWORD@HOST:PORT/DB`.
    #[arg(long, env = "DATABASE_URL", default_value = DEFAULT_DATABASE_URL, hide_env_values = true)]
    pub database_url: String,

    /// Most database connections the server opens.
    #[arg(long, env = "CRM_POOL_SIZE", default_value_t = 8, value_parser = clap::value_parser!(u32).range(1..=1000))]
    pub pool_size: u32,

    /// Seconds a request waits for a free database connection before answering 503.
    #[arg(long, env = "CRM_DB_TIMEOUT", default_value_t = 5, value_parser = clap::value_parser!(u64).range(1..=300))]
    pub db_timeout: u64,

    /// Log every database statement and transaction that takes at least this many milliseconds
    /// as a warning, with its SQL but not its values (default: none are logged).
    #[arg(long, env = "CRM_SLOW_STATEMENT_MS", value_parser = clap::value_parser!(u64).range(0..=3_600_000))]
    pub slow_statement_ms: Option<u64>,
}

/// Settings of `crm serve`.
#[derive(Debug, Clone, Args)]
pub struct ServeArgs {
    /// The database.
    #[command(flatten)]
    pub database: DatabaseArgs,

    /// Address and port to listen on.
    #[arg(long, env = "CRM_BIND", default_value = "127.0.0.1:8080")]
    pub bind: SocketAddr,

    /// HTTP worker threads (default: one per CPU core).
    #[arg(long, env = "CRM_WORKERS")]
    pub workers: Option<usize>,

    /// Secret for signing access tokens (HMAC-SHA256), at least 32 bytes. Without it or a key
    /// file, a random secret is generated at start and tokens do not survive a restart.
    #[arg(
        long,
        env = "CRM_JWT_SECRET",
        hide_env_values = true,
        conflicts_with = "jwt_key_file"
    )]
    pub jwt_secret: Option<String>,

    /// File holding the token signing secret (at least 32 bytes), instead of `--jwt-secret`.
    #[arg(long, env = "CRM_JWT_KEY_FILE")]
    pub jwt_key_file: Option<PathBuf>,

    /// Browser origins allowed to call the API (comma-separated, e.g. `https://app.example.com`).
    /// None by default: no cross-origin access.
    #[arg(long, env = "CRM_CORS_ORIGINS", value_delimiter = ',', value_parser = parse_origin)]
    pub cors_origins: Vec<String>,

    /// Largest JSON request body, in bytes; larger ones get 413.
    #[arg(long, env = "CRM_JSON_LIMIT", default_value_t = 1024 * 1024)]
    pub json_limit: usize,

    /// Largest upload (lead imports), in bytes; larger ones get 413.
    #[arg(long, env = "CRM_UPLOAD_LIMIT", default_value_t = 100 * 1024 * 1024)]
    pub upload_limit: usize,

    /// Seconds an access token is valid.
    #[arg(long, env = "CRM_ACCESS_TOKEN_TTL", default_value_t = 900, value_parser = clap::value_parser!(u64).range(30..=86_400))]
    pub access_token_ttl: u64,

    /// Days a refresh token is valid.
    #[arg(long, env = "CRM_REFRESH_TOKEN_DAYS", default_value_t = 30, value_parser = clap::value_parser!(u64).range(1..=365))]
    pub refresh_token_days: u64,

    /// Email of the admin created on first start, when the database has no user. Its password
    /// comes from the `CRM_ADMIN_PASSWORD` environment variable, or is generated and printed once.
    #[arg(long, env = "CRM_ADMIN_EMAIL", default_value = "admin@crm.local")]
    pub admin_email: String,

    /// Region (ISO 3166 code) assumed for phone numbers written without a country code.
    #[arg(long, env = "CRM_DEFAULT_PHONE_REGION", default_value = "CN", value_parser = parse_region)]
    pub default_phone_region: String,

    /// Most customers one rep may own through claims from the shared pool.
    #[arg(long, env = "CRM_POOL_CLAIM_LIMIT", default_value_t = 500, value_parser = clap::value_parser!(i64).range(0..=1_000_000))]
    pub pool_claim_limit: i64,

    /// Seconds between the checks that record a `follow_up.due` event for each follow-up that
    /// came due.
    #[arg(long, env = "CRM_REMINDER_INTERVAL", default_value_t = 60, value_parser = clap::value_parser!(u64).range(1..=86_400))]
    pub reminder_interval: u64,

    /// Seconds in-flight requests may take to finish after SIGTERM or Ctrl-C.
    #[arg(long, env = "CRM_SHUTDOWN_TIMEOUT", default_value_t = 30)]
    pub shutdown_timeout: u64,
}

/// A region code the phone number library knows.
fn parse_region(raw: &str) -> Result<String, String> {
    crm_domain::contact_points::PhoneRegion::parse(raw)
        .map(|_| raw.trim().to_uppercase())
        .ok_or_else(|| format!("'{raw}' is not an ISO 3166 region code such as CN or DE"))
}

/// An origin is `scheme://host[:port]`, without path, query or trailing slash.
fn parse_origin(raw: &str) -> Result<String, String> {
    let origin = raw.trim();
    let rest = origin
        .strip_prefix("https://")
        .or_else(|| origin.strip_prefix("http://"))
        .ok_or_else(|| {
            format!("'{origin}' is not an origin: it must start with https:// or http://")
        })?;
    let valid_host = !rest.is_empty()
        && rest
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b".-:[]".contains(&b));
    if !valid_host {
        return Err(format!(
            "'{origin}' is not an origin: use scheme://host[:port] with no path"
        ));
    }
    Ok(origin.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    #[test]
    fn cli_definition_is_consistent() {
        Cli::command().debug_assert();
    }

    #[test]
    fn serve_defaults_to_local_sqlite_on_port_8080() {
        let cli = Cli::try_parse_from(["crm", "serve"]).map(|c| c.command);
        let Ok(Command::Serve(args)) = cli else {
            panic!("serve did not parse: {cli:?}");
        };
        assert_eq!(args.bind.to_string(), "127.0.0.1:8080");
        assert_eq!(args.database.pool_size, 8);
        assert!(args.cors_origins.is_empty());
        assert_eq!(args.json_limit, 1_048_576);
        assert_eq!(args.database.slow_statement_ms, None);
    }

    #[test]
    fn slow_statements_are_logged_from_a_threshold_in_milliseconds() {
        let parse = |value: &str| {
            Cli::try_parse_from(["crm", "serve", "--slow-statement-ms", value])
                .map(|c| match c.command {
                    Command::Serve(args) => args.database.slow_statement_ms,
                    _ => None,
                })
                .map_err(|e| e.kind())
        };
        assert_eq!(parse("25"), Ok(Some(25)));
        assert_eq!(parse("0"), Ok(Some(0)));
        assert_eq!(parse("-1"), Err(clap::error::ErrorKind::UnknownArgument));
        assert_eq!(parse("soon"), Err(clap::error::ErrorKind::ValueValidation));
    }

    #[test]
    fn origins_are_comma_separated() {
        let cli = Cli::try_parse_from([
            "crm",
            "serve",
            "--cors-origins",
            "https://a.example,https://b.example",
        ])
        .map(|c| c.command);
        let Ok(Command::Serve(args)) = cli else {
            panic!("serve did not parse: {cli:?}");
        };
        assert_eq!(
            args.cors_origins,
            ["https://a.example", "https://b.example"]
        );
    }
}
