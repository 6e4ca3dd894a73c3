//! Good and total events of probe-based SLOs, counted as the checks are recorded: per minute for
//! the short burn windows (5m to 6h, kept seven hours) and per hour for the long ones and the budget
//! (1d, 3d and the 28/30-day window, kept 31 days). The 1d and 3d windows are read from whole
//! hours (the current partial hour included), so they may reach up to an hour further back than
//! their nominal length; the page rules (1h/5m, 6h/30m) read exact minutes.

use crate::error::Context as _;
use app::error::AppError;
use app::health::objective::SliKind;
use sqlx::{Any, AnyPool, Row, Transaction};

pub const MINUTE_MS: i64 = 60_000;
pub const HOUR_MS: i64 = 3_600_000;
// Minutes serve only the windows up to 6 h; an hour more covers the hourly clean-up.
const KEEP_MINUTES_MS: i64 = 7 * HOUR_MS;
const KEEP_HOURS_MS: i64 = 31 * 86_400_000;

/// Whether one check is a good event for an SLO.
pub fn is_good(sli: SliKind, threshold_ms: Option<u32>, ok: bool, latency_ms: Option<u32>) -> bool {
    match sli {
        SliKind::Availability => ok,
        SliKind::Latency => {
            ok && matches!((latency_ms, threshold_ms), (Some(l), Some(t)) if l <= t)
        }
    }
}

/// Counts one check of `component_id` for every SLO built on it, in the caller's transaction.
pub async fn record_check(
    tx: &mut Transaction<'_, Any>,
    component_id: i64,
    at: i64,
    ok: bool,
    latency_ms: Option<u32>,
) -> Result<(), sqlx::Error> {
    let slos =
        sqlx::query("SELECT id, sli, latency_threshold_ms FROM slos WHERE component_id = $1")
            .bind(component_id)
            .fetch_all(&mut **tx)
            .await?;
    for slo in slos {
        let id: i64 = slo.try_get("id")?;
        let sli: String = slo.try_get("sli")?;
        let threshold: Option<i64> = slo.try_get("latency_threshold_ms")?;
        let good = is_good(
            SliKind::parse(&sli).unwrap_or(SliKind::Availability),
            threshold.map(|t| t.clamp(0, u32::MAX as i64) as u32),
            ok,
            latency_ms,
        );
        add(tx, id, at, good as i64, 1).await?;
    }
    Ok(())
}

/// Adds `good` of `total` events at `at` to an SLO's minute and hour counts.
pub async fn add(
    tx: &mut Transaction<'_, Any>,
    slo_id: i64,
    at: i64,
    good: i64,
    total: i64,
) -> Result<(), sqlx::Error> {
    for (table, column, bucket) in [
        ("slo_minutes", "minute", at / MINUTE_MS),
        ("slo_hours", "hour", at / HOUR_MS),
    ] {
        sqlx::query(&format!(
            "INSERT INTO {table} (slo_id, {column}, good, total) VALUES ($1, $2, $3, $4) \
             ON CONFLICT (slo_id, {column}) DO UPDATE SET good = {table}.good + excluded.good, total = {table}.total + excluded.total"
        ))
        .bind(slo_id)
        .bind(bucket)
        .bind(good)
        .bind(total)
        .execute(&mut **tx)
        .await?;
    }
    Ok(())
}

pub async fn forget_old(pool: &AnyPool, now: i64) -> Result<(), AppError> {
    sqlx::query("DELETE FROM slo_minutes WHERE minute < $1")
        .bind((now - KEEP_MINUTES_MS) / MINUTE_MS)
        .execute(pool)
        .await
        .context("deleting old SLO counts")?;
    sqlx::query("DELETE FROM slo_hours WHERE hour < $1")
        .bind((now - KEEP_HOURS_MS) / HOUR_MS)
        .execute(pool)
        .await
        .context("deleting old SLO counts")?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn good_events() {
        assert!(is_good(SliKind::Availability, None, true, None));
        assert!(!is_good(SliKind::Availability, None, false, Some(1)));
        assert!(is_good(SliKind::Latency, Some(300), true, Some(300)));
        assert!(!is_good(SliKind::Latency, Some(300), true, Some(301)));
        assert!(!is_good(SliKind::Latency, Some(300), false, Some(10)));
    }
}
