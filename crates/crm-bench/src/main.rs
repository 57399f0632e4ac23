//! `crm-sqlite-ceiling`: the SQLite side of the benchmark's ceilings.
//!
//! The benchmark compares each API scenario with the rate the database itself reaches for the
//! same statements on the same machine. On PostgreSQL that is `pgbench` with prepared
//! statements; this is the same for a SQLite file: a few native loops (one connection per
//! client, statements prepared once and reused) running pgbench-style scripts for a fixed time,
//! printing transactions per second as JSON.
//!
//! A script is a subset of pgbench's language: `\set name random(lo, hi)` lines, `--` comments
//! and SQL statements ending with `;` (a statement may span lines). `:name` in a statement is
//! bound as an integer parameter. Scripts run with the connection settings the CRM uses
//! (WAL, `synchronous = NORMAL`, foreign keys on, a busy timeout).
//!
//! With `--load-from SOURCE --table T …` it measures a bulk load instead: every row of each
//! table of SOURCE (read into memory first, and not timed) is written into the same table of
//! `--database` by prepared multi-row INSERTs, all in one transaction, and the seconds that
//! took are printed. This is the ceiling of the lead import.

use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use anyhow::{anyhow, bail, Context, Result};
use clap::Parser;
use rusqlite::{params_from_iter, Connection};

#[derive(Parser)]
#[command(about = "Runs pgbench-style scripts on a SQLite file and prints transactions per second")]
struct Args {
    /// The SQLite database file.
    #[arg(long)]
    database: PathBuf,
    /// Concurrent clients, each with its own connection.
    #[arg(long, default_value_t = 1)]
    clients: usize,
    /// How long to run, in seconds.
    #[arg(long, default_value_t = 5.0)]
    seconds: f64,
    /// A script file, optionally with `@weight` (default 1); repeat for a weighted mix.
    #[arg(long = "script", required_unless_present = "load_from")]
    scripts: Vec<String>,
    /// Bulk-load the rows of `--table`s from this SQLite file instead of running scripts.
    #[arg(long, requires = "tables")]
    load_from: Option<PathBuf>,
    /// A table to bulk-load, in the order the foreign keys want; repeat for more.
    #[arg(long = "table")]
    tables: Vec<String>,
    /// Rows per transaction of the bulk load.
    #[arg(long, default_value_t = usize::MAX)]
    rows_per_commit: usize,
    /// Rows per INSERT statement of the bulk load. One row per statement is three to four times
    /// slower on the CRM's tables: every statement of a transaction is a savepoint, and the
    /// search indexes (FTS5) write out what they hold at each one.
    #[arg(long, default_value_t = 100)]
    rows_per_statement: usize,
}

/// How a `\set` variable gets its value.
#[derive(Debug, Clone)]
struct Random {
    name: String,
    low: i64,
    high: i64,
}

/// A statement with its parameters: the variable bound as `?1`, `?2`, …
#[derive(Debug, Clone)]
struct Statement {
    sql: String,
    params: Vec<String>,
}

#[derive(Debug, Clone)]
struct Script {
    sets: Vec<Random>,
    statements: Vec<Statement>,
    weight: u32,
}

fn parse_set(line: &str) -> Result<Random> {
    let rest = line.trim_start_matches("\\set").trim();
    let (name, expr) = rest
        .split_once(char::is_whitespace)
        .ok_or_else(|| anyhow!("`{line}`: expected `\\set name random(lo, hi)`"))?;
    let inner = expr
        .trim()
        .strip_prefix("random(")
        .and_then(|e| e.strip_suffix(')'))
        .ok_or_else(|| anyhow!("`{line}`: only random(lo, hi) is supported"))?;
    let (low, high) = inner
        .split_once(',')
        .ok_or_else(|| anyhow!("`{line}`: random takes two bounds"))?;
    let low: i64 = low.trim().parse().with_context(|| format!("`{line}`"))?;
    let high: i64 = high.trim().parse().with_context(|| format!("`{line}`"))?;
    if high < low {
        bail!("`{line}`: empty range");
    }
    Ok(Random {
        name: name.to_string(),
        low,
        high,
    })
}

/// Replaces each `:name` with a numbered parameter (the same name, the same number).
fn bind_variables(sql: &str) -> Statement {
    let mut out = String::with_capacity(sql.len());
    let mut params: Vec<String> = Vec::new();
    let chars: Vec<char> = sql.chars().collect();
    let mut i = 0;
    let mut quoted = false;
    while i < chars.len() {
        let c = chars[i];
        if c == '\'' {
            quoted = !quoted;
        }
        let starts_name = !quoted
            && c == ':'
            && chars
                .get(i + 1)
                .is_some_and(|n| n.is_ascii_alphabetic() || *n == '_')
            && (i == 0 || chars[i - 1] != ':');
        if !starts_name {
            out.push(c);
            i += 1;
            continue;
        }
        let start = i + 1;
        let mut end = start;
        while end < chars.len() && (chars[end].is_ascii_alphanumeric() || chars[end] == '_') {
            end += 1;
        }
        let name: String = chars[start..end].iter().collect();
        let position = match params.iter().position(|p| *p == name) {
            Some(p) => p,
            None => {
                params.push(name);
                params.len() - 1
            }
        };
        out.push_str(&format!("?{}", position + 1));
        i = end;
    }
    Statement { sql: out, params }
}

fn parse_script(spec: &str) -> Result<Script> {
    let (path, weight) = match spec.rsplit_once('@') {
        Some((path, weight)) if weight.chars().all(|c| c.is_ascii_digit()) => {
            (path, weight.parse().context("weight")?)
        }
        _ => (spec, 1),
    };
    let text = std::fs::read_to_string(path).with_context(|| format!("reading {path}"))?;
    let mut sets = Vec::new();
    let mut statements = Vec::new();
    let mut pending = String::new();
    for line in text.lines() {
        let trimmed = line.trim();
        if trimmed.is_empty() || trimmed.starts_with("--") {
            continue;
        }
        if trimmed.starts_with("\\set") {
            sets.push(parse_set(trimmed)?);
            continue;
        }
        if trimmed.starts_with('\\') {
            bail!("{path}: `{trimmed}` is not supported");
        }
        pending.push_str(line);
        pending.push('\n');
        if trimmed.ends_with(';') {
            statements.push(bind_variables(pending.trim()));
            pending.clear();
        }
    }
    if !pending.trim().is_empty() {
        bail!("{path}: the last statement does not end with `;`");
    }
    for statement in &statements {
        for param in &statement.params {
            if !sets.iter().any(|s| s.name == *param) {
                bail!("{path}: `:{param}` is never set");
            }
        }
    }
    Ok(Script {
        sets,
        statements,
        weight,
    })
}

fn open(path: &PathBuf) -> Result<Connection> {
    let conn = Connection::open(path).with_context(|| format!("opening {}", path.display()))?;
    conn.execute_batch(
        "PRAGMA busy_timeout = 5000;
         PRAGMA journal_mode = WAL;
         PRAGMA synchronous = NORMAL;
         PRAGMA foreign_keys = ON;",
    )?;
    conn.set_prepared_statement_cache_capacity(64);
    Ok(conn)
}

/// Runs one script once: draws its variables, then each statement, reading every row and
/// column it returns.
fn run_once(conn: &Connection, script: &Script, rng: &mut fastrand::Rng) -> Result<()> {
    let values: Vec<(&str, i64)> = script
        .sets
        .iter()
        .map(|s| (s.name.as_str(), rng.i64(s.low..=s.high)))
        .collect();
    for statement in &script.statements {
        let mut prepared = conn.prepare_cached(&statement.sql)?;
        let columns = prepared.column_count();
        let params = statement.params.iter().map(|p| {
            values
                .iter()
                .find(|(name, _)| name == p)
                .map(|(_, v)| *v)
                .unwrap_or_default()
        });
        let mut rows = prepared.query(params_from_iter(params))?;
        while let Some(row) = rows.next()? {
            for i in 0..columns {
                std::hint::black_box(row.get_ref(i)?);
            }
        }
    }
    Ok(())
}

fn client(args: &Args, scripts: &[Script], stop: &AtomicBool, seed: u64) -> Result<(u64, u64)> {
    let conn = open(&args.database)?;
    let total: u32 = scripts.iter().map(|s| s.weight).sum();
    let mut rng = fastrand::Rng::with_seed(seed);
    let (mut done, mut failed) = (0u64, 0u64);
    while !stop.load(Ordering::Relaxed) {
        let mut pick = rng.u32(0..total.max(1));
        let script = scripts
            .iter()
            .find(|s| {
                if pick < s.weight {
                    true
                } else {
                    pick -= s.weight;
                    false
                }
            })
            .ok_or_else(|| anyhow!("no script"))?;
        match run_once(&conn, script, &mut rng) {
            Ok(()) => done += 1,
            Err(err) => {
                if failed == 0 {
                    eprintln!("crm-sqlite-ceiling: {err:#}");
                }
                failed += 1;
                // Leave no transaction open behind a failed statement.
                let _ = conn.execute_batch("ROLLBACK");
            }
        }
    }
    Ok((done, failed))
}

/// The rows of a table, every column but `search_key` (a trigger gives it as a row goes in).
struct TableRows {
    name: String,
    columns: Vec<String>,
    rows: Vec<Vec<rusqlite::types::Value>>,
}

impl TableRows {
    /// An INSERT of `count` rows.
    fn insert(&self, count: usize) -> String {
        let marks = format!("({})", vec!["?"; self.columns.len()].join(", "));
        format!(
            "INSERT INTO {} ({}) VALUES {}",
            self.name,
            self.columns.join(", "),
            vec![marks; count].join(", ")
        )
    }
}

fn read_table(source: &Connection, table: &str) -> Result<TableRows> {
    if !table.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') {
        bail!("`{table}` is not a table name");
    }
    let columns: Vec<String> = source
        .prepare(&format!("SELECT name FROM pragma_table_info('{table}')"))?
        .query_map([], |row| row.get(0))?
        .collect::<rusqlite::Result<Vec<String>>>()?
        .into_iter()
        .filter(|c| c != "search_key")
        .collect();
    if columns.is_empty() {
        bail!("no table `{table}`");
    }
    let mut select = source.prepare(&format!("SELECT {} FROM {table}", columns.join(", ")))?;
    let rows = select
        .query_map([], |row| {
            (0..columns.len())
                .map(|i| row.get::<_, rusqlite::types::Value>(i))
                .collect()
        })?
        .collect::<rusqlite::Result<Vec<_>>>()?;
    Ok(TableRows {
        name: table.to_string(),
        columns,
        rows,
    })
}

/// Seconds taken to write `tables` into `conn`: prepared INSERTs of `per_statement` rows
/// (the last one of a table shorter), committing every `per_commit` rows.
fn bulk_load(
    conn: &Connection,
    tables: &[TableRows],
    per_statement: usize,
    per_commit: usize,
) -> Result<f64> {
    let started = Instant::now();
    let per_statement = per_statement.max(1);
    let per_commit = per_commit.max(per_statement);
    for table in tables {
        let mut full = conn.prepare(&table.insert(per_statement))?;
        for commit in table.rows.chunks(per_commit) {
            conn.execute_batch("BEGIN")?;
            for rows in commit.chunks(per_statement) {
                let values = rows.iter().flatten();
                if rows.len() == per_statement {
                    full.execute(params_from_iter(values))?;
                } else {
                    conn.prepare(&table.insert(rows.len()))?
                        .execute(params_from_iter(values))?;
                }
            }
            conn.execute_batch("COMMIT")?;
        }
    }
    Ok(started.elapsed().as_secs_f64())
}

fn load(args: &Args, source: &PathBuf) -> Result<()> {
    let tables = {
        let source =
            Connection::open(source).with_context(|| format!("opening {}", source.display()))?;
        args.tables
            .iter()
            .map(|t| read_table(&source, t))
            .collect::<Result<Vec<_>>>()?
    };
    let conn = open(&args.database)?;
    let seconds = bulk_load(
        &conn,
        &tables,
        args.rows_per_statement,
        args.rows_per_commit,
    )?;
    let rows: serde_json::Map<String, serde_json::Value> = args
        .tables
        .iter()
        .zip(&tables)
        .map(|(name, t)| (name.clone(), t.rows.len().into()))
        .collect();
    println!(
        "{}",
        serde_json::json!({ "seconds": seconds, "rows": rows })
    );
    Ok(())
}

fn main() -> Result<()> {
    let args = Args::parse();
    if let Some(source) = &args.load_from {
        return load(&args, source);
    }
    let scripts = args
        .scripts
        .iter()
        .map(|s| parse_script(s))
        .collect::<Result<Vec<_>>>()?;
    let stop = AtomicBool::new(false);
    let started = Instant::now();
    let results = std::thread::scope(|scope| {
        let handles: Vec<_> = (0..args.clients.max(1))
            .map(|i| {
                let (args, scripts, stop) = (&args, &scripts, &stop);
                // Fresh draws each run: ids the write scripts make never repeat a run's.
                let seed = fastrand::u64(..) ^ i as u64;
                scope.spawn(move || client(args, scripts, stop, seed))
            })
            .collect();
        std::thread::sleep(Duration::from_secs_f64(args.seconds));
        stop.store(true, Ordering::Relaxed);
        handles
            .into_iter()
            .map(|h| h.join().map_err(|_| anyhow!("a client panicked"))?)
            .collect::<Result<Vec<_>>>()
    })?;
    let seconds = started.elapsed().as_secs_f64();
    let transactions: u64 = results.iter().map(|(d, _)| d).sum();
    let failures: u64 = results.iter().map(|(_, f)| f).sum();
    println!(
        "{}",
        serde_json::json!({
            "tps": transactions as f64 / seconds,
            "transactions": transactions,
            "failures": failures,
            "seconds": seconds,
            "clients": args.clients,
        })
    );
    if failures > 0 {
        bail!("{failures} transactions failed");
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn variables_become_numbered_parameters() {
        let s = bind_variables("SELECT * FROM t WHERE a = :n AND b = :m AND c = :n AND d = ':x'");
        assert_eq!(
            s.sql,
            "SELECT * FROM t WHERE a = ?1 AND b = ?2 AND c = ?1 AND d = ':x'"
        );
        assert_eq!(s.params, vec!["n".to_string(), "m".to_string()]);
    }

    #[test]
    fn set_lines_take_integer_ranges() -> Result<()> {
        let r = parse_set("\\set n random(0, 9999)")?;
        assert_eq!((r.name.as_str(), r.low, r.high), ("n", 0, 9999));
        assert!(parse_set("\\set n 5").is_err());
        assert!(parse_set("\\set n random(5, 1)").is_err());
        Ok(())
    }

    #[test]
    fn scripts_run_against_a_sqlite_file() -> Result<()> {
        let dir = std::env::temp_dir().join(format!("crm-ceiling-{}", std::process::id()));
        std::fs::create_dir_all(&dir)?;
        let db = dir.join("t.db");
        let conn = open(&db)?;
        conn.execute_batch("CREATE TABLE t (id INTEGER PRIMARY KEY, v TEXT);")?;
        let script = dir.join("s.sql");
        std::fs::write(
            &script,
            "\\set n random(1, 1000000000)\nBEGIN IMMEDIATE;\nINSERT INTO t (id, v)\n  VALUES (:n, 'x');\nCOMMIT;\n",
        )?;
        let parsed = parse_script(&script.to_string_lossy())?;
        assert_eq!(parsed.statements.len(), 3);
        let mut rng = fastrand::Rng::with_seed(1);
        for _ in 0..10 {
            run_once(&conn, &parsed, &mut rng)?;
        }
        let count: i64 = conn.query_row("SELECT count(*) FROM t", [], |r| r.get(0))?;
        assert_eq!(count, 10);
        std::fs::remove_dir_all(&dir)?;
        Ok(())
    }

    #[test]
    fn tables_load_into_another_file_in_multi_row_statements() -> Result<()> {
        let dir = std::env::temp_dir().join(format!("crm-load-{}", std::process::id()));
        std::fs::create_dir_all(&dir)?;
        let schema = "CREATE TABLE t (id INTEGER PRIMARY KEY, v TEXT, search_key INTEGER);";
        let source = open(&dir.join("source.db"))?;
        source.execute_batch(schema)?;
        source.execute_batch(
            "WITH RECURSIVE s(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM s WHERE i < 250)
             INSERT INTO t (id, v, search_key) SELECT i, 'v' || i, 7 FROM s;",
        )?;
        let tables = vec![read_table(&source, "t")?];
        assert_eq!(tables[0].columns, vec!["id".to_string(), "v".to_string()]);
        assert_eq!(tables[0].rows.len(), 250);
        assert!(read_table(&source, "t; DROP TABLE t").is_err());
        let target = open(&dir.join("target.db"))?;
        target.execute_batch(schema)?;
        // Two full statements of 100 rows and one of 50, in two transactions.
        bulk_load(&target, &tables, 100, 200)?;
        let (count, sum, keys): (i64, i64, i64) = target.query_row(
            "SELECT count(*), sum(id), count(search_key) FROM t WHERE v = 'v' || id",
            [],
            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
        )?;
        assert_eq!((count, sum, keys), (250, 250 * 251 / 2, 0));
        std::fs::remove_dir_all(&dir)?;
        Ok(())
    }
}
