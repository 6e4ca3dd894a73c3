//! The signed-in frame: top bar (brand, live indicator, theme, user), section navigation, content.
//! Signed-out visitors are sent to the sign-in page (by the server's page guard before any HTML,
//! and by the redirect here in the client-side build).
//!
//! The frame is rendered on the server only; its interactive parts (live indicator, theme toggle,
//! sign-out) are islands, so the browser loads code for them and for the page's own island only.

use super::common::RoleBadge;
use super::nav::Nav;
use crate::api::SignOut;
use crate::live::{LinkState, Live};
use crate::model::{Me, Role};
use crate::theme;
use leptos::prelude::*;
use leptos_router::components::{Outlet, Redirect};

/// Who is signed in, known before anything renders: the server reads it from the session, the
/// client-side build fetches it before mounting.
#[derive(Clone, Debug, PartialEq)]
pub struct Viewer(pub Option<Me>);

/// The viewer's role, what pages check to hide what the role cannot do. Islands see no context
/// from outside them, so a page island takes the role as a prop and provides it again inside.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct ViewerRole(pub Option<Role>);

/// What the maintenance banner on every page says, when maintenance is on (the server provides
/// it with each page it renders).
#[derive(Debug, Clone, Default)]
pub struct MaintenanceNotice(pub Option<String>);

/// Whether the server's database stopped answering (the server provides it with each page).
#[derive(Debug, Clone, Copy, Default)]
pub struct DatabaseDown(pub bool);

/// Provides who is signed in, for the frame and for the pages.
pub fn provide_viewer(me: Option<Me>) {
    provide_context(ViewerRole(me.as_ref().map(|me| me.role)));
    provide_context(Viewer(me));
}

/// Provides the viewer's role inside a page island, from the prop the page passed it.
pub fn provide_role(role: Option<Role>) {
    provide_context(ViewerRole(role));
}

/// The viewer's role, if someone is signed in.
pub fn viewer_role() -> Option<Role> {
    use_context::<ViewerRole>().and_then(|v| v.0)
}

pub fn use_role_at_least(role: Role) -> Signal<bool> {
    Signal::stored(viewer_role().is_some_and(|r| r.allows(role)))
}

#[component]
pub fn AppLayout() -> impl IntoView {
    let me = use_context::<Viewer>().and_then(|v| v.0);
    let maintenance = use_context::<MaintenanceNotice>().and_then(|m| m.0);
    let database_down = use_context::<DatabaseDown>().is_some_and(|d| d.0);
    view! {
        <div class="app">
            <a class="skip-link" href="#main">"Skip to content"</a>
            <header class="topbar">
                <a class="brand" href="/">
                    <img src="/icons/icon-192.png" alt="" width="28" height="28"/>
                    <span>"Flightdeck"</span>
                </a>
                <div class="topbar-end">
                    <LiveIndicator/>
                    <ThemeToggle/>
                    {match me {
                        Some(me) => view! {
                            <div class="user">
                                <span class="user-name">{me.username}</span>
                                <RoleBadge role=me.role/>
                                <SignOutButton/>
                            </div>
                        }.into_any(),
                        None => view! { <Redirect path="/signin"/> }.into_any(),
                    }}
                </div>
            </header>
            <Nav/>
            <main id="main" class="content" tabindex="-1">
                {database_down.then(|| view! {
                    <p class="outage-banner" role="alert" data-testid="database-banner">
                        "Flightdeck cannot reach its database. What this page shows may be missing or out of date, and changes are refused until it is back; it reconnects by itself. Reload in a moment."
                    </p>
                })}
                {maintenance.map(|text| view! {
                    <p class="maintenance-banner" role="status" data-testid="maintenance-banner">{text}</p>
                })}
                <Outlet/>
            </main>
        </div>
    }
}

#[island]
fn LiveIndicator() -> impl IntoView {
    let live = Live::shared();
    let text = move || match live.state.get() {
        LinkState::Connecting => "Connecting…".to_string(),
        LinkState::Live => "Live".to_string(),
        LinkState::Offline { retry_in_s } => format!("Offline · retry in {retry_in_s} s"),
        LinkState::SignedOut => "Signed out, not updating".to_string(),
    };
    let class = move || match live.state.get() {
        LinkState::Connecting => "live connecting",
        LinkState::Live => "live on",
        LinkState::Offline { .. } | LinkState::SignedOut => "live off",
    };
    // Loading the page again goes through sign-in and back here (see `ErrorNote`). Shown on a
    // phone too, where the indicator is otherwise only its dot.
    let sign_in = move || {
        (live.state.get() == LinkState::SignedOut)
            .then(|| view! { <a href="" class="live-sign-in">"Sign in"</a> })
    };
    view! {
        <span class=class role="status" aria-live="polite" data-testid="live-indicator">
            <span class="dot" aria-hidden="true"></span>
            <span class="live-text">{text}</span>
            {sign_in}
        </span>
    }
}

#[island]
fn ThemeToggle() -> impl IntoView {
    let current = RwSignal::new(theme::from_request());
    let label = move || match current.get() {
        theme::Theme::Dark => "Light theme",
        theme::Theme::Light => "Dark theme",
    };
    view! {
        <button
            class="btn btn-ghost"
            type="button"
            on:click=move |_| {
                let next = current.get_untracked().other();
                theme::apply(next);
                current.set(next);
            }
        >
            {label}
        </button>
    }
}

/// Signs out, then loads the sign-in page.
///
/// A plain form, not `ActionForm`: that one reads the form's fields into the server function's
/// arguments through serde_qs, code every page's bundle carried (this button is on every page)
/// for a function that takes none. Before the bundle loads, the form posts to the server
/// function like any form, and the server sends the browser back.
#[island]
fn SignOutButton() -> impl IntoView {
    use leptos::server_fn::ServerFn;
    let sign_out = ServerAction::<SignOut>::new();
    Effect::new(move |_| {
        if let Some(Ok(())) = sign_out.value().get() {
            if let Some(w) = web_sys::window() {
                let _ = w.location().set_href("/signin");
            }
        }
    });
    view! {
        <form
            action=SignOut::url()
            method="post"
            on:submit=move |ev| {
                ev.prevent_default();
                sign_out.dispatch(SignOut {});
            }
        >
            <button class="btn btn-ghost" type="submit">"Sign out"</button>
        </form>
    }
}
