//! The deployment life cycle over the REST API, with the real engine, the real `command`
//! deployer (`/bin/sh`) and a real HTTP health endpoint, on both databases. Rollback,
//! quarantine, retry and promotion are in `rollback.rs`; who may do what, and bad input, in
//! `deployment_access.rs`.

mod common;
use app::model::Role;
use axum::http::StatusCode;
use common::deploy::*;
use common::TestApp;
use serde_json::{json, Value};

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
    // Only 0 and 1 mean something: anything else is refused, not read as "follow".
    for bad in ["follow=2", "after=-1"] {
        let res = app
            .get(&format!("/api/v1/deployments/{id}/logs?{bad}"), &admin)
            .await;
        assert_eq!(res.status, StatusCode::BAD_REQUEST, "{bad}");
    }
}

/// A release names the commit it was built from; the deploy dialog and the deployment's page
/// say what CI said of it, so a version whose build failed does not go out unnoticed.
async fn a_deployment_says_what_ci_said_of_its_commit(app: TestApp) {
    setup(&app, "true").await;
    let ci = app.new_token("ci", Role::Operator).await;
    let viewer = app.new_token("grafana", Role::Viewer).await;
    let (red, green, unbuilt) = (
        "a1b2c3d4e5f60718293a4b5c6d7e8f9012345678",
        "b2c3d4e",
        "c3d4e5f6a7",
    );
    let builds = [
        // The red commit broke, and its re-run broke too; CI stored the green one short.
        ("red-1", red, "failure", "2026-11-30T10:00:00Z"),
        ("red-2", red, "failure", "2026-11-30T10:20:00Z"),
        ("green", green, "success", "2026-11-30T11:00:00Z"),
    ];
    for (source_id, commit, status, started_at) in builds {
        let mut b = common::builds::build(source_id, status);
        b["commit"] = json!(commit);
        b["started_at"] = json!(started_at);
        b["tests_total"] = json!(1240);
        b["tests_failed"] = json!(if status == "failure" { 3 } else { 0 });
        b["url"] = json!(format!("https://ci.example.com/{source_id}"));
        let res = app.post_json("/api/v1/builds", &ci, b).await;
        assert_eq!(res.status, StatusCode::CREATED, "{}", res.body);
    }
    let mut deployed = Vec::new();
    for (version, sha) in [
        ("1.0.0", Some(red)),
        ("1.0.1", Some("B2C3D4E5F60718293A4B5C6D7E8F901234567890")),
        ("1.0.2", Some(unbuilt)),
        ("1.0.3", None),
    ] {
        let res = app
            .post_json(
                "/api/v1/deployments",
                &ci,
                json!({"service": "api", "environment": "staging", "version": version, "git_sha": sha}),
            )
            .await;
        assert_eq!(res.status, StatusCode::ACCEPTED, "{}", res.body);
        let id = res.json()["id"].as_i64().unwrap();
        finished(&app, &ci, id).await;
        deployed.push(id);
    }
    let said = |version: &'static str| {
        let (app, viewer) = (&app, &viewer);
        async move {
            let res = app
                .server_fn(
                    "release_ci",
                    viewer,
                    &[("service", "api"), ("version", version)],
                )
                .await;
            assert_eq!(res.status, StatusCode::OK, "{}", res.body);
            res.json()
        }
    };
    // The newest build of the red commit decides, with where to read more.
    let red_said = said("1.0.0").await;
    assert_eq!(
        red_said["Built"],
        json!({
            "verdict": "failure",
            "words": "CI failed on a1b2c3d: acme/shop/ci on main, 3 tests failed.",
            "pipeline": "acme/shop/ci",
            "pipeline_href": "/builds/pipeline?name=acme%2Fshop%2Fci&branch=main",
            "url": "https://ci.example.com/red-2",
        }),
        "{red_said}"
    );
    // A release's whole sha, in capitals, finds the build CI stored under its first 7 digits.
    assert_eq!(
        said("1.0.1").await["Built"]["words"],
        "CI passed on b2c3d4e: acme/shop/ci on main."
    );
    assert_eq!(said("1.0.2").await, json!({"Unbuilt": "c3d4e5f"}));
    for nothing_to_say in ["1.0.3", "9.9.9"] {
        assert_eq!(said(nothing_to_say).await, json!("Unknown"));
    }
    let signed_out = app
        .server_fn(
            "release_ci",
            &common::Auth::None,
            &[("service", "api"), ("version", "1.0.0")],
        )
        .await;
    assert_eq!(
        signed_out.status,
        StatusCode::UNAUTHORIZED,
        "{}",
        signed_out.body
    );

    // Each deployment's page says it before it hydrates.
    let cookie = app.sign_in("admin", common::ADMIN_PASSWORD).await;
    let expected = [
        Some("CI failed on a1b2c3d: acme/shop/ci on main, 3 tests failed."),
        Some("CI passed on b2c3d4e: acme/shop/ci on main."),
        Some("No CI build of c3d4e5f was recorded."),
        None,
    ];
    for (id, words) in deployed.iter().zip(expected) {
        let page = app.page(&format!("/deployments/{id}"), &cookie).await;
        assert_eq!(page.status, StatusCode::OK);
        match words {
            Some(words) => assert!(page.body.contains(words), "#{id}: {words}"),
            None => assert!(!page.body.contains("data-testid=\"commit-ci\""), "#{id}"),
        }
    }
    // The history marks the release whose commit CI failed on, and only that one; the REST
    // API's page of deployments stays as it was.
    let history = app
        .post_json(
            "/api/deployments",
            &viewer,
            json!({"query": {"service": "api"}}),
        )
        .await;
    assert_eq!(history.status, StatusCode::OK, "{}", history.body);
    assert_eq!(
        history.json()["ci_failed"],
        json!([deployed[0]]),
        "{}",
        history.body
    );
    let page = app.page("/deployments", &cookie).await;
    assert_eq!(page.body.matches("✗ CI failed").count(), 1, "{}", page.body);
    let rest = app.get("/api/v1/deployments?service=api", &viewer).await;
    assert_eq!(rest.json()["items"].as_array().map(Vec::len), Some(4));
    assert!(rest.json().get("ci_failed").is_none(), "{}", rest.body);

    // The dashboard marks production's running version when CI failed on its commit: not the
    // green one, then the red one once it runs there. The board's matrix marks the cell alike
    // (staging runs 1.0.3, which names no commit).
    let production_line = || async {
        let res = app.server_fn("cockpit", &viewer, &[]).await;
        assert_eq!(res.status, StatusCode::OK, "{}", res.body);
        let line = res.json()["services"][0].clone();
        (line["version"].clone(), line["ci_failed"].clone())
    };
    let board_marks = || async {
        let res = app.server_fn("deploy_board", &viewer, &[]).await;
        assert_eq!(res.status, StatusCode::OK, "{}", res.body);
        let cells = res.json()["cells"].as_array().cloned().unwrap_or_default();
        let marked = cells.iter().filter(|c| c["ci_failed"] == json!(true));
        json!(marked
            .map(|c| json!([c["service"], c["environment"]]))
            .collect::<Vec<_>>())
    };
    for (version, ci_failed, marks) in [
        ("1.0.1", false, json!([])),
        ("1.0.0", true, json!([["api", "production"]])),
    ] {
        let id = deploy(&app, &ci, "production", version).await;
        assert_eq!(finished(&app, &ci, id).await["status"], "succeeded");
        assert_eq!(production_line().await, (json!(version), json!(ci_failed)));
        assert_eq!(board_marks().await, marks);
    }
    let page = app.page("/deployments", &cookie).await;
    let cell = |env: &str| {
        let marker = format!("data-testid=\"cell-api-{env}\"");
        let after = page.body.split(&marker).nth(1).unwrap_or_default();
        after.split("</td>").next().unwrap_or_default().to_string()
    };
    assert!(cell("production").contains("✗ CI failed"), "{}", page.body);
    assert!(!cell("staging").contains("CI failed"), "{}", page.body);
    // The service's page marks it where it runs.
    let service = app.server_fn("service", &viewer, &[("name", "api")]).await;
    assert_eq!(service.status, StatusCode::OK, "{}", service.body);
    let marked: Vec<_> = (service.json()["cells"]
        .as_array()
        .cloned()
        .unwrap_or_default())
    .into_iter()
    .filter(|c| c["ci_failed"] == json!(true))
    .map(|c| c["environment"].clone())
    .collect();
    assert_eq!(marked, [json!("production")], "{}", service.body);
    let page = app.page("/services/api", &cookie).await;
    assert_eq!(page.body.matches("✗ CI failed").count(), 1, "{}", page.body);
    // The REST API's status says nothing of it.
    let status = app.get("/api/v1/status", &viewer).await;
    assert_eq!(status.status, StatusCode::OK, "{}", status.body);
    assert!(!status.body.contains("ci_failed"), "{}", status.body);
    let page = app.page("/", &cookie).await;
    let line = page
        .body
        .split("data-testid=\"production-api\"")
        .nth(1)
        .unwrap_or_default();
    assert!(
        line.split("</tr>")
            .next()
            .unwrap_or_default()
            .contains("✗ CI failed"),
        "{}",
        page.body
    );
}

on_both_databases!(
    a_deployment_says_what_ci_said_of_its_commit,
    a_deploy_runs_the_command_and_records_everything,
    a_failing_command_fails_the_deployment,
    a_command_past_its_time_limit_is_killed,
    one_deployment_at_a_time_per_target,
    cancel_stops_queued_and_running_deployments,
    an_interrupted_deployment_is_marked_failed,
    history_filters_and_pages,
    logs_follow_streams_until_the_deployment_ends,
);
