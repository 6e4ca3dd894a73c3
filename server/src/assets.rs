//! `/pkg`: the browser bundles and the stylesheet, straight from disk. They skip the session and
//! caller layers (nothing in them is private), and are served as the build left them: a client
//! that accepts brotli or gzip gets the `.br` or `.gz` file `scripts/page-bundles.sh` wrote next
//! to each one, not a compression made again for every request. A bundle whose name carries its
//! content hash (`flightdeck-AlertFeed.1a2b3c4d5e6f7a8b.wasm`) never changes, so browsers keep it
//! for a year; anything else is checked again each time (a 304 when it has not changed).

use axum::extract::Request;
use axum::middleware::{self, Next};
use axum::response::Response;
use axum::Router;
use http::header::{HeaderValue, CACHE_CONTROL, VARY};
use std::path::PathBuf;
use tower_http::services::ServeDir;

pub fn router<S: Clone + Send + Sync + 'static>(pkg_dir: PathBuf) -> Router<S> {
    let files = ServeDir::new(pkg_dir)
        .precompressed_br()
        .precompressed_gzip();
    Router::new()
        .fallback_service(files)
        .layer(middleware::from_fn(cache_control))
}

async fn cache_control(request: Request, next: Next) -> Response {
    let immutable = app::bundles::is_hashed(request.uri().path());
    let mut response = next.run(request).await;
    let status = response.status();
    if status.is_success() || status == http::StatusCode::NOT_MODIFIED {
        let value = if immutable {
            "public, max-age=31536000, immutable"
        } else {
            "no-cache"
        };
        let headers = response.headers_mut();
        headers.insert(CACHE_CONTROL, HeaderValue::from_static(value));
        // The bytes depend on what the client accepts: a shared cache must keep them apart.
        headers.insert(VARY, HeaderValue::from_static("accept-encoding"));
    }
    response
}
