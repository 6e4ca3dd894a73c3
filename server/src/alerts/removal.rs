//! Removing alert routing: escalation policies and notification channels, by admins, audited.
//!
//! A policy is deleted with its steps; the open alerts it owned stop escalating (nothing else
//! would own them: the first matching policy was chosen when they opened). A channel still named
//! by a policy's step is refused, so no escalation silently loses a step. A removed channel is
//! kept, renamed `NAME (removed #ID)` so the name is free again, because the notifications it
//! carried stay on their alerts; those still waiting to be sent are given up.

use super::Alerts;
use crate::audit::NewAudit;
use crate::error::Context as _;
use crate::store;
use app::error::AppError;
use app::model::Principal;
use sqlx::Row;

impl Alerts {
    /// Deletes escalation policy `id` (404 when there is none).
    pub async fn remove_policy(&self, actor: &Principal, id: i64) -> Result<(), AppError> {
        let now = crate::now_ms();
        let mut tx = store::begin_write(&self.pool, self.backend).await?;
        let name: String = sqlx::query("SELECT name FROM escalation_policies WHERE id = $1")
            .bind(id)
            .fetch_optional(&mut *tx)
            .await
            .context("removing an escalation policy")?
            .ok_or_else(|| AppError::not_found(format!("Escalation policy {id}")))?
            .try_get(0)
            .context("removing an escalation policy")?;
        let detached = sqlx::query(
            "UPDATE alerts SET policy_id = NULL, next_escalation_at = NULL, updated_at = $2 WHERE policy_id = $1",
        )
        .bind(id)
        .bind(now)
        .execute(&mut *tx)
        .await
        .context("removing an escalation policy")?
        .rows_affected();
        sqlx::query("DELETE FROM escalation_policies WHERE id = $1")
            .bind(id)
            .execute(&mut *tx)
            .await
            .context("removing an escalation policy")?;
        store::commit_audited(
            tx,
            &self.bus,
            NewAudit {
                actor: &actor.actor(),
                action: "escalation_policy.removed",
                target: &name,
                reason: None,
                detail: serde_json::json!({ "id": id, "alerts_no_longer_escalating": detached }),
            },
        )
        .await
    }

    /// Removes notification channel `id` (404 when there is none, 409 while a policy uses it).
    pub async fn remove_channel(&self, actor: &Principal, id: i64) -> Result<(), AppError> {
        let now = crate::now_ms();
        let who = actor.actor();
        let mut tx = store::begin_write(&self.pool, self.backend).await?;
        let name: String =
            sqlx::query("SELECT name FROM channels WHERE id = $1 AND removed_at IS NULL")
                .bind(id)
                .fetch_optional(&mut *tx)
                .await
                .context("removing a channel")?
                .ok_or_else(|| AppError::not_found(format!("Channel {id}")))?
                .try_get(0)
                .context("removing a channel")?;
        let users: Vec<String> = sqlx::query(
            "SELECT DISTINCT p.name FROM escalation_steps s JOIN escalation_policies p ON p.id = s.policy_id \
             WHERE s.channel_id = $1 ORDER BY p.name",
        )
        .bind(id)
        .fetch_all(&mut *tx)
        .await
        .context("removing a channel")?
        .iter()
        .map(|r| r.try_get(0))
        .collect::<Result<_, _>>()
        .context("removing a channel")?;
        if !users.is_empty() {
            return Err(AppError::conflict(format!(
                "Channel '{name}' is a step of {}: remove {} first, or add the policy again without it.",
                quoted_list(&users),
                if users.len() == 1 { "that policy" } else { "those policies" },
            )));
        }
        let renamed = format!("{name} (removed #{id})");
        store::execute_unique(
            sqlx::query(
                "UPDATE channels SET name = $2, removed_at = $3, removed_by = $4 WHERE id = $1",
            )
            .bind(id)
            .bind(&renamed)
            .bind(now)
            .bind(&who),
            &mut tx,
            "removing a channel",
            |_| format!("Another channel is named '{renamed}'; rename that one first."),
        )
        .await?;
        let given_up = sqlx::query(
            "UPDATE notifications SET status = 'failed', last_error = $2 WHERE channel_id = $1 AND status = 'pending'",
        )
        .bind(id)
        .bind(format!("not sent: {who} removed the channel"))
        .execute(&mut *tx)
        .await
        .context("removing a channel")?
        .rows_affected();
        store::commit_audited(
            tx,
            &self.bus,
            NewAudit {
                actor: &who,
                action: "channel.removed",
                target: &name,
                reason: None,
                detail: serde_json::json!({ "id": id, "pending_notifications_given_up": given_up }),
            },
        )
        .await
    }
}

/// `'a'`, `'a' and 'b'`, `'a', 'b' and 'c'`.
fn quoted_list(names: &[String]) -> String {
    let quoted: Vec<String> = names.iter().map(|n| format!("'{n}'")).collect();
    match quoted.split_last() {
        Some((last, [])) => last.clone(),
        Some((last, rest)) => format!("{} and {last}", rest.join(", ")),
        None => String::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::quoted_list;

    #[test]
    fn names_policies_in_a_sentence() {
        let names = |v: &[&str]| v.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        assert_eq!(quoted_list(&names(&["a"])), "'a'");
        assert_eq!(quoted_list(&names(&["a", "b"])), "'a' and 'b'");
        assert_eq!(quoted_list(&names(&["a", "b", "c"])), "'a', 'b' and 'c'");
    }
}
