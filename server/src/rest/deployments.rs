//! `/api/v1` for deployments: deploy, roll back, promote, cancel (operators); targets (admins);
//! history, status, logs (with a live `text/event-stream`), releases and quarantines (viewers).

use super::require;
use crate::deploy::Deployments;
use crate::error::{ApiJson, ApiPath, ApiQuery, ApiResult};
use crate::state::AppState;
use app::deploy::rollback;
use app::deploy::*;
use app::error::AppError;
use app::model::{Caller, Role};
use axum::extract::{Extension, State};
use axum::http::StatusCode;
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post, put};
use axum::{Json, Router};
use serde::Deserialize;
use std::convert::Infallible;
use std::sync::Arc;
use tokio::sync::{broadcast, mpsc};

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/deployments", get(list).post(deploy))
        .route("/deployments/{id}", get(one))
        .route("/deployments/{id}/cancel", post(cancel))
        .route("/deployments/{id}/dismiss", post(dismiss))
        .route("/deployments/{id}/logs", get(logs))
        .route("/rollbacks", post(rollback))
        .route("/rollbacks/options", get(rollback_options))
        .route("/promotions", post(promote))
        .route("/status", get(status))
        .route("/services/{name}/releases", get(releases))
        .route("/services/{name}/targets/{environment}", put(set_target))
        .route("/targets", get(targets))
        .route("/quarantines", get(quarantines).delete(lift_quarantine))
}

type Accepted202 = (StatusCode, Json<Accepted>);

async fn deploy(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    ApiJson(body): ApiJson<DeployRequest>,
) -> ApiResult<Accepted202> {
    let who = Initiator::from_principal(&require(&caller, Role::Operator)?);
    Ok((
        StatusCode::ACCEPTED,
        Json(state.deployments.deploy(&who, body).await?),
    ))
}

async fn rollback(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    ApiJson(body): ApiJson<RollbackRequest>,
) -> ApiResult<Accepted202> {
    let who = Initiator::from_principal(&require(&caller, Role::Operator)?);
    Ok((
        StatusCode::ACCEPTED,
        Json(state.deployments.rollback(&who, body).await?),
    ))
}

async fn promote(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    ApiJson(body): ApiJson<PromoteRequest>,
) -> ApiResult<Accepted202> {
    let who = Initiator::from_principal(&require(&caller, Role::Operator)?);
    Ok((
        StatusCode::ACCEPTED,
        Json(state.deployments.promote(&who, body).await?),
    ))
}

async fn cancel(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    ApiPath(id): ApiPath<i64>,
) -> ApiResult<Json<Deployment>> {
    let who = Initiator::from_principal(&require(&caller, Role::Operator)?);
    Ok(Json(state.deployments.cancel(&who, id).await?))
}

async fn list(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    ApiQuery(query): ApiQuery<DeploymentQuery>,
) -> ApiResult<Json<DeploymentPage>> {
    require(&caller, Role::Viewer)?;
    Ok(Json(state.deployments.list(&query).await?))
}

async fn one(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    ApiPath(id): ApiPath<i64>,
) -> ApiResult<Json<Deployment>> {
    require(&caller, Role::Viewer)?;
    Ok(Json(state.deployments.get(id).await?))
}

async fn status(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
) -> ApiResult<Json<Vec<StatusCell>>> {
    require(&caller, Role::Viewer)?;
    Ok(Json(state.deployments.status().await?))
}

async fn releases(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    ApiPath(name): ApiPath<String>,
) -> ApiResult<Json<Vec<Release>>> {
    require(&caller, Role::Viewer)?;
    Ok(Json(state.deployments.releases(&name).await?))
}

/// Admins only: a command target runs its command on this server.
async fn set_target(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    ApiPath((service, environment)): ApiPath<(String, String)>,
    ApiJson(body): ApiJson<TargetSettings>,
) -> ApiResult<Json<Target>> {
    let actor = require(&caller, Role::Admin)?;
    Ok(Json(
        state
            .deployments
            .set_target(&actor, &service, &environment, body)
            .await?,
    ))
}

/// Admins only: commands may carry credentials.
async fn targets(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
) -> ApiResult<Json<Vec<Target>>> {
    require(&caller, Role::Admin)?;
    Ok(Json(state.deployments.targets().await?))
}

async fn quarantines(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
) -> ApiResult<Json<Vec<Quarantine>>> {
    require(&caller, Role::Viewer)?;
    Ok(Json(state.deployments.quarantines().await?))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct QuarantineKey {
    service: String,
    environment: String,
    version: String,
}

async fn dismiss(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    ApiPath(id): ApiPath<i64>,
) -> ApiResult<Json<Deployment>> {
    let who = Initiator::from_principal(&require(&caller, Role::Operator)?);
    Ok(Json(state.deployments.dismiss(&who, id).await?))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct TargetKey {
    service: String,
    environment: String,
}

/// `GET /rollbacks/options?service=..&environment=..`: what a rollback would do there.
async fn rollback_options(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    ApiQuery(key): ApiQuery<TargetKey>,
) -> ApiResult<Json<rollback::RollbackOptions>> {
    require(&caller, Role::Viewer)?;
    Ok(Json(
        state
            .deployments
            .rollback_options(&key.service, &key.environment)
            .await?,
    ))
}

/// `DELETE /quarantines?service=..&environment=..&version=..` (versions may contain `/`).
async fn lift_quarantine(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    ApiQuery(key): ApiQuery<QuarantineKey>,
) -> ApiResult<StatusCode> {
    let actor = require(&caller, Role::Operator)?;
    state
        .deployments
        .lift_quarantine(&actor, &key.service, &key.environment, &key.version)
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct LogQuery {
    /// Lines after this number (0: from the start).
    #[serde(default)]
    after: i64,
    /// `1`: keep the response open and stream new lines until the deployment finishes.
    #[serde(default)]
    follow: Option<u8>,
    #[serde(default)]
    limit: Option<i64>,
}

const LOG_PAGE: i64 = 1000;

async fn logs(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    ApiPath(id): ApiPath<i64>,
    ApiQuery(query): ApiQuery<LogQuery>,
) -> ApiResult<Response> {
    require(&caller, Role::Viewer)?;
    if query.after < 0 {
        return Err(AppError::bad_request("after must be 0 or a line number").into());
    }
    let stream = match query.follow {
        None | Some(0) => false,
        Some(1) => true,
        Some(_) => return Err(AppError::bad_request("follow must be 0 or 1").into()),
    };
    if !stream {
        let limit = query.limit.unwrap_or(LOG_PAGE);
        if !(1..=10 * LOG_PAGE).contains(&limit) {
            return Err(AppError::bad_request(format!(
                "limit must be from 1 to {}",
                10 * LOG_PAGE
            ))
            .into());
        }
        return Ok(Json(state.deployments.logs(id, query.after, limit).await?).into_response());
    }
    // Subscribe before the first read, so nothing committed in between is missed.
    let events = state.bus.subscribe();
    state.deployments.get(id).await?;
    let (sender, mut receiver) = mpsc::channel::<Event>(64);
    tokio::spawn(follow(
        state.deployments.clone(),
        id,
        query.after,
        (events, state.shutdown.clone()),
        sender,
    ));
    let stream = futures_util::stream::poll_fn(move |cx| {
        receiver
            .poll_recv(cx)
            .map(|next| next.map(Ok::<_, Infallible>))
    });
    Ok(Sse::new(stream)
        .keep_alive(KeepAlive::default())
        .into_response())
}

/// Sends stored lines after `after`, then new ones as they are committed, then an `end` event
/// with the final status. Events carry the line number as their id. When the process drains,
/// the stream ends after the lines stored so far (without `end`): the client resumes with
/// `after` set to the last id it saw.
async fn follow(
    engine: Arc<Deployments>,
    id: i64,
    mut after: i64,
    (mut events, shutdown): (
        broadcast::Receiver<Arc<crate::events::Published>>,
        crate::shutdown::Shutdown,
    ),
    out: mpsc::Sender<Event>,
) {
    let log_topic = topics::deployment(id);
    loop {
        // Catch up from the database (at the start, and whenever the bus ran ahead of us).
        loop {
            let Ok(lines) = engine.logs(id, after, LOG_PAGE).await else {
                return;
            };
            let full = lines.len() as i64 == LOG_PAGE;
            for line in lines {
                after = line.n;
                let event = Event::default().event("line").id(line.n.to_string());
                let Ok(event) = event.json_data(&line) else {
                    return;
                };
                if out.send(event).await.is_err() {
                    return;
                }
            }
            if !full {
                break;
            }
        }
        let Ok(deployment) = engine.get(id).await else {
            return;
        };
        if !deployment.status.is_active() {
            let end = Event::default().event("end").json_data(&deployment);
            if let Ok(end) = end {
                let _ = out.send(end).await;
            }
            return;
        }
        if shutdown.phase() != crate::shutdown::Phase::Serving {
            return;
        }
        // Wait for this deployment's next log batch or status change, then catch up again.
        loop {
            let received = tokio::select! {
                received = events.recv() => received,
                // One last catch-up above, then the stream ends.
                _ = shutdown.reached(crate::shutdown::Phase::Draining) => break,
            };
            match received.as_ref().map(|p| &p.event) {
                Ok(event) if event.topic == log_topic => break,
                Ok(event)
                    if event.topic == topics::DEPLOYMENTS
                        && event.data.get("id").and_then(|v| v.as_i64()) == Some(id) =>
                {
                    break
                }
                Ok(_) => continue,
                Err(broadcast::error::RecvError::Lagged(_)) => break,
                Err(broadcast::error::RecvError::Closed) => return,
            }
        }
        if out.is_closed() {
            return;
        }
    }
}
