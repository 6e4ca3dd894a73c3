//! The client commands of the binary (`ps`, `deploy`, `rollback`, `history`, `logs`) against a
//! real server on a TCP port, run as a user runs them: exit codes, output and error messages.

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
    let out = tokio::process::Command::new(env!("CARGO_BIN_EXE_flightdeck"))
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("FLIGHTDECK_URL", url)
        .env("FLIGHTDECK_TOKEN", token)
        .args(args)
        .output()
        .await
        .unwrap();
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
