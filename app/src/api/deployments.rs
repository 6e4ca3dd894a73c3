//! Server functions of the deployments pages. Reads need a signed-in viewer; deploy, rollback,
//! promote, cancel and lifting a quarantine need an operator.

use crate::catalog::{Environment, Service};
use crate::deploy::rollback;
use crate::deploy::*;
use crate::error::AppError;
use leptos::prelude::*;
use leptos::server_fn::codec::Json;
use serde::{Deserialize, Serialize};

#[cfg(feature = "ssr")]
use super::reads;
#[cfg(feature = "ssr")]
use crate::model::Role;
#[cfg(feature = "ssr")]
use crate::ports::call::*;

/// Everything the deployments board shows in one round trip.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DeployBoard {
    pub services: Vec<Service>,
    /// In pipeline order.
    pub environments: Vec<Environment>,
    pub cells: Vec<StatusCell>,
    pub quarantines: Vec<Quarantine>,
}

#[server(endpoint = "deploy_board")]
pub async fn load_board() -> Result<DeployBoard, AppError> {
    reply(
        async {
            require(Role::Viewer)?;
            cached("deploy_board".into(), || async {
                let ports = ports()?;
                let mut cells = ports.deployments.status().await?;
                reads::mark_ci_failed(&ports, cells.iter_mut()).await?;
                Ok(DeployBoard {
                    services: ports.catalog.list_services().await?,
                    environments: ports.catalog.list_environments().await?,
                    cells,
                    quarantines: ports.deployments.quarantines().await?,
                })
            })
            .await
        }
        .await,
    )
}

#[server(endpoint = "deployments", input = Json)]
pub async fn list_deployments(query: DeploymentQuery) -> Result<DeploymentPage, AppError> {
    reply(
        async {
            require(Role::Viewer)?;
            cached(format!("deployments:{query:?}"), || async {
                let ports = ports()?;
                let mut page = ports.deployments.list(&query).await?;
                page.ci_failed = reads::went_out_ci_failed(&ports, &page.items).await?;
                Ok(page)
            })
            .await
        }
        .await,
    )
}

#[server(endpoint = "deployment")]
pub async fn get_deployment(id: i64) -> Result<Deployment, AppError> {
    reply(
        async {
            require(Role::Viewer)?;
            cached(format!("deployment:{id}"), || async {
                ports()?.deployments.get(id).await
            })
            .await
        }
        .await,
    )
}

/// Lines after line `after`; the page asks again with the last number it has.
#[server(endpoint = "deployment_logs")]
pub async fn deployment_logs(id: i64, after: i64) -> Result<Vec<LogLine>, AppError> {
    reply(
        async {
            require(Role::Viewer)?;
            ports()?.deployments.logs(id, after, 5000).await
        }
        .await,
    )
}

#[server(endpoint = "releases")]
pub async fn list_releases(service: String) -> Result<Vec<Release>, AppError> {
    reply(
        async {
            require(Role::Viewer)?;
            ports()?.deployments.releases(&service).await
        }
        .await,
    )
}

#[server(endpoint = "deploy", input = Json)]
pub async fn start_deploy(request: DeployRequest) -> Result<Accepted, AppError> {
    reply(
        async {
            let who = Initiator::from_principal(&require(Role::Operator)?);
            ports()?.deployments.deploy(&who, request).await
        }
        .await,
    )
}

#[server(endpoint = "rollback", input = Json)]
pub async fn start_rollback(request: RollbackRequest) -> Result<Accepted, AppError> {
    reply(
        async {
            let who = Initiator::from_principal(&require(Role::Operator)?);
            ports()?.deployments.rollback(&who, request).await
        }
        .await,
    )
}

#[server(endpoint = "promote", input = Json)]
pub async fn start_promote(request: PromoteRequest) -> Result<Accepted, AppError> {
    reply(
        async {
            let who = Initiator::from_principal(&require(Role::Operator)?);
            ports()?.deployments.promote(&who, request).await
        }
        .await,
    )
}

#[server(endpoint = "deployment_cancel")]
pub async fn cancel_deployment(id: i64) -> Result<Deployment, AppError> {
    reply(
        async {
            let who = Initiator::from_principal(&require(Role::Operator)?);
            ports()?.deployments.cancel(&who, id).await
        }
        .await,
    )
}

/// What a rollback of `service` in `environment` would do, before anyone clicks.
#[server(endpoint = "rollback_options")]
pub async fn rollback_options(
    service: String,
    environment: String,
) -> Result<rollback::RollbackOptions, AppError> {
    reply(
        async {
            require(Role::Viewer)?;
            ports()?
                .deployments
                .rollback_options(&service, &environment)
                .await
        }
        .await,
    )
}

#[server(endpoint = "deployment_dismiss")]
pub async fn dismiss_deployment(id: i64) -> Result<Deployment, AppError> {
    reply(
        async {
            let who = Initiator::from_principal(&require(Role::Operator)?);
            ports()?.deployments.dismiss(&who, id).await
        }
        .await,
    )
}

#[server(endpoint = "quarantine_lift")]
pub async fn lift_quarantine(
    service: String,
    environment: String,
    version: String,
) -> Result<(), AppError> {
    reply(
        async {
            let actor = require(Role::Operator)?;
            ports()?
                .deployments
                .lift_quarantine(&actor, &service, &environment, &version)
                .await
        }
        .await,
    )
}
