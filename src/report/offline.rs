//! Reading a saved `report.json`, checking that this build understands its
//! `schema_version`. Judging it again is `rules::reevaluate`: the report
//! never calls the rules.

use super::Report;
use crate::evidence::SCHEMA_VERSION;
use std::path::{Path, PathBuf};

/// Why a saved report could not be read.
#[derive(Debug, thiserror::Error)]
pub enum ReadError {
    #[error("cannot read {}: {source}", path.display())]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error(
        "{} is not a mailaudit report: {source}; give the report.json that `mailaudit scan` wrote",
        path.display()
    )]
    Invalid {
        path: PathBuf,
        source: serde_json::Error,
    },
    #[error(
        "{} has no schema_version; give the report.json that `mailaudit scan` wrote",
        path.display()
    )]
    NoVersion { path: PathBuf },
    #[error(
        "{} has schema_version {found}, which this build does not read (it reads {readable}); use the mailaudit version that wrote it, or scan again",
        path.display()
    )]
    Version {
        path: PathBuf,
        found: String,
        readable: String,
    },
}

/// Reads a `report.json` written by `mailaudit scan`. Reports of the same
/// major schema version, up to this build's, are read; fields added later
/// take their defaults.
pub fn read(path: &Path) -> Result<Report, ReadError> {
    let text = std::fs::read_to_string(path).map_err(|source| ReadError::Io {
        path: path.to_path_buf(),
        source,
    })?;
    let invalid = |source| ReadError::Invalid {
        path: path.to_path_buf(),
        source,
    };
    let value: serde_json::Value = serde_json::from_str(&text).map_err(invalid)?;
    let found = value
        .get("schema_version")
        .and_then(|v| v.as_str())
        .ok_or_else(|| ReadError::NoVersion {
            path: path.to_path_buf(),
        })?;
    if !readable(found) {
        return Err(ReadError::Version {
            path: path.to_path_buf(),
            found: found.to_string(),
            readable: readable_range(),
        });
    }
    serde_json::from_value(value).map_err(invalid)
}

/// `major.minor[.patch]` as numbers.
fn parse_version(version: &str) -> Option<(u64, u64)> {
    let mut parts = version.split('.');
    let major = parts.next()?.parse().ok()?;
    let minor = parts.next()?.parse().ok()?;
    Some((major, minor))
}

/// Same major version and not newer than this build.
fn readable(found: &str) -> bool {
    match (parse_version(found), parse_version(SCHEMA_VERSION)) {
        (Some((major, minor)), Some((current_major, current_minor))) => {
            major == current_major && minor <= current_minor
        }
        _ => false,
    }
}

fn readable_range() -> String {
    let major = SCHEMA_VERSION.split('.').next().unwrap_or(SCHEMA_VERSION);
    format!("{major}.0 to {SCHEMA_VERSION}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_the_same_major_version_up_to_this_build() {
        assert!(readable(SCHEMA_VERSION));
        assert!(readable("1.0.0"));
        assert!(!readable("2.0.0"));
        assert!(!readable("1.99.0"));
        assert!(!readable("one"));
    }
}
