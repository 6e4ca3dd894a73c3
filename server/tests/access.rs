//! API tokens, roles and scopes against every admin action, account administration, bad input
//! on the access endpoints and the audit trail, through the real router, on both databases.

mod common;
use app::model::Role;
use axum::http::StatusCode;
use common::{Auth, TestApp};
use serde_json::json;

async fn tokens_are_shown_once_work_as_bearer_and_die_when_revoked(app: TestApp) {
    let admin = app.new_token("root-script", Role::Admin).await;
    let created = app
        .post_json(
            "/api/v1/tokens",
            &admin,
            json!({"name": "ci", "role": "operator"}),
        )
        .await;
    assert_eq!(created.status, StatusCode::CREATED, "{}", created.body);
    let body = created.json();
    let secret = body["token"].as_str().unwrap().to_string();
    let id = body["summary"]["id"].as_i64().unwrap();
    let ci = Auth::Bearer(secret.clone());
    let me = app.get("/api/v1/me", &ci).await.json();
    assert_eq!(
        me,
        json!({"username": "ci", "role": "operator", "kind": "token"})
    );

    // Its use is recorded in the background, once a minute at most.
    let mut list = app.get("/api/v1/tokens", &admin).await;
    for _ in 0..100 {
        let used = list
            .json()
            .as_array()
            .unwrap()
            .iter()
            .any(|t| t["id"].as_i64() == Some(id) && t["last_used_at"].as_i64().is_some());
        if used {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
        list = app.get("/api/v1/tokens", &admin).await;
    }
    let listed = list.json();
    let ci_row = listed
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["id"].as_i64() == Some(id))
        .unwrap();
    assert!(ci_row["last_used_at"].as_i64().is_some(), "{ci_row}");
    assert_eq!(list.status, StatusCode::OK);
    assert!(
        !list.body.contains(&secret[4..]),
        "the secret is never listed"
    );
    let audit = app.get("/api/v1/audit?limit=500", &admin).await;
    assert!(
        !audit.body.contains(&secret[4..]),
        "the secret is never audited"
    );

    let revoke = app.delete(&format!("/api/v1/tokens/{id}"), &admin).await;
    assert_eq!(revoke.status, StatusCode::NO_CONTENT);
    let after = app.get("/api/v1/me", &ci).await;
    assert_eq!(after.status, StatusCode::UNAUTHORIZED);
    assert!(after.json()["error"]["message"]
        .as_str()
        .unwrap()
        .contains("revoked"));
    let twice = app.delete(&format!("/api/v1/tokens/{id}"), &admin).await;
    assert_eq!(twice.status, StatusCode::NOT_FOUND);
    assert!(app
        .audit_actions()
        .await
        .ends_with(&["token.created".into(), "token.revoked".into()]));
}

async fn every_role_against_every_admin_action(app: TestApp) {
    let viewer = app.new_token("viewer-bot", Role::Viewer).await;
    let operator = app.new_token("operator-bot", Role::Operator).await;
    let admin = app.new_token("admin-bot", Role::Admin).await;
    for (who, allowed) in [(&viewer, false), (&operator, false), (&admin, true)] {
        let users = app.post_json("/api/v1/users", who, json!({"username": format!("u{allowed}{}", rand_suffix(who)), "role": "viewer", "password": "long-enough-password"})).await;
        let tokens = app
            .post_json(
                "/api/v1/tokens",
                who,
                json!({"name": format!("t{}", rand_suffix(who)), "role": "viewer"}),
            )
            .await;
        let list_tokens = app.get("/api/v1/tokens", who).await;
        let expected = if allowed {
            vec![StatusCode::CREATED, StatusCode::CREATED, StatusCode::OK]
        } else {
            vec![StatusCode::FORBIDDEN; 3]
        };
        assert_eq!(
            vec![users.status, tokens.status, list_tokens.status],
            expected,
            "{who:?}"
        );
        // Reading is for everyone signed in.
        assert_eq!(app.get("/api/v1/audit", who).await.status, StatusCode::OK);
        assert_eq!(app.get("/api/v1/users", who).await.status, StatusCode::OK);
    }
    let viewer_cookie = {
        let pw = app.new_user("vera", Role::Viewer).await;
        app.sign_in("vera", &pw).await
    };
    let res = app
        .server_fn(
            "tokens_create",
            &viewer_cookie,
            &[("name", "sneaky"), ("role", "admin")],
        )
        .await;
    assert_eq!(res.status, StatusCode::FORBIDDEN, "{}", res.body);
    assert!(res.body.contains("admin role"));
}

fn rand_suffix(auth: &Auth) -> String {
    match auth {
        Auth::Bearer(t) => t[4..10].to_string(),
        _ => "x".into(),
    }
}

async fn bad_input_gets_a_clear_4xx_and_changes_nothing(app: TestApp) {
    let admin = app.new_token("admin-bot", Role::Admin).await;
    let users_before = app
        .get("/api/v1/users", &admin)
        .await
        .json()
        .as_array()
        .unwrap()
        .len();
    let audit_before = app.audit_actions().await.len();

    let raw = |body: &'static str| {
        admin
            .apply(http::Request::post("/api/v1/users"))
            .header("content-type", "application/json")
            .body(axum::body::Body::from(body))
            .unwrap()
    };
    let not_json = app.send(raw("{not json")).await;
    assert_eq!(not_json.status, StatusCode::BAD_REQUEST);
    assert_eq!(not_json.json()["error"]["code"], "bad_request");
    let unknown_role = app
        .post_json(
            "/api/v1/users",
            &admin,
            json!({"username": "x1", "role": "root", "password": "long-enough-password"}),
        )
        .await;
    assert_eq!(
        unknown_role.status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "{}",
        unknown_role.body
    );
    let short_pw = app
        .post_json(
            "/api/v1/users",
            &admin,
            json!({"username": "x2", "role": "viewer", "password": "short"}),
        )
        .await;
    assert_eq!(short_pw.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(short_pw.json()["error"]["message"]
        .as_str()
        .unwrap()
        .contains("12 characters"));
    let bad_name = app
        .post_json(
            "/api/v1/users",
            &admin,
            json!({"username": "a b", "role": "viewer", "password": "long-enough-password"}),
        )
        .await;
    assert_eq!(bad_name.status, StatusCode::UNPROCESSABLE_ENTITY);
    let duplicate = app
        .post_json(
            "/api/v1/users",
            &admin,
            json!({"username": "admin", "role": "viewer", "password": "long-enough-password"}),
        )
        .await;
    assert_eq!(duplicate.status, StatusCode::CONFLICT);
    assert_eq!(duplicate.json()["error"]["code"], "conflict");
    let bad_limit = app.get("/api/v1/audit?limit=0", &admin).await;
    assert_eq!(bad_limit.status, StatusCode::BAD_REQUEST);
    let bad_cursor = app.get("/api/v1/audit?before=yesterday", &admin).await;
    assert_eq!(bad_cursor.status, StatusCode::BAD_REQUEST);
    assert_eq!(bad_cursor.json()["error"]["code"], "bad_request");
    let bad_id = app.delete("/api/v1/tokens/abc", &admin).await;
    assert_eq!(bad_id.status, StatusCode::BAD_REQUEST);
    assert_eq!(bad_id.json()["error"]["code"], "bad_request");

    assert_eq!(
        app.get("/api/v1/users", &admin)
            .await
            .json()
            .as_array()
            .unwrap()
            .len(),
        users_before
    );
    assert_eq!(app.audit_actions().await.len(), audit_before);
}

async fn audit_pages_newest_first_with_filters(app: TestApp) {
    let admin = app.new_token("admin-bot", Role::Admin).await;
    for i in 0..7 {
        app.post_json(
            "/api/v1/tokens",
            &admin,
            json!({"name": format!("t{i}"), "role": "viewer"}),
        )
        .await;
    }
    let first = app
        .get("/api/v1/audit?limit=3&action=token.created", &admin)
        .await
        .json();
    let entries = first["entries"].as_array().unwrap();
    assert_eq!(entries.len(), 3);
    assert_eq!(entries[0]["target"], "t6");
    let before = first["next_before"].as_i64().unwrap();
    let second = app
        .get(
            &format!("/api/v1/audit?limit=3&action=token.created&before={before}"),
            &admin,
        )
        .await
        .json();
    assert_eq!(second["entries"][0]["target"], "t3");
    let all: Vec<_> = app
        .get("/api/v1/audit?limit=100&action=token.created", &admin)
        .await
        .json()["entries"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["target"].as_str().unwrap().to_string())
        .collect();
    // 7 made here plus "admin-bot" made by the fixture.
    assert_eq!(all.len(), 8);
    let by_actor = app
        .get("/api/v1/audit?actor=token:admin-bot", &admin)
        .await
        .json();
    assert_eq!(by_actor["entries"].as_array().unwrap().len(), 7);
    assert!(by_actor["next_before"].is_null());
}

/// A scoped token does what its scopes name and nothing else, whatever its role allows.
async fn scoped_tokens_are_refused_outside_their_scopes(app: TestApp) {
    let admin = app.new_token("admin-bot", Role::Admin).await;
    let created = app
        .post_json(
            "/api/v1/tokens",
            &admin,
            json!({"name": "alertmanager", "scopes": ["alerts:write"]}),
        )
        .await;
    assert_eq!(created.status, StatusCode::CREATED, "{}", created.body);
    let summary = &created.json()["summary"];
    assert_eq!(
        (summary["role"].as_str(), summary["scopes"].clone()),
        (Some("operator"), json!(["alerts:write"]))
    );
    let am = Auth::Bearer(created.json()["token"].as_str().unwrap().to_string());
    let alerts = json!([{"labels": {"alertname": "Scoped", "job": "api"}}]);
    let sent = app
        .post_raw("/api/v2/alerts", &am, &[], alerts.to_string().into_bytes())
        .await;
    assert_eq!(sent.status, StatusCode::OK, "{}", sent.body);
    for (method, path) in [
        ("POST", "/api/v1/deployments"),
        ("GET", "/api/v1/status"),
        ("POST", "/api/v1/silences"),
    ] {
        let res = match method {
            "GET" => app.get(path, &am).await,
            _ => app.post_json(path, &am, json!({})).await,
        };
        assert_eq!(
            res.status,
            StatusCode::FORBIDDEN,
            "{method} {path}: {}",
            res.body
        );
        assert!(res.body.contains("limited to alerts:write"), "{}", res.body);
    }

    let reader = app
        .post_json(
            "/api/v1/tokens",
            &admin,
            json!({"name": "grafana", "scopes": ["read"]}),
        )
        .await;
    assert_eq!(reader.json()["summary"]["role"], "viewer");
    let reader = Auth::Bearer(reader.json()["token"].as_str().unwrap().to_string());
    assert_eq!(
        app.get("/api/v1/status", &reader).await.status,
        StatusCode::OK
    );
    let posted = app
        .post_raw(
            "/api/v2/alerts",
            &reader,
            &[],
            alerts.to_string().into_bytes(),
        )
        .await;
    assert_eq!(posted.status, StatusCode::FORBIDDEN);

    // A scope the role cannot use, an unknown scope, neither role nor scope: refused, nothing made.
    let before = app
        .get("/api/v1/tokens", &admin)
        .await
        .json()
        .as_array()
        .unwrap()
        .len();
    for body in [
        json!({"name": "weak", "role": "viewer", "scopes": ["deploy"]}),
        json!({"name": "odd", "scopes": ["root"]}),
        json!({"name": "vague"}),
    ] {
        let res = app.post_json("/api/v1/tokens", &admin, body.clone()).await;
        assert!(res.status.is_client_error(), "{body}: {}", res.status);
    }
    let after = app
        .get("/api/v1/tokens", &admin)
        .await
        .json()
        .as_array()
        .unwrap()
        .len();
    assert_eq!(before, after);
}

/// A compromised account is disabled at once: its session, its tokens and its password stop
/// working; roles change and passwords reset the same way; the last admin stays.
async fn admins_disable_accounts_change_roles_and_reset_passwords(app: TestApp) {
    let admin = app.new_token("admin-bot", Role::Admin).await;
    let password = app.new_user("mallory", Role::Admin).await;
    let mallory = app.sign_in("mallory", &password).await;
    let made = app
        .post_json(
            "/api/v1/tokens",
            &mallory,
            json!({"name": "mallory-bot", "role": "operator"}),
        )
        .await;
    assert_eq!(made.status, StatusCode::CREATED, "{}", made.body);
    let bot = Auth::Bearer(made.json()["token"].as_str().unwrap().to_string());
    assert_eq!(app.get("/api/v1/me", &bot).await.status, StatusCode::OK);

    let viewer = app.new_token("wallboard", Role::Viewer).await;
    let path = "/api/v1/users/mallory";
    assert_eq!(
        app.patch_json(path, &viewer, json!({"disabled": true}))
            .await
            .status,
        StatusCode::FORBIDDEN
    );
    for bad in [
        json!({}),
        json!({"disabled": "yes"}),
        json!({"role": "root"}),
        json!({"password": "short"}),
    ] {
        let res = app.patch_json(path, &admin, bad.clone()).await;
        assert!(res.status.is_client_error(), "{bad}: {}", res.status);
    }
    assert_eq!(
        app.get("/api/v1/me", &mallory).await.status,
        StatusCode::OK,
        "refused changes change nothing"
    );
    assert_eq!(
        app.patch_json("/api/v1/users/nobody", &admin, json!({"disabled": true}))
            .await
            .status,
        StatusCode::NOT_FOUND
    );

    let disabled = app
        .patch_json(path, &admin, json!({"disabled": true}))
        .await;
    assert_eq!(disabled.status, StatusCode::OK, "{}", disabled.body);
    assert!(disabled.json()["disabled_at"].is_i64());
    assert_eq!(
        app.get("/api/v1/me", &mallory).await.status,
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(
        app.get("/api/v1/me", &bot).await.status,
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(
        app.try_sign_in(&Auth::None, "mallory", &password)
            .await
            .status,
        StatusCode::UNAUTHORIZED
    );

    // The only enabled admin left (the seeded one) can be neither disabled nor demoted.
    for change in [json!({"disabled": true}), json!({"role": "operator"})] {
        let res = app.patch_json("/api/v1/users/admin", &admin, change).await;
        assert_eq!(res.status, StatusCode::CONFLICT, "{}", res.body);
    }

    // Enabled again, as a viewer, with a new password: the old one no longer works.
    let changed = app
        .patch_json(
            path,
            &admin,
            json!({"disabled": false, "role": "viewer", "password": "a-brand-new-password-42"}),
        )
        .await;
    assert_eq!(changed.status, StatusCode::OK, "{}", changed.body);
    assert_eq!(changed.json()["role"], "viewer");
    assert_eq!(
        app.try_sign_in(&Auth::None, "mallory", &password)
            .await
            .status,
        StatusCode::UNAUTHORIZED
    );
    let again = app.sign_in("mallory", "a-brand-new-password-42").await;
    assert_eq!(app.get("/api/v1/me", &again).await.json()["role"], "viewer");
    assert_eq!(
        app.get("/api/v1/me", &bot).await.status,
        StatusCode::UNAUTHORIZED,
        "revoked tokens stay revoked"
    );
    let actions = app.audit_actions().await;
    assert_eq!(
        actions.iter().filter(|a| *a == "user.updated").count(),
        2,
        "{actions:?}"
    );
}

on_both_databases!(
    admins_disable_accounts_change_roles_and_reset_passwords,
    scoped_tokens_are_refused_outside_their_scopes,
    tokens_are_shown_once_work_as_bearer_and_die_when_revoked,
    every_role_against_every_admin_action,
    bad_input_gets_a_clear_4xx_and_changes_nothing,
    audit_pages_newest_first_with_filters,
);
