//! A deployment's log, live: on its page, and on the board right after a deploy starts.

use crate::api::codec::resource;
use crate::api::deployment_logs;
use crate::backoff::reconnect_delay_ms;
use crate::components::common::ErrorNote;
use crate::deploy::{topics, LogLine};
use crate::live::changes_on;
use leptos::prelude::*;
use std::time::Duration;

/// The log: loaded once, then extended with the lines after the last one whenever the
/// deployment's topic announces more. Follows the end unless the reader scrolled up.
#[component]
pub fn LogView(
    id: i64,
    title: String,
    /// Where the log is shown apart from its deployment's page: a link there and a close button.
    #[prop(optional)]
    on_close: Option<Callback<()>>,
) -> impl IntoView {
    let lines = RwSignal::new(Vec::<LogLine>::new());
    // Until the first answer, an empty log is unread, not empty: the server's page and the
    // browser before hydration say so instead of "No output yet." on a deployment that has some.
    let read = RwSignal::new(false);
    let changes = changes_on(topics::deployment(id));
    let chunk = resource(
        move || changes.get(),
        move |_| {
            let after = lines.with_untracked(|l| l.last().map(|l| l.n).unwrap_or(0));
            deployment_logs(id, after)
        },
    );
    let error = RwSignal::new(None::<crate::error::AppError>);
    let failed_tries = StoredValue::new(0u32);
    let follow = RwSignal::new(true);
    let panel = NodeRef::<leptos::html::Div>::new();
    Effect::new(move |_| match chunk.get() {
        Some(Ok(new)) => {
            error.set(None);
            read.set(true);
            failed_tries.set_value(0);
            let last = lines.with_untracked(|l| l.last().map(|l| l.n).unwrap_or(0));
            let fresh: Vec<_> = new.into_iter().filter(|l| l.n > last).collect();
            if !fresh.is_empty() {
                lines.update(|l| l.extend(fresh));
                if follow.get_untracked() {
                    request_animation_frame(move || {
                        if let Some(el) = panel.get_untracked() {
                            el.set_scroll_top(el.scroll_height());
                        }
                    });
                }
            }
        }
        Some(Err(e)) => {
            // A network blip, or the server restarting mid-deploy: ask again, backing off as
            // the live link does. Otherwise a finished deployment, which announces nothing
            // more, would keep an empty log for good.
            if e.code.passes_later() {
                let tries = failed_tries.get_value();
                failed_tries.set_value(tries + 1);
                let delay = reconnect_delay_ms(tries, js_sys::Math::random());
                set_timeout(move || chunk.refetch(), Duration::from_millis(delay));
            }
            error.set(Some(e));
        }
        None => {}
    });
    view! {
        <section class="card" aria-labelledby="log-title">
            <div class="card-head">
                <h2 id="log-title">{title}</h2>
                <label class="check">
                    <input type="checkbox" prop:checked=move || follow.get() on:change=move |ev| follow.set(event_target_checked(&ev))/>
                    "Follow"
                </label>
                {on_close.map(|close| view! {
                    <a href=format!("/deployments/{id}")>"Open its page →"</a>
                    <button class="btn btn-small btn-ghost" type="button" on:click=move |_| close.run(())>"Close log"</button>
                })}
            </div>
            {move || error.get().map(|error| view! { <ErrorNote error/> })}
            <div class="log" node_ref=panel tabindex="0" aria-label="Deployment log" data-testid="log">
                <Show when=move || !lines.with(Vec::is_empty) fallback=move || view! {
                    <p class="muted">{move || if read.get() { "No output yet." } else { "Reading the log…" }}</p>
                }>
                    <For each=move || lines.get() key=|l| l.n let:line>
                        <div class=format!("log-line log-{}", line.stream)>
                            <span class="log-n" aria-hidden="true">{line.n}</span>
                            <span class="log-text">{line.text}</span>
                        </div>
                    </For>
                </Show>
            </div>
        </section>
    }
}
