//! `flightdeck serve` as a real process, for the tests that kill, stop or run it twice: spawn it,
//! talk HTTP to it, signal it.

use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// The binary with a clean environment pointed at `db_url`.
pub fn flightdeck(db_url: &str) -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_flightdeck"));
    cmd.env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("FLIGHTDECK_DATABASE_URL", db_url);
    cmd
}

/// An empty built site: `serve` checks that the bundle exists, the API needs nothing else.
pub fn empty_site(dir: &Path) -> PathBuf {
    let site = dir.join("site");
    std::fs::create_dir_all(site.join("pkg")).unwrap();
    std::fs::write(site.join("pkg/flightdeck.wasm"), b"").unwrap();
    site
}

pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// Creates a token with `role` through the CLI (which also migrates a new database).
pub fn token(db_url: &str, name: &str, role: &str) -> String {
    token_with(db_url, name, &["--role", role])
}

/// Creates a token through the CLI with `limits` (`--role R`, `--scope S`, ...).
pub fn token_with(db_url: &str, name: &str, limits: &[&str]) -> String {
    let out = flightdeck(db_url)
        .args(["token", "create", "--name", name])
        .args(limits)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).trim().to_string()
}

pub struct Server {
    pub child: Child,
    pub port: u16,
    pub base: String,
    http: reqwest::Client,
}

pub struct Reply {
    pub status: u16,
    pub body: String,
}

impl Reply {
    pub fn json(&self) -> Value {
        serde_json::from_str(&self.body).unwrap_or_else(|e| panic!("not JSON ({e}): {}", self.body))
    }
    pub fn ok(&self) -> bool {
        (200..300).contains(&self.status)
    }
}

impl Server {
    /// Starts `serve` on a free port with `env` on top of the defaults, and waits until its
    /// health check answers 200.
    pub async fn start(db_url: &str, site: &Path, env: &[(&str, &str)]) -> Server {
        Self::start_on(db_url, site, free_port(), env).await
    }

    pub async fn start_on(db_url: &str, site: &Path, port: u16, env: &[(&str, &str)]) -> Server {
        let mut cmd = flightdeck(db_url);
        cmd.args(["serve"])
            .env("FLIGHTDECK_ADDR", format!("127.0.0.1:{port}"))
            .env("FLIGHTDECK_SITE_ROOT", site)
            .env("FLIGHTDECK_ADMIN_PASSWORD", "fault-test-admin-password")
            .env("FLIGHTDECK_LOG_FORMAT", "json")
            .stdout(Stdio::null())
            .stderr(Stdio::null());
        for (name, value) in env {
            cmd.env(name, value);
        }
        let server = Server {
            child: cmd.spawn().unwrap(),
            port,
            base: format!("http://127.0.0.1:{port}"),
            http: reqwest::Client::builder()
                .timeout(Duration::from_secs(30))
                .build()
                .unwrap(),
        };
        wait_until("the server answers its health check", || async {
            server
                .call("GET", "/api/health", "", None)
                .await
                .is_some_and(|r| r.status == 200)
        })
        .await;
        server
    }

    /// One request; `None` when nothing answered (refused, reset, or timed out).
    pub async fn call(
        &self,
        method: &str,
        path: &str,
        token: &str,
        body: Option<&Value>,
    ) -> Option<Reply> {
        let method = reqwest::Method::from_bytes(method.as_bytes()).unwrap();
        let mut request = self.http.request(method, format!("{}{path}", self.base));
        if !token.is_empty() {
            request = request.bearer_auth(token);
        }
        if let Some(body) = body {
            request = request.json(body);
        }
        let response = request.send().await.ok()?;
        let status = response.status().as_u16();
        let body = response.text().await.ok()?;
        Some(Reply { status, body })
    }

    /// [`Self::call`] that must be answered.
    pub async fn must(&self, method: &str, path: &str, token: &str, body: Option<Value>) -> Reply {
        self.call(method, path, token, body.as_ref())
            .await
            .unwrap_or_else(|| panic!("{method} {path}: no answer"))
    }

    pub fn signal(&self, name: &str) {
        let sent = Command::new("kill")
            .args([&format!("-{name}"), &self.child.id().to_string()])
            .status()
            .unwrap();
        assert!(sent.success(), "kill -{name}");
    }

    /// SIGKILL: no shutdown at all, as a crash or an OOM kill.
    pub fn kill(&mut self) {
        self.child.kill().unwrap();
        self.child.wait().unwrap();
    }

    /// Waits for the process to exit, at most `limit`; its exit status and how long it took.
    pub async fn exited_within(
        &mut self,
        limit: Duration,
    ) -> Option<(std::process::ExitStatus, Duration)> {
        let start = Instant::now();
        while start.elapsed() < limit {
            if let Some(status) = self.child.try_wait().unwrap() {
                return Some((status, start.elapsed()));
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        None
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Polls `check` every 100 ms for up to 30 s.
pub async fn wait_until<F, Fut>(what: &str, check: F)
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    wait_within(Duration::from_secs(30), what, check).await
}

/// Polls `check` every 100 ms for up to `limit`.
pub async fn wait_within<F, Fut>(limit: Duration, what: &str, mut check: F)
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    let start = Instant::now();
    while start.elapsed() < limit {
        if check().await {
            return;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("timed out waiting until {what}");
}
