//! Components, probes and SLOs on both databases: a real HTTP endpoint probed until it goes down
//! (raising `ComponentDown`) and recovers (resolving it), input checks, SLO budget and burn from
//! recorded checks with a clock the test controls, the `SLOBurnRate` alert, and the automatic
//! rollback a page-level burn starts inside a deployment's watch window.

mod common;
use app::health::component::ProbeSpec;
use app::model::Role;
use axum::http::StatusCode;
use common::{deploy, Auth, TestApp};
use serde_json::{json, Value};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

/// A local endpoint answering 200 "ok" while `healthy`, 503 otherwise.
async fn endpoint(healthy: Arc<AtomicBool>) -> String {
    let app = axum::Router::new().route(
        "/healthz",
        axum::routing::get(move || {
            let healthy = healthy.clone();
            async move {
                if healthy.load(Ordering::SeqCst) {
                    (StatusCode::OK, "ok")
                } else {
                    (StatusCode::SERVICE_UNAVAILABLE, "draining")
                }
            }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    format!("http://{addr}")
}

async fn create_component(app: &TestApp, admin: &Auth, name: &str, probe: Value) -> i64 {
    let res = app
        .post_json("/api/v1/components", admin, json!({"name": name, "kind": "service", "service": "api", "environment": "production", "probe": probe}))
        .await;
    assert_eq!(res.status, StatusCode::CREATED, "{}", res.body);
    res.json()["id"].as_i64().unwrap()
}

async fn alert_named(app: &TestApp, auth: &Auth, name: &str) -> Option<Value> {
    let feed = app.get("/api/v1/alerts", auth).await.json();
    feed["alerts"]
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["name"] == name)
        .cloned()
}

async fn components_go_down_and_recover_with_an_alert(app: TestApp) {
    let admin = deploy::setup(&app, "true").await;
    let viewer = app.new_token("wallboard", Role::Viewer).await;
    let healthy = Arc::new(AtomicBool::new(true));
    let base = endpoint(healthy.clone()).await;
    // A long interval: the prober checks once at creation; the test checks on its own pace.
    let probe = json!({"type": "http", "url": format!("{base}/healthz"), "body_contains": "ok", "interval_s": 3600, "latency_threshold_ms": 5000});
    let id = create_component(&app, &admin, "api-http", probe.clone()).await;
    let tcp_addr = base.trim_start_matches("http://").to_string();
    let tcp = create_component(
        &app,
        &admin,
        "api-tcp",
        json!({"type": "tcp", "address": tcp_addr, "interval_s": 3600}),
    )
    .await;
    let detail = app
        .wait_for(&format!("/api/v1/components/{id}"), &viewer, |c| {
            c["status"] == "healthy"
        })
        .await;
    assert_eq!(detail["results"][0]["detail"], "HTTP 200");
    assert_eq!(detail["availability"], 1.0);
    app.wait_for(&format!("/api/v1/components/{tcp}"), &viewer, |c| {
        c["status"] == "healthy"
    })
    .await;

    let spec: ProbeSpec = serde_json::from_value(detail["probe"].clone()).unwrap();
    let components = &app.state.components;
    healthy.store(false, Ordering::SeqCst);
    let degraded = components.check(id, &spec).await.unwrap();
    assert_eq!(
        degraded.status.as_str(),
        "degraded",
        "{}",
        degraded.status_reason
    );
    for _ in 0..4 {
        components.check(id, &spec).await.unwrap();
    }
    let down = app
        .get(&format!("/api/v1/components/{id}"), &viewer)
        .await
        .json();
    assert_eq!(down["status"], "down");
    assert_eq!(down["status_reason"], "All of the last 5 checks failed.");
    assert_eq!(down["results"][0]["detail"], "HTTP 503, expected 200");
    let alert = alert_named(&app, &viewer, "ComponentDown")
        .await
        .expect("a ComponentDown alert");
    assert_eq!(alert["status"], "open");
    assert_eq!(alert["source"], "probe");
    assert_eq!(alert["labels"]["component"], "api-http");
    assert_eq!(alert["labels"]["environment"], "production");
    // While the probe keeps failing, the alert says so: seen again, counted, its text current.
    let first_seen = alert["last_seen"].as_i64().unwrap();
    tokio::time::sleep(std::time::Duration::from_millis(5)).await;
    components.check(id, &spec).await.unwrap();
    let alert = alert_named(&app, &viewer, "ComponentDown").await.unwrap();
    assert_eq!(alert["fire_count"], 2, "{alert}");
    assert!(alert["last_seen"].as_i64().unwrap() > first_seen, "{alert}");
    assert_eq!(
        alert["summary"],
        "api-http is down: All of the last 5 checks failed."
    );

    // The grid lists the worst first.
    let grid = app.get("/api/v1/components", &viewer).await.json();
    assert_eq!(grid[0]["name"], "api-http");

    healthy.store(true, Ordering::SeqCst);
    for _ in 0..5 {
        components.check(id, &spec).await.unwrap();
    }
    let back = app
        .get(&format!("/api/v1/components/{id}"), &viewer)
        .await
        .json();
    assert_eq!(back["status"], "healthy");
    let alert = alert_named(&app, &viewer, "ComponentDown").await.unwrap();
    assert_eq!(alert["status"], "resolved");
    assert_eq!(alert["resolved_by"], "probe");
}

async fn component_input_is_checked(app: TestApp) {
    let admin = deploy::setup(&app, "true").await;
    let operator = app.new_token("ops", Role::Operator).await;
    let http = json!({"type": "http", "url": "http://127.0.0.1:9/healthz", "interval_s": 3600});
    create_component(&app, &admin, "api", http.clone()).await;
    let cases = [
        (
            &admin,
            json!({"name": "api", "probe": http}),
            StatusCode::CONFLICT,
        ),
        (
            &operator,
            json!({"name": "x", "probe": http}),
            StatusCode::FORBIDDEN,
        ),
        (
            &admin,
            json!({"name": "x", "probe": {"type": "http"}}),
            StatusCode::UNPROCESSABLE_ENTITY,
        ),
        (
            &admin,
            json!({"name": "x", "probe": {"type": "tcp", "address": "db"}}),
            StatusCode::UNPROCESSABLE_ENTITY,
        ),
        (
            &admin,
            json!({"name": "x", "probe": {"type": "prometheus", "query": "up"}}),
            StatusCode::UNPROCESSABLE_ENTITY,
        ),
        (
            &admin,
            json!({"name": "x", "service": "nope", "probe": http}),
            StatusCode::UNPROCESSABLE_ENTITY,
        ),
        (
            &admin,
            json!({"name": "x", "probe": http, "colour": "red"}),
            StatusCode::UNPROCESSABLE_ENTITY,
        ),
    ];
    for (auth, body, status) in cases {
        let res = app
            .post_json("/api/v1/components", auth, body.clone())
            .await;
        assert_eq!(res.status, status, "{body}: {}", res.body);
    }
    assert_eq!(
        app.get("/api/v1/components", &admin)
            .await
            .json()
            .as_array()
            .unwrap()
            .len(),
        1
    );
    assert_eq!(
        app.get("/api/v1/components/999", &admin).await.status,
        StatusCode::NOT_FOUND
    );
}

/// Records `count` checks of component `id`, `failed` of them failing, spread over the minute
/// ending at `at`.
async fn checks(app: &TestApp, id: i64, spec: &ProbeSpec, at: i64, count: usize, failed: usize) {
    for i in 0..count {
        let ok = i >= failed;
        app.state
            .components
            .record(
                id,
                spec,
                at - (i as i64 * 60_000 / count as i64),
                ok,
                ok.then_some(20),
                "test",
            )
            .await
            .unwrap();
    }
}

async fn slos_burn_alert_and_roll_back_inside_the_watch_window(app: TestApp) {
    let admin = deploy::setup(&app, "true").await;
    deploy::set_target(
        &app,
        &admin,
        "production",
        json!({"deployer": "command", "command": "true", "watch_s": 600}),
    )
    .await;
    let early = deploy::deploy(&app, &admin, "staging", "0.9.0").await;
    deploy::finished(&app, &admin, early).await;
    let v1 = deploy::deploy(&app, &admin, "production", "1.0.0").await;
    assert_eq!(
        deploy::finished(&app, &admin, v1).await["status"],
        "succeeded"
    );
    let v2 = deploy::deploy(&app, &admin, "production", "1.1.0").await;
    assert_eq!(
        deploy::finished(&app, &admin, v2).await["status"],
        "succeeded"
    );

    let id = create_component(
        &app,
        &admin,
        "api-http",
        json!({"type": "http", "url": "http://127.0.0.1:9/", "interval_s": 3600}),
    )
    .await;
    // The prober checks a new component at once; wait for that check so the SLO counts only ours.
    app.wait_for(&format!("/api/v1/components/{id}"), &admin, |c| {
        !c["last_checked_at"].is_null()
    })
    .await;
    let slo = app
        .post_json("/api/v1/slos", &admin, json!({"service": "api", "name": "availability", "sli": "availability", "component": "api-http", "objective": 0.999}))
        .await;
    assert_eq!(slo.status, StatusCode::CREATED, "{}", slo.body);
    let slo_id = slo.json()["id"].as_i64().unwrap();
    for bad in [
        json!({"service": "api", "name": "availability", "sli": "availability", "component": "api-http", "objective": 0.999}),
        json!({"service": "api", "name": "lat", "sli": "latency", "component": "api-http", "objective": 0.99}),
        json!({"service": "api", "name": "x", "sli": "availability", "component": "nope", "objective": 0.99}),
        json!({"service": "api", "name": "x", "sli": "availability", "good_query": "a", "total_query": "b", "objective": 0.99}),
        json!({"service": "api", "name": "x", "sli": "availability", "component": "api-http", "objective": 1.5}),
    ] {
        let res = app.post_json("/api/v1/slos", &admin, bad.clone()).await;
        assert!(
            matches!(
                res.status,
                StatusCode::CONFLICT | StatusCode::UNPROCESSABLE_ENTITY
            ),
            "{bad}: {}",
            res.body
        );
    }

    let detail = app
        .get(&format!("/api/v1/components/{id}"), &admin)
        .await
        .json();
    let spec: ProbeSpec = serde_json::from_value(detail["probe"].clone()).unwrap();
    let now = flightdeck::now_ms();
    // An hour of checks, 10 a minute, all passing but for 10 failures in the last minute:
    // 1.7% errors over the hour and 20% over five minutes against a 0.1% budget.
    for minute in (1..60).rev() {
        checks(&app, id, &spec, now - minute * 60_000, 10, 0).await;
    }
    checks(&app, id, &spec, now, 10, 10).await;
    let round = app.state.slos.evaluate_all(now).await.unwrap();
    assert_eq!((round.evaluated, round.started_firing), (1, 1));

    let slo = app
        .get(&format!("/api/v1/slos/{slo_id}"), &admin)
        .await
        .json();
    // The budget chart marks the service's deploys to its highest-ranked environment only; the
    // automatic rollback below may already have finished (the evaluation just fired), and it is
    // marked as a rollback.
    let marked: Vec<(&str, &str, &str)> = slo["deploys"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| {
            (
                d["kind"].as_str().unwrap(),
                d["version"].as_str().unwrap(),
                d["environment"].as_str().unwrap(),
            )
        })
        .collect();
    let deploys = [
        ("deploy", "1.0.0", "production"),
        ("deploy", "1.1.0", "production"),
    ];
    let rolled_back = [("rollback", "1.0.0", "production")];
    assert!(
        marked == deploys || marked == [&deploys[..], &rolled_back[..]].concat(),
        "{}",
        slo["deploys"]
    );
    let evaluation = &slo["evaluation"];
    assert_eq!(evaluation["budget"]["total"], 600.0);
    assert_eq!(evaluation["budget"]["bad"], 10.0);
    let burn = |w: &str| {
        evaluation["burn_rates"]
            .as_array()
            .unwrap()
            .iter()
            .find(|b| b["window"] == w)
            .unwrap()["burn_rate"]
            .as_f64()
            .unwrap()
    };
    assert!(
        (burn("1h") - 10.0 / 600.0 / 0.001).abs() < 1e-6,
        "{}",
        burn("1h")
    );
    assert!(burn("5m") > 14.4);
    assert!(evaluation["firing"]
        .as_array()
        .unwrap()
        .iter()
        .any(|r| r["severity"] == "page"));
    assert!(!slo["budget_series"].as_array().unwrap().is_empty());

    let alert = alert_named(&app, &admin, "SLOBurnRate")
        .await
        .expect("an SLOBurnRate alert");
    assert_eq!(alert["severity"], "critical");
    assert_eq!(alert["source"], "slo");
    assert!(
        alert["summary"]
            .as_str()
            .unwrap()
            .contains("14.4x over 1h and 5m"),
        "{}",
        alert["summary"]
    );

    // The page-level burn rolled back 1.1.0, which was still inside its watch window.
    let status = app
        .wait_for("/api/v1/status", &admin, |s| {
            deploy::cell(s, "production")["version"] == "1.0.0"
                && deploy::cell(s, "production")["status"] == "succeeded"
        })
        .await;
    let rollback = deploy::cell(&status, "production")["deployment_id"]
        .as_i64()
        .unwrap();
    let rollback = app
        .get(&format!("/api/v1/deployments/{rollback}"), &admin)
        .await
        .json();
    assert_eq!(rollback["kind"], "rollback");
    assert_eq!(rollback["actor"], "flightdeck");
    assert!(
        rollback["reason"]
            .as_str()
            .unwrap()
            .contains("SLO api/availability"),
        "{}",
        rollback["reason"]
    );

    // A day later the short windows are calm: the rules stop firing and the alert resolves.
    let calm = app
        .state
        .slos
        .evaluate_all(now + 2 * 86_400_000)
        .await
        .unwrap();
    assert_eq!(calm.stopped_firing, 1);
    assert_eq!(
        alert_named(&app, &admin, "SLOBurnRate").await.unwrap()["status"],
        "resolved"
    );
    let list = app.get("/api/v1/slos", &admin).await.json();
    assert_eq!(list[0]["name"], "availability");
}

/// A probe's URL may carry credentials: only admins see it whole.
async fn probe_urls_are_masked_for_everyone_but_admins(app: TestApp) {
    let admin = deploy::setup(&app, "true").await;
    let viewer = app.new_token("wallboard", Role::Viewer).await;
    let probe = json!({"type": "http", "url": "http://monitor:pa55word@127.0.0.1:9/healthz?key=k3y", "interval_s": 3600});
    let id = create_component(&app, &admin, "api-secret", probe).await;
    let path = format!("/api/v1/components/{id}");
    let seen = app.get(&path, &viewer).await.json();
    assert_eq!(seen["probe"]["url"], "http://•••@127.0.0.1:9/healthz?•••");
    let listed = app.get("/api/v1/components", &viewer).await.body;
    assert!(
        !listed.contains("pa55word") && !listed.contains("k3y"),
        "{listed}"
    );
    let whole = app.get(&path, &admin).await.json();
    assert_eq!(
        whole["probe"]["url"],
        "http://monitor:pa55word@127.0.0.1:9/healthz?key=k3y"
    );
}

/// A component's page lists its checks 25 at a time: with 30 recorded, "Older →" works.
async fn a_components_checks_page_to_older_ones(app: TestApp) {
    let admin = deploy::setup(&app, "true").await;
    let probe = json!({"type": "http", "url": "http://127.0.0.1:9/healthz", "interval_s": 3600});
    let id = create_component(&app, &admin, "api-checks", probe).await;
    let detail = app
        .get(&format!("/api/v1/components/{id}"), &admin)
        .await
        .json();
    let spec: ProbeSpec = serde_json::from_value(detail["probe"].clone()).unwrap();
    checks(&app, id, &spec, flightdeck::now_ms(), 30, 3).await;
    let password = app.new_user("dana", Role::Viewer).await;
    let dana = app.sign_in("dana", &password).await;
    let page = app.page(&format!("/health/{id}"), &dana).await.body;
    // 30 checks, and the probe's own first one if it has run by now.
    let total: usize = page
        .split_once("1–25 of ")
        .and_then(|(_, rest)| rest.split(|c: char| !c.is_ascii_digit()).next())
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("no range in {page}"));
    assert!(total >= 30, "{total} checks listed");
    // The button that pages on: enabled, and nothing of the page's code spilled into it (a
    // `>=` inside its `disabled` once ended the tag early, leaving it disabled for good).
    let older = page.find("Older →").expect("an Older button");
    let tag = &page[page[..older].rfind("<button").unwrap()..older];
    assert!(!tag.contains("disabled"), "Older is disabled: {tag}");
    assert!(tag.ends_with('>') && !tag.contains("on:click"), "{tag}");
}

on_both_databases!(
    probe_urls_are_masked_for_everyone_but_admins,
    a_components_checks_page_to_older_ones,
    components_go_down_and_recover_with_an_alert,
    component_input_is_checked,
    slos_burn_alert_and_roll_back_inside_the_watch_window,
);
