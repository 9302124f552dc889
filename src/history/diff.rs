//! Two recorded scans compared: the `--baseline` logic
//! ([`crate::report::baseline::compare`]) run on their report.json, so
//! `history diff` and a scan with `--baseline` agree on what is new, fixed
//! and unchanged. A regression (`--fail-on-regression`) is a finding that
//! failed in a scan before the first one, no longer failed in the first,
//! and fails again in the second; or a grade that dropped, overall or for
//! a domain in both scans.

use super::read::ScanSummary;
use super::{HistoryError, Store};
use crate::finding::{Change, Finding};
use crate::report::assessment::Grade;
use crate::report::baseline;
use serde::Serialize;
use std::collections::BTreeMap;

/// What changed from scan `from` to scan `to`.
#[derive(Debug, Clone, Serialize)]
pub struct ScanDiff {
    pub from: ScanSummary,
    pub to: ScanSummary,
    /// Failing in `to`, not in `from`.
    pub new: Vec<Finding>,
    /// Failing in `from`, not in `to` (as they were in `from`).
    pub fixed: Vec<Finding>,
    /// Failing in both.
    pub unchanged: Vec<Finding>,
    /// New findings that had failed before `from` and been fixed by it.
    pub returned: Vec<Finding>,
    /// Grades that dropped: `"overall"` or a domain, with both letters.
    pub grade_drops: Vec<GradeDrop>,
}

/// A grade that got worse.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct GradeDrop {
    /// `overall`, or the domain.
    pub scope: String,
    pub from: String,
    pub to: String,
}

impl ScanDiff {
    /// True when a fixed finding came back or a grade dropped.
    pub fn is_regression(&self) -> bool {
        !self.returned.is_empty() || !self.grade_drops.is_empty()
    }
}

/// A grade's rank, A best.
fn rank(letter: &str) -> Option<usize> {
    [Grade::A, Grade::B, Grade::C, Grade::D, Grade::F]
        .iter()
        .position(|g| g.letter() == letter)
}

fn dropped(from: &str, to: &str) -> bool {
    matches!((rank(from), rank(to)), (Some(a), Some(b)) if b > a)
}

impl Store {
    /// Compares scan `from` with scan `to`.
    pub async fn diff(&self, from: i64, to: i64) -> Result<ScanDiff, HistoryError> {
        let from_summary = self.scan(from).await?;
        let to_summary = self.scan(to).await?;
        let previous = self.report(from).await?;
        let mut current = self.report(to).await?;
        baseline::compare(&mut current, &previous);
        let with = |change| -> Vec<Finding> {
            current
                .findings
                .iter()
                .filter(|f| f.change == Some(change))
                .cloned()
                .collect()
        };
        let new = with(Change::New);
        let unchanged = with(Change::Unchanged);
        let fixed = current
            .baseline
            .as_ref()
            .map(|b| b.fixed.clone())
            .unwrap_or_default();
        let keys: Vec<(String, String)> = new
            .iter()
            .map(|f| (f.rule.clone(), f.subject.clone()))
            .collect();
        let failed_earlier = self.failed_before(from_summary.started_at, &keys).await?;
        let returned = new
            .iter()
            .filter(|f| failed_earlier.contains(&(f.rule.clone(), f.subject.clone())))
            .cloned()
            .collect();
        let mut grade_drops = Vec::new();
        if let (Some(a), Some(b)) = (&from_summary.grade, &to_summary.grade)
            && dropped(a, b)
        {
            grade_drops.push(GradeDrop {
                scope: "overall".into(),
                from: a.clone(),
                to: b.clone(),
            });
        }
        let grades = |scan: i64| async move {
            let rows = sqlx::query_as::<_, (String, String)>(
                "SELECT domain, grade FROM scan_domains WHERE scan_id = $1",
            )
            .bind(scan)
            .fetch_all(&self.pool)
            .await
            .map_err(|e| self.query_error("reading the grades of a scan", e))?;
            Ok::<BTreeMap<String, String>, HistoryError>(rows.into_iter().collect())
        };
        let before = grades(from).await?;
        for (domain, grade) in grades(to).await? {
            if let Some(earlier) = before.get(&domain)
                && dropped(earlier, &grade)
            {
                grade_drops.push(GradeDrop {
                    scope: domain,
                    from: earlier.clone(),
                    to: grade,
                });
            }
        }
        Ok(ScanDiff {
            from: from_summary,
            to: to_summary,
            new,
            fixed,
            unchanged,
            returned,
            grade_drops,
        })
    }
}
