//! Notifications: a row per message to send, delivered by the worker and retried with
//! exponential backoff; the outcome is written to the alert's history so people see whether
//! anyone was told. Channels: a Slack-compatible incoming webhook (`{"text": ...}`), a generic
//! JSON webhook (the alert as JSON), email over SMTP.
//!
//! [`Alerts::deliver_due`] takes the time as an argument (tests bring their own clock). A
//! notification is claimed before it is sent by moving its due time forward in one conditional
//! UPDATE, so two workers never send it twice.

use super::rows::{self, History};
use super::Alerts;
use crate::error::Context as _;
use crate::store;
use app::error::AppError;
use app::health::alert::Alert;
use sqlx::{Any, Row, Transaction};
use std::time::Duration;

/// Attempts before a notification is given up.
pub const MAX_ATTEMPTS: i64 = 6;
/// How long a claimed notification is left to its sender before another worker may try.
const CLAIM_MS: i64 = 60_000;
const SEND_TIMEOUT: Duration = Duration::from_secs(10);

/// Delay before attempt `attempts + 1`: 2 s, 4 s, 8 s, ... at most 5 minutes.
pub fn backoff_ms(attempts: i64) -> i64 {
    (1000i64 << attempts.clamp(1, 9)).min(300_000)
}

pub async fn enqueue(
    tx: &mut Transaction<'_, Any>,
    alert_id: i64,
    channel_id: i64,
    reason: &str,
    now: i64,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO notifications (alert_id, channel_id, reason, status, attempts, next_attempt_at, created_at) \
         VALUES ($1, $2, $3, 'pending', 0, $4, $4)",
    )
    .bind(alert_id)
    .bind(channel_id)
    .bind(reason)
    .bind(now)
    .execute(&mut **tx)
    .await?;
    Ok(())
}

/// Tells every channel that heard about the alert, and is still there, that it is resolved.
pub async fn enqueue_resolved(
    tx: &mut Transaction<'_, Any>,
    alert_id: i64,
    now: i64,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO notifications (alert_id, channel_id, reason, status, attempts, next_attempt_at, created_at) \
         SELECT DISTINCT $1, channel_id, 'resolved', 'pending', 0, $2, $2 FROM notifications \
         WHERE alert_id = $1 AND reason <> 'resolved' \
         AND channel_id IN (SELECT id FROM channels WHERE removed_at IS NULL)",
    )
    .bind(alert_id)
    .bind(now)
    .execute(&mut **tx)
    .await?;
    Ok(())
}

struct Due {
    id: i64,
    alert_id: i64,
    attempts: i64,
    due: i64,
    reason: String,
    channel: String,
    kind: String,
    target: String,
}

impl Alerts {
    /// Sends every notification due at `now`; returns how many were attempted.
    pub async fn deliver_due(&self, now: i64) -> Result<usize, AppError> {
        let rows = sqlx::query(
            "SELECT n.id, n.alert_id, n.attempts, n.next_attempt_at, n.reason, c.name, c.kind, c.target \
             FROM notifications n JOIN channels c ON c.id = n.channel_id \
             WHERE n.status = 'pending' AND n.next_attempt_at <= $1 ORDER BY n.next_attempt_at LIMIT 50",
        )
        .bind(now)
        .fetch_all(&self.pool)
        .await
        .context("finding due notifications")?;
        let due: Vec<Due> = rows
            .iter()
            .map(|r| {
                Ok(Due {
                    id: r.try_get("id")?,
                    alert_id: r.try_get("alert_id")?,
                    attempts: r.try_get("attempts")?,
                    due: r.try_get("next_attempt_at")?,
                    reason: r.try_get("reason")?,
                    channel: r.try_get("name")?,
                    kind: r.try_get("kind")?,
                    target: r.try_get("target")?,
                })
            })
            .collect::<Result<_, sqlx::Error>>()
            .context("reading due notifications")?;
        let mut attempted = 0;
        for notification in due {
            if self.deliver(notification, now).await? {
                attempted += 1;
            }
        }
        if attempted > 0 {
            self.bus.wake();
        }
        Ok(attempted)
    }

    async fn deliver(&self, n: Due, now: i64) -> Result<bool, AppError> {
        let claimed = sqlx::query(
            "UPDATE notifications SET next_attempt_at = $2 WHERE id = $1 AND status = 'pending' AND next_attempt_at = $3",
        )
        .bind(n.id)
        .bind(now + CLAIM_MS)
        .bind(n.due)
        .execute(&self.pool)
        .await
        .context("recording a notification")?
        .rows_affected();
        if claimed != 1 {
            return Ok(false);
        }
        let alert = {
            let mut tx = store::begin(&self.pool).await?;
            rows::fetch(&mut tx, n.alert_id)
                .await
                .context("recording a notification")?
        };
        let outcome = self.send(&n, &alert).await;
        let attempts = n.attempts + 1;
        let mut tx = store::begin_write(&self.pool, self.backend).await?;
        let final_note = match &outcome {
            Ok(()) => {
                sqlx::query("UPDATE notifications SET status = 'sent', attempts = $2, sent_at = $3, last_error = NULL WHERE id = $1")
                    .bind(n.id)
                    .bind(attempts)
                    .bind(now)
                    .execute(&mut *tx)
                    .await
                    .context("recording a notification")?;
                Some((
                    "notified",
                    format!("{} notification sent to {}", n.reason, n.channel),
                ))
            }
            Err(error) if attempts >= MAX_ATTEMPTS => {
                sqlx::query("UPDATE notifications SET status = 'failed', attempts = $2, last_error = $3 WHERE id = $1")
                    .bind(n.id)
                    .bind(attempts)
                    .bind(error)
                    .execute(&mut *tx)
                    .await
                    .context("recording a notification")?;
                Some((
                    "notification_failed",
                    format!(
                        "gave up notifying {} after {attempts} attempts: {error}",
                        n.channel
                    ),
                ))
            }
            Err(error) => {
                sqlx::query("UPDATE notifications SET attempts = $2, last_error = $3, next_attempt_at = $4 WHERE id = $1")
                    .bind(n.id)
                    .bind(attempts)
                    .bind(error)
                    .bind(now + backoff_ms(attempts))
                    .execute(&mut *tx)
                    .await
                    .context("recording a notification")?;
                tracing::warn!(channel = %n.channel, attempts, %error, "notification failed; will retry");
                None
            }
        };
        match final_note {
            Some((kind, note)) => {
                rows::record(
                    &mut tx,
                    n.alert_id,
                    now,
                    History {
                        actor: "flightdeck",
                        kind,
                        from: None,
                        to: None,
                        note: Some(&note),
                    },
                )
                .await
                .context("recording a notification")?;
            }
            None => {
                rows::publish(&mut tx, n.alert_id)
                    .await
                    .context("recording a notification")?;
            }
        }
        tx.commit().await.context("recording a notification")?;
        Ok(true)
    }

    async fn send(&self, n: &Due, alert: &Alert) -> Result<(), String> {
        match n.kind.as_str() {
            "slack" => {
                let body =
                    serde_json::json!({ "text": message(alert, &n.reason, &self.public_url) });
                self.post(&n.target, &body).await
            }
            "webhook" => {
                let body = serde_json::json!({ "reason": n.reason, "alert": alert });
                self.post(&n.target, &body).await
            }
            "email" => {
                let subject = format!("[{}] {} {}", alert.severity.label(), alert.name, n.reason);
                let body = message(alert, &n.reason, &self.public_url);
                self.mailer.send(&n.target, &subject, &body).await
            }
            other => Err(format!("unknown channel kind '{other}'")),
        }
    }

    async fn post(&self, url: &str, body: &serde_json::Value) -> Result<(), String> {
        let response = self
            .http
            .post(url)
            .timeout(SEND_TIMEOUT)
            .json(body)
            .send()
            .await
            .map_err(|e| format!("request failed: {}", without_url(&e)))?;
        if response.status().is_success() {
            Ok(())
        } else {
            Err(format!(
                "the receiver answered HTTP {}",
                response.status().as_u16()
            ))
        }
    }
}

/// reqwest's errors name the URL, and a Slack URL is a secret: keep only the cause.
fn without_url(error: &reqwest::Error) -> String {
    let mut text = error.to_string();
    if let Some(url) = error.url() {
        text = text.replace(url.as_str(), "<channel url>");
    }
    if error.is_timeout() {
        "timed out".into()
    } else if error.is_connect() {
        "could not connect".into()
    } else {
        text
    }
}

/// The text of a notification.
pub fn message(alert: &Alert, reason: &str, public_url: &str) -> String {
    let headline = match reason {
        "resolved" => "Resolved",
        "escalated" => "Escalated",
        _ => "Firing",
    };
    let mut text = format!("{headline}: [{}] {}", alert.severity.label(), alert.name);
    if let Some(summary) = &alert.summary {
        text.push_str(&format!(" — {summary}"));
    }
    let labels: Vec<String> = alert
        .labels
        .iter()
        .filter(|(k, _)| k.as_str() != "alertname")
        .map(|(k, v)| format!("{k}={v}"))
        .collect();
    if !labels.is_empty() {
        text.push_str(&format!("\n{}", labels.join(", ")));
    }
    text.push_str(&format!(
        "\n{}/alerts/{}",
        public_url.trim_end_matches('/'),
        alert.id
    ));
    text
}

#[cfg(test)]
mod tests {
    #[test]
    fn backoff_doubles_up_to_five_minutes() {
        let delays: Vec<i64> = (1..=10).map(super::backoff_ms).collect();
        assert_eq!(&delays[..4], &[2000, 4000, 8000, 16_000]);
        assert_eq!(delays[9], 300_000);
    }
}
