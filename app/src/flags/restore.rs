//! Putting a flag back as one of its history entries left it, the way out of a flag change that
//! went wrong: the flag that restores, and what it changes in words. Which protected
//! environments it reaches is [`super::change::protected_reached`]'s to say, as for any change.

use super::describe::changes;
use super::Flag;

/// `from`'s settings under `current`'s identity: the key, version and times stay the server's.
pub fn restored(current: &Flag, from: &Flag) -> Flag {
    Flag {
        key: current.key.clone(),
        version: current.version,
        created_at: current.created_at,
        updated_at: current.updated_at,
        updated_by: current.updated_by.clone(),
        ..from.clone()
    }
}

/// What restoring `from` changes, field by field in words; empty when it serves the same.
pub fn restore_changes(current: &Flag, from: &Flag) -> Vec<String> {
    changes(current, &restored(current, from))
}

/// How a history entry is named: "version 4", or for an entry from before the history kept
/// versions, its number in the history.
pub fn entry_name(version: i64, change_id: i64) -> String {
    if version > 0 {
        format!("version {version}")
    } else {
        format!("history entry #{change_id}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::flags::tests::flag;
    use serde_json::json;

    fn checkout(version: i64, rollout: serde_json::Value, environments: serde_json::Value) -> Flag {
        flag(json!({
            "key": "one-page-checkout", "kind": "boolean", "version": version,
            "variants": {"on": true, "off": false}, "default_variant": "off",
            "rollout": rollout, "environments": environments,
            "updated_by": format!("admin-{version}"), "updated_at": version * 1000,
        }))
    }

    #[test]
    fn a_restore_puts_back_the_settings_and_keeps_the_identity() {
        let old = checkout(2, json!({"on": 10, "off": 90}), json!({}));
        let now = checkout(5, json!({"on": 50, "off": 50}), json!({}));
        let back = restored(&now, &old);
        assert_eq!(back.rollout, old.rollout);
        assert_eq!(
            (back.version, back.updated_by.as_str()),
            (5, "admin-5"),
            "the server numbers the restore as a new version"
        );
        assert_eq!(
            restore_changes(&now, &old),
            vec!["rollout: off 50% · on 50% → off 90% · on 10%"]
        );
        // Content equal to what serves: nothing to restore, whatever the versions say.
        let same = checkout(3, json!({"on": 50, "off": 50}), json!({}));
        assert!(restore_changes(&now, &same).is_empty());
    }

    #[test]
    fn entries_are_named_by_version_when_they_have_one() {
        assert_eq!(entry_name(4, 31), "version 4");
        assert_eq!(entry_name(0, 31), "history entry #31");
    }
}
