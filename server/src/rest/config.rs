//! `/api/v1/config`: runtime configuration. Viewers read (sensitive values masked), admins change.

use super::require;
use crate::error::{ApiJson, ApiPath, ApiQuery, ApiResult};
use crate::runtime_config::NewValue;
use crate::state::AppState;
use app::error::AppError;
use app::model::{Caller, Role};
use app::runtime_config::{effective, ConfigChange, ConfigEntry};
use axum::extract::{Extension, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post, put};
use axum::{Json, Router};
use serde::Deserialize;
use serde_json::Value;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/config", get(list))
        .route("/config/{environment}/{key}", put(set).delete(remove))
        .route("/config/{environment}/{key}/history", get(history))
        .route("/config/{environment}/{key}/restore", post(restore))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ListQuery {
    #[serde(default)]
    environment: Option<String>,
}

/// With `environment`: the values in force there, each with its `source` (the environment or
/// `all`). Without: every stored value with the scope it is set for.
async fn list(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    ApiQuery(query): ApiQuery<ListQuery>,
) -> ApiResult<Response> {
    require(&caller, Role::Viewer)?;
    match query.environment.filter(|e| !e.is_empty()) {
        Some(environment) => {
            state.config_values.check_scope(&environment).await?;
            let entries = state.config_values.entries(Some(&environment)).await?;
            Ok(Json(effective(&entries, &environment)).into_response())
        }
        None => Ok(Json(state.config_values.entries(None).await?).into_response()),
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct SetBody {
    #[serde(default)]
    value: Option<Value>,
    #[serde(default)]
    sensitive: Option<bool>,
    #[serde(default)]
    reason: Option<String>,
}

/// `PUT /config/{environment}/{key}` `{value, sensitive?, reason?}`: 201 when the key is new
/// there, else 200; `environment` is `all` or an environment's name.
async fn set(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    ApiPath((environment, key)): ApiPath<(String, String)>,
    ApiJson(body): ApiJson<SetBody>,
) -> ApiResult<(StatusCode, Json<ConfigEntry>)> {
    let actor = require(&caller, Role::Admin)?;
    let value = body.value.filter(|v| !v.is_null()).ok_or_else(|| {
        AppError::unprocessable("value: give the value to set (DELETE removes a key)")
    })?;
    let new = NewValue {
        value,
        sensitive: body.sensitive,
        reason: body.reason.filter(|r| !r.trim().is_empty()),
    };
    let (entry, created) = state
        .config_values
        .set(&actor, &environment, &key, new)
        .await?;
    let status = if created {
        StatusCode::CREATED
    } else {
        StatusCode::OK
    };
    Ok((status, Json(entry)))
}

async fn remove(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    ApiPath((environment, key)): ApiPath<(String, String)>,
) -> ApiResult<StatusCode> {
    let actor = require(&caller, Role::Admin)?;
    state
        .config_values
        .delete(&actor, &environment, &key, None)
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct HistoryQuery {
    #[serde(default)]
    limit: Option<i64>,
}

async fn history(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    ApiPath((environment, key)): ApiPath<(String, String)>,
    ApiQuery(query): ApiQuery<HistoryQuery>,
) -> ApiResult<Json<Vec<ConfigChange>>> {
    require(&caller, Role::Viewer)?;
    state.config_values.check_scope(&environment).await?;
    let limit = super::page_limit(query.limit, 50)?;
    Ok(Json(
        state
            .config_values
            .history(&key, Some(&environment), limit)
            .await?,
    ))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RestoreBody {
    change_id: i64,
}

/// Undoes one change: the key gets the value it had before it (or is removed if it had none).
async fn restore(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    ApiPath((environment, key)): ApiPath<(String, String)>,
    ApiJson(body): ApiJson<RestoreBody>,
) -> ApiResult<Response> {
    let actor = require(&caller, Role::Admin)?;
    let restored = state
        .config_values
        .restore(&actor, &environment, &key, body.change_id)
        .await?;
    Ok(match restored {
        Some(entry) => Json(entry).into_response(),
        None => StatusCode::NO_CONTENT.into_response(),
    })
}
