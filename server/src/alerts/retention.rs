//! Bounded alert history: resolved alerts older than the retention are deleted with their history
//! and notifications (the foreign keys cascade), and so are silences that ended that long ago and
//! no kept alert names. Open and acknowledged alerts are never deleted, however old.

use super::Alerts;
use crate::error::Context as _;
use crate::store;
use app::error::AppError;

/// Alerts deleted per transaction, so a first prune of a large backlog never holds the write
/// lock for long.
const BATCH: i64 = 1_000;

impl Alerts {
    /// Deletes what is past the retention at `now`; returns how many alerts went.
    pub async fn prune(&self, now: i64) -> Result<u64, AppError> {
        let before = now - self.retention_ms;
        let mut deleted = 0;
        loop {
            let mut tx = store::begin_write(&self.pool, self.backend).await?;
            let done = sqlx::query(
                "DELETE FROM alerts WHERE id IN (SELECT id FROM alerts WHERE status = 'resolved' \
                 AND resolved_at < $1 ORDER BY resolved_at LIMIT $2)",
            )
            .bind(before)
            .bind(BATCH)
            .execute(&mut *tx)
            .await
            .context("pruning old alerts")?
            .rows_affected();
            tx.commit().await.context("pruning old alerts")?;
            deleted += done;
            if done < BATCH as u64 {
                break;
            }
        }
        sqlx::query(
            "DELETE FROM silences WHERE ends_at < $1 \
             AND id NOT IN (SELECT silenced_by FROM alerts WHERE silenced_by IS NOT NULL)",
        )
        .bind(before)
        .execute(&self.pool)
        .await
        .context("pruning old alerts")?;
        if deleted > 0 {
            tracing::info!(deleted, "deleted resolved alerts past the retention");
        }
        Ok(deleted)
    }
}
