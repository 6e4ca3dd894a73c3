//! Alerts: what arrives from Alertmanager, Prometheus, SLO burn and probes, grouped by
//! fingerprint, and the states people move them through. The transition rule and the fingerprint
//! are pure so the server, the API and the pages agree on them.

use crate::text_enum::text_enum;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// open -> acknowledged -> resolved, and escalated when nobody acknowledged in time (or someone
/// asked for more help). A resolved alert that fires again opens again.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AlertStatus {
    Open,
    Acknowledged,
    Escalated,
    Resolved,
}
text_enum!(AlertStatus {
    Open = "open",
    Acknowledged = "acknowledged",
    Escalated = "escalated",
    Resolved = "resolved",
});

impl AlertStatus {
    pub fn label(self) -> &'static str {
        match self {
            AlertStatus::Open => "Open",
            AlertStatus::Acknowledged => "Acknowledged",
            AlertStatus::Escalated => "Escalated",
            AlertStatus::Resolved => "Resolved",
        }
    }

    /// Still needs a person: the escalation clock runs.
    pub fn is_unacknowledged(self) -> bool {
        matches!(self, AlertStatus::Open | AlertStatus::Escalated)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Severity {
    Critical,
    Warning,
    Info,
}
text_enum!(Severity { Critical = "critical", Warning = "warning", Info = "info" });

impl Severity {
    /// From an alert's `severity` label, accepting the words teams commonly use.
    pub fn from_label(value: Option<&str>) -> Severity {
        match value.map(|v| v.trim().to_ascii_lowercase()).as_deref() {
            Some("critical" | "crit" | "page" | "error" | "high" | "p1" | "sev1") => {
                Severity::Critical
            }
            Some("warning" | "warn" | "ticket" | "medium" | "p2" | "sev2") => Severity::Warning,
            _ => Severity::Info,
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            Severity::Critical => "Critical",
            Severity::Warning => "Warning",
            Severity::Info => "Info",
        }
    }
}

/// Where an alert came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AlertSource {
    /// Alertmanager's webhook receiver (payload version 4).
    Alertmanager,
    /// `POST /api/v2/alerts`, as Prometheus sends to an Alertmanager.
    Prometheus,
    Slo,
    Probe,
}
text_enum!(AlertSource { Alertmanager = "alertmanager", Prometheus = "prometheus", Slo = "slo", Probe = "probe" });

/// What a person can do to an alert.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AlertAction {
    Acknowledge,
    Escalate,
    Resolve,
}
text_enum!(AlertAction { Acknowledge = "ack", Escalate = "escalate", Resolve = "resolve" });

impl AlertAction {
    pub fn label(self) -> &'static str {
        match self {
            AlertAction::Acknowledge => "Acknowledge",
            AlertAction::Escalate => "Escalate",
            AlertAction::Resolve => "Resolve",
        }
    }
}

/// The state `action` leads to from `current`, or why it cannot be taken.
pub fn transition(current: AlertStatus, action: AlertAction) -> Result<AlertStatus, String> {
    use AlertAction::*;
    use AlertStatus::*;
    match (current, action) {
        (Resolved, _) => Err("The alert is already resolved.".into()),
        (Acknowledged, Acknowledge) => Err("The alert is already acknowledged.".into()),
        (Open | Escalated, Acknowledge) => Ok(Acknowledged),
        (_, Escalate) => Ok(Escalated),
        (_, Resolve) => Ok(Resolved),
    }
}

/// Alertmanager's fingerprint of a label set: FNV-1a 64 over the labels sorted by name, each name
/// and value followed by the 0xff separator, as 16 hex digits. Computing it the same way means an
/// alert Prometheus posts directly and the same alert relayed by Alertmanager are one alert.
pub fn fingerprint(labels: &BTreeMap<String, String>) -> String {
    const OFFSET: u64 = 0xcbf29ce484222325;
    const PRIME: u64 = 0x100000001b3;
    let mut hash = OFFSET;
    let mut add = |bytes: &[u8]| {
        for &b in bytes {
            hash ^= b as u64;
            hash = hash.wrapping_mul(PRIME);
        }
    };
    for (name, value) in labels {
        add(name.as_bytes());
        add(&[0xff]);
        add(value.as_bytes());
        add(&[0xff]);
    }
    format!("{hash:016x}")
}

/// One alert as the feed and the API show it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Alert {
    pub id: i64,
    pub fingerprint: String,
    pub source: AlertSource,
    /// The `alertname` label (or the SLO or component it is about).
    pub name: String,
    pub severity: Severity,
    pub status: AlertStatus,
    /// The `summary` (else `description`) annotation.
    pub summary: Option<String>,
    pub labels: BTreeMap<String, String>,
    pub annotations: BTreeMap<String, String>,
    pub generator_url: Option<String>,
    /// When the source says it started firing.
    pub starts_at: i64,
    /// When Flightdeck first and last heard of it.
    pub first_seen: i64,
    pub last_seen: i64,
    /// When it last became open (first firing, or firing again after it was resolved): the
    /// feed's order, newest first.
    pub opened_at: i64,
    /// How many firing notifications were received.
    pub fire_count: i64,
    /// The id of the silence that matched when it last fired; silenced alerts notify nobody.
    pub silenced_by: Option<i64>,
    pub acknowledged_by: Option<String>,
    pub acknowledged_at: Option<i64>,
    pub resolved_by: Option<String>,
    pub resolved_at: Option<i64>,
    /// How many escalation steps it has passed (0: only the first step was notified).
    pub escalation_level: i64,
    pub updated_at: i64,
}

/// One entry of an alert's history: a state change or a notification, with who and when.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AlertEvent {
    pub id: i64,
    pub at: i64,
    pub actor: String,
    /// `fired`, `refired`, `reopened`, `acknowledged`, `escalated`, `resolved`, `notified`, ...
    pub kind: String,
    pub from_status: Option<AlertStatus>,
    pub to_status: Option<AlertStatus>,
    pub note: Option<String>,
}

/// A notification sent (or being retried) for an alert, with its outcome.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NotificationSummary {
    pub id: i64,
    pub channel: String,
    /// `firing`, `escalated` or `resolved`.
    pub reason: String,
    /// `pending` (being retried), `sent` or `failed` (gave up).
    pub status: String,
    pub attempts: i64,
    pub last_error: Option<String>,
    pub created_at: i64,
    pub sent_at: Option<i64>,
}

/// An alert with its history and notifications: `GET /api/v1/alerts/{id}`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AlertDetail {
    #[serde(flatten)]
    pub alert: Alert,
    pub history: Vec<AlertEvent>,
    pub notifications: Vec<NotificationSummary>,
}

/// What an ingestion request did: the answer of the alert endpoints.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct IngestSummary {
    /// New alerts, and resolved ones that fired again.
    pub opened: u32,
    /// Repeats of alerts already open.
    pub updated: u32,
    pub resolved: u32,
    /// Resolutions of alerts Flightdeck never saw, or saw resolved already.
    pub ignored: u32,
}

/// `GET /api/v1/alerts?status&severity&cursor&limit`. Newest activity first; `cursor` is the
/// `next_cursor` of the previous page.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct AlertQuery {
    #[serde(default)]
    pub status: Option<AlertStatus>,
    #[serde(default)]
    pub severity: Option<Severity>,
    #[serde(default)]
    pub cursor: Option<String>,
    #[serde(default)]
    pub limit: Option<u32>,
}

impl AlertQuery {
    pub fn checked_limit(&self) -> Result<u32, String> {
        crate::model::page_size(self.limit)
    }
}

/// The feed's order is (opened_at, id) descending; a cursor names the last alert of a page.
pub fn encode_cursor(opened_at: i64, id: i64) -> String {
    format!("{opened_at}.{id}")
}

pub fn decode_cursor(cursor: &str) -> Result<(i64, i64), String> {
    let bad = || format!("Invalid cursor '{cursor}': pass the next_cursor of the previous page.");
    let (at, id) = cursor.split_once('.').ok_or_else(bad)?;
    Ok((
        at.parse().map_err(|_| bad())?,
        id.parse().map_err(|_| bad())?,
    ))
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AlertPage {
    pub alerts: Vec<Alert>,
    pub next_cursor: Option<String>,
}

/// `POST /api/v1/alerts/{id}/ack|escalate|resolve`: an optional note for the history.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AlertActionRequest {
    #[serde(default)]
    pub note: Option<String>,
}

/// Alertmanager's label matcher: `name = value`, `!=`, `=~` (anchored regular expression), `!~`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Matcher {
    pub name: String,
    pub value: String,
    #[serde(default)]
    pub is_regex: bool,
    #[serde(default = "yes")]
    pub is_equal: bool,
}

fn yes() -> bool {
    true
}

impl Matcher {
    pub fn describe(&self) -> String {
        let op = match (self.is_regex, self.is_equal) {
            (false, true) => "=",
            (false, false) => "!=",
            (true, true) => "=~",
            (true, false) => "!~",
        };
        // Quoted with `"` and `\` escaped, as Alertmanager writes matchers (and the policy form
        // reads them back).
        let value = self.value.replace('\\', "\\\\").replace('"', "\\\"");
        format!("{}{}\"{}\"", self.name, op, value)
    }
}

/// What every matcher needs, in a silence or an escalation policy: a label name, and a name and
/// value of sensible length.
pub fn check_matchers(matchers: &[Matcher]) -> Result<(), String> {
    if let Some(m) = matchers.iter().find(|m| m.name.trim().is_empty()) {
        return Err(format!(
            "Matcher {} has no label name; write it as name=\"value\".",
            m.describe()
        ));
    }
    if let Some(m) = matchers
        .iter()
        .find(|m| m.value.len() > MAX_MATCHER_VALUE || m.name.len() > 256)
    {
        return Err(format!(
            "The matcher on '{}' is too long: values and patterns are at most {MAX_MATCHER_VALUE} characters.",
            m.name.chars().take(64).collect::<String>()
        ));
    }
    Ok(())
}

/// A silence: alerts matching every matcher between `starts_at` and `ends_at` are recorded but
/// notify nobody.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Silence {
    pub id: i64,
    pub matchers: Vec<Matcher>,
    pub starts_at: i64,
    pub ends_at: i64,
    pub comment: String,
    pub created_by: String,
    pub created_at: i64,
}

impl Silence {
    pub fn is_active(&self, now: i64) -> bool {
        self.starts_at <= now && now < self.ends_at
    }
}

/// `POST /api/v1/silences`. Times are Unix milliseconds; `starts_at` defaults to now.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NewSilence {
    pub matchers: Vec<Matcher>,
    #[serde(default)]
    pub starts_at: Option<i64>,
    pub ends_at: i64,
    pub comment: String,
}

/// The most matchers one silence may have, and the longest value (or pattern) of one.
pub const MAX_SILENCE_MATCHERS: usize = 32;
pub const MAX_MATCHER_VALUE: usize = 1024;

impl NewSilence {
    /// Checks what can be checked without a regex engine (the server compiles the expressions
    /// and refuses a silence whose matchers would all match an alert without labels).
    /// `max_ms` is the longest a silence may last.
    pub fn validate(&self, now: i64, max_ms: i64) -> Result<(), String> {
        if self.matchers.is_empty() {
            return Err(
                "A silence needs at least one matcher, or it would silence everything.".into(),
            );
        }
        if self.matchers.len() > MAX_SILENCE_MATCHERS {
            return Err(format!(
                "A silence has at most {MAX_SILENCE_MATCHERS} matchers."
            ));
        }
        check_matchers(&self.matchers)?;
        if self.comment.len() > 2000 {
            return Err("The comment is longer than 2000 characters.".into());
        }
        if self.comment.trim().is_empty() {
            return Err("Say why you silence these alerts (comment).".into());
        }
        let starts = self.starts_at.unwrap_or(now);
        if self.ends_at <= starts {
            return Err("A silence must end after it starts.".into());
        }
        if self.ends_at <= now {
            return Err("This silence would already be over.".into());
        }
        if self.ends_at - starts > max_ms {
            return Err(format!(
                "A silence lasts at most {} days; end it sooner, and silence again if it is still needed then.",
                max_ms / 86_400_000
            ));
        }
        Ok(())
    }
}

/// Alerts still needing a person (open or escalated, not silenced), by severity: the badge in
/// the navigation.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct AlertCounts {
    pub critical: u32,
    pub warning: u32,
    pub info: u32,
}

impl AlertCounts {
    pub fn total(&self) -> u32 {
        self.critical + self.warning + self.info
    }
}

/// Live-update topics of the alert feed.
/// Matchers that match exactly these labels (a silence made from alerts' labels).
pub fn exact_matchers(labels: impl IntoIterator<Item = (String, String)>) -> Vec<Matcher> {
    labels
        .into_iter()
        .map(|(name, value)| Matcher {
            name,
            value,
            is_regex: false,
            is_equal: true,
        })
        .collect()
}

pub mod topics {
    pub const ALERTS: &str = "alerts";
}

/// An alert's source link when it is safe to follow: an absolute http or https URL without
/// whitespace or control characters. Anything else (`javascript:`, `data:`, a relative path) is
/// dropped, since the link comes from whoever can post alerts and lands in operators' browsers.
pub fn safe_link(url: &str) -> Option<&str> {
    crate::http_url::check("link", url).is_ok().then_some(url)
}

#[cfg(test)]
mod tests {

    #[test]
    fn only_http_and_https_source_links_are_kept() {
        for ok in [
            "http://prometheus:9090/graph?g0.expr=up",
            "HTTPS://grafana.example/d/x",
        ] {
            assert_eq!(safe_link(ok), Some(ok));
        }
        for bad in [
            "javascript:alert(1)",
            "JavaScript:alert(1)",
            "data:text/html,<script>alert(1)</script>",
            "/graph",
            "//evil.example",
            "http://x/\u{0}",
            "https://a b",
            "",
        ] {
            assert_eq!(safe_link(bad), None, "{bad:?}");
        }
    }

    use super::*;

    fn labels(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn fingerprint_matches_alertmanager() {
        // Alertmanager's fingerprint of the empty label set is the FNV-1a offset basis, and the
        // hash is over the sorted labels, so the insertion order does not matter.
        assert_eq!(fingerprint(&BTreeMap::new()), "cbf29ce484222325");
        let a = fingerprint(&labels(&[("alertname", "HighLatency"), ("job", "api")]));
        let b = fingerprint(&labels(&[("job", "api"), ("alertname", "HighLatency")]));
        assert_eq!(a, b);
        assert_ne!(
            a,
            fingerprint(&labels(&[("alertname", "HighLatency"), ("job", "web")]))
        );
        // The separator keeps `a=bc` and `ab=c` apart.
        assert_ne!(
            fingerprint(&labels(&[("a", "bc")])),
            fingerprint(&labels(&[("ab", "c")]))
        );
    }

    #[test]
    fn transitions() {
        use AlertAction::*;
        use AlertStatus::*;
        assert_eq!(transition(Open, Acknowledge), Ok(Acknowledged));
        assert_eq!(transition(Escalated, Acknowledge), Ok(Acknowledged));
        assert!(transition(Acknowledged, Acknowledge).is_err());
        assert_eq!(transition(Acknowledged, Escalate), Ok(Escalated));
        assert_eq!(transition(Open, Escalate), Ok(Escalated));
        assert_eq!(transition(Open, Resolve), Ok(Resolved));
        for action in [Acknowledge, Escalate, Resolve] {
            assert!(transition(Resolved, action).is_err());
        }
    }

    #[test]
    fn severities_from_common_label_values() {
        assert_eq!(Severity::from_label(Some("Critical")), Severity::Critical);
        assert_eq!(Severity::from_label(Some("page")), Severity::Critical);
        assert_eq!(Severity::from_label(Some("warning")), Severity::Warning);
        assert_eq!(Severity::from_label(None), Severity::Info);
    }

    #[test]
    fn silences_are_validated() {
        let now = 1_000_000;
        let silence = |matchers: Vec<Matcher>, ends_at, comment: &str| NewSilence {
            matchers,
            starts_at: None,
            ends_at,
            comment: comment.into(),
        };
        let m = Matcher {
            name: "job".into(),
            value: "api".into(),
            is_regex: false,
            is_equal: true,
        };
        assert!(silence(vec![m.clone()], now + 60_000, "maintenance")
            .validate(now, 30 * 86_400_000)
            .is_ok());
        assert!(silence(vec![], now + 60_000, "x")
            .validate(now, 30 * 86_400_000)
            .is_err());
        assert!(silence(vec![m.clone()], now + 60_000, " ")
            .validate(now, 30 * 86_400_000)
            .is_err());
        assert!(silence(vec![m.clone()], now - 1, "x")
            .validate(now, 30 * 86_400_000)
            .is_err());
        assert_eq!(m.describe(), "job=\"api\"");
        // Capped: duration, matcher count, value length.
        let month = 30 * 86_400_000;
        assert!(silence(vec![m.clone()], now + month + 1, "x")
            .validate(now, month)
            .unwrap_err()
            .contains("at most 30 days"));
        assert!(silence(vec![m.clone(); 33], now + 60_000, "x")
            .validate(now, month)
            .is_err());
        let long = Matcher {
            value: "a".repeat(1025),
            ..m.clone()
        };
        assert!(silence(vec![long], now + 60_000, "x")
            .validate(now, month)
            .is_err());
    }

    #[test]
    fn cursors_round_trip_and_reject_garbage() {
        assert_eq!(decode_cursor(&encode_cursor(17, 4)), Ok((17, 4)));
        assert!(decode_cursor("x").is_err());
        assert!(decode_cursor("1.b").is_err());
    }
}
