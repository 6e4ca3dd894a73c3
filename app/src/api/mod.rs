//! Server functions: each reads its port from context, checks the caller's role, calls, and maps
//! the error (see `ports::call`). Stable endpoint names keep them scriptable and easy to find in
//! logs.

use crate::error::AppError;
use crate::model::*;
use leptos::prelude::*;

#[cfg(feature = "ssr")]
use crate::ports::call::*;

/// The signed-in caller, or `None`. Never an error for a missing session: pages use it to decide
/// whether to show the sign-in form.
#[server(endpoint = "me")]
pub async fn current_user() -> Result<Option<Me>, AppError> {
    Ok(caller().as_ref().map(Me::from))
}

#[server(endpoint = "sign_in")]
pub async fn sign_in(username: String, password: String) -> Result<Me, AppError> {
    reply(
        async {
            let principal = ports()?
                .accounts
                .sign_in(&request()?, username.trim(), &password)
                .await?;
            Ok(Me::from(&principal))
        }
        .await,
    )
}

#[server(endpoint = "sign_out")]
pub async fn sign_out() -> Result<(), AppError> {
    reply(async { ports()?.accounts.sign_out(&request()?).await }.await)
}

// JSON input: a struct whose fields are all optional encodes to nothing as a form.
#[server(endpoint = "audit", input = leptos::server_fn::codec::Json)]
pub async fn list_audit(query: AuditQuery) -> Result<AuditPage, AppError> {
    reply(
        async {
            require(Role::Viewer)?;
            cached(format!("audit:{query:?}"), || async {
                ports()?.audit.list(&query).await
            })
            .await
        }
        .await,
    )
}

#[server(endpoint = "users")]
pub async fn list_users() -> Result<Vec<UserSummary>, AppError> {
    reply(
        async {
            require(Role::Viewer)?;
            ports()?.accounts.list_users().await
        }
        .await,
    )
}

#[server(endpoint = "users_create")]
pub async fn create_user(
    username: String,
    role: Role,
    password: String,
) -> Result<UserSummary, AppError> {
    reply(
        async {
            let actor = require(Role::Admin)?;
            ports()?
                .accounts
                .create_user(&actor, username.trim(), role, &password)
                .await
        }
        .await,
    )
}

#[server(endpoint = "tokens")]
pub async fn list_tokens() -> Result<Vec<TokenSummary>, AppError> {
    reply(
        async {
            require(Role::Admin)?;
            ports()?.accounts.list_tokens().await
        }
        .await,
    )
}

/// Settings: an admin disables, enables or changes the role of an account.
#[server(endpoint = "user_update", input = leptos::server_fn::codec::Json)]
pub async fn update_user(username: String, change: UserChange) -> Result<UserSummary, AppError> {
    reply(
        async {
            let actor = require(Role::Admin)?;
            ports()?
                .accounts
                .update_user(&actor, username.trim(), change)
                .await
        }
        .await,
    )
}

/// `scope`, when given, limits the token to it (see `scopes`); `environment`, when given, is the
/// one whose flag settings it evaluates when a context names none.
#[server(endpoint = "tokens_create")]
pub async fn create_token(
    name: String,
    role: Role,
    #[server(default)] scope: Option<String>,
    #[server(default)] environment: Option<String>,
) -> Result<NewToken, AppError> {
    reply(
        async {
            let actor = require(Role::Admin)?;
            let scopes = crate::scopes::Scope::parse_list(scope.as_deref())
                .map_err(AppError::unprocessable)?;
            ports()?
                .accounts
                .create_token(
                    &actor,
                    name.trim(),
                    role,
                    TokenLimits {
                        scopes,
                        environment: environment
                            .map(|e| e.trim().to_string())
                            .filter(|e| !e.is_empty()),
                    },
                )
                .await
        }
        .await,
    )
}

#[server(endpoint = "tokens_revoke")]
pub async fn revoke_token(id: i64) -> Result<(), AppError> {
    reply(
        async {
            let actor = require(Role::Admin)?;
            ports()?.accounts.revoke_token(&actor, id).await
        }
        .await,
    )
}

mod alerts;
mod builds;
pub mod codec;
mod config;
mod dashboard;
mod deployments;
mod flags;
mod health;
#[cfg(feature = "ssr")]
mod reads;
mod routing;
mod services;
mod system;
pub use alerts::*;
pub use builds::*;
pub use config::*;
pub use dashboard::*;
pub use deployments::*;
pub use flags::*;
pub use health::*;
pub use routing::*;
pub use services::*;
pub use system::*;

/// Where each CI/CD webhook secret comes from (never the secret). Admins only.
#[server(endpoint = "webhook_secrets")]
pub async fn webhook_secrets() -> Result<Vec<crate::webhook_settings::WebhookSecretStatus>, AppError>
{
    reply(
        async {
            require(Role::Admin)?;
            ports()?.settings.webhook_secrets().await
        }
        .await,
    )
}

/// The latest CI/CD webhook deliveries and what applying them did. Admins only.
#[server(endpoint = "webhook_deliveries")]
pub async fn webhook_deliveries() -> Result<Vec<crate::webhook_settings::WebhookDelivery>, AppError>
{
    reply(
        async {
            require(Role::Admin)?;
            ports()?.settings.webhook_deliveries().await
        }
        .await,
    )
}

#[server(endpoint = "webhook_secret_set")]
pub async fn set_webhook_secret(source: String, secret: String) -> Result<(), AppError> {
    reply(
        async {
            let actor = require(Role::Admin)?;
            ports()?
                .settings
                .set_webhook_secret(&actor, source.trim(), &secret)
                .await
        }
        .await,
    )
}
