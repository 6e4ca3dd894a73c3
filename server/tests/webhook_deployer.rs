//! The webhook deployer, on both databases: it signs its call to the CI system, then waits for
//! that system's status webhook to say how the deployment went.

mod common;
use axum::http::StatusCode;
use common::webhooks::{deployment_status, github, setup};
use common::{TestApp, DEPLOYER_SECRET};
use serde_json::{json, Value};
use std::sync::{Arc, Mutex};

type Received = Arc<Mutex<Vec<(String, Vec<u8>)>>>;

/// The webhook deployer signs its call, then waits for the CI system's status webhook.
async fn the_webhook_deployer_waits_for_the_reported_status(app: TestApp) {
    let received: Received = Arc::default();
    let sink = received.clone();
    let ci = axum::Router::new().route(
        "/deploy",
        axum::routing::post(
            move |headers: axum::http::HeaderMap, body: axum::body::Bytes| {
                let sink = sink.clone();
                async move {
                    let signature = headers["x-flightdeck-signature-256"]
                        .to_str()
                        .unwrap()
                        .to_string();
                    sink.lock().unwrap().push((signature, body.to_vec()));
                    StatusCode::ACCEPTED
                }
            },
        ),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, ci).await.unwrap() });

    let admin = setup(&app).await;
    let res = app
        .put_json(
            "/api/v1/services/api/targets/production",
            &admin,
            json!({"deployer": "webhook", "url": format!("http://{addr}/deploy?token=s3cr3t-in-url"), "timeout_s": 30}),
        )
        .await;
    assert_eq!(res.status, StatusCode::OK, "{}", res.body);
    let id = app
        .post_json(
            "/api/v1/deployments",
            &admin,
            json!({"service": "api", "environment": "production", "version": "5.0.0"}),
        )
        .await
        .json()["id"]
        .as_i64()
        .unwrap();
    app.wait_for(&format!("/api/v1/deployments/{id}"), &admin, |d| {
        d["status"] == "running"
    })
    .await;
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    while received.lock().unwrap().is_empty() {
        assert!(
            std::time::Instant::now() < deadline,
            "the CI system was never called"
        );
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    let (signature, body) = received.lock().unwrap()[0].clone();
    assert_eq!(
        signature,
        format!(
            "sha256={}",
            flightdeck::webhooks::sign(DEPLOYER_SECRET, &body)
        )
    );
    let call: Value = serde_json::from_slice(&body).unwrap();
    assert_eq!(
        (call["deployment_id"].as_i64(), call["version"].as_str()),
        (Some(id), Some("5.0.0"))
    );
    // Viewers read the log: the token in the target's URL is not in it.
    let viewer = app.new_token("wallboard", app::model::Role::Viewer).await;
    let log = app
        .wait_for(
            &format!("/api/v1/deployments/{id}/logs"),
            &viewer,
            |lines| {
                lines.as_array().is_some_and(|l| {
                    l.iter()
                        .any(|x| x["text"].as_str().is_some_and(|t| t.starts_with("Calling")))
                })
            },
        )
        .await
        .to_string();
    assert!(
        log.contains(&format!("Calling http://{addr}/deploy?•••")),
        "{log}"
    );
    assert!(!log.contains("s3cr3t-in-url"), "{log}");

    let res = github(
        &app,
        "deployment_status",
        "w-1",
        deployment_status("failure", "5.0.0", Some(id)),
    )
    .await;
    assert_eq!(res.status, StatusCode::ACCEPTED);
    let done = app
        .wait_for(&format!("/api/v1/deployments/{id}"), &admin, |d| {
            d["status"] != "running"
        })
        .await;
    assert_eq!(done["status"], "failed");
    assert!(
        done["error"]
            .as_str()
            .unwrap()
            .contains("reported that the deployment failed"),
        "{done}"
    );
}

on_both_databases!(the_webhook_deployer_waits_for_the_reported_status);
