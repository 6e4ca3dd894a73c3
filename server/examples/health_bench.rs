//! Health benchmarks for the README (reported, never asserted), on a fresh SQLite database with
//! the real router over TCP:
//! - alert ingestion through `POST /api/v2/alerts` beside the same load sent to Debian's real
//!   Alertmanager (same payloads, same client), as a ratio, with a check that Flightdeck
//!   persisted every alert it acknowledged;
//! - one evaluation round of 1,000 SLOs over 30 days of counts;
//! - the health grid page rendered with 2,000 components.
//!
//! `cargo run --release -p flightdeck --example health_bench` (scripts/bench.sh runs it).

use app::model::Role;
use flightdeck::auth::accounts::SYSTEM_ACTOR;
use flightdeck::auth::sessions;
use flightdeck::config::WebConfig;
use flightdeck::db::Db;
use flightdeck::state::AppState;
use serde_json::{json, Value};
use sqlx::Row;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

const CLIENTS: usize = 32;
const DISTINCT: usize = 5_000;
const RUN: Duration = Duration::from_secs(8);
const ALERTMANAGER: &str = "/usr/bin/prometheus-alertmanager";

struct Server {
    url: String,
    token: String,
    state: AppState,
    _dir: tempfile::TempDir,
}

async fn start() -> Server {
    let dir = tempfile::tempdir().unwrap();
    let db = Db::connect(&format!("sqlite://{}/bench.db", dir.path().display()))
        .await
        .unwrap();
    let store = sessions::Store::open(&db.typed).await.unwrap();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let options = flightdeck::web::leptos_options(&dir.path().display().to_string(), addr);
    // No workers: nothing probes the 2,000 benchmark components or evaluates SLOs behind our back.
    let state = AppState::new(db, options, WebConfig::default())
        .await
        .unwrap();
    state
        .accounts
        .add_user(SYSTEM_ACTOR, "admin", Role::Admin, "bench-admin-password")
        .await
        .unwrap();
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
            router.into_make_service_with_connect_info::<std::net::SocketAddr>(),
        )
        .await
        .unwrap()
    });
    Server {
        url: format!("http://{addr}"),
        token,
        state,
        _dir: dir,
    }
}

fn batch(n: u64, size: usize) -> Value {
    let alerts: Vec<Value> = (0..size as u64)
        .map(|i| {
            let k = (n * size as u64 + i) % DISTINCT as u64;
            json!({
                "labels": {"alertname": format!("Bench{}", k % 50), "instance": format!("host-{k}"), "job": "bench",
                           "severity": if k.is_multiple_of(3) { "critical" } else { "warning" }},
                "annotations": {"summary": format!("benchmark alert {k}")},
                "generatorURL": "http://prometheus:9090/graph"
            })
        })
        .collect();
    Value::Array(alerts)
}

/// Posts batches from `CLIENTS` concurrent clients for `RUN`; returns alerts accepted per second.
async fn load(url: &str, token: Option<&str>, size: usize) -> (f64, u64) {
    let http = reqwest::Client::builder()
        .pool_max_idle_per_host(CLIENTS)
        .build()
        .unwrap();
    let sent = Arc::new(AtomicU64::new(0));
    let counter = Arc::new(AtomicU64::new(0));
    let started = Instant::now();
    let tasks: Vec<_> = (0..CLIENTS)
        .map(|_| {
            let (http, url, token, sent, counter) = (
                http.clone(),
                url.to_string(),
                token.map(str::to_string),
                sent.clone(),
                counter.clone(),
            );
            tokio::spawn(async move {
                while started.elapsed() < RUN {
                    let n = counter.fetch_add(1, Ordering::Relaxed);
                    let mut request = http.post(&url).json(&batch(n, size));
                    if let Some(t) = &token {
                        request = request.bearer_auth(t);
                    }
                    let response = request.send().await.expect("request");
                    assert!(response.status().is_success(), "{}", response.status());
                    sent.fetch_add(size as u64, Ordering::Relaxed);
                }
            })
        })
        .collect();
    for t in tasks {
        t.await.unwrap();
    }
    let total = sent.load(Ordering::Relaxed);
    (total as f64 / started.elapsed().as_secs_f64(), total)
}

/// Sends the same load to Flightdeck and to a real Alertmanager, with `size` alerts per request
/// (Prometheus sends up to 64).
async fn ingestion(server: &Server, size: usize) {
    let before: i64 =
        sqlx::query("SELECT COALESCE(CAST(SUM(fire_count) AS BIGINT), 0) FROM alerts")
            .fetch_one(&server.state.db.pool)
            .await
            .unwrap()
            .get(0);
    let (ours, sent) = load(
        &format!("{}/api/v2/alerts", server.url),
        Some(&server.token),
        size,
    )
    .await;
    let row = sqlx::query("SELECT COUNT(*), CAST(SUM(fire_count) AS BIGINT) FROM alerts")
        .fetch_one(&server.state.db.pool)
        .await
        .unwrap();
    let (alerts, fired): (i64, i64) = (row.get(0), row.get(1));
    assert_eq!(
        (fired - before) as u64,
        sent,
        "every acknowledged alert is persisted"
    );
    println!("| alert ingestion, Flightdeck `POST /api/v2/alerts` (SQLite, {CLIENTS} clients, {size} alerts per request) | {ours:.0} alerts/s ({sent} sent and all persisted; {alerts} distinct alerts) |");

    if !std::path::Path::new(ALERTMANAGER).exists() {
        println!("| Alertmanager | not installed (scripts/setup.sh installs it) |");
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let config = dir.path().join("am.yml");
    std::fs::write(
        &config,
        "route:\n  receiver: nowhere\nreceivers:\n  - name: nowhere\n",
    )
    .unwrap();
    let mut child = std::process::Command::new(ALERTMANAGER)
        .args([
            format!("--config.file={}", config.display()),
            format!("--storage.path={}", dir.path().display()),
            format!("--web.listen-address=127.0.0.1:{port}"),
            "--cluster.listen-address=".into(),
        ])
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let http = reqwest::Client::new();
    for _ in 0..100 {
        if http
            .get(format!("http://127.0.0.1:{port}/-/ready"))
            .send()
            .await
            .is_ok_and(|r| r.status().is_success())
        {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let (theirs, _) = load(
        &format!("http://127.0.0.1:{port}/api/v2/alerts"),
        None,
        size,
    )
    .await;
    let _ = child.kill();
    let _ = child.wait();
    println!("| alert ingestion, Alertmanager 0.25 `POST /api/v2/alerts` (in memory, same load, {size} per request) | {theirs:.0} alerts/s |");
    println!(
        "| ratio Flightdeck / Alertmanager, {size} per request | {:.2} |",
        ours / theirs
    );
}

/// 1,000 probe-based SLOs with 30 days of hourly and 7 hours of per-minute counts.
async fn slo_evaluation(server: &Server) {
    let pool = &server.state.db.pool;
    let now = flightdeck::now_ms();
    sqlx::query("INSERT INTO services (name, created_at) VALUES ('bench', 0)")
        .execute(pool)
        .await
        .unwrap();
    let mut tx = pool.begin().await.unwrap();
    for i in 0..1000 {
        sqlx::query("INSERT INTO components (name, kind, service_id, probe, interval_s, status, status_reason, status_since, next_check_at, created_at) \
                     VALUES ($1, 'service', 1, '{\"type\":\"tcp\",\"address\":\"127.0.0.1:9\"}', 3600, 'healthy', 'bench', 0, $2, 0)")
            .bind(format!("slo-component-{i}"))
            .bind(now + 86_400_000)
            .execute(&mut *tx).await.unwrap();
        sqlx::query("INSERT INTO slos (service_id, name, sli, component_id, objective, window_days, created_at) VALUES (1, $1, 'availability', $2, 0.999, 30, 0)")
            .bind(format!("slo-{i}"))
            .bind(i as i64 + 1)
            .execute(&mut *tx).await.unwrap();
    }
    tx.commit().await.unwrap();
    let insert = |table: &'static str, column: &'static str, rows: Vec<(i64, i64, i64, i64)>| async move {
        let mut tx = pool.begin().await.unwrap();
        for chunk in rows.chunks(500) {
            let sql = format!(
                "INSERT INTO {table} (slo_id, {column}, good, total) VALUES {}",
                flightdeck::store::values_placeholders(
                    flightdeck::db::Backend::Sqlite,
                    chunk.len(),
                    4
                )
            );
            let mut q = sqlx::query(&sql);
            for (a, b, c, d) in chunk {
                q = q.bind(*a).bind(*b).bind(*c).bind(*d);
            }
            q.execute(&mut *tx).await.unwrap();
        }
        tx.commit().await.unwrap();
    };
    let (hour, minute) = (now / 3_600_000, now / 60_000);
    let hours: Vec<_> = (1..=1000i64)
        .flat_map(|s| (0..720i64).map(move |h| (s, hour - h, 240 - (h + s) % 2, 240)))
        .collect();
    let minutes: Vec<_> = (1..=1000i64)
        .flat_map(|s| (0..420i64).map(move |m| (s, minute - m, 4 - ((m + s) % 97 == 0) as i64, 4)))
        .collect();
    let rows = hours.len() + minutes.len();
    insert("slo_hours", "hour", hours).await;
    insert("slo_minutes", "minute", minutes).await;
    // The first round right after the bulk load reads 1.1 M rows' pages out of the WAL; once
    // SQLite checkpoints them into the database file (as it does on its own between rounds),
    // every round reads the same way. Report both.
    let t = Instant::now();
    let round = server.state.slos.evaluate_all(now).await.unwrap();
    assert_eq!(round.evaluated, 1000);
    let first = t.elapsed().as_secs_f64() * 1000.0;
    sqlx::query("PRAGMA wal_checkpoint(TRUNCATE)")
        .execute(pool)
        .await
        .unwrap();
    let mut times = Vec::new();
    for _ in 0..5 {
        let t = Instant::now();
        let round = server.state.slos.evaluate_all(now).await.unwrap();
        assert_eq!(round.evaluated, 1000);
        times.push(t.elapsed().as_secs_f64() * 1000.0);
    }
    eprintln!("SLO rounds in order: {times:.0?}");
    times.sort_by(f64::total_cmp);
    println!("| SLO evaluation round, 1,000 SLOs over 30 days ({rows} count rows): first, right after the bulk load / then median and worst of 5 | {first:.0} ms / {:.0} ms and {:.0} ms |", times[2], times[4]);
}

async fn grid_render(server: &Server) {
    let pool = &server.state.db.pool;
    let now = flightdeck::now_ms();
    let mut tx = pool.begin().await.unwrap();
    let statuses = [
        "healthy", "healthy", "healthy", "degraded", "down", "unknown",
    ];
    // With the SLO benchmark's 1,000 components, 2,000 in all.
    for i in 0..1000 {
        sqlx::query("INSERT INTO components (name, kind, probe, interval_s, status, status_reason, status_since, last_latency_ms, next_check_at, created_at) \
                     VALUES ($1, 'service', '{\"type\":\"http\",\"url\":\"http://127.0.0.1:9/\"}', 3600, $2, 'The last 5 checks passed.', 0, 42, $3, 0)")
            .bind(format!("grid-{i:04}"))
            .bind(statuses[i % statuses.len()])
            .bind(now + 86_400_000)
            .execute(&mut *tx).await.unwrap();
    }
    tx.commit().await.unwrap();
    let http = reqwest::Client::new();
    let signed_in = http
        .post(format!("{}/api/sign_in", server.url))
        .header("origin", &server.url)
        .header("accept", "application/json")
        .form(&[("username", "admin"), ("password", "bench-admin-password")])
        .send()
        .await
        .unwrap();
    let cookie = signed_in
        .headers()
        .get_all("set-cookie")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find(|v| v.starts_with("fd_session="))
        .map(|v| v.split(';').next().unwrap().to_string())
        .expect("a session cookie");
    let mut times = Vec::new();
    let mut bytes = 0;
    for i in 0..60 {
        let t = Instant::now();
        let page = http
            .get(format!("{}/health", server.url))
            .header("cookie", &cookie)
            .header("accept", "text/html")
            .send()
            .await
            .unwrap();
        assert!(page.status().is_success());
        let body = page.text().await.unwrap();
        if i >= 10 {
            times.push(t.elapsed().as_secs_f64() * 1000.0);
        }
        bytes = body.len();
        assert!(
            body.contains("grid-0999") && body.contains("slo-component-999"),
            "the grid lists every component"
        );
    }
    times.sort_by(f64::total_cmp);
    println!(
        "| health grid page with 2,000 components, server render + transfer (p50 / p99 of 50) | {:.1} ms / {:.1} ms ({} KB of HTML) |",
        times[times.len() / 2],
        times[times.len() * 99 / 100],
        bytes / 1024
    );
}

#[tokio::main]
async fn main() {
    // The server's errors on stderr: a failed request says why.
    tracing_subscriber::fmt()
        .with_env_filter("warn")
        .with_writer(std::io::stderr)
        .init();
    let server = start().await;
    println!("| health | value |\n|---|---|");
    ingestion(&server, 10).await;
    ingestion(&server, 64).await;
    // `BENCH_ONLY=ingestion` stops here: the ratio alone, for profiling or repeated runs.
    if std::env::var("BENCH_ONLY").as_deref() == Ok("ingestion") {
        return;
    }
    slo_evaluation(&server).await;
    grid_render(&server).await;
}
