//! Writing one report into the history, in one transaction: its
//! `report.json` (once per SHA-256), the scan, each domain with its
//! evidence, grade and counts, and the findings that count for it. A
//! process killed before the commit leaves nothing behind; a report
//! already recorded (same SHA-256) is not recorded twice.
//!
//! Concurrent writers: on PostgreSQL each transaction stands alone (the
//! content-addressed insert waits for a writer of the same document). On
//! SQLite the transaction's first statement is a write, so it takes the
//! write lock before reading anything and waits out another writer within
//! the busy timeout instead of failing on a stale snapshot.

use super::{HistoryError, Store, micros};
use crate::finding::{Finding, Severity, Status};
use crate::report::Report;
use crate::report::assessment::Grade;
use sha2::{Digest, Sha256};
use sqlx::{Any, Transaction};
use std::collections::HashSet;
use std::path::PathBuf;

/// What produced a recorded scan.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Source {
    /// `mailaudit scan --history`.
    Scan,
    /// `mailaudit merge --history`.
    Merge,
    /// `mailaudit report --history` (a saved scan judged again).
    Report,
    /// `mailaudit history import`.
    Import,
}

impl Source {
    /// The name stored and shown.
    pub fn name(self) -> &'static str {
        match self {
            Source::Scan => "scan",
            Source::Merge => "merge",
            Source::Report => "report",
            Source::Import => "import",
        }
    }
}

/// The outcome of recording one report.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Recorded {
    pub scan_id: i64,
    /// SHA-256 of the `report.json` bytes, lower-case hex.
    pub sha256: String,
    /// True when the same report.json was recorded before (nothing written).
    pub already_recorded: bool,
}

/// Findings inserted per statement (8 values each, well inside both
/// backends' limits on bound parameters).
const FINDINGS_PER_INSERT: usize = 100;

/// SHA-256 of a document, lower-case hex.
pub fn sha256_of(document: &[u8]) -> String {
    format!("{:x}", Sha256::digest(document))
}

impl Store {
    /// Records `report`, whose `report.json` is `document` (the bytes
    /// `report::json` writes, as the PDF attaches them).
    pub async fn record(
        &self,
        report: &Report,
        document: &[u8],
        source: Source,
    ) -> Result<Recorded, HistoryError> {
        let sha256 = sha256_of(document);
        let failed = |what, error| self.query_error(what, error);
        let mut tx = self
            .pool
            .begin()
            .await
            .map_err(|e| failed("starting a transaction", e))?;
        sqlx::query(
            "INSERT INTO report_documents (sha256, content, bytes, encoding) VALUES ($1, $2, $3, $4) ON CONFLICT (sha256) DO NOTHING",
        )
        .bind(&sha256)
        .bind(super::packing::pack(document))
        .bind(document.len() as i64)
        .bind(super::packing::DEFLATE)
        .execute(&mut *tx)
        .await
        .map_err(|e| failed("storing the report.json", e))?;
        let existing: Option<i64> =
            sqlx::query_scalar("SELECT id FROM scans WHERE report_sha256 = $1")
                .bind(&sha256)
                .fetch_optional(&mut *tx)
                .await
                .map_err(|e| failed("looking up the report.json", e))?;
        if let Some(scan_id) = existing {
            tx.rollback()
                .await
                .map_err(|e| failed("ending the transaction", e))?;
            return Ok(Recorded {
                scan_id,
                sha256,
                already_recorded: true,
            });
        }
        let scan_id = insert_scan(&mut tx, report, &sha256, source)
            .await
            .map_err(|e| failed("storing the scan", e))?;
        for (index, target) in report.targets.iter().enumerate() {
            let findings = findings_of(report, index);
            insert_domain(
                &mut tx,
                scan_id,
                &target.domain,
                &target.evidence,
                &findings,
            )
            .await
            .map_err(|e| failed("storing a domain of the scan", e))?;
            super::index::index_domain(&mut tx, scan_id, &target.domain, &target.evidence, true)
                .await
                .map_err(|e| failed("indexing a domain of the scan", e))?;
        }
        if let Some((marker, hold)) = &self.pause_inside_write {
            let _ = std::fs::write(marker, b"inside the history transaction\n");
            tokio::time::sleep(*hold).await;
        }
        tx.commit()
            .await
            .map_err(|e| failed("committing the scan", e))?;
        Ok(Recorded {
            scan_id,
            sha256,
            already_recorded: false,
        })
    }

    /// Test hook (`MAILAUDIT_TEST_HISTORY_PAUSE=FILE[,SECONDS]`): after
    /// writing a scan and before its commit, create `marker` and wait
    /// `hold`, so a test can kill the process mid-write or start a second
    /// writer beside it.
    #[doc(hidden)]
    pub fn pause_inside_write(mut self, marker: PathBuf, hold: std::time::Duration) -> Store {
        self.pause_inside_write = Some((marker, hold));
        self
    }
}

async fn insert_scan(
    tx: &mut Transaction<'static, Any>,
    report: &Report,
    sha256: &str,
    source: Source,
) -> Result<i64, sqlx::Error> {
    let count = |status| report.count(status) as i64;
    let json = |value: serde_json::Result<String>| value.unwrap_or_else(|_| "null".to_string());
    sqlx::query_scalar(
        "INSERT INTO scans (started_at, finished_at, recorded_at, source, tool_version, rule_set_version, schema_version, legal_snapshot, language, grade, failed, inconclusive, passed, not_applicable, settings, profile, report_sha256) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17) RETURNING id",
    )
    .bind(micros(report.started_at))
    .bind(micros(report.finished_at))
    .bind(micros(chrono::Utc::now()))
    .bind(source.name())
    .bind(&report.tool_version)
    .bind(&report.rule_set_version)
    .bind(&report.schema_version)
    .bind(&report.legal_snapshot)
    .bind(format!("{:?}", report.language).to_ascii_lowercase())
    .bind(report.assessment.grade.map(|g| g.letter().to_string()))
    .bind(count(Status::Fail))
    .bind(count(Status::Inconclusive))
    .bind(count(Status::Pass))
    .bind(count(Status::NotApplicable))
    .bind(json(serde_json::to_string(&report.settings)))
    .bind(json(serde_json::to_string(&report.profile)))
    .bind(sha256)
    .fetch_one(&mut **tx)
    .await
}

async fn insert_domain(
    tx: &mut Transaction<'static, Any>,
    scan_id: i64,
    domain: &str,
    evidence: &crate::evidence::DomainEvidence,
    findings: &[&Finding],
) -> Result<(), sqlx::Error> {
    let count = |status| findings.iter().filter(|f| f.status == status).count() as i64;
    let evidence = serde_json::to_vec(evidence).unwrap_or_else(|_| b"null".to_vec());
    sqlx::query(
        "INSERT INTO scan_domains (scan_id, domain, grade, failed, inconclusive, passed, not_applicable, evidence, evidence_deflated) VALUES ($1, $2, $3, $4, $5, $6, $7, '', $8)",
    )
    .bind(scan_id)
    .bind(domain)
    .bind(grade_of(findings).letter())
    .bind(count(Status::Fail))
    .bind(count(Status::Inconclusive))
    .bind(count(Status::Pass))
    .bind(count(Status::NotApplicable))
    .bind(super::packing::pack(&evidence))
    .execute(&mut **tx)
    .await?;
    for chunk in findings.chunks(FINDINGS_PER_INSERT) {
        let rows: Vec<String> = (0..chunk.len())
            .map(|row| {
                let at = row * 8;
                format!(
                    "(${}, ${}, ${}, ${}, ${}, ${}, ${}, ${})",
                    at + 1,
                    at + 2,
                    at + 3,
                    at + 4,
                    at + 5,
                    at + 6,
                    at + 7,
                    at + 8
                )
            })
            .collect();
        let sql = format!(
            "INSERT INTO findings (scan_id, domain, rule, subject, status, severity, accepted, finding) VALUES {}",
            rows.join(", ")
        );
        let mut query = sqlx::query(sqlx::AssertSqlSafe(sql));
        for finding in chunk {
            query = query
                .bind(scan_id)
                .bind(domain.to_string())
                .bind(finding.rule.clone())
                .bind(finding.subject.clone())
                .bind(finding.status.to_string())
                .bind(finding.severity.name())
                .bind(i64::from(finding.accepted.is_some()))
                .bind(stored_text(finding));
        }
        query.execute(&mut **tx).await?;
    }
    Ok(())
}

/// What a `findings` row keeps of the finding's text: a failed one without
/// its resolved citations (the dashboard shows its title; the whole
/// finding is in the report.json), nothing for the others. This keeps a
/// domain's scan at about a tenth of the size the full texts take (the
/// lab's good.test: 469 findings, 778 KB of JSON).
fn stored_text(finding: &Finding) -> String {
    if finding.status != Status::Fail {
        return String::new();
    }
    let mut slim = finding.clone();
    slim.citations.clear();
    serde_json::to_string(&slim).unwrap_or_default()
}

/// The grade of a domain: the worst failed severity of its findings, as
/// the rules stage grades a report ([`Grade::of`]).
pub fn grade_of(findings: &[&Finding]) -> Grade {
    let worst: Option<Severity> = findings
        .iter()
        .filter(|f| f.status == Status::Fail)
        .map(|f| f.severity)
        .max();
    Grade::of(worst)
}

/// The findings that count for the report's `index`th domain: its own
/// (`dns:DOMAIN`), its endpoints' (an endpoint two domains share counts
/// for both, as in the batch table), its mailboxes' and, for the first
/// domain, those of no domain's subject (`--host`), as mailboxes at no
/// scanned domain go with the first one.
pub fn findings_of(report: &Report, index: usize) -> Vec<&Finding> {
    let Some(target) = report.targets.get(index) else {
        return Vec::new();
    };
    let subjects_of = |target: &crate::report::Target| -> HashSet<String> {
        let evidence = &target.evidence;
        evidence
            .endpoints
            .iter()
            .map(|e| e.subject.clone())
            .chain([format!("dns:{}", target.domain)])
            .chain(
                evidence
                    .mailboxes
                    .iter()
                    .map(|m| format!("mailbox:{}", m.user)),
            )
            .collect()
    };
    let belongs = |subjects: &HashSet<String>, subject: &str| {
        subjects.contains(subject)
            || subject
                .split_once('/')
                .is_some_and(|(mailbox, _)| subjects.contains(mailbox))
    };
    let own = subjects_of(target);
    let everyone: Option<Vec<HashSet<String>>> =
        (index == 0).then(|| report.targets.iter().map(subjects_of).collect());
    report
        .findings
        .iter()
        .filter(|f| {
            belongs(&own, &f.subject)
                || everyone
                    .as_ref()
                    .is_some_and(|all| !all.iter().any(|s| belongs(s, &f.subject)))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn findings_count_for_each_domain_whose_subject_they_are() {
        // Given a saved scan of bad.test and a second domain sharing its
        // endpoints, with a finding of no domain's subject (--host)
        let mut report: Report =
            serde_json::from_str(include_str!("../../tests/fixtures/report-1.3.0.json")).unwrap();
        let mut other = report.targets[0].clone();
        other.domain = "other.test".into();
        other.evidence.mailboxes.clear();
        report.targets.push(other);
        let mut stray = report.findings[0].clone();
        stray.subject = "extra.example:25".into();
        report.findings.push(stray);
        let first = findings_of(&report, 0);
        let second = findings_of(&report, 1);
        let has =
            |findings: &[&Finding], subject: &str| findings.iter().any(|f| f.subject == subject);
        // Then a shared endpoint counts for both, a domain's own and its
        // mailboxes' only for it, and the stray finding for the first
        assert!(has(&first, "mx.bad.test:25") && has(&second, "mx.bad.test:25"));
        assert!(has(&first, "dns:bad.test") && !has(&second, "dns:bad.test"));
        assert!(has(&first, "mailbox:bob@bad.test") && !has(&second, "mailbox:bob@bad.test"));
        assert!(has(&first, "extra.example:25") && !has(&second, "extra.example:25"));
        assert_eq!(first.len(), report.findings.len());
        // And the grade is the worst failure's
        assert_eq!(grade_of(&first), Grade::F);
    }
}
