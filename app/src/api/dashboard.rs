//! The dashboard's server function: the cockpit in one round trip, from the ports the other
//! pages use, so the dashboard never disagrees with them.

use crate::cockpit::Cockpit;
use crate::error::AppError;
use leptos::prelude::*;

#[cfg(feature = "ssr")]
use crate::model::Role;
#[cfg(feature = "ssr")]
use crate::ports::call::*;

#[server(endpoint = "cockpit")]
pub async fn load_cockpit() -> Result<Cockpit, AppError> {
    reply(
        async {
            use crate::health::alert::{AlertQuery, AlertStatus};
            use crate::model::AuditQuery;
            require(Role::Viewer)?;
            cached("cockpit".into(), || async {
                let ports = ports()?;
                // The alerts still open, by state: resolved ones (most of the table) stay out.
                let mut alerts = Vec::new();
                for status in [
                    AlertStatus::Open,
                    AlertStatus::Escalated,
                    AlertStatus::Acknowledged,
                ] {
                    let page = ports
                        .alerts
                        .list(&AlertQuery {
                            status: Some(status),
                            limit: Some(500),
                            ..Default::default()
                        })
                        .await?;
                    alerts.extend(page.alerts);
                }
                let environments = ports.catalog.list_environments().await?;
                let audit = ports
                    .audit
                    .list(&AuditQuery {
                        limit: Some(200),
                        ..Default::default()
                    })
                    .await?;
                let mut cells = ports.deployments.status().await?;
                let production = environments.last().map(|e| e.name.as_str());
                // Production's running versions built from a commit CI failed on.
                let in_production =
                    (cells.iter_mut()).filter(|c| Some(c.environment.as_str()) == production);
                super::reads::mark_ci_failed(&ports, in_production).await?;
                let cockpit = crate::cockpit::build(
                    &ports.components.list().await?,
                    &alerts,
                    &ports.slos.list().await?,
                    &cells,
                    production,
                    audit.entries,
                );
                Ok(cockpit)
            })
            .await
        }
        .await,
    )
}
