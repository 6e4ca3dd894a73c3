//! Alerts on both databases: Alertmanager's webhook (firing, repeated, grouped, resolved,
//! malformed), Alertmanager's `POST /api/v2/alerts`, acknowledge / escalate / resolve with their
//! history, the feed's filters and pages, silences, escalation with a clock the test controls,
//! and notifications retried against a local receiver.

mod common;
use app::model::Role;
use axum::http::StatusCode;
use common::{Auth, TestApp};
use serde_json::{json, Value};
use sqlx::Row;
use std::sync::{Arc, Mutex};

fn webhook(status: &str, alerts: Vec<Value>) -> Vec<u8> {
    json!({
        "version": "4", "groupKey": "{}:{alertname=\"HighLatency\"}", "truncatedAlerts": 0,
        "status": status, "receiver": "flightdeck", "groupLabels": {}, "commonLabels": {},
        "commonAnnotations": {}, "externalURL": "http://alertmanager:9093", "alerts": alerts
    })
    .to_string()
    .into_bytes()
}

fn alert(status: &str, job: &str, severity: &str) -> Value {
    json!({
        "status": status,
        "labels": {"alertname": "HighLatency", "job": job, "severity": severity},
        "annotations": {"summary": format!("{job} p99 latency over 1s")},
        "startsAt": "2026-11-22T03:00:00Z", "endsAt": "0001-01-01T00:00:00Z",
        "generatorURL": "http://prometheus:9090/graph", "fingerprint": "ignored"
    })
}

async fn count(app: &TestApp, table: &str) -> i64 {
    sqlx::query(&format!("SELECT COUNT(*) FROM {table}"))
        .fetch_one(&app.state.db.pool)
        .await
        .unwrap()
        .get(0)
}

async fn feed(app: &TestApp, auth: &Auth, query: &str) -> Vec<Value> {
    let page = app.get(&format!("/api/v1/alerts{query}"), auth).await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.body);
    page.json()["alerts"].as_array().unwrap().clone()
}

async fn send_webhook(app: &TestApp, auth: &Auth, body: Vec<u8>) -> common::TestResponse {
    app.post_raw("/api/v1/webhooks/alertmanager", auth, &[], body)
        .await
}

async fn alertmanager_webhooks_open_group_and_resolve(app: TestApp) {
    let am = app.new_token("alertmanager", Role::Operator).await;
    let viewer = app.new_token("wallboard", Role::Viewer).await;
    let sent = send_webhook(
        &app,
        &am,
        webhook(
            "firing",
            vec![
                alert("firing", "api", "critical"),
                alert("firing", "web", "warning"),
            ],
        ),
    )
    .await;
    assert_eq!(sent.status, StatusCode::OK, "{}", sent.body);
    assert_eq!(sent.json()["opened"], 2);
    let alerts = feed(&app, &viewer, "").await;
    assert_eq!(alerts.len(), 2);
    let api = alerts
        .iter()
        .find(|a| a["labels"]["job"] == "api")
        .unwrap()
        .clone();
    assert_eq!(api["status"], "open");
    assert_eq!(api["severity"], "critical");
    assert_eq!(api["summary"], "api p99 latency over 1s");
    assert_eq!(api["source"], "alertmanager");

    // The same alert again: one alert, counted twice, no new history entry.
    let repeat = send_webhook(
        &app,
        &am,
        webhook("firing", vec![alert("firing", "api", "critical")]),
    )
    .await;
    assert_eq!(repeat.json()["updated"], 1);
    let id = api["id"].as_i64().unwrap();
    let detail = app
        .get(&format!("/api/v1/alerts/{id}"), &viewer)
        .await
        .json();
    assert_eq!(detail["fire_count"], 2);
    assert_eq!(detail["history"].as_array().unwrap().len(), 1);
    assert_eq!(count(&app, "alerts").await, 2);

    // Resolved: resolves it; a resolution of something never seen is ignored, not stored.
    let resolved = send_webhook(
        &app,
        &am,
        webhook(
            "resolved",
            vec![
                alert("resolved", "api", "critical"),
                alert("resolved", "db", "critical"),
            ],
        ),
    )
    .await;
    assert_eq!(resolved.json()["resolved"], 1);
    assert_eq!(resolved.json()["ignored"], 1);
    let detail = app
        .get(&format!("/api/v1/alerts/{id}"), &viewer)
        .await
        .json();
    assert_eq!(detail["status"], "resolved");
    assert_eq!(detail["resolved_by"], "alertmanager");
    assert_eq!(count(&app, "alerts").await, 2);

    // Firing again opens the same alert again, at the top of the feed.
    let again = send_webhook(
        &app,
        &am,
        webhook("firing", vec![alert("firing", "api", "critical")]),
    )
    .await;
    assert_eq!(again.json()["opened"], 1);
    let alerts = feed(&app, &viewer, "").await;
    assert_eq!(alerts[0]["id"], id);
    assert_eq!(alerts[0]["status"], "open");
    let detail = app
        .get(&format!("/api/v1/alerts/{id}"), &viewer)
        .await
        .json();
    let kinds: Vec<&str> = detail["history"]
        .as_array()
        .unwrap()
        .iter()
        .map(|h| h["kind"].as_str().unwrap())
        .collect();
    assert_eq!(kinds, ["reopened", "resolved", "fired"]);
}

async fn malformed_or_unauthorized_alerts_store_nothing(app: TestApp) {
    let am = app.new_token("alertmanager", Role::Operator).await;
    let viewer = app.new_token("wallboard", Role::Viewer).await;
    let good = || webhook("firing", vec![alert("firing", "api", "critical")]);
    let mut bad_label = alert("firing", "api", "critical");
    bad_label["labels"]["bad-name"] = json!("x");
    let refused = [
        webhook(
            "firing",
            vec![alert("firing", "api", "critical"), bad_label],
        ),
        webhook("firing", vec![]),
        String::from_utf8(good())
            .unwrap()
            .replace("\"4\"", "\"3\"")
            .into_bytes(),
        b"{not json".to_vec(),
    ];
    for body in refused {
        let response = send_webhook(&app, &am, body).await;
        assert_eq!(
            response.status,
            StatusCode::BAD_REQUEST,
            "{}",
            response.body
        );
        assert!(response.json()["error"]["message"].as_str().unwrap().len() > 10);
    }
    assert_eq!(
        send_webhook(&app, &Auth::None, good()).await.status,
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(
        send_webhook(&app, &viewer, good()).await.status,
        StatusCode::FORBIDDEN
    );
    let v2 = app
        .post_raw("/api/v2/alerts", &am, &[], br#"[{"labels": {}}]"#.to_vec())
        .await;
    assert_eq!(v2.status, StatusCode::BAD_REQUEST);
    assert_eq!(count(&app, "alerts").await, 0);
    assert_eq!(count(&app, "alert_events").await, 0);
}

async fn prometheus_posts_merge_with_alertmanager_and_expire(app: TestApp) {
    let prom = app.new_token("prometheus", Role::Operator).await;
    let end = |offset_ms: i64| {
        let at = time::OffsetDateTime::from_unix_timestamp_nanos(
            ((flightdeck::now_ms() + offset_ms) as i128) * 1_000_000,
        )
        .unwrap();
        at.format(&time::format_description::well_known::Rfc3339)
            .unwrap()
    };
    let body = json!([
        {"labels": {"alertname": "HighLatency", "job": "api", "severity": "critical"}, "endsAt": end(3_600_000)},
        {"labels": {"alertname": "DiskFull", "instance": "db1"}, "endsAt": end(60_000),
         "annotations": {"description": "95% full"}}
    ]);
    let sent = app
        .post_raw("/api/v2/alerts", &prom, &[], body.to_string().into_bytes())
        .await;
    assert_eq!(sent.status, StatusCode::OK, "{}", sent.body);
    // Alertmanager relays the same label set: the same alert.
    let relayed = send_webhook(
        &app,
        &prom,
        webhook("firing", vec![alert("firing", "api", "critical")]),
    )
    .await;
    assert_eq!(relayed.json()["updated"], 1);
    assert_eq!(count(&app, "alerts").await, 2);
    let disk = feed(&app, &prom, "")
        .await
        .into_iter()
        .find(|a| a["name"] == "DiskFull")
        .unwrap();
    assert_eq!(disk["severity"], "info");
    assert_eq!(disk["summary"], "95% full");
    // Not sent again before its end: resolved as expired once the end has passed.
    assert_eq!(
        app.state
            .alerts
            .expire_due(flightdeck::now_ms())
            .await
            .unwrap(),
        0
    );
    assert_eq!(
        app.state
            .alerts
            .expire_due(flightdeck::now_ms() + 120_000)
            .await
            .unwrap(),
        1
    );
    let disk = app
        .get(&format!("/api/v1/alerts/{}", disk["id"]), &prom)
        .await
        .json();
    assert_eq!(disk["status"], "resolved");
    assert_eq!(disk["resolved_by"], "expired");
    // An end in the past is a resolution.
    let resolution = json!([{"labels": {"alertname": "HighLatency", "job": "api", "severity": "critical"}, "endsAt": end(-1000)}]);
    let sent = app
        .post_raw(
            "/api/v2/alerts",
            &prom,
            &[],
            resolution.to_string().into_bytes(),
        )
        .await;
    assert_eq!(sent.json()["resolved"], 1);
}

async fn people_acknowledge_escalate_and_resolve(app: TestApp) {
    let am = app.new_token("alertmanager", Role::Operator).await;
    let viewer = app.new_token("wallboard", Role::Viewer).await;
    let password = app.new_user("oncall", Role::Operator).await;
    let oncall = app.sign_in("oncall", &password).await;
    send_webhook(
        &app,
        &am,
        webhook("firing", vec![alert("firing", "api", "critical")]),
    )
    .await;
    let id = feed(&app, &viewer, "").await[0]["id"].as_i64().unwrap();
    let path = |action: &str| format!("/api/v1/alerts/{id}/{action}");

    assert_eq!(
        app.post_json(&path("ack"), &viewer, json!({})).await.status,
        StatusCode::FORBIDDEN
    );
    let acked = app
        .post_json(&path("ack"), &oncall, json!({"note": "looking"}))
        .await;
    assert_eq!(acked.status, StatusCode::OK, "{}", acked.body);
    assert_eq!(acked.json()["status"], "acknowledged");
    assert_eq!(acked.json()["acknowledged_by"], "oncall");
    let twice = app.post_json(&path("ack"), &am, json!({})).await;
    assert_eq!(twice.status, StatusCode::CONFLICT);
    assert_eq!(
        app.post_json(&path("snooze"), &oncall, json!({}))
            .await
            .status,
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        app.post_json(&path("escalate"), &oncall, json!({}))
            .await
            .json()["status"],
        "escalated"
    );
    let resolved = app
        .post_raw(&path("resolve"), &oncall, &[], Vec::new())
        .await;
    assert_eq!(resolved.status, StatusCode::OK, "{}", resolved.body);
    assert_eq!(resolved.json()["resolved_by"], "oncall");
    assert_eq!(
        app.post_json(&path("ack"), &oncall, json!({})).await.status,
        StatusCode::CONFLICT
    );
    assert_eq!(
        app.post_json("/api/v1/alerts/999999/ack", &oncall, json!({}))
            .await
            .status,
        StatusCode::NOT_FOUND
    );

    let detail = app
        .get(&format!("/api/v1/alerts/{id}"), &viewer)
        .await
        .json();
    let history: Vec<(String, String)> = detail["history"]
        .as_array()
        .unwrap()
        .iter()
        .map(|h| {
            (
                h["kind"].as_str().unwrap().to_string(),
                h["actor"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    assert_eq!(history[0], ("resolved".into(), "oncall".into()));
    assert_eq!(history[2], ("acknowledged".into(), "oncall".into()));
    assert_eq!(detail["history"][2]["note"], "looking");
    let audit = app.audit_actions().await;
    assert!(
        audit.contains(&"alert.acknowledged".to_string()),
        "{audit:?}"
    );
}

async fn the_feed_filters_and_pages(app: TestApp) {
    let am = app.new_token("alertmanager", Role::Operator).await;
    for (i, severity) in ["critical", "warning", "critical", "info", "critical"]
        .iter()
        .enumerate()
    {
        send_webhook(
            &app,
            &am,
            webhook(
                "firing",
                vec![alert("firing", &format!("job{i}"), severity)],
            ),
        )
        .await;
    }
    let critical = feed(&app, &am, "?severity=critical").await;
    assert_eq!(critical.len(), 3);
    let mut seen = Vec::new();
    let mut cursor: Option<String> = None;
    loop {
        let query = match &cursor {
            Some(c) => format!("/api/v1/alerts?limit=2&cursor={c}"),
            None => "/api/v1/alerts?limit=2".into(),
        };
        let page = app.get(&query, &am).await.json();
        seen.extend(
            page["alerts"]
                .as_array()
                .unwrap()
                .iter()
                .map(|a| a["id"].as_i64().unwrap()),
        );
        match page["next_cursor"].as_str() {
            Some(c) => cursor = Some(c.to_string()),
            None => break,
        }
    }
    let mut sorted = seen.clone();
    sorted.sort_by(|a, b| b.cmp(a));
    assert_eq!(seen, sorted, "newest first, each once");
    assert_eq!(seen.len(), 5);
    assert_eq!(
        app.get("/api/v1/alerts?cursor=nonsense", &am).await.status,
        StatusCode::BAD_REQUEST
    );
    assert_eq!(
        app.get("/api/v1/alerts?status=sleeping", &am).await.status,
        StatusCode::BAD_REQUEST
    );
    assert_eq!(
        app.get("/api/v1/alerts?limit=0", &am).await.status,
        StatusCode::BAD_REQUEST
    );
}

async fn silenced_alerts_are_kept_but_notify_nobody(app: TestApp) {
    let admin = app.new_token("admin-bot", Role::Admin).await;
    let receiver = Receiver::start(0).await;
    setup_policy(&app, &admin, &receiver.url, 0, 600).await;
    // Already firing when the silence starts: silenced too, its escalation stopped.
    send_webhook(
        &app,
        &admin,
        webhook("firing", vec![alert("firing", "web", "critical")]),
    )
    .await;
    let silence = app
        .post_json(
            "/api/v1/silences",
            &admin,
            json!({"matchers": [{"name": "job", "value": "api|web", "isRegex": true}],
                   "ends_at": flightdeck::now_ms() + 3_600_000, "comment": "planned maintenance"}),
        )
        .await;
    assert_eq!(silence.status, StatusCode::CREATED, "{}", silence.body);
    let silence_id = silence.json()["id"].as_i64().unwrap();
    for bad in [
        json!({"matchers": [], "ends_at": flightdeck::now_ms() + 60_000, "comment": "x"}),
        json!({"matchers": [{"name": "job", "value": "(", "isRegex": true}], "ends_at": flightdeck::now_ms() + 60_000, "comment": "x"}),
        json!({"matchers": [{"name": "job", "value": "api"}], "ends_at": flightdeck::now_ms() - 1, "comment": "x"}),
    ] {
        assert_eq!(
            app.post_json("/api/v1/silences", &admin, bad).await.status,
            StatusCode::UNPROCESSABLE_ENTITY
        );
    }
    send_webhook(
        &app,
        &admin,
        webhook(
            "firing",
            vec![
                alert("firing", "api", "critical"),
                alert("firing", "db", "critical"),
            ],
        ),
    )
    .await;
    let alerts = feed(&app, &admin, "").await;
    let api = alerts.iter().find(|a| a["labels"]["job"] == "api").unwrap();
    let db = alerts.iter().find(|a| a["labels"]["job"] == "db").unwrap();
    assert_eq!(api["silenced_by"], silence_id);
    assert!(db["silenced_by"].is_null());
    let web = alerts.iter().find(|a| a["labels"]["job"] == "web").unwrap();
    assert_eq!(web["silenced_by"], silence_id);
    let web = app
        .get(&format!("/api/v1/alerts/{}", web["id"]), &admin)
        .await
        .json();
    assert_eq!(web["history"][0]["kind"], "silenced");
    let later = flightdeck::now_ms() + 10_000;
    app.state.alerts.escalate_due(later).await.unwrap();
    app.state.alerts.deliver_due(later).await.unwrap();
    let notified: Vec<String> = receiver.texts();
    assert!(
        notified.iter().all(|t| !t.contains("job=api")),
        "{notified:?}"
    );
    assert_eq!(
        app.get("/api/v1/silences", &admin)
            .await
            .json()
            .as_array()
            .unwrap()
            .len(),
        1
    );
}

/// A local HTTP receiver: answers 500 to the first `failures` requests, then 200, and keeps the
/// JSON bodies it accepted.
struct Receiver {
    url: String,
    bodies: Arc<Mutex<Vec<Value>>>,
    hits: Arc<Mutex<u32>>,
}

impl Receiver {
    async fn start(failures: u32) -> Receiver {
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

    fn texts(&self) -> Vec<String> {
        self.bodies
            .lock()
            .unwrap()
            .iter()
            .map(|b| b["text"].as_str().unwrap_or("").to_string())
            .collect()
    }

    fn hits(&self) -> u32 {
        *self.hits.lock().unwrap()
    }
}

/// Two channels on one receiver and a policy: first step after `first_s`, second `second_s` later.
async fn setup_policy(app: &TestApp, admin: &Auth, url: &str, first_s: u32, second_s: u32) {
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

async fn status_of(app: &TestApp, id: i64) -> (String, i64) {
    let row = sqlx::query("SELECT status, escalation_level FROM alerts WHERE id = $1")
        .bind(id)
        .fetch_one(&app.state.db.pool)
        .await
        .unwrap();
    (row.get("status"), row.get("escalation_level"))
}

async fn unacknowledged_alerts_escalate_on_time(app: TestApp) {
    let admin = app.new_token("admin-bot", Role::Admin).await;
    let receiver = Receiver::start(0).await;
    // Delays long enough that the background worker, on the real clock, never takes a step.
    setup_policy(&app, &admin, &receiver.url, 600, 900).await;
    let unknown_channel = app
        .post_json(
            "/api/v1/escalation-policies",
            &admin,
            json!({"name": "x", "steps": [{"delay_s": 0, "channel": "nope"}]}),
        )
        .await;
    assert_eq!(unknown_channel.status, StatusCode::UNPROCESSABLE_ENTITY);
    send_webhook(
        &app,
        &admin,
        webhook(
            "firing",
            vec![
                alert("firing", "api", "critical"),
                alert("firing", "web", "critical"),
            ],
        ),
    )
    .await;
    let alerts = feed(&app, &admin, "").await;
    let id = |job: &str| {
        alerts.iter().find(|a| a["labels"]["job"] == job).unwrap()["id"]
            .as_i64()
            .unwrap()
    };
    let (api, web) = (id("api"), id("web"));
    app.post_json(&format!("/api/v1/alerts/{web}/ack"), &admin, json!({}))
        .await;

    let opened = flightdeck::now_ms();
    let escalations = &app.state.alerts;
    assert_eq!(escalations.escalate_due(opened + 599_000).await.unwrap(), 0);
    assert_eq!(status_of(&app, api).await, ("open".into(), 0));
    // Ten minutes: the first step notifies the primary channel; the alert is not escalated yet.
    let t1 = opened + 601_000;
    assert_eq!(
        escalations.escalate_due(t1).await.unwrap(),
        1,
        "only the unacknowledged alert"
    );
    assert_eq!(status_of(&app, api).await, ("open".into(), 1));
    escalations.deliver_due(t1).await.unwrap();
    assert_eq!(receiver.texts().len(), 1);
    assert!(
        receiver.texts()[0].starts_with("Firing: [Critical] HighLatency"),
        "{:?}",
        receiver.texts()
    );
    // Fifteen minutes later, still unacknowledged: escalated to the secondary channel.
    assert_eq!(escalations.escalate_due(t1 + 899_000).await.unwrap(), 0);
    let t2 = t1 + 901_000;
    assert_eq!(escalations.escalate_due(t2).await.unwrap(), 1);
    assert_eq!(status_of(&app, api).await, ("escalated".into(), 2));
    escalations.deliver_due(t2).await.unwrap();
    assert!(
        receiver.texts()[1].starts_with("Escalated:"),
        "{:?}",
        receiver.texts()
    );
    // No steps left.
    assert_eq!(escalations.escalate_due(t2 + 86_400_000).await.unwrap(), 0);
    // The acknowledged alert never escalated; resolving tells both channels.
    assert_eq!(status_of(&app, web).await.1, 0);
    app.post_json(&format!("/api/v1/alerts/{api}/resolve"), &admin, json!({}))
        .await;
    escalations.deliver_due(t2 + 1000).await.unwrap();
    // The background worker (on the real clock) may have claimed one of the two and still be
    // sending it; each is sent exactly once either way.
    let detail = app
        .wait_for(&format!("/api/v1/alerts/{api}"), &admin, |d| {
            d["notifications"]
                .as_array()
                .unwrap()
                .iter()
                .all(|n| n["status"] == "sent")
        })
        .await;
    assert_eq!(detail["notifications"].as_array().unwrap().len(), 4);
    assert_eq!(
        receiver
            .texts()
            .iter()
            .filter(|t| t.starts_with("Resolved:"))
            .count(),
        2
    );
}

async fn notifications_are_retried_with_backoff(app: TestApp) {
    let admin = app.new_token("admin-bot", Role::Admin).await;
    let receiver = Receiver::start(2).await;
    setup_policy(&app, &admin, &receiver.url, 600, 600).await;
    // A channel nobody listens on, to see a notification given up.
    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let dead = format!("http://{}/hook/s3cr3t-token", closed.local_addr().unwrap());
    drop(closed);
    app.post_json(
        "/api/v1/channels",
        &admin,
        json!({"name": "dead", "kind": "webhook", "target": dead}),
    )
    .await;
    app.post_json(
        "/api/v1/escalation-policies",
        &admin,
        json!({"name": "db", "rank": -1, "matchers": [{"name": "job", "value": "db"}], "steps": [{"delay_s": 600, "channel": "dead"}]}),
    )
    .await;
    send_webhook(
        &app,
        &admin,
        webhook(
            "firing",
            vec![
                alert("firing", "api", "critical"),
                alert("firing", "db", "critical"),
            ],
        ),
    )
    .await;
    let mut now = flightdeck::now_ms() + 601_000;
    app.state.alerts.escalate_due(now).await.unwrap();
    for _ in 0..10 {
        app.state.alerts.deliver_due(now).await.unwrap();
        now += 400_000;
    }
    assert_eq!(receiver.hits(), 3, "two failures, then delivered");
    let rows = sqlx::query("SELECT c.name, n.status, n.attempts, n.last_error FROM notifications n JOIN channels c ON c.id = n.channel_id ORDER BY c.name")
        .fetch_all(&app.state.db.pool)
        .await
        .unwrap();
    let outcome: Vec<(String, String, i64)> = rows
        .iter()
        .map(|r| (r.get("name"), r.get("status"), r.get("attempts")))
        .collect();
    assert_eq!(
        outcome,
        [
            (
                "dead".into(),
                "failed".into(),
                flightdeck::alerts::MAX_ATTEMPTS
            ),
            ("primary".into(), "sent".into(), 3)
        ]
    );
    let error: String = rows[0].get("last_error");
    assert!(
        !error.contains("s3cr3t"),
        "no channel URL in errors: {error}"
    );
    let alerts = feed(&app, &admin, "").await;
    let db = alerts.iter().find(|a| a["labels"]["job"] == "db").unwrap();
    let detail = app
        .get(&format!("/api/v1/alerts/{}", db["id"]), &admin)
        .await
        .json();
    assert_eq!(detail["history"][0]["kind"], "notification_failed");
    assert!(detail["history"][0]["note"]
        .as_str()
        .unwrap()
        .contains("after 6 attempts"));
}

on_both_databases!(
    alertmanager_webhooks_open_group_and_resolve,
    malformed_or_unauthorized_alerts_store_nothing,
    prometheus_posts_merge_with_alertmanager_and_expire,
    people_acknowledge_escalate_and_resolve,
    the_feed_filters_and_pages,
    silenced_alerts_are_kept_but_notify_nobody,
    unacknowledged_alerts_escalate_on_time,
    notifications_are_retried_with_backoff,
);

/// A minimal SMTP server that accepts every message and keeps what it received.
async fn smtp_receiver() -> (u16, Arc<Mutex<Vec<String>>>) {
    use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let messages = Arc::new(Mutex::new(Vec::new()));
    let kept = messages.clone();
    tokio::spawn(async move {
        while let Ok((socket, _)) = listener.accept().await {
            let kept = kept.clone();
            tokio::spawn(async move {
                let (read, mut write) = socket.into_split();
                let mut lines = BufReader::new(read).lines();
                write
                    .write_all(b"220 localhost ESMTP test\r\n")
                    .await
                    .unwrap();
                while let Ok(Some(line)) = lines.next_line().await {
                    let command = line.to_ascii_uppercase();
                    let answer: &[u8] = if command.starts_with("EHLO") {
                        b"250-localhost\r\n250 8BITMIME\r\n"
                    } else if command.starts_with("DATA") {
                        write.write_all(b"354 go ahead\r\n").await.unwrap();
                        let mut message = String::new();
                        while let Ok(Some(line)) = lines.next_line().await {
                            if line == "." {
                                break;
                            }
                            message.push_str(&line);
                            message.push('\n');
                        }
                        kept.lock().unwrap().push(message);
                        b"250 queued\r\n"
                    } else if command.starts_with("QUIT") {
                        let _ = write.write_all(b"221 bye\r\n").await;
                        return;
                    } else {
                        b"250 OK\r\n"
                    };
                    write.write_all(answer).await.unwrap();
                }
            });
        }
    });
    (port, messages)
}

#[tokio::test]
async fn email_channels_send_over_smtp() {
    let (port, messages) = smtp_receiver().await;
    let mut config = common::test_config();
    config.alerting.smtp_url = Some(format!("smtp://127.0.0.1:{port}"));
    config.alerting.smtp_from = "flightdeck@example.com".into();
    let app = TestApp::sqlite_with(config).await;
    let admin = app.new_token("admin-bot", Role::Admin).await;
    let bad = app
        .post_json(
            "/api/v1/channels",
            &admin,
            json!({"name": "x", "kind": "email", "target": "not an address"}),
        )
        .await;
    assert_eq!(bad.status, StatusCode::UNPROCESSABLE_ENTITY);
    app.post_json("/api/v1/channels", &admin, json!({"name": "oncall-mail", "kind": "email", "target": "oncall@example.com, lead@example.com"})).await;
    app.post_json(
        "/api/v1/escalation-policies",
        &admin,
        json!({"name": "mail", "steps": [{"delay_s": 600, "channel": "oncall-mail"}]}),
    )
    .await;
    send_webhook(
        &app,
        &admin,
        webhook("firing", vec![alert("firing", "api", "critical")]),
    )
    .await;
    let later = flightdeck::now_ms() + 601_000;
    app.state.alerts.escalate_due(later).await.unwrap();
    app.state.alerts.deliver_due(later).await.unwrap();
    let messages = messages.lock().unwrap().clone();
    assert_eq!(messages.len(), 1, "{messages:?}");
    assert!(
        messages[0].contains("Subject: [Critical] HighLatency firing"),
        "{}",
        messages[0]
    );
    assert!(
        messages[0].contains("To: oncall@example.com, lead@example.com"),
        "{}",
        messages[0]
    );
    assert!(
        messages[0].contains("Firing: [Critical] HighLatency"),
        "{}",
        messages[0]
    );
    let id = feed(&app, &admin, "").await[0]["id"].clone();
    let detail = app
        .get(&format!("/api/v1/alerts/{id}"), &admin)
        .await
        .json();
    assert_eq!(detail["notifications"][0]["status"], "sent");
}
