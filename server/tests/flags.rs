//! Feature flags over the REST API, on both databases (their OFREP evaluation: `ofrep.rs`; the
//! flag page's server functions: `flag_page.rs`).

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
    a_kill_switch_follows_one_services_slo,
);

/// A service with a component nobody answers for and the SLO `name` on it; the SLO's id.
async fn slo_on(app: &TestApp, admin: &Auth, service: &str, name: &str) -> i64 {
    app.post_json("/api/v1/services", admin, json!({"name": service}))
        .await;
    let component = format!("{service}-probe");
    let created = app
        .post_json(
            "/api/v1/components",
            admin,
            json!({"name": component, "service": service,
            "probe": {"type": "tcp", "address": "127.0.0.1:9", "interval_s": 3600}}),
        )
        .await;
    assert_eq!(created.status, StatusCode::CREATED, "{}", created.body);
    let slo = app
        .post_json(
            "/api/v1/slos",
            admin,
            json!({"service": service, "name": name,
            "sli": "availability", "component": component, "objective": 0.999}),
        )
        .await;
    assert_eq!(slo.status, StatusCode::CREATED, "{}", slo.body);
    slo.json()["id"].as_i64().unwrap()
}

/// The checkout flag serving "on", with a kill switch on the SLO `slo` that serves "off".
fn checkout_armed_on(slo: &str) -> Value {
    let mut flag = checkout();
    flag["default_variant"] = json!("on");
    flag["kill_switch"] = json!({"slo": slo, "variant": "off"});
    flag
}

/// Two hours of failing requests on the SLO `id`, evaluated: its 1 h / 5 m page rule fires.
async fn burn_to_page(app: &TestApp, id: i64) {
    let now = flightdeck::now_ms();
    let mut tx = app.state.db.pool.begin().await.unwrap();
    for minute in 0..120 {
        flightdeck::slos::counts::add(&mut tx, id, now - minute * 60_000, 0, 100)
            .await
            .unwrap();
    }
    tx.commit().await.unwrap();
    app.state.slos.evaluate_all(now).await.unwrap();
}

/// When the SLO a flag names starts paging, the flag is switched to its safe variant by
/// `flightdeck`, with the reason on its history and the audit trail.
async fn a_paging_slo_throws_the_kill_switch(app: TestApp) {
    let admin = app.new_token("flag-admin", Role::Admin).await;
    let slo_id = slo_on(&app, &admin, "checkout", "checkout-availability").await;
    let flag = checkout_armed_on("checkout-availability");
    assert_eq!(
        app.post_json("/api/v1/flags", &admin, flag).await.status,
        StatusCode::CREATED
    );

    burn_to_page(&app, slo_id).await;

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

/// SLO names are unique per service only, and most services have an "availability": a kill
/// switch follows the one SLO it named, not another service's of the same name.
async fn a_kill_switch_follows_one_services_slo(app: TestApp) {
    let admin = app.new_token("flag-admin", Role::Admin).await;
    let checkout_slo = slo_on(&app, &admin, "checkout", "availability").await;
    let flag = checkout_armed_on("availability");
    let created = app.post_json("/api/v1/flags", &admin, flag).await;
    assert_eq!(created.status, StatusCode::CREATED, "{}", created.body);
    assert_eq!(
        created.json()["kill_switch"],
        json!({"slo": "availability", "service": "checkout", "variant": "off"}),
        "the one SLO so named, with its service"
    );

    let ledger_slo = slo_on(&app, &admin, "ledger", "availability").await;
    // Now the bare name is ambiguous: 422 naming both services, nothing stored.
    let mut other = checkout();
    other["key"] = json!("ledger-writes");
    other["kill_switch"] = json!({"slo": "availability", "variant": "off"});
    let refused = app.post_json("/api/v1/flags", &admin, other.clone()).await;
    assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY);
    let message = refused.json()["error"]["message"]
        .as_str()
        .unwrap()
        .to_string();
    assert!(
        message.starts_with("kill_switch.service:") && message.contains("checkout, ledger"),
        "{message}"
    );
    assert_eq!(
        app.get("/api/v1/flags/ledger-writes", &admin).await.status,
        StatusCode::NOT_FOUND
    );
    other["kill_switch"]["service"] = json!("ledger");
    let ledger_flag = app.post_json("/api/v1/flags", &admin, other).await;
    assert_eq!(
        ledger_flag.status,
        StatusCode::CREATED,
        "{}",
        ledger_flag.body
    );
    other = json!({"kill_switch": {"slo": "availability", "service": "billing", "variant": "off"}});
    let res = app
        .put_json("/api/v1/flags/ledger-writes", &admin, other)
        .await;
    assert_eq!(res.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", res.body);

    // Edits elsewhere, and a whole flag sent back with the bare name, keep the SLO it follows.
    let res = app
        .put_json(
            "/api/v1/flags/new-checkout",
            &admin,
            json!({"description": "INC-7"}),
        )
        .await;
    assert_eq!(res.status, StatusCode::OK, "{}", res.body);
    let mut whole = res.json();
    whole["kill_switch"] = json!({"slo": "availability", "variant": "off"});
    let res = app
        .put_json("/api/v1/flags/new-checkout", &admin, whole)
        .await;
    assert_eq!(res.status, StatusCode::OK, "{}", res.body);
    assert_eq!(res.json()["kill_switch"]["service"], "checkout");

    // The ledger's SLO pages: only the ledger's flag is switched off.
    burn_to_page(&app, ledger_slo).await;
    let changed_by = async |key: &str| {
        let flag = app
            .get(&format!("/api/v1/flags/{key}"), &admin)
            .await
            .json();
        (flag["enabled"].clone(), flag["updated_by"].clone())
    };
    let kept = (json!(true), json!("token:flag-admin"));
    let killed = (json!(false), json!("flightdeck"));
    assert_eq!(changed_by("new-checkout").await, kept);
    assert_eq!(changed_by("ledger-writes").await, killed);
    burn_to_page(&app, checkout_slo).await;
    assert_eq!(changed_by("new-checkout").await, killed);
}
