//! Repeats: an alert firing again while its alert is still open (acknowledged or escalated).
//! They are the steady state (Prometheus resends every firing alert each minute), so a batch's
//! repeats are stored with one `UPDATE`, whatever their number, and write no history entry (a
//! resend every minute would bury the real transitions).

use super::incoming::Incoming;
use crate::db::Backend;
use sqlx::{Any, Transaction};
use std::collections::HashMap;

/// Repeats waiting for their one `UPDATE`: fingerprint -> the latest firing's fields and how many
/// firings it stands for. A repeat has the same labels (they define the fingerprint), so the
/// name, severity and labels stored with the alert stay as they are; only what Prometheus may
/// change between resends is written.
#[derive(Default)]
pub(super) struct Repeats<'a>(HashMap<&'a str, Repeat<'a>>);

/// A pending repeat, serialised as one row of [`Repeats::flush`]'s JSON parameter.
#[derive(serde::Serialize)]
struct Repeat<'a> {
    fingerprint: &'a str,
    summary: Option<String>,
    annotations: String,
    generator_url: Option<&'a str>,
    ends_at: Option<i64>,
    count: i64,
}

impl<'a> Repeats<'a> {
    pub(super) fn add(&mut self, incoming: &'a Incoming) {
        let count = self
            .0
            .get(incoming.fingerprint.as_str())
            .map_or(0, |r| r.count)
            + 1;
        let repeat = Repeat {
            fingerprint: &incoming.fingerprint,
            summary: incoming.summary(),
            annotations: serde_json::to_string(&incoming.annotations).unwrap_or_default(),
            generator_url: incoming.generator_url.as_deref(),
            ends_at: incoming.ends_at,
            count,
        };
        self.0.insert(&incoming.fingerprint, repeat);
    }

    pub(super) fn contains(&self, fingerprint: &str) -> bool {
        self.0.contains_key(fingerprint)
    }

    pub(super) fn len(&self) -> usize {
        self.0.len()
    }

    /// Stores every pending repeat with one `UPDATE` and returns how many alerts it matched: an
    /// alert that is unknown or resolved is left alone, which [`super::ingest`]'s fast path uses
    /// to tell whether a batch was repeats only.
    ///
    /// The rows travel as one JSON parameter that the database unpacks (`json_each` on SQLite,
    /// `json_to_recordset` on PostgreSQL): one statement of one parameter, prepared once and
    /// cached, whatever the batch's size. Chunks of `VALUES` rows took ~60 statements for a batch
    /// of 1,000 repeats, and on SQLite each one is a round trip to sqlx's database thread, which
    /// had to be woken and scheduled on cores busy with the requests: the round trips, not
    /// SQLite, were most of the writer's time (perf).
    pub(super) async fn flush(
        &mut self,
        tx: &mut Transaction<'_, Any>,
        backend: Backend,
        now: i64,
    ) -> Result<u64, sqlx::Error> {
        if self.0.is_empty() {
            return Ok(0);
        }
        let rows: Vec<&Repeat> = self.0.values().collect();
        let rows = serde_json::to_string(&rows).unwrap_or_default();
        self.0.clear();
        let sql = match backend {
            Backend::Sqlite => {
                "UPDATE alerts SET summary = v.summary, annotations = v.annotations, \
                 generator_url = v.generator_url, ends_at = v.ends_at, last_seen = ?1, updated_at = ?1, \
                 fire_count = alerts.fire_count + v.count \
                 FROM (SELECT value->>'fingerprint' AS fingerprint, value->>'summary' AS summary, \
                 value->>'annotations' AS annotations, value->>'generator_url' AS generator_url, \
                 value->>'ends_at' AS ends_at, value->>'count' AS count FROM json_each(?2)) AS v \
                 WHERE alerts.fingerprint = v.fingerprint AND alerts.status <> 'resolved'"
            }
            Backend::Postgres => {
                "UPDATE alerts SET summary = v.summary, annotations = v.annotations, \
                 generator_url = v.generator_url, ends_at = v.ends_at, last_seen = $1, updated_at = $1, \
                 fire_count = alerts.fire_count + v.count \
                 FROM json_to_recordset($2::json) AS v(fingerprint TEXT, summary TEXT, annotations TEXT, \
                 generator_url TEXT, ends_at BIGINT, count BIGINT) \
                 WHERE alerts.fingerprint = v.fingerprint AND alerts.status <> 'resolved'"
            }
        };
        let done = sqlx::query(sql)
            .bind(now)
            .bind(rows)
            .execute(&mut **tx)
            .await?;
        Ok(done.rows_affected())
    }
}
