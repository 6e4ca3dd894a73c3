//! `POST /api/v1/webhooks/{github|gitlab|cdevents}`: CI/CD systems report builds and deployments.
//! The request path authenticates (GitHub HMAC-SHA256 in constant time, GitLab token, CDEvents
//! Bearer token), checks the payload can be understood (400 otherwise), and stores the delivery in
//! the inbox before answering 202; a delivery id seen before is answered 200 and stored once,
//! unless its first try was refused or had nothing to apply: then it is applied again (202).
//! Unknown event types are acknowledged (202) and dropped. Nothing is stored for a refused request.

use super::require;
use crate::error::{ApiError, ApiResult};
use crate::state::AppState;
use crate::webhooks::{github_payload, github_signature_ok, parse, NewDelivery, MAX_BODY};
use app::error::{AppError, ErrorCode};
use app::model::{Caller, Role};
use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::{DefaultBodyLimit, Extension, Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde_json::{json, Value};
use subtle::ConstantTimeEq;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/webhooks/deliveries", get(recent))
        .route("/webhooks/{source}", post(receive))
        .layer(DefaultBodyLimit::max(MAX_BODY))
}

fn header<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers
        .get(name)
        .and_then(|v| v.to_str().ok())
        .map(str::trim)
        .filter(|v| !v.is_empty())
}

fn unauthorized(message: &str) -> ApiError {
    ApiError(AppError::new(ErrorCode::Unauthorized, message))
}

async fn receive(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Path(source): Path<String>,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> ApiResult<(StatusCode, Json<Value>)> {
    let body = body.map_err(|rejection| crate::error::unreadable_body(rejection, MAX_BODY))?;
    let (source, event, delivery_id): (&'static str, String, Option<String>) = match source.as_str()
    {
        "github" => {
            let secret = state.secrets.get("github").await?.ok_or_else(|| {
                unauthorized("GitHub webhooks are not set up here: an admin sets the webhook's secret in Settings (or FLIGHTDECK_GITHUB_WEBHOOK_SECRET).")
            })?;
            let signature = header(&headers, "x-hub-signature-256");
            if signature.is_none() {
                return Err(unauthorized(
                    "The delivery is not signed (no X-Hub-Signature-256): give the GitHub webhook the secret set here.",
                ));
            }
            if !github_signature_ok(&secret, &body, signature) {
                return Err(unauthorized(
                    "X-Hub-Signature-256 does not match this body and the configured secret.",
                ));
            }
            (
                "github",
                header(&headers, "x-github-event").unwrap_or("").to_string(),
                header(&headers, "x-github-delivery").map(Into::into),
            )
        }
        "gitlab" => {
            let token = state.secrets.get("gitlab").await?.ok_or_else(|| {
                unauthorized("GitLab webhooks are not set up here: an admin sets the webhook's secret token in Settings (or FLIGHTDECK_GITLAB_WEBHOOK_TOKEN).")
            })?;
            let Some(given) = header(&headers, "x-gitlab-token") else {
                return Err(unauthorized(
                    "The delivery has no X-Gitlab-Token: give the GitLab webhook the secret token set here.",
                ));
            };
            if !bool::from(given.as_bytes().ct_eq(token.as_bytes())) {
                return Err(unauthorized(
                    "X-Gitlab-Token does not match the configured token.",
                ));
            }
            (
                "gitlab",
                header(&headers, "x-gitlab-event").unwrap_or("").to_string(),
                header(&headers, "x-gitlab-event-uuid").map(Into::into),
            )
        }
        "cdevents" => {
            require(&caller, Role::Operator)?;
            let json: Value = serde_json::from_slice(&body)
                .map_err(|e| AppError::bad_request(format!("The body is not JSON: {e}")))?;
            let kind = json
                .pointer("/context/type")
                .and_then(Value::as_str)
                .map(parse::cdevents_kind)
                .unwrap_or_default();
            let id = json
                .pointer("/context/id")
                .and_then(Value::as_str)
                .map(str::to_string);
            ("cdevents", kind, id)
        }
        other => {
            return Err(AppError::missing(format!(
                "No webhook source '{other}'; use github, gitlab or cdevents."
            ))
            .into())
        }
    };
    let body = match source {
        "github" => {
            github_payload(header(&headers, "content-type"), body).map_err(AppError::bad_request)?
        }
        _ => body,
    };
    let supported = match source {
        "github" => matches!(event.as_str(), "deployment_status" | "workflow_run"),
        "gitlab" => matches!(event.as_str(), "Deployment Hook" | "Pipeline Hook"),
        _ => parse::cdevents_supported(&event),
    };
    if !supported {
        let mut answer = json!({ "status": "ignored", "event": event });
        if source == "github" && event == "ping" {
            answer["note"] = json!(crate::webhooks::github_ping_note(&body));
        }
        return Ok((StatusCode::ACCEPTED, Json(answer)));
    }
    let delivery_id = delivery_id
        .filter(|id| id.len() <= 200)
        .ok_or_else(|| AppError::bad_request("The delivery has no id (X-GitHub-Delivery, X-Gitlab-Event-UUID or context.id, at most 200 characters)."))?;
    let json: Value = serde_json::from_slice(&body)
        .map_err(|e| AppError::bad_request(format!("The body is not JSON: {e}")))?;
    let understood = match source {
        "github" => parse::github(&event, &json),
        "gitlab" => parse::gitlab(&event, &json),
        _ => parse::cdevents(&json),
    };
    understood.map_err(|why| {
        AppError::bad_request(format!("The {event} payload is incomplete: {why}."))
    })?;
    // Every CI run is a build too, moved through its life by the run's own id.
    let run = match (source, event.as_str()) {
        ("github", "workflow_run") => Some(crate::builds::ci::from_github(&json)),
        ("gitlab", "Pipeline Hook") => Some(crate::builds::ci::from_gitlab(&json)),
        _ => None,
    };
    let mut not_recorded = None;
    if let Some(run) = run {
        let build =
            run.and_then(|v| crate::builds::input::read(&v, source, || delivery_id.clone()));
        match build {
            Ok(mut build) => {
                // A GitLab retry of a finished pipeline is a build of its own (see `ci`).
                if let Some(at) = crate::builds::ci::gitlab_retried_at(&json) {
                    let first = state.builds.find(source, &build.source_id).await?;
                    build = crate::builds::ci::gitlab_attempt(build, at, first.as_ref());
                }
                state.builds.ingest(build).await?;
            }
            Err(why) => {
                tracing::warn!(%why, %event, "a CI run was not recorded as a build");
                not_recorded = Some(format!("This run was not recorded as a build: {why}."));
            }
        }
    }
    let body = String::from_utf8(body.to_vec())
        .map_err(|_| AppError::bad_request("The body is not UTF-8."))?;
    let is_new = state
        .inbox
        .store(NewDelivery {
            source,
            delivery_id: delivery_id.clone(),
            event: event.clone(),
            body,
        })
        .await?;
    let again = !is_new && state.inbox.apply_again(source, &delivery_id).await?;
    let (status, label) = if is_new || again {
        (StatusCode::ACCEPTED, "accepted")
    } else {
        (StatusCode::OK, "duplicate")
    };
    let mut answer = json!({ "status": label, "delivery_id": delivery_id, "event": event });
    if again {
        answer["note"] =
            json!("Sent again after it was refused or had nothing to apply: it is applied again.");
    }
    if let Some(why) = not_recorded {
        // GitHub and GitLab show the answer beside the delivery, where whoever set it up looks.
        answer["build"] = json!(why);
    }
    Ok((status, Json(answer)))
}

/// The latest deliveries and what applying them did (admins), newest first.
async fn recent(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
) -> ApiResult<Json<Vec<app::webhook_settings::WebhookDelivery>>> {
    require(&caller, Role::Admin)?;
    Ok(Json(state.inbox.recent().await?))
}
