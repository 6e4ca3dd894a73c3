//! Reads and locks inside a request's transaction: names to ids, the target row lock, releases,
//! quarantines and a target's recent history. Shared by the requests people make
//! (`requests.rs`) and the outcomes CI systems report (`external.rs`).

use crate::error::Context as _;
use crate::store;
use app::deploy::rollback::PastDeployment;
use app::deploy::*;
use app::error::AppError;
use sqlx::{Any, Row, Transaction};

pub(super) type Tx<'c> = Transaction<'c, Any>;

/// A target, locked for the rest of the transaction.
pub(super) struct Locked {
    pub service_id: i64,
    pub environment_id: i64,
    pub service: String,
    pub environment: String,
    /// Whether the environment asks for its name typed again (`check_confirmation`).
    pub protected: bool,
}

impl Locked {
    pub fn ids(&self) -> (i64, i64) {
        (self.service_id, self.environment_id)
    }
}

pub(super) fn decode_settings(row: &sqlx::any::AnyRow) -> Result<TargetSettings, sqlx::Error> {
    let deployer: String = row.try_get("deployer")?;
    Ok(TargetSettings {
        deployer: DeployerKind::parse(&deployer)
            .ok_or_else(|| sqlx::Error::Decode(format!("unknown deployer '{deployer}'").into()))?,
        command: row.try_get("command")?,
        url: row.try_get("url")?,
        timeout_s: row.try_get("timeout_s")?,
        health_url: row.try_get("health_url")?,
        watch_s: row.try_get("watch_s")?,
        failure_threshold: row.try_get("failure_threshold")?,
    })
}

/// Ids of a service and an environment by name; 404 naming whichever is unknown.
pub(super) async fn resolve(
    tx: &mut Tx<'_>,
    service: &str,
    environment: &str,
) -> Result<(i64, i64), AppError> {
    let row = sqlx::query(
        "SELECT (SELECT id FROM services WHERE name = $1) AS service_id, \
                (SELECT id FROM environments WHERE name = $2) AS environment_id",
    )
    .bind(service)
    .bind(environment)
    .fetch_one(&mut **tx)
    .await
    .context("resolving names")?;
    let service_id: Option<i64> = row.try_get("service_id").context("resolving names")?;
    let environment_id: Option<i64> = row.try_get("environment_id").context("resolving names")?;
    match (service_id, environment_id) {
        (None, _) => Err(AppError::missing(format!("No service named '{service}'."))),
        (_, None) => Err(AppError::missing(format!(
            "No environment named '{environment}'."
        ))),
        (Some(s), Some(e)) => Ok((s, e)),
    }
}

pub(super) async fn lock_target(
    tx: &mut Tx<'_>,
    service: &str,
    environment: &str,
) -> Result<Locked, AppError> {
    let (service_id, environment_id) = resolve(tx, service, environment).await?;
    // The write comes first: it takes SQLite's write lock (or the row lock on PostgreSQL) before
    // anything is read, so the reads below cannot be stale.
    let bumped = sqlx::query(
        "UPDATE targets SET request_count = request_count + 1 WHERE service_id = $1 AND environment_id = $2",
    )
    .bind(service_id)
    .bind(environment_id)
    .execute(&mut **tx)
    .await
    .context("locking a target")?;
    if bumped.rows_affected() == 0 {
        return Err(AppError::unprocessable(format!(
            "{service} has no deployer configured for {environment}; an admin sets one with PUT /api/v1/services/{service}/targets/{environment}."
        )));
    }
    let row = sqlx::query("SELECT protected FROM environments WHERE id = $1")
        .bind(environment_id)
        .fetch_one(&mut **tx)
        .await
        .context("reading an environment")?;
    Ok(Locked {
        service_id,
        environment_id,
        service: service.into(),
        environment: environment.into(),
        protected: crate::db::get_bool(&row, "protected").context("reading an environment")?,
    })
}

/// Finds the release, creating it when `create` holds. Releases are immutable: the same version
/// with a different git sha or artifact is refused rather than silently changed.
pub(super) async fn release_id(
    tx: &mut Tx<'_>,
    target: &Locked,
    version: &str,
    git_sha: Option<&str>,
    artifact: Option<&str>,
    create: bool,
) -> Result<i64, AppError> {
    let existing = sqlx::query(
        "SELECT id, git_sha, artifact FROM releases WHERE service_id = $1 AND version = $2",
    )
    .bind(target.service_id)
    .bind(version)
    .fetch_optional(&mut **tx)
    .await
    .context("reading a release")?;
    if let Some(row) = existing {
        let stored_sha: Option<String> = row.try_get("git_sha").context("reading a release")?;
        let stored_artifact: Option<String> =
            row.try_get("artifact").context("reading a release")?;
        let differs = |given: Option<&str>, stored: &Option<String>| matches!((given, stored), (Some(g), Some(s)) if g != s);
        if differs(git_sha, &stored_sha) || differs(artifact, &stored_artifact) {
            return Err(AppError::conflict(format!(
                "Release {version} of {} already exists with a different git sha or artifact; releases never change, so give the new build a new version.",
                target.service
            )));
        }
        let id: i64 = row.try_get("id").context("reading a release")?;
        if (git_sha.is_some() && stored_sha.is_none())
            || (artifact.is_some() && stored_artifact.is_none())
        {
            // A release first seen without its sha or artifact (a rollback target typed by hand,
            // say) learns them from the first request that knows them.
            sqlx::query("UPDATE releases SET git_sha = COALESCE(git_sha, $1), artifact = COALESCE(artifact, $2) WHERE id = $3")
                .bind(git_sha)
                .bind(artifact)
                .bind(id)
                .execute(&mut **tx)
                .await
                .context("completing a release")?;
        }
        return Ok(id);
    }
    if !create {
        return Err(AppError::missing(format!(
            "{} has no release {version}.",
            target.service
        )));
    }
    store::insert_id(
        sqlx::query(
            "INSERT INTO releases (service_id, version, git_sha, artifact, created_at) VALUES ($1, $2, $3, $4, $5) RETURNING id",
        )
        .bind(target.service_id)
        .bind(version)
        .bind(git_sha)
        .bind(artifact)
        .bind(crate::now_ms()),
        tx,
        "creating a release",
        |_| format!("Release {version} of {} was created at the same moment; try again.", target.service),
    )
    .await
}

pub(super) async fn is_quarantined(
    tx: &mut Tx<'_>,
    target: &Locked,
    version: &str,
) -> Result<bool, AppError> {
    let row = sqlx::query(
        "SELECT COUNT(*) FROM quarantines WHERE service_id = $1 AND environment_id = $2 AND version = $3",
    )
    .bind(target.service_id)
    .bind(target.environment_id)
    .bind(version)
    .fetch_one(&mut **tx)
    .await
    .context("checking quarantine")?;
    Ok(row.try_get::<i64, _>(0).context("checking quarantine")? > 0)
}

/// The versions quarantined in an environment, in one query. `target` is (service id,
/// environment id), locked or not.
pub(super) async fn quarantined_versions(
    tx: &mut Tx<'_>,
    (service_id, environment_id): (i64, i64),
) -> Result<Vec<String>, AppError> {
    sqlx::query("SELECT version FROM quarantines WHERE service_id = $1 AND environment_id = $2")
        .bind(service_id)
        .bind(environment_id)
        .fetch_all(&mut **tx)
        .await
        .context("reading quarantines")?
        .iter()
        .map(|row| row.try_get(0))
        .collect::<Result<_, _>>()
        .context("reading quarantines")
}

pub(super) fn quarantine_refusal(target: &Locked, version: &str) -> AppError {
    AppError::conflict(format!(
        "{version} of {} is quarantined in {} since it was rolled back; a person must lift the quarantine before it is deployed there again.",
        target.service, target.environment
    ))
}

/// How many of a target's newest deployments the rollback rule reads (the planner and the
/// matrix's `rollback_to` alike).
pub(super) const ROLLBACK_WINDOW: i64 = 500;

/// The target's deployments, newest first, as the rollback rule reads them. `target` is
/// (service id, environment id), locked or not. Dismissed failures are left out: a person said
/// the version before them is what counts there, as the matrix shows.
pub(super) async fn history(
    tx: &mut Tx<'_>,
    (service_id, environment_id): (i64, i64),
    limit: i64,
) -> Result<Vec<PastDeployment>, AppError> {
    let rows = sqlx::query(
        "SELECT d.id, r.version, d.status FROM deployments d JOIN releases r ON r.id = d.release_id \
         WHERE d.service_id = $1 AND d.environment_id = $2 AND d.dismissed_at IS NULL \
         ORDER BY d.id DESC LIMIT $3",
    )
    .bind(service_id)
    .bind(environment_id)
    .bind(limit)
    .fetch_all(&mut **tx)
    .await
    .context("reading deployment history")?;
    rows.iter()
        .map(|row| {
            let status: String = row.try_get("status")?;
            Ok(PastDeployment {
                id: row.try_get("id")?,
                version: row.try_get("version")?,
                status: DeploymentStatus::parse(&status).unwrap_or(DeploymentStatus::Cancelled),
            })
        })
        .collect::<Result<_, sqlx::Error>>()
        .context("reading deployment history")
}
