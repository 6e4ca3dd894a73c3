//! Health, metrics, security headers and the sign-in redirect for pages.

mod common;
use axum::http::StatusCode;
use common::{Auth, TestApp, ADMIN_PASSWORD};

async fn health_reports_ok_with_checks(app: TestApp) {
    let res = app.get("/api/health", &Auth::None).await;
    assert_eq!(res.status, StatusCode::OK);
    let body = res.json();
    assert_eq!(body["status"], "ok");
    assert_eq!(body["version"], env!("CARGO_PKG_VERSION"));
    assert_eq!(body["checks"]["database"]["status"], "ok");
    assert_eq!(body["checks"]["realtime"]["status"], "ok");
}

async fn health_is_503_when_the_database_is_gone(app: TestApp) {
    app.state.db.pool.close().await;
    let res = app.get("/api/health", &Auth::None).await;
    assert_eq!(res.status, StatusCode::SERVICE_UNAVAILABLE);
    let body = res.json();
    assert_eq!(body["status"], "down");
    assert_eq!(body["checks"]["database"]["status"], "down");
}

async fn metrics_count_requests_by_route(app: TestApp) {
    app.get("/api/health", &Auth::None).await;
    app.get("/api/health", &Auth::None).await;
    let res = app.get("/metrics", &Auth::None).await;
    assert_eq!(res.status, StatusCode::OK);
    assert!(res.headers["content-type"]
        .to_str()
        .unwrap()
        .starts_with("text/plain"));
    assert!(
        res.body.contains(
            r#"flightdeck_http_requests_total{method="GET",route="/api/health",status="200"} 2"#
        ),
        "{}",
        res.body
    );
    assert!(res.body.contains("flightdeck_websocket_clients 0"));
    assert!(res
        .body
        .contains("flightdeck_http_request_duration_seconds_bucket"));
}

async fn invented_methods_do_not_grow_the_metrics(app: TestApp) {
    for i in 0..50 {
        let request = axum::http::Request::builder()
            .method(format!("X{i}").as_str())
            .uri("/api/health")
            .body(axum::body::Body::empty())
            .unwrap();
        app.send(request).await;
    }
    let body = app.get("/metrics", &Auth::None).await.body;
    assert!(!body.contains("method=\"X1\""), "{body}");
    assert!(body.contains("method=\"other\""), "{body}");
}

async fn pages_send_visitors_to_sign_in_and_back(app: TestApp) {
    let res = app.page("/audit?before=9", &Auth::None).await;
    assert_eq!(res.status, StatusCode::SEE_OTHER);
    assert_eq!(
        res.headers["location"],
        "/signin?next=%2Faudit%3Fbefore%3D9"
    );
    let cookie = app.sign_in("admin", ADMIN_PASSWORD).await;
    let res = app.page("/signin", &cookie).await;
    assert!(res.status.is_redirection());
    assert_eq!(res.headers["location"], "/");
    // Signed in already (a sign-in form posted before the page's script took over comes back
    // here): go where the visitor was going, but never off this site.
    let res = app
        .page("/signin?next=%2Fdeployments%3Fstatus%3Dfailed", &cookie)
        .await;
    assert_eq!(res.headers["location"], "/deployments?status=failed");
    for evil in [
        "%2F%2Fevil.example",
        "%2F%09%2Fevil.example",
        "%2F%5Cevil.example",
    ] {
        let res = app.page(&format!("/signin?next={evil}"), &cookie).await;
        assert_eq!(res.headers["location"], "/", "{evil}");
    }
    // API calls are answered, not redirected.
    let res = app.page("/api/v1/me", &Auth::None).await;
    assert_eq!(res.status, StatusCode::UNAUTHORIZED);
}

async fn pages_carry_security_headers_and_a_matching_nonce(app: TestApp) {
    let res = app.page("/signin", &Auth::None).await;
    assert_eq!(res.status, StatusCode::OK, "{}", res.body);
    assert_eq!(res.headers["x-content-type-options"], "nosniff");
    assert!(
        res.headers.get("strict-transport-security").is_none(),
        "no HSTS over plain http"
    );
    let csp = res.headers["content-security-policy"].to_str().unwrap();
    assert!(csp.contains("frame-ancestors 'none'"));
    assert!(csp.contains("'wasm-unsafe-eval'"));
    let nonce = res.csp_nonce();
    assert!(res.body.contains("Sign in"));
    // Each response has its own nonce.
    let again = app.page("/signin", &Auth::None).await;
    assert_ne!(again.csp_nonce(), nonce);
}

async fn the_dashboard_renders_for_a_signed_in_user(app: TestApp) {
    let cookie = app.sign_in("admin", ADMIN_PASSWORD).await;
    let res = app.page("/", &cookie).await;
    assert_eq!(res.status, StatusCode::OK);
    for text in [
        "Dashboard",
        "Deployments",
        "Audit",
        "Settings",
        "Is production OK?",
        // A new install watches nothing yet, and says so instead of "All clear".
        "Nothing is watched yet",
    ] {
        assert!(res.body.contains(text), "missing {text}");
    }
    let missing = app.page("/no-such-page", &cookie).await;
    assert_eq!(missing.status, StatusCode::NOT_FOUND);
    assert!(missing.body.contains("Page not found"));
    // A page of something that does not exist says so in its status too, every time (streamed,
    // the status went out before the data said 404, and was 200 now and then: 50 tries made it show).
    for path in [
        "/deployments/99999",
        "/alerts/99999",
        "/flags/no-such-flag",
        "/slos/99999",
    ] {
        for _ in 0..50 {
            let res = app.page(path, &cookie).await;
            assert_eq!(res.status, StatusCode::NOT_FOUND, "{path}: {}", res.body);
        }
    }
}

/// An API client that gets an address wrong is told so in JSON, with where the API is described
/// (it was answered with the HTML "Page not found" page).
async fn unknown_api_addresses_answer_json_404(app: TestApp) {
    let token = app.new_token("ci", app::model::Role::Viewer).await;
    for path in [
        "/api/v1/deploymnets",
        "/api/v2/silences",
        "/ofrep/v1/evaluate",
        "/api/list_alerts",
    ] {
        let res = app.get(path, &token).await;
        assert_eq!(res.status, StatusCode::NOT_FOUND, "{path}");
        assert_eq!(
            res.json()["error"]["message"],
            format!("No endpoint GET {path}; the API is described at /api/openapi.json."),
        );
    }
}

/// A server function sent a body that is not its arguments (a field missing, a value it does not
/// know) answers 400 with the error, as the REST API does: Leptos answered 500 to any failure
/// before the function's body ran. An error inside the body keeps its own status.
async fn server_functions_refuse_malformed_bodies_with_400(app: TestApp) {
    let viewer = app.new_token("grafana", app::model::Role::Viewer).await;
    for (name, auth, form) in [
        ("sign_in", &Auth::None, vec![("username", "admin")]),
        ("alerts", &viewer, vec![("query[status]", "sleeping")]),
    ] {
        let res = app.server_fn(name, auth, &form).await;
        assert_eq!(res.status, StatusCode::BAD_REQUEST, "{name}: {}", res.body);
        assert_eq!(res.json()["code"], "bad_request", "{name}");
        assert!(
            res.json()["message"]
                .as_str()
                .unwrap()
                .starts_with("The request was not understood"),
            "{name}: {}",
            res.body
        );
    }
    let forbidden = app
        .server_fn(
            "tokens_create",
            &viewer,
            &[("name", "x"), ("role", "viewer")],
        )
        .await;
    assert_eq!(
        forbidden.status,
        StatusCode::FORBIDDEN,
        "{}",
        forbidden.body
    );
}

on_both_databases!(
    server_functions_refuse_malformed_bodies_with_400,
    unknown_api_addresses_answer_json_404,
    health_reports_ok_with_checks,
    health_is_503_when_the_database_is_gone,
    metrics_count_requests_by_route,
    invented_methods_do_not_grow_the_metrics,
    pages_send_visitors_to_sign_in_and_back,
    pages_carry_security_headers_and_a_matching_nonce,
    the_dashboard_renders_for_a_signed_in_user,
);

#[tokio::test]
async fn session_cookies_are_secure_when_served_over_https() {
    let config = flightdeck::config::WebConfig {
        secure_cookies: true,
        ..Default::default()
    };
    let app = TestApp::sqlite_with(config).await;
    let res = app.try_sign_in(&Auth::None, "admin", ADMIN_PASSWORD).await;
    assert_eq!(res.status, StatusCode::OK);
    let set_cookie = res.headers["set-cookie"].to_str().unwrap();
    assert!(
        set_cookie.contains("Secure") && set_cookie.contains("HttpOnly"),
        "{set_cookie}"
    );
    // Over https, browsers are told to keep to it; API answers are never cached.
    assert_eq!(
        res.headers["strict-transport-security"],
        "max-age=31536000; includeSubDomains"
    );
    assert_eq!(res.headers["cache-control"], "no-store");
}

/// Pages titled by what they show (a deployment, a service), rendered by many requests at once
/// on two threads, as a team opening them in an incident does: leptos_axum reads the page's
/// title after the render, outside the request's reactive arena, and a title reading the
/// route's parameters panicked there ("disposed") when another request had run on the thread
/// meanwhile, dropping the connection (about one render in a hundred under `wrk -c16`).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn titled_pages_render_side_by_side() {
    let app = std::sync::Arc::new(TestApp::sqlite().await);
    let admin = common::deploy::setup(&app, "true").await;
    let id = common::deploy::deploy(&app, &admin, "staging", "1.0.0").await;
    let cookie = app.sign_in("admin", ADMIN_PASSWORD).await;
    let mut renders = tokio::task::JoinSet::new();
    for n in 0..400 {
        // A new address each time, so every request renders (the page cache holds none of them).
        let (path, title) = match n % 2 {
            0 => (
                format!("/deployments/{id}?n={n}"),
                format!("Deployment #{id}"),
            ),
            _ => (format!("/services/api?n={n}"), "Service api".to_string()),
        };
        let (app, cookie) = (app.clone(), cookie.clone());
        renders.spawn(async move { (app.page(&path, &cookie).await, path, title) });
    }
    while let Some(render) = renders.join_next().await {
        let (res, path, title) = render.expect("a page render panicked");
        assert_eq!(res.status, StatusCode::OK, "{path}");
        assert!(
            res.body
                .contains(&format!("<title>{title} · Flightdeck</title>")),
            "{path}: {}",
            res.body.split("</title>").next().unwrap_or("")
        );
    }
}

/// The bundles and the stylesheet come from disk as the build left them: the precompressed copy
/// the client accepts, kept for good when the name carries the content hash, checked again
/// otherwise; and pages ask for the hashed names.
#[tokio::test]
async fn bundles_are_served_precompressed_and_kept_by_their_hash() {
    use axum::body::Body;
    use axum::http::Request;
    let app = TestApp::sqlite().await;
    let pkg = std::path::Path::new(app.state.leptos_options.site_root.as_ref()).join("pkg");
    std::fs::create_dir_all(&pkg).unwrap();
    let bundle = "flightdeck-AuditTrail.0123456789abcdef";
    for (suffix, bytes) in [
        (".wasm", &b"\0asm-raw"[..]),
        (".wasm.gz", b"gzip-bytes"),
        (".wasm.br", b"brotli-bytes"),
        (".js", b"export default 1;"),
    ] {
        std::fs::write(pkg.join(format!("{bundle}{suffix}")), bytes).unwrap();
    }
    std::fs::write(pkg.join("flightdeck.css"), "body{}").unwrap();
    std::fs::write(pkg.join("flightdeck.00112233aabbccdd.css"), "body{}").unwrap();

    let get = |path: String, headers: &[(&str, &str)]| {
        let mut request = Request::get(path);
        for (name, value) in headers {
            request = request.header(*name, *value);
        }
        app.send(request.body(Body::empty()).unwrap())
    };
    let wasm = format!("/pkg/{bundle}.wasm");
    for (accept, encoding, body) in [
        ("br, gzip", Some("br"), "brotli-bytes"),
        ("gzip", Some("gzip"), "gzip-bytes"),
        ("identity", None, "\0asm-raw"),
    ] {
        let res = get(wasm.clone(), &[("accept-encoding", accept)]).await;
        assert_eq!(res.status, StatusCode::OK, "{accept}");
        assert_eq!(res.body, body, "{accept}");
        assert_eq!(
            res.headers
                .get("content-encoding")
                .map(|v| v.to_str().unwrap()),
            encoding
        );
        assert_eq!(res.headers["content-type"], "application/wasm");
        assert_eq!(
            res.headers["cache-control"],
            "public, max-age=31536000, immutable"
        );
        assert_eq!(res.headers["vary"], "accept-encoding");
        assert!(res.headers.get("set-cookie").is_none());
    }

    // A name without a hash may change with the next build: checked again, 304 when unchanged.
    let css = get("/pkg/flightdeck.css".into(), &[]).await;
    assert_eq!(css.status, StatusCode::OK);
    assert_eq!(css.headers["cache-control"], "no-cache");
    let modified = css.headers["last-modified"].to_str().unwrap().to_string();
    let again = get(
        "/pkg/flightdeck.css".into(),
        &[("if-modified-since", &modified)],
    )
    .await;
    assert_eq!(again.status, StatusCode::NOT_MODIFIED);
    let missing = get("/pkg/flightdeck-Nothing.0123456789abcdef.wasm".into(), &[]).await;
    assert_eq!(missing.status, StatusCode::NOT_FOUND);

    let cookie = app.sign_in("admin", ADMIN_PASSWORD).await;
    let page = app.page("/audit", &cookie).await;
    assert!(
        page.body.contains(&format!("/pkg/{bundle}.js")),
        "{}",
        page.body
    );
    assert!(page.body.contains("/pkg/flightdeck.00112233aabbccdd.css"));
}
