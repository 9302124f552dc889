//! The short terminal summary printed when a scan finishes: findings by
//! severity, the worst items, and where the report went; after a batch,
//! also a table of failed checks per domain.

use super::Report;
use super::strings;
use crate::finding::{Severity, Status};
use std::fmt::Write;

/// How many failed findings the summary lists.
const WORST_SHOWN: usize = 8;

/// How many domains the batch table lists.
const DOMAINS_SHOWN: usize = 20;

/// Domains named in the header line; more are counted.
const DOMAINS_NAMED: usize = 5;

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
    let named = if domains.len() > DOMAINS_NAMED {
        format!("{} domains", domains.len())
    } else {
        domains.join(", ")
    };
    let _ = writeln!(
        out,
        "mailaudit {} · {named} · {endpoints} endpoints · {seconds:.1} s",
        report.tool_version,
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

/// The batch table: failed checks per domain by severity, the domains with
/// the most severe failures first. A finding counts for a domain when its
/// subject is the domain (`dns:DOMAIN`) or one of its endpoints, so an
/// endpoint several domains share counts for each of them.
pub fn domain_table(report: &Report) -> String {
    let label = |key: &str| strings::get(report.language, key);
    let mut rows: Vec<(Vec<usize>, &str)> = report
        .targets
        .iter()
        .map(|target| {
            let dns = format!("dns:{}", target.domain);
            let subjects: std::collections::HashSet<&str> = target
                .evidence
                .endpoints
                .iter()
                .map(|e| e.subject.as_str())
                .chain([dns.as_str()])
                .collect();
            let counts = Severity::DESCENDING
                .iter()
                .map(|severity| {
                    report
                        .findings
                        .iter()
                        .filter(|f| {
                            f.status == Status::Fail
                                && f.severity == *severity
                                && subjects.contains(f.subject.as_str())
                        })
                        .count()
                })
                .collect();
            (counts, target.domain.as_str())
        })
        .collect();
    rows.sort_by(|a, b| b.0.cmp(&a.0).then(a.1.cmp(b.1)));
    let width = rows.iter().map(|r| r.1.len()).max().unwrap_or(6).max(6);
    let mut out = String::new();
    let _ = writeln!(out, "{}:", label("failed_per_domain"));
    let headers: Vec<String> = Severity::DESCENDING
        .iter()
        .map(|s| format!("{:>9}", label(&format!("severity_{s}"))))
        .collect();
    let _ = writeln!(out, "  {:<width$} {}", "Domain", headers.join(""));
    for (counts, domain) in rows.iter().take(DOMAINS_SHOWN) {
        let cells: Vec<String> = counts.iter().map(|c| format!("{c:>9}")).collect();
        let _ = writeln!(out, "  {domain:<width$} {}", cells.join(""));
    }
    if rows.len() > DOMAINS_SHOWN {
        let _ = writeln!(out, "  … +{}", rows.len() - DOMAINS_SHOWN);
    }
    out
}
