//! `/services` and `/environments`: what can be deployed, and where.

use super::require;
use crate::error::{ApiJson, ApiResult};
use crate::state::AppState;
use app::catalog::{Environment, NewEnvironment, NewService, Service};
use app::model::*;
use axum::extract::{Extension, State};
use axum::http::StatusCode;
use axum::routing::get;
use axum::{Json, Router};

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/services", get(list_services).post(create_service))
        .route(
            "/environments",
            get(list_environments).post(create_environment),
        )
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
