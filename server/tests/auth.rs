//! Sign-in, its throttle, sessions and cross-site refusal, through the real router, on both
//! databases. API tokens, roles and account administration are `access.rs`.

mod common;
use axum::http::StatusCode;
use common::{Auth, TestApp, ADMIN_PASSWORD};
use serde_json::json;

async fn sign_in_starts_a_session_and_audits_it(app: TestApp) {
    assert_eq!(
        app.get("/api/v1/me", &Auth::None).await.status,
        StatusCode::UNAUTHORIZED
    );
    let res = app.try_sign_in(&Auth::None, "admin", ADMIN_PASSWORD).await;
    assert_eq!(res.status, StatusCode::OK, "{}", res.body);
    let set_cookie = res
        .headers
        .get("set-cookie")
        .unwrap()
        .to_str()
        .unwrap()
        .to_string();
    assert!(set_cookie.contains("HttpOnly"), "{set_cookie}");
    assert!(set_cookie.contains("SameSite=Lax"), "{set_cookie}");
    assert!(
        !set_cookie.contains("Secure"),
        "plain-http deployments must not get Secure cookies"
    );
    let cookie = Auth::Cookie(res.session_cookie().unwrap());
    let me = app.get("/api/v1/me", &cookie).await;
    assert_eq!(me.status, StatusCode::OK);
    assert_eq!(
        me.json(),
        json!({"username": "admin", "role": "admin", "kind": "user"})
    );
    assert!(app
        .audit_actions()
        .await
        .contains(&"user.signed_in".to_string()));
}

async fn wrong_credentials_get_one_generic_message(app: TestApp) {
    let wrong_password = app
        .try_sign_in(&Auth::None, "admin", "nope-nope-nope")
        .await;
    let unknown_user = app
        .try_sign_in(&Auth::None, "ghost", "nope-nope-nope")
        .await;
    assert_eq!(wrong_password.status, StatusCode::UNAUTHORIZED);
    assert_eq!(unknown_user.status, StatusCode::UNAUTHORIZED);
    assert_eq!(wrong_password.body, unknown_user.body);
    assert!(wrong_password.body.contains("Wrong username or password."));
    assert!(
        wrong_password.session_cookie().is_none() || {
            let c = Auth::Cookie(wrong_password.session_cookie().unwrap());
            app.get("/api/v1/me", &c).await.status == StatusCode::UNAUTHORIZED
        }
    );
    assert!(!app
        .audit_actions()
        .await
        .contains(&"user.signed_in".to_string()));
}

async fn repeated_failures_are_slowed_down(app: TestApp) {
    for _ in 0..5 {
        let r = app
            .try_sign_in(&Auth::None, "admin", "guess-guess-guess")
            .await;
        assert_eq!(r.status, StatusCode::UNAUTHORIZED);
    }
    // Even the right password waits now: the brake does not tell a guesser when they are right.
    let r = app.try_sign_in(&Auth::None, "admin", ADMIN_PASSWORD).await;
    assert_eq!(r.status, StatusCode::TOO_MANY_REQUESTS, "{}", r.body);
    assert!(r.body.contains("Try again in"));
}

/// 100 wrong passwords at once: at most five are hashed and answered 401; the rest get 429 with
/// Retry-After straight away, before any hashing.
async fn a_burst_of_parallel_guesses_is_counted_before_hashing(app: TestApp) {
    let attempts = (0..100).map(|i| {
        let app = &app;
        async move {
            // A username per attempt too: only the shared address holds them back.
            app.try_sign_in(
                &Auth::None,
                if i % 2 == 0 { "admin" } else { "nobody" },
                "guess-guess-guess",
            )
            .await
        }
    });
    let answers = futures_util::future::join_all(attempts).await;
    let refused: Vec<_> = answers
        .iter()
        .filter(|r| r.status == StatusCode::TOO_MANY_REQUESTS)
        .collect();
    let hashed = answers
        .iter()
        .filter(|r| r.status == StatusCode::UNAUTHORIZED)
        .count();
    assert!(hashed <= 5, "{hashed} guesses were hashed");
    assert_eq!(hashed + refused.len(), 100);
    assert!(refused
        .iter()
        .all(|r| r.headers.get("retry-after").is_some()));
}

async fn the_session_id_changes_at_sign_in_and_dies_at_sign_out(app: TestApp) {
    let first = app.sign_in("admin", ADMIN_PASSWORD).await;
    let again = app.try_sign_in(&first, "admin", ADMIN_PASSWORD).await;
    assert_eq!(again.status, StatusCode::OK);
    let second = Auth::Cookie(again.session_cookie().expect("a new cookie"));
    assert_ne!(format!("{first:?}"), format!("{second:?}"));
    assert_eq!(
        app.get("/api/v1/me", &first).await.status,
        StatusCode::UNAUTHORIZED,
        "old id must be dead"
    );
    assert_eq!(app.get("/api/v1/me", &second).await.status, StatusCode::OK);
    assert_eq!(
        app.server_fn("sign_out", &second, &[]).await.status,
        StatusCode::OK
    );
    assert_eq!(
        app.get("/api/v1/me", &second).await.status,
        StatusCode::UNAUTHORIZED
    );
}

async fn cross_site_writes_are_refused(app: TestApp) {
    let cookie = app.sign_in("admin", ADMIN_PASSWORD).await;
    let before = app.audit_actions().await.len();
    for origin in ["https://evil.example", "null"] {
        let req = cookie
            .apply(http::Request::post("/api/tokens_create"))
            .header("host", "127.0.0.1:3000")
            .header("origin", origin)
            .header("content-type", "application/x-www-form-urlencoded")
            .body(axum::body::Body::from("name=stolen&role=admin"))
            .unwrap();
        let res = app.send(req).await;
        assert_eq!(res.status, StatusCode::FORBIDDEN, "{origin}: {}", res.body);
        assert_eq!(res.json()["error"]["code"], "forbidden");
    }
    let req = cookie
        .apply(http::Request::post("/api/tokens_create"))
        .header("sec-fetch-site", "cross-site")
        .header("content-type", "application/x-www-form-urlencoded")
        .body(axum::body::Body::from("name=stolen&role=admin"))
        .unwrap();
    assert_eq!(app.send(req).await.status, StatusCode::FORBIDDEN);
    // The REST API and the websocket follow the same rule for a cookie-authenticated caller.
    let req = cookie
        .apply(http::Request::post("/api/v1/services"))
        .header("host", "127.0.0.1:3000")
        .header("origin", "https://evil.example")
        .header("content-type", "application/json")
        .body(axum::body::Body::from(r#"{"name":"planted"}"#))
        .unwrap();
    let res = app.send(req).await;
    assert_eq!(res.status, StatusCode::FORBIDDEN, "{}", res.body);
    let req = cookie
        .apply(http::Request::get("/ws"))
        .header("host", "127.0.0.1:3000")
        .header("origin", "https://evil.example")
        .header("connection", "upgrade")
        .header("upgrade", "websocket")
        .header("sec-websocket-version", "13")
        .header("sec-websocket-key", "dGhlIHNhbXBsZSBub25jZQ==")
        .body(axum::body::Body::empty())
        .unwrap();
    let res = app.send(req).await;
    assert_eq!(res.status, StatusCode::FORBIDDEN, "{}", res.body);
    assert_eq!(app.audit_actions().await.len(), before, "nothing changed");
    let services = app.get("/api/v1/services", &cookie).await.json();
    assert_eq!(services, json!([]), "nothing planted");
    // The same request from the site itself works.
    let ok = app
        .server_fn(
            "tokens_create",
            &cookie,
            &[("name", "legit"), ("role", "viewer")],
        )
        .await;
    assert_eq!(ok.status, StatusCode::OK, "{}", ok.body);
}

on_both_databases!(
    sign_in_starts_a_session_and_audits_it,
    wrong_credentials_get_one_generic_message,
    repeated_failures_are_slowed_down,
    a_burst_of_parallel_guesses_is_counted_before_hashing,
    the_session_id_changes_at_sign_in_and_dies_at_sign_out,
    cross_site_writes_are_refused,
);

/// Behind a trusted proxy, each client's failures count against the address the proxy saw, not
/// against the proxy (which would throttle everyone at once); a forged header from elsewhere is
/// ignored.
#[tokio::test]
async fn sign_in_throttling_keys_on_the_client_behind_a_trusted_proxy() {
    use axum::body::Body;
    use axum::http::{header, Request};
    let config = flightdeck::config::WebConfig {
        // Requests in these tests come from 127.0.0.1, as from a proxy on the same machine.
        trusted_proxies: flightdeck::auth::proxies::parse_list("127.0.0.1").unwrap(),
        ..Default::default()
    };
    let app = TestApp::sqlite_with(config).await;
    let attempt = |client: &'static str, username: &'static str| {
        let request = Request::post("/api/sign_in")
            .header(header::HOST, "127.0.0.1:3000")
            .header(header::ORIGIN, "http://127.0.0.1:3000")
            .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
            .header(header::ACCEPT, "application/json")
            .header("x-forwarded-for", client)
            .body(Body::from(format!(
                "username={username}&password=guess-guess-guess"
            )))
            .unwrap();
        app.send(request)
    };
    for i in 0..5 {
        let name: &'static str = ["u0", "u1", "u2", "u3", "u4"][i];
        assert_eq!(
            attempt("198.51.100.7", name).await.status,
            StatusCode::UNAUTHORIZED
        );
    }
    assert_eq!(
        attempt("198.51.100.7", "u5").await.status,
        StatusCode::TOO_MANY_REQUESTS,
        "the guessing client waits"
    );
    assert_eq!(
        attempt("203.0.113.9", "u6").await.status,
        StatusCode::UNAUTHORIZED,
        "another client behind the same proxy does not"
    );
}

/// However active, a session ends its absolute lifetime after sign-in.
#[tokio::test]
async fn sessions_end_at_their_absolute_lifetime() {
    let config = flightdeck::config::WebConfig {
        session_max: std::time::Duration::from_millis(300),
        ..Default::default()
    };
    let app = TestApp::sqlite_with(config).await;
    let cookie = app.sign_in("admin", ADMIN_PASSWORD).await;
    assert_eq!(app.get("/api/v1/me", &cookie).await.status, StatusCode::OK);
    tokio::time::sleep(std::time::Duration::from_millis(400)).await;
    assert_eq!(
        app.get("/api/v1/me", &cookie).await.status,
        StatusCode::UNAUTHORIZED
    );
}
