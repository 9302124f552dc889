//! The short terminal summary printed when a scan finishes: findings by
//! severity, the worst items, and where the report went.

use super::Report;
use super::strings;
use crate::finding::Severity;
use std::fmt::Write;

/// How many failed findings the summary lists.
const WORST_SHOWN: usize = 8;

/// Renders the summary; `written` lists the files written (or `-`).
pub fn render(report: &Report, written: &[String]) -> String {
    let language = report.language;
    let label = |key: &str| strings::get(language, key);
    let mut out = String::new();
    let domains: Vec<&str> = report.targets.iter().map(|t| t.domain.as_str()).collect();
    let endpoints: usize = report
        .targets
        .iter()
        .map(|t| t.evidence.endpoints.len())
        .sum();
    let seconds = (report.finished_at - report.started_at).num_milliseconds() as f64 / 1000.0;
    let _ = writeln!(
        out,
        "mailaudit {} · {} · {endpoints} endpoints · {seconds:.1} s",
        report.tool_version,
        domains.join(", ")
    );
    let failures = report.failures_by_severity();
    let counts: Vec<String> = Severity::DESCENDING
        .iter()
        .map(|s| {
            format!(
                "{} {}",
                failures.get(s).copied().unwrap_or(0),
                label(&format!("severity_{s}"))
            )
        })
        .collect();
    let _ = writeln!(
        out,
        "{}: {}",
        label("failed_by_severity"),
        counts.join(", ")
    );
    let _ = writeln!(out, "{}", report.status_line());
    let worst = report.worst();
    if worst.is_empty() {
        let _ = writeln!(out, "{}", label("no_failures"));
    } else {
        let _ = writeln!(out, "{}:", label("worst"));
        for finding in worst.iter().take(WORST_SHOWN) {
            let _ = writeln!(
                out,
                "  {:<9} {}  {:<24} {}",
                label(&format!("severity_{}", finding.severity)).to_uppercase(),
                finding.rule,
                finding.subject,
                finding.title
            );
        }
        if worst.len() > WORST_SHOWN {
            let _ = writeln!(out, "  … +{}", worst.len() - WORST_SHOWN);
        }
    }
    if let Some(line) = super::baseline::summary_line(report) {
        let _ = writeln!(out, "{line}");
    }
    if !written.is_empty() {
        let _ = writeln!(out, "{}: {}", label("report_written"), written.join(", "));
    }
    out
}
