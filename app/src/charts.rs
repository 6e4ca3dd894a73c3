//! What every chart of the app shares: the palette (mid-tones that read on both themes, on a
//! transparent background), the label style, and drawing into an SVG string with plotters, the
//! same on the server (first render) and in the browser (live updates).

use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

pub const INK: RGBColor = RGBColor(139, 152, 168);
pub const GRID: RGBColor = RGBColor(90, 102, 118);
pub const LINE: RGBColor = RGBColor(77, 163, 255);
pub const BAD: RGBColor = RGBColor(229, 83, 75);
pub const WARN: RGBColor = RGBColor(210, 153, 34);
pub const OK: RGBColor = RGBColor(63, 185, 80);
/// Deploy markers: violet, apart from the data lines and the status colours.
pub const DEPLOY: RGBColor = RGBColor(163, 113, 247);

/// A palette colour as CSS writes it, for what is drawn outside plotters in the same colours.
pub fn css_hex(RGBColor(r, g, b): RGBColor) -> String {
    format!("#{r:02x}{g:02x}{b:02x}")
}

/// The drawing area a chart function draws on.
pub type Area<'a> = DrawingArea<SVGBackend<'a>, plotters::coord::Shift>;

/// Draws a `width` × `height` chart into an SVG string; a drawing error (none is expected)
/// yields an empty chart rather than a broken page.
pub fn svg(
    width: u32,
    height: u32,
    draw: impl FnOnce(Area<'_>) -> Result<(), Box<dyn std::error::Error + '_>>,
) -> String {
    let mut out = String::new();
    {
        let root = SVGBackend::with_string(&mut out, (width, height)).into_drawing_area();
        if draw(root).is_err() {
            return String::new();
        }
    }
    out
}

pub fn label_style() -> TextStyle<'static> {
    // plotters draws text at size / 1.24: 15 comes out at 12 px.
    ("sans-serif", 15).into_font().color(&INK)
}

/// A chart whose x axis is a [`TimeAxis`] and whose y axis is a number.
pub type TimeChart<'a, 'b> = ChartContext<
    'a,
    SVGBackend<'b>,
    Cartesian2d<plotters::coord::types::RangedCoordf64, plotters::coord::types::RangedCoordf64>,
>;

/// How a time chart labels its values: the labels' width in pixels, about how many, and the
/// words of one ("12 min", "99%").
pub struct ValueAxis<'f> {
    pub width: u32,
    pub labels: usize,
    pub label: &'f dyn Fn(&f64) -> String,
}

/// The frame every time chart of the app has, so they read alike side by side: the grid, the
/// axes and their labels over `axis` and the values `y`, drawn on `root` for the series to go
/// on.
pub fn time_chart<'a, 'b>(
    root: &'a Area<'b>,
    axis: &TimeAxis,
    y: std::ops::Range<f64>,
    values: ValueAxis<'_>,
) -> Result<TimeChart<'a, 'b>, DrawingAreaErrorKind<std::io::Error>> {
    let mut chart = ChartBuilder::on(root)
        .margin(12)
        .x_label_area_size(28)
        .y_label_area_size(values.width)
        .build_cartesian_2d(axis.range(), y)?;
    chart
        .configure_mesh()
        .light_line_style(GRID.mix(0.15))
        .bold_line_style(GRID.mix(0.3))
        .axis_style(GRID)
        .label_style(label_style())
        .x_labels(7)
        .y_labels(values.labels)
        .x_label_formatter(&|x| axis.label(*x))
        .y_label_formatter(values.label)
        .draw()?;
    Ok(chart)
}

/// A time axis that ends now and reaches `span` back, counted in the unit whose round numbers
/// make readable labels: seconds up to three minutes, minutes up to three hours, hours up to two
/// days, days beyond. plotters
/// puts labels at round values of the axis's own unit, so a day's axis counted in days read
/// "1d ago" three times (at 0.2-day steps); counted in hours it reads 20h, 15h, 10h ago.
#[derive(Debug, Clone, Copy)]
pub struct TimeAxis {
    now: i64,
    unit_ms: f64,
    unit: &'static str,
    /// How far back the axis reaches, in its unit.
    span: f64,
}

impl TimeAxis {
    /// An axis ending at `now` (Unix ms) reaching `span_ms` back.
    pub fn new(now: i64, span_ms: f64) -> TimeAxis {
        const HOUR: f64 = 3_600_000.0;
        let (unit_ms, unit) = if span_ms <= 180_000.0 {
            (1_000.0, "s")
        } else if span_ms <= 3.0 * HOUR {
            (60_000.0, "m")
        } else if span_ms <= 48.0 * HOUR {
            (HOUR, "h")
        } else {
            (24.0 * HOUR, "d")
        };
        TimeAxis {
            now,
            unit_ms,
            unit,
            span: (span_ms / unit_ms).max(f64::EPSILON),
        }
    }

    /// The axis's range, for `build_cartesian_2d`.
    pub fn range(&self) -> std::ops::Range<f64> {
        -self.span..0.0
    }

    /// Where `at` (Unix ms) falls on the axis, kept inside it.
    pub fn x(&self, at: i64) -> f64 {
        ((at - self.now) as f64 / self.unit_ms).clamp(-self.span, 0.0)
    }

    /// The label at `x`: "now", "15h ago"; a value between whole ones keeps its tenth, so two
    /// labels never read the same.
    pub fn label(&self, x: f64) -> String {
        let back = ((-x) * 10.0).round() / 10.0;
        if back <= 0.0 {
            "now".into()
        } else if back.fract() == 0.0 {
            format!("{back:.0}{} ago", self.unit)
        } else {
            format!("{back:.1}{} ago", self.unit)
        }
    }
}

/// A deployment drawn on a time chart: when it finished, what went out, and whether it ended
/// well. The server sends them with the series they belong on.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct DeployMarker {
    pub at: i64,
    pub version: String,
    pub environment: String,
    /// `deploy`, `rollback` or `promote`.
    pub kind: String,
    pub succeeded: bool,
}

impl DeployMarker {
    /// "2.8.0 to production (rollback, failed)": for a chart's text alternative and tooltips.
    pub fn describe(&self) -> String {
        let mut notes = Vec::new();
        if self.kind != "deploy" {
            notes.push(self.kind.as_str());
        }
        if !self.succeeded {
            notes.push("failed");
        }
        let notes = if notes.is_empty() {
            String::new()
        } else {
            format!(" ({})", notes.join(", "))
        };
        format!("{} to {}{notes}", self.version, self.environment)
    }
}

/// Draws `markers` as vertical lines over `chart`'s full height at `x(at)`, dashed when the
/// deployment failed, each with its version at the top while there are few enough to read.
pub fn draw_deploys<X, Y>(
    chart: &mut ChartContext<'_, SVGBackend<'_>, Cartesian2d<X, Y>>,
    markers: &[DeployMarker],
    x: impl Fn(i64) -> f64,
    (bottom, top): (f64, f64),
) -> Result<(), DrawingAreaErrorKind<std::io::Error>>
where
    X: Ranged<ValueType = f64>,
    Y: Ranged<ValueType = f64>,
{
    for marker in markers {
        let at = x(marker.at);
        if marker.succeeded {
            chart.draw_series(LineSeries::new(
                [(at, bottom), (at, top)],
                DEPLOY.mix(0.85).stroke_width(1),
            ))?;
        } else {
            let steps = 12;
            let step = (top - bottom) / (2 * steps) as f64;
            chart.draw_series((0..steps).map(|i| {
                let from = bottom + step * (2 * i) as f64;
                PathElement::new([(at, from), (at, from + step)], BAD.stroke_width(1))
            }))?;
        }
    }
    if markers.len() <= 6 {
        // A label in the right half ends at its line, so one at "now" is not cut off.
        let range = chart.x_range();
        let middle = (range.start + range.end) / 2.0;
        chart.draw_series(markers.iter().map(|m| {
            let at = x(m.at);
            let side = if at > middle { HPos::Right } else { HPos::Left };
            Text::new(
                m.version.clone(),
                (at, top),
                label_style().color(&DEPLOY).pos(Pos::new(side, VPos::Top)),
            )
        }))?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::TimeAxis;
    use plotters::prelude::*;

    /// The x-axis labels plotters draws for `axis`, left to right.
    fn labels(axis: TimeAxis) -> Vec<String> {
        let svg = super::svg(640, 200, |root| {
            let mut chart = ChartBuilder::on(&root)
                .x_label_area_size(28)
                .build_cartesian_2d(axis.range(), 0.0..1.0)?;
            chart
                .configure_mesh()
                .x_labels(7)
                .x_label_formatter(&|x| axis.label(*x))
                .draw()?;
            Ok(())
        });
        svg.lines()
            .filter(|l| l.ends_with(" ago") || *l == "now")
            .map(String::from)
            .collect()
    }

    #[test]
    fn a_time_axis_counts_in_the_unit_that_reads_roundly() {
        const HOUR: f64 = 3_600_000.0;
        let now = 1_796_083_200_000;
        assert_eq!(
            labels(TimeAxis::new(now, 24.0 * HOUR)),
            ["20h ago", "15h ago", "10h ago", "5h ago", "now"]
        );
        let month = labels(TimeAxis::new(now, 30.0 * 24.0 * HOUR));
        assert_eq!(month.first().map(String::as_str), Some("30d ago"));
        let hour = labels(TimeAxis::new(now, HOUR));
        assert!(
            hour.iter().all(|l| l == "now" || l.ends_with("m ago")),
            "{hour:?}"
        );
        // A new component's first minute of checks: seconds, not "0.8m ago".
        let minute = labels(TimeAxis::new(now, 60_000.0));
        assert!(
            minute
                .iter()
                .all(|l| l == "now" || (l.ends_with("s ago") && !l.contains('.'))),
            "{minute:?}"
        );
        // Whatever the span, no label twice and the last one "now".
        for hours in [
            0.01, 0.03, 0.05, 0.2, 1.0, 2.5, 3.0, 5.0, 13.0, 24.0, 36.0, 48.0, 60.0, 100.0, 170.0,
            8760.0,
        ] {
            let all = labels(TimeAxis::new(now, hours * HOUR));
            let mut distinct = all.clone();
            distinct.dedup();
            assert!(all.len() >= 3 && distinct == all, "{hours} h: {all:?}");
            assert_eq!(all.last().map(String::as_str), Some("now"), "{hours} h");
        }
        let axis = TimeAxis::new(now, 24.0 * HOUR);
        assert_eq!(axis.x(now - 6 * 3_600_000), -6.0);
        assert_eq!(axis.x(now - 48 * 3_600_000), -24.0, "kept inside the axis");
        assert_eq!(axis.label(-2.5), "2.5h ago");
    }

    #[test]
    fn palette_colours_read_as_css_hex() {
        assert_eq!(super::css_hex(super::BAD), "#e5534b");
        assert_eq!(super::css_hex(super::OK), "#3fb950");
    }
}
