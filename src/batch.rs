//! Batch scans of many domains: the targets file (`--targets`), the
//! deterministic slice of one shard (`--shard I/N`) and the JSON Lines stream
//! (`--format jsonl`, `--resume`, `mailaudit merge`), one line per domain.
//!
//! A line holds the domain's evidence, so a report of many lines can be
//! judged again offline, exactly like a `report.json`: `merge` rebuilds the
//! report of an unsharded run from its shards without touching the network.

use crate::Language;
use crate::evidence::{DomainEvidence, SCHEMA_VERSION};
use crate::finding::Finding;
use crate::report::{LEGAL_SNAPSHOT, Report, Settings, Target};
use crate::rules::RULE_SET_VERSION;
use crate::target::parse_domain;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

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

/// Parses a targets file: one domain per line, `#` starts a comment, blank
/// lines are ignored, duplicates dropped (first occurrence kept). Every bad
/// line is reported as `SOURCE:LINE`.
pub fn parse_targets(text: &str, source_name: &str) -> Result<Vec<String>, BatchError> {
    let mut domains = Vec::new();
    let mut seen = BTreeSet::new();
    let mut bad = Vec::new();
    for (index, raw) in text.lines().enumerate() {
        let line = raw.split('#').next().unwrap_or("").trim();
        if line.is_empty() {
            continue;
        }
        match parse_domain(line) {
            Ok(domain) => {
                if seen.insert(domain.clone()) {
                    domains.push(domain);
                }
            }
            Err(error) => bad.push(format!("{source_name}:{}: '{line}': {error}", index + 1)),
        }
    }
    if bad.is_empty() {
        Ok(domains)
    } else {
        Err(BatchError::BadTargets {
            count: bad.len(),
            lines: bad,
        })
    }
}

/// Reads a targets file, `-` meaning stdin.
pub fn read_targets(path: &str) -> Result<Vec<String>, BatchError> {
    let (text, name) = if path == "-" {
        let mut text = String::new();
        std::io::Read::read_to_string(&mut std::io::stdin(), &mut text).map_err(|error| {
            BatchError::Io {
                source_name: "stdin".into(),
                error,
            }
        })?;
        (text, "stdin".to_string())
    } else {
        let text = std::fs::read_to_string(path).map_err(|error| BatchError::Io {
            source_name: path.to_string(),
            error,
        })?;
        (text, path.to_string())
    };
    parse_targets(&text, &name)
}

/// One shard of N (`--shard I/N`, I counted from 1).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Shard {
    /// 1-based.
    pub index: u64,
    pub count: u64,
}

impl std::str::FromStr for Shard {
    type Err = BatchError;

    fn from_str(input: &str) -> Result<Self, Self::Err> {
        let bad = || BatchError::Shard(input.to_string());
        let (index, count) = input.trim().split_once('/').ok_or_else(bad)?;
        let index: u64 = index.trim().parse().map_err(|_| bad())?;
        let count: u64 = count.trim().parse().map_err(|_| bad())?;
        if count == 0 || index == 0 || index > count {
            return Err(bad());
        }
        Ok(Shard { index, count })
    }
}

impl Shard {
    /// True when `domain` belongs to this shard: the first 8 bytes of the
    /// SHA-256 of the lower-case name, modulo N. Stable across builds,
    /// platforms and target order, so every domain is in exactly one shard.
    pub fn contains(&self, domain: &str) -> bool {
        shard_of(domain, self.count) == self.index
    }
}

/// The 1-based shard of `domain` among `count`.
pub fn shard_of(domain: &str, count: u64) -> u64 {
    let digest = Sha256::digest(domain.to_ascii_lowercase().as_bytes());
    let mut first = [0u8; 8];
    first.copy_from_slice(&digest[..8]);
    u64::from_be_bytes(first) % count.max(1) + 1
}

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
    let text = match std::fs::read_to_string(path) {
        Ok(text) => text,
        Err(error) if missing_ok && error.kind() == std::io::ErrorKind::NotFound => String::new(),
        Err(error) => {
            return Err(BatchError::Io {
                source_name: path.display().to_string(),
                error,
            });
        }
    };
    let mut lines = Vec::new();
    for (index, raw) in text.lines().enumerate() {
        if raw.trim().is_empty() {
            continue;
        }
        let bad = |error| BatchError::BadLine {
            path: path.to_path_buf(),
            line: index + 1,
            error,
        };
        let value: serde_json::Value = serde_json::from_str(raw).map_err(bad)?;
        let found = value
            .get("schema_version")
            .and_then(|v| v.as_str())
            .unwrap_or("none");
        if found.split('.').next() != SCHEMA_VERSION.split('.').next() {
            return Err(BatchError::Version {
                path: path.to_path_buf(),
                line: index + 1,
                found: found.to_string(),
            });
        }
        lines.push(serde_json::from_value(value).map_err(bad)?);
    }
    Ok(lines)
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn targets_drop_comments_blanks_and_duplicates() {
        let text = "# providers\nexample.org\n\n  Example.ORG  # again\nexample.net\n";
        let domains = parse_targets(text, "t.txt").expect("valid");
        assert_eq!(domains, ["example.org", "example.net"]);
    }

    #[test]
    fn bad_target_lines_name_file_and_line() {
        let error = parse_targets("ok.example\nnot a domain\n", "t.txt").unwrap_err();
        assert!(error.to_string().contains("t.txt:2"), "{error}");
    }

    #[test]
    fn shards_partition_the_targets() {
        let domains: Vec<String> = (0..200).map(|i| format!("d{i}.example")).collect();
        for count in 1..6 {
            for domain in &domains {
                let owners = (1..=count)
                    .filter(|&index| Shard { index, count }.contains(domain))
                    .count();
                assert_eq!(owners, 1);
            }
        }
        assert!("0/2".parse::<Shard>().is_err());
        assert!("3/2".parse::<Shard>().is_err());
        assert_eq!(
            "2/4".parse::<Shard>().ok(),
            Some(Shard { index: 2, count: 4 })
        );
    }
}
