//! The JSON Lines stream (`--format jsonl`, `--resume`, `mailaudit merge`):
//! one line per finished domain, holding its evidence and its findings.
//!
//! A line holds the domain's evidence, so a file of many lines can be judged
//! again offline, exactly like a `report.json`: `merge` rebuilds the report
//! of an unsharded run from its shards without touching the network.

use super::BatchError;
use crate::Language;
use crate::evidence::{DomainEvidence, SCHEMA_VERSION};
use crate::finding::Finding;
use crate::report::{LEGAL_SNAPSHOT, Report, Settings, Target};
use crate::rules::RULE_SET_VERSION;
use chrono::{DateTime, Utc};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::fs::File;
use std::io::{BufRead, BufReader, Read, Seek, SeekFrom};
use std::marker::PhantomData;
use std::path::{Path, PathBuf};

/// One line of the JSON Lines stream: one finished domain.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct DomainLine {
    pub schema_version: String,
    pub tool_version: String,
    pub domain: String,
    pub language: Language,
    /// When the run that scanned this domain started; rules judge by it.
    pub started_at: DateTime<Utc>,
    pub finished_at: DateTime<Utc>,
    pub settings: Settings,
    pub evidence: DomainEvidence,
    /// The domain's findings, judged on this domain's evidence alone.
    pub findings: Vec<Finding>,
}

impl DomainLine {
    /// The line as written: compact JSON and a newline.
    pub fn to_line(&self) -> Result<String, serde_json::Error> {
        let mut text = serde_json::to_string(self)?;
        text.push('\n');
        Ok(text)
    }
}

/// Reads a JSONL file. A missing file reads as empty when `missing_ok`
/// (a `--resume` file that a first run creates).
pub fn read_lines(path: &Path, missing_ok: bool) -> Result<Vec<DomainLine>, BatchError> {
    LineReader::<DomainLine>::open(path, missing_ok)?
        .map(|read| read.map(|(_, line)| line))
        .collect()
}

/// Where a line starts in its file and how many bytes it has (without the
/// newline): enough to read it again later.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Span {
    pub offset: u64,
    pub len: u64,
}

/// The lines of a JSONL file one at a time, each with its [`Span`], read as
/// `T` (a [`DomainLine`], or the part of one a caller needs); blank lines
/// are skipped. Only one line is held at a time.
pub struct LineReader<T = DomainLine> {
    reader: Option<BufReader<File>>,
    path: PathBuf,
    offset: u64,
    number: usize,
    buffer: String,
    parsed: PhantomData<fn() -> T>,
}

impl<T: DeserializeOwned> LineReader<T> {
    /// Opens `path`; a missing file reads as empty when `missing_ok`.
    pub fn open(path: &Path, missing_ok: bool) -> Result<LineReader<T>, BatchError> {
        let reader = match File::open(path) {
            Ok(file) => Some(BufReader::with_capacity(1 << 16, file)),
            Err(error) if missing_ok && error.kind() == std::io::ErrorKind::NotFound => None,
            Err(error) => return Err(io_error(path, error)),
        };
        Ok(LineReader {
            reader,
            path: path.to_path_buf(),
            offset: 0,
            number: 0,
            buffer: String::new(),
            parsed: PhantomData,
        })
    }
}

impl<T: DeserializeOwned> Iterator for LineReader<T> {
    type Item = Result<(Span, T), BatchError>;

    fn next(&mut self) -> Option<Self::Item> {
        let reader = self.reader.as_mut()?;
        loop {
            self.buffer.clear();
            let read = match reader.read_line(&mut self.buffer) {
                Ok(0) => return None,
                Ok(read) => read as u64,
                Err(error) => {
                    self.reader = None;
                    return Some(Err(io_error(&self.path, error)));
                }
            };
            self.number += 1;
            let span = Span {
                offset: self.offset,
                len: self.buffer.trim_end_matches(['\n', '\r']).len() as u64,
            };
            self.offset += read;
            if self.buffer.trim().is_empty() {
                continue;
            }
            let parsed = parse_line(&self.buffer, &self.path, self.number);
            if parsed.is_err() {
                self.reader = None;
            }
            return Some(parsed.map(|line| (span, line)));
        }
    }
}

/// Reads the line at `span` of `file` again, as `T` (a part of a
/// [`DomainLine`]); its version was checked when it was first read.
pub fn read_at_as<T: serde::de::DeserializeOwned>(
    file: &mut File,
    path: &Path,
    span: Span,
) -> Result<T, BatchError> {
    let mut bytes = vec![0; span.len as usize];
    file.seek(SeekFrom::Start(span.offset))
        .and_then(|_| file.read_exact(&mut bytes))
        .map_err(|error| io_error(path, error))?;
    serde_json::from_slice(&bytes).map_err(|error| BatchError::BadLine {
        path: path.to_path_buf(),
        line: 0,
        error,
    })
}

fn io_error(path: &Path, error: std::io::Error) -> BatchError {
    BatchError::Io {
        source_name: path.display().to_string(),
        error,
    }
}

/// A line read for its version only (the rest is skipped unparsed).
#[derive(Deserialize)]
struct VersionOnly {
    schema_version: Option<serde_json::Value>,
}

/// Parses one line, refusing a schema major version this build does not read.
fn parse_line<T: DeserializeOwned>(raw: &str, path: &Path, number: usize) -> Result<T, BatchError> {
    let bad = |error| BatchError::BadLine {
        path: path.to_path_buf(),
        line: number,
        error,
    };
    let version: VersionOnly = serde_json::from_str(raw).map_err(bad)?;
    let found = version
        .schema_version
        .as_ref()
        .and_then(|v| v.as_str())
        .unwrap_or("none");
    if found.split('.').next() != SCHEMA_VERSION.split('.').next() {
        return Err(BatchError::Version {
            path: path.to_path_buf(),
            line: number,
            found: found.to_string(),
        });
    }
    serde_json::from_str(raw).map_err(bad)
}

/// Builds the report of all `lines` (one per domain, first one wins), with
/// no findings yet: judge it with [`crate::rules::reevaluate`].
/// Domains are sorted by name, as a batch scan orders them; the report's
/// start is the earliest line's, so rules judge by the first shard's time.
pub fn assemble(lines: Vec<DomainLine>) -> Option<Report> {
    let first = lines.first()?.clone();
    let started_at = lines.iter().map(|l| l.started_at).min()?;
    let finished_at = lines.iter().map(|l| l.finished_at).max()?;
    let mut targets: BTreeMap<String, Target> = BTreeMap::new();
    for line in lines {
        targets.entry(line.domain.clone()).or_insert(Target {
            domain: line.domain,
            evidence: line.evidence,
        });
    }
    Some(Report {
        schema_version: SCHEMA_VERSION.to_string(),
        tool_version: first.tool_version,
        rule_set_version: RULE_SET_VERSION.to_string(),
        legal_snapshot: LEGAL_SNAPSHOT.to_string(),
        language: first.language,
        started_at,
        finished_at,
        settings: first.settings,
        profile: Default::default(),
        targets: targets.into_values().collect(),
        findings: Vec::new(),
        assessment: Default::default(),
        baseline: None,
    })
}
