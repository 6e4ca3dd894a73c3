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
                Ok(crate::cockpit::build(
                    &ports.components.list().await?,
                    &alerts,
                    &ports.slos.list().await?,
                    &ports.deployments.status().await?,
                    environments.last().map(|e| e.name.as_str()),
                    audit.entries,
                ))
            })
            .await
        }
        .await,
    )
}
