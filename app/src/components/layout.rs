//! The signed-in frame: top bar (brand, live indicator, theme, user), section navigation, content.
//! Signed-out visitors are sent to the sign-in page (by the server before any HTML, and here for
//! navigations inside the app after a session expired).

use super::common::RoleBadge;
use super::nav::Nav;
use crate::api::codec::{resource, Loaded};
use crate::api::{current_user, SignOut};
use crate::error::AppError;
use crate::live::{LinkState, Live};
use crate::model::{Me, Role};
use crate::theme;
use leptos::prelude::*;
use leptos_router::components::{Outlet, Redirect};

/// The caller as the layout loaded it; pages read it to hide what the role cannot do.
#[derive(Clone, Copy)]
pub struct CurrentUser(pub Loaded<Result<Option<Me>, AppError>>);

impl CurrentUser {
    pub fn role(&self) -> Option<Role> {
        self.0
            .get()
            .and_then(|r| r.ok())
            .flatten()
            .map(|me| me.role)
    }
}

pub fn use_role_at_least(role: Role) -> Signal<bool> {
    let user = use_context::<CurrentUser>();
    Signal::derive(move || user.and_then(|u| u.role()).is_some_and(|r| r.allows(role)))
}

#[component]
pub fn AppLayout() -> impl IntoView {
    let me = resource(|| (), |_| current_user());
    provide_context(CurrentUser(me));
    Live::provide();

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
                    <Transition fallback=|| ()>
                        {move || me.get().map(|result| match result {
                            Ok(Some(me)) => view! { <UserMenu me/> }.into_any(),
                            Ok(None) => view! { <Redirect path="/signin"/> }.into_any(),
                            Err(_) => view! { <span class="muted">"Account unavailable"</span> }.into_any(),
                        })}
                    </Transition>
                </div>
            </header>
            <Nav/>
            <main id="main" class="content" tabindex="-1">
                <Outlet/>
            </main>
        </div>
    }
}

#[component]
fn LiveIndicator() -> impl IntoView {
    let live = expect_context::<Live>();
    let text = move || match live.state.get() {
        LinkState::Connecting => "Connecting…".to_string(),
        LinkState::Live => "Live".to_string(),
        LinkState::Offline { retry_in_s } => format!("Offline · retry in {retry_in_s} s"),
    };
    let class = move || match live.state.get() {
        LinkState::Connecting => "live connecting",
        LinkState::Live => "live on",
        LinkState::Offline { .. } => "live off",
    };
    view! {
        <span class=class role="status" aria-live="polite" data-testid="live-indicator">
            <span class="dot" aria-hidden="true"></span>
            <span class="live-text">{text}</span>
        </span>
    }
}

#[component]
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

#[component]
fn UserMenu(me: Me) -> impl IntoView {
    let sign_out = ServerAction::<SignOut>::new();
    Effect::new(move |_| {
        if let Some(Ok(())) = sign_out.value().get() {
            if let Some(w) = web_sys::window() {
                let _ = w.location().set_href("/signin");
            }
        }
    });
    view! {
        <div class="user">
            <span class="user-name">{me.username}</span>
            <RoleBadge role=me.role/>
            <ActionForm action=sign_out>
                <button class="btn btn-ghost" type="submit">"Sign out"</button>
            </ActionForm>
        </div>
    }
}
