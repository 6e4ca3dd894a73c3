//! Server functions of the Config page: viewers read (sensitive values masked), admins change.

use crate::catalog::Environment;
use crate::error::AppError;
use crate::runtime_config::{ConfigChange, EffectiveValue, Reach};
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
    /// Which protected environments a change of each key reaches (their names are asked for).
    pub reach: Reach,
}

#[server(endpoint = "config")]
pub async fn load_config(environment: String) -> Result<ConfigView, AppError> {
    reply(
        async {
            require(Role::Viewer)?;
            let ports = ports()?;
            cached(format!("config:{environment:?}"), || async {
                ports.config.check_scope(&environment).await?;
                // Every scope's: a change for all reaches the environments without their own.
                let entries = ports.config.entries(None).await?;
                let environments = ports.catalog.list_environments().await?;
                Ok(ConfigView {
                    values: crate::runtime_config::effective(&entries, &environment),
                    reach: Reach::new(&entries, &environments),
                    environments,
                    environment,
                })
            })
            .await
        }
        .await,
    )
}

/// Sets `key` in `environment` from the form: `value` is text, or JSON when `json` is set.
/// Where that changes a protected environment's value, its name must be typed in `confirm`.
#[server(endpoint = "config_set")]
pub async fn set_config(
    environment: String,
    key: String,
    value: String,
    #[server(default)] json: bool,
    #[server(default)] sensitive: bool,
    #[server(default)] reason: String,
    #[server(default)] confirm: String,
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
            let key = key.trim();
            // A value that cannot be stored says so first, rather than asking for a name.
            crate::runtime_config::check_key(key).map_err(AppError::unprocessable)?;
            crate::runtime_config::check_value(&value).map_err(AppError::unprocessable)?;
            let ports = ports()?;
            protected::confirmed(&ports, &environment, key, &confirm).await?;
            let reason = crate::text::non_blank(Some(reason));
            ports
                .config
                .set_value(&actor, &environment, key, value, Some(sensitive), reason)
                .await
                .map(|_| ())
        }
        .await,
    )
}

/// Removes `key`'s own value in `environment`; in a protected environment (or for all, where
/// one has no value of its own) after its name typed in `confirm`.
#[server(endpoint = "config_delete")]
pub async fn delete_config(
    environment: String,
    key: String,
    #[server(default)] reason: String,
    #[server(default)] confirm: String,
) -> Result<(), AppError> {
    reply(
        async {
            let actor = require(Role::Admin)?;
            let ports = ports()?;
            protected::confirmed(&ports, &environment, &key, &confirm).await?;
            let reason = Some(reason.trim()).filter(|r| !r.is_empty());
            ports
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

/// Undoes change `change_id` of `key` in `environment`, putting back the value from before it;
/// where that changes a protected environment's value, after its name typed in `confirm`.
#[server(endpoint = "config_restore")]
pub async fn restore_config(
    environment: String,
    key: String,
    change_id: i64,
    #[server(default)] confirm: String,
) -> Result<(), AppError> {
    reply(
        async {
            let actor = require(Role::Admin)?;
            let ports = ports()?;
            protected::confirmed(&ports, &environment, &key, &confirm).await?;
            ports
                .config
                .restore_value(&actor, &environment, &key, change_id)
                .await
        }
        .await,
    )
}

#[cfg(feature = "ssr")]
mod protected {
    use crate::error::AppError;
    use crate::ports::Ports;
    use crate::runtime_config::Reach;

    /// Whether a change of `key` in `scope` may go: the scope exists (404 otherwise), and
    /// where the change reaches a protected environment, the first such one's name, in the
    /// catalog's order, was typed in `confirm` (409 otherwise). The same rule as the page's.
    pub async fn confirmed(
        ports: &Ports,
        scope: &str,
        key: &str,
        confirm: &str,
    ) -> Result<(), AppError> {
        ports.config.check_scope(scope).await?;
        let entries = ports.config.entries(None).await?;
        let environments = ports.catalog.list_environments().await?;
        match Reach::new(&entries, &environments)
            .protected_reached(scope, key)
            .first()
        {
            Some(name) if confirm.trim() != name => Err(AppError::conflict(format!(
                "{name} is protected: type its name to confirm."
            ))),
            _ => Ok(()),
        }
    }
}
