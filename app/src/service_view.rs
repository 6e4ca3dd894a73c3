//! A service's own page: where it runs, its SLOs, its open alerts, and one timeline of
//! everything that happened to it: deployments, rollbacks, promotions, quarantines and targets
//! (from the audit trail, whose entries about a service name `service/environment`), and its
//! alerts opening and resolving (an SLO burning is its `SLOBurnRate` alert). Built here, pure, so
//! both sides can test it.

use crate::deploy::StatusCell;
use crate::health::alert::{Alert, AlertStatus};
use crate::health::objective::Slo;
use crate::model::AuditEntry;
use serde::{Deserialize, Serialize};

/// How many timeline entries the page shows.
pub const TIMELINE_SHOWN: usize = 100;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum TimelineKind {
    Deploy,
    /// A deployment, rollback or promotion that failed.
    Failed,
    Rollback,
    Quarantine,
    AlertOpened,
    AlertResolved,
    SloBurn,
    Other,
}

impl TimelineKind {
    /// A word for the entry's marker.
    pub fn label(self) -> &'static str {
        match self {
            TimelineKind::Deploy => "deploy",
            TimelineKind::Failed => "failed",
            TimelineKind::Rollback => "rollback",
            TimelineKind::Quarantine => "quarantine",
            TimelineKind::AlertOpened => "alert",
            TimelineKind::AlertResolved => "resolved",
            TimelineKind::SloBurn => "SLO burn",
            TimelineKind::Other => "change",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TimelineEntry {
    pub at: i64,
    pub kind: TimelineKind,
    pub title: String,
    /// Who, and why when a reason was given.
    pub detail: Option<String>,
    pub href: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ServiceView {
    pub name: String,
    pub description: Option<String>,
    pub owner: Option<String>,
    /// Its cell in each environment, in pipeline order.
    pub cells: Vec<StatusCell>,
    pub slos: Vec<Slo>,
    /// Not yet resolved, newest first.
    pub open_alerts: Vec<Alert>,
    /// Newest first, at most [`TIMELINE_SHOWN`].
    pub timeline: Vec<TimelineEntry>,
}

/// Whether an alert is about `service` (its `service` label).
pub fn concerns(alert: &Alert, service: &str) -> bool {
    alert.labels.get("service").is_some_and(|s| s == service)
}

fn from_audit(e: &AuditEntry) -> TimelineEntry {
    let environment = e.target.split_once('/').map_or("", |(_, env)| env);
    let (kind, what) = match e
        .action
        .split_once('.')
        .map_or(e.action.as_str(), |(head, _)| head)
    {
        "deployment" => (TimelineKind::Deploy, "deployment"),
        "rollback" => (TimelineKind::Rollback, "rollback"),
        "promotion" => (TimelineKind::Deploy, "promotion"),
        "quarantine" => (TimelineKind::Quarantine, "quarantine"),
        "target" => (TimelineKind::Other, "deploy target"),
        "service" => (TimelineKind::Other, "service"),
        _ => (TimelineKind::Other, "change"),
    };
    let verb = e
        .action
        .split_once('.')
        .map_or("", |(_, v)| v)
        .replace('_', " ");
    let kind = if verb == "failed" {
        TimelineKind::Failed
    } else {
        kind
    };
    let place = if environment.is_empty() {
        String::new()
    } else {
        format!(" in {environment}")
    };
    let detail = match &e.reason {
        Some(reason) if !reason.is_empty() => format!("by {}: {reason}", e.actor),
        _ => format!("by {}", e.actor),
    };
    TimelineEntry {
        at: e.at,
        kind,
        title: format!("{what} {verb}{place}").trim().to_string(),
        detail: Some(detail),
        href: None,
    }
}

fn from_alert(a: &Alert) -> Vec<TimelineEntry> {
    let burn = a.name == "SLOBurnRate";
    let href = Some(format!("/alerts/{}", a.id));
    let what = match (burn, a.labels.get("slo")) {
        (true, Some(slo)) => format!("SLO {slo} burning its error budget"),
        _ => a.name.clone(),
    };
    let mut out = vec![TimelineEntry {
        at: a.opened_at,
        kind: if burn {
            TimelineKind::SloBurn
        } else {
            TimelineKind::AlertOpened
        },
        title: format!("{what} ({})", a.severity),
        detail: a.summary.clone(),
        href: href.clone(),
    }];
    if let (AlertStatus::Resolved, Some(at)) = (a.status, a.resolved_at) {
        out.push(TimelineEntry {
            at,
            kind: TimelineKind::AlertResolved,
            title: format!("{what} resolved"),
            detail: a.resolved_by.as_ref().map(|who| format!("by {who}")),
            href,
        });
    }
    out
}

/// One timeline of `audit` (entries about the service) and `alerts` (its alerts), newest first.
pub fn timeline(audit: &[AuditEntry], alerts: &[Alert]) -> Vec<TimelineEntry> {
    let mut out: Vec<TimelineEntry> = audit
        .iter()
        .map(from_audit)
        .chain(alerts.iter().flat_map(from_alert))
        .collect();
    out.sort_by_key(|e| std::cmp::Reverse(e.at));
    out.truncate(TIMELINE_SHOWN);
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::health::alert::{AlertSource, Severity};
    use std::collections::BTreeMap;

    fn entry(at: i64, action: &str, target: &str, reason: Option<&str>) -> AuditEntry {
        AuditEntry {
            id: at,
            at,
            actor: "maria".into(),
            action: action.into(),
            target: target.into(),
            reason: reason.map(str::to_string),
            detail: serde_json::value::RawValue::from_string("{}".into()).unwrap(),
        }
    }

    fn alert(id: i64, name: &str, opened_at: i64, resolved_at: Option<i64>) -> Alert {
        Alert {
            id,
            fingerprint: format!("f{id}"),
            source: AlertSource::Alertmanager,
            name: name.into(),
            severity: Severity::Critical,
            status: if resolved_at.is_some() {
                AlertStatus::Resolved
            } else {
                AlertStatus::Open
            },
            summary: Some("p99 above 800 ms".into()),
            labels: BTreeMap::from([
                ("service".to_string(), "payments".to_string()),
                ("slo".to_string(), "latency".to_string()),
            ]),
            annotations: BTreeMap::new(),
            generator_url: None,
            starts_at: opened_at,
            first_seen: opened_at,
            last_seen: opened_at,
            opened_at,
            fire_count: 1,
            silenced_by: None,
            acknowledged_by: None,
            acknowledged_at: None,
            resolved_by: resolved_at.map(|_| "flightdeck".into()),
            resolved_at,
            escalation_level: 0,
            updated_at: opened_at,
        }
    }

    #[test]
    fn the_timeline_merges_changes_and_alerts_newest_first() {
        let audit = [
            entry(10, "deployment.requested", "payments/production", None),
            entry(12, "deployment.failed", "payments/production", None),
            entry(1, "service.created", "payments", None),
            entry(
                40,
                "rollback.requested",
                "payments/production",
                Some("p99 doubled"),
            ),
            entry(50, "quarantine.added", "payments/production", None),
        ];
        let alerts = [
            alert(7, "SLOBurnRate", 20, Some(60)),
            alert(8, "HighLatency", 30, None),
        ];
        let t = timeline(&audit, &alerts);
        let kinds: Vec<TimelineKind> = t.iter().map(|e| e.kind).collect();
        assert_eq!(
            kinds,
            [
                TimelineKind::AlertResolved,
                TimelineKind::Quarantine,
                TimelineKind::Rollback,
                TimelineKind::AlertOpened,
                TimelineKind::SloBurn,
                TimelineKind::Failed,
                TimelineKind::Deploy,
                TimelineKind::Other,
            ]
        );
        assert_eq!(t[7].title, "service created");
        assert_eq!(t[2].title, "rollback requested in production");
        assert_eq!(t[2].detail.as_deref(), Some("by maria: p99 doubled"));
        assert_eq!(
            t[4].title,
            "SLO latency burning its error budget (critical)"
        );
        assert_eq!(t[0].href.as_deref(), Some("/alerts/7"));
    }

    #[test]
    fn an_alert_concerns_the_service_its_label_names() {
        let a = alert(1, "HighLatency", 0, None);
        assert!(concerns(&a, "payments"));
        assert!(!concerns(&a, "payments-gateway"));
    }
}
