//! The counters behind `GET /metrics` (Prometheus text format): request counts and latencies by
//! route, websocket clients, events published. Routes are the matched patterns
//! (`/api/v1/tokens/{id}`), never raw paths, so label cardinality stays bounded. The middleware
//! that counts and the handler are `web/metrics.rs`.

use std::collections::BTreeMap;
use std::fmt::Write;
use std::sync::atomic::{AtomicI64, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Instant;

const BUCKETS: [f64; 12] = [
    0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 10.0,
];

#[derive(Default, Clone)]
struct Histogram {
    counts: [u64; BUCKETS.len()],
    sum: f64,
    count: u64,
}

/// Upper bounds (ms) of the latency buckets of the system health samples.
const WINDOW_BOUNDS_MS: [f64; 14] = [
    0.5, 1.0, 2.0, 5.0, 10.0, 20.0, 50.0, 100.0, 200.0, 500.0, 1000.0, 2000.0, 5000.0, 10000.0,
];

/// Requests since the last system health sample.
struct Window {
    started: Instant,
    requests: u64,
    errors_5xx: u64,
    latency: [u64; WINDOW_BOUNDS_MS.len() + 1],
}

impl Default for Window {
    fn default() -> Self {
        Window {
            started: Instant::now(),
            requests: 0,
            errors_5xx: 0,
            latency: [0; WINDOW_BOUNDS_MS.len() + 1],
        }
    }
}

/// What [`Metrics::take_window`] hands the sampler.
pub struct WindowSummary {
    pub elapsed: std::time::Duration,
    pub requests: u64,
    pub errors_5xx: u64,
    pub p99_ms: f64,
}

#[derive(Default)]
pub struct Metrics {
    requests: Mutex<BTreeMap<(String, String, u16), u64>>,
    latency: Mutex<BTreeMap<(String, String), Histogram>>,
    ws_clients: Arc<AtomicI64>,
    window: Mutex<Window>,
    page_render_stalls: AtomicU64,
}

/// Decrements the websocket gauge when the session ends, however it ends.
pub struct ClientGuard(Arc<AtomicI64>);

impl Drop for ClientGuard {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::Relaxed);
    }
}

impl Metrics {
    pub fn observe(&self, method: &str, route: &str, status: u16, seconds: f64) {
        let mut requests = self.requests.lock().unwrap_or_else(|p| p.into_inner());
        *requests
            .entry((method.into(), route.into(), status))
            .or_default() += 1;
        drop(requests);
        let mut latency = self.latency.lock().unwrap_or_else(|p| p.into_inner());
        let h = latency.entry((method.into(), route.into())).or_default();
        for (i, bound) in BUCKETS.iter().enumerate() {
            if seconds <= *bound {
                h.counts[i] += 1;
            }
        }
        h.sum += seconds;
        h.count += 1;
        drop(latency);
        let mut window = self.window.lock().unwrap_or_else(|p| p.into_inner());
        window.requests += 1;
        window.errors_5xx += u64::from(status >= 500);
        let ms = seconds * 1000.0;
        let bucket = WINDOW_BOUNDS_MS
            .iter()
            .position(|b| ms <= *b)
            .unwrap_or(WINDOW_BOUNDS_MS.len());
        window.latency[bucket] += 1;
    }

    /// The requests since the previous call, and starts a new window.
    pub fn take_window(&self) -> WindowSummary {
        let mut window = self.window.lock().unwrap_or_else(|p| p.into_inner());
        let taken = std::mem::take(&mut *window);
        WindowSummary {
            elapsed: taken.started.elapsed(),
            requests: taken.requests,
            errors_5xx: taken.errors_5xx,
            p99_ms: app::system::p99(&WINDOW_BOUNDS_MS, &taken.latency),
        }
    }

    pub fn ws_client_connected(&self) -> ClientGuard {
        self.ws_clients.fetch_add(1, Ordering::Relaxed);
        ClientGuard(self.ws_clients.clone())
    }

    /// A page render stalled and was started again (`web/page_cache.rs`).
    pub fn page_render_stalled(&self) {
        self.page_render_stalls.fetch_add(1, Ordering::Relaxed);
    }

    pub fn ws_clients(&self) -> i64 {
        self.ws_clients.load(Ordering::Relaxed)
    }

    pub fn render(&self, events_published: u64, event_head: i64) -> String {
        let mut out = String::new();
        out.push_str(
            "# HELP flightdeck_http_requests_total HTTP requests by method, route and status.\n",
        );
        out.push_str("# TYPE flightdeck_http_requests_total counter\n");
        for ((method, route, status), n) in self
            .requests
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .iter()
        {
            let _ = writeln!(out, "flightdeck_http_requests_total{{method=\"{method}\",route=\"{route}\",status=\"{status}\"}} {n}");
        }
        out.push_str("# HELP flightdeck_http_request_duration_seconds HTTP request latency.\n");
        out.push_str("# TYPE flightdeck_http_request_duration_seconds histogram\n");
        for ((method, route), h) in self
            .latency
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .iter()
        {
            let labels = format!("method=\"{method}\",route=\"{route}\"");
            for (bound, n) in BUCKETS.iter().zip(h.counts.iter()) {
                let _ = writeln!(out, "flightdeck_http_request_duration_seconds_bucket{{{labels},le=\"{bound}\"}} {n}");
            }
            let _ = writeln!(
                out,
                "flightdeck_http_request_duration_seconds_bucket{{{labels},le=\"+Inf\"}} {}",
                h.count
            );
            let _ = writeln!(
                out,
                "flightdeck_http_request_duration_seconds_sum{{{labels}}} {}",
                h.sum
            );
            let _ = writeln!(
                out,
                "flightdeck_http_request_duration_seconds_count{{{labels}}} {}",
                h.count
            );
        }
        out.push_str("# HELP flightdeck_websocket_clients Connected websocket clients.\n");
        out.push_str("# TYPE flightdeck_websocket_clients gauge\n");
        let _ = writeln!(out, "flightdeck_websocket_clients {}", self.ws_clients());
        out.push_str(
            "# HELP flightdeck_events_published_total Events fanned out to websocket sessions.\n",
        );
        out.push_str("# TYPE flightdeck_events_published_total counter\n");
        let _ = writeln!(out, "flightdeck_events_published_total {events_published}");
        out.push_str("# HELP flightdeck_event_head_seq Highest event seq published.\n");
        out.push_str("# TYPE flightdeck_event_head_seq gauge\n");
        let _ = writeln!(out, "flightdeck_event_head_seq {event_head}");
        out.push_str("# HELP flightdeck_page_render_stalls_total Page renders that stalled and were started again.\n");
        out.push_str("# TYPE flightdeck_page_render_stalls_total counter\n");
        let _ = writeln!(
            out,
            "flightdeck_page_render_stalls_total {}",
            self.page_render_stalls.load(Ordering::Relaxed)
        );
        out
    }
}

/// The method as a label: the standard ones by name, anything a client invented as `other`,
/// so a client cannot grow the label set (and memory) without bound.
pub fn method_label(method: &http::Method) -> &'static str {
    use http::Method;
    match *method {
        Method::GET => "GET",
        Method::HEAD => "HEAD",
        Method::POST => "POST",
        Method::PUT => "PUT",
        Method::PATCH => "PATCH",
        Method::DELETE => "DELETE",
        Method::OPTIONS => "OPTIONS",
        Method::TRACE => "TRACE",
        Method::CONNECT => "CONNECT",
        _ => "other",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn invented_methods_share_one_label() {
        let invented = http::Method::from_bytes(b"XYZZY").unwrap();
        assert_eq!(method_label(&invented), "other");
        assert_eq!(
            method_label(&http::Method::from_bytes(b"FOO1").unwrap()),
            "other"
        );
        assert_eq!(method_label(&http::Method::PATCH), "PATCH");
    }

    #[test]
    fn renders_counters_and_cumulative_buckets() {
        let m = Metrics::default();
        m.observe("GET", "/api/health", 200, 0.003);
        m.observe("GET", "/api/health", 200, 0.2);
        let _guard = m.ws_client_connected();
        let text = m.render(5, 9);
        assert!(text.contains(
            "flightdeck_http_requests_total{method=\"GET\",route=\"/api/health\",status=\"200\"} 2"
        ));
        assert!(text.contains("route=\"/api/health\",le=\"0.005\"} 1"));
        assert!(text.contains("route=\"/api/health\",le=\"0.25\"} 2"));
        assert!(text.contains("flightdeck_websocket_clients 1"));
        assert!(text.contains("flightdeck_events_published_total 5"));
        drop(_guard);
        assert_eq!(m.ws_clients(), 0);
    }
}
