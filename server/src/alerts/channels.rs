//! Notification channels and escalation policies: created by admins, audited, listed with
//! channel URLs masked (a Slack webhook URL is a credential).

use super::Alerts;
use crate::audit::NewAudit;
use crate::error::Context as _;
use crate::store;
use app::error::AppError;
use app::health::escalation::*;
use app::model::Principal;
use sqlx::{Any, Row, Transaction};

fn decode_channel(row: &sqlx::any::AnyRow) -> Result<Channel, sqlx::Error> {
    let kind: String = row.try_get("kind")?;
    let kind = ChannelKind::parse(&kind)
        .ok_or_else(|| sqlx::Error::Decode(format!("unknown channel kind {kind}").into()))?;
    let target: String = row.try_get("target")?;
    Ok(Channel {
        id: row.try_get("id")?,
        name: row.try_get("name")?,
        kind,
        target: mask_target(kind, &target),
        created_by: row.try_get("created_by")?,
        created_at: row.try_get("created_at")?,
    })
}

impl Alerts {
    pub async fn list_channels(&self) -> Result<Vec<Channel>, AppError> {
        store::list(
            &self.pool,
            "SELECT id, name, kind, target, created_by, created_at FROM channels WHERE removed_at IS NULL ORDER BY name",
            decode_channel,
            "listing channels",
        )
        .await
    }

    pub async fn create_channel(
        &self,
        actor: &Principal,
        new: NewChannel,
    ) -> Result<Channel, AppError> {
        let new = new.normalized().map_err(AppError::unprocessable)?;
        let now = crate::now_ms();
        let who = actor.actor();
        let mut tx = store::begin(&self.pool).await?;
        let id = store::insert_id(
            sqlx::query(
                "INSERT INTO channels (name, kind, target, created_by, created_at) VALUES ($1, $2, $3, $4, $5) RETURNING id",
            )
            .bind(&new.name)
            .bind(new.kind.as_str())
            .bind(&new.target)
            .bind(&who)
            .bind(now),
            &mut tx,
            "creating a channel",
            |_| format!("A channel named '{}' already exists.", new.name),
        )
        .await?;
        let shown = mask_target(new.kind, &new.target);
        store::commit_audited(
            tx,
            &self.bus,
            NewAudit {
                actor: &who,
                action: "channel.created",
                target: &new.name,
                reason: None,
                detail: serde_json::json!({ "kind": new.kind, "target": shown }),
            },
        )
        .await?;
        Ok(Channel {
            id,
            name: new.name,
            kind: new.kind,
            target: shown,
            created_by: who,
            created_at: now,
        })
    }

    pub async fn list_policies(&self) -> Result<Vec<EscalationPolicy>, AppError> {
        let policies = sqlx::query(
            "SELECT id, name, matchers, rank, created_by, created_at FROM escalation_policies ORDER BY rank, id",
        )
        .fetch_all(&self.pool)
        .await
        .context("listing escalation policies")?;
        let steps = sqlx::query(
            "SELECT s.policy_id, s.delay_s, c.name FROM escalation_steps s JOIN channels c ON c.id = s.channel_id \
             ORDER BY s.policy_id, s.position",
        )
        .fetch_all(&self.pool)
        .await
        .context("listing escalation policies")?;
        policies
            .iter()
            .map(|row| {
                let id: i64 = row.try_get("id")?;
                let matchers: String = row.try_get("matchers")?;
                let steps = steps
                    .iter()
                    .filter(|s| s.try_get::<i64, _>("policy_id").ok() == Some(id))
                    .map(|s| {
                        Ok(EscalationStep {
                            delay_s: s.try_get::<i64, _>("delay_s")? as u32,
                            channel: s.try_get("name")?,
                        })
                    })
                    .collect::<Result<_, sqlx::Error>>()?;
                Ok(EscalationPolicy {
                    id,
                    name: row.try_get("name")?,
                    matchers: serde_json::from_str(&matchers)
                        .map_err(|e| sqlx::Error::Decode(e.into()))?,
                    rank: row.try_get("rank")?,
                    steps,
                    created_by: row.try_get("created_by")?,
                    created_at: row.try_get("created_at")?,
                })
            })
            .collect::<Result<_, sqlx::Error>>()
            .context("listing escalation policies")
    }

    pub async fn create_policy(
        &self,
        actor: &Principal,
        new: NewPolicy,
    ) -> Result<EscalationPolicy, AppError> {
        let new = checked_policy(new)?;
        let now = crate::now_ms();
        let who = actor.actor();
        let mut tx = store::begin(&self.pool).await?;
        let channel_ids = channel_ids(&mut tx, &new.steps).await?;
        let id = store::insert_id(
            sqlx::query(
                "INSERT INTO escalation_policies (name, matchers, rank, created_by, created_at) VALUES ($1, $2, $3, $4, $5) RETURNING id",
            )
            .bind(&new.name)
            .bind(serde_json::to_string(&new.matchers).unwrap_or_default())
            .bind(new.rank)
            .bind(&who)
            .bind(now),
            &mut tx,
            "creating an escalation policy",
            |_| format!("A policy named '{}' already exists.", new.name),
        )
        .await?;
        insert_steps(&mut tx, id, &new.steps, &channel_ids)
            .await
            .context("creating an escalation policy")?;
        store::commit_audited(
            tx,
            &self.bus,
            NewAudit {
                actor: &who,
                action: "escalation_policy.created",
                target: &new.name,
                reason: None,
                detail: serde_json::json!({ "rank": new.rank, "steps": new.steps, "matchers": new.matchers }),
            },
        )
        .await?;
        Ok(EscalationPolicy {
            id,
            name: new.name,
            matchers: new.matchers,
            rank: new.rank,
            steps: new.steps,
            created_by: who,
            created_at: now,
        })
    }

    /// Replaces policy `id`'s name, rank, matchers and steps (404 when there is none). The open
    /// alerts it owns keep it and their place: their next step is the new step at that position,
    /// when it falls due as already scheduled.
    /// Changes channel `id`: name, kind and target. An empty target keeps the current one (lists
    /// show it masked, so the form cannot), unless the kind changes. Notifications not yet sent
    /// go to the new target; steps naming the channel follow it, since they hold its id.
    pub async fn update_channel(
        &self,
        actor: &Principal,
        id: i64,
        mut new: NewChannel,
    ) -> Result<Channel, AppError> {
        let who = actor.actor();
        let mut tx = store::begin(&self.pool).await?;
        let row = sqlx::query(
            "SELECT name, kind, target, created_by, created_at FROM channels WHERE id = $1 AND removed_at IS NULL",
        )
        .bind(id)
        .fetch_optional(&mut *tx)
        .await
        .context("changing a channel")?
        .ok_or_else(|| AppError::not_found(format!("Channel {id}")))?;
        let old_name: String = row.try_get("name").context("changing a channel")?;
        let old_kind: String = row.try_get("kind").context("changing a channel")?;
        let old_target: String = row.try_get("target").context("changing a channel")?;
        if new.target.trim().is_empty() {
            if new.kind.as_str() != old_kind {
                return Err(AppError::unprocessable(format!(
                    "A channel that becomes {} needs its new target.",
                    new.kind.as_str()
                )));
            }
            new.target = old_target.clone();
        }
        let new = new.normalized().map_err(AppError::unprocessable)?;
        store::execute_unique(
            sqlx::query("UPDATE channels SET name = $2, kind = $3, target = $4 WHERE id = $1")
                .bind(id)
                .bind(&new.name)
                .bind(new.kind.as_str())
                .bind(&new.target),
            &mut tx,
            "changing a channel",
            |_| format!("A channel named '{}' already exists.", new.name),
        )
        .await?;
        let shown = mask_target(new.kind, &new.target);
        store::commit_audited(
            tx,
            &self.bus,
            NewAudit {
                actor: &who,
                action: "channel.updated",
                target: &old_name,
                reason: None,
                detail: serde_json::json!({
                    "name": new.name, "kind": new.kind, "target": shown,
                    "target_changed": new.target != old_target,
                }),
            },
        )
        .await?;
        Ok(Channel {
            id,
            name: new.name,
            kind: new.kind,
            target: shown,
            created_by: row.try_get("created_by").context("changing a channel")?,
            created_at: row.try_get("created_at").context("changing a channel")?,
        })
    }

    pub async fn update_policy(
        &self,
        actor: &Principal,
        id: i64,
        new: NewPolicy,
    ) -> Result<EscalationPolicy, AppError> {
        let new = checked_policy(new)?;
        let who = actor.actor();
        let mut tx = store::begin(&self.pool).await?;
        let row = sqlx::query(
            "SELECT name, created_by, created_at FROM escalation_policies WHERE id = $1",
        )
        .bind(id)
        .fetch_optional(&mut *tx)
        .await
        .context("changing an escalation policy")?
        .ok_or_else(|| AppError::not_found(format!("Escalation policy {id}")))?;
        let old_name: String = row
            .try_get("name")
            .context("changing an escalation policy")?;
        let channel_ids = channel_ids(&mut tx, &new.steps).await?;
        store::execute_unique(
            sqlx::query(
                "UPDATE escalation_policies SET name = $2, matchers = $3, rank = $4 WHERE id = $1",
            )
            .bind(id)
            .bind(&new.name)
            .bind(serde_json::to_string(&new.matchers).unwrap_or_default())
            .bind(new.rank),
            &mut tx,
            "changing an escalation policy",
            |_| format!("A policy named '{}' already exists.", new.name),
        )
        .await?;
        sqlx::query("DELETE FROM escalation_steps WHERE policy_id = $1")
            .bind(id)
            .execute(&mut *tx)
            .await
            .context("changing an escalation policy")?;
        insert_steps(&mut tx, id, &new.steps, &channel_ids)
            .await
            .context("changing an escalation policy")?;
        store::commit_audited(
            tx,
            &self.bus,
            NewAudit {
                actor: &who,
                action: "escalation_policy.updated",
                target: &old_name,
                reason: None,
                detail: serde_json::json!({ "name": new.name, "rank": new.rank, "steps": new.steps, "matchers": new.matchers }),
            },
        )
        .await?;
        Ok(EscalationPolicy {
            id,
            name: new.name,
            matchers: new.matchers,
            rank: new.rank,
            steps: new.steps,
            created_by: row
                .try_get("created_by")
                .context("changing an escalation policy")?,
            created_at: row
                .try_get("created_at")
                .context("changing an escalation policy")?,
        })
    }
}

/// A policy as given, trimmed and checked, its regex matchers compiled once to refuse bad ones:
/// the same rules whether it is added or changed.
fn checked_policy(new: NewPolicy) -> Result<NewPolicy, AppError> {
    let new = new.normalized().map_err(AppError::unprocessable)?;
    super::silences::compile_all(&new.matchers).map_err(AppError::unprocessable)?;
    Ok(new)
}

/// The channel of each step, by name (422 naming the first that does not exist).
async fn channel_ids(
    tx: &mut Transaction<'_, Any>,
    steps: &[EscalationStep],
) -> Result<Vec<i64>, AppError> {
    let mut ids = Vec::with_capacity(steps.len());
    for step in steps {
        let id: Option<i64> =
            sqlx::query("SELECT id FROM channels WHERE name = $1 AND removed_at IS NULL")
                .bind(&step.channel)
                .fetch_optional(&mut **tx)
                .await
                .context("finding a step's channel")?
                .map(|r| r.try_get(0))
                .transpose()
                .context("finding a step's channel")?;
        ids.push(id.ok_or_else(|| {
            AppError::unprocessable(format!(
                "There is no channel named '{}'; create it first.",
                step.channel
            ))
        })?);
    }
    Ok(ids)
}

/// Stores a policy's steps in order, each with its channel's id.
async fn insert_steps(
    tx: &mut Transaction<'_, Any>,
    policy_id: i64,
    steps: &[EscalationStep],
    channel_ids: &[i64],
) -> Result<(), sqlx::Error> {
    for (position, (step, channel_id)) in steps.iter().zip(channel_ids).enumerate() {
        sqlx::query("INSERT INTO escalation_steps (policy_id, position, delay_s, channel_id) VALUES ($1, $2, $3, $4)")
            .bind(policy_id)
            .bind(position as i64)
            .bind(step.delay_s as i64)
            .bind(channel_id)
            .execute(&mut **tx)
            .await?;
    }
    Ok(())
}
