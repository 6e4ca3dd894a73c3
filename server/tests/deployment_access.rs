//! Who may do what with deployments (REST and the pages' server functions), and bad input that
//! must be refused without changing anything, on both databases.

mod common;
use app::model::Role;
use axum::http::StatusCode;
use common::deploy::*;
use common::{Auth, TestApp};
use serde_json::{json, Value};

async fn every_role_against_every_action(app: TestApp) {
    let admin = setup(&app, "true").await;
    let viewer = app.new_token("grafana", Role::Viewer).await;
    let operator = app.new_token("ci", Role::Operator).await;
    let deploy_body = json!({"service": "api", "environment": "staging", "version": "1.0"});
    let target = json!({"deployer": "command", "command": "true"});
    for (auth, expected) in [
        (&Auth::None, StatusCode::UNAUTHORIZED),
        (&viewer, StatusCode::FORBIDDEN),
    ] {
        assert_eq!(
            app.post_json("/api/v1/deployments", auth, deploy_body.clone())
                .await
                .status,
            expected
        );
        assert_eq!(
            app.post_json(
                "/api/v1/rollbacks",
                auth,
                json!({"service": "api", "environment": "staging", "reason": "x"})
            )
            .await
            .status,
            expected
        );
        assert_eq!(
            app.post_json(
                "/api/v1/promotions",
                auth,
                json!({"service": "api", "from_environment": "staging"})
            )
            .await
            .status,
            expected
        );
        assert_eq!(
            app.post_json("/api/v1/deployments/1/cancel", auth, json!({}))
                .await
                .status,
            expected
        );
        assert_eq!(
            app.post_json("/api/v1/deployments/1/dismiss", auth, json!({}))
                .await
                .status,
            expected
        );
        assert_eq!(
            app.put_json("/api/v1/services/api/targets/staging", auth, target.clone())
                .await
                .status,
            expected
        );
    }
    assert_eq!(
        app.get("/api/v1/status", &Auth::None).await.status,
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(
        app.get("/api/v1/status", &viewer).await.status,
        StatusCode::OK
    );
    assert_eq!(
        app.get("/api/v1/deployments", &viewer).await.status,
        StatusCode::OK
    );
    // Only admins configure what runs on the server, or read it back.
    assert_eq!(
        app.put_json(
            "/api/v1/services/api/targets/staging",
            &operator,
            target.clone()
        )
        .await
        .status,
        StatusCode::FORBIDDEN
    );
    assert_eq!(
        app.get("/api/v1/targets", &operator).await.status,
        StatusCode::FORBIDDEN
    );
    assert_eq!(
        app.get("/api/v1/targets", &admin).await.json()[0]["command"],
        "true"
    );
    assert_eq!(
        app.post_json("/api/v1/deployments", &operator, deploy_body)
            .await
            .status,
        StatusCode::ACCEPTED
    );
    // Nothing a refused caller sent was stored.
    let history = app.get("/api/v1/deployments", &admin).await.json();
    assert_eq!(history["items"].as_array().unwrap().len(), 1);
}

async fn bad_requests_are_refused_and_change_nothing(app: TestApp) {
    let admin = setup(&app, "true").await;
    let cases = [
        (
            json!({"service": "nope", "environment": "staging", "version": "1"}),
            StatusCode::NOT_FOUND,
        ),
        (
            json!({"service": "api", "environment": "nope", "version": "1"}),
            StatusCode::NOT_FOUND,
        ),
        (
            json!({"service": "api", "environment": "staging", "version": "1 0"}),
            StatusCode::UNPROCESSABLE_ENTITY,
        ),
        (
            json!({"service": "api", "environment": "staging", "version": "1", "git_sha": "xyz"}),
            StatusCode::UNPROCESSABLE_ENTITY,
        ),
        (
            json!({"service": "api", "environment": "staging", "version": "1", "command": "rm -rf /"}),
            StatusCode::UNPROCESSABLE_ENTITY,
        ),
    ];
    for (body, expected) in cases {
        let res = app
            .post_json("/api/v1/deployments", &admin, body.clone())
            .await;
        assert_eq!(res.status, expected, "{body}: {}", res.body);
    }
    app.create_environment(&admin, "dev", 1, false).await;
    let unconfigured = app
        .post_json(
            "/api/v1/deployments",
            &admin,
            json!({"service": "api", "environment": "dev", "version": "1"}),
        )
        .await;
    assert_eq!(unconfigured.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        unconfigured
            .body
            .contains("PUT /api/v1/services/api/targets/dev"),
        "{}",
        unconfigured.body
    );
    let bad_target = app
        .put_json(
            "/api/v1/services/api/targets/dev",
            &admin,
            json!({"deployer": "command"}),
        )
        .await;
    assert_eq!(bad_target.status, StatusCode::UNPROCESSABLE_ENTITY);
    // A release never changes: the same version with another sha is refused.
    deploy(&app, &admin, "staging", "7").await;
    let other_sha = app
        .post_json("/api/v1/deployments", &admin, json!({"service": "api", "environment": "production", "version": "7", "git_sha": "abcdef1", "confirm": "production"}))
        .await;
    assert_eq!(
        other_sha.status,
        StatusCode::ACCEPTED,
        "a sha the release lacked is filled in: {}",
        other_sha.body
    );
    let releases = app
        .get("/api/v1/services/api/releases", &admin)
        .await
        .json();
    assert_eq!(releases[0]["git_sha"], "abcdef1");
    let changed = app
        .post_json("/api/v1/deployments", &admin, json!({"service": "api", "environment": "staging", "version": "7", "git_sha": "1234567", "queue": true}))
        .await;
    assert_eq!(changed.status, StatusCode::CONFLICT, "{}", changed.body);
    let history = app.get("/api/v1/deployments", &admin).await.json();
    assert_eq!(history["items"].as_array().unwrap().len(), 2);
}

/// The pages' server functions check roles like the REST API: viewers read, operators act.
async fn server_functions_check_roles(app: TestApp) {
    use axum::body::Body;
    use axum::http::{header, Request};
    setup(&app, "true").await;
    let viewer_password = app.new_user("val.viewer", Role::Viewer).await;
    let operator_password = app.new_user("otto.operator", Role::Operator).await;
    let viewer = app.sign_in("val.viewer", &viewer_password).await;
    let operator = app.sign_in("otto.operator", &operator_password).await;
    let call = |auth: Auth, endpoint: &'static str, body: Value| {
        let request = auth
            .apply(Request::post(format!("/api/{endpoint}")))
            .header(header::HOST, "127.0.0.1:3000")
            .header(header::ORIGIN, "http://127.0.0.1:3000")
            .header(header::CONTENT_TYPE, "application/json")
            .header(header::ACCEPT, "application/json")
            .body(Body::from(body.to_string()))
            .unwrap();
        app.send(request)
    };
    let deploy = json!({"request": {"service": "api", "environment": "staging", "version": "1.0"}});
    assert_eq!(
        call(viewer.clone(), "deploy", deploy.clone()).await.status,
        StatusCode::FORBIDDEN
    );
    let board = app.server_fn("deploy_board", &viewer, &[]).await;
    assert_eq!(
        board.status,
        StatusCode::OK,
        "viewers see the board: {}",
        board.body
    );
    assert_eq!(
        app.server_fn("deploy_board", &Auth::None, &[]).await.status,
        StatusCode::UNAUTHORIZED
    );
    let accepted = call(operator.clone(), "deploy", deploy).await;
    assert_eq!(accepted.status, StatusCode::OK, "{}", accepted.body);
    let id = accepted.json()["id"].as_i64().unwrap();
    finished(&app, &operator, id).await;
    let rollback = json!({"request": {"service": "api", "environment": "staging", "reason": "x"}});
    assert_eq!(
        call(viewer.clone(), "rollback", rollback).await.status,
        StatusCode::FORBIDDEN
    );
    let cancel = app
        .server_fn("deployment_cancel", &viewer, &[("id", &id.to_string())])
        .await;
    assert_eq!(cancel.status, StatusCode::FORBIDDEN);
    let lift = app
        .server_fn(
            "quarantine_lift",
            &viewer,
            &[
                ("service", "api"),
                ("environment", "staging"),
                ("version", "1.0"),
            ],
        )
        .await;
    assert_eq!(lift.status, StatusCode::FORBIDDEN);
    // An operator's cancel of a finished deployment is refused for what it is, not for the role.
    let done = app
        .server_fn("deployment_cancel", &operator, &[("id", &id.to_string())])
        .await;
    assert_eq!(done.status, StatusCode::CONFLICT);
}

/// A deploy, rollback or promotion into a protected environment names it again, through REST
/// and the pages' server functions alike; without that: 409, and nothing recorded.
async fn protected_environments_need_their_name_typed_again(app: TestApp) {
    let admin = setup(&app, "true").await;
    for version in ["1.0", "2.0"] {
        let id = deploy(&app, &admin, "staging", version).await;
        finished(&app, &admin, id).await;
    }
    let id = deploy(&app, &admin, "production", "1.0").await;
    finished(&app, &admin, id).await;
    let password = app.new_user("otto.operator", Role::Operator).await;
    let otto = app.sign_in("otto.operator", &password).await;
    let before = (
        app.audit_actions().await.len(),
        app.get("/api/v1/deployments", &admin).await.json()["items"]
            .as_array()
            .unwrap()
            .len(),
    );
    let unconfirmed = [
        (
            "/api/v1/deployments",
            json!({"service": "api", "environment": "production", "version": "2.0"}),
        ),
        (
            "/api/v1/deployments",
            json!({"service": "api", "environment": "production", "version": "2.0", "confirm": "prod"}),
        ),
        (
            "/api/v1/rollbacks",
            json!({"service": "api", "environment": "production", "reason": "x"}),
        ),
        (
            "/api/v1/promotions",
            json!({"service": "api", "from_environment": "staging"}),
        ),
    ];
    for (path, body) in unconfirmed {
        let res = app.post_json(path, &admin, body.clone()).await;
        assert_eq!(
            res.status,
            StatusCode::CONFLICT,
            "{path} {body}: {}",
            res.body
        );
        assert!(
            res.body.contains(r#"\"confirm\": \"production\""#),
            "{}",
            res.body
        );
    }
    // The pages' server function, as the dialog sends it without the typed name.
    let request = otto
        .apply(axum::http::Request::post("/api/promote"))
        .header(axum::http::header::HOST, "127.0.0.1:3000")
        .header(axum::http::header::ORIGIN, "http://127.0.0.1:3000")
        .header(axum::http::header::CONTENT_TYPE, "application/json")
        .header(axum::http::header::ACCEPT, "application/json")
        .body(axum::body::Body::from(
            json!({"request": {"service": "api", "from_environment": "staging"}}).to_string(),
        ))
        .unwrap();
    let res = app.send(request).await;
    assert_eq!(res.status, StatusCode::CONFLICT, "{}", res.body);
    let after = (
        app.audit_actions().await.len(),
        app.get("/api/v1/deployments", &admin).await.json()["items"]
            .as_array()
            .unwrap()
            .len(),
    );
    assert_eq!(before, after, "refused requests record nothing");

    let promoted = app
        .post_json(
            "/api/v1/promotions",
            &admin,
            json!({"service": "api", "from_environment": "staging", "confirm": "production"}),
        )
        .await;
    assert_eq!(promoted.status, StatusCode::ACCEPTED, "{}", promoted.body);
    // Staging is not protected: no confirmation needed there.
    let res = app
        .post_json(
            "/api/v1/rollbacks",
            &admin,
            json!({"service": "api", "environment": "staging", "reason": "x"}),
        )
        .await;
    assert_eq!(res.status, StatusCode::ACCEPTED, "{}", res.body);
}

/// A private registry's address may carry its token. The deployer gets the artifact whole; what
/// people read (the API, the releases, the deployment's page and log, the audit trail) never
/// holds the token.
async fn an_artifacts_credentials_reach_the_deployer_and_no_reader(app: TestApp) {
    let dir = tempfile::tempdir().unwrap();
    let received = dir.path().join("artifact");
    let command = format!(
        "printf '%s' \"$FLIGHTDECK_ARTIFACT\" > {}; echo \"pulling $FLIGHTDECK_ARTIFACT\"",
        received.display()
    );
    let admin = setup(&app, &command).await;
    let artifact = "https://deployer:s3cret@nexus.example/repo/api-1.0.tgz?token=s3cret&arch=amd64";
    let res = app
        .post_json(
            "/api/v1/deployments",
            &admin,
            json!({"service": "api", "environment": "staging", "version": "1.0", "artifact": artifact}),
        )
        .await;
    assert_eq!(res.status, StatusCode::ACCEPTED, "{}", res.body);
    let id = res.json()["id"].as_i64().unwrap();
    let done = finished(&app, &admin, id).await;
    assert_eq!(done["status"], "succeeded", "{done}");
    assert_eq!(std::fs::read_to_string(&received).unwrap(), artifact);

    let shown = "https://nexus.example/repo/api-1.0.tgz?arch=amd64";
    assert_eq!(done["artifact"], shown);
    let log = log_text(&app, &admin, id).await;
    assert!(log.contains(&format!("pulling {shown}")), "{log}");
    // Pages are read signed in, as people read them.
    let viewer_password = app.new_user("val.viewer", Role::Viewer).await;
    let viewer = app.sign_in("val.viewer", &viewer_password).await;
    for (what, body) in [
        ("the log", log),
        (
            "the list",
            app.get("/api/v1/deployments", &viewer).await.body,
        ),
        (
            "the releases",
            app.get("/api/v1/services/api/releases", &viewer).await.body,
        ),
        (
            "the page",
            app.page(&format!("/deployments/{id}"), &viewer).await.body,
        ),
        (
            "the audit trail",
            app.get("/api/v1/audit", &admin).await.body,
        ),
    ] {
        assert!(
            body.contains("nexus.example/repo/api-1.0.tgz"),
            "{what}: {body}"
        );
        assert!(!body.contains("s3cret"), "{what} shows the token: {body}");
    }
}

on_both_databases!(
    protected_environments_need_their_name_typed_again,
    every_role_against_every_action,
    bad_requests_are_refused_and_change_nothing,
    server_functions_check_roles,
    an_artifacts_credentials_reach_the_deployer_and_no_reader,
);
