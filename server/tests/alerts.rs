//! Alerts on both databases: Alertmanager's webhook (firing, repeated, grouped, resolved,
//! malformed), Alertmanager's `POST /api/v2/alerts`, acknowledge / escalate / resolve with their
//! history, the feed's filters and pages, and retention. Escalation, notifications and the
//! silences that hold them back are in notifications.rs.

mod common;
use app::model::Role;
use axum::http::StatusCode;
use common::alerts::*;
use common::{Auth, TestApp};
use serde_json::json;
use sqlx::Row;

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

    // The same alert again, twice in one request and with a new summary: one alert, counted
    // three times, showing the latest summary, no new history entry.
    let mut reworded = alert("firing", "api", "critical");
    reworded["annotations"]["summary"] = json!("api p99 latency over 2s");
    let repeat = send_webhook(
        &app,
        &am,
        webhook("firing", vec![alert("firing", "api", "critical"), reworded]),
    )
    .await;
    assert_eq!(repeat.json()["updated"], 2);
    let id = api["id"].as_i64().unwrap();
    let detail = app
        .get(&format!("/api/v1/alerts/{id}"), &viewer)
        .await
        .json();
    assert_eq!(detail["fire_count"], 3);
    assert_eq!(detail["summary"], "api p99 latency over 2s");
    assert!(detail["last_seen"].as_i64() >= api["last_seen"].as_i64());
    assert_eq!(detail["history"].as_array().unwrap().len(), 1);
    assert_eq!(count(&app, "alerts").await, 2);

    // A repeat beside a new alert (the all-repeats shortcut does not apply and is undone): the
    // new alert opens with its history entry, the repeat counts once.
    let mixed = send_webhook(
        &app,
        &am,
        webhook(
            "firing",
            vec![
                alert("firing", "web", "warning"),
                alert("firing", "queue", "warning"),
            ],
        ),
    )
    .await;
    assert_eq!(
        (
            mixed.json()["opened"].clone(),
            mixed.json()["updated"].clone()
        ),
        (json!(1), json!(1))
    );
    let alerts = feed(&app, &viewer, "").await;
    let by_job = |job: &str| {
        alerts
            .iter()
            .find(|a| a["labels"]["job"] == job)
            .unwrap()
            .clone()
    };
    assert_eq!(by_job("web")["fire_count"], 2);
    assert_eq!(by_job("queue")["fire_count"], 1);
    let queue_id = by_job("queue")["id"].as_i64().unwrap();
    let queue = app
        .get(&format!("/api/v1/alerts/{queue_id}"), &viewer)
        .await
        .json();
    assert_eq!(queue["history"][0]["kind"], "fired");
    assert_eq!(count(&app, "alerts").await, 3);

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
    assert_eq!(count(&app, "alerts").await, 3);

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
    // No labels; an alert written as the list of its fields, which serde alone would read.
    for body in [r#"[{"labels": {}}]"#, r#"[[{"alertname": "DiskFull"}]]"#] {
        let v2 = app
            .post_raw("/api/v2/alerts", &am, &[], body.as_bytes().to_vec())
            .await;
        assert_eq!(v2.status, StatusCode::BAD_REQUEST, "{body}");
    }
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
    // A source link that is not http(s) is dropped, not stored for operators to click.
    let scripted = json!([{"labels": {"alertname": "Scripted"}, "generatorURL": "javascript:alert(document.cookie)"},
        {"labels": {"alertname": "Linked"}, "generatorURL": "http://prometheus:9090/graph"}]);
    app.post_raw(
        "/api/v2/alerts",
        &prom,
        &[],
        scripted.to_string().into_bytes(),
    )
    .await;
    let all = feed(&app, &prom, "").await;
    let link =
        |name: &str| all.iter().find(|a| a["name"] == name).unwrap()["generator_url"].clone();
    assert_eq!(link("Scripted"), serde_json::Value::Null);
    assert_eq!(link("Linked"), "http://prometheus:9090/graph");
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
    // No policy covers it: the preview says nobody would be notified, before anyone escalates.
    let preview = app.get(&path("escalation"), &viewer).await;
    assert_eq!(preview.status, StatusCode::OK, "{}", preview.body);
    assert_eq!(
        preview.json(),
        json!({"policy": null, "channel": null, "step": 1, "steps": 0})
    );
    // A body that is no object is refused and changes nothing (serde would read `[]` as a
    // struct whose fields all have defaults).
    for bad in [json!([]), json!(["looking"]), json!("looking"), json!(null)] {
        let res = app.post_json(&path("escalate"), &oncall, bad.clone()).await;
        assert_eq!(
            res.status,
            StatusCode::UNPROCESSABLE_ENTITY,
            "{bad}: {}",
            res.body
        );
    }
    assert_eq!(
        app.get(&format!("/api/v1/alerts/{id}"), &viewer)
            .await
            .json()["status"],
        "acknowledged"
    );
    let escalated = app
        .post_json(&path("escalate"), &oncall, json!({}))
        .await
        .json();
    assert_eq!(escalated["status"], "escalated");
    // Escalating asks for more help; it does not take the alert from whoever acknowledged it.
    assert_eq!(escalated["acknowledged_by"], "oncall");
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

async fn resolved_alerts_past_the_retention_are_deleted(app: TestApp) {
    let am = app.new_token("alertmanager", Role::Operator).await;
    let fired = vec![
        alert("firing", "old", "warning"),
        alert("firing", "still", "critical"),
    ];
    send_webhook(&app, &am, webhook("firing", fired)).await;
    send_webhook(
        &app,
        &am,
        webhook("resolved", vec![alert("resolved", "old", "warning")]),
    )
    .await;
    let silence = json!({"matchers": [{"name": "job", "value": "nothing"}],
                         "ends_at": flightdeck::now_ms() + 60_000, "comment": "short"});
    app.post_json("/api/v1/silences", &am, silence).await;
    let alerts = feed(&app, &am, "").await;
    let id_of =
        |job: &str| alerts.iter().find(|a| a["labels"]["job"] == job).unwrap()["id"].clone();
    let (old, still) = (id_of("old"), id_of("still"));

    // Within the retention (90 days by default) nothing goes.
    assert_eq!(
        app.state.alerts.prune(flightdeck::now_ms()).await.unwrap(),
        0
    );
    let later = flightdeck::now_ms() + 91 * 86_400_000;
    assert_eq!(app.state.alerts.prune(later).await.unwrap(), 1);
    assert_eq!(
        app.get(&format!("/api/v1/alerts/{old}"), &am).await.status,
        StatusCode::NOT_FOUND
    );
    let history: i64 = sqlx::query("SELECT COUNT(*) FROM alert_events WHERE alert_id = $1")
        .bind(old.as_i64().unwrap())
        .fetch_one(&app.state.db.pool)
        .await
        .unwrap()
        .get(0);
    assert_eq!(history, 0, "its history went with it");
    // Still firing, however old: kept.
    assert_eq!(
        app.get(&format!("/api/v1/alerts/{still}"), &am)
            .await
            .status,
        StatusCode::OK
    );
    assert_eq!(count(&app, "silences").await, 0);
}

on_both_databases!(
    alertmanager_webhooks_open_group_and_resolve,
    malformed_or_unauthorized_alerts_store_nothing,
    prometheus_posts_merge_with_alertmanager_and_expire,
    people_acknowledge_escalate_and_resolve,
    the_feed_filters_and_pages,
    resolved_alerts_past_the_retention_are_deleted,
);
