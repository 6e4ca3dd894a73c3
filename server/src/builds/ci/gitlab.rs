//! GitLab's `Pipeline Hook` deliveries as builds: its own time format, merge request and fork
//! branches, and a retry of a finished pipeline as a build of its own.

use super::{id, insert, insert_commit, insert_names, text};
use app::builds::Build;
use serde_json::{json, Map, Value};

/// GitLab writes `2016-08-12 15:23:28 UTC` (or with an offset, `+0200`); RFC 3339 passes.
fn gitlab_time(raw: &str) -> Option<String> {
    use time::format_description::well_known::Rfc3339;
    if time::OffsetDateTime::parse(raw, &Rfc3339).is_ok() {
        return Some(raw.to_string());
    }
    let (date_time, zone) = raw.trim().rsplit_once(' ')?;
    let offset = match zone {
        "UTC" | "Z" => "+00:00".to_string(),
        z if z.len() == 5 && (z.starts_with('+') || z.starts_with('-')) => {
            format!("{}:{}", &z[..3], &z[3..])
        }
        _ => return None,
    };
    let candidate = format!("{}{offset}", date_time.replacen(' ', "T", 1));
    time::OffsetDateTime::parse(&candidate, &Rfc3339)
        .ok()
        .map(|_| candidate)
}

/// A GitLab time as Unix ms.
fn gitlab_ms(raw: &str) -> Option<i64> {
    crate::rfc3339_ms(&gitlab_time(raw)?)
}

/// When a GitLab pipeline was retried, if this delivery is from a retry.
///
/// "Retry" re-runs a pipeline's failed jobs under the same pipeline id, and the hook carries no
/// attempt number. It does carry the pipeline's latest jobs (`builds`), each with the time it was
/// created: every job is created with the pipeline, a retried job when it is retried. So a job
/// created well after the pipeline (a minute: creating even a large pipeline takes seconds)
/// dates a retry. A redelivered old event carries the old jobs and is not taken for one.
pub fn gitlab_retried_at(body: &Value) -> Option<i64> {
    let created = gitlab_ms(text(body, &["object_attributes", "created_at"])?)?;
    let latest_job = body
        .get("builds")?
        .as_array()?
        .iter()
        .filter_map(|job| gitlab_ms(text(job, &["created_at"])?))
        .max()?;
    (latest_job > created + 60_000).then_some(latest_job)
}

/// A GitLab delivery from a retry that began after `stored` (the pipeline's build so far)
/// finished, as a build of its own: keyed by the pipeline id and the retry's time, started when
/// the retry was, so the failure stays on record beside the retry's outcome (as a GitHub
/// re-run's attempts do). A retry of a job while the pipeline still runs stays one build.
pub fn gitlab_attempt(mut run: Build, at: i64, stored: Option<&Build>) -> Build {
    let Some(first) = stored else {
        return run;
    };
    if !first.status.is_finished() || first.finished_at.is_some_and(|f| f > at) {
        return run;
    }
    run.source_id = format!("{}/retry-{}", first.source_id, at / 1000);
    run.started_at = at.min(run.finished_at.unwrap_or(at));
    run.duration_s = run
        .finished_at
        .map(|f| (f - run.started_at) as f64 / 1000.0);
    run
}

/// The branch a GitLab pipeline built. GitLab 11.10 sent a merge request pipeline's `ref` as
/// `refs/merge-requests/IID/head` (later releases went back to the branch's name): the hook's
/// `merge_request.source_branch` names the branch then, so its builds stay one branch's. A merge
/// request from a fork whose pipeline runs in this project names the fork's branch, often its
/// `main`: the hook names the fork only by its project id, so the branch is `fork-ID:branch`, and
/// a contributor's red build does not count as this project's `main`.
fn gitlab_branch(body: &Value, attrs: &Value) -> Option<String> {
    let git_ref = text(attrs, &["ref"])?;
    let request = body.get("merge_request").filter(|mr| mr.is_object());
    let branch = match request.and_then(|mr| text(mr, &["source_branch"])) {
        Some(source) if git_ref.starts_with("refs/merge-requests/") => source,
        _ => git_ref.strip_prefix("refs/heads/").unwrap_or(git_ref),
    };
    let project = |key: &str| request.and_then(|mr| mr.get(key)).and_then(Value::as_u64);
    match (project("source_project_id"), project("target_project_id")) {
        (Some(source), Some(target)) if source != target => Some(format!("fork-{source}:{branch}")),
        _ => Some(branch.to_string()),
    }
}

/// A `Pipeline Hook` delivery as a build.
pub fn from_gitlab(body: &Value) -> Result<Value, String> {
    let attrs = body
        .get("object_attributes")
        .ok_or("missing object_attributes")?;
    let project = text(body, &["project", "path_with_namespace"])
        .ok_or("missing project.path_with_namespace")?;
    let name = text(attrs, &["name"]).unwrap_or("pipeline");
    let status = match text(attrs, &["status"]) {
        Some("success") => "success",
        Some("failed") => "failure",
        Some("canceled" | "skipped") => "cancelled",
        // "canceling" (newer GitLab releases) runs until its jobs stop, then "canceled" follows.
        Some("running" | "canceling") => "running",
        _ => "queued",
    };
    let trigger = match text(attrs, &["source"]) {
        Some("push") => "push",
        Some("merge_request_event" | "external_pull_request_event") => "pull_request",
        Some("schedule") => "schedule",
        Some("web" | "api" | "trigger") => "manual",
        _ => "other",
    };
    let time = |key: &str| text(attrs, &[key]).and_then(gitlab_time);
    let mut o = Map::new();
    o.insert("source".into(), json!("gitlab"));
    o.insert(
        "source_id".into(),
        json!(id(attrs, &["id"]).ok_or("missing object_attributes.id")?),
    );
    insert_names(&mut o, project, name, gitlab_branch(body, attrs).as_deref());
    insert_commit(
        &mut o,
        text(attrs, &["sha"]),
        text(body, &["commit", "author", "name"]).or_else(|| text(body, &["user", "username"])),
        text(body, &["commit", "message"]),
    );
    insert(&mut o, "started_at", time("created_at"));
    if matches!(status, "success" | "failure" | "cancelled") {
        insert(&mut o, "finished_at", time("finished_at"));
    }
    insert(
        &mut o,
        "duration_s",
        attrs.get("duration").and_then(Value::as_f64),
    );
    o.insert("status".into(), json!(status));
    o.insert("trigger".into(), json!(trigger));
    insert(&mut o, "url", text(attrs, &["url"]));
    Ok(Value::Object(o))
}

/// Pipelines of `project` (`group/name`, as its hook's `path_with_namespace` names it) as
/// GitLab's REST API gives them: pages of `GET /projects/:id/pipelines` as `glab api --paginate`
/// prints them, an array of pages, or single pipelines (`GET /projects/:id/pipelines/:id`,
/// which adds who started it, its start and finish, its duration and coverage). Each becomes the
/// build its `Pipeline Hook` delivery makes, keyed and named the same, so a later delivery of a
/// back-filled pipeline updates its build. A list entry says no finish: a finished pipeline's
/// last update stands for it. Neither says the commit's author or message; who started the
/// pipeline stands for the author where the API says it, as in the hook.
pub fn from_gitlab_api(doc: &Value, project: &str, builds: &mut Vec<Value>) -> Result<(), String> {
    match doc {
        Value::Array(items) => items
            .iter()
            .try_for_each(|item| from_gitlab_api(item, project, builds)),
        Value::Object(p) if p.contains_key("sha") && p.contains_key("ref") => {
            let field = |key: &str| p.get(key).cloned().unwrap_or(Value::Null);
            let finished_at = p
                .get("finished_at")
                .filter(|v| !v.is_null())
                .or_else(|| p.get("updated_at"));
            let hook = json!({
                "object_attributes": {
                    "id": field("id"), "name": field("name"), "ref": field("ref"), "sha": field("sha"),
                    "status": field("status"), "source": field("source"),
                    "created_at": field("created_at"), "finished_at": finished_at,
                    "duration": field("duration"), "url": field("web_url"),
                },
                "project": {"path_with_namespace": project},
                "user": field("user"),
            });
            let mut build = from_gitlab(&hook)
                .map_err(|why| format!("pipeline {}: {why}", field("id")))?;
            // "30.0", or null where no job reports it.
            let coverage = match p.get("coverage") {
                Some(Value::String(c)) => c.parse::<f64>().ok(),
                Some(c) => c.as_f64(),
                None => None,
            };
            if let Some(c) = coverage.filter(|c| (0.0..=100.0).contains(c)) {
                build["coverage"] = json!(c);
            }
            builds.push(build);
            Ok(())
        }
        _ => Err("this is not GitLab's list of pipelines ([{\"id\", \"sha\", \"ref\", \"status\", ...}], as `glab api --paginate \"projects/ID/pipelines?per_page=100\"` prints it)".into()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_gitlab_pipeline_reads_its_own_time_format() {
        assert_eq!(
            gitlab_time("2016-08-12 15:23:28 UTC").as_deref(),
            Some("2016-08-12T15:23:28+00:00")
        );
        assert_eq!(
            gitlab_time("2016-08-12 15:23:28 +0200").as_deref(),
            Some("2016-08-12T15:23:28+02:00")
        );
        assert_eq!(gitlab_time("yesterday"), None);
        let body = json!({
            "object_kind": "pipeline",
            "object_attributes": {"id": 31, "ref": "master", "sha": "bcbb5ec396a2c0f828686f14fac9b80b780504f2", "status": "failed",
                "source": "merge_request_event", "created_at": "2016-08-12 15:23:28 UTC", "finished_at": "2016-08-12 15:26:29 UTC",
                "duration": 63, "url": "https://gitlab.example.com/gitlab-org/gitlab-test/-/pipelines/31"},
            "user": {"username": "root"},
            "project": {"path_with_namespace": "gitlab-org/gitlab-test", "name": "Gitlab Test"},
            "commit": {"id": "bcbb5ec396a2c0f828686f14fac9b80b780504f2", "message": "test\n", "author": {"name": "User", "email": "user@gitlab.com"}}
        });
        let b = from_gitlab(&body).unwrap();
        assert_eq!(
            (b["status"].as_str(), b["trigger"].as_str()),
            (Some("failure"), Some("pull_request"))
        );
        assert_eq!(b["pipeline"], "gitlab-org/gitlab-test/pipeline");
        assert_eq!(b["duration_s"], 63.0);
        assert_eq!(b["branch"], "master");
        // A merge request pipeline's ref, as GitLab 11.10 sent it: the source branch instead.
        let mut body = body;
        body["object_attributes"]["ref"] = json!("refs/merge-requests/15/head");
        body["merge_request"] =
            json!({"iid": 15, "source_branch": "fix-cart", "target_branch": "master"});
        assert_eq!(from_gitlab(&body).unwrap()["branch"], "fix-cart");
        body["object_attributes"]["ref"] = json!("refs/heads/fix-cart");
        assert_eq!(from_gitlab(&body).unwrap()["branch"], "fix-cart");
        body["object_attributes"]["status"] = json!("canceling");
        assert_eq!(from_gitlab(&body).unwrap()["status"], "running");
        // A fork's merge request, its pipeline run in this project: not this project's branch.
        body["merge_request"] = json!({"iid": 16, "source_branch": "main", "target_branch": "main",
            "source_project_id": 2718, "target_project_id": 1});
        body["object_attributes"]["ref"] = json!("refs/merge-requests/16/head");
        assert_eq!(from_gitlab(&body).unwrap()["branch"], "fork-2718:main");
        body["merge_request"]["source_project_id"] = json!(1);
        assert_eq!(from_gitlab(&body).unwrap()["branch"], "main");
        // A push pipeline's hook carries no merge request (`null`): the ref names the branch.
        body["merge_request"] = Value::Null;
        body["object_attributes"]["ref"] = json!("release/2.1");
        assert_eq!(from_gitlab(&body).unwrap()["branch"], "release/2.1");
    }

    #[test]
    fn pipelines_listed_by_gitlabs_api_are_the_builds_their_hooks_make() {
        let listed = |id: u64, status: &str| {
            json!({"id": id, "iid": id - 30, "project_id": 1, "sha": "bcbb5ec396a2c0f828686f14fac9b80b780504f2",
                "ref": "main", "status": status, "source": "push", "name": null,
                "created_at": "2026-11-30T15:23:28.007Z", "updated_at": "2026-11-30T15:26:29.216Z",
                "web_url": format!("https://gitlab.example.com/g/p/-/pipelines/{id}")})
        };
        // Two pages as `glab api --paginate` prints them.
        let mut builds = Vec::new();
        for page in [
            json!([listed(33, "running"), listed(32, "failed")]),
            json!([listed(31, "success")]),
        ] {
            from_gitlab_api(&page, "g/p", &mut builds).unwrap();
        }
        let keys: Vec<(&str, &str, Option<&str>)> = builds
            .iter()
            .map(|b| {
                (
                    b["source_id"].as_str().unwrap(),
                    b["status"].as_str().unwrap(),
                    b["finished_at"].as_str(),
                )
            })
            .collect();
        assert_eq!(
            keys,
            [
                ("33", "running", None),
                ("32", "failure", Some("2026-11-30T15:26:29.216Z")),
                ("31", "success", Some("2026-11-30T15:26:29.216Z"))
            ]
        );
        // The hook of pipeline 32 makes the same build, bar what only one of them says.
        let hook = json!({"object_attributes": {"id": 32, "ref": "main", "sha": "bcbb5ec396a2c0f828686f14fac9b80b780504f2",
            "status": "failed", "source": "push", "created_at": "2026-11-30 15:23:28 UTC",
            "finished_at": "2026-11-30 15:26:29 UTC", "url": "https://gitlab.example.com/g/p/-/pipelines/32"},
            "project": {"path_with_namespace": "g/p"}});
        let read = |b: &Value| crate::builds::input::read(b, "gitlab", String::new).unwrap();
        let (imported, hooked) = (read(&builds[1]), read(&from_gitlab(&hook).unwrap()));
        assert_eq!(
            (
                &imported.source,
                &imported.source_id,
                &imported.pipeline,
                &imported.branch,
                imported.trigger,
                &imported.url
            ),
            (
                &hooked.source,
                &hooked.source_id,
                &hooked.pipeline,
                &hooked.branch,
                hooked.trigger,
                &hooked.url
            )
        );
        assert_eq!(imported.started_at / 1000, hooked.started_at / 1000);
        // A single pipeline says more: who started it, its finish, duration and coverage.
        let mut one = listed(34, "success");
        one["user"] = json!({"username": "maria", "name": "Maria"});
        one["finished_at"] = json!("2026-11-30T15:25:00Z");
        one["duration"] = json!(92);
        one["coverage"] = json!("84.5");
        let mut single = Vec::new();
        from_gitlab_api(&one, "g/p", &mut single).unwrap();
        let b = read(&single[0]);
        assert_eq!(
            (b.author.as_deref(), b.duration_s, b.coverage, b.finished_at),
            (
                Some("maria"),
                Some(92.0),
                Some(84.5),
                Some(1_796_052_300_000)
            )
        );
        // An array of pages (`--slurp`) reads the same; something else says what was expected.
        let mut slurped = Vec::new();
        from_gitlab_api(
            &json!([
                [listed(33, "running"), listed(32, "failed")],
                [listed(31, "success")]
            ]),
            "g/p",
            &mut slurped,
        )
        .unwrap();
        assert_eq!(slurped, builds);
        let wrong = from_gitlab_api(
            &json!({"message": "401 Unauthorized"}),
            "g/p",
            &mut Vec::new(),
        );
        assert!(wrong.unwrap_err().contains("projects/ID/pipelines"));
    }

    #[test]
    fn a_gitlab_retry_after_the_pipeline_finished_is_a_build_of_its_own() {
        let hook = |jobs: Value| json!({"object_attributes": {"id": 31, "created_at": "2026-11-30 15:23:28 UTC"}, "builds": jobs});
        let job = |created: &str| json!({"name": "test", "created_at": created});
        // Jobs are created with the pipeline (a few seconds apart); a retried one when retried.
        assert_eq!(gitlab_retried_at(&hook(json!([]))), None);
        assert_eq!(
            gitlab_retried_at(&hook(json!([
                job("2026-11-30 15:23:28 UTC"),
                job("2026-11-30 15:23:31 UTC")
            ]))),
            None
        );
        let retried = hook(json!([
            job("2026-11-30 15:23:28 UTC"),
            job("2026-11-30 15:40:00 UTC")
        ]));
        let at = 1_796_053_200_000;
        assert_eq!(gitlab_retried_at(&retried), Some(at));
        assert_eq!(
            gitlab_retried_at(&json!({"object_attributes": {"id": 31}})),
            None
        );

        // The pipeline's build as stored: read from a delivery, as the webhook does.
        let b = |status: &str, finished_at: Value| {
            let body = json!({"object_attributes": {"id": 31, "ref": "main", "sha": "bcbb5ec", "status": status,
                "created_at": "2026-11-30 15:23:28 UTC", "finished_at": finished_at, "duration": 181},
                "project": {"path_with_namespace": "g/p"}});
            crate::builds::input::read(&from_gitlab(&body).unwrap(), "gitlab", String::new).unwrap()
        };
        let failed = b("failed", json!("2026-11-30 15:26:29 UTC"));
        let passed = b("success", json!("2026-11-30 15:43:00 UTC"));
        let retry = gitlab_attempt(passed.clone(), at, Some(&failed));
        assert_eq!(
            (retry.source_id.as_str(), retry.started_at, retry.duration_s),
            ("31/retry-1796053200", 1_796_053_200_000, Some(180.0))
        );
        // A job retried while the pipeline still runs, or no retry at all: the same build.
        let running = b("running", Value::Null);
        assert_eq!(gitlab_attempt(passed.clone(), at, Some(&running)), passed);
        assert_eq!(gitlab_attempt(passed.clone(), at, None), passed);
    }
}
