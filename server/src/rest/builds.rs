//! `/api/v1/builds`: CI systems post builds (operator, or a `builds:write` token), everyone reads
//! them, their statistics and the failure predictor; operators train it.

use super::require;
use crate::builds::input::{read, read_pre_run, to_json};
use crate::error::{ApiQuery, ApiResult};
use crate::state::AppState;
use app::builds::stats::pipeline_stats;
use app::builds::BuildQuery;
use app::error::AppError;
use app::model::{Caller, Role};
use axum::body::Bytes;
use axum::extract::{DefaultBodyLimit, Extension, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::Deserialize;
use serde_json::{json, Value};

/// A back-fill of months of history fits; a single build is far smaller.
const MAX_IMPORT_BODY: usize = 64 * 1024 * 1024;
const MAX_IMPORT_BUILDS: usize = 100_000;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/builds", get(list).post(create))
        .route(
            "/builds/import",
            post(import).layer(DefaultBodyLimit::max(MAX_IMPORT_BODY)),
        )
        .route("/builds/stats", get(stats))
        .route("/builds/model", get(current_model).post(train))
        .route("/builds/predict", post(predict))
        .route("/builds/accuracy", get(accuracy))
}

fn json_body(body: &Bytes) -> Result<Value, AppError> {
    serde_json::from_slice(body)
        .map_err(|e| AppError::bad_request(format!("The body is not JSON: {e}")))
}

fn fresh_id() -> String {
    format!("api-{}", &crate::auth::token::generate().hash[..24])
}

/// `POST /builds`: 201 with the stored build, 200 when it updated the one with the same
/// `source_id`; 422 naming the field, and nothing stored, when a value is wrong.
async fn create(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    body: Bytes,
) -> ApiResult<(StatusCode, Json<Value>)> {
    require(&caller, Role::Operator)?;
    let value = json_body(&body)?;
    let build = read(&value, "api", fresh_id).map_err(AppError::unprocessable)?;
    let (stored, created) = state.builds.ingest(build).await?;
    let status = if created {
        StatusCode::CREATED
    } else {
        StatusCode::OK
    };
    Ok((status, Json(to_json(&stored))))
}

/// `POST /builds/import`: a JSON array, or NDJSON (one build per line); all or nothing.
async fn import(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    headers: HeaderMap,
    body: Bytes,
) -> ApiResult<(StatusCode, Json<Value>)> {
    require(&caller, Role::Operator)?;
    // NDJSON when the sender says so, or when the body is not a JSON array.
    let says_ndjson = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|t| t.contains("ndjson") || t.contains("jsonl"));
    // A file saved by Windows PowerShell starts with a byte-order mark.
    let body = match body.starts_with(b"\xef\xbb\xbf") {
        true => body.slice(3..),
        false => body,
    };
    let first = body.iter().find(|b| !b.is_ascii_whitespace());
    let ndjson = says_ndjson || first != Some(&b'[');
    let values: Vec<(String, Value)> = if ndjson {
        let text = std::str::from_utf8(&body)
            .map_err(|_| AppError::bad_request("The body is not UTF-8 text."))?;
        text.lines()
            .enumerate()
            .filter(|(_, line)| !line.trim().is_empty())
            .map(|(i, line)| {
                serde_json::from_str(line)
                    .map(|v| (format!("line {}", i + 1), v))
                    .map_err(|e| AppError::bad_request(format!("line {}: not JSON: {e}", i + 1)))
            })
            .collect::<Result<_, _>>()?
    } else {
        match json_body(&body)? {
            Value::Array(items) => items
                .into_iter()
                .enumerate()
                .map(|(i, v)| (format!("builds[{i}]"), v))
                .collect(),
            _ => {
                return Err(AppError::unprocessable(
                    "Send a JSON array of builds, or NDJSON (one build per line).",
                )
                .into())
            }
        }
    };
    if values.is_empty() {
        return Err(AppError::unprocessable("There are no builds in the body.").into());
    }
    if values.len() > MAX_IMPORT_BUILDS {
        return Err(AppError::new(
            app::error::ErrorCode::PayloadTooLarge,
            format!("At most {MAX_IMPORT_BUILDS} builds per import; split the history."),
        )
        .into());
    }
    let builds = values
        .iter()
        .map(|(at, value)| {
            read(value, "api", fresh_id).map_err(|e| AppError::unprocessable(format!("{at}: {e}")))
        })
        .collect::<Result<Vec<_>, _>>()?;
    let summary = state.builds.import(builds).await?;
    Ok((StatusCode::CREATED, Json(json!(summary))))
}

async fn list(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    ApiQuery(query): ApiQuery<BuildQuery>,
) -> ApiResult<Json<Value>> {
    require(&caller, Role::Viewer)?;
    super::page_limit(query.limit, 50)?;
    if let Some(status) = query.status.as_deref().filter(|s| !s.is_empty()) {
        if app::builds::BuildStatus::parse(status).is_none() {
            return Err(AppError::unprocessable(format!(
                "status: '{status}' is not queued, running, success, failure or cancelled"
            ))
            .into());
        }
    }
    if let Some(commit) = query.commit.as_deref().filter(|c| !c.is_empty()) {
        app::builds::check_commit(commit).map_err(AppError::unprocessable)?;
    }
    let (items, next) = state.builds.list(&query).await?;
    Ok(Json(json!({
        "items": items.iter().map(to_json).collect::<Vec<_>>(),
        "next_cursor": next,
    })))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct StatsQuery {
    #[serde(default)]
    pipeline: Option<String>,
    #[serde(default)]
    branch: Option<String>,
    #[serde(default)]
    days: Option<i64>,
}

/// `GET /builds/stats?pipeline&branch&days`: per pipeline, over builds started in the last
/// `days` (1–3650, default 30).
async fn stats(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    ApiQuery(query): ApiQuery<StatsQuery>,
) -> ApiResult<Json<Value>> {
    require(&caller, Role::Viewer)?;
    let days = query.days.unwrap_or(30);
    if !(1..=3650).contains(&days) {
        return Err(AppError::unprocessable(format!("days: {days} is not from 1 to 3650")).into());
    }
    let since = crate::now_ms() - days * 86_400_000;
    let builds = state
        .builds
        .outcomes_since(since, query.pipeline.as_deref(), query.branch.as_deref())
        .await?;
    let pipelines: Vec<Value> = app::builds::stats::by_pipeline(builds)
        .iter()
        .map(|(name, list)| {
            let s = pipeline_stats(name, list);
            let mut v = serde_json::to_value(&s).unwrap_or_default();
            v["mttr_s"] = json!(s.mean_time_to_recovery_s);
            v["last_started_at"] = json!(s.last_started_at.map(app::time_fmt::rfc3339));
            v
        })
        .collect();
    Ok(Json(
        json!({ "days": days, "since": app::time_fmt::rfc3339(since), "pipelines": pipelines }),
    ))
}

async fn current_model(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
) -> ApiResult<Json<app::builds::ModelInfo>> {
    require(&caller, Role::Viewer)?;
    let model = state.builds.model().ok_or_else(|| {
        AppError::not_found("A trained model (train one with POST /api/v1/builds/model)")
    })?;
    Ok(Json(model.info()))
}

/// `POST /builds/model`: trains now on the whole history (409 with the reason when it is too
/// short) and answers the time-ordered evaluation.
async fn train(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
) -> ApiResult<Json<app::builds::ModelInfo>> {
    require(&caller, Role::Operator)?;
    Ok(Json(state.builds.train().await?.info()))
}

/// `POST /builds/predict` (viewer): the pre-run fields in, the failure probability, the verdict,
/// the factors and the model out (without a model: the last-build baseline, saying so).
async fn predict(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    body: Bytes,
) -> ApiResult<Json<app::builds::Prediction>> {
    require(&caller, Role::Viewer)?;
    let pre = read_pre_run(&json_body(&body)?).map_err(AppError::unprocessable)?;
    Ok(Json(state.builds.predict(&pre).await?))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct AccuracyQuery {
    #[serde(default)]
    pipeline: Option<String>,
}

/// `GET /builds/accuracy?pipeline`: how the predictions stored with the last 100 finished
/// builds fared, beside the baselines.
async fn accuracy(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    ApiQuery(query): ApiQuery<AccuracyQuery>,
) -> ApiResult<Json<app::builds::LiveAccuracy>> {
    require(&caller, Role::Viewer)?;
    Ok(Json(
        state
            .builds
            .live_accuracy(query.pipeline.as_deref(), 100)
            .await?,
    ))
}
