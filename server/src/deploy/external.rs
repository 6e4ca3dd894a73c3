//! What CI/CD systems report through inbound webhooks: the outcome of a deployment handed to
//! them by the `webhook` deployer, a deployment they made on their own (recorded as it happened,
//! unless the version is quarantined there), or a successful build (a release). Everything runs
//! in the caller's transaction: the inbox applies a batch of deliveries in one commit, then calls
//! [`Deployments::after_commit`].

use super::rows::{history, is_quarantined, quarantine_refusal, release_id, resolve, Locked, Tx};
use super::{emit_updated, Deployments};
use crate::audit::{record, NewAudit};
use crate::error::Context as _;
use crate::store;
use app::deploy::*;
use app::error::AppError;
use sqlx::Row;

/// A deployment outcome, already normalised from the sender's payload.
pub struct ReportedDeployment {
    pub service: String,
    pub environment: String,
    pub version: String,
    pub git_sha: Option<String>,
    pub succeeded: bool,
    pub rollback: bool,
    pub deployment_id: Option<i64>,
}

impl Deployments {
    /// Tells the event bus and the workers that a transaction with deployment changes committed.
    pub fn after_commit(&self) {
        self.bus.wake();
        self.work.notify_one();
    }

    /// Applies a reported outcome; returns what it did, in words, for the delivery's record.
    pub async fn report(
        &self,
        tx: &mut Tx<'_>,
        source: &str,
        r: ReportedDeployment,
    ) -> Result<String, AppError> {
        let status = if r.succeeded { "succeeded" } else { "failed" };
        // A deployment Flightdeck handed to this system: the webhook deployer is waiting for it.
        let waiting = sqlx::query(
            "SELECT d.id FROM deployments d JOIN services s ON s.id = d.service_id JOIN environments e ON e.id = d.environment_id \
             JOIN targets t ON t.service_id = d.service_id AND t.environment_id = d.environment_id \
             WHERE d.status = 'running' AND t.deployer = 'webhook' AND (d.id = $1 OR ($1 IS NULL AND s.name = $2 AND e.name = $3)) \
             ORDER BY d.id LIMIT 1",
        )
        .bind(r.deployment_id)
        .bind(&r.service)
        .bind(&r.environment)
        .fetch_optional(&mut **tx)
        .await
        .context("finding a waiting deployment")?;
        if let Some(row) = waiting {
            let id: i64 = row.try_get(0).context("finding a waiting deployment")?;
            sqlx::query("UPDATE deployments SET external_status = $1 WHERE id = $2")
                .bind(status)
                .bind(id)
                .execute(&mut **tx)
                .await
                .context("recording a reported outcome")?;
            return Ok(format!("reported deployment #{id} {status}"));
        }
        self.record_reported(tx, source, r).await
    }

    /// Records a deployment another system made, as finished.
    async fn record_reported(
        &self,
        tx: &mut Tx<'_>,
        source: &str,
        r: ReportedDeployment,
    ) -> Result<String, AppError> {
        validate_version(&r.version).map_err(AppError::unprocessable)?;
        let (service_id, environment_id) = resolve(tx, &r.service, &r.environment).await?;
        let target = Locked {
            service_id,
            environment_id,
            service: r.service.clone(),
            environment: r.environment.clone(),
            // A report of what a CI/CD system already did: nothing to confirm.
            protected: false,
        };
        if is_quarantined(tx, &target, &r.version).await? {
            return Err(quarantine_refusal(&target, &r.version));
        }
        let past = history(tx, target.ids(), 50).await?;
        if let Some(active) = past.iter().find(|d| d.status.is_active()) {
            return Err(AppError::conflict(format!(
                "Deployment #{} is in progress in {}; the reported one was not recorded.",
                active.id, r.environment
            )));
        }
        let replaced_id = past
            .iter()
            .find(|d| d.status != DeploymentStatus::Cancelled)
            .map(|d| d.id);
        let release = release_id(tx, &target, &r.version, r.git_sha.as_deref(), None, true).await?;
        let now = crate::now_ms();
        let status = if r.succeeded {
            DeploymentStatus::Succeeded
        } else {
            DeploymentStatus::Failed
        };
        let kind = if r.rollback {
            DeploymentKind::Rollback
        } else {
            DeploymentKind::Deploy
        };
        let actor = Initiator::webhook(source).actor;
        let id = store::insert_id(
            sqlx::query(
                "INSERT INTO deployments (service_id, environment_id, release_id, kind, status, trigger_kind, actor, reason, created_at, started_at, finished_at, replaced_id, error) \
                 VALUES ($1, $2, $3, $4, $5, 'webhook', $6, $7, $8, $8, $8, $9, $10) RETURNING id",
            )
            .bind(service_id)
            .bind(environment_id)
            .bind(release)
            .bind(kind.as_str())
            .bind(status.as_str())
            .bind(&actor)
            .bind(format!("Reported by {source}"))
            .bind(now)
            .bind(replaced_id)
            .bind((!r.succeeded).then(|| format!("{source} reported the deployment failed."))),
            tx,
            "recording a reported deployment",
            |_| "Another deployment was recorded at the same moment; send it again.".into(),
        )
        .await?;
        emit_updated(tx, id)
            .await
            .context("publishing a deployment")?;
        record(
            tx,
            NewAudit {
                actor: &actor,
                action: "deployment.recorded",
                target: &format!("{}/{}", r.service, r.environment),
                reason: None,
                detail: serde_json::json!({ "deployment_id": id, "version": r.version, "status": status }),
            },
        )
        .await
        .context("auditing a reported deployment")?;
        Ok(format!("recorded deployment #{id} ({status})"))
    }

    /// A successful build: the release exists from now on (nothing is deployed).
    pub async fn register_release(
        &self,
        tx: &mut Tx<'_>,
        service: &str,
        version: &str,
        git_sha: &str,
    ) -> Result<String, AppError> {
        validate_version(version).map_err(AppError::unprocessable)?;
        let service_id: Option<i64> = sqlx::query("SELECT id FROM services WHERE name = $1")
            .bind(service)
            .fetch_optional(&mut **tx)
            .await
            .context("resolving a service")?
            .map(|row| row.try_get(0))
            .transpose()
            .context("resolving a service")?;
        let Some(service_id) = service_id else {
            return Err(AppError::missing(format!("No service named '{service}'.")));
        };
        let target = Locked {
            service_id,
            environment_id: 0,
            service: service.into(),
            environment: String::new(),
            protected: false,
        };
        let id = release_id(tx, &target, version, Some(git_sha), None, true).await?;
        Ok(format!("release {version} of {service} (#{id})"))
    }
}
