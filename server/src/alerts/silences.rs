//! Silences: label matchers with a time span. An alert that fires while a silence matches is
//! stored and shown, but notifies nobody and does not escalate.

use super::Alerts;
use crate::audit::NewAudit;
use crate::error::Context as _;
use crate::store;
use app::error::AppError;
use app::health::alert::{Matcher, NewSilence, Silence};
use app::model::Principal;
use regex::Regex;
use sqlx::{Any, Row, Transaction};
use std::collections::BTreeMap;

/// A matcher ready to test label sets. Regular expressions are anchored, as in Alertmanager.
pub struct CompiledMatcher {
    name: String,
    test: Test,
    is_equal: bool,
}

enum Test {
    Equal(String),
    Regex(Regex),
}

impl CompiledMatcher {
    pub fn compile(matcher: &Matcher) -> Result<CompiledMatcher, String> {
        let test = if matcher.is_regex {
            let anchored = format!("^(?:{})$", matcher.value);
            Test::Regex(Regex::new(&anchored).map_err(|e| {
                format!(
                    "Matcher {} is not a valid regular expression: {e}",
                    matcher.describe()
                )
            })?)
        } else {
            Test::Equal(matcher.value.clone())
        };
        Ok(CompiledMatcher {
            name: matcher.name.clone(),
            test,
            is_equal: matcher.is_equal,
        })
    }

    /// A missing label reads as the empty string, as in Prometheus.
    pub fn matches(&self, labels: &BTreeMap<String, String>) -> bool {
        let value = labels.get(&self.name).map(String::as_str).unwrap_or("");
        let hit = match &self.test {
            Test::Equal(expected) => value == expected,
            Test::Regex(regex) => regex.is_match(value),
        };
        hit == self.is_equal
    }
}

pub fn compile_all(matchers: &[Matcher]) -> Result<Vec<CompiledMatcher>, String> {
    matchers.iter().map(CompiledMatcher::compile).collect()
}

pub fn all_match(matchers: &[CompiledMatcher], labels: &BTreeMap<String, String>) -> bool {
    matchers.iter().all(|m| m.matches(labels))
}

pub(super) fn decode(row: &sqlx::any::AnyRow) -> Result<Silence, sqlx::Error> {
    let matchers: String = row.try_get("matchers")?;
    Ok(Silence {
        id: row.try_get("id")?,
        matchers: serde_json::from_str(&matchers).map_err(|e| sqlx::Error::Decode(e.into()))?,
        starts_at: row.try_get("starts_at")?,
        ends_at: row.try_get("ends_at")?,
        comment: row.try_get("comment")?,
        created_by: row.try_get("created_by")?,
        created_at: row.try_get("created_at")?,
    })
}

pub(super) const SELECT: &str =
    "SELECT id, matchers, starts_at, ends_at, comment, created_by, created_at FROM silences";

/// The silences in force at `now`, compiled, in the caller's transaction.
pub async fn active(
    tx: &mut Transaction<'_, Any>,
    now: i64,
) -> Result<Vec<(i64, Vec<CompiledMatcher>)>, sqlx::Error> {
    let rows = sqlx::query(&format!("{SELECT} WHERE starts_at <= $1 AND ends_at > $1"))
        .bind(now)
        .fetch_all(&mut **tx)
        .await?;
    let mut active = Vec::with_capacity(rows.len());
    for row in &rows {
        let silence = decode(row)?;
        // Stored silences were compiled when created; one that no longer compiles is skipped
        // rather than blocking every alert.
        if let Ok(matchers) = compile_all(&silence.matchers) {
            active.push((silence.id, matchers));
        }
    }
    Ok(active)
}

impl Alerts {
    /// Silences that have not ended, soonest end first, then the 50 most recent ended ones.
    pub async fn list_silences(&self, now: i64) -> Result<Vec<Silence>, AppError> {
        let rows = sqlx::query(&format!(
            "SELECT * FROM ({SELECT} WHERE ends_at > $1 ORDER BY ends_at LIMIT 500) a \
             UNION ALL SELECT * FROM ({SELECT} WHERE ends_at <= $1 ORDER BY ends_at DESC LIMIT 50) b"
        ))
        .bind(now)
        .fetch_all(&self.pool)
        .await
        .context("listing silences")?;
        rows.iter()
            .map(decode)
            .collect::<Result<_, _>>()
            .context("reading silences")
    }

    pub async fn create_silence(
        &self,
        actor: &Principal,
        new: NewSilence,
    ) -> Result<Silence, AppError> {
        let now = crate::now_ms();
        new.validate(now, self.silence_max_ms)
            .map_err(AppError::unprocessable)?;
        let compiled = compile_all(&new.matchers).map_err(AppError::unprocessable)?;
        // Alertmanager's rule: a silence whose every matcher also matches an alert without that
        // label (`alertname=~".*"`, `job!="x"`) would silence nearly everything.
        let nothing = BTreeMap::new();
        if compiled.iter().all(|m| m.matches(&nothing)) {
            return Err(AppError::unprocessable(
                "At least one matcher must require something (not match an empty value): this silence would hide nearly every alert.",
            ));
        }
        let silence = Silence {
            id: 0,
            matchers: new.matchers,
            starts_at: new.starts_at.unwrap_or(now),
            ends_at: new.ends_at,
            comment: new.comment.trim().to_string(),
            created_by: actor.actor(),
            created_at: now,
        };
        let matchers = serde_json::to_string(&silence.matchers).unwrap_or_default();
        let mut tx = store::begin(&self.pool).await?;
        let id = store::insert_id(
            sqlx::query(
                "INSERT INTO silences (matchers, starts_at, ends_at, comment, created_by, created_at) \
                 VALUES ($1, $2, $3, $4, $5, $6) RETURNING id",
            )
            .bind(&matchers)
            .bind(silence.starts_at)
            .bind(silence.ends_at)
            .bind(&silence.comment)
            .bind(&silence.created_by)
            .bind(now),
            &mut tx,
            "creating a silence",
            |_| String::new(),
        )
        .await?;
        let silence = Silence { id, ..silence };
        if silence.is_active(now) {
            self.silence_open_alerts(&mut tx, &silence, now).await?;
        }
        let description: Vec<String> = silence.matchers.iter().map(Matcher::describe).collect();
        store::commit_audited(
            tx,
            &self.bus,
            NewAudit {
                actor: &silence.created_by,
                action: "silence.created",
                target: &description.join(", "),
                reason: Some(&silence.comment),
                detail: serde_json::json!({ "id": id, "starts_at": silence.starts_at, "ends_at": silence.ends_at }),
            },
        )
        .await?;
        Ok(silence)
    }
}

impl Alerts {
    /// Alerts already firing when a silence starts are silenced too, as in Alertmanager: their
    /// escalation stops and their history says which silence did it.
    async fn silence_open_alerts(
        &self,
        tx: &mut Transaction<'_, Any>,
        silence: &Silence,
        now: i64,
    ) -> Result<(), AppError> {
        let matchers = compile_all(&silence.matchers).map_err(AppError::unprocessable)?;
        let open = sqlx::query(
            "SELECT id, labels FROM alerts WHERE status <> 'resolved' AND silenced_by IS NULL",
        )
        .fetch_all(&mut **tx)
        .await
        .context("silencing open alerts")?;
        let note = format!("silenced by silence {}: {}", silence.id, silence.comment);
        for row in open {
            let id: i64 = row.try_get("id").context("silencing open alerts")?;
            let labels: String = row.try_get("labels").context("silencing open alerts")?;
            let labels: BTreeMap<String, String> =
                serde_json::from_str(&labels).unwrap_or_default();
            if !all_match(&matchers, &labels) {
                continue;
            }
            sqlx::query("UPDATE alerts SET silenced_by = $2, next_escalation_at = NULL, updated_at = $3 WHERE id = $1")
                .bind(id)
                .bind(silence.id)
                .bind(now)
                .execute(&mut **tx)
                .await
                .context("silencing open alerts")?;
            let entry = super::rows::History {
                actor: &silence.created_by,
                kind: "silenced",
                from: None,
                to: None,
                note: Some(&note),
            };
            super::rows::record(tx, id, now, entry)
                .await
                .context("silencing open alerts")?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn m(name: &str, value: &str, is_regex: bool, is_equal: bool) -> CompiledMatcher {
        CompiledMatcher::compile(&Matcher {
            name: name.into(),
            value: value.into(),
            is_regex,
            is_equal,
        })
        .unwrap()
    }

    #[test]
    fn matchers_behave_like_alertmanagers() {
        let labels: BTreeMap<String, String> = [("alertname", "DiskFull"), ("instance", "db12")]
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        assert!(m("alertname", "DiskFull", false, true).matches(&labels));
        assert!(!m("alertname", "Disk", false, true).matches(&labels));
        assert!(m("instance", "db[0-9]+", true, true).matches(&labels));
        // Anchored: a partial match is not a match.
        assert!(!m("instance", "db1", true, true).matches(&labels));
        assert!(m("instance", "web.*", true, false).matches(&labels));
        assert!(m("team", "", false, true).matches(&labels));
        assert!(m("team", "db", false, false).matches(&labels));
        assert!(CompiledMatcher::compile(&Matcher {
            name: "a".into(),
            value: "(".into(),
            is_regex: true,
            is_equal: true
        })
        .is_err());
    }
}
