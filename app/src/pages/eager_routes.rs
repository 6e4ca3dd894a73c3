//! Route views without the `split` feature: every page is in the one WASM bundle. Same names as
//! `lazy_routes.rs`, so the route table does not change with the build.

use super::*;
use leptos_router::ChooseView;

macro_rules! eager_routes {
    ($($view:ident => $page:ident),* $(,)?) => {$(
        pub fn $view() -> impl ChooseView {
            $page
        }
    )*};
}

eager_routes! {
    dashboard => DashboardPage,
    deployments => DeploymentsPage,
    deployment => DeploymentPage,
    health => HealthPage,
    component => ComponentPage,
    slos => SlosPage,
    slo => SloPage,
    alerts => AlertsPage,
    alert => AlertPage,
    audit => AuditPage,
    settings => SettingsPage,
}
