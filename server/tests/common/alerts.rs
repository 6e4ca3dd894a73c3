//! Fixtures of the alert tests: Alertmanager webhook payloads, the feed, a local HTTP receiver
//! for notifications, and a two-step escalation policy.

use super::{Auth, TestApp, TestResponse};
use axum::http::StatusCode;
use serde_json::{json, Value};
use sqlx::Row;
use std::sync::{Arc, Mutex};

pub fn webhook(status: &str, alerts: Vec<Value>) -> Vec<u8> {
    json!({
        "version": "4", "groupKey": "{}:{alertname=\"HighLatency\"}", "truncatedAlerts": 0,
        "status": status, "receiver": "flightdeck", "groupLabels": {}, "commonLabels": {},
        "commonAnnotations": {}, "externalURL": "http://alertmanager:9093", "alerts": alerts
    })
    .to_string()
    .into_bytes()
}

pub fn alert(status: &str, job: &str, severity: &str) -> Value {
    json!({
        "status": status,
        "labels": {"alertname": "HighLatency", "job": job, "severity": severity},
        "annotations": {"summary": format!("{job} p99 latency over 1s")},
        "startsAt": "2026-11-22T03:00:00Z", "endsAt": "0001-01-01T00:00:00Z",
        "generatorURL": "http://prometheus:9090/graph", "fingerprint": "ignored"
    })
}

pub async fn count(app: &TestApp, table: &str) -> i64 {
    sqlx::query(&format!("SELECT COUNT(*) FROM {table}"))
        .fetch_one(&app.state.db.pool)
        .await
        .unwrap()
        .get(0)
}

pub async fn feed(app: &TestApp, auth: &Auth, query: &str) -> Vec<Value> {
    let page = app.get(&format!("/api/v1/alerts{query}"), auth).await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.body);
    page.json()["alerts"].as_array().unwrap().clone()
}

pub async fn send_webhook(app: &TestApp, auth: &Auth, body: Vec<u8>) -> TestResponse {
    app.post_raw("/api/v1/webhooks/alertmanager", auth, &[], body)
        .await
}

/// Fires one critical alert per job through Alertmanager's webhook; returns their ids, in order.
pub async fn fire(app: &TestApp, auth: &Auth, jobs: &[&str]) -> Vec<i64> {
    let alerts = jobs
        .iter()
        .map(|job| alert("firing", job, "critical"))
        .collect();
    let sent = send_webhook(app, auth, webhook("firing", alerts)).await;
    assert_eq!(sent.status, StatusCode::OK, "{}", sent.body);
    let feed = feed(app, auth, "").await;
    jobs.iter()
        .map(|job| {
            let alert = feed.iter().find(|a| a["labels"]["job"] == *job).unwrap();
            alert["id"].as_i64().unwrap()
        })
        .collect()
}

/// A local HTTP receiver: answers 500 to the first `failures` requests, then 200, and keeps the
/// JSON bodies it accepted.
pub struct Receiver {
    pub url: String,
    bodies: Arc<Mutex<Vec<Value>>>,
    hits: Arc<Mutex<u32>>,
}

impl Receiver {
    pub async fn start(failures: u32) -> Receiver {
        let bodies = Arc::new(Mutex::new(Vec::new()));
        let hits = Arc::new(Mutex::new(0u32));
        let (b, h) = (bodies.clone(), hits.clone());
        let app = axum::Router::new().route(
            "/hook/{secret}",
            axum::routing::post(move |axum::Json(body): axum::Json<Value>| {
                let (b, h) = (b.clone(), h.clone());
                async move {
                    let mut hits = h.lock().unwrap();
                    *hits += 1;
                    if *hits <= failures {
                        return StatusCode::INTERNAL_SERVER_ERROR;
                    }
                    b.lock().unwrap().push(body);
                    StatusCode::OK
                }
            }),
        );
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
        Receiver {
            url: format!("http://{addr}/hook/s3cr3t-token"),
            bodies,
            hits,
        }
    }

    pub fn texts(&self) -> Vec<String> {
        self.bodies
            .lock()
            .unwrap()
            .iter()
            .map(|b| b["text"].as_str().unwrap_or("").to_string())
            .collect()
    }

    pub fn hits(&self) -> u32 {
        *self.hits.lock().unwrap()
    }
}

/// Two channels on one receiver and a policy: first step after `first_s`, second `second_s` later.
pub async fn setup_policy(app: &TestApp, admin: &Auth, url: &str, first_s: u32, second_s: u32) {
    for name in ["primary", "secondary"] {
        let created = app
            .post_json(
                "/api/v1/channels",
                admin,
                json!({"name": name, "kind": "slack", "target": url}),
            )
            .await;
        assert_eq!(created.status, StatusCode::CREATED, "{}", created.body);
        assert!(
            !created.body.contains("s3cr3t"),
            "a channel URL is shown masked: {}",
            created.body
        );
    }
    let policy = app
        .post_json(
            "/api/v1/escalation-policies",
            admin,
            json!({"name": "default", "steps": [{"delay_s": first_s, "channel": "primary"}, {"delay_s": second_s, "channel": "secondary"}]}),
        )
        .await;
    assert_eq!(policy.status, StatusCode::CREATED, "{}", policy.body);
}

/// An alert's status and escalation level, straight from the database.
pub async fn status_of(app: &TestApp, id: i64) -> (String, i64) {
    let row = sqlx::query("SELECT status, escalation_level FROM alerts WHERE id = $1")
        .bind(id)
        .fetch_one(&app.state.db.pool)
        .await
        .unwrap();
    (row.get("status"), row.get("escalation_level"))
}
