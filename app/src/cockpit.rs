//! The dashboard's answer to "is production OK, and what changed?", computed from what the other
//! pages already read (components, alerts, SLOs, the deployment matrix, the audit trail). Pure,
//! so the verdict an on-call engineer trusts at 3 a.m. is tested without a database.

use crate::deploy::{DeploymentKind, DeploymentStatus, StatusCell};
use crate::health::alert::{Alert, AlertStatus, Severity};
use crate::health::component::Component;
use crate::health::objective::Slo;
use crate::health::slo::RuleSeverity;
use crate::health::HealthStatus;
use crate::model::AuditEntry;
use serde::{Deserialize, Serialize};

/// The counts of the verdict strip.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Verdict {
    pub components_down: usize,
    pub components_degraded: usize,
    pub components_up: usize,
    /// Open or escalated alerts nobody acknowledged, silenced ones left out, by severity.
    pub alerts_critical: usize,
    pub alerts_warning: usize,
    pub alerts_info: usize,
    /// SLOs whose fastest firing burn rule pages, or only opens a ticket.
    pub slos_page: usize,
    pub slos_ticket: usize,
    pub deployments_failed: usize,
    pub deployments_running: usize,
    /// Health checks, SLOs and alerts still open there are, whatever their state: with none,
    /// nothing is watched, and no news is not good news.
    #[serde(default)]
    pub watched: usize,
}

impl Verdict {
    /// Nothing down, nothing paging, no unacknowledged critical alert, no failed deployment.
    pub fn ok(&self) -> bool {
        self.components_down == 0
            && self.alerts_critical == 0
            && self.slos_page == 0
            && self.deployments_failed == 0
    }

    /// Whether anything is watched (a health check, an SLO, an open alert), so that quiet
    /// means healthy.
    pub fn watching(&self) -> bool {
        self.watched > 0
    }

    /// One sentence: "All clear" or what needs someone, worst first; or, on a new install, that
    /// nothing is watched yet (it said "All clear" with nothing to go on).
    pub fn headline(&self) -> String {
        let mut parts = Vec::new();
        let mut say = |n: usize, one: &str, many: &str| {
            if n > 0 {
                parts.push(format!("{n} {}", if n == 1 { one } else { many }));
            }
        };
        say(self.components_down, "component down", "components down");
        say(
            self.alerts_critical,
            "critical alert unacknowledged",
            "critical alerts unacknowledged",
        );
        say(self.slos_page, "SLO burning fast", "SLOs burning fast");
        say(
            self.deployments_failed,
            "failed deployment",
            "failed deployments",
        );
        if parts.is_empty() {
            let watch = self.components_degraded + self.alerts_warning + self.slos_ticket;
            return if watch == 0 && !self.watching() {
                "Nothing is watched yet: no health checks, SLOs or open alerts. Add a check \
                 (Health) or an SLO (SLOs) so this page can tell whether production is OK."
                    .into()
            } else if watch == 0 {
                "All clear: nothing is down, paging or failing.".into()
            } else {
                "No emergency: some things are degraded or warning.".into()
            };
        }
        format!("Needs attention: {}.", parts.join(", "))
    }
}

/// Alerts of one name and severity that still need a person, newest first.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AlertGroup {
    pub name: String,
    pub severity: Severity,
    pub alerts: Vec<Alert>,
}

/// One service in production: what runs, how its last deployment went, its health and budget.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ServiceLine {
    pub service: String,
    /// The version serving (the last deployment that succeeded).
    pub version: Option<String>,
    pub last_status: Option<DeploymentStatus>,
    pub last_kind: Option<DeploymentKind>,
    pub last_deployment_id: Option<i64>,
    pub last_at: Option<i64>,
    /// The worst status of its components there; `None` without components.
    pub health: Option<HealthStatus>,
    /// The least error budget left among its SLOs (0..1, negative when overspent).
    pub budget_left: Option<f64>,
    /// CI failed on the commit the running version was built from (set by the loader, which
    /// reads the builds; [`build`] leaves it false).
    #[serde(default)]
    pub ci_failed: bool,
}

/// Everything the dashboard shows, in one round trip.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Cockpit {
    pub verdict: Verdict,
    /// The last environment of the pipeline, which the service lines describe.
    pub production: Option<String>,
    pub services: Vec<ServiceLine>,
    pub alert_groups: Vec<AlertGroup>,
    /// The most recent deployment anywhere, as its matrix cell.
    pub latest: Option<StatusCell>,
    /// What changed, newest first: deployments, rollbacks, silences, quarantines, targets.
    pub changes: Vec<AuditEntry>,
}

/// Audit actions that say what changed in production; sign-ins and account work are left out.
pub fn is_change(action: &str) -> bool {
    const PREFIXES: [&str; 8] = [
        "deployment.",
        "rollback.",
        "promotion.",
        "silence.",
        "quarantine.",
        "target.",
        "config.",
        "flag.",
    ];
    PREFIXES.iter().any(|p| action.starts_with(p))
}

/// How many changes the feed keeps.
pub const CHANGES_SHOWN: usize = 10;

/// Builds the dashboard. `production` is the last environment by rank; `cells` the matrix.
pub fn build(
    components: &[Component],
    alerts: &[Alert],
    slos: &[Slo],
    cells: &[StatusCell],
    production: Option<&str>,
    audit: Vec<AuditEntry>,
) -> Cockpit {
    let mut verdict = Verdict {
        watched: components.len() + slos.len() + alerts.len(),
        ..Verdict::default()
    };
    for c in components {
        match c.status {
            HealthStatus::Down => verdict.components_down += 1,
            HealthStatus::Degraded => verdict.components_degraded += 1,
            HealthStatus::Healthy => verdict.components_up += 1,
            HealthStatus::Unknown => {}
        }
    }
    let needs_person: Vec<&Alert> = alerts
        .iter()
        .filter(|a| a.status.is_unacknowledged() && a.silenced_by.is_none())
        .collect();
    for a in &needs_person {
        match a.severity {
            Severity::Critical => verdict.alerts_critical += 1,
            Severity::Warning => verdict.alerts_warning += 1,
            Severity::Info => verdict.alerts_info += 1,
        }
    }
    for s in slos {
        match s.evaluation.as_ref().and_then(|e| e.severity()) {
            Some(RuleSeverity::Page) => verdict.slos_page += 1,
            Some(RuleSeverity::Ticket) => verdict.slos_ticket += 1,
            None => {}
        }
    }
    for cell in cells {
        match cell.status {
            Some(DeploymentStatus::Failed) => verdict.deployments_failed += 1,
            Some(s) if s.is_active() => verdict.deployments_running += 1,
            _ => {}
        }
    }

    // Firing alerts grouped by name and severity, most severe first, then the newest group.
    let mut alert_groups: Vec<AlertGroup> = Vec::new();
    for a in alerts
        .iter()
        .filter(|a| a.status != AlertStatus::Resolved && a.silenced_by.is_none())
    {
        match alert_groups
            .iter_mut()
            .find(|g| g.name == a.name && g.severity == a.severity)
        {
            Some(g) => g.alerts.push(a.clone()),
            None => alert_groups.push(AlertGroup {
                name: a.name.clone(),
                severity: a.severity,
                alerts: vec![a.clone()],
            }),
        }
    }
    let rank = |s: Severity| match s {
        Severity::Critical => 0,
        Severity::Warning => 1,
        Severity::Info => 2,
    };
    let newest = |g: &AlertGroup| g.alerts.iter().map(|a| a.opened_at).max().unwrap_or(0);
    alert_groups.sort_by(|a, b| {
        rank(a.severity)
            .cmp(&rank(b.severity))
            .then(newest(b).cmp(&newest(a)))
    });

    let services = production
        .map(|env| {
            cells
                .iter()
                .filter(|c| c.environment == env)
                .map(|cell| ServiceLine {
                    service: cell.service.clone(),
                    version: cell.live_version.clone(),
                    last_status: cell.status,
                    last_kind: cell.kind,
                    last_deployment_id: cell.deployment_id,
                    last_at: cell.deployed_at,
                    health: components
                        .iter()
                        .filter(|c| {
                            c.service.as_deref() == Some(&cell.service)
                                && c.environment.as_deref().is_none_or(|e| e == env)
                        })
                        .map(|c| c.status)
                        .max_by_key(|s| s.rank()),
                    budget_left: slos
                        .iter()
                        .filter(|s| s.service == cell.service && s.evaluation.is_some())
                        .map(Slo::remaining)
                        .min_by(f64::total_cmp),
                    ci_failed: cell.ci_failed,
                })
                .collect()
        })
        .unwrap_or_default();

    let latest = cells
        .iter()
        .filter(|c| c.deployment_id.is_some())
        .max_by_key(|c| (c.deployed_at, c.deployment_id))
        .cloned();
    let changes = audit
        .into_iter()
        .filter(|e| is_change(&e.action))
        .take(CHANGES_SHOWN)
        .collect();
    Cockpit {
        verdict,
        production: production.map(str::to_string),
        services,
        alert_groups,
        latest,
        changes,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_headline_names_what_needs_someone_worst_first() {
        let nothing = Verdict::default();
        assert!(nothing.ok() && !nothing.watching());
        assert!(nothing.headline().starts_with("Nothing is watched yet"));
        let calm = Verdict {
            components_up: 12,
            watched: 12,
            ..Default::default()
        };
        assert!(calm.ok());
        assert_eq!(
            calm.headline(),
            "All clear: nothing is down, paging or failing."
        );
        let warn = Verdict {
            components_degraded: 1,
            ..calm.clone()
        };
        assert!(warn.ok() && warn.headline().starts_with("No emergency"));
        let bad = Verdict {
            components_down: 1,
            alerts_critical: 2,
            deployments_failed: 1,
            ..calm
        };
        assert!(!bad.ok());
        assert_eq!(
            bad.headline(),
            "Needs attention: 1 component down, 2 critical alerts unacknowledged, 1 failed deployment."
        );
    }

    fn component(name: &str, service: &str, status: &str) -> Component {
        serde_json::from_value(serde_json::json!({
            "id": 1, "name": name, "kind": "http", "service": service, "environment": "production",
            "probe": {"type": "tcp", "address": "127.0.0.1:1"}, "status": status,
            "status_reason": "", "last_checked_at": null, "last_latency_ms": null,
            "status_since": 0, "created_at": 0,
        }))
        .unwrap()
    }

    fn alert(id: i64, name: &str, severity: &str, status: &str, silenced: bool) -> Alert {
        serde_json::from_value(serde_json::json!({
            "id": id, "fingerprint": format!("f{id}"), "source": "prometheus", "name": name,
            "severity": severity, "status": status, "summary": null, "labels": {"alertname": name},
            "annotations": {}, "generator_url": null, "starts_at": 0, "first_seen": 0,
            "last_seen": id, "opened_at": id, "fire_count": 1,
            "silenced_by": if silenced { Some(1) } else { None },
            "acknowledged_by": null, "acknowledged_at": null, "resolved_by": null,
            "resolved_at": null, "escalation_level": 0, "updated_at": 0,
        }))
        .unwrap()
    }

    #[test]
    fn builds_the_verdict_groups_and_production_lines() {
        let components = [
            component("pay-http", "payments", "down"),
            component("pay-tcp", "payments", "healthy"),
            component("web", "web", "healthy"),
        ];
        let alerts = [
            alert(1, "HighLatency", "warning", "open", false),
            alert(2, "ComponentDown", "critical", "open", false),
            alert(3, "ComponentDown", "critical", "acknowledged", false),
            alert(4, "DiskFull", "critical", "open", true),
        ];
        let cell = |service: &str, env: &str, status: DeploymentStatus| StatusCell {
            service: service.into(),
            environment: env.into(),
            version: Some("2".into()),
            status: Some(status),
            deployment_id: Some(9),
            deployed_at: Some(5),
            live_version: Some("1".into()),
            configured: true,
            kind: Some(DeploymentKind::Deploy),
            rollback_to: None,
            live_git_sha: None,
            ci_failed: false,
        };
        let cells = [
            cell("payments", "staging", DeploymentStatus::Running),
            cell("payments", "production", DeploymentStatus::Failed),
            cell("web", "production", DeploymentStatus::Succeeded),
        ];
        let c = build(
            &components,
            &alerts,
            &[],
            &cells,
            Some("production"),
            Vec::new(),
        );
        assert_eq!(
            c.verdict,
            Verdict {
                components_down: 1,
                components_up: 2,
                alerts_critical: 1,
                alerts_warning: 1,
                deployments_failed: 1,
                deployments_running: 1,
                watched: 3 + 4,
                ..Default::default()
            }
        );
        // Critical first; the acknowledged one stays in its group; the silenced one is hidden.
        let groups: Vec<(&str, usize)> = c
            .alert_groups
            .iter()
            .map(|g| (g.name.as_str(), g.alerts.len()))
            .collect();
        assert_eq!(groups, [("ComponentDown", 2), ("HighLatency", 1)]);
        let lines: Vec<(&str, Option<HealthStatus>)> = c
            .services
            .iter()
            .map(|s| (s.service.as_str(), s.health))
            .collect();
        assert_eq!(
            lines,
            [
                ("payments", Some(HealthStatus::Down)),
                ("web", Some(HealthStatus::Healthy))
            ]
        );
        assert_eq!(c.services[0].version.as_deref(), Some("1"));
        assert!(c.latest.is_some());
    }

    #[test]
    fn changes_leave_out_sign_ins_and_account_work() {
        for action in [
            "deployment.requested",
            "rollback.requested",
            "silence.created",
            "quarantine.lifted",
        ] {
            assert!(is_change(action), "{action}");
        }
        for action in ["user.signed_in", "token.created", "user.created"] {
            assert!(!is_change(action), "{action}");
        }
    }
}
