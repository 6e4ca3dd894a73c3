//! Reading alerts as Alertmanager's webhook (payload version 4) and Alertmanager's own
//! `POST /api/v2/alerts` (what Prometheus sends) deliver them. A payload is checked whole before
//! anything is stored: one malformed alert refuses the request with 400 and stores nothing.

use crate::json_body::Object;
use app::health::alert::fingerprint;
use serde::Deserialize;
use std::collections::BTreeMap;
use time::format_description::well_known::Rfc3339;
use time::OffsetDateTime;

/// One alert notification, whatever the source.
#[derive(Debug, Clone, PartialEq)]
pub struct Incoming {
    pub fingerprint: String,
    pub labels: BTreeMap<String, String>,
    pub annotations: BTreeMap<String, String>,
    pub starts_at: Option<i64>,
    /// For a firing alert: when it ends unless sent again.
    pub ends_at: Option<i64>,
    pub generator_url: Option<String>,
    pub resolved: bool,
}

impl Incoming {
    /// The alert's one-line summary: its `summary` annotation, else its `description`.
    pub fn summary(&self) -> Option<String> {
        let annotation = |key: &str| {
            self.annotations
                .get(key)
                .filter(|v| !v.trim().is_empty())
                .cloned()
        };
        annotation("summary").or_else(|| annotation("description"))
    }
}

/// The most alerts one request may carry; Alertmanager batches far fewer.
pub const MAX_ALERTS: usize = 10_000;

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct WebhookPayload {
    version: String,
    #[serde(default)]
    status: Option<String>,
    alerts: Vec<Object<WebhookAlert>>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct WebhookAlert {
    status: String,
    labels: BTreeMap<String, String>,
    #[serde(default)]
    annotations: BTreeMap<String, String>,
    #[serde(default)]
    starts_at: Option<String>,
    #[serde(default)]
    ends_at: Option<String>,
    #[serde(default, rename = "generatorURL")]
    generator_url: Option<String>,
}

/// `POST /api/v1/webhooks/alertmanager`.
pub fn alertmanager_webhook(body: &[u8]) -> Result<Vec<Incoming>, String> {
    let Object(payload): Object<WebhookPayload> = serde_json::from_slice(body)
        .map_err(|e| format!("Not an Alertmanager webhook payload: {e}"))?;
    if payload.version != "4" {
        return Err(format!(
            "Alertmanager webhook payload version {} is not supported; version 4 is.",
            payload.version
        ));
    }
    if let Some(status) = payload.status.as_deref() {
        if status != "firing" && status != "resolved" {
            return Err(format!("Unknown group status '{status}'."));
        }
    }
    check_count(payload.alerts.len())?;
    payload
        .alerts
        .into_iter()
        .enumerate()
        .map(|(i, Object(alert))| {
            let resolved = match alert.status.as_str() {
                "firing" => false,
                "resolved" => true,
                other => return Err(format!("alerts[{i}]: unknown status '{other}'.")),
            };
            let starts_at = parse_time(alert.starts_at.as_deref(), i, "startsAt")?;
            let ends_at = parse_time(alert.ends_at.as_deref(), i, "endsAt")?;
            build(
                i,
                alert.labels,
                alert.annotations,
                starts_at,
                ends_at,
                alert.generator_url,
                resolved,
            )
        })
        .collect()
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct PostableAlert {
    labels: BTreeMap<String, String>,
    #[serde(default)]
    annotations: BTreeMap<String, String>,
    #[serde(default)]
    starts_at: Option<String>,
    #[serde(default)]
    ends_at: Option<String>,
    #[serde(default, rename = "generatorURL")]
    generator_url: Option<String>,
}

/// `POST /api/v2/alerts`: an array of alerts; one whose `endsAt` has passed is a resolution, as
/// Alertmanager reads it.
pub fn postable_alerts(body: &[u8], now: i64) -> Result<Vec<Incoming>, String> {
    let alerts: Vec<Object<PostableAlert>> = serde_json::from_slice(body)
        .map_err(|e| format!("Expected a JSON array of alerts: {e}"))?;
    check_count(alerts.len())?;
    alerts
        .into_iter()
        .enumerate()
        .map(|(i, Object(alert))| {
            let starts_at = parse_time(alert.starts_at.as_deref(), i, "startsAt")?;
            let ends_at = parse_time(alert.ends_at.as_deref(), i, "endsAt")?;
            let resolved = ends_at.is_some_and(|end| end <= now);
            build(
                i,
                alert.labels,
                alert.annotations,
                starts_at,
                ends_at,
                alert.generator_url,
                resolved,
            )
        })
        .collect()
}

fn check_count(count: usize) -> Result<(), String> {
    if count == 0 {
        return Err("The payload holds no alerts.".into());
    }
    if count > MAX_ALERTS {
        return Err(format!(
            "At most {MAX_ALERTS} alerts per request, not {count}."
        ));
    }
    Ok(())
}

fn build(
    index: usize,
    labels: BTreeMap<String, String>,
    annotations: BTreeMap<String, String>,
    starts_at: Option<i64>,
    ends_at: Option<i64>,
    generator_url: Option<String>,
    resolved: bool,
) -> Result<Incoming, String> {
    if labels.is_empty() {
        return Err(format!("alerts[{index}]: at least one label is required."));
    }
    if let Some(name) = labels.keys().find(|name| !valid_label_name(name)) {
        return Err(format!(
            "alerts[{index}]: '{name}' is not a valid label name ([a-zA-Z_][a-zA-Z0-9_]*)."
        ));
    }
    if let (Some(start), Some(end)) = (starts_at, ends_at) {
        if end < start {
            return Err(format!("alerts[{index}]: endsAt is before startsAt."));
        }
    }
    Ok(Incoming {
        fingerprint: fingerprint(&labels),
        labels,
        annotations,
        starts_at,
        ends_at,
        // Kept only when it is a link worth following (see `safe_link`).
        generator_url: generator_url.filter(|u| app::health::alert::safe_link(u).is_some()),
        resolved,
    })
}

/// Prometheus' label name rule.
pub fn valid_label_name(name: &str) -> bool {
    let mut chars = name.chars();
    chars
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
}

/// RFC 3339 to Unix ms. Go's zero time (`0001-01-01T00:00:00Z`), which Alertmanager sends for
/// "no end", reads as absent.
fn parse_time(value: Option<&str>, index: usize, field: &str) -> Result<Option<i64>, String> {
    let Some(value) = value.map(str::trim).filter(|v| !v.is_empty()) else {
        return Ok(None);
    };
    let at = OffsetDateTime::parse(value, &Rfc3339)
        .map_err(|_| format!("alerts[{index}]: {field} '{value}' is not an RFC 3339 time."))?;
    if at.year() <= 1 {
        return Ok(None);
    }
    Ok(Some((at.unix_timestamp_nanos() / 1_000_000) as i64))
}

#[cfg(test)]
mod tests {
    use super::*;

    const WEBHOOK: &str = r#"{
      "version": "4", "groupKey": "{}:{alertname=\"HighLatency\"}", "truncatedAlerts": 0,
      "status": "firing", "receiver": "flightdeck",
      "groupLabels": {"alertname": "HighLatency"}, "commonLabels": {"alertname": "HighLatency"},
      "commonAnnotations": {}, "externalURL": "http://am:9093",
      "alerts": [
        {"status": "firing", "labels": {"alertname": "HighLatency", "job": "api", "severity": "critical"},
         "annotations": {"summary": "p99 over 1s"}, "startsAt": "2026-11-22T03:00:00.123Z",
         "endsAt": "0001-01-01T00:00:00Z", "generatorURL": "http://prom/graph", "fingerprint": "x"},
        {"status": "resolved", "labels": {"alertname": "HighLatency", "job": "web"},
         "annotations": {}, "startsAt": "2026-11-22T02:00:00Z", "endsAt": "2026-11-22T02:30:00Z"}
      ]
    }"#;

    #[test]
    fn reads_a_grouped_webhook() {
        let alerts = alertmanager_webhook(WEBHOOK.as_bytes()).unwrap();
        assert_eq!(alerts.len(), 2);
        assert!(!alerts[0].resolved);
        assert_eq!(alerts[0].starts_at, Some(1_795_316_400_123));
        assert_eq!(alerts[0].ends_at, None);
        assert_eq!(alerts[0].annotations["summary"], "p99 over 1s");
        assert_eq!(alerts[0].fingerprint, fingerprint(&alerts[0].labels));
        assert!(alerts[1].resolved);
    }

    #[test]
    fn refuses_malformed_webhooks_whole() {
        let bad = [
            WEBHOOK.replace(r#""version": "4""#, r#""version": "3""#),
            WEBHOOK.replace(r#""status": "resolved""#, r#""status": "gone""#),
            WEBHOOK.replace("2026-11-22T02:00:00Z", "yesterday"),
            WEBHOOK.replace(r#""job": "web""#, r#""job-name": "web""#),
            r#"{"version": "4", "alerts": []}"#.to_string(),
            "[]".to_string(),
            // A payload, or an alert, written as a list of its fields in order.
            r#"["4", "firing", [["firing", {"alertname": "A"}]]]"#.to_string(),
            r#"{"version": "4", "alerts": [["firing", {"alertname": "A"}]]}"#.to_string(),
            "not json".to_string(),
        ];
        for body in bad {
            assert!(alertmanager_webhook(body.as_bytes()).is_err(), "{body}");
        }
    }

    #[test]
    fn postable_alerts_resolve_when_their_end_has_passed() {
        let now = 1_795_316_400_000; // 2026-11-22T03:00:00Z
        let body = r#"[
          {"labels": {"alertname": "DiskFull", "instance": "db1"}, "endsAt": "2026-11-22T03:04:00Z"},
          {"labels": {"alertname": "DiskFull", "instance": "db2"}, "endsAt": "2026-11-22T02:59:00Z"}
        ]"#;
        let alerts = postable_alerts(body.as_bytes(), now).unwrap();
        assert!(!alerts[0].resolved);
        assert!(alerts[1].resolved);
        assert!(postable_alerts(br#"[{"labels": {}}]"#, now).is_err());
        assert!(postable_alerts(br#"[[{"alertname": "A"}]]"#, now).is_err());
        assert!(postable_alerts(br#"[{"labels": {"a": "b"}, "bogus": 1}]"#, now).is_err());
        assert!(postable_alerts(
            br#"[{"labels": {"a": "b"}, "startsAt": "2026-11-22T03:00:00Z", "endsAt": "2026-11-22T02:00:00Z"}]"#,
            now
        )
        .is_err());
    }
}
