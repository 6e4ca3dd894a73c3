//! The worker loop: claim due jobs (up to a few at once), run them, record the outcome together
//! with the job's completion. Woken by new work in this process, and polling for work written by
//! other replicas or left behind by a crashed one.

use super::logs::{self, Stream};
use super::rows::decode_settings;
use super::{deployers, emit_updated, Deployments};
use crate::audit::{record, NewAudit};
use crate::jobs::{self, Claimed, JobKind};
use crate::shutdown::Phase;
use app::deploy::{Deployment, DeploymentStatus, TargetSettings};
use sqlx::Row;
use std::sync::Arc;
use std::time::Duration;

/// Jobs one process runs at the same time.
pub(super) const PARALLEL: usize = 8;
const POLL: Duration = Duration::from_secs(1);
/// When a job fails for a reason outside it (the database was unreachable), it is tried again.
const RETRY: Duration = Duration::from_secs(5);

pub(super) enum Outcome {
    Succeeded,
    Failed(String),
    Cancelled(String),
}

impl Deployments {
    /// Starts this process's worker loop; it runs until the process ends.
    pub fn spawn_workers(self: &Arc<Self>) -> tokio::task::JoinHandle<()> {
        let this = Arc::clone(self);
        tokio::spawn(async move { this.work_loop().await })
    }

    /// On SQLite the database belongs to this one process, so a job still leased when it starts
    /// was interrupted by the previous run stopping: its lease is ended now, and the next claim
    /// marks the deployment failed at once instead of after the lease would have run out. On
    /// PostgreSQL another replica may be running it, so there only an expired lease counts.
    pub async fn recover_interrupted(&self) -> Result<u64, sqlx::Error> {
        if self.backend != crate::db::Backend::Sqlite {
            return Ok(0);
        }
        let ended = sqlx::query(
            "UPDATE jobs SET lease_until = 0 WHERE done_at IS NULL AND lease_until IS NOT NULL",
        )
        .execute(&self.pool)
        .await?
        .rows_affected();
        if ended > 0 {
            tracing::warn!(
                jobs = ended,
                "found work interrupted by the last stop; it is picked up again now"
            );
        }
        Ok(ended)
    }

    /// Completes when no job of this process is running any more: at shutdown, after the
    /// workers stopped claiming.
    pub async fn drained(&self) {
        let _ = self.slots.acquire_many(PARALLEL as u32).await;
    }

    async fn work_loop(self: Arc<Self>) {
        while self.shutdown.phase() == Phase::Serving {
            while let Ok(slot) = self.slots.clone().try_acquire_owned() {
                if self.shutdown.phase() != Phase::Serving {
                    break;
                }
                match self.jobs.claim().await {
                    Ok(Some(job)) => {
                        let this = Arc::clone(&self);
                        tokio::spawn(async move {
                            this.run_job(&job).await;
                            drop(slot);
                            this.work.notify_one();
                        });
                    }
                    Ok(None) => break,
                    Err(error) => {
                        tracing::warn!(%error, "could not claim background jobs; retrying");
                        break;
                    }
                }
            }
            tokio::select! {
                _ = self.work.notified() => {}
                _ = tokio::time::sleep(POLL) => {}
                _ = self.shutdown.reached(Phase::Draining) => {}
            }
        }
    }

    async fn run_job(&self, job: &Claimed) {
        let result = match job.kind {
            JobKind::Deploy => self.run_deployment(job).await,
            // A watch only observes, so it need not finish here: it hands its job back, and the
            // next start (or another replica) watches for the time that is left.
            JobKind::Watch => tokio::select! {
                watched = self.run_watch(job) => watched,
                _ = self.shutdown.reached(Phase::Draining) => self.jobs.postpone(job.id, Duration::ZERO).await,
            },
        };
        if let Err(error) = result {
            tracing::warn!(job = job.id, kind = job.kind.as_str(), subject = job.subject_id, %error, "background job failed; it will be retried");
            let _ = self.jobs.postpone(job.id, RETRY).await;
        }
    }

    pub(super) async fn target_settings(
        &self,
        service_id: i64,
        environment_id: i64,
    ) -> Result<Option<TargetSettings>, sqlx::Error> {
        sqlx::query("SELECT * FROM targets WHERE service_id = $1 AND environment_id = $2")
            .bind(service_id)
            .bind(environment_id)
            .fetch_optional(&self.pool)
            .await?
            .as_ref()
            .map(decode_settings)
            .transpose()
    }

    async fn run_deployment(&self, job: &Claimed) -> Result<(), sqlx::Error> {
        let id = job.subject_id;
        let row = sqlx::query(
            "SELECT status, cancel_requested, log_lines, service_id, environment_id FROM deployments WHERE id = $1",
        )
        .bind(id)
        .fetch_optional(&self.pool)
        .await?;
        let Some(row) = row else {
            return self.finish(job, id, None).await;
        };
        let status: String = row.try_get("status")?;
        let cancel = crate::db::get_bool(&row, "cancel_requested")?;
        match DeploymentStatus::parse(&status) {
            Some(DeploymentStatus::Queued) if cancel => {
                return self
                    .finish(
                        job,
                        id,
                        Some((
                            Outcome::Cancelled("Cancelled before it started.".into()),
                            None,
                        )),
                    )
                    .await
            }
            Some(DeploymentStatus::Queued) => {}
            Some(DeploymentStatus::Running) => {
                // Our claim found it running: the worker that started it stopped renewing its lease.
                let why = "Interrupted: the Flightdeck process running this deployment stopped before it finished. Check the environment, then deploy or roll back.";
                return self
                    .finish(job, id, Some((Outcome::Failed(why.into()), None)))
                    .await;
            }
            _ => return self.finish(job, id, None).await,
        }
        let service_id: i64 = row.try_get("service_id")?;
        let environment_id: i64 = row.try_get("environment_id")?;
        let log_lines: i64 = row.try_get("log_lines")?;

        let mut tx = self.pool.begin().await?;
        let started = sqlx::query(
            "UPDATE deployments SET status = 'running', started_at = $1 WHERE id = $2 AND status = 'queued'",
        )
        .bind(crate::now_ms())
        .bind(id)
        .execute(&mut *tx)
        .await;
        match started {
            Ok(done) if done.rows_affected() == 1 => {}
            Ok(_) => return self.finish(job, id, None).await,
            Err(e) if crate::error::is_unique_violation(&e) => {
                // Another deployment of this target is running (started by a replica that did
                // not see this one queued); wait for it.
                drop(tx);
                return self.jobs.postpone(job.id, Duration::from_secs(1)).await;
            }
            Err(e) => return Err(e),
        }
        let deployment = emit_updated(&mut tx, id).await?;
        tx.commit().await?;
        self.bus.wake();

        let Some(settings) = self.target_settings(service_id, environment_id).await? else {
            let why = "The target's deployer settings were removed before it started.";
            return self
                .finish(job, id, Some((Outcome::Failed(why.into()), None)))
                .await;
        };
        let (log, writer) = logs::spawn_writer(self.pool.clone(), self.bus.clone(), id, log_lines);
        let _ = log
            .send((
                Stream::Flightdeck,
                format!(
                    "{} {} {} to {} with the {} deployer (time limit {} s)",
                    capitalized(deployment.kind.as_str()),
                    deployment.service,
                    deployment.version,
                    deployment.environment,
                    settings.deployer,
                    settings.timeout_s
                ),
            ))
            .await;
        let deployment = Deployment {
            artifact: super::raw_artifact(&self.pool, id).await?,
            ..deployment
        };
        let outcome = {
            let run = deployers::run(self, &settings, &deployment, &log);
            tokio::pin!(run);
            let deadline = tokio::time::sleep(Duration::from_secs(settings.timeout_s as u64));
            tokio::pin!(deadline);
            let mut tick =
                tokio::time::interval((self.settings.lease / 3).max(Duration::from_millis(200)));
            tick.tick().await;
            loop {
                tokio::select! {
                    result = &mut run => break match result {
                        Ok(()) => Outcome::Succeeded,
                        Err(why) => Outcome::Failed(why),
                    },
                    _ = &mut deadline => break Outcome::Failed(format!(
                        "Timed out after {} s; the deployer was stopped.", settings.timeout_s
                    )),
                    _ = self.shutdown.reached(Phase::Abandoning) => break Outcome::Failed(
                        "Interrupted: Flightdeck was shut down and this deployment did not finish within the shutdown allowance (FLIGHTDECK_SHUTDOWN_TIMEOUT_S); the deployer was stopped. Check the environment, then deploy or roll back.".into()
                    ),
                    _ = tick.tick() => {
                        match self.jobs.renew(job.id).await {
                            Ok(true) => {}
                            Ok(false) => {
                                tracing::warn!(deployment = id, "lost the lease on a running deployment; another worker took over");
                                return Ok(());
                            }
                            Err(error) => tracing::warn!(deployment = id, %error, "could not renew a job lease"),
                        }
                        if self.cancel_requested(id).await {
                            break Outcome::Cancelled("Cancelled while running; the deployer was stopped.".into());
                        }
                    }
                }
            }
        };
        let last = match &outcome {
            Outcome::Succeeded => "Succeeded.".to_string(),
            Outcome::Failed(why) | Outcome::Cancelled(why) => why.clone(),
        };
        let _ = log.send((Stream::Flightdeck, last)).await;
        drop(log);
        let _ = writer.await;
        self.finish(job, id, Some((outcome, Some(&settings)))).await
    }

    async fn cancel_requested(&self, id: i64) -> bool {
        sqlx::query("SELECT cancel_requested FROM deployments WHERE id = $1")
            .bind(id)
            .fetch_one(&self.pool)
            .await
            .and_then(|row| crate::db::get_bool(&row, "cancel_requested"))
            .unwrap_or(false)
    }

    /// Records the outcome (if any) and completes the job, in one transaction. A succeeded
    /// rollback marks the deployment it replaced rolled_back; a succeeded deploy with a health
    /// watch gets its watch job.
    async fn finish(
        &self,
        job: &Claimed,
        id: i64,
        outcome: Option<(Outcome, Option<&TargetSettings>)>,
    ) -> Result<(), sqlx::Error> {
        let mut tx = self.pool.begin().await?;
        jobs::finish(&mut tx, job.id).await?;
        if let Some((outcome, settings)) = outcome {
            let (status, error) = match &outcome {
                Outcome::Succeeded => (DeploymentStatus::Succeeded, None),
                Outcome::Failed(why) => (DeploymentStatus::Failed, Some(why.as_str())),
                Outcome::Cancelled(why) => (DeploymentStatus::Cancelled, Some(why.as_str())),
            };
            let now = crate::now_ms();
            sqlx::query(
                "UPDATE deployments SET status = $1, finished_at = $2, error = $3 WHERE id = $4 AND status IN ('queued', 'running')",
            )
            .bind(status.as_str())
            .bind(now)
            .bind(error)
            .bind(id)
            .execute(&mut *tx)
            .await?;
            if status == DeploymentStatus::Succeeded {
                let replaced: Option<i64> =
                    sqlx::query("SELECT rolls_back_id FROM deployments WHERE id = $1")
                        .bind(id)
                        .fetch_one(&mut *tx)
                        .await?
                        .try_get(0)?;
                if let Some(bad) = replaced {
                    let marked = sqlx::query(
                        "UPDATE deployments SET status = 'rolled_back' WHERE id = $1 AND status IN ('succeeded', 'failed')",
                    )
                    .bind(bad)
                    .execute(&mut *tx)
                    .await?;
                    if marked.rows_affected() == 1 {
                        emit_updated(&mut tx, bad).await?;
                    }
                }
                if settings.is_some_and(TargetSettings::watches) {
                    jobs::enqueue(&mut tx, JobKind::Watch, id, now).await?;
                }
            }
            let d = emit_updated(&mut tx, id).await?;
            record(
                &mut tx,
                NewAudit {
                    actor: "flightdeck",
                    action: match status {
                        DeploymentStatus::Succeeded => "deployment.succeeded",
                        DeploymentStatus::Cancelled => "deployment.cancelled",
                        _ => "deployment.failed",
                    },
                    target: &format!("{}/{}", d.service, d.environment),
                    reason: None,
                    detail: serde_json::json!({
                        "deployment_id": id, "kind": d.kind, "version": d.version, "error": d.error,
                    }),
                },
            )
            .await?;
        }
        tx.commit().await?;
        self.bus.wake();
        self.work.notify_one();
        Ok(())
    }
}

fn capitalized(word: &str) -> String {
    let mut chars = word.chars();
    chars
        .next()
        .map(|c| c.to_uppercase().chain(chars).collect())
        .unwrap_or_default()
}
