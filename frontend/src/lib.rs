//! The browser entry point. Built by cargo-leptos with `hydrate` (the server rendered the page;
//! this brings its islands to life) and by Trunk with `csr` (a client-only build for fast UI work,
//! talking to a running `flightdeck serve` through Trunk's proxy).

// Links the app crate, whose islands are the functions the hydration script calls.
#[cfg(feature = "hydrate")]
#[allow(unused_imports)]
use app::*;

#[cfg(feature = "hydrate")]
#[wasm_bindgen::prelude::wasm_bindgen]
pub fn hydrate() {
    // Readable panics in the console cost bundle size; debug builds only.
    #[cfg(debug_assertions)]
    console_error_panic_hook::set_once();
    leptos::mount::hydrate_islands();
}

#[cfg(feature = "csr")]
#[wasm_bindgen::prelude::wasm_bindgen(start)]
pub fn start() {
    #[cfg(debug_assertions)]
    console_error_panic_hook::set_once();
    // The server knows who is signed in before it renders; here the app asks first.
    wasm_bindgen_futures::spawn_local(async {
        let me = app::api::current_user().await.ok().flatten();
        leptos::mount::mount_to_body(move || {
            app::components::layout::provide_viewer(me.clone());
            leptos::view! { <app::App/> }
        });
    });
}
