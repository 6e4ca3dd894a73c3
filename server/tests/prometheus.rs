//! Against Debian's real `prometheus` and `prometheus-alertmanager` (installed by
//! scripts/setup.sh): a rule fires in Prometheus, reaches Flightdeck through Alertmanager's
//! webhook and through Prometheus' own Alertmanager API client at the same time, and the two
//! deliveries are one alert (Flightdeck's fingerprint is Alertmanager's). The Prometheus adapter
//! runs a PromQL probe and a PromQL SLO against the same server.
//!
//! Skipped when the binaries are missing, unless FLIGHTDECK_REQUIRE_PROMETHEUS is set (CI sets it).

mod common;
use app::model::Role;
use common::{Auth, TestApp};
use serde_json::{json, Value};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

const PROMETHEUS: &str = "/usr/bin/prometheus";
const ALERTMANAGER: &str = "/usr/bin/prometheus-alertmanager";

/// Kills the process when the test ends, passed or not.
struct Process(Child);
impl Drop for Process {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

fn start(binary: &str, args: &[String], log: &Path) -> Process {
    let log = std::fs::File::create(log).unwrap();
    Process(
        Command::new(binary)
            .args(args)
            .stdout(Stdio::null())
            .stderr(log)
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start {binary}: {e}")),
    )
}

async fn until<T>(what: &str, logs: &[&Path], mut check: impl AsyncFnMut() -> Option<T>) -> T {
    let deadline = Instant::now() + Duration::from_secs(90);
    loop {
        if let Some(value) = check().await {
            return value;
        }
        if Instant::now() > deadline {
            let logs: Vec<String> = logs
                .iter()
                .map(|p| std::fs::read_to_string(p).unwrap_or_default())
                .collect();
            panic!(
                "timed out waiting for {what}; logs:\n{}",
                logs.join("\n----\n")
            );
        }
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_real_prometheus_rule_reaches_flightdeck_through_alertmanager() {
    if !Path::new(PROMETHEUS).exists() || !Path::new(ALERTMANAGER).exists() {
        assert!(
            std::env::var("FLIGHTDECK_REQUIRE_PROMETHEUS").is_err(),
            "FLIGHTDECK_REQUIRE_PROMETHEUS is set but {PROMETHEUS} or {ALERTMANAGER} is missing"
        );
        eprintln!("prometheus / prometheus-alertmanager not installed; skipped");
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let (prom_port, am_port) = (free_port(), free_port());
    let mut config = common::test_config();
    config.alerting.prometheus_url = Some(format!("http://127.0.0.1:{prom_port}"));
    let app = TestApp::sqlite_with(config).await;
    let url = app.serve_tcp().await;
    let flightdeck = url.trim_start_matches("http://").to_string();
    let Auth::Bearer(token) = app.new_token("alertmanager", Role::Operator).await else {
        unreachable!()
    };
    let admin = app.new_token("admin-bot", Role::Admin).await;

    let am_config = dir.path().join("alertmanager.yml");
    std::fs::write(
        &am_config,
        format!(
            "route:\n  receiver: flightdeck\n  group_wait: 1s\n  group_interval: 1s\n  repeat_interval: 1h\n\
             receivers:\n  - name: flightdeck\n    webhook_configs:\n      - url: {url}/api/v1/webhooks/alertmanager\n        \
             send_resolved: true\n        http_config:\n          authorization:\n            credentials: {token}\n"
        ),
    )
    .unwrap();
    let rules = dir.path().join("rules.yml");
    std::fs::write(
        &rules,
        "groups:\n  - name: flightdeck-test\n    rules:\n      - alert: AlwaysFiring\n        expr: vector(1)\n        \
         labels:\n          severity: critical\n          team: sre\n        annotations:\n          \
         summary: Always firing, from a real Prometheus rule\n",
    )
    .unwrap();
    // Prometheus sends to the real Alertmanager and, as to a second Alertmanager, to Flightdeck.
    let prom_config = dir.path().join("prometheus.yml");
    std::fs::write(
        &prom_config,
        format!(
            "global:\n  scrape_interval: 1s\n  evaluation_interval: 1s\nrule_files:\n  - {}\n\
             alerting:\n  alertmanagers:\n    - static_configs:\n        - targets: ['127.0.0.1:{am_port}']\n    \
             - authorization:\n        credentials: {token}\n      static_configs:\n        - targets: ['{flightdeck}']\n\
             scrape_configs:\n  - job_name: prometheus\n    static_configs:\n      - targets: ['127.0.0.1:{prom_port}']\n",
            rules.display()
        ),
    )
    .unwrap();
    let (am_log, prom_log) = (dir.path().join("am.log"), dir.path().join("prom.log"));
    let _alertmanager = start(
        ALERTMANAGER,
        &[
            format!("--config.file={}", am_config.display()),
            format!("--storage.path={}", dir.path().join("am-data").display()),
            format!("--web.listen-address=127.0.0.1:{am_port}"),
            "--cluster.listen-address=".into(),
        ],
        &am_log,
    );
    let _prometheus = start(
        PROMETHEUS,
        &[
            format!("--config.file={}", prom_config.display()),
            format!(
                "--storage.tsdb.path={}",
                dir.path().join("prom-data").display()
            ),
            format!("--web.listen-address=127.0.0.1:{prom_port}"),
            "--rules.alert.resend-delay=2s".into(),
        ],
        &prom_log,
    );
    let logs = [am_log.as_path(), prom_log.as_path()];

    // Both routes deliver; Flightdeck keeps one alert.
    let alert: Value = until("the alert in Flightdeck", &logs, async || {
        let feed = app.get("/api/v1/alerts", &admin).await.json();
        feed["alerts"]
            .as_array()?
            .iter()
            .find(|a| a["name"] == "AlwaysFiring" && a["fire_count"].as_i64() >= Some(2))
            .cloned()
    })
    .await;
    assert_eq!(alert["severity"], "critical");
    assert_eq!(alert["labels"]["team"], "sre");
    assert_eq!(
        alert["summary"],
        "Always firing, from a real Prometheus rule"
    );
    let feed = app.get("/api/v1/alerts", &admin).await.json();
    assert_eq!(
        feed["alerts"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|a| a["name"] == "AlwaysFiring")
            .count(),
        1
    );
    let detail = app
        .get(&format!("/api/v1/alerts/{}", alert["id"]), &admin)
        .await
        .json();
    assert!(detail["generator_url"]
        .as_str()
        .unwrap_or("")
        .contains(&prom_port.to_string()));
    // Alertmanager's own fingerprint of the alert is Flightdeck's.
    let http = reqwest::Client::new();
    let am_alerts: Value = http
        .get(format!("http://127.0.0.1:{am_port}/api/v2/alerts"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(
        am_alerts[0]["fingerprint"], alert["fingerprint"],
        "{am_alerts}"
    );

    // The adapter: a PromQL probe and a PromQL SLO against the same Prometheus.
    let created = app
        .post_json("/api/v1/components", &admin, json!({"name": "prometheus-up", "probe": {"type": "prometheus", "query": "up{job=\"prometheus\"}", "interval_s": 1}}))
        .await;
    assert_eq!(
        created.status,
        axum::http::StatusCode::CREATED,
        "{}",
        created.body
    );
    until("the PromQL probe to pass", &logs, async || {
        let c = app
            .get(
                &format!("/api/v1/components/{}", created.json()["id"]),
                &admin,
            )
            .await
            .json();
        (c["status"] == "healthy").then_some(())
    })
    .await;
    app.post_json("/api/v1/services", &admin, json!({"name": "api"}))
        .await;
    let slo = app
        .post_json("/api/v1/slos", &admin, json!({"service": "api", "name": "requests", "sli": "availability",
            "good_query": "vector(990) # $window", "total_query": "vector(1000) # $window", "objective": 0.999}))
        .await;
    assert_eq!(slo.status, axum::http::StatusCode::CREATED, "{}", slo.body);
    app.state
        .slos
        .evaluate_all(flightdeck::now_ms())
        .await
        .unwrap();
    let slo = app
        .get(&format!("/api/v1/slos/{}", slo.json()["id"]), &admin)
        .await
        .json();
    assert!(slo["evaluation_error"].is_null(), "{slo}");
    let burn = slo["evaluation"]["burn_rates"][0]["burn_rate"]
        .as_f64()
        .unwrap();
    assert!(
        (burn - 10.0).abs() < 1e-6,
        "1% errors against 0.1% is a 10x burn, got {burn}"
    );

    // Maintenance: what happens during it does not count against a PromQL SLO's budget. In
    // this SLO every event from the moment maintenance starts is bad (one event every 10 s).
    let on = app
        .put_json(
            "/api/v1/maintenance",
            &admin,
            json!({"enabled": true, "message": "Database upgrade"}),
        )
        .await;
    assert!(on.status.is_success(), "{}", on.body);
    let started = on.json()["updated_at"].as_i64().unwrap();
    let from = format!("{}.{:03}", started / 1000, started % 1000);
    let slo = app
        .post_json(
            "/api/v1/slos",
            &admin,
            json!({"service": "api", "name": "checkout", "sli": "availability",
            "good_query": format!("sum_over_time(vector(time() < bool {from})[$window:10s])"),
            "total_query": "count_over_time(vector(1)[$window:10s])", "objective": 0.99}),
        )
        .await;
    assert_eq!(slo.status, axum::http::StatusCode::CREATED, "{}", slo.body);
    let path = format!("/api/v1/slos/{}", slo.json()["id"]);
    let five_minutes = |slo: &Value| {
        let w = &slo["evaluation"]["burn_rates"][0];
        assert_eq!(w["window"], "5m", "{slo}");
        (w["good"].as_f64().unwrap(), w["total"].as_f64().unwrap())
    };
    // Two minutes into maintenance (Prometheus evaluates these queries at any time).
    let later = started + 120_000;
    app.state.slos.evaluate_all(later).await.unwrap();
    let during = app.get(&path, &admin).await.json();
    assert!(during["evaluation_error"].is_null(), "{during}");
    let (good, total) = five_minutes(&during);
    assert_eq!(
        good, total,
        "the 12 bad events of maintenance are left out: {during}"
    );
    assert!(
        (17.0..=19.0).contains(&total),
        "30 events in 5 minutes, 12 of them left out: {during}"
    );
    assert!(
        during["evaluation"]["firing"]
            .as_array()
            .unwrap()
            .is_empty(),
        "{during}"
    );

    // Ended at once: the same two minutes count in full.
    let off = app
        .put_json(
            "/api/v1/maintenance",
            &admin,
            json!({"enabled": false, "message": ""}),
        )
        .await;
    assert!(off.status.is_success(), "{}", off.body);
    app.state.slos.evaluate_all(later).await.unwrap();
    let after = app.get(&path, &admin).await.json();
    // Only what fell inside the seconds maintenance lasted (an evaluation ran in them) is left
    // out, all of it bad: one event every 10 s.
    let (good, total) = five_minutes(&after);
    assert!(total >= 27.0, "{after}");
    assert_eq!(
        total - good,
        12.0 - (30.0 - total),
        "the bad events count again: {after}"
    );
}
