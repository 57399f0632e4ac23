//! `crm serve` and `crm migrate`.

use std::sync::Arc;
use std::time::Duration;

use actix_web::HttpServer;
use anyhow::{bail, Context};
use crm_domain::clock::{Clock, SystemClock};
use crm_domain::contact_points::PhoneRegion;
use crm_domain::ports::{OutboxStore, ScoringStore};
use crm_http::{ApiState, BuildInfo, HttpConfig};
use crm_persistence::{Database, DatabaseOptions, DatabaseUrl};

use crate::cli::{DatabaseArgs, ServeArgs, UserCreateArgs};
use crate::wiring;

/// Shortest accepted token signing secret.
const MIN_SECRET_BYTES: usize = 32;

/// Opens the database and applies pending migrations.
pub fn open_database(args: &DatabaseArgs) -> anyhow::Result<Database> {
    let url = DatabaseUrl::parse(&args.database_url)?;
    let options = DatabaseOptions {
        pool_size: args.pool_size,
        connect_timeout: Duration::from_secs(args.db_timeout),
        slow_statement: args.slow_statement_ms.map(Duration::from_millis),
        ..DatabaseOptions::default()
    };
    let database = Database::connect(&url, &options)?;
    let applied = database.migrate()?;
    for name in &applied {
        tracing::info!(migration = %name, "migration applied");
    }
    tracing::info!(database = %url, backend = url.backend().as_str(), "database ready");
    Ok(database)
}

/// The token signing secret: from `--jwt-secret`, from `--jwt-key-file`, or generated.
pub fn signing_secret(args: &ServeArgs) -> anyhow::Result<Vec<u8>> {
    let secret = if let Some(secret) = &args.jwt_secret {
        secret.as_bytes().to_vec()
    } else if let Some(path) = &args.jwt_key_file {
        let bytes = std::fs::read(path)
            .with_context(|| format!("cannot read the JWT key file {}", path.display()))?;
        trim_ascii_end(bytes)
    } else {
        tracing::warn!(
            "no CRM_JWT_SECRET or CRM_JWT_KEY_FILE: using a random signing secret; \
             access tokens will not survive a restart"
        );
        let mut secret = vec![0u8; 32];
        getrandom::fill(&mut secret)
            .map_err(|e| anyhow::anyhow!("cannot generate a signing secret: {e}"))?;
        return Ok(secret);
    };
    if secret.len() < MIN_SECRET_BYTES {
        bail!("the JWT signing secret must be at least {MIN_SECRET_BYTES} bytes long");
    }
    Ok(secret)
}

fn trim_ascii_end(mut bytes: Vec<u8>) -> Vec<u8> {
    while bytes.last().is_some_and(u8::is_ascii_whitespace) {
        bytes.pop();
    }
    bytes
}

/// Runs the server until SIGTERM or Ctrl-C, then lets in-flight requests finish.
pub fn serve(args: ServeArgs) -> anyhow::Result<()> {
    let signing_secret = signing_secret(&args)?;
    let database = Arc::new(open_database(&args.database)?);
    crate::users::ensure_first_admin(database.as_ref(), &args.admin_email)?;
    let config = HttpConfig {
        json_limit: args.json_limit,
        upload_limit: args.upload_limit,
        cors_origins: args.cors_origins.clone(),
        signing_secret,
        access_token_ttl: Duration::from_secs(args.access_token_ttl),
        refresh_token_ttl: Duration::from_secs(args.refresh_token_days * 24 * 3600),
        default_phone_region: PhoneRegion::parse(&args.default_phone_region).unwrap_or_default(),
        pool_claim_limit: args.pool_claim_limit,
    };
    let reminders = Reminders {
        outbox: database.clone(),
        scoring: database.clone(),
        every: Duration::from_secs(args.reminder_interval),
    };
    let state = ApiState::new(
        wiring::stores(database),
        config,
        BuildInfo::new(env!("CARGO_PKG_VERSION")),
    );
    let resumed = state.clone();
    let mut server = HttpServer::new(move || crm_http::app(state.clone()))
        .shutdown_timeout(args.shutdown_timeout)
        .bind(args.bind)
        .with_context(|| format!("cannot listen on {}", args.bind))?;
    if let Some(workers) = args.workers {
        server = server.workers(workers.max(1));
    }
    for addr in server.addrs() {
        tracing::info!(%addr, "listening; API docs at http://{addr}/docs/");
    }
    actix_web::rt::System::new().block_on(async move {
        let job = actix_web::rt::spawn(reminders.run());
        actix_web::rt::spawn(crm_http::imports::resume_imports(resumed));
        let served = server.run().await;
        job.abort();
        served
    })?;
    tracing::info!("stopped");
    Ok(())
}

/// The job that records a `follow_up.due` event in the outbox for each follow-up that came due,
/// once per due time, and recomputes the stored scores once a day (and after the half-life
/// changed), checking every `every`.
struct Reminders {
    outbox: Arc<dyn OutboxStore>,
    scoring: Arc<dyn ScoringStore>,
    every: Duration,
}

/// Most events one check records; the next check takes the rest.
const REMINDER_BATCH: u32 = 1_000;

impl Reminders {
    async fn run(self) {
        let mut ticks = actix_web::rt::time::interval(self.every);
        loop {
            ticks.tick().await;
            let outbox = self.outbox.clone();
            let checked = actix_web::web::block(move || {
                outbox.emit_due_follow_ups(SystemClock.now(), REMINDER_BATCH)
            })
            .await;
            match checked {
                Ok(Ok(0)) => {}
                Ok(Ok(emitted)) => tracing::info!(emitted, "follow_up.due events recorded"),
                Ok(Err(e)) => tracing::warn!(error = %e, "recording due follow-ups failed"),
                Err(e) => tracing::warn!(error = %e, "the reminder check did not run"),
            }
            let scoring = self.scoring.clone();
            let refreshed =
                actix_web::web::block(move || scoring.refresh_scores(SystemClock.now())).await;
            match refreshed {
                Ok(Ok(None)) => {}
                Ok(Ok(Some(customers))) => tracing::info!(customers, "scores recomputed"),
                Ok(Err(e)) => tracing::warn!(error = %e, "recomputing scores failed"),
                Err(e) => tracing::warn!(error = %e, "the score refresh did not run"),
            }
        }
    }
}

/// `crm user create`.
pub fn create_user(args: UserCreateArgs) -> anyhow::Result<()> {
    let database = open_database(&args.database)?;
    let password = std::env::var(crate::users::USER_PASSWORD_ENV)
        .ok()
        .filter(|p| !p.is_empty());
    let created = crate::users::create_user(
        &database,
        &args.email,
        args.name.as_deref(),
        args.role.into(),
        password,
    )?;
    println!("{}", created.id);
    if let Some(password) = created.generated_password {
        eprintln!("password: {password}");
    }
    Ok(())
}
