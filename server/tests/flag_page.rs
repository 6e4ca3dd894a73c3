//! The flag page's changes through its server functions (switch, rollout, restore): admins
//! only, and the name of the first protected environment a change reaches typed out. Each
//! refusal changes nothing; what is set is what the apps are served over OFREP. And its
//! history, read a page at a time.

mod common;
use app::model::Role;
use axum::http::StatusCode;
use common::flags::{checkout, evaluator, served_checkout};
use common::{Auth, TestApp};
use serde_json::{json, Value};

on_both_databases!(
    the_flag_page_changes_a_rollout,
    the_flag_page_switch_asks_where_it_reaches_a_protected_environment,
    a_version_comes_back_from_the_history,
    the_flag_page_reads_its_history_a_page_at_a_time,
);

/// What the flag page's rollout dialog sends.
async fn set_rollout(
    app: &TestApp,
    auth: &Auth,
    rollout: &str,
    environment: &str,
    confirm: &str,
) -> common::TestResponse {
    let form = [
        ("key", "new-checkout"),
        ("rollout", rollout),
        ("reason", "ramp up after INC-9"),
        ("environment", environment),
        ("confirm", confirm),
    ];
    app.server_fn("flag_rollout", auth, &form).await
}

/// The flag page's rollout dialog, through its server function: admins only, shares that sum
/// to 100, a protected environment's name typed out; each refusal changes nothing, and what
/// is set is what the apps are served.
async fn the_flag_page_changes_a_rollout(app: TestApp) {
    let admin = app.new_token("flag-admin", Role::Admin).await;
    let operator = app.new_token("ops", Role::Operator).await;
    for (name, rank, protected) in [("staging", 20, false), ("production", 40, true)] {
        let env = json!({"name": name, "rank": rank, "protected": protected});
        let res = app.post_json("/api/v1/environments", &admin, env).await;
        assert_eq!(res.status, StatusCode::CREATED, "{}", res.body);
    }
    let res = app.post_json("/api/v1/flags", &admin, checkout()).await;
    assert_eq!(res.status, StatusCode::CREATED, "{}", res.body);
    let refusals = [
        (
            &operator,
            r#"{"on": 50, "off": 50}"#,
            "",
            StatusCode::FORBIDDEN,
        ),
        (
            &admin,
            r#"{"on": 50, "off": 40}"#,
            "",
            StatusCode::UNPROCESSABLE_ENTITY,
        ),
        (
            &admin,
            r#"{"on": 50, "maybe": 50}"#,
            "",
            StatusCode::UNPROCESSABLE_ENTITY,
        ),
        (&admin, "on=50", "", StatusCode::UNPROCESSABLE_ENTITY),
        (
            &admin,
            r#"{"on": 10, "off": 90}"#,
            "production",
            StatusCode::CONFLICT,
        ),
        // The base settings serve production too (it has no rollout of its own).
        (&admin, r#"{"on": 10, "off": 90}"#, "", StatusCode::CONFLICT),
        (
            &admin,
            r#"{"on": 10, "off": 90}"#,
            "nowhere",
            StatusCode::NOT_FOUND,
        ),
    ];
    for (auth, rollout, environment, status) in refusals {
        let res = set_rollout(&app, auth, rollout, environment, "").await;
        assert_eq!(
            res.status, status,
            "{rollout} in {environment:?}: {}",
            res.body
        );
        let flag = app.get("/api/v1/flags/new-checkout", &admin).await.json();
        assert_eq!(
            (flag["version"].clone(), flag["rollout"]["on"].clone()),
            (json!(1), json!(30.0))
        );
    }

    let res = set_rollout(&app, &admin, r#"{"on": 50, "off": 50}"#, "", "production").await;
    assert_eq!(res.status, StatusCode::OK, "{}", res.body);
    let res = set_rollout(
        &app,
        &admin,
        r#"{"on": 100, "off": 0}"#,
        "production",
        "production",
    )
    .await;
    assert_eq!(res.status, StatusCode::OK, "{}", res.body);
    let flag = app.get("/api/v1/flags/new-checkout", &admin).await.json();
    assert_eq!(flag["rollout"], json!({"on": 50.0, "off": 50.0}));
    assert_eq!(
        flag["environments"]["production"]["rollout"],
        json!({"on": 100.0, "off": 0.0})
    );
    assert_eq!(flag["updated_by"], "token:flag-admin");
    let history = app
        .get("/api/v1/flags/new-checkout/history", &admin)
        .await
        .json();
    assert_eq!(history[0]["reason"], "ramp up after INC-9");

    // Production's apps get the new share: someone no rule picks out is served "on" by the split.
    let production = evaluator(&app, &admin, Some("production")).await;
    let served = served_checkout(&app, &production, "zed").await;
    assert_eq!(
        (served["variant"].clone(), served["reason"].clone()),
        (json!("on"), json!("SPLIT"))
    );
}

/// The flag page's switch, through its server function: it asks for the name of the first
/// protected environment whose users it reaches, and only that one. A base switch does not
/// reach an environment with a switch of its own. Each refusal changes nothing.
async fn the_flag_page_switch_asks_where_it_reaches_a_protected_environment(app: TestApp) {
    let admin = app.new_token("flag-admin", Role::Admin).await;
    for (name, rank, protected) in [
        ("staging", 20, false),
        ("canary", 30, true),
        ("production", 40, true),
    ] {
        app.create_environment(&admin, name, rank, protected).await;
    }
    let mut flag = checkout();
    flag["environments"] = json!({"production": {"enabled": true}});
    let res = app.post_json("/api/v1/flags", &admin, flag).await;
    assert_eq!(res.status, StatusCode::CREATED, "{}", res.body);
    let switch = |enabled: &'static str, environment: &'static str, confirm: &'static str| {
        let form = [
            ("key", "new-checkout"),
            ("enabled", enabled),
            ("reason", "INC-14"),
            ("environment", environment),
            ("confirm", confirm),
        ];
        let (app, admin) = (&app, admin.clone());
        async move { app.server_fn("flag_toggle", &admin, &form).await }
    };
    let version =
        || async { app.get("/api/v1/flags/new-checkout", &admin).await.json()["version"].clone() };

    // Off everywhere without a switch of its own: canary, not production.
    for (confirm, status) in [
        ("", StatusCode::CONFLICT),
        ("production", StatusCode::CONFLICT),
    ] {
        let res = switch("false", "", confirm).await;
        assert_eq!(res.status, status, "{confirm:?}: {}", res.body);
        assert!(res.body.contains("canary is protected"), "{}", res.body);
        assert_eq!(version().await, json!(1));
    }
    let res = switch("false", "", "canary").await;
    assert_eq!(res.status, StatusCode::OK, "{}", res.body);
    let production = evaluator(&app, &admin, Some("production")).await;
    let canary = evaluator(&app, &admin, Some("canary")).await;
    assert_eq!(
        served_checkout(&app, &production, "alice").await["variant"],
        "on"
    );
    assert_eq!(
        served_checkout(&app, &canary, "alice").await["reason"],
        "DISABLED"
    );

    // One environment: a protected one asks, an unprotected one does not, an unknown one is 404.
    let res = switch("false", "production", "").await;
    assert_eq!(res.status, StatusCode::CONFLICT, "{}", res.body);
    let res = switch("false", "nowhere", "nowhere").await;
    assert_eq!(res.status, StatusCode::NOT_FOUND, "{}", res.body);
    assert_eq!(version().await, json!(2));
    let res = switch("true", "staging", "").await;
    assert_eq!(res.status, StatusCode::OK, "{}", res.body);
    let res = switch("false", "production", "production").await;
    assert_eq!(res.status, StatusCode::OK, "{}", res.body);
    assert_eq!(
        served_checkout(&app, &production, "alice").await["reason"],
        "DISABLED"
    );
    assert_eq!(version().await, json!(4));
}

/// A flag change that went wrong is undone from the history: the settings a version had come
/// back as a new version, over REST and through the flag page's server function (which asks for
/// a protected environment's name where it reaches one). Each refusal changes nothing.
async fn a_version_comes_back_from_the_history(app: TestApp) {
    let admin = app.new_token("flag-admin", Role::Admin).await;
    let operator = app.new_token("ops", Role::Operator).await;
    let env = json!({"name": "production", "rank": 40, "protected": true});
    let res = app.post_json("/api/v1/environments", &admin, env).await;
    assert_eq!(res.status, StatusCode::CREATED, "{}", res.body);
    let res = app.post_json("/api/v1/flags", &admin, checkout()).await;
    assert_eq!(res.status, StatusCode::CREATED, "{}", res.body);
    let all_in = json!({"rollout": {"on": 100, "off": 0}, "reason": "all in"});
    let res = app
        .put_json("/api/v1/flags/new-checkout", &admin, all_in)
        .await;
    assert_eq!(res.status, StatusCode::OK, "{}", res.body);
    let history = app
        .get("/api/v1/flags/new-checkout/history", &admin)
        .await
        .json();
    let (latest, first) = (
        history[0]["id"].as_i64().unwrap(),
        history[1]["id"].as_i64().unwrap(),
    );

    let restore = |auth: &Auth, body: Value| {
        let auth = auth.clone();
        let app = &app;
        async move {
            app.post_json("/api/v1/flags/new-checkout/restore", &auth, body)
                .await
        }
    };
    let refusals = [
        (
            &operator,
            json!({"change_id": first}),
            StatusCode::FORBIDDEN,
        ),
        (&admin, json!({"change_id": 999_999}), StatusCode::NOT_FOUND),
        // What serves now already: nothing to restore.
        (
            &admin,
            json!({"change_id": latest}),
            StatusCode::UNPROCESSABLE_ENTITY,
        ),
        // Chosen on a page that showed version 1: the flag has moved on since.
        (
            &admin,
            json!({"change_id": first, "version": 1}),
            StatusCode::CONFLICT,
        ),
        (
            &admin,
            json!({"change_id": "one"}),
            StatusCode::UNPROCESSABLE_ENTITY,
        ),
    ];
    for (auth, body, status) in refusals {
        let res = restore(auth, body.clone()).await;
        assert_eq!(res.status, status, "{body}: {}", res.body);
        assert!(res.json()["error"]["message"].is_string(), "{}", res.body);
        let flag = app.get("/api/v1/flags/new-checkout", &admin).await.json();
        assert_eq!(
            (flag["version"].clone(), flag["rollout"]["on"].clone()),
            (json!(2), json!(100.0))
        );
    }
    let other = app
        .post_json(
            "/api/v1/flags/nothing-here/restore",
            &admin,
            json!({"change_id": first}),
        )
        .await;
    assert_eq!(other.status, StatusCode::NOT_FOUND, "{}", other.body);

    // The page: the base rollout reaches production, so its name must be typed.
    let (first_text, version) = (first.to_string(), "2".to_string());
    let page = |confirm: &'static str| {
        let form = [
            ("key", "new-checkout"),
            ("change_id", first_text.as_str()),
            ("version", version.as_str()),
            ("reason", "INC-12: checkout errors"),
            ("confirm", confirm),
        ];
        let app = &app;
        let admin = admin.clone();
        async move { app.server_fn("flag_restore", &admin, &form).await }
    };
    let res = page("").await;
    assert_eq!(res.status, StatusCode::CONFLICT, "{}", res.body);
    assert!(res.body.contains("production is protected"), "{}", res.body);
    let res = page("production").await;
    assert_eq!(res.status, StatusCode::OK, "{}", res.body);
    let flag = app.get("/api/v1/flags/new-checkout", &admin).await.json();
    assert_eq!(
        (flag["version"].clone(), flag["rollout"].clone()),
        (json!(3), json!({"on": 30.0, "off": 70.0}))
    );
    let history = app
        .get("/api/v1/flags/new-checkout/history", &admin)
        .await
        .json();
    assert_eq!(
        (history[0]["action"].clone(), history[0]["reason"].clone()),
        (
            json!("restored"),
            json!("Restores version 1: INC-12: checkout errors")
        )
    );
    assert!(app
        .audit_actions()
        .await
        .iter()
        .any(|a| a == "flag.restored"));

    // And forward again over REST, from the version the caller saw.
    let res = restore(&admin, json!({"change_id": latest, "version": 3})).await;
    assert_eq!(res.status, StatusCode::OK, "{}", res.body);
    assert_eq!(
        (
            res.json()["version"].clone(),
            res.json()["rollout"]["on"].clone()
        ),
        (json!(4), json!(100.0))
    );
    let production = evaluator(&app, &admin, Some("production")).await;
    let served = served_checkout(&app, &production, "zed").await;
    assert_eq!(served["variant"], "on");
}

/// The flag's page reads its latest 50 changes and the one before them; older pages are read
/// before a given change, by viewers too, down to the creation.
async fn the_flag_page_reads_its_history_a_page_at_a_time(app: TestApp) {
    let admin = app.new_token("flag-admin", Role::Admin).await;
    let viewer = app.new_token("watcher", Role::Viewer).await;
    let res = app.post_json("/api/v1/flags", &admin, checkout()).await;
    assert_eq!(res.status, StatusCode::CREATED, "{}", res.body);
    for share in 1..=55 {
        let ramp = json!({"rollout": {"on": share, "off": 100 - share}, "reason": format!("ramp to {share}%")});
        let res = app
            .put_json("/api/v1/flags/new-checkout", &admin, ramp)
            .await;
        assert_eq!(res.status, StatusCode::OK, "{}", res.body);
    }
    let reasons = |changes: &Value| -> Vec<String> {
        let list = changes.as_array().unwrap();
        list.iter()
            .map(|c| {
                c["reason"]
                    .as_str()
                    .unwrap_or(c["action"].as_str().unwrap())
                    .to_string()
            })
            .collect()
    };

    let page = app
        .server_fn("flag", &viewer, &[("key", "new-checkout")])
        .await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.body);
    let history = &page.json()["history"];
    let latest = reasons(&history["changes"]);
    assert_eq!((latest.len(), latest[0].as_str()), (50, "ramp to 55%"));
    assert_eq!(latest[49], "ramp to 6%");
    assert_eq!(history["older"]["reason"], "ramp to 5%");

    let before = history["changes"][49]["id"].as_i64().unwrap().to_string();
    let form = [("key", "new-checkout"), ("before", before.as_str())];
    let older = app.server_fn("flag_history", &viewer, &form).await;
    assert_eq!(older.status, StatusCode::OK, "{}", older.body);
    let older = older.json();
    assert_eq!(
        reasons(&older["changes"]),
        [
            "ramp to 5%",
            "ramp to 4%",
            "ramp to 3%",
            "ramp to 2%",
            "ramp to 1%",
            "created"
        ]
    );
    assert_eq!(older["older"], Value::Null, "the creation is the oldest");

    let form = [("key", "old-checkout"), ("before", before.as_str())];
    let missing = app.server_fn("flag_history", &viewer, &form).await;
    assert_eq!(missing.status, StatusCode::NOT_FOUND, "{}", missing.body);
    let form = [("key", "new-checkout"), ("before", "9")];
    let anonymous = app.server_fn("flag_history", &Auth::None, &form).await;
    assert_eq!(
        anonymous.status,
        StatusCode::UNAUTHORIZED,
        "{}",
        anonymous.body
    );
}
