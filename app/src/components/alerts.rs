//! Pieces of the alert pages: severity and status badges (words and color, never color alone)
//! and the acknowledge / escalate / resolve buttons.

use crate::api::codec::resource;
use crate::api::{escalation_preview, ActOnAlert};
use crate::components::confirm::{Asking, ConfirmInPlace};
use crate::health::alert::*;
use leptos::prelude::*;

#[component]
pub fn SeverityBadge(severity: Severity) -> impl IntoView {
    view! { <span class=format!("badge severity severity-{}", severity.as_str())>{severity.label()}</span> }
}

#[component]
pub fn AlertStatusBadge(status: AlertStatus) -> impl IntoView {
    view! { <span class=format!("badge alert-status alert-status-{}", status.as_str())>{status.label()}</span> }
}

/// The actions the alert's state allows. Escalate first says who it would notify (and warns
/// when nobody would be); Resolve asks once more: it ends escalation and tells every notified
/// channel.
#[component]
pub fn AlertActions(
    alert_id: i64,
    status: AlertStatus,
    act: ServerAction<ActOnAlert>,
) -> impl IntoView {
    let confirming = RwSignal::new(false);
    let escalating = RwSignal::new(false);
    // Open when the user wants to say something with the acknowledgement.
    let noting = RwSignal::new(false);
    let note = RwSignal::new(String::new());
    // "+ note" gives way to the field, which takes the keyboard's focus (it would be lost with
    // the button); Escape closes it, back to Acknowledge beside it.
    let note_field = NodeRef::<leptos::html::Input>::new();
    let ack = NodeRef::<leptos::html::Button>::new();
    Effect::new(move |_| {
        if let Some(field) = note_field.get() {
            let _ = field.focus();
        }
    });
    let pending = act.pending();
    let preview = resource(
        move || escalating.get().then_some(alert_id),
        |id| async move {
            match id {
                Some(id) => Some(escalation_preview(id).await),
                None => None,
            }
        },
    );
    let run = move |action: AlertAction| {
        let text = note.get_untracked().trim().to_string();
        let with_note =
            (action == AlertAction::Acknowledge && noting.get_untracked() && !text.is_empty())
                .then_some(text);
        noting.set(false);
        act.dispatch(ActOnAlert {
            id: alert_id,
            action,
            note: with_note,
        });
    };
    let allowed = |action| transition(status, action).is_ok();
    // "Escalate anyway" when the preview says nobody would hear of it.
    let nobody_next =
        move || preview.with(|p| matches!(p, Some(Some(Ok(p))) if p.notifies_nobody()));
    view! {
        <div class="alert-actions">
            {allowed(AlertAction::Acknowledge).then(|| view! {
                <Show when=move || noting.get()>
                    <input class="ack-note" type="text" maxlength="1000" aria-label="Note with the acknowledgement (optional)"
                        placeholder="Note (optional): looking into it" prop:value=move || note.get() node_ref=note_field
                        on:input=move |ev| note.set(event_target_value(&ev))
                        on:keydown=move |ev| match ev.key().as_str() {
                            "Enter" => run(AlertAction::Acknowledge),
                            "Escape" => {
                                noting.set(false);
                                if let Some(button) = ack.get_untracked() {
                                    let _ = button.focus();
                                }
                            }
                            _ => {}
                        }/>
                </Show>
                <button class="btn btn-small btn-primary" type="button" disabled=move || pending.get() node_ref=ack
                    on:click=move |_| run(AlertAction::Acknowledge)>"Acknowledge"</button>
                <Show when=move || !noting.get()>
                    <button class="btn btn-small btn-ghost" type="button" aria-label="Add a note"
                        on:click=move |_| noting.set(true)>"+ note"</button>
                </Show>
            })}
            {allowed(AlertAction::Escalate).then(|| view! {
                <ConfirmInPlace asking=Asking::Flag(escalating) ask="Escalate…" small=true keep="Cancel"
                    act="Escalate" warned=Signal::derive(nobody_next) busy=pending
                    disabled=Signal::derive(move || pending.get() || !matches!(preview.get().flatten(), Some(Ok(_))))
                    on_confirm=Callback::new(move |_| run(AlertAction::Escalate))>
                    <Transition fallback=|| view! { <span class="muted">"Finding who is next…"</span> }>
                        {move || preview.get().flatten().map(|r| match r {
                            Err(e) => view! { <span class="note-inline" role="alert">{e.message}</span> }.into_any(),
                            Ok(p) => {
                                let nobody = p.notifies_nobody();
                                view! {
                                    <span class=if nobody { "note-inline" } else { "muted" } role=nobody.then_some("alert")
                                        data-testid="escalation-preview">{p.words()}</span>
                                }.into_any()
                            }
                        })}
                    </Transition>
                </ConfirmInPlace>
            })}
            {allowed(AlertAction::Resolve).then(|| view! {
                <ConfirmInPlace asking=Asking::Flag(confirming) ask="Resolve…" class="btn-ghost" small=true
                    keep="Keep open" act="Resolve" disabled=pending busy=pending
                    on_confirm=Callback::new(move |_| run(AlertAction::Resolve))/>
            })}
        </div>
    }
}

/// "Silence this alert": a silence for a chosen time (1 hour unless changed) with the reason
/// people will read later. Its matchers are the alert's labels the user picked: each label is a
/// toggle, `picked` says which start on. Operators only.
#[component]
pub fn SilenceForm(
    labels: std::collections::BTreeMap<String, String>,
    picked: Vec<String>,
) -> impl IntoView {
    use crate::api::CreateSilence;
    let create = ServerAction::<CreateSilence>::new();
    let hours = RwSignal::new(1i64);
    let comment = RwSignal::new(String::new());
    let chosen = RwSignal::new(
        picked
            .into_iter()
            .collect::<std::collections::BTreeSet<String>>(),
    );
    let labels = StoredValue::new(labels);
    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let names = chosen.get_untracked();
        let matchers = exact_matchers(
            labels
                .get_value()
                .into_iter()
                .filter(|(name, _)| names.contains(name)),
        );
        let new = NewSilence {
            matchers,
            starts_at: None,
            ends_at: crate::components::common::now_ms() + hours.get_untracked() * 3_600_000,
            comment: comment.get_untracked(),
        };
        create.dispatch(CreateSilence { new });
    };
    let toggle = move |name: String| {
        chosen.update(|c| {
            if !c.remove(&name) {
                c.insert(name);
            }
        })
    };
    view! {
        <form class="silence-form" on:submit=submit>
            <fieldset class="silence-matchers">
                <legend>"Silence alerts with (select labels to add or remove them)"</legend>
                {labels.get_value().into_iter().map(|(name, value)| {
                    let key = name.clone();
                    let on = {
                        let name = name.clone();
                        move || chosen.with(|c| c.contains(&name))
                    };
                    view! {
                        <button type="button" class="chip" aria-pressed=move || on().to_string()
                            on:click=move |_| toggle(key.clone())>{format!("{name}={value}")}</button>
                    }
                }).collect_view()}
            </fieldset>
            <SilenceDuration hours/>
            <label>"Why (required)"
                <input type="text" required=true maxlength="500" placeholder="planned maintenance of the database"
                    prop:value=move || comment.get() on:input=move |ev| comment.set(event_target_value(&ev))/>
            </label>
            <button class="btn" type="submit" disabled=move || create.pending().get() || chosen.with(|c| c.is_empty())>"Silence"</button>
            <Show when=move || chosen.with(|c| c.is_empty())>
                <p class="muted">"Pick at least one label: a silence without one would silence everything."</p>
            </Show>
            {move || create.value().get().map(|r| match r {
                Ok(s) => view! { <p class="note" role="status">{format!("Silenced by silence {}: nobody is notified until it ends.", s.id)}</p> }.into_any(),
                Err(e) => view! { <p class="note note-error" role="alert">{e.message}</p> }.into_any(),
            })}
        </form>
    }
}

/// How long a silence lasts: 1 hour unless changed.
#[component]
pub fn SilenceDuration(hours: RwSignal<i64>) -> impl IntoView {
    view! {
        <label>"For"
            <select on:change=move |ev| hours.set(event_target_value(&ev).parse().unwrap_or(1))>
                <option value="1" selected=true>"1 hour"</option>
                <option value="4">"4 hours"</option>
                <option value="24">"24 hours"</option>
            </select>
        </label>
    }
}
