//! A build as clients send it (`POST /builds`, the import, the CI webhooks) read into a checked
//! [`Build`], and a stored build as the API writes it. Every refusal names its field first.

use crate::json_body::{time_ms, whole_number};
use app::builds::PreRun;
use app::builds::{check_commit, split_pipeline, Build, BuildStatus, BuildTrigger};
use serde_json::{json, Map, Value};

type Field<T> = Result<T, String>;

/// The first of `names` (a field and its other names) the body has, with its value.
fn field<'o, 'n>(o: &'o Map<String, Value>, names: &[&'n str]) -> Option<(&'n str, &'o Value)> {
    names.iter().find_map(|n| o.get(*n).map(|v| (*n, v)))
}

/// One line of text (blank counts as left out), at most `max` characters.
fn text(o: &Map<String, Value>, names: &[&str], max: usize) -> Field<Option<String>> {
    match field(o, names) {
        None => Ok(None),
        Some((name, Value::String(s))) if s.chars().any(char::is_control) => Err(format!(
            "{name}: must be one line, without control characters"
        )),
        Some((name, value)) => free_text(name, value, max),
    }
}

/// The sender's own id: text, or a whole number, as GitHub's and GitLab's run ids are.
fn source_id(o: &Map<String, Value>) -> Field<Option<String>> {
    let names = ["source_id", "external_id", "run_id", "id"];
    match field(o, &names) {
        Some((_, Value::Number(n))) if n.is_u64() => Ok(Some(n.to_string())),
        Some((name, value @ Value::Number(_))) => whole_number(value)
            .map(|id| Some(id.to_string()))
            .ok_or_else(|| format!("{name}: must be text or a whole number")),
        _ => text(o, &names, 200),
    }
}

/// Text that may span lines (a commit message), at most `max` characters.
fn free_text(name: &str, value: &Value, max: usize) -> Field<Option<String>> {
    match value {
        Value::Null => Ok(None),
        Value::String(s) if s.trim().is_empty() => Ok(None),
        Value::String(s) if s.chars().count() > max => {
            Err(format!("{name}: keep it under {max} characters"))
        }
        Value::String(s) => Ok(Some(s.trim().to_string())),
        _ => Err(format!("{name}: must be text")),
    }
}

/// The longest commit message a build keeps, in characters.
pub const MESSAGE_MAX: usize = 10_000;
/// The longest pipeline, repository, workflow or author a build takes, in characters.
pub const NAME_MAX: usize = 200;
/// The longest branch a build takes, in characters (Git allows refs of about 250 bytes).
pub const BRANCH_MAX: usize = 250;

/// The commit message, by either of its names.
fn message(o: &Map<String, Value>) -> Field<Option<String>> {
    match field(o, &["message", "commit_message"]) {
        Some((name, value)) => free_text(name, value, MESSAGE_MAX),
        None => Ok(None),
    }
}

fn required(o: &Map<String, Value>, names: &[&str], max: usize) -> Field<String> {
    text(o, names, max)?.ok_or_else(|| format!("{}: is required", names[0]))
}

/// A count: a whole number, 0 or more (`12.0` is one).
fn count(o: &Map<String, Value>, name: &str) -> Field<Option<i64>> {
    match o.get(name) {
        None | Some(Value::Null) => Ok(None),
        Some(v) => whole_number(v)
            .filter(|n| *n >= 0)
            .map(Some)
            .ok_or_else(|| format!("{name}: must be a whole number, 0 or more")),
    }
}

fn number(
    o: &Map<String, Value>,
    name: &str,
    range: std::ops::RangeInclusive<f64>,
) -> Field<Option<f64>> {
    match o.get(name) {
        None | Some(Value::Null) => Ok(None),
        Some(v) => v
            .as_f64()
            .filter(|n| range.contains(n))
            .map(Some)
            .ok_or_else(|| {
                format!(
                    "{name}: must be a number from {} to {}",
                    range.start(),
                    range.end()
                )
            }),
    }
}

/// The times a build may carry, 2000-01-01 to the end of 2099 (UTC, Unix ms). A build stored
/// outside them would stay wrong for good: one dated in year 9999 is its pipeline's newest build
/// forever, and Unix seconds read as milliseconds date a build in January 1970.
pub const BUILD_TIMES: std::ops::RangeInclusive<i64> = 946_684_800_000..=4_102_444_799_999;

/// A year: no build runs longer, whether it says its duration or its times do.
const LONGEST_BUILD_S: f64 = 31_536_000.0;

/// RFC 3339 text or Unix milliseconds, within [`BUILD_TIMES`].
pub fn timestamp(o: &Map<String, Value>, name: &str) -> Field<Option<i64>> {
    let given = match o.get(name) {
        None | Some(Value::Null) => return Ok(None),
        Some(given) => given,
    };
    let ms = time_ms(given).ok_or_else(|| {
        format!("{name}: not a time; give RFC 3339 (2026-11-30T14:05:00Z) or Unix milliseconds")
    })?;
    if BUILD_TIMES.contains(&ms) {
        return Ok(Some(ms));
    }
    let seconds =
        given.is_number() && (BUILD_TIMES.start() / 1000..=BUILD_TIMES.end() / 1000).contains(&ms);
    Err(if seconds {
        format!("{name}: {ms} reads as January 1970: Unix times are in milliseconds ({ms}000)")
    } else {
        format!("{name}: {given} is not between the years 2000 and 2099")
    })
}

fn choice<T>(
    o: &Map<String, Value>,
    name: &str,
    parse: fn(&str) -> Option<T>,
    all: &[&str],
) -> Field<Option<T>> {
    match text(o, &[name], 40)? {
        None => Ok(None),
        Some(s) => parse(&s)
            .map(Some)
            .ok_or_else(|| format!("{name}: '{s}' is not one of {}", all.join(", "))),
    }
}

/// Reads one build. `source` is who sent it when the body does not say; `id_fallback` names it
/// when the body has no id of its own (each such build is new).
pub fn read(value: &Value, source: &str, id_fallback: impl FnOnce() -> String) -> Field<Build> {
    let o = value.as_object().ok_or("the build must be a JSON object")?;
    let pipeline = required(o, &["pipeline"], NAME_MAX)?;
    let split = split_pipeline(&pipeline);
    let repo = text(o, &["repo", "repository"], NAME_MAX)?
        .or_else(|| split.as_ref().map(|s| s.0.clone()))
        .unwrap_or_else(|| pipeline.clone());
    let workflow = text(o, &["workflow"], NAME_MAX)?
        .or_else(|| split.as_ref().map(|s| s.1.clone()))
        .unwrap_or_else(|| pipeline.clone());
    let branch = required(o, &["branch"], BRANCH_MAX)?;
    let commit = required(o, &["commit", "commit_sha", "sha"], 40)?.to_ascii_lowercase();
    check_commit(&commit)?;
    let statuses = BuildStatus::ALL
        .iter()
        .map(|s| s.as_str())
        .collect::<Vec<_>>();
    let status = choice(o, "status", BuildStatus::parse, &statuses)?.unwrap_or(BuildStatus::Queued);
    let trigger =
        choice(o, "trigger", BuildTrigger::parse, &trigger_names())?.unwrap_or(BuildTrigger::Other);
    let started_at = timestamp(o, "started_at")?.ok_or("started_at: is required")?;
    let finished_at = timestamp(o, "finished_at")?;
    if finished_at.is_some_and(|f| f < started_at) {
        return Err("finished_at: is before started_at".into());
    }
    if finished_at.is_some_and(|f| f - started_at > LONGEST_BUILD_S as i64 * 1000) {
        return Err("finished_at: is more than a year after started_at".into());
    }
    let duration_s = number(o, "duration_s", 0.0..=LONGEST_BUILD_S)?
        .or_else(|| finished_at.map(|f| (f - started_at) as f64 / 1000.0));
    let tests_total = count(o, "tests_total")?;
    let tests_failed = count(o, "tests_failed")?;
    if let (Some(total), Some(failed)) = (tests_total, tests_failed) {
        if failed > total {
            return Err(format!(
                "tests_failed: {failed} is more than tests_total ({total})"
            ));
        }
    }
    let url = text(o, &["url", "html_url"], 2000)?;
    if url
        .as_deref()
        .is_some_and(|u| app::http_url::check("url", u).is_err())
    {
        return Err(
            "url: must be an http(s) address with a host, like https://ci.example.com/runs/1"
                .into(),
        );
    }
    // Every viewer reads a build's link: a sender's credentials in it are not kept.
    let url = url.map(|u| app::redact::without_credentials(&u));
    Ok(Build {
        id: 0,
        source: text(o, &["source"], 40)?.unwrap_or_else(|| source.to_string()),
        source_id: match source_id(o)? {
            Some(id) => id,
            None => id_fallback(),
        },
        pipeline,
        repo,
        workflow,
        branch,
        commit,
        author: text(o, &["author"], NAME_MAX)?,
        trigger,
        message: message(o)?,
        files_changed: count(o, "files_changed")?,
        lines_added: count(o, "lines_added")?,
        lines_deleted: count(o, "lines_deleted")?,
        started_at,
        finished_at,
        duration_s,
        status,
        tests_total,
        tests_failed,
        coverage: number(o, "coverage", 0.0..=100.0)?,
        url,
        predicted_failure: None,
        model_version: None,
    })
}

/// Reads the fields of a build known before it runs (`POST /builds/predict`), with the same
/// rules as a whole build's; without `started_at`, now.
pub fn read_pre_run(value: &Value) -> Field<PreRun> {
    let o = value.as_object().ok_or("the body must be a JSON object")?;
    let commit = text(o, &["commit", "commit_sha", "sha"], 40)?.map(|c| c.to_ascii_lowercase());
    if let Some(c) = &commit {
        check_commit(c)?;
    }
    Ok(PreRun {
        pipeline: required(o, &["pipeline"], NAME_MAX)?,
        branch: required(o, &["branch"], BRANCH_MAX)?,
        commit,
        author: text(o, &["author"], NAME_MAX)?,
        trigger: choice(o, "trigger", BuildTrigger::parse, &trigger_names())?,
        message: message(o)?,
        files_changed: count(o, "files_changed")?,
        lines_added: count(o, "lines_added")?,
        lines_deleted: count(o, "lines_deleted")?,
        started_at: timestamp(o, "started_at")?.unwrap_or_else(crate::now_ms),
    })
}

fn trigger_names() -> Vec<&'static str> {
    BuildTrigger::ALL.iter().map(|t| t.as_str()).collect()
}

/// A stored build as the API writes it: times as RFC 3339.
pub fn to_json(b: &Build) -> Value {
    let time = |ms: i64| app::time_fmt::rfc3339(ms);
    json!({
        "id": b.id,
        "source": b.source,
        "source_id": b.source_id,
        "pipeline": b.pipeline,
        "repo": b.repo,
        "workflow": b.workflow,
        "branch": b.branch,
        "commit": b.commit,
        "author": b.author,
        "trigger": b.trigger,
        "message": b.message,
        "files_changed": b.files_changed,
        "lines_added": b.lines_added,
        "lines_deleted": b.lines_deleted,
        "started_at": time(b.started_at),
        "finished_at": b.finished_at.map(time),
        "duration_s": b.duration_s,
        "status": b.status,
        "tests_total": b.tests_total,
        "tests_failed": b.tests_failed,
        "coverage": b.coverage,
        "url": b.url,
        "prediction": b.predicted_failure.map(|p| json!({
            "failure_probability": p,
            "model_version": b.predicting_model(),
        })),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ok() -> Value {
        json!({"pipeline": "acme/shop/ci", "branch": "main", "commit": "0123abcd", "started_at": "2026-11-30T14:05:00Z",
               "finished_at": "2026-11-30T14:09:30Z", "status": "success", "trigger": "push", "coverage": 81.5, "source_id": 991})
    }

    #[test]
    fn a_build_reads_with_its_derived_fields() {
        let b = read(&ok(), "api", || unreachable!()).unwrap();
        assert_eq!(
            (b.repo.as_str(), b.workflow.as_str(), b.source_id.as_str()),
            ("acme/shop", "ci", "991")
        );
        assert_eq!(b.duration_s, Some(270.0));
        assert_eq!(to_json(&b)["started_at"], "2026-11-30T14:05:00Z");
    }

    #[test]
    fn each_mistake_names_its_field() {
        for (change, field) in [
            (json!({"pipeline": null}), "pipeline:"),
            (json!({"branch": ""}), "branch:"),
            (json!({"commit": "xyz"}), "commit:"),
            (json!({"started_at": null}), "started_at:"),
            (json!({"started_at": "yesterday"}), "started_at:"),
            (json!({"started_at": "9999-12-31T23:59:59Z"}), "started_at:"),
            (json!({"started_at": 946_684_799_999_i64}), "started_at:"),
            (
                json!({"finished_at": 4_102_444_800_000_i64}),
                "finished_at:",
            ),
            (
                json!({"finished_at": "2026-11-30T14:00:00Z"}),
                "finished_at:",
            ),
            (json!({"status": "green"}), "status:"),
            (json!({"trigger": "cron"}), "trigger:"),
            (json!({"coverage": 101}), "coverage:"),
            (json!({"lines_added": -1}), "lines_added:"),
            (
                json!({"tests_total": 3, "tests_failed": 4}),
                "tests_failed:",
            ),
            (json!({"url": "javascript:alert(1)"}), "url:"),
            (json!({"source_id": 2.5}), "source_id:"),
            (json!({"pipeline": "acme/shop\u{9b}"}), "pipeline:"),
            (json!({"author": "ana\nbo"}), "author:"),
            (json!({"files_changed": 3.5}), "files_changed:"),
        ] {
            let mut body = ok();
            for (k, v) in change.as_object().unwrap() {
                body[k] = v.clone();
            }
            let err = read(&body, "api", || "x".into()).unwrap_err();
            assert!(err.starts_with(field), "{change}: {err}");
        }
    }

    /// Unix seconds sent by mistake are refused with the fix, not stored in January 1970; a
    /// time past 2099 is refused too; the window's first and last instants are accepted.
    #[test]
    fn a_time_outside_the_years_2000_to_2099_is_refused() {
        let at = |time: Value| {
            let mut body = ok();
            body["started_at"] = time;
            body["finished_at"] = Value::Null;
            read(&body, "api", || unreachable!())
        };
        assert_eq!(
            at(json!(1_764_910_800)).unwrap_err(),
            "started_at: 1764910800 reads as January 1970: Unix times are in milliseconds (1764910800000)"
        );
        let late = at(json!("2100-01-01T00:00:00Z")).unwrap_err();
        assert!(
            late.contains("not between the years 2000 and 2099"),
            "{late}"
        );
        assert_eq!(
            at(json!("2000-01-01T00:00:00Z")).unwrap().started_at,
            *BUILD_TIMES.start()
        );
        assert_eq!(
            at(json!("2099-12-31T23:59:59.999Z")).unwrap().started_at,
            *BUILD_TIMES.end()
        );
    }

    #[test]
    fn whole_numbers_may_carry_a_fraction_of_zero_and_text_is_counted_in_characters() {
        let mut body = ok();
        body["tests_total"] = json!(12.0);
        body["started_at"] = json!(1_796_000_000_000.0);
        body["source_id"] = json!(u64::MAX);
        body["branch"] = json!("ü".repeat(250));
        body["message"] = json!("fix: cart\n\nCloses #12");
        let b = read(&body, "api", || unreachable!()).unwrap();
        assert_eq!(b.tests_total, Some(12));
        assert_eq!(b.started_at, 1_796_000_000_000);
        assert_eq!(b.source_id, u64::MAX.to_string());
        assert_eq!(b.message.as_deref(), Some("fix: cart\n\nCloses #12"));
    }

    #[test]
    fn a_prediction_reads_its_fields_by_the_same_rules() {
        let pre = read_pre_run(&json!({"pipeline": "acme/shop/ci", "branch": "main",
            "commit": "0123ABCD", "files_changed": 4.0, "commit_message": "bump deps"}))
        .unwrap();
        assert_eq!(pre.commit.as_deref(), Some("0123abcd"));
        assert_eq!(pre.files_changed, Some(4));
        assert_eq!(pre.message.as_deref(), Some("bump deps"));
        for (body, field) in [
            (json!({"pipeline": "a\u{7}", "branch": "main"}), "pipeline:"),
            (
                json!({"pipeline": "a/b", "branch": "x".repeat(251)}),
                "branch:",
            ),
            (
                json!({"pipeline": "a/b", "branch": "main", "trigger": "cron"}),
                "trigger:",
            ),
            (
                json!({"pipeline": "a/b", "branch": "main", "lines_added": -1}),
                "lines_added:",
            ),
        ] {
            let err = read_pre_run(&body).unwrap_err();
            assert!(err.starts_with(field), "{body}: {err}");
        }
        assert!(read_pre_run(&json!([null])).is_err());
    }
}
