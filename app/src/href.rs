//! Links that carry a list's filters and page in the query string (audit, deployment history,
//! alert feed, health grid), built one way so every filtered page links back to itself alike;
//! and the query string as those pages read it back.

use leptos::prelude::*;
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

/// The page's query string, each value decoded once.
///
/// leptos_router 0.8's `use_query_map` decodes a value twice (its URL parser, then
/// `ParamsMap::insert` again), so a pipeline named "edge/pct%20name", linked as
/// `name=edge%2Fpct%2520name`, read as "edge/pct name" and its page said not found. This reads
/// the raw query string the location keeps instead.
pub fn use_query() -> Memo<Query> {
    let search = leptos_router::hooks::use_location().search;
    Memo::new(move |_| Query::parse(&search.read()))
}

/// A query string's parameters, decoded (`+` and `%XX`) once.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Query(Vec<(String, String)>);

impl Query {
    pub fn parse(search: &str) -> Self {
        let pairs = search.trim_start_matches('?').split('&');
        Self(
            pairs
                .filter(|pair| !pair.is_empty())
                .map(|pair| {
                    let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
                    (form_decode(k), form_decode(v))
                })
                .collect(),
        )
    }

    /// The last value given for `key` (as a repeated parameter reads in a form).
    pub fn get(&self, key: &str) -> Option<String> {
        let mut values = self.0.iter().filter(|(k, _)| k == key);
        values.next_back().map(|(_, v)| v.clone())
    }
}

/// `application/x-www-form-urlencoded` decoding: `+` is a space, `%XX` a byte; a `%` not
/// followed by two hex digits stays as it is, and bytes that are not UTF-8 read as U+FFFD.
fn form_decode(raw: &str) -> String {
    let bytes = raw.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let hex = |at: usize| bytes.get(at).and_then(|b| (*b as char).to_digit(16));
        match (bytes[i], hex(i + 1), hex(i + 2)) {
            (b'+', ..) => out.push(b' '),
            (b'%', Some(high), Some(low)) => {
                out.push((high * 16 + low) as u8);
                i += 2;
            }
            (b, ..) => out.push(b),
        }
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
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

    #[test]
    fn a_query_value_is_decoded_once() {
        let q = Query::parse(
            "?name=edge%2Fpct%2520name&days=30&q=a+b&t=100%25+sure&x=%zz&e=&flag&days=7",
        );
        assert_eq!(q.get("name").as_deref(), Some("edge/pct%20name"));
        assert_eq!(q.get("q").as_deref(), Some("a b"));
        assert_eq!(q.get("t").as_deref(), Some("100% sure"));
        assert_eq!(q.get("x").as_deref(), Some("%zz"));
        assert_eq!(q.get("e").as_deref(), Some(""));
        assert_eq!(q.get("flag").as_deref(), Some(""));
        assert_eq!(q.get("days").as_deref(), Some("7"));
        assert_eq!(q.get("none"), None);
        assert_eq!(Query::parse("").get("name"), None);
        // What a link built here carries comes back as it went in.
        for name in ["Build & Deploy #2", "pct%20name", "ü/ß + 100%", "a=b?c"] {
            let href = QueryHref::new().param("name", Some(name)).build("/p", "");
            let search = href.split_once('?').map(|(_, s)| s).unwrap_or_default();
            assert_eq!(Query::parse(search).get("name").as_deref(), Some(name));
        }
        assert_eq!(
            Query::parse("n=%C3%BC%FF").get("n").as_deref(),
            Some("ü\u{FFFD}")
        );
    }
}
