//! Small display components used across pages.

use crate::error::{AppError, ErrorCode};
use crate::time_fmt;
use leptos::prelude::*;

/// Current time in Unix milliseconds, on either side.
pub fn now_ms() -> i64 {
    #[cfg(target_arch = "wasm32")]
    {
        js_sys::Date::now() as i64
    }
    #[cfg(not(target_arch = "wasm32"))]
    {
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_millis() as i64)
            .unwrap_or(0)
    }
}

/// "3 min ago", with the exact UTC time on hover and for screen readers.
#[component]
pub fn TimeAgo(ms: i64) -> impl IntoView {
    let iso = time_fmt::iso_utc(ms);
    view! { <time datetime=iso.clone() title=iso>{time_fmt::relative(ms, now_ms())}</time> }
}

/// An error the user can act on, announced to screen readers.
#[component]
pub fn ErrorNote(error: AppError) -> impl IntoView {
    // What kind of trouble, first: a mistyped address is not an outage.
    let lead = match error.code {
        ErrorCode::NotFound => "Not found. ",
        ErrorCode::Forbidden => "Not allowed. ",
        ErrorCode::Unauthorized => "Signed out. ",
        _ => "Could not load this. ",
    };
    // Signed out (the session ended in another tab, or expired): a way back. Loading the same
    // address again signs in and returns here, since the server sends a signed-out page load to
    // `/signin?next=` that address; an empty href is the current address, in an island too.
    let sign_in = (error.code == ErrorCode::Unauthorized)
        .then(|| view! { " " <a href="" data-testid="sign-in-again">"Sign in again"</a> });
    view! {
        <div class="note note-error" role="alert" data-code=error.code.as_str()>
            <strong>{lead}</strong>
            <span>{error.message}</span>
            {sign_in}
        </div>
    }
}

#[component]
pub fn EmptyState(title: &'static str, children: Children) -> impl IntoView {
    view! {
        <div class="empty">
            <p class="empty-title">{title}</p>
            <div class="empty-body">{children()}</div>
        </div>
    }
}

/// Placeholder rows while a table loads, so the layout does not jump.
#[component]
pub fn LoadingRows(#[prop(default = 5)] rows: usize) -> impl IntoView {
    view! {
        <div class="loading" aria-busy="true" aria-label="Loading">
            {(0..rows).map(|_| view! { <div class="skeleton"></div> }).collect_view()}
        </div>
    }
}

#[component]
pub fn RoleBadge(role: crate::model::Role) -> impl IntoView {
    view! { <span class=format!("badge role-{}", role.as_str())>{role.as_str()}</span> }
}

/// The word with its first letter upper-cased (`rollback` → `Rollback`).
pub fn capitalized(word: &str) -> String {
    let mut chars = word.chars();
    chars
        .next()
        .map(|first| first.to_uppercase().chain(chars).collect())
        .unwrap_or_default()
}

/// A row of links shown as tabs, the current one marked for screen readers and the eye: each
/// item is its address, its words, and whether it is the page shown.
pub fn tabs(label: &'static str, items: Vec<(String, &'static str, bool)>) -> impl IntoView {
    view! {
        <nav class="tabs" aria-label=label>
            {items.into_iter().map(|(href, text, current)| view! {
                <a href=href aria-current=current.then_some("page")>{text}</a>
            }).collect_view()}
        </nav>
    }
}

/// The query parameter `key` when it is one of `ranges` (a page's period choices), else
/// `default`.
pub fn range_from_query(
    key: &'static str,
    ranges: &'static [(u32, &'static str)],
    default: u32,
) -> impl Fn() -> u32 + Copy {
    let query = crate::href::use_query();
    move || {
        query
            .read()
            .get(key)
            .and_then(|v| v.parse().ok())
            .filter(|v| ranges.iter().any(|(r, _)| r == v))
            .unwrap_or(default)
    }
}

/// Whether the window is phone-sized (narrower than the tablet layout). Always false on the
/// server, which cannot know: read it after hydration.
pub fn narrow_window() -> bool {
    web_sys::window()
        .and_then(|w| w.inner_width().ok())
        .and_then(|w| w.as_f64())
        .is_some_and(|w| w < 768.0)
}
