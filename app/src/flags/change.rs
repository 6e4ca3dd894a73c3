//! A change an admin makes from a flag's page (switch it on or off, set its rollout), in the
//! base settings or in one environment's: the flag after it, the body the server stores it
//! with, and the protected environments whose users it reaches. Each of those asks for its name
//! typed out; pure, so the dialog asks exactly when the server function will.

use super::{Flag, Rollout};
use crate::catalog::Environment;
use serde_json::{json, Value};

/// One setting, as the page's dialogs change it.
#[derive(Debug, Clone, PartialEq)]
pub enum Setting {
    Enabled(bool),
    Rollout(Rollout),
}

/// The flag with `setting` set in `environment` (`None`: the base settings, which serve every
/// environment without a setting of its own); an environment's other settings stay.
pub fn with_setting(flag: &Flag, environment: Option<&str>, setting: &Setting) -> Flag {
    let mut after = flag.clone();
    match environment {
        None => match setting {
            Setting::Enabled(on) => after.enabled = *on,
            Setting::Rollout(r) => after.rollout = Some(r.clone()),
        },
        Some(name) => {
            let own = after.environments.entry(name.to_string()).or_default();
            match setting {
                Setting::Enabled(on) => own.enabled = Some(*on),
                Setting::Rollout(r) => own.rollout = Some(r.clone()),
            }
        }
    }
    after
}

/// The body `PUT /api/v1/flags/{key}` takes for it: only the field the setting lives in, so a
/// change made meanwhile to another field stays.
pub fn change_body(after: &Flag, environment: Option<&str>, setting: &Setting) -> Value {
    match (environment, setting) {
        (Some(_), _) => json!({ "environments": after.environments }),
        (None, Setting::Enabled(on)) => json!({ "enabled": on }),
        (None, Setting::Rollout(r)) => json!({ "rollout": r }),
    }
}

/// The protected environments, in the catalog's order, whose users `after` serves differently
/// from `before`.
pub fn protected_reached(before: &Flag, after: &Flag, environments: &[Environment]) -> Vec<String> {
    environments
        .iter()
        .filter(|e| e.protected && serves_differently(before, after, &e.name))
        .map(|e| e.name.clone())
        .collect()
}

fn serves_differently(a: &Flag, b: &Flag, environment: &str) -> bool {
    let (x, y) = (
        a.settings_for(Some(environment)),
        b.settings_for(Some(environment)),
    );
    a.variants != b.variants
        || a.kill_switch != b.kill_switch
        || (x.enabled, x.default_variant, x.rules, x.rollout)
            != (y.enabled, y.default_variant, y.rules, y.rollout)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::flags::tests::flag;

    fn environment(name: &str, protected: bool) -> Environment {
        Environment {
            id: 0,
            name: name.into(),
            rank: 0,
            protected,
            created_at: 0,
        }
    }

    fn catalog() -> [Environment; 3] {
        [
            environment("staging", false),
            environment("production", true),
            environment("eu-production", true),
        ]
    }

    fn checkout(rollout: Value, environments: Value) -> Flag {
        flag(json!({
            "key": "one-page-checkout", "kind": "boolean",
            "variants": {"on": true, "off": false}, "default_variant": "off",
            "rollout": rollout, "environments": environments,
        }))
    }

    fn half() -> Rollout {
        Rollout::from([("off".into(), 50.0), ("on".into(), 50.0)])
    }

    #[test]
    fn only_protected_environments_served_differently_are_reached() {
        // eu-production keeps a rollout of its own either way; the base change reaches
        // production and staging.
        let own = json!({"eu-production": {"rollout": {"on": 0, "off": 100}}});
        let before = checkout(json!({"on": 10, "off": 90}), own.clone());
        let after = checkout(json!({"on": 50, "off": 50}), own);
        assert_eq!(
            protected_reached(&before, &after, &catalog()),
            vec!["production"]
        );
        // A change of staging's own settings reaches no protected environment.
        let plain = checkout(json!({"on": 10, "off": 90}), json!({}));
        let staging = with_setting(&plain, Some("staging"), &Setting::Enabled(false));
        assert!(protected_reached(&plain, &staging, &catalog()).is_empty());
        // A variant's value serves differently everywhere.
        let mut other_value = plain.clone();
        other_value.variants.insert("on".into(), json!(false));
        assert_eq!(
            protected_reached(&plain, &other_value, &catalog()),
            vec!["production", "eu-production"]
        );
    }

    #[test]
    fn switching_the_base_settings_reaches_what_has_no_switch_of_its_own() {
        // "Turn off everywhere…": production has its own switch, so only eu-production is
        // reached; a setting equal to what serves reaches nothing.
        let f = checkout(json!(null), json!({"production": {"enabled": true}}));
        let off = with_setting(&f, None, &Setting::Enabled(false));
        assert!(!off.enabled);
        assert_eq!(
            protected_reached(&f, &off, &catalog()),
            vec!["eu-production"]
        );
        let on = with_setting(&f, None, &Setting::Enabled(true));
        assert!(protected_reached(&f, &on, &catalog()).is_empty());
        assert_eq!(
            change_body(&off, None, &Setting::Enabled(false)),
            json!({"enabled": false})
        );
    }

    #[test]
    fn an_environment_keeps_its_other_settings() {
        let f = checkout(
            json!({"on": 20, "off": 80}),
            json!({"dev": {"rollout": {"on": 100, "off": 0}}, "production": {"enabled": false}}),
        );
        let base = Setting::Rollout(half());
        let after = with_setting(&f, None, &base);
        assert_eq!(
            change_body(&after, None, &base),
            json!({"rollout": {"off": 50.0, "on": 50.0}})
        );
        let in_production = with_setting(&f, Some("production"), &base);
        let change = change_body(&in_production, Some("production"), &base);
        assert_eq!(
            change["environments"]["production"]["enabled"],
            json!(false)
        );
        assert_eq!(
            change["environments"]["production"]["rollout"]["on"],
            json!(50.0)
        );
        assert_eq!(change["environments"]["dev"]["rollout"]["on"], json!(100.0));
        assert_eq!(
            protected_reached(&f, &in_production, &catalog()),
            vec!["production"]
        );
    }
}
