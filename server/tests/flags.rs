//! Feature flags over the REST API, on both databases (their OFREP evaluation: `ofrep.rs`).

mod common;
use app::model::Role;
use axum::http::StatusCode;
use common::flags::{checkout, evaluator, served_checkout};
use common::{Auth, TestApp};
use serde_json::{json, Value};

async fn flag_count(app: &TestApp, auth: &Auth) -> usize {
    app.get("/api/v1/flags", auth)
        .await
        .json()
        .as_array()
        .unwrap()
        .len()
}

async fn flags_are_created_validated_changed_and_audited(app: TestApp) {
    let admin = app.new_token("flag-admin", Role::Admin).await;
    let res = app.post_json("/api/v1/flags", &admin, checkout()).await;
    assert_eq!(res.status, StatusCode::CREATED, "{}", res.body);
    assert_eq!(res.json()["version"], 1);
    assert_eq!(res.json()["updated_by"], "token:flag-admin");

    // Each kind of bad input: 422 naming the field, nothing stored.
    for (change, field) in [
        (json!({"key": "bad key!"}), "key"),
        (
            json!({"key": "other", "rollout": {"on": 30, "off": 60}}),
            "rollout",
        ),
        (
            json!({"key": "other", "default_variant": "maybe"}),
            "default_variant",
        ),
        (json!({"key": "other", "kind": "string"}), "variants.off"),
        (
            json!({"key": "other", "environments": {"nowhere": {"enabled": false}}}),
            "environments.nowhere",
        ),
        (
            json!({"key": "other", "kill_switch": {"slo": "no-such-slo", "variant": "off"}}),
            "kill_switch.slo",
        ),
        (
            json!({"key": "other", "rules": [{"users": ["a"], "variant": "on", "when": 1}]}),
            "Invalid flag",
        ),
    ] {
        let mut body = checkout();
        for (k, v) in change.as_object().unwrap() {
            body[k] = v.clone();
        }
        let res = app.post_json("/api/v1/flags", &admin, body).await;
        assert_eq!(
            res.status,
            StatusCode::UNPROCESSABLE_ENTITY,
            "{change}: {}",
            res.body
        );
        let message = res.json()["error"]["message"].as_str().unwrap().to_string();
        assert!(message.contains(field), "{change}: {message}");
    }
    assert_eq!(flag_count(&app, &admin).await, 1);
    let dup = app.post_json("/api/v1/flags", &admin, checkout()).await;
    assert_eq!(dup.status, StatusCode::CONFLICT);

    // A partial PUT changes what it names; a bad one changes nothing.
    let off = app
        .put_json(
            "/api/v1/flags/new-checkout",
            &admin,
            json!({"enabled": false, "reason": "INC-42"}),
        )
        .await;
    assert_eq!(off.status, StatusCode::OK, "{}", off.body);
    assert_eq!(off.json()["enabled"], false);
    assert_eq!(off.json()["rollout"]["on"], 30.0);
    assert_eq!(off.json()["version"], 2);
    let bad = app
        .put_json(
            "/api/v1/flags/new-checkout",
            &admin,
            json!({"rollout": {"on": 50, "off": 40}}),
        )
        .await;
    assert_eq!(bad.status, StatusCode::UNPROCESSABLE_ENTITY);
    let now = app.get("/api/v1/flags/new-checkout", &admin).await.json();
    assert_eq!(
        (now["version"].clone(), now["rollout"]["on"].clone()),
        (json!(2), json!(30.0))
    );

    // A whole flag replaces it: the rollout it leaves out is gone.
    let mut whole = checkout();
    whole.as_object_mut().unwrap().remove("rollout");
    let replaced = app
        .put_json("/api/v1/flags/new-checkout", &admin, whole)
        .await;
    assert_eq!(replaced.status, StatusCode::OK, "{}", replaced.body);
    assert!(replaced.json().get("rollout").is_none());

    let history = app
        .get("/api/v1/flags/new-checkout/history", &admin)
        .await
        .json();
    let actions: Vec<&str> = history
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["action"].as_str().unwrap())
        .collect();
    assert_eq!(actions, ["updated", "updated", "created"]);
    assert_eq!(history[1]["reason"], "INC-42");
    assert_eq!(history[1]["flag"]["enabled"], false);
    // Each entry is the flag as that change left it: its key, the version it made, and who.
    let versions: Vec<(&Value, &Value, &Value)> = history
        .as_array()
        .unwrap()
        .iter()
        .map(|c| {
            (
                &c["flag"]["key"],
                &c["flag"]["version"],
                &c["flag"]["updated_by"],
            )
        })
        .collect();
    assert_eq!(
        versions,
        [
            (
                &json!("new-checkout"),
                &json!(3),
                &json!("token:flag-admin")
            ),
            (
                &json!("new-checkout"),
                &json!(2),
                &json!("token:flag-admin")
            ),
            (
                &json!("new-checkout"),
                &json!(1),
                &json!("token:flag-admin")
            ),
        ]
    );

    assert_eq!(
        app.delete("/api/v1/flags/new-checkout", &admin)
            .await
            .status,
        StatusCode::NO_CONTENT
    );
    let gone = app.get("/api/v1/flags/new-checkout", &admin).await;
    assert_eq!(gone.status, StatusCode::NOT_FOUND);
    // One sentence (it read "There is no flag with key 'new-checkout'. was not found.").
    assert_eq!(
        gone.json()["error"]["message"],
        "There is no flag with key 'new-checkout'."
    );
    let audit = app.audit_actions().await;
    let flag_actions: Vec<&str> = audit
        .iter()
        .map(String::as_str)
        .filter(|a| a.starts_with("flag."))
        .collect();
    assert_eq!(
        flag_actions,
        [
            "flag.created",
            "flag.updated",
            "flag.updated",
            "flag.deleted"
        ]
    );
}

async fn only_admins_change_flags(app: TestApp) {
    let admin = app.new_token("flag-admin", Role::Admin).await;
    let operator = app.new_token("ops", Role::Operator).await;
    let viewer = app.new_token("view", Role::Viewer).await;
    assert_eq!(
        app.post_json("/api/v1/flags", &admin, checkout())
            .await
            .status,
        StatusCode::CREATED
    );
    let mut other = checkout();
    other["key"] = json!("other");
    assert_eq!(
        app.post_json("/api/v1/flags", &operator, other)
            .await
            .status,
        StatusCode::FORBIDDEN
    );
    assert_eq!(
        app.put_json(
            "/api/v1/flags/new-checkout",
            &viewer,
            json!({"enabled": false})
        )
        .await
        .status,
        StatusCode::FORBIDDEN
    );
    assert_eq!(
        app.delete("/api/v1/flags/new-checkout", &operator)
            .await
            .status,
        StatusCode::FORBIDDEN
    );
    let flag = app.get("/api/v1/flags/new-checkout", &viewer).await;
    assert_eq!(flag.status, StatusCode::OK);
    assert_eq!(
        (
            flag.json()["enabled"].clone(),
            flag.json()["version"].clone()
        ),
        (json!(true), json!(1))
    );
    assert_eq!(
        app.get("/api/v1/flags", &Auth::None).await.status,
        StatusCode::UNAUTHORIZED
    );
}

/// History written before it kept the whole flag stored it without its key and change
/// metadata: it reads back with the key, time and author of its row, not blanks.
async fn older_history_entries_read_back_with_their_key(app: TestApp) {
    let admin = app.new_token("flag-admin", Role::Admin).await;
    let created = app.post_json("/api/v1/flags", &admin, checkout()).await;
    assert_eq!(created.status, StatusCode::CREATED, "{}", created.body);
    let mut old = checkout();
    old.as_object_mut().unwrap().remove("key");
    sqlx::query("INSERT INTO flag_history (flag_key, at, actor, action, reason, definition) VALUES ($1, $2, $3, $4, $5, $6)")
        .bind("new-checkout")
        .bind(1_700_000_000_000_i64)
        .bind("maria.sre")
        .bind("updated")
        .bind(None::<String>)
        .bind(old.to_string())
        .execute(&app.state.db.pool)
        .await
        .unwrap();
    let history = app
        .get("/api/v1/flags/new-checkout/history", &admin)
        .await
        .json();
    let older = &history[0]["flag"];
    assert_eq!(
        (&older["key"], &older["updated_by"], &older["updated_at"]),
        (
            &json!("new-checkout"),
            &json!("maria.sre"),
            &json!(1_700_000_000_000_i64)
        )
    );
    assert_eq!(history[1]["flag"]["version"], 1);
}

on_both_databases!(
    flags_are_created_validated_changed_and_audited,
    older_history_entries_read_back_with_their_key,
    only_admins_change_flags,
    a_paging_slo_throws_the_kill_switch,
    the_flag_page_changes_a_rollout,
    the_flag_page_switch_asks_where_it_reaches_a_protected_environment,
    a_version_comes_back_from_the_history,
);

/// When the SLO a flag names starts paging, the flag is switched to its safe variant by
/// `flightdeck`, with the reason on its history and the audit trail.
async fn a_paging_slo_throws_the_kill_switch(app: TestApp) {
    let admin = app.new_token("flag-admin", Role::Admin).await;
    app.post_json("/api/v1/services", &admin, json!({"name": "checkout"}))
        .await;
    let component = app
        .post_json(
            "/api/v1/components",
            &admin,
            json!({"name": "checkout-api", "service": "checkout",
            "probe": {"type": "tcp", "address": "127.0.0.1:9", "interval_s": 3600}}),
        )
        .await;
    assert_eq!(component.status, StatusCode::CREATED, "{}", component.body);
    let slo = app
        .post_json(
            "/api/v1/slos",
            &admin,
            json!({"service": "checkout", "name": "checkout-availability",
            "sli": "availability", "component": "checkout-api", "objective": 0.999}),
        )
        .await;
    assert_eq!(slo.status, StatusCode::CREATED, "{}", slo.body);
    let mut flag = checkout();
    flag["default_variant"] = json!("on");
    flag["kill_switch"] = json!({"slo": "checkout-availability", "variant": "off"});
    assert_eq!(
        app.post_json("/api/v1/flags", &admin, flag).await.status,
        StatusCode::CREATED
    );

    // Two hours of failing requests: the 1 h / 5 m page rule fires.
    let now = flightdeck::now_ms();
    let slo_id = slo.json()["id"].as_i64().unwrap();
    let mut tx = app.state.db.pool.begin().await.unwrap();
    for minute in 0..120 {
        flightdeck::slos::counts::add(&mut tx, slo_id, now - minute * 60_000, 0, 100)
            .await
            .unwrap();
    }
    tx.commit().await.unwrap();
    app.state.slos.evaluate_all(now).await.unwrap();

    let after = app.get("/api/v1/flags/new-checkout", &admin).await.json();
    assert_eq!(
        (after["enabled"].clone(), after["default_variant"].clone()),
        (json!(false), json!("off"))
    );
    assert_eq!(after["updated_by"], "flightdeck");
    let history = app
        .get("/api/v1/flags/new-checkout/history", &admin)
        .await
        .json();
    assert_eq!(history[0]["action"], "killed");
    assert!(history[0]["reason"]
        .as_str()
        .unwrap()
        .contains("checkout-availability"));
    let token = evaluator(&app, &admin, None).await;
    let served = served_checkout(&app, &token, "alice").await;
    assert_eq!(
        (served["variant"].clone(), served["reason"].clone()),
        (json!("off"), json!("DISABLED"))
    );
    assert!(app.audit_actions().await.iter().any(|a| a == "flag.killed"));
}

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
