//! The job table: background work (a deployment to run, a post-deploy health watch) is a row that
//! any replica may claim. Claiming writes a lease (owner and expiry) in one conditional UPDATE, so
//! exactly one worker wins; the winner renews the lease while it works and marks the row done in
//! the same transaction as the work's outcome. A worker that dies stops renewing, its lease runs
//! out, and the row is claimed again: that is how an interrupted deployment is found after a crash.

use crate::db::Backend;
use sqlx::{Any, AnyPool, Row, Transaction};
use std::time::Duration;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum JobKind {
    /// Run a queued deployment (`subject_id` is the deployment).
    Deploy,
    /// Watch the health of a freshly succeeded deployment (`subject_id` is the deployment).
    Watch,
}

impl JobKind {
    pub fn as_str(self) -> &'static str {
        match self {
            JobKind::Deploy => "deploy",
            JobKind::Watch => "watch",
        }
    }

    fn parse(s: &str) -> Option<JobKind> {
        match s {
            "deploy" => Some(JobKind::Deploy),
            "watch" => Some(JobKind::Watch),
            _ => None,
        }
    }
}

#[derive(Debug, Clone)]
pub struct Claimed {
    pub id: i64,
    pub kind: JobKind,
    pub subject_id: i64,
    /// 1 on the first claim; more means an earlier worker held it and stopped.
    pub attempts: i64,
}

/// Adds a job in the caller's transaction, due at `run_after` (Unix ms).
pub async fn enqueue(
    tx: &mut Transaction<'_, Any>,
    kind: JobKind,
    subject_id: i64,
    run_after: i64,
) -> Result<i64, sqlx::Error> {
    sqlx::query(
        "INSERT INTO jobs (kind, subject_id, run_after, created_at) VALUES ($1, $2, $3, $4) RETURNING id",
    )
    .bind(kind.as_str())
    .bind(subject_id)
    .bind(run_after)
    .bind(crate::now_ms())
    .fetch_one(&mut **tx)
    .await?
    .try_get(0)
}

/// Marks a job done in the caller's transaction (with the outcome of its work).
pub async fn finish(tx: &mut Transaction<'_, Any>, id: i64) -> Result<(), sqlx::Error> {
    sqlx::query(
        "UPDATE jobs SET done_at = $1, lease_owner = NULL, lease_until = NULL WHERE id = $2",
    )
    .bind(crate::now_ms())
    .bind(id)
    .execute(&mut **tx)
    .await?;
    Ok(())
}

/// A job is due when it is not done, its time has come and nobody holds a live lease on it. A
/// deployment additionally waits for every earlier active deployment of its service and
/// environment, so queued deployments run one at a time, in order.
const DUE: &str =
    "j.done_at IS NULL AND j.run_after <= $3 AND (j.lease_until IS NULL OR j.lease_until < $3) \
    AND (j.kind <> 'deploy' OR NOT EXISTS ( \
        SELECT 1 FROM deployments d JOIN deployments o \
          ON o.service_id = d.service_id AND o.environment_id = d.environment_id \
        WHERE d.id = j.subject_id AND o.id < d.id AND o.status IN ('queued', 'running')))";

pub struct Jobs {
    pool: AnyPool,
    claim_sql: String,
    /// Who holds a lease: unique per process, readable in the table when debugging.
    pub owner: String,
    pub lease: Duration,
}

impl Jobs {
    pub fn new(pool: AnyPool, backend: Backend, lease: Duration) -> Jobs {
        // PostgreSQL: SKIP LOCKED lets replicas claim different rows without waiting on each
        // other. SQLite has one writer at a time, so the plain form is already exclusive.
        let lock = match backend {
            Backend::Postgres => " FOR UPDATE OF j SKIP LOCKED",
            Backend::Sqlite => "",
        };
        let claim_sql = format!(
            "UPDATE jobs SET lease_owner = $1, lease_until = $2, attempts = attempts + 1 \
             WHERE id = (SELECT j.id FROM jobs j WHERE {DUE} ORDER BY j.run_after, j.id LIMIT 1{lock}) \
               AND done_at IS NULL AND (lease_until IS NULL OR lease_until < $3) \
             RETURNING id, kind, subject_id, attempts"
        );
        let host = std::env::var("HOSTNAME").unwrap_or_else(|_| "flightdeck".into());
        let owner = format!(
            "{host}:{}:{:08x}",
            std::process::id(),
            rand::random::<u32>()
        );
        Jobs {
            pool,
            claim_sql,
            owner,
            lease,
        }
    }

    fn lease_until(&self) -> i64 {
        crate::now_ms() + self.lease.as_millis() as i64
    }

    /// Claims the next due job, if any.
    pub async fn claim(&self) -> Result<Option<Claimed>, sqlx::Error> {
        let row = sqlx::query(&self.claim_sql)
            .bind(&self.owner)
            .bind(self.lease_until())
            .bind(crate::now_ms())
            .fetch_optional(&self.pool)
            .await?;
        let Some(row) = row else { return Ok(None) };
        let kind: String = row.try_get("kind")?;
        let id: i64 = row.try_get("id")?;
        let Some(kind) = JobKind::parse(&kind) else {
            // Written by a newer version of Flightdeck: leave it for a replica that knows it.
            tracing::warn!(job = id, kind, "skipping a job of unknown kind");
            self.postpone(id, Duration::from_secs(60)).await?;
            return Ok(None);
        };
        Ok(Some(Claimed {
            id,
            kind,
            subject_id: row.try_get("subject_id")?,
            attempts: row.try_get("attempts")?,
        }))
    }

    /// Extends our lease; `false` when it is no longer ours (it ran out and someone else took it).
    pub async fn renew(&self, id: i64) -> Result<bool, sqlx::Error> {
        let done = sqlx::query(
            "UPDATE jobs SET lease_until = $1 WHERE id = $2 AND lease_owner = $3 AND done_at IS NULL",
        )
        .bind(self.lease_until())
        .bind(id)
        .bind(&self.owner)
        .execute(&self.pool)
        .await?;
        Ok(done.rows_affected() == 1)
    }

    /// Gives the job back, due again after `delay`.
    pub async fn postpone(&self, id: i64, delay: Duration) -> Result<(), sqlx::Error> {
        sqlx::query(
            "UPDATE jobs SET lease_owner = NULL, lease_until = NULL, run_after = $1 WHERE id = $2 AND done_at IS NULL",
        )
        .bind(crate::now_ms() + delay.as_millis() as i64)
        .bind(id)
        .execute(&self.pool)
        .await?;
        Ok(())
    }
}
