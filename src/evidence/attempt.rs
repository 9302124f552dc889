//! Whether a probe ran is separate from what it found (the sslyze model).
//!
//! Every probe result is an [`Attempt`]: completed with a value, failed with a
//! reason, or skipped with a reason. Rules that need a value from an attempt
//! that did not complete yield `inconclusive` and quote the reason.

use serde::{Deserialize, Serialize};

/// How a probe attempt ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum AttemptStatus {
    Completed,
    Failed,
    Skipped,
}

/// The outcome of one probe step.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(bound(deserialize = "T: Deserialize<'de>"))]
#[schemars(rename = "Attempt_for_{T}")]
pub struct Attempt<T> {
    pub status: AttemptStatus,
    /// Why the attempt failed or was skipped. Absent when completed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    /// What was found. Present only when completed.
    // `deserialize_with`: a completed attempt whose value is itself an absent
    // Option is written as `"value": null` and must read back as
    // `Some(None)`, not `None`, or a re-evaluation of saved evidence would
    // see the value as missing (found by `mailaudit report` on DNS-011).
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "present"
    )]
    #[schemars(with = "Option<T>")]
    pub value: Option<T>,
    /// Wall time of the step in milliseconds, when it was run.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub duration_ms: Option<u64>,
}

/// A `value` key that is present holds a `T`, even when it is `null`.
fn present<'de, D, T>(deserializer: D) -> Result<Option<T>, D::Error>
where
    D: serde::Deserializer<'de>,
    T: Deserialize<'de>,
{
    T::deserialize(deserializer).map(Some)
}

impl<T> Attempt<T> {
    /// A completed attempt.
    pub fn completed(value: T) -> Self {
        Attempt {
            status: AttemptStatus::Completed,
            reason: None,
            value: Some(value),
            duration_ms: None,
        }
    }

    /// An attempt that ran and failed.
    pub fn failed(reason: impl Into<String>) -> Self {
        Attempt {
            status: AttemptStatus::Failed,
            reason: Some(reason.into()),
            value: None,
            duration_ms: None,
        }
    }

    /// An attempt that was not run.
    pub fn skipped(reason: impl Into<String>) -> Self {
        Attempt {
            status: AttemptStatus::Skipped,
            reason: Some(reason.into()),
            value: None,
            duration_ms: None,
        }
    }

    /// Records how long the step took.
    pub fn timed(mut self, started: std::time::Instant) -> Self {
        self.duration_ms = Some(started.elapsed().as_millis() as u64);
        self
    }

    /// The value, if the attempt completed.
    pub fn value(&self) -> Option<&T> {
        self.value.as_ref()
    }

    /// True when the attempt completed.
    pub fn is_completed(&self) -> bool {
        self.status == AttemptStatus::Completed
    }
}

impl<T, E: std::fmt::Display> From<Result<T, E>> for Attempt<T> {
    fn from(result: Result<T, E>) -> Self {
        match result {
            Ok(value) => Attempt::completed(value),
            Err(error) => Attempt::failed(error.to_string()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_completed_attempt_with_an_absent_value_reads_back_as_completed_none() {
        // Given a CNAME look-up that completed and found no alias
        let attempt: Attempt<Option<String>> = Attempt::completed(None);
        let json = serde_json::to_string(&attempt).unwrap();
        assert!(json.contains("\"value\":null"), "{json}");
        // Then saved evidence reads back the same, and re-serialises the same
        let back: Attempt<Option<String>> = serde_json::from_str(&json).unwrap();
        assert_eq!(back, attempt);
        let skipped: Attempt<String> =
            serde_json::from_str(r#"{"status":"skipped","reason":"r"}"#).unwrap();
        assert_eq!(skipped.value, None);
    }
}
