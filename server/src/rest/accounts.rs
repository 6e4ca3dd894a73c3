//! `/me`, `/users` and `/tokens`: who is calling, the users (admins change them) and API tokens.

use super::require;
use crate::error::{ApiJson, ApiPath, ApiResult};
use crate::state::AppState;
use app::error::AppError;
use app::model::*;
use app::ports::AccountsPort;
use axum::extract::{Extension, State};
use axum::http::StatusCode;
use axum::routing::{delete, get, patch};
use axum::{Json, Router};
use serde::Deserialize;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/me", get(me))
        .route("/users", get(list_users).post(create_user))
        .route("/users/{username}", patch(change_user))
        .route("/tokens", get(list_tokens).post(create_token))
        .route("/tokens/{id}", delete(revoke_token))
}

async fn me(Extension(caller): Extension<Caller>) -> ApiResult<Json<Me>> {
    let principal = require(&caller, Role::Viewer)?;
    Ok(Json(Me::from(&principal)))
}

async fn list_users(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
) -> ApiResult<Json<Vec<UserSummary>>> {
    require(&caller, Role::Viewer)?;
    Ok(Json(state.accounts.list_users().await?))
}

/// `PATCH /users/{username}` `{disabled?, role?, password?}` (admin).
async fn change_user(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    ApiPath(username): ApiPath<String>,
    ApiJson(change): ApiJson<UserChange>,
) -> ApiResult<Json<UserSummary>> {
    let actor = require(&caller, Role::Admin)?;
    Ok(Json(
        state
            .accounts
            .change_user(&actor.actor(), &username, change)
            .await?,
    ))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct CreateUser {
    username: String,
    role: Role,
    password: String,
}

async fn create_user(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    ApiJson(body): ApiJson<CreateUser>,
) -> ApiResult<(StatusCode, Json<UserSummary>)> {
    let actor = require(&caller, Role::Admin)?;
    let user = state
        .accounts
        .create_user(&actor, body.username.trim(), body.role, &body.password)
        .await?;
    Ok((StatusCode::CREATED, Json(user)))
}

async fn list_tokens(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
) -> ApiResult<Json<Vec<TokenSummary>>> {
    require(&caller, Role::Admin)?;
    Ok(Json(state.accounts.list_tokens().await?))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct CreateToken {
    name: String,
    /// Optional with scopes: then the least role they need.
    #[serde(default)]
    role: Option<Role>,
    #[serde(default)]
    scopes: Vec<app::scopes::Scope>,
    /// The environment whose flag settings it evaluates when the context names none.
    #[serde(default)]
    environment: Option<String>,
}

async fn create_token(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    ApiJson(body): ApiJson<CreateToken>,
) -> ApiResult<(StatusCode, Json<NewToken>)> {
    let actor = require(&caller, Role::Admin)?;
    let role = token_role(body.role, &body.scopes).map_err(AppError::unprocessable)?;
    let token = state
        .accounts
        .create_token(
            &actor,
            body.name.trim(),
            role,
            TokenLimits {
                scopes: body.scopes,
                environment: body.environment,
            },
        )
        .await?;
    Ok((StatusCode::CREATED, Json(token)))
}

/// A token's role: the one given, else the least its scopes need.
pub fn token_role(role: Option<Role>, scopes: &[app::scopes::Scope]) -> Result<Role, String> {
    match (role, scopes.iter().map(|s| s.least_role()).max()) {
        (Some(role), _) => Ok(role),
        (None, Some(least)) => Ok(least),
        (None, None) => {
            Err("Give the token a role (viewer, operator, admin) or scopes to limit it to.".into())
        }
    }
}

async fn revoke_token(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    ApiPath(id): ApiPath<i64>,
) -> ApiResult<StatusCode> {
    let actor = require(&caller, Role::Admin)?;
    state.accounts.revoke_token(&actor, id).await?;
    Ok(StatusCode::NO_CONTENT)
}
