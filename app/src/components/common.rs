//! Small display components used across pages.

use crate::error::AppError;
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
    view! {
        <div class="note note-error" role="alert">
            <strong>"Could not load this. "</strong>
            <span>{error.message}</span>
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
