//! The browser entry point. Built by cargo-leptos with `hydrate` (the server rendered the page;
//! this takes it over) and by Trunk with `csr` (a client-only build for fast UI work, talking to a
//! running `flightdeck serve` through Trunk's proxy).

#[cfg(feature = "hydrate")]
#[wasm_bindgen::prelude::wasm_bindgen]
pub fn hydrate() {
    // Readable panics in the console cost bundle size; debug builds only.
    #[cfg(debug_assertions)]
    console_error_panic_hook::set_once();
    // Waits for the lazy route of the page being hydrated (its WASM chunk) before hydrating.
    leptos::mount::hydrate_lazy(app::App);
}

#[cfg(feature = "csr")]
#[wasm_bindgen::prelude::wasm_bindgen(start)]
pub fn start() {
    #[cfg(debug_assertions)]
    console_error_panic_hook::set_once();
    leptos::mount::mount_to_body(app::App);
}
