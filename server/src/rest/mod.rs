//! REST under `/api/v1` for scripts, CI systems and the CLI. Handlers check the caller's role and
//! call the same implementations as the server functions.

use crate::state::AppState;
use app::error::AppError;
use app::model::*;
use axum::Router;

mod accounts;
mod alerts;
mod audit;
mod builds;
mod catalog;
mod config;
mod deployments;
mod flags;
mod health;
mod maintenance;
mod system;
mod webhooks;

pub use accounts::token_role;
pub use alerts::v2_router;

/// Every `/api/v1` route; each file of this module holds one area's handlers and routes.
pub fn router() -> Router<AppState> {
    Router::new()
        .merge(accounts::router())
        .merge(audit::router())
        .merge(catalog::router())
        .merge(deployments::router())
        .merge(flags::router())
        .merge(builds::router())
        .merge(config::router())
        .merge(maintenance::router())
        .merge(system::router())
        .merge(alerts::router())
        .merge(health::router())
        .merge(webhooks::router())
        .fallback(no_endpoint)
}

/// An address under the API that names no endpoint: a JSON 404 saying where the API is described,
/// not the HTML page a browser gets (`/api/v2` and `/ofrep/v1` too).
pub(crate) async fn no_endpoint(
    method: axum::http::Method,
    axum::extract::OriginalUri(uri): axum::extract::OriginalUri,
) -> crate::error::ApiError {
    AppError::missing(format!(
        "No endpoint {method} {}; the API is described at /api/openapi.json.",
        uri.path()
    ))
    .into()
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
