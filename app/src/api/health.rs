//! Server functions of the health grid and the SLO pages (viewers).

use crate::error::AppError;
use crate::health::component::{Component, ComponentDetail};
use crate::health::objective::{Slo, SloDetail};
use leptos::prelude::*;

#[cfg(feature = "ssr")]
use crate::model::Role;
#[cfg(feature = "ssr")]
use crate::ports::call::*;

#[server(endpoint = "components")]
pub async fn list_components() -> Result<Vec<Component>, AppError> {
    reply(
        async {
            let who = require(Role::Viewer)?;
            let list = ports()?.components.list().await?;
            Ok(list.into_iter().map(|c| c.for_role(who.role)).collect())
        }
        .await,
    )
}

#[server(endpoint = "component")]
pub async fn get_component(id: i64) -> Result<ComponentDetail, AppError> {
    reply(
        async {
            let who = require(Role::Viewer)?;
            let mut detail = ports()?.components.get(id).await?;
            detail.component = detail.component.for_role(who.role);
            Ok(detail)
        }
        .await,
    )
}

#[server(endpoint = "slos")]
pub async fn list_slos() -> Result<Vec<Slo>, AppError> {
    reply(
        async {
            require(Role::Viewer)?;
            ports()?.slos.list().await
        }
        .await,
    )
}

#[server(endpoint = "slo")]
pub async fn get_slo(id: i64) -> Result<SloDetail, AppError> {
    reply(
        async {
            require(Role::Viewer)?;
            ports()?.slos.get(id).await
        }
        .await,
    )
}
