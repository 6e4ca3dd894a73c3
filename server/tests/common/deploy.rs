//! Fixtures of the deployment tests: a service with two environments and command targets,
//! and shortcuts to deploy and wait.

use super::{Auth, TestApp};
use app::model::Role;
use axum::http::StatusCode;
use serde_json::{json, Value};

/// A service `api`, environments `staging` and `production` (protected), an admin token, and
/// both targets running `command`.
pub async fn setup(app: &TestApp, command: &str) -> Auth {
    let admin = app.new_token("admin-bot", Role::Admin).await;
    app.create_service(&admin, "api").await;
    for (name, rank) in [("staging", 10), ("production", 20)] {
        app.create_environment(&admin, name, rank, rank == 20).await;
        set_target(
            app,
            &admin,
            name,
            json!({"deployer": "command", "command": command}),
        )
        .await;
    }
    admin
}

pub async fn set_target(app: &TestApp, admin: &Auth, environment: &str, settings: Value) {
    let res = app
        .put_json(
            &format!("/api/v1/services/api/targets/{environment}"),
            admin,
            settings,
        )
        .await;
    assert_eq!(res.status, StatusCode::OK, "{}", res.body);
}

pub async fn deploy(app: &TestApp, auth: &Auth, environment: &str, version: &str) -> i64 {
    let res = app
        .post_json(
            "/api/v1/deployments",
            auth,
            json!({"service": "api", "environment": environment, "version": version, "confirm": environment}),
        )
        .await;
    assert_eq!(res.status, StatusCode::ACCEPTED, "{}", res.body);
    assert_eq!(res.json()["status"], "queued");
    res.json()["id"].as_i64().unwrap()
}

pub async fn finished(app: &TestApp, auth: &Auth, id: i64) -> Value {
    app.wait_for(&format!("/api/v1/deployments/{id}"), auth, |d| {
        !matches!(d["status"].as_str(), Some("queued" | "running"))
    })
    .await
}

pub async fn log_text(app: &TestApp, auth: &Auth, id: i64) -> String {
    let lines = app
        .get(&format!("/api/v1/deployments/{id}/logs"), auth)
        .await
        .json();
    lines
        .as_array()
        .unwrap()
        .iter()
        .map(|l| {
            format!(
                "{}: {}",
                l["stream"].as_str().unwrap(),
                l["text"].as_str().unwrap()
            )
        })
        .collect::<Vec<_>>()
        .join("\n")
}

pub fn cell<'a>(status: &'a Value, environment: &str) -> &'a Value {
    status
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["service"] == "api" && c["environment"] == environment)
        .unwrap()
}
