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
            let list = cached("components".into(), || async {
                ports()?.components.list().await
            })
            .await?;
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
            let mut detail = cached(format!("component:{id}"), || async {
                ports()?.components.get(id).await
            })
            .await?;
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
            cached("slos".into(), || async { ports()?.slos.list().await }).await
        }
        .await,
    )
}

#[server(endpoint = "slo")]
pub async fn get_slo(id: i64) -> Result<SloDetail, AppError> {
    reply(
        async {
            require(Role::Viewer)?;
            cached(format!("slo:{id}"), || async {
                ports()?.slos.get(id).await
            })
            .await
        }
        .await,
    )
}
