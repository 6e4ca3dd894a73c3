//! REST errors: `{ "error": { "code", "message" } }` with the status the code implies. Database and
//! other internal failures are logged here with their detail and reach the client only as a
//! generic 500, or as 503 with `Retry-After` when the database cannot be reached (nothing was
//! done, and trying again later is the right thing to do).

use app::error::{AppError, ErrorCode};
use axum::{
    extract::rejection::{JsonRejection, PathRejection, QueryRejection},
    http::StatusCode,
    response::{IntoResponse, Response},
    Json,
};

#[derive(Debug)]
pub struct ApiError(pub AppError);

impl From<AppError> for ApiError {
    fn from(e: AppError) -> Self {
        ApiError(e)
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let status =
            StatusCode::from_u16(self.0.code.status()).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        let body = serde_json::json!({
            "error": { "code": self.0.code.as_str(), "message": self.0.message }
        });
        let mut response = (status, Json(body)).into_response();
        if let Some(seconds) = self.0.retry_after_s {
            response
                .headers_mut()
                .insert(axum::http::header::RETRY_AFTER, seconds.into());
        }
        response
    }
}

/// Logs an unexpected failure with its cause and returns the error the client may see. An
/// [`AppError`] passes through: it already says what the client may know.
pub fn internal<E: std::fmt::Display + 'static>(context: &str, error: E) -> AppError {
    if let Some(decided) = (&error as &dyn std::any::Any).downcast_ref::<AppError>() {
        return decided.clone();
    }
    let unreachable = (&error as &dyn std::any::Any)
        .downcast_ref::<sqlx::Error>()
        .is_some_and(is_unreachable);
    if unreachable {
        tracing::warn!(%error, "{context}: the database is unreachable");
        return database_unreachable();
    }
    tracing::error!(%error, "{context}");
    AppError::internal()
}

/// `?` for storage and other failures nobody can act on, with what was being done:
/// `.context("reading the status matrix")?` logs the cause with those words and gives the client
/// the generic 500, or 503 when the database could not be reached ([`internal`]).
pub trait Context<T> {
    fn context(self, doing: &str) -> Result<T, AppError>;
    /// For words that cost something to make (a `format!`), made only on failure.
    fn with_context(self, doing: impl FnOnce() -> String) -> Result<T, AppError>;
}

impl<T, E: std::fmt::Display + 'static> Context<T> for Result<T, E> {
    fn context(self, doing: &str) -> Result<T, AppError> {
        self.map_err(|e| internal(doing, e))
    }

    fn with_context(self, doing: impl FnOnce() -> String) -> Result<T, AppError> {
        self.map_err(|e| internal(&doing(), e))
    }
}

/// 503 with `Retry-After`: nothing was done because the database could not be reached.
pub fn database_unreachable() -> AppError {
    let mut refused = AppError::unavailable(
        "Flightdeck cannot reach its database, so nothing was read or changed. It reconnects by itself; try again in a few seconds.",
    );
    refused.retry_after_s = Some(5);
    refused
}

/// A failure to reach the database, as opposed to a failing statement: no connection came
/// within the pool's timeout, the connection broke, or the server is shutting down or starting
/// (SQLSTATE class 08 and 57P), or SQLite's file stayed locked.
pub fn is_unreachable(error: &sqlx::Error) -> bool {
    match error {
        sqlx::Error::PoolTimedOut
        | sqlx::Error::PoolClosed
        | sqlx::Error::Io(_)
        | sqlx::Error::Tls(_)
        | sqlx::Error::WorkerCrashed => true,
        sqlx::Error::Database(db) => db.code().is_some_and(|code| {
            code.starts_with("08") || code.starts_with("57P") || code == "5" || code == "517"
        }),
        _ => false,
    }
}

/// Unique-constraint violations, recognised by kind rather than by the text of the message.
pub fn is_unique_violation(error: &sqlx::Error) -> bool {
    matches!(violation(error), Some(Violation::Unique(_)))
}

/// A write refused by a constraint a person can run into: a name already taken (with the
/// constraint's name on PostgreSQL, which says which of a table's unique constraints it was;
/// SQLite names only columns, so there the kind alone decides), or a row it refers to removed
/// meanwhile.
#[derive(Debug, PartialEq, Eq)]
pub enum Violation<'a> {
    Unique(Option<&'a str>),
    ForeignKey,
}

pub fn violation(error: &sqlx::Error) -> Option<Violation<'_>> {
    let sqlx::Error::Database(db) = error else {
        return None;
    };
    match db.kind() {
        sqlx::error::ErrorKind::UniqueViolation => Some(Violation::Unique(db.constraint())),
        sqlx::error::ErrorKind::ForeignKeyViolation => Some(Violation::ForeignKey),
        _ => None,
    }
}

/// 409 for a write that referred to a row removed while it was being made.
pub fn removed_meanwhile() -> AppError {
    AppError::conflict(
        "Something this refers to was removed while the change was being made; reload and try again.",
    )
}

impl From<JsonRejection> for ApiError {
    fn from(rejection: JsonRejection) -> Self {
        let code = match rejection.status() {
            StatusCode::PAYLOAD_TOO_LARGE => ErrorCode::PayloadTooLarge,
            StatusCode::UNPROCESSABLE_ENTITY => ErrorCode::Unprocessable,
            _ => ErrorCode::BadRequest,
        };
        ApiError(AppError::new(
            code,
            format!("Invalid JSON body: {}", rejection.body_text()),
        ))
    }
}

impl From<QueryRejection> for ApiError {
    fn from(rejection: QueryRejection) -> Self {
        ApiError(AppError::bad_request(format!(
            "Invalid query string: {}",
            rejection.body_text()
        )))
    }
}

impl From<PathRejection> for ApiError {
    fn from(rejection: PathRejection) -> Self {
        ApiError(AppError::bad_request(format!(
            "Invalid path: {}",
            rejection.body_text()
        )))
    }
}

/// `Path` whose rejections use the API's error format.
#[derive(axum::extract::FromRequestParts)]
#[from_request(via(axum::extract::Path), rejection(ApiError))]
pub struct ApiPath<T>(pub T);

/// JSON bodies: see [`crate::json_body`].
pub use crate::json_body::ApiJson;

/// `Query` whose rejections use the API's error format.
#[derive(axum::extract::FromRequestParts)]
#[from_request(via(axum::extract::Query), rejection(ApiError))]
pub struct ApiQuery<T>(pub T);

pub type ApiResult<T> = Result<T, ApiError>;

/// A raw body that could not be read: 413 past `limit`, 400 otherwise.
pub fn unreadable_body(
    rejection: axum::extract::rejection::BytesRejection,
    limit: usize,
) -> ApiError {
    let code = if rejection.status() == StatusCode::PAYLOAD_TOO_LARGE {
        ErrorCode::PayloadTooLarge
    } else {
        ErrorCode::BadRequest
    };
    ApiError(AppError::new(
        code,
        format!(
            "The body could not be read: {} (limit {limit} bytes).",
            rejection.body_text()
        ),
    ))
}
