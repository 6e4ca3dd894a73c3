//! Server functions of the Config page: viewers read (sensitive values masked), admins change.

use crate::catalog::Environment;
use crate::error::AppError;
use crate::runtime_config::{ConfigChange, EffectiveValue};
use leptos::prelude::*;
use serde::{Deserialize, Serialize};

#[cfg(feature = "ssr")]
use crate::model::Role;
#[cfg(feature = "ssr")]
use crate::ports::call::*;

/// The values in force in one scope, and the scopes there are.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ConfigView {
    pub environment: String,
    pub environments: Vec<Environment>,
    pub values: Vec<EffectiveValue>,
}

#[server(endpoint = "config")]
pub async fn load_config(environment: String) -> Result<ConfigView, AppError> {
    reply(
        async {
            require(Role::Viewer)?;
            let ports = ports()?;
            cached(format!("config:{environment:?}"), || async {
                ports.config.check_scope(&environment).await?;
                let entries = ports.config.entries(Some(&environment)).await?;
                Ok(ConfigView {
                    values: crate::runtime_config::effective(&entries, &environment),
                    environments: ports.catalog.list_environments().await?,
                    environment,
                })
            })
            .await
        }
        .await,
    )
}

/// Sets `key` in `environment` from the form: `value` is text, or JSON when `json` is set.
#[server(endpoint = "config_set")]
pub async fn set_config(
    environment: String,
    key: String,
    value: String,
    #[server(default)] json: bool,
    #[server(default)] sensitive: bool,
    #[server(default)] reason: String,
) -> Result<(), AppError> {
    reply(
        async {
            let actor = require(Role::Admin)?;
            let value = if json {
                serde_json::from_str(&value).map_err(|e| {
                    AppError::unprocessable(format!(
                        "value: not valid JSON ({e}); untick JSON to store it as text"
                    ))
                })?
            } else {
                serde_json::Value::String(value)
            };
            let reason = crate::text::non_blank(Some(reason));
            ports()?
                .config
                .set_value(
                    &actor,
                    &environment,
                    key.trim(),
                    value,
                    Some(sensitive),
                    reason,
                )
                .await
                .map(|_| ())
        }
        .await,
    )
}

#[server(endpoint = "config_delete")]
pub async fn delete_config(
    environment: String,
    key: String,
    #[server(default)] reason: String,
) -> Result<(), AppError> {
    reply(
        async {
            let actor = require(Role::Admin)?;
            let reason = Some(reason.trim()).filter(|r| !r.is_empty());
            ports()?
                .config
                .delete_value(&actor, &environment, &key, reason)
                .await
        }
        .await,
    )
}

#[server(endpoint = "config_history")]
pub async fn load_config_history(
    environment: String,
    key: String,
) -> Result<Vec<ConfigChange>, AppError> {
    reply(
        async {
            require(Role::Viewer)?;
            ports()?.config.value_history(&key, &environment).await
        }
        .await,
    )
}

#[server(endpoint = "config_restore")]
pub async fn restore_config(
    environment: String,
    key: String,
    change_id: i64,
) -> Result<(), AppError> {
    reply(
        async {
            let actor = require(Role::Admin)?;
            ports()?
                .config
                .restore_value(&actor, &environment, &key, change_id)
                .await
        }
        .await,
    )
}
