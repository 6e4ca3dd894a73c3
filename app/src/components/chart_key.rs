//! A chart's key in the page's own type, above the chart: drawn inside by plotters it covered
//! the newest data (the top-left corner where lines end up after a rise) and shrank with the
//! chart to unreadable on a phone.

use crate::charts::css_hex;
use leptos::prelude::*;
use plotters::style::RGBColor;

/// How a series is drawn, in the chart's colour for it.
#[derive(Clone, Copy)]
pub enum Mark {
    Dot(RGBColor),
    Cross(RGBColor),
    Line(RGBColor),
}

#[component]
pub fn ChartKey(entries: Vec<(Mark, &'static str)>) -> impl IntoView {
    view! {
        <p class="chart-key" data-testid="chart-key">
            {entries.into_iter().map(|(mark, label)| {
                let mark = match mark {
                    Mark::Dot(c) => view! { <i class="key-dot" style=format!("background:{}", css_hex(c))></i> }.into_any(),
                    Mark::Cross(c) => view! { <i class="key-cross" style=format!("color:{}", css_hex(c))>"✕"</i> }.into_any(),
                    Mark::Line(c) => view! { <i class="key-line" style=format!("background:{}", css_hex(c))></i> }.into_any(),
                };
                view! { <span><span aria-hidden="true">{mark}</span>{label}</span> }
            }).collect_view()}
        </p>
    }
}
