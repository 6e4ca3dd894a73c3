//! The failure predictor over the REST API, on both databases: training, the time-ordered
//! evaluation, predictions with their factors, surviving a restart, and the prior the live
//! prediction reads from SQL against the one training computes.

mod common;
use app::model::Role;
use axum::http::StatusCode;
use common::builds::build;
use common::TestApp;
use serde_json::{json, Value};

async fn the_predictor_trains_evaluates_predicts_and_survives_a_restart(app: TestApp) {
    let ci = app.new_token("ci", Role::Operator).await;
    let viewer = app.new_token("viewer", Role::Viewer).await;
    assert_eq!(
        app.get("/api/v1/builds/model", &viewer).await.status,
        StatusCode::NOT_FOUND
    );
    let too_few = app.post_json("/api/v1/builds/model", &ci, json!({})).await;
    assert_eq!(too_few.status, StatusCode::CONFLICT);
    assert!(too_few.json()["error"]["message"]
        .as_str()
        .unwrap()
        .contains("Not enough history"));
    let baseline = app
        .post_json(
            "/api/v1/builds/predict",
            &viewer,
            json!({"pipeline": "acme/shop/ci", "branch": "main"}),
        )
        .await
        .json();
    assert_eq!(
        (baseline["basis"].clone(), baseline["model"].clone()),
        (json!("last_build_baseline"), Value::Null)
    );

    // A fixed history (two months up to 2025-12-01): the generator's weekdays and hours follow
    // the calendar, so a history ending "now" is a different one every day, and one of them had
    // the search pipeline's main red at the end (the safe build below then looked risky).
    let history = flightdeck::demo::builds::history(5, 60, 8, 1_764_547_200_000);
    app.state.builds.import(history).await.unwrap();
    assert_eq!(
        app.post_json("/api/v1/builds/model", &viewer, json!({}))
            .await
            .status,
        StatusCode::FORBIDDEN
    );
    let trained = app.post_json("/api/v1/builds/model", &ci, json!({})).await;
    assert_eq!(trained.status, StatusCode::OK, "{}", trained.body);
    let model = trained.json();
    let e = &model["evaluation"];
    for field in [
        "accuracy",
        "precision",
        "recall",
        "f1",
        "baseline_accuracy",
        "baseline_f1",
        "majority_accuracy",
        "majority_f1",
    ] {
        let v = e[field].as_f64().unwrap_or(-1.0);
        assert!((0.0..=1.0).contains(&v), "{field}: {e}");
    }
    assert!(e["test_samples"].as_u64().unwrap() > 500);
    assert!(
        e["accuracy"].as_f64() > e["baseline_accuracy"].as_f64(),
        "{e}"
    );
    assert!(e["f1"].as_f64() > e["baseline_f1"].as_f64(), "{e}");
    assert_eq!(
        app.get("/api/v1/builds/model", &viewer).await.json()["version"],
        model["version"]
    );

    let risky = app.post_json("/api/v1/builds/predict", &viewer, json!({"pipeline": "acme/web/e2e", "branch": "main", "author": "new.hire",
        "trigger": "push", "message": "WIP: bump deps", "lines_added": 2400, "lines_deleted": 300, "files_changed": 60})).await;
    assert_eq!(risky.status, StatusCode::OK, "{}", risky.body);
    let risky = risky.json();
    // The same pipeline, branch and author: only what the change itself says differs.
    let safe = app.post_json("/api/v1/builds/predict", &viewer, json!({"pipeline": "acme/web/e2e", "branch": "main", "author": "new.hire",
        "trigger": "push", "message": "Update docs", "lines_added": 4, "lines_deleted": 1, "files_changed": 1})).await.json();
    assert!(
        risky["failure_probability"].as_f64() > safe["failure_probability"].as_f64(),
        "{risky} vs {safe}"
    );
    assert_eq!(risky["model"]["version"], model["version"]);
    let factors = risky["factors"].as_array().unwrap();
    assert!(!factors.is_empty());
    let size = factors.iter().find(|f| f["name"] == "change_size");
    assert_eq!(
        size.map(|f| (f["reason"].clone(), f["contribution"].as_f64() > Some(0.0))),
        Some((json!("change size: 2,700 lines in 60 files"), true)),
        "a large change raises the risk, and its factor says so: {risky}"
    );
    // Only the change differs: the larger it is, the likelier a failure; a build that did not
    // say its size reads as a typical one (no factor for it), not as a change of 0 lines.
    let change = |size: Value| {
        let mut body = json!({"pipeline": "acme/web/e2e", "branch": "main", "author": "new.hire",
            "trigger": "push", "message": "Update checkout"});
        body.as_object_mut()
            .unwrap()
            .extend(size.as_object().unwrap().clone());
        let app = &app;
        let viewer = &viewer;
        async move {
            app.post_json("/api/v1/builds/predict", viewer, body)
                .await
                .json()
        }
    };
    let mut risks = Vec::new();
    for lines in [5, 120, 1_240, 9_000] {
        let p = change(json!({"lines_added": lines})).await;
        risks.push(p["failure_probability"].as_f64().unwrap());
    }
    assert!(risks.windows(2).all(|w| w[0] < w[1]), "{risks:?}");
    let unknown = change(json!({})).await;
    assert!(
        unknown["factors"]
            .as_array()
            .unwrap()
            .iter()
            .all(|f| f["name"] != "change_size"),
        "{unknown}"
    );
    let unknown = unknown["failure_probability"].as_f64().unwrap();
    assert!(
        risks[0] < unknown && unknown < risks[3],
        "{unknown} among {risks:?}"
    );
    assert!(
        factors.iter().all(|f| f["name"] != "fix_after_failure"),
        "only what the build has: {risky}"
    );
    // Refused by the rules a stored build is read by.
    for bad in [
        json!({"branch": "main"}),
        json!({"pipeline": "acme/web/e2e\u{9b}", "branch": "main"}),
        json!({"pipeline": "acme/web/e2e", "branch": "main", "files_changed": 2.5}),
    ] {
        let res = app.post_json("/api/v1/builds/predict", &viewer, bad).await;
        assert_eq!(res.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", res.body);
    }

    // A new process on the same database uses the stored model.
    let restarted = flightdeck::builds::Builds::start(&app.state.db, app.state.bus.clone()).await;
    assert_eq!(
        restarted.model().unwrap().version,
        model["version"].as_i64().unwrap()
    );

    // Builds that arrive now carry the model's prediction, scored once they finish.
    let mut b = build("live-1", "running");
    b["started_at"] = json!(flightdeck::now_ms());
    let live = app.post_json("/api/v1/builds", &ci, b.clone()).await.json();
    assert_eq!(live["prediction"]["model_version"], model["version"]);
    b["status"] = json!("success");
    app.post_json("/api/v1/builds", &ci, b).await;
    let accuracy = app.get("/api/v1/builds/accuracy", &viewer).await.json();
    assert_eq!(accuracy["builds"], 1);

    // Two failures in a row on a branch are one reason, however the model weighs the streak
    // beside the failure: it raises the risk and says both.
    for (n, commit) in [(1, "0badc0de1"), (2, "0badc0de2")] {
        let mut failed = build(&format!("red-{n}"), "failure");
        failed["branch"] = json!("feature/red");
        failed["commit"] = json!(commit);
        failed["started_at"] = json!(format!("2026-11-30T1{n}:00:00Z"));
        failed["tests_failed"] = json!(12);
        let stored = app.post_json("/api/v1/builds", &ci, failed).await;
        assert_eq!(stored.status, StatusCode::CREATED, "{}", stored.body);
    }
    let next = app
        .post_json(
            "/api/v1/builds/predict",
            &viewer,
            json!({"pipeline": "acme/shop/ci",
        "branch": "feature/red", "commit": "0badc0de3", "started_at": "2026-11-30T13:00:00Z"}),
        )
        .await
        .json();
    let branch: Vec<&Value> = next["factors"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| {
            ["previous_failed", "red_streak", "previous_tests_failed"]
                .contains(&f["name"].as_str().unwrap())
        })
        .collect();
    assert_eq!(branch.len(), 1, "{next}");
    assert_eq!(
        (branch[0]["name"].clone(), branch[0]["reason"].clone()),
        (
            json!("previous_failed"),
            json!("the last 2 builds on this branch failed (12 tests failed)")
        ),
        "{next}"
    );
    assert!(branch[0]["contribution"].as_f64() > Some(0.0), "{next}");

    // A model stored before its features were recorded (an upgrade that changed them) is not
    // used by the next process: its weights would meet the wrong values.
    use sqlx::Row as _;
    let version = model["version"].as_i64().unwrap();
    let pool = &app.state.db.pool;
    let stored: String = sqlx::query("SELECT model FROM build_models WHERE version = $1")
        .bind(version)
        .fetch_one(pool)
        .await
        .unwrap()
        .get(0);
    let mut old: Value = serde_json::from_str(&stored).unwrap();
    assert!(
        old["features"].as_array().is_some_and(|f| f.len() > 20),
        "{old}"
    );
    old.as_object_mut().unwrap().remove("features");
    sqlx::query("UPDATE build_models SET model = $1 WHERE version = $2")
        .bind(old.to_string())
        .bind(version)
        .execute(pool)
        .await
        .unwrap();
    let upgraded = flightdeck::builds::Builds::start(&app.state.db, app.state.bus.clone()).await;
    assert!(upgraded.model().is_none());
}

/// The live prediction reads its prior from SQL; the model was trained on priors that `History`
/// computes in memory. If the two disagreed, predictions would be made on features the model
/// never saw.
async fn the_prior_read_from_sql_is_the_one_training_computes(app: TestApp) {
    use app::builds::features::{History, AUTHOR_LONG_WINDOW, PIPELINE_WINDOW};
    use app::builds::PreRun;
    let builds = flightdeck::demo::builds::history(5, 30, 8, 1_796_162_400_000);
    app.state.builds.import(builds.clone()).await.unwrap();
    let mut history = History::default();
    let (mut reds, mut full) = (0, 0);
    for b in &builds {
        let pre = PreRun::from(b);
        let expected = history.prior(&pre);
        reds += u32::from(expected.red_streak > 1);
        full += u32::from(
            expected.author_long.1 as usize == AUTHOR_LONG_WINDOW
                && expected.pipeline.1 as usize == PIPELINE_WINDOW,
        );
        let read = app.state.builds.prior(&pre).await.unwrap();
        assert_eq!(read, expected, "{}", b.source_id);
        history.record(b);
    }
    assert!(reds > 0, "the history has red streaks to compare");
    assert!(full > 0, "the history fills the long windows");
}

/// A push and its pull request run the same workflow on the same branch, often in the same
/// second. The branch's previous build is then the one stored last, whole: its outcome, commit
/// and failed tests, not a mix of the two.
async fn two_runs_in_the_same_second_give_the_prior_one_previous_build(app: TestApp) {
    use app::builds::PreRun;
    let operator = app.new_token("ci", Role::Operator).await;
    for (id, commit, status, failed) in [
        ("push", "aaaaaaa1", "failure", 7),
        ("pr", "bbbbbbb2", "success", 0),
    ] {
        let mut b = build(id, status);
        b["commit"] = json!(commit);
        b["tests_total"] = json!(100);
        b["tests_failed"] = json!(failed);
        let res = app.post_json("/api/v1/builds", &operator, b).await;
        assert_eq!(res.status, StatusCode::CREATED, "{}", res.body);
    }
    let next = PreRun {
        pipeline: "acme/shop/ci".into(),
        branch: "main".into(),
        started_at: 1_796_083_200_000, // 2026-12-01, after both
        ..PreRun::default()
    };
    let prior = app.state.builds.prior(&next).await.unwrap();
    assert_eq!(prior.previous_failed, Some(false));
    assert_eq!(prior.previous_commit.as_deref(), Some("bbbbbbb2"));
    assert_eq!(prior.previous_tests_failed, None);
}

/// "Train now" on the build pages: the server function operators call, refused to viewers,
/// saying why while the history is too short, and announcing a new model to open pages.
async fn operators_train_the_model_from_the_pages(app: TestApp) {
    let viewer = app.new_user("watcher", Role::Viewer).await;
    let viewer = app.sign_in("watcher", &viewer).await;
    let operator = app.new_user("oncall", Role::Operator).await;
    let operator = app.sign_in("oncall", &operator).await;
    let refused = app.server_fn("builds_train", &viewer, &[]).await;
    assert_eq!(refused.status, StatusCode::FORBIDDEN, "{}", refused.body);
    let too_few = app.server_fn("builds_train", &operator, &[]).await;
    assert!(too_few.status.is_client_error(), "{}", too_few.body);
    assert!(
        too_few.body.contains("Not enough history"),
        "{}",
        too_few.body
    );

    let history = flightdeck::demo::builds::history(5, 20, 4, flightdeck::now_ms());
    app.state.builds.import(history).await.unwrap();
    // The button is there for operators only.
    for (who, shown) in [(&viewer, false), (&operator, true)] {
        let page = app.page("/builds", who).await;
        assert!(page.body.contains("Failure prediction"), "{}", page.body);
        assert_eq!(page.body.contains(">Train now<"), shown);
    }
    let trained = app.server_fn("builds_train", &operator, &[]).await;
    assert_eq!(trained.status, StatusCode::OK, "{}", trained.body);
    let model = trained.json();
    assert!(model["samples"].as_u64() > Some(100), "{model}");
    let ci = app.new_token("ci", Role::Viewer).await;
    assert_eq!(
        app.get("/api/v1/builds/model", &ci).await.json()["version"],
        model["version"]
    );
    // The pages refetch on the builds topic: the new model is news there.
    let newest: (String, String) =
        sqlx::query_as("SELECT type, data FROM event WHERE topic = 'builds' ORDER BY seq DESC")
            .fetch_one(&app.state.db.pool)
            .await
            .unwrap();
    assert_eq!(newest.0, "build.model_trained");
    let data: Value = serde_json::from_str(&newest.1).unwrap();
    assert_eq!(data["version"], model["version"]);
}

/// The automatic retraining rule, counted in the database: due with no model, after 500 more
/// finished builds than the model learnt from (on any replica), and once the model is a day old.
async fn the_model_is_due_again_after_500_more_finished_builds(app: TestApp) {
    let ci = app.new_token("ci", Role::Operator).await;
    let builds = &app.state.builds;
    let now = flightdeck::now_ms;
    assert_eq!(
        builds.training_due(now()).await.unwrap().as_deref(),
        Some("no model yet")
    );
    let history = flightdeck::demo::builds::history(5, 20, 4, 1_764_547_200_000);
    builds.import(history).await.unwrap();
    let first = builds.train().await.unwrap();
    assert_eq!(builds.training_due(now()).await.unwrap().as_deref(), None);

    // 499 more builds finish and a 500th is still running: not yet.
    let more: Vec<Value> = (0..499)
        .map(|i| {
            build(
                &format!("more-{i}"),
                ["success", "failure"][usize::from(i % 4 == 0)],
            )
        })
        .chain([build("last", "running")])
        .collect();
    let imported = app
        .post_json("/api/v1/builds/import", &ci, Value::Array(more))
        .await;
    assert!(imported.status.is_success(), "{}", imported.body);
    assert_eq!(builds.training_due(now()).await.unwrap().as_deref(), None);
    // CI reports the running one finished: the 500th.
    let finished = app
        .post_json("/api/v1/builds", &ci, build("last", "success"))
        .await;
    assert_eq!(finished.status, StatusCode::OK, "{}", finished.body);
    let reason = Some("500 builds finished since the model was trained");
    assert_eq!(builds.training_due(now()).await.unwrap().as_deref(), reason);

    // Counted in the database: a restarted (or another) replica sees the same.
    let restarted = flightdeck::builds::Builds::start(&app.state.db, app.state.bus.clone()).await;
    assert_eq!(restarted.model().map(|m| m.version), Some(first.version));
    assert_eq!(
        restarted.training_due(now()).await.unwrap().as_deref(),
        reason
    );
    let second = restarted.train().await.unwrap();
    assert_eq!(second.samples, first.samples + 500);
    assert_eq!(
        restarted.training_due(now()).await.unwrap().as_deref(),
        None
    );
    // A day on it is due again, however few builds came.
    assert_eq!(
        restarted
            .training_due(now() + 86_400_000 + 60_000)
            .await
            .unwrap()
            .as_deref(),
        Some("the model is a day old")
    );
}

/// PostgreSQL only: a model trained through one replica is the one another replica predicts
/// with as soon as its event arrives, not after the other's minute of polling.
#[tokio::test]
async fn another_replica_takes_up_a_new_model_at_once() {
    let Some(app) = TestApp::on(common::Backend::Postgres).await else {
        return;
    };
    let replica = flightdeck::builds::Builds::start(&app.state.db, app.replica_bus().await).await;
    replica.spawn_worker();
    let history = flightdeck::demo::builds::history(5, 20, 4, flightdeck::now_ms());
    app.state.builds.import(history).await.unwrap();
    let trained = app.state.builds.train().await.unwrap();
    let version = |b: &flightdeck::builds::Builds| b.model().map(|m| m.version);
    for _ in 0..100 {
        if version(&replica) == Some(trained.version) {
            return;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    panic!(
        "the other replica still predicts with {:?}, not {}",
        version(&replica),
        trained.version
    );
}

on_both_databases!(
    operators_train_the_model_from_the_pages,
    the_model_is_due_again_after_500_more_finished_builds,
    the_predictor_trains_evaluates_predicts_and_survives_a_restart,
    the_prior_read_from_sql_is_the_one_training_computes,
    two_runs_in_the_same_second_give_the_prior_one_previous_build,
);
