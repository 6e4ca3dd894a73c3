//! The read cache behind the pages (`server/src/read_cache.rs`) and the kept pages
//! (`server/src/web/page_cache.rs`): pages keep reading and rendering the same things, so they
//! are kept, but nobody may see an old value once a change has been answered.

mod common;
use app::model::Role;
use app::ports::ReadCachePort;
use axum::http::StatusCode;
use common::{TestApp, ADMIN_PASSWORD};
use flightdeck::read_cache::ReadCache;
use serde_json::json;
use std::sync::Arc;
use std::time::{Duration, Instant};

/// Whoever made a change sees it on the very next page and server-function call, though the
/// same reads were cached a moment before.
async fn a_change_shows_as_soon_as_it_is_answered(app: TestApp) {
    let admin = app.sign_in("admin", ADMIN_PASSWORD).await;
    let operator = app.new_token("cache-operator", Role::Operator).await;
    let flags_admin = app.new_token("cache-admin", Role::Admin).await;
    for _ in 0..2 {
        assert!(!app
            .page("/deployments", &admin)
            .await
            .body
            .contains("cache-probe"));
        assert!(!app
            .page("/flags", &admin)
            .await
            .body
            .contains("cached-flag"));
        let board = app.server_fn("deploy_board", &admin, &[]).await;
        assert!(!board.body.contains("cache-probe"));
    }

    let res = app
        .post_json(
            "/api/v1/services",
            &operator,
            json!({"name": "cache-probe"}),
        )
        .await;
    assert_eq!(res.status, StatusCode::CREATED, "{}", res.body);
    assert!(app
        .page("/deployments", &admin)
        .await
        .body
        .contains("cache-probe"));
    let board = app.server_fn("deploy_board", &admin, &[]).await;
    assert_eq!(board.status, StatusCode::OK, "{}", board.body);
    assert!(board.body.contains("cache-probe"), "{}", board.body);

    let flag = json!({"key": "cached-flag", "kind": "boolean",
        "variants": {"on": true, "off": false}, "default_variant": "off"});
    let res = app.post_json("/api/v1/flags", &flags_admin, flag).await;
    assert_eq!(res.status, StatusCode::CREATED, "{}", res.body);
    assert!(app
        .page("/flags", &admin)
        .await
        .body
        .contains("cached-flag"));
}

/// A row written by something that writes no event (another tool on the same database) shows
/// once the cached values have aged out: in the server function the browsers refetch with, and on
/// the page.
async fn a_change_without_an_event_shows_after_the_maximum_age(app: TestApp) {
    let admin = app.sign_in("admin", ADMIN_PASSWORD).await;
    let board = || app.server_fn("deploy_board", &admin, &[]);
    assert!(!board().await.body.contains("raw-row"));
    assert!(!app
        .page("/deployments", &admin)
        .await
        .body
        .contains("raw-row"));
    sqlx::query("INSERT INTO services (name, created_at) VALUES ('raw-row', 0)")
        .execute(&app.state.db.pool)
        .await
        .unwrap();
    let deadline = Instant::now() + ReadCache::MAX_AGE + Duration::from_secs(5);
    while !board().await.body.contains("raw-row") {
        assert!(Instant::now() < deadline, "the new service never showed");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    while !app
        .page("/deployments", &admin)
        .await
        .body
        .contains("raw-row")
    {
        assert!(
            Instant::now() < deadline,
            "the new service never showed on the page"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// A value is served only at the generation it was read at, never replaced by a read that
/// started earlier, and never past its maximum age.
#[tokio::test]
async fn values_are_served_only_while_nothing_changed() {
    let app = TestApp::sqlite().await;
    let cache = ReadCache::new(app.state.bus.clone());
    let read = |generation| {
        cache
            .get("board", generation)
            .and_then(|v| v.downcast_ref::<u32>().copied())
    };
    let before = cache.generation();
    cache.put("board".into(), before, Arc::new(1u32));
    assert_eq!(read(before), Some(1));

    // What a writer does after its commit.
    app.state.bus.wake();
    let after = cache.generation();
    assert_ne!(after, before);
    assert_eq!(read(after), None, "a value from before the change");

    cache.put("board".into(), after, Arc::new(2u32));
    // A slow read that began before the change finishes last.
    cache.put("board".into(), before, Arc::new(1u32));
    assert_eq!(read(after), Some(2));

    tokio::time::sleep(ReadCache::MAX_AGE + Duration::from_millis(100)).await;
    assert_eq!(read(after), None, "a value past its maximum age");
}

/// Pages refetch together after an event: a request for a value another request is loading
/// waits for that load (and then takes what it stored) instead of loading it again; a request for
/// another value waits for nobody.
#[tokio::test]
async fn one_load_at_a_time_per_value() {
    let app = TestApp::sqlite().await;
    let cache = Arc::new(ReadCache::new(app.state.bus.clone()));
    let first = cache.turn("builds_overview:30").await;
    tokio::time::timeout(Duration::from_secs(5), cache.turn("flags"))
        .await
        .expect("another value waits for nobody");
    let second = tokio::spawn({
        let cache = cache.clone();
        async move {
            let _turn = cache.turn("builds_overview:30").await;
            Instant::now()
        }
    });
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert!(!second.is_finished(), "the same value waits for the load");
    let released = Instant::now();
    drop(first);
    assert!(second.await.unwrap() >= released);
    // Nothing is left held: a third takes its turn at once.
    tokio::time::timeout(Duration::from_secs(5), cache.turn("builds_overview:30"))
        .await
        .expect("the turn was given back");
}

/// A kept page is one viewer's, in one theme, and each answer carries a nonce of its own.
async fn kept_pages_are_each_viewers_own_with_a_fresh_nonce(app: TestApp) {
    let admin = app.sign_in("admin", ADMIN_PASSWORD).await;
    let password = app.new_user("cache-viewer-dana", Role::Viewer).await;
    let dana = app.sign_in("cache-viewer-dana", &password).await;

    let first = app.page("/deployments", &admin).await;
    let second = app.page("/deployments", &admin).await;
    assert_eq!(first.status, StatusCode::OK);
    let (n1, n2) = (first.csp_nonce(), second.csp_nonce());
    assert_ne!(n1, n2, "every answer has a nonce of its own");
    assert!(
        !second.body.contains(&n1),
        "the first answer's nonce is gone"
    );

    let hers = app.page("/deployments", &dana).await;
    hers.csp_nonce();
    assert!(hers.body.contains("cache-viewer-dana"));
    assert!(!second.body.contains("cache-viewer-dana"));
    assert!(!app
        .page("/deployments", &admin)
        .await
        .body
        .contains("cache-viewer-dana"));

    let common::Auth::Cookie(session) = &dana else {
        unreachable!()
    };
    let light = common::Auth::Cookie(format!("{session}; fd_theme=light"));
    assert!(app
        .page("/deployments", &light)
        .await
        .body
        .contains("data-theme=\"light\""));
    assert!(hers.body.contains("data-theme=\"dark\""));
}

on_both_databases!(
    a_change_shows_as_soon_as_it_is_answered,
    a_change_without_an_event_shows_after_the_maximum_age,
    kept_pages_are_each_viewers_own_with_a_fresh_nonce,
);
