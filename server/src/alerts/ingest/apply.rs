//! One incoming alert applied to what is stored: ingestion's state machine, one function per
//! transition. A firing alert not seen before fires; one that was resolved reopens; one still
//! open repeats (stored later, set-based, with no history entry); a resolution resolves an open
//! alert and is ignored otherwise.

use super::Context;
use crate::alerts::incoming::Incoming;
use crate::alerts::repeats::Repeats;
use crate::alerts::rows::{self, History};
use app::health::alert::*;
use sqlx::{Any, Row, Transaction};
use std::collections::HashMap;

/// Alerts stored so far in this transaction: fingerprint -> (id, status).
type Known = HashMap<String, (i64, AlertStatus)>;

pub(super) async fn apply<'a>(
    tx: &mut Transaction<'_, Any>,
    context: &mut Context,
    source: AlertSource,
    incoming: &'a Incoming,
    known: &mut Known,
    repeats: &mut Repeats<'a>,
    summary: &mut IngestSummary,
) -> Result<(), sqlx::Error> {
    let now = context.now;
    let existing = known.get(&incoming.fingerprint).copied();
    // A state change must see every earlier repeat of its alert stored first.
    let repeat = !incoming.resolved && existing.is_some_and(|(_, s)| s != AlertStatus::Resolved);
    if !repeat && repeats.contains(&incoming.fingerprint) {
        repeats.flush(tx, context.backend, now).await?;
    }
    match (existing, incoming.resolved) {
        (None, true) | (Some((_, AlertStatus::Resolved)), true) => summary.ignored += 1,
        (Some((id, status)), true) => {
            resolve(tx, now, source, incoming, (id, status), known).await?;
            summary.resolved += 1;
        }
        (Some(_), false) if repeat => {
            repeats.add(incoming);
            summary.updated += 1;
        }
        (Some((id, _resolved)), false) => {
            reopen(tx, context, source, incoming, id, known).await?;
            summary.opened += 1;
        }
        (None, false) => {
            fire(tx, context, source, incoming, known).await?;
            summary.opened += 1;
        }
    }
    Ok(())
}

/// An open, acknowledged or escalated alert is resolved: escalation stops, and every channel that
/// heard of it hears that it ended.
async fn resolve(
    tx: &mut Transaction<'_, Any>,
    now: i64,
    source: AlertSource,
    incoming: &Incoming,
    (id, status): (i64, AlertStatus),
    known: &mut Known,
) -> Result<(), sqlx::Error> {
    let actor = source.as_str();
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
    crate::alerts::notify::enqueue_resolved(tx, id, now).await?;
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
    known.insert(incoming.fingerprint.clone(), (id, AlertStatus::Resolved));
    Ok(())
}

/// A resolved alert fires again: open once more, its acknowledgement cleared, placed again under
/// the silences and escalation policies of now.
async fn reopen(
    tx: &mut Transaction<'_, Any>,
    context: &mut Context,
    source: AlertSource,
    incoming: &Incoming,
    id: i64,
    known: &mut Known,
) -> Result<(), sqlx::Error> {
    let (now, actor) = (context.now, source.as_str());
    let fields = Fields::of(incoming);
    let (silenced_by, policy_id, next) = context.rules(tx).await?.place(incoming, now);
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
    record_opened(
        tx,
        id,
        now,
        (actor, "reopened", Some(AlertStatus::Resolved)),
        silenced_by,
    )
    .await?;
    known.insert(incoming.fingerprint.clone(), (id, AlertStatus::Open));
    Ok(())
}

/// An alert never seen before: stored open, silenced or given its escalation policy.
async fn fire(
    tx: &mut Transaction<'_, Any>,
    context: &mut Context,
    source: AlertSource,
    incoming: &Incoming,
    known: &mut Known,
) -> Result<(), sqlx::Error> {
    let (now, actor) = (context.now, source.as_str());
    let fields = Fields::of(incoming);
    let (silenced_by, policy_id, next) = context.rules(tx).await?.place(incoming, now);
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
    record_opened(tx, id, now, (actor, "fired", None), silenced_by).await?;
    known.insert(incoming.fingerprint.clone(), (id, AlertStatus::Open));
    Ok(())
}

/// The history entry of an alert that fired or fired again, saying when a silence took it.
async fn record_opened(
    tx: &mut Transaction<'_, Any>,
    id: i64,
    now: i64,
    (actor, kind, from): (&str, &str, Option<AlertStatus>),
    silenced_by: Option<i64>,
) -> Result<(), sqlx::Error> {
    let note = silenced_by.map(|s| format!("silenced by silence {s}"));
    let entry = History {
        actor,
        kind,
        from,
        to: Some(AlertStatus::Open),
        note: note.as_deref(),
    };
    rows::record(tx, id, now, entry).await?;
    Ok(())
}

/// The columns derived from an incoming alert.
#[derive(Clone)]
struct Fields {
    name: String,
    severity: Severity,
    summary: Option<String>,
    labels: String,
    annotations: String,
}

impl Fields {
    fn of(incoming: &Incoming) -> Fields {
        Fields {
            name: incoming
                .labels
                .get("alertname")
                .cloned()
                .unwrap_or_else(|| incoming.fingerprint.clone()),
            severity: Severity::from_label(incoming.labels.get("severity").map(String::as_str)),
            summary: incoming.summary(),
            labels: serde_json::to_string(&incoming.labels).unwrap_or_default(),
            annotations: serde_json::to_string(&incoming.annotations).unwrap_or_default(),
        }
    }
}
