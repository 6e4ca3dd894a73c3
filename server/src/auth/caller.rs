//! Resolves who is calling, once per request: a `Bearer` token wins over the session cookie (a
//! machine that sends a token is judged by the token alone, even if it also carries a cookie).
//! The result goes into the request's extensions as [`Caller`] for handlers and server functions.

use super::SESSION_USER_ID;
use crate::state::AppState;
use app::model::Caller;
use axum::extract::{ConnectInfo, Request, State};
use axum::http::{header, HeaderMap, Method, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Redirect, Response};
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use tower_sessions::Session;

pub fn bearer_token(headers: &HeaderMap) -> Option<&str> {
    let value = headers.get(header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, token) = value.split_once(' ')?;
    scheme
        .eq_ignore_ascii_case("bearer")
        .then(|| token.trim())
        .filter(|t| !t.is_empty())
}

/// The peer address; requests built in tests without one count as a single local client.
pub fn client_addr(extensions: &http::Extensions) -> IpAddr {
    extensions
        .get::<ConnectInfo<SocketAddr>>()
        .map(|c| c.0.ip())
        .unwrap_or(IpAddr::V4(Ipv4Addr::LOCALHOST))
}

/// Static files need no caller; skipping them saves a session read per asset.
fn is_static(path: &str) -> bool {
    path.starts_with("/pkg/")
        || path.starts_with("/icons/")
        || matches!(
            path,
            "/sw.js"
                | "/sw-register.js"
                | "/offline.js"
                | "/manifest.webmanifest"
                | "/offline.html"
                | "/favicon.ico"
        )
}

pub async fn resolve(State(state): State<AppState>, mut request: Request, next: Next) -> Response {
    if is_static(request.uri().path()) {
        return next.run(request).await;
    }
    let principal = if let Some(token) = bearer_token(request.headers()) {
        match state.accounts.principal_for_token(token).await {
            Ok(Some(p)) => {
                if let Err(refusal) = within_scopes(&p, request.method(), request.uri().path()) {
                    return crate::error::ApiError(refusal).into_response();
                }
                Some(p)
            }
            Ok(None) => {
                // A wrong token is refused outright rather than treated as anonymous, so a
                // script learns at once that its credentials are bad.
                return crate::error::ApiError(app::error::AppError::new(
                    app::error::ErrorCode::Unauthorized,
                    "The API token is unknown or revoked. Create a new one under Settings → API tokens.",
                ))
                .into_response();
            }
            Err(e) if e.code == app::error::ErrorCode::Unavailable => {
                return unreachable(&request);
            }
            Err(e) => return crate::error::ApiError(e).into_response(),
        }
    } else if let Some(session) = request.extensions().get::<Session>().cloned() {
        let max_ms = state.config.session_max.as_millis() as i64;
        let signed_in_at = session
            .get::<i64>(super::SESSION_SIGNED_IN_AT)
            .await
            .ok()
            .flatten();
        if signed_in_at.is_some_and(|at| crate::now_ms() - at > max_ms) {
            // Past the absolute lifetime: the session ends, activity or not.
            let _ = session.flush().await;
        }
        match session.get::<i64>(SESSION_USER_ID).await {
            Ok(Some(user_id)) => match state.accounts.principal_for_user(user_id).await {
                Ok(principal) => principal,
                // Not signed out: the account could not be read. Sending the visitor to sign
                // in again would fail too, and mislead.
                Err(e) if e.code == app::error::ErrorCode::Unavailable => {
                    return unreachable(&request);
                }
                Err(_) => None,
            },
            Ok(None) => None,
            Err(error) => {
                tracing::warn!(%error, "session could not be read");
                if state.reachability.is_down() {
                    return unreachable(&request);
                }
                None
            }
        }
    } else {
        None
    };
    request.extensions_mut().insert(Caller(principal));
    next.run(request).await
}

/// A scoped token may make only the requests its scopes name (`app::scopes::required`); others
/// get 403 before any handler runs, whatever the token's role would allow.
fn within_scopes(
    principal: &app::model::Principal,
    method: &Method,
    path: &str,
) -> Result<(), app::error::AppError> {
    if principal.scopes.is_empty() {
        return Ok(());
    }
    match app::scopes::required(method.as_str(), path) {
        Some(scope) if principal.scopes.contains(&scope) => Ok(()),
        needed => {
            let has: Vec<&str> = principal.scopes.iter().map(|s| s.as_str()).collect();
            Err(app::error::AppError::new(
                app::error::ErrorCode::Forbidden,
                match needed {
                    Some(scope) => format!(
                        "This token is limited to {}; {method} {path} needs the {scope} scope.",
                        has.join(", ")
                    ),
                    None => format!(
                        "This token is limited to {}; no scope allows {method} {path}. Use an unscoped token.",
                        has.join(", ")
                    ),
                },
            ))
        }
    }
}

/// A browser navigation to a page (not the API, a bundle or a file).
pub(crate) fn is_page(request: &Request) -> bool {
    let path = request.uri().path();
    let wants_html = request
        .headers()
        .get(header::ACCEPT)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.contains("text/html"));
    request.method() == Method::GET
        && wants_html
        && !path.starts_with("/api/")
        && !path.starts_with("/pkg/")
        && path != "/ws"
        && path != "/metrics"
        && !path.rsplit('/').next().unwrap_or("").contains('.')
}

/// 503 because who is calling could not be read from the database: the API's JSON error, or for
/// a page a short one that says so and reloads itself every 10 s until the database is back.
fn unreachable(request: &Request) -> Response {
    let error = crate::error::database_unreachable();
    if !is_page(request) {
        return crate::error::ApiError(error).into_response();
    }
    let page = format!(
        "<!DOCTYPE html><html lang=\"en\" data-theme=\"dark\"><head><meta charset=\"utf-8\">\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
         <meta http-equiv=\"refresh\" content=\"10\"><title>Database unreachable · Flightdeck</title>\
         <link rel=\"stylesheet\" href=\"/pkg/flightdeck.css\"></head><body><main class=\"content\">\
         <h1>Flightdeck</h1><p class=\"outage-banner\" role=\"alert\" data-testid=\"database-banner\">{}</p>\
         <p>This page reloads by itself every 10 seconds.</p></main></body></html>",
        error.message
    );
    (
        StatusCode::SERVICE_UNAVAILABLE,
        [
            (header::CONTENT_TYPE, "text/html; charset=utf-8"),
            (header::CACHE_CONTROL, "no-store"),
            (header::RETRY_AFTER, "10"),
        ],
        page,
    )
        .into_response()
}

/// Pages (HTML navigations) need a signed-in user: others are sent to the sign-in page and
/// brought back afterwards. API calls get 401 from their handlers instead.
pub async fn page_guard(request: Request, next: Next) -> Response {
    if !is_page(&request) {
        return next.run(request).await;
    }
    let path = request.uri().path();
    let signed_in = request
        .extensions()
        .get::<Caller>()
        .is_some_and(|c| c.0.is_some());
    match (path == "/signin", signed_in) {
        (true, true) => {
            let next = url::form_urlencoded::parse(request.uri().query().unwrap_or("").as_bytes())
                .find(|(key, _)| key == "next")
                .map(|(_, value)| value.into_owned());
            Redirect::to(&app::pages::safe_next(next.as_deref())).into_response()
        }
        (false, false) => {
            let target = request
                .uri()
                .path_and_query()
                .map(|p| p.as_str())
                .unwrap_or("/");
            let next_param: String =
                url::form_urlencoded::byte_serialize(target.as_bytes()).collect();
            let mut response = Redirect::to(&format!("/signin?next={next_param}")).into_response();
            *response.status_mut() = StatusCode::SEE_OTHER;
            response
        }
        _ => next.run(request).await,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bearer_tokens_are_read_case_insensitively() {
        let mut h = HeaderMap::new();
        h.insert(header::AUTHORIZATION, "bearer fdt_abc".parse().unwrap());
        assert_eq!(bearer_token(&h), Some("fdt_abc"));
        h.insert(header::AUTHORIZATION, "Basic Zm9v".parse().unwrap());
        assert_eq!(bearer_token(&h), None);
        h.insert(header::AUTHORIZATION, "Bearer ".parse().unwrap());
        assert_eq!(bearer_token(&h), None);
    }
}
