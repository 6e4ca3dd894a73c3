//! Going back and forward: a failed deployment is retried or dismissed, never a rollback target;
//! rollback (by hand and after failed health checks) and its quarantine; promotion to the next
//! environment. The real engine and `command` deployer, on both databases.

mod common;
use app::model::Role;
use axum::http::StatusCode;
use common::deploy::*;
use common::TestApp;
use serde_json::{json, Value};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

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

async fn rollback_restores_the_previous_version_and_quarantines_the_bad_one(app: TestApp) {
    let admin = setup(&app, "true").await;
    // The matrix offers a rollback only where there is somewhere to go: not after a first version.
    let rollback_to = |status: &Value| cell(status, "production")["rollback_to"].clone();
    for (version, before) in [("1.0", Value::Null), ("2.0", json!("1.0"))] {
        let id = deploy(&app, &admin, "production", version).await;
        assert_eq!(finished(&app, &admin, id).await["status"], "succeeded");
        let status = app.get("/api/v1/status", &admin).await.json();
        assert_eq!(rollback_to(&status), before, "after {version}: {status}");
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
    // 2.0 is quarantined and 1.0 serves: nothing is left to roll back to.
    assert_eq!(rollback_to(&status), Value::Null, "{status}");

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
    let id = deploy(&app, &admin, "production", "2.0").await;
    assert_eq!(finished(&app, &admin, id).await["status"], "succeeded");
    let status = app.get("/api/v1/status", &admin).await.json();
    assert_eq!(rollback_to(&status), json!("1.0"), "2.0 again: {status}");
    let actions = app.audit_actions().await;
    assert!(
        actions.contains(&"rollback.requested".into())
            && actions.contains(&"quarantine.lifted".into()),
        "{actions:?}"
    );
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

on_both_databases!(
    a_failed_deploy_is_retried_or_dismissed_never_a_rollback_target,
    rollback_restores_the_previous_version_and_quarantines_the_bad_one,
    failed_health_checks_roll_back_automatically,
    promote_carries_the_live_version_to_the_next_environment,
);
