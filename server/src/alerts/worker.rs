//! The alerts' background worker: each round expires alerts past their end, releases alerts of
//! ended silences, takes due escalation steps, sends due notifications, and hourly deletes what
//! is past the retention. Woken early when an alert opens or notifications are queued.

use super::rows::{self, History};
use super::{notify, Alerts};
use crate::error::Context as _;
use crate::store;
use app::error::AppError;
use app::health::alert::*;
use sqlx::Row;
use std::sync::Arc;
use std::time::Duration;

/// How often the worker looks for due escalations, notifications and expired alerts when nothing
/// wakes it.
const TICK: Duration = Duration::from_secs(1);

/// How often resolved alerts past the retention are deleted (and once at start).
const PRUNE_EVERY: Duration = Duration::from_secs(3_600);

impl Alerts {
    /// The background worker: expires alerts past their end, releases alerts of ended silences,
    /// takes due escalation steps, sends due notifications, and hourly deletes what is past the
    /// retention.
    pub fn spawn_worker(self: &Arc<Self>) {
        let alerts = self.clone();
        tokio::spawn(async move {
            let mut pruned_at = None::<std::time::Instant>;
            loop {
                let now = crate::now_ms();
                if pruned_at.is_none_or(|at| at.elapsed() >= PRUNE_EVERY) {
                    pruned_at = Some(std::time::Instant::now());
                    if let Err(e) = alerts.prune(now).await {
                        tracing::warn!(error = %e.message, "pruning old alerts failed");
                    }
                }
                let work = async {
                    alerts.expire_due(now).await?;
                    alerts.release_ended_silences(now).await?;
                    alerts.escalate_due(now).await?;
                    alerts.deliver_due(now).await
                };
                if let Err(e) = work.await {
                    tracing::warn!(error = %e.message, "alert worker round failed");
                }
                tokio::select! {
                    _ = tokio::time::sleep(TICK) => {}
                    _ = alerts.escalation_wake.notified() => {}
                    _ = alerts.notify_wake.notified() => {}
                }
            }
        });
    }

    /// Alerts sent with an end time (Prometheus) that passed without a resend are resolved, as
    /// Alertmanager resolves them.
    pub async fn expire_due(&self, now: i64) -> Result<usize, AppError> {
        let ids = sqlx::query(
            "SELECT id, status FROM alerts WHERE status <> 'resolved' AND ends_at IS NOT NULL AND ends_at <= $1 LIMIT 500",
        )
        .bind(now)
        .fetch_all(&self.pool)
        .await
        .context("expiring alerts")?;
        if ids.is_empty() {
            return Ok(0);
        }
        let mut tx = store::begin_write(&self.pool, self.backend).await?;
        let mut expired = 0;
        for row in &ids {
            let id: i64 = row.try_get("id").context("expiring alerts")?;
            let status: String = row.try_get("status").context("expiring alerts")?;
            let done = sqlx::query(
                "UPDATE alerts SET status = 'resolved', resolved_by = 'expired', resolved_at = ends_at, \
                 next_escalation_at = NULL, updated_at = $2 WHERE id = $1 AND status <> 'resolved' AND ends_at <= $2",
            )
            .bind(id)
            .bind(now)
            .execute(&mut *tx)
            .await
            .context("expiring alerts")?
            .rows_affected();
            if done == 1 {
                notify::enqueue_resolved(&mut tx, id, now)
                    .await
                    .context("expiring alerts")?;
                let note = "no longer sent by its source; resolved when its end time passed";
                rows::record(
                    &mut tx,
                    id,
                    now,
                    History {
                        actor: "flightdeck",
                        kind: "resolved",
                        from: AlertStatus::parse(&status),
                        to: Some(AlertStatus::Resolved),
                        note: Some(note),
                    },
                )
                .await
                .context("expiring alerts")?;
                expired += 1;
            }
        }
        tx.commit().await.context("expiring alerts")?;
        self.bus.wake();
        Ok(expired)
    }
}
