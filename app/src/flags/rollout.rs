//! Changing a flag's percentage rollout from its page: what the form starts from, what its
//! fields say, and where the change reaches. Pure, so the dialog (in the
//! browser) and the server function check the same way. The browser reads the fields as
//! numbers itself (`valueAsNumber`), and the dialog sends the rollout as JSON text written
//! here: parsing and printing floats in Rust would add about 20 KB to the page's bundle.

use super::{Flag, Rollout};

/// The shares the form starts from, one per variant in the flag's order: the rollout that
/// serves in `environment` (`None`: the base settings), or without one, all of it to the
/// variant served by default there.
pub fn starting_shares(flag: &Flag, environment: Option<&str>) -> Vec<(String, f64)> {
    let settings = flag.settings_for(environment);
    flag.variants
        .keys()
        .map(|variant| {
            let share = match settings.rollout {
                Some(rollout) => rollout.get(variant).copied().unwrap_or(0.0),
                None if variant == settings.default_variant => 100.0,
                None => 0.0,
            };
            (variant.clone(), share)
        })
        .collect()
}

/// The rollout the form's fields describe, or what is wrong with them in words. A field the
/// browser reads as no number (NaN: empty, or not a number yet) is 0%: a person clears the
/// variants they do not want.
pub fn shares_from_fields(fields: &[(String, f64)]) -> Result<Rollout, String> {
    let mut rollout = Rollout::new();
    for (variant, share) in fields {
        let share = if share.is_nan() { 0.0 } else { *share };
        if !(0.0..=100.0).contains(&share) {
            return Err(format!(
                "The share of {variant} must be from 0 to 100, not {share}."
            ));
        }
        rollout.insert(variant.clone(), share);
    }
    let sum: f64 = rollout.values().sum();
    if (sum - 100.0).abs() > 1e-6 {
        // Rounded for reading: 0.1 + 0.2 is not worth showing as 0.30000000000000004.
        let sum = (sum * 1000.0).round() / 1000.0;
        return Err(format!("The shares sum to {sum}%; they must sum to 100%."));
    }
    Ok(rollout)
}

/// `rollout` as a JSON object. Variant names are letters, digits, '_', '.' and '-' (checked
/// when a flag is stored), so they need no escaping; a share prints as a plain decimal.
pub fn rollout_json(rollout: &Rollout) -> String {
    let pairs: Vec<String> = rollout
        .iter()
        .map(|(variant, share)| format!("\"{variant}\":{share}"))
        .collect();
    format!("{{{}}}", pairs.join(","))
}

/// The environments whose users a change of the rollout in `environment` reaches: that one, or
/// for the base settings each of `environments` that has no rollout of its own.
pub fn reached_by(flag: &Flag, environments: &[String], environment: Option<&str>) -> Vec<String> {
    match environment {
        Some(name) => vec![name.to_string()],
        None => environments
            .iter()
            .filter(|e| {
                flag.environments
                    .get(*e)
                    .is_none_or(|own| own.rollout.is_none())
            })
            .cloned()
            .collect(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::flags::tests::flag;
    use serde_json::json;

    fn checkout() -> Flag {
        flag(json!({
            "key": "one-page-checkout",
            "kind": "boolean",
            "variants": {"on": true, "off": false},
            "default_variant": "off",
            "rollout": {"on": 20, "off": 80},
            "environments": {
                "dev": {"rollout": {"on": 100, "off": 0}},
                "production": {"enabled": false}
            }
        }))
    }

    fn fields(pairs: &[(&str, f64)]) -> Vec<(String, f64)> {
        pairs.iter().map(|(v, s)| (v.to_string(), *s)).collect()
    }

    #[test]
    fn the_form_starts_from_what_serves_there() {
        let f = checkout();
        assert_eq!(
            starting_shares(&f, None),
            fields(&[("off", 80.0), ("on", 20.0)])
        );
        assert_eq!(
            starting_shares(&f, Some("dev")),
            fields(&[("off", 0.0), ("on", 100.0)])
        );
        // Its own settings without a rollout of their own: the base rollout serves there.
        assert_eq!(
            starting_shares(&f, Some("production")),
            fields(&[("off", 80.0), ("on", 20.0)])
        );
        let mut plain = f.clone();
        plain.rollout = None;
        assert_eq!(
            starting_shares(&plain, None),
            fields(&[("off", 100.0), ("on", 0.0)])
        );
    }

    #[test]
    fn fields_make_a_rollout_only_when_they_sum_to_100() {
        let ok = shares_from_fields(&fields(&[("off", 62.5), ("on", 37.5)])).unwrap();
        assert_eq!(
            ok,
            Rollout::from([("off".into(), 62.5), ("on".into(), 37.5)])
        );
        // An empty field (the browser's NaN) is nothing for that variant.
        let all_on = shares_from_fields(&fields(&[("off", f64::NAN), ("on", 100.0)])).unwrap();
        assert_eq!(all_on["off"], 0.0);
        let short = shares_from_fields(&fields(&[("off", 70.0), ("on", 20.0)])).unwrap_err();
        assert_eq!(short, "The shares sum to 90%; they must sum to 100%.");
        let tenths = shares_from_fields(&fields(&[("off", 0.1), ("on", 0.2)])).unwrap_err();
        assert!(tenths.contains("sum to 0.3%"), "{tenths}");
        assert!(
            shares_from_fields(&fields(&[("off", 120.0), ("on", -20.0)]))
                .unwrap_err()
                .contains("from 0 to 100, not 120")
        );
        assert!(shares_from_fields(&fields(&[("off", f64::INFINITY), ("on", 0.0)])).is_err());
    }

    #[test]
    fn the_rollout_goes_to_the_server_as_the_json_it_is() {
        for rollout in [
            Rollout::from([("off".into(), 62.5), ("on".into(), 37.5)]),
            Rollout::from([("a.b-c_1".into(), 0.1), ("z".into(), 99.9)]),
            Rollout::from([("tiny".into(), 1e-7), ("rest".into(), 100.0 - 1e-7)]),
        ] {
            let text = rollout_json(&rollout);
            assert_eq!(
                serde_json::from_str::<Rollout>(&text).unwrap(),
                rollout,
                "{text}"
            );
        }
    }

    #[test]
    fn a_base_change_reaches_the_environments_without_a_rollout_of_their_own() {
        let f = checkout();
        let all: Vec<String> = ["dev", "staging", "canary", "production"]
            .map(String::from)
            .into();
        assert_eq!(
            reached_by(&f, &all, None),
            ["staging", "canary", "production"]
        );
        assert_eq!(reached_by(&f, &all, Some("dev")), ["dev"]);
    }
}
