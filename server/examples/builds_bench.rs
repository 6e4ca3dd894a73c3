//! Build benchmarks for the README (reported, never asserted):
//! - the failure predictor on realistic time-ordered histories (`demo::builds`, three months of
//!   four pipelines, five seeds): accuracy and failure F1 beside the last-build and majority
//!   baselines;
//! - training on 100,000 builds;
//! - prediction latency through `POST /api/v1/builds/predict` (the real router over TCP);
//! - `POST /api/v1/builds` throughput on SQLite from concurrent clients, as CI reports builds (each
//!   arrives running, then finishes), every answer after commit;
//! - `GET /api/v1/builds/stats` over a month of a busy organisation's builds (96,000, and the
//!   builds posted above), the read behind the builds pages, and the Builds page's overview of
//!   it refetched by 16 open pages at once after a build arrives.
//!
//! `cargo run --release -p flightdeck --example builds_bench` (scripts/bench.sh runs it).
//! `BENCH_ONLY=predictor` stops after the predictor's accuracy over the generated histories.

use app::builds::evaluation::samples;
use app::model::Role;
use flightdeck::auth::accounts::SYSTEM_ACTOR;
use flightdeck::auth::sessions;
use flightdeck::config::WebConfig;
use flightdeck::db::Db;
use flightdeck::state::AppState;
use serde_json::json;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

const NOW: i64 = 1_796_162_400_000;

fn pct(sorted: &[Duration], p: f64) -> f64 {
    let i = ((sorted.len() as f64 * p) as usize).min(sorted.len() - 1);
    sorted[i].as_secs_f64() * 1000.0
}

#[tokio::main]
async fn main() {
    println!("| seed | builds | failures | accuracy | F1 | last-build accuracy / F1 | majority accuracy |");
    println!("|---|---|---|---|---|---|---|");
    for seed in 1..=5 {
        let builds = flightdeck::demo::builds::history(seed, 90, 8, NOW);
        let examples = samples(&builds);
        let failures = examples.iter().filter(|s| s.failed).count();
        let (_, e) = flightdeck::builds::model::train(&examples).unwrap();
        println!(
            "| {seed} | {} | {:.0} % | {:.3} | {:.3} | {:.3} / {:.3} | {:.3} |",
            examples.len(),
            100.0 * failures as f64 / examples.len() as f64,
            e.accuracy,
            e.f1,
            e.baseline_accuracy,
            e.baseline_f1,
            e.majority_accuracy
        );
    }

    // How often both targets hold, over more histories than the table shows.
    let (mut accurate, mut better_f1, mut both) = (0, 0, 0);
    let (mut accuracy_sum, mut f1_gap_sum) = (0.0, 0.0);
    for seed in 1..=30 {
        let examples = samples(&flightdeck::demo::builds::history(seed, 90, 8, NOW));
        let (_, e) = flightdeck::builds::model::train(&examples).unwrap();
        accuracy_sum += e.accuracy;
        f1_gap_sum += e.f1 - e.baseline_f1;
        let a = e.accuracy > 0.80 && e.accuracy > e.majority_accuracy;
        let f = e.f1 > e.baseline_f1;
        accurate += usize::from(a);
        better_f1 += usize::from(f);
        both += usize::from(a && f);
    }
    println!(
        "\nseeds 1–30: accuracy above 0.80 and the majority's on {accurate}, F1 above the last build's on {better_f1}, both on {both}; mean accuracy {:.4}, mean F1 less the last build's {:+.4}",
        accuracy_sum / 30.0,
        f1_gap_sum / 30.0
    );
    if std::env::var("BENCH_ONLY").as_deref() == Ok("predictor") {
        return;
    }

    let big = flightdeck::demo::builds::history(99, 3125, 8, NOW);
    let started = Instant::now();
    let examples = samples(&big);
    let features = started.elapsed();
    let (_, e) = flightdeck::builds::model::train(&examples).unwrap();
    println!(
        "\ntraining on {} builds: {:.1} s ({:.1} s of it features), accuracy {:.3}, F1 {:.3}",
        examples.len(),
        started.elapsed().as_secs_f64(),
        features.as_secs_f64(),
        e.accuracy,
        e.f1
    );

    // The real server on a fresh SQLite database with three months of history and a model.
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
    let token = state
        .accounts
        .add_token(SYSTEM_ACTOR, "ci", Role::Operator, Default::default())
        .await
        .unwrap()
        .token;
    state
        .builds
        .import(flightdeck::demo::builds::history(
            3,
            90,
            8,
            flightdeck::now_ms(),
        ))
        .await
        .unwrap();
    state.builds.train().await.unwrap();
    let router = flightdeck::web::router(state.clone(), store);
    tokio::spawn(async move {
        axum::serve(
            listener,
            router.into_make_service_with_connect_info::<std::net::SocketAddr>(),
        )
        .await
        .unwrap()
    });
    let url = format!("http://{addr}");
    let http = reqwest::Client::new();

    let mut latencies = Vec::new();
    for i in 0..2000 {
        let body = json!({"pipeline": "acme/shop/ci", "branch": if i % 2 == 0 { "main" } else { "feature/cart-1" },
            "author": "new.hire", "trigger": "push", "message": "Bump deps", "lines_added": i % 900, "lines_deleted": 10});
        let t = Instant::now();
        let r = http
            .post(format!("{url}/api/v1/builds/predict"))
            .bearer_auth(&token)
            .json(&body)
            .send()
            .await
            .unwrap();
        assert!(r.status().is_success());
        r.bytes().await.unwrap();
        latencies.push(t.elapsed());
    }
    latencies.sort();
    println!(
        "POST /builds/predict, one client, 2,000 requests: p50 {:.2} ms, p99 {:.2} ms",
        pct(&latencies, 0.5),
        pct(&latencies, 0.99)
    );

    // Each build starts a second after the one before it, so each new build's prior reads the
    // history the earlier ones left on its pipeline's main branch, as a real CI's would.
    let starts = Arc::new(AtomicU64::new(0));
    for clients in [16usize, 64] {
        let counter = Arc::new(AtomicU64::new(0));
        let started = Instant::now();
        let run = Duration::from_secs(5);
        let tasks: Vec<_> = (0..clients)
            .map(|c| {
                let (http, url, token, counter, starts) = (http.clone(), url.clone(), token.clone(), counter.clone(), starts.clone());
                tokio::spawn(async move {
                    let (mut n, mut started_at) = (0u64, String::new());
                    while started.elapsed() < run {
                        n += 1;
                        // As CI reports them: a build arrives running (201), then finishes (200).
                        let (run_id, status, expect) = if !n.is_multiple_of(2) {
                            let second = starts.fetch_add(1, Ordering::Relaxed) as i64;
                            started_at = app::time_fmt::rfc3339(NOW + second * 1000);
                            (n, "running", 201)
                        } else {
                            (n - 1, if n.is_multiple_of(10) { "failure" } else { "success" }, 200)
                        };
                        let body = json!({"pipeline": format!("bench/p{}/ci", c % 8), "branch": "main", "commit": "0123456789abcdef",
                            "started_at": started_at, "status": status, "trigger": "push", "author": format!("dev{}", c % 16),
                            "source_id": format!("{clients}-{c}-{run_id}"), "lines_added": 120});
                        let r = http.post(format!("{url}/api/v1/builds")).bearer_auth(&token).json(&body).send().await.unwrap();
                        assert_eq!(r.status(), expect);
                        counter.fetch_add(1, Ordering::Relaxed);
                    }
                })
            })
            .collect();
        for t in tasks {
            t.await.unwrap();
        }
        let done = counter.load(Ordering::Relaxed);
        println!(
            "POST /builds, {clients} clients: {:.0} deliveries/s ({done} in {:.1} s; half new builds, half their finish), every answer after commit",
            done as f64 / started.elapsed().as_secs_f64(),
            started.elapsed().as_secs_f64()
        );
    }
    // The builds pages' read: every build of the period, its statistics per pipeline. A month of
    // four pipelines at 800 builds a day each, over REST (no read cache in between).
    let month = flightdeck::demo::builds::history(7, 30, 800, flightdeck::now_ms());
    state.builds.import(month).await.unwrap();
    let (mut reads, mut count) = (Vec::new(), 0);
    for _ in 0..7 {
        let t = Instant::now();
        let r = http
            .get(format!("{url}/api/v1/builds/stats?days=30"))
            .bearer_auth(&token)
            .send()
            .await
            .unwrap();
        assert!(r.status().is_success());
        let stats: serde_json::Value = r.json().await.unwrap();
        reads.push(t.elapsed());
        // With the month, the builds the throughput runs above posted, and the demo's.
        count = stats["pipelines"]
            .as_array()
            .unwrap()
            .iter()
            .map(|p| p["builds"].as_u64().unwrap())
            .sum::<u64>();
    }
    reads.sort();
    println!(
        "GET /builds/stats?days=30 over {count} builds: median {:.0} ms, best {:.0} ms (7 reads)",
        pct(&reads, 0.5),
        pct(&reads, 0.0)
    );

    // The same read as the Builds page makes it: each open page refetches its overview when a
    // build arrives, all at once. The read cache loads it once for all of them.
    let pages = 16;
    let mut rounds = Vec::new();
    for round in 0..5 {
        let build = json!({"pipeline": "acme/shop/ci", "branch": "main", "commit": format!("{:07x}", 0xbe000 + round),
            "started_at": "2026-11-30T14:05:00Z", "status": "running", "source_id": format!("overview-{round}")});
        let r = http
            .post(format!("{url}/api/v1/builds"))
            .bearer_auth(&token)
            .json(&build)
            .send()
            .await
            .unwrap();
        assert!(r.status().is_success());
        let t = Instant::now();
        let refetches: Vec<_> = (0..pages)
            .map(|_| {
                let (http, url, token) = (http.clone(), url.clone(), token.clone());
                tokio::spawn(async move {
                    let r = http
                        .post(format!("{url}/api/builds_overview"))
                        .bearer_auth(&token)
                        .header("origin", &url)
                        .header("accept", "application/json")
                        .form(&[("days", "30")])
                        .send()
                        .await
                        .unwrap();
                    assert!(r.status().is_success(), "{}", r.status());
                    r.bytes().await.unwrap();
                })
            })
            .collect();
        for refetch in refetches {
            refetch.await.unwrap();
        }
        rounds.push(t.elapsed());
    }
    rounds.sort();
    println!(
        "Builds page overview (30 days, {count} builds), {pages} open pages refetching after a new build: all answered in median {:.0} ms, best {:.0} ms (5 rounds)",
        pct(&rounds, 0.5),
        pct(&rounds, 0.0)
    );
}
