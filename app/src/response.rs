//! Setting the HTTP status of a server-rendered page (a 404 page must not answer 200). A no-op in
//! the browser, where there is no response to set.

#[cfg(feature = "ssr")]
mod imp {
    pub fn set_status(code: u16) {
        if let (Some(options), Ok(status)) = (
            leptos::prelude::use_context::<leptos_axum::ResponseOptions>(),
            http::StatusCode::from_u16(code),
        ) {
            options.set_status(status);
        }
    }
}

#[cfg(not(feature = "ssr"))]
mod imp {
    pub fn set_status(_code: u16) {}
}

pub use imp::set_status;
