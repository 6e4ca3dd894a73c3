//! Feature flags over the REST API and OFREP, on both databases.

mod common;
use app::model::Role;
use axum::http::StatusCode;
use common::{Auth, TestApp};
use serde_json::{json, Value};

fn checkout() -> Value {
    json!({
        "key": "new-checkout",
        "description": "The one-page checkout",
        "kind": "boolean",
        "variants": {"on": true, "off": false},
        "default_variant": "off",
        "enabled": true,
        "rules": [
            {"users": ["alice"], "variant": "on"},
            {"roles": ["beta"], "variant": "on"},
            {"conditions": ["country in [\"NL\", \"DE\"]", "plan == \"pro\""], "variant": "on"}
        ],
        "rollout": {"on": 30, "off": 70}
    })
}

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

/// An app's token, limited to evaluating flags.
async fn evaluator(app: &TestApp, admin: &Auth, environment: Option<&str>) -> Auth {
    let mut body = json!({"name": format!("app-{}", environment.unwrap_or("base")), "scopes": ["flags:evaluate"]});
    if let Some(e) = environment {
        body["environment"] = json!(e);
    }
    let res = app.post_json("/api/v1/tokens", admin, body).await;
    assert_eq!(res.status, StatusCode::CREATED, "{}", res.body);
    Auth::Bearer(res.json()["token"].as_str().unwrap().to_string())
}

async fn ofrep_evaluates_by_priority_with_its_error_codes(app: TestApp) {
    let admin = app.new_token("flag-admin", Role::Admin).await;
    app.post_json(
        "/api/v1/environments",
        &admin,
        json!({"name": "production", "rank": 40}),
    )
    .await;
    let mut flag = checkout();
    flag["environments"] = json!({"production": {"rollout": {"on": 0, "off": 100}}});
    assert_eq!(
        app.post_json("/api/v1/flags", &admin, flag).await.status,
        StatusCode::CREATED
    );
    let token = evaluator(&app, &admin, None).await;
    let eval = |context: Value| {
        let (app, token) = (&app, &token);
        async move {
            app.post_json(
                "/ofrep/v1/evaluate/flags/new-checkout",
                token,
                json!({"context": context}),
            )
            .await
        }
    };

    let alice = eval(json!({"targetingKey": "alice"})).await;
    assert_eq!(alice.status, StatusCode::OK, "{}", alice.body);
    let body = alice.json();
    assert_eq!(
        (
            body["key"].clone(),
            body["value"].clone(),
            body["variant"].clone(),
            body["reason"].clone()
        ),
        (
            json!("new-checkout"),
            json!(true),
            json!("on"),
            json!("TARGETING_MATCH")
        )
    );
    assert_eq!(body["metadata"]["version"], 1);
    assert_eq!(
        eval(json!({"targetingKey": "bob", "role": "beta"}))
            .await
            .json()["reason"],
        "TARGETING_MATCH"
    );
    assert_eq!(
        eval(json!({"targetingKey": "bob", "roles": ["beta"]}))
            .await
            .json()["reason"],
        "TARGETING_MATCH"
    );
    assert_eq!(
        eval(json!({"targetingKey": "bob", "country": "DE", "plan": "pro"}))
            .await
            .json()["variant"],
        "on"
    );

    // The split is sticky and near its share.
    let mut on = 0;
    for i in 0..200 {
        let r = eval(json!({"targetingKey": format!("user-{i}")}))
            .await
            .json();
        assert_eq!(r["reason"], "SPLIT");
        assert_eq!(
            eval(json!({"targetingKey": format!("user-{i}")}))
                .await
                .json()["variant"],
            r["variant"]
        );
        on += (r["variant"] == "on") as usize;
    }
    assert!((40..80).contains(&on), "{on} of 200 got on at 30%");
    // Production's own rollout applies when the context names it.
    let prod = eval(json!({"targetingKey": "user-1", "environment": "production"}))
        .await
        .json();
    assert_eq!(
        (
            prod["variant"].clone(),
            prod["metadata"]["environment"].clone()
        ),
        (json!("off"), json!("production"))
    );

    // Errors as OFREP names them.
    let missing = app
        .post_json(
            "/ofrep/v1/evaluate/flags/nope",
            &token,
            json!({"context": {"targetingKey": "a"}}),
        )
        .await;
    assert_eq!(missing.status, StatusCode::NOT_FOUND);
    assert_eq!(
        missing.json(),
        json!({"key": "nope", "errorCode": "FLAG_NOT_FOUND", "errorDetails": "there is no flag with key 'nope'"})
    );
    let no_key = eval(json!({"country": "US"})).await;
    assert_eq!(no_key.status, StatusCode::BAD_REQUEST);
    assert_eq!(no_key.json()["errorCode"], "TARGETING_KEY_MISSING");
    let invalid = eval(json!({"targetingKey": 42})).await;
    assert_eq!(
        (invalid.status, invalid.json()["errorCode"].clone()),
        (StatusCode::BAD_REQUEST, json!("INVALID_CONTEXT"))
    );
    let garbage = app
        .post_raw(
            "/ofrep/v1/evaluate/flags/new-checkout",
            &token,
            &[],
            b"{not json".to_vec(),
        )
        .await;
    assert_eq!(
        (garbage.status, garbage.json()["errorCode"].clone()),
        (StatusCode::BAD_REQUEST, json!("PARSE_ERROR"))
    );

    // Disabled: the default, reason DISABLED.
    app.put_json(
        "/api/v1/flags/new-checkout",
        &admin,
        json!({"enabled": false}),
    )
    .await;
    let disabled = eval(json!({"targetingKey": "alice"})).await.json();
    assert_eq!(
        (disabled["variant"].clone(), disabled["reason"].clone()),
        (json!("off"), json!("DISABLED"))
    );

    // The token may evaluate and nothing else; no token, no answer.
    assert_eq!(
        app.get("/api/v1/flags", &token).await.status,
        StatusCode::FORBIDDEN
    );
    assert_eq!(
        app.post_json(
            "/ofrep/v1/evaluate/flags/new-checkout",
            &Auth::None,
            json!({})
        )
        .await
        .status,
        StatusCode::UNAUTHORIZED
    );
}

async fn ofrep_bulk_answers_every_flag_with_an_etag(app: TestApp) {
    let admin = app.new_token("flag-admin", Role::Admin).await;
    app.post_json(
        "/api/v1/environments",
        &admin,
        json!({"name": "production", "rank": 40}),
    )
    .await;
    let mut flag = checkout();
    flag["environments"] = json!({"production": {"enabled": false}});
    app.post_json("/api/v1/flags", &admin, flag).await;
    app.post_json("/api/v1/flags", &admin, json!({
        "key": "banner-text", "kind": "string", "variants": {"calm": "All good", "loud": "Sale!"},
        "default_variant": "calm"
    })).await;
    let token = evaluator(&app, &admin, Some("production")).await;
    let body = json!({"context": {"targetingKey": "bob"}});
    let first = app
        .post_json("/ofrep/v1/evaluate/flags", &token, body.clone())
        .await;
    assert_eq!(first.status, StatusCode::OK, "{}", first.body);
    let etag = first
        .headers
        .get("etag")
        .unwrap()
        .to_str()
        .unwrap()
        .to_string();
    let flags = first.json()["flags"].clone();
    assert_eq!(flags.as_array().unwrap().len(), 2);
    let by_key = |k: &str| {
        flags
            .as_array()
            .unwrap()
            .iter()
            .find(|f| f["key"] == k)
            .unwrap()
            .clone()
    };
    assert_eq!(by_key("banner-text")["value"], "All good");
    // The token stands for production, where the flag is off.
    assert_eq!(by_key("new-checkout")["reason"], "DISABLED");

    let again = app
        .post_raw(
            "/ofrep/v1/evaluate/flags",
            &token,
            &[("if-none-match", &etag)],
            body.to_string().into_bytes(),
        )
        .await;
    assert_eq!(again.status, StatusCode::NOT_MODIFIED);
    app.put_json(
        "/api/v1/flags/banner-text",
        &admin,
        json!({"default_variant": "loud"}),
    )
    .await;
    let changed = app
        .post_raw(
            "/ofrep/v1/evaluate/flags",
            &token,
            &[("if-none-match", &etag)],
            body.to_string().into_bytes(),
        )
        .await;
    assert_eq!(changed.status, StatusCode::OK);
    assert_ne!(changed.headers.get("etag").unwrap().to_str().unwrap(), etag);

    // Without a targeting key the split flag reports its error in place; the others still answer.
    let base = evaluator(&app, &admin, None).await;
    let anonymous = app
        .post_json("/ofrep/v1/evaluate/flags", &base, json!({"context": {}}))
        .await
        .json();
    let errors: Vec<&Value> = anonymous["flags"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f.get("errorCode").is_some())
        .collect();
    assert_eq!(errors.len(), 1);
    assert_eq!(errors[0]["errorCode"], "TARGETING_KEY_MISSING");
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
    ofrep_evaluates_by_priority_with_its_error_codes,
    ofrep_bulk_answers_every_flag_with_an_etag,
    a_paging_slo_throws_the_kill_switch,
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
    let served = app
        .post_json(
            "/ofrep/v1/evaluate/flags/new-checkout",
            &token,
            json!({"context": {"targetingKey": "alice"}}),
        )
        .await
        .json();
    assert_eq!(
        (served["variant"].clone(), served["reason"].clone()),
        (json!("off"), json!("DISABLED"))
    );
    assert!(app.audit_actions().await.iter().any(|a| a == "flag.killed"));
}
