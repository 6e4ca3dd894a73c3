//! `GET /api/openapi.json`: the REST API as an OpenAPI 3.1 document, written next to the routes it
//! describes. A test walks every documented path and method against the real router.

use serde_json::{json, Value};

mod readiness;

fn schema(name: &str) -> Value {
    json!({ "$ref": format!("#/components/schemas/{name}") })
}

fn list_of(name: &str) -> Value {
    json!({ "type": "array", "items": schema(name) })
}

fn path_param(name: &str, kind: &str) -> Value {
    let schema = match kind {
        // Ids are positive 64-bit integers; anything else cannot name a row.
        "integer" => int_range(1, i64::MAX),
        _ => json!({ "type": kind, "minLength": 1 }),
    };
    json!({ "name": name, "in": "path", "required": true, "schema": schema })
}

fn query(name: &str, kind: &str, description: &str) -> Value {
    json!({ "name": name, "in": "query", "required": false, "schema": { "type": kind }, "description": description })
}

fn required_query(name: &str, description: &str) -> Value {
    json!({ "name": name, "in": "query", "required": true, "schema": { "type": "string", "minLength": 1 }, "description": description })
}

/// A query parameter with its exact schema (a range, an enum, a format).
fn query_with(name: &str, schema: Value, description: &str) -> Value {
    json!({ "name": name, "in": "query", "required": false, "schema": schema, "description": description })
}

/// `limit`: 1 to `max`.
fn limit(max: i64) -> Value {
    query_with(
        "limit",
        json!({ "type": "integer", "minimum": 1, "maximum": max }),
        &format!("1 to {max}"),
    )
}

/// `schema` that may also be null (an optional field left empty).
pub(crate) fn nullable(mut schema: Value) -> Value {
    if let Some(kind) = schema.get("type").cloned() {
        schema["type"] = json!([kind, "null"]);
    }
    // An enum lists every value allowed: null too.
    if let Some(Value::Array(values)) = schema.get_mut("enum") {
        values.push(Value::Null);
    }
    schema
}

fn one_of(values: &[&str]) -> Value {
    json!({ "type": "string", "enum": values })
}

/// One line of text holding something besides spaces (the server trims it), at most `max`
/// characters.
pub(crate) fn line(max: usize) -> Value {
    json!({ "type": "string", "minLength": 1, "maxLength": max, "pattern": LINE })
}

/// One line of text, possibly empty (an empty one counts as left out).
pub(crate) fn optional_line(max: usize) -> Value {
    json!({ "type": "string", "maxLength": max, "pattern": "^[^\\u0000-\\u001f\\u007f-\\u009f]*$" })
}

/// No control characters, and at least one that is not a space.
const LINE: &str = "^[^\\u0000-\\u001f\\u007f-\\u009f]*[^\\s\\u0000-\\u001f\\u007f-\\u009f][^\\u0000-\\u001f\\u007f-\\u009f]*$";

/// Service and environment names: lowercase slugs.
pub(crate) fn slug() -> Value {
    json!({ "type": "string", "pattern": "^[a-z]([a-z0-9-]{0,61}[a-z0-9])?$", "maxLength": 63 })
}

/// What `app::http_url::check` accepts, written plainly: a host name or IPv4 address, an
/// optional port, then anything without spaces. (The server also takes user-info and IPv6
/// literals; a generated client need not.)
pub(crate) fn http_url() -> Value {
    json!({ "type": "string", "maxLength": 2048,
        "pattern": format!("^https?://[A-Za-z0-9._~-]+{PORT}([/?#][^\\s\\u0000-\\u001f\\u007f-\\u009f]*)?$") })
}

/// An optional `:port`, 0 to 65535.
pub(crate) const PORT: &str =
    "(:([0-9]{1,4}|[1-5][0-9]{4}|6[0-4][0-9]{3}|65[0-4][0-9]{2}|655[0-2][0-9]|6553[0-5]))?";

/// A channel as added (`keep`: None) or changed (`keep`: the schema of a target that keeps the
/// current one).
fn channel(keep: Option<Value>) -> Value {
    let target = |schema: Value| match &keep {
        Some(keep) => json!({ "anyOf": [schema, keep] }),
        None => schema,
    };
    let email = json!({ "type": "string", "pattern": "^[^,@]+@[^,]+(, *[^,@]+@[^,]+)*$", "description": "addresses, comma separated" });
    json!({ "oneOf": [
        input(&["name", "kind", "target"], json!({ "name": name(100), "kind": one_of(&["slack", "webhook"]), "target": target(http_url()) })),
        input(&["name", "kind", "target"], json!({ "name": name(100), "kind": one_of(&["email"]), "target": target(email) })),
    ] })
}

/// An optional field: `schema`, or null or empty (both count as left out).
pub(crate) fn left_out_or(schema: Value) -> Value {
    json!({ "anyOf": [schema, { "type": "null" }, { "const": "" }] })
}

pub(crate) fn int_range(min: i64, max: i64) -> Value {
    json!({ "type": "integer", "minimum": min, "maximum": max })
}

/// One operation: who may call it, what it takes, what it answers.
fn op(
    summary: &str,
    role: &str,
    params: Vec<Value>,
    body: Option<&str>,
    status: &str,
    answer: Option<Value>,
) -> Value {
    let mut responses = json!({
        status: match answer {
            Some(s) => json!({ "description": "OK", "content": { "application/json": { "schema": s } } }),
            None => json!({ "description": "Done" }),
        },
        "401": { "$ref": "#/components/responses/Error" },
        "403": { "$ref": "#/components/responses/Error" },
    });
    if body.is_some() || !params.is_empty() {
        responses["400"] = json!({ "$ref": "#/components/responses/Error" });
        responses["404"] = json!({ "$ref": "#/components/responses/Error" });
        responses["409"] = json!({ "$ref": "#/components/responses/Error" });
        responses["422"] = json!({ "$ref": "#/components/responses/Error" });
    }
    let mut operation = json!({
        "summary": summary,
        "description": format!("Requires the {role} role (or higher)."),
        "parameters": params,
        "responses": responses,
    });
    if let Some(body) = body {
        operation["requestBody"] = json!({ "required": true, "content": { "application/json": { "schema": schema(body) } } });
    }
    operation
}

/// `operation` whose `status` answer is a resource the `targets` (path, method) take by its `id`:
/// a link to each, which a stateful client (schemathesis) follows with the id it was given.
fn linked(mut operation: Value, status: &str, targets: &[(&str, &str)]) -> Value {
    let links: serde_json::Map<String, Value> = targets
        .iter()
        .map(|(path, method)| {
            let name = format!("{method}{}", path.replace(['/', '{', '}'], "_"));
            let pointer = path.replace('~', "~0").replace('/', "~1");
            let link = json!({ "operationRef": format!("#/paths/{pointer}/{method}"),
                "parameters": { "id": "$response.body#/id" } });
            (name, link)
        })
        .collect();
    operation["responses"][status]["links"] = Value::Object(links);
    operation
}

/// `operation` that can also answer the error `codes`.
pub(crate) fn also(mut operation: Value, codes: &[&str]) -> Value {
    for code in codes {
        operation["responses"][*code] = json!({ "$ref": "#/components/responses/Error" });
    }
    operation
}

fn object(required: &[&str], properties: Value) -> Value {
    json!({ "type": "object", "required": required, "properties": properties })
}

/// A request body: only the properties named are accepted (the server refuses unknown fields,
/// which is how a typo in a field's name is caught).
pub(crate) fn input(required: &[&str], properties: Value) -> Value {
    json!({ "type": "object", "additionalProperties": false, "required": required, "properties": properties })
}

/// A name the server trims: 1 to `max` characters, not only spaces.
pub(crate) fn name(max: usize) -> Value {
    json!({ "type": "string", "minLength": 1, "maxLength": max, "pattern": "\\S" })
}

/// The document, built once.
pub async fn handler() -> axum::Json<&'static Value> {
    static DOCUMENT: std::sync::OnceLock<Value> = std::sync::OnceLock::new();
    axum::Json(DOCUMENT.get_or_init(document))
}

pub fn document() -> Value {
    json!({
        "openapi": "3.1.0",
        "info": {
            "title": "Flightdeck API",
            "version": env!("CARGO_PKG_VERSION"),
            "description": "Deploy, roll back and observe services. Authenticate with `Authorization: Bearer <token>` (create tokens in Settings or with `flightdeck token create`). Errors are `{\"error\": {\"code\", \"message\"}}`.",
        },
        "servers": [{ "url": "/api/v1" }],
        "security": [{ "bearer": [] }],
        "paths": merged(merged(paths(), alert_paths()), readiness::paths()),
        "components": all_components(),
    })
}

fn paths() -> Value {
    let s = |t: &str| json!({ "type": t });
    let page = |name: &str| {
        vec![
            limit(500),
            query_with(
                "cursor",
                int_range(i64::MIN, i64::MAX),
                &format!("{name} id from next_cursor"),
            ),
        ]
    };
    json!({
        "/me": { "get": op("The caller's name and role", "viewer", vec![], None, "200", Some(schema("Me"))) },
        "/users": {
            "get": op("List users", "viewer", vec![], None, "200", Some(list_of("User"))),
            "post": op("Create a user", "admin", vec![], Some("NewUser"), "201", Some(schema("User"))),
        },
        "/users/{username}": { "patch": op("Disable or enable an account (disabling ends its sessions and revokes the tokens it created), change its role or set a new password", "admin",
            vec![path_param("username", "string")], Some("UserChange"), "200", Some(schema("User"))) },
        "/tokens": {
            "get": op("List API tokens (never their secrets)", "admin", vec![], None, "200", Some(list_of("Token"))),
            "post": op("Create an API token; the secret is in this answer only", "admin", vec![], Some("NewTokenRequest"), "201", Some(schema("NewToken"))),
        },
        "/tokens/{id}": { "delete": op("Revoke a token", "admin", vec![path_param("id", "integer")], None, "204", None) },
        "/audit": { "get": op("The audit trail, newest first", "viewer",
            vec![query("action", "string", "exact action"), query("actor", "string", "exact actor"), query("service", "string", "entries about this service and its targets (service/environment)"), limit(500), query_with("before", int_range(i64::MIN, i64::MAX), "entry id from next_before")],
            None, "200", Some(schema("AuditPage"))) },
        "/audit/export": { "get": {
            "summary": "Export the whole (filtered) audit trail", "description": "Requires the viewer role (or higher).",
            "parameters": [query_with("format", one_of(&["csv", "json"]), "csv or json (default json)"), query("action", "string", "exact action"), query("actor", "string", "exact actor")],
            "responses": {
                "200": { "description": "All matching entries, oldest first", "content": { "text/csv": { "schema": s("string") }, "application/json": { "schema": list_of("AuditEntry") } } },
                "400": { "$ref": "#/components/responses/Error" }, "401": { "$ref": "#/components/responses/Error" },
            },
        } },
        "/services": {
            "get": op("List services", "viewer", vec![], None, "200", Some(list_of("Service"))),
            "post": op("Register a service", "operator", vec![], Some("NewService"), "201", Some(schema("Service"))),
        },
        "/environments": {
            "get": op("List environments in pipeline order", "viewer", vec![], None, "200", Some(list_of("Environment"))),
            "post": op("Add an environment", "admin", vec![], Some("NewEnvironment"), "201", Some(schema("Environment"))),
        },
        "/services/{name}/releases": { "get": op("Releases of a service, newest first", "viewer", vec![path_param("name", "string")], None, "200", Some(list_of("Release"))) },
        "/services/{name}/targets/{environment}": { "put": op("Set how a service is deployed to an environment", "admin",
            vec![path_param("name", "string"), path_param("environment", "string")], Some("TargetSettings"), "200", Some(schema("Target"))) },
        "/targets": { "get": op("Every configured target, with its settings", "admin", vec![], None, "200", Some(list_of("Target"))) },
        "/deployments": {
            "get": op("Deployment history, newest first", "viewer",
                [vec![query("service", "string", "service name"), query("environment", "string", "environment name"), query_with("status", one_of(&["queued", "running", "succeeded", "failed", "rolled_back", "cancelled"]), "one status")], page("deployment")].concat(),
                None, "200", Some(schema("DeploymentPage"))),
            "post": linked(op("Deploy a version (creates the release if new)", "operator", vec![], Some("DeployRequest"), "202", Some(schema("Accepted"))),
                "202", &[("/deployments/{id}", "get"), ("/deployments/{id}/cancel", "post"), ("/deployments/{id}/dismiss", "post")]),
        },
        "/deployments/{id}": { "get": op("One deployment", "viewer", vec![path_param("id", "integer")], None, "200", Some(schema("Deployment"))) },
        "/deployments/{id}/cancel": { "post": op("Cancel a queued deployment, or stop a running one", "operator", vec![path_param("id", "integer")], None, "200", Some(schema("Deployment"))) },
        "/deployments/{id}/dismiss": { "post": op("Dismiss a failed deployment (the newest of its target): the matrix shows what still serves", "operator", vec![path_param("id", "integer")], None, "200", Some(schema("Deployment"))) },
        "/deployments/{id}/logs": { "get": {
            "summary": "A deployment's log; with follow=1 a text/event-stream of `line` events and a final `end` event",
            "description": "Requires the viewer role (or higher).",
            "parameters": [path_param("id", "integer"), query_with("after", int_range(0, i64::MAX), "line number to continue after"), query_with("limit", int_range(1, 10_000), "1 to 10000"), query_with("follow", int_range(0, 1), "1 to stream until the deployment ends")],
            "responses": {
                "200": { "description": "Lines", "content": { "application/json": { "schema": list_of("LogLine") }, "text/event-stream": { "schema": {
                    "description": "Each event: `line` (its id the line number, its data a LogLine as JSON), then `end` (its data the finished Deployment as JSON)",
                    "type": "object", "required": ["event", "data"],
                    "properties": { "event": one_of(&["line", "end"]), "id": s("string"), "data": s("string") } } } } },
                "400": { "$ref": "#/components/responses/Error" }, "404": { "$ref": "#/components/responses/Error" }, "401": { "$ref": "#/components/responses/Error" },
            },
        } },
        "/rollbacks": { "post": linked(op("Roll back to the last good version (or to_version); quarantines the bad one", "operator", vec![], Some("RollbackRequest"), "202", Some(schema("Accepted"))),
            "202", &[("/deployments/{id}", "get"), ("/deployments/{id}/cancel", "post")]) },
        "/rollbacks/options": { "get": op("What a rollback would do: the serving version, a failed one, the automatic target and the versions one may choose", "viewer",
            vec![required_query("service", "service name"), required_query("environment", "environment name")], None, "200", Some(schema("RollbackOptions"))) },
        "/promotions": { "post": op("Deploy the version live in from_environment to the next environment", "operator", vec![], Some("PromoteRequest"), "202", Some(schema("Accepted"))) },
        "/status": { "get": op("Every service x environment: version, status, deployment, age", "viewer", vec![], None, "200", Some(list_of("StatusCell"))) },
        "/quarantines": {
            "get": op("Quarantined versions", "viewer", vec![], None, "200", Some(list_of("Quarantine"))),
            "delete": op("Lift a quarantine", "operator",
                vec![required_query("service", "service name"), required_query("environment", "environment name"), required_query("version", "version")], None, "204", None),
        },
        "/webhooks/{source}": { "post": {
            "summary": "Inbound CI/CD webhook: github (X-Hub-Signature-256), gitlab (X-Gitlab-Token) or cdevents (Bearer, operator)",
            "description": "Stored before it is acknowledged, once per delivery id, then applied in the background. A delivery id seen before is a duplicate (200), unless its first try was refused or had nothing to apply: then it is applied again (202, with a `note`), as after a redelivery once its cause is fixed. Unknown event types: 202 and ignored. Bodies over 1 MiB: 413.",
            "security": [],
            "parameters": [path_param("source", "string")],
            "requestBody": { "required": true, "content": {
                "application/json": { "schema": s("object") },
                "application/x-www-form-urlencoded": { "schema": {
                    "description": "github only: the JSON in the `payload` field, as GitHub sends it unless the webhook's content type is application/json",
                    "type": "object", "required": ["payload"], "properties": { "payload": s("string") },
                } },
            } },
            "responses": {
                "202": { "description": "Accepted (or ignored); for a CI run that could not be recorded as a build, `build` says why" }, "200": { "description": "Duplicate delivery" },
                "400": { "$ref": "#/components/responses/Error" }, "401": { "$ref": "#/components/responses/Error" },
                "404": { "$ref": "#/components/responses/Error" }, "413": { "$ref": "#/components/responses/Error" },
            },
        } },
        "/webhooks/deliveries": { "get": op("The latest 100 webhook deliveries and what applying them did", "admin", vec![], None, "200", Some(list_of("WebhookDelivery"))) },
    })
}

/// `a` with the keys of `b` added (the documents are built in parts: one `json!` for all of it
/// would pass the macro's recursion limit).
fn merged(mut a: Value, b: Value) -> Value {
    if let (Some(a), Value::Object(b)) = (a.as_object_mut(), b) {
        a.extend(b);
    }
    a
}

fn all_components() -> Value {
    let mut components = components();
    components["schemas"] = merged(components["schemas"].take(), alert_schemas());
    components["schemas"] = merged(components["schemas"].take(), readiness::schemas());
    components
}

fn alert_paths() -> Value {
    let s = |t: &str| json!({ "type": t });
    let action = |summary: &str| {
        let mut o = op(
            summary,
            "operator",
            vec![path_param("id", "integer")],
            None,
            "200",
            Some(schema("Alert")),
        );
        o["requestBody"] = json!({ "required": false, "content": { "application/json": { "schema": input(&[], json!({ "note": { "type": ["string", "null"] } })) } } });
        o
    };
    json!({
        "/alerts": { "get": op("The alert feed, newest opened first", "viewer", vec![
            query_with("status", one_of(&["open", "acknowledged", "escalated", "resolved"]), "one status"),
            query_with("severity", one_of(&["critical", "warning", "info"]), "one severity"),
            limit(500),
            query_with("cursor", json!({ "type": "string", "pattern": "^-?[0-9]{1,18}\\.-?[0-9]{1,18}$" }), "next_cursor of the previous page"),
        ], None, "200", Some(schema("AlertPage"))) },
        "/alerts/{id}": { "get": op("One alert with its history and notifications", "viewer", vec![path_param("id", "integer")], None, "200", Some(schema("AlertDetail"))) },
        "/alerts/{id}/escalation": { "get": op("Who escalating the alert now would notify: the policy's next step, or nobody", "viewer", vec![path_param("id", "integer")], None, "200", Some(schema("EscalationPreview"))) },
        "/alerts/{id}/ack": { "post": action("Acknowledge: stops escalation (409 if already acknowledged or resolved)") },
        "/alerts/{id}/escalate": { "post": action("Escalate now: the next step of its policy is notified (GET /alerts/{id}/escalation says who); an acknowledgement stays on record") },
        "/alerts/{id}/resolve": { "post": action("Resolve: ends escalation and tells every notified channel") },
        "/silences": {
            "get": op("Silences not yet ended, then the 50 latest ended", "viewer", vec![], None, "200", Some(list_of("Silence"))),
            "post": linked(op("Silence alerts matching every matcher until ends_at", "operator", vec![], Some("NewSilence"), "201", Some(schema("Silence"))),
                "201", &[("/silences/{id}", "delete")]),
        },
        "/silences/{id}": { "delete": op("End a silence now (409 if it has ended): the alerts it silenced notify again", "operator", vec![path_param("id", "integer")], None, "200", Some(schema("Silence"))) },
        "/channels": {
            "get": op("Notification channels (URLs masked)", "viewer", vec![], None, "200", Some(list_of("Channel"))),
            "post": op("Add a channel: slack (incoming webhook URL), webhook (URL), email (addresses)", "admin", vec![], Some("NewChannel"), "201", Some(schema("Channel"))),
        },
        "/channels/{id}": { "put": op("Change a channel (body as for adding; an empty target keeps the current one unless the kind changes); unsent notifications go to the new target", "admin", vec![path_param("id", "integer")], Some("ChannelChange"), "200", Some(schema("Channel"))), "delete": op("Remove a channel (409 while a policy's step names it); its unsent notifications are given up, sent ones stay on their alerts", "admin", vec![path_param("id", "integer")], None, "204", None) },
        "/escalation-policies": {
            "get": op("Escalation policies by rank", "viewer", vec![], None, "200", Some(list_of("EscalationPolicy"))),
            "post": op("Add a policy: the first (by rank) whose matchers fit an alert owns it", "admin", vec![], Some("NewPolicy"), "201", Some(schema("EscalationPolicy"))),
        },
        "/escalation-policies/{id}": {
            "put": op("Change a policy's name, rank, matchers and steps; the open alerts it owns keep their place", "admin", vec![path_param("id", "integer")], Some("NewPolicy"), "200", Some(schema("EscalationPolicy"))),
            "delete": op("Remove a policy and its steps; the open alerts it owned stop escalating", "admin", vec![path_param("id", "integer")], None, "204", None),
        },
        "/components": {
            "get": op("Every component with its status, worst first", "viewer", vec![], None, "200", Some(list_of("Component"))),
            "post": op("Add a component and its probe (http, tcp or prometheus)", "admin", vec![], Some("NewComponent"), "201", Some(schema("Component"))),
        },
        "/components/{id}": { "get": op("One component with its last 200 checks and availability", "viewer", vec![path_param("id", "integer")], None, "200", Some(s("object"))) },
        "/slos": {
            "get": op("Every SLO with its latest evaluation, least budget left first", "viewer", vec![], None, "200", Some(list_of("Slo"))),
            "post": op("Define an SLO from a component's checks or from PromQL good/total queries ($window is replaced by each window)", "admin", vec![], Some("NewSlo"), "201", Some(schema("Slo"))),
        },
        "/slos/{id}": { "get": op("One SLO: SLI, budget remaining and how it was computed, burn rate per window, firing rules, hourly budget series", "viewer", vec![path_param("id", "integer")], None, "200", Some(schema("Slo"))) },
        "/webhooks/alertmanager": { "post": {
            "summary": "Alertmanager's webhook receiver (payload version 4); Bearer token with alerts:write (or an operator's)",
            "description": "One request is stored whole or not at all: a malformed alert refuses it with 400. Alerts are grouped by Alertmanager's fingerprint of their labels. The same alerts can also be sent as Alertmanager's own API at POST /api/v2/alerts (a JSON array of {labels, annotations, startsAt, endsAt, generatorURL}), so Prometheus can send here directly.",
            "requestBody": { "required": true, "content": { "application/json": { "schema": schema("AlertmanagerPayload") } } },
            "responses": {
                "200": { "description": "Stored", "content": { "application/json": { "schema": schema("IngestSummary") } } },
                "400": { "$ref": "#/components/responses/Error" }, "401": { "$ref": "#/components/responses/Error" },
                "403": { "$ref": "#/components/responses/Error" }, "413": { "$ref": "#/components/responses/Error" },
            },
        } },
    })
}

fn alert_schemas() -> Value {
    let s = |t: &str| json!({ "type": t });
    let opt = |t: &str| json!({ "type": [t, "null"] });
    let labels = json!({ "type": "object", "additionalProperties": { "type": "string" } });
    let status =
        json!({ "type": "string", "enum": ["open", "acknowledged", "escalated", "resolved"] });
    let matcher = object(
        &["name", "value"],
        json!({ "name": { "type": "string", "maxLength": 256, "pattern": "\\S" }, "value": s("string"), "isRegex": s("boolean"), "isEqual": s("boolean") }),
    );
    let silence_matcher = object(
        &["name", "value"],
        json!({ "name": { "type": "string", "maxLength": 256, "pattern": "\\S" }, "value": { "type": "string", "maxLength": 1024 }, "isRegex": s("boolean"), "isEqual": s("boolean") }),
    );
    let step = input(
        &["delay_s", "channel"],
        json!({ "delay_s": int_range(0, 604_800), "channel": name(100) }),
    );
    let stored_step = object(
        &["delay_s", "channel"],
        json!({ "delay_s": s("integer"), "channel": s("string") }),
    );
    let stored_matcher = object(
        &["name", "value"],
        json!({ "name": s("string"), "value": s("string"), "isRegex": s("boolean"), "isEqual": s("boolean") }),
    );
    json!({
        "Alert": object(&["id", "fingerprint", "source", "name", "severity", "status", "labels", "annotations", "opened_at"], json!({
            "id": s("integer"), "fingerprint": s("string"),
            "source": { "type": "string", "enum": ["alertmanager", "prometheus", "slo", "probe"] },
            "name": s("string"), "severity": { "type": "string", "enum": ["critical", "warning", "info"] }, "status": status,
            "summary": opt("string"), "labels": labels, "annotations": labels, "generator_url": opt("string"),
            "starts_at": s("integer"), "first_seen": s("integer"), "last_seen": s("integer"), "opened_at": s("integer"),
            "fire_count": s("integer"), "silenced_by": opt("integer"), "acknowledged_by": opt("string"), "acknowledged_at": opt("integer"),
            "resolved_by": opt("string"), "resolved_at": opt("integer"), "escalation_level": s("integer"), "updated_at": s("integer"),
        })),
        "AlertPage": object(&["alerts"], json!({ "alerts": list_of("Alert"), "next_cursor": opt("string") })),
        "AlertDetail": { "allOf": [schema("Alert"), object(&["history", "notifications"], json!({
            "history": { "type": "array", "items": object(&["id", "at", "actor", "kind"], json!({ "id": s("integer"), "at": s("integer"), "actor": s("string"), "kind": s("string"), "from_status": opt("string"), "to_status": opt("string"), "note": opt("string") })) },
            "notifications": { "type": "array", "items": object(&["id", "channel", "reason", "status", "attempts"], json!({ "id": s("integer"), "channel": s("string"), "reason": s("string"), "status": { "type": "string", "enum": ["pending", "sent", "failed"] }, "attempts": s("integer"), "last_error": opt("string"), "created_at": s("integer"), "sent_at": opt("integer") })) },
        }))] },
        "IngestSummary": object(&["opened", "updated", "resolved", "ignored"], json!({ "opened": s("integer"), "updated": s("integer"), "resolved": s("integer"), "ignored": s("integer") })),
        "Silence": object(&["id", "matchers", "starts_at", "ends_at", "comment", "created_by"], json!({ "id": s("integer"), "matchers": { "type": "array", "items": stored_matcher }, "starts_at": s("integer"), "ends_at": s("integer"), "comment": s("string"), "created_by": s("string"), "created_at": s("integer") })),
        "NewSilence": { "description": "ends_at must be after starts_at (default now) and in the future, at most FLIGHTDECK_SILENCE_MAX_DAYS later; one matcher must not match an empty value", "type": "object", "additionalProperties": false, "required": ["matchers", "ends_at", "comment"], "properties": { "matchers": { "type": "array", "items": silence_matcher, "minItems": 1, "maxItems": 32 }, "starts_at": { "type": ["integer", "null"] }, "ends_at": s("integer"), "comment": { "type": "string", "maxLength": 2000, "pattern": "\\S" } } },
        "Channel": object(&["id", "name", "kind", "target"], json!({ "id": s("integer"), "name": s("string"), "kind": { "type": "string", "enum": ["slack", "webhook", "email"] }, "target": s("string"), "created_by": s("string"), "created_at": s("integer") })),
        "NewChannel": channel(None),
        "ChannelChange": channel(Some(json!({ "const": "", "description": "keeps the current target (the kind must stay the same)" }))),
        "EscalationPolicy": object(&["id", "name", "matchers", "rank", "steps"], json!({ "id": s("integer"), "name": s("string"), "matchers": { "type": "array", "items": stored_matcher }, "rank": s("integer"), "steps": { "type": "array", "items": stored_step }, "created_by": s("string"), "created_at": s("integer") })),
        "ProbeSpec": { "description": "Each type takes only its own fields", "oneOf": [
            { "type": "object", "additionalProperties": false, "required": ["type", "url"], "properties": {
                "type": one_of(&["http"]), "url": http_url(), "method": nullable(one_of(&["GET", "HEAD", "POST", "OPTIONS"])),
                "expected_status": nullable(int_range(100, 599)), "body_contains": nullable(s("string")),
                "interval_s": int_range(1, 86_400), "timeout_ms": int_range(1, 120_000), "latency_threshold_ms": nullable(int_range(0, u32::MAX as i64)) } },
            { "type": "object", "additionalProperties": false, "required": ["type", "address"], "properties": {
                "type": one_of(&["tcp"]), "address": { "type": "string", "pattern": "^[^\\s:][^\\s]*:([1-9][0-9]{0,3}|[1-5][0-9]{4}|6[0-4][0-9]{3}|65[0-4][0-9]{2}|655[0-2][0-9]|6553[0-5])$", "description": "host:port" },
                "interval_s": int_range(1, 86_400), "timeout_ms": int_range(1, 120_000), "latency_threshold_ms": nullable(int_range(0, u32::MAX as i64)) } },
            { "type": "object", "additionalProperties": false, "required": ["type", "query"], "properties": {
                "type": one_of(&["prometheus"]), "query": line(10_000),
                "interval_s": int_range(1, 86_400), "timeout_ms": int_range(1, 120_000), "latency_threshold_ms": nullable(int_range(0, u32::MAX as i64)) } },
        ] },
        "NewComponent": input(&["name", "probe"], json!({ "name": name(100), "kind": name(40), "service": { "type": ["string", "null"] }, "environment": { "type": ["string", "null"] }, "probe": schema("ProbeSpec") })),
        "Component": object(&["id", "name", "kind", "probe", "status", "status_reason"], json!({
            "id": s("integer"), "name": s("string"), "kind": s("string"), "service": opt("string"), "environment": opt("string"),
            "probe": schema("ProbeSpec"), "status": { "type": "string", "enum": ["healthy", "degraded", "down", "unknown"] },
            "status_reason": s("string"), "status_since": s("integer"), "last_checked_at": opt("integer"), "last_latency_ms": opt("integer"), "created_at": s("integer"),
        })),
        "NewSlo": input(&["service", "name", "sli", "objective"], json!({
            "service": name(63), "name": name(100), "sli": { "type": "string", "enum": ["availability", "latency"] },
            "component": s("string"), "good_query": s("string"), "total_query": s("string"), "latency_threshold_ms": s("integer"),
            "objective": { "type": "number", "exclusiveMinimum": 0, "exclusiveMaximum": 1 }, "window_days": { "type": "integer", "enum": [28, 30] }, "description": s("string"),
        })),
        "Slo": object(&["id", "service", "name", "sli", "objective", "window_days"], json!({
            "id": s("integer"), "service": s("string"), "name": s("string"), "sli": s("string"), "component": opt("string"),
            "objective": s("number"), "window_days": s("integer"), "evaluated_at": opt("integer"), "evaluation_error": opt("string"),
            "evaluation": { "type": ["object", "null"], "description": "budget {objective, window_days, good, total, allowed_bad, bad, remaining}, burn_rates [{window, good, total, burn_rate}], firing [{severity, long, short, factor}]" },
        })),
        "NewPolicy": input(&["name", "steps"], json!({ "name": name(100), "matchers": { "type": "array", "items": matcher }, "rank": s("integer"), "steps": { "type": "array", "items": step, "minItems": 1, "maxItems": 20 } })),
        "AlertmanagerPayload": object(&["version", "alerts"], json!({
            "version": one_of(&["4"]), "status": nullable(one_of(&["firing", "resolved"])), "receiver": { "description": "the receiver's name; not used" }, "groupKey": { "description": "Alertmanager's group; not used (alerts are grouped by their labels' fingerprint)" },
            "alerts": { "type": "array", "minItems": 1, "maxItems": 1000, "items": object(&["status", "labels"], json!({
                "status": one_of(&["firing", "resolved"]),
                "labels": { "type": "object", "minProperties": 1, "description": "at least one, as Alertmanager requires; Prometheus names the alert in alertname",
                    "additionalProperties": s("string"), "propertyNames": { "pattern": "^[a-zA-Z_][a-zA-Z0-9_]*$" } },
                "annotations": { "type": "object", "additionalProperties": s("string") },
                "startsAt": { "type": ["string", "null"], "format": "date-time" }, "endsAt": { "type": ["string", "null"], "format": "date-time" },
                "generatorURL": { "type": ["string", "null"] },
            })) },
        })),
    })
}

fn components() -> Value {
    let s = |t: &str| json!({ "type": t });
    let opt = |t: &str| json!({ "type": [t, "null"] });
    let status_enum = json!({ "type": "string", "enum": ["queued", "running", "succeeded", "failed", "rolled_back", "cancelled"] });
    let version = json!({ "type": "string", "pattern": "^[A-Za-z0-9._+:/@-]{1,128}$" });
    json!({
        "securitySchemes": {
            "bearer": { "type": "http", "scheme": "bearer" },
        },
        "responses": {
            "Error": { "description": "What went wrong and what to do next", "content": { "application/json": { "schema": schema("Error") } } },
        },
        "schemas": {
            "Error": object(&["error"], json!({ "error": object(&["code", "message"], json!({ "code": s("string"), "message": s("string") })) })),
            "Me": object(&["username", "role", "kind"], json!({ "username": s("string"), "role": schema("Role"), "kind": { "enum": ["user", "token"] } })),
            "Role": { "type": "string", "enum": ["viewer", "operator", "admin"] },
            "User": object(&["id", "username", "role", "created_at"], json!({ "id": s("integer"), "username": s("string"), "role": schema("Role"), "created_at": s("integer"), "last_sign_in_at": opt("integer"), "disabled_at": opt("integer") })),
            "UserChange": { "type": "object", "additionalProperties": false, "minProperties": 1, "properties": { "disabled": s("boolean"), "role": schema("Role"), "password": { "type": "string", "minLength": 12 } } },
            "NewUser": input(&["username", "role", "password"], json!({ "username": { "type": "string", "pattern": "^[A-Za-z0-9._@-]{2,64}$" }, "role": schema("Role"), "password": { "type": "string", "minLength": 12, "maxLength": 256 } })),
            "Token": object(&["id", "name", "role", "prefix", "created_by", "created_at"], json!({ "id": s("integer"), "name": s("string"), "role": schema("Role"), "scopes": { "type": "array", "items": schema("Scope") }, "prefix": s("string"), "created_by": s("string"), "created_at": s("integer"), "last_used_at": opt("integer"), "revoked_at": opt("integer") })),
            "Scope": { "type": "string", "enum": ["alerts:write", "builds:write", "flags:evaluate", "deploy", "read"] },
            "NewTokenRequest": { "allOf": [input(&["name"], json!({ "name": { "type": "string", "pattern": "^[A-Za-z0-9._@-]{2,64}$" }, "role": schema("Role"), "environment": { "type": ["string", "null"], "minLength": 1, "description": "The environment whose flag settings the token evaluates when the context names none" }, "scopes": { "type": "array", "items": schema("Scope"), "description": "Limit the token to these; without a role, the least role they need" } })),
                { "anyOf": [{ "required": ["role"] }, { "required": ["scopes"], "properties": { "scopes": { "minItems": 1 } } }] }] },
            "NewToken": object(&["summary", "token"], json!({ "summary": schema("Token"), "token": s("string") })),
            "AuditEntry": object(&["id", "at", "actor", "action", "target", "detail"], json!({ "id": s("integer"), "at": s("integer"), "actor": s("string"), "action": s("string"), "target": s("string"), "reason": opt("string"), "detail": s("object") })),
            "AuditPage": object(&["entries"], json!({ "entries": list_of("AuditEntry"), "next_before": opt("integer") })),
            "Service": object(&["id", "name", "created_at"], json!({ "id": s("integer"), "name": s("string"), "description": opt("string"), "owner": opt("string"), "repo_url": opt("string"), "created_at": s("integer") })),
            "NewService": input(&["name"], json!({ "name": slug(), "description": nullable(optional_line(500)), "owner": nullable(optional_line(100)), "repo_url": { "type": ["string", "null"], "maxLength": 2048, "pattern": format!("^\\s*((https?://[A-Za-z0-9._~-]+{PORT}([/?#][^\\s\\u0000-\\u001f\\u007f-\\u009f]*)?)|((ssh://|git@)[^\\s\\u0000-\\u001f\\u007f-\\u009f]*))?\\s*$") } })),
            "Environment": object(&["id", "name", "rank", "protected"], json!({ "id": s("integer"), "name": s("string"), "rank": s("integer"), "protected": s("boolean"), "created_at": s("integer") })),
            "NewEnvironment": input(&["name", "rank"], json!({ "name": slug(), "rank": int_range(0, 1_000_000), "protected": s("boolean") })),
            "Release": object(&["id", "service", "version", "created_at"], json!({ "id": s("integer"), "service": s("string"), "version": s("string"), "git_sha": opt("string"), "artifact": opt("string"), "created_at": s("integer") })),
            "TargetSettings": { "description": "command needs a command, webhook a url", "oneOf": [
                input(&["deployer", "command"], json!({ "deployer": one_of(&["command"]), "command": { "type": "string", "maxLength": 4096, "pattern": "\\S" },
                    "timeout_s": int_range(1, 86_400), "health_url": left_out_or(http_url()), "watch_s": int_range(0, 604_800), "failure_threshold": int_range(1, 100) })),
                input(&["deployer", "url"], json!({ "deployer": one_of(&["webhook"]), "url": http_url(),
                    "timeout_s": int_range(1, 86_400), "health_url": left_out_or(http_url()), "watch_s": int_range(0, 604_800), "failure_threshold": int_range(1, 100) })),
                input(&["deployer"], json!({ "deployer": one_of(&["simulated"]),
                    "timeout_s": int_range(1, 86_400), "health_url": left_out_or(http_url()), "watch_s": int_range(0, 604_800), "failure_threshold": int_range(1, 100) })),
            ] },
            "Target": object(&["service", "environment", "deployer", "updated_at"], json!({
                "service": s("string"), "environment": s("string"), "updated_at": s("integer"),
                "deployer": one_of(&["command", "webhook", "simulated"]), "command": { "type": ["string", "null"] }, "url": { "type": ["string", "null"] },
                "timeout_s": s("integer"), "health_url": { "type": ["string", "null"] }, "watch_s": s("integer"), "failure_threshold": s("integer"),
            })),
            "DeployRequest": input(&["service", "environment", "version"], json!({ "service": slug(), "environment": slug(), "version": version.clone(), "artifact": optional_line(1024), "git_sha": { "type": "string", "pattern": "^[0-9a-fA-F]{4,64}$" }, "reason": optional_line(500), "queue": s("boolean"), "confirm": { "type": "string", "description": "the environment's name, when it is protected" } })),
            "RollbackRequest": input(&["service", "environment", "reason"], json!({ "service": slug(), "environment": slug(), "to_version": version, "reason": line(500), "confirm": { "type": "string", "description": "the environment's name, when it is protected" } })),
            "PromoteRequest": input(&["service", "from_environment"], json!({ "service": slug(), "from_environment": slug(), "reason": optional_line(500), "confirm": { "type": "string", "description": "the next environment's name, when it is protected" } })),
            "Accepted": object(&["id", "status", "environment", "target_version"], json!({ "id": s("integer"), "status": status_enum, "environment": s("string"), "target_version": s("string") })),
            "Deployment": object(&["id", "service", "environment", "version", "kind", "status", "trigger", "actor", "created_at"], json!({
                "id": s("integer"), "service": s("string"), "environment": s("string"), "version": s("string"),
                "git_sha": opt("string"), "artifact": opt("string"),
                "kind": { "type": "string", "enum": ["deploy", "rollback", "promote"] }, "status": status_enum,
                "trigger": { "type": "string", "enum": ["user", "token", "webhook", "policy"] }, "actor": s("string"),
                "reason": opt("string"), "created_at": s("integer"), "started_at": opt("integer"), "finished_at": opt("integer"),
                "replaced_id": opt("integer"), "error": opt("string"),
                "dismissed_by": opt("string"), "dismissed_at": opt("integer"),
            })),
            "EscalationPreview": object(&["step", "steps"], json!({ "policy": opt("string"), "channel": opt("string"), "step": s("integer"), "steps": s("integer") })),
            "RollbackOptions": object(&["choices"], json!({
                "serving": opt("string"), "failed": opt("string"), "rolls_back": opt("string"), "automatic": opt("string"),
                "choices": { "type": "array", "items": s("string") }, "refusal": opt("string"),
            })),
            "DeploymentPage": object(&["items"], json!({ "items": list_of("Deployment"), "next_cursor": opt("integer") })),
            "LogLine": object(&["n", "at", "stream", "text"], json!({ "n": s("integer"), "at": s("integer"), "stream": { "type": "string", "enum": ["stdout", "stderr", "flightdeck"] }, "text": s("string") })),
            "StatusCell": object(&["service", "environment", "configured"], json!({
                "service": s("string"), "environment": s("string"), "version": opt("string"), "status": { "type": ["string", "null"] },
                "deployment_id": opt("integer"), "deployed_at": opt("integer"), "live_version": opt("string"), "configured": s("boolean"),
                "kind": { "type": ["string", "null"], "enum": ["deploy", "rollback", "promote", null] },
                "rollback_to": opt("string"),
            })),
            "WebhookDelivery": object(&["id", "source", "delivery_id", "event", "received_at", "processed_at", "outcome"], json!({ "id": s("integer"), "source": s("string"), "delivery_id": s("string"), "event": s("string"), "received_at": s("integer"), "processed_at": opt("integer"), "outcome": { "type": ["string", "null"], "description": "what applying it did; `ignored: …` or `refused: …`; null until applied" } })),
            "Quarantine": object(&["service", "environment", "version", "created_at"], json!({ "service": s("string"), "environment": s("string"), "version": s("string"), "deployment_id": opt("integer"), "reason": opt("string"), "created_at": s("integer") })),
        },
    })
}
