//! What the dashboard asks of every recorded domain, kept beside it so a
//! page never reads stored evidence: the leaf certificate of each endpoint
//! (the expiry calendar) and, for each failed finding, since when it has
//! failed in every scan of its domain (open findings by age).
//!
//! [`index_domain`] runs inside the transaction that records a scan. A
//! scan recorded out of order (an import of an older report) also moves
//! the `failing_since` of the domain's later scans. Scans recorded before
//! migration 0002 are indexed when the store is opened ([`backfill`]).

use super::{HistoryError, Store, micros};
use crate::evidence::DomainEvidence;
use sqlx::{Any, Row, Transaction};

/// The largest evidence of one domain inflated (a mailbox audit of many
/// folders stays far below).
const EVIDENCE_LIMIT: u64 = 256 * 1024 * 1024;

/// Certificates inserted per statement (7 values each).
const CERTIFICATES_PER_INSERT: usize = 100;

/// The leaf certificate one endpoint served.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Leaf {
    /// The endpoint's subject (`host:port`).
    pub endpoint: String,
    /// Microseconds since the epoch.
    pub not_after: i64,
    pub subject: String,
    pub issuer: String,
    pub sha256: String,
}

/// The leaf certificate of every endpoint whose TLS handshake completed;
/// a certificate whose end date does not parse is left out (the
/// certificate rules report it).
pub(crate) fn leaves(evidence: &DomainEvidence) -> Vec<Leaf> {
    evidence
        .endpoints
        .iter()
        .filter_map(|endpoint| {
            let leaf = endpoint.tls.value.as_ref()?.chain.first()?;
            let not_after = chrono::DateTime::parse_from_rfc3339(&leaf.not_after).ok()?;
            Some(Leaf {
                endpoint: endpoint.subject.clone(),
                not_after: micros(not_after.to_utc()),
                subject: leaf.subject.clone(),
                issuer: leaf.issuer.clone(),
                sha256: leaf.sha256.clone(),
            })
        })
        .collect()
}

/// Indexes one domain of one scan: its certificates, the `failing_since`
/// of its failed findings and of the same domain's later scans, the
/// domain's latest scan and open findings, and marks it indexed.
pub(crate) async fn index_domain(
    tx: &mut Transaction<'static, Any>,
    scan_id: i64,
    domain: &str,
    evidence: &DomainEvidence,
    follow_later: bool,
) -> Result<(), sqlx::Error> {
    insert_leaves(tx, scan_id, domain, &leaves(evidence)).await?;
    set_failing_since(tx, scan_id, domain).await?;
    if follow_later {
        let later: Vec<i64> = sqlx::query_scalar(
            "SELECT d.scan_id FROM scan_domains d JOIN scans s ON s.id = d.scan_id \
             JOIN scans t ON t.id = $2 \
             WHERE d.domain = $1 AND (s.started_at > t.started_at OR (s.started_at = t.started_at AND s.id > t.id)) \
             ORDER BY s.started_at, s.id",
        )
        .bind(domain.to_string())
        .bind(scan_id)
        .fetch_all(&mut **tx)
        .await?;
        for later in later {
            set_failing_since(tx, later, domain).await?;
        }
    }
    sqlx::query("UPDATE scan_domains SET indexed = 1 WHERE scan_id = $1 AND domain = $2")
        .bind(scan_id)
        .bind(domain.to_string())
        .execute(&mut **tx)
        .await?;
    super::latest::mark_latest(tx, scan_id, domain).await?;
    super::latest::refresh_open(tx, domain).await
}

async fn insert_leaves(
    tx: &mut Transaction<'static, Any>,
    scan_id: i64,
    domain: &str,
    leaves: &[Leaf],
) -> Result<(), sqlx::Error> {
    for chunk in leaves.chunks(CERTIFICATES_PER_INSERT) {
        let rows: Vec<String> = (0..chunk.len())
            .map(|row| {
                let values: Vec<String> = (1..=7).map(|n| format!("${}", row * 7 + n)).collect();
                format!("({})", values.join(", "))
            })
            .collect();
        let sql = format!(
            "INSERT INTO certificates (scan_id, domain, endpoint, not_after, subject, issuer, sha256) VALUES {} ON CONFLICT DO NOTHING",
            rows.join(", ")
        );
        let mut query = sqlx::query(sqlx::AssertSqlSafe(sql));
        for leaf in chunk {
            query = query
                .bind(scan_id)
                .bind(domain.to_string())
                .bind(leaf.endpoint.clone())
                .bind(leaf.not_after)
                .bind(leaf.subject.clone())
                .bind(leaf.issuer.clone())
                .bind(leaf.sha256.clone());
        }
        query.execute(&mut **tx).await?;
    }
    Ok(())
}

/// Each failed finding of the domain in the scan fails since the previous
/// scan's `failing_since` of the same rule and subject when it failed there
/// too, else since this scan's start.
async fn set_failing_since(
    tx: &mut Transaction<'static, Any>,
    scan_id: i64,
    domain: &str,
) -> Result<(), sqlx::Error> {
    let this = sqlx::query(
        "SELECT s.started_at, \
           (SELECT d.scan_id FROM scan_domains d JOIN scans p ON p.id = d.scan_id \
            WHERE d.domain = $2 AND (p.started_at < s.started_at OR (p.started_at = s.started_at AND p.id < s.id)) \
            ORDER BY p.started_at DESC, p.id DESC LIMIT 1) AS previous \
         FROM scans s WHERE s.id = $1",
    )
    .bind(scan_id)
    .bind(domain.to_string())
    .fetch_one(&mut **tx)
    .await?;
    let started_at: i64 = this.try_get("started_at")?;
    let previous: Option<i64> = this.try_get("previous")?;
    sqlx::query(
        "UPDATE findings SET failing_since = COALESCE(\
           (SELECT p.failing_since FROM findings p WHERE p.scan_id = $3 AND p.domain = findings.domain \
            AND p.rule = findings.rule AND p.subject = findings.subject AND p.status = 'fail'), $4) \
         WHERE scan_id = $1 AND domain = $2 AND status = 'fail'",
    )
    .bind(scan_id)
    .bind(domain.to_string())
    .bind(previous.unwrap_or(-1))
    .bind(started_at)
    .execute(&mut **tx)
    .await?;
    Ok(())
}

/// Indexes every domain recorded before migration 0002, oldest scan
/// first, one transaction each (a store shared by several writers may see
/// two processes do it; the second finds nothing left or writes the same).
pub(crate) async fn backfill(store: &Store) -> Result<u64, HistoryError> {
    let pending = sqlx::query(
        "SELECT d.scan_id, d.domain FROM scan_domains d JOIN scans s ON s.id = d.scan_id \
         WHERE d.indexed = 0 ORDER BY s.started_at, s.id, d.domain",
    )
    .fetch_all(&store.pool)
    .await
    .map_err(|e| store.query_error("looking for scans to index", e))?;
    let mut done = 0;
    for row in pending {
        let scan_id: i64 = row
            .try_get("scan_id")
            .map_err(|e| store.query_error("reading a scan to index", e))?;
        let domain: String = row
            .try_get("domain")
            .map_err(|e| store.query_error("reading a scan to index", e))?;
        let row = sqlx::query(
            "SELECT evidence, evidence_deflated FROM scan_domains WHERE scan_id = $1 AND domain = $2",
        )
        .bind(scan_id)
        .bind(domain.clone())
        .fetch_one(&store.pool)
        .await
        .map_err(|e| store.query_error("reading evidence to index", e))?;
        let text: String = row
            .try_get("evidence")
            .map_err(|e| store.query_error("reading evidence to index", e))?;
        let deflated: Option<Vec<u8>> = row
            .try_get("evidence_deflated")
            .map_err(|e| store.query_error("reading evidence to index", e))?;
        let bytes = match deflated {
            Some(bytes) => super::packing::unpack(bytes, super::packing::DEFLATE, EVIDENCE_LIMIT)
                .map_err(|error| HistoryError::Damaged {
                what: format!("the evidence of {domain} in scan {scan_id}"),
                error,
            })?,
            None => text.into_bytes(),
        };
        let evidence: DomainEvidence =
            serde_json::from_slice(&bytes).map_err(|error| HistoryError::Damaged {
                what: format!("the evidence of {domain} in scan {scan_id}"),
                error: error.to_string(),
            })?;
        let mut tx = store
            .pool
            .begin()
            .await
            .map_err(|e| store.query_error("starting a transaction", e))?;
        index_domain(&mut tx, scan_id, &domain, &evidence, false)
            .await
            .map_err(|e| store.query_error("indexing an earlier scan", e))?;
        tx.commit()
            .await
            .map_err(|e| store.query_error("committing an index", e))?;
        done += 1;
    }
    Ok(done)
}
