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
    let response = next.run(request).await;
    if response.status() != StatusCode::OK || response.headers().contains_key(header::SET_COOKIE) {
        return response;
    }
    let (mut parts, body) = response.into_parts();
    // Sent again with another nonce; the length stays (nonces all have one length) but need not.
    parts.headers.remove(header::CONTENT_LENGTH);
    let body = match axum::body::to_bytes(body, usize::MAX).await {
        Ok(body) => body,
        Err(error) => {
            // The render failed half-way; what was sent so far cannot be sent now.
            tracing::error!(%error, "rendering a page");
            let mut failed = Response::new(Body::from("The page could not be rendered."));
            *failed.status_mut() = StatusCode::INTERNAL_SERVER_ERROR;
            return failed;
        }
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
