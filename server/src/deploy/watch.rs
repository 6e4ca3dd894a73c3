//! The post-deploy watch: after a successful deploy to a target with a health URL, Flightdeck
//! checks it for `watch_s` seconds; `failure_threshold` failures in a row roll the deployment back
//! automatically, with the reason on the audit trail and in the deployment's log.

use super::logs::{self, Stream};
use super::Deployments;
use crate::jobs::{self, Claimed};
use app::deploy::{Initiator, RollbackRequest};
use sqlx::Row;
use std::time::Duration;

const CHECK_TIMEOUT: Duration = Duration::from_secs(5);

enum Verdict {
    Healthy,
    /// A newer deployment went out (or this one was rolled back): nothing left to watch.
    Superseded,
    Unhealthy {
        failures: i64,
        last: String,
    },
}

impl Deployments {
    /// Rolls back every deployment of `service` (in `environment`, when given) whose post-deploy
    /// watch window is still open: the latest deployment of its target, succeeded, not itself a
    /// rollback, finished less than the target's `watch_s` ago. The SLO evaluator calls this when
    /// a page-level burn starts.
    pub async fn roll_back_watched(
        &self,
        service: &str,
        environment: Option<&str>,
        reason: &str,
    ) -> Vec<Result<app::deploy::Accepted, app::error::AppError>> {
        let now = crate::now_ms();
        let rows = sqlx::query(
            "SELECT e.name AS environment FROM deployments d              JOIN targets t ON t.service_id = d.service_id AND t.environment_id = d.environment_id              JOIN services s ON s.id = d.service_id JOIN environments e ON e.id = d.environment_id              WHERE s.name = $1 AND d.status = 'succeeded' AND d.kind <> 'rollback' AND t.watch_s > 0              AND d.finished_at + t.watch_s * 1000 > $2              AND d.id = (SELECT MAX(o.id) FROM deployments o WHERE o.service_id = d.service_id AND o.environment_id = d.environment_id)",
        )
        .bind(service)
        .bind(now)
        .fetch_all(&self.pool)
        .await;
        let environments: Vec<String> = match rows {
            Ok(rows) => rows
                .iter()
                .filter_map(|r| r.try_get("environment").ok())
                .collect(),
            Err(e) => {
                return vec![Err(crate::error::internal(
                    "finding watched deployments",
                    e,
                ))]
            }
        };
        let mut outcomes = Vec::new();
        for env in environments
            .into_iter()
            .filter(|e| environment.is_none_or(|want| want == e))
        {
            let request = RollbackRequest {
                service: service.to_string(),
                environment: env,
                to_version: None,
                reason: reason.to_string(),
                // Flightdeck's own rollback: the policy needs no typed confirmation.
                confirm: None,
            };
            outcomes.push(self.rollback(&Initiator::policy(), request).await);
        }
        outcomes
    }

    pub(super) async fn run_watch(&self, job: &Claimed) -> Result<(), sqlx::Error> {
        let id = job.subject_id;
        let row = sqlx::query(
            "SELECT d.finished_at, d.service_id, d.environment_id, d.log_lines, s.name AS service, e.name AS environment \
             FROM deployments d JOIN services s ON s.id = d.service_id JOIN environments e ON e.id = d.environment_id \
             WHERE d.id = $1",
        )
        .bind(id)
        .fetch_optional(&self.pool)
        .await?;
        let Some(row) = row else {
            return self.finish_watch(job).await;
        };
        let settings = self
            .target_settings(row.try_get("service_id")?, row.try_get("environment_id")?)
            .await?;
        let (Some(url), Some(settings)) = (
            settings.as_ref().and_then(|s| s.health_url.clone()),
            settings,
        ) else {
            return self.finish_watch(job).await;
        };
        let finished_at: Option<i64> = row.try_get("finished_at")?;
        let until = finished_at.unwrap_or_else(crate::now_ms) + settings.watch_s * 1000;
        let service: String = row.try_get("service")?;
        let environment: String = row.try_get("environment")?;

        let (log, writer) = logs::spawn_writer(
            self.pool.clone(),
            self.bus.clone(),
            id,
            row.try_get("log_lines")?,
        );
        if job.attempts == 1 {
            let _ = log
                .send((
                    Stream::Flightdeck,
                    format!(
                    "Watching {url} for {} s; {} failed checks in a row roll back automatically.",
                    settings.watch_s, settings.failure_threshold
                ),
                ))
                .await;
        }
        let mut failures = 0;
        let verdict = loop {
            if crate::now_ms() >= until {
                break Verdict::Healthy;
            }
            if !self.jobs.renew(job.id).await? || !self.still_current(id).await? {
                break Verdict::Superseded;
            }
            match self.check_health(&url).await {
                Ok(()) => failures = 0,
                Err(why) => {
                    failures += 1;
                    let _ = log
                        .send((
                            Stream::Flightdeck,
                            format!(
                                "Health check failed ({failures} of {} in a row): {why}",
                                settings.failure_threshold
                            ),
                        ))
                        .await;
                    if failures >= settings.failure_threshold {
                        break Verdict::Unhealthy {
                            failures,
                            last: why,
                        };
                    }
                }
            }
            let left = Duration::from_millis((until - crate::now_ms()).max(0) as u64);
            tokio::time::sleep(self.settings.health_interval.min(left)).await;
        };
        match verdict {
            Verdict::Healthy => {
                let _ = log
                    .send((
                        Stream::Flightdeck,
                        format!("Watch window over: {url} stayed healthy."),
                    ))
                    .await;
            }
            Verdict::Superseded => {}
            Verdict::Unhealthy { failures, last } => {
                let reason = format!(
                    "Automatic rollback: {url} failed {failures} health checks in a row within {} s of the deploy (last: {last}).",
                    settings.watch_s
                );
                let request = RollbackRequest {
                    service,
                    environment,
                    to_version: None,
                    reason: reason.clone(),
                    confirm: None,
                };
                let line = match self.rollback(&Initiator::policy(), request).await {
                    Ok(accepted) => format!(
                        "{reason} Rolling back to {} as deployment #{}.",
                        accepted.target_version, accepted.id
                    ),
                    Err(refused) => {
                        tracing::warn!(deployment = id, error = %refused.message, "automatic rollback refused");
                        format!("Automatic rollback was refused: {}", refused.message)
                    }
                };
                let _ = log.send((Stream::Flightdeck, line)).await;
            }
        }
        drop(log);
        let _ = writer.await;
        self.finish_watch(job).await
    }

    async fn finish_watch(&self, job: &Claimed) -> Result<(), sqlx::Error> {
        let mut tx = self.pool.begin().await?;
        jobs::finish(&mut tx, job.id).await?;
        tx.commit().await
    }

    /// Whether deployment `id` is still succeeded and the newest one of its target.
    async fn still_current(&self, id: i64) -> Result<bool, sqlx::Error> {
        let row = sqlx::query(
            "SELECT d.status, (SELECT MAX(o.id) FROM deployments o WHERE o.service_id = d.service_id AND o.environment_id = d.environment_id) AS newest \
             FROM deployments d WHERE d.id = $1",
        )
        .bind(id)
        .fetch_one(&self.pool)
        .await?;
        let status: String = row.try_get("status")?;
        let newest: Option<i64> = row.try_get("newest")?;
        Ok(status == "succeeded" && newest == Some(id))
    }

    /// One GET of the health URL: any 2xx within the time limit is healthy.
    async fn check_health(&self, url: &str) -> Result<(), String> {
        let response = self
            .http
            .get(url)
            .timeout(CHECK_TIMEOUT)
            .send()
            .await
            .map_err(|e| {
                if e.is_timeout() {
                    format!("no answer within {} s", CHECK_TIMEOUT.as_secs())
                } else if e.is_connect() {
                    "could not connect".to_string()
                } else {
                    format!("request failed ({e})")
                }
            })?;
        let status = response.status();
        if status.is_success() {
            Ok(())
        } else {
            Err(format!("HTTP {}", status.as_u16()))
        }
    }
}
