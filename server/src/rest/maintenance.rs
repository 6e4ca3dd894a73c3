//! `/api/v1/maintenance`: viewers read it, admins turn it on, change it or end it.

use super::require;
use crate::error::{ApiJson, ApiResult};
use crate::state::AppState;
use app::error::AppError;
use app::maintenance::Maintenance;
use app::model::{Caller, Role};
use axum::extract::{Extension, State};
use axum::routing::get;
use axum::{Json, Router};
use serde::{Deserialize, Serialize};
use serde_json::Value;

pub fn router() -> Router<AppState> {
    Router::new().route("/maintenance", get(current).put(set))
}

/// The state, with `active` saying whether it is in force now (on and not past `until`).
#[derive(Serialize)]
struct MaintenanceState {
    #[serde(flatten)]
    maintenance: Maintenance,
    active: bool,
}

fn answer(maintenance: Maintenance) -> Json<MaintenanceState> {
    let active = maintenance.active_at(crate::now_ms());
    Json(MaintenanceState {
        maintenance,
        active,
    })
}

async fn current(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
) -> ApiResult<Json<MaintenanceState>> {
    require(&caller, Role::Viewer)?;
    Ok(answer(state.maintenance.current()))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Body {
    enabled: bool,
    #[serde(default)]
    message: Option<String>,
    #[serde(default)]
    environments: Option<Vec<String>>,
    /// RFC 3339 (`2026-12-01T22:00:00Z`) or Unix milliseconds.
    #[serde(default)]
    until: Option<Value>,
}

/// `until` (RFC 3339 or Unix milliseconds) as Unix milliseconds.
pub fn parse_until(value: Option<&Value>) -> Result<Option<i64>, AppError> {
    match value {
        None | Some(Value::Null) => Ok(None),
        Some(given) => crate::json_body::time_ms(given).map(Some).ok_or_else(|| {
            AppError::unprocessable(
                "until: give an RFC 3339 time (2026-12-01T22:00:00Z) or Unix milliseconds",
            )
        }),
    }
}

/// `PUT /maintenance {enabled, message, environments?, until?}` (admin).
async fn set(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    ApiJson(body): ApiJson<Body>,
) -> ApiResult<Json<MaintenanceState>> {
    let actor = require(&caller, Role::Admin)?;
    let request = crate::maintenance::Request {
        enabled: body.enabled,
        message: body.message.unwrap_or_default(),
        environments: body.environments,
        until: parse_until(body.until.as_ref())?,
    };
    Ok(answer(
        state
            .maintenance
            .set(&actor, request, &state.alerts)
            .await?,
    ))
}

#[cfg(test)]
mod tests {
    use super::parse_until;
    use serde_json::json;

    #[test]
    fn until_is_rfc3339_or_milliseconds() {
        assert_eq!(
            parse_until(Some(&json!("2026-12-01T22:00:00Z"))),
            Ok(Some(1_796_162_400_000))
        );
        assert_eq!(parse_until(Some(&json!(5))), Ok(Some(5)));
        assert_eq!(parse_until(None), Ok(None));
        assert!(parse_until(Some(&json!("tomorrow"))).is_err());
        assert!(parse_until(Some(&json!(true))).is_err());
    }
}
