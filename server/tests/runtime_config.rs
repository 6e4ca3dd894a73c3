//! Runtime configuration over the REST API, on both databases: overrides, masking of sensitive
//! values everywhere they could leak, roles, audit and undoing a change.

mod common;
use app::model::Role;
use axum::http::StatusCode;
use common::{Auth, TestApp};
use serde_json::{json, Value};

const SECRET: &str = "s3cr3t-db-password-7f1c";

async fn with_environments(app: &TestApp) -> Auth {
    let admin = app.new_token("config-admin", Role::Admin).await;
    for (name, rank) in [("staging", 20), ("production", 40)] {
        app.create_environment(&admin, name, rank, false).await;
    }
    admin
}

fn by_key<'a>(list: &'a Value, key: &str) -> &'a Value {
    list.as_array()
        .unwrap()
        .iter()
        .find(|e| e["key"] == key)
        .unwrap_or_else(|| panic!("{key} missing from {list}"))
}

async fn environments_override_the_value_for_all(app: TestApp) {
    let admin = with_environments(&app).await;
    let put = |env: &str, key: &str, body: Value| {
        let (app, admin, path) = (&app, &admin, format!("/api/v1/config/{env}/{key}"));
        async move { app.put_json(&path, admin, body).await }
    };
    let created = put("all", "http.timeout_ms", json!({"value": 500})).await;
    assert_eq!(created.status, StatusCode::CREATED, "{}", created.body);
    assert_eq!(
        put("production", "http.timeout_ms", json!({"value": 250}))
            .await
            .status,
        StatusCode::CREATED
    );
    let updated = put(
        "production",
        "http.timeout_ms",
        json!({"value": 300, "reason": "slow upstream"}),
    )
    .await;
    assert_eq!(updated.status, StatusCode::OK);
    assert_eq!(updated.json()["version"], 2);
    put("all", "log.level", json!({"value": "info"})).await;

    let prod = app
        .get("/api/v1/config?environment=production", &admin)
        .await
        .json();
    assert_eq!(by_key(&prod, "http.timeout_ms")["value"], 300);
    assert_eq!(by_key(&prod, "http.timeout_ms")["source"], "production");
    assert_eq!(by_key(&prod, "log.level")["source"], "all");
    let staging = app
        .get("/api/v1/config?environment=staging", &admin)
        .await
        .json();
    assert_eq!(by_key(&staging, "http.timeout_ms")["value"], 500);
    assert_eq!(by_key(&staging, "http.timeout_ms")["source"], "all");
    assert_eq!(
        app.get("/api/v1/config?environment=nowhere", &admin)
            .await
            .status,
        StatusCode::NOT_FOUND
    );

    // Bad input: a clear 4xx and nothing stored.
    for (path, body, status) in [
        (
            "/api/v1/config/all/Bad%20Key",
            json!({"value": 1}),
            StatusCode::UNPROCESSABLE_ENTITY,
        ),
        (
            "/api/v1/config/all/ok.key",
            json!({"sensitive": true}),
            StatusCode::UNPROCESSABLE_ENTITY,
        ),
        (
            "/api/v1/config/all/ok.key",
            json!({"value": null}),
            StatusCode::UNPROCESSABLE_ENTITY,
        ),
        (
            "/api/v1/config/all/ok.key",
            json!({"value": 1, "colour": "red"}),
            StatusCode::UNPROCESSABLE_ENTITY,
        ),
        (
            "/api/v1/config/nowhere/ok.key",
            json!({"value": 1}),
            StatusCode::NOT_FOUND,
        ),
    ] {
        let res = app.put_json(path, &admin, body).await;
        assert_eq!(res.status, status, "{path}: {}", res.body);
    }
    let all = app.get("/api/v1/config", &admin).await.json();
    assert_eq!(all.as_array().unwrap().len(), 3, "{all}");

    // Deleting production's own value brings back the one for all.
    assert_eq!(
        app.delete("/api/v1/config/production/http.timeout_ms", &admin)
            .await
            .status,
        StatusCode::NO_CONTENT
    );
    let prod = app
        .get("/api/v1/config?environment=production", &admin)
        .await
        .json();
    assert_eq!(by_key(&prod, "http.timeout_ms")["source"], "all");
    assert_eq!(
        app.delete("/api/v1/config/production/http.timeout_ms", &admin)
            .await
            .status,
        StatusCode::NOT_FOUND
    );
}

async fn sensitive_values_never_come_back(app: TestApp) {
    let admin = with_environments(&app).await;
    let viewer = app.new_token("config-viewer", Role::Viewer).await;
    let set = app
        .put_json(
            "/api/v1/config/production/db.password",
            &admin,
            json!({"value": SECRET, "sensitive": true}),
        )
        .await;
    assert_eq!(set.status, StatusCode::CREATED);
    // Changed later without saying `sensitive`: it stays sensitive.
    let changed = app
        .put_json(
            "/api/v1/config/production/db.password",
            &admin,
            json!({"value": format!("{SECRET}-2")}),
        )
        .await;
    assert_eq!(changed.json()["sensitive"], true);

    let mut seen = vec![set.body, changed.body];
    for path in [
        "/api/v1/config?environment=production",
        "/api/v1/config",
        "/api/v1/config/production/db.password/history",
        "/api/v1/audit",
        "/api/v1/audit/export?format=json",
        "/api/v1/audit/export?format=csv",
    ] {
        let res = app.get(path, &viewer).await;
        assert_eq!(res.status, StatusCode::OK, "{path}");
        seen.push(res.body);
    }
    let page = app
        .get("/api/v1/config?environment=production", &viewer)
        .await
        .json();
    let entry = by_key(&page, "db.password");
    assert_eq!(
        (entry["value"].clone(), entry["set"].clone()),
        (Value::Null, json!(true))
    );
    assert_eq!(entry["updated_by"], "token:config-admin");
    let events: Vec<String> = sqlx::query_scalar("SELECT data FROM event")
        .fetch_all(&app.state.db.pool)
        .await
        .unwrap();
    seen.extend(events);
    for text in seen {
        assert!(!text.contains(SECRET), "a sensitive value leaked: {text}");
    }
}

async fn only_admins_change_config_and_every_change_is_audited(app: TestApp) {
    let admin = with_environments(&app).await;
    let operator = app.new_token("ops", Role::Operator).await;
    app.put_json(
        "/api/v1/config/all/feature.limit",
        &admin,
        json!({"value": 10}),
    )
    .await;
    let refused = app
        .put_json(
            "/api/v1/config/all/feature.limit",
            &operator,
            json!({"value": 99}),
        )
        .await;
    assert_eq!(refused.status, StatusCode::FORBIDDEN);
    assert_eq!(
        app.delete("/api/v1/config/all/feature.limit", &operator)
            .await
            .status,
        StatusCode::FORBIDDEN
    );
    let now = app
        .get("/api/v1/config?environment=staging", &operator)
        .await
        .json();
    assert_eq!(by_key(&now, "feature.limit")["value"], 10);
    assert_eq!(
        app.get("/api/v1/config", &Auth::None).await.status,
        StatusCode::UNAUTHORIZED
    );

    app.put_json(
        "/api/v1/config/all/feature.limit",
        &admin,
        json!({"value": 20}),
    )
    .await;
    app.put_json(
        "/api/v1/config/all/feature.limit",
        &admin,
        json!({"value": 30}),
    )
    .await;
    let history = app
        .get("/api/v1/config/all/feature.limit/history", &admin)
        .await
        .json();
    let values: Vec<(Value, Value)> = history
        .as_array()
        .unwrap()
        .iter()
        .map(|c| (c["old_value"].clone(), c["new_value"].clone()))
        .collect();
    assert_eq!(
        values,
        [
            (json!(20), json!(30)),
            (json!(10), json!(20)),
            (Value::Null, json!(10))
        ]
    );

    // Undo the change from 10 to 20: the key is back to 10.
    let change = history[1]["id"].as_i64().unwrap();
    let restored = app
        .post_json(
            "/api/v1/config/all/feature.limit/restore",
            &admin,
            json!({"change_id": change}),
        )
        .await;
    assert_eq!(restored.status, StatusCode::OK, "{}", restored.body);
    assert_eq!(restored.json()["value"], 10);
    let audit: Vec<String> = app
        .audit_actions()
        .await
        .into_iter()
        .filter(|a| a.starts_with("config."))
        .collect();
    assert_eq!(audit, ["config.set"; 4]);
    let details: Vec<String> =
        sqlx::query_scalar("SELECT detail FROM audit WHERE action = 'config.set' ORDER BY id")
            .fetch_all(&app.state.db.pool)
            .await
            .unwrap();
    let last: Value = serde_json::from_str(details.last().unwrap()).unwrap();
    assert_eq!(
        (last["old"].clone(), last["new"].clone()),
        (json!(30), json!(10))
    );
}

/// Whatever JSON goes in comes back the same, on both databases.
async fn values_round_trip(app: TestApp) {
    let admin = with_environments(&app).await;
    let values = [
        json!(0),
        json!(-17),
        json!(3.25),
        json!(1e300),
        json!(true),
        json!(""),
        json!("ünïcødé ✓ \"quoted\" \n new line"),
        json!([1, "two", null, {"three": [3]}]),
        json!({"nested": {"deep": [true, false]}, "empty": {}}),
        json!(i64::MAX),
    ];
    for (i, value) in values.iter().enumerate() {
        let path = format!("/api/v1/config/staging/k{i}");
        let res = app.put_json(&path, &admin, json!({"value": value})).await;
        assert_eq!(res.status, StatusCode::CREATED, "{value}: {}", res.body);
        assert_eq!(&res.json()["value"], value);
    }
    let read = app
        .get("/api/v1/config?environment=staging", &admin)
        .await
        .json();
    for (i, value) in values.iter().enumerate() {
        assert_eq!(&by_key(&read, &format!("k{i}"))["value"], value);
    }
}

on_both_databases!(
    values_round_trip,
    environments_override_the_value_for_all,
    sensitive_values_never_come_back,
    only_admins_change_config_and_every_change_is_audited,
);
