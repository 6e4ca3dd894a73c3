//! Dark by default, light on request. The choice lives in a cookie so the server renders the right
//! theme on the first byte (no flash), and the toggle changes it in place.

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Theme {
    Dark,
    Light,
}

impl Theme {
    pub const COOKIE: &'static str = "fd_theme";

    pub fn as_str(self) -> &'static str {
        match self {
            Theme::Dark => "dark",
            Theme::Light => "light",
        }
    }

    pub fn other(self) -> Theme {
        match self {
            Theme::Dark => Theme::Light,
            Theme::Light => Theme::Dark,
        }
    }

    /// Reads the theme from a `Cookie` header value; anything unknown is dark.
    pub fn from_cookie_header(header: &str) -> Theme {
        let light = header.split(';').any(|pair| {
            let mut kv = pair.trim().splitn(2, '=');
            kv.next() == Some(Self::COOKIE) && kv.next() == Some("light")
        });
        if light {
            Theme::Light
        } else {
            Theme::Dark
        }
    }
}

/// On the server: the theme of the request being rendered. In the browser: the one on `<html>`.
pub fn from_request() -> Theme {
    if let Some(parts) = leptos::prelude::use_context::<http::request::Parts>() {
        let header = parts
            .headers
            .get(http::header::COOKIE)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("");
        return Theme::from_cookie_header(header);
    }
    current_document_theme()
}

pub fn current_document_theme() -> Theme {
    if !cfg!(target_arch = "wasm32") {
        return Theme::Dark;
    }
    let attr = web_sys::window()
        .and_then(|w| w.document())
        .and_then(|d| d.document_element())
        .and_then(|e| e.get_attribute("data-theme"));
    if attr.as_deref() == Some("light") {
        Theme::Light
    } else {
        Theme::Dark
    }
}

/// Applies a theme to the page and remembers it for a year.
pub fn apply(theme: Theme) {
    use wasm_bindgen::JsCast;
    let Some(document) = web_sys::window().and_then(|w| w.document()) else {
        return;
    };
    if let Some(root) = document.document_element() {
        let _ = root.set_attribute("data-theme", theme.as_str());
    }
    if let Ok(html) = document.dyn_into::<web_sys::HtmlDocument>() {
        let _ = html.set_cookie(&format!(
            "{}={}; Path=/; Max-Age=31536000; SameSite=Lax",
            Theme::COOKIE,
            theme.as_str()
        ));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cookie_header_selects_the_theme() {
        assert_eq!(Theme::from_cookie_header(""), Theme::Dark);
        assert_eq!(
            Theme::from_cookie_header("a=b; fd_theme=light"),
            Theme::Light
        );
        assert_eq!(Theme::from_cookie_header("fd_theme=dark"), Theme::Dark);
        assert_eq!(Theme::from_cookie_header("xfd_theme=light"), Theme::Dark);
    }
}
