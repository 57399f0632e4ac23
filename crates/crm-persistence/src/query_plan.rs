//! What the database does with the SQL a store sends: tests capture the statements a store call
//! runs on the current thread and ask the database for each one's plan, to prove that lists use
//! indexes at scale.

use std::cell::RefCell;
use std::sync::Once;

use diesel::connection::{Instrumentation, InstrumentationEvent, SimpleConnection};
use diesel::prelude::*;
use diesel::sql_types::Text;

use crate::test_support::TestDatabase;
use crate::DbConnection;

thread_local! {
    static CAPTURED: RefCell<Option<Vec<String>>> = const { RefCell::new(None) };
    static CACHED: RefCell<Option<Vec<String>>> = const { RefCell::new(None) };
}

struct Capture;

impl Instrumentation for Capture {
    fn on_connection_event(&mut self, event: InstrumentationEvent<'_>) {
        match event {
            InstrumentationEvent::StartQuery { query, .. } => CAPTURED.with(|captured| {
                if let Some(statements) = captured.borrow_mut().as_mut() {
                    statements.push(query.to_string());
                }
            }),
            InstrumentationEvent::CacheQuery { sql, .. } => CACHED.with(|cached| {
                if let Some(statements) = cached.borrow_mut().as_mut() {
                    statements.push(sql.to_string());
                }
            }),
            _ => {}
        }
    }
}

/// Installs the capturing instrumentation for every connection opened from now on. It records
/// nothing unless a thread is inside [`capture_sql`].
pub(crate) fn install() {
    static INSTALL: Once = Once::new();
    INSTALL.call_once(|| {
        let _ = diesel::connection::set_default_instrumentation(|| Some(Box::new(Capture)));
    });
}

/// A statement as the database received it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Statement {
    /// The SQL with its placeholders (`$n` on PostgreSQL, `?` on SQLite).
    pub sql: String,
    /// The bound values, as diesel prints them.
    pub binds: Vec<String>,
}

/// Runs `f` and returns what it returned with every statement it ran on this thread.
pub fn capture_sql<T>(f: impl FnOnce() -> T) -> (T, Vec<Statement>) {
    CAPTURED.with(|captured| *captured.borrow_mut() = Some(Vec::new()));
    let result = f();
    let statements = CAPTURED
        .with(|captured| captured.borrow_mut().take())
        .unwrap_or_default()
        .into_iter()
        .map(|printed| parse_statement(&printed))
        .collect();
    (result, statements)
}

/// Runs `f` and returns what it returned with every statement it ran on this thread and the SQL
/// of every statement a connection prepared and kept in its statement cache meanwhile. A statement
/// that ran but was never kept is prepared anew on every run.
pub fn capture_sql_and_cache<T>(f: impl FnOnce() -> T) -> (T, Vec<Statement>, Vec<String>) {
    CACHED.with(|cached| *cached.borrow_mut() = Some(Vec::new()));
    let (result, statements) = capture_sql(f);
    let cached = CACHED
        .with(|cached| cached.borrow_mut().take())
        .unwrap_or_default();
    (result, statements, cached)
}

/// Splits diesel's `SQL -- binds: [a, b]` into the SQL and the printed values.
fn parse_statement(printed: &str) -> Statement {
    match printed.rsplit_once(" -- binds: [") {
        Some((sql, binds)) => Statement {
            sql: sql.to_string(),
            binds: split_values(binds.strip_suffix(']').unwrap_or(binds)),
        },
        None => Statement {
            sql: printed.to_string(),
            binds: Vec::new(),
        },
    }
}

/// Splits printed values at the top-level `, `, keeping quoted strings and `[…]` lists whole.
fn split_values(list: &str) -> Vec<String> {
    let mut values = Vec::new();
    let mut current = String::new();
    let (mut depth, mut quoted, mut escaped) = (0_u32, false, false);
    let mut chars = list.chars().peekable();
    while let Some(c) = chars.next() {
        if quoted {
            current.push(c);
            match (escaped, c) {
                (true, _) => escaped = false,
                (false, '\\') => escaped = true,
                (false, '"') => quoted = false,
                _ => {}
            }
            continue;
        }
        match c {
            '"' => quoted = true,
            '[' => depth += 1,
            ']' => depth = depth.saturating_sub(1),
            ',' if depth == 0 && chars.peek() == Some(&' ') => {
                chars.next();
                values.push(std::mem::take(&mut current));
                continue;
            }
            _ => {}
        }
        current.push(c);
    }
    if !current.is_empty() {
        values.push(current);
    }
    values
}

/// A printed string value without its quotes and escapes; other values as printed.
fn unquote(printed: &str) -> String {
    match printed.strip_prefix('"').and_then(|v| v.strip_suffix('"')) {
        Some(quoted) => quoted.replace("\\\"", "\"").replace("\\\\", "\\"),
        None => printed.to_string(),
    }
}

/// A bound value as an SQL literal whose type the database infers from its use; a list becomes
/// an array literal.
fn literal(printed: &str) -> String {
    let value = match printed.strip_prefix('[').and_then(|v| v.strip_suffix(']')) {
        Some(items) => {
            let items: Vec<String> = split_values(items)
                .iter()
                .map(|item| {
                    format!(
                        "\"{}\"",
                        unquote(item).replace('\\', "\\\\").replace('"', "\\\"")
                    )
                })
                .collect();
            format!("{{{}}}", items.join(","))
        }
        None => unquote(printed),
    };
    format!("'{}'", value.replace('\'', "''"))
}

#[derive(QueryableByName)]
struct SqlitePlanRow {
    #[diesel(sql_type = Text)]
    detail: String,
}

#[derive(QueryableByName)]
struct PgPlanRow {
    #[diesel(sql_type = Text, column_name = "QUERY PLAN")]
    line: String,
}

impl TestDatabase {
    /// The database's plan for `statement`, one line per step: SQLite's `EXPLAIN QUERY PLAN`
    /// details (placeholders unbound: without statistics the plan does not depend on values), or
    /// PostgreSQL's `EXPLAIN` of the statement prepared and executed with its captured values.
    ///
    /// # Panics
    /// When the database refuses to explain the statement.
    pub fn query_plan(&self, statement: &Statement) -> Vec<String> {
        self.query_plan_with(statement, &[])
    }

    /// `query_plan` with PostgreSQL's planner `settings` (`name = value`) in force, such as
    /// `plan_cache_mode = force_generic_plan` for the plan a prepared statement gets once it
    /// has run a few times. SQLite's plans do not depend on such settings.
    ///
    /// # Panics
    /// When the database refuses a setting or to explain the statement.
    pub fn query_plan_with(&self, statement: &Statement, settings: &[&str]) -> Vec<String> {
        let mut conn = self.connection();
        if let DbConnection::Pg(c) = &mut *conn {
            for setting in settings {
                c.batch_execute(&format!("SET {setting}"))
                    .unwrap_or_else(|e| panic!("{e}: SET {setting}"));
            }
        }
        let plan = match &mut *conn {
            DbConnection::Sqlite(c) => {
                diesel::sql_query(format!("EXPLAIN QUERY PLAN {}", statement.sql))
                    .load::<SqlitePlanRow>(c)
                    .unwrap_or_else(|e| panic!("{e}: {}", statement.sql))
                    .into_iter()
                    .map(|row| row.detail)
                    .collect()
            }
            DbConnection::Pg(c) => {
                c.batch_execute(&format!("PREPARE plan_probe AS {}", statement.sql))
                    .unwrap_or_else(|e| panic!("{e}: {}", statement.sql));
                let values: Vec<String> = statement.binds.iter().map(|b| literal(b)).collect();
                // `EXPLAIN_ANALYZE` set: run it too, for timings and row counts.
                let explain = if std::env::var("EXPLAIN_ANALYZE").is_ok() {
                    "EXPLAIN (ANALYZE, BUFFERS)"
                } else {
                    "EXPLAIN"
                };
                let explain = if values.is_empty() {
                    format!("{explain} EXECUTE plan_probe")
                } else {
                    format!("{explain} EXECUTE plan_probe({})", values.join(", "))
                };
                let plan = diesel::sql_query(&explain).load::<PgPlanRow>(c);
                let _ = c.batch_execute("DEALLOCATE plan_probe");
                plan.unwrap_or_else(|e| panic!("{e}: {explain} for {}", statement.sql))
                    .into_iter()
                    .map(|row| row.line)
                    .collect()
            }
        };
        if let (DbConnection::Pg(c), false) = (&mut *conn, settings.is_empty()) {
            let _ = c.batch_execute("RESET ALL");
        }
        plan
    }

    /// Adds `count` customers straight into the table (not through the store), spread over
    /// `owners` with every tenth one in the pool, and refreshes the planner's statistics on
    /// PostgreSQL as its autovacuum would. Names are `Customer <n>`; the n-th customer has
    /// phone `+86138<n as 8 digits>`, email `c<n>@example.com`, status, kind, lead source
    /// (`source <n % 12>`), tag (`t<n % 20>`) and score varied by `n`, and a next follow-up on
    /// two customers in three. Every tenth customer (n = 1, 11, …) gets a primary contact named
    /// `Contact <n>` with phone `+86139<n as 8 digits>` and email `contact<n>@example.com`.
    ///
    /// # Panics
    /// When the insert fails.
    pub fn seed_customers(&self, count: u32, owners: &[String]) {
        let owner_case = {
            let arms: String = owners
                .iter()
                .enumerate()
                .map(|(i, id)| format!(" WHEN {} THEN '{id}'", i + 1))
                .collect();
            format!(
                "CASE WHEN n % 10 = 0 THEN NULL ELSE CASE n % {} + 1{arms} END END",
                owners.len().max(1)
            )
        };
        let columns = "id, kind, name, phone, phone_normalized, email, email_normalized, status, \
                       lead_source, tags, owner_id, score, next_follow_up_at, created_by, \
                       created_at, updated_at, version";
        let contact_columns = "id, customer_id, name, phones, phones_normalized, email, \
                               email_normalized, is_primary, created_at, updated_at, version";
        let mut conn = self.connection();
        let sql = match &*conn {
            DbConnection::Sqlite(_) => format!(
                "WITH RECURSIVE g(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM g WHERE n < {count})
                 INSERT INTO customers ({columns})
                 SELECT printf('%08x-0000-7000-8000-000000000000', n),
                   CASE WHEN n % 3 = 0 THEN 'individual' ELSE 'company' END,
                   'Customer ' || n, '138' || printf('%08d', n), '+86138' || printf('%08d', n),
                   'c' || n || '@example.com', 'c' || n || '@example.com',
                   CASE n % 4 WHEN 0 THEN 'lead' WHEN 1 THEN 'prospect' WHEN 2 THEN 'customer' ELSE 'inactive' END,
                   'source ' || (n % 12), '[\"t' || (n % 20) || '\"]', {owner_case}, n % 200 - 50,
                   CASE WHEN n % 3 = 0 THEN NULL ELSE strftime('%Y-%m-%d %H:%M:%S', '2027-01-01', '+' || n || ' minutes') END,
                   'seed', strftime('%Y-%m-%d %H:%M:%S', '2025-01-01', '+' || n || ' seconds'),
                   strftime('%Y-%m-%d %H:%M:%S', '2026-01-01', '+' || (n * 7 % {count}) || ' seconds'), 1
                 FROM g;
                 WITH RECURSIVE g(n) AS (SELECT 1 UNION ALL SELECT n + 10 FROM g WHERE n + 10 <= {count})
                 INSERT INTO contacts ({contact_columns})
                 SELECT printf('%08x-0000-7000-9000-000000000000', n),
                   printf('%08x-0000-7000-8000-000000000000', n), 'Contact ' || n,
                   '[\"139' || printf('%08d', n) || '\"]', '[\"+86139' || printf('%08d', n) || '\"]',
                   'contact' || n || '@example.com', 'contact' || n || '@example.com', 1,
                   '2026-01-01 00:00:00', '2026-01-01 00:00:00', 1
                 FROM g;
                 INSERT INTO contact_phones (contact_id, phone_normalized)
                 SELECT id, json_extract(phones_normalized, '$[0]') FROM contacts"
            ),
            DbConnection::Pg(_) => format!(
                "INSERT INTO customers ({columns})
                 SELECT lpad(to_hex(n), 8, '0') || '-0000-7000-8000-000000000000',
                   CASE WHEN n % 3 = 0 THEN 'individual' ELSE 'company' END,
                   'Customer ' || n, '138' || lpad(n::text, 8, '0'), '+86138' || lpad(n::text, 8, '0'),
                   'c' || n || '@example.com', 'c' || n || '@example.com',
                   CASE n % 4 WHEN 0 THEN 'lead' WHEN 1 THEN 'prospect' WHEN 2 THEN 'customer' ELSE 'inactive' END,
                   'source ' || (n % 12), '[\"t' || (n % 20) || '\"]', {owner_case}, n % 200 - 50,
                   CASE WHEN n % 3 = 0 THEN NULL ELSE timestamp '2027-01-01' + n * interval '1 minute' END,
                   'seed', timestamp '2025-01-01' + n * interval '1 second',
                   timestamp '2026-01-01' + (n * 7 % {count}) * interval '1 second', 1
                 FROM generate_series(1, {count}) AS g(n);
                 INSERT INTO contacts ({contact_columns})
                 SELECT lpad(to_hex(n), 8, '0') || '-0000-7000-9000-000000000000',
                   lpad(to_hex(n), 8, '0') || '-0000-7000-8000-000000000000', 'Contact ' || n,
                   '[\"139' || lpad(n::text, 8, '0') || '\"]', '[\"+86139' || lpad(n::text, 8, '0') || '\"]',
                   'contact' || n || '@example.com', 'contact' || n || '@example.com', true,
                   timestamp '2026-01-01', timestamp '2026-01-01', 1
                 FROM generate_series(1, {count}, 10) AS g(n);
                 INSERT INTO contact_phones (contact_id, phone_normalized)
                 SELECT id, phones_normalized::jsonb ->> 0 FROM contacts;
                 ANALYZE"
            ),
        };
        conn.batch_execute(&sql)
            .unwrap_or_else(|e| panic!("seeding customers: {e}"));
    }

    /// Adds custom field index rows to the first `count` customers [`seed_customers`] made:
    /// `number_field` holds `n % 1000 * 7919 % 1000` on customers not divisible by 7, `select_field`
    /// holds option `o<n / 10 % 5>` where `n / 10 % 3` is not 0, and `multi_field` holds
    /// `o<n / 10 % 4>` and `o4` on every fifth customer (values spread independently of the
    /// owners, which follow `n % 50`), each row with its customer's owner. Only the index rows
    /// are written (the records' own `custom_fields` documents stay empty): enough for the
    /// planner, not for reading values back.
    ///
    /// [`seed_customers`]: TestDatabase::seed_customers
    ///
    /// # Panics
    /// When the insert fails.
    pub fn seed_custom_values(
        &self,
        count: u32,
        number_field: &str,
        select_field: &str,
        multi_field: &str,
    ) {
        let mut conn = self.connection();
        let (id, series) = match &*conn {
            DbConnection::Sqlite(_) => (
                "printf('%08x-0000-7000-8000-000000000000', n)",
                format!(
                    "WITH RECURSIVE g(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM g WHERE n < {count})"
                ),
            ),
            DbConnection::Pg(_) => (
                "lpad(to_hex(n), 8, '0') || '-0000-7000-8000-000000000000'",
                format!("WITH g(n) AS (SELECT generate_series(1, {count}))"),
            ),
        };
        let insert = "INSERT INTO custom_field_values \
                      (field_id, record_id, value_number, value_text, owner_id)";
        // Each index row carries its customer's owner, as the store writes it.
        let owner = format!("(SELECT owner_id FROM customers WHERE id = {id})");
        let mut sql = format!(
            "{series} {insert} SELECT '{number_field}', {id}, n % 1000 * 7919 % 1000, NULL, {owner} FROM g WHERE n % 7 <> 0;
             {series} {insert} SELECT '{select_field}', {id}, NULL, 'o' || (n / 10 % 5), {owner} FROM g WHERE n / 10 % 3 <> 0;
             {series} {insert} SELECT '{multi_field}', {id}, NULL, 'o' || (n / 10 % 4), {owner} FROM g WHERE n % 5 = 0;
             {series} {insert} SELECT '{multi_field}', {id}, NULL, 'o4', {owner} FROM g WHERE n % 5 = 0;"
        );
        if matches!(&*conn, DbConnection::Pg(_)) {
            sql.push_str("ANALYZE");
        }
        conn.batch_execute(&sql)
            .unwrap_or_else(|e| panic!("seeding custom values: {e}"));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn printed_statements_split_into_sql_and_values() {
        assert_eq!(
            parse_statement(r#"SELECT 1 WHERE a = $1 AND b = $2 -- binds: ["x y", 51]"#),
            Statement {
                sql: "SELECT 1 WHERE a = $1 AND b = $2".into(),
                binds: vec![r#""x y""#.into(), "51".into()],
            }
        );
        assert_eq!(
            parse_statement("SELECT 1 -- binds: []").binds,
            Vec::<String>::new()
        );
        assert_eq!(literal(r#""it's""#), "'it''s'");
        assert_eq!(
            parse_statement(r#"SELECT $1, $2 -- binds: [["a, b", "c"], "d\"]"]"#).binds,
            vec![r#"["a, b", "c"]"#.to_string(), r#""d\"]""#.to_string()]
        );
        assert_eq!(literal(r#"["a, b", "c"]"#), r#"'{"a, b","c"}'"#);
        assert_eq!(
            literal("2026-05-01T08:00:00.000001"),
            "'2026-05-01T08:00:00.000001'"
        );
    }
}
