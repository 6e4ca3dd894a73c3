//! The shared secrets of the inbound webhooks: the `FLIGHTDECK_*` variable when it is set, else
//! the one an admin saved on the settings page. The stored value is read at most every few
//! seconds per process (a change reaches every replica within that time) and never leaves the
//! server: the settings page only learns where a secret comes from.

use crate::audit::NewAudit;
use crate::config::WebhookSecrets;
use crate::error::Context as _;
use crate::events::EventBus;
use crate::store;
use app::error::AppError;
use app::model::Principal;
use app::webhook_settings::{
    validate_secret, variable, SecretOrigin, WebhookSecretStatus, SOURCES,
};
use sqlx::{AnyPool, Row};
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

const CACHE_FOR: Duration = Duration::from_secs(5);

pub struct Secrets {
    pool: AnyPool,
    bus: Arc<EventBus>,
    from_environment: WebhookSecrets,
    cache: Mutex<HashMap<String, (Option<String>, Instant)>>,
}

fn key(source: &str) -> String {
    format!("webhook_secret.{source}")
}

impl Secrets {
    pub fn new(
        pool: AnyPool,
        bus: Arc<EventBus>,
        from_environment: WebhookSecrets,
    ) -> Arc<Secrets> {
        Arc::new(Secrets {
            pool,
            bus,
            from_environment,
            cache: Mutex::default(),
        })
    }

    fn environment(&self, source: &str) -> Option<&str> {
        match source {
            "github" => self.from_environment.github.as_deref(),
            "gitlab" => self.from_environment.gitlab.as_deref(),
            _ => None,
        }
    }

    /// The secret deliveries from `source` must be signed (or sent) with, if one is set.
    pub async fn get(&self, source: &str) -> Result<Option<String>, AppError> {
        if let Some(value) = self.environment(source) {
            return Ok(Some(value.to_string()));
        }
        if let Some((value, at)) = self.cache.lock().ok().and_then(|c| c.get(source).cloned()) {
            if at.elapsed() < CACHE_FOR {
                return Ok(value);
            }
        }
        let value: Option<String> = sqlx::query("SELECT value FROM settings WHERE key = $1")
            .bind(key(source))
            .fetch_optional(&self.pool)
            .await
            .context("reading a webhook secret")?
            .map(|row| row.try_get(0))
            .transpose()
            .context("reading a webhook secret")?;
        if let Ok(mut cache) = self.cache.lock() {
            cache.insert(source.to_string(), (value.clone(), Instant::now()));
        }
        Ok(value)
    }

    pub async fn webhook_secrets(&self) -> Result<Vec<WebhookSecretStatus>, AppError> {
        let mut list = Vec::new();
        for source in SOURCES {
            let stored = sqlx::query("SELECT updated_at, updated_by FROM settings WHERE key = $1")
                .bind(key(source))
                .fetch_optional(&self.pool)
                .await
                .context("reading webhook settings")?;
            let (updated_at, updated_by) = match &stored {
                Some(row) => (
                    row.try_get("updated_at").ok(),
                    row.try_get("updated_by").ok(),
                ),
                None => (None, None),
            };
            let origin = if self.environment(source).is_some() {
                SecretOrigin::Environment
            } else if stored.is_some() {
                SecretOrigin::Settings
            } else {
                SecretOrigin::Unset
            };
            list.push(WebhookSecretStatus {
                source: source.to_string(),
                variable: variable(source).to_string(),
                origin,
                updated_at,
                updated_by,
            });
        }
        Ok(list)
    }

    pub async fn set_webhook_secret(
        &self,
        actor: &Principal,
        source: &str,
        secret: &str,
    ) -> Result<(), AppError> {
        if !SOURCES.contains(&source) {
            return Err(AppError::bad_request(format!(
                "No webhook source '{source}'; use github or gitlab."
            )));
        }
        validate_secret(secret).map_err(AppError::unprocessable)?;
        if self.environment(source).is_some() {
            return Err(AppError::conflict(format!(
                "{} sets this secret and wins over this page; change it there.",
                variable(source)
            )));
        }
        let mut tx = store::begin(&self.pool).await?;
        sqlx::query(
            "INSERT INTO settings (key, value, updated_at, updated_by) VALUES ($1, $2, $3, $4) \
             ON CONFLICT (key) DO UPDATE SET value = excluded.value, updated_at = excluded.updated_at, updated_by = excluded.updated_by",
        )
        .bind(key(source))
        .bind(secret)
        .bind(crate::now_ms())
        .bind(actor.actor())
        .execute(&mut *tx)
        .await
        .context("saving a webhook secret")?;
        // The value stays out of the audit trail.
        store::commit_audited(
            tx,
            &self.bus,
            NewAudit {
                actor: &actor.actor(),
                action: "webhook.secret_set",
                target: source,
                reason: None,
                detail: serde_json::json!({ "source": source }),
            },
        )
        .await?;
        if let Ok(mut cache) = self.cache.lock() {
            cache.remove(source);
        }
        Ok(())
    }
}
