//! Faults an operator meets, on the real binary: SIGTERM under load, SIGKILL in the middle of
//! work, and (on PostgreSQL) two replicas and a database that goes away.

mod common;
use common::process::{empty_site, token, token_with, wait_until, wait_within, Server};
use futures_util::{SinkExt, StreamExt};
use serde_json::{json, Value};
use std::collections::{HashMap, HashSet};
use std::io::{Read, Write};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio_tungstenite::tungstenite::{client::IntoClientRequest, Message};

type Socket =
    tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

async fn websocket(server: &Server, token: &str, since: Option<i64>) -> Socket {
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
async fn next_message(socket: &mut Socket) -> Result<Value, u16> {
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
async fn command_target(server: &Server, admin: &str, service: &str, command: &str) {
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

async fn deploy(server: &Server, admin: &str, service: &str, version: &str) -> i64 {
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

async fn deployment(server: &Server, admin: &str, id: i64) -> Value {
    server
        .must("GET", &format!("/api/v1/deployments/{id}"), admin, None)
        .await
        .json()
}

/// Follows a deployment's log (`text/event-stream`) on a thread; joins to the whole stream.
fn follow_log(port: u16, token: &str, id: i64) -> std::thread::JoinHandle<String> {
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

async fn staging(server: &Server, admin: &str) {
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

const GITHUB_SECRET: &str = "github-secret-of-the-fault-tests";

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
enum Delivery {
    Run(u64),
    Alert(u64),
}

impl Delivery {
    /// Sends it; whether the server acknowledged it (2xx).
    async fn send(self, http: &reqwest::Client, base: &str, alerts_token: &str) -> bool {
        matches!(self.status(http, base, alerts_token).await, Some(200..=299))
    }

    /// Sends it; the status of the answer, if one came.
    async fn status(self, http: &reqwest::Client, base: &str, alerts_token: &str) -> Option<u16> {
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
