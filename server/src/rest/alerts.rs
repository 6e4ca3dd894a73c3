//! `/api/v1` for alerts: the feed and its actions (operators act, viewers read), silences,
//! channels and escalation policies (admins), and the two ingestion endpoints:
//! `POST /api/v1/webhooks/alertmanager` (Alertmanager's webhook receiver, payload version 4) and
//! `POST /api/v2/alerts` (Alertmanager's own API, so Prometheus can send here directly). Both take
//! a Bearer token of an operator, which Alertmanager and Prometheus send with
//! `http_config.authorization` / `authorization`.

use super::require;
use crate::alerts::incoming;
use crate::error::{unreadable_body, ApiJson, ApiPath, ApiQuery, ApiResult};
use crate::json_body::read_object;
use crate::state::AppState;
use app::error::AppError;
use app::health::alert::*;
use app::health::escalation::*;
use app::model::{Caller, Role};
use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::{DefaultBodyLimit, Extension, State};
use axum::http::StatusCode;
use axum::routing::{delete, get, post, put};
use axum::{Json, Router};

/// Alert batches may be large (10,000 alerts); anything past this is refused with 413.
const MAX_ALERT_BODY: usize = 8 * 1024 * 1024;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/alerts", get(list))
        .route("/alerts/{id}", get(one))
        .route("/alerts/{id}/escalation", get(escalation))
        .route("/alerts/{id}/{action}", post(act))
        .route("/silences", get(silences).post(create_silence))
        .route("/silences/{id}", delete(expire_silence))
        .route("/channels", get(channels).post(create_channel))
        .route("/channels/{id}", put(update_channel).delete(remove_channel))
        .route("/escalation-policies", get(policies).post(create_policy))
        .route(
            "/escalation-policies/{id}",
            put(update_policy).delete(remove_policy),
        )
        .route(
            "/webhooks/alertmanager",
            post(alertmanager).layer(DefaultBodyLimit::max(MAX_ALERT_BODY)),
        )
}

/// Mounted at `/api/v2`: the Alertmanager-compatible endpoint.
pub fn v2_router() -> Router<AppState> {
    Router::new()
        .route(
            "/alerts",
            post(postable).layer(DefaultBodyLimit::max(MAX_ALERT_BODY)),
        )
        .fallback(super::no_endpoint)
}

async fn list(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    ApiQuery(query): ApiQuery<AlertQuery>,
) -> ApiResult<Json<AlertPage>> {
    require(&caller, Role::Viewer)?;
    Ok(Json(state.alerts.list(&query).await?))
}

async fn one(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    ApiPath(id): ApiPath<i64>,
) -> ApiResult<Json<AlertDetail>> {
    require(&caller, Role::Viewer)?;
    Ok(Json(state.alerts.get(id).await?))
}

/// `GET /alerts/{id}/escalation`: who escalating it now would notify (nobody, said plainly).
async fn escalation(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    ApiPath(id): ApiPath<i64>,
) -> ApiResult<Json<app::health::escalation::EscalationPreview>> {
    require(&caller, Role::Viewer)?;
    Ok(Json(state.alerts.escalation_preview(id).await?))
}

async fn act(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    ApiPath((id, action)): ApiPath<(i64, String)>,
    body: Result<Bytes, BytesRejection>,
) -> ApiResult<Json<Alert>> {
    let actor = require(&caller, Role::Operator)?;
    let action = AlertAction::parse(&action).ok_or_else(|| {
        AppError::not_found(format!(
            "alert action '{action}' (use ack, escalate or resolve)"
        ))
    })?;
    // The body is optional: an empty one is no note.
    let body = body.map_err(|r| unreadable_body(r, 64 * 1024))?;
    let note = if body.iter().all(u8::is_ascii_whitespace) {
        None
    } else {
        let value = serde_json::from_slice(&body)
            .map_err(|e| AppError::bad_request(format!("Invalid JSON body: {e}")))?;
        read_object::<AlertActionRequest>(value)?.note
    };
    Ok(Json(state.alerts.act(&actor, id, action, note).await?))
}

async fn silences(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
) -> ApiResult<Json<Vec<Silence>>> {
    require(&caller, Role::Viewer)?;
    Ok(Json(state.alerts.list_silences(crate::now_ms()).await?))
}

async fn create_silence(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    ApiJson(body): ApiJson<NewSilence>,
) -> ApiResult<(StatusCode, Json<Silence>)> {
    let actor = require(&caller, Role::Operator)?;
    Ok((
        StatusCode::CREATED,
        Json(state.alerts.create_silence(&actor, body).await?),
    ))
}

/// Ends a silence now (`DELETE`, as Alertmanager expires one); its alerts notify again.
async fn expire_silence(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    ApiPath(id): ApiPath<i64>,
) -> ApiResult<Json<Silence>> {
    let actor = require(&caller, Role::Operator)?;
    Ok(Json(state.alerts.expire_silence(&actor, id).await?))
}

async fn channels(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
) -> ApiResult<Json<Vec<Channel>>> {
    require(&caller, Role::Viewer)?;
    Ok(Json(state.alerts.list_channels().await?))
}

async fn create_channel(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    ApiJson(body): ApiJson<NewChannel>,
) -> ApiResult<(StatusCode, Json<Channel>)> {
    let actor = require(&caller, Role::Admin)?;
    Ok((
        StatusCode::CREATED,
        Json(state.alerts.create_channel(&actor, body).await?),
    ))
}

async fn policies(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
) -> ApiResult<Json<Vec<EscalationPolicy>>> {
    require(&caller, Role::Viewer)?;
    Ok(Json(state.alerts.list_policies().await?))
}

async fn create_policy(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    ApiJson(body): ApiJson<NewPolicy>,
) -> ApiResult<(StatusCode, Json<EscalationPolicy>)> {
    let actor = require(&caller, Role::Admin)?;
    Ok((
        StatusCode::CREATED,
        Json(state.alerts.create_policy(&actor, body).await?),
    ))
}

async fn update_channel(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    ApiPath(id): ApiPath<i64>,
    ApiJson(body): ApiJson<NewChannel>,
) -> ApiResult<Json<Channel>> {
    let actor = require(&caller, Role::Admin)?;
    Ok(Json(state.alerts.update_channel(&actor, id, body).await?))
}

async fn remove_channel(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    ApiPath(id): ApiPath<i64>,
) -> ApiResult<StatusCode> {
    let actor = require(&caller, Role::Admin)?;
    state.alerts.remove_channel(&actor, id).await?;
    Ok(StatusCode::NO_CONTENT)
}

async fn update_policy(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    ApiPath(id): ApiPath<i64>,
    ApiJson(body): ApiJson<NewPolicy>,
) -> ApiResult<Json<EscalationPolicy>> {
    let actor = require(&caller, Role::Admin)?;
    Ok(Json(state.alerts.update_policy(&actor, id, body).await?))
}

async fn remove_policy(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    ApiPath(id): ApiPath<i64>,
) -> ApiResult<StatusCode> {
    let actor = require(&caller, Role::Admin)?;
    state.alerts.remove_policy(&actor, id).await?;
    Ok(StatusCode::NO_CONTENT)
}

async fn alertmanager(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    body: Result<Bytes, BytesRejection>,
) -> ApiResult<Json<IngestSummary>> {
    require(&caller, Role::Operator)?;
    let body = body.map_err(|r| unreadable_body(r, MAX_ALERT_BODY))?;
    let batch = incoming::alertmanager_webhook(&body).map_err(AppError::bad_request)?;
    Ok(Json(
        state
            .alerts
            .ingest(AlertSource::Alertmanager, batch)
            .await?,
    ))
}

async fn postable(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    body: Result<Bytes, BytesRejection>,
) -> ApiResult<Json<IngestSummary>> {
    require(&caller, Role::Operator)?;
    let body = body.map_err(|r| unreadable_body(r, MAX_ALERT_BODY))?;
    let batch = incoming::postable_alerts(&body, crate::now_ms()).map_err(AppError::bad_request)?;
    Ok(Json(
        state.alerts.ingest(AlertSource::Prometheus, batch).await?,
    ))
}
