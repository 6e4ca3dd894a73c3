//! The first screen after sign-in: who you are, what just happened, where everything lives.

use super::audit::AuditTable;
use crate::api::codec::resource;
use crate::api::{list_audit, list_users};
use crate::components::common::*;
use crate::components::layout::Viewer;
use crate::components::nav::Section;
use crate::live::{changes_on, Live};
use crate::model::{topics, AuditQuery};
use leptos::prelude::*;
use leptos_meta::Title;

#[component]
pub fn DashboardPage() -> impl IntoView {
    let me = use_context::<Viewer>().and_then(|v| v.0);
    view! {
        <Title text="Dashboard"/>
        <div class="page-head">
            <h1>"Dashboard"</h1>
            <p class="muted">
                {me.map(|me| format!("Signed in as {} ({}).", me.username, me.role))}
            </p>
        </div>
        <DashboardActivity/>
        <section>
            <h2>"Sections"</h2>
            <div class="tiles">
                {Section::ALL.into_iter().skip(1).map(|s| view! {
                    <a class="card tile" href=s.path()>
                        <span class="tile-title">{s.label()}</span>
                    </a>
                }).collect_view()}
            </div>
        </section>
    }
}

/// The live part of the dashboard: counters and the newest audit entries.
#[island]
fn DashboardActivity() -> impl IntoView {
    let live = Live::shared();
    let events_seen = move || live.received.get();
    let audit_changes = changes_on(topics::AUDIT);
    let recent = resource(
        move || audit_changes.get(),
        |_| {
            list_audit(AuditQuery {
                limit: Some(8),
                ..Default::default()
            })
        },
    );
    let users = resource(|| (), |_| list_users());

    view! {
        <div class="stats">
            <div class="card stat">
                <span class="stat-label">"Users"</span>
                <Suspense fallback=|| view! { <span class="stat-value">"…"</span> }>
                    {move || users.get().map(|r| match r {
                        Ok(u) => view! { <span class="stat-value">{u.len()}</span> }.into_any(),
                        Err(_) => view! { <span class="stat-value">"—"</span> }.into_any(),
                    })}
                </Suspense>
            </div>
            <div class="card stat">
                <span class="stat-label">"Live events this visit"</span>
                <span class="stat-value" data-testid="events-seen">{events_seen}</span>
            </div>
        </div>
        <section class="card">
            <div class="card-head">
                <h2>"Recent activity"</h2>
                <a href="/audit">"Full audit trail →"</a>
            </div>
            <Transition fallback=|| view! { <LoadingRows rows=3/> }>
                {move || recent.get().map(|r| match r {
                    Err(error) => view! { <ErrorNote error/> }.into_any(),
                    Ok(page) if page.entries.is_empty() => view! {
                        <EmptyState title="Nothing has happened yet">
                            <p>"Actions show up here as they happen."</p>
                        </EmptyState>
                    }.into_any(),
                    Ok(page) => view! { <AuditTable entries=page.entries/> }.into_any(),
                })}
            </Transition>
        </section>
    }
}
