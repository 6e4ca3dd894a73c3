//! Feature flags: what a flag is, what makes one valid, and (in [`evaluate`]) what a given user
//! gets from it. Pure, so the server, the OFREP endpoints and the page's evaluation preview all
//! answer alike.

pub mod change;
pub mod condition;
pub mod describe;
pub mod evaluate;
pub mod history;
pub mod restore;
pub mod rollout;

use condition::Condition;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use std::collections::BTreeMap;

/// The live topic of flag changes.
pub const TOPIC: &str = "flags";

/// The type of every variant's value, as OpenFeature's typed getters expect it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum FlagKind {
    Boolean,
    String,
    Number,
    Object,
}

impl FlagKind {
    pub fn as_str(self) -> &'static str {
        match self {
            FlagKind::Boolean => "boolean",
            FlagKind::String => "string",
            FlagKind::Number => "number",
            FlagKind::Object => "object",
        }
    }

    fn fits(self, value: &Value) -> bool {
        match self {
            FlagKind::Boolean => value.is_boolean(),
            FlagKind::String => value.is_string(),
            FlagKind::Number => value.is_number(),
            FlagKind::Object => value.is_object() || value.is_array(),
        }
    }
}

/// One targeting rule: it matches when every part it names matches (the targeting key is one of
/// `users`, the context's `role`/`roles` meets `roles`, every condition holds), and then serves
/// `variant`. Rules are tried in order; the first that matches wins.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Rule {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub users: Vec<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub roles: Vec<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub conditions: Vec<Condition>,
    pub variant: String,
}

/// A percentage rollout: variant name → share in percent; the shares sum to 100.
pub type Rollout = BTreeMap<String, f64>;

/// What an environment changes of a flag's base settings; an absent field keeps the base one.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EnvironmentSettings {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub enabled: Option<bool>,
    #[serde(
        default,
        alias = "defaultVariant",
        skip_serializing_if = "Option::is_none"
    )]
    pub default_variant: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rules: Option<Vec<Rule>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rollout: Option<Rollout>,
}

/// The automatic kill switch: when the named SLO's page-level burn alert fires, the flag is
/// disabled and serves `variant`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct KillSwitch {
    /// The SLO's name.
    pub slo: String,
    /// The service the SLO belongs to: SLO names are unique per service only, and most services
    /// have an "availability". Filled in by the server when `slo` names one SLO; `None` only on
    /// kill switches stored before it existed, which follow every SLO of that name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub service: Option<String>,
    /// The safe variant.
    pub variant: String,
}

impl KillSwitch {
    /// Whether the SLO `name` of `service` is the one this kill switch follows.
    pub fn follows(&self, service: &str, name: &str) -> bool {
        self.slo == name && self.service.as_deref().is_none_or(|s| s == service)
    }

    /// "checkout-api / availability", as the SLO list names it.
    pub fn slo_label(&self) -> String {
        match &self.service {
            Some(service) => format!("{service} / {}", self.slo),
            None => self.slo.clone(),
        }
    }
}

/// A feature flag as stored and served. The last four fields are set by the server; a client may
/// send them back (GET, edit, PUT) and they are ignored.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Flag {
    #[serde(default)]
    pub key: String,
    #[serde(default)]
    pub description: String,
    pub kind: FlagKind,
    pub variants: BTreeMap<String, Value>,
    #[serde(alias = "defaultVariant")]
    pub default_variant: String,
    #[serde(default = "enabled_by_default")]
    pub enabled: bool,
    #[serde(default)]
    pub rules: Vec<Rule>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rollout: Option<Rollout>,
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub environments: BTreeMap<String, EnvironmentSettings>,
    #[serde(default, alias = "killSwitch", skip_serializing_if = "Option::is_none")]
    pub kill_switch: Option<KillSwitch>,
    /// Counts every change, from 1.
    #[serde(default)]
    pub version: i64,
    #[serde(default)]
    pub created_at: i64,
    #[serde(default)]
    pub updated_at: i64,
    #[serde(default)]
    pub updated_by: String,
}

fn enabled_by_default() -> bool {
    true
}

/// One change of a flag, as its history shows it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FlagChange {
    pub id: i64,
    pub at: i64,
    pub actor: String,
    /// `created`, `updated`, `deleted`, `killed`, `restored`.
    pub action: String,
    pub reason: Option<String>,
    /// The flag after the change (before it, for a deletion).
    pub flag: Flag,
}

/// Flag keys, as OpenFeature SDKs pass them: letters, digits, `_`, `.`, `-`, starting with a
/// letter or digit, at most 128 characters.
pub fn check_key(key: &str) -> Result<(), String> {
    let ok = !key.is_empty()
        && key.len() <= 128
        && key.starts_with(|c: char| c.is_ascii_alphanumeric())
        && key
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | '-'));
    if ok {
        Ok(())
    } else {
        Err(format!(
            "key: '{key}' is not a flag key; use 1 to 128 letters, digits, '_', '.' or '-', starting with a letter or digit"
        ))
    }
}

fn check_rollout(flag: &Flag, rollout: &Rollout, field: &str) -> Result<(), String> {
    if rollout.is_empty() {
        return Err(format!("{field}: name at least one variant with its share"));
    }
    for (variant, share) in rollout {
        flag.check_variant(variant, field)?;
        if !share.is_finite() || *share < 0.0 {
            return Err(format!(
                "{field}: the share of '{variant}' must be a percentage from 0 to 100"
            ));
        }
    }
    let sum: f64 = rollout.values().sum();
    if (sum - 100.0).abs() > 1e-6 {
        return Err(format!(
            "{field}: the shares must sum to 100 (they sum to {sum})"
        ));
    }
    Ok(())
}

fn check_rules(flag: &Flag, rules: &[Rule], field: &str) -> Result<(), String> {
    for (i, rule) in rules.iter().enumerate() {
        let at = format!("{field}[{i}]");
        flag.check_variant(&rule.variant, &format!("{at}.variant"))?;
        if rule.users.is_empty() && rule.roles.is_empty() && rule.conditions.is_empty() {
            return Err(format!(
                "{at}: a rule needs users, roles or conditions to match; serve everyone through default_variant"
            ));
        }
    }
    Ok(())
}

impl Flag {
    fn check_variant(&self, name: &str, field: &str) -> Result<(), String> {
        if self.variants.contains_key(name) {
            Ok(())
        } else {
            let known: Vec<&str> = self.variants.keys().map(String::as_str).collect();
            Err(format!(
                "{field}: there is no variant '{name}' (the variants are {})",
                known.join(", ")
            ))
        }
    }

    /// Checks everything that does not need the database (environment and SLO names do); the
    /// message starts with the offending field.
    pub fn validate(&self) -> Result<(), String> {
        check_key(&self.key)?;
        if self.description.len() > 1000 {
            return Err("description: keep it under 1,000 characters".into());
        }
        if self.variants.is_empty() {
            return Err("variants: a flag needs at least one variant".into());
        }
        for (name, value) in &self.variants {
            let name_ok = !name.is_empty()
                && name.len() <= 64
                && name
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | '-'));
            if !name_ok {
                return Err(format!(
                    "variants: '{name}' is not a variant name; use 1 to 64 letters, digits, '_', '.' or '-'"
                ));
            }
            if !self.kind.fits(value) {
                return Err(format!(
                    "variants.{name}: a {} flag's variants must be {} values",
                    self.kind.as_str(),
                    self.kind.as_str()
                ));
            }
        }
        self.check_variant(&self.default_variant, "default_variant")?;
        check_rules(self, &self.rules, "rules")?;
        if let Some(rollout) = &self.rollout {
            check_rollout(self, rollout, "rollout")?;
        }
        for (environment, settings) in &self.environments {
            let at = format!("environments.{environment}");
            if let Some(variant) = &settings.default_variant {
                self.check_variant(variant, &format!("{at}.default_variant"))?;
            }
            if let Some(rules) = &settings.rules {
                check_rules(self, rules, &format!("{at}.rules"))?;
            }
            if let Some(rollout) = &settings.rollout {
                check_rollout(self, rollout, &format!("{at}.rollout"))?;
            }
        }
        if let Some(kill) = &self.kill_switch {
            self.check_variant(&kill.variant, "kill_switch.variant")?;
            if kill.slo.trim().is_empty() {
                return Err(
                    "kill_switch.slo: name the SLO whose page alert switches this flag off".into(),
                );
            }
        }
        Ok(())
    }

    /// The settings that apply in `environment`: the base ones with that environment's changes.
    pub fn settings_for(&self, environment: Option<&str>) -> EffectiveSettings<'_> {
        let found = environment.and_then(|e| self.environments.get_key_value(e));
        let over = found.map(|(_, o)| o);
        EffectiveSettings {
            enabled: over.and_then(|o| o.enabled).unwrap_or(self.enabled),
            default_variant: over
                .and_then(|o| o.default_variant.as_deref())
                .unwrap_or(&self.default_variant),
            rules: over.and_then(|o| o.rules.as_deref()).unwrap_or(&self.rules),
            rollout: over
                .and_then(|o| o.rollout.as_ref())
                .or(self.rollout.as_ref()),
            environment: found.map(|(name, _)| name.as_str()),
        }
    }
}

/// A flag's settings in one environment, borrowed from the flag.
#[derive(Debug, Clone, Copy)]
pub struct EffectiveSettings<'a> {
    pub enabled: bool,
    pub default_variant: &'a str,
    pub rules: &'a [Rule],
    pub rollout: Option<&'a Rollout>,
    /// The environment whose settings these are; `None` for the base settings.
    pub environment: Option<&'a str>,
}

/// The rollout in words: "off 70% · on 30%" (variants with no share left out).
pub fn describe_rollout(rollout: &Rollout) -> String {
    rollout
        .iter()
        .filter(|(_, share)| **share > 0.0)
        .map(|(variant, share)| format!("{variant} {share}%"))
        .collect::<Vec<_>>()
        .join(" · ")
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    pub(crate) fn flag(value: Value) -> Flag {
        serde_json::from_value(value).unwrap()
    }

    fn checkout() -> Value {
        json!({
            "key": "new-checkout",
            "kind": "boolean",
            "variants": {"on": true, "off": false},
            "default_variant": "off",
            "rules": [{"roles": ["admin"], "variant": "on"}],
            "rollout": {"on": 30, "off": 70}
        })
    }

    #[test]
    fn a_sound_flag_passes_and_defaults_to_enabled() {
        let f = flag(checkout());
        assert!(f.enabled);
        assert_eq!(f.validate(), Ok(()));
    }

    #[test]
    fn each_mistake_names_its_field() {
        let cases = [
            (json!({"key": "bad key"}), "key:"),
            (json!({"key": ""}), "key:"),
            (json!({"key": "x".repeat(129)}), "key:"),
            (
                json!({"rollout": {"on": 30, "off": 60}}),
                "rollout: the shares must sum to 100",
            ),
            (json!({"rollout": {"on": 130, "off": -30}}), "rollout:"),
            (
                json!({"rollout": {"maybe": 100}}),
                "rollout: there is no variant 'maybe'",
            ),
            (json!({"default_variant": "nope"}), "default_variant:"),
            (
                json!({"variants": {"on": "yes", "off": false}}),
                "variants.on:",
            ),
            (json!({"variants": {}}), "variants:"),
            (json!({"rules": [{"variant": "on"}]}), "rules[0]:"),
            (
                json!({"rules": [{"users": ["a"], "variant": "x"}]}),
                "rules[0].variant:",
            ),
            (
                json!({"environments": {"prod": {"rollout": {"on": 1}}}}),
                "environments.prod.rollout:",
            ),
            (
                json!({"kill_switch": {"slo": "checkout", "variant": "x"}}),
                "kill_switch.variant:",
            ),
        ];
        for (change, field) in cases {
            let mut value = checkout();
            for (k, v) in change.as_object().unwrap() {
                value[k] = v.clone();
            }
            let err = flag(value).validate().unwrap_err();
            assert!(err.starts_with(field), "{change}: {err}");
        }
    }

    #[test]
    fn unknown_fields_are_refused_but_server_fields_are_accepted_back() {
        let mut value = checkout();
        value["defaultvariant"] = json!("on");
        assert!(serde_json::from_value::<Flag>(value).is_err());
        let mut value = checkout();
        value["version"] = json!(4);
        value["updated_by"] = json!("alice");
        assert!(serde_json::from_value::<Flag>(value).is_ok());
    }

    #[test]
    fn an_environment_changes_only_what_it_names() {
        let mut value = checkout();
        value["environments"] = json!({"production": {"enabled": false}});
        let f = flag(value);
        let prod = f.settings_for(Some("production"));
        assert!(!prod.enabled);
        assert_eq!(prod.default_variant, "off");
        assert_eq!(prod.rules.len(), 1);
        assert_eq!(prod.environment, Some("production"));
        let staging = f.settings_for(Some("staging"));
        assert!(staging.enabled);
        assert_eq!(staging.environment, None);
        assert!(f.settings_for(None).enabled);
    }
}
