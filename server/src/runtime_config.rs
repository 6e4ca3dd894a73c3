//! Runtime configuration in the database. Every change writes its history row (with the values
//! before and after, for undoing it), its audit entry (values masked when sensitive) and a
//! `config` event (the key, never the value) in one transaction. Reads mask sensitive values.

use crate::audit::NewAudit;
use crate::error::Context as _;
use crate::events::EventBus;
use crate::store;
use app::error::AppError;
use app::model::Principal;
use app::runtime_config::{check_key, check_value, ConfigChange, ConfigEntry, ALL, TOPIC};
use serde_json::Value;
use sqlx::{AnyPool, Row};
use std::sync::Arc;

pub struct RuntimeConfig {
    pool: AnyPool,
    bus: Arc<EventBus>,
}

/// What a write asks for.
pub struct NewValue {
    pub value: Value,
    /// `None` keeps what the key has (a sensitive key stays sensitive); new keys are not.
    pub sensitive: Option<bool>,
    pub reason: Option<String>,
}

fn decode(row: &sqlx::any::AnyRow) -> Result<ConfigEntry, sqlx::Error> {
    let value: String = row.try_get("value")?;
    Ok(ConfigEntry {
        key: row.try_get("key")?,
        environment: row.try_get("environment")?,
        value: Some(serde_json::from_str(&value).map_err(|e| sqlx::Error::Decode(e.into()))?),
        sensitive: crate::db::get_bool(row, "sensitive")?,
        version: row.try_get("version")?,
        updated_by: row.try_get("updated_by")?,
        updated_at: row.try_get("updated_at")?,
    })
}

/// A value for the audit trail: as it is, or that there was one.
fn shown(value: Option<&Value>, sensitive: bool) -> Value {
    match value {
        None => Value::Null,
        Some(_) if sensitive => Value::String("(sensitive)".into()),
        Some(v) => v.clone(),
    }
}

const SELECT: &str =
    "SELECT key, environment, value, sensitive, version, updated_at, updated_by FROM config_values";

impl RuntimeConfig {
    pub fn new(pool: AnyPool, bus: Arc<EventBus>) -> Arc<RuntimeConfig> {
        Arc::new(RuntimeConfig { pool, bus })
    }

    /// `all`, or an environment that exists (404 otherwise).
    pub async fn check_scope(&self, environment: &str) -> Result<(), AppError> {
        if environment == ALL {
            return Ok(());
        }
        let found = crate::catalog::environment_exists(&self.pool, environment).await?;
        found.then_some(()).ok_or_else(|| {
            AppError::not_found(format!(
                "Environment '{environment}' (use 'all' or an environment's name)"
            ))
        })
    }

    /// Every stored value, masked; with `environment`, only its own and those for all.
    pub async fn entries(&self, environment: Option<&str>) -> Result<Vec<ConfigEntry>, AppError> {
        let rows = match environment {
            Some(e) => {
                sqlx::query(&format!(
                    "{SELECT} WHERE environment = $1 OR environment = $2 ORDER BY key, environment"
                ))
                .bind(e)
                .bind(ALL)
                .fetch_all(&self.pool)
                .await
            }
            None => {
                sqlx::query(&format!("{SELECT} ORDER BY key, environment"))
                    .fetch_all(&self.pool)
                    .await
            }
        }
        .context("listing config values")?;
        rows.iter()
            .map(|r| decode(r).map(ConfigEntry::masked))
            .collect::<Result<_, _>>()
            .context("decoding config values")
    }

    async fn current(
        tx: &mut sqlx::Transaction<'static, sqlx::Any>,
        environment: &str,
        key: &str,
    ) -> Result<Option<ConfigEntry>, AppError> {
        let row = sqlx::query(&format!("{SELECT} WHERE key = $1 AND environment = $2"))
            .bind(key)
            .bind(environment)
            .fetch_optional(&mut **tx)
            .await
            .context("reading a config value")?;
        row.map(|r| decode(&r))
            .transpose()
            .context("decoding a config value")
    }

    /// Sets `key` in `environment`; answers the entry (masked) and whether it is new.
    pub async fn set(
        &self,
        actor: &Principal,
        environment: &str,
        key: &str,
        new: NewValue,
    ) -> Result<(ConfigEntry, bool), AppError> {
        check_key(key).map_err(AppError::unprocessable)?;
        self.check_scope(environment).await?;
        check_value(&new.value).map_err(AppError::unprocessable)?;
        let text = new.value.to_string();
        let mut tx = store::begin(&self.pool).await?;
        let before = Self::current(&mut tx, environment, key).await?;
        let sensitive = new
            .sensitive
            .unwrap_or(before.as_ref().is_some_and(|b| b.sensitive));
        let now = crate::now_ms();
        let version = before.as_ref().map_or(1, |b| b.version + 1);
        let query = if before.is_some() {
            "UPDATE config_values SET value = $3, sensitive = $4, version = $5, updated_at = $6, updated_by = $7 WHERE key = $1 AND environment = $2"
        } else {
            "INSERT INTO config_values (key, environment, value, sensitive, version, updated_at, updated_by) VALUES ($1, $2, $3, $4, $5, $6, $7)"
        };
        sqlx::query(query)
            .bind(key)
            .bind(environment)
            .bind(&text)
            .bind(sensitive)
            .bind(version)
            .bind(now)
            .bind(actor.actor())
            .execute(&mut *tx)
            .await
            .context("writing a config value")?;
        let old = before.as_ref().and_then(|b| b.value.clone());
        let was_sensitive = before.as_ref().is_some_and(|b| b.sensitive);
        let entry = ConfigEntry {
            key: key.into(),
            environment: environment.into(),
            value: Some(new.value),
            sensitive,
            version,
            updated_by: actor.actor(),
            updated_at: now,
        };
        let change = Change {
            action: "set",
            old,
            new: entry.value.clone(),
            sensitive: sensitive || was_sensitive,
            reason: new.reason.as_deref(),
        };
        self.record(tx, actor, environment, key, change).await?;
        Ok((entry.masked(), before.is_none()))
    }

    pub async fn delete(
        &self,
        actor: &Principal,
        environment: &str,
        key: &str,
        reason: Option<&str>,
    ) -> Result<(), AppError> {
        self.check_scope(environment).await?;
        let mut tx = store::begin(&self.pool).await?;
        let before = Self::current(&mut tx, environment, key)
            .await?
            .ok_or_else(|| AppError::not_found(format!("Config key '{key}' in {environment}")))?;
        sqlx::query("DELETE FROM config_values WHERE key = $1 AND environment = $2")
            .bind(key)
            .bind(environment)
            .execute(&mut *tx)
            .await
            .context("deleting a config value")?;
        let change = Change {
            action: "deleted",
            old: before.value,
            new: None,
            sensitive: before.sensitive,
            reason,
        };
        self.record(tx, actor, environment, key, change).await
    }

    /// The changes of `key` (in one scope, or all), newest first, values masked when sensitive.
    pub async fn history(
        &self,
        key: &str,
        environment: Option<&str>,
        limit: i64,
    ) -> Result<Vec<ConfigChange>, AppError> {
        let rows = sqlx::query(
            "SELECT id, key, environment, at, actor, action, reason, sensitive, old_value, new_value FROM config_history \
             WHERE key = $1 AND ($2 = '' OR environment = $2) ORDER BY id DESC LIMIT $3",
        )
        .bind(key)
        .bind(environment.unwrap_or(""))
        .bind(limit.clamp(1, 500))
        .fetch_all(&self.pool)
        .await
        .context("reading config history")?;
        rows.iter()
            .map(|row| -> Result<ConfigChange, sqlx::Error> {
                let sensitive = crate::db::get_bool(row, "sensitive")?;
                let value = |column: &str| -> Result<Option<Value>, sqlx::Error> {
                    let text: Option<String> = row.try_get(column)?;
                    Ok(text
                        .filter(|_| !sensitive)
                        .and_then(|t| serde_json::from_str(&t).ok()))
                };
                Ok(ConfigChange {
                    id: row.try_get("id")?,
                    key: row.try_get("key")?,
                    environment: row.try_get("environment")?,
                    at: row.try_get("at")?,
                    actor: row.try_get("actor")?,
                    action: row.try_get("action")?,
                    reason: row.try_get("reason")?,
                    sensitive,
                    old_value: value("old_value")?,
                    new_value: value("new_value")?,
                })
            })
            .collect::<Result<_, _>>()
            .context("decoding config history")
    }

    /// Puts back the value `key` had before change `change_id` (removing the key if it had none).
    pub async fn restore(
        &self,
        actor: &Principal,
        environment: &str,
        key: &str,
        change_id: i64,
    ) -> Result<Option<ConfigEntry>, AppError> {
        let row = sqlx::query("SELECT old_value, sensitive FROM config_history WHERE id = $1 AND key = $2 AND environment = $3")
            .bind(change_id)
            .bind(key)
            .bind(environment)
            .fetch_optional(&self.pool)
            .await
            .context("reading a config change")?
            .ok_or_else(|| AppError::not_found(format!("Change {change_id} of '{key}' in {environment}")))?;
        let old: Option<String> = row
            .try_get("old_value")
            .context("decoding a config change")?;
        let sensitive =
            crate::db::get_bool(&row, "sensitive").context("decoding a config change")?;
        let reason = Some(format!("restored the value from before change {change_id}"));
        match old {
            Some(text) => {
                let value = serde_json::from_str(&text).context("decoding a config change")?;
                let new = NewValue {
                    value,
                    sensitive: Some(sensitive),
                    reason,
                };
                Ok(Some(self.set(actor, environment, key, new).await?.0))
            }
            None => {
                self.delete(actor, environment, key, reason.as_deref())
                    .await?;
                Ok(None)
            }
        }
    }

    async fn record(
        &self,
        mut tx: sqlx::Transaction<'static, sqlx::Any>,
        actor: &Principal,
        environment: &str,
        key: &str,
        change: Change<'_>,
    ) -> Result<(), AppError> {
        let text = |v: &Option<Value>| v.as_ref().map(Value::to_string);
        sqlx::query("INSERT INTO config_history (key, environment, at, actor, action, reason, sensitive, old_value, new_value) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)")
            .bind(key)
            .bind(environment)
            .bind(crate::now_ms())
            .bind(actor.actor())
            .bind(change.action)
            .bind(change.reason)
            .bind(change.sensitive)
            .bind(text(&change.old))
            .bind(text(&change.new))
            .execute(&mut *tx)
            .await
            .context("recording config history")?;
        let data =
            serde_json::json!({ "key": key, "environment": environment, "action": change.action });
        crate::events::append(&mut tx, TOPIC, &format!("config.{}", change.action), &data)
            .await
            .context("publishing a config change")?;
        let action = format!("config.{}", change.action);
        let target = format!("{environment}/{key}");
        store::commit_audited(
            tx,
            &self.bus,
            NewAudit {
                actor: &actor.actor(),
                action: &action,
                target: &target,
                reason: change.reason,
                detail: serde_json::json!({
                    "sensitive": change.sensitive,
                    "old": shown(change.old.as_ref(), change.sensitive),
                    "new": shown(change.new.as_ref(), change.sensitive),
                }),
            },
        )
        .await
    }
}

/// One change on its way to the history, the audit trail and the live feed.
struct Change<'a> {
    action: &'static str,
    old: Option<Value>,
    new: Option<Value>,
    /// Sensitive before or after: then neither value is shown anywhere.
    sensitive: bool,
    reason: Option<&'a str>,
}

impl RuntimeConfig {
    pub async fn set_value(
        &self,
        actor: &Principal,
        environment: &str,
        key: &str,
        value: Value,
        sensitive: Option<bool>,
        reason: Option<String>,
    ) -> Result<(ConfigEntry, bool), AppError> {
        let new = NewValue {
            value,
            sensitive,
            reason,
        };
        self.set(actor, environment, key, new).await
    }

    pub async fn restore_value(
        &self,
        actor: &Principal,
        environment: &str,
        key: &str,
        change_id: i64,
    ) -> Result<(), AppError> {
        self.restore(actor, environment, key, change_id)
            .await
            .map(|_| ())
    }
}

#[async_trait::async_trait]
impl app::ports::ConfigPort for RuntimeConfig {
    async fn check_scope(&self, environment: &str) -> Result<(), AppError> {
        RuntimeConfig::check_scope(self, environment).await
    }
    async fn entries(&self, environment: Option<&str>) -> Result<Vec<ConfigEntry>, AppError> {
        RuntimeConfig::entries(self, environment).await
    }
    async fn set_value(
        &self,
        actor: &Principal,
        environment: &str,
        key: &str,
        value: Value,
        sensitive: Option<bool>,
        reason: Option<String>,
    ) -> Result<(ConfigEntry, bool), AppError> {
        RuntimeConfig::set_value(self, actor, environment, key, value, sensitive, reason).await
    }
    async fn delete_value(
        &self,
        actor: &Principal,
        environment: &str,
        key: &str,
        reason: Option<&str>,
    ) -> Result<(), AppError> {
        self.delete(actor, environment, key, reason).await
    }
    async fn value_history(
        &self,
        key: &str,
        environment: &str,
    ) -> Result<Vec<ConfigChange>, AppError> {
        self.history(key, Some(environment), 100).await
    }
    async fn restore_value(
        &self,
        actor: &Principal,
        environment: &str,
        key: &str,
        change_id: i64,
    ) -> Result<(), AppError> {
        RuntimeConfig::restore_value(self, actor, environment, key, change_id).await
    }
}
