//! The realtime spine. Every state change writes an `event` row in its own transaction
//! ([`append`]); after commit the writer calls [`EventBus::wake`]. The bus reads rows past the last
//! `seq` it published, in order, and fans them out to websocket sessions. A timer poll backs up
//! the wake-ups, so an event written by another process (a CLI command, another replica) still
//! reaches browsers within a second.
//!
//! Known limit: on PostgreSQL, sequence values can commit out of order under concurrent writers,
//! so a poll may pass a `seq` that commits a moment later. The deployments work (LISTEN/NOTIFY
//! and several replicas) must close that gap; SQLite serialises writers, so there it cannot occur.

use app::model::EventMessage;
use sqlx::{Any, AnyPool, Row, Transaction};
use std::sync::atomic::{AtomicI64, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::{broadcast, Notify};

/// Writes one event inside the caller's transaction and returns its `seq`.
pub async fn append(
    tx: &mut Transaction<'_, Any>,
    topic: &str,
    kind: &str,
    data: &serde_json::Value,
) -> Result<i64, sqlx::Error> {
    let row = sqlx::query(
        "INSERT INTO event (at, topic, type, data) VALUES ($1, $2, $3, $4) RETURNING seq",
    )
    .bind(crate::now_ms())
    .bind(topic)
    .bind(kind)
    .bind(data.to_string())
    .fetch_one(&mut **tx)
    .await?;
    row.try_get(0)
}

fn decode(row: &sqlx::any::AnyRow) -> Result<EventMessage, sqlx::Error> {
    let data: String = row.try_get("data")?;
    Ok(EventMessage {
        seq: row.try_get("seq")?,
        topic: row.try_get("topic")?,
        kind: row.try_get("type")?,
        data: serde_json::from_str(&data).unwrap_or(serde_json::Value::Null),
    })
}

/// A published event with its wire form, serialised once for every websocket session.
pub struct Published {
    pub event: EventMessage,
    pub json: axum::extract::ws::Utf8Bytes,
}

pub struct EventBus {
    pool: AnyPool,
    sender: broadcast::Sender<Arc<Published>>,
    wake: Notify,
    /// Highest `seq` published to subscribers.
    head: AtomicI64,
    /// Unix ms of the last completed publishing round; the health check reads it.
    heartbeat: AtomicI64,
    published: AtomicU64,
}

impl EventBus {
    /// The most events one replay returns; a client further behind is told to reload.
    pub const REPLAY_LIMIT: i64 = 10_000;
    const POLL: Duration = Duration::from_secs(1);

    pub async fn new(pool: AnyPool) -> Result<Arc<EventBus>, sqlx::Error> {
        let head: i64 = sqlx::query("SELECT COALESCE(MAX(seq), 0) FROM event")
            .fetch_one(&pool)
            .await?
            .try_get(0)?;
        let (sender, _) = broadcast::channel(4096);
        Ok(Arc::new(EventBus {
            pool,
            sender,
            wake: Notify::new(),
            head: AtomicI64::new(head),
            heartbeat: AtomicI64::new(crate::now_ms()),
            published: AtomicU64::new(0),
        }))
    }

    /// Starts publishing; runs until the process ends.
    pub fn spawn(self: &Arc<Self>) -> tokio::task::JoinHandle<()> {
        let bus = Arc::clone(self);
        tokio::spawn(async move {
            loop {
                tokio::select! {
                    _ = bus.wake.notified() => {}
                    _ = tokio::time::sleep(Self::POLL) => {}
                }
                if let Err(error) = bus.publish_pending().await {
                    tracing::warn!(%error, "event bus could not read new events; retrying");
                    tokio::time::sleep(Self::POLL).await;
                }
            }
        })
    }

    /// Tells the bus that a transaction with events has committed.
    pub fn wake(&self) {
        self.wake.notify_one();
    }

    async fn publish_pending(&self) -> Result<(), sqlx::Error> {
        loop {
            let head = self.head.load(Ordering::Acquire);
            let rows = sqlx::query(
                "SELECT seq, topic, type, data FROM event WHERE seq > $1 ORDER BY seq LIMIT 1000",
            )
            .bind(head)
            .fetch_all(&self.pool)
            .await?;
            let count = rows.len();
            for row in &rows {
                let event = decode(row)?;
                self.head.store(event.seq, Ordering::Release);
                self.published.fetch_add(1, Ordering::Relaxed);
                // Serialised here once: with a thousand sessions, a per-session clone and
                // serialisation of each event was most of the fan-out's cost.
                let json = serde_json::to_string(&event).unwrap_or_default().into();
                // No receivers is fine: nobody is watching right now.
                let _ = self.sender.send(Arc::new(Published { event, json }));
            }
            if count < 1000 {
                break;
            }
        }
        self.heartbeat.store(crate::now_ms(), Ordering::Relaxed);
        Ok(())
    }

    pub fn subscribe(&self) -> broadcast::Receiver<Arc<Published>> {
        self.sender.subscribe()
    }

    pub fn head(&self) -> i64 {
        self.head.load(Ordering::Acquire)
    }

    pub fn heartbeat_ms(&self) -> i64 {
        self.heartbeat.load(Ordering::Relaxed)
    }

    pub fn published_total(&self) -> u64 {
        self.published.load(Ordering::Relaxed)
    }

    /// Every committed event after `since`, oldest first, at most [`Self::REPLAY_LIMIT`] + 1 (one
    /// more than the limit tells the caller the client is too far behind). Read from the table, not
    /// bounded by what the bus has published yet, so a change committed just before a client
    /// subscribes is in its replay rather than arriving after `subscribed`.
    pub async fn replay(&self, since: i64) -> Result<Vec<EventMessage>, sqlx::Error> {
        sqlx::query("SELECT seq, topic, type, data FROM event WHERE seq > $1 ORDER BY seq LIMIT $2")
            .bind(since)
            .bind(Self::REPLAY_LIMIT + 1)
            .fetch_all(&self.pool)
            .await?
            .iter()
            .map(decode)
            .collect()
    }
}
