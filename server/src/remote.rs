//! The client commands (`ps`, `deploy`, `rollback`, `history`, `logs`, `import-github-runs`,
//! `import-gitlab-pipelines`): the same binary talking to a running Flightdeck over its REST API
//! with `FLIGHTDECK_URL` and `FLIGHTDECK_TOKEN`. Errors say what to do next; deploy and rollback
//! follow the live log and exit non-zero when the deployment does not succeed.

use crate::config::{Command, RemoteArgs};
use app::time_fmt;
use serde_json::{json, Value};
use std::io::Write;
use std::process::ExitCode;
use std::time::Duration;

struct Client {
    http: reqwest::Client,
    base: String,
    token: String,
}

fn fail(message: impl std::fmt::Display) -> ExitCode {
    eprintln!("flightdeck: {message}");
    ExitCode::FAILURE
}

impl Client {
    fn new(remote: &RemoteArgs) -> Result<Client, ExitCode> {
        let token = remote.token.clone().filter(|t| !t.is_empty()).ok_or_else(|| {
            fail("set FLIGHTDECK_TOKEN to an API token (an admin creates one with `flightdeck token create --name cli --role operator`)")
        })?;
        let base = remote.url.trim_end_matches('/').to_string();
        if !(base.starts_with("http://") || base.starts_with("https://")) {
            return Err(fail(format!(
                "FLIGHTDECK_URL '{base}' must start with http:// or https://"
            )));
        }
        let http = reqwest::Client::builder()
            .connect_timeout(Duration::from_secs(5))
            .build()
            .map_err(fail)?;
        Ok(Client { http, base, token })
    }

    async fn send(&self, request: reqwest::RequestBuilder) -> Result<reqwest::Response, ExitCode> {
        let response = request
            .bearer_auth(&self.token)
            .send()
            .await
            .map_err(|e| {
                fail(format!(
                    "cannot reach Flightdeck at {}: {}. Is it running? Set FLIGHTDECK_URL to its address.",
                    self.base,
                    if e.is_connect() { "connection refused".to_string() } else { e.to_string() }
                ))
            })?;
        let status = response.status();
        if status.is_success() {
            return Ok(response);
        }
        if status == reqwest::StatusCode::UNAUTHORIZED {
            return Err(fail(
                "the server refused the token (401): check FLIGHTDECK_TOKEN",
            ));
        }
        let body: Value = response.json_or_null().await;
        let message = body
            .pointer("/error/message")
            .and_then(Value::as_str)
            .unwrap_or("no details given");
        Err(fail(format!("{message} (HTTP {})", status.as_u16())))
    }

    async fn get(&self, path: &str) -> Result<Value, ExitCode> {
        let response = self
            .send(self.http.get(format!("{}/api/v1{path}", self.base)))
            .await?;
        Ok(response.json_or_null().await)
    }

    async fn post(&self, path: &str, body: Value) -> Result<Value, ExitCode> {
        let request = self
            .http
            .post(format!("{}/api/v1{path}", self.base))
            .header("content-type", "application/json")
            .body(body.to_string());
        Ok(self.send(request).await?.json_or_null().await)
    }

    /// Prints the log from line `after` as it is written; returns the deployment when it ends.
    async fn follow(&self, id: i64) -> Result<Value, ExitCode> {
        let url = format!("{}/api/v1/deployments/{id}/logs?follow=1", self.base);
        let mut response = self.send(self.http.get(url)).await?;
        let mut buffer = String::new();
        loop {
            let chunk = response.chunk().await.map_err(|e| {
                fail(format!(
                    "the log stream broke off: {e}; `flightdeck logs {id}` shows the rest"
                ))
            })?;
            let Some(chunk) = chunk else { break };
            buffer.push_str(&String::from_utf8_lossy(&chunk));
            while let Some(end) = buffer.find("\n\n") {
                let event: String = buffer.drain(..end + 2).collect();
                let kind = event
                    .lines()
                    .find_map(|l| l.strip_prefix("event: "))
                    .unwrap_or("");
                let data: Value = event
                    .lines()
                    .find_map(|l| l.strip_prefix("data: "))
                    .and_then(|d| serde_json::from_str(d).ok())
                    .unwrap_or(Value::Null);
                match kind {
                    "line" => print_line(&data),
                    "end" => return Ok(data),
                    _ => {}
                }
            }
        }
        self.get(&format!("/deployments/{id}")).await
    }
}

trait JsonOrNull {
    async fn json_or_null(self) -> Value;
}

impl JsonOrNull for reqwest::Response {
    async fn json_or_null(self) -> Value {
        let bytes = self.bytes().await.unwrap_or_default();
        serde_json::from_slice(&bytes).unwrap_or(Value::Null)
    }
}

fn text(v: &Value, key: &str) -> String {
    match &v[key] {
        Value::String(s) => s.clone(),
        Value::Null => "-".into(),
        other => other.to_string(),
    }
}

fn print_line(line: &Value) {
    let marker = match line["stream"].as_str() {
        Some("stderr") => "!",
        Some("flightdeck") => "»",
        _ => "|",
    };
    println!("  {marker} {}", line["text"].as_str().unwrap_or(""));
    let _ = std::io::stdout().flush();
}

/// Left-aligned columns, as wide as their widest cell.
fn table(header: &[&str], rows: Vec<Vec<String>>) {
    let mut widths: Vec<usize> = header.iter().map(|h| h.len()).collect();
    for row in &rows {
        for (w, cell) in widths.iter_mut().zip(row) {
            *w = (*w).max(cell.chars().count());
        }
    }
    let print = |cells: Vec<String>| {
        let line: Vec<String> = cells
            .iter()
            .zip(&widths)
            .map(|(c, w)| format!("{c:<w$}"))
            .collect();
        println!("{}", line.join("  ").trim_end());
    };
    print(header.iter().map(|h| h.to_string()).collect());
    for row in rows {
        print(row);
    }
}

fn age(v: &Value) -> String {
    v.as_i64()
        .map(|ms| time_fmt::relative(ms, crate::now_ms()))
        .unwrap_or_else(|| "-".into())
}

/// Reports how the deployment ended; success only if it succeeded.
fn outcome(d: &Value) -> Result<(), ExitCode> {
    let took = match (d["started_at"].as_i64(), d["finished_at"].as_i64()) {
        (Some(s), Some(f)) => format!(" in {}", time_fmt::duration(f - s)),
        _ => String::new(),
    };
    let id = text(d, "id");
    match d["status"].as_str() {
        Some("succeeded") => {
            println!(
                "✔ #{id} {} {} to {} succeeded{took}",
                text(d, "service"),
                text(d, "version"),
                text(d, "environment")
            );
            Ok(())
        }
        other => {
            eprintln!(
                "✘ #{id} {}: {}",
                other.unwrap_or("unknown"),
                text(d, "error")
            );
            Err(ExitCode::FAILURE)
        }
    }
}

async fn wait_for(client: &Client, accepted: &Value, no_wait: bool) -> Result<(), ExitCode> {
    let id = accepted["id"].as_i64().unwrap_or(0);
    if no_wait {
        return Ok(());
    }
    println!("Following #{id} (Ctrl-C stops following; the deployment carries on)…");
    let done = client.follow(id).await?;
    outcome(&done)
}

fn count(n: usize) -> String {
    app::builds::thousands(n as i64)
}

/// Builds per import request: well inside its 100,000 builds and 64 MiB.
const IMPORT_CHUNK: usize = 5_000;

/// Reads one JSON document of a CI's API listing into the builds it describes.
type ReadListed<'a> = &'a dyn Fn(&Value, &mut Vec<Value>) -> Result<(), String>;

/// What one CI's API lists, read from standard input and stored as builds.
struct Import<'a> {
    /// What its items are called: "GitHub runs".
    items: &'a str,
    /// What to pipe in when nothing was.
    pipe: &'a str,
    read: ReadListed<'a>,
}

/// Reads every JSON document on standard input (pages as `gh` or `glab api --paginate` print
/// them) into builds, then sends them to `POST /builds/import` in chunks.
async fn import_listed(client: &Client, import: Import<'_>) -> Result<(), ExitCode> {
    let mut input = String::new();
    std::io::Read::read_to_string(&mut std::io::stdin(), &mut input)
        .map_err(|e| fail(format!("cannot read standard input: {e}")))?;
    let mut builds = Vec::new();
    let mut documents = 0;
    for doc in serde_json::Deserializer::from_str(&input).into_iter::<Value>() {
        let doc = doc.map_err(|e| fail(format!("standard input is not JSON: {e}")))?;
        (import.read)(&doc, &mut builds).map_err(fail)?;
        documents += 1;
    }
    if documents == 0 {
        return Err(fail(format!(
            "nothing on standard input: pipe in `{}`",
            import.pipe
        )));
    }
    let (mut stored, mut created, mut updated) = (0, 0, 0);
    for (n, chunk) in builds.chunks(IMPORT_CHUNK).enumerate() {
        let done = n * IMPORT_CHUNK;
        let answer = client
            .post("/builds/import", Value::Array(chunk.to_vec()))
            .await
            .inspect_err(|_| {
                eprintln!(
                    "flightdeck: {} {} to {} were not imported (the first {done} were)",
                    import.items,
                    done + 1,
                    done + chunk.len()
                )
            })?;
        stored += answer["stored"].as_u64().unwrap_or(0);
        created += answer["created"].as_u64().unwrap_or(0);
        updated += answer["updated"].as_u64().unwrap_or(0);
        if builds.len() > IMPORT_CHUNK {
            eprintln!(
                "{} of {} {} imported",
                count(done + chunk.len()),
                count(builds.len()),
                import.items
            );
        }
    }
    println!(
        "Imported {} {}: {} new builds, {} updated.",
        count(stored as usize),
        import.items,
        count(created as usize),
        count(updated as usize)
    );
    Ok(())
}

pub async fn run(command: Command) -> Result<(), ExitCode> {
    match command {
        Command::ImportGithubRuns { remote } => {
            let import = Import {
                items: "GitHub runs",
                pipe: "gh api --paginate \"repos/OWNER/REPO/actions/runs?per_page=100\"",
                read: &crate::builds::ci::from_github_api,
            };
            import_listed(&Client::new(&remote)?, import).await
        }
        Command::ImportGitlabPipelines { project, remote } => {
            // The hook names a project by its path; a numeric id would name other pipelines.
            let path = project.trim().trim_matches('/');
            if !path.contains('/') {
                return Err(fail(format!(
                    "--project '{project}' must be the project's path, GROUP/NAME (its hook's path_with_namespace), not its id"
                )));
            }
            let import = Import {
                items: "GitLab pipelines",
                pipe: "glab api --paginate \"projects/ID/pipelines?per_page=100\"",
                read: &|doc, builds| crate::builds::ci::from_gitlab_api(doc, path, builds),
            };
            import_listed(&Client::new(&remote)?, import).await
        }
        Command::Ps(remote) => {
            let client = Client::new(&remote)?;
            let cells = client.get("/status").await?;
            let rows = cells
                .as_array()
                .into_iter()
                .flatten()
                .map(|c| {
                    vec![
                        text(c, "service"),
                        text(c, "environment"),
                        text(c, "version"),
                        if c["configured"] == false && c["status"].is_null() {
                            "no deployer".into()
                        } else {
                            text(c, "status")
                        },
                        age(&c["deployed_at"]),
                        c["deployment_id"]
                            .as_i64()
                            .map(|id| format!("#{id}"))
                            .unwrap_or_else(|| "-".into()),
                    ]
                })
                .collect();
            table(
                &[
                    "SERVICE",
                    "ENVIRONMENT",
                    "VERSION",
                    "STATUS",
                    "AGE",
                    "DEPLOYMENT",
                ],
                rows,
            );
            Ok(())
        }
        Command::Deploy {
            service,
            environment,
            version,
            reason,
            artifact,
            git_sha,
            queue,
            confirm,
            no_wait,
            remote,
        } => {
            let client = Client::new(&remote)?;
            let body = json!({
                "service": service, "environment": environment, "version": version,
                "reason": reason, "artifact": artifact, "git_sha": git_sha, "queue": queue,
                "confirm": confirm,
            });
            let accepted = client.post("/deployments", body).await?;
            println!(
                "Deployment #{} queued: {service} {version} to {environment}",
                text(&accepted, "id")
            );
            wait_for(&client, &accepted, no_wait).await
        }
        Command::Rollback {
            service,
            environment,
            to_version,
            reason,
            confirm,
            no_wait,
            remote,
        } => {
            let client = Client::new(&remote)?;
            let body = json!({ "service": service, "environment": environment, "to_version": to_version, "reason": reason, "confirm": confirm });
            let accepted = client.post("/rollbacks", body).await?;
            println!(
                "Rollback #{} queued: {service} in {environment} goes back to {}",
                text(&accepted, "id"),
                text(&accepted, "target_version")
            );
            wait_for(&client, &accepted, no_wait).await
        }
        Command::History {
            service,
            environment,
            limit,
            remote,
        } => {
            let client = Client::new(&remote)?;
            let mut path = format!("/deployments?service={service}&limit={limit}");
            if let Some(env) = &environment {
                path.push_str(&format!("&environment={env}"));
            }
            let page = client.get(&path).await?;
            let rows: Vec<Vec<String>> = page["items"]
                .as_array()
                .into_iter()
                .flatten()
                .map(|d| {
                    vec![
                        format!("#{}", text(d, "id")),
                        text(d, "environment"),
                        text(d, "version"),
                        text(d, "kind"),
                        text(d, "status"),
                        text(d, "actor"),
                        age(&d["created_at"]),
                        text(d, "reason"),
                    ]
                })
                .collect();
            if rows.is_empty() {
                println!("No deployments of {service} yet.");
            } else {
                table(
                    &[
                        "ID",
                        "ENVIRONMENT",
                        "VERSION",
                        "KIND",
                        "STATUS",
                        "BY",
                        "WHEN",
                        "REASON",
                    ],
                    rows,
                );
            }
            Ok(())
        }
        Command::Logs { id, follow, remote } => {
            let client = Client::new(&remote)?;
            if follow {
                let done = client.follow(id).await?;
                return outcome(&done);
            }
            let mut after = 0;
            loop {
                let lines = client
                    .get(&format!("/deployments/{id}/logs?after={after}&limit=1000"))
                    .await?;
                let lines = lines.as_array().cloned().unwrap_or_default();
                for line in &lines {
                    print_line(line);
                    after = line["n"].as_i64().unwrap_or(after);
                }
                if lines.len() < 1000 {
                    return Ok(());
                }
            }
        }
        Command::Serve(_) | Command::User(_) | Command::Token(_) => {
            Err(fail("not a client command"))
        }
    }
}
