//! `TestApp`: the real router over a fresh database per test (SQLite in a temporary folder, or a
//! new PostgreSQL database when FLIGHTDECK_TEST_POSTGRES_URL is set), with fixture helpers.
#![allow(dead_code)]

pub mod alerts;
pub mod builds;
pub mod catalog;
pub mod deploy;
pub mod flags;
pub mod fleet;
pub mod process;
pub mod webhooks;

use app::model::Role;
use axum::body::Body;
use axum::http::{header, Request, StatusCode};
use axum::Router;
use flightdeck::auth::accounts::SYSTEM_ACTOR;
use flightdeck::auth::sessions;
use flightdeck::config::WebConfig;
use flightdeck::db::Db;
use flightdeck::state::AppState;
use http_body_util::BodyExt;
use std::net::SocketAddr;
use tower::ServiceExt;

pub const ADMIN_PASSWORD: &str = "admin-password-for-tests";

pub struct TestApp {
    pub router: Router,
    pub state: AppState,
    _dir: tempfile::TempDir,
}

pub struct TestResponse {
    pub status: StatusCode,
    pub headers: http::HeaderMap,
    pub body: String,
}

impl TestResponse {
    /// The nonce this answer's Content-Security-Policy allows, checking its inline scripts carry
    /// it.
    pub fn csp_nonce(&self) -> String {
        let csp = self.headers["content-security-policy"].to_str().unwrap();
        let nonce = csp
            .split("'nonce-")
            .nth(1)
            .unwrap()
            .split('\'')
            .next()
            .unwrap();
        assert!(
            self.body.contains(&format!("nonce=\"{nonce}\"")),
            "inline scripts carry this response's nonce"
        );
        nonce.to_string()
    }

    pub fn json(&self) -> serde_json::Value {
        serde_json::from_str(&self.body).unwrap_or_else(|e| panic!("not JSON ({e}): {}", self.body))
    }
    /// `name=value` of the session cookie this response sets, if any.
    pub fn session_cookie(&self) -> Option<String> {
        self.headers
            .get_all(header::SET_COOKIE)
            .iter()
            .find_map(|v| {
                let v = v.to_str().ok()?;
                v.starts_with("fd_session=")
                    .then(|| v.split(';').next().unwrap().to_string())
            })
    }
}

/// Which databases the suite runs on: always SQLite, PostgreSQL when configured.
pub enum Backend {
    Sqlite,
    Postgres,
}

/// The default settings with the deploy engine's clock sped up: a lease that runs out in two
/// seconds (crash recovery) and health checks every 100 ms (automatic rollback).
pub fn test_config() -> WebConfig {
    let mut config = WebConfig::default();
    config.deploy.lease = std::time::Duration::from_secs(2);
    config.deploy.health_interval = std::time::Duration::from_millis(100);
    config.webhooks.github = Some(GITHUB_SECRET.into());
    config.webhooks.gitlab = Some(GITLAB_TOKEN.into());
    config.webhooks.deployer = Some(DEPLOYER_SECRET.into());
    config
}

pub const GITHUB_SECRET: &str = "github-webhook-secret-for-tests";
pub const GITLAB_TOKEN: &str = "gitlab-webhook-token-for-tests";
pub const DEPLOYER_SECRET: &str = "deployer-signing-secret-for-tests";

/// The URL of a new, empty PostgreSQL database, or `None` when no server is configured (the test
/// then only runs on SQLite). CI sets FLIGHTDECK_REQUIRE_POSTGRES so a missing server fails
/// instead.
pub async fn fresh_postgres_database() -> Option<String> {
    let Ok(admin_url) = std::env::var("FLIGHTDECK_TEST_POSTGRES_URL") else {
        assert!(
            std::env::var("FLIGHTDECK_REQUIRE_POSTGRES").is_err(),
            "FLIGHTDECK_REQUIRE_POSTGRES is set but FLIGHTDECK_TEST_POSTGRES_URL is not"
        );
        eprintln!("PostgreSQL not configured (FLIGHTDECK_TEST_POSTGRES_URL); SQLite only");
        return None;
    };
    let name = format!(
        "fd_test_{}",
        &flightdeck::auth::token::generate().hash[..16]
    );
    let admin = sqlx::PgPool::connect(&admin_url)
        .await
        .expect("connect to the test PostgreSQL");
    sqlx::query(&format!("CREATE DATABASE {name}"))
        .execute(&admin)
        .await
        .unwrap();
    admin.close().await;
    let mut url = url::Url::parse(&admin_url).unwrap();
    url.set_path(&name);
    Some(url.to_string())
}

impl TestApp {
    pub async fn sqlite() -> TestApp {
        Self::sqlite_with(test_config()).await
    }

    pub async fn sqlite_with(config: WebConfig) -> TestApp {
        let dir = tempfile::tempdir().unwrap();
        let url = format!("sqlite://{}/flightdeck.db", dir.path().display());
        Self::start(&url, dir, config).await
    }

    /// A fresh PostgreSQL database, or `None` when no server is configured (the test then only
    /// runs on SQLite). CI sets FLIGHTDECK_REQUIRE_POSTGRES so a missing server fails instead.
    pub async fn postgres() -> Option<TestApp> {
        let url = fresh_postgres_database().await?;
        Some(Self::start(&url, tempfile::tempdir().unwrap(), test_config()).await)
    }

    pub async fn on(backend: Backend) -> Option<TestApp> {
        match backend {
            Backend::Sqlite => Some(Self::sqlite().await),
            Backend::Postgres => Self::postgres().await,
        }
    }

    pub async fn start(url: &str, dir: tempfile::TempDir, config: WebConfig) -> TestApp {
        let db = Db::connect(url).await.expect("open the test database");
        let store = sessions::Store::open(&db.typed).await.unwrap();
        let options = flightdeck::web::leptos_options(
            &dir.path().display().to_string(),
            SocketAddr::from(([127, 0, 0, 1], 3000)),
        );
        let state = AppState::new(db, options, config).await.unwrap();
        state
            .accounts
            .add_user(SYSTEM_ACTOR, "admin", Role::Admin, ADMIN_PASSWORD)
            .await
            .unwrap();
        state.start_workers();
        let router = flightdeck::web::router(state.clone(), store);
        TestApp {
            router,
            state,
            _dir: dir,
        }
    }

    /// Serves the router on a real TCP port (for clients outside the process); returns its URL.
    pub async fn serve_tcp(&self) -> String {
        self.serve_tcp_with(flightdeck::serve::Limits::default())
            .await
    }

    /// [`Self::serve_tcp`] through the server loop with these limits.
    pub async fn serve_tcp_with(&self, limits: flightdeck::serve::Limits) -> String {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let router = self.router.clone();
        tokio::spawn(flightdeck::serve::serve(
            listener,
            router,
            limits,
            std::future::pending(),
        ));
        format!("http://{addr}")
    }

    /// Sends `request` and reads the whole answer. A request that has not answered within a
    /// minute fails the test, naming it: a hang would otherwise hold the test run until CI's
    /// limit, saying nothing.
    pub async fn send(&self, request: Request<Body>) -> TestResponse {
        let what = format!("{} {}", request.method(), request.uri());
        let whole = async {
            let response = self.router.clone().oneshot(request).await.unwrap();
            let status = response.status();
            let headers = response.headers().clone();
            let bytes = response.into_body().collect().await.unwrap().to_bytes();
            TestResponse {
                status,
                headers,
                body: String::from_utf8_lossy(&bytes).into_owned(),
            }
        };
        match tokio::time::timeout(std::time::Duration::from_secs(60), whole).await {
            Ok(response) => response,
            Err(_) => panic!("{what} did not answer within 60 s"),
        }
    }

    pub async fn get(&self, path: &str, auth: &Auth) -> TestResponse {
        self.send(auth.apply(Request::get(path)).body(Body::empty()).unwrap())
            .await
    }

    pub async fn delete(&self, path: &str, auth: &Auth) -> TestResponse {
        self.send(
            auth.apply(Request::delete(path))
                .body(Body::empty())
                .unwrap(),
        )
        .await
    }

    /// A browser navigation: GET asking for HTML.
    pub async fn page(&self, path: &str, auth: &Auth) -> TestResponse {
        let req = auth
            .apply(Request::get(path))
            .header(header::ACCEPT, "text/html");
        self.send(req.body(Body::empty()).unwrap()).await
    }

    /// Sends `body` as JSON with `method`.
    pub async fn send_json(
        &self,
        method: axum::http::Method,
        path: &str,
        auth: &Auth,
        body: serde_json::Value,
    ) -> TestResponse {
        let req = auth
            .apply(Request::builder().method(method).uri(path))
            .header(header::CONTENT_TYPE, "application/json")
            .body(Body::from(body.to_string()))
            .unwrap();
        self.send(req).await
    }

    pub async fn post_json(
        &self,
        path: &str,
        auth: &Auth,
        body: serde_json::Value,
    ) -> TestResponse {
        self.send_json(axum::http::Method::POST, path, auth, body)
            .await
    }

    /// POSTs raw bytes with the given headers (webhook deliveries).
    pub async fn post_raw(
        &self,
        path: &str,
        auth: &Auth,
        headers: &[(&str, &str)],
        body: Vec<u8>,
    ) -> TestResponse {
        let mut req = auth.apply(Request::post(path));
        if !headers
            .iter()
            .any(|(name, _)| name.eq_ignore_ascii_case("content-type"))
        {
            req = req.header(header::CONTENT_TYPE, "application/json");
        }
        for (name, value) in headers {
            req = req.header(*name, *value);
        }
        self.send(req.body(Body::from(body)).unwrap()).await
    }

    pub async fn patch_json(
        &self,
        path: &str,
        auth: &Auth,
        body: serde_json::Value,
    ) -> TestResponse {
        self.send_json(axum::http::Method::PATCH, path, auth, body)
            .await
    }

    pub async fn put_json(&self, path: &str, auth: &Auth, body: serde_json::Value) -> TestResponse {
        self.send_json(axum::http::Method::PUT, path, auth, body)
            .await
    }

    /// Polls `path` until `done` holds for its JSON body (at most 20 s) and returns that body.
    pub async fn wait_for(
        &self,
        path: &str,
        auth: &Auth,
        done: impl Fn(&serde_json::Value) -> bool,
    ) -> serde_json::Value {
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
        loop {
            let body = self.get(path, auth).await.json();
            if done(&body) {
                return body;
            }
            assert!(
                std::time::Instant::now() < deadline,
                "timed out waiting on {path}; last: {body}"
            );
            tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        }
    }

    /// Calls a server function the way a browser form on this site does.
    pub async fn server_fn(&self, name: &str, auth: &Auth, form: &[(&str, &str)]) -> TestResponse {
        let body: String = url::form_urlencoded::Serializer::new(String::new())
            .extend_pairs(form)
            .finish();
        let req = auth
            .apply(Request::post(format!("/api/{name}")))
            .header(header::HOST, "127.0.0.1:3000")
            .header(header::ORIGIN, "http://127.0.0.1:3000")
            .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
            .header(header::ACCEPT, "application/json")
            .body(Body::from(body))
            .unwrap();
        self.send(req).await
    }

    /// Signs in through the sign-in server function and returns the session cookie.
    /// Posts to the sign-in server function and returns whatever it answered.
    pub async fn try_sign_in(&self, auth: &Auth, username: &str, password: &str) -> TestResponse {
        self.server_fn(
            "sign_in",
            auth,
            &[("username", username), ("password", password)],
        )
        .await
    }

    pub async fn sign_in(&self, username: &str, password: &str) -> Auth {
        let res = self.try_sign_in(&Auth::None, username, password).await;
        assert_eq!(res.status, StatusCode::OK, "sign-in failed: {}", res.body);
        Auth::Cookie(res.session_cookie().expect("sign-in sets a session cookie"))
    }

    /// PostgreSQL only: the event bus of a second replica on this database, listening, and
    /// polling only once a minute, so that what reaches it soon came by LISTEN/NOTIFY. Waits the
    /// second it takes to connect and LISTEN.
    pub async fn replica_bus(&self) -> std::sync::Arc<flightdeck::events::EventBus> {
        let flightdeck::db::TypedPool::Postgres(pg) = &self.state.db.typed else {
            panic!("a replica's bus listens on PostgreSQL only")
        };
        let bus = flightdeck::events::EventBus::with_poll(
            self.state.db.pool.clone(),
            std::time::Duration::from_secs(60),
        )
        .await
        .unwrap();
        bus.spawn();
        bus.listen(pg.clone());
        tokio::time::sleep(std::time::Duration::from_secs(1)).await;
        bus
    }

    pub async fn new_user(&self, username: &str, role: Role) -> String {
        let password = format!("{username}-password-123");
        self.state
            .accounts
            .add_user(SYSTEM_ACTOR, username, role, &password)
            .await
            .unwrap();
        password
    }

    pub async fn new_token(&self, name: &str, role: Role) -> Auth {
        Auth::Bearer(
            self.state
                .accounts
                .add_token(SYSTEM_ACTOR, name, role, Default::default())
                .await
                .unwrap()
                .token,
        )
    }

    pub async fn audit_actions(&self) -> Vec<String> {
        use sqlx::Row;
        sqlx::query("SELECT action FROM audit ORDER BY id")
            .fetch_all(&self.state.db.pool)
            .await
            .unwrap()
            .iter()
            .map(|r| r.get::<String, _>(0))
            .collect()
    }
}

#[derive(Clone, Debug)]
pub enum Auth {
    None,
    Cookie(String),
    Bearer(String),
}

impl Auth {
    pub fn apply(&self, builder: http::request::Builder) -> http::request::Builder {
        match self {
            Auth::None => builder,
            Auth::Cookie(c) => builder.header(header::COOKIE, c),
            Auth::Bearer(t) => builder.header(header::AUTHORIZATION, format!("Bearer {t}")),
        }
    }
}

/// Runs an async test body once per configured database.
#[macro_export]
macro_rules! on_both_databases {
    ($($name:ident),* $(,)?) => {
        mod sqlite {
            $(#[tokio::test] async fn $name() {
                super::$name($crate::common::TestApp::on($crate::common::Backend::Sqlite).await.unwrap()).await
            })*
        }
        mod postgres {
            $(#[tokio::test] async fn $name() {
                if let Some(app) = $crate::common::TestApp::on($crate::common::Backend::Postgres).await {
                    super::$name(app).await
                }
            })*
        }
    };
}
