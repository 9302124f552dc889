//! The audit history of a domain as a fact (GOV-001): when it was last
//! scanned before this scan, according to the history store
//! (`--history`). The store is read by the command layer before the rules
//! run and the answer is written here, so the rules stay pure functions of
//! the saved evidence and a saved report is judged again the same way
//! without the database.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::Attempt;

/// What the history store holds about one domain before this scan.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct AuditHistoryEvidence {
    /// When the most recent earlier scan of the domain on record started;
    /// `null` when the store holds no earlier scan of it (never scanned).
    pub previous_scan: Option<DateTime<Utc>>,
    /// How many earlier scans of the domain the store holds.
    pub scans_on_record: u64,
}

/// The attempt a scan without a history store records: GOV-001 is then
/// inconclusive, never passed.
pub fn history_not_consulted() -> Attempt<AuditHistoryEvidence> {
    Attempt::skipped(
        "no scan history was consulted (give --history, or set MAILAUDIT_HISTORY, to judge whether audits are regular)",
    )
}
