//! Storing incoming alerts. Requests hand their (already validated) alerts to one writer task,
//! which stores whatever arrived together in one transaction (group commit) and answers each
//! request after that commit: an acknowledged alert is durable, and a request's alerts are stored
//! whole or not at all. Alerts are grouped by fingerprint: a repeat of an open alert updates it, a
//! firing alert that was resolved opens again, a resolution resolves it.
//!
//! Repeats are the steady state (Prometheus resends every firing alert each minute), so they are
//! set-based: a batch of repeats only is one `UPDATE ... FROM` a JSON parameter
//! ([`store_repeats_only`]); any other batch takes one `SELECT ... IN` to find its known alerts,
//! and its repeats are still stored with one `UPDATE`, instead of two statements per alert.

use super::escalation::{self, Policy};
use super::incoming::Incoming;
use super::repeats::Repeats;
use super::silences::{self, all_match, CompiledMatcher};
use super::Alerts;
use crate::db::Backend;
use crate::error::Context as _;
use crate::store;
use app::error::AppError;
use app::health::alert::*;
use sqlx::{Any, AnyConnection, AnyPool, Row, Transaction};
use std::collections::HashMap;
use tokio::sync::{mpsc, oneshot};

mod apply;
use apply::apply;

pub struct Job {
    source: AlertSource,
    batch: Vec<Incoming>,
    reply: oneshot::Sender<Result<IngestSummary, AppError>>,
}

/// Alerts per transaction at most; more wait for the next one.
const FLUSH_ALERTS: usize = 5_000;

/// What the transaction needs about the present.
pub(super) struct Context {
    pub(super) now: i64,
    pub(super) backend: Backend,
    /// Read on the batch's first new or reopened alert: repeats, the steady state, need neither,
    /// and skipping them saves two of a small batch's six statements.
    rules: Option<Rules>,
}

/// The active silences and the escalation policies, which place a newly open alert.
pub(super) struct Rules {
    silences: Vec<(i64, Vec<CompiledMatcher>)>,
    policies: Vec<Policy>,
}

impl Context {
    pub(super) async fn rules(
        &mut self,
        tx: &mut Transaction<'_, Any>,
    ) -> Result<&Rules, sqlx::Error> {
        if self.rules.is_none() {
            self.rules = Some(Rules {
                silences: silences::active(tx, self.now).await?,
                policies: escalation::load_policies(tx).await?,
            });
        }
        Ok(self.rules.as_ref().expect("just loaded"))
    }
}

impl Rules {
    fn silenced_by(&self, incoming: &Incoming) -> Option<i64> {
        self.silences
            .iter()
            .find(|(_, matchers)| all_match(matchers, &incoming.labels))
            .map(|(id, _)| *id)
    }

    /// The silence and the escalation (policy, first step due) of an alert opening now.
    pub(super) fn place(
        &self,
        incoming: &Incoming,
        now: i64,
    ) -> (Option<i64>, Option<i64>, Option<i64>) {
        let silenced_by = self.silenced_by(incoming);
        let (policy_id, next) = escalation::assign(&self.policies, incoming, silenced_by, now);
        (silenced_by, policy_id, next)
    }
}

/// Starts the writer; `Alerts::ingest` sends it work. It runs on a thread of its own: every batch
/// waits on a few round trips to the database, and on the shared runtime each wake-up queued
/// behind the tasks of every request in flight, while the batch's requests, and the next batch's,
/// waited for it (health_bench: 10-alert requests from 32 clients).
pub fn start_writer(pool: AnyPool, backend: Backend) -> mpsc::Sender<Job> {
    let (sender, receiver) = mpsc::channel::<Job>(1024);
    // Failing to start a thread at start-up means the machine is out of threads or memory.
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("a runtime for the alert writer");
    let writer = write_batches(pool, backend, receiver);
    std::thread::Builder::new()
        .name("alert-writer".into())
        .spawn(move || runtime.block_on(writer))
        .expect("a thread for the alert writer");
    sender
}

/// Stores batches until every sender is gone (the server is shutting down).
async fn write_batches(pool: AnyPool, backend: Backend, mut receiver: mpsc::Receiver<Job>) {
    let mut connection = store::WriterConnection::new(pool);
    while let Some(first) = receiver.recv().await {
        let mut jobs = vec![first];
        let mut alerts = jobs[0].batch.len();
        while alerts < FLUSH_ALERTS {
            match receiver.try_recv() {
                Ok(job) => {
                    alerts += job.batch.len();
                    jobs.push(job);
                }
                Err(_) => break,
            }
        }
        let outcome = store_jobs(&mut connection, backend, &jobs).await;
        for (job, result) in jobs.into_iter().zip(outcome.into_results()) {
            let _ = job.reply.send(result);
        }
    }
}

enum Outcome {
    Stored(Vec<IngestSummary>),
    Failed(AppError, usize),
}

impl Outcome {
    fn into_results(self) -> Vec<Result<IngestSummary, AppError>> {
        match self {
            Outcome::Stored(summaries) => summaries.into_iter().map(Ok).collect(),
            Outcome::Failed(error, n) => (0..n).map(|_| Err(error.clone())).collect(),
        }
    }
}

async fn store_jobs(
    connection: &mut store::WriterConnection,
    backend: Backend,
    jobs: &[Job],
) -> Outcome {
    let stored = connection
        .run("connecting to store alerts", async |conn| {
            store_all(conn, backend, jobs).await
        })
        .await;
    match stored {
        Ok(summaries) => Outcome::Stored(summaries),
        Err(e) => Outcome::Failed(e, jobs.len()),
    }
}

async fn store_all(
    conn: &mut AnyConnection,
    backend: Backend,
    jobs: &[Job],
) -> Result<Vec<IngestSummary>, AppError> {
    let now = crate::now_ms();
    if let Some(summaries) = store_repeats_only(conn, backend, jobs, now).await? {
        return Ok(summaries);
    }
    let mut tx = store::begin_write_on(conn, backend).await?;
    let mut context = Context {
        now,
        backend,
        rules: None,
    };
    let fingerprints: Vec<&str> = jobs
        .iter()
        .flat_map(|j| j.batch.iter().map(|i| i.fingerprint.as_str()))
        .collect();
    let mut known = lookup(&mut tx, backend, &fingerprints)
        .await
        .context("storing alerts")?;
    let mut repeats = Repeats::default();
    let mut summaries = Vec::with_capacity(jobs.len());
    for job in jobs {
        let mut summary = IngestSummary::default();
        for incoming in &job.batch {
            apply(
                &mut tx,
                &mut context,
                job.source,
                incoming,
                &mut known,
                &mut repeats,
                &mut summary,
            )
            .await
            .context("storing alerts")?;
        }
        summaries.push(summary);
    }
    repeats
        .flush(&mut tx, backend, now)
        .await
        .context("storing alerts")?;
    tx.commit().await.context("storing alerts")?;
    Ok(summaries)
}

/// The steady state in one statement: when every alert of the batch fires again while its alert
/// is still open (acknowledged or escalated), one `UPDATE` stores them all, without the lookup
/// and its rows coming back, which were a third of a batch's time. The `UPDATE` reports how many
/// alerts it matched; if any fingerprint is new or its alert was resolved, the transaction is
/// rolled back and the batch takes the general path (`None`), so that alert opens with its history
/// entry, silence and escalation. A batch with a resolution in it goes there at once.
async fn store_repeats_only(
    conn: &mut AnyConnection,
    backend: Backend,
    jobs: &[Job],
    now: i64,
) -> Result<Option<Vec<IngestSummary>>, AppError> {
    let incoming = || jobs.iter().flat_map(|job| job.batch.iter());
    if incoming().any(|i| i.resolved) {
        return Ok(None);
    }
    let mut repeats = Repeats::default();
    for alert in incoming() {
        repeats.add(alert);
    }
    let expected = repeats.len() as u64;
    let mut tx = store::begin_write_on(conn, backend).await?;
    let matched = repeats
        .flush(&mut tx, backend, now)
        .await
        .context("storing repeated alerts")?;
    if matched != expected {
        tx.rollback().await.context("storing repeated alerts")?;
        return Ok(None);
    }
    tx.commit().await.context("storing repeated alerts")?;
    Ok(Some(
        jobs.iter()
            .map(|job| IngestSummary {
                updated: job.batch.len() as u32,
                ..IngestSummary::default()
            })
            .collect(),
    ))
}

/// Known alerts of the batch: fingerprint -> (id, status). One statement whatever the batch's
/// size: the fingerprints travel as one JSON array parameter (see [`Repeats::flush`] for why).
async fn lookup(
    tx: &mut Transaction<'_, Any>,
    backend: Backend,
    fingerprints: &[&str],
) -> Result<HashMap<String, (i64, AlertStatus)>, sqlx::Error> {
    let mut distinct: Vec<&str> = fingerprints.to_vec();
    distinct.sort_unstable();
    distinct.dedup();
    let sql = match backend {
        Backend::Sqlite => {
            "SELECT id, fingerprint, status FROM alerts WHERE fingerprint IN (SELECT value FROM json_each(?))"
        }
        Backend::Postgres => {
            "SELECT id, fingerprint, status FROM alerts WHERE fingerprint IN (SELECT json_array_elements_text($1::json))"
        }
    };
    let rows = sqlx::query(sql)
        .bind(serde_json::to_string(&distinct).unwrap_or_default())
        .fetch_all(&mut **tx)
        .await?;
    let mut known = HashMap::with_capacity(rows.len());
    for row in rows {
        let status: String = row.try_get("status")?;
        known.insert(
            row.try_get("fingerprint")?,
            (
                row.try_get("id")?,
                AlertStatus::parse(&status).unwrap_or(AlertStatus::Open),
            ),
        );
    }
    Ok(known)
}

impl Alerts {
    /// Stores a batch from `source`, all or nothing, once it is committed; wakes the escalation
    /// worker.
    pub async fn ingest(
        &self,
        source: AlertSource,
        batch: Vec<Incoming>,
    ) -> Result<IngestSummary, AppError> {
        let (reply, answer) = oneshot::channel();
        self.ingest_writer
            .send(Job {
                source,
                batch,
                reply,
            })
            .await
            .map_err(|_| {
                AppError::unavailable("Flightdeck is shutting down; send the alerts again.")
            })?;
        let summary = answer.await.map_err(|_| {
            AppError::unavailable("Flightdeck is shutting down; send the alerts again.")
        })??;
        // Only state changes write events; a batch of repeats has nothing to publish, and waking
        // the bus would cost it a query for nothing.
        if summary.opened + summary.resolved > 0 {
            self.bus.wake();
        }
        if summary.opened > 0 {
            self.escalation_wake.notify_one();
        }
        Ok(summary)
    }
}
