//! The text of `mailaudit history diff`: the two scans, then the findings
//! new and fixed (rule, subject, severity; unchanged ones counted), the
//! regressions `--fail-on-regression` fails on first.

use crate::finding::Finding;
use crate::history::diff::ScanDiff;
use std::fmt::Write as _;

/// The diff as text for a terminal.
pub fn render(diff: &ScanDiff) -> String {
    let mut out = String::new();
    let scan = |s: &crate::history::read::ScanSummary| {
        format!(
            "scan {} of {} (grade {})",
            s.id,
            s.started_at.format("%Y-%m-%d %H:%M UTC"),
            s.grade.as_deref().unwrap_or("-")
        )
    };
    let _ = writeln!(out, "From {} to {}:", scan(&diff.from), scan(&diff.to));
    let _ = writeln!(
        out,
        "  {} new, {} fixed, {} unchanged failed findings",
        diff.new.len(),
        diff.fixed.len(),
        diff.unchanged.len()
    );
    if !diff.returned.is_empty() || !diff.grade_drops.is_empty() {
        let _ = writeln!(out, "Regressions:");
        for finding in &diff.returned {
            let _ = writeln!(out, "  fixed before, failing again: {}", line(finding));
        }
        for drop in &diff.grade_drops {
            let _ = writeln!(
                out,
                "  grade dropped ({}): {} → {}",
                drop.scope, drop.from, drop.to
            );
        }
    }
    // Unchanged findings are only counted: `--format json` lists them.
    for (title, findings) in [("New", &diff.new), ("Fixed", &diff.fixed)] {
        if findings.is_empty() {
            continue;
        }
        let _ = writeln!(out, "{title}:");
        for finding in findings {
            let _ = writeln!(out, "  {}", line(finding));
        }
    }
    out
}

fn line(finding: &Finding) -> String {
    format!(
        "{} {} [{}] {}",
        finding.rule, finding.subject, finding.severity, finding.title
    )
}
