//! Alerts (capability B): ingestion from Alertmanager and Prometheus, the feed, acknowledge /
//! escalate / resolve, silences, escalation policies and notifications. Every state change writes
//! its history entry and its live event in the same transaction; an acknowledgement is committed
//! before it is answered, so nothing acknowledged is lost.
//!
//! This file is the feed: listing, reading and acting on alerts. The background worker (expiry,
//! escalation, notification, retention) is `worker.rs`; storing incoming alerts is `ingest/`.

pub mod channels;
mod escalation;
pub mod incoming;
mod ingest;
mod mailer;
mod notify;
mod removal;
mod repeats;
mod retention;
mod rows;
pub mod silences;
mod unsilence;
mod worker;

pub use notify::{backoff_ms, message, MAX_ATTEMPTS};

use crate::audit::NewAudit;
use crate::config::AlertingSettings;
use crate::db::{Backend, Db};
use crate::error::Context as _;
use crate::events::EventBus;
use crate::store;
use app::error::AppError;
use app::health::alert::*;
use app::health::escalation::{Channel, EscalationPolicy, NewChannel, NewPolicy};
use app::model::Principal;
use rows::{History, SELECT_ALERT};
use sqlx::{AnyPool, Row};
use std::sync::Arc;

use tokio::sync::Notify;

pub struct Alerts {
    pool: AnyPool,
    backend: Backend,
    bus: Arc<EventBus>,
    http: reqwest::Client,
    mailer: mailer::Mailer,
    public_url: String,
    /// Wakes the worker when an alert opens or is escalated by hand.
    escalation_wake: Notify,
    /// Wakes the worker when notifications were queued.
    notify_wake: Notify,
    /// The group-commit writer of incoming alerts.
    ingest_writer: tokio::sync::mpsc::Sender<ingest::Job>,
    /// Resolved alerts older than this are deleted ([`Alerts::prune`]).
    retention_ms: i64,
    /// The longest a silence may last.
    silence_max_ms: i64,
}

impl Alerts {
    pub fn new(db: &Db, bus: Arc<EventBus>, settings: &AlertingSettings) -> Arc<Alerts> {
        Arc::new(Alerts {
            pool: db.pool.clone(),
            backend: db.backend,
            bus,
            http: reqwest::Client::builder()
                .redirect(reqwest::redirect::Policy::none())
                .build()
                .unwrap_or_default(),
            mailer: mailer::Mailer::new(settings.smtp_url.as_deref(), &settings.smtp_from),
            public_url: settings.public_url.clone(),
            escalation_wake: Notify::new(),
            notify_wake: Notify::new(),
            ingest_writer: ingest::start_writer(db.pool.clone(), db.backend),
            retention_ms: settings.alert_retention.as_millis() as i64,
            silence_max_ms: settings.silence_max.as_millis() as i64,
        })
    }

    pub async fn list(&self, query: &AlertQuery) -> Result<AlertPage, AppError> {
        let limit = query.checked_limit().map_err(AppError::bad_request)? as i64;
        let cursor = query
            .cursor
            .as_deref()
            .map(decode_cursor)
            .transpose()
            .map_err(AppError::bad_request)?;
        let mut sql = format!("{SELECT_ALERT} WHERE 1 = 1");
        let mut n = 0;
        let mut param = || {
            n += 1;
            format!("${n}")
        };
        if query.status.is_some() {
            sql.push_str(&format!(" AND status = {}", param()));
        }
        if query.severity.is_some() {
            sql.push_str(&format!(" AND severity = {}", param()));
        }
        if cursor.is_some() {
            let (a, b, c) = (param(), param(), param());
            sql.push_str(&format!(
                " AND (opened_at < {a} OR (opened_at = {b} AND id < {c}))"
            ));
        }
        sql.push_str(&format!(
            " ORDER BY opened_at DESC, id DESC LIMIT {}",
            param()
        ));
        let mut q = sqlx::query(&sql);
        if let Some(status) = query.status {
            q = q.bind(status.as_str());
        }
        if let Some(severity) = query.severity {
            q = q.bind(severity.as_str());
        }
        if let Some((at, id)) = cursor {
            q = q.bind(at).bind(at).bind(id);
        }
        let rows = q
            .bind(limit + 1)
            .fetch_all(&self.pool)
            .await
            .context("listing alerts")?;
        let mut alerts = rows
            .iter()
            .map(rows::decode)
            .collect::<Result<Vec<_>, _>>()
            .context("reading alerts")?;
        let next_cursor = (alerts.len() as i64 > limit).then(|| {
            alerts.truncate(limit as usize);
            let last = alerts.last().expect("a full page");
            encode_cursor(last.opened_at, last.id)
        });
        Ok(AlertPage {
            alerts,
            next_cursor,
        })
    }

    pub async fn get(&self, id: i64) -> Result<AlertDetail, AppError> {
        let row = sqlx::query(&format!("{SELECT_ALERT} WHERE id = $1"))
            .bind(id)
            .fetch_optional(&self.pool)
            .await
            .context("reading an alert")?
            .ok_or_else(|| AppError::not_found(format!("alert {id}")))?;
        let alert = rows::decode(&row).context("reading an alert")?;
        let history = sqlx::query(
            "SELECT id, at, actor, kind, from_status, to_status, note FROM alert_events \
             WHERE alert_id = $1 ORDER BY id DESC LIMIT 200",
        )
        .bind(id)
        .fetch_all(&self.pool)
        .await
        .context("reading an alert")?
        .iter()
        .map(rows::decode_event)
        .collect::<Result<_, _>>()
        .context("reading an alert")?;
        let notifications = sqlx::query(
            "SELECT n.id, c.name, n.reason, n.status, n.attempts, n.last_error, n.created_at, n.sent_at \
             FROM notifications n JOIN channels c ON c.id = n.channel_id WHERE n.alert_id = $1 ORDER BY n.id DESC LIMIT 100",
        )
        .bind(id)
        .fetch_all(&self.pool)
        .await
        .context("reading an alert")?
        .iter()
        .map(|r| {
            Ok(NotificationSummary {
                id: r.try_get("id")?,
                channel: r.try_get("name")?,
                reason: r.try_get("reason")?,
                status: r.try_get("status")?,
                attempts: r.try_get("attempts")?,
                last_error: r.try_get("last_error")?,
                created_at: r.try_get("created_at")?,
                sent_at: r.try_get("sent_at")?,
            })
        })
        .collect::<Result<_, sqlx::Error>>()
        .context("reading an alert")?;
        Ok(AlertDetail {
            alert,
            history,
            notifications,
        })
    }

    /// Acknowledge, escalate or resolve, by a person or a token. The row is written first in the
    /// transaction (SQLite write lock, PostgreSQL row lock), so two people acting at once take
    /// turns and the second sees the first one's change.
    pub async fn act(
        &self,
        actor: &Principal,
        id: i64,
        action: AlertAction,
        note: Option<String>,
    ) -> Result<Alert, AppError> {
        let note = app::text::non_blank(note);
        if note.as_ref().is_some_and(|n| n.len() > 2000) {
            return Err(AppError::unprocessable(
                "The note is longer than 2000 characters.",
            ));
        }
        let now = crate::now_ms();
        let who = actor.actor();
        let mut tx = store::begin_write(&self.pool, self.backend).await?;
        let locked = sqlx::query("UPDATE alerts SET updated_at = $2 WHERE id = $1 RETURNING status, escalation_level, policy_id")
            .bind(id)
            .bind(now)
            .fetch_optional(&mut *tx)
            .await
            .context("changing an alert")?
            .ok_or_else(|| AppError::not_found(format!("alert {id}")))?;
        let status: String = locked.try_get("status").context("changing an alert")?;
        let from = AlertStatus::parse(&status).unwrap_or(AlertStatus::Open);
        let to = transition(from, action).map_err(AppError::conflict)?;
        let mut history_note = note.clone();
        match action {
            AlertAction::Acknowledge => {
                sqlx::query("UPDATE alerts SET status = $2, acknowledged_by = $3, acknowledged_at = $4, next_escalation_at = NULL WHERE id = $1")
                    .bind(id).bind(to.as_str()).bind(&who).bind(now)
                    .execute(&mut *tx).await.context("changing an alert")?;
            }
            AlertAction::Escalate => {
                // The next step of the policy is taken by the worker right away.
                let policy_id: Option<i64> =
                    locked.try_get("policy_id").context("changing an alert")?;
                let next = policy_id.map(|_| now);
                if policy_id.is_none() {
                    let text =
                        "no escalation policy covers this alert, so nobody further was notified";
                    history_note = Some(match history_note {
                        Some(n) => format!("{n} ({text})"),
                        None => text.into(),
                    });
                }
                // Whoever acknowledged it stays on record: escalating asks for more help, it
                // does not take the alert away from them.
                sqlx::query("UPDATE alerts SET status = $2, next_escalation_at = $3 WHERE id = $1")
                    .bind(id)
                    .bind(to.as_str())
                    .bind(next)
                    .execute(&mut *tx)
                    .await
                    .context("changing an alert")?;
            }
            AlertAction::Resolve => {
                sqlx::query("UPDATE alerts SET status = $2, resolved_by = $3, resolved_at = $4, next_escalation_at = NULL WHERE id = $1")
                    .bind(id).bind(to.as_str()).bind(&who).bind(now)
                    .execute(&mut *tx).await.context("changing an alert")?;
                notify::enqueue_resolved(&mut tx, id, now)
                    .await
                    .context("changing an alert")?;
            }
        }
        let kind = match action {
            AlertAction::Acknowledge => "acknowledged",
            AlertAction::Escalate => "escalated",
            AlertAction::Resolve => "resolved",
        };
        let alert = rows::record(
            &mut tx,
            id,
            now,
            History {
                actor: &who,
                kind,
                from: Some(from),
                to: Some(to),
                note: history_note.as_deref(),
            },
        )
        .await
        .context("changing an alert")?;
        store::commit_audited(
            tx,
            &self.bus,
            NewAudit {
                actor: &who,
                action: &format!("alert.{kind}"),
                target: &format!("alert {id} ({})", alert.name),
                reason: note.as_deref(),
                detail: serde_json::json!({ "from": from, "to": to, "fingerprint": alert.fingerprint }),
            },
        )
        .await?;
        self.escalation_wake.notify_one();
        Ok(alert)
    }

    pub async fn needing_person(&self) -> Result<app::health::alert::AlertCounts, AppError> {
        let rows = sqlx::query(
            "SELECT severity, COUNT(*) AS n FROM alerts \
             WHERE status IN ('open', 'escalated') AND silenced_by IS NULL GROUP BY severity",
        )
        .fetch_all(&self.pool)
        .await
        .context("counting alerts")?;
        let mut counts = app::health::alert::AlertCounts::default();
        for row in rows {
            let severity: String = row.try_get("severity").context("counting alerts")?;
            let n = row.try_get::<i64, _>("n").context("counting alerts")? as u32;
            match Severity::parse(&severity) {
                Some(Severity::Critical) => counts.critical += n,
                Some(Severity::Warning) => counts.warning += n,
                _ => counts.info += n,
            }
        }
        Ok(counts)
    }
}

#[async_trait::async_trait]
impl app::ports::AlertsPort for Alerts {
    async fn list(&self, query: &AlertQuery) -> Result<AlertPage, AppError> {
        Alerts::list(self, query).await
    }
    async fn get(&self, id: i64) -> Result<AlertDetail, AppError> {
        Alerts::get(self, id).await
    }
    async fn act(
        &self,
        actor: &Principal,
        id: i64,
        action: AlertAction,
        note: Option<String>,
    ) -> Result<Alert, AppError> {
        Alerts::act(self, actor, id, action, note).await
    }
    async fn escalation_preview(
        &self,
        id: i64,
    ) -> Result<app::health::escalation::EscalationPreview, AppError> {
        Alerts::escalation_preview(self, id).await
    }
    async fn needing_person(&self) -> Result<app::health::alert::AlertCounts, AppError> {
        Alerts::needing_person(self).await
    }
    async fn silences(&self) -> Result<Vec<Silence>, AppError> {
        self.list_silences(crate::now_ms()).await
    }
    async fn create_silence(
        &self,
        actor: &Principal,
        new: NewSilence,
    ) -> Result<Silence, AppError> {
        Alerts::create_silence(self, actor, new).await
    }
    async fn expire_silence(&self, actor: &Principal, id: i64) -> Result<Silence, AppError> {
        Alerts::expire_silence(self, actor, id).await
    }
    async fn channels(&self) -> Result<Vec<Channel>, AppError> {
        self.list_channels().await
    }
    async fn create_channel(
        &self,
        actor: &Principal,
        new: NewChannel,
    ) -> Result<Channel, AppError> {
        Alerts::create_channel(self, actor, new).await
    }
    async fn policies(&self) -> Result<Vec<EscalationPolicy>, AppError> {
        self.list_policies().await
    }
    async fn create_policy(
        &self,
        actor: &Principal,
        new: NewPolicy,
    ) -> Result<EscalationPolicy, AppError> {
        Alerts::create_policy(self, actor, new).await
    }
    async fn update_channel(
        &self,
        actor: &Principal,
        id: i64,
        new: NewChannel,
    ) -> Result<Channel, AppError> {
        Alerts::update_channel(self, actor, id, new).await
    }
    async fn remove_channel(&self, actor: &Principal, id: i64) -> Result<(), AppError> {
        Alerts::remove_channel(self, actor, id).await
    }
    async fn update_policy(
        &self,
        actor: &Principal,
        id: i64,
        new: NewPolicy,
    ) -> Result<EscalationPolicy, AppError> {
        Alerts::update_policy(self, actor, id, new).await
    }
    async fn remove_policy(&self, actor: &Principal, id: i64) -> Result<(), AppError> {
        Alerts::remove_policy(self, actor, id).await
    }
}
