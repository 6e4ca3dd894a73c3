//! Fixtures of the webhook tests: a service in production, GitHub deliveries signed as GitHub
//! signs them, and GitLab's Pipeline Hook with the project's token.

use super::{Auth, TestApp, TestResponse, GITHUB_SECRET, GITLAB_TOKEN};
use app::model::Role;
use serde_json::json;

/// An admin token, with service `api` and environment `production` made.
pub async fn setup(app: &TestApp) -> Auth {
    let admin = app.new_token("admin-bot", Role::Admin).await;
    app.create_service(&admin, "api").await;
    app.create_environment(&admin, "production", 20, false)
        .await;
    admin
}

/// A GitHub `deployment_status` of `version` in production, naming the Flightdeck deployment
/// when CI was started by one.
pub fn deployment_status(state: &str, version: &str, flightdeck_id: Option<i64>) -> Vec<u8> {
    json!({
        "action": "created",
        "deployment_status": {"state": state},
        "deployment": {"environment": "production", "ref": version, "sha": "a1b2c3d4e5f6",
                        "payload": {"flightdeck_deployment_id": flightdeck_id}},
        "repository": {"name": "api", "full_name": "shop/api"}
    })
    .to_string()
    .into_bytes()
}

/// A GitHub delivery of `event`, signed with the test secret.
pub async fn github(app: &TestApp, event: &str, delivery: &str, body: Vec<u8>) -> TestResponse {
    let signature = format!(
        "sha256={}",
        flightdeck::webhooks::sign(GITHUB_SECRET, &body)
    );
    app.post_raw(
        "/api/v1/webhooks/github",
        &Auth::None,
        &[
            ("x-github-event", event),
            ("x-github-delivery", delivery),
            ("x-hub-signature-256", &signature),
        ],
        body,
    )
    .await
}

/// A GitLab `Pipeline Hook` delivery under `uuid`, with the test token.
pub async fn gitlab_pipeline(app: &TestApp, uuid: &str, body: Vec<u8>) -> TestResponse {
    app.post_raw(
        "/api/v1/webhooks/gitlab",
        &Auth::None,
        &[
            ("x-gitlab-event", "Pipeline Hook"),
            ("x-gitlab-token", GITLAB_TOKEN),
            ("x-gitlab-event-uuid", uuid),
        ],
        body,
    )
    .await
}
