//! Server functions of the flag pages: viewers read and preview; admins switch flags on and off,
//! change a rollout, and restore a version from the history.

use crate::catalog::Environment;
use crate::error::AppError;
use crate::flags::{Flag, FlagChange};
use leptos::prelude::*;
use serde::{Deserialize, Serialize};

#[cfg(feature = "ssr")]
use crate::model::Role;
#[cfg(feature = "ssr")]
use crate::ports::call::*;

/// A flag's page: the flag, its latest changes and the environments it may differ in.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FlagPageData {
    pub flag: Flag,
    pub history: Vec<FlagChange>,
    pub environments: Vec<Environment>,
}

/// What the preview answers: the variant, its value as JSON text, the reason and why in words.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FlagPreview {
    pub variant: String,
    pub value: String,
    pub reason: String,
    pub explanation: String,
}

#[server(endpoint = "flags")]
pub async fn list_flags() -> Result<Vec<Flag>, AppError> {
    reply(
        async {
            require(Role::Viewer)?;
            cached("flags".into(), || async { ports()?.flags.list().await }).await
        }
        .await,
    )
}

#[server(endpoint = "flag")]
pub async fn load_flag_page(key: String) -> Result<FlagPageData, AppError> {
    reply(
        async {
            require(Role::Viewer)?;
            cached(format!("flag:{key:?}"), || async {
                let ports = ports()?;
                Ok(FlagPageData {
                    flag: ports.flags.get(&key).await?,
                    history: ports.flags.history(&key, 50).await?,
                    environments: ports.catalog.list_environments().await?,
                })
            })
            .await
        }
        .await,
    )
}

/// Switches the flag on or off: everywhere (`environment` empty) or in one environment. A
/// protected environment needs its name typed in `confirm`.
#[server(endpoint = "flag_toggle")]
pub async fn toggle_flag(
    key: String,
    enabled: bool,
    reason: String,
    #[server(default)] environment: Option<String>,
    #[server(default)] confirm: Option<String>,
) -> Result<Flag, AppError> {
    reply(
        async {
            let actor = require(Role::Admin)?;
            let ports = ports()?;
            let environment = environment.filter(|e| !e.is_empty());
            let change = match &environment {
                None => serde_json::json!({ "enabled": enabled }),
                Some(name) => {
                    protected::confirmed(&ports, name, confirm.as_deref()).await?;
                    let mut flag = ports.flags.get(&key).await?;
                    flag.environments.entry(name.clone()).or_default().enabled = Some(enabled);
                    serde_json::json!({ "environments": flag.environments })
                }
            };
            let reason = crate::text::non_blank(Some(&reason));
            ports
                .flags
                .change(&actor, &key, change, reason.as_deref())
                .await
        }
        .await,
    )
}

/// Sets the percentage rollout (`rollout`: a JSON object of variant → percent, summing to 100)
/// in the base settings (`environment` empty) or in one environment, whose other settings stay.
/// A protected environment needs its name typed in `confirm`.
#[server(endpoint = "flag_rollout")]
pub async fn set_flag_rollout(
    key: String,
    rollout: String,
    reason: String,
    #[server(default)] environment: Option<String>,
    #[server(default)] confirm: Option<String>,
) -> Result<Flag, AppError> {
    reply(
        async {
            use crate::flags::rollout::rollout_change;
            let actor = require(Role::Admin)?;
            let ports = ports()?;
            let rollout: crate::flags::Rollout = serde_json::from_str(&rollout).map_err(|_| {
                AppError::unprocessable(
                    "rollout: give each variant its share in percent, like {\"on\": 20, \"off\": 80}.",
                )
            })?;
            let environment = environment.filter(|e| !e.is_empty());
            if let Some(name) = &environment {
                protected::confirmed(&ports, name, confirm.as_deref()).await?;
            }
            let flag = ports.flags.get(&key).await?;
            let change = rollout_change(&flag, environment.as_deref(), rollout);
            let reason = crate::text::non_blank(Some(&reason));
            ports.flags.change(&actor, &key, change, reason.as_deref()).await
        }
        .await,
    )
}

/// Puts back the settings history entry `change_id` left, as long as the flag is still at
/// `version` (the one the page showed). When that changes what a protected environment serves,
/// its name must be typed in `confirm` (the first such environment, in the catalog's order).
#[server(endpoint = "flag_restore")]
pub async fn restore_flag(
    key: String,
    change_id: i64,
    version: i64,
    reason: String,
    #[server(default)] confirm: Option<String>,
) -> Result<Flag, AppError> {
    reply(
        async {
            use crate::flags::restore::{protected_reached, restored};
            let actor = require(Role::Admin)?;
            let ports = ports()?;
            let current = ports.flags.get(&key).await?;
            let entry = ports.flags.history_entry(&key, change_id).await?;
            let environments = ports.catalog.list_environments().await?;
            let after = restored(&current, &entry.flag);
            if let Some(name) = protected_reached(&current, &after, &environments).first() {
                protected::confirmed(&ports, name, confirm.as_deref()).await?;
            }
            let reason = crate::text::non_blank(Some(&reason));
            ports
                .flags
                .restore(&actor, &key, change_id, Some(version), reason.as_deref())
                .await
        }
        .await,
    )
}

/// What a user would get from the flag, and why.
#[server(endpoint = "flag_preview")]
pub async fn preview_flag(
    key: String,
    targeting_key: String,
    #[server(default)] role: String,
    #[server(default)] attributes: String,
    #[server(default)] environment: String,
) -> Result<FlagPreview, AppError> {
    reply(
        async {
            use crate::flags::evaluate::{evaluate, Context};
            require(Role::Viewer)?;
            let flag = ports()?.flags.get(&key).await?;
            let mut context = serde_json::Map::new();
            if !attributes.trim().is_empty() {
                match serde_json::from_str(&attributes) {
                    Ok(serde_json::Value::Object(o)) => context = o,
                    _ => {
                        return Err(AppError::unprocessable(
                            "Attributes must be a JSON object, like {\"country\": \"NL\", \"plan\": \"pro\"}.",
                        ))
                    }
                }
            }
            if !targeting_key.trim().is_empty() {
                context.insert("targetingKey".into(), targeting_key.trim().into());
            }
            if !role.trim().is_empty() {
                context.insert("role".into(), role.trim().into());
            }
            let context = Context::from_json(Some(&serde_json::Value::Object(context)))
                .map_err(|e| AppError::unprocessable(e.details().to_string()))?;
            let environment = Some(environment.trim())
                .filter(|e| !e.is_empty())
                .or(context.environment());
            let e = evaluate(&flag, &context, environment)
                .map_err(|e| AppError::unprocessable(e.details().to_string()))?;
            Ok(FlagPreview {
                explanation: e.explain(&flag),
                value: e.value.to_string(),
                reason: e.reason.as_str().to_string(),
                variant: e.variant,
            })
        }
        .await,
    )
}

#[cfg(feature = "ssr")]
mod protected {
    use crate::error::AppError;
    use crate::ports::Ports;

    /// Whether a change may go to environment `name`: it exists, and when it is protected its
    /// name was typed out in `confirm` (409 otherwise, nothing changed).
    pub async fn confirmed(
        ports: &Ports,
        name: &str,
        confirm: Option<&str>,
    ) -> Result<(), AppError> {
        let environments = ports.catalog.list_environments().await?;
        let env = environments
            .iter()
            .find(|e| e.name == name)
            .ok_or_else(|| AppError::not_found(format!("Environment '{name}'")))?;
        if env.protected && confirm.map(str::trim) != Some(name) {
            return Err(AppError::conflict(format!(
                "{name} is protected: type its name to confirm."
            )));
        }
        Ok(())
    }
}
