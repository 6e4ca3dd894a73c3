//! Flightdeck's shared Leptos crate: rendered on the server (`ssr`), hydrated in the browser
//! (`hydrate`) or mounted client-side by Trunk (`csr`).

pub mod api;
pub mod backoff;
pub mod builds;
pub mod bundles;
pub mod catalog;
pub mod charts;
pub mod cockpit;
pub mod components;
pub mod deploy;
pub mod error;
pub mod flags;
pub mod health;
pub mod href;
pub mod http_url;
pub mod live;
pub mod maintenance;
pub mod model;
pub mod pages;
#[cfg(feature = "ssr")]
pub mod ports;
pub mod redact;
pub mod response;
pub mod runtime_config;
pub mod scopes;
pub mod service_view;
pub mod system;
pub mod text;
pub mod text_enum;
pub mod theme;
pub mod time_fmt;
pub mod webhook_settings;

use components::layout::AppLayout;
use leptos::prelude::*;
use leptos_meta::{provide_meta_context, Title};
use leptos_router::{
    components::{ParentRoute, Route, Router, Routes},
    path, SsrMode,
};
use pages::*;

/// The HTML document around the app, rendered on the server only.
pub fn shell(mut options: LeptosOptions) -> impl IntoView {
    let theme = theme::from_request();
    // Each page loads the bundle of its own island (see `bundles`), and the stylesheet by its
    // hashed name when the build made one.
    let pkg_dir =
        std::path::Path::new(options.site_root.as_ref()).join(options.site_pkg_dir.as_ref());
    let index = bundles::index(&pkg_dir, &options.output_name);
    let stylesheet = index.stylesheet_href(&options.output_name);
    if let Some(parts) = use_context::<http::request::Parts>() {
        let name = index.output_name_for(parts.uri.path(), &options.output_name);
        options.output_name = name.into();
    }
    view! {
        <!DOCTYPE html>
        <html lang="en" data-theme=theme.as_str()>
            <head>
                <meta charset="utf-8"/>
                <meta name="viewport" content="width=device-width, initial-scale=1, viewport-fit=cover"/>
                // Static head elements live here, rendered on the server only, so the browser
                // bundle carries no code for them.
                <meta name="description" content="Flightdeck: deploy, watch, roll back and see whether production is healthy."/>
                <meta name="theme-color" content="#0f141b"/>
                <link rel="stylesheet" id="leptos" href=stylesheet/>
                <link rel="manifest" href="/manifest.webmanifest"/>
                <link rel="icon" href="/icons/icon-192.png" type="image/png"/>
                <link rel="apple-touch-icon" href="/icons/icon-192.png"/>
                <script src="/sw-register.js" defer=true></script>
                <AutoReload options=options.clone()/>
                <HydrationScripts options islands=true/>
                <leptos_meta::MetaTags/>
            </head>
            <body>
                <App/>
            </body>
        </html>
    }
}

/// Pages render whole before the first byte is sent, so a page's status (404 for a deployment
/// that does not exist, 403, 503) is the one its data set: streamed out of order, the headers
/// went before the data and the status was 404 or 200 by chance. Nothing is lost by it: signed-in
/// pages are read to the end anyway to be kept in the page cache (`server/src/web/page_cache.rs`).
const ASYNC: SsrMode = SsrMode::Async;

#[component]
pub fn App() -> impl IntoView {
    provide_meta_context();

    view! {
        <Title formatter=|page: String| if page.is_empty() { "Flightdeck".to_string() } else { format!("{page} · Flightdeck") }/>
        <Router>
            <Routes fallback=|| view! { <NotFound/> }>
                <Route path=path!("/signin") view=SignInPage/>
                <ParentRoute path=path!("") view=AppLayout>
                    <Route path=path!("") view=DashboardPage ssr=ASYNC/>
                    <Route path=path!("deployments") view=DeploymentsPage ssr=ASYNC/>
                    <Route path=path!("deployments/:id") view=DeploymentPage ssr=ASYNC/>
                    <Route path=path!("health") view=HealthPage ssr=ASYNC/>
                    <Route path=path!("health/:id") view=ComponentPage ssr=ASYNC/>
                    <Route path=path!("slos") view=SlosPage ssr=ASYNC/>
                    <Route path=path!("slos/:id") view=SloPage ssr=ASYNC/>
                    <Route path=path!("alerts") view=AlertsPage ssr=ASYNC/>
                    <Route path=path!("alerts/:id") view=AlertPage ssr=ASYNC/>
                    <Route path=path!("builds") view=BuildsPage ssr=ASYNC/>
                    <Route path=path!("builds/pipeline") view=PipelinePage ssr=ASYNC/>
                    <Route path=path!("config") view=ConfigPage ssr=ASYNC/>
                    <Route path=path!("flags") view=FlagsPage ssr=ASYNC/>
                    <Route path=path!("flags/:key") view=FlagPage ssr=ASYNC/>
                    <Route path=path!("audit") view=AuditPage ssr=ASYNC/>
                    <Route path=path!("system") view=SystemPage ssr=ASYNC/>
                    <Route path=path!("services/:name") view=ServicePage ssr=ASYNC/>
                    <Route path=path!("settings") view=SettingsPage ssr=ASYNC/>
                </ParentRoute>
            </Routes>
        </Router>
    }
}
