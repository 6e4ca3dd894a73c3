//! Flightdeck's own health history: a sample at start-up and every minute, kept 30 days, served
//! at `GET /api/v1/system/health` and drawn on the System page. Each replica samples itself.

use crate::db::Backend;
use crate::error::Context as _;
use crate::state::AppState;
use app::error::AppError;
use app::system::{HealthSample, RETENTION_MS};
use sqlx::{AnyPool, Row};
use std::time::Duration;

/// `host:pid`, so samples of several replicas stay apart.
pub fn replica_name() -> String {
    let host = std::fs::read_to_string("/proc/sys/kernel/hostname")
        .map(|h| h.trim().to_string())
        .unwrap_or_else(|_| "localhost".into());
    format!("{host}:{}", std::process::id())
}

/// Resident memory of this process, from /proc (0 where there is none).
fn rss_bytes() -> i64 {
    std::fs::read_to_string("/proc/self/statm")
        .ok()
        .and_then(|s| {
            s.split_whitespace()
                .nth(1)
                .and_then(|p| p.parse::<i64>().ok())
        })
        .map(|pages| pages * 4096)
        .unwrap_or(0)
}

async fn database_bytes(pool: &AnyPool, backend: Backend) -> Result<i64, sqlx::Error> {
    let sql = match backend {
        Backend::Sqlite => "SELECT CAST(page_count * page_size AS BIGINT) FROM pragma_page_count(), pragma_page_size()",
        Backend::Postgres => "SELECT CAST(pg_database_size(current_database()) AS BIGINT)",
    };
    sqlx::query(sql).fetch_one(pool).await?.try_get(0)
}

/// How long the oldest event not yet published has waited.
async fn event_lag_ms(pool: &AnyPool, head: i64, now: i64) -> Result<i64, sqlx::Error> {
    let oldest: Option<i64> = sqlx::query("SELECT MIN(at) FROM event WHERE seq > $1")
        .bind(head)
        .fetch_one(pool)
        .await?
        .try_get(0)?;
    Ok(oldest.map_or(0, |at| (now - at).max(0)))
}

/// Takes one sample: the request counters since the previous one, the rest as they are now.
pub async fn sample(
    state: &AppState,
    replica: &str,
    now: i64,
) -> Result<HealthSample, sqlx::Error> {
    let window = state.metrics.take_window();
    let pool = &state.db.pool;
    let seconds = (window.elapsed.as_secs_f64()).max(1.0);
    Ok(HealthSample {
        at: now,
        replica: replica.to_string(),
        db_bytes: database_bytes(pool, state.db.backend).await?,
        pool_in_use: i64::from(pool.size()) - pool.num_idle() as i64,
        pool_size: i64::from(pool.size()),
        requests: window.requests as i64,
        requests_per_s: window.requests as f64 / seconds,
        errors_5xx: window.errors_5xx as i64,
        p99_ms: window.p99_ms,
        ws_clients: state.metrics.ws_clients(),
        event_lag_ms: event_lag_ms(pool, state.bus.head(), now).await?,
        rss_bytes: rss_bytes(),
    })
}

pub async fn store(pool: &AnyPool, s: &HealthSample) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO system_health (at, replica, db_bytes, pool_in_use, pool_size, requests, requests_per_s, errors_5xx, p99_ms, ws_clients, event_lag_ms, rss_bytes) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)",
    )
    .bind(s.at)
    .bind(&s.replica)
    .bind(s.db_bytes)
    .bind(s.pool_in_use)
    .bind(s.pool_size)
    .bind(s.requests)
    .bind(s.requests_per_s)
    .bind(s.errors_5xx)
    .bind(s.p99_ms)
    .bind(s.ws_clients)
    .bind(s.event_lag_ms)
    .bind(s.rss_bytes)
    .execute(pool)
    .await?;
    sqlx::query("DELETE FROM system_health WHERE at < $1")
        .bind(s.at - RETENTION_MS)
        .execute(pool)
        .await?;
    Ok(())
}

/// Samples since `since`, oldest first, at most 30 days' worth per replica.
pub async fn history(pool: &AnyPool, since: i64) -> Result<Vec<HealthSample>, AppError> {
    let rows = sqlx::query(
        "SELECT at, replica, db_bytes, pool_in_use, pool_size, requests, requests_per_s, errors_5xx, p99_ms, ws_clients, event_lag_ms, rss_bytes \
         FROM system_health WHERE at >= $1 ORDER BY at, replica LIMIT 200000",
    )
    .bind(since)
    .fetch_all(pool)
    .await
    .context("reading system health")?;
    rows.iter()
        .map(|r| -> Result<HealthSample, sqlx::Error> {
            Ok(HealthSample {
                at: r.try_get("at")?,
                replica: r.try_get("replica")?,
                db_bytes: r.try_get("db_bytes")?,
                pool_in_use: r.try_get("pool_in_use")?,
                pool_size: r.try_get("pool_size")?,
                requests: r.try_get("requests")?,
                requests_per_s: r.try_get("requests_per_s")?,
                errors_5xx: r.try_get("errors_5xx")?,
                p99_ms: r.try_get("p99_ms")?,
                ws_clients: r.try_get("ws_clients")?,
                event_lag_ms: r.try_get("event_lag_ms")?,
                rss_bytes: r.try_get("rss_bytes")?,
            })
        })
        .collect::<Result<_, _>>()
        .context("decoding system health")
}

/// Samples at start-up, then every minute.
pub fn spawn_sampler(state: AppState) {
    tokio::spawn(async move {
        let replica = replica_name();
        loop {
            let now = crate::now_ms();
            match sample(&state, &replica, now).await {
                Ok(s) => {
                    if let Err(error) = store(&state.db.pool, &s).await {
                        tracing::warn!(%error, "storing a system health sample");
                    }
                }
                Err(error) => tracing::warn!(%error, "taking a system health sample"),
            }
            tokio::time::sleep(Duration::from_secs(60)).await;
        }
    });
}

/// The history, for the System page's server function.
pub struct SystemHealth(pub AnyPool);

#[async_trait::async_trait]
impl app::ports::SystemPort for SystemHealth {
    async fn health_history(&self, since: i64) -> Result<Vec<HealthSample>, AppError> {
        history(&self.0, since).await
    }
}
