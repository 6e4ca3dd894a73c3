//! Flightdeck's own health over time: one sample a minute per replica (database size, pool
//! connections in use, request rate, 5xx count, p99 latency, websocket clients, event lag, RSS),
//! and the charts of the System page, drawn with plotters on either side.

use plotters::prelude::*;
use serde::{Deserialize, Serialize};

/// One minute of one replica.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct HealthSample {
    pub at: i64,
    /// `host:pid` of the replica that took it.
    pub replica: String,
    pub db_bytes: i64,
    pub pool_in_use: i64,
    pub pool_size: i64,
    /// Requests answered since the previous sample, and per second over that time.
    pub requests: i64,
    pub requests_per_s: f64,
    pub errors_5xx: i64,
    /// The upper bound of the latency bucket holding the 99th percentile (0 without requests).
    pub p99_ms: f64,
    pub ws_clients: i64,
    /// How long the oldest event not yet sent to browsers has waited (0 when none waits).
    pub event_lag_ms: i64,
    pub rss_bytes: i64,
}

/// What the page and the API answer.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct HealthHistory {
    pub since: i64,
    pub samples: Vec<HealthSample>,
}

/// A replica samples every minute; one with no sample for this long has stopped (a restart is
/// a new replica: its `host:pid` changes) or cannot write to the database.
pub const SILENT_AFTER_MS: i64 = 3 * 60_000;

/// Samples are kept this long.
pub const RETENTION_MS: i64 = 30 * 86_400_000;

/// The 99th percentile from bucket counts: the upper bound of the bucket where the running
/// count reaches 99 % (`bounds` ascending; the last bucket is unbounded and reports its lower
/// bound).
pub fn p99(bounds: &[f64], counts: &[u64]) -> f64 {
    let total: u64 = counts.iter().sum();
    if total == 0 {
        return 0.0;
    }
    let wanted = (total as f64 * 0.99).ceil() as u64;
    let mut running = 0;
    for (i, n) in counts.iter().enumerate() {
        running += n;
        if running >= wanted {
            return bounds.get(i).or(bounds.last()).copied().unwrap_or(0.0);
        }
    }
    bounds.last().copied().unwrap_or(0.0)
}

const WIDTH: u32 = 640;
const HEIGHT: u32 = 200;
use crate::charts::{time_chart, ValueAxis};

/// The colour of a chart's `i`th line.
pub fn line_colour(i: usize) -> RGBColor {
    [crate::charts::LINE, crate::charts::BAD][i % 2]
}

/// A line of a chart: its legend and the measure it draws.
pub type Line<'a> = (&'a str, fn(&HealthSample) -> f64);

/// One chart of one or two measures over the last `hours`, now at the right edge.
pub fn chart(
    samples: &[HealthSample],
    lines: &[Line<'_>],
    unit: &str,
    hours: f64,
    now: i64,
) -> String {
    let axis = crate::charts::TimeAxis::new(now, hours * 3_600_000.0);
    let to_x = |at: i64| axis.x(at);
    let top = samples
        .iter()
        .flat_map(|s| lines.iter().map(move |(_, f)| f(s)))
        .fold(0.0f64, f64::max);
    let top = if top <= 0.0 { 1.0 } else { top * 1.15 };
    crate::charts::svg(WIDTH, HEIGHT, |root| {
        let mut chart = time_chart(
            &root,
            &axis,
            0.0..top,
            ValueAxis {
                width: 60,
                labels: 5,
                label: &|v| format!("{} {unit}", short(*v)),
            },
        )?;
        // Each line's key is HTML above the chart (`ChartKey`, with `line_colour`).
        for (i, (_, pick)) in lines.iter().enumerate() {
            let color = line_colour(i);
            chart.draw_series(LineSeries::new(
                samples.iter().map(|s| (to_x(s.at), pick(s))),
                color.stroke_width(2),
            ))?;
            // Each sample as a dot too, so a single one (just after start-up) shows.
            chart.draw_series(
                samples
                    .iter()
                    .map(|s| Circle::new((to_x(s.at), pick(s)), 2, color.filled())),
            )?;
        }
        root.present()?;
        Ok(())
    })
}

/// 1234567 → "1.2M".
pub fn short(v: f64) -> String {
    let a = v.abs();
    if a >= 1e9 {
        format!("{:.1}G", v / 1e9)
    } else if a >= 1e6 {
        format!("{:.1}M", v / 1e6)
    } else if a >= 1e4 {
        format!("{:.0}k", v / 1e3)
    } else if a >= 100.0 || a == 0.0 {
        format!("{v:.0}")
    } else {
        format!("{v:.1}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn p99_is_the_bucket_where_99_percent_is_reached() {
        let bounds = [1.0, 5.0, 25.0, 100.0];
        assert_eq!(p99(&bounds, &[0, 0, 0, 0, 0]), 0.0);
        assert_eq!(p99(&bounds, &[99, 1, 0, 0, 0]), 1.0);
        assert_eq!(p99(&bounds, &[98, 1, 1, 0, 0]), 5.0);
        assert_eq!(
            p99(&bounds, &[50, 0, 0, 0, 50]),
            100.0,
            "past the last bound"
        );
    }

    #[test]
    fn numbers_are_short() {
        assert_eq!(short(0.0), "0");
        assert_eq!(short(2.5), "2.5");
        assert_eq!(short(512.0), "512");
        assert_eq!(short(48_000.0), "48k");
        assert_eq!(short(23_500_000.0), "23.5M");
    }

    #[test]
    fn a_chart_draws_its_lines() {
        let sample = |at, r| HealthSample {
            at,
            replica: "a:1".into(),
            db_bytes: 0,
            pool_in_use: 1,
            pool_size: 4,
            requests: r,
            requests_per_s: r as f64 / 60.0,
            errors_5xx: 0,
            p99_ms: 5.0,
            ws_clients: 2,
            event_lag_ms: 0,
            rss_bytes: 20_000_000,
        };
        let samples = [sample(0, 60), sample(60_000, 120)];
        let svg = chart(
            &samples,
            &[
                ("requests/s", |s| s.requests_per_s),
                ("5xx", |s| s.errors_5xx as f64),
            ],
            "",
            1.0,
            60_000,
        );
        assert!(
            svg.starts_with("<svg") && svg.contains("<polyline"),
            "{svg}"
        );
        // Both lines, each in the colour its key shows (the key is HTML, `ChartKey`).
        for colour in ["#4DA3FF", "#E5534B"] {
            let line = format!("<polyline fill=\"none\" opacity=\"1\" stroke=\"{colour}\"");
            assert_eq!(svg.matches(&line).count(), 1, "{colour}: {svg}");
        }
    }
}
