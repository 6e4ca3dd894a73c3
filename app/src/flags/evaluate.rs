//! What a flag serves to one evaluation context, in the order the product promises:
//! 1. the flag is disabled → its default variant, reason `DISABLED`;
//! 2. the first rule that matches → its variant, `TARGETING_MATCH`;
//! 3. a percentage rollout → the variant of the caller's bucket, `SPLIT`;
//! 4. otherwise → the default variant, `DEFAULT`.
//!
//! Buckets are sticky: [`bucket`] hashes the flag key and the targeting key with 64-bit FNV-1a
//! (offset basis 0xcbf29ce484222325, prime 0x100000001b3) over the UTF-8 bytes of
//! `"{flag_key}/{targeting_key}"` and takes the result modulo 10,000. The rollout's variants, in
//! name order, take consecutive ranges of that scale in proportion to their shares (30% → 3,000
//! buckets). Nothing random or stored is involved, so a user lands in the same variant on every
//! replica, after every restart, and keeps it while the shares grow.

use super::{Flag, Rule};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

/// The evaluation context: OFREP's `context` object, `targetingKey` plus any attributes.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Context {
    #[serde(
        rename = "targetingKey",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub targeting_key: Option<String>,
    #[serde(flatten)]
    pub attributes: Map<String, Value>,
}

/// Why a context could not be evaluated, as OFREP names it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ContextError {
    /// `INVALID_CONTEXT`
    Invalid(String),
    /// `TARGETING_KEY_MISSING`
    TargetingKeyMissing(String),
}

impl ContextError {
    pub fn code(&self) -> &'static str {
        match self {
            ContextError::Invalid(_) => "INVALID_CONTEXT",
            ContextError::TargetingKeyMissing(_) => "TARGETING_KEY_MISSING",
        }
    }
    pub fn details(&self) -> &str {
        match self {
            ContextError::Invalid(d) | ContextError::TargetingKeyMissing(d) => d,
        }
    }
}

impl Context {
    /// Reads OFREP's `context` value: absent or `null` is an empty context; anything but an
    /// object, or a `targetingKey` that is not a string, is invalid.
    pub fn from_json(value: Option<&Value>) -> Result<Context, ContextError> {
        let object = match value {
            None | Some(Value::Null) => return Ok(Context::default()),
            Some(Value::Object(o)) => o,
            Some(_) => {
                return Err(ContextError::Invalid(
                    "context must be a JSON object of attributes".into(),
                ))
            }
        };
        let mut attributes = object.clone();
        let targeting_key = match attributes.remove("targetingKey") {
            None | Some(Value::Null) => None,
            Some(Value::String(key)) => Some(key),
            Some(_) => {
                return Err(ContextError::Invalid(
                    "targetingKey must be a string".into(),
                ))
            }
        };
        Ok(Context {
            targeting_key,
            attributes,
        })
    }

    /// The context's `environment` attribute, if it is a string.
    pub fn environment(&self) -> Option<&str> {
        self.attributes.get("environment").and_then(Value::as_str)
    }

    fn has_role(&self, roles: &[String]) -> bool {
        let named = |r: &str| roles.iter().any(|want| want == r);
        let single = self
            .attributes
            .get("role")
            .and_then(Value::as_str)
            .is_some_and(named);
        let listed = self
            .attributes
            .get("roles")
            .and_then(Value::as_array)
            .is_some_and(|list| list.iter().filter_map(Value::as_str).any(named));
        single || listed
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum Reason {
    Disabled,
    TargetingMatch,
    Split,
    Default,
}

impl Reason {
    pub fn as_str(self) -> &'static str {
        match self {
            Reason::Disabled => "DISABLED",
            Reason::TargetingMatch => "TARGETING_MATCH",
            Reason::Split => "SPLIT",
            Reason::Default => "DEFAULT",
        }
    }
}

/// What a flag served and why.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Evaluation {
    pub variant: String,
    pub value: Value,
    pub reason: Reason,
    /// The index of the rule that matched (`TARGETING_MATCH`).
    pub rule: Option<usize>,
    /// The bucket, 0 to 9,999 (`SPLIT`).
    pub bucket: Option<u32>,
    /// The environment whose settings applied; `None` for the base settings.
    pub environment: Option<String>,
}

impl Evaluation {
    /// In words, for the page's preview: "on, because rule 1 (roles admin) matched".
    pub fn explain(&self, flag: &Flag) -> String {
        let source = match &self.environment {
            Some(e) => format!(" ({e} settings)"),
            None => String::new(),
        };
        let why = match self.reason {
            Reason::Disabled => "the flag is disabled, so it serves its default".to_string(),
            Reason::TargetingMatch => {
                let n = self.rule.unwrap_or(0);
                let rules = flag.settings_for(self.environment.as_deref()).rules;
                let named = rules
                    .get(n)
                    .and_then(|r| r.name.clone())
                    .map(|name| format!(" \"{name}\""))
                    .unwrap_or_default();
                format!("rule {}{named} matched", n + 1)
            }
            Reason::Split => format!(
                "the rollout put this targeting key in bucket {} of 10,000",
                self.bucket.unwrap_or(0)
            ),
            Reason::Default => "no rule matched and there is no rollout".to_string(),
        };
        format!("{}: {why}{source}", self.variant)
    }
}

/// The sticky bucket of a targeting key for a flag, 0 to 9,999 (see the module comment).
pub fn bucket(flag_key: &str, targeting_key: &str) -> u32 {
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    for byte in flag_key
        .bytes()
        .chain(std::iter::once(b'/'))
        .chain(targeting_key.bytes())
    {
        hash ^= u64::from(byte);
        hash = hash.wrapping_mul(0x0000_0100_0000_01b3);
    }
    (hash % 10_000) as u32
}

fn rule_matches(rule: &Rule, context: &Context) -> bool {
    let users = rule.users.is_empty()
        || context
            .targeting_key
            .as_deref()
            .is_some_and(|key| rule.users.iter().any(|u| u == key));
    let roles = rule.roles.is_empty() || context.has_role(&rule.roles);
    users
        && roles
        && rule.conditions.iter().all(|c| {
            let value = if c.attribute == "targetingKey" {
                context.targeting_key.clone().map(Value::String)
            } else {
                context.attributes.get(&c.attribute).cloned()
            };
            c.holds(value.as_ref())
        })
}

/// Evaluates `flag` for `context`. `environment` is the one the caller stands for (the context's
/// `environment` attribute, else the token's); `None` uses the base settings. Fails only when a
/// rollout has to place a context without a targeting key.
pub fn evaluate(
    flag: &Flag,
    context: &Context,
    environment: Option<&str>,
) -> Result<Evaluation, ContextError> {
    let settings = flag.settings_for(environment);
    let serve = |variant: &str, reason, rule, bucket| Evaluation {
        variant: variant.to_string(),
        value: flag.variants.get(variant).cloned().unwrap_or(Value::Null),
        reason,
        rule,
        bucket,
        environment: settings.environment.map(str::to_string),
    };
    if !settings.enabled {
        return Ok(serve(
            settings.default_variant,
            Reason::Disabled,
            None,
            None,
        ));
    }
    if let Some(n) = settings.rules.iter().position(|r| rule_matches(r, context)) {
        let variant = &settings.rules[n].variant;
        return Ok(serve(variant, Reason::TargetingMatch, Some(n), None));
    }
    if let Some(rollout) = settings.rollout {
        let key = context.targeting_key.as_deref().filter(|k| !k.is_empty());
        let Some(key) = key else {
            return Err(ContextError::TargetingKeyMissing(format!(
                "flag '{}' is rolled out by percentage; send a targetingKey so each user keeps their variant",
                flag.key
            )));
        };
        let b = bucket(&flag.key, key);
        let mut upper = 0.0;
        for (variant, share) in rollout {
            upper += share * 100.0;
            if f64::from(b) < upper {
                return Ok(serve(variant, Reason::Split, None, Some(b)));
            }
        }
        // Rounding left the last bucket over: it belongs to the last variant with a share.
        if let Some((variant, _)) = rollout.iter().rev().find(|(_, s)| **s > 0.0) {
            return Ok(serve(variant, Reason::Split, None, Some(b)));
        }
    }
    Ok(serve(settings.default_variant, Reason::Default, None, None))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::flags::tests::flag;
    use proptest::prelude::*;
    use serde_json::json;

    fn ctx(value: Value) -> Context {
        Context::from_json(Some(&value)).unwrap()
    }

    fn checkout() -> Flag {
        flag(json!({
            "key": "new-checkout",
            "kind": "boolean",
            "variants": {"on": true, "off": false},
            "default_variant": "off",
            "rules": [
                {"users": ["alice"], "variant": "on"},
                {"roles": ["beta-tester"], "variant": "on"},
                {"conditions": ["country in [\"NL\", \"DE\"]", "plan == \"pro\""], "variant": "on"}
            ],
            "rollout": {"on": 30, "off": 70},
            "environments": {"production": {"rollout": {"on": 5, "off": 95}}}
        }))
    }

    #[test]
    fn the_order_is_disabled_rules_split_default() {
        let mut f = checkout();
        let alice = ctx(json!({"targetingKey": "alice"}));
        let e = evaluate(&f, &alice, None).unwrap();
        assert_eq!(
            (e.reason, e.variant.as_str(), e.rule),
            (Reason::TargetingMatch, "on", Some(0))
        );
        let role = ctx(json!({"targetingKey": "bob", "role": "beta-tester"}));
        assert_eq!(evaluate(&f, &role, None).unwrap().rule, Some(1));
        let roles = ctx(json!({"targetingKey": "bob", "roles": ["staff", "beta-tester"]}));
        assert_eq!(evaluate(&f, &roles, None).unwrap().rule, Some(1));
        let pro_nl = ctx(json!({"targetingKey": "bob", "country": "NL", "plan": "pro"}));
        assert_eq!(evaluate(&f, &pro_nl, None).unwrap().rule, Some(2));
        let free_nl = ctx(json!({"targetingKey": "bob", "country": "NL", "plan": "free"}));
        assert_eq!(evaluate(&f, &free_nl, None).unwrap().reason, Reason::Split);
        f.rollout = None;
        assert_eq!(
            evaluate(&f, &free_nl, None).unwrap().reason,
            Reason::Default
        );
        f.enabled = false;
        let e = evaluate(&f, &alice, None).unwrap();
        assert_eq!(
            (e.reason, e.variant.as_str(), e.value),
            (Reason::Disabled, "off", json!(false))
        );
    }

    #[test]
    fn a_rollout_needs_a_targeting_key_but_rules_do_not() {
        let f = checkout();
        let err = evaluate(&f, &Context::default(), None).unwrap_err();
        assert_eq!(err.code(), "TARGETING_KEY_MISSING");
        let beta = ctx(json!({"role": "beta-tester"}));
        assert_eq!(
            evaluate(&f, &beta, None).unwrap().reason,
            Reason::TargetingMatch
        );
    }

    #[test]
    fn the_context_must_be_an_object_with_a_string_key() {
        assert_eq!(
            Context::from_json(Some(&json!([1]))).unwrap_err().code(),
            "INVALID_CONTEXT"
        );
        assert_eq!(
            Context::from_json(Some(&json!({"targetingKey": 7})))
                .unwrap_err()
                .code(),
            "INVALID_CONTEXT"
        );
        assert_eq!(Context::from_json(None).unwrap(), Context::default());
    }

    #[test]
    fn the_bucket_is_the_documented_hash() {
        // FNV-1a 64 of "a/b" is 0xe620c3190468cf61 (computed with Python, independently of this code).
        assert_eq!(
            bucket("a", "b"),
            (0xe620_c319_0468_cf61_u64 % 10_000) as u32
        );
        assert_eq!(bucket("a", "b"), 2689);
    }

    #[test]
    fn an_environment_rollout_applies_there_only() {
        let f = checkout();
        let share = |env: Option<&str>| {
            (0..4000)
                .filter(|i| {
                    let c = ctx(json!({"targetingKey": format!("user-{i}")}));
                    evaluate(&f, &c, env).unwrap().variant == "on"
                })
                .count() as f64
                / 4000.0
        };
        let base = share(None);
        let prod = share(Some("production"));
        assert!((0.27..0.33).contains(&base), "{base}");
        assert!((0.03..0.07).contains(&prod), "{prod}");
    }

    proptest! {
        /// The same user gets the same variant however often they ask, and growing a rollout
        /// only moves users towards the growing variant.
        #[test]
        fn splits_are_sticky_and_monotonic(user in "[a-z0-9@.]{1,24}", on in 0u32..=100, more in 0u32..=100) {
            let mut f = checkout();
            f.rules.clear();
            f.environments.clear();
            let c = Context { targeting_key: Some(user), ..Context::default() };
            f.rollout = Some([("on".to_string(), on as f64), ("off".to_string(), (100 - on) as f64)].into());
            let first = evaluate(&f, &c, None).unwrap();
            prop_assert_eq!(&evaluate(&f, &c, None).unwrap(), &first);
            let grown = (on + more).min(100);
            f.rollout = Some([("on".to_string(), grown as f64), ("off".to_string(), (100 - grown) as f64)].into());
            if first.variant == "on" {
                prop_assert_eq!(evaluate(&f, &c, None).unwrap().variant, "on");
            }
        }

        /// Whatever the context, a disabled flag serves its default and a matching user rule
        /// beats the rollout.
        #[test]
        fn priority_holds_for_any_context(user in "[a-z]{1,8}", country in "[A-Z]{2}", enabled: bool) {
            let mut f = checkout();
            f.enabled = enabled;
            f.rules[0].users = vec![user.clone()];
            let c = ctx(json!({"targetingKey": user, "country": country}));
            let e = evaluate(&f, &c, None).unwrap();
            if enabled {
                prop_assert_eq!(e.reason, Reason::TargetingMatch);
                prop_assert_eq!(e.rule, Some(0));
            } else {
                prop_assert_eq!(e.reason, Reason::Disabled);
                prop_assert_eq!(e.variant, "off");
            }
        }
    }
}
