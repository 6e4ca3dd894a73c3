//! The production-readiness part of the API description: feature flags, runtime configuration
//! and maintenance mode. OFREP (`/ofrep/v1/...`) follows its own published specification and is
//! described in the README.

use super::{
    also, input, int_range, left_out_or, limit, line, list_of, nullable, object, one_of, op,
    optional_line, path_param, query, query_with, schema, PORT,
};
use crate::builds::input::BUILD_TIMES;
use serde_json::{json, Value};

/// `operation` (answering 201 when it creates) that answers 200 with the same body when it
/// updated instead.
fn updated_too(mut operation: Value) -> Value {
    operation["responses"]["200"] = operation["responses"]["201"].clone();
    operation
}

/// Keys: lowercase letters, digits, `_`, `.`, `-`; 1 to 128 characters.
fn config_key() -> Value {
    json!({ "name": "key", "in": "path", "required": true, "schema": { "type": "string", "pattern": "^[a-z0-9_.-]{1,128}$" } })
}

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
        "/flags/{key}/restore": { "post": op("Put back the settings one history entry left, as a new version (409 when version is given and the flag is no longer at it; 422 when it would change nothing or names what no longer exists)", "admin",
            vec![key()], Some("FlagRestore"), "200", Some(schema("Flag"))) },
        "/flags/{key}/history": { "get": op("The flag's changes, newest first, each with the whole flag after it", "viewer",
            vec![key(), limit(500)], None, "200",
            Some(json!({ "type": "array", "items": object(&["id", "at", "actor", "action", "flag"], json!({
                "id": s("integer"), "at": s("integer"), "actor": s("string"),
                "action": { "type": "string", "enum": ["created", "updated", "deleted", "killed", "restored"] },
                "reason": { "type": ["string", "null"] }, "flag": schema("Flag"),
            })) }))) },
        "/config": { "get": op("Runtime configuration. With environment: the values in force there, each with its source (the environment or all); without: every stored value with its scope. Sensitive values come back as null with set: true", "viewer",
            vec![query("environment", "string", "an environment's name, or all")], None, "200", Some(json!({ "type": "array", "items": schema("ConfigValue") }))) },
        "/config/{environment}/{key}": {
            "put": updated_too(op("Set a value for all environments (environment = all) or one: 201 when new there, else 200. sensitive is kept when left out", "admin",
                vec![path_param("environment", "string"), config_key()], Some("ConfigWrite"), "201", Some(schema("ConfigValue")))),
            "delete": op("Remove the value from that scope (an environment then uses the value for all)", "admin",
                vec![path_param("environment", "string"), path_param("key", "string")], None, "204", None),
        },
        "/config/{environment}/{key}/history": { "get": op("The key's changes in that scope, newest first, with the values before and after (null when sensitive)", "viewer",
            vec![path_param("environment", "string"), path_param("key", "string"), limit(500)], None, "200",
            Some(json!({ "type": "array", "items": object(&["id", "key", "environment", "at", "actor", "action", "sensitive"], json!({
                "id": s("integer"), "key": s("string"), "environment": s("string"), "at": s("integer"), "actor": s("string"),
                "action": { "type": "string", "enum": ["set", "deleted"] }, "reason": { "type": ["string", "null"] }, "sensitive": s("boolean"), "old_value": {}, "new_value": {},
            })) }))) },
        "/config/{environment}/{key}/restore": { "post": op("Undo one change: the value from before it comes back (204 when the key had none, and is removed)", "admin",
            vec![path_param("environment", "string"), path_param("key", "string")], Some("ConfigRestore"), "200", Some(schema("ConfigValue"))) },
        "/maintenance": {
            "get": op("Maintenance mode and whether it is in force now", "viewer", vec![], None, "200", Some(schema("Maintenance"))),
            "put": op("Turn maintenance on (or change it) or off: every page shows the message, new deployments and promotions to its environments get 409, probe alerts there notify nobody, checks do not count against SLO budgets; it ends by itself at until", "admin", vec![], Some("MaintenanceWrite"), "200", Some(schema("Maintenance"))),
        },
        "/system/health": { "get": op("Flightdeck's own health: a sample a minute per replica (database size, pool connections in use, request rate, 5xx count, p99 latency, websocket clients, event lag, RSS), kept 30 days, oldest first", "viewer",
            vec![query_with("since", json!({ "anyOf": [{ "type": "string", "format": "date-time" }, { "type": "string", "pattern": "^[0-9]{1,15}$" }] }), "RFC 3339 or Unix ms; default 24 hours ago")], None, "200",
            Some(object(&["since", "samples"], json!({ "since": s("integer"), "samples": { "type": "array", "items": object(&["at", "replica"], json!({
                "at": s("integer"), "replica": s("string"), "db_bytes": s("integer"), "pool_in_use": s("integer"), "pool_size": s("integer"),
                "requests": s("integer"), "requests_per_s": s("number"), "errors_5xx": s("integer"), "p99_ms": s("number"),
                "ws_clients": s("integer"), "event_lag_ms": s("integer"), "rss_bytes": s("integer"),
            })) } })))) },
        "/builds": {
            "get": op("Builds, newest first", "viewer", vec![query("pipeline", "string", "repo/workflow"), query("branch", "string", ""), query_with("status", one_of(&["queued", "running", "success", "failure", "cancelled", ""]), "one status (empty: any)"), query("author", "string", ""), query_with("commit", json!({ "type": "string", "pattern": "^([0-9a-fA-F]{7,40})?$" }), "a commit's sha or its first 7 or more hex digits: that commit's builds"), limit(500), query_with("cursor", int_range(i64::MIN, i64::MAX), "next_cursor of the previous page")], None, "200",
                Some(object(&["items"], json!({ "items": { "type": "array", "items": schema("Build") }, "next_cursor": { "type": ["integer", "null"] } })))),
            "post": updated_too(op("Store a build: 201, or 200 when it updated the build with the same source_id; 422 naming the field, nothing stored", "operator (or a builds:write token)", vec![], Some("NewBuild"), "201", Some(schema("Build")))),
        },
        "/builds/import": { "post": op("Back-fill history: a JSON array of builds, or NDJSON; all or nothing; a source_id already stored, or named again in the import, updates that build as a delivery does", "operator (or a builds:write token)", vec![], Some("NewBuilds"), "201",
            Some(object(&["stored", "created", "updated"], json!({ "stored": s("integer"), "created": s("integer"), "updated": s("integer") })))) },
        "/builds/stats": { "get": op("Per pipeline over the last days (by started_at): builds, success rate, flaky failures (passed on a re-run of the same commit), duration p50/p95, mean time to recovery, longest red streak, coverage and its trend", "viewer",
            vec![query("pipeline", "string", ""), query("branch", "string", ""), query_with("days", int_range(1, 3650), "1 to 3650, default 30")], None, "200", Some(s("object"))) },
        "/builds/model": {
            "get": also(op("The failure model in use (404 before the first training)", "viewer", vec![], None, "200", Some(schema("BuildModel"))), &["404"]),
            "post": also(op("Train now on the whole history; the evaluation is time-ordered (oldest 70 % train, newest 30 % test) against the last-build and majority baselines (409 when the history is too short)", "operator", vec![], None, "200", Some(schema("BuildModel"))), &["409"]),
        },
        "/builds/predict": { "post": op("The failure probability of a build about to run, its factors in words, and the model (without one: the last-build baseline, saying so)", "viewer", vec![], Some("PreRun"), "200",
            Some(object(&["failure_probability", "prediction", "factors", "basis"], json!({ "failure_probability": s("number"), "prediction": { "type": "string", "enum": ["failure", "success"] },
                "factors": { "type": "array", "items": object(&["name", "contribution", "reason"], json!({ "name": s("string"), "contribution": s("number"), "reason": s("string") })) },
                "model": { "type": ["object", "null"] }, "basis": { "type": "string", "enum": ["model", "last_build_baseline"] } })))) },
        "/builds/accuracy": { "get": op("How the predictions stored with the last 100 finished builds fared, beside the baselines", "viewer", vec![query("pipeline", "string", "")], None, "200", Some(s("object"))) },
        "/flags/{key}/evaluate": { "post": op("Preview: what a context gets from the flag, and why in words", "viewer", vec![key()], Some("FlagPreviewRequest"), "200",
            Some(object(&["variant", "value", "reason", "explanation"], json!({ "variant": s("string"), "value": {}, "reason": { "type": "string", "enum": ["DISABLED", "TARGETING_MATCH", "SPLIT", "DEFAULT"] }, "explanation": s("string") })))) },
    })
}

/// `schema` (an `anyOf`) that may also be null.
fn nullable_any(mut schema: Value) -> Value {
    if let Some(choices) = schema["anyOf"].as_array_mut() {
        choices.push(json!({ "type": "null" }));
    }
    schema
}

/// A build's time: RFC 3339 or Unix ms, in [`BUILD_TIMES`] (a JSON Schema cannot bound a
/// date-time string, so only the number's bounds are here).
fn build_time() -> Value {
    let (earliest, latest) = (BUILD_TIMES.start(), BUILD_TIMES.end());
    json!({ "anyOf": [{ "type": "string", "format": "date-time" },
        { "type": "integer", "minimum": earliest, "maximum": latest }],
        "description": "RFC 3339 or Unix ms, in the years 2000 to 2099" })
}

/// A build as CI sends it: every length, range and choice the server checks. Two rules only the
/// server can check: finished_at is not before started_at, and tests_failed not above tests_total.
fn new_build() -> Value {
    let time = build_time();
    let count = json!({ "type": ["integer", "null"], "minimum": 0 });
    let text = |max: usize| nullable(optional_line(max));
    object(
        &["pipeline", "branch", "commit", "started_at"],
        json!({
            "pipeline": { "allOf": [line(200)], "description": "repo/workflow" }, "branch": line(250),
            "commit": { "type": "string", "pattern": "^[0-9a-fA-F]{7,40}$" },
            "started_at": time.clone(), "finished_at": nullable_any(time),
            "status": left_out_or(one_of(&["queued", "running", "success", "failure", "cancelled"])),
            "trigger": left_out_or(one_of(&["push", "pull_request", "schedule", "manual", "other"])),
            "author": text(200), "message": { "type": ["string", "null"], "maxLength": 10_000 }, "files_changed": count.clone(), "lines_added": count.clone(),
            "lines_deleted": count.clone(), "duration_s": { "type": ["number", "null"], "minimum": 0, "maximum": 31_536_000 }, "tests_total": count.clone(),
            "tests_failed": count, "coverage": { "type": ["number", "null"], "minimum": 0, "maximum": 100 },
            "url": { "type": ["string", "null"], "maxLength": 2000, "description": "The run's page; kept without credentials (user-info, and query parameters named for a token, secret, password, key or signature)", "pattern": format!("^\\s*(https?://([^\\s/?#@\\u0000-\\u001f\\u007f-\\u009f]+@)?[A-Za-z0-9._~-]+{PORT}([/?#][^\\s]*)?)?\\s*$") },
            "source_id": { "type": ["string", "integer", "null"], "maxLength": 200, "pattern": "^[^\\u0000-\\u001f\\u007f-\\u009f]*$",
                "description": "the sender's own id: a repeated delivery updates; without one, each delivery is a new build" },
            "repo": text(200), "workflow": text(200), "source": text(40),
        }),
    )
}

pub fn schemas() -> Value {
    let s = |t: &str| json!({ "type": t });
    let opt = |t: &str| json!({ "type": [t, "null"] });
    let count = json!({ "type": "integer", "minimum": 0 });
    let trigger = one_of(&["push", "pull_request", "schedule", "manual", "other"]);
    let time = build_time();
    let rollout = json!({ "type": "object", "additionalProperties": { "type": "number", "minimum": 0, "maximum": 100 }, "description": "variant → percent; the shares sum to 100" });
    let condition = json!({ "oneOf": [
        { "type": "string", "description": "attribute op value, e.g. country in [\"NL\", \"DE\"] or plan == \"pro\"" },
        object(&["attribute", "op"], json!({ "attribute": s("string"), "op": { "type": "string", "enum": ["==", "!=", "in", "not_in", "starts_with", "ends_with", "contains", ">", ">=", "<", "<="] }, "value": {}, "values": { "type": "array" } })),
    ] });
    let rule = object(
        &["variant"],
        json!({
            "name": s("string"), "users": { "type": "array", "items": s("string"), "description": "targeting keys" },
            "roles": { "type": "array", "items": s("string"), "description": "matched against the context's role or roles" },
            "conditions": { "type": "array", "items": condition }, "variant": s("string"),
        }),
    );
    json!({
        "Flag": object(&["key", "kind", "variants", "default_variant"], json!({
            "key": { "type": "string", "pattern": "^[A-Za-z0-9][A-Za-z0-9_.-]{0,127}$" },
            "description": s("string"),
            "kind": { "type": "string", "enum": ["boolean", "string", "number", "object"] },
            "variants": { "type": "object", "minProperties": 1, "propertyNames": { "pattern": "^[A-Za-z0-9_.-]{1,64}$" }, "description": "variant name → value of the flag's kind" },
            "default_variant": s("string"), "enabled": s("boolean"),
            "rules": { "type": "array", "items": rule, "description": "tried in order; the first that matches serves its variant" },
            "rollout": rollout,
            "environments": { "type": "object", "description": "environment → {enabled, default_variant, rules, rollout}; what it names replaces the base settings there" },
            "kill_switch": object(&["slo", "variant"], json!({ "slo": s("string"), "variant": s("string"),
                "service": { "type": "string", "description": "the SLO's service; filled in when `slo` names one SLO, needed when several services have an SLO of that name" } })),
            "version": { "type": "integer", "readOnly": true }, "created_at": { "type": "integer", "readOnly": true },
            "updated_at": { "type": "integer", "readOnly": true }, "updated_by": { "type": "string", "readOnly": true },
        })),
        "ConfigValue": object(&["key", "sensitive"], json!({
            "key": s("string"), "value": { "description": "any JSON; null when sensitive" }, "sensitive": s("boolean"),
            "source": { "type": "string", "description": "with ?environment: where the value comes from, the environment or all" },
            "environment": { "type": "string", "description": "without ?environment and on writes: the scope it is set for" },
            "set": s("boolean"), "version": s("integer"), "updated_by": s("string"), "updated_at": s("integer"),
        })),
        "ConfigWrite": input(&["value"], json!({ "value": { "description": "any JSON but null", "not": { "type": "null" } }, "sensitive": s("boolean"), "reason": s("string") })),
        "ConfigRestore": input(&["change_id"], json!({ "change_id": s("integer") })),
        "FlagRestore": input(&["change_id"], json!({ "change_id": s("integer"), "version": s("integer"), "reason": s("string") })),
        "Maintenance": object(&["enabled", "active", "message"], json!({
            "enabled": s("boolean"), "active": s("boolean"), "message": s("string"),
            "environments": { "type": ["array", "null"], "items": s("string") }, "until": { "type": ["integer", "null"] },
            "updated_by": s("string"), "updated_at": s("integer"),
        })),
        "MaintenanceWrite": {
            "if": { "properties": { "enabled": { "const": true } } },
            "then": { "required": ["message"], "properties": { "message": { "type": "string", "pattern": "\\S" } } },
            "allOf": [input(&["enabled"], json!({
                "enabled": s("boolean"), "message": { "type": ["string", "null"], "maxLength": 500, "description": "required (not blank) to turn maintenance on" }, "environments": { "type": ["array", "null"], "items": s("string"), "description": "leave out (or null) for all" },
                "until": { "anyOf": [{ "type": "string", "format": "date-time" }, { "type": ["integer", "null"] }], "description": "RFC 3339 or Unix milliseconds, in the future; null for no end" },
            }))],
        },
        "NewBuild": new_build(),
        "NewBuilds": { "description": "A JSON array of builds (or, with any other content type, NDJSON: one build a line)", "anyOf": [
            { "type": "array", "items": schema("NewBuild"), "minItems": 1 }, schema("NewBuild"),
        ] },
        "Build": object(&["id", "source", "source_id", "pipeline", "repo", "workflow", "branch", "commit", "trigger", "started_at", "status"], json!({
            "id": s("integer"), "source": s("string"), "source_id": s("string"), "pipeline": s("string"), "repo": s("string"), "workflow": s("string"),
            "branch": s("string"), "commit": s("string"), "author": opt("string"), "trigger": s("string"), "message": opt("string"),
            "files_changed": opt("integer"), "lines_added": opt("integer"), "lines_deleted": opt("integer"),
            "started_at": s("string"), "finished_at": opt("string"), "duration_s": opt("number"), "status": s("string"),
            "tests_total": opt("integer"), "tests_failed": opt("integer"), "coverage": opt("number"), "url": opt("string"),
            "prediction": { "type": ["object", "null"], "description": "{failure_probability, model_version} made when it arrived" },
        })),
        "PreRun": object(&["pipeline", "branch"], json!({ "pipeline": line(200), "branch": line(250),
            "commit": { "allOf": [left_out_or(json!({ "type": "string", "pattern": "^[0-9a-fA-F]{7,40}$" }))], "description": "a re-run builds its predecessor's commit again" }, "author": nullable(optional_line(200)), "trigger": left_out_or(trigger), "message": { "type": ["string", "null"], "maxLength": 10_000 },
            "files_changed": nullable(count.clone()), "lines_added": nullable(count.clone()), "lines_deleted": nullable(count), "started_at": nullable_any(time) })),
        "BuildModel": object(&["version", "trained_at", "samples", "evaluation"], json!({ "version": s("integer"), "trained_at": s("string"), "samples": s("integer"),
            "evaluation": object(&["accuracy", "precision", "recall", "f1", "baseline_accuracy", "baseline_f1", "majority_accuracy", "test_samples"], json!({
                "accuracy": s("number"), "precision": s("number"), "recall": s("number"), "f1": s("number"), "baseline_accuracy": s("number"),
                "baseline_f1": s("number"), "majority_accuracy": s("number"), "majority_f1": s("number"), "test_samples": s("integer"), "threshold": s("number") })) })),
        "FlagPreviewRequest": input(&[], json!({ "context": { "type": ["object", "null"], "description": "targetingKey and attributes, as OFREP's context" }, "environment": opt("string") })),
    })
}
