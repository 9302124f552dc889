//! The history's read API, for `mailaudit history` and for a dashboard:
//! the scans (all, or one domain's), the latest scan of every domain with
//! its grade and counts, a scan's `report.json` by scan id or SHA-256, the
//! findings of a scan, and the facts GOV-001 and `--fail-on-regression`
//! need (earlier scans of domains, findings that failed before).

use super::{HistoryError, Store, micros, time_of};
use crate::finding::Finding;
use chrono::{DateTime, Utc};
use serde::Serialize;
use sqlx::Row;
use sqlx::any::AnyRow;
use std::collections::{BTreeMap, HashSet};

/// One recorded scan, with its counts over every domain.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ScanSummary {
    pub id: i64,
    pub started_at: DateTime<Utc>,
    pub finished_at: DateTime<Utc>,
    pub recorded_at: DateTime<Utc>,
    /// scan, merge, report or import.
    pub source: String,
    pub tool_version: String,
    pub rule_set_version: String,
    /// The report's overall grade (A–F); none before schema 1.4.
    pub grade: Option<String>,
    pub counts: Counts,
    /// How many domains the scan holds.
    pub domains: i64,
    /// SHA-256 of its report.json.
    pub report_sha256: String,
}

/// Findings per status.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Counts {
    pub failed: i64,
    pub inconclusive: i64,
    pub passed: i64,
    pub not_applicable: i64,
}

/// One domain in one scan.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct DomainScan {
    pub scan_id: i64,
    pub domain: String,
    pub started_at: DateTime<Utc>,
    pub source: String,
    /// The grade of the findings that count for the domain.
    pub grade: String,
    pub counts: Counts,
    pub report_sha256: String,
}

/// A stored finding with the domain it counts for.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct StoredFinding {
    pub domain: String,
    pub finding: Finding,
}

/// What the history knows about one domain before a time (GOV-001).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Earlier {
    /// The start of the latest scan of the domain before the time.
    pub latest: DateTime<Utc>,
    /// How many scans of the domain before the time.
    pub scans: u64,
}

const SCAN_COLUMNS: &str = "s.id, s.started_at, s.finished_at, s.recorded_at, s.source, s.tool_version, s.rule_set_version, s.grade, s.failed, s.inconclusive, s.passed, s.not_applicable, s.report_sha256, (SELECT COUNT(*) FROM scan_domains d WHERE d.scan_id = s.id) AS domains";

const DOMAIN_COLUMNS: &str = "d.scan_id, d.domain, s.started_at, s.source, d.grade, d.failed, d.inconclusive, d.passed, d.not_applicable, s.report_sha256";

fn scan_summary(row: &AnyRow) -> Result<ScanSummary, sqlx::Error> {
    Ok(ScanSummary {
        id: row.try_get("id")?,
        started_at: time_of(row.try_get("started_at")?),
        finished_at: time_of(row.try_get("finished_at")?),
        recorded_at: time_of(row.try_get("recorded_at")?),
        source: row.try_get("source")?,
        tool_version: row.try_get("tool_version")?,
        rule_set_version: row.try_get("rule_set_version")?,
        grade: row.try_get("grade")?,
        counts: counts(row)?,
        domains: row.try_get("domains")?,
        report_sha256: row.try_get("report_sha256")?,
    })
}

fn domain_scan(row: &AnyRow) -> Result<DomainScan, sqlx::Error> {
    Ok(DomainScan {
        scan_id: row.try_get("scan_id")?,
        domain: row.try_get("domain")?,
        started_at: time_of(row.try_get("started_at")?),
        source: row.try_get("source")?,
        grade: row.try_get("grade")?,
        counts: counts(row)?,
        report_sha256: row.try_get("report_sha256")?,
    })
}

/// The four counts of a scan or domain row.
pub(super) fn counts(row: &AnyRow) -> Result<Counts, sqlx::Error> {
    Ok(Counts {
        failed: row.try_get("failed")?,
        inconclusive: row.try_get("inconclusive")?,
        passed: row.try_get("passed")?,
        not_applicable: row.try_get("not_applicable")?,
    })
}

impl Store {
    /// Every scan, newest first.
    pub async fn scans(&self) -> Result<Vec<ScanSummary>, HistoryError> {
        let sql =
            format!("SELECT {SCAN_COLUMNS} FROM scans s ORDER BY s.started_at DESC, s.id DESC");
        let rows = sqlx::query(sqlx::AssertSqlSafe(sql))
            .fetch_all(&self.pool)
            .await
            .map_err(|e| self.query_error("listing the scans", e))?;
        rows.iter()
            .map(scan_summary)
            .collect::<Result<_, _>>()
            .map_err(|e| self.query_error("reading the scans", e))
    }

    /// One scan, or [`HistoryError::UnknownScan`].
    pub async fn scan(&self, id: i64) -> Result<ScanSummary, HistoryError> {
        let sql = format!("SELECT {SCAN_COLUMNS} FROM scans s WHERE s.id = $1");
        let row = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(id)
            .fetch_optional(&self.pool)
            .await
            .map_err(|e| self.query_error("looking up a scan", e))?
            .ok_or(HistoryError::UnknownScan { id })?;
        scan_summary(&row).map_err(|e| self.query_error("reading a scan", e))
    }

    /// The scans of one domain, newest first.
    pub async fn domain_scans(&self, domain: &str) -> Result<Vec<DomainScan>, HistoryError> {
        let sql = format!(
            "SELECT {DOMAIN_COLUMNS} FROM scan_domains d JOIN scans s ON s.id = d.scan_id WHERE d.domain = $1 ORDER BY s.started_at DESC, s.id DESC"
        );
        self.domain_rows(sqlx::query(sqlx::AssertSqlSafe(sql)).bind(domain.to_string()))
            .await
    }

    /// The domains of one scan with their grades and counts, by name.
    pub async fn scan_domains(&self, scan_id: i64) -> Result<Vec<DomainScan>, HistoryError> {
        self.scan(scan_id).await?;
        let sql = format!(
            "SELECT {DOMAIN_COLUMNS} FROM scan_domains d JOIN scans s ON s.id = d.scan_id WHERE d.scan_id = $1 ORDER BY d.domain"
        );
        self.domain_rows(sqlx::query(sqlx::AssertSqlSafe(sql)).bind(scan_id))
            .await
    }

    /// The latest scan of every domain (ties: the higher scan id), by
    /// domain name.
    pub async fn latest_per_domain(&self) -> Result<Vec<DomainScan>, HistoryError> {
        let sql = format!(
            "SELECT {DOMAIN_COLUMNS} FROM latest_scans l \
             JOIN scan_domains d ON d.scan_id = l.scan_id AND d.domain = l.domain JOIN scans s ON s.id = d.scan_id \
             ORDER BY l.domain"
        );
        self.domain_rows(sqlx::query(sqlx::AssertSqlSafe(sql)))
            .await
    }

    async fn domain_rows(
        &self,
        query: sqlx::query::Query<'_, sqlx::Any, sqlx::any::AnyArguments>,
    ) -> Result<Vec<DomainScan>, HistoryError> {
        let rows = query
            .fetch_all(&self.pool)
            .await
            .map_err(|e| self.query_error("listing the scans of domains", e))?;
        rows.iter()
            .map(domain_scan)
            .collect::<Result<_, _>>()
            .map_err(|e| self.query_error("reading the scans of domains", e))
    }

    /// The report.json with this SHA-256, byte for byte.
    pub async fn document(&self, sha256: &str) -> Result<Vec<u8>, HistoryError> {
        let row =
            sqlx::query("SELECT content, bytes, encoding FROM report_documents WHERE sha256 = $1")
                .bind(sha256.to_ascii_lowercase())
                .fetch_optional(&self.pool)
                .await
                .map_err(|e| self.query_error("reading a report.json", e))?
                .ok_or_else(|| HistoryError::UnknownDocument {
                    sha256: sha256.to_string(),
                })?;
        let read = || -> Result<(Vec<u8>, i64, String), sqlx::Error> {
            Ok((
                row.try_get("content")?,
                row.try_get("bytes")?,
                row.try_get("encoding")?,
            ))
        };
        let (content, bytes, encoding) =
            read().map_err(|e| self.query_error("reading a report.json", e))?;
        super::packing::unpack(content, &encoding, bytes.max(0) as u64).map_err(|error| {
            HistoryError::Damaged {
                what: format!("the report.json {sha256}"),
                error,
            }
        })
    }

    /// The report.json of a scan, parsed.
    pub async fn report(&self, scan_id: i64) -> Result<crate::report::Report, HistoryError> {
        let scan = self.scan(scan_id).await?;
        let document = self.document(&scan.report_sha256).await?;
        serde_json::from_slice(&document).map_err(|error| HistoryError::Damaged {
            what: format!("the report.json of scan {scan_id}"),
            error: error.to_string(),
        })
    }

    /// The findings of a scan (of one domain, if given), by domain, rule
    /// and subject, as its report.json holds them (the `findings` rows are
    /// an index of rule, subject, status and severity; only a failed one
    /// keeps its text there, for the dashboard).
    pub async fn findings(
        &self,
        scan_id: i64,
        domain: Option<&str>,
    ) -> Result<Vec<StoredFinding>, HistoryError> {
        let report = self.report(scan_id).await?;
        let mut found: Vec<StoredFinding> = report
            .targets
            .iter()
            .enumerate()
            .filter(|(_, target)| domain.is_none_or(|d| d == target.domain))
            .flat_map(|(index, target)| {
                super::record::findings_of(&report, index)
                    .into_iter()
                    .map(|finding| StoredFinding {
                        domain: target.domain.clone(),
                        finding: finding.clone(),
                    })
            })
            .collect();
        found.sort_by(|a, b| {
            (&a.domain, &a.finding.rule, &a.finding.subject).cmp(&(
                &b.domain,
                &b.finding.rule,
                &b.finding.subject,
            ))
        });
        Ok(found)
    }

    /// For each of `domains` with a scan started before `before`: the
    /// latest such scan and how many there are. A domain missing from the
    /// answer was never scanned before.
    pub async fn previous_scans(
        &self,
        domains: &[String],
        before: DateTime<Utc>,
    ) -> Result<BTreeMap<String, Earlier>, HistoryError> {
        let mut earlier = BTreeMap::new();
        for domain in domains {
            let row = sqlx::query(
                "SELECT MAX(s.started_at) AS latest, COUNT(*) AS scans FROM scan_domains d JOIN scans s ON s.id = d.scan_id WHERE d.domain = $1 AND s.started_at < $2",
            )
            .bind(domain.clone())
            .bind(micros(before))
            .fetch_one(&self.pool)
            .await
            .map_err(|e| self.query_error("looking up earlier scans", e))?;
            let latest: Option<i64> = row
                .try_get("latest")
                .map_err(|e| self.query_error("reading earlier scans", e))?;
            let scans: i64 = row
                .try_get("scans")
                .map_err(|e| self.query_error("reading earlier scans", e))?;
            if let Some(latest) = latest {
                earlier.insert(
                    domain.clone(),
                    Earlier {
                        latest: time_of(latest),
                        scans: scans.max(0) as u64,
                    },
                );
            }
        }
        Ok(earlier)
    }

    /// Which of `keys` (rule, subject) failed in a scan that started
    /// before `before`: one look-up per key on the `(rule, subject,
    /// status)` index, so it costs what the keys ask, not the history's size.
    pub async fn failed_before(
        &self,
        before: DateTime<Utc>,
        keys: &[(String, String)],
    ) -> Result<HashSet<(String, String)>, HistoryError> {
        let mut failed = HashSet::new();
        for (rule, subject) in keys {
            let earlier = sqlx::query(
                "SELECT 1 AS one FROM findings f JOIN scans s ON s.id = f.scan_id \
                 WHERE f.rule = $1 AND f.subject = $2 AND f.status = 'fail' AND s.started_at < $3 LIMIT 1",
            )
            .bind(rule.clone())
            .bind(subject.clone())
            .bind(micros(before))
            .fetch_optional(&self.pool)
            .await
            .map_err(|e| self.query_error("looking up earlier failures", e))?;
            if earlier.is_some() {
                failed.insert((rule.clone(), subject.clone()));
            }
        }
        Ok(failed)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::history::Location;
    use crate::history::record::Source;
    use crate::report::Report;

    /// The read API a dashboard uses, on a SQLite store holding two scans
    /// of bad.test (the saved fixture at two times).
    #[test]
    fn the_read_api_answers_what_a_dashboard_asks() {
        let dir = tempfile::tempdir().unwrap();
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        runtime.block_on(async {
            let store = Store::open(&Location::Sqlite(dir.path().join("h.sqlite")))
                .await
                .unwrap();
            let text = include_str!("../../tests/fixtures/report-1.3.0.json");
            let mut report: Report = serde_json::from_str(text).unwrap();
            let older = store
                .record(&report, text.as_bytes(), Source::Import)
                .await
                .unwrap();
            report.started_at += chrono::Duration::days(30);
            let document = serde_json::to_vec(&report).unwrap();
            let newer = store
                .record(&report, &document, Source::Scan)
                .await
                .unwrap();

            // The latest scan per domain, with its grade and counts
            let latest = store.latest_per_domain().await.unwrap();
            assert_eq!(latest.len(), 1);
            assert_eq!(
                (
                    latest[0].scan_id,
                    latest[0].domain.as_str(),
                    latest[0].grade.as_str()
                ),
                (newer.scan_id, "bad.test", "F")
            );
            assert_eq!(latest[0].counts.failed, 59);
            // The scans of a domain, newest first
            let scans = store.domain_scans("bad.test").await.unwrap();
            assert_eq!(
                scans.iter().map(|s| s.scan_id).collect::<Vec<_>>(),
                [newer.scan_id, older.scan_id]
            );
            assert!(store.domain_scans("good.test").await.unwrap().is_empty());
            // A report.json by hash, byte for byte, and by scan id
            assert_eq!(
                store.document(&older.sha256).await.unwrap(),
                text.as_bytes()
            );
            assert_eq!(
                store.report(newer.scan_id).await.unwrap().started_at,
                report.started_at
            );
            // The findings of a scan, of one domain
            let findings = store
                .findings(older.scan_id, Some("bad.test"))
                .await
                .unwrap();
            assert_eq!(findings.len(), report.findings.len());
            assert!(
                store
                    .findings(older.scan_id, Some("other.test"))
                    .await
                    .unwrap()
                    .is_empty()
            );
            // Earlier scans, as GOV-001's fact
            let earlier = store
                .previous_scans(&["bad.test".into(), "new.test".into()], report.started_at)
                .await
                .unwrap();
            assert_eq!(earlier.len(), 1, "new.test was never scanned");
            assert_eq!(earlier["bad.test"].scans, 1);
            assert_eq!(
                earlier["bad.test"].latest,
                store.scan(older.scan_id).await.unwrap().started_at
            );
            // Unknown ids and hashes are errors that say what to do
            let error = store.scan(99).await.unwrap_err().to_string();
            assert!(error.contains("no scan 99"), "{error}");
            assert!(store.document("00").await.is_err());
        });
    }
}
