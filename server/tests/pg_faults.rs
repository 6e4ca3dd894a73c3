//! Faults of PostgreSQL deployments, on the real binary: a database that goes away for 30 s,
//! and two replicas sharing one database; and closing the database while it listens for other
//! replicas' events. Skipped without a test PostgreSQL.

mod common;
use common::fleet::*;
use common::process::{empty_site, token, token_with, wait_until, Server};
use serde_json::json;
use std::collections::HashSet;
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// A TCP relay in front of PostgreSQL that can be cut: every open connection is dropped and new
/// ones are closed at once, as when the database server stops, until it is restored.
struct Relay {
    port: u16,
    cut: Arc<std::sync::atomic::AtomicBool>,
    open: Arc<Mutex<Vec<tokio::task::AbortHandle>>>,
}

impl Relay {
    async fn start(upstream: std::net::SocketAddr) -> Relay {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let relay = Relay {
            port: listener.local_addr().unwrap().port(),
            cut: Default::default(),
            open: Default::default(),
        };
        let (cut, open) = (relay.cut.clone(), relay.open.clone());
        tokio::spawn(async move {
            while let Ok((mut client, _)) = listener.accept().await {
                if cut.load(std::sync::atomic::Ordering::SeqCst) {
                    continue; // dropped: the connection closes
                }
                let task = tokio::spawn(async move {
                    if let Ok(mut server) = tokio::net::TcpStream::connect(upstream).await {
                        let _ = tokio::io::copy_bidirectional(&mut client, &mut server).await;
                    }
                });
                open.lock().unwrap().push(task.abort_handle());
            }
        });
        relay
    }

    fn cut(&self) {
        self.cut.store(true, std::sync::atomic::Ordering::SeqCst);
        for task in self.open.lock().unwrap().drain(..) {
            task.abort();
        }
    }

    fn restore(&self) {
        self.cut.store(false, std::sync::atomic::Ordering::SeqCst);
    }
}

/// The deployments page as a browser asks for it.
async fn page(server: &Server, token: &str) -> String {
    reqwest::Client::new()
        .get(format!("{}/deployments", server.base))
        .bearer_auth(token)
        .header("accept", "text/html")
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap()
}

/// PostgreSQL unreachable for 30 s under a steady stream of writes: health says 503, every
/// write (REST, GitHub, Alertmanager) is refused with 503 (never a 2xx that did not commit),
/// pages carry a banner, and when the database is back the server recovers by itself; every
/// write it acknowledged, before, during or after, is there.
#[tokio::test(flavor = "multi_thread")]
async fn a_database_outage_refuses_writes_with_503_and_recovers_by_itself() {
    let Some(direct) = common::fresh_postgres_database().await else {
        return;
    };
    let mut url = url::Url::parse(&direct).unwrap();
    let upstream = std::net::SocketAddr::new(
        url.host_str().unwrap().parse().unwrap(),
        url.port().unwrap_or(5432),
    );
    let relay = Relay::start(upstream).await;
    url.set_port(Some(relay.port)).unwrap();
    let url = url.to_string();
    let admin = token(&url, "outage-test", "admin");
    let alerts_token = token_with(&url, "alertmanager", &["--scope", "alerts:write"]);
    let dir = tempfile::tempdir().unwrap();
    let env = [("FLIGHTDECK_GITHUB_WEBHOOK_SECRET", GITHUB_SECRET)];
    let server = Server::start(&url, &empty_site(dir.path()), &env).await;
    let http = reqwest::Client::new();

    let mut acknowledged = Vec::new();
    let mut statuses_in_outage = HashSet::new();
    let write = |n: usize| {
        let (server, admin) = (&server, &admin);
        async move {
            let name = format!("svc-{n}");
            let reply = server
                .call(
                    "POST",
                    "/api/v1/services",
                    admin,
                    Some(&json!({ "name": name })),
                )
                .await;
            (name, reply.map(|r| r.status))
        }
    };
    for n in 0..20 {
        let (name, status) = write(n).await;
        assert_eq!(status, Some(201));
        acknowledged.push(name);
    }

    // Before the outage the build and alert writers each take a connection, and keep it.
    for delivery in [Delivery::Run(0), Delivery::Alert(0)] {
        assert!(
            delivery.send(&http, &server.base, &alerts_token).await,
            "{delivery:?}"
        );
    }

    relay.cut();
    let outage = std::time::Instant::now();
    let mut n = 20;
    while outage.elapsed() < Duration::from_secs(30) {
        let (name, status) = write(n).await;
        n += 1;
        if matches!(status, Some(200..=299)) {
            acknowledged.push(name);
        }
        statuses_in_outage.insert(status);
        for delivery in [Delivery::Run(n as u64), Delivery::Alert(n as u64)] {
            let status = delivery.status(&http, &server.base, &alerts_token).await;
            assert_eq!(status, Some(503), "{delivery:?} during the outage");
        }
        let health = server.call("GET", "/api/health", "", None).await;
        assert_eq!(
            health.map(|h| h.status),
            Some(503),
            "health during the outage"
        );
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
    assert_eq!(
        statuses_in_outage,
        HashSet::from([Some(503)]),
        "writes during the outage"
    );
    let during = page(&server, &admin).await;
    assert!(
        during.contains("database-banner"),
        "pages say the database is unreachable: {during}"
    );

    relay.restore();
    wait_until("health recovers", || async {
        server
            .call("GET", "/api/health", "", None)
            .await
            .is_some_and(|h| h.status == 200)
    })
    .await;
    let (name, status) = write(n).await;
    assert_eq!(status, Some(201), "a write after the outage");
    // The writers' kept connections broke in the outage: each let go of its own and took a new one.
    for delivery in [Delivery::Run(n as u64), Delivery::Alert(n as u64)] {
        let status = delivery.status(&http, &server.base, &alerts_token).await;
        assert!(
            matches!(status, Some(200..=299)),
            "{delivery:?} after the outage: {status:?}"
        );
    }
    wait_until("the banner goes away", || async {
        !page(&server, &admin).await.contains("database-banner")
    })
    .await;
    acknowledged.push(name);

    let listed = server
        .must("GET", "/api/v1/services", &admin, None)
        .await
        .json();
    let names: HashSet<&str> = listed
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["name"].as_str().unwrap())
        .collect();
    for name in &acknowledged {
        assert!(names.contains(name.as_str()), "{name} was acknowledged");
    }
}

/// Two `serve` processes on one PostgreSQL database: an event made through one reaches a
/// websocket client of the other; two simultaneous deploys of one target, one through each,
/// give exactly one 202; and when the replica running a deployment is killed, the other finds
/// it after the lease and records it failed instead of leaving it running.
#[tokio::test(flavor = "multi_thread")]
async fn two_replicas_share_events_deploys_and_interrupted_work() {
    let Some(url) = common::fresh_postgres_database().await else {
        return;
    };
    let admin = token(&url, "replica-test", "admin");
    let dir = tempfile::tempdir().unwrap();
    let site = empty_site(dir.path());
    let lease = [("FLIGHTDECK_JOB_LEASE_S", "3")];
    let a = Server::start(&url, &site, &lease).await;
    let b = Server::start(&url, &site, &lease).await;

    let mut on_b = websocket(&b, &admin, None).await;
    assert_eq!(next_message(&mut on_b).await.unwrap()["type"], "subscribed");
    staging(&a, &admin).await;
    let heard = next_message(&mut on_b).await.unwrap();
    assert_eq!(
        (heard["topic"].as_str(), heard["data"]["action"].as_str()),
        (Some("audit"), Some("environment.created")),
        "B's client hears of what was done through A: {heard}"
    );
    command_target(&a, &admin, "api", "echo begin; sleep 120").await;
    let body = json!({"service": "api", "environment": "staging", "version": "1.0"});
    let (through_a, through_b) = tokio::join!(
        a.must("POST", "/api/v1/deployments", &admin, Some(body.clone())),
        b.must("POST", "/api/v1/deployments", &admin, Some(body.clone())),
    );
    let mut statuses = [through_a.status, through_b.status];
    statuses.sort();
    assert_eq!(
        statuses,
        [202, 409],
        "{} / {}",
        through_a.body,
        through_b.body
    );
    let id = [&through_a, &through_b]
        .iter()
        .find(|r| r.status == 202)
        .unwrap()
        .json()["id"]
        .as_i64()
        .unwrap();
    loop {
        let event = next_message(&mut on_b).await.unwrap();
        if event["topic"] == "deployments" && event["data"]["id"] == id {
            break;
        }
    }

    wait_until("the deployment runs", || async {
        deployment(&a, &admin, id).await["status"] == "running"
    })
    .await;
    let owner: String = {
        use sqlx::Row;
        let db = flightdeck::db::Db::connect(&url).await.unwrap();
        let owner = sqlx::query("SELECT lease_owner FROM jobs WHERE subject_id = $1")
            .bind(id)
            .fetch_one(&db.pool)
            .await
            .unwrap()
            .get("lease_owner");
        db.close().await;
        owner
    };
    let (mut runner, survivor) = if owner.contains(&format!(":{}:", a.child.id())) {
        (a, b)
    } else {
        (b, a)
    };
    runner.kill();
    wait_until(
        "the surviving replica records the deployment failed",
        || async {
            let d = deployment(&survivor, &admin, id).await;
            d["status"] == "failed" && d["error"].as_str().unwrap().contains("Interrupted")
        },
    )
    .await;
}

/// Every command-line write (`token create`, `user add`) and every shutdown ends by closing the
/// database, which must not wait for the connection that listens for other replicas' events
/// (when it did, a `token create` hung in CI for 14 minutes).
#[tokio::test(flavor = "multi_thread")]
async fn closing_the_database_does_not_wait_for_the_event_listener() {
    let Some(url) = common::fresh_postgres_database().await else {
        return;
    };
    let db = flightdeck::db::Db::connect(&url).await.unwrap();
    let options = flightdeck::web::leptos_options(
        "target/site",
        std::net::SocketAddr::from(([127, 0, 0, 1], 0)),
    );
    let state = flightdeck::state::AppState::new(db.clone(), options, Default::default())
        .await
        .unwrap();
    let watcher = flightdeck::db::Db::connect(&url).await.unwrap();
    wait_until("the event listener listens", || async {
        let listening: i64 = sqlx::query_scalar(
            "SELECT COUNT(*) FROM pg_stat_activity \
             WHERE datname = current_database() AND query LIKE 'LISTEN%'",
        )
        .fetch_one(&watcher.pool)
        .await
        .unwrap();
        listening > 0
    })
    .await;
    tokio::time::timeout(Duration::from_secs(10), db.close())
        .await
        .expect("the database closed within 10 s while the listener listened");
    watcher.close().await;
    drop(state);
}
