//! CI runs from the signed webhooks as builds: GitHub's `workflow_run` (requested, in_progress,
//! completed) and GitLab's `Pipeline Hook`, each moving one build through its life (the run's
//! own id keys it; a GitHub re-run, its id and attempt; a GitLab retry, its id and time). Pure:
//! the payload in, the build in the shape `POST /builds` takes out. Each source reads its own
//! payload (`github`, `gitlab`); what they share, reading a payload and fitting its names and
//! message to what a build takes, is here.

mod github;
mod gitlab;

pub use github::{from_github, from_github_api};
pub use gitlab::{from_gitlab, from_gitlab_api, gitlab_attempt, gitlab_retried_at};

use crate::webhooks::parse::text;
use serde_json::{json, Map, Value};

fn id(v: &Value, path: &[&str]) -> Option<String> {
    let found = path.iter().try_fold(v, |v, key| v.get(key))?;
    match found {
        Value::Number(n) => Some(n.to_string()),
        Value::String(s) if !s.is_empty() => Some(s.clone()),
        _ => None,
    }
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

/// The commit a run built, who made it and its message, the latter two cut to fit. A message
/// longer than a build takes (a squash of many commits, release notes in a dependency bump) is
/// cut, not the build refused.
fn insert_commit(
    o: &mut Map<String, Value>,
    sha: Option<&str>,
    author: Option<&str>,
    message: Option<&str>,
) {
    use crate::builds::input::{MESSAGE_MAX, NAME_MAX};
    insert(o, "commit", sha);
    insert(o, "author", author.map(|a| fit(a, NAME_MAX)));
    let message = message.map(|m| m.chars().take(MESSAGE_MAX).collect::<String>());
    insert(o, "message", message);
}

fn insert(o: &mut Map<String, Value>, key: &str, value: Option<impl Into<Value>>) {
    if let Some(v) = value {
        o.insert(key.into(), v.into());
    }
}
