//! CI runs from the signed webhooks as builds: GitHub's `workflow_run` (requested, in_progress,
//! completed) and GitLab's `Pipeline Hook`, each moving one build through its life (the run's
//! own id keys it; a GitHub re-run, its id and attempt; a GitLab retry, its id and time). Pure:
//! the payload in, the build in the shape `POST /builds` takes out.

use app::builds::Build;
use serde_json::{json, Map, Value};

fn text<'a>(v: &'a Value, path: &[&str]) -> Option<&'a str> {
    path.iter()
        .try_fold(v, |v, key| v.get(key))?
        .as_str()
        .filter(|s| !s.is_empty())
}

fn id(v: &Value, path: &[&str]) -> Option<String> {
    let found = path.iter().try_fold(v, |v, key| v.get(key))?;
    match found {
        Value::Number(n) => Some(n.to_string()),
        Value::String(s) if !s.is_empty() => Some(s.clone()),
        _ => None,
    }
}

/// GitLab writes `2016-08-12 15:23:28 UTC` (or with an offset, `+0200`); RFC 3339 passes.
pub fn gitlab_time(raw: &str) -> Option<String> {
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

/// A commit message as a build keeps it: a webhook's message longer than a build takes (a
/// squash of many commits, release notes in a dependency bump) is cut, not the build refused.
fn message(raw: Option<&str>) -> Option<String> {
    let max = crate::builds::input::MESSAGE_MAX;
    raw.map(|m| m.chars().take(max).collect())
}

/// A name as a build keeps it. A webhook's name longer than a build takes (a long workflow name
/// after a long repository's, GitLab's nested groups, a fork's long branch) is cut to fit, with
/// "…" to say so, the same way for every delivery of the run: the run is recorded, not refused.
fn fit(name: &str, max: usize) -> String {
    if name.chars().count() <= max {
        return name.to_string();
    }
    let mut cut: String = name.chars().take(max - 1).collect();
    cut.push('…');
    cut
}

/// The names every run's build carries, each cut to fit.
fn insert_names(o: &mut Map<String, Value>, repo: &str, workflow: &str, branch: Option<&str>) {
    use crate::builds::input::{BRANCH_MAX, NAME_MAX};
    o.insert(
        "pipeline".into(),
        json!(fit(&format!("{repo}/{workflow}"), NAME_MAX)),
    );
    o.insert("repo".into(), json!(fit(repo, NAME_MAX)));
    o.insert("workflow".into(), json!(fit(workflow, NAME_MAX)));
    insert(o, "branch", branch.map(|b| fit(b, BRANCH_MAX)));
}

fn insert(o: &mut Map<String, Value>, key: &str, value: Option<impl Into<Value>>) {
    if let Some(v) = value {
        o.insert(key.into(), v.into());
    }
}

/// The branch of a GitHub run that names none.
pub const NO_BRANCH: &str = "(no branch)";

/// A `workflow_run` delivery as a build.
pub fn from_github(body: &Value) -> Result<Value, String> {
    let run = body.get("workflow_run").ok_or("missing workflow_run")?;
    let repo = text(body, &["repository", "full_name"]).ok_or("missing repository.full_name")?;
    let workflow = text(body, &["workflow", "name"])
        .or_else(|| text(run, &["name"]))
        .ok_or("missing workflow.name")?;
    let status = match (text(run, &["status"]), text(run, &["conclusion"])) {
        (Some("completed"), Some("success")) => "success",
        (Some("completed"), Some("failure" | "timed_out" | "startup_failure")) => "failure",
        (Some("completed"), _) => "cancelled",
        (Some("in_progress"), _) => "running",
        _ if text(body, &["action"]) == Some("in_progress") => "running",
        _ => "queued",
    };
    let trigger = match text(run, &["event"]) {
        Some("push") => "push",
        Some("pull_request" | "pull_request_target") => "pull_request",
        Some("schedule") => "schedule",
        Some("workflow_dispatch" | "repository_dispatch") => "manual",
        _ => "other",
    };
    // A re-run keeps the run's id and counts up `run_attempt`: each attempt is a build of its
    // own, so a flaky failure stays on record when its re-run passes (and a re-run of the same
    // commit is something the predictor reads). The first attempt is keyed by the id alone.
    let run_id = id(run, &["id"]).ok_or("missing workflow_run.id")?;
    let source_id = match run.get("run_attempt").and_then(Value::as_u64) {
        Some(attempt) if attempt > 1 => format!("{run_id}/attempt-{attempt}"),
        _ => run_id,
    };
    let mut o = Map::new();
    o.insert("source".into(), json!("github"));
    o.insert("source_id".into(), json!(source_id));
    // GitHub's schema lets `head_branch` be null: the pull request's branch names it then, or
    // it is kept as "(no branch)" rather than lost, as every run is a build.
    let branch = text(run, &["head_branch"])
        .or_else(|| {
            let pr = run.pointer("/pull_requests/0/head/ref")?.as_str();
            pr.filter(|s| !s.is_empty())
        })
        .unwrap_or(NO_BRANCH);
    // A pull request from a fork names the fork's branch, often its `main`: written as GitHub
    // writes it ("octocat:main"), so a contributor's red build does not count as this main's.
    let fork = text(run, &["head_repository", "full_name"])
        .filter(|head| !head.eq_ignore_ascii_case(repo))
        .and_then(|head| head.split('/').next());
    let branch = match fork {
        Some(owner) => format!("{owner}:{branch}"),
        None => branch.to_string(),
    };
    insert_names(&mut o, repo, workflow, Some(&branch));
    insert(&mut o, "commit", text(run, &["head_sha"]));
    insert(
        &mut o,
        "author",
        text(run, &["head_commit", "author", "name"])
            .or_else(|| text(run, &["actor", "login"]))
            .map(|a| fit(a, crate::builds::input::NAME_MAX)),
    );
    insert(
        &mut o,
        "message",
        message(text(run, &["head_commit", "message"])),
    );
    insert(
        &mut o,
        "started_at",
        text(run, &["run_started_at"]).or_else(|| text(run, &["created_at"])),
    );
    if status != "queued" && status != "running" {
        insert(&mut o, "finished_at", text(run, &["updated_at"]));
    }
    o.insert("status".into(), json!(status));
    o.insert("trigger".into(), json!(trigger));
    insert(&mut o, "url", text(run, &["html_url"]));
    Ok(Value::Object(o))
}

/// Runs as GitHub's REST API lists them (`GET /repos/{owner}/{repo}/actions/runs`): pages of
/// `{workflow_runs: [...]}` as `gh api --paginate` prints them, an array of pages, or runs. Each
/// becomes the build its `workflow_run` delivery makes, keyed and named the same, so a webhook's
/// later delivery of a back-filled run updates its build instead of adding a second one.
pub fn from_github_api(doc: &Value, builds: &mut Vec<Value>) -> Result<(), String> {
    match doc {
        Value::Array(items) => items
            .iter()
            .try_for_each(|item| from_github_api(item, builds)),
        Value::Object(o) if o.contains_key("workflow_runs") => {
            from_github_api(&o["workflow_runs"], builds)
        }
        Value::Object(o) if o.contains_key("head_sha") => {
            let delivery = json!({ "workflow_run": doc, "repository": o.get("repository") });
            let build = from_github(&delivery)
                .map_err(|why| format!("run {}: {why}", o.get("id").unwrap_or(&Value::Null)))?;
            builds.push(build);
            Ok(())
        }
        _ => Err("this is not GitHub's list of workflow runs ({\"workflow_runs\": [...]}, as `gh api --paginate repos/OWNER/REPO/actions/runs` prints it)".into()),
    }
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
    insert(&mut o, "commit", text(attrs, &["sha"]));
    insert(
        &mut o,
        "author",
        text(body, &["commit", "author", "name"])
            .or_else(|| text(body, &["user", "username"]))
            .map(|a| fit(a, crate::builds::input::NAME_MAX)),
    );
    insert(
        &mut o,
        "message",
        message(text(body, &["commit", "message"])),
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_longer_than_a_build_takes_are_cut_not_refused() {
        let workflow = "Build, sign and publish the container images to every registry ".repeat(4);
        let delivery = json!({
            "action": "completed", "workflow": {"name": workflow},
            "repository": {"full_name": format!("acme/{}", "storefront-".repeat(9))},
            "workflow_run": {"id": 7, "head_branch": format!("feature/{}", "x".repeat(240)),
                "head_sha": "acb5820ced9479c074f688cc328bf03f341a511d", "event": "pull_request",
                "status": "completed", "conclusion": "failure", "run_started_at": "2026-11-30T14:05:02Z",
                "updated_at": "2026-11-30T14:11:00Z",
                "head_repository": {"full_name": "a-contributor-with-a-long-name/storefront"}}
        });
        let run = from_github(&delivery).unwrap();
        let build = crate::builds::input::read(&run, "github", || "x".into()).unwrap();
        assert_eq!(build.pipeline.chars().count(), 200);
        assert!(build.pipeline.starts_with("acme/storefront-") && build.pipeline.ends_with('…'));
        assert_eq!(build.workflow.chars().count(), 200);
        assert!(build
            .branch
            .starts_with("a-contributor-with-a-long-name:feature/xxx"));
        assert_eq!(build.branch.chars().count(), 250);
        // Every delivery of the run names the same pipeline and branch, so it stays one build.
        assert_eq!(from_github(&delivery).unwrap(), run);
        // A name that fits is kept whole.
        assert_eq!(fit("acme/shop/CI", 200), "acme/shop/CI");
    }

    #[test]
    fn a_workflow_run_moves_through_its_life() {
        let mut body = json!({
            "action": "requested",
            "workflow": {"name": "CI"},
            "repository": {"full_name": "acme/shop"},
            "workflow_run": {"id": 30433642, "name": "CI", "head_branch": "main", "head_sha": "acb5820ced9479c074f688cc328bf03f341a511d",
                "event": "push", "status": "queued", "conclusion": null, "created_at": "2026-11-30T14:05:00Z",
                "updated_at": "2026-11-30T14:05:00Z", "html_url": "https://github.com/acme/shop/actions/runs/30433642",
                "head_commit": {"message": "Fix checkout", "author": {"name": "Maria", "email": "m@example.com"}}}
        });
        let queued = from_github(&body).unwrap();
        assert_eq!(
            (queued["status"].as_str(), queued["pipeline"].as_str()),
            (Some("queued"), Some("acme/shop/CI"))
        );
        assert!(queued.get("finished_at").is_none());
        body["action"] = json!("completed");
        body["workflow_run"]["status"] = json!("completed");
        body["workflow_run"]["conclusion"] = json!("failure");
        body["workflow_run"]["run_started_at"] = json!("2026-11-30T14:05:10Z");
        body["workflow_run"]["updated_at"] = json!("2026-11-30T14:12:00Z");
        let done = from_github(&body).unwrap();
        assert_eq!(
            (done["status"].as_str(), done["finished_at"].as_str()),
            (Some("failure"), Some("2026-11-30T14:12:00Z"))
        );
        assert_eq!(
            (done["started_at"].as_str(), done["source_id"].as_str()),
            (Some("2026-11-30T14:05:10Z"), Some("30433642"))
        );
        assert_eq!(done["author"], "Maria");
        // A message longer than a build keeps (a squash of many commits) is cut to fit.
        let long = format!("Squash\n\n{}", "commit-one".repeat(2000));
        body["workflow_run"]["head_commit"]["message"] = json!(long);
        let read = crate::builds::input::read(&from_github(&body).unwrap(), "github", String::new);
        assert_eq!(
            read.map(|b| b.message.map(|m| m.chars().count())),
            Ok(Some(10_000))
        );
        // "Re-run failed jobs": the same run id and commit, the next attempt.
        body["action"] = json!("requested");
        body["workflow_run"]["status"] = json!("queued");
        body["workflow_run"]["conclusion"] = json!(null);
        body["workflow_run"]["run_attempt"] = json!(2);
        let rerun = from_github(&body).unwrap();
        assert_eq!(
            (rerun["source_id"].as_str(), rerun["commit"].as_str()),
            (
                Some("30433642/attempt-2"),
                Some("acb5820ced9479c074f688cc328bf03f341a511d")
            )
        );
        body["workflow_run"]["run_attempt"] = json!(1);
        assert_eq!(from_github(&body).unwrap()["source_id"], "30433642");
        // A run of no branch is still a build: its pull request's branch, or "(no branch)".
        body["workflow_run"]["head_branch"] = Value::Null;
        assert_eq!(from_github(&body).unwrap()["branch"], NO_BRANCH);
        body["workflow_run"]["pull_requests"] =
            json!([{"number": 7, "head": {"ref": "fix-cart", "sha": "acb5820"}}]);
        assert_eq!(from_github(&body).unwrap()["branch"], "fix-cart");
        // A pull request from a fork's main is not this repository's main.
        body["workflow_run"]["head_branch"] = json!("main");
        body["workflow_run"]["head_repository"] = json!({"full_name": "octocat/shop"});
        assert_eq!(from_github(&body).unwrap()["branch"], "octocat:main");
        body["workflow_run"]["head_repository"] = json!({"full_name": "Acme/Shop"});
        assert_eq!(from_github(&body).unwrap()["branch"], "main");
    }

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
    fn runs_listed_by_githubs_api_are_the_builds_their_deliveries_make() {
        let run = |id: u64, attempt: u32, conclusion: &str| {
            json!({"id": id, "name": "CI", "head_branch": "main", "head_sha": "acb5820ced9479c074f688cc328bf03f341a511d",
                "event": "push", "status": "completed", "conclusion": conclusion, "run_attempt": attempt,
                "created_at": "2026-11-30T14:05:00Z", "run_started_at": "2026-11-30T14:05:02Z", "updated_at": "2026-11-30T14:11:00Z",
                "html_url": format!("https://github.com/acme/shop/actions/runs/{id}"),
                "head_commit": {"message": "Fix cart", "author": {"name": "Maria"}},
                "repository": {"full_name": "acme/shop"}, "head_repository": {"full_name": "acme/shop"}})
        };
        // Two pages as `gh api --paginate` prints them, one of them a re-run's second attempt.
        let pages = [
            json!({"total_count": 3, "workflow_runs": [run(12, 2, "success"), run(12, 1, "failure")]}),
            json!({"total_count": 3, "workflow_runs": [run(11, 1, "timed_out")]}),
        ];
        let mut builds = Vec::new();
        for page in &pages {
            from_github_api(page, &mut builds).unwrap();
        }
        let keys: Vec<(&str, &str)> = builds
            .iter()
            .map(|b| {
                (
                    b["source_id"].as_str().unwrap(),
                    b["status"].as_str().unwrap(),
                )
            })
            .collect();
        assert_eq!(
            keys,
            [
                ("12/attempt-2", "success"),
                ("12", "failure"),
                ("11", "failure")
            ]
        );
        let delivery = json!({"action": "completed", "workflow": {"name": "CI"}, "repository": {"full_name": "acme/shop"}, "workflow_run": run(12, 1, "failure")});
        assert_eq!(
            builds[1],
            from_github(&delivery).unwrap(),
            "the same build either way"
        );
        // An array of pages (`gh api --paginate --slurp`) reads the same.
        let mut slurped = Vec::new();
        from_github_api(&json!(pages), &mut slurped).unwrap();
        assert_eq!(slurped, builds);
        // Something else says what was expected.
        let wrong = from_github_api(&json!({"message": "Not Found"}), &mut Vec::new());
        assert!(wrong.unwrap_err().contains("workflow_runs"));
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
