//! SLOs (capability B): definitions (admins, audited), periodic evaluation of every SLO
//! ([`evaluate`]), the list sorted by budget left and the detail with its budget series.

pub mod counts;
mod evaluate;

pub use evaluate::RoundSummary;

use crate::audit::NewAudit;
use crate::db::{Backend, Db};
use crate::error::Context as _;
use crate::events::EventBus;
use crate::probes::prometheus::Prometheus;
use crate::store;
use app::error::AppError;
use app::health::objective::*;
use app::health::slo::{Budget, Counts};
use app::model::Principal;
use sqlx::{AnyPool, Row};
use std::sync::Arc;
use std::time::Duration;

pub struct Slos {
    pool: AnyPool,
    backend: Backend,
    bus: Arc<EventBus>,
    alerts: Arc<crate::alerts::Alerts>,
    deployments: Arc<crate::deploy::Deployments>,
    /// Flags with a kill switch on an SLO are switched off when it pages.
    flags: Arc<crate::flags::Flags>,
    /// What happened during maintenance is left out of PromQL SLOs' budgets.
    maintenance: Arc<crate::maintenance::MaintenanceMode>,
    prometheus: Option<Prometheus>,
    interval: Duration,
}

/// What an SLO evaluation acts on or consults: the alerts it raises, the deployments it rolls
/// back, the flags it switches off, the maintenance it leaves out of budgets.
pub struct Linked {
    pub alerts: Arc<crate::alerts::Alerts>,
    pub deployments: Arc<crate::deploy::Deployments>,
    pub flags: Arc<crate::flags::Flags>,
    pub maintenance: Arc<crate::maintenance::MaintenanceMode>,
}

const SELECT_SLO: &str = "SELECT o.id, s.name AS service, o.name, o.description, o.sli, c.name AS component, \
    o.good_query, o.total_query, o.latency_threshold_ms, o.objective, o.window_days, o.created_at, o.evaluation, \
    o.evaluated_at, o.evaluation_error FROM slos o JOIN services s ON s.id = o.service_id \
    LEFT JOIN components c ON c.id = o.component_id";

fn decode(row: &sqlx::any::AnyRow) -> Result<Slo, sqlx::Error> {
    let sli: String = row.try_get("sli")?;
    let evaluation: Option<String> = row.try_get("evaluation")?;
    let threshold: Option<i64> = row.try_get("latency_threshold_ms")?;
    let window_days: i64 = row.try_get("window_days")?;
    Ok(Slo {
        id: row.try_get("id")?,
        service: row.try_get("service")?,
        name: row.try_get("name")?,
        description: row.try_get("description")?,
        sli: SliKind::parse(&sli).unwrap_or(SliKind::Availability),
        component: row.try_get("component")?,
        good_query: row.try_get("good_query")?,
        total_query: row.try_get("total_query")?,
        latency_threshold_ms: threshold.map(|t| t.clamp(0, u32::MAX as i64) as u32),
        objective: row.try_get("objective")?,
        window_days: window_days as u32,
        created_at: row.try_get("created_at")?,
        evaluation: evaluation.and_then(|e| serde_json::from_str(&e).ok()),
        evaluated_at: row.try_get("evaluated_at")?,
        evaluation_error: row.try_get("evaluation_error")?,
    })
}

impl Slos {
    pub fn new(
        db: &Db,
        bus: Arc<EventBus>,
        linked: Linked,
        prometheus_url: Option<&str>,
        interval: Duration,
    ) -> Arc<Slos> {
        let Linked {
            alerts,
            deployments,
            flags,
            maintenance,
        } = linked;
        Arc::new(Slos {
            pool: db.pool.clone(),
            backend: db.backend,
            bus,
            alerts,
            deployments,
            flags,
            maintenance,
            prometheus: prometheus_url.map(Prometheus::new),
            interval,
        })
    }

    /// Evaluates every SLO each interval.
    pub fn spawn_worker(self: &Arc<Self>) {
        let slos = self.clone();
        tokio::spawn(async move {
            loop {
                if let Err(e) = slos.evaluate_all(crate::now_ms()).await {
                    tracing::warn!(error = %e.message, "evaluating SLOs failed");
                }
                tokio::time::sleep(slos.interval).await;
            }
        });
    }

    /// Every SLO, least budget left first.
    pub async fn list(&self) -> Result<Vec<Slo>, AppError> {
        let mut slos = store::list(&self.pool, SELECT_SLO, decode, "listing SLOs").await?;
        sort_by_budget(&mut slos);
        Ok(slos)
    }

    pub async fn get(&self, id: i64) -> Result<SloDetail, AppError> {
        let row = sqlx::query(&format!("{SELECT_SLO} WHERE o.id = $1"))
            .bind(id)
            .fetch_optional(&self.pool)
            .await
            .context("reading an SLO")?
            .ok_or_else(|| AppError::not_found(format!("SLO {id}")))?;
        let slo = decode(&row).context("reading an SLO")?;
        let now = crate::now_ms();
        let budget_series = self.budget_series(&slo, now).await?;
        let window_start = now - slo.window_days as i64 * 86_400_000;
        let deploys = self
            .deployments
            .markers(&slo.service, None, window_start)
            .await?;
        Ok(SloDetail {
            slo,
            budget_series,
            deploys,
        })
    }

    /// The budget left at each hour of the window, counting from its start.
    async fn budget_series(&self, slo: &Slo, now: i64) -> Result<Vec<BudgetPoint>, AppError> {
        let start = now - slo.window_days as i64 * 86_400_000;
        let hours: Vec<(i64, Counts)> = if slo.component.is_some() {
            sqlx::query("SELECT hour, good, total FROM slo_hours WHERE slo_id = $1 AND hour >= $2 ORDER BY hour")
                .bind(slo.id)
                .bind(start / counts::HOUR_MS)
                .fetch_all(&self.pool)
                .await
                .context("reading SLO counts")?
                .iter()
                .map(|r| {
                    let (hour, good, total): (i64, i64, i64) = (r.try_get("hour")?, r.try_get("good")?, r.try_get("total")?);
                    Ok(((hour + 1) * counts::HOUR_MS, Counts::new(good as f64, total as f64)))
                })
                .collect::<Result<_, sqlx::Error>>()
                .context("reading SLO counts")?
        } else {
            // PromQL: hourly increases from a range query; unreachable Prometheus leaves the
            // chart empty, and the evaluation error says why.
            match (&self.prometheus, &slo.good_query, &slo.total_query) {
                (Some(p), Some(good), Some(total)) => {
                    let series = |q: &str| {
                        let q = q.replace("$window", "1h");
                        async move { p.range(&q, start / 1000, now / 1000, 3600).await }
                    };
                    match (series(good).await, series(total).await) {
                        (Ok(g), Ok(t)) => evaluate::zip_hours(&g, &t),
                        _ => Vec::new(),
                    }
                }
                _ => Vec::new(),
            }
        };
        let mut whole = Counts::default();
        Ok(hours
            .into_iter()
            .map(|(at, counts)| {
                whole = whole + counts;
                BudgetPoint {
                    at,
                    remaining: Budget::compute(slo.objective, slo.window_days, whole).remaining,
                }
            })
            .collect())
    }

    pub async fn create(&self, actor: &Principal, new: NewSlo) -> Result<Slo, AppError> {
        let new = new.normalized().map_err(AppError::unprocessable)?;
        if new.component.is_none() && self.prometheus.is_none() {
            return Err(AppError::unprocessable(
                "SLOs from PromQL need a Prometheus: start Flightdeck with FLIGHTDECK_PROMETHEUS_URL.",
            ));
        }
        let now = crate::now_ms();
        let mut tx = store::begin(&self.pool).await?;
        let id_of = |table: &'static str, name: String| {
            let sql = format!("SELECT id FROM {table} WHERE name = $1");
            async move {
                sqlx::query(&sql)
                    .bind(&name)
                    .fetch_optional(&self.pool)
                    .await
                    .map(|r| r.map(|r| r.get::<i64, _>(0)))
            }
        };
        let service_id = id_of("services", new.service.clone())
            .await
            .context("creating an SLO")?
            .ok_or_else(|| {
                AppError::unprocessable(format!("There is no service named '{}'.", new.service))
            })?;
        let component_id = match &new.component {
            Some(name) => Some(
                id_of("components", name.clone())
                    .await
                    .context("creating an SLO")?
                    .ok_or_else(|| {
                        AppError::unprocessable(format!("There is no component named '{name}'."))
                    })?,
            ),
            None => None,
        };
        let id = store::insert_id(
            sqlx::query(
                "INSERT INTO slos (service_id, name, description, sli, component_id, good_query, total_query, \
                 latency_threshold_ms, objective, window_days, created_at) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11) RETURNING id",
            )
            .bind(service_id)
            .bind(&new.name)
            .bind(new.description.as_deref())
            .bind(new.sli.as_str())
            .bind(component_id)
            .bind(new.good_query.as_deref())
            .bind(new.total_query.as_deref())
            .bind(new.latency_threshold_ms.map(i64::from))
            .bind(new.objective)
            .bind(new.window_days as i64)
            .bind(now),
            &mut tx,
            "creating an SLO",
            |_| format!("{} already has an SLO named '{}'.", new.service, new.name),
        )
        .await?;
        store::commit_audited(
            tx,
            &self.bus,
            NewAudit {
                actor: &actor.actor(),
                action: "slo.created",
                target: &format!("{}/{}", new.service, new.name),
                reason: None,
                detail: serde_json::json!({ "objective": new.objective, "window_days": new.window_days, "sli": new.sli, "component": new.component }),
            },
        )
        .await?;
        Ok(Slo {
            id,
            service: new.service,
            name: new.name,
            description: new.description,
            sli: new.sli,
            component: new.component,
            good_query: new.good_query,
            total_query: new.total_query,
            latency_threshold_ms: new.latency_threshold_ms,
            objective: new.objective,
            window_days: new.window_days,
            created_at: now,
            evaluation: None,
            evaluated_at: None,
            evaluation_error: None,
        })
    }
}

#[async_trait::async_trait]
impl app::ports::SlosPort for Slos {
    async fn list(&self) -> Result<Vec<Slo>, AppError> {
        Slos::list(self).await
    }
    async fn get(&self, id: i64) -> Result<SloDetail, AppError> {
        Slos::get(self, id).await
    }
}
