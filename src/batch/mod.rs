//! Batch scans of many domains, in one place: the targets and shards
//! ([`targets`]), the JSON Lines stream of finished domains ([`line`],
//! [`stream`]), the scan loop that runs domains side by side ([`run`]), the
//! findings of the domains it keeps ([`judged`]), and `report.json`
//! assembled by streaming from the JSON Lines ([`streamed`]).
//!
//! A batch with a JSONL file and no format but `json` keeps no finished
//! domain in memory: each line is written as its domain finishes, and
//! `report.json` is read back from the file afterwards, so the domains'
//! evidence and findings do not add up in memory (the run's DNS answer
//! cache in `probe/dns.rs` still grows with the domains).

pub mod judged;
pub mod line;
pub mod run;
pub mod stream;
pub mod streamed;
pub mod targets;

pub use line::{DomainLine, assemble, read_lines};
pub use run::{Batch, BatchOutcome, run_batch};
pub use targets::{Shard, parse_targets, read_targets, shard_of};

use crate::evidence::SCHEMA_VERSION;
use std::path::PathBuf;

/// Why a targets file, a `--shard` value or a JSONL file was refused.
#[derive(Debug, thiserror::Error)]
pub enum BatchError {
    #[error("cannot read {source_name}: {error}")]
    Io {
        source_name: String,
        error: std::io::Error,
    },
    #[error(
        "{count} bad line(s) in the targets file; give one domain per line (e.g. example.org), `#` starts a comment:\n  {}",
        lines.join("\n  ")
    )]
    BadTargets { count: usize, lines: Vec<String> },
    #[error(
        "--shard '{0}' is not I/N with 1 <= I <= N (shards count from 1), e.g. --shard 2/4 for the second of four"
    )]
    Shard(String),
    #[error(
        "{}:{line} is not a mailaudit JSON Lines record: {error}; give a file written by `mailaudit scan --format jsonl`",
        path.display()
    )]
    BadLine {
        path: PathBuf,
        line: usize,
        error: serde_json::Error,
    },
    #[error(
        "{}:{line} has schema_version {found}, which this build does not read (it writes {SCHEMA_VERSION}); use the mailaudit version that wrote it, or scan again",
        path.display()
    )]
    Version {
        path: PathBuf,
        line: usize,
        found: String,
    },
}
