//! Faults an operator meets, on the real binary: SIGTERM under load and SIGKILL in the middle of
//! work. The PostgreSQL ones (two replicas, a database that goes away) are in `pg_faults.rs`.

mod common;
use common::fleet::*;
use common::process::{empty_site, token, token_with, wait_until, wait_within, Server};
use serde_json::Value;
use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// A deployment running when the process is killed (no shutdown at all) is marked failed right
/// after the next start, never left "running".
#[tokio::test(flavor = "multi_thread")]
async fn a_deployment_interrupted_by_a_crash_is_marked_failed_after_restart() {
    let dir = tempfile::tempdir().unwrap();
    let site = empty_site(dir.path());
    let url = format!("sqlite://{}/crash.db", dir.path().display());
    let admin = token(&url, "crash-test", "admin");
    let mut server = Server::start(&url, &site, &[]).await;
    staging(&server, &admin).await;
    command_target(&server, &admin, "api", "sleep 3").await;
    let id = deploy(&server, &admin, "api", "1.0").await;
    wait_until("the deployment runs", || async {
        deployment(&server, &admin, id).await["status"] == "running"
    })
    .await;
    server.kill();

    let server = Server::start(&url, &site, &[]).await;
    wait_until("the interrupted deployment is marked failed", || async {
        let d = deployment(&server, &admin, id).await;
        d["status"] == "failed" && d["error"].as_str().unwrap().contains("Interrupted")
    })
    .await;
}

/// SIGTERM with an open websocket, a followed log and two running deployments: the process
/// exits within its allowance, the deployment that can finish in time finishes, the one that
/// cannot is recorded failed with the reason, and a client resuming from its last `seq` after
/// the restart receives both outcomes.
#[tokio::test(flavor = "multi_thread")]
async fn sigterm_under_load_finishes_what_it_can_and_loses_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let site = empty_site(dir.path());
    let url = format!("sqlite://{}/stop.db", dir.path().display());
    let admin = token(&url, "stop-test", "admin");
    let allowance = [("FLIGHTDECK_SHUTDOWN_TIMEOUT_S", "6")];
    let mut server = Server::start(&url, &site, &allowance).await;
    staging(&server, &admin).await;
    command_target(
        &server,
        &admin,
        "quick",
        "echo begin; sleep 2; echo finished",
    )
    .await;
    command_target(&server, &admin, "slow", "echo begin; sleep 120").await;

    let mut socket = websocket(&server, &admin, None).await;
    let subscribed = next_message(&mut socket).await.unwrap();
    assert_eq!(subscribed["type"], "subscribed", "{subscribed}");
    let quick = deploy(&server, &admin, "quick", "1.0").await;
    let slow = deploy(&server, &admin, "slow", "1.0").await;
    wait_until("both deployments run", || async {
        deployment(&server, &admin, quick).await["status"] == "running"
            && deployment(&server, &admin, slow).await["status"] == "running"
    })
    .await;
    let log = follow_log(server.port, &admin, quick);
    tokio::time::sleep(Duration::from_millis(300)).await;

    server.signal("TERM");
    let mut last_seq = subscribed["seq"].as_i64().unwrap();
    let close = loop {
        match next_message(&mut socket).await {
            Ok(event) => last_seq = event["seq"].as_i64().unwrap(),
            Err(code) => break code,
        }
    };
    assert_eq!(close, 1001, "the websocket is closed as 'going away'");
    let (status, took) = server
        .exited_within(Duration::from_secs(15))
        .await
        .expect("exits within its allowance");
    assert!(status.success(), "exit status {status:?}");
    assert!(
        took < Duration::from_secs(10),
        "exited {took:?} after SIGTERM"
    );
    let log = log.join().unwrap();
    assert!(
        log.contains("begin"),
        "the followed log got its lines: {log}"
    );
    assert!(
        log.ends_with("\r\n0\r\n\r\n"),
        "the followed log ended cleanly: {log}"
    );

    let server = Server::start(&url, &site, &allowance).await;
    let finished = deployment(&server, &admin, quick).await;
    assert_eq!(finished["status"], "succeeded", "{finished}");
    let stopped = deployment(&server, &admin, slow).await;
    assert_eq!(stopped["status"], "failed", "{stopped}");
    assert!(
        stopped["error"].as_str().unwrap().contains("shut down"),
        "{stopped}"
    );
    let lines = server
        .must(
            "GET",
            &format!("/api/v1/deployments/{quick}/logs"),
            &admin,
            None,
        )
        .await;
    assert!(lines.body.contains("finished"), "{}", lines.body);

    let mut resumed = websocket(&server, &admin, Some(last_seq)).await;
    let mut outcomes = std::collections::HashMap::new();
    while outcomes.len() < 2 {
        let event = next_message(&mut resumed).await.unwrap();
        let status = event["data"]["status"].as_str().unwrap_or_default();
        if event["topic"] == "deployments" && matches!(status, "succeeded" | "failed") {
            outcomes.insert(event["data"]["id"].as_i64().unwrap(), status.to_string());
        }
    }
    assert_eq!(outcomes[&quick], "succeeded");
    assert_eq!(outcomes[&slow], "failed");
}

/// Every run stored as a build, and every alert job, with how many rows each has.
async fn stored(url: &str) -> (HashMap<String, i64>, HashMap<String, i64>) {
    use sqlx::Row;
    let db = flightdeck::db::Db::connect(url).await.unwrap();
    let mut builds = HashMap::new();
    for row in sqlx::query("SELECT source_id, COUNT(*) AS n FROM builds GROUP BY source_id")
        .fetch_all(&db.pool)
        .await
        .unwrap()
    {
        builds.insert(row.get("source_id"), row.get("n"));
    }
    let mut alerts = HashMap::new();
    for row in sqlx::query("SELECT labels FROM alerts")
        .fetch_all(&db.pool)
        .await
        .unwrap()
    {
        let labels: Value = serde_json::from_str(&row.get::<String, _>("labels")).unwrap();
        *alerts
            .entry(labels["job"].as_str().unwrap().to_string())
            .or_insert(0) += 1;
    }
    db.close().await;
    (builds, alerts)
}

async fn pending_deliveries(url: &str) -> i64 {
    use sqlx::Row;
    let db = flightdeck::db::Db::connect(url).await.unwrap();
    let n = sqlx::query("SELECT COUNT(*) FROM webhook_deliveries WHERE processed_at IS NULL")
        .fetch_one(&db.pool)
        .await
        .unwrap()
        .get(0);
    db.close().await;
    n
}

/// SIGKILL in the middle of a burst of GitHub and Alertmanager deliveries: after the restart,
/// every delivery that was answered 2xx is applied, and when the senders retry everything (as
/// both do), nothing is applied twice.
async fn kill_9_mid_burst_loses_no_acknowledged_delivery(url: String) {
    let dir = tempfile::tempdir().unwrap();
    let site = empty_site(dir.path());
    let alerts_token = token_with(&url, "alertmanager", &["--scope", "alerts:write"]);
    let env = [("FLIGHTDECK_GITHUB_WEBHOOK_SECRET", GITHUB_SECRET)];
    let mut server = Server::start(&url, &site, &env).await;
    let base = server.base.clone();

    let acknowledged = Arc::new(Mutex::new(HashSet::new()));
    let attempted = Arc::new(Mutex::new(Vec::new()));
    let senders: Vec<_> = (0..8u64)
        .map(|sender| {
            let (base, token) = (base.clone(), alerts_token.clone());
            let (acknowledged, attempted) = (acknowledged.clone(), attempted.clone());
            tokio::spawn(async move {
                let http = reqwest::Client::new();
                let mut refused = 0;
                for n in (sender..).step_by(8) {
                    let delivery = if sender % 2 == 0 {
                        Delivery::Run(900_000 + n)
                    } else {
                        Delivery::Alert(n)
                    };
                    attempted.lock().unwrap().push(delivery);
                    if delivery.send(&http, &base, &token).await {
                        acknowledged.lock().unwrap().insert(delivery);
                    } else {
                        refused += 1;
                        if refused > 3 {
                            break; // the server is gone
                        }
                    }
                }
            })
        })
        .collect();
    wait_until("a few hundred deliveries were acknowledged", || async {
        acknowledged.lock().unwrap().len() >= 300
    })
    .await;
    server.kill();
    for sender in senders {
        sender.await.unwrap();
    }
    let acknowledged = acknowledged.lock().unwrap().clone();
    let attempted = attempted.lock().unwrap().clone();
    eprintln!(
        "killed with {} deliveries acknowledged of {} sent",
        acknowledged.len(),
        attempted.len()
    );

    let server = Server::start(&url, &site, &env).await;
    // On PostgreSQL a batch the killed run had claimed waits out its 20 s lease.
    wait_within(
        Duration::from_secs(60),
        "the stored deliveries are applied",
        || async { pending_deliveries(&url).await == 0 },
    )
    .await;
    let (builds, alerts) = stored(&url).await;
    for delivery in &acknowledged {
        let rows = match delivery {
            Delivery::Run(run) => builds.get(&run.to_string()),
            Delivery::Alert(n) => alerts.get(&format!("job-{n}")),
        };
        assert_eq!(rows, Some(&1), "{delivery:?} was acknowledged");
    }

    // The senders retry whatever they sent (acknowledged or not): each is applied once.
    let http = reqwest::Client::new();
    for delivery in &attempted {
        assert!(delivery.send(&http, &server.base, &alerts_token).await);
    }
    wait_until("the retried deliveries are applied", || async {
        pending_deliveries(&url).await == 0
    })
    .await;
    let (builds, alerts) = stored(&url).await;
    for delivery in &attempted {
        let rows = match delivery {
            Delivery::Run(run) => builds.get(&run.to_string()),
            Delivery::Alert(n) => alerts.get(&format!("job-{n}")),
        };
        assert_eq!(rows, Some(&1), "{delivery:?} after the retry");
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn kill_9_mid_burst_on_sqlite() {
    let dir = tempfile::tempdir().unwrap();
    kill_9_mid_burst_loses_no_acknowledged_delivery(format!(
        "sqlite://{}/burst.db",
        dir.path().display()
    ))
    .await;
}

#[tokio::test(flavor = "multi_thread")]
async fn kill_9_mid_burst_on_postgres() {
    if let Some(url) = common::fresh_postgres_database().await {
        kill_9_mid_burst_loses_no_acknowledged_delivery(url).await;
    }
}
