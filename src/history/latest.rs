//! Each domain's latest scan and the findings open in it, kept in tables
//! of their own (migration 0003) inside the transaction that records or
//! indexes a scan, so the dashboard's overview pages read a thousand rows
//! instead of every finding of every scan.
//!
//! [`mark_latest`] only ever moves a domain's latest scan forward: two
//! writers recording the same domain at once (shards on one PostgreSQL)
//! meet on the domain's row, and the later scan wins whichever commits
//! first. [`refresh_open`] rewrites the domain's open findings from its
//! latest scan after that row is locked, so it sees the other writer's
//! committed scan. A prune that removes a domain's every scan removes its
//! rows ([`forget_pruned`]).

use sqlx::{Any, Transaction};

/// Makes `scan_id` the domain's latest scan unless a later one is recorded
/// (by start time, then by scan id).
pub(crate) async fn mark_latest(
    tx: &mut Transaction<'static, Any>,
    scan_id: i64,
    domain: &str,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO latest_scans (domain, scan_id, started_at) \
         SELECT $1, id, started_at FROM scans WHERE id = $2 \
         ON CONFLICT (domain) DO UPDATE SET scan_id = excluded.scan_id, started_at = excluded.started_at \
         WHERE excluded.started_at > latest_scans.started_at \
            OR (excluded.started_at = latest_scans.started_at AND excluded.scan_id > latest_scans.scan_id)",
    )
    .bind(domain.to_string())
    .bind(scan_id)
    .execute(&mut **tx)
    .await?;
    Ok(())
}

/// Rewrites the domain's open findings: those failed and not accepted in
/// its latest scan, each with the start of its unbroken failing run.
pub(crate) async fn refresh_open(
    tx: &mut Transaction<'static, Any>,
    domain: &str,
) -> Result<(), sqlx::Error> {
    sqlx::query("DELETE FROM open_findings WHERE domain = $1")
        .bind(domain.to_string())
        .execute(&mut **tx)
        .await?;
    sqlx::query(
        "INSERT INTO open_findings (domain, rule, subject, severity, since, scan_id, finding) \
         SELECT f.domain, f.rule, f.subject, f.severity, COALESCE(f.failing_since, l.started_at), f.scan_id, f.finding \
         FROM latest_scans l JOIN findings f ON f.scan_id = l.scan_id AND f.domain = l.domain \
         WHERE l.domain = $1 AND f.status = 'fail' AND f.accepted = 0",
    )
    .bind(domain.to_string())
    .execute(&mut **tx)
    .await?;
    Ok(())
}

/// Removes the rows of domains with no scan left. A prune removes scans
/// older than a time, so a domain whose latest scan went has no scan left.
pub(crate) async fn forget_pruned(tx: &mut Transaction<'static, Any>) -> Result<(), sqlx::Error> {
    sqlx::query(
        "DELETE FROM latest_scans WHERE NOT EXISTS \
         (SELECT 1 FROM scan_domains d WHERE d.scan_id = latest_scans.scan_id AND d.domain = latest_scans.domain)",
    )
    .execute(&mut **tx)
    .await?;
    sqlx::query(
        "DELETE FROM open_findings WHERE NOT EXISTS \
         (SELECT 1 FROM latest_scans l WHERE l.domain = open_findings.domain)",
    )
    .execute(&mut **tx)
    .await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use crate::history::dashboard::OpenFindingsQuery;
    use crate::history::record::Source;
    use crate::history::{Location, Store};
    use crate::report::Report;
    use chrono::Duration;

    /// bad.test's saved report recorded at three times, out of order: the
    /// latest scan and its open findings follow the newest start, not the
    /// order of recording, and a prune of every scan leaves nothing open.
    #[test]
    fn the_latest_scan_and_its_open_findings_follow_the_newest_start() {
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
            let base: Report = serde_json::from_str(text).unwrap();
            // Whole seconds: the history keeps microseconds
            let start = chrono::DateTime::from_timestamp(base.started_at.timestamp(), 0).unwrap();
            let at = |days: i64| {
                let mut report = base.clone();
                report.started_at = start + Duration::days(days);
                let document = serde_json::to_vec(&report).unwrap();
                (report, document)
            };
            let (middle, document) = at(0);
            let middle_scan = store
                .record(&middle, &document, Source::Import)
                .await
                .unwrap();
            let (newest, document) = at(30);
            let newest_scan = store
                .record(&newest, &document, Source::Scan)
                .await
                .unwrap();
            let all = OpenFindingsQuery {
                limit: 1000,
                ..OpenFindingsQuery::default()
            };
            let open = store.open_findings(&all, newest.started_at).await.unwrap();
            assert_eq!(open.total, 59, "bad.test fails 59 findings");
            assert!(open.rows.iter().all(|f| f.scan_id == newest_scan.scan_id));
            assert!(
                open.rows
                    .iter()
                    .all(|f| f.failing_since == middle.started_at)
            );

            // An older import changes neither the latest scan nor the open
            // rows' scan, but moves the start of their failing run back
            let (oldest, document) = at(-100);
            store
                .record(&oldest, &document, Source::Import)
                .await
                .unwrap();
            let latest = store.latest_per_domain().await.unwrap();
            assert_eq!(latest.len(), 1);
            assert_eq!(latest[0].scan_id, newest_scan.scan_id);
            let open = store.open_findings(&all, newest.started_at).await.unwrap();
            assert_eq!(open.total, 59);
            assert!(
                open.rows
                    .iter()
                    .all(|f| f.failing_since == oldest.started_at
                        && f.scan_id == newest_scan.scan_id)
            );
            // 130 days: the 90–179 bucket
            let bucket = |n: usize| open.by_age.iter().map(|b| b.buckets[n]).sum::<i64>();
            assert_eq!([bucket(0), bucket(1), bucket(2), bucket(3)], [0, 0, 59, 0]);

            // A prune of the two older scans keeps the latest; one of all
            // of them leaves no latest scan and nothing open
            store
                .prune(middle.started_at + Duration::days(1))
                .await
                .unwrap();
            assert_eq!(
                store.latest_per_domain().await.unwrap()[0].scan_id,
                newest_scan.scan_id
            );
            assert_eq!(
                store
                    .open_findings(&all, newest.started_at)
                    .await
                    .unwrap()
                    .total,
                59
            );
            assert_ne!(middle_scan.scan_id, newest_scan.scan_id);
            store
                .prune(newest.started_at + Duration::days(1))
                .await
                .unwrap();
            assert!(store.latest_per_domain().await.unwrap().is_empty());
            assert_eq!(
                store
                    .open_findings(&all, newest.started_at)
                    .await
                    .unwrap()
                    .total,
                0
            );
        });
    }
}
