//! Which protected environments a change of a key reaches: the page asks for the first one's
//! name typed out, and the server functions refuse the change without it.

use super::{ConfigEntry, ALL};
use crate::catalog::Environment;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// What decides where a change of a key reaches: the protected environments, and which of them
/// have a value of their own for each key (a change for all environments leaves those alone).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Reach {
    /// The protected environments, in the catalog's order.
    pub protected: Vec<String>,
    /// Per key, the protected environments with a value of their own.
    pub own: BTreeMap<String, Vec<String>>,
}

impl Reach {
    /// From the stored values of every scope (or at least every protected environment's).
    pub fn new(entries: &[ConfigEntry], environments: &[Environment]) -> Reach {
        let protected: Vec<String> = environments
            .iter()
            .filter(|e| e.protected)
            .map(|e| e.name.clone())
            .collect();
        let mut own: BTreeMap<String, Vec<String>> = BTreeMap::new();
        for entry in entries
            .iter()
            .filter(|e| protected.contains(&e.environment))
        {
            own.entry(entry.key.clone())
                .or_default()
                .push(entry.environment.clone());
        }
        Reach { protected, own }
    }

    /// The protected environments whose value of `key` a change in `scope` (set, remove or
    /// undo) changes, in the catalog's order: the environment itself when it is protected; for
    /// all environments, each protected one without a value of its own.
    pub fn protected_reached(&self, scope: &str, key: &str) -> Vec<String> {
        let own = self.own.get(key);
        self.protected
            .iter()
            .filter(|name| match scope {
                ALL => !own.is_some_and(|own| own.contains(name)),
                scope => scope == name.as_str(),
            })
            .cloned()
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn environment(name: &str, rank: i64, protected: bool) -> Environment {
        Environment {
            id: rank,
            name: name.into(),
            rank,
            protected,
            created_at: 0,
        }
    }

    fn entry(key: &str, environment: &str) -> ConfigEntry {
        ConfigEntry {
            key: key.into(),
            environment: environment.into(),
            value: None,
            sensitive: true,
            version: 1,
            updated_by: "ann".into(),
            updated_at: 5,
        }
    }

    fn catalog() -> Vec<Environment> {
        vec![
            environment("dev", 1, false),
            environment("staging", 2, false),
            environment("canary", 3, true),
            environment("production", 4, true),
        ]
    }

    #[test]
    fn a_change_for_all_reaches_the_protected_environments_without_their_own_value() {
        let entries = [
            entry("timeout_ms", ALL),
            entry("timeout_ms", "canary"),
            entry("timeout_ms", "staging"),
            entry("log_level", "production"),
            entry("log_level", "canary"),
        ];
        let reach = Reach::new(&entries, &catalog());
        assert_eq!(reach.protected_reached(ALL, "timeout_ms"), ["production"]);
        assert!(
            reach.protected_reached(ALL, "log_level").is_empty(),
            "both protected environments keep their own value"
        );
        assert_eq!(
            reach.protected_reached(ALL, "a.new_key"),
            ["canary", "production"],
            "a key nobody has set yet reaches every protected environment, in the catalog's order"
        );
    }

    #[test]
    fn a_change_in_one_environment_reaches_it_alone_when_protected() {
        let reach = Reach::new(&[entry("timeout_ms", "production")], &catalog());
        assert_eq!(
            reach.protected_reached("production", "timeout_ms"),
            ["production"]
        );
        assert_eq!(reach.protected_reached("canary", "a.new_key"), ["canary"]);
        assert!(reach.protected_reached("staging", "timeout_ms").is_empty());
        assert!(
            Reach::new(&[], &[environment("dev", 1, false)])
                .protected_reached(ALL, "timeout_ms")
                .is_empty(),
            "nothing is protected"
        );
    }
}
