//! `/audit`: the trail, paged, and its export as a download.

use super::require;
use crate::error::{ApiQuery, ApiResult};
use crate::state::AppState;
use app::error::AppError;
use app::model::*;
use axum::extract::{Extension, State};
use axum::routing::get;
use axum::{Json, Router};
use futures_util::TryStreamExt;
use serde::Deserialize;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/audit", get(list_audit))
        .route("/audit/export", get(export_audit))
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
