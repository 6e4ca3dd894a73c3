//! Browser-facing protections.
//! - Security headers on every response, with a Content-Security-Policy whose per-response nonce
//!   is handed to Leptos so its inline hydration scripts run and nothing else inline does.
//! - Cross-site write refusal: a cookie-authenticated request that changes state (server
//!   functions included) or opens the websocket must come from this site's own origin, or from one
//!   listed in FLIGHTDECK_ALLOWED_ORIGINS. Requests with a Bearer token carry no ambient
//!   credentials, so they are exempt.

use crate::auth::caller::bearer_token;
use crate::state::AppState;
use app::error::{AppError, ErrorCode};
use axum::extract::{Request, State};
use axum::http::{header, HeaderValue, Method};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use rand::RngCore;

/// The nonce of the response being built, read by the Leptos context set-up in `web`.
#[derive(Debug, Clone)]
pub struct CspNonce(pub String);

fn new_nonce() -> String {
    let mut bytes = [0u8; 16];
    rand::rng().fill_bytes(&mut bytes);
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

pub fn content_security_policy(nonce: &str) -> String {
    format!(
        "default-src 'self'; script-src 'self' 'nonce-{nonce}' 'wasm-unsafe-eval'; \
         style-src 'self' 'unsafe-inline'; img-src 'self' data:; connect-src 'self'; \
         font-src 'self'; manifest-src 'self'; worker-src 'self'; object-src 'none'; \
         base-uri 'self'; form-action 'self'; frame-ancestors 'none'"
    )
}

pub async fn headers(State(state): State<AppState>, mut request: Request, next: Next) -> Response {
    let nonce = new_nonce();
    request.extensions_mut().insert(CspNonce(nonce.clone()));
    let is_api = request.uri().path().starts_with("/api/");
    let mut response = next.run(request).await;
    let h = response.headers_mut();
    // API answers may carry secrets (a new token, a session): no cache, shared or private, keeps
    // them.
    if is_api && !h.contains_key(header::CACHE_CONTROL) {
        h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    }
    // Served over https (FLIGHTDECK_PUBLIC_URL says so): browsers keep to https from now on.
    if state.config.secure_cookies {
        h.insert(
            header::STRICT_TRANSPORT_SECURITY,
            HeaderValue::from_static("max-age=31536000; includeSubDomains"),
        );
    }
    if let Ok(csp) = HeaderValue::from_str(&content_security_policy(&nonce)) {
        h.insert(header::CONTENT_SECURITY_POLICY, csp);
    }
    h.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    h.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    h.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("same-origin"),
    );
    h.insert(
        "permissions-policy",
        HeaderValue::from_static("camera=(), microphone=(), geolocation=()"),
    );
    response
}

/// Whether `origin` (an Origin header value) is this request's own site or an allowed one.
pub fn origin_allowed(origin: &str, host: Option<&str>, allowed: &[String]) -> bool {
    if allowed.iter().any(|a| a == origin) {
        return true;
    }
    let Ok(url) = url::Url::parse(origin) else {
        return false;
    };
    let Some(origin_host) = url.host_str() else {
        return false;
    };
    let origin_authority = match url.port() {
        Some(port) => format!("{origin_host}:{port}"),
        None => origin_host.to_string(),
    };
    host.is_some_and(|h| h.eq_ignore_ascii_case(&origin_authority))
}

pub async fn refuse_cross_site(
    State(state): State<AppState>,
    request: Request,
    next: Next,
) -> Response {
    let method = request.method();
    let unsafe_method = !matches!(*method, Method::GET | Method::HEAD | Method::OPTIONS);
    let is_upgrade = request.uri().path() == "/ws";
    if (!unsafe_method && !is_upgrade) || bearer_token(request.headers()).is_some() {
        return next.run(request).await;
    }
    let headers = request.headers();
    let host = headers.get(header::HOST).and_then(|v| v.to_str().ok());
    let verdict = match headers.get(header::ORIGIN).and_then(|v| v.to_str().ok()) {
        Some(origin) => origin_allowed(origin, host, &state.config.allowed_origins),
        // No Origin: not a browser's cross-site request, unless Fetch Metadata says it is.
        None => headers.get("sec-fetch-site").and_then(|v| v.to_str().ok()) != Some("cross-site"),
    };
    if verdict {
        next.run(request).await
    } else {
        crate::error::ApiError(AppError::new(
            ErrorCode::Forbidden,
            "Cross-site request refused. Open Flightdeck at its own address, or add this origin to FLIGHTDECK_ALLOWED_ORIGINS.",
        ))
        .into_response()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn same_host_and_listed_origins_pass() {
        let allowed = vec!["http://127.0.0.1:8080".to_string()];
        assert!(origin_allowed(
            "http://127.0.0.1:3000",
            Some("127.0.0.1:3000"),
            &allowed
        ));
        assert!(origin_allowed(
            "https://deck.example.com",
            Some("deck.example.com"),
            &allowed
        ));
        assert!(origin_allowed(
            "http://127.0.0.1:8080",
            Some("127.0.0.1:3000"),
            &allowed
        ));
        assert!(!origin_allowed(
            "https://evil.example",
            Some("127.0.0.1:3000"),
            &allowed
        ));
        assert!(!origin_allowed("null", Some("127.0.0.1:3000"), &allowed));
        assert!(!origin_allowed("http://127.0.0.1:3000", None, &[]));
    }

    #[test]
    fn the_policy_forbids_framing_and_allows_wasm() {
        let csp = content_security_policy("abc");
        assert!(csp.contains("'nonce-abc'"));
        assert!(csp.contains("'wasm-unsafe-eval'"));
        assert!(csp.contains("frame-ancestors 'none'"));
        assert!(!csp.contains("script-src 'self' 'unsafe-inline'"));
    }
}
