//! Property tests of every parser of outside input: webhook payloads (GitHub, GitLab,
//! CDEvents, and the CI runs they carry), alert payloads (Alertmanager's webhook and its API),
//! label matchers, flag conditions, page cursors, proxy CIDRs. Whatever arrives, each answers
//! with a value or an error message, never a panic; the ones with a written form read back what
//! they wrote.

use flightdeck::alerts::incoming::{alertmanager_webhook, postable_alerts};
use flightdeck::builds::ci;
use flightdeck::webhooks::parse;
use proptest::prelude::*;
use serde_json::{json, Map, Value};

/// Field names the parsers look for, so that generated JSON reaches deep into them.
const KEYS: [&str; 40] = [
    "action",
    "workflow_run",
    "workflow",
    "name",
    "repository",
    "full_name",
    "head_branch",
    "head_sha",
    "head_commit",
    "message",
    "author",
    "event",
    "status",
    "conclusion",
    "run_started_at",
    "created_at",
    "updated_at",
    "html_url",
    "id",
    "object_kind",
    "object_attributes",
    "ref",
    "sha",
    "duration",
    "finished_at",
    "project",
    "path_with_namespace",
    "user",
    "username",
    "alerts",
    "labels",
    "annotations",
    "startsAt",
    "endsAt",
    "generatorURL",
    "version",
    "context",
    "subject",
    "content",
    "environment",
];

fn json_value() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(|n| json!(n)),
        any::<f64>()
            .prop_map(|f| serde_json::Number::from_f64(f).map_or(Value::Null, Value::Number)),
        ".{0,40}".prop_map(Value::String),
        prop::sample::select(vec![
            "firing",
            "resolved",
            "4",
            "completed",
            "success",
            "failure",
            "main",
            "2026-12-01T10:00:00Z",
            "abc1234"
        ])
        .prop_map(|s| Value::String(s.to_string())),
    ];
    leaf.prop_recursive(5, 64, 8, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..6).prop_map(Value::Array),
            prop::collection::vec((prop::sample::select(KEYS.to_vec()), inner), 0..10).prop_map(
                |pairs| {
                    Value::Object(
                        pairs
                            .into_iter()
                            .map(|(k, v)| (k.to_string(), v))
                            .collect::<Map<_, _>>(),
                    )
                }
            ),
        ]
    })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(400))]

    #[test]
    fn webhook_payloads_never_panic(body in json_value(), event in prop::sample::select(vec![
        "workflow_run", "deployment_status", "release", "push", "Pipeline Hook", "Deployment Hook", "Job Hook", "", "ping",
    ])) {
        let _ = parse::github(event, &body);
        let _ = parse::gitlab(event, &body);
        let _ = parse::cdevents(&body);
        let _ = ci::from_github(&body);
        let _ = ci::from_gitlab(&body);
    }

    #[test]
    fn alert_payloads_never_panic(body in json_value(), bytes in prop::collection::vec(any::<u8>(), 0..200)) {
        let text = body.to_string();
        let _ = alertmanager_webhook(text.as_bytes());
        let _ = postable_alerts(text.as_bytes(), 1_796_162_400_000);
        let _ = alertmanager_webhook(&bytes);
        let _ = postable_alerts(&bytes, 1_796_162_400_000);
    }

    /// A well-formed Alertmanager payload is read whole: every alert, with its labels.
    #[test]
    fn a_well_formed_alertmanager_payload_is_read_whole(
        alerts in prop::collection::vec(
            (prop::collection::btree_map("[a-z_][a-z0-9_]{0,10}", "[ -~]{1,20}", 1..5), any::<bool>()),
            1..20,
        )
    ) {
        let payload = json!({
            "version": "4", "status": "firing", "receiver": "flightdeck", "groupKey": "{}", "truncatedAlerts": 0,
            "groupLabels": {}, "commonLabels": {}, "commonAnnotations": {}, "externalURL": "http://am",
            "alerts": alerts.iter().map(|(labels, resolved)| json!({
                "status": if *resolved { "resolved" } else { "firing" },
                "labels": labels, "annotations": {}, "startsAt": "2026-12-01T10:00:00Z",
                "endsAt": "0001-01-01T00:00:00Z", "generatorURL": "http://prometheus/graph", "fingerprint": "x",
            })).collect::<Vec<_>>(),
        });
        let read = alertmanager_webhook(payload.to_string().as_bytes());
        let read = read.map_err(TestCaseError::fail)?;
        prop_assert_eq!(read.len(), alerts.len());
        for (incoming, (labels, resolved)) in read.iter().zip(&alerts) {
            prop_assert_eq!(&incoming.labels, labels);
            prop_assert_eq!(incoming.resolved, *resolved);
        }
    }

    #[test]
    fn matchers_and_conditions_never_panic(text in ".{0,80}") {
        let _ = app::health::routing_form::parse_matchers(&text);
        let _ = app::flags::condition::Condition::parse(&text);
        let _ = flightdeck::auth::proxies::parse_list(&text);
    }

    #[test]
    fn matchers_in_their_written_form_are_read(
        name in "[a-z_][a-z0-9_]{0,12}",
        value in "[a-z0-9-]{1,12}",
        op in prop::sample::select(vec!["=", "!=", "=~", "!~"]),
    ) {
        let read = app::health::routing_form::parse_matchers(&format!("{name}{op}\"{value}\""))
            .map_err(TestCaseError::fail)?;
        prop_assert_eq!(read.len(), 1);
        prop_assert_eq!(&read[0].name, &name);
        prop_assert_eq!(&read[0].value, &value);
        prop_assert_eq!(read[0].is_regex, op.contains('~'));
        prop_assert_eq!(read[0].is_equal, !op.starts_with('!'));
    }

    #[test]
    fn cursors_read_back_what_they_wrote(at in any::<i64>(), id in any::<i64>(), junk in ".{0,30}") {
        use app::health::alert::{decode_cursor, encode_cursor};
        prop_assert_eq!(decode_cursor(&encode_cursor(at, id)), Ok((at, id)));
        let _ = decode_cursor(&junk);
    }
}
