//! The published API description matches the router, and the audit export, on both databases.

mod common;
use app::model::Role;
use axum::body::Body;
use axum::http::{header, Request, StatusCode};
use common::{Auth, TestApp};
use serde_json::Value;

fn refs(value: &Value, out: &mut Vec<String>) {
    match value {
        Value::Object(map) => {
            for (key, v) in map {
                match (key.as_str(), v) {
                    ("$ref", Value::String(r)) => out.push(r.clone()),
                    _ => refs(v, out),
                }
            }
        }
        Value::Array(items) => items.iter().for_each(|v| refs(v, out)),
        _ => {}
    }
}

async fn every_documented_operation_is_routed(app: TestApp) {
    let Auth::Bearer(token) = app.new_token("admin-bot", Role::Admin).await else {
        unreachable!()
    };
    let doc = app.get("/api/openapi.json", &Auth::None).await.json();
    assert!(doc["openapi"].as_str().unwrap().starts_with("3.1"));
    let paths = doc["paths"].as_object().unwrap();
    for required in [
        "/deployments",
        "/rollbacks",
        "/status",
        "/services/{name}/targets/{environment}",
        "/audit/export",
        "/webhooks/{source}",
        "/alerts",
        "/alerts/{id}/ack",
        "/silences",
        "/silences/{id}",
        "/webhooks/alertmanager",
        "/components",
        "/slos/{id}",
        "/flags",
        "/flags/{key}",
        "/config",
        "/config/{environment}/{key}",
        "/maintenance",
        "/builds",
        "/builds/model",
        "/builds/predict",
        "/builds/stats",
        "/builds/import",
    ] {
        assert!(paths.contains_key(required), "{required} is not documented");
    }
    for (path, item) in paths {
        for method in item.as_object().unwrap().keys() {
            let concrete = path
                .replace("{id}", "999999")
                .replace("{name}", "no-such-service")
                .replace("{environment}", "no-such-env")
                .replace("{source}", "cdevents");
            let request = Request::builder()
                .method(method.to_uppercase().as_str())
                .uri(format!("/api/v1{concrete}"))
                .header(header::AUTHORIZATION, format!("Bearer {token}"))
                .header(header::CONTENT_TYPE, "application/json")
                .body(Body::from("{}"))
                .unwrap();
            let res = app.send(request).await;
            assert_ne!(
                res.status,
                StatusCode::METHOD_NOT_ALLOWED,
                "{method} {path} is documented but not routed"
            );
            if res.status == StatusCode::NOT_FOUND {
                // Our own "no such thing" answer, not the router's empty 404.
                assert_eq!(
                    res.json()["error"]["code"],
                    "not_found",
                    "{method} {path} is documented but not routed"
                );
            }
        }
    }
    let mut all = Vec::new();
    refs(&doc, &mut all);
    for r in all {
        let pointer = r.trim_start_matches('#');
        assert!(doc.pointer(pointer).is_some(), "{r} does not resolve");
    }
}

async fn the_audit_trail_exports_as_csv_and_json(app: TestApp) {
    let admin = app.new_token("admin-bot", Role::Admin).await;
    for name in ["api", "web"] {
        app.post_json(
            "/api/v1/services",
            &admin,
            serde_json::json!({"name": name}),
        )
        .await;
    }
    let csv = app
        .get(
            "/api/v1/audit/export?format=csv&action=service.created",
            &admin,
        )
        .await;
    assert_eq!(csv.status, StatusCode::OK);
    assert!(csv.headers["content-type"]
        .to_str()
        .unwrap()
        .starts_with("text/csv"));
    assert!(csv.headers["content-disposition"]
        .to_str()
        .unwrap()
        .contains("flightdeck-audit.csv"));
    let lines: Vec<&str> = csv.body.lines().collect();
    assert_eq!(lines.len(), 3, "{}", csv.body);
    assert!(
        lines[1].contains(",service.created,api,") && lines[2].contains(",service.created,web,"),
        "oldest first: {}",
        csv.body
    );

    let json = app.get("/api/v1/audit/export", &admin).await.json();
    let actions: Vec<&str> = json
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["action"].as_str().unwrap())
        .collect();
    assert_eq!(actions, app.audit_actions().await);
    let bad = app.get("/api/v1/audit/export?format=xml", &admin).await;
    assert_eq!(bad.status, StatusCode::BAD_REQUEST);
    assert_eq!(
        app.get("/api/v1/audit/export", &Auth::None).await.status,
        StatusCode::UNAUTHORIZED
    );
}

/// A trail longer than one chunk of the streamed export comes out whole, in order, in both
/// formats, and an empty selection is still a valid document.
async fn a_long_audit_trail_streams_whole(app: TestApp) {
    let admin = app.new_token("admin-bot", Role::Admin).await;
    let mut tx = app.state.db.pool.begin().await.unwrap();
    for i in 0..1_234 {
        sqlx::query("INSERT INTO audit (at, actor, action, target, detail) VALUES ($1, 'bench', 'bulk.entry', $2, '{}')")
            .bind(i as i64)
            .bind(format!("t{i}"))
            .execute(&mut *tx)
            .await
            .unwrap();
    }
    tx.commit().await.unwrap();
    let json = app
        .get("/api/v1/audit/export?action=bulk.entry", &admin)
        .await
        .json();
    let targets: Vec<String> = json
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["target"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(targets.len(), 1_234);
    assert!(targets
        .iter()
        .enumerate()
        .all(|(i, t)| *t == format!("t{i}")));
    let csv = app
        .get("/api/v1/audit/export?format=csv&action=bulk.entry", &admin)
        .await
        .body;
    assert_eq!(csv.lines().count(), 1_235, "header and every entry");
    let empty = app
        .get("/api/v1/audit/export?action=no.such", &admin)
        .await
        .json();
    assert_eq!(empty, serde_json::json!([]));
    let header_only = app
        .get("/api/v1/audit/export?format=csv&action=no.such", &admin)
        .await
        .body;
    assert_eq!(
        header_only,
        "id,at_utc,actor,action,target,reason,detail\r\n"
    );
}

on_both_databases!(
    every_documented_operation_is_routed,
    the_audit_trail_exports_as_csv_and_json,
    a_long_audit_trail_streams_whole
);

/// The other direction: every path the API routes is in the document. The routes are read from
/// the routers' source (axum cannot list them), so a new route without documentation fails here.
#[tokio::test]
async fn every_routed_path_is_documented() {
    let app = TestApp::sqlite().await;
    let doc = app.get("/api/openapi.json", &Auth::None).await.json();
    let documented: Vec<Vec<String>> = doc["paths"]
        .as_object()
        .unwrap()
        .keys()
        .map(|p| p.split('/').map(str::to_string).collect())
        .collect();
    // A routed `{param}` segment stands for any documented segment (`/alerts/{id}/{action}` is
    // documented as `/alerts/{id}/ack`, `/resolve` and `/escalate`).
    let covers = |routed: &[&str], doc: &[String]| {
        routed.len() == doc.len()
            && routed
                .iter()
                .zip(doc)
                .all(|(r, d)| r == d || (r.starts_with('{') && !d.is_empty()))
    };
    let src = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let files: Vec<_> = std::fs::read_dir(src.join("rest"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    let mut routed = Vec::new();
    for file in files {
        let text = std::fs::read_to_string(&file).unwrap();
        // `/api/v2/alerts` (Alertmanager's own API) is described with `/webhooks/alertmanager`.
        let text = match text.split_once("pub fn v2_router") {
            Some((before, after)) => format!(
                "{before}{}",
                after.split_once("\n}\n").map_or("", |(_, rest)| rest)
            ),
            None => text,
        };
        for piece in text.split(".route(").skip(1) {
            let literal = piece
                .trim_start()
                .strip_prefix('"')
                .and_then(|p| p.split_once('"'));
            if let Some((path, _)) = literal {
                routed.push((file.display().to_string(), path.to_string()));
            }
        }
    }
    assert!(routed.len() > 50, "the routers were read: {routed:?}");
    for (file, path) in &routed {
        let segments: Vec<&str> = path.split('/').collect();
        assert!(
            documented.iter().any(|d| covers(&segments, d)),
            "{path} (routed in {file}) is missing from /api/openapi.json"
        );
    }
}
