//! The two-step button of actions too small for a dialog but too weighty for one click
//! (resolve an alert, disable a user, revoke a token, cancel a deployment…): the button, then in
//! its place what the action does, the safe choice and the action itself.
//!
//! It keeps the keyboard's place. The question takes focus on the safe choice, so Enter twice
//! does nothing harmful; Escape or the safe choice puts focus back on the first button. Each
//! page drew its own question before, and all but one left focus on the page's start when the
//! button they replaced went away, so a keyboard user had to tab back from the top.

use leptos::prelude::*;

/// Whether a question is showing, and how to show or hide it: a flag of its own, or one row's
/// turn in a table where one row asks at a time.
#[derive(Clone, Copy)]
pub struct Asking {
    open: Signal<bool>,
    set: Callback<bool>,
}

impl Asking {
    pub fn flag(flag: RwSignal<bool>) -> Self {
        Self {
            open: flag.into(),
            set: Callback::new(move |open| flag.set(open)),
        }
    }

    /// Row `id` of a table whose asking row `turn` holds.
    pub fn row(turn: RwSignal<Option<i64>>, id: i64) -> Self {
        Self {
            open: Signal::derive(move || turn.get() == Some(id)),
            set: Callback::new(move |open: bool| {
                if open {
                    turn.set(Some(id));
                } else if turn.get_untracked() == Some(id) {
                    turn.set(None);
                }
            }),
        }
    }
}

/// `ask` (its words end in "…"), then `children` (what the action does), `keep` and `act`.
/// `act` runs `on_confirm`; it is disabled while `disabled` holds (the action is running, or
/// what it would do is still loading). `class` is added to the first button's (`btn-ghost`,
/// `btn-danger-ghost`); `small` makes all three small, as in a list's rows.
#[component]
pub fn ConfirmInPlace(
    asking: Asking,
    ask: &'static str,
    #[prop(optional)] class: &'static str,
    #[prop(optional)] small: bool,
    keep: &'static str,
    #[prop(into)] act: TextProp,
    #[prop(into, optional)] disabled: Signal<bool>,
    on_confirm: Callback<()>,
    #[prop(optional)] children: Option<ChildrenFn>,
) -> impl IntoView {
    let size = if small { " btn-small" } else { "" };
    let first = NodeRef::<leptos::html::Button>::new();
    let group = NodeRef::<leptos::html::Span>::new();
    let safe = NodeRef::<leptos::html::Button>::new();
    // Set when the question closes without acting, so the first button, drawn again, takes
    // focus back; not on the first drawing, which must leave focus where it is.
    let returning = StoredValue::new(false);
    Effect::new(move |_| {
        if let (Some(group), Some(safe)) = (group.get(), safe.get()) {
            let _ = safe.focus();
            // On a phone the question may wrap below the fold, or sit in a table that scrolls
            // sideways: focus alone showed only part of it.
            group.scroll_into_view_with_bool(false);
        }
    });
    Effect::new(move |_| {
        if let Some(button) = first.get() {
            if returning.get_value() {
                returning.set_value(false);
                let _ = button.focus();
            }
        }
    });
    let back_out = move || {
        returning.set_value(true);
        asking.set.run(false);
    };
    let children = StoredValue::new(children);
    view! {
        <Show when=move || asking.open.get() fallback=move || view! {
            <button class=format!("btn{size} {class}") type="button" node_ref=first
                on:click=move |_| asking.set.run(true)>{ask}</button>
        }>
            <span class="confirm" role="group" node_ref=group
                on:keydown=move |e| if e.key() == "Escape" { back_out() }>
                {children.with_value(|c| c.as_ref().map(|c| c()))}
                <button class=format!("btn{size} btn-ghost") type="button" node_ref=safe
                    on:click=move |_| back_out()>{keep}</button>
                <button class=format!("btn{size} btn-danger") type="button" disabled=move || disabled.get()
                    on:click=move |_| {
                        returning.set_value(true);
                        asking.set.run(false);
                        on_confirm.run(());
                    }>{let act = act.clone(); move || act.get()}</button>
            </span>
        </Show>
    }
}
