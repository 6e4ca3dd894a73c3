//! Alert routing on both databases: admins add, change and remove notification channels and
//! escalation policies, from the settings page's server functions and over REST, and the alerts
//! the policies own follow.

mod common;
use app::model::Role;
use axum::http::StatusCode;
use common::alerts::*;
use common::{Auth, TestApp};
use serde_json::json;

async fn admins_route_alerts_from_the_settings_forms(app: TestApp) {
    let admin = app.new_token("admin-bot", Role::Admin).await;
    let viewer = app.new_token("wallboard", Role::Viewer).await;
    let channel = [
        ("name", "oncall"),
        ("kind", "webhook"),
        ("target", "https://hooks.example/s3cret"),
    ];
    assert_eq!(
        app.server_fn("channel_create", &viewer, &channel)
            .await
            .status,
        StatusCode::FORBIDDEN
    );
    let created = app.server_fn("channel_create", &admin, &channel).await;
    assert_eq!(created.status, StatusCode::OK, "{}", created.body);
    assert!(!created.body.contains("s3cret"), "{}", created.body);
    let listed = app.server_fn("channels", &viewer, &[]).await;
    assert!(
        listed.body.contains("oncall") && !listed.body.contains("s3cret"),
        "{}",
        listed.body
    );

    let policy = |steps: &'static str, rank: &'static str| {
        [
            ("name", "critical to on-call"),
            ("rank", rank),
            ("matchers", r#"severity="critical", job=~"api|web""#),
            ("steps", steps),
        ]
    };
    for (steps, rank) in [
        ("soon oncall", "0"),
        ("0 nobody", "0"),
        ("0 oncall", "first"),
    ] {
        let refused = app
            .server_fn("policy_create", &admin, &policy(steps, rank))
            .await;
        assert_eq!(
            refused.status,
            StatusCode::UNPROCESSABLE_ENTITY,
            "{steps}: {}",
            refused.body
        );
    }
    assert_eq!(
        app.server_fn("policy_create", &viewer, &policy("0 oncall", "0"))
            .await
            .status,
        StatusCode::FORBIDDEN
    );
    let created = app
        .server_fn(
            "policy_create",
            &admin,
            &policy("0 oncall\n15m oncall", "5"),
        )
        .await;
    assert_eq!(created.status, StatusCode::OK, "{}", created.body);
    let policies = app.get("/api/v1/escalation-policies", &viewer).await.json();
    let policies = policies.as_array().unwrap();
    assert_eq!(policies.len(), 1, "the refused ones were not stored");
    assert_eq!(policies[0]["rank"], 5);
    assert_eq!(
        policies[0]["steps"][1],
        json!({"delay_s": 900, "channel": "oncall"})
    );
    assert_eq!(policies[0]["matchers"][1]["isRegex"], true);
}

/// Removing routing: a channel in use is refused; a removed policy's alerts stop escalating; a
/// removed channel's unsent notifications are given up while the record of them stays on the
/// alert, and its name is free again.
async fn admins_remove_policies_and_channels(app: TestApp) {
    let admin = app.new_token("admin-bot", Role::Admin).await;
    let operator = app.new_token("deployer", Role::Operator).await;
    let receiver = Receiver::start(u32::MAX).await;
    setup_policy(&app, &admin, &receiver.url, 600, 900).await;
    let [api] = fire(&app, &admin, &["api"]).await[..] else {
        unreachable!()
    };
    // The first step is taken: a notification to `primary` waits for its retry (the receiver
    // refuses everything).
    let t1 = flightdeck::now_ms() + 601_000;
    assert_eq!(app.state.alerts.escalate_due(t1).await.unwrap(), 1);
    let channels = app.get("/api/v1/channels", &admin).await.json();
    let id_of = |name: &str| {
        channels
            .as_array()
            .unwrap()
            .iter()
            .find(|c| c["name"] == name)
            .unwrap()["id"]
            .as_i64()
            .unwrap()
    };
    let (primary, secondary) = (id_of("primary"), id_of("secondary"));

    let forbidden = app
        .delete(&format!("/api/v1/channels/{primary}"), &operator)
        .await;
    assert_eq!(forbidden.status, StatusCode::FORBIDDEN);
    let in_use = app
        .delete(&format!("/api/v1/channels/{primary}"), &admin)
        .await;
    assert_eq!(in_use.status, StatusCode::CONFLICT, "{}", in_use.body);
    assert!(in_use.body.contains("'default'"), "{}", in_use.body);
    assert_eq!(count(&app, "channels").await, 2, "nothing changed");
    let missing = app
        .delete("/api/v1/escalation-policies/999999", &admin)
        .await;
    assert_eq!(missing.status, StatusCode::NOT_FOUND);

    let policy_id = app.get("/api/v1/escalation-policies", &admin).await.json()[0]["id"]
        .as_i64()
        .unwrap();
    let removed = app
        .delete(&format!("/api/v1/escalation-policies/{policy_id}"), &admin)
        .await;
    assert_eq!(removed.status, StatusCode::NO_CONTENT, "{}", removed.body);
    assert_eq!(count(&app, "escalation_steps").await, 0);
    assert_eq!(
        app.state
            .alerts
            .escalate_due(t1 + 86_400_000)
            .await
            .unwrap(),
        0,
        "the alert no longer escalates"
    );

    let removed = app
        .delete(&format!("/api/v1/channels/{primary}"), &admin)
        .await;
    assert_eq!(removed.status, StatusCode::NO_CONTENT, "{}", removed.body);
    let names: Vec<String> = app
        .get("/api/v1/channels", &admin)
        .await
        .json()
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["name"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(names, ["secondary"]);
    let detail = app
        .get(&format!("/api/v1/alerts/{api}"), &admin)
        .await
        .json();
    let sent = &detail["notifications"][0];
    assert_eq!(sent["channel"], format!("primary (removed #{primary})"));
    assert_eq!(sent["status"], "failed");
    assert!(
        sent["last_error"]
            .as_str()
            .unwrap()
            .contains("removed the channel"),
        "{sent}"
    );
    assert_eq!(
        app.delete(&format!("/api/v1/channels/{primary}"), &admin)
            .await
            .status,
        StatusCode::NOT_FOUND,
        "removed already"
    );
    let again = app
        .post_json(
            "/api/v1/channels",
            &admin,
            json!({"name": "primary", "kind": "slack", "target": receiver.url}),
        )
        .await;
    assert_eq!(again.status, StatusCode::CREATED, "{}", again.body);

    // Resolving tells the channels that heard of it, but not the removed one.
    app.post_json(&format!("/api/v1/alerts/{api}/resolve"), &admin, json!({}))
        .await;
    let detail = app
        .get(&format!("/api/v1/alerts/{api}"), &admin)
        .await
        .json();
    assert_eq!(detail["status"], "resolved");
    assert_eq!(
        detail["notifications"].as_array().unwrap().len(),
        1,
        "{detail}"
    );

    // The settings page's server function, as the UI calls it.
    let id = secondary.to_string();
    let form = [("id", id.as_str())];
    assert_eq!(
        app.server_fn("channel_remove", &operator, &form)
            .await
            .status,
        StatusCode::FORBIDDEN
    );
    let removed = app.server_fn("channel_remove", &admin, &form).await;
    assert_eq!(removed.status, StatusCode::OK, "{}", removed.body);
    let audit = app.get("/api/v1/audit", &admin).await.body;
    for action in ["escalation_policy.removed", "channel.removed"] {
        assert!(audit.contains(action), "{action} audited");
    }
}

/// Changing a policy: the open alerts it owns keep it and their place, and take the new steps.
async fn admins_change_a_policy_and_its_alerts_keep_their_place(app: TestApp) {
    let admin = app.new_token("admin-bot", Role::Admin).await;
    let operator = app.new_token("deployer", Role::Operator).await;
    let receiver = Receiver::start(0).await;
    setup_policy(&app, &admin, &receiver.url, 600, 900).await;
    let [api] = fire(&app, &admin, &["api"]).await[..] else {
        unreachable!()
    };
    // Before its first step: escalating by hand would notify the first step's channel.
    let preview = app
        .get(&format!("/api/v1/alerts/{api}/escalation"), &operator)
        .await
        .json();
    assert_eq!(
        preview,
        json!({"policy": "default", "channel": "primary", "step": 1, "steps": 2})
    );
    let t1 = flightdeck::now_ms() + 601_000;
    assert_eq!(app.state.alerts.escalate_due(t1).await.unwrap(), 1);
    assert_eq!(status_of(&app, api).await.1, 1);
    let preview = app
        .get(&format!("/api/v1/alerts/{api}/escalation"), &operator)
        .await
        .json();
    assert_eq!(
        (preview["channel"].as_str(), preview["step"].as_i64()),
        (Some("secondary"), Some(2))
    );
    let policies = app.get("/api/v1/escalation-policies", &admin).await.json();
    let id = policies[0]["id"].as_i64().unwrap();
    let path = format!("/api/v1/escalation-policies/{id}");
    let put = |body: serde_json::Value, who: &Auth| {
        let (app, path) = (&app, path.clone());
        let who = who.clone();
        async move { app.put_json(&path, &who, body).await }
    };
    // 60.0 as Python's json writes a float: JSON Schema's integer, read as 60.
    let changed = json!({"name": "renamed", "rank": 3,
        "steps": [{"delay_s": 0, "channel": "secondary"}, {"delay_s": 60.0, "channel": "primary"}]});
    assert_eq!(
        put(changed.clone(), &operator).await.status,
        StatusCode::FORBIDDEN
    );
    let unknown = json!({"name": "renamed", "steps": [{"delay_s": 0, "channel": "nope"}]});
    assert_eq!(
        put(unknown, &admin).await.status,
        StatusCode::UNPROCESSABLE_ENTITY
    );
    app.post_json(
        "/api/v1/escalation-policies",
        &admin,
        json!({"name": "other", "rank": 9, "steps": [{"delay_s": 0, "channel": "primary"}]}),
    )
    .await;
    let clash = json!({"name": "other", "steps": [{"delay_s": 0, "channel": "primary"}]});
    assert_eq!(put(clash, &admin).await.status, StatusCode::CONFLICT);
    let blank_matcher = json!({"name": "renamed", "matchers": [{"name": " ", "value": "x"}],
        "steps": [{"delay_s": 0, "channel": "primary"}]});
    let refused = put(blank_matcher, &admin).await;
    assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(refused.body.contains("no label name"), "{}", refused.body);
    let missing = app
        .put_json(
            "/api/v1/escalation-policies/999999",
            &admin,
            changed.clone(),
        )
        .await;
    assert_eq!(missing.status, StatusCode::NOT_FOUND);
    let policies = app.get("/api/v1/escalation-policies", &admin).await.json();
    assert_eq!(
        policies[0]["name"], "default",
        "refused changes changed nothing"
    );
    assert_eq!(policies[0]["steps"][1]["delay_s"], 900);

    let saved = put(changed, &admin).await;
    assert_eq!(saved.status, StatusCode::OK, "{}", saved.body);
    assert_eq!(saved.json()["steps"][1]["channel"], "primary");
    assert_eq!(saved.json()["steps"][1]["delay_s"], 60);
    let policies = app.get("/api/v1/escalation-policies", &admin).await.json();
    assert_eq!(policies[0]["name"], "renamed");
    assert_eq!(policies[0]["rank"], 3);
    // The alert keeps its place (level 1) and schedule; its second step is now the new one.
    assert_eq!(status_of(&app, api).await.1, 1);
    assert_eq!(
        app.state.alerts.escalate_due(t1 + 899_000).await.unwrap(),
        0
    );
    assert_eq!(
        app.state.alerts.escalate_due(t1 + 901_000).await.unwrap(),
        1
    );
    let detail = app
        .get(&format!("/api/v1/alerts/{api}"), &admin)
        .await
        .json();
    let channels: Vec<&str> = detail["notifications"]
        .as_array()
        .unwrap()
        .iter()
        .map(|n| n["channel"].as_str().unwrap())
        .collect();
    // Step 0 went to `primary` under the old steps; step 1 under the new ones (the old step 1
    // was `secondary`).
    assert_eq!(channels, ["primary", "primary"]);

    // The settings page's server function, as the UI sends the form.
    let id_text = id.to_string();
    let form = [
        ("id", id_text.as_str()),
        ("name", "renamed"),
        ("rank", "1"),
        ("matchers", r#"severity="critical""#),
        ("steps", "0 primary\n15m secondary"),
    ];
    let saved = app.server_fn("policy_update", &admin, &form).await;
    assert_eq!(saved.status, StatusCode::OK, "{}", saved.body);
    let policies = app.get("/api/v1/escalation-policies", &admin).await.json();
    let renamed = policies
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["name"] == "renamed")
        .unwrap();
    assert_eq!(
        renamed["steps"][1],
        json!({"delay_s": 900, "channel": "secondary"})
    );
    assert_eq!(renamed["matchers"][0]["value"], "critical");
    let audit = app.get("/api/v1/audit", &admin).await.body;
    assert!(audit.contains("escalation_policy.updated"));
}

async fn admins_change_a_channel_and_its_unsent_notifications_follow(app: TestApp) {
    let admin = app.new_token("admin-bot", Role::Admin).await;
    let operator = app.new_token("oncall", Role::Operator).await;
    let (old, rotated) = (Receiver::start(0).await, Receiver::start(0).await);
    // The first step after 10 minutes: the background worker, on the real clock, never takes it.
    setup_policy(&app, &admin, &old.url, 600, 900).await;
    let before = app.get("/api/v1/channels", &admin).await.json();
    let id_of = |name: &str| {
        before
            .as_array()
            .unwrap()
            .iter()
            .find(|c| c["name"] == name)
            .unwrap()["id"]
            .as_i64()
            .unwrap()
    };
    let primary = id_of("primary");
    let path = format!("/api/v1/channels/{primary}");

    // Refusals change nothing.
    let change = |name: &str, kind: &str, target: &str| json!({"name": name, "kind": kind, "target": target});
    let refusals = [
        (
            &operator,
            path.clone(),
            change("pager", "slack", ""),
            StatusCode::FORBIDDEN,
        ),
        (
            &admin,
            "/api/v1/channels/999999".to_string(),
            change("pager", "slack", ""),
            StatusCode::NOT_FOUND,
        ),
        (
            &admin,
            path.clone(),
            change("primary", "email", ""),
            StatusCode::UNPROCESSABLE_ENTITY,
        ),
        (
            &admin,
            path.clone(),
            change("primary", "slack", "ftp://hooks"),
            StatusCode::UNPROCESSABLE_ENTITY,
        ),
        (
            &admin,
            path.clone(),
            change("secondary", "slack", ""),
            StatusCode::CONFLICT,
        ),
    ];
    for (auth, path, body, status) in refusals {
        let refused = app.put_json(&path, auth, body.clone()).await;
        assert_eq!(refused.status, status, "{body}: {}", refused.body);
    }
    assert_eq!(app.get("/api/v1/channels", &admin).await.json(), before);

    // Renamed from the settings form with the target left empty: the target stays, and the
    // policy's step follows the channel.
    let id = primary.to_string();
    let renamed = app
        .server_fn(
            "channel_update",
            &admin,
            &[
                ("id", &id),
                ("name", "pager"),
                ("kind", "slack"),
                ("target", ""),
            ],
        )
        .await;
    assert_eq!(renamed.status, StatusCode::OK, "{}", renamed.body);
    let renamed = renamed.json();
    let old_row = before
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["id"] == primary)
        .unwrap();
    assert_eq!(
        (&renamed["name"], &renamed["target"]),
        (&json!("pager"), &old_row["target"])
    );
    let policies = app.get("/api/v1/escalation-policies", &admin).await.json();
    assert_eq!(policies[0]["steps"][0]["channel"], "pager");

    // An alert's first step falls due; the webhook URL is rotated before it is sent, and the
    // notification goes to the new one.
    let [alert] = fire(&app, &admin, &["api"]).await[..] else {
        unreachable!()
    };
    let due = flightdeck::now_ms() + 601_000;
    assert_eq!(app.state.alerts.escalate_due(due).await.unwrap(), 1);
    let rotate = app
        .put_json(&path, &admin, change("pager", "slack", &rotated.url))
        .await;
    assert_eq!(rotate.status, StatusCode::OK, "{}", rotate.body);
    assert!(!rotate.body.contains("s3cr3t"), "{}", rotate.body);
    app.state.alerts.deliver_due(due).await.unwrap();
    assert_eq!((old.hits(), rotated.texts().len()), (0, 1));
    assert!(
        rotated.texts()[0].starts_with("Firing:"),
        "{:?}",
        rotated.texts()
    );
    let detail = app
        .get(&format!("/api/v1/alerts/{alert}"), &admin)
        .await
        .json();
    assert_eq!(detail["notifications"][0]["channel"], "pager");
    assert_eq!(detail["notifications"][0]["status"], "sent");

    let audit = app.get("/api/v1/audit?limit=500", &admin).await.body;
    assert_eq!(audit.matches("channel.updated").count(), 2, "{audit}");
    assert!(!audit.contains("s3cr3t"), "the URL is audited masked");
}

on_both_databases!(
    admins_route_alerts_from_the_settings_forms,
    admins_change_a_policy_and_its_alerts_keep_their_place,
    admins_remove_policies_and_channels,
    admins_change_a_channel_and_its_unsent_notifications_follow,
);
