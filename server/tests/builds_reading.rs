//! What reading CI builds answers, on both databases: each pipeline's statistics, the Builds page
//! before the first build, a pipeline named with URL syntax, and a commit's builds by its sha.
//! Storing builds: `builds.rs`.

mod common;
use app::model::Role;
use axum::http::StatusCode;
use common::builds::build;
use common::TestApp;
use serde_json::{json, Value};

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

on_both_databases!(
    stats_sum_up_each_pipeline,
    the_builds_page_says_how_ci_sends_builds,
    a_pipeline_named_with_url_syntax_opens,
    the_builds_of_a_commit_list_by_its_sha_whole_or_short,
);
