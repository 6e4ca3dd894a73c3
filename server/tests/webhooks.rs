//! Inbound CI/CD webhooks, on both databases: signatures, duplicates, ignored and malformed
//! deliveries, size limit, what each delivery does, and quarantine. The webhook deployer, which
//! waits for these deliveries: `webhook_deployer.rs`.

mod common;
use app::model::Role;
use axum::http::StatusCode;
use common::webhooks::{deployment_status, github, setup};
use common::{Auth, TestApp, GITHUB_SECRET, GITLAB_TOKEN};
use serde_json::{json, Value};

async fn stored(app: &TestApp) -> i64 {
    use sqlx::Row;
    sqlx::query("SELECT COUNT(*) FROM webhook_deliveries")
        .fetch_one(&app.state.db.pool)
        .await
        .unwrap()
        .get(0)
}

async fn applied(app: &TestApp, admin: &Auth, delivery: &str) -> String {
    let list = app
        .wait_for("/api/v1/webhooks/deliveries", admin, |list| {
            list.as_array()
                .unwrap()
                .iter()
                .any(|d| d["delivery_id"] == delivery && !d["outcome"].is_null())
        })
        .await;
    let entry = list
        .as_array()
        .unwrap()
        .iter()
        .find(|d| d["delivery_id"] == delivery)
        .unwrap()
        .clone();
    entry["outcome"].as_str().unwrap().to_string()
}

async fn github_deliveries_are_verified_stored_once_and_applied(app: TestApp) {
    let admin = setup(&app).await;
    let res = github(
        &app,
        "deployment_status",
        "d-1",
        deployment_status("success", "v2.1.0", None),
    )
    .await;
    assert_eq!(res.status, StatusCode::ACCEPTED, "{}", res.body);
    assert_eq!(res.json()["status"], "accepted");
    let outcome = applied(&app, &admin, "d-1").await;
    assert!(outcome.starts_with("recorded deployment #"), "{outcome}");
    // The settings page's deliveries card reloads on this: one event per batch applied, in the
    // commit that records the outcome, and saying nothing but how many.
    let (kind, data): (String, String) =
        sqlx::query_as("SELECT type, data FROM event WHERE topic = 'webhooks' ORDER BY seq DESC")
            .fetch_one(&app.state.db.pool)
            .await
            .unwrap();
    assert_eq!(
        (kind.as_str(), data.as_str()),
        ("webhooks.applied", r#"{"deliveries":1}"#)
    );
    let history = app.get("/api/v1/deployments", &admin).await.json();
    let recorded = &history["items"][0];
    assert_eq!(
        (recorded["version"].as_str(), recorded["status"].as_str()),
        (Some("v2.1.0"), Some("succeeded"))
    );
    assert_eq!(
        (recorded["trigger"].as_str(), recorded["actor"].as_str()),
        (Some("webhook"), Some("webhook:github"))
    );

    // The same delivery again: acknowledged, stored once, applied once.
    let again = github(
        &app,
        "deployment_status",
        "d-1",
        deployment_status("success", "v2.1.0", None),
    )
    .await;
    assert_eq!(again.status, StatusCode::OK);
    assert_eq!(again.json()["status"], "duplicate");
    assert_eq!(stored(&app).await, 1);

    // Refused requests store nothing.
    let body = deployment_status("success", "v2.2.0", None);
    let forged = app
        .post_raw(
            "/api/v1/webhooks/github",
            &Auth::None,
            &[
                ("x-github-event", "deployment_status"),
                ("x-github-delivery", "d-2"),
                (
                    "x-hub-signature-256",
                    &format!(
                        "sha256={}",
                        flightdeck::webhooks::sign("wrong-secret", &body)
                    ),
                ),
            ],
            body.clone(),
        )
        .await;
    assert_eq!(forged.status, StatusCode::UNAUTHORIZED);
    let unsigned = app
        .post_raw(
            "/api/v1/webhooks/github",
            &Auth::None,
            &[
                ("x-github-event", "deployment_status"),
                ("x-github-delivery", "d-3"),
            ],
            body,
        )
        .await;
    assert_eq!(unsigned.status, StatusCode::UNAUTHORIZED);
    // A webhook saved in GitHub without a secret: the answer says what to set.
    assert!(
        unsigned.body.contains("not signed") && unsigned.body.contains("secret"),
        "{}",
        unsigned.body
    );
    let malformed = github(&app, "deployment_status", "d-4", b"{not json".to_vec()).await;
    assert_eq!(malformed.status, StatusCode::BAD_REQUEST);
    let incomplete = github(
        &app,
        "deployment_status",
        "d-5",
        br#"{"deployment_status":{"state":"success"}}"#.to_vec(),
    )
    .await;
    assert_eq!(
        incomplete.status,
        StatusCode::BAD_REQUEST,
        "{}",
        incomplete.body
    );
    let unknown = github(
        &app,
        "push",
        "d-6",
        br#"{"ref":"refs/heads/main"}"#.to_vec(),
    )
    .await;
    assert_eq!(unknown.status, StatusCode::ACCEPTED);
    assert_eq!(unknown.json()["status"], "ignored");
    let huge = github(
        &app,
        "deployment_status",
        "d-7",
        vec![b' '; flightdeck::webhooks::MAX_BODY + 1],
    )
    .await;
    assert_eq!(huge.status, StatusCode::PAYLOAD_TOO_LARGE);
    assert_eq!(stored(&app).await, 1);
    assert_eq!(
        app.get("/api/v1/deployments", &admin).await.json()["items"]
            .as_array()
            .unwrap()
            .len(),
        1
    );
}

async fn gitlab_and_cdevents_authenticate_their_own_way(app: TestApp) {
    let admin = setup(&app).await;
    let pipeline = json!({"object_kind": "pipeline", "object_attributes": {"status": "success", "sha": "0123456789abcdef0123"},
                          "project": {"name": "api"}})
        .to_string()
        .into_bytes();
    let headers = |token: &'static str| {
        vec![
            ("x-gitlab-event", "Pipeline Hook"),
            ("x-gitlab-event-uuid", "g-1"),
            ("x-gitlab-token", token),
        ]
    };
    let wrong = app
        .post_raw(
            "/api/v1/webhooks/gitlab",
            &Auth::None,
            &headers("not-the-token"),
            pipeline.clone(),
        )
        .await;
    assert_eq!(wrong.status, StatusCode::UNAUTHORIZED);
    let tokenless = app
        .post_raw(
            "/api/v1/webhooks/gitlab",
            &Auth::None,
            &headers("")[..2],
            pipeline.clone(),
        )
        .await;
    assert_eq!(tokenless.status, StatusCode::UNAUTHORIZED);
    assert!(
        tokenless.body.contains("no X-Gitlab-Token"),
        "{}",
        tokenless.body
    );
    let ok = app
        .post_raw(
            "/api/v1/webhooks/gitlab",
            &Auth::None,
            &headers(GITLAB_TOKEN),
            pipeline,
        )
        .await;
    assert_eq!(ok.status, StatusCode::ACCEPTED, "{}", ok.body);
    assert!(applied(&app, &admin, "g-1")
        .await
        .starts_with("release 0123456789ab of api"));
    let releases = app
        .get("/api/v1/services/api/releases", &admin)
        .await
        .json();
    assert_eq!(releases[0]["git_sha"], "0123456789abcdef0123");

    let event = json!({
        "context": {"id": "ce-1", "type": "dev.cdevents.service.rolledback.0.1.1", "source": "argo", "timestamp": "2026-11-21T10:00:00Z"},
        "subject": {"id": "api", "content": {"environment": {"id": "production"}, "artifactId": "pkg:oci/api@sha256:0a1b?tag=1.9.0"}}
    })
    .to_string()
    .into_bytes();
    let anonymous = app
        .post_raw("/api/v1/webhooks/cdevents", &Auth::None, &[], event.clone())
        .await;
    assert_eq!(anonymous.status, StatusCode::UNAUTHORIZED);
    let viewer = app.new_token("dashboards", Role::Viewer).await;
    assert_eq!(
        app.post_raw("/api/v1/webhooks/cdevents", &viewer, &[], event.clone())
            .await
            .status,
        StatusCode::FORBIDDEN
    );
    let ci = app.new_token("argo", Role::Operator).await;
    let res = app
        .post_raw("/api/v1/webhooks/cdevents", &ci, &[], event)
        .await;
    assert_eq!(res.status, StatusCode::ACCEPTED, "{}", res.body);
    applied(&app, &admin, "ce-1").await;
    let recorded = &app.get("/api/v1/deployments", &admin).await.json()["items"][0];
    assert_eq!(
        (recorded["kind"].as_str(), recorded["version"].as_str()),
        (Some("rollback"), Some("1.9.0"))
    );
    let env_event = json!({"context": {"id": "ce-2", "type": "dev.cdevents.environment.created.0.1.1"}, "subject": {"id": "qa"}});
    let res = app
        .post_raw(
            "/api/v1/webhooks/cdevents",
            &ci,
            &[],
            env_event.to_string().into_bytes(),
        )
        .await;
    assert_eq!(res.status, StatusCode::ACCEPTED);
    assert!(applied(&app, &admin, "ce-2").await.starts_with("ignored"));
    assert_eq!(
        app.post_raw("/api/v1/webhooks/jenkins", &ci, &[], b"{}".to_vec())
            .await
            .status,
        StatusCode::NOT_FOUND
    );
}

async fn a_quarantined_version_reported_by_ci_is_refused(app: TestApp) {
    let admin = setup(&app).await;
    app.put_json(
        "/api/v1/services/api/targets/production",
        &admin,
        json!({"deployer": "command", "command": "true"}),
    )
    .await;
    for version in ["1.0", "2.0"] {
        let id = app
            .post_json(
                "/api/v1/deployments",
                &admin,
                json!({"service": "api", "environment": "production", "version": version}),
            )
            .await
            .json()["id"]
            .as_i64()
            .unwrap();
        app.wait_for(&format!("/api/v1/deployments/{id}"), &admin, |d| {
            d["status"] == "succeeded"
        })
        .await;
    }
    let rollback = app
        .post_json(
            "/api/v1/rollbacks",
            &admin,
            json!({"service": "api", "environment": "production", "reason": "errors"}),
        )
        .await
        .json();
    app.wait_for(
        &format!("/api/v1/deployments/{}", rollback["id"]),
        &admin,
        |d| d["status"] == "succeeded",
    )
    .await;

    let res = github(
        &app,
        "deployment_status",
        "q-1",
        deployment_status("success", "2.0", None),
    )
    .await;
    assert_eq!(res.status, StatusCode::ACCEPTED);
    let outcome = applied(&app, &admin, "q-1").await;
    assert!(
        outcome.starts_with("refused:") && outcome.contains("quarantined"),
        "{outcome}"
    );
    let latest = &app.get("/api/v1/deployments", &admin).await.json()["items"][0];
    assert_eq!(
        latest["kind"], "rollback",
        "nothing was recorded for the refused report"
    );
}

/// GitHub's "Redeliver" sends a delivery again under its id. One that had no effect the first
/// time (refused, or nothing to apply) is applied again, as its cause may be fixed by now; one
/// that was applied stays a duplicate.
async fn a_delivery_sent_again_once_its_cause_is_fixed_is_applied(app: TestApp) {
    let admin = setup(&app).await;
    let run = json!({"action": "completed", "workflow": {"name": "CI"},
        "repository": {"name": "web", "full_name": "acme/web"},
        "workflow_run": {"id": 77, "head_branch": "main", "head_sha": "abcdef0123456789abcdef0123456789abcdef01",
            "event": "push", "status": "completed", "conclusion": "success",
            "run_started_at": "2026-11-30T14:05:02Z", "updated_at": "2026-11-30T14:11:00Z"}})
    .to_string()
    .into_bytes();
    let first = github(&app, "workflow_run", "r-1", run.clone()).await;
    assert_eq!(first.status, StatusCode::ACCEPTED, "{}", first.body);
    let outcome = applied(&app, &admin, "r-1").await;
    assert!(
        outcome.starts_with("ignored: no service named 'web'"),
        "{outcome}"
    );

    app.create_service(&admin, "web").await;
    let again = github(&app, "workflow_run", "r-1", run.clone()).await;
    assert_eq!(again.status, StatusCode::ACCEPTED, "{}", again.body);
    assert!(
        again.json()["note"]
            .as_str()
            .unwrap_or_default()
            .contains("applied again"),
        "{}",
        again.body
    );
    let outcome = applied(&app, &admin, "r-1").await;
    assert!(
        outcome.starts_with("release abcdef012345 of web"),
        "{outcome}"
    );

    let once_more = github(&app, "workflow_run", "r-1", run).await;
    assert_eq!(
        once_more.status,
        StatusCode::OK,
        "applied once: {}",
        once_more.body
    );
    assert_eq!(once_more.json()["status"], "duplicate");
    assert_eq!(stored(&app).await, 1);
    let releases = app
        .get("/api/v1/services/web/releases", &admin)
        .await
        .json();
    assert_eq!(releases.as_array().map(Vec::len), Some(1), "{releases}");
    let builds = app.get("/api/v1/builds", &admin).await.json();
    assert_eq!(
        builds["items"].as_array().unwrap().len(),
        1,
        "one run, one build: {builds}"
    );
}

/// What the fake CI system received: each call's signature header and body.
/// A GitHub webhook left on its settings page's first content type sends the JSON form-encoded
/// as `payload`, signed as sent: its ping is answered with what it should send, its workflow run
/// is a build and its success a release, as with `application/json`.
async fn a_form_encoded_github_delivery_is_read(app: TestApp) {
    let admin = setup(&app).await;
    let run = json!({"action": "completed", "workflow": {"name": "CI"}, "repository": {"name": "api", "full_name": "shop/api"},
        "workflow_run": {"id": 5150, "head_branch": "main", "head_sha": "a1b2c3d4e5f60718", "event": "push", "status": "completed",
            "conclusion": "success", "run_started_at": "2026-11-30T14:05:00Z", "updated_at": "2026-11-30T14:09:00Z",
            "head_commit": {"message": "Ship it & more: 100% done", "author": {"name": "Maria"}}}});
    let form = |json: &str| {
        let encoded: String = url::form_urlencoded::Serializer::new(String::new())
            .append_pair("payload", json)
            .finish();
        encoded.into_bytes()
    };
    let send_event = |event: &'static str, delivery: &'static str, body: Vec<u8>| {
        let signature = format!(
            "sha256={}",
            flightdeck::webhooks::sign(GITHUB_SECRET, &body)
        );
        let app = &app;
        async move {
            app.post_raw(
                "/api/v1/webhooks/github",
                &Auth::None,
                &[
                    ("content-type", "application/x-www-form-urlencoded"),
                    ("x-github-event", event),
                    ("x-github-delivery", delivery),
                    ("x-hub-signature-256", &signature),
                ],
                body,
            )
            .await
        }
    };
    let send = |delivery, body| send_event("workflow_run", delivery, body);
    // Saving a webhook, GitHub pings it and shows the answer: left on "Just the push event",
    // it is told to select Workflow runs; nothing is stored for a ping.
    let ping = |events: Value| {
        form(&json!({"zen": "Design for failure.", "hook_id": 12, "hook": {"type": "Repository", "events": events, "active": true}}).to_string())
    };
    for (delivery, events, note) in [
        ("p-1", json!(["push"]), "select Workflow runs"),
        ("p-2", json!(["push", "workflow_run"]), "arrive as builds"),
    ] {
        let answer = send_event("ping", delivery, ping(events)).await;
        assert_eq!(answer.status, StatusCode::ACCEPTED);
        let said = answer.json()["note"]
            .as_str()
            .unwrap_or_default()
            .to_string();
        assert!(said.contains(note), "{}", answer.body);
    }
    assert_eq!(stored(&app).await, 0);
    let res = send("f-1", form(&run.to_string())).await;
    assert_eq!(res.status, StatusCode::ACCEPTED, "{}", res.body);
    assert!(applied(&app, &admin, "f-1").await.starts_with("release"));
    let builds = app.get("/api/v1/builds", &admin).await.json();
    let build = &builds["items"][0];
    assert_eq!(
        (build["pipeline"].clone(), build["status"].clone()),
        (json!("shop/api/CI"), json!("success"))
    );
    assert_eq!(build["message"], "Ship it & more: 100% done");
    // A form without the payload field: 400, and nothing stored.
    let empty = send("f-2", b"other=1".to_vec()).await;
    assert_eq!(empty.status, StatusCode::BAD_REQUEST, "{}", empty.body);
    assert!(empty.body.contains("payload"), "{}", empty.body);
    assert_eq!(stored(&app).await, 1);
}

on_both_databases!(
    a_delivery_sent_again_once_its_cause_is_fixed_is_applied,
    a_form_encoded_github_delivery_is_read,
    github_deliveries_are_verified_stored_once_and_applied,
    gitlab_and_cdevents_authenticate_their_own_way,
    a_quarantined_version_reported_by_ci_is_refused,
);

/// Without the variable, an admin sets the GitHub secret on the settings page; the page never
/// shows it back, and a secret set by the variable cannot be changed there.
#[tokio::test]
async fn an_admin_sets_a_webhook_secret_in_settings() {
    let mut config = common::test_config();
    config.webhooks.github = None;
    let app = TestApp::sqlite_with(config).await;
    let admin = setup(&app).await;
    let refused = github(&app, "workflow_run", "s-1", b"{}".to_vec()).await;
    assert_eq!(refused.status, StatusCode::UNAUTHORIZED);
    assert!(refused.body.contains("Settings"), "{}", refused.body);

    let session = app.sign_in("admin", common::ADMIN_PASSWORD).await;
    let short = app
        .server_fn(
            "webhook_secret_set",
            &session,
            &[("source", "github"), ("secret", "short")],
        )
        .await;
    assert_eq!(short.status, StatusCode::UNPROCESSABLE_ENTITY);
    let viewer_password = app.new_user("val.viewer", Role::Viewer).await;
    let viewer = app.sign_in("val.viewer", &viewer_password).await;
    let forbidden = app
        .server_fn(
            "webhook_secret_set",
            &viewer,
            &[("source", "github"), ("secret", GITHUB_SECRET)],
        )
        .await;
    assert_eq!(forbidden.status, StatusCode::FORBIDDEN);
    let saved = app
        .server_fn(
            "webhook_secret_set",
            &session,
            &[("source", "github"), ("secret", GITHUB_SECRET)],
        )
        .await;
    assert_eq!(saved.status, StatusCode::OK, "{}", saved.body);

    let body = json!({"action": "completed", "workflow_run": {"conclusion": "success", "head_sha": "abcdef0123456789"}, "repository": {"name": "api"}})
        .to_string()
        .into_bytes();
    let accepted = github(&app, "workflow_run", "s-2", body).await;
    assert_eq!(accepted.status, StatusCode::ACCEPTED, "{}", accepted.body);
    assert!(applied(&app, &admin, "s-2").await.starts_with("release"));

    let status = app.server_fn("webhook_secrets", &session, &[]).await;
    assert_eq!(status.status, StatusCode::OK);
    assert!(
        !status.body.contains(GITHUB_SECRET),
        "the secret is never sent back"
    );
    let list: Value = status.json();
    assert_eq!(list[0]["origin"], "settings");
    assert_eq!(
        list[1]["origin"], "environment",
        "GitLab's token comes from the variable in tests"
    );
    let overridden = app
        .server_fn(
            "webhook_secret_set",
            &session,
            &[("source", "gitlab"), ("secret", GITHUB_SECRET)],
        )
        .await;
    assert_eq!(overridden.status, StatusCode::CONFLICT);
    assert!(app
        .audit_actions()
        .await
        .contains(&"webhook.secret_set".to_string()));

    // The settings page then lists the delivery and what it did; the list is admins' only.
    let page = app.page("/settings", &session).await.body;
    for shown in [
        "Recent webhook deliveries",
        "GitHub Workflow run",
        "s-2",
        "Applied",
        "release abcdef012345 of api",
    ] {
        assert!(page.contains(shown), "{shown} in {page}");
    }
    let listed = app.server_fn("webhook_deliveries", &viewer, &[]).await;
    assert_eq!(listed.status, StatusCode::FORBIDDEN);
    let viewers_page = app.page("/settings", &viewer).await.body;
    assert!(!viewers_page.contains("Recent webhook deliveries"));
}
