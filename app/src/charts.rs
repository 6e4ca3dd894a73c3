//! What every chart of the app shares: the palette (mid-tones that read on both themes, on a
//! transparent background), the label style, and drawing into an SVG string with plotters, the
//! same on the server (first render) and in the browser (live updates).

use plotters::prelude::*;

pub const INK: RGBColor = RGBColor(139, 152, 168);
pub const GRID: RGBColor = RGBColor(90, 102, 118);
pub const LINE: RGBColor = RGBColor(77, 163, 255);
pub const BAD: RGBColor = RGBColor(229, 83, 75);
pub const WARN: RGBColor = RGBColor(210, 153, 34);
pub const OK: RGBColor = RGBColor(63, 185, 80);

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
