//! Pieces of the deployments pages: the status badge and the toasts that report outcomes. The
//! deploy / rollback / promote dialog is in `deploy_dialog`.

use crate::deploy::*;
use leptos::prelude::*;

/// Status in words and color (never color alone).
#[component]
pub fn StatusBadge(status: DeploymentStatus) -> impl IntoView {
    view! { <span class=format!("badge status status-{}", status.as_str())>{status.label()}</span> }
}

/// A version that went out as a rollback, beside it or its status (set off by a space, so a
/// mark that wraps starts flush).
pub fn rollback_mark() -> impl IntoView {
    view! { " " <span class="badge rollback-mark" title="This version went out as a rollback">"↩ rollback"</span> }
}

/// A message in the corner: what was accepted, what finished, what failed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Toast {
    pub id: u32,
    /// What the toast is about (a deployment's id): a newer message about it replaces this one,
    /// so one action has one toast that follows it from queued to its end.
    pub subject: Option<i64>,
    pub text: String,
    pub href: Option<String>,
    pub error: bool,
}

/// The most toasts shown at once; older ones give way, so a burst cannot cover the page.
const MOST_TOASTS: usize = 3;

#[derive(Clone, Copy)]
pub struct Toasts(RwSignal<Vec<Toast>>);

impl Toasts {
    pub fn new() -> Toasts {
        Toasts(RwSignal::new(Vec::new()))
    }

    /// Shows a toast for ten seconds (errors stay until dismissed).
    pub fn push(self, text: String, href: Option<String>, error: bool) {
        self.show(None, text, href, error);
    }

    /// Shows a toast about `subject`, replacing the one already shown about it.
    pub fn show(self, subject: Option<i64>, text: String, href: Option<String>, error: bool) {
        let id = self
            .0
            .with_untracked(|t| t.iter().map(|t| t.id).max().unwrap_or(0) + 1);
        self.0.update(|t| {
            if subject.is_some() {
                t.retain(|t| t.subject != subject);
            }
            t.push(Toast {
                id,
                subject,
                text,
                href,
                error,
            });
            let over = t.len().saturating_sub(MOST_TOASTS);
            t.drain(..over);
        });
        if !error {
            set_timeout(move || self.dismiss(id), std::time::Duration::from_secs(10));
        }
    }

    fn dismiss(self, id: u32) {
        self.0.update(|t| t.retain(|t| t.id != id));
    }
}

impl Default for Toasts {
    fn default() -> Self {
        Self::new()
    }
}

#[component]
pub fn ToastRegion(toasts: Toasts) -> impl IntoView {
    view! {
        <div class="toasts" role="status" aria-live="polite">
            <For each=move || toasts.0.get() key=|t| t.id let:toast>
                <div class=if toast.error { "toast toast-error" } else { "toast" }>
                    {match toast.href {
                        Some(href) => view! { <a href=href>{toast.text}</a> }.into_any(),
                        None => view! { <span>{toast.text}</span> }.into_any(),
                    }}
                    <button class="btn btn-ghost toast-close" type="button" aria-label="Dismiss"
                        on:click=move |_| toasts.dismiss(toast.id)>"×"</button>
                </div>
            </For>
        </div>
    }
}

/// Says what the violet lines on a chart are, and lists the deployments they mark (the chart's
/// text alternative for them). Nothing when there were none.
#[component]
pub fn DeployMarkersNote(deploys: Vec<crate::charts::DeployMarker>) -> impl IntoView {
    use crate::components::common::TimeAgo;
    let environment = deploys.first().map(|d| d.environment.clone())?;
    let shown = deploys.len().min(8);
    let older = deploys.len() - shown;
    Some(view! {
        <p class="chart-legend" data-testid="deploy-markers">
            <span class="legend-deploy" aria-hidden="true"></span>
            {format!("Deploys to {environment} (dashed red: failed): ")}
            {deploys.into_iter().rev().take(shown).enumerate().map(|(i, d)| view! {
                {(i > 0).then_some(", ")}
                {d.describe()}" "<TimeAgo ms=d.at/>
            }).collect_view()}
            {(older > 0).then(|| format!(", and {older} earlier"))}
        </p>
    })
}
