//! The append-only audit trail. [`record`] writes an entry and its `audit.created` event in the
//! caller's transaction, so an action, its audit entry and the live update commit together or not
//! at all.

use crate::error::Context as _;
use app::error::AppError;
use app::model::{topics, AuditEntry, AuditPage, AuditQuery};
use app::ports::AuditPort;
use async_trait::async_trait;
use sqlx::{Any, AnyPool, Row, Transaction};

pub struct NewAudit<'a> {
    pub actor: &'a str,
    pub action: &'a str,
    pub target: &'a str,
    pub reason: Option<&'a str>,
    pub detail: serde_json::Value,
}

pub async fn record(
    tx: &mut Transaction<'_, Any>,
    entry: NewAudit<'_>,
) -> Result<AuditEntry, sqlx::Error> {
    let at = crate::now_ms();
    let detail = serde_json::value::to_raw_value(&entry.detail)
        .map_err(|e| sqlx::Error::Encode(e.into()))?;
    let id: i64 = sqlx::query(
        "INSERT INTO audit (at, actor, action, target, reason, detail) VALUES ($1, $2, $3, $4, $5, $6) RETURNING id",
    )
    .bind(at)
    .bind(entry.actor)
    .bind(entry.action)
    .bind(entry.target)
    .bind(entry.reason)
    .bind(detail.get())
    .fetch_one(&mut **tx)
    .await?
    .try_get(0)?;
    let saved = AuditEntry {
        id,
        at,
        actor: entry.actor.into(),
        action: entry.action.into(),
        target: entry.target.into(),
        reason: entry.reason.map(Into::into),
        detail,
    };
    let data = serde_json::to_value(&saved).unwrap_or_default();
    crate::events::append(tx, topics::AUDIT, "audit.created", &data).await?;
    Ok(saved)
}

/// The CSV header of the export.
const CSV_HEADER: &str = "id,at_utc,actor,action,target,reason,detail\r\n";

/// One entry as a CSV (RFC 4180) row. Cells a spreadsheet would run as a formula get a leading `'`.
fn csv_row(e: &AuditEntry) -> String {
    fn cell(value: &str) -> String {
        let value = if value.starts_with(['=', '+', '-', '@', '\t', '\r']) {
            format!("'{value}")
        } else {
            value.to_string()
        };
        if value.contains([',', '"', '\n', '\r']) {
            format!("\"{}\"", value.replace('"', "\"\""))
        } else {
            value
        }
    }
    let row = [
        e.id.to_string(),
        app::time_fmt::iso_utc(e.at),
        e.actor.clone(),
        e.action.clone(),
        e.target.clone(),
        e.reason.clone().unwrap_or_default(),
        e.detail.get().to_string(),
    ];
    let cells: Vec<String> = row.iter().map(|v| cell(v)).collect();
    format!("{}\r\n", cells.join(","))
}

/// The entries as CSV (RFC 4180).
pub fn to_csv(entries: &[AuditEntry]) -> String {
    let mut out = String::from(CSV_HEADER);
    for e in entries {
        out.push_str(&csv_row(e));
    }
    out
}

/// Entries read per chunk of a streamed export.
const EXPORT_CHUNK: i64 = 500;

/// The audit trail (optionally one action or actor), oldest first, as CSV or a JSON array,
/// streamed a chunk at a time: a trail of millions of entries costs the server one chunk of
/// memory per export, not the whole trail.
pub fn export(
    pool: AnyPool,
    csv: bool,
    action: Option<String>,
    actor: Option<String>,
) -> impl futures_util::Stream<Item = Result<String, sqlx::Error>> + Send {
    // (the last id sent, whether nothing was sent yet); `None` once the closing chunk went.
    futures_util::stream::try_unfold(Some((0i64, true)), move |state| {
        let (pool, action, actor) = (pool.clone(), action.clone(), actor.clone());
        async move {
            let Some((after, first)) = state else {
                return Ok(None);
            };
            let rows = sqlx::query(
                "SELECT id, at, actor, action, target, reason, detail FROM audit \
                 WHERE id > $1 AND ($2 IS NULL OR action = $2) AND ($3 IS NULL OR actor = $3) \
                 ORDER BY id LIMIT $4",
            )
            .bind(after)
            .bind(action.as_deref())
            .bind(actor.as_deref())
            .bind(EXPORT_CHUNK)
            .fetch_all(&pool)
            .await?;
            let entries = rows.iter().map(decode).collect::<Result<Vec<_>, _>>()?;
            let Some(last) = entries.last().map(|e| e.id) else {
                let closing = match (csv, first) {
                    (true, true) => CSV_HEADER.to_string(),
                    (true, false) => String::new(),
                    (false, true) => "[]".to_string(),
                    (false, false) => "]".to_string(),
                };
                return Ok(Some((closing, None)));
            };
            let mut chunk = String::new();
            if csv {
                if first {
                    chunk.push_str(CSV_HEADER);
                }
                for e in &entries {
                    chunk.push_str(&csv_row(e));
                }
            } else {
                for (i, e) in entries.iter().enumerate() {
                    chunk.push_str(if first && i == 0 { "[" } else { "," });
                    chunk.push_str(
                        &serde_json::to_string(e).map_err(|e| sqlx::Error::Encode(e.into()))?,
                    );
                }
            }
            Ok(Some((chunk, Some((last, false)))))
        }
    })
}

fn decode(row: &sqlx::any::AnyRow) -> Result<AuditEntry, sqlx::Error> {
    let detail: String = row.try_get("detail")?;
    Ok(AuditEntry {
        id: row.try_get("id")?,
        at: row.try_get("at")?,
        actor: row.try_get("actor")?,
        action: row.try_get("action")?,
        target: row.try_get("target")?,
        reason: row.try_get("reason")?,
        detail: serde_json::value::RawValue::from_string(detail)
            .map_err(|e| sqlx::Error::Decode(e.into()))?,
    })
}

pub struct AuditLog {
    pool: AnyPool,
}

impl AuditLog {
    pub fn new(pool: AnyPool) -> Self {
        AuditLog { pool }
    }

    pub async fn list(&self, query: &AuditQuery) -> Result<AuditPage, AppError> {
        let limit = query.checked_limit().map_err(AppError::bad_request)?;
        // Filters are optional; `$n IS NULL OR ...` keeps one statement (and one plan) for all.
        let rows = sqlx::query(
            "SELECT id, at, actor, action, target, reason, detail FROM audit \
             WHERE ($1 IS NULL OR id < $1) AND ($2 IS NULL OR action = $2) AND ($3 IS NULL OR actor = $3) \
             AND ($5 IS NULL OR target = $5 OR SUBSTR(target, 1, CAST($6 AS INTEGER)) = $7) \
             ORDER BY id DESC LIMIT $4",
        )
        .bind(query.before)
        .bind(query.action.as_deref())
        .bind(query.actor.as_deref())
        .bind(i64::from(limit) + 1)
        .bind(query.service.as_deref())
        // `service/` by length: no LIKE, whose wildcards a name could hold.
        .bind(query.service.as_ref().map_or(0, |s| s.len() as i64 + 1))
        .bind(query.service.as_ref().map(|s| format!("{s}/")))
        .fetch_all(&self.pool)
        .await
        .context("listing audit entries")?;
        let mut entries = rows
            .iter()
            .map(decode)
            .collect::<Result<Vec<_>, _>>()
            .context("decoding audit entries")?;
        let next_before = if entries.len() > limit as usize {
            entries.truncate(limit as usize);
            entries.last().map(|e| e.id)
        } else {
            None
        };
        Ok(AuditPage {
            entries,
            next_before,
        })
    }
}

#[async_trait]
impl AuditPort for AuditLog {
    async fn list(&self, query: &AuditQuery) -> Result<AuditPage, AppError> {
        AuditLog::list(self, query).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn csv_quotes_and_defuses_formulas() {
        let entry = AuditEntry {
            id: 7,
            at: 0,
            actor: "=HYPERLINK(\"x\")".into(),
            action: "rollback.requested".into(),
            target: "api/production".into(),
            reason: Some("5xx, then \"timeouts\"".into()),
            detail: serde_json::value::RawValue::from_string(r#"{"a":1}"#.into()).unwrap(),
        };
        let csv = to_csv(&[entry]);
        let row = csv.lines().nth(1).unwrap();
        assert_eq!(
            row,
            r#"7,1970-01-01 00:00:00 UTC,"'=HYPERLINK(""x"")",rollback.requested,api/production,"5xx, then ""timeouts""","{""a"":1}""#
        );
        assert!(csv.starts_with("id,at_utc,actor,action,target,reason,detail\r\n"));
    }
}
