//! The OpenFeature Remote Evaluation Protocol (OFREP), so any OpenFeature SDK with an OFREP
//! provider evaluates Flightdeck's flags:
//! - `POST /ofrep/v1/evaluate/flags/{key}` `{"context": {...}}` → `{key, value, reason, variant,
//!   metadata}`; 404 `FLAG_NOT_FOUND`; 400 `INVALID_CONTEXT`, `TARGETING_KEY_MISSING`,
//!   `PARSE_ERROR`.
//! - `POST /ofrep/v1/evaluate/flags` → `{flags: [...]}` for every flag, with an `ETag`; a request
//!   whose `If-None-Match` names the current one gets 304.
//!
//! Callers authenticate with a Bearer token (a `flags:evaluate` token is all an app needs).
//! Browsers call from the app's own origin, so these answers allow any origin (CORS): they carry
//! no cookies' authority, only the token the app sends.

use crate::rest::require;
use crate::state::AppState;
use app::flags::evaluate::{evaluate, Context, ContextError};
use app::flags::Flag;
use app::model::{Caller, Role};
use axum::body::Bytes;
use axum::extract::{Extension, Request, State};
use axum::http::{header, HeaderMap, HeaderValue, Method, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use axum::{Json, Router};
use serde_json::{json, Value};
use sha2::{Digest, Sha256};

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/evaluate/flags", post(bulk))
        .route("/evaluate/flags/{key}", post(single))
        .fallback(crate::rest::no_endpoint)
        .layer(axum::middleware::from_fn(cors))
}

/// Answers preflights and marks every answer as readable from any origin.
pub async fn cors(request: Request, next: Next) -> Response {
    let preflight = request.method() == Method::OPTIONS;
    let mut response = if preflight {
        StatusCode::NO_CONTENT.into_response()
    } else {
        next.run(request).await
    };
    let h = response.headers_mut();
    h.insert(
        header::ACCESS_CONTROL_ALLOW_ORIGIN,
        HeaderValue::from_static("*"),
    );
    h.insert(
        header::ACCESS_CONTROL_EXPOSE_HEADERS,
        HeaderValue::from_static("ETag, Retry-After"),
    );
    if preflight {
        h.insert(
            header::ACCESS_CONTROL_ALLOW_METHODS,
            HeaderValue::from_static("POST, OPTIONS"),
        );
        h.insert(
            header::ACCESS_CONTROL_ALLOW_HEADERS,
            HeaderValue::from_static("Authorization, Content-Type, If-None-Match"),
        );
        h.insert(
            header::ACCESS_CONTROL_MAX_AGE,
            HeaderValue::from_static("600"),
        );
    }
    response
}

/// An OFREP error body: `{key?, errorCode, errorDetails}`.
fn error(status: StatusCode, key: Option<&str>, code: &str, details: &str) -> Response {
    let mut body = json!({ "errorCode": code, "errorDetails": details });
    if let Some(key) = key {
        body["key"] = json!(key);
    }
    (status, Json(body)).into_response()
}

/// The request's context, and the environment whose settings apply: the context's
/// `environment` attribute, else the token's.
fn read_context(body: &Bytes) -> Result<Context, (&'static str, String)> {
    if body.iter().all(u8::is_ascii_whitespace) {
        return Ok(Context::default());
    }
    let value: Value = serde_json::from_slice(body)
        .map_err(|e| ("PARSE_ERROR", format!("the body is not JSON: {e}")))?;
    let context = match &value {
        Value::Object(o) => o.get("context"),
        _ => {
            return Err((
                "INVALID_CONTEXT",
                "the body must be {\"context\": {...}}".into(),
            ))
        }
    };
    Context::from_json(context).map_err(|e| (e.code(), e.details().to_string()))
}

fn success(
    flag: &Flag,
    context: &Context,
    environment: Option<&str>,
) -> Result<Value, ContextError> {
    let e = evaluate(flag, context, environment)?;
    let mut metadata = json!({ "version": flag.version });
    if let Some(environment) = &e.environment {
        metadata["environment"] = json!(environment);
    }
    if !flag.description.is_empty() {
        metadata["description"] = json!(flag.description);
    }
    Ok(json!({
        "key": flag.key,
        "value": e.value,
        "reason": e.reason.as_str(),
        "variant": e.variant,
        "metadata": metadata,
    }))
}

async fn single(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    axum::extract::Path(key): axum::extract::Path<String>,
    body: Bytes,
) -> Response {
    let principal = match require(&caller, Role::Viewer) {
        Ok(p) => p,
        Err(e) => return crate::error::ApiError(e).into_response(),
    };
    let context = match read_context(&body) {
        Ok(c) => c,
        Err((code, details)) => return error(StatusCode::BAD_REQUEST, Some(&key), code, &details),
    };
    let flags = state.flags.snapshot();
    let Some(flag) = flags.flags.get(&key) else {
        return error(
            StatusCode::NOT_FOUND,
            Some(&key),
            "FLAG_NOT_FOUND",
            &format!("there is no flag with key '{key}'"),
        );
    };
    let environment = context.environment().or(principal.environment.as_deref());
    match success(flag, &context, environment) {
        Ok(body) => Json(body).into_response(),
        Err(e) => error(StatusCode::BAD_REQUEST, Some(&key), e.code(), e.details()),
    }
}

async fn bulk(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let principal = match require(&caller, Role::Viewer) {
        Ok(p) => p,
        Err(e) => return crate::error::ApiError(e).into_response(),
    };
    let context = match read_context(&body) {
        Ok(c) => c,
        Err((code, details)) => return error(StatusCode::BAD_REQUEST, None, code, &details),
    };
    let environment = context.environment().or(principal.environment.as_deref());
    let flags = state.flags.snapshot();
    let results: Vec<Value> = flags
        .flags
        .values()
        .map(|flag| {
            success(flag, &context, environment).unwrap_or_else(
                |e| json!({ "key": flag.key, "errorCode": e.code(), "errorDetails": e.details() }),
            )
        })
        .collect();
    let body = json!({ "flags": results }).to_string();
    let digest = Sha256::digest(body.as_bytes());
    let etag = format!(
        "\"{}\"",
        digest[..16]
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect::<String>()
    );
    let unchanged = headers
        .get(header::IF_NONE_MATCH)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| {
            v.split(',')
                .any(|tag| tag.trim() == etag || tag.trim() == "*")
        });
    let etag_header = [(header::ETAG, etag)];
    if unchanged {
        return (StatusCode::NOT_MODIFIED, etag_header).into_response();
    }
    (
        etag_header,
        [(header::CONTENT_TYPE, "application/json")],
        body,
    )
        .into_response()
}
