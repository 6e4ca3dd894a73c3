//! Components and their probes: what is checked, how, and what came back.

use super::HealthStatus;
use crate::text::non_blank;
use crate::text_enum::text_enum;
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ProbeKind {
    /// An HTTP request: expected status, optional body substring.
    Http,
    /// A TCP connect to `host:port`.
    Tcp,
    /// A PromQL instant query: passes when it returns samples and none of them is 0.
    Prometheus,
}
text_enum!(ProbeKind { Http = "http", Tcp = "tcp", Prometheus = "prometheus" });

/// How a component is probed. One flat shape for every kind (like a deploy target's settings):
/// the fields a kind does not use must be absent, which [`ProbeSpec::normalized`] checks.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ProbeSpec {
    #[serde(rename = "type")]
    pub kind: ProbeKind,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub method: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expected_status: Option<u16>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub body_contains: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub address: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub query: Option<String>,
    #[serde(default = "ProbeSpec::default_interval")]
    pub interval_s: u32,
    #[serde(default = "ProbeSpec::default_timeout")]
    pub timeout_ms: u32,
    /// Slower answers than this make the component degraded.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub latency_threshold_ms: Option<u32>,
}

const METHODS: [&str; 4] = ["GET", "HEAD", "POST", "OPTIONS"];

impl ProbeSpec {
    fn default_interval() -> u32 {
        30
    }
    fn default_timeout() -> u32 {
        5000
    }

    pub fn http(url: &str) -> ProbeSpec {
        ProbeSpec {
            kind: ProbeKind::Http,
            url: Some(url.into()),
            method: None,
            expected_status: None,
            body_contains: None,
            address: None,
            query: None,
            interval_s: Self::default_interval(),
            timeout_ms: Self::default_timeout(),
            latency_threshold_ms: None,
        }
    }

    /// Checks the spec and fills defaults (GET, status 200); the error says what to fix.
    pub fn normalized(mut self) -> Result<ProbeSpec, String> {
        self.url = non_blank(self.url);
        self.address = non_blank(self.address);
        self.query = non_blank(self.query);
        self.method = non_blank(self.method).map(|m| m.to_ascii_uppercase());
        if !(1..=86_400).contains(&self.interval_s) {
            return Err("interval_s must be between 1 and 86400 seconds.".into());
        }
        if !(1..=120_000).contains(&self.timeout_ms) {
            return Err("timeout_ms must be between 1 and 120000.".into());
        }
        let unused = |name: &str, present: bool| {
            if present {
                Err(format!("{name} does not apply to a {} probe.", self.kind))
            } else {
                Ok(())
            }
        };
        match self.kind {
            ProbeKind::Http => {
                let url = self.url.as_deref().ok_or("An http probe needs a url.")?;
                crate::http_url::check("The probe's url", url)?;
                let method = self.method.get_or_insert_with(|| "GET".into());
                if !METHODS.contains(&method.as_str()) {
                    return Err(format!("method must be one of {}.", METHODS.join(", ")));
                }
                let status = *self.expected_status.get_or_insert(200);
                if !(100..=599).contains(&status) {
                    return Err(format!("expected_status {status} is not an HTTP status."));
                }
                unused("address", self.address.is_some())?;
                unused("query", self.query.is_some())?;
            }
            ProbeKind::Tcp => {
                let address = self
                    .address
                    .as_deref()
                    .ok_or("A tcp probe needs an address (host:port).")?;
                let port = address.rsplit_once(':').and_then(|(host, port)| {
                    (!host.is_empty())
                        .then(|| port.parse::<u16>().ok())
                        .flatten()
                });
                if port.is_none_or(|p| p == 0) {
                    return Err(format!("The address must be host:port, not '{address}'."));
                }
                unused("url", self.url.is_some())?;
                unused("method", self.method.is_some())?;
                unused("expected_status", self.expected_status.is_some())?;
                unused("body_contains", self.body_contains.is_some())?;
                unused("query", self.query.is_some())?;
            }
            ProbeKind::Prometheus => {
                self.query
                    .as_deref()
                    .ok_or("A prometheus probe needs a PromQL query.")?;
                unused("url", self.url.is_some())?;
                unused("method", self.method.is_some())?;
                unused("expected_status", self.expected_status.is_some())?;
                unused("body_contains", self.body_contains.is_some())?;
                unused("address", self.address.is_some())?;
            }
        }
        Ok(self)
    }

    /// What is probed, in a few words: `GET https://…`, `tcp db:5432`, `up{job="api"}`.
    /// The probe as people who are not admins see it: its URL masked (`redact::mask_url`).
    pub fn masked(mut self) -> ProbeSpec {
        self.url = self.url.as_deref().map(crate::redact::mask_url);
        self
    }

    pub fn describe(&self) -> String {
        match self.kind {
            ProbeKind::Http => format!(
                "{} {}",
                self.method.as_deref().unwrap_or("GET"),
                self.url.as_deref().unwrap_or("")
            ),
            ProbeKind::Tcp => format!("tcp {}", self.address.as_deref().unwrap_or("")),
            ProbeKind::Prometheus => self.query.clone().unwrap_or_default(),
        }
    }
}

/// `POST /api/v1/components`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NewComponent {
    pub name: String,
    /// Free text: service, database, queue, cache, ...
    #[serde(default = "NewComponent::default_kind")]
    pub kind: String,
    /// The owning service and the environment, by name; both optional.
    #[serde(default)]
    pub service: Option<String>,
    #[serde(default)]
    pub environment: Option<String>,
    pub probe: ProbeSpec,
}

impl NewComponent {
    fn default_kind() -> String {
        "service".into()
    }

    pub fn normalized(mut self) -> Result<NewComponent, String> {
        self.name = self.name.trim().to_string();
        if self.name.is_empty() || self.name.len() > 100 {
            return Err("A component needs a name of 1 to 100 characters.".into());
        }
        self.kind = self.kind.trim().to_ascii_lowercase();
        if self.kind.is_empty() || self.kind.len() > 40 {
            return Err("kind must be 1 to 40 characters (service, database, queue, ...).".into());
        }
        self.service = non_blank(self.service);
        self.environment = non_blank(self.environment);
        self.probe = self.probe.normalized()?;
        Ok(self)
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Component {
    pub id: i64,
    pub name: String,
    pub kind: String,
    pub service: Option<String>,
    pub environment: Option<String>,
    pub probe: ProbeSpec,
    pub status: HealthStatus,
    /// Why the status rule chose `status`, in words.
    pub status_reason: String,
    pub last_checked_at: Option<i64>,
    pub last_latency_ms: Option<u32>,
    /// When the status last changed.
    pub status_since: i64,
    pub created_at: i64,
}

/// One probe check.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProbeResult {
    pub at: i64,
    pub ok: bool,
    pub latency_ms: Option<u32>,
    /// What was seen: `HTTP 200`, `connection refused`, `timed out after 5000 ms`, ...
    pub detail: String,
}

impl Component {
    /// As `role` may see it: admins see the probe's URL whole, everyone else masked.
    pub fn for_role(mut self, role: crate::model::Role) -> Component {
        if role != crate::model::Role::Admin {
            self.probe = self.probe.masked();
        }
        self
    }
}

/// `GET /api/v1/components/{id}`: the component with its recent checks, newest first.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ComponentDetail {
    #[serde(flatten)]
    pub component: Component,
    pub results: Vec<ProbeResult>,
    /// Share of passed checks among `results`; `None` without checks.
    pub availability: Option<f64>,
    /// Deployments of its service over the span of `results`, oldest first.
    #[serde(default)]
    pub deploys: Vec<crate::charts::DeployMarker>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn probe_specs_are_checked_and_completed() {
        let http = ProbeSpec::http(" https://api.example/healthz ")
            .normalized()
            .unwrap();
        assert_eq!(http.method.as_deref(), Some("GET"));
        assert_eq!(http.expected_status, Some(200));
        assert_eq!(http.describe(), "GET https://api.example/healthz");
        assert!(ProbeSpec::http("ftp://x").normalized().is_err());
        let mut tcp = ProbeSpec::http("http://x");
        tcp.kind = ProbeKind::Tcp;
        assert!(tcp.clone().normalized().unwrap_err().contains("address"));
        tcp.url = None;
        tcp.address = Some("db:5432".into());
        assert_eq!(tcp.clone().normalized().unwrap().describe(), "tcp db:5432");
        tcp.address = Some("db".into());
        assert!(tcp.normalized().is_err());
        let mut slow = ProbeSpec::http("http://x");
        slow.interval_s = 0;
        assert!(slow.normalized().is_err());
    }

    #[test]
    fn unknown_probe_fields_are_refused() {
        let err =
            serde_json::from_str::<ProbeSpec>(r#"{"type":"http","url":"http://x","bogus":1}"#);
        assert!(err.is_err());
    }
}
