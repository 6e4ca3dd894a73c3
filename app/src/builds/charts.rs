//! The charts of the build pages, drawn with plotters as SVG text (on the server first, then in
//! the browser when builds arrive): a pipeline's build durations with failures marked and the
//! rolling p50 and p95, its coverage, and the tiny outcome strip of the list.

use super::stats::percentile;
use super::{BuildOutcome, BuildStatus};
use plotters::prelude::*;

use crate::charts::{label_style, BAD, GRID, INK, LINE, OK, WARN};

const WIDTH: u32 = 640;
const HEIGHT: u32 = 240;

/// How many builds each rolling percentile reads.
const ROLLING: usize = 20;

fn days_ago(at: i64, now: i64) -> f64 {
    (at - now) as f64 / 86_400_000.0
}

fn draw(
    draw: impl FnOnce(crate::charts::Area<'_>) -> Result<(), Box<dyn std::error::Error + '_>>,
) -> String {
    crate::charts::svg(WIDTH, HEIGHT, draw)
}

/// Each finished build's duration (minutes) as a dot, failures red, and the p50 and p95 of
/// the last 20 builds as lines. `builds` oldest first.
pub fn duration_chart(builds: &[BuildOutcome], now: i64) -> String {
    let finished: Vec<(f64, f64, bool)> = builds
        .iter()
        .filter(|b| b.status.is_outcome())
        .filter_map(|b| {
            b.duration_s.map(|d| {
                (
                    days_ago(b.started_at, now),
                    d / 60.0,
                    b.status == BuildStatus::Failure,
                )
            })
        })
        .collect();
    let span = finished.first().map_or(1.0, |f| (-f.0).max(1.0));
    let top = finished.iter().map(|f| f.1).fold(1.0f64, f64::max) * 1.1;
    let rolling = |p: f64| -> Vec<(f64, f64)> {
        (0..finished.len())
            .map(|i| {
                let from = i.saturating_sub(ROLLING - 1);
                let mut window: Vec<f64> = finished[from..=i].iter().map(|f| f.1).collect();
                window.sort_by(f64::total_cmp);
                (finished[i].0, percentile(&window, p).unwrap_or(0.0))
            })
            .collect()
    };
    draw(|root| {
        let mut chart = ChartBuilder::on(&root)
            .margin(12)
            .x_label_area_size(28)
            .y_label_area_size(52)
            .build_cartesian_2d(-span..0.0, 0.0..top)?;
        chart
            .configure_mesh()
            .light_line_style(GRID.mix(0.15))
            .bold_line_style(GRID.mix(0.3))
            .axis_style(GRID)
            .label_style(label_style())
            .x_labels(7)
            .y_labels(5)
            .x_label_formatter(&|d| {
                if *d > -0.5 {
                    "now".into()
                } else {
                    format!("{:.0}d ago", -d)
                }
            })
            .y_label_formatter(&|v| format!("{v:.0} min"))
            .draw()?;
        chart.draw_series(
            finished
                .iter()
                .filter(|f| !f.2)
                .map(|f| Circle::new((f.0, f.1), 2, LINE.mix(0.6).filled())),
        )?;
        chart.draw_series(
            finished
                .iter()
                .filter(|f| f.2)
                .map(|f| Cross::new((f.0, f.1), 4, BAD.stroke_width(2))),
        )?;
        chart
            .draw_series(LineSeries::new(rolling(0.5), OK.stroke_width(2)))?
            .label("p50")
            .legend(|(x, y)| PathElement::new([(x, y), (x + 14, y)], OK.stroke_width(2)));
        chart
            .draw_series(LineSeries::new(rolling(0.95), WARN.stroke_width(2)))?
            .label("p95")
            .legend(|(x, y)| PathElement::new([(x, y), (x + 14, y)], WARN.stroke_width(2)));
        chart
            .configure_series_labels()
            .label_font(("sans-serif", 15).into_font().color(&INK))
            .border_style(GRID)
            .position(SeriesLabelPosition::UpperLeft)
            .draw()?;
        root.present()?;
        Ok(())
    })
}

/// Coverage (percent) of the builds that reported it, oldest first.
pub fn coverage_chart(builds: &[BuildOutcome], now: i64) -> String {
    let points: Vec<(f64, f64)> = builds
        .iter()
        .filter_map(|b| b.coverage.map(|c| (days_ago(b.started_at, now), c)))
        .collect();
    let span = points.first().map_or(1.0, |p| (-p.0).max(1.0));
    let low = points.iter().map(|p| p.1).fold(100.0f64, f64::min);
    let high = points.iter().map(|p| p.1).fold(0.0f64, f64::max);
    let (low, high) = ((low - 2.0).max(0.0), (high + 2.0).min(100.0).max(low + 1.0));
    draw(|root| {
        let mut chart = ChartBuilder::on(&root)
            .margin(12)
            .x_label_area_size(28)
            .y_label_area_size(52)
            .build_cartesian_2d(-span..0.0, low..high)?;
        chart
            .configure_mesh()
            .light_line_style(GRID.mix(0.15))
            .bold_line_style(GRID.mix(0.3))
            .axis_style(GRID)
            .label_style(label_style())
            .x_labels(7)
            .y_labels(5)
            .x_label_formatter(&|d| {
                if *d > -0.5 {
                    "now".into()
                } else {
                    format!("{:.0}d ago", -d)
                }
            })
            .y_label_formatter(&|v| format!("{v:.0}%"))
            .draw()?;
        chart.draw_series(LineSeries::new(
            points.iter().copied(),
            LINE.stroke_width(2),
        ))?;
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
            BuildStatus::Success => ("#3fb950", 10),
            BuildStatus::Failure => ("#e5534b", 16),
            _ => ("#8b98a8", 6),
        };
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
        let builds = outcomes(&builds);
        let svg = duration_chart(&builds, 40 * 3_600_000);
        assert!(svg.contains("<svg") && svg.contains("p95") && svg.contains("<polyline"));
        assert!(coverage_chart(&builds, 40 * 3_600_000).contains("<polyline"));
        let strip = outcome_strip(&[BuildStatus::Success, BuildStatus::Failure]);
        assert!(strip.contains("#e5534b") && strip.contains("#3fb950"));
        assert!(
            !duration_chart(&[], 0).is_empty(),
            "an empty history still draws its axes"
        );
    }
}
