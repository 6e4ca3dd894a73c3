//! The binary's admin commands and start-up validation, run as a user would run them.

use std::io::Write;
use std::process::{Command, Stdio};

fn flightdeck(db_url: &str) -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_flightdeck"));
    cmd.env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("FLIGHTDECK_DATABASE_URL", db_url);
    cmd
}

#[test]
fn user_add_reads_the_password_from_stdin_and_token_create_prints_once() {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}/cli.db", dir.path().display());
    let mut child = flightdeck(&url)
        .args([
            "user",
            "add",
            "--username",
            "ops.anna",
            "--role",
            "operator",
            "--password-stdin",
        ])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(b"a-long-enough-password\n")
        .unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(stdout.contains("Created user ops.anna with role operator."));
    assert!(!stdout.contains("a-long-enough-password"));

    let mut dup = flightdeck(&url)
        .args([
            "user",
            "add",
            "--username",
            "ops.anna",
            "--role",
            "viewer",
            "--password-stdin",
        ])
        .stdin(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    dup.stdin
        .take()
        .unwrap()
        .write_all(b"a-long-enough-password\n")
        .unwrap();
    let dup = dup.wait_with_output().unwrap();
    assert!(!dup.status.success());
    assert!(String::from_utf8_lossy(&dup.stderr).contains("already exists"));

    let out = flightdeck(&url)
        .args([
            "token",
            "create",
            "--name",
            "deploy-bot",
            "--role",
            "operator",
        ])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let token = String::from_utf8_lossy(&out.stdout).trim().to_string();
    assert!(
        token.starts_with("fdt_") && token.len() == 44,
        "stdout is exactly the token: {token}"
    );
    assert!(!String::from_utf8_lossy(&out.stderr).contains(&token[4..]));

    let bad_role = flightdeck(&url)
        .args(["token", "create", "--name", "x-bot", "--role", "root"])
        .output()
        .unwrap();
    assert!(!bad_role.status.success());
    assert!(String::from_utf8_lossy(&bad_role.stderr).contains("unknown role"));
}

#[test]
fn serve_reports_every_configuration_problem_then_exits_non_zero() {
    let out = flightdeck("mysql://nope")
        .args(["serve"])
        .env("FLIGHTDECK_ADDR", "not-an-address")
        .env("FLIGHTDECK_LOG_FORMAT", "yaml")
        .env("FLIGHTDECK_ADMIN_PASSWORD", "short")
        .env("FLIGHTDECK_SITE_ROOT", "/nonexistent")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    for needle in [
        "5 problem(s)",
        "FLIGHTDECK_ADDR",
        "FLIGHTDECK_DATABASE_URL",
        "FLIGHTDECK_LOG_FORMAT",
        "FLIGHTDECK_ADMIN_PASSWORD",
        "cargo leptos build",
    ] {
        assert!(stderr.contains(needle), "missing {needle} in:\n{stderr}");
    }
    assert!(
        !stderr.contains("short"),
        "the password itself is never echoed"
    );
}
