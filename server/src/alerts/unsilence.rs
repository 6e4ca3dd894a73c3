//! The end of a silence, early (an operator expires it) or on time. The alerts it silenced that
//! still fire are released: if another silence in force matches them they move to it, otherwise
//! they notify again, and an unacknowledged one with an escalation policy takes its next step at
//! once (as Alertmanager notifies when a silence expires over a firing alert).

use super::rows::{self, History};
use super::silences::{self, all_match, decode, SELECT};
use super::Alerts;
use crate::audit::NewAudit;
use crate::error::Context as _;
use crate::store;
use app::error::AppError;
use app::health::alert::{AlertStatus, Matcher, Silence};
use app::model::Principal;
use sqlx::{Any, Row, Transaction};
use std::collections::BTreeMap;

impl Alerts {
    /// Ends silence `id` now (404 when there is none, 409 when it has already ended).
    pub async fn expire_silence(&self, actor: &Principal, id: i64) -> Result<Silence, AppError> {
        let now = crate::now_ms();
        let mut tx = store::begin_write(&self.pool, self.backend).await?;
        let row = sqlx::query(&format!("{SELECT} WHERE id = $1"))
            .bind(id)
            .fetch_optional(&mut *tx)
            .await
            .context("ending a silence")?
            .ok_or_else(|| AppError::not_found(format!("Silence {id}")))?;
        let silence = decode(&row).context("ending a silence")?;
        if silence.ends_at <= now {
            return Err(AppError::conflict(format!(
                "Silence {id} has already ended; nothing to do."
            )));
        }
        sqlx::query("UPDATE silences SET ends_at = $2, starts_at = CASE WHEN starts_at > $2 THEN $2 ELSE starts_at END WHERE id = $1")
            .bind(id)
            .bind(now)
            .execute(&mut *tx)
            .await
            .context("ending a silence")?;
        let by = actor.actor();
        let released = release(&mut tx, &[id], &by, now)
            .await
            .context("ending a silence")?;
        let description: Vec<String> = silence.matchers.iter().map(Matcher::describe).collect();
        store::commit_audited(
            tx,
            &self.bus,
            NewAudit {
                actor: &by,
                action: "silence.expired",
                target: &description.join(", "),
                reason: None,
                detail: serde_json::json!({ "id": id, "released_alerts": released }),
            },
        )
        .await?;
        if released > 0 {
            self.escalation_wake.notify_one();
        }
        Ok(Silence {
            ends_at: now,
            starts_at: silence.starts_at.min(now),
            ..silence
        })
    }

    /// Releases the alerts of silences that ended on time. Run by the alert worker.
    pub async fn release_ended_silences(&self, now: i64) -> Result<usize, AppError> {
        let ended: Vec<i64> = sqlx::query(
            "SELECT DISTINCT a.silenced_by FROM alerts a JOIN silences s ON s.id = a.silenced_by \
             WHERE a.status <> 'resolved' AND s.ends_at <= $1 LIMIT 100",
        )
        .bind(now)
        .fetch_all(&self.pool)
        .await
        .context("releasing alerts of ended silences")?
        .iter()
        .map(|row| row.try_get(0))
        .collect::<Result<_, _>>()
        .context("releasing alerts of ended silences")?;
        if ended.is_empty() {
            return Ok(0);
        }
        let mut tx = store::begin_write(&self.pool, self.backend).await?;
        let released = release(&mut tx, &ended, "system", now)
            .await
            .context("releasing alerts of ended silences")?;
        tx.commit()
            .await
            .context("releasing alerts of ended silences")?;
        self.bus.wake();
        Ok(released)
    }
}

/// Releases the unresolved alerts silenced by `ended`; returns how many.
async fn release(
    tx: &mut Transaction<'_, Any>,
    ended: &[i64],
    actor: &str,
    now: i64,
) -> Result<usize, sqlx::Error> {
    let in_force = silences::active(tx, now).await?;
    let placeholders: Vec<String> = (2..ended.len() + 2).map(|i| format!("${i}")).collect();
    let sql = format!(
        "SELECT id, labels, status, silenced_by, policy_id FROM alerts \
         WHERE status <> $1 AND silenced_by IN ({})",
        placeholders.join(", ")
    );
    let mut query = sqlx::query(&sql).bind(AlertStatus::Resolved.as_str());
    for id in ended {
        query = query.bind(*id);
    }
    let rows = query.fetch_all(&mut **tx).await?;
    for row in &rows {
        let id: i64 = row.try_get("id")?;
        let ended_id: i64 = row.try_get("silenced_by")?;
        let labels: String = row.try_get("labels")?;
        let labels: BTreeMap<String, String> = serde_json::from_str(&labels).unwrap_or_default();
        let status: String = row.try_get("status")?;
        let unacknowledged = AlertStatus::parse(&status).is_some_and(|s| s.is_unacknowledged());
        let policy: Option<i64> = row.try_get("policy_id")?;
        let next_silence = in_force
            .iter()
            .find(|(_, matchers)| all_match(matchers, &labels))
            .map(|(silence, _)| *silence);
        let next_step =
            (next_silence.is_none() && unacknowledged && policy.is_some()).then_some(now);
        sqlx::query(
            "UPDATE alerts SET silenced_by = $2, next_escalation_at = $3, updated_at = $4 WHERE id = $1",
        )
        .bind(id)
        .bind(next_silence)
        .bind(next_step)
        .bind(now)
        .execute(&mut **tx)
        .await?;
        let note = match next_silence {
            Some(next) => format!("silence {ended_id} ended; still silenced by silence {next}"),
            None => format!("silence {ended_id} ended; notifications resume"),
        };
        let entry = History {
            actor,
            kind: if next_silence.is_some() {
                "silenced"
            } else {
                "unsilenced"
            },
            from: None,
            to: None,
            note: Some(&note),
        };
        rows::record(tx, id, now, entry).await?;
    }
    Ok(rows.len())
}
