//! The deployers: how a deployment actually happens. Each returns `Ok` for success or the reason
//! it failed, in words for the person reading the deployment page.

use super::logs::{LogSender, Stream};
use super::Deployments;
use app::deploy::{DeployerKind, Deployment, TargetSettings};
use sqlx::Row;
use std::process::Stdio;
use std::time::Duration;
use tokio::io::{AsyncBufReadExt, AsyncRead, BufReader};

pub async fn run(
    engine: &Deployments,
    settings: &TargetSettings,
    deployment: &Deployment,
    log: &LogSender,
) -> Result<(), String> {
    match settings.deployer {
        DeployerKind::Command => {
            let command = settings
                .command
                .as_deref()
                .ok_or("The target has no command configured.")?;
            run_command(command, deployment, log).await
        }
        DeployerKind::Simulated => simulate(deployment, log).await,
        DeployerKind::Webhook => {
            let url = settings
                .url
                .as_deref()
                .ok_or("The target has no URL configured.")?;
            call_webhook(engine, url, deployment, log).await
        }
    }
}

/// Kills the command's whole process group when the deployment stops waiting for it (success,
/// timeout, cancel, or Flightdeck shutting down), so no half-finished deploy script lingers.
struct ProcessGroup(Option<u32>);

impl Drop for ProcessGroup {
    fn drop(&mut self) {
        if let Some(pid) = self.0.and_then(|p| i32::try_from(p).ok()) {
            // SAFETY: kill(2) with a negative pid signals the group the child leads; no memory
            // is involved. The group may already be gone, which is fine.
            unsafe {
                libc::kill(-pid, libc::SIGKILL);
            }
        }
    }
}

async fn run_command(command: &str, d: &Deployment, log: &LogSender) -> Result<(), String> {
    let mut cmd = tokio::process::Command::new("/bin/sh");
    cmd.arg("-c").arg(command);
    // Flightdeck's own settings (database URL, admin password, webhook secrets) are not the
    // command's business.
    for (key, _) in std::env::vars_os() {
        if key.to_string_lossy().starts_with("FLIGHTDECK_") {
            cmd.env_remove(key);
        }
    }
    cmd.env("FLIGHTDECK_SERVICE", &d.service)
        .env("FLIGHTDECK_ENVIRONMENT", &d.environment)
        .env("FLIGHTDECK_VERSION", &d.version)
        .env("FLIGHTDECK_ARTIFACT", d.artifact.as_deref().unwrap_or(""))
        .env("FLIGHTDECK_GIT_SHA", d.git_sha.as_deref().unwrap_or(""))
        .env("FLIGHTDECK_DEPLOYMENT_ID", d.id.to_string())
        .env("FLIGHTDECK_KIND", d.kind.as_str())
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true)
        .process_group(0);
    let mut child = cmd
        .spawn()
        .map_err(|e| format!("The command could not be started: {e}"))?;
    let _group = ProcessGroup(child.id());
    let scrub = Scrub::of(d.artifact.as_deref());
    let stdout = child
        .stdout
        .take()
        .map(|s| forward(s, Stream::Stdout, log.clone(), scrub.clone()));
    let stderr = child
        .stderr
        .take()
        .map(|s| forward(s, Stream::Stderr, log.clone(), scrub));
    let status = child
        .wait()
        .await
        .map_err(|e| format!("Waiting for the command failed: {e}"))?;
    // A background process the script started may keep the pipes open; read what is there
    // and stop waiting after a moment.
    for reader in [stdout, stderr].into_iter().flatten() {
        let abort = reader.abort_handle();
        if tokio::time::timeout(Duration::from_secs(2), reader)
            .await
            .is_err()
        {
            abort.abort();
        }
    }
    if status.success() {
        return Ok(());
    }
    Err(match status.code() {
        Some(code) => format!("The command exited with status {code}."),
        None => {
            use std::os::unix::process::ExitStatusExt;
            format!(
                "The command was killed by signal {}.",
                status.signal().unwrap_or(0)
            )
        }
    })
}

/// The artifact's credentials, kept out of the log: a script that echoes `$FLIGHTDECK_ARTIFACT`
/// would otherwise show every viewer the registry token in it.
#[derive(Clone)]
struct Scrub(Option<(String, String)>);

impl Scrub {
    fn of(artifact: Option<&str>) -> Scrub {
        Scrub(artifact.and_then(|raw| {
            let shown = app::redact::without_credentials(raw);
            (shown != raw).then(|| (raw.to_string(), shown))
        }))
    }

    fn line(&self, text: String) -> String {
        match &self.0 {
            Some((raw, shown)) if text.contains(raw.as_str()) => text.replace(raw.as_str(), shown),
            _ => text,
        }
    }
}

fn forward(
    pipe: impl AsyncRead + Unpin + Send + 'static,
    stream: Stream,
    log: LogSender,
    scrub: Scrub,
) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        let mut lines = BufReader::new(pipe).split(b'\n');
        while let Ok(Some(line)) = lines.next_segment().await {
            let text = scrub.line(
                String::from_utf8_lossy(&line)
                    .trim_end_matches('\r')
                    .to_string(),
            );
            if log.send((stream, text)).await.is_err() {
                break;
            }
        }
    })
}

/// POSTs the deployment, signed, to the CI/CD system, then waits (within the target's time limit,
/// enforced by the runner) for that system to report the outcome through an inbound webhook.
async fn call_webhook(
    engine: &Deployments,
    url: &str,
    d: &Deployment,
    log: &LogSender,
) -> Result<(), String> {
    let secret = engine
        .signing_secret
        .as_deref()
        .ok_or("FLIGHTDECK_DEPLOYER_WEBHOOK_SECRET is not set, so the request cannot be signed.")?;
    let body = serde_json::to_vec(&serde_json::json!({
        "deployment_id": d.id,
        "service": d.service,
        "environment": d.environment,
        "version": d.version,
        "artifact": d.artifact,
        "git_sha": d.git_sha,
        "kind": d.kind,
        "reason": d.reason,
        "report_to": "POST /api/v1/webhooks/{github|gitlab|cdevents}; GitHub deployment payloads may carry flightdeck_deployment_id",
    }))
    .map_err(|e| format!("The request could not be built: {e}"))?;
    let signature = format!("sha256={}", crate::webhooks::sign(secret, &body));
    // The log and the error are read by viewers: the URL may carry a token.
    let shown = app::redact::mask_url(url);
    let _ = log
        .send((Stream::Flightdeck, format!("Calling {shown}")))
        .await;
    let response = engine
        .http
        .post(url)
        .header("content-type", "application/json")
        .header("x-flightdeck-signature-256", signature)
        .header("x-flightdeck-deployment", d.id.to_string())
        .timeout(Duration::from_secs(30))
        .body(body)
        .send()
        .await
        .map_err(|e| {
            format!(
                "{shown} could not be reached: {}",
                if e.is_timeout() {
                    "no answer within 30 s".to_string()
                } else {
                    e.without_url().to_string()
                }
            )
        })?;
    let status = response.status();
    if !status.is_success() {
        return Err(format!(
            "{shown} answered HTTP {}; nothing was started there.",
            status.as_u16()
        ));
    }
    let _ = log
        .send((
            Stream::Flightdeck,
            format!(
                "{shown} accepted it (HTTP {}); waiting for its status webhook.",
                status.as_u16()
            ),
        ))
        .await;
    loop {
        tokio::time::sleep(Duration::from_millis(500)).await;
        let reported: Option<String> =
            sqlx::query("SELECT external_status FROM deployments WHERE id = $1")
                .bind(d.id)
                .fetch_one(&engine.pool)
                .await
                .and_then(|row| row.try_get(0))
                .map_err(|e| format!("Reading the reported status failed: {e}"))?;
        match reported.as_deref() {
            Some("succeeded") => return Ok(()),
            Some(_) => return Err("The CI/CD system reported that the deployment failed.".into()),
            None => {}
        }
    }
}

/// The demo deployer: a believable rollout that takes about two seconds. Versions containing
/// "fail" or "bad" fail their readiness checks, so a demo can show a failure and a rollback.
async fn simulate(d: &Deployment, log: &LogSender) -> Result<(), String> {
    let artifact = d.artifact.as_deref().map_or_else(
        || format!("registry.local/{}:{}", d.service, d.version),
        app::redact::without_credentials,
    );
    let doomed = d.version.contains("fail") || d.version.contains("bad");
    let mut steps = vec![
        format!("Pulling {artifact}"),
        format!(
            "Starting 3 new instances of {} {} in {}",
            d.service, d.version, d.environment
        ),
        "Instance 1/3 ready".to_string(),
    ];
    if doomed {
        steps.push("Instance 2/3 failed its readiness check: HTTP 503 from /healthz".into());
    } else {
        steps.push("Instance 2/3 ready".into());
        steps.push("Instance 3/3 ready; draining the old instances".into());
    }
    for step in steps {
        tokio::time::sleep(Duration::from_millis(400)).await;
        let _ = log.send((Stream::Stdout, step)).await;
    }
    if doomed {
        Err("1 of 3 new instances failed its readiness check.".into())
    } else {
        Ok(())
    }
}
