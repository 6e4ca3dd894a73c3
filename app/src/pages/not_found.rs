use leptos::prelude::*;
use leptos_meta::Title;

#[component]
pub fn NotFound() -> impl IntoView {
    crate::response::set_status(404);
    view! {
        <Title text="Not found"/>
        <main class="signin">
            <div class="signin-card">
                <h1>"Page not found"</h1>
                <p>"Nothing lives at this address. Check the link, or go back to the dashboard."</p>
                <a class="btn btn-primary" href="/">"Go to the dashboard"</a>
            </div>
        </main>
    }
}
