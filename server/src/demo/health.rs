//! Demo health data: components probing this very server (and one that is down, as on a real
//! bad day), two SLOs with a week of history, and a few alerts in the feed.

use crate::alerts::incoming::Incoming;
use crate::state::AppState;
use app::health::alert::{fingerprint, AlertAction, AlertSource};
use app::health::component::{NewComponent, ProbeKind, ProbeSpec};
use app::health::objective::{NewSlo, SliKind};
use app::model::Principal;
use std::collections::BTreeMap;

fn http(url: String, threshold: u32) -> ProbeSpec {
    ProbeSpec {
        interval_s: 15,
        latency_threshold_ms: Some(threshold),
        ..ProbeSpec::http(&url)
    }
}

pub async fn fill(
    state: &AppState,
    maria: &Principal,
    addr: std::net::SocketAddr,
) -> Result<(), String> {
    let base = format!("http://{addr}");
    let tcp = ProbeSpec {
        kind: ProbeKind::Tcp,
        url: None,
        address: Some(addr.to_string()),
        ..http(String::new(), 100)
    };
    let components = [
        (
            "checkout-api",
            "service",
            "checkout-api",
            "production",
            http(format!("{base}/api/health"), 250),
        ),
        (
            "search",
            "service",
            "search",
            "production",
            ProbeSpec {
                body_contains: Some("Flightdeck".into()),
                ..http(format!("{base}/manifest.webmanifest"), 250)
            },
        ),
        (
            "web-frontend",
            "service",
            "web-frontend",
            "production",
            http(format!("{base}/signin"), 400),
        ),
        ("orders-db", "database", "checkout-api", "production", tcp),
        // Nothing listens on port 1: this one is down, with its ComponentDown alert.
        (
            "payments-gateway",
            "service",
            "payments-gateway",
            "production",
            http("http://127.0.0.1:1/healthz".into(), 250),
        ),
    ];
    for (name, kind, service, environment, probe) in components {
        let new = NewComponent {
            name: name.into(),
            kind: kind.into(),
            service: Some(service.into()),
            environment: Some(environment.into()),
            probe,
        };
        state
            .components
            .create(maria, new)
            .await
            .map_err(|e| e.message)?;
    }
    let slos = [
        (
            "checkout-api",
            "availability",
            SliKind::Availability,
            None,
            0.999,
        ),
        ("search", "latency", SliKind::Latency, Some(250), 0.99),
    ];
    for (component, name, sli, threshold, objective) in slos {
        let new = NewSlo {
            service: component.into(),
            name: name.into(),
            sli,
            component: Some(component.into()),
            good_query: None,
            total_query: None,
            latency_threshold_ms: threshold,
            objective,
            window_days: 30,
            description: Some(format!("{component} {name}, from its probe checks")),
        };
        let slo = state.slos.create(maria, new).await.map_err(|e| e.message)?;
        history(state, slo.id, objective)
            .await
            .map_err(|e| format!("demo SLO history: {e}"))?;
    }
    alerts(state, maria).await
}

/// A week of checks every 15 s: a failed check now and then, and a bad afternoon three days ago
/// that spent a good part of the budget.
async fn history(state: &AppState, slo_id: i64, objective: f64) -> Result<(), sqlx::Error> {
    use crate::slos::counts::{add, HOUR_MS, MINUTE_MS};
    let now = crate::now_ms();
    let mut tx = state.db.pool.begin().await?;
    let hours = 7 * 24;
    for h in (6..hours).rev() {
        let at = now - h * HOUR_MS;
        let total = 240;
        let bad = if (70..73).contains(&h) {
            (total as f64 * (1.0 - objective) * 20.0).round() as i64
        } else {
            (h % 23 == 0) as i64
        };
        add(&mut tx, slo_id, at, total - bad, total).await?;
    }
    for m in (1..6 * 60).rev() {
        add(&mut tx, slo_id, now - m * MINUTE_MS, 4, 4).await?;
    }
    tx.commit().await
}

async fn alerts(state: &AppState, maria: &Principal) -> Result<(), String> {
    let alert = |name: &str, severity: &str, extra: &[(&str, &str)], summary: &str| {
        let mut labels = BTreeMap::from([
            ("alertname".to_string(), name.to_string()),
            ("severity".to_string(), severity.to_string()),
        ]);
        for (k, v) in extra {
            labels.insert(k.to_string(), v.to_string());
        }
        Incoming {
            fingerprint: fingerprint(&labels),
            labels,
            annotations: BTreeMap::from([("summary".to_string(), summary.to_string())]),
            starts_at: None,
            ends_at: None,
            generator_url: Some("http://prometheus.example:9090/graph".into()),
            resolved: false,
        }
    };
    let batch = vec![
        alert(
            "CertificateExpiresSoon",
            "info",
            &[("host", "shop.example.com")],
            "TLS certificate expires in 13 days",
        ),
        alert(
            "DiskFilling",
            "warning",
            &[("instance", "orders-db-1"), ("job", "node")],
            "/var/lib/postgresql is 86% full and filling",
        ),
        alert(
            "HighErrorRate",
            "critical",
            &[("service", "checkout-api"), ("job", "checkout")],
            "5xx ratio 4.2% over 10 minutes",
        ),
    ];
    state
        .alerts
        .ingest(AlertSource::Alertmanager, batch)
        .await
        .map_err(|e| e.message)?;
    let page = state
        .alerts
        .list(&Default::default())
        .await
        .map_err(|e| e.message)?;
    if let Some(disk) = page.alerts.iter().find(|a| a.name == "DiskFilling") {
        let lin = Principal {
            name: "lin.oncall".into(),
            ..maria.clone()
        };
        state
            .alerts
            .act(
                &lin,
                disk.id,
                AlertAction::Acknowledge,
                Some("Rotating WAL archives; will resize tonight".into()),
            )
            .await
            .map_err(|e| e.message)?;
    }
    Ok(())
}
