//! Feature flags in the database, with every change kept in `flag_history`, audited and published
//! on the `flags` topic in the same transaction. Evaluation (OFREP, the page's preview) reads an
//! in-memory copy: this replica reloads it after each of its own writes, and on every `flags`
//! event, so a change made through another replica (or the CLI) arrives within the event bus's
//! delay.

mod kill;
mod restore;

use crate::audit::NewAudit;
use crate::error::Context as _;
use crate::events::EventBus;
use crate::store;
use app::error::AppError;
use app::flags::{Flag, FlagChange, KillSwitch, TOPIC};
use serde_json::Value;
use sqlx::{Any, AnyPool, Row, Transaction};
use std::collections::BTreeMap;
use std::sync::{Arc, RwLock};

/// Every flag, as of the last reload; `generation` changes with each reload.
#[derive(Default)]
pub struct FlagSet {
    pub flags: BTreeMap<String, Arc<Flag>>,
    pub generation: u64,
}

pub struct Flags {
    pool: AnyPool,
    bus: Arc<EventBus>,
    cache: RwLock<Arc<FlagSet>>,
}

fn decode(row: &sqlx::any::AnyRow) -> Result<Flag, sqlx::Error> {
    let definition: String = row.try_get("definition")?;
    let mut flag: Flag =
        serde_json::from_str(&definition).map_err(|e| sqlx::Error::Decode(e.into()))?;
    flag.key = row.try_get("key")?;
    flag.version = row.try_get("version")?;
    flag.created_at = row.try_get("created_at")?;
    flag.updated_at = row.try_get("updated_at")?;
    flag.updated_by = row.try_get("updated_by")?;
    Ok(flag)
}

/// The stored definition: the flag without the fields its row keeps in columns.
fn definition(flag: &Flag) -> String {
    let mut value = serde_json::to_value(flag).unwrap_or_default();
    if let Some(object) = value.as_object_mut() {
        for column in ["key", "version", "created_at", "updated_at", "updated_by"] {
            object.remove(column);
        }
    }
    value.to_string()
}

/// A `flag_history` row.
fn decode_change(row: &sqlx::any::AnyRow) -> Result<FlagChange, sqlx::Error> {
    let definition: String = row.try_get("definition")?;
    let mut flag: Flag =
        serde_json::from_str(&definition).map_err(|e| sqlx::Error::Decode(e.into()))?;
    let (at, actor): (i64, String) = (row.try_get("at")?, row.try_get("actor")?);
    // Rows written before the history kept the whole flag have no key or change metadata (their
    // version stays unknown, 0).
    if flag.key.is_empty() {
        flag.key = row.try_get("flag_key")?;
        flag.updated_at = at;
        flag.updated_by.clone_from(&actor);
    }
    Ok(FlagChange {
        id: row.try_get("id")?,
        at,
        actor,
        action: row.try_get("action")?,
        reason: row.try_get("reason")?,
        flag,
    })
}

const SELECT: &str =
    "SELECT key, definition, version, created_at, updated_at, updated_by FROM flags";

/// Reads the body of `PUT /flags/{key}`: a whole flag (it has `kind` and `variants`) replaces the
/// current one; anything less changes only the fields it names (`{"enabled": false}`), and a
/// `null` removes an optional one.
pub fn apply_change(current: &Flag, body: Value) -> Result<Flag, AppError> {
    let Value::Object(fields) = body else {
        return Err(AppError::unprocessable(
            "The body must be a JSON object: a whole flag, or the fields to change.",
        ));
    };
    let whole = fields.contains_key("kind") && fields.contains_key("variants");
    let mut merged = if whole {
        serde_json::Map::new()
    } else {
        match serde_json::to_value(current) {
            Ok(Value::Object(o)) => o,
            _ => serde_json::Map::new(),
        }
    };
    for (field, value) in fields {
        if value.is_null() {
            merged.remove(&field);
        } else {
            merged.insert(field, value);
        }
    }
    let mut flag: Flag = serde_json::from_value(Value::Object(merged))
        .map_err(|e| AppError::unprocessable(format!("Invalid flag: {e}")))?;
    if !flag.key.is_empty() && flag.key != current.key {
        return Err(AppError::unprocessable(format!(
            "key: the body names '{}' but the path names '{}'; a flag's key cannot change",
            flag.key, current.key
        )));
    }
    flag.key = current.key.clone();
    Ok(flag)
}

impl Flags {
    /// Loads every flag and starts following the `flags` topic.
    pub async fn start(pool: AnyPool, bus: Arc<EventBus>) -> Result<Arc<Flags>, sqlx::Error> {
        let flags = Arc::new(Flags {
            pool,
            bus: bus.clone(),
            cache: RwLock::new(Arc::default()),
        });
        flags.reload().await.map_err(|_| sqlx::Error::PoolClosed)?;
        bus.follow(TOPIC, &flags, |flags: Arc<Flags>| async move {
            let _ = flags.reload().await;
        });
        Ok(flags)
    }

    async fn reload(&self) -> Result<(), AppError> {
        let list = store::list(
            &self.pool,
            "SELECT key, definition, version, created_at, updated_at, updated_by FROM flags",
            decode,
            "loading flags",
        )
        .await?;
        let mut cache = self.cache.write().unwrap_or_else(|e| e.into_inner());
        *cache = Arc::new(FlagSet {
            flags: list
                .into_iter()
                .map(|f| (f.key.clone(), Arc::new(f)))
                .collect(),
            generation: cache.generation + 1,
        });
        Ok(())
    }

    /// The flags as of the last reload; cheap, for every evaluation.
    pub fn snapshot(&self) -> Arc<FlagSet> {
        self.cache.read().unwrap_or_else(|e| e.into_inner()).clone()
    }

    pub async fn list(&self) -> Result<Vec<Flag>, AppError> {
        store::list(&self.pool, "SELECT key, definition, version, created_at, updated_at, updated_by FROM flags ORDER BY key", decode, "listing flags").await
    }

    pub async fn get(&self, key: &str) -> Result<Flag, AppError> {
        let row = sqlx::query(&format!("{SELECT} WHERE key = $1"))
            .bind(key)
            .fetch_optional(&self.pool)
            .await
            .context("reading a flag")?;
        let row = row.ok_or_else(|| not_found(key))?;
        decode(&row).context("decoding a flag")
    }

    /// The flag's latest `limit` changes (at most 1,000: callers keep their own bound), newest
    /// first; with `before`, the latest of those before that change.
    pub async fn history(
        &self,
        key: &str,
        before: Option<i64>,
        limit: i64,
    ) -> Result<Vec<FlagChange>, AppError> {
        let rows = sqlx::query(
            "SELECT id, flag_key, at, actor, action, reason, definition FROM flag_history \
             WHERE flag_key = $1 AND id < $2 ORDER BY id DESC LIMIT $3",
        )
        .bind(key)
        .bind(before.unwrap_or(i64::MAX))
        .bind(limit.clamp(1, 1_000))
        .fetch_all(&self.pool)
        .await
        .context("reading a flag's history")?;
        rows.iter()
            .map(decode_change)
            .collect::<Result<_, _>>()
            .context("decoding a flag's history")
    }

    /// Checks what needs the database: environment names, and the kill switch's SLO (see
    /// [`Flags::resolve_kill_switch`]) when it is new or changed from `previous`.
    async fn check_names(&self, flag: &mut Flag, previous: Option<&Flag>) -> Result<(), AppError> {
        for environment in flag.environments.keys() {
            let known = crate::catalog::environment_exists(&self.pool, environment).await?;
            if !known {
                return Err(AppError::unprocessable(format!(
                    "environments.{environment}: there is no environment named '{environment}'"
                )));
            }
        }
        let before = previous.and_then(|p| p.kill_switch.as_ref());
        if let Some(kill) = flag.kill_switch.as_mut() {
            // A kill switch sent back with its SLO's bare name keeps following the same SLO.
            if let Some(b) = before.filter(|b| kill.service.is_none() && b.slo == kill.slo) {
                kill.service = b.service.clone();
            }
            // One left as it was is not checked again, so that switching the flag off in an
            // incident never fails on an SLO name that another service has taken since.
            if before != Some(&*kill) {
                self.resolve_kill_switch(kill).await?;
            }
        }
        Ok(())
    }

    /// Ties a kill switch to one SLO: SLO names are unique per service only, so a bare name
    /// takes the service of the one SLO so named, and must name only one.
    async fn resolve_kill_switch(&self, kill: &mut KillSwitch) -> Result<(), AppError> {
        let rows = sqlx::query(
            "SELECT services.name FROM slos JOIN services ON services.id = slos.service_id WHERE slos.name = $1 ORDER BY services.name",
        )
        .bind(&kill.slo)
        .fetch_all(&self.pool)
        .await
        .context("checking an SLO")?;
        let services: Vec<String> = rows
            .iter()
            .map(|r| r.try_get("name"))
            .collect::<Result<_, _>>()
            .context("checking an SLO")?;
        let slo = &kill.slo;
        match (&kill.service, services.as_slice()) {
            (Some(service), _) if services.contains(service) => Ok(()),
            (Some(service), _) => Err(AppError::unprocessable(format!(
                "kill_switch.slo: service '{service}' has no SLO named '{slo}'"
            ))),
            (None, []) => Err(AppError::unprocessable(format!(
                "kill_switch.slo: there is no SLO named '{slo}'"
            ))),
            (None, [only]) => {
                kill.service = Some(only.clone());
                Ok(())
            }
            (None, several) => Err(AppError::unprocessable(format!(
                "kill_switch.service: {} services have an SLO named '{slo}' ({}): name the SLO's service in kill_switch.service",
                several.len(),
                several.join(", ")
            ))),
        }
    }

    pub async fn create(&self, actor: &str, mut flag: Flag) -> Result<Flag, AppError> {
        flag.validate().map_err(AppError::unprocessable)?;
        self.check_names(&mut flag, None).await?;
        let now = crate::now_ms();
        (
            flag.version,
            flag.created_at,
            flag.updated_at,
            flag.updated_by,
        ) = (1, now, now, actor.to_string());
        let mut tx = store::begin(&self.pool).await?;
        store::execute_unique(
            sqlx::query("INSERT INTO flags (key, definition, version, created_at, updated_at, updated_by) VALUES ($1, $2, $3, $4, $5, $6)")
                .bind(&flag.key)
                .bind(definition(&flag))
                .bind(flag.version)
                .bind(now)
                .bind(now)
                .bind(actor),
            &mut tx,
            "creating a flag",
            |_| format!("A flag with key '{}' exists already; change it with PUT /api/v1/flags/{}.", flag.key, flag.key),
        )
        .await?;
        self.commit(tx, actor, "created", None, &flag).await?;
        Ok(flag)
    }

    /// Applies `body` ([`apply_change`]) to the flag `key`.
    pub async fn update(
        &self,
        actor: &str,
        key: &str,
        body: Value,
        reason: Option<&str>,
    ) -> Result<Flag, AppError> {
        let current = self.get(key).await?;
        let mut flag = apply_change(&current, body)?;
        flag.validate().map_err(AppError::unprocessable)?;
        self.check_names(&mut flag, Some(&current)).await?;
        self.replace(actor, current, flag, "updated", reason).await
    }

    /// Stores `flag` over `current`, unless another change got there first (409).
    async fn replace(
        &self,
        actor: &str,
        current: Flag,
        mut flag: Flag,
        action: &str,
        reason: Option<&str>,
    ) -> Result<Flag, AppError> {
        let now = crate::now_ms();
        flag.version = current.version + 1;
        flag.created_at = current.created_at;
        flag.updated_at = now;
        flag.updated_by = actor.to_string();
        let mut tx = store::begin(&self.pool).await?;
        let done = sqlx::query("UPDATE flags SET definition = $1, version = $2, updated_at = $3, updated_by = $4 WHERE key = $5 AND version = $6")
            .bind(definition(&flag))
            .bind(flag.version)
            .bind(now)
            .bind(actor)
            .bind(&flag.key)
            .bind(current.version)
            .execute(&mut *tx)
            .await
            .context("updating a flag")?;
        if done.rows_affected() == 0 {
            return Err(AppError::conflict(format!(
                "Flag '{}' changed while this change was made; reload it and try again.",
                flag.key
            )));
        }
        self.commit(tx, actor, action, reason, &flag).await?;
        Ok(flag)
    }

    pub async fn delete(&self, actor: &str, key: &str) -> Result<(), AppError> {
        let current = self.get(key).await?;
        let mut tx = store::begin(&self.pool).await?;
        sqlx::query("DELETE FROM flags WHERE key = $1")
            .bind(key)
            .execute(&mut *tx)
            .await
            .context("deleting a flag")?;
        self.commit(tx, actor, "deleted", None, &current).await
    }

    /// History row, audit entry and `flags` event, committed together; then the cache reloads.
    async fn commit(
        &self,
        mut tx: Transaction<'static, Any>,
        actor: &str,
        action: &str,
        reason: Option<&str>,
        flag: &Flag,
    ) -> Result<(), AppError> {
        let now = crate::now_ms();
        sqlx::query("INSERT INTO flag_history (flag_key, at, actor, action, reason, definition) VALUES ($1, $2, $3, $4, $5, $6)")
            .bind(&flag.key)
            .bind(now)
            .bind(actor)
            .bind(action)
            .bind(reason)
            // The whole flag, with its key and version: the history says which version each
            // change made.
            .bind(serde_json::to_string(flag).unwrap_or_default())
            .execute(&mut *tx)
            .await
            .context("recording a flag's history")?;
        let data = serde_json::json!({ "key": flag.key, "action": action, "version": flag.version, "enabled": flag.enabled });
        crate::events::append(&mut tx, TOPIC, &format!("flag.{action}"), &data)
            .await
            .context("publishing a flag change")?;
        let audit_action = format!("flag.{action}");
        store::commit_audited(
            tx,
            &self.bus,
            NewAudit {
                actor,
                action: &audit_action,
                target: &flag.key,
                reason,
                detail: serde_json::json!({
                    "version": flag.version,
                    "enabled": flag.enabled,
                    "default_variant": flag.default_variant,
                    "rollout": flag.rollout,
                }),
            },
        )
        .await?;
        self.reload().await
    }
}

fn not_found(key: &str) -> AppError {
    AppError::missing(format!("There is no flag with key '{key}'."))
}

#[async_trait::async_trait]
impl app::ports::FlagsPort for Flags {
    async fn list(&self) -> Result<Vec<Flag>, AppError> {
        Flags::list(self).await
    }
    async fn get(&self, key: &str) -> Result<Flag, AppError> {
        Flags::get(self, key).await
    }
    async fn history(
        &self,
        key: &str,
        before: Option<i64>,
        limit: i64,
    ) -> Result<Vec<FlagChange>, AppError> {
        Flags::history(self, key, before, limit).await
    }
    async fn change(
        &self,
        actor: &app::model::Principal,
        key: &str,
        change: Value,
        reason: Option<&str>,
    ) -> Result<Flag, AppError> {
        self.update(&actor.actor(), key, change, reason).await
    }
    async fn history_entry(&self, key: &str, change_id: i64) -> Result<FlagChange, AppError> {
        Flags::history_entry(self, key, change_id).await
    }
    async fn restore(
        &self,
        actor: &app::model::Principal,
        key: &str,
        change_id: i64,
        expected_version: Option<i64>,
        reason: Option<&str>,
    ) -> Result<Flag, AppError> {
        Flags::restore(
            self,
            &actor.actor(),
            key,
            change_id,
            expected_version,
            reason,
        )
        .await
    }
}
