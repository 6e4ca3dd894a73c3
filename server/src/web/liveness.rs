//! `GET /api/health`: 200 with `ok` or `degraded`, 503 with `down` when the database cannot be
//! reached. Every check has a deadline and no check can panic the handler, so a load balancer
//! always gets an answer.

use crate::state::AppState;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::IntoResponse;
use axum::Json;
use serde_json::json;
use std::time::Duration;

/// How long the event bus may go without a publishing round before realtime counts as degraded.
const BUS_STALE_MS: i64 = 10_000;

pub async fn handler(State(state): State<AppState>) -> impl IntoResponse {
    let database = match tokio::time::timeout(Duration::from_secs(2), state.db.ping()).await {
        Ok(Ok(latency)) => json!({ "status": "ok", "latency_ms": latency.as_secs_f64() * 1000.0 }),
        Ok(Err(error)) => {
            tracing::warn!(%error, "health check: database unreachable");
            json!({ "status": "down", "error": "database query failed" })
        }
        Err(_) => json!({ "status": "down", "error": "database did not answer within 2 s" }),
    };
    let bus_age = crate::now_ms() - state.bus.heartbeat_ms();
    let realtime = json!({
        "status": if bus_age <= BUS_STALE_MS { "ok" } else { "degraded" },
        "clients": state.metrics.ws_clients(),
        "last_seq": state.bus.head(),
        "last_round_ms_ago": bus_age,
    });
    let status = if database["status"] != "ok" {
        "down"
    } else if realtime["status"] != "ok" {
        "degraded"
    } else {
        "ok"
    };
    let code = if status == "down" {
        StatusCode::SERVICE_UNAVAILABLE
    } else {
        StatusCode::OK
    };
    // Planned work is not a fault: the status stays, and the answer says maintenance is on.
    let m = state.maintenance.current();
    let maintenance = json!({
        "enabled": m.active_at(crate::now_ms()),
        "message": m.enabled.then_some(&m.message),
        "environments": m.environments,
        "until": m.until,
    });
    let body = json!({
        "status": status,
        "version": env!("CARGO_PKG_VERSION"),
        "maintenance": maintenance,
        "checks": { "database": database, "realtime": realtime },
    });
    (
        code,
        [(http::header::CACHE_CONTROL, "no-store")],
        Json(body),
    )
}
