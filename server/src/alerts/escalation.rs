//! Escalation: the first policy (by rank) whose matchers fit an alert's labels owns it. Each step
//! of the policy waits `delay_s` after the previous one (the first: after the alert opened) and
//! then notifies its channel, as long as nobody acknowledged the alert. Passing the first step is
//! the ordinary notification; every later step escalates the alert.
//!
//! [`Alerts::escalate_due`] takes the time as an argument, so tests drive it with a clock of their
//! own. Each step is claimed with a conditional UPDATE on (level, due time): a step is taken once
//! even when several replicas run the worker.

use super::incoming::Incoming;
use super::rows::{self, History};
use super::silences::{all_match, compile_all, CompiledMatcher};
use super::Alerts;
use crate::error::Context as _;
use crate::store;
use app::error::AppError;
use app::health::alert::{AlertStatus, Matcher};
use sqlx::{Any, Row, Transaction};

pub struct Policy {
    pub id: i64,
    matchers: Vec<CompiledMatcher>,
    /// The first step's delay in seconds; `None` for a policy without steps.
    first_delay_s: Option<i64>,
}

/// Every policy by rank with its first step's delay, in the caller's transaction.
pub async fn load_policies(tx: &mut Transaction<'_, Any>) -> Result<Vec<Policy>, sqlx::Error> {
    let rows = sqlx::query(
        "SELECT p.id, p.matchers, (SELECT s.delay_s FROM escalation_steps s WHERE s.policy_id = p.id \
         AND s.position = 0) AS first_delay_s FROM escalation_policies p ORDER BY p.rank, p.id",
    )
    .fetch_all(&mut **tx)
    .await?;
    let mut policies = Vec::with_capacity(rows.len());
    for row in &rows {
        let matchers: String = row.try_get("matchers")?;
        let matchers: Vec<Matcher> =
            serde_json::from_str(&matchers).map_err(|e| sqlx::Error::Decode(e.into()))?;
        if let Ok(matchers) = compile_all(&matchers) {
            policies.push(Policy {
                id: row.try_get("id")?,
                matchers,
                first_delay_s: row.try_get("first_delay_s")?,
            });
        }
    }
    Ok(policies)
}

/// The policy an opening alert falls under and when its first step is due. A silenced alert keeps
/// its policy but nothing is scheduled.
pub fn assign(
    policies: &[Policy],
    incoming: &Incoming,
    silenced_by: Option<i64>,
    now: i64,
) -> (Option<i64>, Option<i64>) {
    match policies
        .iter()
        .find(|p| all_match(&p.matchers, &incoming.labels))
    {
        Some(policy) => {
            let due = policy
                .first_delay_s
                .filter(|_| silenced_by.is_none())
                .map(|delay| now + delay * 1000);
            (Some(policy.id), due)
        }
        None => (None, None),
    }
}

/// A step as stored.
struct Step {
    delay_s: i64,
    channel_id: i64,
    channel: String,
}

async fn steps(tx: &mut Transaction<'_, Any>, policy_id: i64) -> Result<Vec<Step>, sqlx::Error> {
    let rows = sqlx::query(
        "SELECT s.delay_s, s.channel_id, c.name FROM escalation_steps s JOIN channels c ON c.id = s.channel_id \
         WHERE s.policy_id = $1 ORDER BY s.position",
    )
    .bind(policy_id)
    .fetch_all(&mut **tx)
    .await?;
    rows.iter()
        .map(|r| {
            Ok(Step {
                delay_s: r.try_get("delay_s")?,
                channel_id: r.try_get("channel_id")?,
                channel: r.try_get("name")?,
            })
        })
        .collect()
}

impl Alerts {
    /// Who escalating alert `id` by hand would notify now: the step at its escalation level,
    /// which the worker takes right after the escalation (see `take_step`).
    pub async fn escalation_preview(
        &self,
        id: i64,
    ) -> Result<app::health::escalation::EscalationPreview, AppError> {
        let mut tx = self
            .pool
            .begin()
            .await
            .context("reading an alert's escalation")?;
        let row = sqlx::query(
            "SELECT a.escalation_level, a.policy_id, p.name FROM alerts a \
             LEFT JOIN escalation_policies p ON p.id = a.policy_id WHERE a.id = $1",
        )
        .bind(id)
        .fetch_optional(&mut *tx)
        .await
        .context("reading an alert's escalation")?
        .ok_or_else(|| AppError::not_found(format!("alert {id}")))?;
        let level: i64 = row
            .try_get("escalation_level")
            .context("reading an alert's escalation")?;
        let policy_id: Option<i64> = row
            .try_get("policy_id")
            .context("reading an alert's escalation")?;
        let policy: Option<String> = row
            .try_get("name")
            .context("reading an alert's escalation")?;
        let steps = match policy_id {
            Some(policy_id) => steps(&mut tx, policy_id)
                .await
                .context("reading an alert's escalation")?,
            None => Vec::new(),
        };
        tx.commit().await.context("reading an alert's escalation")?;
        Ok(app::health::escalation::EscalationPreview {
            channel: policy
                .as_ref()
                .and_then(|_| steps.get(level as usize))
                .map(|s| s.channel.clone()),
            policy,
            step: level + 1,
            steps: steps.len() as i64,
        })
    }

    /// Takes every escalation step due at `now`; returns how many were taken.
    pub async fn escalate_due(&self, now: i64) -> Result<usize, AppError> {
        let due = sqlx::query(
            "SELECT id FROM alerts WHERE next_escalation_at IS NOT NULL AND next_escalation_at <= $1 \
             AND status IN ('open', 'escalated') ORDER BY next_escalation_at LIMIT 200",
        )
        .bind(now)
        .fetch_all(&self.pool)
        .await
        .context("finding due escalations")?;
        let mut taken = 0;
        for row in due {
            let id: i64 = row.try_get(0).context("reading an alert id")?;
            if self.take_step(id, now).await? {
                taken += 1;
            }
        }
        if taken > 0 {
            self.bus.wake();
            self.notify_wake.notify_one();
        }
        Ok(taken)
    }

    async fn take_step(&self, id: i64, now: i64) -> Result<bool, AppError> {
        let mut tx = store::begin_write(&self.pool, self.backend).await?;
        let Some(row) = sqlx::query(
            "SELECT status, escalation_level, next_escalation_at, policy_id FROM alerts WHERE id = $1",
        )
        .bind(id)
        .fetch_optional(&mut *tx)
        .await
        .context("escalating an alert")?
        else {
            return Ok(false);
        };
        let status: String = row.try_get("status").context("escalating an alert")?;
        let status = AlertStatus::parse(&status).unwrap_or(AlertStatus::Open);
        let level: i64 = row
            .try_get("escalation_level")
            .context("escalating an alert")?;
        let due: Option<i64> = row
            .try_get("next_escalation_at")
            .context("escalating an alert")?;
        let policy_id: Option<i64> = row.try_get("policy_id").context("escalating an alert")?;
        let (Some(due), Some(policy_id)) = (due, policy_id) else {
            return Ok(false);
        };
        if due > now || !status.is_unacknowledged() {
            return Ok(false);
        }
        let steps = steps(&mut tx, policy_id)
            .await
            .context("escalating an alert")?;
        let Some(step) = steps.get(level as usize) else {
            sqlx::query("UPDATE alerts SET next_escalation_at = NULL WHERE id = $1")
                .bind(id)
                .execute(&mut *tx)
                .await
                .context("escalating an alert")?;
            tx.commit().await.context("escalating an alert")?;
            return Ok(false);
        };
        let next = steps
            .get(level as usize + 1)
            .map(|s| now + s.delay_s * 1000);
        let escalates = level > 0;
        let new_status = if escalates {
            AlertStatus::Escalated
        } else {
            status
        };
        let claimed = sqlx::query(
            "UPDATE alerts SET escalation_level = $2, next_escalation_at = $3, status = $4, updated_at = $5 \
             WHERE id = $1 AND escalation_level = $6 AND next_escalation_at = $7",
        )
        .bind(id)
        .bind(level + 1)
        .bind(next)
        .bind(new_status.as_str())
        .bind(now)
        .bind(level)
        .bind(due)
        .execute(&mut *tx)
        .await
        .context("escalating an alert")?
        .rows_affected();
        if claimed != 1 {
            return Ok(false);
        }
        let reason = if escalates { "escalated" } else { "firing" };
        super::notify::enqueue(&mut tx, id, step.channel_id, reason, now)
            .await
            .context("escalating an alert")?;
        let note = format!(
            "step {} of the policy: notifying {}",
            level + 1,
            step.channel
        );
        rows::record(
            &mut tx,
            id,
            now,
            History {
                actor: "flightdeck",
                kind: if escalates { "escalated" } else { "notifying" },
                from: escalates.then_some(status),
                to: escalates.then_some(new_status),
                note: Some(&note),
            },
        )
        .await
        .context("escalating an alert")?;
        tx.commit().await.context("escalating an alert")?;
        Ok(true)
    }
}
