//! Server function of a service's page (viewers).

use crate::error::AppError;
use crate::service_view::ServiceView;
use leptos::prelude::*;

#[cfg(feature = "ssr")]
use crate::model::Role;
#[cfg(feature = "ssr")]
use crate::ports::call::*;

/// Where `name` runs, its SLOs and open alerts, and its timeline; 404 for an unknown service.
#[server(endpoint = "service")]
pub async fn load_service(name: String) -> Result<ServiceView, AppError> {
    reply(
        async {
            use crate::health::alert::{AlertQuery, AlertStatus};
            use crate::model::AuditQuery;
            use crate::service_view::{concerns, timeline};
            require(Role::Viewer)?;
            cached(format!("service:{name:?}"), || async {
                let ports = ports()?;
                let service = ports
                    .catalog
                    .list_services()
                    .await?
                    .into_iter()
                    .find(|s| s.name == name)
                    .ok_or_else(|| AppError::not_found(format!("service '{name}'")))?;
                let mut cells: Vec<_> = ports
                    .deployments
                    .status()
                    .await?
                    .into_iter()
                    .filter(|c| c.service == name)
                    .collect();
                super::reads::mark_ci_failed(&ports, cells.iter_mut()).await?;
                let slos = ports
                    .slos
                    .list()
                    .await?
                    .into_iter()
                    .filter(|s| s.service == name)
                    .collect();
                // The latest alerts of every state, then this service's.
                let mut alerts = Vec::new();
                for status in AlertStatus::ALL {
                    let page = ports
                        .alerts
                        .list(&AlertQuery {
                            status: Some(*status),
                            limit: Some(500),
                            ..Default::default()
                        })
                        .await?;
                    alerts.extend(page.alerts.into_iter().filter(|a| concerns(a, &name)));
                }
                let audit = ports
                    .audit
                    .list(&AuditQuery {
                        service: Some(name.clone()),
                        limit: Some(200),
                        ..Default::default()
                    })
                    .await?;
                let mut open_alerts: Vec<_> = alerts
                    .iter()
                    .filter(|a| a.status != AlertStatus::Resolved)
                    .cloned()
                    .collect();
                open_alerts.sort_by_key(|a| std::cmp::Reverse(a.opened_at));
                Ok(ServiceView {
                    timeline: timeline(&audit.entries, &alerts),
                    name: service.name,
                    description: service.description,
                    owner: service.owner,
                    cells,
                    slos,
                    open_alerts,
                })
            })
            .await
        }
        .await,
    )
}
