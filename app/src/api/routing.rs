//! Server functions of the alert-routing settings: notification channels and escalation policies.
//! Everyone signed in may read them (targets masked); adding or removing one needs an admin.

use crate::error::AppError;
use crate::health::escalation::*;
use leptos::prelude::*;

#[cfg(feature = "ssr")]
use crate::health::routing_form::parse_policy;
#[cfg(feature = "ssr")]
use crate::model::Role;
#[cfg(feature = "ssr")]
use crate::ports::call::*;

#[server(endpoint = "channels")]
pub async fn list_channels() -> Result<Vec<Channel>, AppError> {
    reply(
        async {
            require(Role::Viewer)?;
            ports()?.alerts.channels().await
        }
        .await,
    )
}

#[server(endpoint = "channel_create")]
pub async fn create_channel(
    name: String,
    kind: ChannelKind,
    target: String,
) -> Result<Channel, AppError> {
    reply(
        async {
            let actor = require(Role::Admin)?;
            let new = NewChannel { name, kind, target };
            ports()?.alerts.create_channel(&actor, new).await
        }
        .await,
    )
}

#[server(endpoint = "policies")]
pub async fn list_policies() -> Result<Vec<EscalationPolicy>, AppError> {
    reply(
        async {
            require(Role::Viewer)?;
            ports()?.alerts.policies().await
        }
        .await,
    )
}

/// `matchers` and `steps` are the form's text fields (see `health::routing_form`).
#[server(endpoint = "policy_create")]
pub async fn create_policy(
    name: String,
    rank: String,
    matchers: String,
    steps: String,
) -> Result<EscalationPolicy, AppError> {
    reply(
        async {
            let actor = require(Role::Admin)?;
            let new =
                parse_policy(name, &rank, &matchers, &steps).map_err(AppError::unprocessable)?;
            ports()?.alerts.create_policy(&actor, new).await
        }
        .await,
    )
}

/// The same fields as [`create_policy`], for policy `id`.
#[server(endpoint = "policy_update")]
pub async fn update_policy(
    id: i64,
    name: String,
    rank: String,
    matchers: String,
    steps: String,
) -> Result<EscalationPolicy, AppError> {
    reply(
        async {
            let actor = require(Role::Admin)?;
            let new =
                parse_policy(name, &rank, &matchers, &steps).map_err(AppError::unprocessable)?;
            ports()?.alerts.update_policy(&actor, id, new).await
        }
        .await,
    )
}

/// The same fields as [`create_channel`], for channel `id`; an empty `target` keeps the current one.
#[server(endpoint = "channel_update")]
pub async fn update_channel(
    id: i64,
    name: String,
    kind: ChannelKind,
    target: String,
) -> Result<Channel, AppError> {
    reply(
        async {
            let actor = require(Role::Admin)?;
            let new = NewChannel { name, kind, target };
            ports()?.alerts.update_channel(&actor, id, new).await
        }
        .await,
    )
}

#[server(endpoint = "channel_remove")]
pub async fn remove_channel(id: i64) -> Result<(), AppError> {
    reply(
        async {
            let actor = require(Role::Admin)?;
            ports()?.alerts.remove_channel(&actor, id).await
        }
        .await,
    )
}

#[server(endpoint = "policy_remove")]
pub async fn remove_policy(id: i64) -> Result<(), AppError> {
    reply(
        async {
            let actor = require(Role::Admin)?;
            ports()?.alerts.remove_policy(&actor, id).await
        }
        .await,
    )
}
