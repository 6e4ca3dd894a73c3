//! REST under `/api/v1` for scripts, CI systems and the CLI. Handlers check the caller's role and
//! call the same implementations as the server functions.

use crate::error::{ApiJson, ApiPath, ApiQuery, ApiResult};
use crate::state::AppState;
use app::catalog::{Environment, NewEnvironment, NewService, Service};
use app::error::AppError;
use app::model::*;
use app::ports::{AccountsPort, AuditPort, CatalogPort};
use axum::extract::{Extension, State};
use axum::http::StatusCode;
use axum::routing::{delete, get, patch};
use axum::{Json, Router};
use futures_util::TryStreamExt;
use serde::Deserialize;

mod alerts;
mod builds;
mod config;
mod deployments;
mod flags;
mod health;
mod maintenance;
mod system;

pub use alerts::v2_router;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/me", get(me))
        .route("/users", get(list_users).post(create_user))
        .route("/users/{username}", patch(change_user))
        .route("/tokens", get(list_tokens).post(create_token))
        .route("/tokens/{id}", delete(revoke_token))
        .route("/audit", get(list_audit))
        .route("/audit/export", get(export_audit))
        .route("/services", get(list_services).post(create_service))
        .route(
            "/environments",
            get(list_environments).post(create_environment),
        )
        .merge(deployments::router())
        .merge(flags::router())
        .merge(builds::router())
        .merge(config::router())
        .merge(maintenance::router())
        .merge(system::router())
        .merge(alerts::router())
        .merge(health::router())
        .merge(crate::webhooks::router())
}

/// A page size from the query: `default` when left out, else 1 to 500 (400 otherwise, rather
/// than quietly answering another size than the one asked for).
pub(crate) fn page_limit(limit: Option<i64>, default: i64) -> Result<i64, AppError> {
    match limit {
        None => Ok(default),
        Some(n) if (1..=500).contains(&n) => Ok(n),
        Some(n) => Err(AppError::bad_request(format!(
            "limit must be from 1 to 500, not {n}"
        ))),
    }
}

pub(crate) fn require(caller: &Caller, role: Role) -> Result<Principal, AppError> {
    let principal = caller.0.clone().ok_or_else(AppError::unauthorized)?;
    if principal.role.allows(role) {
        Ok(principal)
    } else {
        Err(AppError::forbidden(role))
    }
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

async fn list_audit(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    ApiQuery(query): ApiQuery<AuditQuery>,
) -> ApiResult<Json<AuditPage>> {
    require(&caller, Role::Viewer)?;
    Ok(Json(state.audit.list(&query).await?))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ExportQuery {
    #[serde(default)]
    format: Option<String>,
    #[serde(default)]
    action: Option<String>,
    #[serde(default)]
    actor: Option<String>,
}

/// The whole (filtered) trail, oldest first, as a download.
/// `GET /audit/export?format=csv|json&action&actor`: the trail, oldest first, streamed.
async fn export_audit(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    ApiQuery(query): ApiQuery<ExportQuery>,
) -> ApiResult<axum::response::Response> {
    use axum::response::IntoResponse;
    require(&caller, Role::Viewer)?;
    let csv = match query.format.as_deref().unwrap_or("json") {
        "csv" => true,
        "json" => false,
        other => {
            return Err(AppError::bad_request(format!(
                "format must be csv or json (got '{other}')"
            ))
            .into())
        }
    };
    let (content_type, extension) = if csv {
        ("text/csv; charset=utf-8", "csv")
    } else {
        ("application/json", "json")
    };
    let chunks = crate::audit::export(state.db.pool.clone(), csv, query.action, query.actor)
        .map_ok(axum::body::Bytes::from)
        .map_err(|e| {
            // The status line went out already: the client sees a cut-off download.
            tracing::error!(error = %e, "exporting the audit trail");
            std::io::Error::other("the audit export failed")
        });
    let disposition = format!("attachment; filename=\"flightdeck-audit.{extension}\"");
    Ok((
        [
            (axum::http::header::CONTENT_TYPE, content_type.to_string()),
            (axum::http::header::CONTENT_DISPOSITION, disposition),
        ],
        axum::body::Body::from_stream(chunks),
    )
        .into_response())
}

async fn list_services(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
) -> ApiResult<Json<Vec<Service>>> {
    require(&caller, Role::Viewer)?;
    Ok(Json(state.catalog.list_services().await?))
}

/// Operators register the services they deploy.
async fn create_service(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    ApiJson(body): ApiJson<NewService>,
) -> ApiResult<(StatusCode, Json<Service>)> {
    let actor = require(&caller, Role::Operator)?;
    Ok((
        StatusCode::CREATED,
        Json(state.catalog.create_service(&actor, body).await?),
    ))
}

async fn list_environments(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
) -> ApiResult<Json<Vec<Environment>>> {
    require(&caller, Role::Viewer)?;
    Ok(Json(state.catalog.list_environments().await?))
}

/// Environments shape every pipeline (and which ones are protected), so only admins add them.
async fn create_environment(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    ApiJson(body): ApiJson<NewEnvironment>,
) -> ApiResult<(StatusCode, Json<Environment>)> {
    let actor = require(&caller, Role::Admin)?;
    Ok((
        StatusCode::CREATED,
        Json(state.catalog.create_environment(&actor, body).await?),
    ))
}
