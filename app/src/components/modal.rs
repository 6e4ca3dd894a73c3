//! A modal dialog on the browser's own `<dialog>` element, opened with `showModal()`: the page
//! behind it is inert, so focus cannot leave it; Escape closes it from anywhere (not only after
//! a click inside); and the browser returns focus to the control that opened it. A dialog drawn
//! with divs got none of this right, and every dialog of the app shares this one.

use leptos::prelude::*;

/// Focuses the dialog's `[autofocus]` control, else its first field, else its first button,
/// unless focus is already on something inside it.
fn focus_first_field(dialog: &web_sys::HtmlDialogElement) {
    use wasm_bindgen::JsCast;
    let document = dialog.owner_document();
    let active = document.as_ref().and_then(|d| d.active_element());
    let dialog_el: &web_sys::Element = dialog.as_ref();
    if active.is_some_and(|a| a != *dialog_el && dialog.contains(Some(a.as_ref()))) {
        return;
    }
    for selector in ["[autofocus]", "input, select, textarea", "button"] {
        let found = dialog.query_selector(selector).ok().flatten();
        if let Some(el) = found.and_then(|e| e.dyn_into::<web_sys::HtmlElement>().ok()) {
            let _ = el.focus();
            return;
        }
    }
}

const FOCUSABLE: &str = "a[href], button:not([disabled]), input:not([disabled]), \
    select:not([disabled]), textarea:not([disabled]), [tabindex]:not([tabindex='-1'])";

/// Tab from the last control goes to the first, Shift+Tab from the first to the last: the
/// browser would otherwise move on to its own address bar, outside the page.
fn keep_focus_inside(dialog: &web_sys::HtmlDialogElement, ev: &leptos::ev::KeyboardEvent) {
    use wasm_bindgen::JsCast;
    if ev.key() != "Tab" {
        return;
    }
    let Ok(list) = dialog.query_selector_all(FOCUSABLE) else {
        return;
    };
    let (Some(first), Some(last)) = (list.item(0), list.item(list.length().saturating_sub(1)))
    else {
        return;
    };
    let active = dialog.owner_document().and_then(|d| d.active_element());
    let active: Option<web_sys::Node> = active.map(Into::into);
    let wrap_to = if ev.shift_key() && active.as_ref() == Some(&first) {
        last
    } else if !ev.shift_key() && active.as_ref() == Some(&last) {
        first
    } else {
        return;
    };
    if let Ok(el) = wrap_to.dyn_into::<web_sys::HtmlElement>() {
        ev.prevent_default();
        let _ = el.focus();
    }
}

/// Shows `children` in a modal while `open` holds. `on_close` runs when the person closes it
/// (Escape, a click on the backdrop) so the owner can clear its state; closing it by clearing
/// `open` needs no callback.
#[component]
pub fn Modal(
    open: Signal<bool>,
    on_close: Callback<()>,
    /// The id of the element naming the dialog (its heading).
    labelled_by: &'static str,
    children: Children,
) -> impl IntoView {
    let dialog = NodeRef::<leptos::html::Dialog>::new();
    Effect::new(move |_| {
        let want = open.get();
        let Some(el) = dialog.get() else { return };
        if want && !el.open() {
            // Fails only when the element is not connected; then there is nothing to show.
            let _ = el.show_modal();
            // The content may render after this runs: focus its first field once it is there.
            request_animation_frame(move || focus_first_field(&el));
        } else if !want && el.open() {
            el.close();
        }
    });
    // A click whose target is the dialog itself landed on the backdrop: the content fills the
    // dialog's box through `.dialog-body`.
    let on_click = move |ev: leptos::ev::MouseEvent| {
        let on_backdrop = match (dialog.get_untracked(), ev.target()) {
            (Some(el), Some(target)) => {
                let el: &wasm_bindgen::JsValue = el.as_ref();
                let target: &wasm_bindgen::JsValue = target.as_ref();
                el == target
            }
            _ => false,
        };
        if on_backdrop {
            on_close.run(());
        }
    };
    view! {
        <dialog class="dialog" node_ref=dialog aria-labelledby=labelled_by
            on:close=move |_| on_close.run(()) on:click=on_click
            on:keydown=move |ev| if let Some(el) = dialog.get_untracked() { keep_focus_inside(&el, &ev) }>
            <div class="dialog-body">{children()}</div>
        </dialog>
    }
}
