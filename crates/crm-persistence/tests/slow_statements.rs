//! Slow statements and transactions are logged as warnings, with their SQL and never their values.

use std::io::Write;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use crm_domain::lead_sources::LeadSourceDraft;
use crm_domain::ports::LeadSourceStore;
use crm_domain::Backend;
use crm_persistence::test_support::{test_options, TestDatabase};
use crm_persistence::{DatabaseOptions, STATEMENT_TARGET, TRANSACTION_TARGET};
use serde_json::Value;

/// Where the test's log lines go.
#[derive(Clone, Default)]
struct Sink(Arc<Mutex<Vec<u8>>>);

impl Write for Sink {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        self.0
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .extend_from_slice(bytes);
        Ok(bytes.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// Creates a lead source on a database that logs statements of at least `threshold`, and
/// answers the JSON log lines written meanwhile on this thread.
fn log_of_a_write(backend: Backend, threshold: Option<Duration>) -> Option<Vec<Value>> {
    let options = DatabaseOptions {
        slow_statement: threshold,
        ..test_options()
    };
    let db = TestDatabase::with_options(backend, &options)?;
    let sink = Sink::default();
    let writer = sink.clone();
    let subscriber = tracing_subscriber::fmt()
        .json()
        .with_max_level(tracing::Level::WARN)
        .with_writer(move || writer.clone())
        .finish();
    tracing::subscriber::with_default(subscriber, || {
        db.database()
            .create_lead_source(LeadSourceDraft {
                key: "trade_fair_hall_7".into(),
                label: "Trade fair, hall 7".into(),
                position: 3,
            })
            .map(|_| ())
    })
    .unwrap_or_else(|e| panic!("{e}"));
    let bytes = sink.0.lock().unwrap_or_else(|e| e.into_inner()).clone();
    let text = String::from_utf8(bytes).unwrap_or_else(|e| panic!("{e}"));
    Some(
        text.lines()
            .map(|line| serde_json::from_str(line).unwrap_or_else(|e| panic!("{e}: {line}")))
            .collect(),
    )
}

fn with_target<'a>(lines: &'a [Value], target: &str) -> Vec<&'a Value> {
    lines.iter().filter(|l| l["target"] == target).collect()
}

/// With a threshold of zero every statement and the transaction are logged: the insert with its
/// SQL and placeholders but not the values it wrote, and the transaction, committed, with its
/// statement count and its slowest statement.
fn every_statement_over_the_threshold_is_logged_without_its_values(backend: Backend) {
    let Some(lines) = log_of_a_write(backend, Some(Duration::ZERO)) else {
        return;
    };
    for line in &lines {
        assert_eq!(line["level"], "WARN", "{line}");
        let text = line.to_string();
        assert!(!text.contains("trade_fair_hall_7"), "{text}");
        assert!(!text.contains("Trade fair, hall 7"), "{text}");
    }
    let statements = with_target(&lines, STATEMENT_TARGET);
    let sql: Vec<&str> = statements
        .iter()
        .map(|l| l["fields"]["statement"].as_str().unwrap_or_default())
        .collect();
    let (begin, insert, placeholder) = match backend {
        Backend::Sqlite => ("BEGIN IMMEDIATE", "INSERT INTO `lead_sources` (", "?"),
        Backend::Postgres => ("BEGIN", r#"INSERT INTO "lead_sources" ("#, "$1"),
    };
    let inserts: Vec<&&str> = sql.iter().filter(|s| s.starts_with(insert)).collect();
    assert_eq!(inserts.len(), 1, "{sql:?}");
    assert!(inserts[0].contains(placeholder), "{sql:?}");
    assert_eq!(sql.first().copied(), Some(begin), "{sql:?}");
    assert_eq!(sql.last().copied(), Some("COMMIT"), "{sql:?}");
    for line in &statements {
        assert_eq!(line["fields"]["message"], "slow database statement");
        assert_eq!(line["fields"]["failed"], false);
        assert!(line["fields"]["elapsed_ms"].as_f64() >= Some(0.0), "{line}");
    }
    let transactions = with_target(&lines, TRANSACTION_TARGET);
    assert_eq!(transactions.len(), 1, "{lines:?}");
    let transaction = &transactions[0]["fields"];
    assert_eq!(transaction["message"], "slow database transaction");
    assert_eq!(transaction["outcome"], "commit");
    // BEGIN, the statements inside, COMMIT: all of them were logged.
    assert_eq!(transaction["statements"].as_u64(), Some(sql.len() as u64));
    let slowest = transaction["slowest_statement_ms"].as_f64().unwrap_or(-1.0);
    let longest_logged = statements
        .iter()
        .filter_map(|l| l["fields"]["elapsed_ms"].as_f64())
        .fold(0.0, f64::max);
    assert_eq!(slowest, longest_logged);
    assert!(transaction["elapsed_ms"].as_f64() >= Some(slowest));
}

/// Statements faster than the threshold, and all statements without one, are not logged.
fn fast_statements_are_not_logged(backend: Backend) {
    for threshold in [None, Some(Duration::from_secs(3600))] {
        let Some(lines) = log_of_a_write(backend, threshold) else {
            return;
        };
        assert_eq!(lines, Vec::<Value>::new(), "{threshold:?}");
    }
}

#[test]
fn every_statement_over_the_threshold_is_logged_without_its_values_sqlite() {
    every_statement_over_the_threshold_is_logged_without_its_values(Backend::Sqlite);
}

#[test]
fn every_statement_over_the_threshold_is_logged_without_its_values_postgres() {
    every_statement_over_the_threshold_is_logged_without_its_values(Backend::Postgres);
}

#[test]
fn fast_statements_are_not_logged_sqlite() {
    fast_statements_are_not_logged(Backend::Sqlite);
}

#[test]
fn fast_statements_are_not_logged_postgres() {
    fast_statements_are_not_logged(Backend::Postgres);
}
