//! Reads: the environment matrix, the history with filters and pages, one deployment, its log,
//! releases, targets and quarantines.

use super::rows::{decode_settings, history, quarantined_versions, resolve, ROLLBACK_WINDOW};
use super::{decode_deployment, shown_artifact, Deployments, SELECT_DEPLOYMENT};
use crate::error::Context as _;
use app::deploy::rollback;
use app::deploy::*;
use app::error::AppError;
use sqlx::Row;

enum Bind {
    Int(i64),
    Text(&'static str),
}

impl Deployments {
    /// The deployments of `service` that ended since `since`, oldest first (at most 200): the
    /// markers on its charts. Only those to `environment`, or without one to the highest-ranked
    /// environment the service went to in that time (production, where there is one), so a
    /// chart is not striped with every dev deploy.
    pub async fn markers(
        &self,
        service: &str,
        environment: Option<&str>,
        since: i64,
    ) -> Result<Vec<app::charts::DeployMarker>, AppError> {
        let rows = sqlx::query(
            "SELECT r.version, e.name AS environment, e.rank, d.kind, d.status, d.finished_at \
             FROM deployments d JOIN services s ON s.id = d.service_id \
             JOIN environments e ON e.id = d.environment_id JOIN releases r ON r.id = d.release_id \
             WHERE s.name = $1 AND d.finished_at >= $2 AND d.status <> 'cancelled' \
             ORDER BY d.finished_at DESC LIMIT 1000",
        )
        .bind(service)
        .bind(since)
        .fetch_all(&self.pool)
        .await
        .context("reading deploy markers")?;
        let top = rows
            .iter()
            .max_by_key(|r| r.try_get::<i64, _>("rank").unwrap_or(i64::MIN))
            .and_then(|r| r.try_get::<String, _>("environment").ok());
        let Some(wanted) = environment.map(str::to_string).or(top) else {
            return Ok(Vec::new());
        };
        let mut markers = Vec::new();
        for row in &rows {
            let environment: String = row
                .try_get("environment")
                .context("reading deploy markers")?;
            if environment != wanted || markers.len() == 200 {
                continue;
            }
            let status: String = row.try_get("status").context("reading deploy markers")?;
            markers.push(app::charts::DeployMarker {
                at: row
                    .try_get("finished_at")
                    .context("reading deploy markers")?,
                version: row.try_get("version").context("reading deploy markers")?,
                environment,
                kind: row.try_get("kind").context("reading deploy markers")?,
                succeeded: status != "failed",
            });
        }
        markers.reverse();
        Ok(markers)
    }

    async fn id_of(&self, table: &'static str, name: &str) -> Result<i64, AppError> {
        let sql = match table {
            "services" => "SELECT id FROM services WHERE name = $1",
            _ => "SELECT id FROM environments WHERE name = $1",
        };
        let row = sqlx::query(sql)
            .bind(name)
            .fetch_optional(&self.pool)
            .await
            .context("resolving a name")?;
        match row {
            Some(row) => row.try_get(0).context("resolving a name"),
            None if table == "services" => {
                Err(AppError::missing(format!("No service named '{name}'.")))
            }
            None => Err(AppError::missing(format!("No environment named '{name}'."))),
        }
    }

    /// Newest first. Names are resolved to ids first so the filter uses the target index.
    pub async fn list(&self, query: &DeploymentQuery) -> Result<DeploymentPage, AppError> {
        let limit = query.checked_limit().map_err(AppError::bad_request)?;
        let service_id = match &query.service {
            Some(name) => Some(self.id_of("services", name).await?),
            None => None,
        };
        let environment_id = match &query.environment {
            Some(name) => Some(self.id_of("environments", name).await?),
            None => None,
        };
        // Only the filters in use go into the statement: `$n IS NULL OR ...` would keep the
        // planner from using the target and status indexes, which matters at a million rows.
        let mut conditions = Vec::new();
        let mut binds: Vec<Bind> = Vec::new();
        if let Some(id) = service_id {
            binds.push(Bind::Int(id));
            conditions.push(format!("d.service_id = ${}", binds.len()));
        }
        if let Some(id) = environment_id {
            binds.push(Bind::Int(id));
            conditions.push(format!("d.environment_id = ${}", binds.len()));
        }
        if let Some(status) = query.status {
            binds.push(Bind::Text(status.as_str()));
            conditions.push(format!("d.status = ${}", binds.len()));
        }
        if let Some(cursor) = query.cursor {
            binds.push(Bind::Int(cursor));
            conditions.push(format!("d.id < ${}", binds.len()));
        }
        binds.push(Bind::Int(i64::from(limit) + 1));
        let filter = if conditions.is_empty() {
            String::new()
        } else {
            format!(" WHERE {}", conditions.join(" AND "))
        };
        let sql = format!(
            "{SELECT_DEPLOYMENT}{filter} ORDER BY d.id DESC LIMIT ${}",
            binds.len()
        );
        let mut statement = sqlx::query(&sql);
        for bind in binds {
            statement = match bind {
                Bind::Int(v) => statement.bind(v),
                Bind::Text(v) => statement.bind(v),
            };
        }
        let rows = statement
            .fetch_all(&self.pool)
            .await
            .context("listing deployments")?;
        let mut items = rows
            .iter()
            .map(decode_deployment)
            .collect::<Result<Vec<_>, _>>()
            .context("decoding deployments")?;
        let next_cursor = if items.len() > limit as usize {
            items.truncate(limit as usize);
            items.last().map(|d| d.id)
        } else {
            None
        };
        Ok(DeploymentPage {
            items,
            next_cursor,
            ci_failed: Vec::new(),
        })
    }

    pub async fn get(&self, id: i64) -> Result<Deployment, AppError> {
        let sql = format!("{SELECT_DEPLOYMENT} WHERE d.id = $1");
        let row = sqlx::query(&sql)
            .bind(id)
            .fetch_optional(&self.pool)
            .await
            .context("reading a deployment")?
            .ok_or_else(|| AppError::missing(format!("No deployment #{id}.")))?;
        decode_deployment(&row).context("decoding a deployment")
    }

    /// Lines after line `after`, oldest first, at most `limit`.
    pub async fn logs(&self, id: i64, after: i64, limit: i64) -> Result<Vec<LogLine>, AppError> {
        self.get(id).await?;
        let rows = sqlx::query(
            "SELECT n, at, stream, line FROM deployment_logs WHERE deployment_id = $1 AND n > $2 ORDER BY n LIMIT $3",
        )
        .bind(id)
        .bind(after)
        .bind(limit)
        .fetch_all(&self.pool)
        .await
        .context("reading deployment logs")?;
        rows.iter()
            .map(|row| {
                Ok(LogLine {
                    n: row.try_get("n")?,
                    at: row.try_get("at")?,
                    stream: row.try_get("stream")?,
                    text: row.try_get("line")?,
                })
            })
            .collect::<Result<_, sqlx::Error>>()
            .context("decoding deployment logs")
    }

    /// Every service x environment, services by name and environments in pipeline order. A cell
    /// shows the newest deployment that was not cancelled or dismissed. The
    /// newest matching deployment is found with `ORDER BY id DESC LIMIT 1`, which walks the target
    /// index backwards and stops at the first match (`MAX` with a filter would scan them all).
    /// `rollback_to` is the newest succeeded version other than the live one that is not
    /// quarantined, among the target's last `ROLLBACK_WINDOW` deployments: what
    /// `rollback::plan` chooses from the same window (the rule restated in SQL, so the matrix
    /// needs no query per cell), and a bound on the walk where one version was deployed over
    /// and over. `tests/rollback.rs` checks the two agree through a rollback and a lift.
    pub async fn status(&self) -> Result<Vec<StatusCell>, AppError> {
        let rows = sqlx::query(
            "SELECT s.name AS service, e.name AS environment, ld.id AS deployment_id, lr.version AS version, \
               ld.status AS status, ld.kind AS kind, COALESCE(ld.finished_at, ld.created_at) AS deployed_at, vr.version AS live_version, vr.git_sha AS live_git_sha, \
               rr.version AS rollback_to, \
               CAST(CASE WHEN t.service_id IS NULL THEN 0 ELSE 1 END AS BIGINT) AS configured \
             FROM services s CROSS JOIN environments e \
             LEFT JOIN targets t ON t.service_id = s.id AND t.environment_id = e.id \
             LEFT JOIN deployments ld ON ld.id = (SELECT d.id FROM deployments d \
               WHERE d.service_id = s.id AND d.environment_id = e.id AND d.status <> 'cancelled' AND d.dismissed_at IS NULL \
               ORDER BY d.id DESC LIMIT 1) \
             LEFT JOIN releases lr ON lr.id = ld.release_id \
             LEFT JOIN deployments vd ON vd.id = (SELECT d.id FROM deployments d \
               WHERE d.service_id = s.id AND d.environment_id = e.id AND d.status = 'succeeded' ORDER BY d.id DESC LIMIT 1) \
             LEFT JOIN releases vr ON vr.id = vd.release_id \
             LEFT JOIN releases rr ON rr.id = (SELECT w.release_id FROM (SELECT d.id, d.release_id, d.status FROM deployments d \
                 WHERE d.service_id = s.id AND d.environment_id = e.id AND d.dismissed_at IS NULL \
                 ORDER BY d.id DESC LIMIT $1) w \
               JOIN releases r ON r.id = w.release_id \
               WHERE w.status = 'succeeded' AND r.version <> vr.version \
               AND NOT EXISTS (SELECT 1 FROM quarantines q \
                 WHERE q.service_id = s.id AND q.environment_id = e.id AND q.version = r.version) \
               ORDER BY w.id DESC LIMIT 1) \
             ORDER BY s.name, e.rank",
        )
        .bind(ROLLBACK_WINDOW)
        .fetch_all(&self.pool)
        .await
        .context("reading the status matrix")?;
        rows.iter()
            .map(|row| {
                let status: Option<String> = row.try_get("status")?;
                let kind: Option<String> = row.try_get("kind")?;
                Ok(StatusCell {
                    service: row.try_get("service")?,
                    environment: row.try_get("environment")?,
                    version: row.try_get("version")?,
                    status: status.as_deref().and_then(DeploymentStatus::parse),
                    deployment_id: row.try_get("deployment_id")?,
                    deployed_at: row.try_get("deployed_at")?,
                    live_version: row.try_get("live_version")?,
                    configured: row.try_get::<i64, _>("configured")? == 1,
                    kind: kind.as_deref().and_then(DeploymentKind::parse),
                    rollback_to: row.try_get("rollback_to")?,
                    live_git_sha: row.try_get("live_git_sha")?,
                    ci_failed: false,
                })
            })
            .collect::<Result<_, sqlx::Error>>()
            .context("decoding the status matrix")
    }

    /// What a rollback of `service` in `environment` would do and which versions a person may
    /// choose, read the way `rollback` plans it.
    pub async fn rollback_options(
        &self,
        service: &str,
        environment: &str,
    ) -> Result<rollback::RollbackOptions, AppError> {
        // One read transaction, so history and quarantines are seen at the same moment.
        let mut tx = self
            .pool
            .begin()
            .await
            .context("reading rollback options")?;
        let ids = resolve(&mut tx, service, environment).await?;
        let past = history(&mut tx, ids, ROLLBACK_WINDOW).await?;
        let quarantined = quarantined_versions(&mut tx, ids).await?;
        tx.commit().await.context("reading rollback options")?;
        Ok(rollback::options(environment, &past, |v| {
            quarantined.iter().any(|q| q == v)
        }))
    }

    /// Newest first.
    pub async fn releases(&self, service: &str) -> Result<Vec<Release>, AppError> {
        let service_id = self.id_of("services", service).await?;
        let rows = sqlx::query(
            "SELECT id, version, git_sha, artifact, created_at FROM releases WHERE service_id = $1 ORDER BY id DESC LIMIT 500",
        )
        .bind(service_id)
        .fetch_all(&self.pool)
        .await
        .context("listing releases")?;
        rows.iter()
            .map(|row| {
                Ok(Release {
                    id: row.try_get("id")?,
                    service: service.to_string(),
                    version: row.try_get("version")?,
                    git_sha: row.try_get("git_sha")?,
                    artifact: shown_artifact(row)?,
                    created_at: row.try_get("created_at")?,
                })
            })
            .collect::<Result<_, sqlx::Error>>()
            .context("decoding releases")
    }

    pub async fn targets(&self) -> Result<Vec<Target>, AppError> {
        let rows = sqlx::query(
            "SELECT t.*, s.name AS service, e.name AS environment FROM targets t \
             JOIN services s ON s.id = t.service_id JOIN environments e ON e.id = t.environment_id \
             ORDER BY s.name, e.rank",
        )
        .fetch_all(&self.pool)
        .await
        .context("listing targets")?;
        rows.iter()
            .map(|row| {
                Ok(Target {
                    service: row.try_get("service")?,
                    environment: row.try_get("environment")?,
                    settings: decode_settings(row)?,
                    updated_at: row.try_get("updated_at")?,
                })
            })
            .collect::<Result<_, sqlx::Error>>()
            .context("decoding targets")
    }

    pub async fn quarantines(&self) -> Result<Vec<Quarantine>, AppError> {
        let rows = sqlx::query(
            "SELECT s.name AS service, e.name AS environment, q.version, q.deployment_id, q.reason, q.created_at \
             FROM quarantines q JOIN services s ON s.id = q.service_id JOIN environments e ON e.id = q.environment_id \
             ORDER BY q.created_at DESC",
        )
        .fetch_all(&self.pool)
        .await
        .context("listing quarantines")?;
        rows.iter()
            .map(|row| {
                Ok(Quarantine {
                    service: row.try_get("service")?,
                    environment: row.try_get("environment")?,
                    version: row.try_get("version")?,
                    deployment_id: row.try_get("deployment_id")?,
                    reason: row.try_get("reason")?,
                    created_at: row.try_get("created_at")?,
                })
            })
            .collect::<Result<_, sqlx::Error>>()
            .context("decoding quarantines")
    }
}
