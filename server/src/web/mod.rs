//! The one axum router: health, metrics, websocket, REST, server functions and SSR pages, with the
//! layers every request passes (outermost first): compression, tracing, metrics, security headers,
//! cross-site refusal, session, caller resolution; and for pages and server functions only: page
//! guard, page cache, and the status of a server function that failed before its body ran.

use crate::auth::{caller, sessions};
use crate::security::CspNonce;
use crate::state::AppState;
use app::components::layout::provide_viewer;
use app::model::Caller;
use app::model::Me;
use app::{shell, App};
use axum::routing::{any, get};
use axum::{middleware, Router};
use leptos::prelude::*;
use leptos_axum::{generate_route_list, LeptosRoutes};
use tower_http::compression::CompressionLayer;
use tower_http::trace::TraceLayer;
use tower_sessions::cookie::SameSite;
use tower_sessions::{Expiry, SessionManagerLayer};

mod liveness;
mod metrics;
pub mod page_cache;
mod server_fn_status;

/// What every server function and page render gets as context: the ports, who is signed in (the
/// pages render for their role), and the CSP nonce of this response so Leptos marks its inline
/// scripts with it.
fn leptos_context(state: &AppState) -> impl Fn() + Clone + Send + 'static {
    let ports = state.ports();
    let maintenance = state.maintenance.clone();
    let reachability = state.reachability.clone();
    move || {
        provide_context(ports.clone());
        provide_context(app::components::layout::DatabaseDown(
            reachability.is_down(),
        ));
        let now = crate::now_ms();
        let m = maintenance.current();
        let notice = m.active_at(now).then(|| m.banner());
        provide_context(app::components::layout::MaintenanceNotice(notice));
        if let Some(parts) = use_context::<http::request::Parts>() {
            if let Some(CspNonce(nonce)) = parts.extensions.get::<CspNonce>() {
                provide_context(leptos::nonce::Nonce::from_value(nonce.as_str()));
            }
            let me = parts
                .extensions
                .get::<Caller>()
                .and_then(|caller| caller.0.as_ref())
                .map(Me::from);
            provide_viewer(me);
        }
    }
}

pub fn router(state: AppState, session_store: sessions::Store) -> Router {
    // The websocket checks its session again while it stays open (see `ws`).
    let store_for_sockets = axum::Extension(session_store.clone());
    let idle = time::Duration::seconds(state.config.session_idle.as_secs() as i64);
    let session_layer = SessionManagerLayer::new(session_store)
        .with_name("fd_session")
        .with_http_only(true)
        .with_same_site(SameSite::Lax)
        .with_secure(state.config.secure_cookies)
        .with_expiry(Expiry::OnInactivity(idle));

    let context = leptos_context(&state);
    let pages = std::sync::Arc::new(page_cache::PageCache::new(state.bus.clone()));
    let routes = route_list();
    let options = state.leptos_options.clone();
    let pkg_dir =
        std::path::Path::new(options.site_root.as_ref()).join(options.site_pkg_dir.as_ref());
    // Pages, server functions and the site's files: only they pass the page guard, the page
    // cache and the server functions' status. Each `from_fn` layer costs every request beneath
    // it a clone of the service stack it wraps; OFREP and the API skip these three (flags_bench).
    let site = Router::new()
        .leptos_routes_with_context(&state, routes, context.clone(), {
            let options = options.clone();
            move || shell(options.clone())
        })
        .fallback(leptos_axum::file_and_error_handler_with_context::<
            AppState,
            _,
        >(context, shell))
        .layer(middleware::from_fn(server_fn_status::correct))
        .layer(middleware::from_fn_with_state(
            (state.clone(), pages),
            page_cache::serve,
        ))
        .layer(middleware::from_fn(caller::page_guard));
    Router::new()
        .route("/api/health", get(liveness::handler))
        .route("/api/openapi.json", get(crate::openapi::handler))
        .route("/metrics", get(metrics::handler))
        .route("/ws", get(crate::ws::handler).layer(store_for_sockets))
        .nest("/api/v1", crate::rest::router())
        .nest("/api/v2", crate::rest::v2_router())
        .nest("/ofrep/v1", crate::ofrep::router())
        // An address under /api that names no server function: JSON, as under /api/v1.
        .route("/api/{*rest}", any(crate::rest::no_endpoint))
        .merge(site)
        .layer(middleware::from_fn_with_state(
            state.clone(),
            caller::resolve,
        ))
        .layer(session_layer)
        .layer(middleware::from_fn_with_state(
            state.clone(),
            crate::security::refuse_cross_site,
        ))
        // Outside the session and caller layers: a bundle is the same for everyone.
        .nest("/pkg", crate::assets::router(pkg_dir))
        .layer(middleware::from_fn_with_state(
            state.clone(),
            crate::security::headers,
        ))
        .layer(middleware::from_fn_with_state(
            state.clone(),
            metrics::track,
        ))
        .layer(TraceLayer::new_for_http())
        .layer(CompressionLayer::new())
        .with_state(state)
}

/// The app's routes, generated once per process. Generating them runs the app with resource
/// loading suppressed process-wide (leptos#4773): a page that started rendering meanwhile in
/// another router of the same process waited for ever. The server builds one router, before it
/// serves; the tests build one per test while others render (`/deployments/99999` stalled until
/// the render deadline in most runs of `tests/platform.rs` on PostgreSQL).
fn route_list() -> Vec<leptos_axum::AxumRouteListing> {
    static ROUTES: std::sync::OnceLock<Vec<leptos_axum::AxumRouteListing>> =
        std::sync::OnceLock::new();
    ROUTES.get_or_init(|| generate_route_list(App)).clone()
}

/// Leptos settings: the `LEPTOS_*` variables cargo-leptos sets win; otherwise the defaults that
/// match `cargo leptos build` output, so the bare binary serves the site.
pub fn leptos_options(site_root: &str, addr: std::net::SocketAddr) -> LeptosOptions {
    let var =
        |name: &str, default: &str| std::env::var(name).unwrap_or_else(|_| default.to_string());
    LeptosOptions::builder()
        .output_name(var("LEPTOS_OUTPUT_NAME", "flightdeck"))
        .site_root(var("LEPTOS_SITE_ROOT", site_root))
        .site_pkg_dir(var("LEPTOS_SITE_PKG_DIR", "pkg"))
        .site_addr(addr)
        .build()
}
