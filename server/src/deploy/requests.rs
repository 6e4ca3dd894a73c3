//! Deploy, rollback, promote, cancel, target settings and quarantine: every write a person or a
//! machine asks for. Each runs in one transaction that first locks the target row (see
//! `rows.rs`), so two requests for the same service and environment take turns and the second
//! sees the first.

use super::rows::*;
use super::{emit_updated, load_in, Deployments};
use crate::audit::NewAudit;
use crate::error::Context as _;
use crate::jobs::{self, JobKind};
use crate::store;
use app::deploy::rollback;
use app::deploy::*;
use app::error::AppError;
use app::model::Principal;
use sqlx::Row;

struct Submission<'a> {
    who: &'a Initiator,
    target: &'a Locked,
    release_id: i64,
    version: &'a str,
    kind: DeploymentKind,
    reason: Option<&'a str>,
    queue: bool,
    rolls_back_id: Option<i64>,
    audit_detail: serde_json::Value,
}

/// 409 unless a protected target's name was typed again (the transaction, not committed, is
/// dropped: nothing is recorded).
fn confirmed(target: &Locked, confirm: Option<&str>, who: &Initiator) -> Result<(), AppError> {
    check_confirmation(target.protected, &target.environment, confirm, who)
        .map_err(AppError::conflict)
}

impl Deployments {
    async fn begin_write(&self) -> Result<Tx<'static>, AppError> {
        store::begin_write(&self.pool, self.backend).await
    }

    /// Writes the queued deployment, its job, event and audit entry, and commits.
    async fn submit(&self, mut tx: Tx<'static>, s: Submission<'_>) -> Result<Accepted, AppError> {
        let history = history(&mut tx, s.target.ids(), 50).await?;
        if let Some(active) = history.iter().find(|d| d.status.is_active()) {
            if !s.queue {
                return Err(AppError::conflict(format!(
                    "Deployment #{} ({} {}) is still {} in {}; wait for it, cancel it, or ask to queue behind it.",
                    active.id, s.target.service, active.version, active.status, s.target.environment
                )));
            }
        }
        let replaced_id = history
            .iter()
            .find(|d| !d.status.is_active() && d.status != DeploymentStatus::Cancelled)
            .map(|d| d.id);
        let now = crate::now_ms();
        let id = store::insert_id(
            sqlx::query(
                "INSERT INTO deployments (service_id, environment_id, release_id, kind, status, trigger_kind, actor, reason, created_at, replaced_id, rolls_back_id) \
                 VALUES ($1, $2, $3, $4, 'queued', $5, $6, $7, $8, $9, $10) RETURNING id",
            )
            .bind(s.target.service_id)
            .bind(s.target.environment_id)
            .bind(s.release_id)
            .bind(s.kind.as_str())
            .bind(s.who.trigger.as_str())
            .bind(&s.who.actor)
            .bind(s.reason)
            .bind(now)
            .bind(replaced_id)
            .bind(s.rolls_back_id),
            &mut tx,
            "queueing a deployment",
            |_| "Another deployment was queued at the same moment; try again.".into(),
        )
        .await?;
        jobs::enqueue(&mut tx, JobKind::Deploy, id, now)
            .await
            .context("queueing a deployment job")?;
        emit_updated(&mut tx, id)
            .await
            .context("publishing a deployment")?;
        let mut detail = s.audit_detail;
        detail["deployment_id"] = id.into();
        detail["version"] = s.version.into();
        store::commit_audited(
            tx,
            &self.bus,
            NewAudit {
                actor: &s.who.actor,
                action: match s.kind {
                    DeploymentKind::Deploy => "deployment.requested",
                    DeploymentKind::Rollback => "rollback.requested",
                    DeploymentKind::Promote => "promotion.requested",
                },
                target: &format!("{}/{}", s.target.service, s.target.environment),
                reason: s.reason,
                detail,
            },
        )
        .await?;
        self.work.notify_one();
        Ok(Accepted {
            id,
            status: DeploymentStatus::Queued,
            environment: s.target.environment.clone(),
            target_version: s.version.to_string(),
        })
    }

    pub async fn deploy(
        &self,
        who: &Initiator,
        request: DeployRequest,
    ) -> Result<Accepted, AppError> {
        let request = request.normalized().map_err(AppError::unprocessable)?;
        self.maintenance.check_deploy(&request.environment)?;
        let mut tx = self.begin_write().await?;
        let target = lock_target(&mut tx, &request.service, &request.environment).await?;
        confirmed(&target, request.confirm.as_deref(), who)?;
        let release_id = release_id(
            &mut tx,
            &target,
            &request.version,
            request.git_sha.as_deref(),
            request.artifact.as_deref(),
            true,
        )
        .await?;
        if is_quarantined(&mut tx, &target, &request.version).await? {
            return Err(quarantine_refusal(&target, &request.version));
        }
        self.submit(
            tx,
            Submission {
                who,
                target: &target,
                release_id,
                version: &request.version,
                kind: DeploymentKind::Deploy,
                reason: request.reason.as_deref(),
                queue: request.queue,
                rolls_back_id: None,
                audit_detail: serde_json::json!({
                    "git_sha": request.git_sha,
                    "artifact": request.artifact.as_deref().map(app::redact::without_credentials),
                }),
            },
        )
        .await
    }

    /// Rolls back to the last good version (or the chosen one) and quarantines the bad one.
    pub async fn rollback(
        &self,
        who: &Initiator,
        request: RollbackRequest,
    ) -> Result<Accepted, AppError> {
        let reason = clean_reason(Some(request.reason))
            .map_err(AppError::unprocessable)?
            .ok_or_else(|| AppError::unprocessable("A rollback needs a reason: say what went wrong, for the people reading the audit trail later."))?;
        let to_version = request
            .to_version
            .as_deref()
            .map(str::trim)
            .filter(|v| !v.is_empty());
        if let Some(v) = to_version {
            validate_version(v).map_err(AppError::unprocessable)?;
        }
        let mut tx = self.begin_write().await?;
        let target =
            lock_target(&mut tx, request.service.trim(), request.environment.trim()).await?;
        confirmed(&target, request.confirm.as_deref(), who)?;
        let past = history(&mut tx, target.ids(), ROLLBACK_WINDOW).await?;
        let quarantined = quarantined_versions(&mut tx, target.ids()).await?;
        let plan = rollback::plan(&target.environment, &past, to_version, |v| {
            quarantined.iter().any(|q| q == v)
        })
        .map_err(AppError::conflict)?;
        let release_id =
            release_id(&mut tx, &target, &plan.target_version, None, None, false).await?;
        sqlx::query(
            "INSERT INTO quarantines (service_id, environment_id, version, deployment_id, reason, created_at) \
             VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (service_id, environment_id, version) DO NOTHING",
        )
        .bind(target.service_id)
        .bind(target.environment_id)
        .bind(&plan.bad_version)
        .bind(plan.bad_id)
        .bind(&reason)
        .bind(crate::now_ms())
        .execute(&mut *tx)
        .await
        .context("quarantining a version")?;
        self.submit(
            tx,
            Submission {
                who,
                target: &target,
                release_id,
                version: &plan.target_version,
                kind: DeploymentKind::Rollback,
                reason: Some(&reason),
                queue: false,
                rolls_back_id: Some(plan.bad_id),
                audit_detail: serde_json::json!({
                    "from_version": plan.bad_version,
                    "rolls_back": plan.bad_id,
                    "quarantined": plan.bad_version,
                }),
            },
        )
        .await
    }

    /// Deploys the version live in `from_environment` to the next environment by rank.
    pub async fn promote(
        &self,
        who: &Initiator,
        request: PromoteRequest,
    ) -> Result<Accepted, AppError> {
        let reason = clean_reason(request.reason).map_err(AppError::unprocessable)?;
        let service = request.service.trim();
        let from = request.from_environment.trim();
        let mut tx = self.begin_write().await?;
        let (service_id, from_id) = resolve(&mut tx, service, from).await?;
        let live = sqlx::query(
            "SELECT r.version FROM deployments d JOIN releases r ON r.id = d.release_id \
             WHERE d.service_id = $1 AND d.environment_id = $2 AND d.status = 'succeeded' ORDER BY d.id DESC LIMIT 1",
        )
        .bind(service_id)
        .bind(from_id)
        .fetch_optional(&mut *tx)
        .await
        .context("reading the live version")?;
        let version: String = match live {
            Some(row) => row.try_get(0).context("reading the live version")?,
            None => {
                return Err(AppError::conflict(format!(
                    "Nothing has succeeded in {from} yet, so there is nothing to promote."
                )))
            }
        };
        let next = sqlx::query(
            "SELECT name FROM environments WHERE rank > (SELECT rank FROM environments WHERE id = $1) ORDER BY rank LIMIT 1",
        )
        .bind(from_id)
        .fetch_optional(&mut *tx)
        .await
        .context("finding the next environment")?;
        let next: String = match next {
            Some(row) => row.try_get(0).context("finding the next environment")?,
            None => {
                return Err(AppError::conflict(format!(
                "{from} is the last environment in the pipeline; there is nowhere to promote to."
            )))
            }
        };
        self.maintenance.check_deploy(&next)?;
        let target = lock_target(&mut tx, service, &next).await?;
        confirmed(&target, request.confirm.as_deref(), who)?;
        let release_id = release_id(&mut tx, &target, &version, None, None, false).await?;
        if is_quarantined(&mut tx, &target, &version).await? {
            return Err(quarantine_refusal(&target, &version));
        }
        self.submit(
            tx,
            Submission {
                who,
                target: &target,
                release_id,
                version: &version,
                kind: DeploymentKind::Promote,
                reason: reason.as_deref(),
                queue: false,
                rolls_back_id: None,
                audit_detail: serde_json::json!({ "from_environment": from }),
            },
        )
        .await
    }

    /// Cancels a queued deployment at once, or asks the worker running it to stop.
    pub async fn cancel(&self, who: &Initiator, id: i64) -> Result<Deployment, AppError> {
        let mut tx = self.begin_write().await?;
        // A write first, for the same reason as in `lock_target`.
        sqlx::query("UPDATE deployments SET cancel_requested = $1 WHERE id = $2")
            .bind(true)
            .bind(id)
            .execute(&mut *tx)
            .await
            .context("cancelling a deployment")?;
        let deployment = load_in(&mut tx, id)
            .await
            .context("reading a deployment")?
            .ok_or_else(|| AppError::missing(format!("No deployment #{id}.")))?;
        let action = match deployment.status {
            DeploymentStatus::Queued => {
                sqlx::query(
                    "UPDATE deployments SET status = 'cancelled', finished_at = $1, error = $2 WHERE id = $3",
                )
                .bind(crate::now_ms())
                .bind(format!("Cancelled by {} before it started.", who.actor))
                .bind(id)
                .execute(&mut *tx)
                .await
                .context("cancelling a deployment")?;
                sqlx::query("UPDATE jobs SET done_at = $1 WHERE kind = 'deploy' AND subject_id = $2 AND done_at IS NULL")
                    .bind(crate::now_ms())
                    .bind(id)
                    .execute(&mut *tx)
                    .await
                    .context("cancelling a deployment job")?;
                "deployment.cancelled"
            }
            DeploymentStatus::Running => "deployment.cancel_requested",
            other => {
                return Err(AppError::conflict(format!(
                    "Deployment #{id} has already finished ({}); nothing to cancel.",
                    other.label()
                )))
            }
        };
        let updated = self.commit_change(tx, who, action, &deployment).await?;
        self.work.notify_one();
        Ok(updated)
    }

    /// Creates or replaces how `service` is deployed to `environment` (admins only: a command
    /// target runs on this server).
    pub async fn set_target(
        &self,
        actor: &Principal,
        service: &str,
        environment: &str,
        settings: TargetSettings,
    ) -> Result<Target, AppError> {
        let settings = settings.normalized().map_err(AppError::unprocessable)?;
        if settings.deployer == DeployerKind::Webhook && self.signing_secret.is_none() {
            return Err(AppError::unprocessable(
                "The webhook deployer signs its requests: set FLIGHTDECK_DEPLOYER_WEBHOOK_SECRET (and give the same secret to the receiving system) first.",
            ));
        }
        let mut tx = self.begin_write().await?;
        let (service_id, environment_id) = resolve(&mut tx, service, environment).await?;
        let now = crate::now_ms();
        sqlx::query(
            "INSERT INTO targets (service_id, environment_id, deployer, command, url, timeout_s, health_url, watch_s, failure_threshold, updated_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) \
             ON CONFLICT (service_id, environment_id) DO UPDATE SET deployer = excluded.deployer, command = excluded.command, \
               url = excluded.url, timeout_s = excluded.timeout_s, health_url = excluded.health_url, watch_s = excluded.watch_s, \
               failure_threshold = excluded.failure_threshold, updated_at = excluded.updated_at",
        )
        .bind(service_id)
        .bind(environment_id)
        .bind(settings.deployer.as_str())
        .bind(settings.command.as_deref())
        .bind(settings.url.as_deref())
        .bind(settings.timeout_s)
        .bind(settings.health_url.as_deref())
        .bind(settings.watch_s)
        .bind(settings.failure_threshold)
        .bind(now)
        .execute(&mut *tx)
        .await
        .context("saving a target")?;
        // The command itself stays out of the audit trail: it may carry credentials.
        store::commit_audited(
            tx,
            &self.bus,
            NewAudit {
                actor: &actor.actor(),
                action: "target.configured",
                target: &format!("{service}/{environment}"),
                reason: None,
                detail: serde_json::json!({
                    "deployer": settings.deployer,
                    "timeout_s": settings.timeout_s,
                    "watch_s": settings.watch_s,
                    "failure_threshold": settings.failure_threshold,
                    "health_check": settings.health_url.is_some(),
                }),
            },
        )
        .await?;
        Ok(Target {
            service: service.into(),
            environment: environment.into(),
            settings,
            updated_at: now,
        })
    }

    /// Publishes a change a person made to `deployment` (cancel, dismiss) and commits it with its
    /// audit entry; returns the deployment as it is now.
    async fn commit_change(
        &self,
        mut tx: Tx<'static>,
        who: &Initiator,
        action: &str,
        deployment: &Deployment,
    ) -> Result<Deployment, AppError> {
        let updated = emit_updated(&mut tx, deployment.id)
            .await
            .context("publishing a deployment")?;
        store::commit_audited(
            tx,
            &self.bus,
            NewAudit {
                actor: &who.actor,
                action,
                target: &format!("{}/{}", deployment.service, deployment.environment),
                reason: None,
                detail: serde_json::json!({ "deployment_id": deployment.id, "version": deployment.version }),
            },
        )
        .await?;
        Ok(updated)
    }

    /// Dismisses a failed deployment: a person saw it, the version before it still serves, and
    /// the matrix shows that version again. Only the newest deployment of its target, and only
    /// once; audited.
    pub async fn dismiss(&self, who: &Initiator, id: i64) -> Result<Deployment, AppError> {
        let mut tx = self.begin_write().await?;
        let deployment = load_in(&mut tx, id)
            .await
            .context("reading a deployment")?
            .ok_or_else(|| AppError::missing(format!("No deployment #{id}.")))?;
        if deployment.status != DeploymentStatus::Failed {
            return Err(AppError::conflict(format!(
                "Deployment #{id} is {}; only a failed deployment can be dismissed.",
                deployment.status.label().to_lowercase()
            )));
        }
        if deployment.dismissed_at.is_some() {
            return Err(AppError::conflict(format!(
                "Deployment #{id} was already dismissed."
            )));
        }
        let newer = sqlx::query(
            "SELECT COUNT(*) FROM deployments d JOIN deployments o \
               ON o.service_id = d.service_id AND o.environment_id = d.environment_id \
             WHERE d.id = $1 AND o.id > d.id AND o.status <> 'cancelled'",
        )
        .bind(id)
        .fetch_one(&mut *tx)
        .await
        .context("checking for newer deployments")?
        .try_get::<i64, _>(0)
        .context("checking for newer deployments")?;
        if newer > 0 {
            return Err(AppError::conflict(format!(
                "A newer deployment of {} to {} replaced #{id} already; there is nothing to dismiss.",
                deployment.service, deployment.environment
            )));
        }
        sqlx::query("UPDATE deployments SET dismissed_at = $1, dismissed_by = $2 WHERE id = $3")
            .bind(crate::now_ms())
            .bind(&who.actor)
            .bind(id)
            .execute(&mut *tx)
            .await
            .context("dismissing a deployment")?;
        self.commit_change(tx, who, "deployment.dismissed", &deployment)
            .await
    }

    pub async fn lift_quarantine(
        &self,
        actor: &Principal,
        service: &str,
        environment: &str,
        version: &str,
    ) -> Result<(), AppError> {
        let mut tx = self.begin_write().await?;
        let (service_id, environment_id) = resolve(&mut tx, service, environment).await?;
        let lifted = sqlx::query(
            "DELETE FROM quarantines WHERE service_id = $1 AND environment_id = $2 AND version = $3",
        )
        .bind(service_id)
        .bind(environment_id)
        .bind(version)
        .execute(&mut *tx)
        .await
        .context("lifting a quarantine")?;
        if lifted.rows_affected() == 0 {
            return Err(AppError::missing(format!(
                "{version} of {service} is not quarantined in {environment}."
            )));
        }
        store::commit_audited(
            tx,
            &self.bus,
            NewAudit {
                actor: &actor.actor(),
                action: "quarantine.lifted",
                target: &format!("{service}/{environment}"),
                reason: None,
                detail: serde_json::json!({ "version": version }),
            },
        )
        .await
    }
}
