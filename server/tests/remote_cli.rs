//! The client commands of the binary (`ps`, `deploy`, `rollback`, `history`, `logs`,
//! `import-github-runs`, `import-gitlab-pipelines`) against a real server on a TCP port, run as a
//! user runs them: exit codes, output and error messages.

mod common;
use app::model::Role;
use common::{Auth, TestApp};
use serde_json::json;

struct Run {
    ok: bool,
    stdout: String,
    stderr: String,
}

async fn flightdeck(url: &str, token: &str, args: &[&str]) -> Run {
    fed(url, token, args, b"").await
}

/// `flightdeck ARGS` with `input` on its standard input.
async fn fed(url: &str, token: &str, args: &[&str], input: &[u8]) -> Run {
    use tokio::io::AsyncWriteExt;
    let mut child = tokio::process::Command::new(env!("CARGO_BIN_EXE_flightdeck"))
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("FLIGHTDECK_URL", url)
        .env("FLIGHTDECK_TOKEN", token)
        .args(args)
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdin = child.stdin.take().unwrap();
    stdin.write_all(input).await.unwrap();
    drop(stdin);
    let out = child.wait_with_output().await.unwrap();
    Run {
        ok: out.status.success(),
        stdout: String::from_utf8_lossy(&out.stdout).into(),
        stderr: String::from_utf8_lossy(&out.stderr).into(),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn deploy_watch_roll_back_and_read_history_from_the_command_line() {
    let app = TestApp::sqlite().await;
    let admin = app.new_token("admin-bot", Role::Admin).await;
    app.create_service(&admin, "api").await;
    app.create_environment(&admin, "staging", 10, false).await;
    let command =
        r#"echo "rolling out $FLIGHTDECK_VERSION"; test "$FLIGHTDECK_VERSION" != "2.0-bad""#;
    app.put_json(
        "/api/v1/services/api/targets/staging",
        &admin,
        json!({"deployer": "command", "command": command}),
    )
    .await;
    let Auth::Bearer(token) = app.new_token("cli", Role::Operator).await else {
        unreachable!()
    };
    let url = app.serve_tcp().await;

    let run = flightdeck(
        &url,
        &token,
        &[
            "deploy",
            "api",
            "staging",
            "1.0",
            "--reason",
            "first release",
        ],
    )
    .await;
    assert!(run.ok, "{}{}", run.stdout, run.stderr);
    assert!(
        run.stdout
            .contains("Deployment #1 queued: api 1.0 to staging"),
        "{}",
        run.stdout
    );
    assert!(run.stdout.contains("| rolling out 1.0"), "{}", run.stdout);
    assert!(
        run.stdout.contains("✔ #1 api 1.0 to staging succeeded"),
        "{}",
        run.stdout
    );

    let bad = flightdeck(&url, &token, &["deploy", "api", "staging", "2.0-bad"]).await;
    assert!(!bad.ok, "a failed deployment exits non-zero");
    assert!(
        bad.stderr
            .contains("✘ #2 failed: The command exited with status 1."),
        "{}",
        bad.stderr
    );

    let ps = flightdeck(&url, &token, &["ps"]).await;
    assert!(ps.ok, "{}", ps.stderr);
    let row = ps.stdout.lines().find(|l| l.starts_with("api")).unwrap();
    assert!(
        row.contains("staging") && row.contains("2.0-bad") && row.contains("failed"),
        "{}",
        ps.stdout
    );

    let rollback = flightdeck(
        &url,
        &token,
        &[
            "rollback",
            "api",
            "staging",
            "--reason",
            "2.0 fails to start",
        ],
    )
    .await;
    assert!(rollback.ok, "{}{}", rollback.stdout, rollback.stderr);
    assert!(
        rollback.stdout.contains("goes back to 1.0"),
        "{}",
        rollback.stdout
    );

    let history = flightdeck(&url, &token, &["history", "api", "staging"]).await;
    assert!(history.ok, "{}", history.stderr);
    let lines: Vec<&str> = history.stdout.lines().collect();
    assert!(
        lines[0].starts_with("ID")
            && lines[1].contains("rollback")
            && lines[2].contains("rolled_back"),
        "{}",
        history.stdout
    );

    let logs = flightdeck(&url, &token, &["logs", "2"]).await;
    assert!(
        logs.ok && logs.stdout.contains("| rolling out 2.0-bad"),
        "{}",
        logs.stdout
    );

    let refused = flightdeck(&url, "fdt_not-a-real-token", &["ps"]).await;
    assert!(
        !refused.ok && refused.stderr.contains("refused the token"),
        "{}",
        refused.stderr
    );
    let Auth::Bearer(viewer) = app.new_token("grafana", Role::Viewer).await else {
        unreachable!()
    };
    let forbidden = flightdeck(&url, &viewer, &["deploy", "api", "staging", "3.0"]).await;
    assert!(
        !forbidden.ok && forbidden.stderr.contains("HTTP 403"),
        "{}",
        forbidden.stderr
    );
    let unreachable = flightdeck("http://127.0.0.1:9", &token, &["ps"]).await;
    assert!(
        !unreachable.ok && unreachable.stderr.contains("cannot reach Flightdeck"),
        "{}",
        unreachable.stderr
    );
    // A protected environment: the CLI names it again with --confirm, or is refused.
    app.create_environment(&admin, "production", 20, true).await;
    app.put_json(
        "/api/v1/services/api/targets/production",
        &admin,
        json!({"deployer": "command", "command": "true"}),
    )
    .await;
    let unconfirmed = flightdeck(&url, &token, &["deploy", "api", "production", "1.0"]).await;
    assert!(!unconfirmed.ok, "{}", unconfirmed.stdout);
    assert!(
        unconfirmed.stderr.contains("--confirm production"),
        "{}",
        unconfirmed.stderr
    );
    let confirmed = flightdeck(
        &url,
        &token,
        &[
            "deploy",
            "api",
            "production",
            "1.0",
            "--confirm",
            "production",
        ],
    )
    .await;
    assert!(confirmed.ok, "{}{}", confirmed.stdout, confirmed.stderr);
}

/// A team back-fills its GitHub Actions history from what `gh api --paginate` prints; the
/// webhook's later delivery of a back-filled run updates that build instead of adding one.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn github_runs_are_back_filled_from_the_command_line() {
    let app = TestApp::sqlite().await;
    let Auth::Bearer(token) = app.new_token("cli", Role::Operator).await else {
        unreachable!()
    };
    let url = app.serve_tcp().await;
    let run = |id: u64, status: &str, conclusion: serde_json::Value, day: u32| {
        json!({"id": id, "name": "CI", "head_branch": "main", "head_sha": "acb5820ced9479c074f688cc328bf03f341a511d",
            "event": "push", "status": status, "conclusion": conclusion, "run_attempt": 1,
            "created_at": format!("2026-11-{day:02}T14:05:00Z"), "run_started_at": format!("2026-11-{day:02}T14:05:02Z"),
            "updated_at": format!("2026-11-{day:02}T14:11:00Z"), "html_url": format!("https://github.com/acme/shop/actions/runs/{id}"),
            "head_commit": {"message": "Fix cart", "author": {"name": "Maria"}},
            "repository": {"name": "shop", "full_name": "acme/shop"}, "head_repository": {"full_name": "acme/shop"}})
    };
    // Two pages back to back, newest first, as GitHub lists them; the newest run still going.
    // A run that started between the two requests pushed 902 down: the second page lists it
    // again, and it is one build.
    let pages = format!(
        "{}\n{}\n",
        json!({"total_count": 3, "workflow_runs": [run(903, "in_progress", json!(null), 29), run(902, "completed", json!("failure"), 28)]}),
        json!({"total_count": 4, "workflow_runs": [run(902, "completed", json!("failure"), 28), run(901, "completed", json!("success"), 27)]}),
    );
    let import = fed(&url, &token, &["import-github-runs"], pages.as_bytes()).await;
    assert!(import.ok, "{}{}", import.stdout, import.stderr);
    assert!(
        import
            .stdout
            .contains("Imported 3 GitHub runs: 3 new builds, 0 updated."),
        "{}",
        import.stdout
    );
    let viewer = app.new_token("viewer", Role::Viewer).await;
    let list = app.get("/api/v1/builds", &viewer).await.json();
    let seen: Vec<(String, String)> = list["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|b| {
            (
                b["source_id"].as_str().unwrap().into(),
                b["status"].as_str().unwrap().into(),
            )
        })
        .collect();
    assert_eq!(
        seen,
        [
            ("903".into(), "running".into()),
            ("902".into(), "failure".into()),
            ("901".into(), "success".into())
        ],
        "{list}"
    );
    // The running one finishes: its delivery updates the back-filled build.
    let body = json!({"action": "completed", "workflow": {"name": "CI"}, "repository": {"name": "shop", "full_name": "acme/shop"},
        "workflow_run": run(903, "completed", json!("success"), 29)})
    .to_string()
    .into_bytes();
    let delivered = common::webhooks::github(&app, "workflow_run", "run-903-completed", body).await;
    assert!(delivered.status.is_success(), "{}", delivered.body);
    let list = app.get("/api/v1/builds", &viewer).await.json();
    assert_eq!(list["items"].as_array().unwrap().len(), 3, "{list}");
    assert_eq!(list["items"][0]["status"], "success", "{list}");

    // Something other than GitHub's list: nothing imported, and the error says what to pipe in.
    let wrong = fed(
        &url,
        &token,
        &["import-github-runs"],
        br#"{"message": "Bad credentials"}"#,
    )
    .await;
    assert!(!wrong.ok);
    assert!(
        wrong.stderr.contains("gh api --paginate"),
        "{}",
        wrong.stderr
    );
    let nothing = fed(&url, &token, &["import-github-runs"], b"").await;
    assert!(
        !nothing.ok && nothing.stderr.contains("nothing on standard input"),
        "{}",
        nothing.stderr
    );
}

/// A GitLab team back-fills its pipelines from what `glab api --paginate` prints; the hook's
/// later delivery of a pipeline still running updates its build instead of adding one.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn gitlab_pipelines_are_back_filled_from_the_command_line() {
    let app = TestApp::sqlite().await;
    let Auth::Bearer(token) = app.new_token("cli", Role::Operator).await else {
        unreachable!()
    };
    let url = app.serve_tcp().await;
    let listed = |id: u64, status: &str, day: u32| {
        json!({"id": id, "iid": id - 100, "project_id": 7, "sha": "bcbb5ec396a2c0f828686f14fac9b80b780504f2",
            "ref": "main", "status": status, "source": "push", "name": null,
            "created_at": format!("2026-11-{day:02}T15:23:28.007Z"), "updated_at": format!("2026-11-{day:02}T15:26:29.216Z"),
            "web_url": format!("https://gitlab.example.com/acme/shop/-/pipelines/{id}")})
    };
    let pages = format!(
        "{}\n{}\n",
        json!([listed(203, "running", 29), listed(202, "failed", 28)]),
        json!([listed(201, "success", 27)]),
    );
    let import = fed(
        &url,
        &token,
        &["import-gitlab-pipelines", "--project", "acme/shop"],
        pages.as_bytes(),
    )
    .await;
    assert!(import.ok, "{}{}", import.stdout, import.stderr);
    assert!(
        import
            .stdout
            .contains("Imported 3 GitLab pipelines: 3 new builds, 0 updated."),
        "{}",
        import.stdout
    );
    let viewer = app.new_token("viewer", Role::Viewer).await;
    let path = "/api/v1/builds?pipeline=acme/shop/pipeline";
    let list = app.get(path, &viewer).await.json();
    let seen: Vec<(&str, &str, Option<f64>)> = list["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|b| {
            let key = (b["source_id"].as_str(), b["status"].as_str());
            (key.0.unwrap(), key.1.unwrap(), b["duration_s"].as_f64())
        })
        .collect();
    assert_eq!(
        seen,
        [
            ("203", "running", None),
            ("202", "failure", Some(181.209)),
            ("201", "success", Some(181.209))
        ],
        "{list}"
    );
    // The running one finishes: its hook names the project by path and updates that build.
    let hook = json!({"object_kind": "pipeline",
        "object_attributes": {"id": 203, "ref": "main", "sha": "bcbb5ec396a2c0f828686f14fac9b80b780504f2",
            "status": "success", "source": "push", "created_at": "2026-11-29 15:23:28 UTC",
            "finished_at": "2026-11-29 15:27:00 UTC", "duration": 200},
        "project": {"name": "shop", "path_with_namespace": "acme/shop"}, "user": {"username": "maria"}});
    let delivered =
        common::webhooks::gitlab_pipeline(&app, "p-203", hook.to_string().into_bytes()).await;
    assert!(delivered.status.is_success(), "{}", delivered.body);
    let list = app.get(path, &viewer).await.json();
    assert_eq!(list["items"].as_array().unwrap().len(), 3, "{list}");
    assert_eq!(
        (&list["items"][0]["status"], &list["items"][0]["author"]),
        (&json!("success"), &json!("maria")),
        "{list}"
    );

    // A project's id instead of its path would name other pipelines: refused, nothing sent.
    let by_id = ["import-gitlab-pipelines", "--project", "7"];
    let refused = fed(&url, &token, &by_id, pages.as_bytes()).await;
    assert!(
        !refused.ok && refused.stderr.contains("GROUP/NAME"),
        "{}",
        refused.stderr
    );
    // Something other than GitLab's list: the error says what to pipe in.
    let ours = ["import-gitlab-pipelines", "--project", "acme/shop"];
    let wrong = fed(&url, &token, &ours, br#"{"message": "401 Unauthorized"}"#).await;
    assert!(
        !wrong.ok && wrong.stderr.contains("glab api --paginate"),
        "{}",
        wrong.stderr
    );
    let list = app.get(path, &viewer).await.json();
    assert_eq!(list["items"].as_array().unwrap().len(), 3, "{list}");
}
