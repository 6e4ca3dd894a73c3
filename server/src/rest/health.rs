//! `/api/v1` for components and SLOs: viewers read, admins define.

use super::require;
use crate::error::{ApiJson, ApiPath, ApiResult};
use crate::state::AppState;
use app::health::component::{Component, ComponentDetail, NewComponent};
use app::health::objective::{NewSlo, Slo, SloDetail};
use app::model::{Caller, Role};
use axum::extract::{Extension, State};
use axum::http::StatusCode;
use axum::routing::get;
use axum::{Json, Router};

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/components", get(components).post(create_component))
        .route("/components/{id}", get(component))
        .route("/slos", get(slos).post(create_slo))
        .route("/slos/{id}", get(slo))
}

async fn components(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
) -> ApiResult<Json<Vec<Component>>> {
    let who = require(&caller, Role::Viewer)?;
    let list = state.components.list().await?;
    Ok(Json(
        list.into_iter().map(|c| c.for_role(who.role)).collect(),
    ))
}

async fn component(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    ApiPath(id): ApiPath<i64>,
) -> ApiResult<Json<ComponentDetail>> {
    let who = require(&caller, Role::Viewer)?;
    let mut detail = state.components.get(id).await?;
    detail.component = detail.component.for_role(who.role);
    Ok(Json(detail))
}

async fn create_component(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    ApiJson(body): ApiJson<NewComponent>,
) -> ApiResult<(StatusCode, Json<Component>)> {
    let actor = require(&caller, Role::Admin)?;
    Ok((
        StatusCode::CREATED,
        Json(state.components.create(&actor, body).await?),
    ))
}

async fn slos(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
) -> ApiResult<Json<Vec<Slo>>> {
    require(&caller, Role::Viewer)?;
    Ok(Json(state.slos.list().await?))
}

async fn slo(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    ApiPath(id): ApiPath<i64>,
) -> ApiResult<Json<SloDetail>> {
    require(&caller, Role::Viewer)?;
    Ok(Json(state.slos.get(id).await?))
}

async fn create_slo(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    ApiJson(body): ApiJson<NewSlo>,
) -> ApiResult<(StatusCode, Json<Slo>)> {
    let actor = require(&caller, Role::Admin)?;
    Ok((
        StatusCode::CREATED,
        Json(state.slos.create(&actor, body).await?),
    ))
}
