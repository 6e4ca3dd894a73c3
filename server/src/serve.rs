//! The HTTP server loop: the router on hyper, with what `axum::serve` leaves out against slow or
//! greedy clients. A request's headers must arrive within [`Limits::header_read_timeout`], so a
//! client that trickles them (slowloris) is cut off instead of holding a connection for good
//! (axum sets no timer, so hyper's own 30 s default never applies). At most
//! [`Limits::max_connections`] connections are open at once; past that, new ones wait in the
//! kernel's backlog instead of exhausting file descriptors and memory. On the shutdown signal it
//! stops accepting and lets requests in flight finish, for [`Limits::shutdown_timeout`] at most.

use axum::body::Body;
use axum::extract::ConnectInfo;
use axum::Router;
use hyper::body::Incoming;
use hyper::server::conn::http1;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::service::TowerToHyperService;
use std::future::Future;
use std::sync::Arc;
use std::time::Duration;
use tokio::net::TcpListener;
use tokio::sync::{watch, Semaphore};
use tower::ServiceExt;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// From a connection's first byte (or the end of its last response) to a request's
    /// complete headers.
    pub header_read_timeout: Duration,
    pub max_connections: usize,
    /// From the shutdown signal to exiting: requests in flight, and deployments running, get
    /// this long to finish.
    pub shutdown_timeout: Duration,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            header_read_timeout: Duration::from_secs(10),
            max_connections: 4096,
            shutdown_timeout: Duration::from_secs(25),
        }
    }
}

/// Serves `router` on `listener` until `shutdown` completes, then waits for the requests in
/// flight. Handlers see the peer address as `ConnectInfo<SocketAddr>`.
pub async fn serve(
    listener: TcpListener,
    router: Router,
    limits: Limits,
    shutdown: impl Future<Output = ()> + Send + 'static,
) {
    let most = limits.max_connections.clamp(1, Semaphore::MAX_PERMITS);
    let open = Arc::new(Semaphore::new(most));
    // Tells every connection to finish its request in flight and close.
    let (stop, stopping) = watch::channel(false);
    let mut shutdown = std::pin::pin!(shutdown);
    loop {
        let permit = tokio::select! {
            permit = open.clone().acquire_owned() => permit.expect("the semaphore is never closed"),
            () = &mut shutdown => break,
        };
        let (tcp, peer) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(accepted) => accepted,
                Err(error) => {
                    // Out of file descriptors, or the peer gave up: wait a little, go on.
                    tracing::debug!(%error, "accepting a connection");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            },
            () = &mut shutdown => break,
        };
        // Pages stream in several chunks; without NODELAY the later ones wait for the client's
        // delayed ACK (about 40 ms per page on Linux).
        let _ = tcp.set_nodelay(true);
        let service = router
            .clone()
            .map_request(move |request: hyper::Request<Incoming>| {
                let mut request = request.map(Body::new);
                request.extensions_mut().insert(ConnectInfo(peer));
                request
            });
        let mut stopping = stopping.clone();
        let timeout = limits.header_read_timeout;
        tokio::spawn(async move {
            let connection = http1::Builder::new()
                .timer(TokioTimer::new())
                .header_read_timeout(timeout)
                .serve_connection(TokioIo::new(tcp), TowerToHyperService::new(service))
                .with_upgrades();
            let mut connection = std::pin::pin!(connection);
            loop {
                tokio::select! {
                    ended = connection.as_mut() => {
                        if let Err(error) = ended {
                            tracing::trace!(%error, %peer, "connection ended");
                        }
                        break;
                    }
                    _ = stopping.changed() => connection.as_mut().graceful_shutdown(),
                }
            }
            drop(permit);
        });
    }
    drop(listener);
    let _ = stop.send(true);
    // Every connection has ended when every permit is back; one still busy at the deadline is
    // dropped with the process.
    let ended = tokio::time::timeout(limits.shutdown_timeout, open.acquire_many(most as u32)).await;
    if ended.is_err() {
        tracing::warn!(
            "some connections were still busy when the shutdown allowance ran out; closing them"
        );
    }
}
