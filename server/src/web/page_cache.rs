//! Rendered pages, kept while nothing they show can have changed: during an incident a dozen
//! people keep reopening the same dashboard, and rendering it again (Leptos' reactive owners,
//! a few hundred KB of HTML and hydration data) was most of what a signed-in page cost once its
//! reads were cached (`read_cache.rs`; perf under `wrk -t2 -c16`).
//!
//! A page is kept for one viewer (who they are, their role and scopes), one address and one
//! theme, with the event bus's change counter as it was before rendering, and served only while
//! that counter has not moved and for at most [`MAX_AGE`], exactly as the read cache does (see
//! there why a writer's next page never shows the old value). Whether the database is reachable
//! and whether maintenance is on are part of the key, as both change the page without an event.
//! Only complete `200` answers that set no cookie are kept. Every answer carries a fresh CSP
//! nonce: the stored page's nonce (random, so no content can contain it) is replaced by this
//! response's.

use crate::events::EventBus;
use crate::security::CspNonce;
use crate::state::AppState;
use app::model::Caller;
use axum::body::{Body, Bytes};
use axum::extract::{Request, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::middleware::Next;
use axum::response::Response;
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// As long as a read may be served without an event saying it changed.
const MAX_AGE: Duration = crate::read_cache::ReadCache::MAX_AGE;
/// Pages larger than this are rendered each time.
const MAX_PAGE_BYTES: usize = 2 << 20;
/// All kept pages together; past it the cache starts again empty.
const MAX_TOTAL_BYTES: usize = 64 << 20;

struct Page {
    generation: u64,
    stored: Instant,
    nonce: String,
    headers: HeaderMap,
    body: Bytes,
}

#[derive(Default)]
struct Pages {
    by_key: HashMap<String, Page>,
    bytes: usize,
}

pub struct PageCache {
    bus: Arc<EventBus>,
    pages: Mutex<Pages>,
}

impl PageCache {
    pub fn new(bus: Arc<EventBus>) -> Self {
        PageCache {
            bus,
            pages: Mutex::new(Pages::default()),
        }
    }

    fn pages(&self) -> std::sync::MutexGuard<'_, Pages> {
        self.pages.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// The kept page for `key` with `nonce` in place of the one it was rendered with.
    fn get(&self, key: &str, generation: u64, nonce: &str) -> Option<Response> {
        let (headers, body, stored_nonce) = {
            let pages = self.pages();
            let page = pages.by_key.get(key)?;
            if page.generation != generation || page.stored.elapsed() >= MAX_AGE {
                return None;
            }
            (page.headers.clone(), page.body.clone(), page.nonce.clone())
        };
        let html = std::str::from_utf8(&body)
            .ok()?
            .replace(&stored_nonce, nonce);
        let mut response = Response::new(Body::from(html));
        *response.headers_mut() = headers;
        Some(response)
    }

    fn put(&self, key: String, page: Page) {
        let mut pages = self.pages();
        if pages.bytes + page.body.len() > MAX_TOTAL_BYTES {
            let generation = page.generation;
            pages.by_key.retain(|_, p| p.generation == generation);
            pages.bytes = pages.by_key.values().map(|p| p.body.len()).sum();
            if pages.bytes + page.body.len() > MAX_TOTAL_BYTES {
                pages.by_key.clear();
                pages.bytes = 0;
            }
        }
        // A slow render must not replace what a render that began after a change stored.
        if pages
            .by_key
            .get(&key)
            .is_some_and(|p| p.generation > page.generation)
        {
            return;
        }
        pages.bytes += page.body.len();
        if let Some(old) = pages.by_key.insert(key, page) {
            pages.bytes -= old.body.len();
        }
    }
}

/// What the page depends on besides the data: `None` for what is not a signed-in page view.
fn key_of(state: &AppState, request: &Request) -> Option<String> {
    if !crate::auth::caller::is_page(request) || request.uri().path() == "/signin" {
        return None;
    }
    let viewer = request.extensions().get::<Caller>()?.0.as_ref()?;
    let cookies = request
        .headers()
        .get(header::COOKIE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    let theme = app::theme::Theme::from_cookie_header(cookies);
    let maintenance = state.maintenance.current().active_at(crate::now_ms());
    Some(format!(
        "{viewer:?}|{}|{theme:?}|{}|{maintenance}",
        request.uri(),
        state.reachability.is_down()
    ))
}

/// The middleware, inside the caller and page-guard layers (it needs to know who asks).
pub async fn serve(
    State((state, cache)): State<(AppState, Arc<PageCache>)>,
    request: Request,
    next: Next,
) -> Response {
    let (Some(key), Some(CspNonce(nonce))) = (
        key_of(&state, &request),
        request.extensions().get::<CspNonce>().cloned(),
    ) else {
        return next.run(request).await;
    };
    let generation = cache.bus.changes();
    if let Some(kept) = cache.get(&key, generation, &nonce) {
        return kept;
    }
    let (parts, body) = match render(next, request, RENDER_DEADLINE, &state.metrics).await {
        Rendered::Page(parts, body) => (parts, body),
        Rendered::Other(response) => return response,
    };
    if body.len() <= MAX_PAGE_BYTES {
        cache.put(
            key,
            Page {
                generation,
                stored: Instant::now(),
                nonce,
                headers: parts.headers.clone(),
                body: body.clone(),
            },
        );
    }
    Response::from_parts(parts, Body::from(body))
}

/// How long a page may take to render before it counts as stalled. Pages render in
/// milliseconds; Leptos' out-of-order streaming has had rare lost wake-ups that leave a
/// `<Suspense>` waiting for ever (leptos#4851, #4578; seen here about once in 60 runs of a test
/// binary under load), and a stalled render costs nothing but the connection, so the user would
/// wait for ever on a half-sent page.
const RENDER_DEADLINE: Duration = Duration::from_secs(15);

enum Rendered {
    /// A complete `200` page that sets no cookie: one that may be kept.
    Page(axum::http::response::Parts, Bytes),
    /// Anything else, to send as it is.
    Other(Response),
}

/// Renders `request` (a page view: a GET without a body) to the end, once more if the first
/// render stalls past `deadline`; a page that stalls twice is answered with 503.
async fn render(
    next: Next,
    request: Request,
    deadline: Duration,
    metrics: &crate::metrics::Metrics,
) -> Rendered {
    let mut again = Request::new(Body::empty());
    *again.method_mut() = request.method().clone();
    *again.uri_mut() = request.uri().clone();
    *again.headers_mut() = request.headers().clone();
    *again.extensions_mut() = request.extensions().clone();
    if let Some(rendered) = render_once(next.clone(), request, deadline).await {
        return rendered;
    }
    tracing::warn!(uri = %again.uri(), "rendering a page stalled; rendering it again");
    metrics.page_render_stalled();
    if let Some(rendered) = render_once(next, again, deadline).await {
        return rendered;
    }
    tracing::error!("rendering a page stalled twice");
    let mut stalled = Response::new(Body::from(
        "The page took too long to render. Reload it; if it keeps happening, the server log says more.",
    ));
    *stalled.status_mut() = StatusCode::SERVICE_UNAVAILABLE;
    Rendered::Other(stalled)
}

/// One render, read to the end within `deadline`; `None` when it stalled. Every answer is read
/// whole here, a 404 or a page that sets a cookie too: sent as a stream, a render that stalled
/// after its headers held the connection for ever (seen once in a CI run of the Rust tests).
async fn render_once(next: Next, request: Request, deadline: Duration) -> Option<Rendered> {
    let whole = async {
        let response = next.run(request).await;
        let keepable = response.status() == StatusCode::OK
            && !response.headers().contains_key(header::SET_COOKIE);
        let (mut parts, body) = response.into_parts();
        // Sent again with another nonce; the length stays (nonces all have one length) but need not.
        parts.headers.remove(header::CONTENT_LENGTH);
        match axum::body::to_bytes(body, usize::MAX).await {
            Ok(body) if keepable => Rendered::Page(parts, body),
            Ok(body) => Rendered::Other(Response::from_parts(parts, Body::from(body))),
            Err(error) => {
                // The render failed half-way; what was sent so far cannot be sent now.
                tracing::error!(%error, "rendering a page");
                let mut failed = Response::new(Body::from("The page could not be rendered."));
                *failed.status_mut() = StatusCode::INTERNAL_SERVER_ERROR;
                Rendered::Other(failed)
            }
        }
    };
    tokio::time::timeout(deadline, whole).await.ok()
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::routing::get;
    use std::sync::atomic::{AtomicUsize, Ordering};
    use tower::ServiceExt;

    /// A page answering `status` whose first `stalls` renders send their first bytes and then
    /// never finish, as a `<Suspense>` that lost its wake-up does.
    async fn page_after(stalls: usize, status: StatusCode) -> (StatusCode, String, usize) {
        let renders = Arc::new(AtomicUsize::new(0));
        let metrics = Arc::new(crate::metrics::Metrics::default());
        let counted_stalls = Arc::clone(&metrics);
        let counted = Arc::clone(&renders);
        let handler = move || {
            let n = counted.fetch_add(1, Ordering::SeqCst);
            async move {
                let body = if n < stalls {
                    let first = futures_util::stream::iter([Ok::<_, std::io::Error>(
                        Bytes::from_static(b"<html>"),
                    )]);
                    Body::from_stream(futures_util::StreamExt::chain(
                        first,
                        futures_util::stream::pending(),
                    ))
                } else {
                    Body::from("<html>the page</html>")
                };
                (status, body)
            }
        };
        let router = axum::Router::new()
            .route("/", get(handler))
            .layer(axum::middleware::from_fn(
                move |request: Request, next: Next| {
                    let metrics = Arc::clone(&counted_stalls);
                    async move {
                        match render(next, request, Duration::from_millis(500), &metrics).await {
                            Rendered::Page(parts, body) => {
                                Response::from_parts(parts, Body::from(body))
                            }
                            Rendered::Other(response) => response,
                        }
                    }
                },
            ));
        let response = router
            .oneshot(Request::get("/").body(Body::empty()).unwrap())
            .await
            .unwrap();
        let status = response.status();
        let body = axum::body::to_bytes(response.into_body(), usize::MAX)
            .await
            .unwrap();
        // Every render after the first was a stall, counted for `/metrics`.
        let stalls = format!(
            "flightdeck_page_render_stalls_total {}",
            renders.load(Ordering::SeqCst) - 1
        );
        assert!(metrics.render(0, 0).contains(&stalls));
        (
            status,
            String::from_utf8_lossy(&body).into_owned(),
            renders.load(Ordering::SeqCst),
        )
    }

    #[tokio::test]
    async fn a_stalled_render_is_rendered_again() {
        assert_eq!(
            page_after(1, StatusCode::OK).await,
            (StatusCode::OK, "<html>the page</html>".to_string(), 2)
        );
        assert_eq!(
            page_after(0, StatusCode::OK).await,
            (StatusCode::OK, "<html>the page</html>".to_string(), 1)
        );
        // A page of something missing too: it held the connection for ever before.
        assert_eq!(
            page_after(1, StatusCode::NOT_FOUND).await,
            (
                StatusCode::NOT_FOUND,
                "<html>the page</html>".to_string(),
                2
            )
        );
    }

    #[tokio::test]
    async fn a_page_that_stalls_twice_answers_503_with_what_to_do() {
        let (status, body, renders) = page_after(2, StatusCode::OK).await;
        assert_eq!((status, renders), (StatusCode::SERVICE_UNAVAILABLE, 2));
        assert!(body.contains("Reload"), "{body}");
    }
}
