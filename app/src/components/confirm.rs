//! The two-step button of actions too small for a dialog but too weighty for one click
//! (resolve an alert, disable a user, revoke a token, cancel a deployment…): the button, then in
//! its place what the action does, the safe choice and the action itself.
//!
//! It keeps the keyboard's place. The question takes focus on the safe choice, so Enter twice
//! does nothing harmful (or on its field, when it asks for a name typed out); Escape or the safe choice puts focus back on the first button. Each
//! page drew its own question before, and all but one left focus on the page's start when the
//! button they replaced went away, so a keyboard user had to tab back from the top.

use leptos::prelude::*;

/// Whether a question is showing, and how to show or hide it: a flag of its own, or one row's
/// turn in a table where one row asks at a time. The caller's own signal, not a derived one
/// and a callback: each new signal or callback type cost the pages using this WASM.
#[derive(Clone, Copy)]
pub enum Asking {
    Flag(RwSignal<bool>),
    /// Row `id` of a table whose asking row the signal holds.
    Row(RwSignal<Option<i64>>, i64),
}

impl Asking {
    fn open(self) -> bool {
        match self {
            Asking::Flag(flag) => flag.get(),
            Asking::Row(turn, id) => turn.get() == Some(id),
        }
    }

    fn set(self, open: bool) {
        match self {
            Asking::Flag(flag) => flag.set(open),
            Asking::Row(turn, id) if open => turn.set(Some(id)),
            Asking::Row(turn, id) => {
                if turn.get_untracked() == Some(id) {
                    turn.set(None);
                }
            }
        }
    }
}

/// `ask` (its words end in "…"), then `children` (what the action does), `keep` and `act` ("…
/// anyway" while `warned` holds: the question says why). `act` runs `on_confirm`; it is
/// disabled while `disabled` holds (the action is running, or what it would do is still
/// loading). `ask` is disabled while `busy` holds: another action on the same thing is running,
/// and the question would only offer a disabled button. `class` is added to the first button's
/// (`btn-ghost`, `btn-danger-ghost`); `small` makes all three small, as in a list's rows.
#[component]
pub fn ConfirmInPlace(
    asking: Asking,
    ask: &'static str,
    #[prop(optional)] class: &'static str,
    #[prop(optional)] small: bool,
    keep: &'static str,
    act: &'static str,
    #[prop(into, optional)] warned: Signal<bool>,
    #[prop(into, optional)] disabled: Signal<bool>,
    #[prop(into, optional)] busy: Signal<bool>,
    on_confirm: Callback<()>,
    #[prop(optional)] children: Option<ChildrenFn>,
) -> impl IntoView {
    let size = if small { " btn-small" } else { "" };
    let first = NodeRef::<leptos::html::Button>::new();
    let safe = NodeRef::<leptos::html::Button>::new();
    let action = NodeRef::<leptos::html::Button>::new();
    // Set when the question closes, so the first button, drawn again, takes focus back; not on
    // the first drawing, which must leave focus where it is.
    let returning = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let returned = returning.clone();
    Effect::new(move |_| {
        use std::sync::atomic::Ordering::Relaxed;
        if asking.open() {
            if let (Some(safe), Some(action)) = (safe.get(), action.get()) {
                // A question that asks for something typed (a protected name) starts there.
                let field = safe
                    .parent_element()
                    .and_then(|group| group.query_selector("input").ok().flatten());
                match field {
                    Some(field) => {
                        use wasm_bindgen::JsCast;
                        let _ = field.unchecked_into::<web_sys::HtmlElement>().focus();
                    }
                    None => {
                        let _ = safe.focus();
                    }
                }
                // On a phone the question may wrap below the fold, or sit in a table that
                // scrolls sideways: focus alone showed only part of it. The action is its end.
                action.scroll_into_view_with_bool(false);
            }
        } else if let Some(button) = first.get() {
            if returned.swap(false, Relaxed) {
                let _ = button.focus();
            }
        }
    });
    let back_out = move || {
        returning.store(true, std::sync::atomic::Ordering::Relaxed);
        asking.set(false);
    };
    view! {
        <Show when=move || asking.open() fallback=move || view! {
            <button class=format!("btn{size} {class}") type="button" node_ref=first
                disabled=move || busy.get() on:click=move |_| asking.set(true)>{ask}</button>
        }>
            <span class="confirm" role="group"
                on:keydown={
                    let back_out = back_out.clone();
                    move |e| if e.key() == "Escape" { back_out() }
                }>
                {children.as_ref().map(|c| c())}
                <button class=format!("btn{size} btn-ghost") type="button" node_ref=safe
                    on:click={
                        let back_out = back_out.clone();
                        move |_| back_out()
                    }>{keep}</button>
                <button class=format!("btn{size} btn-danger") type="button" node_ref=action disabled=move || disabled.get()
                    on:click={
                        let back_out = back_out.clone();
                        move |_| {
                            back_out();
                            on_confirm.run(());
                        }
                    }>{move || if warned.get() { format!("{act} anyway") } else { act.to_string() }}</button>
            </span>
        </Show>
    }
}
