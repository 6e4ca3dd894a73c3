//! Stopping on SIGTERM without losing anything. Stopping has two phases after serving:
//! - **draining**: no new connections or background jobs; open websockets are closed with 1001
//!   (the browser reconnects and replays what it missed from its last `seq`), followed log
//!   streams end after the lines written so far, post-deploy watches hand their job back, and
//!   running deployments get the rest of the allowance to finish;
//! - **abandoning**, once `FLIGHTDECK_SHUTDOWN_TIMEOUT_S` has passed: a deployment still running
//!   stops its deployer and is recorded failed with the reason, so nothing is left "running".

use std::sync::Arc;
use tokio::sync::watch;

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Phase {
    Serving,
    Draining,
    Abandoning,
}

/// One per process, shared by the server loop, the websocket sessions and the workers.
#[derive(Clone)]
pub struct Shutdown(Arc<watch::Sender<Phase>>);

impl Default for Shutdown {
    fn default() -> Self {
        Shutdown(Arc::new(watch::channel(Phase::Serving).0))
    }
}

impl Shutdown {
    /// Moves to `phase` (never back).
    pub fn enter(&self, phase: Phase) {
        self.0.send_if_modified(|now| {
            let later = phase > *now;
            if later {
                *now = phase;
            }
            later
        });
    }

    pub fn phase(&self) -> Phase {
        *self.0.borrow()
    }

    /// Completes once the process has reached `phase` (at once if it already has).
    pub async fn reached(&self, phase: Phase) {
        let mut phases = self.0.subscribe();
        // The sender lives as long as `self`, so waiting cannot fail.
        let _ = phases.wait_for(|now| *now >= phase).await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn phases_only_move_forward_and_waiters_wake() {
        let shutdown = Shutdown::default();
        let waiter = tokio::spawn({
            let shutdown = shutdown.clone();
            async move { shutdown.reached(Phase::Draining).await }
        });
        shutdown.enter(Phase::Abandoning);
        waiter.await.unwrap();
        shutdown.enter(Phase::Draining);
        assert_eq!(shutdown.phase(), Phase::Abandoning);
        shutdown.reached(Phase::Draining).await;
    }
}
