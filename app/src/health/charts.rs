//! The charts of the health pages, drawn with plotters as SVG text by the same functions on the
//! server (first render) and in the browser (live updates). Colors are mid-tones that read on both
//! themes; the background stays transparent. Every chart also has a text alternative in the page.

use super::component::ProbeResult;
use super::objective::BudgetPoint;
use super::slo::{WindowBurn, RULES};
use plotters::prelude::*;

use crate::charts::{
    draw_deploys, label_style, time_chart, DeployMarker, TimeAxis, ValueAxis, BAD, GRID, LINE, OK,
    WARN,
};

const WIDTH: u32 = 640;
const HEIGHT: u32 = 240;

fn svg(
    draw: impl FnOnce(crate::charts::Area<'_>) -> Result<(), Box<dyn std::error::Error + '_>>,
) -> String {
    crate::charts::svg(WIDTH, HEIGHT, draw)
}

/// Error budget left (percent) over the SLO window; `now` is the right edge. Deployments of the
/// service are vertical lines, so a drop that starts at a deploy shows as one.
pub fn budget_chart(
    points: &[BudgetPoint],
    window_days: u32,
    now: i64,
    deploys: &[DeployMarker],
) -> String {
    let axis = TimeAxis::new(now, f64::from(window_days) * 86_400_000.0);
    let to_x = |at: i64| axis.x(at);
    let low = points
        .iter()
        .map(|p| p.remaining * 100.0)
        .fold(0.0f64, f64::min)
        .max(-200.0);
    svg(|root| {
        let mut chart = time_chart(
            &root,
            &axis,
            (low - 5.0)..105.0,
            ValueAxis {
                width: 48,
                labels: 6,
                label: &|v| format!("{v:.0}%"),
            },
        )?;
        chart.draw_series(LineSeries::new(
            [(axis.range().start, 0.0), (0.0, 0.0)],
            BAD.stroke_width(1),
        ))?;
        draw_deploys(&mut chart, deploys, to_x, (low - 5.0, 105.0))?;
        // The hour under way is dated at its end; it is the budget now. A dot marks the latest
        // point, which is all a new SLO has.
        let at = |p: &BudgetPoint| (to_x(p.at.min(now)), (p.remaining * 100.0).max(low));
        chart.draw_series(LineSeries::new(points.iter().map(at), LINE.stroke_width(2)))?;
        if let Some(last) = points.last() {
            chart.draw_series(std::iter::once(Circle::new(at(last), 3, LINE.filled())))?;
        }
        root.present()?;
        Ok(())
    })
}

/// Burn rate of each window as a bar (clipped at the top, with its value written), and the
/// thresholds of the multiwindow rules as lines.
pub fn burn_chart(burns: &[WindowBurn]) -> String {
    let highest = burns
        .iter()
        .filter_map(|b| b.burn_rate)
        .fold(0.0f64, f64::max);
    let top = (highest * 1.15).clamp(16.0, 60.0);
    let count = burns.len().max(1) as f64;
    svg(|root| {
        let mut chart = ChartBuilder::on(&root)
            .margin(12)
            .x_label_area_size(28)
            .y_label_area_size(48)
            .build_cartesian_2d(-0.5..(count - 0.5), 0.0..top)?;
        chart
            .configure_mesh()
            .disable_x_mesh()
            .light_line_style(GRID.mix(0.12))
            .bold_line_style(GRID.mix(0.25))
            .axis_style(GRID)
            .label_style(label_style())
            .x_labels(burns.len())
            .x_label_formatter(&|x| {
                let i = x.round();
                if (x - i).abs() < 0.01 && i >= 0.0 {
                    burns
                        .get(i as usize)
                        .map(|b| b.window.as_str().to_string())
                        .unwrap_or_default()
                } else {
                    String::new()
                }
            })
            .y_label_formatter(&|v| format!("{v:.0}x"))
            .draw()?;
        for (i, burn) in burns.iter().enumerate() {
            let Some(rate) = burn.burn_rate else { continue };
            let x = i as f64;
            let color = if rate > 14.4 {
                BAD
            } else if rate > 1.0 {
                WARN
            } else {
                OK
            };
            // A window that burns nothing still gets a sliver and its value, so "0x" reads as
            // measured and good rather than missing.
            let height = rate.min(top).max(top * 0.012);
            chart.draw_series(std::iter::once(Rectangle::new(
                [(x - 0.32, 0.0), (x + 0.32, height)],
                color.mix(0.8).filled(),
            )))?;
            if rate < 0.05 {
                chart.draw_series(std::iter::once(Text::new(
                    "0x".to_string(),
                    (x - 0.08, top * 0.05),
                    label_style(),
                )))?;
            }
            if rate > top {
                chart.draw_series(std::iter::once(Text::new(
                    format!("{rate:.0}x"),
                    (x - 0.3, top * 0.93),
                    label_style(),
                )))?;
            }
        }
        for rule in RULES.iter().filter(|r| r.factor < top) {
            let color = if rule.factor > 5.0 { BAD } else { WARN };
            chart.draw_series(LineSeries::new(
                [(-0.5, rule.factor), (count - 0.5, rule.factor)],
                color.mix(0.7).stroke_width(1),
            ))?;
            chart.draw_series(std::iter::once(Text::new(
                format!("{}x", rule.factor),
                (count - 0.95, rule.factor + top * 0.015),
                ("sans-serif", 14).into_font().color(&color),
            )))?;
        }
        root.present()?;
        Ok(())
    })
}

/// Probe latency over the last checks (newest first in `results`). A failed check has no
/// latency: it is drawn as a red band across the whole height with a cross at the top, and the
/// latency line breaks there, so a failure never reads as a fast check at 0 ms. The degraded
/// threshold is a labelled line, and deployments of the component's service are vertical lines.
pub fn latency_chart(
    results: &[ProbeResult],
    threshold_ms: Option<u32>,
    now: i64,
    deploys: &[DeployMarker],
) -> String {
    let oldest = results
        .iter()
        .map(|r| r.at)
        .min()
        .unwrap_or(now - 3_600_000);
    // At least a minute back; counted in minutes, hours or days by how far it reaches.
    let span_ms = ((now - oldest) as f64).max(60_000.0);
    let axis = TimeAxis::new(now, span_ms);
    let span = -axis.range().start;
    let slowest = results
        .iter()
        .filter_map(|r| r.latency_ms)
        .max()
        .unwrap_or(0)
        .max(threshold_ms.unwrap_or(0));
    let top = (slowest as f64 * 1.2).max(50.0);
    let x = |at: i64| axis.x(at);
    let mut oldest_first: Vec<&ProbeResult> = results.iter().collect();
    oldest_first.sort_by_key(|r| r.at);
    // Runs of passed checks between failures: each is drawn as its own line.
    let mut runs: Vec<Vec<(f64, f64)>> = vec![Vec::new()];
    for r in &oldest_first {
        match (r.ok, r.latency_ms) {
            (true, Some(l)) => runs.last_mut().unwrap().push((x(r.at), l as f64)),
            (false, _) if !runs.last().unwrap().is_empty() => runs.push(Vec::new()),
            _ => {}
        }
    }
    // A failed check is a band a 120th of the chart wide, and 2.4 s at least.
    let band = (span / 240.0).max(-axis.x(now - 1_200));
    svg(|root| {
        let mut chart = time_chart(
            &root,
            &axis,
            0.0..top,
            ValueAxis {
                width: 56,
                labels: 5,
                label: &|v| format!("{v:.0} ms"),
            },
        )?;
        let shown: Vec<DeployMarker> = deploys
            .iter()
            .filter(|d| d.at as f64 >= now as f64 - span_ms && d.at <= now)
            .cloned()
            .collect();
        draw_deploys(&mut chart, &shown, x, (0.0, top))?;
        let failed: Vec<f64> = oldest_first
            .iter()
            .filter(|r| !r.ok)
            .map(|r| x(r.at))
            .collect();
        chart.draw_series(failed.iter().map(|&at| {
            Rectangle::new([(at - band, 0.0), (at + band, top)], BAD.mix(0.22).filled())
        }))?;
        chart.draw_series(
            failed
                .iter()
                .map(|&at| Cross::new((at, top * 0.94), 4, BAD.stroke_width(2))),
        )?;
        if let Some(limit) = threshold_ms {
            chart.draw_series(LineSeries::new(
                [(-span, limit as f64), (0.0, limit as f64)],
                WARN.mix(0.8).stroke_width(1),
            ))?;
            chart.draw_series(std::iter::once(Text::new(
                format!("threshold {limit} ms"),
                (-span + span * 0.01, limit as f64 + top * 0.03),
                label_style().color(&WARN),
            )))?;
        }
        for run in runs.into_iter().filter(|r| !r.is_empty()) {
            if run.len() == 1 {
                chart.draw_series(std::iter::once(Circle::new(run[0], 3, LINE.filled())))?;
            } else {
                chart.draw_series(LineSeries::new(run, LINE.stroke_width(2)))?;
            }
        }
        root.present()?;
        Ok(())
    })
}

#[cfg(test)]
mod tests {
    use super::super::slo::BurnWindow;
    use super::*;

    #[test]
    fn charts_are_svg_with_their_data() {
        let now = 1_000_000_000_000;
        let budget = budget_chart(
            &[
                BudgetPoint {
                    at: now - 86_400_000,
                    remaining: 0.9,
                },
                BudgetPoint {
                    at: now,
                    remaining: 0.5,
                },
            ],
            30,
            now,
            &[],
        );
        assert!(budget.starts_with("<svg"), "{budget}");
        assert!(budget.contains("polyline"));
        assert!(budget.contains("30d ago"));
        let burns: Vec<WindowBurn> = BurnWindow::ALL
            .iter()
            .map(|&window| WindowBurn {
                window,
                good: 90.0,
                total: 100.0,
                burn_rate: Some(if window == BurnWindow::M5 { 100.0 } else { 2.0 }),
            })
            .collect();
        let burn = burn_chart(&burns);
        assert!(burn.contains("14.4x"), "thresholds drawn");
        assert!(
            burn.contains(">\n5m\n<") && burn.contains(">\n3d\n<"),
            "windows named"
        );
        assert!(burn.contains(">\n100x\n<"), "a clipped bar says its value");
        let results = [
            ProbeResult {
                at: now - 60_000,
                ok: true,
                latency_ms: Some(120),
                detail: "HTTP 200".into(),
            },
            ProbeResult {
                at: now,
                ok: false,
                latency_ms: None,
                detail: "refused".into(),
            },
        ];
        let latency = latency_chart(&results, Some(300), now, &[]);
        assert!(latency.contains("threshold 300 ms"), "threshold labelled");
        // The failure is a red band over the whole plot height (12 to 199 px), not a point
        // at 0 ms; the passed check is the only point, in the line's color.
        assert!(
            latency.contains(r##"y="12" width="13" height="187" opacity="0.22" fill="#E5534B""##),
            "failed checks marked: {latency}"
        );
        assert_eq!(latency.matches("<circle").count(), 1, "{latency}");
        assert!(latency.contains(r##"<circle cx="68" cy="137" r="3" opacity="1" fill="#4DA3FF""##));
        // Same input, same picture: the server's render and the browser's agree.
        assert_eq!(latency, latency_chart(&results, Some(300), now, &[]));
        // Ten hours of checks (every five minutes) read in hours, not as "600 min".
        let day: Vec<ProbeResult> = (0..120)
            .map(|i| ProbeResult {
                at: now - i * 300_000,
                ok: true,
                latency_ms: Some(100),
                detail: "HTTP 200".into(),
            })
            .collect();
        let hours = latency_chart(&day, None, now, &[]);
        assert!(
            hours.contains(">\n4h ago\n<") && hours.contains(">\nnow\n<"),
            "{hours}"
        );
    }

    #[test]
    fn deploys_are_lines_with_their_version_and_failed_ones_are_dashed() {
        let now = 1_000_000_000_000;
        let marker = |minutes_ago: i64, version: &str, succeeded: bool| DeployMarker {
            at: now - minutes_ago * 60_000,
            version: version.into(),
            environment: "production".into(),
            kind: "deploy".into(),
            succeeded,
        };
        let results = [ProbeResult {
            at: now - 30 * 60_000,
            ok: true,
            latency_ms: Some(80),
            detail: "HTTP 200".into(),
        }];
        let plain = latency_chart(&results, None, now, &[]);
        let marked = latency_chart(
            &results,
            None,
            now,
            &[
                marker(20, "2.7.3", true),
                marker(10, "2.8.0", false),
                marker(90, "1.0.0", true),
            ],
        );
        assert!(!plain.contains("#A371F7"), "no deploys, no violet");
        assert!(
            marked.contains(">\n2.7.3\n<") && marked.contains(">\n2.8.0\n<"),
            "{marked}"
        );
        assert!(
            !marked.contains("1.0.0"),
            "a deploy before the chart's span is left out"
        );
        assert_eq!(
            marked.matches(r##"stroke="#E5534B""##).count(),
            12,
            "the failed deploy is twelve dashes"
        );
        let budget = budget_chart(
            &[BudgetPoint {
                at: now - 86_400_000,
                remaining: 1.0,
            }],
            30,
            now,
            &[marker(60, "2.7.3", true)],
        );
        assert!(budget.contains("#A371F7") && budget.contains(">\n2.7.3\n<"));
    }

    #[test]
    fn a_new_slos_one_point_shows_now() {
        let now = 1_000_000_000_000;
        let point = |at| {
            budget_chart(
                &[BudgetPoint {
                    at,
                    remaining: -999.0,
                }],
                30,
                now,
                &[],
            )
        };
        // The hour under way is dated at its end, 40 minutes ahead: drawn at now, as a dot.
        let chart = point(now + 40 * 60_000);
        assert!(chart.contains("<circle"), "{chart}");
        assert_eq!(chart, point(now));
    }
}
