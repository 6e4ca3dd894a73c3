//! Links that carry a list's filters and page in the query string (audit, deployment history,
//! alert feed, health grid), built one way so every filtered page links back to itself alike.

use std::fmt::Display;

#[derive(Default)]
pub struct QueryHref(Vec<String>);

impl QueryHref {
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds `key=value`, percent-encoded, when there is a non-empty value.
    pub fn param(self, key: &str, value: Option<impl Display>) -> Self {
        let value = value.map(|v| percent_encode(&v.to_string()));
        self.encoded(key, value)
    }

    /// Adds `key=value` with `value` already encoded, when there is a non-empty value.
    pub fn encoded(mut self, key: &str, value: Option<String>) -> Self {
        if let Some(v) = value.filter(|v| !v.is_empty()) {
            self.0.push(format!("{key}={v}"));
        }
        self
    }

    /// `path`, then `?` and the parameters if there are any, then `fragment` (e.g. `#history`).
    pub fn build(self, path: &str, fragment: &str) -> String {
        if self.0.is_empty() {
            format!("{path}{fragment}")
        } else {
            format!("{path}?{}{fragment}", self.0.join("&"))
        }
    }
}

/// Percent-encodes a query value (letters, digits and -._~ pass).
pub fn percent_encode(v: &str) -> String {
    v.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_present_values_are_kept_and_encoded() {
        let href = QueryHref::new()
            .param("actor", Some("a b&c"))
            .param("status", None::<&str>)
            .param("action", Some(""))
            .param("before", Some(42))
            .build("/audit", "");
        assert_eq!(href, "/audit?actor=a%20b%26c&before=42");
        assert_eq!(
            QueryHref::new().build("/deployments", "#history"),
            "/deployments#history"
        );
    }
}
