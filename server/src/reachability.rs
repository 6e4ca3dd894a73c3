//! Whether the database answers, checked in the background so pages can say so at once.

use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

/// Whether the database answered its last ping (every 2 s): the pages show a banner while it
/// does not, so nobody mistakes what they see for current.
#[derive(Debug, Default)]
pub struct Reachability {
    down: AtomicBool,
}

impl Reachability {
    pub fn is_down(&self) -> bool {
        self.down.load(Ordering::Relaxed)
    }

    pub fn spawn_probe(self: &std::sync::Arc<Self>, db: crate::db::Db) {
        let this = self.clone();
        tokio::spawn(async move {
            let mut every = tokio::time::interval(Duration::from_secs(2));
            loop {
                every.tick().await;
                let answered = tokio::time::timeout(Duration::from_millis(1500), db.ping()).await;
                let down = !matches!(answered, Ok(Ok(_)));
                if this.down.swap(down, Ordering::Relaxed) != down {
                    if down {
                        tracing::warn!(
                            "the database stopped answering; writes are refused with 503"
                        );
                    } else {
                        tracing::info!("the database answers again");
                    }
                }
            }
        });
    }
}
