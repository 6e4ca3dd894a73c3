//! Escalation and notifications on both databases: steps taken on time by a clock the test
//! controls, retries with backoff against a local receiver, a channel given up, email through
//! a local SMTP receiver, and silences (refused when too wide or too long; a silenced alert is
//! kept but notifies nobody; one that ends releases its alerts).

mod common;
use app::model::Role;
use axum::http::StatusCode;
use common::alerts::*;
use common::{Auth, TestApp};
use serde_json::json;
use sqlx::Row;
use std::sync::{Arc, Mutex};

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
    let [api, web] = fire(&app, &admin, &["api", "web"]).await[..] else {
        unreachable!()
    };
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
    // On the real clock: the resolutions are due now, and the background worker may have claimed
    // one of the two and still be sending it. Its claim is a lease until now + CLAIM_MS, which a
    // clock 25 minutes ahead (t2) would take as expired and send again (1 run in 12 did).
    escalations.deliver_due(flightdeck::now_ms()).await.unwrap();
    // Each is sent exactly once either way.
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
    fire_api_and_db(&app, &admin).await;
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

/// Two critical alerts firing at once, for the api and the db jobs.
async fn fire_api_and_db(app: &TestApp, auth: &Auth) {
    let alerts = vec![
        alert("firing", "api", "critical"),
        alert("firing", "db", "critical"),
    ];
    send_webhook(app, auth, webhook("firing", alerts)).await;
}

async fn history_kinds(app: &TestApp, auth: &Auth, id: i64) -> Vec<String> {
    app.get(&format!("/api/v1/alerts/{id}"), auth).await.json()["history"]
        .as_array()
        .unwrap()
        .iter()
        .map(|h| h["kind"].as_str().unwrap().to_string())
        .collect()
}

async fn a_silence_that_ends_releases_its_alerts(app: TestApp) {
    let admin = app.new_token("admin-bot", Role::Admin).await;
    let viewer = app.new_token("wallboard", Role::Viewer).await;
    let receiver = Receiver::start(0).await;
    setup_policy(&app, &admin, &receiver.url, 0, 600).await;
    let silence = |job: &str, for_ms: i64| {
        json!({"matchers": [{"name": "job", "value": job}],
               "ends_at": flightdeck::now_ms() + for_ms, "comment": "maintenance"})
    };
    let long = app
        .post_json("/api/v1/silences", &admin, silence("api", 3_600_000))
        .await;
    let long = long.json()["id"].as_i64().unwrap();
    let short = app
        .post_json("/api/v1/silences", &admin, silence("web", 1_000))
        .await;
    let short = short.json()["id"].as_i64().unwrap();
    let [api, web] = fire(&app, &admin, &["api", "web"]).await[..] else {
        unreachable!()
    };
    assert_eq!(
        feed(&app, &admin, "")
            .await
            .iter()
            .filter(|a| !a["silenced_by"].is_null())
            .count(),
        2
    );

    // Ended early by an operator: refused to viewers, unknown ids and twice; nothing changes then.
    let path = format!("/api/v1/silences/{long}");
    assert_eq!(
        app.delete(&path, &viewer).await.status,
        StatusCode::FORBIDDEN
    );
    assert_eq!(
        app.delete("/api/v1/silences/999999", &admin).await.status,
        StatusCode::NOT_FOUND
    );
    assert!(receiver.texts().iter().all(|t| !t.contains("job=api")));
    let ended = app.delete(&path, &admin).await;
    assert_eq!(ended.status, StatusCode::OK, "{}", ended.body);
    assert!(ended.json()["ends_at"].as_i64().unwrap() <= flightdeck::now_ms());
    assert_eq!(app.delete(&path, &admin).await.status, StatusCode::CONFLICT);
    assert!(app
        .audit_actions()
        .await
        .contains(&"silence.expired".to_string()));
    let detail = app
        .get(&format!("/api/v1/alerts/{api}"), &admin)
        .await
        .json();
    assert!(detail["silenced_by"].is_null(), "{detail}");
    assert!(history_kinds(&app, &admin, api)
        .await
        .contains(&"unsilenced".to_string()));
    // Its escalation resumes: the first step (due at once) notifies the channel.
    let later = flightdeck::now_ms() + 10_000;
    app.state.alerts.escalate_due(later).await.unwrap();
    app.state.alerts.deliver_due(later).await.unwrap();
    // The background worker may have claimed the notification first; either way it arrives.
    for _ in 0..100 {
        if receiver.texts().iter().any(|t| t.contains("job=api")) {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    assert!(
        receiver.texts().iter().any(|t| t.contains("job=api")),
        "{:?}",
        receiver.texts()
    );

    // Ended on time: the worker releases the alert once the end has passed.
    app.state
        .alerts
        .release_ended_silences(later)
        .await
        .unwrap();
    let detail = app
        .get(&format!("/api/v1/alerts/{web}"), &admin)
        .await
        .json();
    assert!(
        detail["silenced_by"].is_null(),
        "silence {short} ended: {detail}"
    );
    assert!(history_kinds(&app, &admin, web)
        .await
        .contains(&"unsilenced".to_string()));
}

async fn silences_that_would_hide_everything_or_forever_are_refused(app: TestApp) {
    let operator = app.new_token("oncall", Role::Operator).await;
    let in_days = |days: i64| flightdeck::now_ms() + days * 86_400_000;
    let matcher = |name: &str, value: &str, regex: bool| json!({"name": name, "value": value, "isRegex": regex, "isEqual": true});
    let refused = [
        json!({"matchers": [matcher("alertname", ".*", true)], "ends_at": in_days(1), "comment": "all"}),
        json!({"matchers": [{"name": "job", "value": "api", "isRegex": false, "isEqual": false}], "ends_at": in_days(1), "comment": "not api"}),
        json!({"matchers": [matcher("job", "api", false)], "ends_at": in_days(31), "comment": "forever"}),
        json!({"matchers": [matcher("job", &"a".repeat(2000), true)], "ends_at": in_days(1), "comment": "huge"}),
    ];
    for body in refused {
        let res = app
            .post_json("/api/v1/silences", &operator, body.clone())
            .await;
        assert_eq!(
            res.status,
            StatusCode::UNPROCESSABLE_ENTITY,
            "{body}: {}",
            res.body
        );
    }
    assert_eq!(
        count(&app, "silences").await,
        0,
        "refused silences store nothing"
    );
    let ok = json!({"matchers": [matcher("alertname", ".*", true), matcher("job", "api", false)],
        "ends_at": in_days(30) - 60_000, "comment": "api maintenance"});
    let res = app.post_json("/api/v1/silences", &operator, ok).await;
    assert_eq!(res.status, StatusCode::CREATED, "{}", res.body);
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
    fire_api_and_db(&app, &admin).await;
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
    // The background worker may have notified it before the silence (its first step is due at
    // once) and record that delivery after; the silence is in the history either way.
    let kinds: Vec<&str> = web["history"]
        .as_array()
        .unwrap()
        .iter()
        .map(|h| h["kind"].as_str().unwrap())
        .collect();
    assert!(kinds.contains(&"silenced"), "{kinds:?}");
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

on_both_databases!(
    unacknowledged_alerts_escalate_on_time,
    notifications_are_retried_with_backoff,
    a_silence_that_ends_releases_its_alerts,
    silences_that_would_hide_everything_or_forever_are_refused,
    silenced_alerts_are_kept_but_notify_nobody,
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
