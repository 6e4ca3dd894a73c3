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

/// The x-axis label of a time chart whose axis reaches `span` days back, at `days` (≤ 0) from
/// now: minutes on an axis of three hours or less, hours on one of two days or less, days
/// beyond. plotters puts labels at round fractions of the span, so one unit for every axis
/// would read "1d ago" three times on a day's axis; a label between two whole ones keeps its
/// tenth (2.5 days would round to "2d ago", beside the real one).
pub fn ago_label(days: f64, span: f64) -> String {
    let back = -days;
    let (value, unit) = if span <= 3.0 / 24.0 {
        (back * 1_440.0, "m")
    } else if span <= 2.0 {
        (back * 24.0, "h")
    } else {
        (back, "d")
    };
    if value < 0.05 {
        return "now".into();
    }
    let rounded = (value * 10.0).round() / 10.0;
    if rounded.fract() == 0.0 {
        format!("{rounded:.0}{unit} ago")
    } else {
        format!("{rounded:.1}{unit} ago")
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
pub fn draw_deploys<'a, X, Y>(
    chart: &mut ChartContext<'a, SVGBackend<'a>, Cartesian2d<X, Y>>,
    markers: &[DeployMarker],
    x: impl Fn(i64) -> f64,
    (bottom, top): (f64, f64),
) -> Result<(), Box<dyn std::error::Error + 'a>>
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
    use super::ago_label;

    #[test]
    fn time_axis_labels_say_hours_on_a_short_axis_and_days_on_a_long_one() {
        assert_eq!(ago_label(0.0, 1.0), "now");
        assert_eq!(ago_label(-0.25, 1.0), "6h ago");
        assert_eq!(ago_label(-0.2, 1.0), "4.8h ago");
        assert_eq!(ago_label(-2.0, 2.0), "48h ago");
        assert_eq!(ago_label(0.0, 30.0), "now");
        assert_eq!(ago_label(-30.0, 30.0), "30d ago");
        assert_eq!(ago_label(-2.5, 3.0), "2.5d ago");
        assert_eq!(ago_label(-365.0, 365.0), "365d ago");
        assert_eq!(ago_label(-0.5 / 24.0, 1.0 / 24.0), "30m ago");
        // Whatever steps plotters picks, no two labels of one axis read the same.
        for span in [
            0.01, 0.1, 0.125, 0.3, 1.0, 1.5, 2.0, 2.2, 3.0, 5.0, 7.0, 30.0, 90.0, 365.0,
        ] {
            for labels in [5, 6, 7, 10] {
                let step = span / labels as f64;
                let all: Vec<String> = (0..=labels)
                    .map(|i| ago_label(-step * i as f64, span))
                    .collect();
                let mut distinct = all.clone();
                distinct.dedup();
                assert_eq!(distinct, all, "span {span}, {labels} labels");
            }
        }
    }

    #[test]
    fn palette_colours_read_as_css_hex() {
        assert_eq!(super::css_hex(super::BAD), "#e5534b");
        assert_eq!(super::css_hex(super::OK), "#3fb950");
    }
}
