//! Reading alert rows, and the writes every alert change shares: its history entry and its live
//! event.

use app::health::alert::*;
use app::health::topics;
use sqlx::{Any, Row, Transaction};
use std::collections::BTreeMap;

pub const SELECT_ALERT: &str = "SELECT id, fingerprint, source, name, severity, status, summary, \
    labels, annotations, generator_url, starts_at, first_seen, last_seen, opened_at, fire_count, \
    silenced_by, acknowledged_by, acknowledged_at, resolved_by, resolved_at, escalation_level, \
    updated_at FROM alerts";

fn text_enum<T>(
    row: &sqlx::any::AnyRow,
    column: &str,
    parse: fn(&str) -> Option<T>,
) -> Result<T, sqlx::Error> {
    let value: String = row.try_get(column)?;
    parse(&value).ok_or_else(|| sqlx::Error::Decode(format!("unknown {column} '{value}'").into()))
}

fn map(row: &sqlx::any::AnyRow, column: &str) -> Result<BTreeMap<String, String>, sqlx::Error> {
    let json: String = row.try_get(column)?;
    serde_json::from_str(&json).map_err(|e| sqlx::Error::Decode(e.into()))
}

pub fn decode(row: &sqlx::any::AnyRow) -> Result<Alert, sqlx::Error> {
    Ok(Alert {
        id: row.try_get("id")?,
        fingerprint: row.try_get("fingerprint")?,
        source: text_enum(row, "source", AlertSource::parse)?,
        name: row.try_get("name")?,
        severity: text_enum(row, "severity", Severity::parse)?,
        status: text_enum(row, "status", AlertStatus::parse)?,
        summary: row.try_get("summary")?,
        labels: map(row, "labels")?,
        annotations: map(row, "annotations")?,
        generator_url: row.try_get("generator_url")?,
        starts_at: row.try_get("starts_at")?,
        first_seen: row.try_get("first_seen")?,
        last_seen: row.try_get("last_seen")?,
        opened_at: row.try_get("opened_at")?,
        fire_count: row.try_get("fire_count")?,
        silenced_by: row.try_get("silenced_by")?,
        acknowledged_by: row.try_get("acknowledged_by")?,
        acknowledged_at: row.try_get("acknowledged_at")?,
        resolved_by: row.try_get("resolved_by")?,
        resolved_at: row.try_get("resolved_at")?,
        escalation_level: row.try_get("escalation_level")?,
        updated_at: row.try_get("updated_at")?,
    })
}

pub fn decode_event(row: &sqlx::any::AnyRow) -> Result<AlertEvent, sqlx::Error> {
    let status = |column: &str| -> Result<Option<AlertStatus>, sqlx::Error> {
        let value: Option<String> = row.try_get(column)?;
        Ok(value.as_deref().and_then(AlertStatus::parse))
    };
    Ok(AlertEvent {
        id: row.try_get("id")?,
        at: row.try_get("at")?,
        actor: row.try_get("actor")?,
        kind: row.try_get("kind")?,
        from_status: status("from_status")?,
        to_status: status("to_status")?,
        note: row.try_get("note")?,
    })
}

pub async fn fetch(tx: &mut Transaction<'_, Any>, id: i64) -> Result<Alert, sqlx::Error> {
    let row = sqlx::query(&format!("{SELECT_ALERT} WHERE id = $1"))
        .bind(id)
        .fetch_one(&mut **tx)
        .await?;
    decode(&row)
}

/// One entry of an alert's history.
pub struct History<'a> {
    pub actor: &'a str,
    pub kind: &'a str,
    pub from: Option<AlertStatus>,
    pub to: Option<AlertStatus>,
    pub note: Option<&'a str>,
}

/// Records `entry` and publishes the alert as it now is, in the caller's transaction.
pub async fn record(
    tx: &mut Transaction<'_, Any>,
    alert_id: i64,
    now: i64,
    entry: History<'_>,
) -> Result<Alert, sqlx::Error> {
    sqlx::query(
        "INSERT INTO alert_events (alert_id, at, actor, kind, from_status, to_status, note) \
         VALUES ($1, $2, $3, $4, $5, $6, $7)",
    )
    .bind(alert_id)
    .bind(now)
    .bind(entry.actor)
    .bind(entry.kind)
    .bind(entry.from.map(AlertStatus::as_str))
    .bind(entry.to.map(AlertStatus::as_str))
    .bind(entry.note)
    .execute(&mut **tx)
    .await?;
    publish(tx, alert_id).await
}

/// Publishes the alert's current row to the feed.
pub async fn publish(tx: &mut Transaction<'_, Any>, alert_id: i64) -> Result<Alert, sqlx::Error> {
    let alert = fetch(tx, alert_id).await?;
    let data = serde_json::to_value(&alert).unwrap_or_default();
    crate::events::append(tx, topics::ALERTS, "alert.updated", &data).await?;
    Ok(alert)
}
