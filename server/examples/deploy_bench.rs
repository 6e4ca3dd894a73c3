//! Deployment benchmarks for the README (reported, never asserted). Each runs the real router
//! over TCP on a fresh database:
//! - rollback control-plane time: request accepted -> deployer started (p50/p99);
//! - deployment events from commit to 1,000 websocket clients (p50/p99);
//! - webhook ingestion rate, every acknowledged delivery durable (SQLite and, when given,
//!   PostgreSQL);
//! - the history page and the status matrix over 1,000,000 deployments (p50/p99).
//!
//! `cargo run --release -p flightdeck --example deploy_bench [-- POSTGRES_ADMIN_URL]`
//! (scripts/bench.sh runs it.) `BENCH_ONLY=webhooks`, `events` or `history` runs one part.

use app::model::Role;
use flightdeck::auth::accounts::SYSTEM_ACTOR;
use flightdeck::auth::sessions;
use flightdeck::config::WebConfig;
use flightdeck::db::{Backend, Db};
use flightdeck::state::AppState;
use futures_util::{SinkExt, StreamExt};
use serde_json::{json, Value};
use sqlx::Row;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

const SECRET: &str = "bench-github-webhook-secret";

struct Server {
    url: String,
    addr: SocketAddr,
    token: String,
    state: AppState,
    http: reqwest::Client,
    _dir: tempfile::TempDir,
}

async fn start(postgres_admin: Option<&str>) -> Server {
    start_with(postgres_admin, true).await
}

/// `workers: false` leaves stored webhook deliveries unapplied, to see the inbox on its own.
async fn start_with(postgres_admin: Option<&str>, workers: bool) -> Server {
    let dir = tempfile::tempdir().unwrap();
    let url = match postgres_admin {
        None => format!("sqlite://{}/bench.db", dir.path().display()),
        Some(admin_url) => {
            let name = format!("fd_bench_{}", std::process::id());
            let admin = sqlx::PgPool::connect(admin_url).await.unwrap();
            let _ = sqlx::query(&format!("DROP DATABASE IF EXISTS {name}"))
                .execute(&admin)
                .await;
            sqlx::query(&format!("CREATE DATABASE {name}"))
                .execute(&admin)
                .await
                .unwrap();
            let mut u = url::Url::parse(admin_url).unwrap();
            u.set_path(&name);
            u.to_string()
        }
    };
    let db = Db::connect(&url).await.unwrap();
    let store = sessions::Store::open(&db.typed).await.unwrap();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let options = flightdeck::web::leptos_options(&dir.path().display().to_string(), addr);
    let mut config = WebConfig::default();
    config.webhooks.github = Some(SECRET.into());
    let state = AppState::new(db, options, config).await.unwrap();
    if workers {
        state.start_workers();
    }
    let token = state
        .accounts
        .add_token(SYSTEM_ACTOR, "bench", Role::Admin, Default::default())
        .await
        .unwrap()
        .token;
    let router = flightdeck::web::router(state.clone(), store);
    tokio::spawn(async move {
        axum::serve(
            listener,
            router.into_make_service_with_connect_info::<SocketAddr>(),
        )
        .await
        .unwrap()
    });
    let http = reqwest::Client::builder()
        .pool_max_idle_per_host(512)
        .build()
        .unwrap();
    Server {
        url: format!("http://{addr}/api/v1"),
        addr,
        token,
        state,
        http,
        _dir: dir,
    }
}

impl Server {
    async fn post(&self, path: &str, body: Value) -> Value {
        let res = self
            .http
            .post(format!("{}{path}", self.url))
            .bearer_auth(&self.token)
            .header("content-type", "application/json")
            .body(body.to_string())
            .send()
            .await
            .unwrap();
        let status = res.status();
        let body: Value =
            serde_json::from_slice(&res.bytes().await.unwrap()).unwrap_or(Value::Null);
        assert!(status.is_success(), "{path}: {status} {body}");
        body
    }

    async fn put(&self, path: &str, body: Value) {
        let res = self
            .http
            .put(format!("{}{path}", self.url))
            .bearer_auth(&self.token)
            .header("content-type", "application/json")
            .body(body.to_string())
            .send()
            .await
            .unwrap();
        assert!(res.status().is_success(), "{path}: {}", res.status());
    }

    async fn get_ms(&self, path: &str) -> f64 {
        let t = Instant::now();
        let res = self
            .http
            .get(format!("{}{path}", self.url))
            .bearer_auth(&self.token)
            .send()
            .await
            .unwrap();
        assert!(res.status().is_success(), "{path}: {}", res.status());
        res.bytes().await.unwrap();
        t.elapsed().as_secs_f64() * 1000.0
    }

    /// A service `api` and an environment `prod` with a `command` target.
    async fn target(&self, command: &str) {
        self.post("/services", json!({"name": "api"})).await;
        self.post("/environments", json!({"name": "prod", "rank": 10}))
            .await;
        self.put(
            "/services/api/targets/prod",
            json!({"deployer": "command", "command": command}),
        )
        .await;
    }

    async fn finished(&self, id: i64) -> Value {
        loop {
            let row = sqlx::query(
                "SELECT status, started_at, finished_at FROM deployments WHERE id = $1",
            )
            .bind(id)
            .fetch_one(&self.state.db.pool)
            .await
            .unwrap();
            let status: String = row.get("status");
            if !matches!(status.as_str(), "queued" | "running") {
                return json!({ "status": status, "started_at": row.get::<Option<i64>, _>("started_at") });
            }
            tokio::time::sleep(Duration::from_millis(2)).await;
        }
    }
}

fn percentiles(mut samples: Vec<f64>) -> (f64, f64) {
    samples.sort_by(|a, b| a.partial_cmp(b).unwrap());
    let at =
        |q: f64| samples[((samples.len() as f64 * q).ceil() as usize).clamp(1, samples.len()) - 1];
    (at(0.50), at(0.99))
}

fn now_ms_f64() -> f64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs_f64()
        * 1000.0
}

async fn rollback_start(rounds: usize) -> (f64, f64) {
    let s = start(None).await;
    s.target("true").await;
    let first = s
        .post(
            "/deployments",
            json!({"service": "api", "environment": "prod", "version": "v0"}),
        )
        .await;
    s.finished(first["id"].as_i64().unwrap()).await;
    let mut samples = Vec::new();
    for i in 1..=rounds {
        let d = s
            .post(
                "/deployments",
                json!({"service": "api", "environment": "prod", "version": format!("v{i}")}),
            )
            .await;
        s.finished(d["id"].as_i64().unwrap()).await;
        let t0 = now_ms_f64();
        let r = s
            .post(
                "/rollbacks",
                json!({"service": "api", "environment": "prod", "reason": "bench"}),
            )
            .await;
        let done = s.finished(r["id"].as_i64().unwrap()).await;
        // started_at has millisecond resolution.
        samples.push((done["started_at"].as_i64().unwrap() as f64 - t0).max(0.0));
    }
    percentiles(samples)
}

async fn events_to_clients(clients: usize, deploys: usize) -> (f64, f64, usize) {
    let s = Arc::new(start(None).await);
    s.target("true").await;
    let (sender, mut receiver) = tokio::sync::mpsc::unbounded_channel::<(i64, f64)>();
    let mut ready = Vec::new();
    for _ in 0..clients {
        let mut request =
            tokio_tungstenite::tungstenite::client::IntoClientRequest::into_client_request(
                format!("ws://{}/ws", s.addr),
            )
            .unwrap();
        request.headers_mut().insert(
            "authorization",
            format!("Bearer {}", s.token).parse().unwrap(),
        );
        let (mut socket, _) = tokio_tungstenite::connect_async(request).await.unwrap();
        socket
            .send(tokio_tungstenite::tungstenite::Message::text(
                json!({"type": "subscribe", "topics": ["deployments"]}).to_string(),
            ))
            .await
            .unwrap();
        let sender = sender.clone();
        let (subscribed, is_subscribed) = tokio::sync::oneshot::channel::<()>();
        ready.push(is_subscribed);
        tokio::spawn(async move {
            let mut subscribed = Some(subscribed);
            while let Some(Ok(message)) = socket.next().await {
                let received = now_ms_f64();
                let Ok(text) = message.into_text() else {
                    continue;
                };
                let Ok(event) = serde_json::from_str::<Value>(&text) else {
                    continue;
                };
                if event["topic"] == "system" {
                    if let Some(s) = subscribed.take() {
                        let _ = s.send(());
                    }
                } else if let Some(seq) = event["seq"].as_i64() {
                    let _ = sender.send((seq, received));
                }
            }
        });
    }
    for r in ready {
        r.await.unwrap();
    }
    for i in 0..deploys {
        let d = s
            .post(
                "/deployments",
                json!({"service": "api", "environment": "prod", "version": format!("e{i}")}),
            )
            .await;
        s.finished(d["id"].as_i64().unwrap()).await;
    }
    tokio::time::sleep(Duration::from_secs(2)).await;
    drop(sender);
    let mut received = Vec::new();
    while let Ok(sample) = receiver.try_recv() {
        received.push(sample);
    }
    let committed: std::collections::HashMap<i64, i64> =
        sqlx::query("SELECT seq, at FROM event WHERE topic = 'deployments'")
            .fetch_all(&s.state.db.pool)
            .await
            .unwrap()
            .iter()
            .map(|r| (r.get::<i64, _>("seq"), r.get::<i64, _>("at")))
            .collect();
    let samples: Vec<f64> = received
        .iter()
        .filter_map(|(seq, at)| committed.get(seq).map(|c| (at - *c as f64).max(0.0)))
        .collect();
    let n = samples.len();
    let (p50, p99) = percentiles(samples);
    (p50, p99, n)
}

/// Deliveries acknowledged per second, and (with the applier on) how long after the last
/// acknowledgement every delivery had been applied.
async fn webhook_rate(
    postgres: Option<&str>,
    deliveries: usize,
    concurrency: usize,
    apply: bool,
) -> (f64, f64) {
    let s = Arc::new(start_with(postgres, apply).await);
    s.post("/services", json!({"name": "api"})).await;
    let bodies: Vec<(String, Vec<u8>, String)> = (0..deliveries)
        .map(|i| {
            let body = json!({
                "action": "completed",
                "workflow_run": {"conclusion": "success", "head_sha": format!("{:040x}", i)},
                "repository": {"name": "api"},
            })
            .to_string()
            .into_bytes();
            let signature = format!("sha256={}", flightdeck::webhooks::sign(SECRET, &body));
            (format!("bench-{i}"), body, signature)
        })
        .collect();
    let queue = Arc::new(tokio::sync::Mutex::new(bodies));
    let t = Instant::now();
    let mut workers = Vec::new();
    for _ in 0..concurrency {
        let (s, queue) = (s.clone(), queue.clone());
        workers.push(tokio::spawn(async move {
            loop {
                let Some((id, body, signature)) = queue.lock().await.pop() else {
                    return;
                };
                let res = s
                    .http
                    .post(format!("{}/webhooks/github", s.url))
                    .header("x-github-event", "workflow_run")
                    .header("x-github-delivery", id)
                    .header("x-hub-signature-256", signature)
                    .header("content-type", "application/json")
                    .body(body)
                    .send()
                    .await
                    .unwrap();
                assert_eq!(res.status(), reqwest::StatusCode::ACCEPTED);
            }
        }));
    }
    for w in workers {
        w.await.unwrap();
    }
    let rate = deliveries as f64 / t.elapsed().as_secs_f64();
    let stored: i64 = sqlx::query("SELECT COUNT(*) FROM webhook_deliveries")
        .fetch_one(&s.state.db.pool)
        .await
        .unwrap()
        .get(0);
    assert_eq!(
        stored as usize, deliveries,
        "every acknowledged delivery is stored"
    );
    let acknowledged = Instant::now();
    if apply {
        loop {
            let pending: i64 =
                sqlx::query("SELECT COUNT(*) FROM webhook_deliveries WHERE processed_at IS NULL")
                    .fetch_one(&s.state.db.pool)
                    .await
                    .unwrap()
                    .get(0);
            if pending == 0 {
                break;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }
    (rate, acknowledged.elapsed().as_secs_f64())
}

async fn history_at_scale(rows: i64, requests: usize) -> Vec<(String, f64, f64)> {
    let s = start(None).await;
    s.target("true").await;
    let first = s
        .post(
            "/deployments",
            json!({"service": "api", "environment": "prod", "version": "v0"}),
        )
        .await;
    s.finished(first["id"].as_i64().unwrap()).await;
    let t = Instant::now();
    // One million finished deployments of one target; every 97th failed.
    let fill = "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < $1) \
        INSERT INTO deployments (service_id, environment_id, release_id, kind, status, trigger_kind, actor, created_at, started_at, finished_at) \
        SELECT 1, 1, 1, 'deploy', CASE WHEN i % 97 = 0 THEN 'failed' ELSE 'succeeded' END, 'token', 'token:bench', i, i, i + 1000 FROM n";
    assert_eq!(s.state.db.backend, Backend::Sqlite);
    sqlx::query(fill)
        .bind(rows)
        .execute(&s.state.db.pool)
        .await
        .unwrap();
    eprintln!(
        "  filled {rows} deployments in {:.1} s",
        t.elapsed().as_secs_f64()
    );
    let mut results = Vec::new();
    // Each case: its name, and the path of its i-th request.
    type PathOf = Box<dyn Fn(usize) -> String>;
    let cases: Vec<(&str, PathOf)> = vec![
        (
            "first page (50)",
            Box::new(|_| "/deployments?limit=50".to_string()),
        ),
        (
            "a page deep in the history (cursor)",
            Box::new(move |i| {
                format!(
                    "/deployments?limit=50&cursor={}",
                    1 + (i as i64 * 7919) % rows
                )
            }),
        ),
        (
            "service + environment filter",
            Box::new(|_| "/deployments?service=api&environment=prod&limit=50".to_string()),
        ),
        (
            "status=failed filter",
            Box::new(|_| "/deployments?status=failed&limit=50".to_string()),
        ),
        (
            "status matrix (GET /status)",
            Box::new(|_| "/status".to_string()),
        ),
    ];
    for (name, path) in cases {
        for i in 0..20 {
            s.get_ms(&path(i)).await;
        }
        let mut samples = Vec::new();
        for i in 0..requests {
            samples.push(s.get_ms(&path(i)).await);
        }
        let (p50, p99) = percentiles(samples);
        results.push((name.to_string(), p50, p99));
    }
    results
}

fn raise_fd_limit() {
    // SAFETY: plain getrlimit/setrlimit on this process's own limit.
    unsafe {
        let mut limit = libc::rlimit {
            rlim_cur: 0,
            rlim_max: 0,
        };
        if libc::getrlimit(libc::RLIMIT_NOFILE, &mut limit) == 0 {
            limit.rlim_cur = limit.rlim_max;
            libc::setrlimit(libc::RLIMIT_NOFILE, &limit);
        }
    }
}

#[tokio::main]
async fn main() {
    raise_fd_limit();
    let postgres = std::env::args().nth(1).filter(|url| !url.is_empty());
    if std::env::var("BENCH_ONLY").as_deref() == Ok("webhooks") {
        for (connections, apply) in [(64, true), (64, false), (256, true), (256, false)] {
            let (rate, drain) = webhook_rate(None, 20_000, connections, apply).await;
            println!("| webhook ingestion, SQLite, {connections} connections, applier {} | {rate:.0} deliveries/s, all applied {drain:.1} s after the last 202 |", if apply { "on" } else { "off" });
        }
        return;
    }
    if std::env::var("BENCH_ONLY").as_deref() == Ok("events") {
        for _ in 0..3 {
            let (p50, p99, n) = events_to_clients(1000, 30).await;
            println!("| deployment event, commit -> websocket client, 1,000 clients ({n} deliveries) | p50 {p50:.0} ms / p99 {p99:.0} ms |");
        }
        return;
    }
    let history_only = std::env::var("BENCH_ONLY").as_deref() == Ok("history");
    if !history_only {
        control_plane(postgres.as_deref()).await;
    }
    for (name, p50, p99) in history_at_scale(1_000_000, 200).await {
        println!(
            "| history at 1,000,000 deployments: {name} | p50 {p50:.1} ms / p99 {p99:.1} ms |"
        );
    }
}

/// Rollback start, event delivery and webhook ingestion.
async fn control_plane(postgres: Option<&str>) {
    let (p50, p99) = rollback_start(200).await;
    println!("| rollback control plane: request accepted -> deployer started (200 rollbacks, SQLite) | p50 {p50:.0} ms / p99 {p99:.0} ms |");
    let (p50, p99, n) = events_to_clients(1000, 30).await;
    println!("| deployment event, commit -> websocket client, 1,000 clients ({n} deliveries) | p50 {p50:.0} ms / p99 {p99:.0} ms |");
    for connections in [64, 256] {
        let (rate, drain) = webhook_rate(None, 20_000, connections, true).await;
        println!("| webhook ingestion, SQLite, durable before 202 (20,000 deliveries, {connections} connections) | {rate:.0} deliveries/s; all applied {drain:.1} s after the last 202 |");
    }
    if let Some(pg) = postgres {
        let (rate, drain) = webhook_rate(Some(pg), 20_000, 64, true).await;
        println!("| webhook ingestion, PostgreSQL (20,000 deliveries, 64 connections) | {rate:.0} deliveries/s; all applied {drain:.1} s after the last 202 |");
    }
}
