//! Storing incoming alerts. One request is one transaction: every alert of it is stored, or
//! none. Alerts are grouped by fingerprint: a repeat of an open alert updates it, a firing alert
//! that was resolved opens again, a resolution resolves it.

use super::escalation::{self, Policy};
use super::incoming::Incoming;
use super::rows::{self, History};
use super::silences::{self, all_match, CompiledMatcher};
use super::Alerts;
use crate::error::internal;
use crate::store;
use app::error::AppError;
use app::health::alert::*;
use sqlx::{Any, Row, Transaction};

/// What the transaction needs about the present: active silences and the escalation policies.
struct Context {
    now: i64,
    silences: Vec<(i64, Vec<CompiledMatcher>)>,
    policies: Vec<Policy>,
}

impl Context {
    fn silenced_by(&self, incoming: &Incoming) -> Option<i64> {
        self.silences
            .iter()
            .find(|(_, matchers)| all_match(matchers, &incoming.labels))
            .map(|(id, _)| *id)
    }
}

impl Alerts {
    /// Stores a batch from `source`, all or nothing, and wakes the escalation worker.
    pub async fn ingest(
        &self,
        source: AlertSource,
        batch: Vec<Incoming>,
    ) -> Result<IngestSummary, AppError> {
        let now = crate::now_ms();
        let mut tx = store::begin_write(&self.pool, self.backend).await?;
        let context = Context {
            now,
            silences: silences::active(&mut tx, now)
                .await
                .map_err(|e| internal("reading silences", e))?,
            policies: escalation::load_policies(&mut tx)
                .await
                .map_err(|e| internal("reading escalation policies", e))?,
        };
        let mut summary = IngestSummary::default();
        for incoming in &batch {
            apply(&mut tx, &context, source, incoming, &mut summary)
                .await
                .map_err(|e| internal("storing an alert", e))?;
        }
        tx.commit()
            .await
            .map_err(|e| internal("committing alerts", e))?;
        self.bus.wake();
        self.escalation_wake.notify_one();
        Ok(summary)
    }
}

async fn apply(
    tx: &mut Transaction<'_, Any>,
    context: &Context,
    source: AlertSource,
    incoming: &Incoming,
    summary: &mut IngestSummary,
) -> Result<(), sqlx::Error> {
    let now = context.now;
    let existing = sqlx::query("SELECT id, status FROM alerts WHERE fingerprint = $1")
        .bind(&incoming.fingerprint)
        .fetch_optional(&mut **tx)
        .await?;
    let existing = match existing {
        Some(row) => {
            let status: String = row.try_get("status")?;
            Some((
                row.try_get::<i64, _>("id")?,
                AlertStatus::parse(&status).unwrap_or(AlertStatus::Open),
            ))
        }
        None => None,
    };
    let actor = source.as_str();
    match (existing, incoming.resolved) {
        (None, true) | (Some((_, AlertStatus::Resolved)), true) => summary.ignored += 1,
        (Some((id, status)), true) => {
            let resolved_at = incoming.ends_at.unwrap_or(now).min(now);
            sqlx::query(
                "UPDATE alerts SET status = 'resolved', resolved_by = $2, resolved_at = $3, \
                 next_escalation_at = NULL, last_seen = $4, updated_at = $4 WHERE id = $1",
            )
            .bind(id)
            .bind(actor)
            .bind(resolved_at)
            .bind(now)
            .execute(&mut **tx)
            .await?;
            super::notify::enqueue_resolved(tx, id, now).await?;
            rows::record(
                tx,
                id,
                now,
                History {
                    actor,
                    kind: "resolved",
                    from: Some(status),
                    to: Some(AlertStatus::Resolved),
                    note: None,
                },
            )
            .await?;
            summary.resolved += 1;
        }
        (Some((id, status)), false) if status != AlertStatus::Resolved => {
            // A repeat: the same alert, still firing. Fields the source may have changed are
            // refreshed; no history entry, or a Prometheus resend every minute would bury it.
            let fields = Fields::of(incoming);
            sqlx::query(
                "UPDATE alerts SET severity = $2, summary = $3, labels = $4, annotations = $5, \
                 generator_url = $6, ends_at = $7, last_seen = $8, fire_count = fire_count + 1, \
                 updated_at = $8 WHERE id = $1",
            )
            .bind(id)
            .bind(fields.severity.as_str())
            .bind(fields.summary.as_deref())
            .bind(&fields.labels)
            .bind(&fields.annotations)
            .bind(incoming.generator_url.as_deref())
            .bind(incoming.ends_at)
            .bind(now)
            .execute(&mut **tx)
            .await?;
            summary.updated += 1;
        }
        (Some((id, _resolved)), false) => {
            let fields = Fields::of(incoming);
            let silenced_by = context.silenced_by(incoming);
            let (policy_id, next) =
                escalation::assign(&context.policies, incoming, silenced_by, now);
            sqlx::query(
                "UPDATE alerts SET status = 'open', severity = $2, summary = $3, labels = $4, \
                 annotations = $5, generator_url = $6, starts_at = $7, ends_at = $8, last_seen = $9, \
                 opened_at = $9, fire_count = fire_count + 1, silenced_by = $10, acknowledged_by = NULL, \
                 acknowledged_at = NULL, resolved_by = NULL, resolved_at = NULL, policy_id = $11, \
                 escalation_level = 0, next_escalation_at = $12, updated_at = $9 WHERE id = $1",
            )
            .bind(id)
            .bind(fields.severity.as_str())
            .bind(fields.summary.as_deref())
            .bind(&fields.labels)
            .bind(&fields.annotations)
            .bind(incoming.generator_url.as_deref())
            .bind(incoming.starts_at.unwrap_or(now))
            .bind(incoming.ends_at)
            .bind(now)
            .bind(silenced_by)
            .bind(policy_id)
            .bind(next)
            .execute(&mut **tx)
            .await?;
            let note = silenced_by.map(|s| format!("silenced by silence {s}"));
            rows::record(
                tx,
                id,
                now,
                History {
                    actor,
                    kind: "reopened",
                    from: Some(AlertStatus::Resolved),
                    to: Some(AlertStatus::Open),
                    note: note.as_deref(),
                },
            )
            .await?;
            summary.opened += 1;
        }
        (None, false) => {
            let fields = Fields::of(incoming);
            let silenced_by = context.silenced_by(incoming);
            let (policy_id, next) =
                escalation::assign(&context.policies, incoming, silenced_by, now);
            let id: i64 = sqlx::query(
                "INSERT INTO alerts (fingerprint, source, name, severity, status, summary, labels, \
                 annotations, generator_url, starts_at, ends_at, first_seen, last_seen, opened_at, \
                 fire_count, silenced_by, policy_id, escalation_level, next_escalation_at, updated_at) \
                 VALUES ($1, $2, $3, $4, 'open', $5, $6, $7, $8, $9, $10, $11, $11, $11, 1, $12, $13, 0, $14, $11) \
                 RETURNING id",
            )
            .bind(&incoming.fingerprint)
            .bind(source.as_str())
            .bind(&fields.name)
            .bind(fields.severity.as_str())
            .bind(fields.summary.as_deref())
            .bind(&fields.labels)
            .bind(&fields.annotations)
            .bind(incoming.generator_url.as_deref())
            .bind(incoming.starts_at.unwrap_or(now))
            .bind(incoming.ends_at)
            .bind(now)
            .bind(silenced_by)
            .bind(policy_id)
            .bind(next)
            .fetch_one(&mut **tx)
            .await?
            .try_get(0)?;
            let note = silenced_by.map(|s| format!("silenced by silence {s}"));
            rows::record(
                tx,
                id,
                now,
                History {
                    actor,
                    kind: "fired",
                    from: None,
                    to: Some(AlertStatus::Open),
                    note: note.as_deref(),
                },
            )
            .await?;
            summary.opened += 1;
        }
    }
    Ok(())
}

/// The columns derived from an incoming alert.
struct Fields {
    name: String,
    severity: Severity,
    summary: Option<String>,
    labels: String,
    annotations: String,
}

impl Fields {
    fn of(incoming: &Incoming) -> Fields {
        let annotation = |key: &str| {
            incoming
                .annotations
                .get(key)
                .filter(|v| !v.trim().is_empty())
                .cloned()
        };
        Fields {
            name: incoming
                .labels
                .get("alertname")
                .cloned()
                .unwrap_or_else(|| incoming.fingerprint.clone()),
            severity: Severity::from_label(incoming.labels.get("severity").map(String::as_str)),
            summary: annotation("summary").or_else(|| annotation("description")),
            labels: serde_json::to_string(&incoming.labels).unwrap_or_default(),
            annotations: serde_json::to_string(&incoming.annotations).unwrap_or_default(),
        }
    }
}
