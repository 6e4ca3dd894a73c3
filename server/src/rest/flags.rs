//! `/api/v1/flags`: viewers read and preview, admins change. Apps evaluate through OFREP
//! (`crate::ofrep`), not here.

use super::require;
use crate::error::{ApiJson, ApiPath, ApiQuery, ApiResult};
use crate::state::AppState;
use app::error::AppError;
use app::flags::evaluate::{evaluate, Context};
use app::flags::{Flag, FlagChange};
use app::model::{Caller, Role};
use axum::extract::{Extension, State};
use axum::http::StatusCode;
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::{Deserialize, Serialize};
use serde_json::Value;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/flags", get(list).post(create))
        .route("/flags/{key}", get(one).put(change).delete(remove))
        .route("/flags/{key}/history", get(history))
        .route("/flags/{key}/restore", post(restore))
        .route("/flags/{key}/evaluate", post(preview))
}

async fn list(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
) -> ApiResult<Json<Vec<Flag>>> {
    require(&caller, Role::Viewer)?;
    Ok(Json(state.flags.list().await?))
}

async fn one(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    ApiPath(key): ApiPath<String>,
) -> ApiResult<Json<Flag>> {
    require(&caller, Role::Viewer)?;
    Ok(Json(state.flags.get(&key).await?))
}

/// Takes the optional `reason` out of a change's body; it is audited, not stored in the flag.
fn take_reason(body: &mut Value) -> Result<Option<String>, AppError> {
    match body.as_object_mut().and_then(|o| o.remove("reason")) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(reason)) => Ok(app::text::non_blank(Some(reason))),
        Some(_) => Err(AppError::unprocessable("reason: must be text")),
    }
}

fn parse_flag(body: Value) -> Result<Flag, AppError> {
    serde_json::from_value(body).map_err(|e| AppError::unprocessable(format!("Invalid flag: {e}")))
}

async fn create(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    ApiJson(mut body): ApiJson<Value>,
) -> ApiResult<(StatusCode, Json<Flag>)> {
    let actor = require(&caller, Role::Admin)?;
    take_reason(&mut body)?;
    let flag = parse_flag(body)?;
    Ok((
        StatusCode::CREATED,
        Json(state.flags.create(&actor.actor(), flag).await?),
    ))
}

/// `PUT /flags/{key}`: a whole flag replaces it (or creates it, 201); fewer fields change only
/// themselves (`{"enabled": false, "reason": "..."}`).
async fn change(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    ApiPath(key): ApiPath<String>,
    ApiJson(mut body): ApiJson<Value>,
) -> ApiResult<(StatusCode, Json<Flag>)> {
    let actor = require(&caller, Role::Admin)?;
    let reason = take_reason(&mut body)?;
    match state
        .flags
        .update(&actor.actor(), &key, body.clone(), reason.as_deref())
        .await
    {
        Ok(flag) => Ok((StatusCode::OK, Json(flag))),
        Err(e) if e.code == app::error::ErrorCode::NotFound => {
            let mut flag = parse_flag(body)?;
            if !flag.key.is_empty() && flag.key != key {
                return Err(AppError::unprocessable(format!(
                    "key: the body names '{}' but the path names '{key}'",
                    flag.key
                ))
                .into());
            }
            flag.key = key;
            Ok((
                StatusCode::CREATED,
                Json(state.flags.create(&actor.actor(), flag).await?),
            ))
        }
        Err(e) => Err(e.into()),
    }
}

async fn remove(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    ApiPath(key): ApiPath<String>,
) -> ApiResult<StatusCode> {
    let actor = require(&caller, Role::Admin)?;
    state.flags.delete(&actor.actor(), &key).await?;
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
    ApiPath(key): ApiPath<String>,
    ApiQuery(query): ApiQuery<HistoryQuery>,
) -> ApiResult<Json<Vec<FlagChange>>> {
    require(&caller, Role::Viewer)?;
    let limit = super::page_limit(query.limit, 50)?;
    Ok(Json(state.flags.history(&key, None, limit).await?))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RestoreBody {
    change_id: i64,
    /// The version the caller saw; a restore onto a newer one is refused (409).
    #[serde(default)]
    version: Option<i64>,
    #[serde(default)]
    reason: Option<String>,
}

/// `POST /flags/{key}/restore`: the settings history entry `change_id` left come back as a new
/// version.
async fn restore(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    ApiPath(key): ApiPath<String>,
    ApiJson(body): ApiJson<RestoreBody>,
) -> ApiResult<Json<Flag>> {
    let actor = require(&caller, Role::Admin)?;
    let flag = state
        .flags
        .restore(
            &actor.actor(),
            &key,
            body.change_id,
            body.version,
            body.reason.as_deref(),
        )
        .await?;
    Ok(Json(flag))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct PreviewRequest {
    #[serde(default)]
    context: Option<Value>,
    #[serde(default)]
    environment: Option<String>,
}

#[derive(Serialize)]
struct Preview {
    variant: String,
    value: Value,
    reason: &'static str,
    /// In words: which rule matched, or which bucket the key fell in.
    explanation: String,
}

/// `POST /flags/{key}/evaluate` `{context, environment?}`: what this context would get, and why.
async fn preview(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    ApiPath(key): ApiPath<String>,
    ApiJson(body): ApiJson<PreviewRequest>,
) -> ApiResult<Json<Preview>> {
    require(&caller, Role::Viewer)?;
    let flag = state.flags.get(&key).await?;
    let context = Context::from_json(body.context.as_ref())
        .map_err(|e| AppError::unprocessable(format!("context: {}", e.details())))?;
    let environment = body.environment.as_deref().or(context.environment());
    let evaluation = evaluate(&flag, &context, environment)
        .map_err(|e| AppError::unprocessable(e.details().to_string()))?;
    Ok(Json(Preview {
        explanation: evaluation.explain(&flag),
        variant: evaluation.variant,
        value: evaluation.value,
        reason: evaluation.reason.as_str(),
    }))
}
