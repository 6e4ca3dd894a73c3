//! `POST /api/v1/webhooks/{github|gitlab|cdevents}`: CI/CD systems report builds and deployments.
//! The request path authenticates (GitHub HMAC-SHA256 in constant time, GitLab token, CDEvents
//! Bearer token), checks the payload can be understood (400 otherwise), and stores the delivery in
//! the inbox before answering 202; a delivery id seen before is answered 200 and stored once.
//! Unknown event types are acknowledged (202) and dropped. Nothing is stored for a refused request.

mod inbox;
pub mod parse;
mod secrets;

pub use inbox::Inbox;
pub use secrets::Secrets;

use crate::error::{ApiError, ApiResult};
use crate::rest::require;
use crate::state::AppState;
use app::error::{AppError, ErrorCode};
use app::model::{Caller, Role};
use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::{DefaultBodyLimit, Extension, Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::routing::{get, post};
use axum::{Json, Router};
use hmac::{Hmac, Mac};
use inbox::NewDelivery;
use serde_json::{json, Value};
use sha2::Sha256;
use subtle::ConstantTimeEq;

/// Larger deliveries are refused with 413 before anything is read into memory past this.
pub const MAX_BODY: usize = 1024 * 1024;

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

/// `sha256=<hex>` over the raw body, compared in constant time.
pub fn github_signature_ok(secret: &str, body: &[u8], signature: Option<&str>) -> bool {
    let Some(hex) = signature.and_then(|s| s.strip_prefix("sha256=")) else {
        return false;
    };
    let Some(expected) = decode_hex(hex) else {
        return false;
    };
    let Ok(mut mac) = Hmac::<Sha256>::new_from_slice(secret.as_bytes()) else {
        return false;
    };
    mac.update(body);
    mac.verify_slice(&expected).is_ok()
}

fn decode_hex(hex: &str) -> Option<Vec<u8>> {
    if !hex.len().is_multiple_of(2) {
        return None;
    }
    (0..hex.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(hex.get(i..i + 2)?, 16).ok())
        .collect()
}

/// Hex HMAC-SHA256 of `body`: what the webhook deployer sends, and what tests sign with.
pub fn sign(secret: &str, body: &[u8]) -> String {
    let mut mac =
        Hmac::<Sha256>::new_from_slice(secret.as_bytes()).expect("HMAC takes keys of any length");
    mac.update(body);
    mac.finalize()
        .into_bytes()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
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
            if !github_signature_ok(&secret, &body, header(&headers, "x-hub-signature-256")) {
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
            let given = header(&headers, "x-gitlab-token").unwrap_or("");
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
            return Err(AppError::not_found(format!(
                "No webhook source '{other}'; use github, gitlab or cdevents."
            ))
            .into())
        }
    };
    let supported = match source {
        "github" => matches!(event.as_str(), "deployment_status" | "workflow_run"),
        "gitlab" => matches!(event.as_str(), "Deployment Hook" | "Pipeline Hook"),
        _ => parse::cdevents_supported(&event),
    };
    if !supported {
        return Ok((
            StatusCode::ACCEPTED,
            Json(json!({ "status": "ignored", "event": event })),
        ));
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
    if let Some(run) = run {
        let build =
            run.and_then(|v| crate::builds::input::read(&v, source, || delivery_id.clone()));
        match build {
            Ok(build) => {
                state.builds.ingest(build).await?;
            }
            Err(why) => tracing::warn!(%why, %event, "a CI run was not recorded as a build"),
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
    let (status, label) = if is_new {
        (StatusCode::ACCEPTED, "accepted")
    } else {
        (StatusCode::OK, "duplicate")
    };
    Ok((
        status,
        Json(json!({ "status": label, "delivery_id": delivery_id, "event": event })),
    ))
}

/// The latest deliveries and what applying them did (admins), newest first.
async fn recent(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
) -> ApiResult<Json<Value>> {
    require(&caller, Role::Admin)?;
    let rows = sqlx::query(
        "SELECT id, source, delivery_id, event, received_at, processed_at, outcome FROM webhook_deliveries ORDER BY id DESC LIMIT 100",
    )
    .fetch_all(&state.db.pool)
    .await
    .map_err(|e| crate::error::internal("listing webhook deliveries", e))?;
    use sqlx::Row;
    let list: Vec<Value> = rows
        .iter()
        .map(|r| {
            json!({
                "id": r.try_get::<i64, _>("id").ok(),
                "source": r.try_get::<String, _>("source").ok(),
                "delivery_id": r.try_get::<String, _>("delivery_id").ok(),
                "event": r.try_get::<String, _>("event").ok(),
                "received_at": r.try_get::<i64, _>("received_at").ok(),
                "processed_at": r.try_get::<Option<i64>, _>("processed_at").ok().flatten(),
                "outcome": r.try_get::<Option<String>, _>("outcome").ok().flatten(),
            })
        })
        .collect();
    Ok(Json(Value::Array(list)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn github_signatures_are_checked() {
        let body = br#"{"zen":"Design for failure."}"#;
        let good = format!("sha256={}", sign("It's a Secret to Everybody", body));
        assert!(github_signature_ok(
            "It's a Secret to Everybody",
            body,
            Some(&good)
        ));
        assert!(!github_signature_ok("another secret", body, Some(&good)));
        assert!(!github_signature_ok(
            "It's a Secret to Everybody",
            b"{}",
            Some(&good)
        ));
        assert!(!github_signature_ok(
            "It's a Secret to Everybody",
            body,
            Some("sha256=zz")
        ));
        assert!(!github_signature_ok(
            "It's a Secret to Everybody",
            body,
            None
        ));
    }

    /// The example from GitHub's "Validating webhook deliveries" documentation.
    #[test]
    fn matches_githubs_published_example() {
        assert_eq!(
            sign("It's a Secret to Everybody", b"Hello, World!"),
            "757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17"
        );
    }
}
