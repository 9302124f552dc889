//! The scan history's stores for the integration tests: a SQLite file in
//! a temporary directory or a fresh database on the lab's PostgreSQL
//! (`tests/lab/lab.sh start history-postgres`, 127.0.40.54:5432), dropped
//! when the test ends; `mailaudit history` on one; a report saved with a
//! scan time the test chooses.

use super::mailaudit;
use chrono::{Duration, Utc};
use serde_json::Value;
use std::path::{Path, PathBuf};

/// The lab's PostgreSQL (tests/lab/lib/postgres.sh): trust from loopback.
pub const LAB_POSTGRES: &str = "postgres://mailaudit@127.0.40.54:5432";

/// A history store for one test: a SQLite file or a fresh PostgreSQL
/// database, named for the test.
pub struct Store {
    pub url: String,
    _dir: Option<tempfile::TempDir>,
}

/// A PostgreSQL test database is dropped when its test ends.
impl Drop for Store {
    fn drop(&mut self) {
        let Some(name) = self.url.strip_prefix(&format!("{LAB_POSTGRES}/")) else {
            return;
        };
        admin(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"));
    }
}

/// Runs SQL statements on the lab PostgreSQL's maintenance database.
pub fn admin(sql: &str) {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(async {
        use sqlx::Connection;
        let mut admin = sqlx::PgConnection::connect(&format!("{LAB_POSTGRES}/postgres"))
            .await
            .expect("the lab's PostgreSQL is up: tests/lab/lab.sh start history-postgres");
        sqlx::query(sqlx::AssertSqlSafe(sql.to_string()))
            .execute(&mut admin)
            .await
            .unwrap();
    });
}

pub fn sqlite(test: &str) -> Store {
    let dir = tempfile::tempdir().unwrap();
    let url = dir
        .path()
        .join(format!("{test}.sqlite"))
        .display()
        .to_string();
    Store {
        url,
        _dir: Some(dir),
    }
}

pub fn postgres(test: &str) -> Store {
    let name = format!("history_{test}_{}", std::process::id());
    admin(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"));
    admin(&format!("CREATE DATABASE {name}"));
    Store {
        url: format!("{LAB_POSTGRES}/{name}"),
        _dir: None,
    }
}

/// Both backends.
pub fn stores(test: &str) -> [Store; 2] {
    [sqlite(test), postgres(test)]
}

/// `mailaudit history ARGS --history URL`: exit code, stdout, stderr.
pub fn history(store: &Store, args: &[&str]) -> (i32, String, String) {
    let output = mailaudit()
        .arg("history")
        .args(args)
        .arg(format!("--history={}", store.url))
        .env_remove("MAILAUDIT_HISTORY")
        .output()
        .unwrap();
    (
        output.status.code().unwrap_or(-1),
        String::from_utf8(output.stdout).unwrap(),
        String::from_utf8(output.stderr).unwrap(),
    )
}

pub fn history_json(store: &Store, args: &[&str]) -> Value {
    let mut all = args.to_vec();
    all.extend(["--format", "json"]);
    let (code, stdout, stderr) = history(store, &all);
    assert_eq!(code, 0, "history {args:?}: {stderr}");
    serde_json::from_str(&stdout).unwrap_or_else(|e| panic!("{e}: {stdout}"))
}

/// Writes `report` with its scan time set to `started_at`.
pub fn save_at(report: &Value, started_at: chrono::DateTime<Utc>, path: &Path) -> PathBuf {
    let mut report = report.clone();
    report["started_at"] = Value::String(started_at.to_rfc3339());
    report["finished_at"] = Value::String((started_at + Duration::seconds(5)).to_rfc3339());
    std::fs::write(path, serde_json::to_vec_pretty(&report).unwrap()).unwrap();
    path.to_path_buf()
}
