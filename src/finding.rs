//! Findings: one rule evaluated against one subject.

use serde::{Deserialize, Serialize};
use std::fmt;

/// The areas findings are grouped by, in report order (a rule file's
/// `area`).
pub const AREAS: [&str; 8] = [
    "dns",
    "transport",
    "certificates",
    "access",
    "location",
    "e2e",
    "retention",
    "governance",
];

/// The outcome of a rule for a subject (rule-catalogue.md).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    /// The rule's condition holds.
    Fail,
    /// The evidence is there and shows no problem.
    Pass,
    /// The evidence is missing; never counted as a pass.
    Inconclusive,
    /// The rule does not apply to this subject.
    NotApplicable,
}

/// Severity, ordered from least to most severe.
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    Hash,
    PartialOrd,
    Ord,
    Serialize,
    Deserialize,
    schemars::JsonSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum Severity {
    Info,
    Low,
    Medium,
    High,
    Critical,
}

impl Severity {
    /// All severities, most severe first.
    pub const DESCENDING: [Severity; 5] = [
        Severity::Critical,
        Severity::High,
        Severity::Medium,
        Severity::Low,
        Severity::Info,
    ];

    /// The lower-case name.
    pub fn name(self) -> &'static str {
        match self {
            Severity::Info => "info",
            Severity::Low => "low",
            Severity::Medium => "medium",
            Severity::High => "high",
            Severity::Critical => "critical",
        }
    }
}

impl fmt::Display for Severity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl std::str::FromStr for Severity {
    type Err = String;

    fn from_str(input: &str) -> Result<Self, Self::Err> {
        Severity::DESCENDING
            .into_iter()
            .find(|s| s.name() == input.to_ascii_lowercase())
            .ok_or_else(|| {
                format!("unknown severity '{input}'; use critical, high, medium, low or info")
            })
    }
}

impl fmt::Display for Status {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Status::Fail => "fail",
            Status::Pass => "pass",
            Status::Inconclusive => "inconclusive",
            Status::NotApplicable => "not_applicable",
        })
    }
}

/// One rule evaluated against one subject.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct Finding {
    /// Catalogue ID, e.g. `TLS-001`.
    pub rule: String,
    /// `dns:DOMAIN`, `HOST:PORT`, `mailbox:USER@HOST` or `mailbox:USER@HOST/FOLDER`.
    pub subject: String,
    pub status: Status,
    pub severity: Severity,
    /// The area the rule belongs to, e.g. `transport`.
    pub area: String,
    pub title: String,
    /// What was seen, or why the evidence is missing.
    pub detail: String,
    /// The references as labels with their pinpoints, e.g. `DSGVO Art. 32
    /// Abs. 1 lit. b`; the full sources are in `citations`.
    pub references: Vec<String>,
    /// The references resolved from `rules/references/references.toml`:
    /// title, edition, pinpoint and official URL, so that every statement
    /// can be traced to a paragraph of a dated source (Art. 5(2) DSGVO).
    /// Empty in reports written before schema 1.4.
    #[serde(default)]
    pub citations: Vec<Citation>,
    pub remediation: String,
    /// Against `--baseline`: whether this failed finding is new or was
    /// already there. Absent without a baseline and on findings that did
    /// not fail.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub change: Option<Change>,
    /// A failure the audit profile accepts until a date, with the reason:
    /// it stays in the report but does not fail the build (`--fail-on`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub accepted: Option<Acceptance>,
}

/// Why and until when a failure is accepted (`[[accepted]]` in the profile).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct Acceptance {
    pub reason: String,
    /// The last day the acceptance holds.
    pub until: chrono::NaiveDate,
}

/// How a failed finding compares with the baseline report (`--baseline`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum Change {
    /// It did not fail in the baseline.
    New,
    /// It failed in the baseline too.
    Unchanged,
}

/// A work cited by findings: a law, a guideline edition, an RFC, as the
/// references catalogue describes it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct Work {
    pub id: String,
    /// How a label names it: `DSGVO`, `BSI TR-02102-2 (2026-01)`, `RFC 8314`.
    pub short: String,
    pub title: String,
    pub edition: String,
    pub url: String,
}

/// One reference of a finding, resolved from the references catalogue
/// (`rules/references/references.toml`). Renderers format it; they never
/// look anything up.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize, schemars::JsonSchema)]
pub struct Citation {
    /// The catalogue entry cited, e.g. `dsgvo-art-32`.
    pub id: String,
    /// The work the entry belongs to, e.g. `dsgvo`.
    pub work: String,
    /// Short form with pinpoint, e.g. `DSGVO Art. 32 Abs. 1 lit. b`.
    pub label: String,
    /// The work's full title.
    pub title: String,
    /// The edition or version date the rule applies.
    pub edition: String,
    /// Section, article, paragraph, chapter or table within the work,
    /// e.g. `Art. 32 Abs. 1 lit. b` or `Abschn. 3.3.1`.
    pub pinpoint: String,
    /// The official URL of the section where one exists, else of the work.
    pub url: String,
}
