//! `GET /api/v1/system/health?since=`: Flightdeck's own health samples (viewer).

use super::require;
use crate::error::{ApiQuery, ApiResult};
use crate::state::AppState;
use app::model::{Caller, Role};
use app::system::HealthHistory;
use axum::extract::{Extension, State};
use axum::routing::get;
use axum::{Json, Router};
use serde::Deserialize;

pub fn router() -> Router<AppState> {
    Router::new().route("/system/health", get(history))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Query {
    /// RFC 3339 or Unix ms; default: the last 24 hours.
    #[serde(default)]
    since: Option<String>,
}

async fn history(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    ApiQuery(query): ApiQuery<Query>,
) -> ApiResult<Json<HealthHistory>> {
    require(&caller, Role::Viewer)?;
    let given = query.since.map(serde_json::Value::String);
    let since = super::maintenance::parse_time("since", given.as_ref())?
        .unwrap_or_else(|| crate::now_ms() - 86_400_000);
    let samples = crate::system::history(&state.db.pool, since).await?;
    Ok(Json(HealthHistory { since, samples }))
}
