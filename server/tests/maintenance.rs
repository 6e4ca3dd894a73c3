//! Maintenance mode over the REST API, on both databases: who may turn it on, what it refuses,
//! what every page and the health check say, probe alerts silenced, SLO budgets untouched, and
//! the end at `until`.

mod common;
use app::model::Role;
use axum::http::StatusCode;
use common::{Auth, TestApp};
use serde_json::{json, Value};

async fn catalog(app: &TestApp) -> Auth {
    let admin = app.new_token("maint-admin", Role::Admin).await;
    app.create_service(&admin, "api").await;
    for (name, rank) in [("staging", 20), ("production", 40)] {
        app.create_environment(&admin, name, rank, false).await;
        let res = app
            .put_json(
                &format!("/api/v1/services/api/targets/{name}"),
                &admin,
                json!({"deployer": "simulated"}),
            )
            .await;
        assert!(res.status.is_success(), "{}", res.body);
    }
    admin
}

fn deploy(environment: &str) -> Value {
    json!({"service": "api", "environment": environment, "version": "1.0.0", "confirm": environment})
}

async fn maintenance_refuses_deploys_and_says_so_everywhere(app: TestApp) {
    let admin = catalog(&app).await;
    let operator = app.new_token("ops", Role::Operator).await;
    let in_an_hour = common_now() + 3_600_000;
    let body = json!({"enabled": true, "message": "Database upgrade", "environments": ["production"], "until": in_an_hour});

    assert_eq!(
        app.put_json("/api/v1/maintenance", &operator, body.clone())
            .await
            .status,
        StatusCode::FORBIDDEN
    );
    for bad in [
        json!({"enabled": true}),
        json!({"enabled": true, "message": "x", "until": "2001-01-01T00:00:00Z"}),
        json!({"enabled": true, "message": "x", "until": "tomorrow"}),
        json!({"enabled": true, "message": "x", "environments": ["nowhere"]}),
        json!({"message": "x"}),
        json!({"enabled": false, "message": "x".repeat(501)}),
        json!([true, "x"]),
    ] {
        let res = app
            .put_json("/api/v1/maintenance", &admin, bad.clone())
            .await;
        assert_eq!(
            res.status,
            StatusCode::UNPROCESSABLE_ENTITY,
            "{bad}: {}",
            res.body
        );
    }
    assert_eq!(
        app.get("/api/v1/maintenance", &operator).await.json()["active"],
        false
    );

    let on = app.put_json("/api/v1/maintenance", &admin, body).await;
    assert_eq!(on.status, StatusCode::OK, "{}", on.body);
    assert_eq!(
        (on.json()["active"].clone(), on.json()["until"].clone()),
        (json!(true), json!(in_an_hour))
    );
    let health = app.get("/api/health", &Auth::None).await.json();
    assert_eq!(health["maintenance"]["enabled"], true);
    assert_eq!(health["maintenance"]["message"], "Database upgrade");

    let refused = app
        .post_json("/api/v1/deployments", &operator, deploy("production"))
        .await;
    assert_eq!(refused.status, StatusCode::CONFLICT, "{}", refused.body);
    assert!(refused.json()["error"]["message"]
        .as_str()
        .unwrap()
        .contains("maintenance"));
    let staging = app
        .post_json("/api/v1/deployments", &operator, deploy("staging"))
        .await;
    assert_eq!(staging.status, StatusCode::ACCEPTED, "{}", staging.body);

    // Every page carries the banner.
    let password = app.new_user("dana", Role::Viewer).await;
    let dana = app.sign_in("dana", &password).await;
    let page = app.page("/deployments", &dana).await;
    let banner = format!(
        "Maintenance in production until {}: Database upgrade",
        app::time_fmt::iso_utc(in_an_hour)
    );
    assert!(page.body.contains(&banner), "no banner saying {banner}");

    // Probe alerts there are silenced by a silence that says why.
    let silences = app.get("/api/v1/silences", &admin).await.json();
    let silence = &silences.as_array().unwrap()[0];
    assert_eq!(silence["comment"], "Maintenance: Database upgrade");
    assert_eq!(silence["matchers"][0]["value"], "ComponentDown");
    assert_eq!(silence["matchers"][1]["value"], "production");

    let off = app
        .put_json("/api/v1/maintenance", &admin, json!({"enabled": false}))
        .await;
    assert_eq!(off.json()["active"], false);
    let silences = app.get("/api/v1/silences", &admin).await.json();
    assert!(
        silences[0]["ends_at"].as_i64().unwrap() <= common_now(),
        "the silence ended with it"
    );
    let allowed = app
        .post_json("/api/v1/deployments", &operator, deploy("production"))
        .await;
    assert_eq!(allowed.status, StatusCode::ACCEPTED, "{}", allowed.body);
    let actions: Vec<String> = app
        .audit_actions()
        .await
        .into_iter()
        .filter(|a| a.starts_with("maintenance."))
        .collect();
    assert_eq!(actions, ["maintenance.started", "maintenance.ended"]);
}

fn common_now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_millis() as i64
}

async fn maintenance_ends_by_itself_and_spares_the_error_budget(app: TestApp) {
    let admin = app.new_token("maint-admin", Role::Admin).await;
    app.create_service(&admin, "api").await;
    app.create_environment(&admin, "production", 40, false)
        .await;
    let component = app
        .post_json(
            "/api/v1/components",
            &admin,
            json!({"name": "api-prod", "service": "api", "environment": "production",
            "probe": {"type": "tcp", "address": "127.0.0.1:9", "interval_s": 3600}}),
        )
        .await;
    assert_eq!(component.status, StatusCode::CREATED, "{}", component.body);
    let id = component.json()["id"].as_i64().unwrap();
    let spec = serde_json::from_value(component.json()["probe"].clone()).unwrap();
    let slo = app
        .post_json("/api/v1/slos", &admin, json!({"service": "api", "name": "availability", "sli": "availability", "component": "api-prod", "objective": 0.99}))
        .await;
    assert_eq!(slo.status, StatusCode::CREATED, "{}", slo.body);
    let counted = |app: &TestApp| {
        let pool = app.state.db.pool.clone();
        async move {
            sqlx::query_scalar::<_, i64>(
                "SELECT CAST(COALESCE(SUM(total), 0) AS BIGINT) FROM slo_minutes",
            )
            .fetch_one(&pool)
            .await
            .unwrap()
        }
    };

    let until = common_now() + 1_500;
    let on = app
        .put_json(
            "/api/v1/maintenance",
            &admin,
            json!({"enabled": true, "message": "Failover drill", "until": until}),
        )
        .await;
    assert_eq!(on.status, StatusCode::OK, "{}", on.body);
    app.state
        .components
        .record(id, &spec, common_now(), false, None, "refused")
        .await
        .unwrap();
    assert_eq!(
        counted(&app).await,
        0,
        "a check during maintenance spent the budget"
    );

    tokio::time::sleep(std::time::Duration::from_millis(1_600)).await;
    assert!(
        !app.state.maintenance.covers(Some("production")),
        "past until it is off at once"
    );
    assert!(app
        .state
        .maintenance
        .end_if_due(common_now())
        .await
        .unwrap());
    assert!(
        !app.state
            .maintenance
            .end_if_due(common_now())
            .await
            .unwrap(),
        "ended once"
    );
    let now = app.get("/api/v1/maintenance", &admin).await.json();
    assert_eq!(
        (now["enabled"].clone(), now["updated_by"].clone()),
        (json!(false), json!("flightdeck"))
    );
    app.state
        .components
        .record(id, &spec, common_now(), false, None, "refused")
        .await
        .unwrap();
    assert_eq!(counted(&app).await, 1);
}

on_both_databases!(
    maintenance_refuses_deploys_and_says_so_everywhere,
    maintenance_ends_by_itself_and_spares_the_error_budget,
);
