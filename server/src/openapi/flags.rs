//! The feature-flag part of the API description. OFREP (`/ofrep/v1/...`) follows its own
//! published specification and is described in the README.

use super::{list_of, object, op, path_param, query, schema};
use serde_json::{json, Value};

pub fn paths() -> Value {
    let s = |t: &str| json!({ "type": t });
    let key = || path_param("key", "string");
    json!({
        "/flags": {
            "get": op("Every feature flag, by key", "viewer", vec![], None, "200", Some(list_of("Flag"))),
            "post": op("Create a flag (422 naming the field when it is not valid; nothing is stored)", "admin", vec![], Some("Flag"), "201", Some(schema("Flag"))),
        },
        "/flags/{key}": {
            "get": op("One flag", "viewer", vec![key()], None, "200", Some(schema("Flag"))),
            "put": op("Replace a flag with a whole one (creates it, 201, if there is none), or change only the fields sent (`{\"enabled\": false, \"reason\": \"...\"}`; null removes an optional field)", "admin", vec![key()], Some("Flag"), "200", Some(schema("Flag"))),
            "delete": op("Delete a flag; its history stays", "admin", vec![key()], None, "204", None),
        },
        "/flags/{key}/history": { "get": op("The flag's changes, newest first, each with the whole flag after it", "viewer",
            vec![key(), query("limit", "integer", "1 to 500, default 50")], None, "200",
            Some(json!({ "type": "array", "items": object(&["id", "at", "actor", "action", "flag"], json!({
                "id": s("integer"), "at": s("integer"), "actor": s("string"),
                "action": { "type": "string", "enum": ["created", "updated", "deleted", "killed"] },
                "reason": { "type": ["string", "null"] }, "flag": schema("Flag"),
            })) }))) },
        "/flags/{key}/evaluate": { "post": op("Preview: what a context gets from the flag, and why in words", "viewer", vec![key()], Some("FlagPreviewRequest"), "200",
            Some(object(&["variant", "value", "reason", "explanation"], json!({ "variant": s("string"), "value": {}, "reason": { "type": "string", "enum": ["DISABLED", "TARGETING_MATCH", "SPLIT", "DEFAULT"] }, "explanation": s("string") })))) },
    })
}

pub fn schemas() -> Value {
    let s = |t: &str| json!({ "type": t });
    let rollout = json!({ "type": "object", "additionalProperties": { "type": "number", "minimum": 0, "maximum": 100 }, "description": "variant → percent; the shares sum to 100" });
    let condition = json!({ "oneOf": [
        { "type": "string", "description": "attribute op value, e.g. country in [\"NL\", \"DE\"] or plan == \"pro\"" },
        object(&["attribute", "op"], json!({ "attribute": s("string"), "op": { "type": "string", "enum": ["==", "!=", "in", "not_in", "starts_with", "ends_with", "contains", ">", ">=", "<", "<="] }, "value": {}, "values": { "type": "array" } })),
    ] });
    let rule = object(&["variant"], json!({
        "name": s("string"), "users": { "type": "array", "items": s("string"), "description": "targeting keys" },
        "roles": { "type": "array", "items": s("string"), "description": "matched against the context's role or roles" },
        "conditions": { "type": "array", "items": condition }, "variant": s("string"),
    }));
    json!({
        "Flag": object(&["key", "kind", "variants", "default_variant"], json!({
            "key": { "type": "string", "pattern": "^[A-Za-z0-9][A-Za-z0-9_.-]{0,127}$" },
            "description": s("string"),
            "kind": { "type": "string", "enum": ["boolean", "string", "number", "object"] },
            "variants": { "type": "object", "description": "variant name → value of the flag's kind" },
            "default_variant": s("string"), "enabled": s("boolean"),
            "rules": { "type": "array", "items": rule, "description": "tried in order; the first that matches serves its variant" },
            "rollout": rollout,
            "environments": { "type": "object", "description": "environment → {enabled, default_variant, rules, rollout}; what it names replaces the base settings there" },
            "kill_switch": object(&["slo", "variant"], json!({ "slo": s("string"), "variant": s("string") })),
            "version": { "type": "integer", "readOnly": true }, "created_at": { "type": "integer", "readOnly": true },
            "updated_at": { "type": "integer", "readOnly": true }, "updated_by": { "type": "string", "readOnly": true },
        })),
        "FlagPreviewRequest": object(&[], json!({ "context": { "type": "object", "description": "targetingKey and attributes, as OFREP's context" }, "environment": s("string") })),
    })
}
