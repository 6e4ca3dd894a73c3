//! The binary's admin commands and start-up validation, run as a user would run them.

mod common;
use common::process::{empty_site, flightdeck, free_port};
use std::io::Write;
use std::process::{Command, Stdio};

/// Runs the binary with `args`, writing `input` to its standard input.
fn run_with_stdin(db_url: &str, args: &[&str], input: &[u8]) -> std::process::Output {
    let mut child = flightdeck(db_url)
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child.stdin.take().unwrap().write_all(input).unwrap();
    child.wait_with_output().unwrap()
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

    // Account changes from the command line: disable, role, password.
    for (args, says) in [
        (
            vec!["user", "disable", "--username", "ops.anna"],
            "ops.anna is disabled, with role operator.",
        ),
        (
            vec![
                "user",
                "set-role",
                "--username",
                "ops.anna",
                "--role",
                "viewer",
            ],
            "ops.anna is disabled, with role viewer.",
        ),
        (
            vec!["user", "enable", "--username", "ops.anna"],
            "ops.anna is enabled, with role viewer.",
        ),
        // The name alone works too.
        (
            vec!["user", "disable", "ops.anna"],
            "ops.anna is disabled, with role viewer.",
        ),
        (
            vec!["user", "enable", "ops.anna"],
            "ops.anna is enabled, with role viewer.",
        ),
    ] {
        let out = flightdeck(&url).args(&args).output().unwrap();
        assert!(
            out.status.success(),
            "{args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        assert!(
            String::from_utf8_lossy(&out.stdout).contains(says),
            "{args:?}"
        );
    }
    let reset = run_with_stdin(
        &url,
        &[
            "user",
            "reset-password",
            "--username",
            "ops.anna",
            "--password-stdin",
        ],
        b"another-long-password\n",
    );
    assert!(
        reset.status.success(),
        "{}",
        String::from_utf8_lossy(&reset.stderr)
    );
    let missing = flightdeck(&url)
        .args(["user", "disable", "--username", "nobody"])
        .output()
        .unwrap();
    assert!(!missing.status.success());
    assert!(String::from_utf8_lossy(&missing.stderr).contains("No user named 'nobody'"));

    // A scoped token: its role follows from the scopes, and the CLI says what it is limited to.
    let scoped = flightdeck(&url)
        .args([
            "token",
            "create",
            "--name",
            "alertmanager",
            "--scope",
            "alerts:write",
        ])
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&scoped.stderr);
    assert!(scoped.status.success(), "{stderr}");
    assert!(
        stderr.contains("with role operator, limited to alerts:write"),
        "{stderr}"
    );
    let bad_scope = flightdeck(&url)
        .args([
            "token",
            "create",
            "--name",
            "y-bot",
            "--scope",
            "everything",
        ])
        .output()
        .unwrap();
    assert!(!bad_scope.status.success());
    assert!(String::from_utf8_lossy(&bad_scope.stderr).contains("unknown scope"));
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

#[test]
fn serve_starts_answers_health_and_stops_cleanly_on_sigterm() {
    use std::io::{BufRead, BufReader, Read};
    let dir = tempfile::tempdir().unwrap();
    let site = empty_site(dir.path());
    let port = free_port();
    let mut child = flightdeck(&format!("sqlite://{}/serve.db", dir.path().display()))
        .args(["serve"])
        .env("FLIGHTDECK_ADDR", format!("127.0.0.1:{port}"))
        .env("FLIGHTDECK_SITE_ROOT", &site)
        .env("FLIGHTDECK_LOG_FORMAT", "json")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // The first start creates `admin` and prints its password once, to stderr only.
    let mut stderr = BufReader::new(child.stderr.take().unwrap());
    let mut banner = String::new();
    while !banner.contains("Store it now") {
        let mut line = String::new();
        assert!(
            stderr.read_line(&mut line).unwrap() > 0,
            "stderr closed early: {banner}"
        );
        banner.push_str(&line);
    }
    let password = banner
        .lines()
        .find_map(|l| l.trim().strip_prefix("password: "))
        .unwrap()
        .to_string();
    assert_eq!(password.len(), 20);

    let mut healthy = false;
    for _ in 0..100 {
        if let Ok(mut s) = std::net::TcpStream::connect(("127.0.0.1", port)) {
            s.write_all(b"GET /api/health HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
                .unwrap();
            let mut reply = String::new();
            let _ = s.read_to_string(&mut reply);
            if reply.starts_with("HTTP/1.1 200") && reply.contains("\"status\":\"ok\"") {
                healthy = true;
                break;
            }
        }
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
    assert!(healthy, "server never became healthy");

    let killed = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(killed.success());
    let status = child.wait().unwrap();
    assert!(
        status.success(),
        "graceful shutdown exits 0, got {status:?}"
    );
    let mut logs = String::new();
    child
        .stdout
        .take()
        .unwrap()
        .read_to_string(&mut logs)
        .unwrap();
    assert!(
        logs.contains("\"message\":\"stopped\""),
        "JSON logs end with 'stopped': {logs}"
    );
    assert!(
        !logs.contains(&password),
        "the admin password never reaches the log"
    );
}
