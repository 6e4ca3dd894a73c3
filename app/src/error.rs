//! The one error type that crosses the wire: server functions return it, the REST layer maps it to
//! `{ "error": { "code", "message" } }`, and the UI shows `message` as is. Messages are written
//! for the person reading them (what went wrong and what to do next); internal details are logged
//! on the server and never placed here.

use leptos::server_fn::{
    codec::JsonEncoding,
    error::{FromServerFnError, ServerFnErrorErr},
};
use serde::{Deserialize, Serialize};

/// What kind of failure this is; decides the HTTP status and what the UI offers next.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ErrorCode {
    BadRequest,
    Unauthorized,
    Forbidden,
    NotFound,
    Conflict,
    PayloadTooLarge,
    Unprocessable,
    RateLimited,
    Unavailable,
    Internal,
}

impl ErrorCode {
    pub fn status(self) -> u16 {
        match self {
            ErrorCode::BadRequest => 400,
            ErrorCode::Unauthorized => 401,
            ErrorCode::Forbidden => 403,
            ErrorCode::NotFound => 404,
            ErrorCode::Conflict => 409,
            ErrorCode::PayloadTooLarge => 413,
            ErrorCode::Unprocessable => 422,
            ErrorCode::RateLimited => 429,
            ErrorCode::Unavailable => 503,
            ErrorCode::Internal => 500,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            ErrorCode::BadRequest => "bad_request",
            ErrorCode::Unauthorized => "unauthorized",
            ErrorCode::Forbidden => "forbidden",
            ErrorCode::NotFound => "not_found",
            ErrorCode::Conflict => "conflict",
            ErrorCode::PayloadTooLarge => "payload_too_large",
            ErrorCode::Unprocessable => "unprocessable",
            ErrorCode::RateLimited => "rate_limited",
            ErrorCode::Unavailable => "unavailable",
            ErrorCode::Internal => "internal",
        }
    }

    /// Whether asking the same again later may succeed: the server or the way to it was down
    /// or busy, not the question wrong or not allowed.
    pub fn passes_later(self) -> bool {
        matches!(
            self,
            ErrorCode::Unavailable | ErrorCode::Internal | ErrorCode::RateLimited
        )
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, thiserror::Error)]
#[error("{message}")]
pub struct AppError {
    pub code: ErrorCode,
    pub message: String,
    /// For `RateLimited`: seconds until a retry may succeed, sent as `Retry-After`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub retry_after_s: Option<u64>,
}

impl AppError {
    pub fn new(code: ErrorCode, message: impl Into<String>) -> Self {
        Self {
            code,
            message: message.into(),
            retry_after_s: None,
        }
    }
    /// 429 with `Retry-After: seconds`.
    pub fn rate_limited(message: impl Into<String>, seconds: u64) -> Self {
        Self {
            retry_after_s: Some(seconds.max(1)),
            ..Self::new(ErrorCode::RateLimited, message)
        }
    }
    pub fn bad_request(message: impl Into<String>) -> Self {
        Self::new(ErrorCode::BadRequest, message)
    }
    pub fn unprocessable(message: impl Into<String>) -> Self {
        Self::new(ErrorCode::Unprocessable, message)
    }
    pub fn unauthorized() -> Self {
        Self::new(ErrorCode::Unauthorized, "Sign in to continue.")
    }
    pub fn forbidden(needed: crate::model::Role) -> Self {
        Self::new(
            ErrorCode::Forbidden,
            format!("This needs the {needed} role; ask an admin if you should have it."),
        )
    }
    /// 404 for `what` ("alert 12"): "alert 12 was not found."
    pub fn not_found(what: impl std::fmt::Display) -> Self {
        Self::new(ErrorCode::NotFound, format!("{what} was not found."))
    }
    /// 404 said in a sentence of its own ("No deployment #12.").
    pub fn missing(message: impl Into<String>) -> Self {
        Self::new(ErrorCode::NotFound, message)
    }
    pub fn conflict(message: impl Into<String>) -> Self {
        Self::new(ErrorCode::Conflict, message)
    }
    /// A failure whose cause is in the server log; the user only learns that it was not them.
    pub fn internal() -> Self {
        Self::new(
            ErrorCode::Internal,
            "Something went wrong on the server; the details are in its log. Try again.",
        )
    }
    pub fn unavailable(message: impl Into<String>) -> Self {
        Self::new(ErrorCode::Unavailable, message)
    }
}

impl FromServerFnError for AppError {
    type Encoder = JsonEncoding;

    fn from_server_fn_error(value: ServerFnErrorErr) -> Self {
        match value {
            // The request never reached the server: say so, in the words of someone offline.
            ServerFnErrorErr::Request(_) => AppError::unavailable(
                "Flightdeck could not be reached. Check your connection; it retries when you try again.",
            ),
            ServerFnErrorErr::Args(m) | ServerFnErrorErr::Deserialization(m) => {
                AppError::bad_request(format!("The request was not understood: {m}"))
            }
            ServerFnErrorErr::UnsupportedRequestMethod(m) => AppError::bad_request(m),
            ServerFnErrorErr::Registration(_) => AppError::not_found("That action"),
            other => AppError::new(ErrorCode::Internal, other.to_string()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_map_to_the_documented_statuses() {
        assert_eq!(ErrorCode::RateLimited.status(), 429);
        assert_eq!(ErrorCode::Unauthorized.status(), 401);
        assert_eq!(ErrorCode::PayloadTooLarge.status(), 413);
        let json = serde_json::to_string(&AppError::conflict("x")).unwrap();
        assert_eq!(json, r#"{"code":"conflict","message":"x"}"#);
    }

    #[test]
    fn a_request_that_never_reached_the_server_is_worth_asking_again_and_a_refusal_is_not() {
        let offline = AppError::from_server_fn_error(ServerFnErrorErr::Request("reset".into()));
        assert!(offline.code.passes_later());
        assert!(AppError::internal().code.passes_later());
        for refused in [
            AppError::unauthorized(),
            AppError::forbidden(crate::model::Role::Operator),
            AppError::not_found("Deployment 7"),
            AppError::unprocessable("after: must be 0 or more"),
        ] {
            assert!(!refused.code.passes_later(), "{refused:?}");
        }
    }
}
