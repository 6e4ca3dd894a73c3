//! Services and environments over the REST API, on both databases.

mod common;
use app::model::Role;
use axum::http::StatusCode;
use common::TestApp;
use serde_json::json;

async fn environments_are_listed_in_pipeline_order(app: TestApp) {
    let admin = app.new_token("admin-bot", Role::Admin).await;
    for (name, rank, protected) in [
        ("production", 40, true),
        ("dev", 10, false),
        ("staging", 20, false),
    ] {
        let res = app
            .post_json(
                "/api/v1/environments",
                &admin,
                json!({"name": name, "rank": rank, "protected": protected}),
            )
            .await;
        assert_eq!(res.status, StatusCode::CREATED, "{}", res.body);
    }
    let list = app.get("/api/v1/environments", &admin).await.json();
    let names: Vec<_> = list
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["dev", "staging", "production"]);
    assert_eq!(list[2]["protected"], true);
    assert_eq!(list[0]["protected"], false);

    let same_name = app
        .post_json(
            "/api/v1/environments",
            &admin,
            json!({"name": "dev", "rank": 5}),
        )
        .await;
    assert_eq!(same_name.status, StatusCode::CONFLICT);
    assert!(same_name.json()["error"]["message"]
        .as_str()
        .unwrap()
        .contains("named 'dev'"));
    let same_rank = app
        .post_json(
            "/api/v1/environments",
            &admin,
            json!({"name": "canary", "rank": 20}),
        )
        .await;
    assert_eq!(same_rank.status, StatusCode::CONFLICT);
    assert!(same_rank.json()["error"]["message"]
        .as_str()
        .unwrap()
        .contains("taken by 'staging'"));
    assert_eq!(
        app.get("/api/v1/environments", &admin)
            .await
            .json()
            .as_array()
            .unwrap()
            .len(),
        3
    );
}

async fn services_are_created_validated_and_audited(app: TestApp) {
    let operator = app.new_token("ops-bot", Role::Operator).await;
    let res = app
        .post_json("/api/v1/services", &operator, json!({"name": "checkout-api", "owner": " payments ", "repo_url": "https://git.example.com/pay/checkout"}))
        .await;
    assert_eq!(res.status, StatusCode::CREATED, "{}", res.body);
    assert_eq!(res.json()["owner"], "payments");
    let audit = app.audit_actions().await;
    assert_eq!(audit.last().map(String::as_str), Some("service.created"));

    for (body, status) in [
        (
            json!({"name": "Checkout"}),
            StatusCode::UNPROCESSABLE_ENTITY,
        ),
        (
            json!({"name": "x", "repo_url": "javascript:alert(1)"}),
            StatusCode::UNPROCESSABLE_ENTITY,
        ),
        // A clone address with a token in it: every viewer would read the token.
        (
            json!({"name": "x", "repo_url": "https://ghp_t0ken@github.com/pay/checkout"}),
            StatusCode::UNPROCESSABLE_ENTITY,
        ),
        (
            json!({"name": "x", "colour": "red"}),
            StatusCode::UNPROCESSABLE_ENTITY,
        ),
        (json!({"name": "checkout-api"}), StatusCode::CONFLICT),
    ] {
        let res = app
            .post_json("/api/v1/services", &operator, body.clone())
            .await;
        assert_eq!(res.status, status, "{body}: {}", res.body);
        assert!(res.json()["error"]["message"].is_string());
    }
    let list = app.get("/api/v1/services", &operator).await.json();
    assert_eq!(
        list.as_array().unwrap().len(),
        1,
        "refused requests changed nothing"
    );
    assert_eq!(app.audit_actions().await.len(), audit.len());

    // The audit trail of one service: its own entries and its targets' (service/environment),
    // not those of a service whose name merely starts the same.
    for name in ["checkout", "checkout-api-v2"] {
        app.create_service(&operator, name).await;
    }
    let admin = app.new_token("admin-bot", Role::Admin).await;
    app.create_environment(&admin, "staging", 1, false).await;
    let target = app
        .put_json(
            "/api/v1/services/checkout-api/targets/staging",
            &admin,
            json!({"deployer": "simulated"}),
        )
        .await;
    assert!(target.status.is_success(), "{}", target.body);
    let trail = app
        .get("/api/v1/audit?service=checkout-api", &operator)
        .await
        .json();
    let targets: Vec<&str> = trail["entries"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["target"].as_str().unwrap())
        .collect();
    assert_eq!(targets, ["checkout-api/staging", "checkout-api"], "{trail}");

    // A clone address over ssh keeps its user: `git@` is how ssh is reached, not a secret.
    let ssh = "ssh://git@git.example.com/pay/ledger.git";
    let res = app
        .post_json(
            "/api/v1/services",
            &operator,
            json!({"name": "ledger", "repo_url": ssh}),
        )
        .await;
    assert_eq!(res.status, StatusCode::CREATED, "{}", res.body);
    let listed = app.get("/api/v1/services", &operator).await.json();
    let ledger = listed
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["name"] == "ledger");
    assert_eq!(ledger.unwrap()["repo_url"], ssh, "{listed}");
}

async fn roles_decide_who_shapes_the_catalog(app: TestApp) {
    let viewer = app.new_token("viewer-bot", Role::Viewer).await;
    let operator = app.new_token("ops-bot", Role::Operator).await;
    let admin = app.new_token("admin-bot", Role::Admin).await;
    let service = |n: &str| json!({"name": n});
    assert_eq!(
        app.post_json("/api/v1/services", &viewer, service("a"))
            .await
            .status,
        StatusCode::FORBIDDEN
    );
    assert_eq!(
        app.post_json("/api/v1/services", &operator, service("b"))
            .await
            .status,
        StatusCode::CREATED
    );
    assert_eq!(
        app.post_json("/api/v1/services", &admin, service("c"))
            .await
            .status,
        StatusCode::CREATED
    );
    let env = |n: &str, r: i64| json!({"name": n, "rank": r});
    assert_eq!(
        app.post_json("/api/v1/environments", &viewer, env("dev", 1))
            .await
            .status,
        StatusCode::FORBIDDEN
    );
    assert_eq!(
        app.post_json("/api/v1/environments", &operator, env("dev", 1))
            .await
            .status,
        StatusCode::FORBIDDEN
    );
    assert_eq!(
        app.post_json("/api/v1/environments", &admin, env("dev", 1))
            .await
            .status,
        StatusCode::CREATED
    );
    assert_eq!(
        app.get("/api/v1/services", &viewer).await.status,
        StatusCode::OK
    );
    assert_eq!(
        app.get("/api/v1/environments", &common::Auth::None)
            .await
            .status,
        StatusCode::UNAUTHORIZED
    );
}

/// A write two requests race to make (past the look before it) is refused with 409, naming on
/// PostgreSQL which of the table's unique constraints it broke; one that refers to a removed row
/// is 409 too, never 500.
async fn violated_constraints_answer_409_naming_the_right_one(app: TestApp) {
    use flightdeck::db::Backend;
    use flightdeck::store;
    let pool = &app.state.db.pool;
    sqlx::query(
        "INSERT INTO environments (name, rank, protected, created_at) VALUES ('dev', 10, false, 0)",
    )
    .execute(pool)
    .await
    .unwrap();
    let insert = |name: &'static str, rank: i64| async move {
        let mut tx = store::begin(pool).await.unwrap();
        let result = store::insert_id(
            sqlx::query("INSERT INTO environments (name, rank, protected, created_at) VALUES ($1, $2, false, 0) RETURNING id")
                .bind(name)
                .bind(rank),
            &mut tx,
            "creating an environment",
            |constraint| match constraint {
                Some("environments_name_key") => "name".to_string(),
                Some("environments_rank_key") => "rank".to_string(),
                other => format!("{other:?}"),
            },
        )
        .await;
        result.unwrap_err()
    };
    let (by_name, by_rank) = (insert("dev", 20).await, insert("qa", 10).await);
    assert_eq!(by_name.code.status(), 409);
    assert_eq!(by_rank.code.status(), 409);
    if app.state.db.backend == Backend::Postgres {
        assert_eq!(
            (by_name.message.as_str(), by_rank.message.as_str()),
            ("name", "rank")
        );
    } else {
        // SQLite names no constraint: the message must cover both.
        assert_eq!(
            (by_name.message.as_str(), by_rank.message.as_str()),
            ("None", "None")
        );
    }

    let mut tx = store::begin(pool).await.unwrap();
    let gone = store::insert_id(
        sqlx::query("INSERT INTO releases (service_id, version, created_at) VALUES (424242, '1.0.0', 0) RETURNING id"),
        &mut tx,
        "creating a release",
        |_| unreachable!("not a unique violation"),
    )
    .await
    .unwrap_err();
    assert_eq!(gone.code.status(), 409, "{}", gone.message);
    assert!(gone.message.contains("reload"), "{}", gone.message);
}

on_both_databases!(
    violated_constraints_answer_409_naming_the_right_one,
    environments_are_listed_in_pipeline_order,
    services_are_created_validated_and_audited,
    roles_decide_who_shapes_the_catalog,
);
