//! Every write the API documents, refused, changes nothing: a viewer's attempt (403), and an
//! admin's with an empty or malformed body (400 / 404 / 409 / 422) leave every table and the
//! audit trail as they were. The operations come from the OpenAPI document, so a new write
//! endpoint is covered without being listed here.

mod common;
use app::model::Role;
use axum::body::Body;
use axum::http::{header, Request};
use common::{Auth, TestApp};
use sqlx::Row;
use std::collections::BTreeMap;

/// Tables a refused request may still touch: sessions and tokens' last use (reading a caller),
/// the sign-in throttle, and the self-monitoring samples taken in the background.
const MAY_CHANGE: [&str; 3] = ["tower_sessions", "system_health", "_sqlx_migrations"];

/// Rows per table (and the newest event), which any stored change moves: every write is audited
/// and publishes an event.
async fn snapshot(app: &TestApp) -> BTreeMap<String, i64> {
    let pool = &app.state.db.pool;
    let list = match app.state.db.backend {
        flightdeck::db::Backend::Sqlite => "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'",
        flightdeck::db::Backend::Postgres => {
            "SELECT table_name::text FROM information_schema.tables WHERE table_schema = 'public' AND table_type = 'BASE TABLE'"
        }
    };
    let tables: Vec<String> = sqlx::query(list)
        .fetch_all(pool)
        .await
        .unwrap()
        .iter()
        .map(|r| r.get::<String, _>(0))
        .filter(|t| !MAY_CHANGE.iter().any(|m| t.starts_with(m)))
        .collect();
    let mut counts = BTreeMap::new();
    for t in tables {
        let n: i64 = sqlx::query(&format!("SELECT COUNT(*) FROM {t}"))
            .fetch_one(pool)
            .await
            .unwrap()
            .get(0);
        counts.insert(t, n);
    }
    let newest: Option<i64> = sqlx::query("SELECT MAX(seq) FROM event")
        .fetch_one(pool)
        .await
        .unwrap()
        .get(0);
    counts.insert("event.max_seq".into(), newest.unwrap_or(0));
    counts
}

async fn refused_writes_change_nothing(app: TestApp) {
    let viewer = app.new_token("viewer-bot", Role::Viewer).await;
    let admin = app.new_token("admin-bot", Role::Admin).await;
    // Something for the paths to name.
    for (path, body) in [
        ("/api/v1/services", serde_json::json!({"name": "checkout"})),
        (
            "/api/v1/environments",
            serde_json::json!({"name": "production", "rank": 9, "protected": true}),
        ),
    ] {
        let res = app.post_json(path, &admin, body).await;
        assert!(res.status.is_success(), "{path}: {}", res.body);
    }
    let doc = app.get("/api/openapi.json", &Auth::None).await.json();
    let mut checked = 0;
    for (path, item) in doc["paths"].as_object().unwrap() {
        for method in item.as_object().unwrap().keys() {
            if !["post", "put", "patch", "delete"].contains(&method.as_str()) {
                continue;
            }
            let concrete = path
                .replace("{id}", "1")
                .replace("{name}", "checkout")
                .replace("{environment}", "production")
                .replace("{username}", "admin-bot")
                .replace("{key}", "some.key")
                .replace("{source}", "cdevents");
            for (who, auth, body) in [
                ("viewer", &viewer, "{}"),
                ("admin", &admin, "{}"),
                ("admin", &admin, "{\"name\": "),
            ] {
                let before = snapshot(&app).await;
                let request = auth
                    .apply(
                        Request::builder()
                            .method(method.to_uppercase().as_str())
                            .uri(format!("/api/v1{concrete}")),
                    )
                    .header(header::CONTENT_TYPE, "application/json")
                    .body(Body::from(body))
                    .unwrap();
                let res = app.send(request).await;
                if res.status.is_success() {
                    // An empty body is a whole request for a few endpoints (train the model).
                    assert_eq!(
                        who, "admin",
                        "a viewer wrote: {method} {path}: {}",
                        res.body
                    );
                    continue;
                }
                assert!(
                    res.status.is_client_error(),
                    "{who} {method} {path} {body}: {} {}",
                    res.status,
                    res.body
                );
                let after = snapshot(&app).await;
                let changed: Vec<_> = after
                    .iter()
                    .filter(|(t, n)| before.get(*t) != Some(*n))
                    .collect();
                assert!(
                    changed.is_empty(),
                    "{who} {method} {path} {body} was refused with {} but changed {changed:?}",
                    res.status
                );
                checked += 1;
            }
        }
    }
    assert!(checked > 100, "only {checked} refused writes were checked");
}

on_both_databases!(refused_writes_change_nothing);
