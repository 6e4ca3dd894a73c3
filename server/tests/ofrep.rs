//! Flags evaluated through OFREP (OpenFeature's remote evaluation protocol), as an
//! OpenFeature SDK calls it, on both databases.

mod common;
use axum::http::StatusCode;
use common::flags::{checkout_in_production, evaluator};
use common::{Auth, TestApp};
use serde_json::{json, Value};

async fn ofrep_evaluates_by_priority_with_its_error_codes(app: TestApp) {
    let admin = checkout_in_production(&app, json!({"rollout": {"on": 0, "off": 100}})).await;
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
    let admin = checkout_in_production(&app, json!({"enabled": false})).await;
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

on_both_databases!(
    ofrep_evaluates_by_priority_with_its_error_codes,
    ofrep_bulk_answers_every_flag_with_an_etag,
);
