//! `history prune --older-than`: forgets scans that started before a
//! time, with their domains, findings and every report.json no remaining
//! scan refers to, in one transaction. Mailbox statistics are personal
//! data (Art. 5(1)(e) DSGVO: kept no longer than needed); on SQLite the
//! deleted pages are overwritten (`secure_delete`) and the WAL is
//! truncated afterwards, so the data is gone from the files too.

use super::store::Backend;
use super::{HistoryError, Store, micros};
use chrono::{DateTime, Utc};
use serde::Serialize;
use sqlx::Executor;

/// What a prune removed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Pruned {
    pub scans: u64,
    pub documents: u64,
}

impl Store {
    /// Deletes every scan started before `cutoff`.
    pub async fn prune(&self, cutoff: DateTime<Utc>) -> Result<Pruned, HistoryError> {
        let failed = |error| self.query_error("pruning", error);
        let cutoff = micros(cutoff);
        let mut tx = self.pool.begin().await.map_err(failed)?;
        // The first statement writes, so SQLite takes the write lock at
        // once (see `record`).
        for table in ["findings", "scan_domains"] {
            let sql = format!(
                "DELETE FROM {table} WHERE scan_id IN (SELECT id FROM scans WHERE started_at < $1)"
            );
            sqlx::query(sqlx::AssertSqlSafe(sql))
                .bind(cutoff)
                .execute(&mut *tx)
                .await
                .map_err(failed)?;
        }
        let scans = sqlx::query("DELETE FROM scans WHERE started_at < $1")
            .bind(cutoff)
            .execute(&mut *tx)
            .await
            .map_err(failed)?
            .rows_affected();
        let documents = sqlx::query(
            "DELETE FROM report_documents WHERE sha256 NOT IN (SELECT report_sha256 FROM scans)",
        )
        .execute(&mut *tx)
        .await
        .map_err(failed)?
        .rows_affected();
        super::latest::forget_pruned(&mut tx)
            .await
            .map_err(failed)?;
        tx.commit().await.map_err(failed)?;
        if self.backend == Backend::Sqlite {
            self.pool
                .execute("PRAGMA wal_checkpoint(TRUNCATE)")
                .await
                .map_err(failed)?;
        }
        Ok(Pruned { scans, documents })
    }
}
