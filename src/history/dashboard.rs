//! The history as the dashboard (`mailaudit serve`) reads it: each
//! domain's latest grade with its recent grades, the leaf certificates
//! expiring soon across the latest scan of every domain, and the open
//! findings by age. Each answer is one or two queries over the tables
//! [`super::index`] and [`super::latest`] keep when a scan is recorded, so
//! a page stays fast with thousands of domains.

use super::read::{Counts, counts};
use super::{HistoryError, Store, micros, time_of};
use chrono::{DateTime, Utc};
use serde::Serialize;
use sqlx::Row;

/// One domain in one scan, as a point of its trend.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TrendPoint {
    pub scan_id: i64,
    pub started_at: DateTime<Utc>,
    pub grade: String,
    pub counts: Counts,
}

/// A domain with its most recent scans, oldest first; the last is the
/// latest.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct DomainTrend {
    pub domain: String,
    pub points: Vec<TrendPoint>,
}

impl DomainTrend {
    /// The latest scan of the domain.
    pub fn latest(&self) -> Option<&TrendPoint> {
        self.points.last()
    }
}

/// A leaf certificate an endpoint served in its domain's latest scan.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ExpiringCertificate {
    pub domain: String,
    pub endpoint: String,
    pub not_after: DateTime<Utc>,
    pub subject: String,
    pub issuer: String,
    pub sha256: String,
    pub scan_id: i64,
    pub scanned_at: DateTime<Utc>,
}

/// Which open findings a page asks for.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct OpenFindingsQuery {
    /// Only this domain's.
    pub domain: Option<String>,
    /// Only this severity's (its name: info … critical).
    pub severity: Option<String>,
    /// Rows to skip and to return, oldest first.
    pub offset: i64,
    pub limit: i64,
}

/// A finding that failed in its domain's latest scan and is not accepted.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct OpenFinding {
    pub domain: String,
    pub rule: String,
    pub subject: String,
    pub severity: String,
    pub title: String,
    /// The start of the first scan of the unbroken run of scans it failed in.
    pub failing_since: DateTime<Utc>,
    pub scan_id: i64,
}

/// Open findings of one severity by age: under 30 days, 30–89, 90–179, 180
/// and more.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct AgeBuckets {
    pub severity: String,
    pub buckets: [i64; 4],
    pub total: i64,
}

/// One page of open findings with the counts over all of them.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct OpenFindings {
    pub total: i64,
    pub by_age: Vec<AgeBuckets>,
    pub rows: Vec<OpenFinding>,
}

/// The lower bounds of the age buckets, in days.
pub const AGE_BUCKET_DAYS: [i64; 3] = [30, 90, 180];

impl Store {
    /// The named domains with their `points` most recent scans each, by
    /// domain name; a domain never scanned is left out.
    pub async fn domain_trends(
        &self,
        domains: &[String],
        points: i64,
    ) -> Result<Vec<DomainTrend>, HistoryError> {
        if domains.is_empty() {
            return Ok(Vec::new());
        }
        let names: Vec<String> = (0..domains.len()).map(|n| format!("${}", n + 2)).collect();
        let sql = format!(
            "SELECT domain, scan_id, started_at, grade, failed, inconclusive, passed, not_applicable FROM (\
               SELECT d.domain, d.scan_id, s.started_at, d.grade, d.failed, d.inconclusive, d.passed, d.not_applicable, \
               ROW_NUMBER() OVER (PARTITION BY d.domain ORDER BY s.started_at DESC, s.id DESC) AS n \
               FROM scan_domains d JOIN scans s ON s.id = d.scan_id WHERE d.domain IN ({})) ranked \
             WHERE n <= $1 ORDER BY domain, n DESC",
            names.join(", ")
        );
        let mut query = sqlx::query(sqlx::AssertSqlSafe(sql)).bind(points.max(1));
        for domain in domains {
            query = query.bind(domain.clone());
        }
        let rows = query
            .fetch_all(&self.pool)
            .await
            .map_err(|e| self.query_error("reading the domains' trends", e))?;
        let mut trends: Vec<DomainTrend> = Vec::new();
        for row in &rows {
            let read = || -> Result<(String, TrendPoint), sqlx::Error> {
                Ok((
                    row.try_get("domain")?,
                    TrendPoint {
                        scan_id: row.try_get("scan_id")?,
                        started_at: time_of(row.try_get("started_at")?),
                        grade: row.try_get("grade")?,
                        counts: counts(row)?,
                    },
                ))
            };
            let (domain, point) =
                read().map_err(|e| self.query_error("reading the domains' trends", e))?;
            match trends.last_mut() {
                Some(trend) if trend.domain == domain => trend.points.push(point),
                _ => trends.push(DomainTrend {
                    domain,
                    points: vec![point],
                }),
            }
        }
        Ok(trends)
    }

    /// The leaf certificates of the latest scan of every domain that end
    /// before `until` (expired ones included), soonest first.
    pub async fn certificates_ending_before(
        &self,
        until: DateTime<Utc>,
    ) -> Result<Vec<ExpiringCertificate>, HistoryError> {
        let rows = sqlx::query(
            "SELECT c.domain, c.endpoint, c.not_after, c.subject, c.issuer, c.sha256, c.scan_id, l.started_at \
             FROM certificates c JOIN latest_scans l ON l.scan_id = c.scan_id AND l.domain = c.domain \
             WHERE c.not_after < $1 ORDER BY c.not_after, c.domain, c.endpoint",
        )
            .bind(micros(until))
            .fetch_all(&self.pool)
            .await
            .map_err(|e| self.query_error("reading the certificates", e))?;
        rows.iter()
            .map(|row| {
                Ok(ExpiringCertificate {
                    domain: row.try_get("domain")?,
                    endpoint: row.try_get("endpoint")?,
                    not_after: time_of(row.try_get("not_after")?),
                    subject: row.try_get("subject")?,
                    issuer: row.try_get("issuer")?,
                    sha256: row.try_get("sha256")?,
                    scan_id: row.try_get("scan_id")?,
                    scanned_at: time_of(row.try_get("started_at")?),
                })
            })
            .collect::<Result<_, sqlx::Error>>()
            .map_err(|e| self.query_error("reading the certificates", e))
    }

    /// The open findings (failed in the domain's latest scan, not
    /// accepted), oldest first, with their counts by severity and age as
    /// of `now`.
    pub async fn open_findings(
        &self,
        query: &OpenFindingsQuery,
        now: DateTime<Utc>,
    ) -> Result<OpenFindings, HistoryError> {
        // Only the filters asked for, so that each can use its index; $1
        // and $2 are bound either way, so they appear either way.
        let open = format!(
            "FROM open_findings f WHERE $1 = $1 AND $2 = $2{}{}",
            if query.domain.is_some() {
                " AND f.domain = $1"
            } else {
                ""
            },
            if query.severity.is_some() {
                " AND f.severity = $2"
            } else {
                ""
            },
        );
        let domain = query.domain.clone().unwrap_or_default();
        let severity = query.severity.clone().unwrap_or_default();
        let bound = |days: i64| micros(now - chrono::Duration::days(days));
        let sql = format!(
            "SELECT f.severity, \
               SUM(CASE WHEN f.since > $3 THEN 1 ELSE 0 END) AS b0, \
               SUM(CASE WHEN f.since <= $3 AND f.since > $4 THEN 1 ELSE 0 END) AS b1, \
               SUM(CASE WHEN f.since <= $4 AND f.since > $5 THEN 1 ELSE 0 END) AS b2, \
               SUM(CASE WHEN f.since <= $5 THEN 1 ELSE 0 END) AS b3, \
               COUNT(*) AS total {open} GROUP BY f.severity"
        );
        let rows = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(domain.clone())
            .bind(severity.clone())
            .bind(bound(AGE_BUCKET_DAYS[0]))
            .bind(bound(AGE_BUCKET_DAYS[1]))
            .bind(bound(AGE_BUCKET_DAYS[2]))
            .fetch_all(&self.pool)
            .await
            .map_err(|e| self.query_error("counting the open findings", e))?;
        let mut by_age = rows
            .iter()
            .map(|row| {
                Ok(AgeBuckets {
                    severity: row.try_get("severity")?,
                    buckets: [
                        row.try_get("b0")?,
                        row.try_get("b1")?,
                        row.try_get("b2")?,
                        row.try_get("b3")?,
                    ],
                    total: row.try_get("total")?,
                })
            })
            .collect::<Result<Vec<_>, sqlx::Error>>()
            .map_err(|e| self.query_error("counting the open findings", e))?;
        by_age.sort_by_key(|b| std::cmp::Reverse(severity_rank(&b.severity)));
        let sql = format!(
            "SELECT f.domain, f.rule, f.subject, f.severity, f.finding, f.scan_id, \
               f.since {open} \
             ORDER BY since, f.domain, f.rule, f.subject LIMIT $3 OFFSET $4"
        );
        let rows = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(domain)
            .bind(severity)
            .bind(query.limit.max(0))
            .bind(query.offset.max(0))
            .fetch_all(&self.pool)
            .await
            .map_err(|e| self.query_error("reading the open findings", e))?;
        let rows = rows
            .iter()
            .map(|row| {
                let finding: String = row.try_get("finding")?;
                let title = serde_json::from_str::<serde_json::Value>(&finding)
                    .ok()
                    .and_then(|f| f["title"].as_str().map(str::to_string))
                    .unwrap_or_default();
                Ok(OpenFinding {
                    domain: row.try_get("domain")?,
                    rule: row.try_get("rule")?,
                    subject: row.try_get("subject")?,
                    severity: row.try_get("severity")?,
                    title,
                    failing_since: time_of(row.try_get("since")?),
                    scan_id: row.try_get("scan_id")?,
                })
            })
            .collect::<Result<Vec<_>, sqlx::Error>>()
            .map_err(|e| self.query_error("reading the open findings", e))?;
        Ok(OpenFindings {
            total: by_age.iter().map(|b| b.total).sum(),
            by_age,
            rows,
        })
    }
}

/// Critical first when sorting by severity name.
fn severity_rank(name: &str) -> u8 {
    match name {
        "critical" => 4,
        "high" => 3,
        "medium" => 2,
        "low" => 1,
        _ => 0,
    }
}
