//! CI builds over the REST API, on both databases: ingestion (422s with nothing stored,
//! idempotent source ids, roles and scopes), the import, paging and statistics. The failure
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

async fn stats_sum_up_each_pipeline(app: TestApp) {
    let ci = app.new_token("ci", Role::Operator).await;
    let now = flightdeck::now_ms();
    // main: success, failure (red), failure, success 30 min after the first failure ended.
    let runs = [
        ("success", 0, 100.0),
        ("failure", 10, 200.0),
        ("failure", 20, 300.0),
        ("success", 40, 400.0),
    ];
    let items: Vec<Value> = runs.iter().enumerate().map(|(i, (status, minute, duration))| {
        let start = now - 3_600_000 + minute * 60_000;
        json!({"pipeline": "acme/shop/ci", "branch": "main", "commit": "abcdef0", "status": status, "source_id": format!("s{i}"),
               "started_at": start, "finished_at": start + (*duration as i64) * 1000, "coverage": 70.0 + i as f64})
    }).collect();
    app.post_json("/api/v1/builds/import", &ci, Value::Array(items))
        .await;
    let stats = app.get("/api/v1/builds/stats?days=7", &ci).await.json();
    let s = &stats["pipelines"][0];
    assert_eq!(
        (
            s["pipeline"].clone(),
            s["builds"].clone(),
            s["success_rate"].clone()
        ),
        (json!("acme/shop/ci"), json!(4), json!(0.5))
    );
    assert_eq!(
        (s["duration_p50_s"].clone(), s["longest_red_streak"].clone()),
        (json!(250.0), json!(2))
    );
    // Red from the first failure's end (minute 10 + 200 s) to the recovery's end (minute 40 + 400 s).
    assert_eq!(s["mttr_s"], json!((30 * 60 + 200) as f64));
    assert_eq!(
        (s["latest_coverage"].clone(), s["coverage_trend"].clone()),
        (json!(73.0), json!(3.0))
    );
    assert_eq!(
        app.get("/api/v1/builds/stats?days=0", &ci).await.status,
        StatusCode::UNPROCESSABLE_ENTITY
    );
    assert_eq!(
        app.get("/api/v1/builds/stats?days=3651", &ci).await.status,
        StatusCode::UNPROCESSABLE_ENTITY
    );
    let other = app
        .get("/api/v1/builds/stats?pipeline=nope", &ci)
        .await
        .json();
    assert!(other["pipelines"].as_array().unwrap().is_empty());

    // The pipeline's page: 200 for a period without builds (a quiet pipeline is not an error),
    // 404 for a name that never had a build (a typo, an old link), saying where the names are.
    let cookie = app.sign_in("admin", common::ADMIN_PASSWORD).await;
    let ten_days_ago = now - 10 * 86_400_000;
    let old = json!({"pipeline": "acme/old/ci", "branch": "main", "commit": "abcdef0", "status": "success",
                     "source_id": "old", "started_at": ten_days_ago, "finished_at": ten_days_ago + 60_000});
    app.post_json("/api/v1/builds", &ci, old).await;
    let quiet = app
        .page("/builds/pipeline?name=acme%2Fold%2Fci&days=7", &cookie)
        .await;
    assert_eq!(quiet.status, StatusCode::OK, "{}", quiet.body);
    assert!(quiet.body.contains("0 builds"), "{}", quiet.body);
    let typo = app
        .page("/builds/pipeline?name=acme%2Fshop%2Fcl", &cookie)
        .await;
    assert_eq!(typo.status, StatusCode::NOT_FOUND, "{}", typo.body);
    // Said as what it is: not found, not "could not load".
    assert!(
        typo.body.contains("<strong>Not found. ")
            && typo.body.contains("the Builds page lists them all"),
        "{}",
        typo.body
    );
    let unnamed = app.page("/builds/pipeline", &cookie).await;
    assert_eq!(unnamed.status, StatusCode::NOT_FOUND);
    assert!(unnamed.body.contains("Which pipeline?"), "{}", unnamed.body);
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

/// Before the first build, the Builds page says how a team's CI sends them.
async fn the_builds_page_says_how_ci_sends_builds(app: TestApp) {
    let password = app.new_user("vera", Role::Viewer).await;
    let cookie = app.sign_in("vera", &password).await;
    let empty = app.page("/builds", &cookie).await.body;
    for way in [
        "/api/v1/webhooks/github",
        "flightdeck import-github-runs",
        "/api/v1/webhooks/gitlab",
        "/settings#webhooks-title",
        "POST /api/v1/builds/import",
    ] {
        assert!(empty.contains(way), "{way} in {empty}");
    }
}

/// GitHub workflow names carry spaces, `&` and `#` (and may hold what reads as an escape, `%20`):
/// the Builds page links to such a pipeline's page, and the page finds it.
async fn a_pipeline_named_with_url_syntax_opens(app: TestApp) {
    let ci = app.new_token("ci", Role::Operator).await;
    let mut b = build("amp-1", "failure");
    b["pipeline"] = json!("acme/shop/Build & Deploy #2%20");
    b["started_at"] = json!(app::time_fmt::rfc3339(flightdeck::now_ms() - 3_600_000));
    let created = app.post_json("/api/v1/builds", &ci, b).await;
    assert_eq!(created.status, StatusCode::CREATED, "{}", created.body);
    let cookie = app.sign_in("admin", common::ADMIN_PASSWORD).await;
    let href = "/builds/pipeline?name=acme%2Fshop%2FBuild%20%26%20Deploy%20%232%2520&days=365";
    let list = app.page("/builds?days=365", &cookie).await;
    assert!(
        list.body.contains(&href.replace('&', "&amp;")) || list.body.contains(href),
        "{}",
        list.body
    );
    let page = app.page(href, &cookie).await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.body);
    assert!(
        page.body.contains("acme/shop/Build &amp; Deploy #2%20")
            && !page.body.contains("Not found")
    );
}

/// "Did CI pass on this commit?": a release names the whole sha, a CI may send the first
/// seven digits; either finds the other's builds, and nothing else's.
async fn the_builds_of_a_commit_list_by_its_sha_whole_or_short(app: TestApp) {
    let ci = app.new_token("ci", Role::Operator).await;
    let whole = "9fceb02d0ae598e95dc970b74767f19372d61af8";
    for (id, commit, status) in [
        ("c-1", whole, "failure"),
        ("c-2", &whole[..7], "success"), // a re-run, as a CI that shortens shas sends it
        ("c-3", "9fceb0ffffffffffffffffffffffffffffffffff", "success"), // shares six digits
    ] {
        let mut b = build(id, status);
        b["commit"] = json!(commit);
        let posted = app.post_json("/api/v1/builds", &ci, b).await;
        assert_eq!(posted.status, StatusCode::CREATED, "{}", posted.body);
    }
    let ids = |body: Value| -> Vec<String> {
        let mut ids: Vec<String> = body["items"]
            .as_array()
            .unwrap()
            .iter()
            .map(|b| b["source_id"].as_str().unwrap().to_string())
            .collect();
        ids.sort();
        ids
    };
    for asked in [
        whole.to_string(),
        whole[..7].to_uppercase(),
        whole[..12].to_string(),
    ] {
        let listed = app
            .get(&format!("/api/v1/builds?commit={asked}"), &ci)
            .await;
        assert_eq!(listed.status, StatusCode::OK, "{}", listed.body);
        assert_eq!(ids(listed.json()), ["c-1", "c-2"], "asked for {asked}");
    }
    let other = app
        .get("/api/v1/builds?commit=9fceb0fff&status=success", &ci)
        .await;
    assert_eq!(ids(other.json()), ["c-3"]);
    for bad in [
        "9fceb0",
        "not-a-sha",
        "9fceb02d0ae598e95dc970b74767f19372d61af8a",
    ] {
        let refused = app.get(&format!("/api/v1/builds?commit={bad}"), &ci).await;
        assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY, "{bad}");
        assert!(refused.json()["error"]["message"]
            .as_str()
            .unwrap()
            .starts_with("commit:"));
    }
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
    the_builds_of_a_commit_list_by_its_sha_whole_or_short,
    the_builds_page_says_how_ci_sends_builds,
    a_pipeline_named_with_url_syntax_opens,
    a_build_is_stored_once_and_moves_through_its_life,
    an_import_is_all_or_nothing_and_lists_page,
    stats_sum_up_each_pipeline,
    simultaneous_deliveries_are_stored_once_each,
);
