//! The report: one versioned model of a scan (settings, evidence, findings),
//! and one module per output format, each with one entry function.

pub mod appendix;
pub mod assessment;
pub mod baseline;
pub mod charts;
pub mod classes;
pub mod html;
pub mod json;
pub mod junit;
pub mod mailboxes;
pub mod markdown;
pub mod offline;
pub mod pdf;
mod rows;
pub mod sarif;
pub mod schema;
pub mod strings;
pub mod summary;
pub mod view;

use crate::Language;
use crate::evidence::{DomainEvidence, SCHEMA_VERSION};
use crate::finding::{Change, Finding, Severity, Status};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// Date of the legal and technical facts the rules rest on (legal-basis.md).
pub const LEGAL_SNAPSHOT: &str = "2026-11-26";

/// Everything a scan produced. Written as `report.json`; the other formats
/// are views of it.
#[derive(Debug, Clone, Serialize, Deserialize, schemars::JsonSchema)]
pub struct Report {
    pub schema_version: String,
    pub tool_version: String,
    pub rule_set_version: String,
    pub legal_snapshot: String,
    pub language: Language,
    pub started_at: DateTime<Utc>,
    pub finished_at: DateTime<Utc>,
    /// How the scan was run.
    pub settings: Settings,
    /// The audit profile the rules judged with (`--profile`): the report's
    /// assumptions. Defaults when none was given (`declared` is false).
    #[serde(default)]
    pub profile: crate::profile::AuditProfile,
    pub targets: Vec<Target>,
    pub findings: Vec<Finding>,
    /// What the rules concluded besides the findings (grade, expiring
    /// certificates, retention views): renderers show it and decide nothing.
    #[serde(default)]
    pub assessment: assessment::Assessment,
    /// The comparison with `--baseline`, when one was given.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub baseline: Option<Baseline>,
}

/// What changed since the baseline report (`--baseline PREVIOUS.json`).
/// Only failed findings are compared, by rule and subject.
#[derive(Debug, Clone, Serialize, Deserialize, schemars::JsonSchema)]
pub struct Baseline {
    /// When the baseline scan started.
    pub previous_started_at: DateTime<Utc>,
    /// Findings that failed in the baseline and no longer fail, as they
    /// were in the baseline.
    pub fixed: Vec<Finding>,
}

/// The settings a scan ran with (never secrets).
#[derive(Debug, Clone, Serialize, Deserialize, schemars::JsonSchema)]
pub struct Settings {
    pub resolver: String,
    pub timeout_seconds: f64,
    pub connect_timeout_seconds: f64,
    pub ca_files: Vec<String>,
    pub dnssec_anchors: Vec<String>,
    pub extra_hosts: Vec<String>,
    pub connections_per_address: usize,
}

/// One scanned domain.
#[derive(Debug, Clone, Serialize, Deserialize, schemars::JsonSchema)]
pub struct Target {
    pub domain: String,
    pub evidence: DomainEvidence,
}

/// Output formats.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Format {
    Html,
    Json,
    /// Markdown for a CI step summary or a pull-request comment.
    Markdown,
    /// JUnit XML, one test case per rule and subject.
    Junit,
    /// SARIF 2.1.0 for code-scanning dashboards.
    Sarif,
    /// PDF (feature `pdf`): PDF/A-3b with `report.json` attached by default.
    Pdf,
    /// JSON Lines, one line per domain, written by a batch scan as each domain finishes.
    Jsonl,
}

/// Settings that only some formats read.
#[derive(Debug, Clone, Copy, Default)]
pub struct RenderOptions {
    /// The standard `report.pdf` conforms to.
    pub pdf_standard: pdf::PdfStandard,
}

impl Format {
    /// The file name written into the output directory.
    pub fn file_name(self) -> &'static str {
        match self {
            Format::Html => "report.html",
            Format::Json => "report.json",
            Format::Markdown => "report.md",
            Format::Junit => "report.junit.xml",
            Format::Sarif => "report.sarif",
            Format::Pdf => "report.pdf",
            Format::Jsonl => "report.jsonl",
        }
    }

    /// Renders `report` in a text format; the PDF is bytes, see
    /// [`Format::render_bytes`].
    pub fn render(self, report: &Report) -> Result<String, RenderError> {
        match self {
            Format::Html => html::render(report),
            Format::Json => json::render(report),
            Format::Markdown => Ok(markdown::render(report)),
            Format::Junit => Ok(junit::render(report)),
            Format::Sarif => sarif::render(report),
            Format::Pdf => Err(RenderError::NotText),
            Format::Jsonl => Err(RenderError::Streamed),
        }
    }

    /// Renders `report` in this format as the bytes of its file. The PDF
    /// embeds `report.json` exactly as [`Format::Json`] writes it.
    pub fn render_bytes(
        self,
        report: &Report,
        options: &RenderOptions,
    ) -> Result<Vec<u8>, RenderError> {
        match self {
            Format::Pdf => pdf::render(report, &json::render(report)?, options.pdf_standard),
            text => text.render(report).map(String::into_bytes),
        }
    }

    /// Writes `report` in this format to `out`. `report.json` is streamed:
    /// a batch of a thousand domains is hundreds of megabytes of JSON, which
    /// need not be held as one string as well as the report.
    pub fn write_to(
        self,
        report: &Report,
        options: &RenderOptions,
        out: &mut dyn std::io::Write,
    ) -> Result<(), RenderError> {
        match self {
            Format::Json => json::write(report, out),
            other => out
                .write_all(&other.render_bytes(report, options)?)
                .map_err(RenderError::Write),
        }
    }
}

impl std::str::FromStr for Format {
    type Err = String;

    fn from_str(input: &str) -> Result<Self, Self::Err> {
        match input.trim().to_ascii_lowercase().as_str() {
            "html" => Ok(Format::Html),
            "json" => Ok(Format::Json),
            "md" | "markdown" => Ok(Format::Markdown),
            "junit" => Ok(Format::Junit),
            "sarif" => Ok(Format::Sarif),
            "pdf" => Ok(Format::Pdf),
            "jsonl" => Ok(Format::Jsonl),
            other => Err(format!(
                "unknown format '{other}'; use html, pdf, json, md, junit or sarif (and jsonl for scan)"
            )),
        }
    }
}

/// Why a report could not be rendered.
#[derive(Debug, thiserror::Error)]
pub enum RenderError {
    #[error("HTML template error: {0}")]
    Template(String),
    #[error("JSON serialisation failed: {0}")]
    Json(#[from] serde_json::Error),
    #[error("PDF rendering failed: {0}")]
    Pdf(String),
    #[error(
        "this mailaudit was built without the `pdf` feature; rebuild it with the feature (on by default: cargo build --release, without --no-default-features)"
    )]
    PdfNotBuilt,
    #[error("the PDF is binary; render it with Format::render_bytes")]
    NotText,
    #[error("JSON Lines are written by a batch scan as each domain finishes, not from a report")]
    Streamed,
    #[error("cannot write the report: {0}")]
    Write(#[from] std::io::Error),
}

impl Report {
    /// Failed findings per severity.
    pub fn failures_by_severity(&self) -> BTreeMap<Severity, usize> {
        let mut counts = BTreeMap::new();
        for finding in self.findings.iter().filter(|f| f.status == Status::Fail) {
            *counts.entry(finding.severity).or_insert(0) += 1;
        }
        counts
    }

    /// "Results: N failed, N inconclusive, N passed" in the report language,
    /// and how many failures the profile accepts, if any.
    pub fn status_line(&self) -> String {
        let label = |key: &str| strings::get(self.language, key);
        let mut line = format!(
            "{}: {} {}, {} {}, {} {}",
            label("status_counts"),
            self.count(Status::Fail),
            label("status_fail"),
            self.count(Status::Inconclusive),
            label("status_inconclusive"),
            self.count(Status::Pass),
            label("status_pass"),
        );
        let accepted = self
            .findings
            .iter()
            .filter(|f| f.accepted.is_some())
            .count();
        if accepted > 0 {
            line.push_str(&format!(" ({accepted} {})", label("status_accepted")));
        }
        line
    }

    /// Findings per status.
    pub fn count(&self, status: Status) -> usize {
        self.findings.iter().filter(|f| f.status == status).count()
    }

    /// True when some failed finding is at or above `threshold`.
    pub fn fails_at(&self, threshold: Severity) -> bool {
        self.findings
            .iter()
            .any(|f| f.status == Status::Fail && f.severity >= threshold && f.accepted.is_none())
    }

    /// Failed findings with this change against the baseline.
    pub fn count_change(&self, change: Change) -> usize {
        self.findings
            .iter()
            .filter(|f| f.change == Some(change))
            .count()
    }

    /// Findings fixed since the baseline (0 without one).
    pub fn count_fixed(&self) -> usize {
        self.baseline.as_ref().map_or(0, |b| b.fixed.len())
    }

    /// Failed findings, most severe first.
    pub fn worst(&self) -> Vec<&Finding> {
        let mut failed: Vec<&Finding> = self
            .findings
            .iter()
            .filter(|f| f.status == Status::Fail)
            .collect();
        failed.sort_by(|a, b| {
            b.severity
                .cmp(&a.severity)
                .then(a.rule.cmp(&b.rule))
                .then(a.subject.cmp(&b.subject))
        });
        failed
    }

    /// True when no target got any DNS answer and no endpoint answered: the
    /// scan could not run at all (exit code 3).
    pub fn could_not_run(&self) -> bool {
        !self.targets.is_empty()
            && self.targets.iter().all(|t| {
                let dns = &t.evidence.dns;
                let no_answer = !dns.mx.is_completed() && !dns.addresses.is_completed();
                let nonexistent = dns.mx.value().is_some_and(|mx| mx.nxdomain);
                let nothing_open = t.evidence.endpoints.iter().all(|e| {
                    e.tcp
                        .value()
                        .is_none_or(|tcp| tcp.state != crate::evidence::PortState::Open)
                });
                (no_answer || nonexistent) && nothing_open
            })
    }

    /// Schema version this build writes.
    pub fn current_schema() -> &'static str {
        SCHEMA_VERSION
    }
}
