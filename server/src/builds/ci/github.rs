//! GitHub's `workflow_run` deliveries, and the runs its REST API lists, as builds.

use super::{id, insert, insert_commit, insert_names, text};
use serde_json::{json, Map, Value};

/// The branch of a GitHub run that names none.
const NO_BRANCH: &str = "(no branch)";

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
    insert_commit(
        &mut o,
        text(run, &["head_sha"]),
        text(run, &["head_commit", "author", "name"]).or_else(|| text(run, &["actor", "login"])),
        text(run, &["head_commit", "message"]),
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::builds::ci::fit;

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
}
