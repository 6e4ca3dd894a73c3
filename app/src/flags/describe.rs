//! Flags in words, for the pages: a rule as a sentence, and what one change did to a flag.

use super::condition::{Condition, Op};
use super::{describe_rollout, Flag, Rule};

fn condition_text(c: &Condition) -> String {
    let values: Vec<String> = c.values.iter().map(|v| v.to_string()).collect();
    let op = serde_json::to_value(c.op)
        .ok()
        .and_then(|v| v.as_str().map(str::to_string))
        .unwrap_or_default();
    match c.op {
        Op::In | Op::NotIn => format!(
            "{} {} [{}]",
            c.attribute,
            op.replace('_', " "),
            values.join(", ")
        ),
        _ => format!(
            "{} {} {}",
            c.attribute,
            op.replace('_', " "),
            values.join(", ")
        ),
    }
}

/// "users alice, bob and role beta and country in ["NL", "DE"]".
pub fn rule_text(rule: &Rule) -> String {
    let mut parts = Vec::new();
    if !rule.users.is_empty() {
        parts.push(format!("user is {}", rule.users.join(" or ")));
    }
    if !rule.roles.is_empty() {
        parts.push(format!("role is {}", rule.roles.join(" or ")));
    }
    parts.extend(rule.conditions.iter().map(condition_text));
    parts.join(" and ")
}

/// What changed from `before` to `after`, one entry per field, in words.
pub fn changes(before: &Flag, after: &Flag) -> Vec<String> {
    let mut out = Vec::new();
    let mut field = |name: &str, a: String, b: String| {
        if a != b {
            out.push(format!("{name}: {a} → {b}"));
        }
    };
    let on_off = |e: bool| if e { "on" } else { "off" }.to_string();
    field("enabled", on_off(before.enabled), on_off(after.enabled));
    field(
        "default",
        before.default_variant.clone(),
        after.default_variant.clone(),
    );
    let rollout = |f: &Flag| {
        f.rollout
            .as_ref()
            .map(describe_rollout)
            .unwrap_or_else(|| "none".into())
    };
    field("rollout", rollout(before), rollout(after));
    let rules = |f: &Flag| {
        f.rules
            .iter()
            .map(|r| format!("{} → {}", rule_text(r), r.variant))
            .collect::<Vec<_>>()
            .join("; ")
    };
    if before.rules != after.rules {
        field(
            "rules",
            format!("{} rules", before.rules.len()),
            rules(after),
        );
    }
    if before.variants != after.variants {
        field("variants", json(&before.variants), json(&after.variants));
    }
    if before.environments != after.environments {
        field(
            "environments",
            json(&before.environments),
            json(&after.environments),
        );
    }
    if before.kill_switch != after.kill_switch {
        field(
            "kill switch",
            json(&before.kill_switch),
            json(&after.kill_switch),
        );
    }
    field(
        "description",
        before.description.clone(),
        after.description.clone(),
    );
    out
}

/// JSON text of a value, for the fields shown as they are stored.
fn json<T: serde::Serialize>(value: &T) -> String {
    serde_json::to_string(value).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn rules_and_changes_read_as_words() {
        let before: Flag = serde_json::from_value(json!({
            "key": "k", "kind": "boolean", "variants": {"on": true, "off": false}, "default_variant": "off",
            "rules": [{"users": ["alice", "bob"], "roles": ["beta"], "conditions": ["country in [\"NL\"]"], "variant": "on"}],
            "rollout": {"on": 30, "off": 70}
        }))
        .unwrap();
        assert_eq!(
            rule_text(&before.rules[0]),
            "user is alice or bob and role is beta and country in [\"NL\"]"
        );
        let mut after = before.clone();
        after.enabled = false;
        after.rollout = None;
        assert_eq!(
            changes(&before, &after),
            ["enabled: on → off", "rollout: off 70% · on 30% → none"]
        );
        assert!(changes(&before, &before).is_empty());
    }
}
