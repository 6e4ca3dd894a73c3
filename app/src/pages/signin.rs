use crate::api::SignIn;
use crate::href::use_query;
use leptos::prelude::*;
use leptos_meta::Title;

/// Only same-site paths are followed after sign-in, so a crafted link cannot send a user elsewhere.
/// Browsers drop tabs and newlines from a URL and read `\\` as `/`, so `/\t/evil.example` would
/// become `//evil.example`, another host: a path with any control character, whitespace or
/// backslash is refused outright rather than cleaned.
pub fn safe_next(next: Option<&str>) -> String {
    let same_site = |p: &str| {
        p.starts_with('/')
            && !p.starts_with("//")
            && !p
                .chars()
                .any(|c| c.is_control() || c.is_whitespace() || c == '\\')
    };
    match next {
        Some(p) if same_site(p) => p.to_string(),
        _ => "/".to_string(),
    }
}

#[component]
pub fn SignInPage() -> impl IntoView {
    let query = use_query();
    let next = move || safe_next(query.read().get("next").as_deref());
    view! {
        <Title text="Sign in"/>
        {move || view! { <SignInForm next=next()/> }}
    }
}

/// The form; `next` is where a successful sign-in goes.
#[island]
fn SignInForm(next: String) -> impl IntoView {
    let action = ServerAction::<SignIn>::new();

    Effect::new(move |_| {
        if let Some(Ok(_)) = action.value().get() {
            // A full load: the shell, the live link and every resource start as the new user.
            if let Some(w) = web_sys::window() {
                let _ = w.location().set_href(&next);
            }
        }
    });
    let error = move || action.value().get().and_then(|r| r.err());
    let pending = action.pending();

    view! {
        <main class="signin">
            <div class="signin-card">
                <div class="signin-brand">
                    <img src="/icons/icon-192.png" alt="" width="48" height="48"/>
                    <h1>"Flightdeck"</h1>
                </div>
                <ActionForm action=action>
                    <label for="username">"Username"</label>
                    <input id="username" name="username" type="text" autocomplete="username"
                        required=true autofocus=true autocapitalize="none" spellcheck="false"/>
                    <label for="password">"Password"</label>
                    <input id="password" name="password" type="password"
                        autocomplete="current-password" required=true/>
                    {move || error().map(|e| view! {
                        <p class="note note-error" role="alert">{e.message}</p>
                    })}
                    <button class="btn btn-primary" type="submit" disabled=move || pending.get()>
                        {move || if pending.get() { "Signing in…" } else { "Sign in" }}
                    </button>
                </ActionForm>
            </div>
        </main>
    }
}

#[cfg(test)]
mod tests {
    use super::safe_next;

    #[test]
    fn next_stays_on_this_site() {
        assert_eq!(safe_next(Some("/audit?before=5")), "/audit?before=5");
        assert_eq!(safe_next(Some("//evil.example")), "/");
        assert_eq!(safe_next(Some("https://evil.example")), "/");
        assert_eq!(safe_next(Some("/\\evil.example")), "/");
        assert_eq!(safe_next(None), "/");
    }

    #[test]
    fn only_same_site_paths_survive_the_browsers_normalisation() {
        for ok in ["/", "/deployments?status=failed", "/alerts/7#history"] {
            assert_eq!(safe_next(Some(ok)), ok);
        }
        for evil in [
            "//evil.example",
            "/\t/evil.example",
            "/\n/evil.example",
            "/\r/evil.example",
            "/\\evil.example",
            "\\/evil.example",
            "https://evil.example",
            " /x",
            "/ /evil.example",
            "",
        ] {
            assert_eq!(safe_next(Some(evil)), "/", "{evil:?}");
        }
        assert_eq!(safe_next(None), "/");
    }
}
