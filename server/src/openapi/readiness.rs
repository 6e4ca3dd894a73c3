//! The production-readiness part of the API description: feature flags, runtime configuration
//! and maintenance mode. OFREP (`/ofrep/v1/...`) follows its own published specification and is
//! described in the README.

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
        "/config": { "get": op("Runtime configuration. With environment: the values in force there, each with its source (the environment or all); without: every stored value with its scope. Sensitive values come back as null with set: true", "viewer",
            vec![query("environment", "string", "an environment's name, or all")], None, "200", Some(json!({ "type": "array", "items": schema("ConfigValue") }))) },
        "/config/{environment}/{key}": {
            "put": op("Set a value for all environments (environment = all) or one: 201 when new there, else 200. sensitive is kept when left out", "admin",
                vec![path_param("environment", "string"), path_param("key", "string")], Some("ConfigWrite"), "200", Some(schema("ConfigValue"))),
            "delete": op("Remove the value from that scope (an environment then uses the value for all)", "admin",
                vec![path_param("environment", "string"), path_param("key", "string")], None, "204", None),
        },
        "/config/{environment}/{key}/history": { "get": op("The key's changes in that scope, newest first, with the values before and after (null when sensitive)", "viewer",
            vec![path_param("environment", "string"), path_param("key", "string"), query("limit", "integer", "1 to 500, default 50")], None, "200",
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
            vec![query("since", "string", "RFC 3339 or Unix ms; default 24 hours ago")], None, "200",
            Some(object(&["since", "samples"], json!({ "since": s("integer"), "samples": { "type": "array", "items": object(&["at", "replica"], json!({
                "at": s("integer"), "replica": s("string"), "db_bytes": s("integer"), "pool_in_use": s("integer"), "pool_size": s("integer"),
                "requests": s("integer"), "requests_per_s": s("number"), "errors_5xx": s("integer"), "p99_ms": s("number"),
                "ws_clients": s("integer"), "event_lag_ms": s("integer"), "rss_bytes": s("integer"),
            })) } })))) },
        "/builds": {
            "get": op("Builds, newest first", "viewer", vec![query("pipeline", "string", "repo/workflow"), query("branch", "string", ""), query("status", "string", "queued, running, success, failure or cancelled"), query("author", "string", ""), query("limit", "integer", "1 to 500"), query("cursor", "integer", "next_cursor of the previous page")], None, "200",
                Some(object(&["items"], json!({ "items": { "type": "array", "items": schema("Build") }, "next_cursor": { "type": ["integer", "null"] } })))),
            "post": op("Store a build: 201, or 200 when it updated the build with the same source_id; 422 naming the field, nothing stored", "operator (or a builds:write token)", vec![], Some("NewBuild"), "201", Some(schema("Build"))),
        },
        "/builds/import": { "post": op("Back-fill history: a JSON array of builds, or NDJSON; all or nothing", "operator (or a builds:write token)", vec![], Some("NewBuild"), "201",
            Some(object(&["stored", "created", "updated"], json!({ "stored": s("integer"), "created": s("integer"), "updated": s("integer") })))) },
        "/builds/stats": { "get": op("Per pipeline over the last days (by started_at): builds, success rate, duration p50/p95, mean time to recovery, longest red streak, coverage and its trend", "viewer",
            vec![query("pipeline", "string", ""), query("branch", "string", ""), query("days", "integer", "1 to 3650, default 30")], None, "200", Some(s("object"))) },
        "/builds/model": {
            "get": op("The failure model in use (404 before the first training)", "viewer", vec![], None, "200", Some(schema("BuildModel"))),
            "post": op("Train now on the whole history; the evaluation is time-ordered (oldest 70 % train, newest 30 % test) against the last-build and majority baselines (409 when the history is too short)", "operator", vec![], None, "200", Some(schema("BuildModel"))),
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

pub fn schemas() -> Value {
    let s = |t: &str| json!({ "type": t });
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
            "variants": { "type": "object", "description": "variant name → value of the flag's kind" },
            "default_variant": s("string"), "enabled": s("boolean"),
            "rules": { "type": "array", "items": rule, "description": "tried in order; the first that matches serves its variant" },
            "rollout": rollout,
            "environments": { "type": "object", "description": "environment → {enabled, default_variant, rules, rollout}; what it names replaces the base settings there" },
            "kill_switch": object(&["slo", "variant"], json!({ "slo": s("string"), "variant": s("string") })),
            "version": { "type": "integer", "readOnly": true }, "created_at": { "type": "integer", "readOnly": true },
            "updated_at": { "type": "integer", "readOnly": true }, "updated_by": { "type": "string", "readOnly": true },
        })),
        "ConfigValue": object(&["key", "sensitive"], json!({
            "key": s("string"), "value": { "description": "any JSON; null when sensitive" }, "sensitive": s("boolean"),
            "source": { "type": "string", "description": "with ?environment: where the value comes from, the environment or all" },
            "environment": { "type": "string", "description": "without ?environment and on writes: the scope it is set for" },
            "set": s("boolean"), "version": s("integer"), "updated_by": s("string"), "updated_at": s("integer"),
        })),
        "ConfigWrite": object(&["value"], json!({ "value": { "description": "any JSON but null" }, "sensitive": s("boolean"), "reason": s("string") })),
        "ConfigRestore": object(&["change_id"], json!({ "change_id": s("integer") })),
        "Maintenance": object(&["enabled", "active", "message"], json!({
            "enabled": s("boolean"), "active": s("boolean"), "message": s("string"),
            "environments": { "type": ["array", "null"], "items": s("string") }, "until": { "type": ["integer", "null"] },
            "updated_by": s("string"), "updated_at": s("integer"),
        })),
        "MaintenanceWrite": object(&["enabled"], json!({
            "enabled": s("boolean"), "message": s("string"), "environments": { "type": "array", "items": s("string"), "description": "leave out for all" },
            "until": { "type": ["string", "integer"], "description": "RFC 3339 or Unix milliseconds" },
        })),
        "NewBuild": object(&["pipeline", "branch", "commit", "started_at"], json!({
            "pipeline": { "type": "string", "description": "repo/workflow" }, "branch": s("string"), "commit": { "type": "string", "pattern": "^[0-9a-fA-F]{7,40}$" },
            "started_at": { "type": ["string", "integer"], "description": "RFC 3339 or Unix ms" }, "finished_at": { "type": ["string", "integer"] },
            "status": { "type": "string", "enum": ["queued", "running", "success", "failure", "cancelled"] },
            "trigger": { "type": "string", "enum": ["push", "pull_request", "schedule", "manual", "other"] },
            "author": s("string"), "message": s("string"), "files_changed": { "type": "integer", "minimum": 0 }, "lines_added": { "type": "integer", "minimum": 0 },
            "lines_deleted": { "type": "integer", "minimum": 0 }, "duration_s": { "type": "number", "minimum": 0 }, "tests_total": { "type": "integer", "minimum": 0 },
            "tests_failed": { "type": "integer", "minimum": 0 }, "coverage": { "type": "number", "minimum": 0, "maximum": 100 }, "url": s("string"),
            "source_id": { "type": ["string", "integer"], "description": "the sender's own id: a repeated delivery updates" }, "repo": s("string"), "workflow": s("string"),
        })),
        "Build": { "allOf": [schema("NewBuild"), object(&["id", "source", "source_id"], json!({ "id": s("integer"), "source": s("string"),
            "prediction": { "type": ["object", "null"], "description": "{failure_probability, model_version} made when it arrived" } }))] },
        "PreRun": object(&["pipeline", "branch"], json!({ "pipeline": s("string"), "branch": s("string"), "author": s("string"), "trigger": s("string"), "message": s("string"),
            "files_changed": s("integer"), "lines_added": s("integer"), "lines_deleted": s("integer"), "started_at": { "type": ["string", "integer"] } })),
        "BuildModel": object(&["version", "trained_at", "samples", "evaluation"], json!({ "version": s("integer"), "trained_at": s("string"), "samples": s("integer"),
            "evaluation": object(&["accuracy", "precision", "recall", "f1", "baseline_accuracy", "baseline_f1", "majority_accuracy", "test_samples"], json!({
                "accuracy": s("number"), "precision": s("number"), "recall": s("number"), "f1": s("number"), "baseline_accuracy": s("number"),
                "baseline_f1": s("number"), "majority_accuracy": s("number"), "test_samples": s("integer"), "threshold": s("number") })) })),
        "FlagPreviewRequest": object(&[], json!({ "context": { "type": "object", "description": "targetingKey and attributes, as OFREP's context" }, "environment": s("string") })),
    })
}
