//! The scan history (issue 13): every recorded scan (`scan`, `merge`,
//! `report` with `--history`, or `history import`) with its settings,
//! profile, per-domain evidence, grades and findings, and its `report.json`
//! addressed by SHA-256. One store, two backends through sqlx's `Any`
//! driver: an embedded SQLite file (the default, in the XDG data
//! directory, mode 600, WAL) or PostgreSQL for teams and shards.
//!
//! The history sits beside `report/`: it reads a finished [`Report`] and
//! never a probe or a rule. GOV-001 does not query it: the command layer
//! asks [`Store::previous_scans`] before the rules run and writes the
//! answer into the evidence ([`crate::evidence::AuditHistoryEvidence`]).
//!
//! - [`location`]: where the store is (`--history`, `MAILAUDIT_HISTORY`,
//!   the XDG default) and how it is named without its password;
//! - [`store`]: opening it (file mode, pragmas, migrations);
//! - [`record`]: writing one report in one transaction;
//! - [`read`]: the read API (scans, latest per domain, documents,
//!   findings, previous scans) a dashboard uses as well;
//! - [`dashboard`]: what `mailaudit serve` shows (grade trends,
//!   certificates expiring, open findings by age), from the indexes
//!   `index` and `latest` keep when a scan is recorded;
//! - [`diff`]: two scans compared (the `--baseline` logic), and regressions;
//! - [`prune`]: forgetting scans older than a duration.
//!
//! [`Report`]: crate::report::Report

pub mod dashboard;
pub mod diff;
pub(crate) mod index;
pub(crate) mod latest;
pub mod location;
pub mod packing;
pub mod prune;
pub mod read;
pub mod record;
pub mod store;

pub use location::Location;
pub use store::Store;

/// Why the history could not be used.
#[derive(Debug, thiserror::Error)]
pub enum HistoryError {
    #[error(
        "'{input}' is not a history location: {reason}; give a file path, sqlite://PATH or postgres://USER@HOST[:PORT]/DATABASE"
    )]
    BadLocation { input: String, reason: String },
    #[error(
        "cannot find the data directory for the default history: neither XDG_DATA_HOME nor HOME is set; give --history PATH"
    )]
    NoDataDirectory,
    #[error("cannot create the history file {path}: {error}")]
    Create { path: String, error: std::io::Error },
    #[error("cannot open the history {location}: {error}")]
    Connect {
        location: String,
        error: sqlx::Error,
    },
    #[error("cannot set up the tables of the history {location}: {error}")]
    Migrate {
        location: String,
        error: sqlx::migrate::MigrateError,
    },
    #[error("the history {location} failed while {what}: {error}")]
    Query {
        location: String,
        what: &'static str,
        error: sqlx::Error,
    },
    #[error("the history holds no scan {id}; `mailaudit history` lists the scans with their ids")]
    UnknownScan { id: i64 },
    #[error(
        "the history holds no report.json with SHA-256 {sha256}; `mailaudit history --format json` lists the hashes"
    )]
    UnknownDocument { sha256: String },
    #[error("the history holds a record it cannot read ({what}): {error}")]
    Damaged { what: String, error: String },
}

/// Microseconds since the Unix epoch, as the store keeps times.
pub(crate) fn micros(time: chrono::DateTime<chrono::Utc>) -> i64 {
    time.timestamp_micros()
}

/// The time a stored microsecond count stands for.
pub(crate) fn time_of(micros: i64) -> chrono::DateTime<chrono::Utc> {
    chrono::DateTime::from_timestamp_micros(micros).unwrap_or_default()
}
