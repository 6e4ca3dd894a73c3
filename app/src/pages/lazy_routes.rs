//! Route views with the `split` feature: every page behind the shell is a lazy route. Built with
//! `cargo leptos build --split --features split` (scripts/env.sh), each page is its own WASM chunk
//! (code shared by several pages goes to shared chunks), fetched the first time the page opens.
//! For the page being hydrated the server lists its chunks in `<link rel="preload">` tags, so
//! they download in parallel with the main bundle.
//!
//! The pages load their own data, so after a client-side navigation the data request starts once
//! the page's chunk has arrived (each chunk is fetched once per visit).
//!
//! `#[lazy]` code only works in a split build, which is why the routes are eager without the
//! feature (`eager_routes.rs`): Trunk and a plain `cargo leptos build` do not split.

use super::*;
use leptos::prelude::*;
use leptos_router::{lazy_route, Lazy, LazyRoute};

macro_rules! lazy_routes {
    ($($view:ident: $route:ident => $page:ident),* $(,)?) => {$(
        #[doc = concat!("The lazy route of [`", stringify!($page), "`].")]
        pub struct $route;

        #[lazy_route]
        impl LazyRoute for $route {
            fn data() -> Self {
                $route
            }

            fn view(_this: Self) -> AnyView {
                view! { <$page/> }.into_any()
            }
        }

        pub fn $view() -> Lazy<$route> {
            Lazy::new()
        }
    )*};
}

lazy_routes! {
    dashboard: DashboardRoute => DashboardPage,
    deployments: DeploymentsRoute => DeploymentsPage,
    deployment: DeploymentRoute => DeploymentPage,
    health: HealthRoute => HealthPage,
    component: ComponentRoute => ComponentPage,
    slos: SlosRoute => SlosPage,
    slo: SloRoute => SloPage,
    alerts: AlertsRoute => AlertsPage,
    alert: AlertRoute => AlertPage,
    audit: AuditRoute => AuditPage,
    settings: SettingsRoute => SettingsPage,
}
