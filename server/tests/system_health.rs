//! Flightdeck's own health history, on both databases: a sample holds what the minute saw, the
//! API serves it by time, and samples older than 30 days go.

mod common;
use app::model::Role;
use axum::http::StatusCode;
use common::{Auth, TestApp};

async fn samples_record_the_minute_and_are_served_by_time(app: TestApp) {
    let viewer = app.new_token("viewer", Role::Viewer).await;
    app.state.metrics.take_window();
    for _ in 0..5 {
        assert_eq!(app.get("/api/v1/me", &viewer).await.status, StatusCode::OK);
    }
    let now = flightdeck::now_ms();
    let sample = flightdeck::system::sample(&app.state, "test:1", now)
        .await
        .unwrap();
    assert_eq!(sample.requests, 5);
    assert_eq!(sample.errors_5xx, 0);
    assert!(sample.p99_ms > 0.0);
    assert!(sample.db_bytes > 0, "the database has a size");
    assert!(sample.rss_bytes > 0);
    assert!(sample.pool_size >= sample.pool_in_use);
    flightdeck::system::store(&app.state.db.pool, &sample)
        .await
        .unwrap();
    // A sample from 31 days ago is dropped when the next one is stored.
    let mut old = sample.clone();
    old.at = now - 31 * 86_400_000;
    flightdeck::system::store(&app.state.db.pool, &old)
        .await
        .unwrap();
    flightdeck::system::store(&app.state.db.pool, &sample)
        .await
        .unwrap();

    // The server's own sampler takes one at start-up, as replica `host:pid`, in a task of its
    // own: wait for it (on a busy machine it may come after the samples above).
    let all = app
        .wait_for("/api/v1/system/health?since=0", &viewer, |body| {
            body["samples"]
                .as_array()
                .is_some_and(|s| s.iter().any(|s| s["replica"] != "test:1"))
        })
        .await;
    let (mine, started): (Vec<_>, Vec<_>) = all["samples"]
        .as_array()
        .unwrap()
        .iter()
        .cloned()
        .partition(|s| s["replica"] == "test:1");
    assert_eq!(mine.len(), 2, "{mine:?}");
    assert_eq!(started.len(), 1, "the start-up sample: {started:?}");
    let samples = mine;
    assert_eq!(samples[0]["replica"], "test:1");
    assert_eq!(samples[0]["requests"], 5);
    // Since just after this test's samples: none of them, and at most the start-up sample
    // (when it came after them).
    let later = app
        .get(&format!("/api/v1/system/health?since={}", now + 1), &viewer)
        .await
        .json();
    let later = later["samples"].as_array().unwrap();
    assert!(
        later.len() <= 1 && later.iter().all(|s| s["replica"] != "test:1"),
        "{later:?}"
    );
    let rfc = app
        .get("/api/v1/system/health?since=2020-01-01T00:00:00Z", &viewer)
        .await;
    assert_eq!(rfc.json()["samples"].as_array().unwrap().len(), 3);
    assert_eq!(
        app.get("/api/v1/system/health?since=yesterday", &viewer)
            .await
            .status,
        StatusCode::UNPROCESSABLE_ENTITY
    );
    assert_eq!(
        app.get("/api/v1/system/health", &Auth::None).await.status,
        StatusCode::UNAUTHORIZED
    );
}

/// One replica that sampled ten minutes ago and stopped, one sampling now.
async fn seed_a_gone_and_a_current_replica(app: &TestApp) {
    let now = flightdeck::now_ms();
    let mut gone = flightdeck::system::sample(&app.state, "old-host:4242", now)
        .await
        .unwrap();
    gone.at = now - 10 * 60_000;
    flightdeck::system::store(&app.state.db.pool, &gone)
        .await
        .unwrap();
    let current = flightdeck::system::sample(&app.state, "new-host:4343", now)
        .await
        .unwrap();
    flightdeck::system::store(&app.state.db.pool, &current)
        .await
        .unwrap();
}

/// The replica table tells a replica that stopped sampling (here: one last heard of 10 minutes
/// ago, as a restarted server's old process is) from the one serving the page.
async fn the_page_marks_replicas_that_stopped_sampling(app: TestApp) {
    seed_a_gone_and_a_current_replica(&app).await;
    let cookie = app.sign_in("admin", common::ADMIN_PASSWORD).await;
    let page = app.page("/system?hours=1", &cookie).await;
    assert_eq!(page.status, StatusCode::OK);
    let row = |replica: &str| {
        let start = page.body.find(replica).expect(replica);
        let end = start + page.body[start..].find("</tr>").unwrap();
        page.body[start..end].to_string()
    };
    assert!(row("old-host:4242").contains("no longer sampling"));
    assert!(!row("new-host:4343").contains("no longer sampling"));
}

/// On a page of several replicas a user charts the one they are looking into by its name.
async fn the_page_charts_the_replica_chosen_by_name(app: TestApp) {
    seed_a_gone_and_a_current_replica(&app).await;
    let cookie = app.sign_in("admin", common::ADMIN_PASSWORD).await;
    let charted = |body: &str| {
        let label = "hours, replica ";
        let start = body.find(label).expect("a chart's label") + label.len();
        let end = start + body[start..].find('"').unwrap();
        body[start..end].to_string()
    };
    // By default the newest sample's replica (the test server's own, sampled as it serves);
    // each name links to its own charts.
    let page = app.page("/system?hours=1", &cookie).await;
    let newest = charted(&page.body);
    assert_ne!(newest, "old-host:4242");
    assert!(page
        .body
        .contains("href=\"/system?hours=1&amp;replica=old-host%3A4242\""));
    let page = app
        .page("/system?hours=1&replica=old-host%3A4242", &cookie)
        .await;
    assert_eq!(page.status, StatusCode::OK);
    assert_eq!(charted(&page.body), "old-host:4242");
    // A replica with no sample in the period falls back to the newest.
    let page = app
        .page("/system?hours=1&replica=elsewhere:1", &cookie)
        .await;
    assert_eq!(charted(&page.body), newest);
}

on_both_databases!(
    samples_record_the_minute_and_are_served_by_time,
    the_page_marks_replicas_that_stopped_sampling,
    the_page_charts_the_replica_chosen_by_name
);
