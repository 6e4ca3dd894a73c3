//! CI runs delivered to the signed webhooks become builds, on both databases: GitHub
//! `workflow_run` and its re-run attempts, GitLab `Pipeline Hook` and its retries, in their real
//! payload shapes.

mod common;
use app::model::Role;
use common::{Auth, TestApp};
use serde_json::{json, Value};

/// Run 8842 of acme/shop's "CI" workflow on main, as GitHub delivers it. `attempt` 2 is "Re-run
/// failed jobs": the same run id and commit, 15 minutes later.
fn run(status: &str, conclusion: Value, attempt: u32) -> Vec<u8> {
    let minute = 5 + 15 * (attempt - 1);
    json!({
        "action": if status == "completed" { "completed" } else { "requested" },
        "workflow": {"name": "CI"}, "repository": {"name": "shop", "full_name": "acme/shop"},
        "workflow_run": {"id": 8842, "name": "CI", "head_branch": "main", "head_sha": "acb5820ced9479c074f688cc328bf03f341a511d",
            "event": "push", "status": status, "conclusion": conclusion, "created_at": "2026-11-30T14:05:00Z",
            "run_attempt": attempt, "run_started_at": format!("2026-11-30T14:{minute:02}:02Z"),
            "updated_at": format!("2026-11-30T14:{:02}:00Z", minute + 6),
            "html_url": "https://github.com/acme/shop/actions/runs/8842",
            "head_commit": {"message": "Fix cart", "author": {"name": "Maria"}}}
    })
    .to_string()
    .into_bytes()
}

/// Delivers `body` as GitHub's `workflow_run` event, signed with the test secret.
async fn deliver(app: &TestApp, delivery: &str, body: Vec<u8>) -> common::TestResponse {
    common::webhooks::github(app, "workflow_run", delivery, body).await
}

/// Waits until every delivery has its outcome, and returns them.
async fn outcomes(app: &TestApp, admin: &Auth) -> Value {
    app.wait_for("/api/v1/webhooks/deliveries", admin, |list| {
        list.as_array()
            .unwrap()
            .iter()
            .all(|d| !d["outcome"].is_null())
    })
    .await
}

async fn ci_webhooks_record_runs_as_builds(app: TestApp) {
    let viewer = app.new_token("viewer", Role::Viewer).await;
    let send = |delivery: &'static str, body: Vec<u8>| deliver(&app, delivery, body);
    assert!(send("d-1", run("queued", Value::Null, 1))
        .await
        .status
        .is_success());
    let list = app.get("/api/v1/builds", &viewer).await.json();
    assert_eq!(list["items"][0]["status"], "queued");
    assert!(send("d-2", run("completed", json!("failure"), 1))
        .await
        .status
        .is_success());
    let list = app.get("/api/v1/builds", &viewer).await.json();
    let items = list["items"].as_array().unwrap();
    assert_eq!(items.len(), 1, "one run, one build");
    assert_eq!(
        (items[0]["status"].clone(), items[0]["pipeline"].clone()),
        (json!("failure"), json!("acme/shop/CI"))
    );
    assert_eq!(items[0]["finished_at"], "2026-11-30T14:11:00Z");
    // The re-run passes; the failed attempt stays on record (it is what makes the run flaky).
    for (delivery, status, conclusion) in [
        ("d-3", "queued", Value::Null),
        ("d-4", "completed", json!("success")),
    ] {
        assert!(send(delivery, run(status, conclusion, 2))
            .await
            .status
            .is_success());
    }
    let list = app.get("/api/v1/builds", &viewer).await.json();
    let statuses: Vec<&str> = list["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|b| b["status"].as_str().unwrap())
        .collect();
    assert_eq!(statuses, ["success", "failure"], "newest first: {list}");
    // `shop` is no service here: its runs are builds only, and the passing one makes no
    // release, which the delivery log says without calling it a refusal.
    let admin = app.new_token("admin", Role::Admin).await;
    let deliveries = outcomes(&app, &admin).await;
    let passed = deliveries
        .as_array()
        .unwrap()
        .iter()
        .find(|d| d["delivery_id"] == "d-4")
        .unwrap();
    assert!(
        passed["outcome"]
            .as_str()
            .unwrap()
            .starts_with("ignored: no service named 'shop' here"),
        "{passed}"
    );
    assert_eq!(list["items"][0]["finished_at"], "2026-11-30T14:26:00Z");
    let stats = app
        .get(
            "/api/v1/builds/stats?pipeline=acme/shop/CI&days=3650",
            &viewer,
        )
        .await
        .json();
    let shop = &stats["pipelines"][0];
    assert_eq!(
        (shop["failures"].clone(), shop["flaky_failures"].clone()),
        (json!(1), json!(1)),
        "the failure passed on a re-run of its commit: {stats}"
    );

    // GitLab: pipeline 31 fails; "Retry" re-runs its failed job under the same pipeline id
    // (the job is created anew, 15:40) and passes; then the first `running` is redelivered late.
    let pipeline = |status: &str, finished_at: Value, retried_job: Option<&str>| {
        let mut jobs = vec![
            json!({"id": 380, "stage": "build", "name": "build", "status": "success", "created_at": "2026-11-30 15:23:28 UTC"}),
        ];
        if let Some(created) = retried_job {
            jobs.push(json!({"id": 390, "stage": "test", "name": "test", "status": status, "created_at": created}));
        }
        json!({
            "object_kind": "pipeline",
            "object_attributes": {"id": 31, "ref": "master", "sha": "bcbb5ec396a2c0f828686f14fac9b80b780504f2", "status": status,
                "source": "push", "created_at": "2026-11-30 15:23:28 UTC", "finished_at": finished_at, "duration": 181},
            "project": {"name": "gitlab-test", "path_with_namespace": "gitlab-org/gitlab-test"},
            "commit": {"id": "bcbb5ec396a2c0f828686f14fac9b80b780504f2", "message": "test", "author": {"name": "User"}},
            "builds": jobs
        })
        .to_string()
        .into_bytes()
    };
    let deliveries = [
        (
            "g-1",
            pipeline(
                "failed",
                json!("2026-11-30 15:26:29 UTC"),
                Some("2026-11-30 15:23:28 UTC"),
            ),
        ),
        (
            "g-2",
            pipeline("running", Value::Null, Some("2026-11-30 15:40:00 UTC")),
        ),
        (
            "g-3",
            pipeline(
                "success",
                json!("2026-11-30 15:43:00 UTC"),
                Some("2026-11-30 15:40:00 UTC"),
            ),
        ),
        (
            "g-4",
            pipeline("running", Value::Null, Some("2026-11-30 15:23:28 UTC")),
        ),
    ];
    for (uuid, body) in deliveries {
        let res = common::webhooks::gitlab_pipeline(&app, uuid, body).await;
        assert!(res.status.is_success(), "{uuid}: {}", res.body);
    }
    let gitlab = app
        .get(
            "/api/v1/builds?pipeline=gitlab-org/gitlab-test/pipeline",
            &viewer,
        )
        .await
        .json();
    let items = gitlab["items"].as_array().unwrap();
    let seen: Vec<_> = items
        .iter()
        .map(|b| {
            (
                b["source_id"].clone(),
                b["status"].clone(),
                b["duration_s"].clone(),
            )
        })
        .collect();
    assert_eq!(
        seen,
        [
            (json!("31/retry-1796053200"), json!("success"), json!(180.0)),
            (json!("31"), json!("failure"), json!(181.0)),
        ],
        "the retry is a build of its own, started when it was retried: {gitlab}"
    );
}

/// A run whose names are longer than a build takes is recorded under names cut to fit; one that
/// cannot be a build at all is still acknowledged, and the answer GitHub shows beside the
/// delivery says why it is not on the Builds page.
async fn a_run_is_recorded_or_its_answer_says_why_not(app: TestApp) {
    let viewer = app.new_token("viewer", Role::Viewer).await;
    let run = |id: u64, started: &str| {
        json!({
            "action": "completed", "workflow": {"name": "Build, sign and publish the images to every registry we run ".repeat(4)},
            "repository": {"full_name": "acme/storefront"},
            "workflow_run": {"id": id, "head_branch": "main", "head_sha": "acb5820ced9479c074f688cc328bf03f341a511d",
                "event": "push", "status": "completed", "conclusion": "failure",
                "run_started_at": started, "updated_at": "2026-11-30T14:11:00Z"}
        })
        .to_string()
        .into_bytes()
    };
    let res = common::webhooks::github(
        &app,
        "workflow_run",
        "long-1",
        run(51, "2026-11-30T14:05:02Z"),
    )
    .await;
    assert_eq!(res.status, 202, "{}", res.body);
    assert!(res.json().get("build").is_none(), "{}", res.body);
    let list = app.get("/api/v1/builds", &viewer).await.json();
    let pipeline = list["items"][0]["pipeline"].as_str().unwrap().to_string();
    assert!(
        pipeline.starts_with("acme/storefront/Build, sign") && pipeline.ends_with('…'),
        "{pipeline}"
    );
    assert_eq!(pipeline.chars().count(), 200);
    let by_name = app
        .get(
            &format!("/api/v1/builds?pipeline={}", urlencoding(&pipeline)),
            &viewer,
        )
        .await
        .json();
    assert_eq!(by_name["items"].as_array().unwrap().len(), 1, "{by_name}");

    let res =
        common::webhooks::github(&app, "workflow_run", "bad-time", run(52, "yesterday")).await;
    assert_eq!(res.status, 202, "acknowledged all the same: {}", res.body);
    let why = res.json()["build"].as_str().unwrap_or_default().to_string();
    assert!(
        why.contains("not recorded as a build") && why.contains("started_at"),
        "{}",
        res.body
    );
    let list = app.get("/api/v1/builds", &viewer).await.json();
    assert_eq!(
        list["items"].as_array().unwrap().len(),
        1,
        "nothing stored for it: {list}"
    );
}

/// A passing run of a repository that is a service here registers a release of its commit: the
/// deploy dialog and the deployment's page then say what CI said of it, the failed attempt
/// before the re-run included.
async fn a_release_from_a_passing_run_says_what_ci_said(app: TestApp) {
    let admin = app.new_token("admin", Role::Admin).await;
    app.create_service(&admin, "shop").await;
    for (delivery, conclusion, attempt) in [("r-1", "failure", 1), ("r-2", "success", 2)] {
        let res = deliver(&app, delivery, run("completed", json!(conclusion), attempt)).await;
        assert!(res.status.is_success(), "{delivery}: {}", res.body);
    }
    outcomes(&app, &admin).await;
    let releases = app
        .get("/api/v1/services/shop/releases", &admin)
        .await
        .json();
    assert_eq!(releases.as_array().unwrap().len(), 1, "{releases}");
    let release = &releases[0];
    assert_eq!(
        release["git_sha"],
        "acb5820ced9479c074f688cc328bf03f341a511d"
    );
    let version = release["version"].as_str().unwrap();
    let said = app
        .server_fn(
            "release_ci",
            &admin,
            &[("service", "shop"), ("version", version)],
        )
        .await;
    assert_eq!(said.status, axum::http::StatusCode::OK, "{}", said.body);
    let said = &said.json()["Built"];
    assert_eq!(
        (said["verdict"].clone(), said["words"].clone(), said["url"].clone()),
        (
            json!("success"),
            json!("CI passed on acb5820: acme/shop/CI on main. It passed on a re-run after a failure."),
            json!("https://github.com/acme/shop/actions/runs/8842")
        )
    );
}

fn urlencoding(s: &str) -> String {
    url::form_urlencoded::byte_serialize(s.as_bytes()).collect()
}

on_both_databases!(
    a_release_from_a_passing_run_says_what_ci_said,
    ci_webhooks_record_runs_as_builds,
    a_run_is_recorded_or_its_answer_says_why_not
);
