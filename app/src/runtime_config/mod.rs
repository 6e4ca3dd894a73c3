//! Runtime configuration: a key has one value for all environments, which an environment may
//! override. A sensitive value is stored for the apps that read it from the server but never comes
//! back from any read: entries, history and the page show that it is set, by whom and when.

mod reach;

pub use reach::Reach;
use serde::{Deserialize, Serialize};
use serde_json::Value;

/// The scope of a value that applies to every environment without its own.
pub const ALL: &str = "all";

/// The live topic of configuration changes (which key, never the value).
pub const TOPIC: &str = "config";

/// Keys: lowercase letters, digits, `_`, `.`, `-`; 1 to 128 characters.
pub fn check_key(key: &str) -> Result<(), String> {
    let ok = !key.is_empty()
        && key.len() <= 128
        && key
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || matches!(c, '_' | '.' | '-'));
    if ok {
        Ok(())
    } else {
        Err(format!(
            "key: '{key}' is not a config key; use 1 to 128 lowercase letters, digits, '_', '.' or '-'"
        ))
    }
}

/// The largest value, as JSON text.
pub const MAX_VALUE_BYTES: usize = 64 * 1024;

/// Values: at most [`MAX_VALUE_BYTES`] as JSON text.
pub fn check_value(value: &Value) -> Result<(), String> {
    let bytes = value.to_string().len();
    if bytes > MAX_VALUE_BYTES {
        return Err(format!(
            "value: keep it under {} KiB (it is {bytes} bytes)",
            MAX_VALUE_BYTES / 1024
        ));
    }
    Ok(())
}

/// One stored value, as reads show it: `value` is `None` when it is sensitive.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ConfigEntry {
    pub key: String,
    /// `all` or the environment it is set for.
    pub environment: String,
    pub value: Option<Value>,
    pub sensitive: bool,
    pub version: i64,
    pub updated_by: String,
    pub updated_at: i64,
}

impl ConfigEntry {
    /// The entry as anyone may see it: a sensitive value is taken out.
    pub fn masked(mut self) -> ConfigEntry {
        if self.sensitive {
            self.value = None;
        }
        self
    }
}

/// The value that applies to a key in one environment, and where it comes from.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EffectiveValue {
    pub key: String,
    pub value: Option<Value>,
    pub sensitive: bool,
    /// The environment's own value, or `all`.
    pub source: String,
    /// Always true: listed keys have a value (a sensitive one is set even though not shown).
    pub set: bool,
    pub version: i64,
    pub updated_by: String,
    pub updated_at: i64,
}

/// The values in force in `environment`, by key: its own where it has one, else the value for
/// all. `entries` may be in any order; the result is sorted by key.
pub fn effective(entries: &[ConfigEntry], environment: &str) -> Vec<EffectiveValue> {
    let mut by_key: std::collections::BTreeMap<&str, &ConfigEntry> = Default::default();
    for entry in entries {
        let wins = entry.environment == environment
            || (entry.environment == ALL && !by_key.contains_key(entry.key.as_str()));
        if wins {
            by_key.insert(&entry.key, entry);
        }
    }
    by_key
        .into_values()
        .map(|e| EffectiveValue {
            key: e.key.clone(),
            value: if e.sensitive { None } else { e.value.clone() },
            sensitive: e.sensitive,
            source: e.environment.clone(),
            set: true,
            version: e.version,
            updated_by: e.updated_by.clone(),
            updated_at: e.updated_at,
        })
        .collect()
}

/// One change of a value, as history shows it (values of sensitive keys left out).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ConfigChange {
    pub id: i64,
    pub key: String,
    pub environment: String,
    pub at: i64,
    pub actor: String,
    /// `set`, `deleted` or `restored`.
    pub action: String,
    pub reason: Option<String>,
    pub sensitive: bool,
    /// Before the change; `None` when there was none or it is sensitive.
    pub old_value: Option<Value>,
    /// After the change; `None` after a deletion or when sensitive.
    pub new_value: Option<Value>,
}

/// A value for the page: JSON text for anything but a plain string.
pub fn display(value: &Value) -> String {
    match value {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use serde_json::json;

    fn entry(key: &str, environment: &str, value: Value, sensitive: bool) -> ConfigEntry {
        ConfigEntry {
            key: key.into(),
            environment: environment.into(),
            value: Some(value),
            sensitive,
            version: 1,
            updated_by: "ann".into(),
            updated_at: 5,
        }
    }

    #[test]
    fn keys_are_lowercase_words() {
        for good in [
            "db.pool_size",
            "a",
            "feature-x.timeout_ms",
            &"k".repeat(128),
        ] {
            assert_eq!(check_key(good), Ok(()), "{good}");
        }
        for bad in ["", "DB", "a b", "a/b", "ключ", &"k".repeat(129)] {
            assert!(check_key(bad).unwrap_err().starts_with("key:"), "{bad}");
        }
    }

    #[test]
    fn an_environment_overrides_the_value_for_all() {
        let entries = [
            entry("timeout_ms", ALL, json!(500), false),
            entry("timeout_ms", "production", json!(250), false),
            entry("log_level", ALL, json!("info"), false),
            entry("log_level", "staging", json!("debug"), false),
            entry("db_password", "production", json!("hunter2"), true),
        ];
        let prod = effective(&entries, "production");
        let keys: Vec<(&str, &str)> = prod
            .iter()
            .map(|e| (e.key.as_str(), e.source.as_str()))
            .collect();
        assert_eq!(
            keys,
            [
                ("db_password", "production"),
                ("log_level", ALL),
                ("timeout_ms", "production")
            ]
        );
        assert_eq!(prod[2].value, Some(json!(250)));
        assert_eq!((prod[0].value.clone(), prod[0].set), (None, true));
        let staging = effective(&entries, "staging");
        assert_eq!(
            staging.len(),
            2,
            "production's own values stay in production"
        );
    }

    proptest! {
        /// Whatever is stored, a sensitive value never comes out of a read, and each key's
        /// value comes from the environment when it has one.
        #[test]
        fn sensitive_values_never_come_back(
            secret in "[a-zA-Z0-9]{8,16}",
            rows in proptest::collection::vec(("[a-c]", prop_oneof![Just("all"), Just("prod"), Just("dev")], any::<bool>()), 1..12),
        ) {
            // One value per key and scope, as the table's primary key has it.
            let unique: std::collections::BTreeMap<(String, &str), bool> =
                rows.iter().map(|(k, env, sensitive)| ((k.clone(), *env), *sensitive)).collect();
            let entries: Vec<ConfigEntry> = unique.iter()
                .map(|((k, env), sensitive)| entry(k, env, json!(format!("{secret}-{k}-{env}")), *sensitive))
                .collect();
            for environment in ["prod", "dev"] {
                let shown = effective(&entries, environment);
                for e in &shown {
                    let from = entries.iter().find(|x| x.key == e.key && x.environment == e.source).unwrap();
                    if from.sensitive {
                        prop_assert!(e.value.is_none());
                    }
                    let own = entries.iter().any(|x| x.key == e.key && x.environment == environment);
                    prop_assert_eq!(&e.source, if own { environment } else { ALL });
                }
                let text = serde_json::to_string(&shown).unwrap();
                for x in entries.iter().filter(|x| x.sensitive) {
                    let value = x.value.as_ref().unwrap().as_str().unwrap();
                    prop_assert!(!text.contains(value));
                }
                let masked: Vec<ConfigEntry> = entries.iter().cloned().map(ConfigEntry::masked).collect();
                let text = serde_json::to_string(&masked).unwrap();
                for x in entries.iter().filter(|x| x.sensitive) {
                    prop_assert!(!text.contains(x.value.as_ref().unwrap().as_str().unwrap()));
                }
            }
        }
    }
}
