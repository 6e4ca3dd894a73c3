//! What a scoped API token may do. A machine that only posts alerts gets `alerts:write` and can
//! do nothing else, though it holds an operator's role: a leaked Alertmanager credential cannot
//! deploy or roll back. Unscoped tokens (and people) are judged by their role alone.

use serde::{Deserialize, Serialize};

/// The scopes a token can be limited to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub enum Scope {
    /// Alertmanager's webhook and `POST /api/v2/alerts`.
    #[serde(rename = "alerts:write")]
    AlertsWrite,
    /// Build ingestion.
    #[serde(rename = "builds:write")]
    BuildsWrite,
    /// Feature-flag evaluation (OFREP).
    #[serde(rename = "flags:evaluate")]
    FlagsEvaluate,
    /// Deploy, roll back, promote, cancel, dismiss; CDEvents deployment events.
    #[serde(rename = "deploy")]
    Deploy,
    /// Every read of the REST API and the live connection.
    #[serde(rename = "read")]
    Read,
}

crate::text_enum::text_enum!(Scope {
    AlertsWrite = "alerts:write",
    BuildsWrite = "builds:write",
    FlagsEvaluate = "flags:evaluate",
    Deploy = "deploy",
    Read = "read",
});

impl Scope {
    /// The least role a token needs for this scope to be of use.
    pub fn least_role(self) -> crate::model::Role {
        use crate::model::Role;
        match self {
            Scope::Read | Scope::FlagsEvaluate => Role::Viewer,
            Scope::AlertsWrite | Scope::BuildsWrite | Scope::Deploy => Role::Operator,
        }
    }

    /// Parses a list as people type it (`alerts:write`, repeated or comma separated).
    pub fn parse_list<'a>(items: impl IntoIterator<Item = &'a str>) -> Result<Vec<Scope>, String> {
        let mut scopes = Vec::new();
        for item in items.into_iter().flat_map(|i| i.split(',')) {
            let item = item.trim();
            if item.is_empty() {
                continue;
            }
            let scope = Scope::parse(item).ok_or_else(|| {
                format!(
                    "unknown scope '{item}': use {}",
                    Scope::ALL
                        .iter()
                        .map(|s| s.as_str())
                        .collect::<Vec<_>>()
                        .join(", ")
                )
            })?;
            if !scopes.contains(&scope) {
                scopes.push(scope);
            }
        }
        scopes.sort();
        Ok(scopes)
    }
}

/// The scope a request needs, by method and path; `None` when no scope grants it (accounts,
/// tokens, settings, the pages' server functions): a scoped token is refused there.
pub fn required(method: &str, path: &str) -> Option<Scope> {
    let reads = matches!(method, "GET" | "HEAD");
    if path == "/api/v2/alerts" || path == "/api/v1/webhooks/alertmanager" {
        return (method == "POST").then_some(Scope::AlertsWrite);
    }
    if path.starts_with("/ofrep/") {
        return (method == "POST").then_some(Scope::FlagsEvaluate);
    }
    if path == "/ws" {
        return reads.then_some(Scope::Read);
    }
    let rest = path.strip_prefix("/api/v1/")?;
    if reads {
        return Some(Scope::Read);
    }
    let segments: Vec<&str> = rest.split('/').collect();
    match (method, segments.as_slice()) {
        ("POST", ["deployments"] | ["rollbacks"] | ["promotions"])
        | ("POST", ["deployments", _, "cancel" | "dismiss"])
        | ("POST", ["webhooks", "cdevents"]) => Some(Scope::Deploy),
        ("POST", ["builds"] | ["builds", "import"]) => Some(Scope::BuildsWrite),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_request_needs_the_scope_that_names_it() {
        assert_eq!(required("POST", "/api/v2/alerts"), Some(Scope::AlertsWrite));
        assert_eq!(
            required("POST", "/api/v1/webhooks/alertmanager"),
            Some(Scope::AlertsWrite)
        );
        assert_eq!(required("POST", "/api/v1/deployments"), Some(Scope::Deploy));
        assert_eq!(required("POST", "/api/v1/rollbacks"), Some(Scope::Deploy));
        assert_eq!(
            required("POST", "/api/v1/deployments/7/cancel"),
            Some(Scope::Deploy)
        );
        assert_eq!(required("GET", "/api/v1/status"), Some(Scope::Read));
        assert_eq!(required("GET", "/ws"), Some(Scope::Read));
        assert_eq!(
            required("POST", "/ofrep/v1/evaluate/flags/x"),
            Some(Scope::FlagsEvaluate)
        );
        assert_eq!(required("POST", "/api/v1/builds"), Some(Scope::BuildsWrite));
        // Nothing grants account work, settings or the pages' server functions.
        for (method, path) in [
            ("POST", "/api/v1/tokens"),
            ("POST", "/api/v1/users"),
            ("PUT", "/api/v1/services/api/targets/prod"),
            ("POST", "/api/v1/silences"),
            ("POST", "/api/deploy"),
            ("DELETE", "/api/v1/tokens/3"),
        ] {
            assert_eq!(required(method, path), None, "{method} {path}");
        }
    }

    #[test]
    fn scope_lists_parse_as_typed() {
        assert_eq!(
            Scope::parse_list(["deploy", "alerts:write,read"]),
            Ok(vec![Scope::AlertsWrite, Scope::Deploy, Scope::Read])
        );
        assert!(Scope::parse_list(["admin"])
            .unwrap_err()
            .contains("unknown scope"));
        assert_eq!(
            serde_json::to_string(&Scope::AlertsWrite).unwrap(),
            "\"alerts:write\""
        );
    }
}
