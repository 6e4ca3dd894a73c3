//! The Config page's changes through its server functions (set, remove, undo): admins only, and
//! the name of the first protected environment a change reaches typed out. A value for all
//! environments reaches the protected ones without a value of their own. Each refusal changes
//! nothing; what is set is what the apps read.

mod common;
use app::model::Role;
use axum::http::StatusCode;
use common::{Auth, TestApp};
use serde_json::{json, Value};

on_both_databases!(
    a_change_for_all_asks_for_the_protected_environments_it_reaches,
    removing_and_undoing_in_production_ask_for_its_name,
);

async fn with_environments(app: &TestApp) -> Auth {
    let admin = app.new_token("config-admin", Role::Admin).await;
    for (name, rank, protected) in [
        ("staging", 20, false),
        ("canary", 30, true),
        ("production", 40, true),
    ] {
        app.create_environment(&admin, name, rank, protected).await;
    }
    admin
}

/// What the page's edit dialog sends: `value` as JSON.
async fn set(
    app: &TestApp,
    auth: &Auth,
    scope: &str,
    key: &str,
    value: &str,
    confirm: &str,
) -> common::TestResponse {
    let form = [
        ("environment", scope),
        ("key", key),
        ("value", value),
        ("json", "true"),
        ("reason", "INC-31"),
        ("confirm", confirm),
    ];
    app.server_fn("config_set", auth, &form).await
}

/// The value apps in `environment` read for `key`, if any.
async fn read(app: &TestApp, auth: &Auth, environment: &str, key: &str) -> Option<Value> {
    let values = app
        .get(&format!("/api/v1/config?environment={environment}"), auth)
        .await
        .json();
    values
        .as_array()
        .unwrap()
        .iter()
        .find(|v| v["key"] == key)
        .map(|v| v["value"].clone())
}

async fn changes(app: &TestApp, auth: &Auth, scope: &str, key: &str) -> Vec<Value> {
    let path = format!("/api/v1/config/{scope}/{key}/history");
    let history = app.get(&path, auth).await.json();
    history.as_array().cloned().unwrap_or_default()
}

async fn a_change_for_all_asks_for_the_protected_environments_it_reaches(app: TestApp) {
    let admin = with_environments(&app).await;
    let operator = app.new_token("ops", Role::Operator).await;
    let key = "http.timeout_ms";

    // A value that cannot be stored says so before any name is asked for.
    let bad = [("{", key), ("500", "Bad Key")];
    for (value, key) in bad {
        let res = set(&app, &admin, "all", key, value, "").await;
        assert_eq!(res.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", res.body);
    }
    let res = set(&app, &operator, "all", key, "500", "canary").await;
    assert_eq!(res.status, StatusCode::FORBIDDEN, "{}", res.body);
    let res = set(&app, &admin, "nowhere", key, "500", "nowhere").await;
    assert_eq!(res.status, StatusCode::NOT_FOUND, "{}", res.body);
    // For all: canary is the first protected environment it reaches, not production.
    for confirm in ["", "production", "Canary"] {
        let res = set(&app, &admin, "all", key, "500", confirm).await;
        assert_eq!(
            res.status,
            StatusCode::CONFLICT,
            "{confirm:?}: {}",
            res.body
        );
        assert!(res.body.contains("canary is protected"), "{}", res.body);
    }
    assert_eq!(read(&app, &admin, "production", key).await, None);
    assert!(changes(&app, &admin, "all", key).await.is_empty());

    let res = set(&app, &admin, "all", key, "500", " canary ").await;
    assert_eq!(res.status, StatusCode::OK, "{}", res.body);
    assert_eq!(
        read(&app, &admin, "production", key).await,
        Some(json!(500))
    );

    // An unprotected environment asks nothing; a protected one asks for its own name.
    let res = set(&app, &admin, "staging", key, "900", "").await;
    assert_eq!(res.status, StatusCode::OK, "{}", res.body);
    let res = set(&app, &admin, "production", key, "250", "canary").await;
    assert_eq!(res.status, StatusCode::CONFLICT, "{}", res.body);
    assert!(res.body.contains("production is protected"), "{}", res.body);
    let res = set(&app, &admin, "production", key, "250", "production").await;
    assert_eq!(res.status, StatusCode::OK, "{}", res.body);

    // With production's own value, a change for all still reaches canary; once canary has
    // its own too, it reaches no protected environment and asks nothing.
    let res = set(&app, &admin, "all", key, "600", "").await;
    assert_eq!(res.status, StatusCode::CONFLICT, "{}", res.body);
    assert!(res.body.contains("canary is protected"), "{}", res.body);
    let res = set(&app, &admin, "canary", key, "300", "canary").await;
    assert_eq!(res.status, StatusCode::OK, "{}", res.body);
    let res = set(&app, &admin, "all", key, "600", "").await;
    assert_eq!(res.status, StatusCode::OK, "{}", res.body);
    let read_in = |environment| read(&app, &admin, environment, key);
    assert_eq!(read_in("production").await, Some(json!(250)));
    assert_eq!(read_in("canary").await, Some(json!(300)));
    assert_eq!(read_in("staging").await, Some(json!(900)));

    // The page reads which protected environments have a value of their own.
    let page = app
        .server_fn("config", &admin, &[("environment", "all")])
        .await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.body);
    let reach = &page.json()["reach"];
    assert_eq!(reach["protected"], json!(["canary", "production"]));
    assert_eq!(reach["own"][key], json!(["canary", "production"]));
}

async fn removing_and_undoing_in_production_ask_for_its_name(app: TestApp) {
    let admin = with_environments(&app).await;
    let key = "log.level";
    let res = set(&app, &admin, "all", key, "\"info\"", "canary").await;
    assert_eq!(res.status, StatusCode::OK, "{}", res.body);
    let res = set(&app, &admin, "production", key, "\"warn\"", "production").await;
    assert_eq!(res.status, StatusCode::OK, "{}", res.body);

    let remove = |scope: &'static str, confirm: &'static str| {
        let form = [
            ("environment", scope),
            ("key", key),
            ("reason", "back to the default"),
            ("confirm", confirm),
        ];
        let (app, admin) = (&app, admin.clone());
        async move { app.server_fn("config_delete", &admin, &form).await }
    };
    let res = remove("production", "").await;
    assert_eq!(res.status, StatusCode::CONFLICT, "{}", res.body);
    assert_eq!(
        read(&app, &admin, "production", key).await,
        Some(json!("warn"))
    );
    let res = remove("production", "production").await;
    assert_eq!(res.status, StatusCode::OK, "{}", res.body);
    assert_eq!(
        read(&app, &admin, "production", key).await,
        Some(json!("info"))
    );

    // Undo production's removal: it puts production's own value back, after its name.
    let history = changes(&app, &admin, "production", key).await;
    let removal = history[0]["id"].as_i64().unwrap().to_string();
    let undo = |confirm: &'static str| {
        let change_id = removal.clone();
        let (app, admin) = (&app, admin.clone());
        async move {
            let form = [
                ("environment", "production"),
                ("key", key),
                ("change_id", change_id.as_str()),
                ("confirm", confirm),
            ];
            app.server_fn("config_restore", &admin, &form).await
        }
    };
    let res = undo("").await;
    assert_eq!(res.status, StatusCode::CONFLICT, "{}", res.body);
    assert_eq!(changes(&app, &admin, "production", key).await.len(), 2);
    let res = undo("production").await;
    assert_eq!(res.status, StatusCode::OK, "{}", res.body);
    assert_eq!(
        read(&app, &admin, "production", key).await,
        Some(json!("warn"))
    );

    // Removing the value for all reaches canary (production keeps its own).
    let res = remove("all", "production").await;
    assert_eq!(res.status, StatusCode::CONFLICT, "{}", res.body);
    assert!(res.body.contains("canary is protected"), "{}", res.body);
    let res = remove("all", "canary").await;
    assert_eq!(res.status, StatusCode::OK, "{}", res.body);
    assert_eq!(read(&app, &admin, "canary", key).await, None);
    assert_eq!(
        read(&app, &admin, "production", key).await,
        Some(json!("warn"))
    );
}
