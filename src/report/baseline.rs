//! `--baseline PREVIOUS.json`: compares the failed findings of this report
//! with those of an earlier one, by rule and subject, so CI can tell what is
//! new, what is unchanged and what was fixed since the last scan.
//!
//! Only failed findings are compared: a pass or an inconclusive result is not
//! something to fix. A finding whose subject disappeared (an endpoint that no
//! longer exists) counts as fixed, as it no longer fails.

use super::{Baseline, Report, strings};
use crate::finding::{Change, Status};
use std::collections::HashSet;

/// Marks every failed finding of `report` as new or unchanged against
/// `previous`, and lists the findings that failed there and no longer fail.
pub fn compare(report: &mut Report, previous: &Report) {
    let failed_before: HashSet<(&str, &str)> = previous
        .findings
        .iter()
        .filter(|f| f.status == Status::Fail)
        .map(|f| (f.rule.as_str(), f.subject.as_str()))
        .collect();
    let mut failed_now = HashSet::new();
    for finding in &mut report.findings {
        finding.change = (finding.status == Status::Fail).then(|| {
            failed_now.insert((finding.rule.clone(), finding.subject.clone()));
            if failed_before.contains(&(finding.rule.as_str(), finding.subject.as_str())) {
                Change::Unchanged
            } else {
                Change::New
            }
        });
    }
    let fixed = previous
        .findings
        .iter()
        .filter(|f| {
            f.status == Status::Fail && !failed_now.contains(&(f.rule.clone(), f.subject.clone()))
        })
        .map(|f| {
            let mut fixed = f.clone();
            fixed.change = None;
            fixed
        })
        .collect();
    report.baseline = Some(Baseline {
        previous_started_at: previous.started_at,
        fixed,
    });
}

/// `Compared with the baseline of 2026-11-19 10:00:00 UTC: 3 new, 1 fixed,
/// 40 unchanged` in the report language; `None` without a baseline.
pub fn summary_line(report: &Report) -> Option<String> {
    let baseline = report.baseline.as_ref()?;
    let t = |key: &str| strings::get(report.language, key);
    Some(format!(
        "{} {}: {} {}, {} {}, {} {}",
        t("baseline_title"),
        baseline.previous_started_at.format("%Y-%m-%d %H:%M:%S UTC"),
        report.count_change(Change::New),
        t("change_new"),
        report.count_fixed(),
        t("change_fixed"),
        report.count_change(Change::Unchanged),
        t("change_unchanged"),
    ))
}
