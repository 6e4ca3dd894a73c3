//! Components and their probes (capability B): the health grid's data. Components are created by
//! admins (audited); the prober checks each one on its interval, keeps the results for
//! [`RETENTION_MS`], derives the status with the shared rule (`app::health::probe`), raises a
//! `ComponentDown` alert when a component goes down and resolves it when it recovers, and counts
//! the checks for the SLOs built on them.

mod checks;
pub mod prometheus;
mod runner;

use crate::audit::NewAudit;
use crate::db::{Backend, Db};
use crate::error::Context as _;
use crate::events::EventBus;
use crate::store;
use app::error::AppError;
use app::health::component::*;
use app::health::HealthStatus;
use app::model::Principal;
use sqlx::{AnyPool, Row};
use std::sync::Arc;

/// Raw probe results are kept a week; SLOs keep their own counts for their whole window.
pub const RETENTION_MS: i64 = 7 * 86_400_000;
/// Results shown on a component's page.
const DETAIL_RESULTS: i64 = 200;

pub struct Components {
    pool: AnyPool,
    backend: Backend,
    bus: Arc<EventBus>,
    alerts: Arc<crate::alerts::Alerts>,
    http: reqwest::Client,
    prometheus: Option<prometheus::Prometheus>,
    /// Checks in maintenance do not count against SLO budgets.
    pub(crate) maintenance: Arc<crate::maintenance::MaintenanceMode>,
    /// Deploys of the component's service are marked on its latency chart.
    deployments: Arc<crate::deploy::Deployments>,
}

pub(crate) const SELECT_COMPONENT: &str = "SELECT c.id, c.name, c.kind, s.name AS service, e.name AS environment, \
    c.probe, c.status, c.status_reason, c.status_since, c.last_checked_at, c.last_latency_ms, c.created_at \
    FROM components c LEFT JOIN services s ON s.id = c.service_id LEFT JOIN environments e ON e.id = c.environment_id";

pub(crate) fn decode(row: &sqlx::any::AnyRow) -> Result<Component, sqlx::Error> {
    let probe: String = row.try_get("probe")?;
    let status: String = row.try_get("status")?;
    let latency: Option<i64> = row.try_get("last_latency_ms")?;
    Ok(Component {
        id: row.try_get("id")?,
        name: row.try_get("name")?,
        kind: row.try_get("kind")?,
        service: row.try_get("service")?,
        environment: row.try_get("environment")?,
        probe: serde_json::from_str(&probe).map_err(|e| sqlx::Error::Decode(e.into()))?,
        status: HealthStatus::parse(&status).unwrap_or(HealthStatus::Unknown),
        status_reason: row.try_get("status_reason")?,
        status_since: row.try_get("status_since")?,
        last_checked_at: row.try_get("last_checked_at")?,
        last_latency_ms: latency.map(|l| l.clamp(0, u32::MAX as i64) as u32),
        created_at: row.try_get("created_at")?,
    })
}

impl Components {
    pub fn new(
        db: &Db,
        bus: Arc<EventBus>,
        alerts: Arc<crate::alerts::Alerts>,
        prometheus_url: Option<&str>,
        (maintenance, deployments): (
            Arc<crate::maintenance::MaintenanceMode>,
            Arc<crate::deploy::Deployments>,
        ),
    ) -> Arc<Components> {
        Arc::new(Components {
            pool: db.pool.clone(),
            backend: db.backend,
            bus,
            alerts,
            http: reqwest::Client::builder()
                .redirect(reqwest::redirect::Policy::limited(3))
                .user_agent("flightdeck-probe")
                .build()
                .unwrap_or_default(),
            prometheus: prometheus_url.map(prometheus::Prometheus::new),
            maintenance,
            deployments,
        })
    }

    pub fn prometheus(&self) -> Option<&prometheus::Prometheus> {
        self.prometheus.as_ref()
    }

    /// Every component, worst status first, then by name.
    pub async fn list(&self) -> Result<Vec<Component>, AppError> {
        let mut components =
            store::list(&self.pool, SELECT_COMPONENT, decode, "listing components").await?;
        components.sort_by(|a, b| {
            b.status
                .rank()
                .cmp(&a.status.rank())
                .then_with(|| a.name.cmp(&b.name))
        });
        Ok(components)
    }

    pub async fn get(&self, id: i64) -> Result<ComponentDetail, AppError> {
        let row = sqlx::query(&format!("{SELECT_COMPONENT} WHERE c.id = $1"))
            .bind(id)
            .fetch_optional(&self.pool)
            .await
            .context("reading a component")?
            .ok_or_else(|| AppError::not_found(format!("component {id}")))?;
        let component = decode(&row).context("reading a component")?;
        let results: Vec<ProbeResult> = sqlx::query(
            "SELECT at, ok, latency_ms, detail FROM probe_results WHERE component_id = $1 ORDER BY at DESC LIMIT $2",
        )
        .bind(id)
        .bind(DETAIL_RESULTS)
        .fetch_all(&self.pool)
        .await
        .context("reading a component")?
        .iter()
        .map(|r| {
            let latency: Option<i64> = r.try_get("latency_ms")?;
            Ok(ProbeResult {
                at: r.try_get("at")?,
                ok: crate::db::get_bool(r, "ok")?,
                latency_ms: latency.map(|l| l.clamp(0, u32::MAX as i64) as u32),
                detail: r.try_get("detail")?,
            })
        })
        .collect::<Result<_, sqlx::Error>>()
        .context("reading a component")?;
        let availability = (!results.is_empty())
            .then(|| results.iter().filter(|r| r.ok).count() as f64 / results.len() as f64);
        let deploys = match &component.service {
            Some(service) => {
                let since = results
                    .iter()
                    .map(|r| r.at)
                    .min()
                    .unwrap_or_else(crate::now_ms);
                self.deployments
                    .markers(service, component.environment.as_deref(), since)
                    .await?
            }
            None => Vec::new(),
        };
        Ok(ComponentDetail {
            component,
            results,
            availability,
            deploys,
        })
    }

    pub async fn create(
        &self,
        actor: &Principal,
        new: NewComponent,
    ) -> Result<Component, AppError> {
        let new = new.normalized().map_err(AppError::unprocessable)?;
        if new.probe.kind == ProbeKind::Prometheus && self.prometheus.is_none() {
            return Err(AppError::unprocessable(
                "PromQL probes need a Prometheus: start Flightdeck with FLIGHTDECK_PROMETHEUS_URL.",
            ));
        }
        let now = crate::now_ms();
        let mut tx = store::begin(&self.pool).await?;
        let service_id = lookup(&mut tx, "services", new.service.as_deref()).await?;
        let environment_id = lookup(&mut tx, "environments", new.environment.as_deref()).await?;
        let probe = serde_json::to_string(&new.probe).context("encoding a probe")?;
        let reason = "No checks have run yet.";
        let id = store::insert_id(
            sqlx::query(
                "INSERT INTO components (name, kind, service_id, environment_id, probe, interval_s, status, \
                 status_reason, status_since, next_check_at, created_at) \
                 VALUES ($1, $2, $3, $4, $5, $6, 'unknown', $7, $8, $8, $8) RETURNING id",
            )
            .bind(&new.name)
            .bind(&new.kind)
            .bind(service_id)
            .bind(environment_id)
            .bind(&probe)
            .bind(new.probe.interval_s as i64)
            .bind(reason)
            .bind(now),
            &mut tx,
            "creating a component",
            |_| format!("A component named '{}' already exists.", new.name),
        )
        .await?;
        let component = Component {
            id,
            name: new.name.clone(),
            kind: new.kind.clone(),
            service: new.service.clone(),
            environment: new.environment.clone(),
            probe: new.probe.clone(),
            status: HealthStatus::Unknown,
            status_reason: reason.into(),
            status_since: now,
            last_checked_at: None,
            last_latency_ms: None,
            created_at: now,
        };
        let data = serde_json::to_value(&component).unwrap_or_default();
        crate::events::append(
            &mut tx,
            app::health::topics::COMPONENTS,
            "component.updated",
            &data,
        )
        .await
        .context("creating a component")?;
        store::commit_audited(
            tx,
            &self.bus,
            NewAudit {
                actor: &actor.actor(),
                action: "component.created",
                target: &new.name,
                reason: None,
                detail: serde_json::json!({ "probe": new.probe.describe(), "service": new.service, "environment": new.environment }),
            },
        )
        .await?;
        Ok(component)
    }
}

/// The id of the service or environment named `name`, or a 422 naming what is missing.
async fn lookup(
    tx: &mut sqlx::Transaction<'_, sqlx::Any>,
    table: &'static str,
    name: Option<&str>,
) -> Result<Option<i64>, AppError> {
    let Some(name) = name else { return Ok(None) };
    let row = sqlx::query(&format!("SELECT id FROM {table} WHERE name = $1"))
        .bind(name)
        .fetch_optional(&mut **tx)
        .await
        .context("looking up a name")?;
    match row {
        Some(row) => Ok(Some(row.try_get(0).context("looking up a name")?)),
        None => Err(AppError::unprocessable(format!(
            "There is no {} named '{name}'.",
            table.trim_end_matches('s')
        ))),
    }
}

#[async_trait::async_trait]
impl app::ports::ComponentsPort for Components {
    async fn list(&self) -> Result<Vec<Component>, AppError> {
        Components::list(self).await
    }
    async fn get(&self, id: i64) -> Result<ComponentDetail, AppError> {
        Components::get(self, id).await
    }
}
