//! `GET /api/v1/system/health?since=`: Flightdeck's own health samples (viewer).

use super::require;
use crate::error::{ApiQuery, ApiResult};
use crate::state::AppState;
use app::error::AppError;
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
    let since = match query.since.as_deref() {
        None => crate::now_ms() - 86_400_000,
        // Digits are Unix milliseconds (up to 15, as the document says).
        Some(text) => Some(text)
            .filter(|t| (1..=15).contains(&t.len()) && t.bytes().all(|b| b.is_ascii_digit()))
            .and_then(|t| t.parse().ok())
            .or_else(|| crate::rfc3339_ms(text))
            .ok_or_else(|| {
                AppError::unprocessable(
                    "since: give an RFC 3339 time (2026-12-01T22:00:00Z) or Unix milliseconds",
                )
            })?,
    };
    let samples = crate::system::history(&state.db.pool, since).await?;
    Ok(Json(HealthHistory { since, samples }))
}
