//! `flightdeck serve --demo`: fills an empty database with a believable team, so the first look at
//! Flightdeck is alive. Demo users get random passwords that are never shown (sign in as `admin`);
//! nothing is added twice.

pub mod builds;
mod config;
mod flags;
mod health;
mod live_build;

use crate::state::AppState;
use app::builds::BuildStatus;
use app::model::Role;
use sqlx::Row;

const TEAM: [(&str, Role); 4] = [
    ("maria.sre", Role::Admin),
    ("dev.okafor", Role::Operator),
    ("lin.oncall", Role::Operator),
    ("sam.product", Role::Viewer),
];

const TOKENS: [(&str, Role); 3] = [
    ("github-actions", Role::Operator),
    ("grafana-readonly", Role::Viewer),
    ("old-jenkins", Role::Operator),
];

const ENVIRONMENTS: [(&str, i64, bool); 4] = [
    ("dev", 10, false),
    ("staging", 20, false),
    ("canary", 30, true),
    ("production", 40, true),
];

const SERVICES: [(&str, &str, &str); 4] = [
    (
        "checkout-api",
        "payments",
        "Cart, checkout and order placement",
    ),
    ("payments-gateway", "payments", "Card and wallet payments"),
    ("search", "discovery", "Product search and suggestions"),
    ("web-frontend", "storefront", "The customer-facing web shop"),
];

/// `addr` is where this server listens: the demo components probe it.
pub async fn fill(state: &AppState, addr: std::net::SocketAddr) -> Result<(), String> {
    let existing: i64 = sqlx::query("SELECT COUNT(*) FROM users WHERE username = $1")
        .bind(TEAM[0].0)
        .fetch_one(&state.db.pool)
        .await
        .and_then(|r| r.try_get(0))
        .map_err(|e| format!("demo data: {e}"))?;
    if existing > 0 {
        tracing::info!("demo data already present");
        return live_build::finish_later(state).await;
    }
    for (name, role) in TEAM {
        let password = format!("demo-{}", crate::auth::token::generate().token);
        state
            .accounts
            .add_user("admin", name, role, &password)
            .await
            .map_err(|e| e.message)?;
    }
    for (name, role) in TOKENS {
        state
            .accounts
            .add_token("maria.sre", name, role, Default::default())
            .await
            .map_err(|e| e.message)?;
    }
    let maria = app::model::Principal {
        name: "maria.sre".into(),
        role: Role::Admin,
        kind: app::model::PrincipalKind::User,
        id: 0,
        scopes: Vec::new(),
        environment: None,
    };
    let jenkins = state
        .accounts
        .list_tokens()
        .await
        .map_err(|e| e.message)?
        .into_iter()
        .find(|t| t.name == "old-jenkins");
    if let Some(t) = jenkins {
        state
            .accounts
            .revoke_token(&maria, t.id)
            .await
            .map_err(|e| e.message)?;
    }
    use app::catalog::{NewEnvironment, NewService};
    for (name, rank, protected) in ENVIRONMENTS {
        let env = NewEnvironment {
            name: name.into(),
            rank,
            protected,
        };
        state
            .catalog
            .create_environment(&maria, env)
            .await
            .map_err(|e| e.message)?;
    }
    for (name, owner, description) in SERVICES {
        let service = NewService {
            name: name.into(),
            description: Some(description.into()),
            owner: Some(owner.into()),
            repo_url: Some(format!("https://git.example.com/shop/{name}")),
        };
        state
            .catalog
            .create_service(&maria, service)
            .await
            .map_err(|e| e.message)?;
    }
    // Spread the history over the past week so the audit trail reads like a real one.
    let day = 86_400_000i64;
    let now = crate::now_ms();
    let rows = sqlx::query("SELECT id FROM audit ORDER BY id")
        .fetch_all(&state.db.pool)
        .await
        .map_err(|e| format!("demo data: {e}"))?;
    let n = rows.len() as i64;
    for (i, row) in rows.iter().enumerate() {
        let id: i64 = row.try_get(0).map_err(|e| format!("demo data: {e}"))?;
        let at = now - 7 * day + (i as i64) * (6 * day / n.max(1));
        sqlx::query("UPDATE audit SET at = $1 WHERE id = $2")
            .bind(at)
            .bind(id)
            .execute(&state.db.pool)
            .await
            .map_err(|e| format!("demo data: {e}"))?;
    }
    // Three months of CI history, made first so the demo's releases name commits it built.
    let now = crate::now_ms();
    let history: Vec<_> = builds::history(17, 90, 8, now)
        .into_iter()
        .filter(|b| b.finished_at.is_none_or(|at| at <= now))
        .collect();
    deployments(state, &maria, &history).await?;
    health::fill(state, &maria, addr).await?;
    flags::fill(state).await?;
    config::fill(state, &maria).await?;
    // The CI history: all but the last four days imported, a model trained on them, and then
    // those days' builds delivered one by one as CI would send them, each predicted as it
    // came. One history, so the days carry on from the months: the live accuracy the pages
    // show is that of the model on builds like those it learnt from.
    let (older, recent): (Vec<_>, Vec<_>) = history
        .into_iter()
        .partition(|b| b.started_at < now - 4 * 86_400_000);
    state.builds.import(older).await.map_err(|e| e.message)?;
    state.builds.train().await.map_err(|e| e.message)?;
    let mut reruns = 0;
    for b in recent {
        // The first few failures were flaky: re-run on the same commit, they passed.
        let rerun = (b.status == BuildStatus::Failure && reruns < 3)
            .then(|| passed_on_rerun(&b))
            .filter(|r| r.finished_at < Some(now));
        state.builds.ingest(b).await.map_err(|e| e.message)?;
        if let Some(r) = rerun {
            reruns += 1;
            state.builds.ingest(r).await.map_err(|e| e.message)?;
        }
    }
    // And one that CI is running now, predicted as it starts.
    let running = live_build::running(now);
    state.builds.ingest(running).await.map_err(|e| e.message)?;
    live_build::finish_later(state).await?;
    tracing::info!(users = TEAM.len(), tokens = TOKENS.len(), "demo data added");
    Ok(())
}

/// `failed` run again on its commit five minutes after it ended, passing this time.
fn passed_on_rerun(failed: &app::builds::Build) -> app::builds::Build {
    // A passing run goes on past where the failure stopped.
    let took_ms = (failed.duration_s.unwrap_or(300.0) * 1000.0 * 5.0 / 3.0) as i64;
    let started_at = failed.finished_at.unwrap_or(failed.started_at) + 300_000;
    app::builds::Build {
        source_id: format!("{}-rerun", failed.source_id),
        started_at,
        finished_at: Some(started_at + took_ms),
        duration_s: Some(took_ms as f64 / 1000.0),
        status: BuildStatus::Success,
        tests_failed: Some(0),
        ..failed.clone()
    }
}

/// Every service deploys with the simulated deployer; a few releases are queued so the board
/// fills up live in the first seconds (one of them fails, as real ones do).
async fn deployments(
    state: &AppState,
    maria: &app::model::Principal,
    history: &[app::builds::Build],
) -> Result<(), String> {
    use app::deploy::{DeployRequest, Initiator, TargetSettings};
    for (service, _, _) in SERVICES {
        for (environment, _, _) in ENVIRONMENTS {
            state
                .deployments
                .set_target(maria, service, environment, TargetSettings::simulated())
                .await
                .map_err(|e| e.message)?;
        }
    }
    let ci = Initiator {
        trigger: app::deploy::Trigger::Token,
        actor: "token:github-actions".into(),
    };
    // Each release is built from a commit of its service's main branch: the newest that
    // passed, an older one for the version before it, and the newest that failed for the one
    // whose migration breaks (its build said so before its deployment did).
    use BuildStatus::{Failure, Success};
    // Service, version, how its build ended and how far back, and where it goes.
    type DemoRelease<'a> = (&'a str, &'a str, (BuildStatus, usize), &'a [&'a str]);
    let releases: [DemoRelease; 6] = [
        (
            "checkout-api",
            "1.41.0",
            (Success, 5),
            &["dev", "staging", "canary", "production"],
        ),
        ("checkout-api", "1.42.0", (Success, 0), &["dev", "staging"]),
        (
            "payments-gateway",
            "2.7.3",
            (Success, 0),
            &["dev", "staging", "production"],
        ),
        (
            "payments-gateway",
            "2.8.0-bad-migration",
            (Failure, 0),
            &["dev"],
        ),
        (
            "search",
            "0.19.2",
            (Success, 0),
            &["dev", "staging", "canary", "production"],
        ),
        (
            "web-frontend",
            "2026.11.20",
            (Success, 0),
            &["dev", "staging"],
        ),
    ];
    for (service, version, (built, nth), environments) in releases {
        let git_sha = builds::main_commit(history, builds::pipeline_of(service), built, nth);
        for environment in environments {
            let request = DeployRequest {
                service: service.into(),
                environment: (*environment).into(),
                version: version.into(),
                artifact: None,
                git_sha: git_sha.clone(),
                reason: Some("Release train".into()),
                queue: true,
                confirm: Some((*environment).into()),
            };
            state
                .deployments
                .deploy(&ci, request)
                .await
                .map_err(|e| e.message)?;
        }
    }
    Ok(())
}
