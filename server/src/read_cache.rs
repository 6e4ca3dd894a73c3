//! The read cache behind [`app::ports::call::cached`]: what the pages read, kept until the data
//! may have changed. Every signed-in page read the same rows again for each request, and on
//! SQLite each row crosses from the connection's thread to the runtime's, so the data path cost
//! 5-15 times the rendering (perf on the dashboard: two thirds of the time in sqlx's worker
//! threads, the kernel switching between them, and row conversion).
//!
//! When is a value out of date? Every change that a page shows writes an event, and its writer
//! wakes the bus after the commit and before it answers; the bus's `changes` counter moves at each
//! wake-up and before each publication (changes from other replicas and processes). A value is
//! kept with the counter as it was before it was read, and only served while the counter has not
//! moved, so a writer's next read, and a browser refreshing on an event, never see the old value.
//! Changes that write no event (a health check whose status stays the same, a counter) show
//! after at most [`ReadCache::MAX_AGE`].
//!
//! It serves server-function calls (every open page refetches after a live event) and server
//! rendering alike: a page the page cache (`web/page_cache.rs`) does not hold, for another viewer
//! or at another address, renders from kept values. Server rendering skipped it for a day
//! (2026-12-02/03): while pages streamed out of order, a resource resolving at once sometimes left
//! its `<Suspense>` waiting for ever. Pages render whole since (`SsrMode::Async`), and 600,000
//! renders through it under `wrk -c16` stalled none.

use app::ports::ReadCachePort;
use std::any::Any;
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use crate::events::EventBus;

type Value = Arc<dyn Any + Send + Sync>;

struct Entry {
    generation: u64,
    stored: Instant,
    value: Value,
}

pub struct ReadCache {
    bus: Arc<EventBus>,
    entries: Mutex<HashMap<String, Entry>>,
    /// One lock per key being loaded (see [`ReadCachePort::turn`]); dropped when no one holds
    /// or waits for it.
    loading: Mutex<HashMap<String, Arc<tokio::sync::Mutex<()>>>>,
}

impl ReadCache {
    /// How long a value may be served when no event says it changed.
    pub const MAX_AGE: Duration = Duration::from_secs(1);
    /// Keys carry query arguments (filters, cursors), so their number is up to the clients: past
    /// this many, the cache starts again empty.
    const MAX_ENTRIES: usize = 1_000;

    pub fn new(bus: Arc<EventBus>) -> Self {
        ReadCache {
            bus,
            entries: Mutex::new(HashMap::new()),
            loading: Mutex::new(HashMap::new()),
        }
    }

    fn entries(&self) -> std::sync::MutexGuard<'_, HashMap<String, Entry>> {
        // A panic while holding the lock leaves only a map of copies behind; keep using it.
        self.entries.lock().unwrap_or_else(|e| e.into_inner())
    }
}

#[async_trait::async_trait]
impl ReadCachePort for ReadCache {
    fn generation(&self) -> u64 {
        self.bus.changes()
    }

    fn get(&self, key: &str, generation: u64) -> Option<Value> {
        let entries = self.entries();
        let entry = entries.get(key)?;
        (entry.generation == generation && entry.stored.elapsed() < Self::MAX_AGE)
            .then(|| Arc::clone(&entry.value))
    }

    fn put(&self, key: String, generation: u64, value: Value) {
        let mut entries = self.entries();
        if entries.len() >= Self::MAX_ENTRIES && !entries.contains_key(&key) {
            // Older generations and values past their age are useless (and a year of builds is
            // megabytes); if what is left still fills it, start again.
            entries.retain(|_, e| e.generation == generation && e.stored.elapsed() < Self::MAX_AGE);
            if entries.len() >= Self::MAX_ENTRIES {
                entries.clear();
            }
        }
        // A slow read must not replace what a read that began after a change stored.
        if entries.get(&key).is_some_and(|e| e.generation > generation) {
            return;
        }
        entries.insert(
            key,
            Entry {
                generation,
                stored: Instant::now(),
                value,
            },
        );
    }

    async fn turn(&self, key: &str) -> Box<dyn Any + Send> {
        let lock = {
            let mut loading = self.loading.lock().unwrap_or_else(|e| e.into_inner());
            // Locks nobody holds or waits for (only this map refers to them) go.
            loading.retain(|_, lock| Arc::strong_count(lock) > 1);
            Arc::clone(loading.entry(key.to_string()).or_default())
        };
        Box::new(lock.lock_owned().await)
    }
}
