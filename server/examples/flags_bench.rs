//! Feature-flag evaluation benchmarks for the README (reported, never asserted), on a fresh
//! SQLite database with the real router over TCP:
//! - OFREP single evaluations (`POST /ofrep/v1/evaluate/flags/{key}`) from concurrent keep-alive
//!   clients with a `flags:evaluate` token: evaluations/s and latency percentiles, each a
//!   different user, so rules and the sticky split both run;
//! - the same through the bulk endpoint (20 flags per request);
//! - evaluation alone (no HTTP), for the share the protocol and the network stack take.
//!
//! `cargo run --release -p flightdeck --example flags_bench` (scripts/bench.sh runs it). The
//! clients share the machine's 2 cores with the server.

use app::flags::evaluate::{evaluate, Context};
use app::flags::Flag;
use app::model::{Role, TokenLimits};
use flightdeck::auth::accounts::SYSTEM_ACTOR;
use flightdeck::auth::sessions;
use flightdeck::config::WebConfig;
use flightdeck::db::Db;
use flightdeck::state::AppState;
use serde_json::json;
use std::sync::Arc;
use std::time::{Duration, Instant};

const CLIENTS: usize = 16;
const RUN: Duration = Duration::from_secs(6);

fn flag(key: &str) -> Flag {
    serde_json::from_value(json!({
        "key": key, "kind": "boolean", "variants": {"on": true, "off": false}, "default_variant": "off",
        "rules": [
            {"users": ["alice", "bob"], "variant": "on"},
            {"roles": ["beta"], "variant": "on"},
            {"conditions": ["country in [\"NL\", \"DE\"]", "plan == \"pro\""], "variant": "on"}
        ],
        "rollout": {"on": 30, "off": 70}
    }))
    .unwrap()
}

async fn start() -> (String, String, tempfile::TempDir) {
    let dir = tempfile::tempdir().unwrap();
    let db = Db::connect(&format!("sqlite://{}/bench.db", dir.path().display()))
        .await
        .unwrap();
    let store = sessions::Store::open(&db.typed).await.unwrap();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let options = flightdeck::web::leptos_options(&dir.path().display().to_string(), addr);
    let state = AppState::new(db, options, WebConfig::default())
        .await
        .unwrap();
    for i in 0..20 {
        state
            .flags
            .create(SYSTEM_ACTOR, flag(&format!("flag-{i}")))
            .await
            .unwrap();
    }
    let limits = TokenLimits {
        scopes: vec![app::scopes::Scope::FlagsEvaluate],
        environment: None,
    };
    let token = state
        .accounts
        .add_token(SYSTEM_ACTOR, "shop", Role::Viewer, limits)
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
    (format!("http://{addr}"), token, dir)
}

/// Runs `CLIENTS` clients posting to `path` for `RUN`; returns requests/s and sorted latencies.
async fn load(url: &str, token: &str, path: &'static str) -> (f64, Vec<Duration>) {
    let http = reqwest::Client::builder()
        .pool_max_idle_per_host(CLIENTS)
        .build()
        .unwrap();
    let started = Instant::now();
    let tasks: Vec<_> = (0..CLIENTS)
        .map(|c| {
            let (http, url, token) = (http.clone(), format!("{url}{path}"), token.to_string());
            tokio::spawn(async move {
                let mut latencies = Vec::new();
                let mut n = 0u64;
                while started.elapsed() < RUN {
                    n += 1;
                    let body = json!({"context": {"targetingKey": format!("user-{c}-{n}"), "country": "NL", "plan": "free"}});
                    let t = Instant::now();
                    let response = http.post(&url).bearer_auth(&token).json(&body).send().await.expect("request");
                    assert!(response.status().is_success(), "{}", response.status());
                    response.bytes().await.expect("body");
                    latencies.push(t.elapsed());
                }
                latencies
            })
        })
        .collect();
    let mut all = Vec::new();
    for task in tasks {
        all.extend(task.await.unwrap());
    }
    let rate = all.len() as f64 / started.elapsed().as_secs_f64();
    all.sort();
    (rate, all)
}

fn pct(sorted: &[Duration], p: f64) -> f64 {
    let i = ((sorted.len() as f64 * p) as usize).min(sorted.len() - 1);
    sorted[i].as_secs_f64() * 1000.0
}

#[tokio::main]
async fn main() {
    let (url, token, _dir) = start().await;
    // Warm up the token cache and the connections.
    load(&url, &token, "/ofrep/v1/evaluate/flags/flag-0").await;

    let (rate, latencies) = load(&url, &token, "/ofrep/v1/evaluate/flags/flag-0").await;
    println!(
        "OFREP single, {CLIENTS} clients: {rate:.0} evaluations/s, p50 {:.2} ms, p99 {:.2} ms",
        pct(&latencies, 0.5),
        pct(&latencies, 0.99)
    );
    let (rate, latencies) = load(&url, &token, "/ofrep/v1/evaluate/flags").await;
    println!(
        "OFREP bulk (20 flags), {CLIENTS} clients: {rate:.0} requests/s = {:.0} evaluations/s, p50 {:.2} ms, p99 {:.2} ms",
        rate * 20.0,
        pct(&latencies, 0.5),
        pct(&latencies, 0.99)
    );

    let f = Arc::new(flag("flag-0"));
    let n = 1_000_000;
    let started = Instant::now();
    let mut on = 0;
    for i in 0..n {
        let mut context = Context {
            targeting_key: Some(format!("user-{i}")),
            ..Context::default()
        };
        context.attributes.insert("country".into(), json!("NL"));
        on += (evaluate(&f, &context, None).unwrap().variant == "on") as usize;
    }
    let took = started.elapsed();
    println!(
        "evaluation alone: {:.0} evaluations/s on one core ({on} of {n} on)",
        n as f64 / took.as_secs_f64()
    );
}
