//! Clients of a running `flightdeck serve` for the fault tests: its websocket, deployments
//! through the REST API, and the GitHub and Alertmanager deliveries a CI and a monitoring system
//! send.

use super::process::Server;
use futures_util::{SinkExt, StreamExt};
use serde_json::{json, Value};
use std::io::{Read, Write};
use std::time::Duration;
use tokio_tungstenite::tungstenite::{client::IntoClientRequest, Message};

pub type Socket =
    tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

pub async fn websocket(server: &Server, token: &str, since: Option<i64>) -> Socket {
    let mut request = format!("ws://127.0.0.1:{}/ws", server.port)
        .into_client_request()
        .unwrap();
    request
        .headers_mut()
        .insert("authorization", format!("Bearer {token}").parse().unwrap());
    let (mut socket, _) = tokio_tungstenite::connect_async(request).await.unwrap();
    let subscribe = json!({"type": "subscribe", "topics": ["*"], "since": since});
    socket
        .send(Message::Text(subscribe.to_string().into()))
        .await
        .unwrap();
    socket
}

/// The next message: a JSON event, or the close code.
pub async fn next_message(socket: &mut Socket) -> Result<Value, u16> {
    loop {
        let message = tokio::time::timeout(Duration::from_secs(15), socket.next())
            .await
            .expect("a message within 15 s");
        match message {
            Some(Ok(Message::Text(text))) => return Ok(serde_json::from_str(&text).unwrap()),
            Some(Ok(Message::Close(frame))) => return Err(frame.map_or(0, |f| f.code.into())),
            Some(Ok(_)) => continue,
            None | Some(Err(_)) => return Err(0),
        }
    }
}

/// A service with a `command` target in `staging`.
pub async fn command_target(server: &Server, admin: &str, service: &str, command: &str) {
    server
        .must(
            "POST",
            "/api/v1/services",
            admin,
            Some(json!({"name": service})),
        )
        .await;
    let target = server
        .must(
            "PUT",
            &format!("/api/v1/services/{service}/targets/staging"),
            admin,
            Some(json!({"deployer": "command", "command": command})),
        )
        .await;
    assert_eq!(target.status, 200, "{}", target.body);
}

pub async fn deploy(server: &Server, admin: &str, service: &str, version: &str) -> i64 {
    let accepted = server
        .must(
            "POST",
            "/api/v1/deployments",
            admin,
            Some(json!({"service": service, "environment": "staging", "version": version})),
        )
        .await;
    assert_eq!(accepted.status, 202, "{}", accepted.body);
    accepted.json()["id"].as_i64().unwrap()
}

pub async fn deployment(server: &Server, admin: &str, id: i64) -> Value {
    server
        .must("GET", &format!("/api/v1/deployments/{id}"), admin, None)
        .await
        .json()
}

/// Follows a deployment's log (`text/event-stream`) on a thread; joins to the whole stream.
pub fn follow_log(port: u16, token: &str, id: i64) -> std::thread::JoinHandle<String> {
    let token = token.to_string();
    std::thread::spawn(move || {
        let mut stream = std::net::TcpStream::connect(("127.0.0.1", port)).unwrap();
        write!(
            stream,
            "GET /api/v1/deployments/{id}/logs?follow=1 HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {token}\r\n\r\n"
        )
        .unwrap();
        stream
            .set_read_timeout(Some(Duration::from_secs(60)))
            .unwrap();
        let mut text = String::new();
        let _ = stream.read_to_string(&mut text);
        text
    })
}

pub async fn staging(server: &Server, admin: &str) {
    let created = server
        .must(
            "POST",
            "/api/v1/environments",
            admin,
            Some(json!({"name": "staging", "rank": 10})),
        )
        .await;
    assert_eq!(created.status, 201, "{}", created.body);
}

pub const GITHUB_SECRET: &str = "github-secret-of-the-fault-tests";

fn workflow_run(run: u64) -> Vec<u8> {
    json!({
        "action": "completed",
        "workflow": {"name": "CI"}, "repository": {"name": "shop", "full_name": "acme/shop"},
        "workflow_run": {"id": run, "name": "CI", "head_branch": "main",
            "head_sha": "acb5820ced9479c074f688cc328bf03f341a511d", "event": "push",
            "status": "completed", "conclusion": "success", "created_at": "2026-11-30T14:05:00Z",
            "run_started_at": "2026-11-30T14:05:02Z", "updated_at": "2026-11-30T14:11:00Z",
            "html_url": format!("https://github.com/acme/shop/actions/runs/{run}"),
            "head_commit": {"message": "Fix cart", "author": {"name": "Maria"}}}
    })
    .to_string()
    .into_bytes()
}

fn alertmanager(job: &str) -> Vec<u8> {
    json!({
        "version": "4", "groupKey": format!("{{}}:{{job=\"{job}\"}}"), "truncatedAlerts": 0,
        "status": "firing", "receiver": "flightdeck", "groupLabels": {}, "commonLabels": {},
        "commonAnnotations": {}, "externalURL": "http://alertmanager:9093",
        "alerts": [{"status": "firing",
            "labels": {"alertname": "HighLatency", "job": job, "severity": "critical"},
            "annotations": {"summary": "p99 over 1s"}, "startsAt": "2026-11-22T03:00:00Z",
            "endsAt": "0001-01-01T00:00:00Z", "generatorURL": "http://prometheus:9090/graph"}]
    })
    .to_string()
    .into_bytes()
}

/// One delivery of the burst: a GitHub run (by its id) or an Alertmanager alert (by its job).
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
pub enum Delivery {
    Run(u64),
    Alert(u64),
}

impl Delivery {
    /// Sends it; whether the server acknowledged it (2xx).
    pub async fn send(self, http: &reqwest::Client, base: &str, alerts_token: &str) -> bool {
        matches!(self.status(http, base, alerts_token).await, Some(200..=299))
    }

    /// Sends it; the status of the answer, if one came.
    pub async fn status(
        self,
        http: &reqwest::Client,
        base: &str,
        alerts_token: &str,
    ) -> Option<u16> {
        let request = match self {
            Delivery::Run(run) => {
                let body = workflow_run(run);
                let signature = format!(
                    "sha256={}",
                    flightdeck::webhooks::sign(GITHUB_SECRET, &body)
                );
                http.post(format!("{base}/api/v1/webhooks/github"))
                    .header("x-github-event", "workflow_run")
                    .header("x-github-delivery", format!("delivery-{run}"))
                    .header("x-hub-signature-256", signature)
                    .body(body)
            }
            Delivery::Alert(n) => http
                .post(format!("{base}/api/v1/webhooks/alertmanager"))
                .bearer_auth(alerts_token)
                .header("content-type", "application/json")
                .body(alertmanager(&format!("job-{n}"))),
        };
        request.send().await.ok().map(|r| r.status().as_u16())
    }
}
