//! Fixtures of the flag tests.

use super::{Auth, TestApp};
use app::model::Role;
use axum::http::StatusCode;
use serde_json::{json, Value};

/// A boolean flag `new-checkout` with user, role and attribute rules and a 30% rollout.
pub fn checkout() -> Value {
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

/// An app's token, limited to evaluating flags.
pub async fn evaluator(app: &TestApp, admin: &Auth, environment: Option<&str>) -> Auth {
    let mut body = json!({"name": format!("app-{}", environment.unwrap_or("base")), "scopes": ["flags:evaluate"]});
    if let Some(e) = environment {
        body["environment"] = json!(e);
    }
    let res = app.post_json("/api/v1/tokens", admin, body).await;
    assert_eq!(res.status, StatusCode::CREATED, "{}", res.body);
    Auth::Bearer(res.json()["token"].as_str().unwrap().to_string())
}

/// An admin's token in an app that has a `production` environment and the [`checkout`] flag
/// with `production`'s own settings.
pub async fn checkout_in_production(app: &TestApp, production: Value) -> Auth {
    let admin = app.new_token("flag-admin", Role::Admin).await;
    app.create_environment(&admin, "production", 40, false)
        .await;
    let mut flag = checkout();
    flag["environments"] = json!({ "production": production });
    let res = app.post_json("/api/v1/flags", &admin, flag).await;
    assert_eq!(res.status, StatusCode::CREATED, "{}", res.body);
    admin
}

/// What an app with `token` is served by `new-checkout` for the user `targeting_key`, over OFREP.
pub async fn served_checkout(app: &TestApp, token: &Auth, targeting_key: &str) -> Value {
    app.post_json(
        "/ofrep/v1/evaluate/flags/new-checkout",
        token,
        json!({"context": {"targetingKey": targeting_key}}),
    )
    .await
    .json()
}
