//! Server functions of the flag pages: viewers read and preview; admins switch flags on and off,
//! change a rollout, and restore a version from the history.

use crate::catalog::Environment;
use crate::error::AppError;
use crate::flags::history::HistoryPage;
use crate::flags::Flag;
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
    /// The latest [`FLAG_HISTORY_PAGE`] changes; the page reads older ones on demand.
    pub history: HistoryPage,
    pub environments: Vec<Environment>,
}

/// How many changes of a flag's history its page shows at first, and adds at each "Show older".
pub const FLAG_HISTORY_PAGE: usize = 50;
/// The most the page shows.
pub const FLAG_HISTORY_MAX: usize = 500;

/// The flags list: every flag, and the environments a switch of one may reach.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FlagListData {
    pub flags: Vec<Flag>,
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
pub async fn list_flags() -> Result<FlagListData, AppError> {
    reply(
        async {
            require(Role::Viewer)?;
            cached("flags".into(), || async {
                let ports = ports()?;
                Ok(FlagListData {
                    flags: ports.flags.list().await?,
                    environments: ports.catalog.list_environments().await?,
                })
            })
            .await
        }
        .await,
    )
}

/// The flag's page with its latest [`FLAG_HISTORY_PAGE`] changes.
#[server(endpoint = "flag")]
pub async fn load_flag_page(key: String) -> Result<FlagPageData, AppError> {
    reply(
        async {
            require(Role::Viewer)?;
            cached(format!("flag:{key:?}"), || async {
                let ports = ports()?;
                Ok(FlagPageData {
                    flag: ports.flags.get(&key).await?,
                    history: super::reads::flag_history_page(&ports, &key, None).await?,
                    environments: ports.catalog.list_environments().await?,
                })
            })
            .await
        }
        .await,
    )
}

/// The [`FLAG_HISTORY_PAGE`] changes of the flag before change `before`, for "Show older
/// changes" (404 for a flag that does not exist).
#[server(endpoint = "flag_history")]
pub async fn load_flag_history(key: String, before: i64) -> Result<HistoryPage, AppError> {
    reply(
        async {
            require(Role::Viewer)?;
            cached(format!("flag-history:{key:?}:{before}"), || async {
                let ports = ports()?;
                ports.flags.get(&key).await?;
                super::reads::flag_history_page(&ports, &key, Some(before)).await
            })
            .await
        }
        .await,
    )
}

/// Switches the flag on or off: everywhere it has no switch of its own (`environment` empty)
/// or in one environment. Where that changes what a protected environment serves, its name
/// must be typed in `confirm`.
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
            let setting = crate::flags::change::Setting::Enabled(enabled);
            protected::change(key, setting, reason, environment, confirm).await
        }
        .await,
    )
}

/// Sets the percentage rollout (`rollout`: a JSON object of variant → percent, summing to 100)
/// in the base settings (`environment` empty) or in one environment, whose other settings stay.
/// Where that changes what a protected environment serves, its name must be typed in `confirm`.
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
            let rollout: crate::flags::Rollout = serde_json::from_str(&rollout).map_err(|_| {
                AppError::unprocessable(
                    "rollout: give each variant its share in percent, like {\"on\": 20, \"off\": 80}.",
                )
            })?;
            let setting = crate::flags::change::Setting::Rollout(rollout);
            protected::change(key, setting, reason, environment, confirm).await
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
            let actor = require(Role::Admin)?;
            let ports = ports()?;
            let current = ports.flags.get(&key).await?;
            let entry = ports.flags.history_entry(&key, change_id).await?;
            let after = crate::flags::restore::restored(&current, &entry.flag);
            protected::confirmed(&ports, &current, &after, None, confirm.as_deref()).await?;
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
    use crate::flags::change::{change_body, protected_reached, with_setting, Setting};
    use crate::flags::Flag;
    use crate::model::Role;
    use crate::ports::call::*;
    use crate::ports::Ports;

    /// A switch or a rollout set from the flag's page (admins), once [`confirmed`].
    pub async fn change(
        key: String,
        setting: Setting,
        reason: String,
        environment: Option<String>,
        confirm: Option<String>,
    ) -> Result<Flag, AppError> {
        let actor = require(Role::Admin)?;
        let ports = ports()?;
        let environment = environment.filter(|e| !e.is_empty());
        let current = ports.flags.get(&key).await?;
        let after = with_setting(&current, environment.as_deref(), &setting);
        // A rollout that cannot be stored says so first, rather than asking for a name.
        after.validate().map_err(AppError::unprocessable)?;
        let named = environment.as_deref();
        confirmed(&ports, &current, &after, named, confirm.as_deref()).await?;
        let body = change_body(&after, named, &setting);
        let reason = crate::text::non_blank(Some(&reason));
        ports
            .flags
            .change(&actor, &key, body, reason.as_deref())
            .await
    }

    /// Whether `current` may become `after`: the environment the change names exists (404
    /// otherwise), and where it serves a protected environment differently, the first such
    /// one's name, in the catalog's order, was typed in `confirm` (409 otherwise).
    pub async fn confirmed(
        ports: &Ports,
        current: &Flag,
        after: &Flag,
        named: Option<&str>,
        confirm: Option<&str>,
    ) -> Result<(), AppError> {
        let environments = ports.catalog.list_environments().await?;
        if let Some(name) = named.filter(|n| !environments.iter().any(|e| e.name == *n)) {
            return Err(AppError::not_found(format!("Environment '{name}'")));
        }
        match protected_reached(current, after, &environments).first() {
            Some(name) if confirm.map(str::trim) != Some(name) => Err(AppError::conflict(format!(
                "{name} is protected: type its name to confirm."
            ))),
            _ => Ok(()),
        }
    }
}
