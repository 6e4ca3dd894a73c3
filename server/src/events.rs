//! The realtime spine. Every state change writes an `event` row in its own transaction
//! ([`append`]); after commit the writer calls [`EventBus::wake`]. The bus reads rows past the last
//! `seq` it published, in order, and fans them out to websocket sessions. On PostgreSQL every
//! replica also LISTENs on `flightdeck_events`, which a trigger on `event` NOTIFYs at commit
//! ([`EventBus::listen`]), so a change made through another replica arrives at once. A timer poll
//! backs both up: an event written by another process (a CLI command) still reaches browsers
//! within a second.
//!
//! Gaps: on PostgreSQL, sequence values can commit out of order under concurrent writers (a
//! transaction that took `seq` 7 may commit after the one that took 8), and a rolled-back
//! transaction leaves its `seq` unused for good. So the bus never publishes past a missing `seq`
//! until it has waited [`EventBus::GAP_WAIT`] for it, and a replay stops at the first gap the bus
//! has not resolved yet ([`contiguous`]); otherwise a client would move past an event that is
//! about to commit and never see it. SQLite serialises writers and reuses rolled-back values, so
//! there `seq` has no gaps.

use app::model::EventMessage;
use sqlx::{Any, AnyPool, Row, Transaction};
use std::sync::atomic::{AtomicI64, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::{broadcast, Notify};

/// The PostgreSQL channel the `event_notify` trigger notifies (migration 0008).
const NOTIFY_CHANNEL: &str = "flightdeck_events";

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

/// Writes the events of a batch (kind, data) in one statement per few hundred, inside the
/// caller's transaction, in order.
pub async fn append_all(
    tx: &mut Transaction<'_, Any>,
    backend: crate::db::Backend,
    topic: &str,
    events: &[(&str, serde_json::Value)],
) -> Result<(), sqlx::Error> {
    let at = crate::now_ms();
    for chunk in events.chunks(crate::store::rows_per_statement(4)) {
        let sql = format!(
            "INSERT INTO event (at, topic, type, data) VALUES {}",
            crate::store::values_placeholders(backend, chunk.len(), 4)
        );
        let mut query = sqlx::query(&sql);
        for (kind, data) in chunk {
            query = query
                .bind(at)
                .bind(topic)
                .bind(*kind)
                .bind(data.to_string());
        }
        query.execute(&mut **tx).await?;
    }
    Ok(())
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
    /// Moves on at every wake-up and before every publication: the generation of the read cache
    /// ([`crate::read_cache`]). A writer wakes the bus after its commit and before it answers, so
    /// whoever it answers reads past the cache; a change from another replica or process moves it
    /// before any browser hears of the change.
    changes: AtomicU64,
    /// The missing `seq` publishing waits on, and since when.
    gap: std::sync::Mutex<Option<(i64, std::time::Instant)>>,
    /// How often the bus looks for events nobody woke it for.
    poll: Duration,
}

impl EventBus {
    /// The most events one replay returns; a client further behind is told to reload.
    pub const REPLAY_LIMIT: i64 = 10_000;
    const POLL: Duration = Duration::from_secs(1);
    /// How long a missing `seq` may still commit before publishing moves past it (as rolled back).
    pub const GAP_WAIT: Duration = Duration::from_secs(3);

    pub async fn new(pool: AnyPool) -> Result<Arc<EventBus>, sqlx::Error> {
        Self::with_poll(pool, Self::POLL).await
    }

    /// A bus whose backup poll runs every `poll` (tests use a long one to show what wakes it).
    pub async fn with_poll(pool: AnyPool, poll: Duration) -> Result<Arc<EventBus>, sqlx::Error> {
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
            changes: AtomicU64::new(0),
            gap: std::sync::Mutex::new(None),
            poll,
        }))
    }

    /// Starts publishing, on a thread of its own, until the bus is dropped: on the shared runtime the
    /// wake-up after a commit, and the read of the new events, queued behind the tasks of every
    /// connected session (deploy_bench: 1,000 websocket clients).
    pub fn spawn(self: &Arc<Self>) {
        // Weak, so the thread ends within a poll interval once the server (or a test) drops the bus.
        let weak = Arc::downgrade(self);
        // Failing to start a thread at start-up means the machine is out of threads or memory.
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("a runtime for the event bus");
        let publisher = async move {
            while let Some(bus) = weak.upgrade() {
                tokio::select! {
                    _ = bus.wake.notified() => {}
                    _ = tokio::time::sleep(bus.poll) => {}
                }
                if let Err(error) = bus.publish_pending().await {
                    tracing::warn!(%error, "event bus could not read new events; retrying");
                    tokio::time::sleep(Self::POLL).await;
                }
            }
        };
        std::thread::Builder::new()
            .name("event-bus".into())
            .spawn(move || runtime.block_on(publisher))
            .expect("a thread for the event bus");
    }

    /// PostgreSQL: wakes the bus whenever any replica commits an event (the `event_notify`
    /// trigger), reconnecting if the connection drops; runs until the process ends.
    ///
    /// The listening connection comes from a pool of its own, opened with `pool`'s options.
    /// Held from the shared pool, it kept `Db::close` waiting until sqlx woke the listener to
    /// give it back, and that wake-up can be missed (sqlx 0.8.6's `Pool::close_event` checks
    /// whether the pool is closed before it registers for the event, so a close in between goes
    /// unseen): a `token create` hung in CI for 14 minutes, its pool closed and the listener
    /// still waiting for notifications.
    pub fn listen(self: &Arc<Self>, pool: sqlx::PgPool) -> tokio::task::JoinHandle<()> {
        let bus = Arc::clone(self);
        let own = sqlx::postgres::PgPoolOptions::new()
            .max_connections(1)
            .max_lifetime(None)
            .idle_timeout(None)
            .connect_lazy_with(pool.connect_options().as_ref().clone());
        tokio::spawn(async move {
            loop {
                let listening = async {
                    let mut listener = sqlx::postgres::PgListener::connect_with(&own).await?;
                    listener.listen(NOTIFY_CHANNEL).await?;
                    // Anything committed while not listening.
                    bus.wake();
                    loop {
                        listener.recv().await?;
                        bus.wake();
                    }
                };
                let result: Result<(), sqlx::Error> = listening.await;
                if let Err(error) = result {
                    tracing::warn!(%error, "not listening for other replicas' events; retrying");
                }
                tokio::time::sleep(Self::POLL).await;
            }
        })
    }

    /// Tells the bus that a transaction with events has committed.
    pub fn wake(&self) {
        self.changes.fetch_add(1, Ordering::AcqRel);
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
            if count > 0 {
                self.changes.fetch_add(1, Ordering::AcqRel);
            }
            for row in &rows {
                let event = decode(row)?;
                let expected = self.head.load(Ordering::Acquire) + 1;
                if event.seq > expected && !self.gap_given_up(expected) {
                    // Wait for `expected` to commit (its writer wakes the bus) or to time out.
                    self.heartbeat.store(crate::now_ms(), Ordering::Relaxed);
                    return Ok(());
                }
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

    /// Whether publishing may skip the missing `seq`: true once it has been missing for
    /// [`Self::GAP_WAIT`].
    fn gap_given_up(&self, missing: i64) -> bool {
        let mut gap = self.gap.lock().unwrap_or_else(|e| e.into_inner());
        match *gap {
            Some((seq, since)) if seq == missing => {
                if since.elapsed() < Self::GAP_WAIT {
                    return false;
                }
                tracing::debug!(seq, "event seq never committed; moving past it");
                *gap = None;
                true
            }
            _ => {
                *gap = Some((missing, std::time::Instant::now()));
                false
            }
        }
    }

    /// Runs `reload(target)` after each published event of `topic` (and after missed events,
    /// one of which may have been of it), until `target` is dropped: how an in-memory copy follows
    /// changes made through other replicas.
    pub fn follow<T, Fut>(
        &self,
        topic: &'static str,
        target: &Arc<T>,
        reload: impl Fn(Arc<T>) -> Fut + Send + 'static,
    ) where
        T: Send + Sync + 'static,
        Fut: std::future::Future<Output = ()> + Send,
    {
        let target = Arc::downgrade(target);
        let mut events = self.subscribe();
        tokio::spawn(async move {
            loop {
                let changed = match events.recv().await {
                    Ok(published) => published.event.topic == topic,
                    Err(broadcast::error::RecvError::Lagged(_)) => true,
                    Err(broadcast::error::RecvError::Closed) => return,
                };
                let Some(target) = target.upgrade() else {
                    return;
                };
                if changed {
                    reload(target).await;
                }
            }
        });
    }

    pub fn subscribe(&self) -> broadcast::Receiver<Arc<Published>> {
        self.sender.subscribe()
    }

    /// See the `changes` field.
    pub fn changes(&self) -> u64 {
        self.changes.load(Ordering::Acquire)
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
    /// subscribes is in its replay rather than arriving after `subscribed`; but never past a gap
    /// the bus is still waiting on ([`contiguous`]).
    pub async fn replay(&self, since: i64) -> Result<Vec<EventMessage>, sqlx::Error> {
        let head = self.head();
        let events = sqlx::query(
            "SELECT seq, topic, type, data FROM event WHERE seq > $1 ORDER BY seq LIMIT $2",
        )
        .bind(since)
        .bind(Self::REPLAY_LIMIT + 1)
        .fetch_all(&self.pool)
        .await?
        .iter()
        .map(decode)
        .collect::<Result<Vec<_>, _>>()?;
        Ok(contiguous(events, since, head))
    }
}

/// `events` (ordered, after `since`) up to the first gap above the bus's published `head`: gaps
/// at or below it are settled (published, or given up as rolled back), a gap above it may still
/// fill.
pub fn contiguous(mut events: Vec<EventMessage>, since: i64, head: i64) -> Vec<EventMessage> {
    let mut settled = since.max(head);
    let end = events
        .iter()
        .position(|e| {
            if e.seq <= settled {
                return false;
            }
            let next = e.seq == settled + 1;
            settled = e.seq;
            !next
        })
        .unwrap_or(events.len());
    events.truncate(end);
    events
}

#[cfg(test)]
mod tests {
    use super::*;

    fn seqs(list: &[i64], since: i64, head: i64) -> Vec<i64> {
        let events = list
            .iter()
            .map(|&seq| EventMessage {
                seq,
                topic: "t".into(),
                kind: "k".into(),
                data: serde_json::Value::Null,
            })
            .collect();
        contiguous(events, since, head)
            .iter()
            .map(|e| e.seq)
            .collect()
    }

    #[test]
    fn replay_stops_at_a_gap_the_bus_still_waits_on() {
        // 7 is settled (head 8 is past it); 10 may still commit, so 11 waits.
        assert_eq!(seqs(&[6, 8, 9, 11, 12], 5, 8), [6, 8, 9]);
        // The client is ahead of the bus: gaps count from where it is.
        assert_eq!(seqs(&[11, 12, 14], 10, 8), [11, 12]);
        assert_eq!(seqs(&[10, 11], 8, 8), [] as [i64; 0]);
        assert_eq!(seqs(&[9, 10, 11], 8, 8), [9, 10, 11]);
        assert_eq!(seqs(&[], 3, 8), [] as [i64; 0]);
    }
}
