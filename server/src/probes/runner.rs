//! The prober: claims components whose check is due (one conditional UPDATE moves the due time
//! forward, so replicas never check one component twice per interval), runs their probes
//! concurrently, and records each outcome in one transaction: the result, the new status, the
//! SLO counts and, when the status changed, a live event. Going down raises a `ComponentDown`
//! alert; recovering resolves it.

use super::{checks, decode, Components, RETENTION_MS, SELECT_COMPONENT};
use crate::alerts::incoming::Incoming;
use crate::error::Context as _;
use crate::store;
use app::error::AppError;
use app::health::alert::{fingerprint, AlertSource};
use app::health::component::{Component, ProbeSpec};
use app::health::probe::{self, Check, RECENT};
use app::health::HealthStatus;
use sqlx::Row;
use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::Semaphore;

/// Probes running at once; more due components wait for a free slot.
const CONCURRENCY: usize = 64;
const TICK: Duration = Duration::from_millis(250);

impl Components {
    pub fn spawn_worker(self: &Arc<Self>) {
        let components = self.clone();
        tokio::spawn(async move {
            let slots = Arc::new(Semaphore::new(CONCURRENCY));
            let mut last_cleanup = 0;
            loop {
                let now = crate::now_ms();
                match components.claim_due(now, slots.available_permits()).await {
                    Ok(due) => {
                        for (id, spec) in due {
                            let Ok(permit) = slots.clone().acquire_owned().await else {
                                return;
                            };
                            let components = components.clone();
                            tokio::spawn(async move {
                                if let Err(e) = components.check(id, &spec).await {
                                    tracing::warn!(component = id, error = %e.message, "recording a probe failed");
                                }
                                drop(permit);
                            });
                        }
                    }
                    Err(e) => tracing::warn!(error = %e.message, "claiming due probes failed"),
                }
                if now - last_cleanup > 3_600_000 {
                    last_cleanup = now;
                    if let Err(e) = components.forget_old(now).await {
                        tracing::warn!(error = %e.message, "deleting old probe results failed");
                    }
                }
                tokio::time::sleep(TICK).await;
            }
        });
    }

    /// Claims up to `limit` components due at `now`.
    pub async fn claim_due(
        &self,
        now: i64,
        limit: usize,
    ) -> Result<Vec<(i64, ProbeSpec)>, AppError> {
        if limit == 0 {
            return Ok(Vec::new());
        }
        let rows = sqlx::query(
            "SELECT id, probe, interval_s, next_check_at FROM components WHERE next_check_at <= $1 ORDER BY next_check_at LIMIT $2",
        )
        .bind(now)
        .bind(limit as i64)
        .fetch_all(&self.pool)
        .await
        .context("claiming due probes")?;
        let mut claimed = Vec::with_capacity(rows.len());
        for row in rows {
            let id: i64 = row.try_get("id").context("claiming due probes")?;
            let interval_s: i64 = row.try_get("interval_s").context("claiming due probes")?;
            let due: i64 = row
                .try_get("next_check_at")
                .context("claiming due probes")?;
            let won = sqlx::query(
                "UPDATE components SET next_check_at = $2 WHERE id = $1 AND next_check_at = $3",
            )
            .bind(id)
            .bind(now + interval_s * 1000)
            .bind(due)
            .execute(&self.pool)
            .await
            .context("claiming due probes")?
            .rows_affected()
                == 1;
            let probe: String = row.try_get("probe").context("claiming due probes")?;
            if let (true, Ok(spec)) = (won, serde_json::from_str::<ProbeSpec>(&probe)) {
                claimed.push((id, spec));
            }
        }
        Ok(claimed)
    }

    /// Runs one component's probe now and records the outcome.
    pub async fn check(&self, id: i64, spec: &ProbeSpec) -> Result<Component, AppError> {
        let outcome = checks::run(spec, &self.http, self.prometheus.as_ref()).await;
        self.record(
            id,
            spec,
            crate::now_ms(),
            outcome.ok,
            outcome.latency_ms,
            &outcome.detail,
        )
        .await
    }

    /// Records one check taken at `at`: result, status, SLO counts, and the alert when the
    /// component went down or recovered.
    pub async fn record(
        &self,
        id: i64,
        spec: &ProbeSpec,
        at: i64,
        ok: bool,
        latency_ms: Option<u32>,
        detail: &str,
    ) -> Result<Component, AppError> {
        let mut tx = store::begin_write(&self.pool, self.backend).await?;
        let before: String = sqlx::query("SELECT status FROM components WHERE id = $1")
            .bind(id)
            .fetch_optional(&mut *tx)
            .await
            .context("recording a probe result")?
            .ok_or_else(|| AppError::not_found(format!("component {id}")))?
            .try_get(0)
            .context("recording a probe result")?;
        let before = HealthStatus::parse(&before).unwrap_or(HealthStatus::Unknown);
        sqlx::query("INSERT INTO probe_results (component_id, at, ok, latency_ms, detail) VALUES ($1, $2, $3, $4, $5)")
            .bind(id)
            .bind(at)
            .bind(ok as i64)
            .bind(latency_ms.map(i64::from))
            .bind(detail)
            .execute(&mut *tx)
            .await
            .context("recording a probe result")?;
        let recent: Vec<Check> = sqlx::query(
            "SELECT ok, latency_ms FROM probe_results WHERE component_id = $1 ORDER BY at DESC, id DESC LIMIT $2",
        )
        .bind(id)
        .bind(RECENT as i64)
        .fetch_all(&mut *tx)
        .await
        .context("recording a probe result")?
        .iter()
        .map(|r| {
            let latency: Option<i64> = r.try_get("latency_ms")?;
            Ok(Check { ok: crate::db::get_bool(r, "ok")?, latency_ms: latency.map(|l| l.clamp(0, u32::MAX as i64) as u32) })
        })
        .collect::<Result<_, sqlx::Error>>()
        .context("recording a probe result")?;
        let status = probe::status(&recent, spec.latency_threshold_ms);
        let reason = probe::explain(&recent, spec.latency_threshold_ms);
        sqlx::query(
            "UPDATE components SET status = $2, status_reason = $3, last_checked_at = $4, last_latency_ms = $5, \
             status_since = CASE WHEN status = $2 THEN status_since ELSE $4 END WHERE id = $1",
        )
        .bind(id)
        .bind(status.as_str())
        .bind(&reason)
        .bind(at)
        .bind(latency_ms.map(i64::from))
        .execute(&mut *tx)
        .await
        .context("recording a probe result")?;
        let row = sqlx::query(&format!("{SELECT_COMPONENT} WHERE c.id = $1"))
            .bind(id)
            .fetch_one(&mut *tx)
            .await
            .context("recording a probe result")?;
        let component = decode(&row).context("recording a probe result")?;
        // Planned downtime does not spend the error budget.
        if !self.maintenance.covers(component.environment.as_deref()) {
            crate::slos::counts::record_check(&mut tx, id, at, ok, latency_ms)
                .await
                .context("recording a probe result")?;
        }
        if status != before {
            let data = serde_json::to_value(&component).unwrap_or_default();
            crate::events::append(
                &mut tx,
                app::health::topics::COMPONENTS,
                "component.updated",
                &data,
            )
            .await
            .context("recording a probe result")?;
        }
        tx.commit().await.context("recording a probe result")?;
        if status != before {
            self.bus.wake();
        }
        // A component that stays down sends its alert again with every check, as Prometheus
        // resends a firing alert: the alert's last-seen time, count and text stay current.
        if status != before || status == HealthStatus::Down {
            self.raise_or_resolve(&component, before).await?;
        }
        Ok(component)
    }

    /// Down raises `ComponentDown` (again while it stays down); back to healthy resolves it.
    /// Degraded neither raises nor resolves: a flapping component keeps its alert until it is
    /// healthy again.
    async fn raise_or_resolve(
        &self,
        component: &Component,
        before: HealthStatus,
    ) -> Result<(), AppError> {
        let resolved = match (before, component.status) {
            (_, HealthStatus::Down) => false,
            (HealthStatus::Down | HealthStatus::Degraded, HealthStatus::Healthy) => true,
            _ => return Ok(()),
        };
        let mut labels = BTreeMap::from([
            ("alertname".to_string(), "ComponentDown".to_string()),
            ("component".to_string(), component.name.clone()),
            ("severity".to_string(), "critical".to_string()),
        ]);
        if let Some(service) = &component.service {
            labels.insert("service".into(), service.clone());
        }
        if let Some(environment) = &component.environment {
            labels.insert("environment".into(), environment.clone());
        }
        let annotations = BTreeMap::from([(
            "summary".to_string(),
            format!("{} is down: {}", component.name, component.status_reason),
        )]);
        let incoming = Incoming {
            fingerprint: fingerprint(&labels),
            labels,
            annotations,
            starts_at: Some(component.status_since),
            ends_at: None,
            generator_url: None,
            resolved,
        };
        self.alerts
            .ingest(AlertSource::Probe, vec![incoming])
            .await
            .map(|_| ())
    }

    async fn forget_old(&self, now: i64) -> Result<(), AppError> {
        sqlx::query("DELETE FROM probe_results WHERE at < $1")
            .bind(now - RETENTION_MS)
            .execute(&self.pool)
            .await
            .context("deleting old probe results")?;
        crate::slos::counts::forget_old(&self.pool, now).await
    }
}
