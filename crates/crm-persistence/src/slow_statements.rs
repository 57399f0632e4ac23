//! The statements and transactions that took longer than an operator's threshold
//! (`DatabaseOptions::slow_statement`, `crm serve --slow-statement-ms`), logged as warnings.
//!
//! A statement's time runs from the moment it is sent until its last row is read; statements
//! run by triggers count towards the statement that fired them. A transaction's time runs from
//! `BEGIN` to the end of its `COMMIT` or `ROLLBACK`, so a slow transaction made of fast
//! statements points at the work done between them. Only the SQL is logged, never the bound
//! values, which hold customers' names, phones and emails.

use std::time::{Duration, Instant};

use diesel::connection::{Instrumentation, InstrumentationEvent};

/// Target of the warning about a slow statement.
pub const STATEMENT_TARGET: &str = "crm::slow_statement";
/// Target of the warning about a slow transaction.
pub const TRANSACTION_TARGET: &str = "crm::slow_transaction";

/// One connection's watch over its statements and transactions.
pub(crate) struct SlowStatements {
    threshold: Duration,
    statement_started: Option<Instant>,
    transaction: Option<Transaction>,
}

/// The outermost transaction open on the connection.
struct Transaction {
    started: Instant,
    statements: u32,
    slowest: Duration,
    /// Set when `COMMIT` or `ROLLBACK` was announced: the next statement to finish ends it.
    ending: Option<&'static str>,
}

impl SlowStatements {
    pub(crate) fn new(threshold: Duration) -> Self {
        Self {
            threshold,
            statement_started: None,
            transaction: None,
        }
    }

    fn finished(&mut self, sql: &dyn std::fmt::Display, failed: bool) {
        let Some(started) = self.statement_started.take() else {
            return;
        };
        let elapsed = started.elapsed();
        if elapsed >= self.threshold {
            tracing::warn!(
                target: STATEMENT_TARGET,
                elapsed_ms = millis(elapsed),
                statement = %without_binds(&sql.to_string()),
                failed,
                "slow database statement"
            );
        }
        let Some(transaction) = self.transaction.as_mut() else {
            return;
        };
        transaction.statements += 1;
        transaction.slowest = transaction.slowest.max(elapsed);
        if let Some(outcome) = transaction.ending {
            let elapsed = transaction.started.elapsed();
            if elapsed >= self.threshold {
                tracing::warn!(
                    target: TRANSACTION_TARGET,
                    elapsed_ms = millis(elapsed),
                    statements = transaction.statements,
                    slowest_statement_ms = millis(transaction.slowest),
                    outcome,
                    "slow database transaction"
                );
            }
            self.transaction = None;
        }
    }

    fn ending(&mut self, depth: u32, outcome: &'static str) {
        if depth == 1 {
            if let Some(transaction) = self.transaction.as_mut() {
                transaction.ending = Some(outcome);
            }
        }
    }
}

impl Instrumentation for SlowStatements {
    fn on_connection_event(&mut self, event: InstrumentationEvent<'_>) {
        match event {
            InstrumentationEvent::StartQuery { .. } => {
                self.statement_started = Some(Instant::now());
            }
            InstrumentationEvent::FinishQuery { query, error, .. } => {
                self.finished(query, error.is_some());
            }
            InstrumentationEvent::BeginTransaction { depth, .. } if depth.get() == 1 => {
                self.transaction = Some(Transaction {
                    started: Instant::now(),
                    statements: 0,
                    slowest: Duration::ZERO,
                    ending: None,
                });
            }
            InstrumentationEvent::CommitTransaction { depth, .. } => {
                self.ending(depth.get(), "commit");
            }
            InstrumentationEvent::RollbackTransaction { depth, .. } => {
                self.ending(depth.get(), "rollback");
            }
            _ => {}
        }
    }
}

/// Milliseconds to a tenth.
fn millis(elapsed: Duration) -> f64 {
    (elapsed.as_secs_f64() * 10_000.0).round() / 10.0
}

/// The SQL of diesel's `SQL -- binds: [...]`.
fn without_binds(printed: &str) -> &str {
    printed
        .rsplit_once(" -- binds: [")
        .map_or(printed, |(sql, _)| sql)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bound_values_are_cut_from_the_logged_sql() {
        assert_eq!(
            without_binds(r#"SELECT "id" FROM "customers" WHERE "email" = ? -- binds: ["a@b.c"]"#),
            r#"SELECT "id" FROM "customers" WHERE "email" = ?"#
        );
        assert_eq!(without_binds("COMMIT"), "COMMIT");
    }

    #[test]
    fn milliseconds_are_rounded_to_a_tenth() {
        assert_eq!(millis(Duration::from_micros(12_345)), 12.3);
        assert_eq!(millis(Duration::from_micros(12_351)), 12.4);
        assert_eq!(millis(Duration::ZERO), 0.0);
    }
}
