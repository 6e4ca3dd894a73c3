//! CI builds over the REST API, on both databases: ingestion (422s with nothing stored,
//! idempotent source ids, roles and scopes, links kept without credentials), the import and
//! paging. Statistics, the Builds page and a commit's builds: `builds_reading.rs`; the failure
//! predictor: `builds_predictor.rs`; builds from the CI webhooks: `builds_from_webhooks.rs`.

mod common;
use app::model::Role;
use axum::http::StatusCode;
use common::builds::build;
use common::{Auth, TestApp};
use serde_json::{json, Value};

async fn count(app: &TestApp, auth: &Auth) -> usize {
    app.get("/api/v1/builds?limit=500", auth).await.json()["items"]
        .as_array()
        .unwrap()
        .len()
}

async fn a_build_is_stored_once_and_moves_through_its_life(app: TestApp) {
    let ci = app.new_token("ci", Role::Operator).await;
    // Five days ago, so the pipeline page's year-long period holds it whenever the test runs.
    let day = (flightdeck::now_ms() / 86_400_000 - 5) * 86_400_000;
    let at = |h: i64, m: i64, s: i64| app::time_fmt::rfc3339(day + ((h * 60 + m) * 60 + s) * 1000);
    let (start, end) = (at(14, 5, 0), at(14, 9, 30));
    let run_1 = |status: &str| {
        let mut b = build("run-1", status);
        b["started_at"] = json!(start);
        b
    };
    let created = app.post_json("/api/v1/builds", &ci, run_1("running")).await;
    assert_eq!(created.status, StatusCode::CREATED, "{}", created.body);
    let b = created.json();
    assert_eq!(
        (
            b["pipeline"].clone(),
            b["repo"].clone(),
            b["workflow"].clone()
        ),
        (json!("acme/shop/ci"), json!("acme/shop"), json!("ci"))
    );
    assert_eq!(b["started_at"], start);
    // No model yet: the prediction stored with it is the last-build baseline's.
    assert_eq!(b["prediction"]["failure_probability"], 0.0);
    // The pipeline's page shows it running, with the baseline's pass and why (no percentage:
    // the baseline only repeats the branch's last outcome).
    let cookie = app.sign_in("admin", common::ADMIN_PASSWORD).await;
    let page = app
        .page("/builds/pipeline?name=acme%2Fshop%2Fci&days=365", &cookie)
        .await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(
        page.body.contains("Running now")
            && page.body.contains("predicted to pass")
            && page.body.contains("no earlier build on this branch")
            && !page.body.contains("risk of failure")
            // The list says which predicted it when it arrived.
            && page.body.contains(">last-build baseline<")
            // Every build here arrived through CI and was predicted: no note on imports.
            && !page.body.contains("back-filled history is never predicted")
            // Nothing said its coverage: said so, with no chart on a made-up scale.
            && page.body.contains("No coverage reported")
            && !page.body.contains("aria-label=\"Coverage over"),
        "{}",
        page.body
    );

    // The finish says only the outcome: what the start said about the change is kept.
    let mut done = run_1("failure");
    for said_at_start in [
        "author",
        "trigger",
        "message",
        "files_changed",
        "lines_added",
        "lines_deleted",
    ] {
        done.as_object_mut().unwrap().remove(said_at_start);
    }
    done["finished_at"] = json!(end);
    done["tests_total"] = json!(420);
    done["tests_failed"] = json!(3);
    done["coverage"] = json!(81.5);
    let updated = app.post_json("/api/v1/builds", &ci, done).await;
    assert_eq!(updated.status, StatusCode::OK, "{}", updated.body);
    assert_eq!(updated.json()["id"], b["id"]);
    assert_eq!(
        (
            updated.json()["status"].clone(),
            updated.json()["duration_s"].clone()
        ),
        (json!("failure"), json!(270.0))
    );
    let kept = &app.get("/api/v1/builds", &ci).await.json()["items"][0];
    assert_eq!(
        [
            &kept["author"],
            &kept["trigger"],
            &kept["message"],
            &kept["lines_added"]
        ],
        [
            &json!("ann"),
            &json!("push"),
            &json!("Add cart"),
            &json!(120)
        ]
    );
    assert_eq!(updated.json()["lines_deleted"], 4);
    assert_eq!(count(&app, &ci).await, 1);
    let page = app
        .page("/builds/pipeline?name=acme%2Fshop%2Fci&days=365", &cookie)
        .await;
    assert!(
        page.body.contains("Coverage over 365 days: latest 81.5%")
            && !page.body.contains("No coverage reported"),
        "{}",
        page.body
    );
    // A late "running" (delivered out of order, or redelivered by hand) does not reopen it.
    let late = app.post_json("/api/v1/builds", &ci, run_1("running")).await;
    assert_eq!(late.status, StatusCode::OK, "{}", late.body);
    let kept = &app.get("/api/v1/builds", &ci).await.json()["items"][0];
    assert_eq!(
        (
            kept["status"].clone(),
            kept["finished_at"].clone(),
            kept["tests_failed"].clone()
        ),
        (json!("failure"), json!(end), json!(3)),
        "{}",
        late.body
    );
    assert_eq!(late.json()["status"], "failure");

    for (change, field) in [
        (json!({"pipeline": null}), "pipeline"),
        (json!({"branch": null}), "branch"),
        (json!({"commit": "not-hex"}), "commit"),
        (json!({"commit": null}), "commit"),
        (json!({"started_at": null}), "started_at"),
        (json!({"started_at": "30/11/2026"}), "started_at"),
        // Unix seconds: read as milliseconds, January 1970, the pipeline's oldest build.
        (json!({"started_at": 1_764_910_800}), "started_at"),
        // Year 9999: the pipeline's newest build for good.
        (json!({"started_at": "9999-01-01T00:00:00Z"}), "started_at"),
        (json!({"status": "green"}), "status"),
        (json!({"trigger": "cron"}), "trigger"),
        (json!({"coverage": 140}), "coverage"),
        (json!({"lines_added": -3}), "lines_added"),
        (
            json!({"finished_at": "2026-11-30T13:00:00Z"}),
            "finished_at",
        ),
    ] {
        let mut body = build("run-bad", "success");
        for (k, v) in change.as_object().unwrap() {
            body[k] = v.clone();
        }
        let res = app.post_json("/api/v1/builds", &ci, body).await;
        assert_eq!(
            res.status,
            StatusCode::UNPROCESSABLE_ENTITY,
            "{change}: {}",
            res.body
        );
        let message = res.json()["error"]["message"].as_str().unwrap().to_string();
        assert!(message.starts_with(field), "{change}: {message}");
        assert_eq!(res.json()["error"]["code"], "unprocessable");
    }
    assert_eq!(count(&app, &ci).await, 1, "nothing stored");

    let viewer = app.new_token("viewer", Role::Viewer).await;
    assert_eq!(
        app.post_json("/api/v1/builds", &viewer, build("run-2", "success"))
            .await
            .status,
        StatusCode::FORBIDDEN
    );
    assert_eq!(
        app.post_json("/api/v1/builds", &Auth::None, build("run-2", "success"))
            .await
            .status,
        StatusCode::UNAUTHORIZED
    );
    let scoped = app
        .post_json(
            "/api/v1/tokens",
            &app.new_token("admin", Role::Admin).await,
            json!({"name": "gha", "scopes": ["builds:write"]}),
        )
        .await;
    let scoped = Auth::Bearer(scoped.json()["token"].as_str().unwrap().to_string());
    assert_eq!(
        app.post_json("/api/v1/builds", &scoped, build("run-2", "success"))
            .await
            .status,
        StatusCode::CREATED
    );
    assert_eq!(
        app.post_json("/api/v1/builds/model", &scoped, json!({}))
            .await
            .status,
        StatusCode::FORBIDDEN
    );
}

async fn an_import_is_all_or_nothing_and_lists_page(app: TestApp) {
    let ci = app.new_token("ci", Role::Operator).await;
    let items: Vec<Value> = (0..30)
        .map(|i| {
            let mut b = build(
                &format!("imp-{i}"),
                if i % 5 == 0 { "failure" } else { "success" },
            );
            b["started_at"] = json!(format!("2026-11-{:02}T10:00:00Z", 1 + i % 28));
            b["branch"] = json!(if i % 2 == 0 { "main" } else { "feature/x" });
            b
        })
        .collect();
    let mut broken = items.clone();
    broken[17]["commit"] = json!("zzz");
    let refused = app
        .post_json("/api/v1/builds/import", &ci, Value::Array(broken))
        .await;
    assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        refused.json()["error"]["message"]
            .as_str()
            .unwrap()
            .starts_with("builds[17]: commit"),
        "{}",
        refused.body
    );
    assert_eq!(count(&app, &ci).await, 0);

    // As Windows PowerShell saves a file: a byte-order mark first, lines ending in CRLF.
    let ndjson: String = std::iter::once("\u{feff}".to_string())
        .chain(items.iter().map(|b| format!("{b}\r\n")))
        .collect();
    let imported = app
        .post_raw(
            "/api/v1/builds/import",
            &ci,
            &[("content-type", "application/x-ndjson")],
            ndjson.into_bytes(),
        )
        .await;
    assert_eq!(imported.status, StatusCode::CREATED, "{}", imported.body);
    assert_eq!(
        imported.json(),
        json!({"stored": 30, "created": 30, "updated": 0})
    );
    let again = app
        .post_json("/api/v1/builds/import", &ci, Value::Array(items))
        .await;
    assert_eq!(again.json()["updated"], 30, "the same source ids update");
    // Back-filled history was never predicted: the list says why its Predicted column is empty.
    let cookie = app.sign_in("admin", common::ADMIN_PASSWORD).await;
    let page = app
        .page("/builds/pipeline?name=acme%2Fshop%2Fci&days=365", &cookie)
        .await;
    assert!(
        page.body.contains("not predicted: imported")
            && page.body.contains("back-filled history is never predicted"),
        "{}",
        page.body
    );

    let first = app.get("/api/v1/builds?limit=20", &ci).await.json();
    assert_eq!(first["items"].as_array().unwrap().len(), 20);
    let next = first["next_cursor"].as_i64().unwrap();
    let second = app
        .get(&format!("/api/v1/builds?limit=20&cursor={next}"), &ci)
        .await
        .json();
    assert_eq!(second["items"].as_array().unwrap().len(), 10);
    assert!(second["next_cursor"].is_null());
    // Newest first by start, whatever order they arrived in (ties by arrival), every build once.
    let order: Vec<(String, i64)> = [&first, &second]
        .iter()
        .flat_map(|page| page["items"].as_array().unwrap().clone())
        .map(|b| {
            (
                b["started_at"].as_str().unwrap().to_string(),
                b["id"].as_i64().unwrap(),
            )
        })
        .collect();
    assert!(order.windows(2).all(|w| w[0] > w[1]), "{order:?}");
    assert_eq!(order.len(), 30);
    let failed = app
        .get("/api/v1/builds?status=failure&branch=main", &ci)
        .await
        .json();
    assert!(failed["items"]
        .as_array()
        .unwrap()
        .iter()
        .all(|b| b["status"] == "failure" && b["branch"] == "main"));
    assert_eq!(
        app.get("/api/v1/builds?status=green", &ci).await.status,
        StatusCode::UNPROCESSABLE_ENTITY
    );

    // An import follows what is stored as a delivery does: a build's start, then its outcome
    // alone, keeps what the start said; a late "running" leaves a finished build finished.
    let outcome_only = |id: &str| {
        json!({"pipeline": "acme/shop/ci", "branch": "main", "commit": "0123abcd",
            "started_at": "2026-11-30T14:05:00Z", "status": "failure", "source_id": id})
    };
    let start = app
        .post_json(
            "/api/v1/builds/import",
            &ci,
            json!([build("imp-30", "running")]),
        )
        .await;
    assert_eq!(start.json()["created"], 1);
    let later = app
        .post_json(
            "/api/v1/builds/import",
            &ci,
            json!([outcome_only("imp-30"), build("imp-0", "running")]),
        )
        .await;
    assert_eq!(
        later.json(),
        json!({"stored": 2, "created": 0, "updated": 2})
    );
    // So does a source id named again in one import, as a history saved from a CI's event log
    // names a build at each step: one build, its outcome and what its start said.
    let steps = app
        .post_json(
            "/api/v1/builds/import",
            &ci,
            json!([
                build("imp-31", "running"),
                outcome_only("imp-31"),
                build("imp-31", "running")
            ]),
        )
        .await;
    assert_eq!(
        steps.json(),
        json!({"stored": 1, "created": 1, "updated": 0}),
        "{}",
        steps.body
    );
    let all = app.get("/api/v1/builds?limit=500", &ci).await.json();
    let stored = |id: &str| {
        all["items"]
            .as_array()
            .unwrap()
            .iter()
            .find(|b| b["source_id"] == id)
            .unwrap()
            .clone()
    };
    for id in ["imp-30", "imp-31"] {
        let finished = stored(id);
        assert_eq!(
            (
                &finished["status"],
                &finished["author"],
                &finished["lines_added"],
                &finished["trigger"]
            ),
            (
                &json!("failure"),
                &json!("ann"),
                &json!(120),
                &json!("push")
            ),
            "{id}"
        );
    }
    assert_eq!(stored("imp-0")["status"], "failure");
    assert_eq!(all["items"].as_array().unwrap().len(), 32);
}

/// CI systems retry: the same new run delivered many times at once is stored once, every
/// delivery answered 201 or 200 (none a 500), and a burst of distinct builds is stored whole.
async fn simultaneous_deliveries_are_stored_once_each(app: TestApp) {
    let ci = app.new_token("ci", Role::Operator).await;
    let same = (0..12).map(|_| app.post_json("/api/v1/builds", &ci, build("retry-1", "running")));
    let answers = futures_util::future::join_all(same).await;
    let codes: Vec<StatusCode> = answers.iter().map(|r| r.status).collect();
    assert!(
        codes
            .iter()
            .all(|c| *c == StatusCode::CREATED || *c == StatusCode::OK),
        "{codes:?}"
    );
    assert_eq!(
        codes.iter().filter(|c| **c == StatusCode::CREATED).count(),
        1,
        "{codes:?}"
    );
    let ids: std::collections::HashSet<String> =
        answers.iter().map(|r| r.json()["id"].to_string()).collect();
    assert_eq!(ids.len(), 1, "one build for every delivery: {ids:?}");

    let burst = (0..40).map(|i| {
        let status = if i % 4 == 0 { "failure" } else { "success" };
        app.post_json("/api/v1/builds", &ci, build(&format!("burst-{i}"), status))
    });
    let answers = futures_util::future::join_all(burst).await;
    assert!(answers.iter().all(|r| r.status == StatusCode::CREATED));
    assert_eq!(count(&app, &ci).await, 41);
}

/// A CI that writes its run's link with its credentials in it (`https://user:token@…`, or a
/// token in the query): the link is kept without them, in the answer, the list and the page.
async fn a_builds_link_keeps_no_credentials(app: TestApp) {
    let ci = app.new_token("ci", Role::Operator).await;
    let mut b = build("run-secret", "failure");
    b["url"] = json!("https://jenkins:s3cret-api-token@ci.example.com/job/shop/7/?private_token=s3cret-query-token&tab=tests");
    let created = app.post_json("/api/v1/builds", &ci, b).await;
    assert_eq!(created.status, StatusCode::CREATED, "{}", created.body);
    let clean = "https://ci.example.com/job/shop/7/?tab=tests";
    assert_eq!(created.json()["url"], clean);
    let listed = app.get("/api/v1/builds", &ci).await;
    assert_eq!(listed.json()["items"][0]["url"], clean);
    let cookie = app.sign_in("admin", common::ADMIN_PASSWORD).await;
    let page = app
        .page("/builds/pipeline?name=acme%2Fshop%2Fci&days=3650", &cookie)
        .await;
    assert_eq!(page.status, StatusCode::OK);
    for shown in [&created.body, &listed.body, &page.body] {
        assert!(!shown.contains("s3cret"), "a credential was shown: {shown}");
    }
    assert!(page.body.contains("ci.example.com/job/shop/7/"));
}

on_both_databases!(
    a_builds_link_keeps_no_credentials,
    a_build_is_stored_once_and_moves_through_its_life,
    an_import_is_all_or_nothing_and_lists_page,
    simultaneous_deliveries_are_stored_once_each,
);
