//! The HTTP status of a server function that failed before its body ran. Leptos answers every such
//! failure (a body that is not the function's arguments, a JSON body where a form was expected)
//! with 500, whatever the error says; the body is our [`AppError`], whose code already says
//! "bad_request". A script sending a malformed request must read a 4xx, as from the REST API,
//! and the server's 500 count must not move for the caller's mistake. Failures inside a body
//! set their own status (`ports::call::reply`) and are left alone.

use app::error::AppError;
use axum::body::Body;
use axum::extract::Request;
use axum::http::StatusCode;
use axum::middleware::Next;
use axum::response::Response;
use leptos::server_fn::error::SERVER_FN_ERROR_HEADER;

/// A server function's error body is one short JSON object; anything longer is not one.
const MAX_ERROR_BYTES: usize = 64 * 1024;

pub async fn correct(request: Request, next: Next) -> Response {
    let response = next.run(request).await;
    if response.status() != StatusCode::INTERNAL_SERVER_ERROR
        || !response.headers().contains_key(SERVER_FN_ERROR_HEADER)
    {
        return response;
    }
    let (mut parts, body) = response.into_parts();
    let Ok(bytes) = axum::body::to_bytes(body, MAX_ERROR_BYTES).await else {
        return Response::from_parts(parts, Body::empty());
    };
    if let Some(status) = serde_json::from_slice::<AppError>(&bytes)
        .ok()
        .and_then(|error| StatusCode::from_u16(error.code.status()).ok())
    {
        parts.status = status;
    }
    Response::from_parts(parts, Body::from(bytes))
}
