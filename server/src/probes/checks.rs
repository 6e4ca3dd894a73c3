//! Running one probe: an HTTP request, a TCP connect or a PromQL query, each bounded by the
//! probe's timeout. The outcome says what was seen in words, for the component page.

use super::prometheus::{probe_passes, Prometheus};
use app::health::component::{ProbeKind, ProbeSpec};
use std::time::{Duration, Instant};

pub struct Outcome {
    pub ok: bool,
    pub latency_ms: Option<u32>,
    pub detail: String,
}

/// The most of a response body read when looking for `body_contains`.
const BODY_LIMIT: usize = 256 * 1024;

pub async fn run(
    spec: &ProbeSpec,
    http: &reqwest::Client,
    prometheus: Option<&Prometheus>,
) -> Outcome {
    let timeout = Duration::from_millis(spec.timeout_ms as u64);
    let started = Instant::now();
    let result = tokio::time::timeout(timeout, check(spec, http, prometheus)).await;
    let elapsed = started.elapsed().as_millis().min(u32::MAX as u128) as u32;
    match result {
        Ok(Ok(detail)) => Outcome {
            ok: true,
            latency_ms: Some(elapsed),
            detail,
        },
        // A wrong answer still took measurable time; a refused connection did not answer at all.
        Ok(Err((detail, answered))) => Outcome {
            ok: false,
            latency_ms: answered.then_some(elapsed),
            detail,
        },
        Err(_) => Outcome {
            ok: false,
            latency_ms: None,
            detail: format!("timed out after {} ms", spec.timeout_ms),
        },
    }
}

/// `Ok(what was seen)` or `Err((why it failed, whether an answer arrived))`.
async fn check(
    spec: &ProbeSpec,
    http: &reqwest::Client,
    prometheus: Option<&Prometheus>,
) -> Result<String, (String, bool)> {
    match spec.kind {
        ProbeKind::Http => {
            let method =
                reqwest::Method::from_bytes(spec.method.as_deref().unwrap_or("GET").as_bytes())
                    .map_err(|_| ("invalid method".to_string(), false))?;
            let url = spec.url.as_deref().unwrap_or_default();
            let mut response = http
                .request(method, url)
                .send()
                .await
                .map_err(|e| (describe(&e), false))?;
            let status = response.status().as_u16();
            let expected = spec.expected_status.unwrap_or(200);
            if status != expected {
                return Err((format!("HTTP {status}, expected {expected}"), true));
            }
            if let Some(needle) = spec.body_contains.as_deref() {
                let mut body = Vec::new();
                while let Some(chunk) = response.chunk().await.map_err(|e| (describe(&e), true))? {
                    body.extend_from_slice(&chunk);
                    if body.len() >= BODY_LIMIT {
                        break;
                    }
                }
                if !String::from_utf8_lossy(&body).contains(needle) {
                    return Err((
                        format!("HTTP {status}, but the body does not contain '{needle}'"),
                        true,
                    ));
                }
            }
            Ok(format!("HTTP {status}"))
        }
        ProbeKind::Tcp => {
            let address = spec.address.as_deref().unwrap_or_default();
            tokio::net::TcpStream::connect(address)
                .await
                .map(|_| "connected".to_string())
                .map_err(|e| (format!("connect failed: {e}"), false))
        }
        ProbeKind::Prometheus => {
            let prometheus = prometheus.ok_or_else(|| {
                (
                    "no Prometheus configured: set FLIGHTDECK_PROMETHEUS_URL".to_string(),
                    false,
                )
            })?;
            let query = spec.query.as_deref().unwrap_or_default();
            let samples = prometheus.instant(query).await.map_err(|e| (e, false))?;
            probe_passes(&samples).map_err(|e| (e, true))?;
            Ok(format!("{} sample(s), none 0", samples.len()))
        }
    }
}

fn describe(error: &reqwest::Error) -> String {
    if error.is_connect() {
        "connection refused or unreachable".into()
    } else if error.is_timeout() {
        "timed out".into()
    } else {
        error.to_string()
    }
}
