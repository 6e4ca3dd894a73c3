//! Maintenance mode, one row in the database and a copy in memory that every request reads (the
//! page banner, deploy refusals, the prober's SLO counts). Turning it on also creates a silence
//! for `ComponentDown` in the covered environments, so probe alerts are kept but notify nobody,
//! and the alerts page shows why; turning it off ends that silence. A worker ends it at `until`.

use crate::alerts::Alerts;
use crate::audit::NewAudit;
use crate::error::Context as _;
use crate::events::EventBus;
use crate::store;
use app::error::AppError;
use app::health::alert::{Matcher, NewSilence};
use app::maintenance::{Maintenance, Period, TOPIC};
use app::model::{Principal, PrincipalKind, Role};
use sqlx::{AnyPool, Row};
use std::sync::{Arc, RwLock};
use std::time::Duration;

/// What an admin asks for.
pub struct Request {
    pub enabled: bool,
    pub message: String,
    pub environments: Option<Vec<String>>,
    pub until: Option<i64>,
}

pub struct MaintenanceMode {
    pool: AnyPool,
    bus: Arc<EventBus>,
    current: RwLock<Maintenance>,
}

/// Flightdeck itself, as the actor of the silences it manages and of the automatic end.
fn flightdeck() -> Principal {
    Principal {
        name: "flightdeck".into(),
        role: Role::Admin,
        kind: PrincipalKind::User,
        id: 0,
        scopes: Vec::new(),
        environment: None,
    }
}

/// The silence that covers probe alerts in `environments`.
fn probe_silence(m: &Maintenance, ends_at: i64) -> NewSilence {
    let mut matchers = vec![Matcher {
        name: "alertname".into(),
        value: "ComponentDown".into(),
        is_regex: false,
        is_equal: true,
    }];
    if let Some(list) = &m.environments {
        let pattern: Vec<String> = list.iter().map(|e| regex::escape(e)).collect();
        matchers.push(Matcher {
            name: "environment".into(),
            value: pattern.join("|"),
            is_regex: true,
            is_equal: true,
        });
    }
    NewSilence {
        matchers,
        starts_at: None,
        ends_at,
        comment: format!("Maintenance: {}", m.message),
    }
}

impl MaintenanceMode {
    /// Loads the current state and follows the `maintenance` topic (changes through other
    /// replicas).
    pub async fn start(
        pool: AnyPool,
        bus: Arc<EventBus>,
    ) -> Result<Arc<MaintenanceMode>, sqlx::Error> {
        let mode = Arc::new(MaintenanceMode {
            pool,
            bus: bus.clone(),
            current: RwLock::new(Maintenance::default()),
        });
        mode.reload().await?;
        bus.follow(TOPIC, &mode, |mode: Arc<MaintenanceMode>| async move {
            if let Err(error) = mode.reload().await {
                tracing::warn!(%error, "reloading maintenance mode");
            }
        });
        Ok(mode)
    }

    async fn reload(&self) -> Result<(), sqlx::Error> {
        let row = sqlx::query("SELECT enabled, message, environments, until, updated_by, updated_at FROM maintenance WHERE id = 1")
            .fetch_optional(&self.pool)
            .await?;
        let state = match row {
            None => Maintenance::default(),
            Some(row) => {
                let environments: Option<String> = row.try_get("environments")?;
                Maintenance {
                    enabled: crate::db::get_bool(&row, "enabled")?,
                    message: row.try_get("message")?,
                    environments: environments.and_then(|e| serde_json::from_str(&e).ok()),
                    until: row.try_get("until")?,
                    updated_by: row.try_get("updated_by")?,
                    updated_at: row.try_get("updated_at")?,
                }
            }
        };
        *self.current.write().unwrap_or_else(|e| e.into_inner()) = state;
        Ok(())
    }

    /// The state as last loaded.
    pub fn current(&self) -> Maintenance {
        self.current
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }

    /// Whether maintenance covers `environment` now.
    pub fn covers(&self, environment: Option<&str>) -> bool {
        self.current
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .covers(environment, crate::now_ms())
    }

    /// 409 when a new deployment to `environment` must wait for maintenance to end.
    pub fn check_deploy(&self, environment: &str) -> Result<(), AppError> {
        let refusal = self
            .current
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .refusal(environment, crate::now_ms());
        refusal.map_or(Ok(()), |why| Err(AppError::conflict(why)))
    }

    async fn check(&self, r: &Request, now: i64) -> Result<(), AppError> {
        // Kept while maintenance is off too (the form offers it again), so always in bounds.
        if r.message.chars().count() > 500 || (r.enabled && r.message.trim().is_empty()) {
            return Err(AppError::unprocessable(
                "message: say in up to 500 characters what is happening; every page shows it",
            ));
        }
        if !r.enabled {
            return Ok(());
        }
        if r.until.is_some_and(|until| until <= now) {
            return Err(AppError::unprocessable(
                "until: give a time in the future (RFC 3339 or Unix milliseconds)",
            ));
        }
        if let Some(list) = &r.environments {
            if list.is_empty() {
                return Err(AppError::unprocessable(
                    "environments: name at least one, or leave it out for all of them",
                ));
            }
            for e in list {
                let known = crate::catalog::environment_exists(&self.pool, e).await?;
                if !known {
                    return Err(AppError::unprocessable(format!(
                        "environments: there is no environment named '{e}'"
                    )));
                }
            }
        }
        Ok(())
    }

    /// Turns maintenance on (or changes it) or off; audited, live, and the probe silence follows.
    pub async fn set(
        &self,
        actor: &Principal,
        r: Request,
        alerts: &Alerts,
    ) -> Result<Maintenance, AppError> {
        let now = crate::now_ms();
        self.check(&r, now).await?;
        let before: Option<i64> = sqlx::query("SELECT silence_id FROM maintenance WHERE id = 1")
            .fetch_optional(&self.pool)
            .await
            .context("reading maintenance mode")?
            .and_then(|row| row.try_get("silence_id").ok().flatten());
        if let Some(id) = before {
            // Already ended (at its time, or by hand) is fine.
            let _ = alerts.expire_silence(&flightdeck(), id).await;
        }
        let next = Maintenance {
            enabled: r.enabled,
            message: r.message.trim().to_string(),
            environments: r.environments.clone(),
            until: r.until,
            updated_by: actor.actor(),
            updated_at: now,
        };
        let silence_id = if next.enabled {
            let ends_at = next.until.unwrap_or(i64::MAX).min(now + 29 * 86_400_000);
            match alerts
                .create_silence(&flightdeck(), probe_silence(&next, ends_at))
                .await
            {
                Ok(s) => Some(s.id),
                Err(e) => {
                    tracing::warn!(error = %e.message, "maintenance: probe alerts could not be silenced");
                    None
                }
            }
        } else {
            None
        };
        let action = match (self.current().active_at(now), next.enabled) {
            (false, true) => "maintenance.started",
            (true, true) => "maintenance.changed",
            _ => "maintenance.ended",
        };
        self.write(&next, silence_id, action, None).await?;
        Ok(next)
    }

    async fn write(
        &self,
        m: &Maintenance,
        silence_id: Option<i64>,
        action: &str,
        reason: Option<&str>,
    ) -> Result<(), AppError> {
        let mut tx = store::begin(&self.pool).await?;
        let environments = m
            .environments
            .as_ref()
            .map(|l| serde_json::to_string(l).unwrap_or_default());
        sqlx::query(
            "INSERT INTO maintenance (id, enabled, message, environments, until, silence_id, updated_by, updated_at) VALUES (1, $1, $2, $3, $4, $5, $6, $7) \
             ON CONFLICT (id) DO UPDATE SET enabled = $1, message = $2, environments = $3, until = $4, silence_id = $5, updated_by = $6, updated_at = $7",
        )
        .bind(m.enabled)
        .bind(&m.message)
        .bind(environments.clone())
        .bind(m.until)
        .bind(silence_id)
        .bind(&m.updated_by)
        .bind(m.updated_at)
        .execute(&mut *tx)
        .await
        .context("writing maintenance mode")?;
        // The period in force ends here; a new one starts if it stays on (a change of message
        // or environments ends one and starts the next at the same instant).
        close_periods(&mut tx, m.updated_at).await?;
        if m.enabled {
            sqlx::query("INSERT INTO maintenance_periods (started_at, until, environments) VALUES ($1, $2, $3)")
                .bind(m.updated_at)
                .bind(m.until)
                .bind(environments)
                .execute(&mut *tx)
                .await
                .context("recording a maintenance period")?;
        }
        let data = serde_json::to_value(m).unwrap_or_default();
        crate::events::append(&mut tx, TOPIC, action, &data)
            .await
            .context("publishing maintenance mode")?;
        store::commit_audited(
            tx,
            &self.bus,
            NewAudit {
                actor: &m.updated_by,
                action,
                target: "maintenance",
                reason,
                detail: serde_json::json!({ "message": m.message, "environments": m.environments, "until": m.until }),
            },
        )
        .await?;
        self.reload().await.context("reloading maintenance mode")
    }

    /// Ends maintenance whose `until` has passed, once across replicas (the conditional update
    /// decides which one records it). Its silence ended at the same time by itself.
    pub async fn end_if_due(&self, now: i64) -> Result<bool, AppError> {
        let mut tx = store::begin(&self.pool).await?;
        let ended = sqlx::query("UPDATE maintenance SET enabled = $1, silence_id = NULL, updated_by = 'flightdeck', updated_at = $2 WHERE id = 1 AND enabled = $3 AND until IS NOT NULL AND until <= $2")
            .bind(false)
            .bind(now)
            .bind(true)
            .execute(&mut *tx)
            .await
            .context("ending maintenance")?
            .rows_affected();
        if ended == 0 {
            return Ok(false);
        }
        // At its time, not at the worker's next round.
        let until = self.current().until.unwrap_or(now).min(now);
        close_periods(&mut tx, until).await?;
        let mut m = self.current();
        (m.enabled, m.updated_by, m.updated_at) = (false, "flightdeck".into(), now);
        crate::events::append(
            &mut tx,
            TOPIC,
            "maintenance.ended",
            &serde_json::to_value(&m).unwrap_or_default(),
        )
        .await
        .context("publishing maintenance mode")?;
        store::commit_audited(
            tx,
            &self.bus,
            NewAudit {
                actor: "flightdeck",
                action: "maintenance.ended",
                target: "maintenance",
                reason: Some("it reached its end time"),
                detail: serde_json::json!({ "message": m.message, "environments": m.environments, "until": m.until }),
            },
        )
        .await?;
        self.reload().await.context("reloading maintenance mode")?;
        Ok(true)
    }

    /// The maintenance periods that had not ended by `from` (oldest first).
    pub async fn periods_since(&self, from: i64) -> Result<Vec<Period>, AppError> {
        let rows = sqlx::query("SELECT started_at, ended_at, until, environments FROM maintenance_periods WHERE ended_at IS NULL OR ended_at > $1 ORDER BY started_at")
            .bind(from)
            .fetch_all(&self.pool)
            .await
            .context("reading maintenance periods")?;
        rows.iter()
            .map(|row| {
                let environments: Option<String> = row.try_get("environments")?;
                Ok(Period {
                    started_at: row.try_get("started_at")?,
                    ended_at: row.try_get("ended_at")?,
                    until: row.try_get("until")?,
                    environments: environments.and_then(|e| serde_json::from_str(&e).ok()),
                })
            })
            .collect::<Result<_, sqlx::Error>>()
            .context("reading maintenance periods")
    }

    pub fn spawn_worker(self: &Arc<Self>) {
        let mode = self.clone();
        tokio::spawn(async move {
            loop {
                tokio::time::sleep(Duration::from_secs(5)).await;
                if let Err(e) = mode.end_if_due(crate::now_ms()).await {
                    tracing::warn!(error = %e.message, "ending maintenance failed");
                }
            }
        });
    }
}

/// Ends the period in force (if any) at `at`.
async fn close_periods(tx: &mut sqlx::Transaction<'_, sqlx::Any>, at: i64) -> Result<(), AppError> {
    sqlx::query("UPDATE maintenance_periods SET ended_at = $1 WHERE ended_at IS NULL")
        .bind(at)
        .execute(&mut **tx)
        .await
        .map(|_| ())
        .context("ending a maintenance period")
}
