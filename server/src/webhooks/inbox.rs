//! The webhook inbox. Deliveries are written by one writer task that commits whatever arrived
//! together in one statement (group commit): each request waits for the commit that holds its
//! row, so a 202 always means durable, and a burst of deliveries costs one commit per batch
//! rather than one per delivery. A worker then applies stored deliveries in order.

use super::parse::{self, Observed};
use crate::db::Backend;
use crate::deploy::{Deployments, ReportedDeployment};
use crate::error::internal;
use crate::error::Context as _;
use app::error::AppError;
use app::webhook_settings::{WebhookDelivery, APPLIED, IGNORED, REFUSED, TOPIC};
use sqlx::{Any, AnyPool, Row, Transaction};
use std::collections::HashSet;
use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::{mpsc, oneshot, Notify};

#[derive(Debug, Clone)]
pub struct NewDelivery {
    pub source: &'static str,
    pub delivery_id: String,
    pub event: String,
    pub body: String,
}

type Pending = (NewDelivery, oneshot::Sender<Result<bool, ()>>);

/// Deliveries per commit (written in statements of `store::rows_per_statement` rows).
const BATCH: usize = 1000;
/// How long a claimed batch is this replica's: far longer than applying a batch takes (well
/// under a second), short enough that a batch claimed by a process that died is applied soon.
const LEASE: Duration = Duration::from_secs(20);

/// On SQLite, taken by the inbox writer for each commit and by the applier for each batch.
/// SQLite has one write lock, and a writer that finds it taken sleeps in steps of up to 100 ms
/// (`busy_timeout`); queueing on this gate instead hands the lock over at once. PostgreSQL
/// writes concurrently, so there it is `None` (measured: the gate cost it 80 % of its rate).
type WriteGate = Option<Arc<tokio::sync::Mutex<()>>>;

async fn turn(gate: &WriteGate) -> Option<tokio::sync::MutexGuard<'_, ()>> {
    match gate {
        Some(gate) => Some(gate.lock().await),
        None => None,
    }
}

pub struct Inbox {
    /// Unix ms of the writer's last commit; the applier steps back while deliveries pour in.
    last_commit: Arc<AtomicI64>,
    pool: AnyPool,
    backend: Backend,
    gate: WriteGate,
    sender: mpsc::Sender<Pending>,
    wake: Arc<Notify>,
}

impl Inbox {
    /// Starts the writer; deliveries can be stored from now on.
    pub fn start(pool: AnyPool, backend: Backend) -> Arc<Inbox> {
        let (sender, receiver) = mpsc::channel(BATCH * 4);
        let wake = Arc::new(Notify::new());
        let gate = (backend == Backend::Sqlite).then(Default::default);
        let last_commit = Arc::new(AtomicI64::new(0));
        tokio::spawn(write_loop(
            pool.clone(),
            receiver,
            wake.clone(),
            gate.clone(),
            last_commit.clone(),
        ));
        Arc::new(Inbox {
            last_commit,
            pool,
            backend,
            gate,
            sender,
            wake,
        })
    }

    /// Starts applying stored deliveries (part of the background workers).
    pub fn spawn_worker(&self, deployments: Arc<Deployments>) {
        tokio::spawn(apply_loop(
            self.pool.clone(),
            self.backend,
            self.gate.clone(),
            self.last_commit.clone(),
            deployments,
            self.wake.clone(),
        ));
    }

    /// The latest 100 deliveries and what applying them did, newest first.
    pub async fn recent(&self) -> Result<Vec<WebhookDelivery>, AppError> {
        let rows = sqlx::query(
            "SELECT id, source, delivery_id, event, received_at, processed_at, outcome FROM webhook_deliveries ORDER BY id DESC LIMIT 100",
        )
        .fetch_all(&self.pool)
        .await
        .context("listing webhook deliveries")?;
        rows.iter()
            .map(|r| {
                Ok(WebhookDelivery {
                    id: r.try_get("id")?,
                    source: r.try_get("source")?,
                    delivery_id: r.try_get("delivery_id")?,
                    event: r.try_get("event")?,
                    received_at: r.try_get("received_at")?,
                    processed_at: r.try_get("processed_at")?,
                    outcome: r.try_get("outcome")?,
                })
            })
            .collect::<Result<_, sqlx::Error>>()
            .context("reading webhook deliveries")
    }

    /// A delivery sent again under its id (GitHub's and GitLab's "Redeliver" keep it) that had
    /// no effect the first time, refused or with nothing to apply, is applied again: what kept
    /// it from applying (a service not added yet, a quarantine since lifted) may be fixed now,
    /// and its first try changed nothing. One that was applied, or is still waiting, stays a
    /// duplicate. `true` if it is applied again.
    pub async fn apply_again(&self, source: &str, delivery_id: &str) -> Result<bool, AppError> {
        let requeued = {
            let _turn = turn(&self.gate).await;
            sqlx::query(
                "UPDATE webhook_deliveries SET processed_at = NULL, outcome = NULL, lease_until = NULL \
                 WHERE source = $1 AND delivery_id = $2 AND processed_at IS NOT NULL \
                 AND (outcome LIKE $3 OR outcome LIKE $4)",
            )
            .bind(source)
            .bind(delivery_id)
            .bind(format!("{REFUSED}%"))
            .bind(format!("{IGNORED}%"))
            .execute(&self.pool)
            .await
            .context("queueing a delivery sent again")?
            .rows_affected()
                > 0
        };
        if requeued {
            self.wake.notify_one();
        }
        Ok(requeued)
    }

    /// Stores a delivery; `true` if it is new, `false` if this source sent that id before.
    pub async fn store(&self, delivery: NewDelivery) -> Result<bool, AppError> {
        let (reply, answer) = oneshot::channel();
        self.sender.send((delivery, reply)).await.map_err(|_| {
            AppError::unavailable("The webhook inbox is shutting down; send it again.")
        })?;
        answer.await.ok().and_then(Result::ok).ok_or_else(|| {
            AppError::unavailable("The delivery could not be stored; send it again.")
        })
    }
}

async fn write_loop(
    pool: AnyPool,
    mut receiver: mpsc::Receiver<Pending>,
    wake: Arc<Notify>,
    gate: WriteGate,
    last_commit: Arc<AtomicI64>,
) {
    while let Some(first) = receiver.recv().await {
        let mut batch = vec![first];
        while batch.len() < BATCH {
            match receiver.try_recv() {
                Ok(next) => batch.push(next),
                Err(_) => break,
            }
        }
        let stored = {
            let _turn = turn(&gate).await;
            insert(&pool, &batch).await
        };
        match stored {
            Ok(new_keys) => {
                last_commit.store(crate::now_ms(), Ordering::Relaxed);
                let mut seen = HashSet::new();
                for (delivery, reply) in batch {
                    let key = (delivery.source.to_string(), delivery.delivery_id);
                    // The same id twice in one batch: only its first copy is new.
                    let is_new = new_keys.contains(&key) && seen.insert(key);
                    let _ = reply.send(Ok(is_new));
                }
                wake.notify_one();
            }
            Err(error) => {
                tracing::error!(%error, deliveries = batch.len(), "could not store webhook deliveries");
                for (_, reply) in batch {
                    let _ = reply.send(Err(()));
                }
            }
        }
    }
}

async fn insert(
    pool: &AnyPool,
    batch: &[Pending],
) -> Result<HashSet<(String, String)>, sqlx::Error> {
    let now = crate::now_ms();
    // One transaction: one commit for the whole batch, in statements of a few hundred
    // parameters (see `store::PARAMS_PER_STATEMENT`).
    let mut tx = pool.begin().await?;
    let mut stored = HashSet::new();
    for chunk in batch.chunks(crate::store::rows_per_statement(5)) {
        let mut sql = String::from(
            "INSERT INTO webhook_deliveries (source, delivery_id, event, body, received_at) VALUES ",
        );
        sql.push_str(&crate::store::values_placeholders(
            Backend::of(pool),
            chunk.len(),
            5,
        ));
        sql.push_str(" ON CONFLICT (source, delivery_id) DO NOTHING RETURNING source, delivery_id");
        let mut query = sqlx::query(&sql);
        for (d, _) in chunk {
            query = query
                .bind(d.source)
                .bind(&d.delivery_id)
                .bind(&d.event)
                .bind(&d.body)
                .bind(now);
        }
        for row in query.fetch_all(&mut *tx).await? {
            stored.insert((row.try_get("source")?, row.try_get("delivery_id")?));
        }
    }
    tx.commit().await?;
    Ok(stored)
}

/// While deliveries pour in (the writer committed within this), the applier steps back...
const BUSY_WITHIN_MS: i64 = 50;
/// ...and applies one larger batch per pause, so a burst is acknowledged at full speed and
/// applied within about a second of it, and sustained load is still applied (up to ~1,000/s).
const PAUSE_WHILE_BUSY: Duration = Duration::from_millis(500);
const APPLY_BATCH: i64 = 100;
const APPLY_BATCH_WHILE_BUSY: i64 = 500;

/// Applies stored deliveries, oldest first. Rows are leased like jobs, so with several replicas
/// each delivery is applied by one of them. A claimed batch is applied in one transaction (one
/// commit instead of two or three per delivery, which on SQLite would compete with the inbox
/// writer for the one write lock), each delivery inside its own savepoint so one that fails
/// leaves the others applied. Acknowledging comes first: measured on SQLite, the inbox alone
/// takes 13-16k deliveries/s and about 4-6k/s with the applier working alongside it.
async fn apply_loop(
    pool: AnyPool,
    backend: Backend,
    gate: WriteGate,
    last_commit: Arc<AtomicI64>,
    deployments: Arc<Deployments>,
    wake: Arc<Notify>,
) {
    if backend == Backend::Sqlite {
        // The file belongs to this one process, so a batch still claimed was claimed by the
        // previous run, which stopped before applying it: it is due now, not when its lease ends.
        let released = sqlx::query(
            "UPDATE webhook_deliveries SET lease_until = NULL WHERE processed_at IS NULL AND lease_until IS NOT NULL",
        )
        .execute(&pool)
        .await;
        match released.map(|r| r.rows_affected()) {
            Ok(0) => {}
            Ok(n) => tracing::warn!(
                deliveries = n,
                "applying webhook deliveries the last run stored but did not apply"
            ),
            Err(error) => tracing::warn!(%error, "releasing interrupted webhook deliveries"),
        }
    }
    loop {
        let busy = crate::now_ms() - last_commit.load(Ordering::Relaxed) < BUSY_WITHIN_MS;
        if busy {
            tokio::time::sleep(PAUSE_WHILE_BUSY).await;
        }
        let limit = if busy {
            APPLY_BATCH_WHILE_BUSY
        } else {
            APPLY_BATCH
        };
        match claim(&pool, limit).await {
            Ok(rows) if !rows.is_empty() => {
                let applied = {
                    let _turn = turn(&gate).await;
                    apply_batch(&pool, backend, &deployments, rows).await
                };
                if let Err(error) = applied {
                    // The leases run out and the batch is claimed again.
                    tracing::warn!(%error, "could not apply webhook deliveries; they will be retried");
                    tokio::time::sleep(Duration::from_secs(1)).await;
                }
                continue;
            }
            Ok(_) => {}
            Err(error) => tracing::warn!(%error, "could not read the webhook inbox; retrying"),
        }
        tokio::select! {
            _ = wake.notified() => {}
            _ = tokio::time::sleep(Duration::from_secs(1)) => {}
        }
    }
}

async fn apply_batch(
    pool: &AnyPool,
    backend: Backend,
    deployments: &Deployments,
    rows: Vec<(i64, String, String, String)>,
) -> Result<(), sqlx::Error> {
    let mut tx = match backend {
        Backend::Sqlite => pool.begin_with("BEGIN IMMEDIATE").await?,
        Backend::Postgres => pool.begin().await?,
    };
    let applied = rows.len();
    for (id, source, event, body) in rows {
        let mut savepoint = sqlx::Acquire::begin(&mut *tx).await?;
        let outcome = match apply(&mut savepoint, deployments, &source, &event, &body).await {
            Ok(done) => {
                savepoint.commit().await?;
                done
            }
            Err(refused) => {
                savepoint.rollback().await?;
                if refused.code == app::error::ErrorCode::Internal {
                    internal("applying a webhook delivery", refused.message.clone());
                }
                format!("{REFUSED} {}", refused.message)
            }
        };
        sqlx::query("UPDATE webhook_deliveries SET processed_at = $1, outcome = $2 WHERE id = $3")
            .bind(crate::now_ms())
            .bind(&outcome)
            .bind(id)
            .execute(&mut *tx)
            .await?;
    }
    let data = serde_json::json!({ "deliveries": applied });
    crate::events::append(&mut tx, TOPIC, APPLIED, &data).await?;
    tx.commit().await?;
    deployments.after_commit();
    Ok(())
}

async fn claim(
    pool: &AnyPool,
    limit: i64,
) -> Result<Vec<(i64, String, String, String)>, sqlx::Error> {
    let now = crate::now_ms();
    let rows = sqlx::query(
        "UPDATE webhook_deliveries SET lease_until = $1 WHERE id IN ( \
            SELECT id FROM webhook_deliveries WHERE processed_at IS NULL AND (lease_until IS NULL OR lease_until < $2) \
            ORDER BY id LIMIT $3) \
         AND processed_at IS NULL AND (lease_until IS NULL OR lease_until < $2) \
         RETURNING id, source, event, body",
    )
    .bind(now + LEASE.as_millis() as i64)
    .bind(now)
    .bind(limit)
    .fetch_all(pool)
    .await?;
    let mut claimed = rows
        .iter()
        .map(|r| {
            Ok((
                r.try_get("id")?,
                r.try_get("source")?,
                r.try_get("event")?,
                r.try_get("body")?,
            ))
        })
        .collect::<Result<Vec<_>, sqlx::Error>>()?;
    claimed.sort_by_key(|c| c.0);
    Ok(claimed)
}

/// Parses and applies one delivery; the outcome in words, or why it was refused.
async fn apply(
    tx: &mut Transaction<'_, Any>,
    deployments: &Deployments,
    source: &str,
    event: &str,
    body: &str,
) -> Result<String, AppError> {
    let observed = serde_json::from_str(body)
        .map_err(|e| format!("not JSON: {e}"))
        .and_then(|json| match source {
            "github" => parse::github(event, &json),
            "gitlab" => parse::gitlab(event, &json),
            _ => parse::cdevents(&json),
        })
        .map_err(AppError::bad_request)?;
    match observed {
        Observed::Nothing(why) => Ok(format!("{IGNORED} {why}")),
        Observed::BuildSucceeded {
            service,
            version,
            git_sha,
        } => match deployments
            .register_release(tx, &service, &version, &git_sha)
            .await
        {
            // A repository with no service here is watched for its builds only: a successful
            // run of it has no release to record, which is not a refusal.
            Err(missing) if missing.code == app::error::ErrorCode::NotFound => Ok(format!(
                "{IGNORED} no service named '{service}' here, so no release (the run is a build all the same)"
            )),
            recorded => recorded,
        },
        Observed::DeploymentOutcome {
            service,
            environment,
            version,
            git_sha,
            succeeded,
            rollback,
            deployment_id,
        } => {
            let report = ReportedDeployment {
                service,
                environment,
                version,
                git_sha,
                succeeded,
                rollback,
                deployment_id,
            };
            deployments.report(tx, source, report).await
        }
    }
}
