//! Server functions of the alert pages. Reads need a signed-in viewer; acknowledge, escalate and
//! resolve need an operator.

use crate::error::AppError;
use crate::health::alert::*;
use leptos::prelude::*;
use leptos::server_fn::codec::Json;

#[cfg(feature = "ssr")]
use crate::model::Role;
#[cfg(feature = "ssr")]
use crate::ports::call::*;

#[server(endpoint = "alerts", input = Json)]
pub async fn list_alerts(query: AlertQuery) -> Result<AlertPage, AppError> {
    reply(
        async {
            require(Role::Viewer)?;
            cached(format!("alerts:{query:?}"), || async {
                ports()?.alerts.list(&query).await
            })
            .await
        }
        .await,
    )
}

#[server(endpoint = "alert")]
pub async fn get_alert(id: i64) -> Result<AlertDetail, AppError> {
    reply(
        async {
            require(Role::Viewer)?;
            cached(format!("alert:{id}"), || async {
                ports()?.alerts.get(id).await
            })
            .await
        }
        .await,
    )
}

/// Alerts still needing a person, by severity (the navigation's badge).
#[server(endpoint = "alert_counts")]
pub async fn load_alert_counts() -> Result<AlertCounts, AppError> {
    reply(
        async {
            require(Role::Viewer)?;
            cached("alert_counts".into(), || async {
                ports()?.alerts.needing_person().await
            })
            .await
        }
        .await,
    )
}

/// Who escalating alert `id` now would notify.
#[server(endpoint = "alert_escalation")]
pub async fn escalation_preview(
    id: i64,
) -> Result<crate::health::escalation::EscalationPreview, AppError> {
    reply(
        async {
            require(Role::Viewer)?;
            ports()?.alerts.escalation_preview(id).await
        }
        .await,
    )
}

#[server(endpoint = "alert_act", input = Json)]
pub async fn act_on_alert(
    id: i64,
    action: AlertAction,
    note: Option<String>,
) -> Result<Alert, AppError> {
    reply(
        async {
            let actor = require(Role::Operator)?;
            ports()?.alerts.act(&actor, id, action, note).await
        }
        .await,
    )
}

#[server(endpoint = "silences")]
pub async fn list_silences() -> Result<Vec<Silence>, AppError> {
    reply(
        async {
            require(Role::Viewer)?;
            ports()?.alerts.silences().await
        }
        .await,
    )
}

#[server(endpoint = "silence_expire")]
pub async fn expire_silence(id: i64) -> Result<Silence, AppError> {
    reply(
        async {
            let actor = require(Role::Operator)?;
            ports()?.alerts.expire_silence(&actor, id).await
        }
        .await,
    )
}

#[server(endpoint = "silence_create", input = Json)]
pub async fn create_silence(new: NewSilence) -> Result<Silence, AppError> {
    reply(
        async {
            let actor = require(Role::Operator)?;
            ports()?.alerts.create_silence(&actor, new).await
        }
        .await,
    )
}
