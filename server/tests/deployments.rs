//! The deployment life cycle over the REST API, with the real engine, the real `command`
//! deployer (`/bin/sh`) and a real HTTP health endpoint, on both databases. Who may do what,
//! and bad input, are in `deployment_access.rs`.

mod common;
use app::model::Role;
use axum::http::StatusCode;
use common::deploy::*;
use common::TestApp;
use serde_json::{json, Value};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

async fn a_deploy_runs_the_command_and_records_everything(app: TestApp) {
    let admin = setup(
        &app,
        r#"echo "deploying $FLIGHTDECK_SERVICE $FLIGHTDECK_VERSION to $FLIGHTDECK_ENVIRONMENT as $FLIGHTDECK_KIND #$FLIGHTDECK_DEPLOYMENT_ID"; echo "secret: ${FLIGHTDECK_TEST_POSTGRES_URL:-hidden}"; echo warming up >&2"#,
    )
    .await;
    let operator = app.new_token("ci", Role::Operator).await;
    let id = deploy(&app, &operator, "staging", "1.4.0").await;
    let done = finished(&app, &operator, id).await;
    assert_eq!(done["status"], "succeeded", "{done}");
    assert_eq!(done["trigger"], "token");
    assert_eq!(done["actor"], "token:ci");
    assert!(done["started_at"].as_i64().unwrap() <= done["finished_at"].as_i64().unwrap());

    let log = log_text(&app, &operator, id).await;
    assert!(
        log.contains(&format!(
            "stdout: deploying api 1.4.0 to staging as deploy #{id}"
        )),
        "{log}"
    );
    assert!(log.contains("stderr: warming up"), "{log}");
    assert!(
        log.contains("stdout: secret: hidden"),
        "Flightdeck's own settings must not reach the command: {log}"
    );

    let status = app.get("/api/v1/status", &operator).await.json();
    let staging = cell(&status, "staging");
    assert_eq!(
        (staging["version"].as_str(), staging["status"].as_str()),
        (Some("1.4.0"), Some("succeeded"))
    );
    assert_eq!(staging["live_version"], "1.4.0");
    assert_eq!(cell(&status, "production")["version"], Value::Null);

    let releases = app
        .get("/api/v1/services/api/releases", &admin)
        .await
        .json();
    assert_eq!(releases[0]["version"], "1.4.0");
    let actions = app.audit_actions().await;
    for action in [
        "target.configured",
        "deployment.requested",
        "deployment.succeeded",
    ] {
        assert!(
            actions.iter().any(|a| a == action),
            "{action} missing from {actions:?}"
        );
    }
}

async fn a_failing_command_fails_the_deployment(app: TestApp) {
    let admin = setup(&app, r#"echo "migrating"; exit 3"#).await;
    let id = deploy(&app, &admin, "staging", "2.0.0").await;
    let done = finished(&app, &admin, id).await;
    assert_eq!(done["status"], "failed");
    assert_eq!(done["error"], "The command exited with status 3.");
    assert!(log_text(&app, &admin, id)
        .await
        .contains("stdout: migrating"));
    assert!(app
        .audit_actions()
        .await
        .contains(&"deployment.failed".to_string()));
}

/// payments-gateway in dev, as an on-call engineer met it: 2.8.0-bad failed, 2.7.3 still
/// serves. A rollback names where it goes and never offers a version that never succeeded; the
/// failure can be dismissed, after which the matrix shows what serves.
async fn a_failed_deploy_is_retried_or_dismissed_never_a_rollback_target(app: TestApp) {
    let admin = setup(
        &app,
        r#"case "$FLIGHTDECK_VERSION" in *bad*) exit 1;; esac"#,
    )
    .await;
    let viewer = app.new_token("wallboard", Role::Viewer).await;
    for version in ["2.7.2", "2.7.3", "2.8.0-bad"] {
        let id = deploy(&app, &admin, "staging", version).await;
        finished(&app, &admin, id).await;
    }
    let options = app
        .get(
            "/api/v1/rollbacks/options?service=api&environment=staging",
            &viewer,
        )
        .await;
    assert_eq!(options.status, StatusCode::OK, "{}", options.body);
    let options = options.json();
    assert_eq!(options["serving"], "2.7.3");
    assert_eq!(options["failed"], "2.8.0-bad");
    assert_eq!(options["automatic"], "2.7.3");
    assert_eq!(options["choices"], json!([]));
    let missing = app
        .get("/api/v1/rollbacks/options?service=api", &viewer)
        .await;
    assert_eq!(missing.status, StatusCode::BAD_REQUEST, "{}", missing.body);

    // Choosing the version that never succeeded there is refused, and nothing is recorded.
    let before = app.audit_actions().await.len();
    let refused = app
        .post_json(
            "/api/v1/rollbacks",
            &admin,
            json!({"service": "api", "environment": "staging", "to_version": "2.8.0-bad", "reason": "try"}),
        )
        .await;
    assert_eq!(refused.status, StatusCode::CONFLICT, "{}", refused.body);
    assert!(refused.body.contains("never succeeded"), "{}", refused.body);
    assert_eq!(app.audit_actions().await.len(), before);

    // Dismiss: viewers may not; operators may, once; the cell shows what serves again.
    let status = app.get("/api/v1/status", &admin).await.json();
    let failed_id = cell(&status, "staging")["deployment_id"].as_i64().unwrap();
    let dismiss = format!("/api/v1/deployments/{failed_id}/dismiss");
    let by_viewer = app.post_json(&dismiss, &viewer, json!({})).await;
    assert_eq!(
        by_viewer.status,
        StatusCode::FORBIDDEN,
        "{}",
        by_viewer.body
    );
    let operator = app.new_token("oncall", Role::Operator).await;
    let done = app.post_json(&dismiss, &operator, json!({})).await;
    assert_eq!(done.status, StatusCode::OK, "{}", done.body);
    assert_eq!(done.json()["dismissed_by"], "token:oncall");
    let again = app.post_json(&dismiss, &operator, json!({})).await;
    assert_eq!(again.status, StatusCode::CONFLICT, "{}", again.body);
    let status = app.get("/api/v1/status", &admin).await.json();
    let staging = cell(&status, "staging");
    assert_eq!(
        (staging["version"].as_str(), staging["status"].as_str()),
        (Some("2.7.3"), Some("succeeded"))
    );
    assert!(app
        .audit_actions()
        .await
        .contains(&"deployment.dismissed".to_string()));

    // A succeeded deployment cannot be dismissed.
    let serving = staging["deployment_id"].as_i64().unwrap();
    let not_failed = app
        .post_json(
            &format!("/api/v1/deployments/{serving}/dismiss"),
            &operator,
            json!({}),
        )
        .await;
    assert_eq!(
        not_failed.status,
        StatusCode::CONFLICT,
        "{}",
        not_failed.body
    );

    // With 2.7.3 serving, a rollback goes to 2.7.2 and says so before anyone asks for it.
    let options = app
        .get(
            "/api/v1/rollbacks/options?service=api&environment=staging",
            &viewer,
        )
        .await
        .json();
    assert_eq!(
        (
            options["serving"].as_str(),
            options["failed"].as_str(),
            options["automatic"].as_str()
        ),
        (Some("2.7.3"), None, Some("2.7.2"))
    );
    assert_eq!(options["choices"], json!(["2.7.2"]));
    let res = app
        .post_json(
            "/api/v1/rollbacks",
            &admin,
            json!({"service": "api", "environment": "staging", "reason": "latency after 2.7.3"}),
        )
        .await;
    assert_eq!(res.status, StatusCode::ACCEPTED, "{}", res.body);
    assert_eq!(res.json()["target_version"], "2.7.2");
    finished(&app, &admin, res.json()["id"].as_i64().unwrap()).await;
    let status = app.get("/api/v1/status", &admin).await.json();
    assert_eq!(cell(&status, "staging")["kind"], "rollback");
}

async fn a_command_past_its_time_limit_is_killed(app: TestApp) {
    let admin = setup(&app, "echo started; sleep 30").await;
    set_target(
        &app,
        &admin,
        "staging",
        json!({"deployer": "command", "command": "echo started; sleep 30", "timeout_s": 1}),
    )
    .await;
    let id = deploy(&app, &admin, "staging", "1.0").await;
    let done = finished(&app, &admin, id).await;
    assert_eq!(done["status"], "failed");
    assert!(
        done["error"]
            .as_str()
            .unwrap()
            .contains("Timed out after 1 s"),
        "{done}"
    );
}

async fn rollback_restores_the_previous_version_and_quarantines_the_bad_one(app: TestApp) {
    let admin = setup(&app, "true").await;
    for version in ["1.0", "2.0"] {
        let id = deploy(&app, &admin, "production", version).await;
        assert_eq!(finished(&app, &admin, id).await["status"], "succeeded");
    }
    let bad_id = app.get("/api/v1/status", &admin).await.json();
    let bad_id = cell(&bad_id, "production")["deployment_id"]
        .as_i64()
        .unwrap();

    let no_reason = app
        .post_json(
            "/api/v1/rollbacks",
            &admin,
            json!({"service": "api", "environment": "production", "reason": " "}),
        )
        .await;
    assert_eq!(
        no_reason.status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "{}",
        no_reason.body
    );

    let res = app
        .post_json(
            "/api/v1/rollbacks",
            &admin,
            json!({"service": "api", "environment": "production", "reason": "5xx spike after 2.0", "confirm": "production"}),
        )
        .await;
    assert_eq!(res.status, StatusCode::ACCEPTED, "{}", res.body);
    assert_eq!(res.json()["target_version"], "1.0");
    let rollback = finished(&app, &admin, res.json()["id"].as_i64().unwrap()).await;
    assert_eq!(
        (rollback["status"].as_str(), rollback["kind"].as_str()),
        (Some("succeeded"), Some("rollback"))
    );
    assert_eq!(rollback["reason"], "5xx spike after 2.0");
    assert_eq!(rollback["replaced_id"], bad_id);
    let bad = app
        .get(&format!("/api/v1/deployments/{bad_id}"), &admin)
        .await
        .json();
    assert_eq!(bad["status"], "rolled_back");
    let status = app.get("/api/v1/status", &admin).await.json();
    assert_eq!(cell(&status, "production")["version"], "1.0");

    // 2.0 is quarantined in production until a person lifts it; staging is unaffected.
    let again = app
        .post_json(
            "/api/v1/deployments",
            &admin,
            json!({"service": "api", "environment": "production", "version": "2.0", "confirm": "production"}),
        )
        .await;
    assert_eq!(again.status, StatusCode::CONFLICT);
    assert!(again.body.contains("quarantined"), "{}", again.body);
    let quarantines = app.get("/api/v1/quarantines", &admin).await.json();
    assert_eq!(quarantines[0]["version"], "2.0");
    assert_eq!(quarantines[0]["reason"], "5xx spike after 2.0");
    deploy(&app, &admin, "staging", "2.0").await;
    let lift = app
        .delete(
            "/api/v1/quarantines?service=api&environment=production&version=2.0",
            &admin,
        )
        .await;
    assert_eq!(lift.status, StatusCode::NO_CONTENT, "{}", lift.body);
    deploy(&app, &admin, "production", "2.0").await;
    let actions = app.audit_actions().await;
    assert!(
        actions.contains(&"rollback.requested".into())
            && actions.contains(&"quarantine.lifted".into()),
        "{actions:?}"
    );
}

async fn one_deployment_at_a_time_per_target(app: TestApp) {
    let admin = setup(&app, "sleep 1").await;
    let body = json!({"service": "api", "environment": "staging", "version": "1.0"});
    let (a, b) = tokio::join!(
        app.post_json("/api/v1/deployments", &admin, body.clone()),
        app.post_json("/api/v1/deployments", &admin, body.clone()),
    );
    let mut statuses = [a.status, b.status];
    statuses.sort();
    assert_eq!(
        statuses,
        [StatusCode::ACCEPTED, StatusCode::CONFLICT],
        "{} / {}",
        a.body,
        b.body
    );
    let first = if a.status == StatusCode::ACCEPTED {
        a.json()
    } else {
        b.json()
    };

    // Other targets are independent; asking to queue waits its turn.
    deploy(&app, &admin, "production", "1.0").await;
    let queued = app
        .post_json(
            "/api/v1/deployments",
            &admin,
            json!({"service": "api", "environment": "staging", "version": "1.1", "queue": true}),
        )
        .await;
    assert_eq!(queued.status, StatusCode::ACCEPTED, "{}", queued.body);
    let first = finished(&app, &admin, first["id"].as_i64().unwrap()).await;
    let second = finished(&app, &admin, queued.json()["id"].as_i64().unwrap()).await;
    assert_eq!(second["status"], "succeeded");
    assert!(
        second["started_at"].as_i64() >= first["finished_at"].as_i64(),
        "{first} / {second}"
    );
}

async fn cancel_stops_queued_and_running_deployments(app: TestApp) {
    let admin = setup(&app, "echo going; sleep 30").await;
    let running = deploy(&app, &admin, "staging", "1.0").await;
    let queued = app
        .post_json(
            "/api/v1/deployments",
            &admin,
            json!({"service": "api", "environment": "staging", "version": "1.1", "queue": true}),
        )
        .await
        .json()["id"]
        .as_i64()
        .unwrap();
    let res = app
        .post_json(
            &format!("/api/v1/deployments/{queued}/cancel"),
            &admin,
            json!({}),
        )
        .await;
    assert_eq!(res.status, StatusCode::OK, "{}", res.body);
    assert_eq!(res.json()["status"], "cancelled");
    app.wait_for(&format!("/api/v1/deployments/{running}"), &admin, |d| {
        d["status"] == "running"
    })
    .await;
    let res = app
        .post_json(
            &format!("/api/v1/deployments/{running}/cancel"),
            &admin,
            json!({}),
        )
        .await;
    assert_eq!(res.status, StatusCode::OK, "{}", res.body);
    let done = finished(&app, &admin, running).await;
    assert_eq!(done["status"], "cancelled");
    let again = app
        .post_json(
            &format!("/api/v1/deployments/{running}/cancel"),
            &admin,
            json!({}),
        )
        .await;
    assert_eq!(again.status, StatusCode::CONFLICT);
}

/// A worker that stops renewing its lease (as a crashed process does) loses the deployment; the
/// next claim finds it still "running" and marks it failed instead of leaving it forever.
async fn an_interrupted_deployment_is_marked_failed(app: TestApp) {
    let admin = setup(&app, "sleep 30").await;
    let id = deploy(&app, &admin, "staging", "1.0").await;
    app.wait_for(&format!("/api/v1/deployments/{id}"), &admin, |d| {
        d["status"] == "running"
    })
    .await;
    sqlx::query(
        "UPDATE jobs SET lease_owner = 'crashed-replica', lease_until = 0 WHERE subject_id = $1",
    )
    .bind(id)
    .execute(&app.state.db.pool)
    .await
    .unwrap();
    let done = finished(&app, &admin, id).await;
    assert_eq!(done["status"], "failed");
    assert!(
        done["error"].as_str().unwrap().starts_with("Interrupted"),
        "{done}"
    );
    // The target is free again.
    deploy(&app, &admin, "staging", "1.1").await;
}

async fn failed_health_checks_roll_back_automatically(app: TestApp) {
    let healthy = Arc::new(AtomicBool::new(true));
    let flag = healthy.clone();
    let health = axum::Router::new().route(
        "/healthz",
        axum::routing::get(move || {
            let ok = flag.load(Ordering::SeqCst);
            async move {
                if ok {
                    StatusCode::OK
                } else {
                    StatusCode::SERVICE_UNAVAILABLE
                }
            }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, health).await.unwrap() });

    let admin = setup(&app, "true").await;
    set_target(
        &app,
        &admin,
        "production",
        json!({
            "deployer": "command", "command": "true",
            "health_url": format!("http://{addr}/healthz"), "watch_s": 60, "failure_threshold": 2,
        }),
    )
    .await;
    let good = deploy(&app, &admin, "production", "1.0").await;
    assert_eq!(finished(&app, &admin, good).await["status"], "succeeded");
    let bad = deploy(&app, &admin, "production", "1.1").await;
    assert_eq!(finished(&app, &admin, bad).await["status"], "succeeded");
    healthy.store(false, Ordering::SeqCst);

    let rolled = app
        .wait_for(
            "/api/v1/deployments?service=api&environment=production",
            &admin,
            |page| {
                page["items"][0]["kind"] == "rollback" && page["items"][0]["status"] == "succeeded"
            },
        )
        .await;
    healthy.store(true, Ordering::SeqCst);
    let rollback = &rolled["items"][0];
    assert_eq!(rollback["version"], "1.0");
    assert_eq!(
        (rollback["trigger"].as_str(), rollback["actor"].as_str()),
        (Some("policy"), Some("flightdeck"))
    );
    assert!(
        rollback["reason"]
            .as_str()
            .unwrap()
            .starts_with("Automatic rollback"),
        "{rollback}"
    );
    let bad = app
        .get(&format!("/api/v1/deployments/{bad}"), &admin)
        .await
        .json();
    assert_eq!(bad["status"], "rolled_back");
    let log = log_text(&app, &admin, bad["id"].as_i64().unwrap()).await;
    assert!(
        log.contains("Health check failed (2 of 2 in a row): HTTP 503"),
        "{log}"
    );
    let audit = app
        .get("/api/v1/audit?action=rollback.requested", &admin)
        .await
        .json();
    assert_eq!(audit["entries"][0]["actor"], "flightdeck");
}

async fn promote_carries_the_live_version_to_the_next_environment(app: TestApp) {
    let admin = setup(&app, "true").await;
    let none = app
        .post_json(
            "/api/v1/promotions",
            &admin,
            json!({"service": "api", "from_environment": "staging"}),
        )
        .await;
    assert_eq!(none.status, StatusCode::CONFLICT);
    let id = deploy(&app, &admin, "staging", "3.1.0").await;
    finished(&app, &admin, id).await;
    let res = app
        .post_json(
            "/api/v1/promotions",
            &admin,
            json!({"service": "api", "from_environment": "staging", "confirm": "production"}),
        )
        .await;
    assert_eq!(res.status, StatusCode::ACCEPTED, "{}", res.body);
    assert_eq!(
        (
            res.json()["environment"].as_str(),
            res.json()["target_version"].as_str()
        ),
        (Some("production"), Some("3.1.0"))
    );
    let done = finished(&app, &admin, res.json()["id"].as_i64().unwrap()).await;
    assert_eq!(
        (done["kind"].as_str(), done["status"].as_str()),
        (Some("promote"), Some("succeeded"))
    );
    let last = app
        .post_json(
            "/api/v1/promotions",
            &admin,
            json!({"service": "api", "from_environment": "production"}),
        )
        .await;
    assert_eq!(last.status, StatusCode::CONFLICT);
    assert!(last.body.contains("last environment"));
}

async fn history_filters_and_pages(app: TestApp) {
    let admin = setup(&app, r#"test "$FLIGHTDECK_VERSION" != "bad""#).await;
    let mut ids = Vec::new();
    for version in ["1", "bad", "2", "3"] {
        let id = deploy(&app, &admin, "staging", version).await;
        finished(&app, &admin, id).await;
        ids.push(id);
    }
    let page1 = app
        .get("/api/v1/deployments?service=api&limit=3", &admin)
        .await
        .json();
    let got: Vec<i64> = page1["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["id"].as_i64().unwrap())
        .collect();
    assert_eq!(got, [ids[3], ids[2], ids[1]]);
    let cursor = page1["next_cursor"].as_i64().unwrap();
    let page2 = app
        .get(
            &format!("/api/v1/deployments?service=api&limit=3&cursor={cursor}"),
            &admin,
        )
        .await
        .json();
    assert_eq!(page2["items"][0]["id"], ids[0]);
    assert_eq!(page2["next_cursor"], Value::Null);
    let failed = app
        .get("/api/v1/deployments?status=failed", &admin)
        .await
        .json();
    assert_eq!(failed["items"].as_array().unwrap().len(), 1);
    assert_eq!(failed["items"][0]["version"], "bad");
    for bad in [
        "/api/v1/deployments?status=done",
        "/api/v1/deployments?limit=0",
        "/api/v1/deployments?service=nope",
    ] {
        let res = app.get(bad, &admin).await;
        assert!(res.status.is_client_error(), "{bad}: {}", res.status);
    }
}

async fn logs_follow_streams_until_the_deployment_ends(app: TestApp) {
    let admin = setup(&app, "for i in 1 2 3; do echo step $i; sleep 0.2; done").await;
    let id = deploy(&app, &admin, "staging", "1.0").await;
    let res = app
        .get(&format!("/api/v1/deployments/{id}/logs?follow=1"), &admin)
        .await;
    assert_eq!(res.status, StatusCode::OK);
    assert!(res.headers["content-type"]
        .to_str()
        .unwrap()
        .starts_with("text/event-stream"));
    for step in ["step 1", "step 2", "step 3"] {
        assert!(res.body.contains(step), "{}", res.body);
    }
    let end = res.body.find("event: end").expect("an end event");
    assert!(
        res.body[end..].contains("\"status\":\"succeeded\""),
        "{}",
        res.body
    );
}

on_both_databases!(
    a_deploy_runs_the_command_and_records_everything,
    a_failing_command_fails_the_deployment,
    a_failed_deploy_is_retried_or_dismissed_never_a_rollback_target,
    a_command_past_its_time_limit_is_killed,
    rollback_restores_the_previous_version_and_quarantines_the_bad_one,
    one_deployment_at_a_time_per_target,
    cancel_stops_queued_and_running_deployments,
    an_interrupted_deployment_is_marked_failed,
    failed_health_checks_roll_back_automatically,
    promote_carries_the_live_version_to_the_next_environment,
    history_filters_and_pages,
    logs_follow_streams_until_the_deployment_ends,
);
