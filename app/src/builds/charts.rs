//! The charts of the build pages, drawn with plotters as SVG text (on the server first, then in
//! the browser when builds arrive): a pipeline's build durations with failures marked and the
//! rolling p50 and p95, its coverage, and the tiny outcome strip of the list.
//!
//! The charts draw from [`PipelineCharts`], made on the server from the period's builds and
//! bounded whatever the period: a busy pipeline has 5,000 builds in 30 days and 60,000 in a year,
//! more than a 640-pixel chart can tell apart, and the browser receives what it redraws.

use super::stats::percentile;
use super::{BuildOutcome, BuildStatus};
use plotters::prelude::*;
use serde::{Deserialize, Serialize};

use crate::charts::{css_hex, time_chart, TimeAxis, ValueAxis, BAD, INK, LINE, OK, WARN};

const WIDTH: u32 = 640;
const HEIGHT: u32 = 240;
/// Up to this many coverage reports are marked with dots on their line.
const SPARSE: usize = 30;

/// The fewest builds each rolling percentile reads; a longer period reads more (a fiftieth of
/// the period's builds), so the lines show the trend rather than build-to-build noise.
const ROLLING: usize = 20;
/// At most this many builds are drawn as dots (an even sample of each kind, in proportion,
/// keeping every failure while they are rare).
pub const MAX_DOTS: usize = 1_000;
/// At most this many points on each line (the percentiles, coverage).
pub const MAX_LINE_POINTS: usize = 400;

/// A point of a chart: when the build started (Unix ms) and its value (minutes, or percent).
pub type Point = (i64, f64);

/// What the two charts of a pipeline's page draw.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct PipelineCharts {
    /// Finished builds in the period with a duration (successes and failures).
    pub finished: usize,
    /// Drawn as dots: successes and failures, oldest first.
    pub passed: Vec<Point>,
    pub failed: Vec<Point>,
    /// How many builds each point of the percentile lines reads (the last ones up to it).
    pub window: usize,
    pub p50: Vec<Point>,
    pub p95: Vec<Point>,
    /// Coverage of the builds that reported it, oldest first.
    pub coverage: Vec<Point>,
}

impl PipelineCharts {
    /// The charts of `builds` (oldest first).
    pub fn of(builds: &[BuildOutcome]) -> PipelineCharts {
        let finished: Vec<(Point, bool)> = builds
            .iter()
            .filter(|b| b.status.is_outcome())
            .filter_map(|b| {
                let minutes = (b.duration_s? / 60.0 * 100.0).round() / 100.0;
                Some(((b.started_at, minutes), b.status == BuildStatus::Failure))
            })
            .collect();
        let (failed, passed): (Vec<&(Point, bool)>, Vec<_>) = finished.iter().partition(|f| f.1);
        let failed: Vec<Point> = failed.into_iter().map(|f| f.0).collect();
        let passed: Vec<Point> = passed.into_iter().map(|f| f.0).collect();
        // Past MAX_DOTS, each kind in proportion, so the red share still looks like the failure
        // rate; but a rare failure is what a reader looks for, so up to a tenth of the dots
        // keep every one.
        let failed_room = match finished.len() {
            n if n <= MAX_DOTS => failed.len(),
            n => failed
                .len()
                .min((MAX_DOTS * failed.len() / n).max(MAX_DOTS / 10)),
        };
        let failed = thin(&failed, failed_room);
        let passed = thin(&passed, MAX_DOTS - failed.len());

        let window = ROLLING.max(finished.len() / 50);
        // The lines begin once a window is full, unless that would leave them short: their first
        // points would otherwise be one build's duration, then two builds'.
        let skip = if finished.len() >= 2 * window {
            window - 1
        } else {
            0
        };
        let rolling = |p: f64| -> Vec<Point> {
            spread(finished.len() - skip, MAX_LINE_POINTS)
                .map(|i| i + skip)
                .map(|i| {
                    let from = (i + 1).saturating_sub(window);
                    let mut last: Vec<f64> = finished[from..=i].iter().map(|f| f.0 .1).collect();
                    last.sort_by(f64::total_cmp);
                    let value = percentile(&last, p).unwrap_or(0.0);
                    (finished[i].0 .0, (value * 100.0).round() / 100.0)
                })
                .collect()
        };
        let coverage: Vec<Point> = builds
            .iter()
            .filter_map(|b| b.coverage.map(|c| (b.started_at, c)))
            .collect();
        PipelineCharts {
            finished: finished.len(),
            passed,
            failed,
            window,
            p50: rolling(0.5),
            p95: rolling(0.95),
            coverage: thin(&coverage, MAX_LINE_POINTS),
        }
    }

    /// How many builds the dots show (fewer than [`Self::finished`] when the period has more
    /// than [`MAX_DOTS`]).
    pub fn drawn(&self) -> usize {
        self.passed.len() + self.failed.len()
    }

    /// The oldest point of either chart, Unix ms.
    fn first(&self) -> Option<i64> {
        [&self.passed, &self.failed, &self.coverage]
            .iter()
            .filter_map(|points| points.first().map(|p| p.0))
            .min()
    }
}

/// `at_most` indices spread evenly over `0..len`, the first and the last among them; all of
/// them when there are no more.
fn spread(len: usize, at_most: usize) -> impl Iterator<Item = usize> {
    let take = len.min(at_most);
    (0..take).map(move |i| match take {
        1 => len - 1,
        _ => i * (len - 1) / (take - 1),
    })
}

/// At most `at_most` of `points`, evenly spread, the first and the last among them.
fn thin(points: &[Point], at_most: usize) -> Vec<Point> {
    spread(points.len(), at_most).map(|i| points[i]).collect()
}

fn draw(
    draw: impl FnOnce(crate::charts::Area<'_>) -> Result<(), Box<dyn std::error::Error + '_>>,
) -> String {
    crate::charts::svg(WIDTH, HEIGHT, draw)
}

/// The charts' time axis: from the period's first build (a day back at least) to now.
fn axis(charts: &PipelineCharts, now: i64) -> TimeAxis {
    let first = charts.first().map_or(now, |at| at.min(now));
    TimeAxis::new(now, ((now - first) as f64).max(86_400_000.0))
}

/// Each drawn build's duration (minutes) as a dot, failures red, and the rolling p50 and p95
/// as lines.
pub fn duration_chart(charts: &PipelineCharts, now: i64) -> String {
    let axis = axis(charts, now);
    let at = |p: &Point| (axis.x(p.0), p.1);
    let top = [&charts.passed, &charts.failed, &charts.p95]
        .iter()
        .flat_map(|points| points.iter().map(|p| p.1))
        .fold(1.0f64, f64::max)
        * 1.1;
    draw(|root| {
        let mut chart = time_chart(
            &root,
            &axis,
            0.0..top,
            ValueAxis {
                width: 52,
                labels: 5,
                // Under five minutes, whole minutes would label 0 and 0.5 both "0 min".
                label: &|v| {
                    let decimals = if top < 5.0 { 1 } else { 0 };
                    format!("{v:.decimals$} min")
                },
            },
        )?;
        chart.draw_series(
            charts
                .passed
                .iter()
                .map(|p| Circle::new(at(p), 2, LINE.mix(0.6).filled())),
        )?;
        chart.draw_series(
            charts
                .failed
                .iter()
                .map(|p| Cross::new(at(p), 4, BAD.stroke_width(2))),
        )?;
        // The key is HTML above the chart (`ChartKey`): drawn inside, it sat on the
        // newest weeks' dots and shrank to unreadable on a phone.
        chart.draw_series(LineSeries::new(
            charts.p50.iter().map(at),
            OK.stroke_width(2),
        ))?;
        chart.draw_series(LineSeries::new(
            charts.p95.iter().map(at),
            WARN.stroke_width(2),
        ))?;
        root.present()?;
        Ok(())
    })
}

/// Coverage (percent) of the builds that reported it.
pub fn coverage_chart(charts: &PipelineCharts, now: i64) -> String {
    let axis = axis(charts, now);
    let points: Vec<(f64, f64)> = charts.coverage.iter().map(|p| (axis.x(p.0), p.1)).collect();
    let low = points.iter().map(|p| p.1).fold(100.0f64, f64::min);
    let high = points.iter().map(|p| p.1).fold(0.0f64, f64::max);
    let (low, high) = ((low - 2.0).max(0.0), (high + 2.0).min(100.0).max(low + 1.0));
    draw(|root| {
        let mut chart = time_chart(
            &root,
            &axis,
            low..high,
            ValueAxis {
                width: 52,
                labels: 5,
                label: &|v| format!("{v:.0}%"),
            },
        )?;
        chart.draw_series(LineSeries::new(
            points.iter().copied(),
            LINE.stroke_width(2),
        ))?;
        // A line needs two points: a few reports are dots as well, so one is seen at all.
        if points.len() <= SPARSE {
            chart.draw_series(points.iter().map(|p| Circle::new(*p, 3, LINE.filled())))?;
        }
        root.present()?;
        Ok(())
    })
}

/// The latest outcomes as a strip of small bars, oldest left: green success, red failure, grey
/// otherwise. Plain SVG; a text alternative goes beside it.
pub fn outcome_strip(statuses: &[BuildStatus]) -> String {
    let mut out = format!(
        "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{}\" height=\"16\" viewBox=\"0 0 {} 16\">",
        statuses.len() * 6,
        statuses.len() * 6
    );
    for (i, s) in statuses.iter().enumerate() {
        let (color, height) = match s {
            BuildStatus::Success => (OK, 10),
            BuildStatus::Failure => (BAD, 16),
            _ => (INK, 6),
        };
        let color = css_hex(color);
        out.push_str(&format!(
            "<rect x=\"{}\" y=\"{}\" width=\"4\" height=\"{height}\" rx=\"1\" fill=\"{color}\"/>",
            i * 6,
            16 - height
        ));
    }
    out.push_str("</svg>");
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::builds::stats::tests::{build, outcomes};
    use crate::builds::Build;

    #[test]
    fn charts_draw_failures_and_percentiles() {
        let builds: Vec<Build> = (0..40)
            .map(|m| {
                let mut b = build(
                    "main",
                    if m % 7 == 0 {
                        BuildStatus::Failure
                    } else {
                        BuildStatus::Success
                    },
                    m * 60,
                    300.0 + m as f64,
                );
                b.coverage = Some(70.0 + m as f64 / 10.0);
                b
            })
            .collect();
        let charts = PipelineCharts::of(&outcomes(&builds));
        assert_eq!(
            (charts.finished, charts.drawn()),
            (40, 40),
            "few builds: every one a dot"
        );
        assert_eq!((charts.failed.len(), charts.window), (6, 20));
        // The last point of the p50 line: the median of the last 20 durations (320..=339 s).
        assert_eq!(charts.p50.last(), Some(&(39 * 3_600_000, 5.49)));
        let svg = duration_chart(&charts, 40 * 3_600_000);
        // The p50 and p95 lines in their key's colours (the key itself is HTML, `ChartKey`).
        for colour in ["#3FB950", "#D29922"] {
            let line = format!("<polyline fill=\"none\" opacity=\"1\" stroke=\"{colour}\"");
            assert_eq!(svg.matches(&line).count(), 1, "{colour}");
        }
        // 39 hours of builds: the time axis in hours, no label twice.
        let labels: Vec<&str> = svg
            .lines()
            .filter(|l| l.ends_with(" ago") || *l == "now")
            .collect();
        let mut distinct = labels.clone();
        distinct.dedup();
        assert!(labels.len() >= 4 && distinct == labels, "{labels:?}");
        assert!(labels.iter().all(|l| *l == "now" || l.ends_with("h ago")));
        assert!(coverage_chart(&charts, 40 * 3_600_000).contains("<polyline"));
        let strip = outcome_strip(&[BuildStatus::Success, BuildStatus::Failure]);
        assert!(strip.contains("#e5534b") && strip.contains("#3fb950"));
        assert!(
            !duration_chart(&PipelineCharts::default(), 0).is_empty(),
            "an empty history still draws its axes"
        );
    }

    /// One quick build: its coverage is a dot (a line of one point draws nothing), and the
    /// duration axis labels under a minute apart (not "0 min" twice).
    #[test]
    fn one_quick_build_is_seen_on_both_charts() {
        let mut b = build("main", BuildStatus::Success, 60, 20.0);
        b.coverage = Some(80.0);
        let charts = PipelineCharts::of(&outcomes(&[b]));
        let now = 2 * 3_600_000;
        assert!(coverage_chart(&charts, now).contains("<circle"));
        let svg = duration_chart(&charts, now);
        let labels: Vec<&str> = svg.lines().filter(|l| l.ends_with(" min")).collect();
        let mut distinct = labels.clone();
        distinct.sort();
        distinct.dedup();
        assert!(
            labels.len() >= 2 && distinct.len() == labels.len(),
            "{labels:?}"
        );
    }

    /// `n` builds a few minutes apart, every `fail_every`-th a failure (none for 0).
    fn busy(n: i64, fail_every: i64) -> Vec<BuildOutcome> {
        let builds: Vec<Build> = (0..n)
            .map(|i| {
                let failed = fail_every > 0 && i % fail_every == 0;
                let status = if failed {
                    BuildStatus::Failure
                } else {
                    BuildStatus::Success
                };
                let mut b = build("main", status, i * 8, 600.0);
                b.coverage = Some(75.0);
                b
            })
            .collect();
        outcomes(&builds)
    }

    #[test]
    fn a_busy_period_is_drawn_whole_with_a_bounded_number_of_points() {
        // 5,400 builds over 30 days: the dots and lines reach back to the period's first build.
        let builds = busy(5_400, 5);
        let charts = PipelineCharts::of(&builds);
        assert_eq!(charts.finished, 5_400);
        assert!(charts.drawn() <= MAX_DOTS, "{} dots", charts.drawn());
        let first = builds[0].started_at;
        let last = builds.last().unwrap().started_at;
        for line in [&charts.p50, &charts.p95, &charts.coverage] {
            assert!(line.len() <= MAX_LINE_POINTS);
            assert_eq!(line.last().unwrap().0, last);
        }
        assert_eq!(charts.coverage[0].0, first);
        // The percentiles begin at the first full window.
        assert_eq!(charts.p50[0].0, builds[charts.window - 1].started_at);
        assert_eq!(charts.passed[0].0, builds[1].started_at);
        assert_eq!(charts.failed[0].0, first);
        // A fifth failed, and about a fifth of the dots are red.
        assert_eq!(charts.failed.len(), 200);
        assert_eq!(charts.window, 108, "a fiftieth of the period's builds");
        assert_eq!(charts.p50[0].1, 10.0);
        // The chart spans the 30 days, not only its newest builds.
        let svg = duration_chart(&charts, last);
        let oldest_label = (1..=31)
            .rev()
            .find(|d| svg.contains(&format!("\n{d}d ago\n")));
        assert!(oldest_label >= Some(25), "x axis labels: {oldest_label:?}");
    }

    #[test]
    fn rare_failures_all_stay_on_a_thinned_chart() {
        let charts = PipelineCharts::of(&busy(5_000, 100));
        assert_eq!(charts.failed.len(), 50, "every one of the 50 failures");
        assert_eq!(charts.drawn(), MAX_DOTS);
        let charts = PipelineCharts::of(&busy(5_000, 25));
        assert_eq!(
            charts.failed.len(),
            100,
            "200 failures: a tenth of the dots"
        );
    }

    proptest::proptest! {
        /// However many builds and failures: the dots and lines stay within their bounds, a
        /// period that fits is drawn whole, failures keep at least their share, and every dot
        /// is a build of the period.
        #[test]
        fn charts_stay_bounded_and_faithful(n in 0i64..6_000, fail_every in 0i64..40) {
            let builds = busy(n, fail_every);
            let charts = PipelineCharts::of(&builds);
            let failures = builds.iter().filter(|b| b.status == BuildStatus::Failure).count();
            proptest::prop_assert_eq!(charts.finished, builds.len());
            proptest::prop_assert!(charts.drawn() <= MAX_DOTS);
            if builds.len() <= MAX_DOTS {
                proptest::prop_assert_eq!(charts.drawn(), builds.len());
            } else {
                proptest::prop_assert!(charts.failed.len() >= (MAX_DOTS * failures / builds.len()).min(failures));
                proptest::prop_assert!(charts.failed.len() >= failures.min(MAX_DOTS / 10));
            }
            for line in [&charts.p50, &charts.p95, &charts.coverage] {
                proptest::prop_assert!(line.len() <= MAX_LINE_POINTS);
            }
            let starts: std::collections::HashSet<i64> = builds.iter().map(|b| b.started_at).collect();
            for dot in charts.passed.iter().chain(&charts.failed) {
                proptest::prop_assert!(starts.contains(&dot.0));
            }
            proptest::prop_assert!(charts.p50.iter().zip(&charts.p95).all(|(a, b)| a.1 <= b.1));
        }
    }
}
