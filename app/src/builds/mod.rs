//! CI builds: what a build is, the checks a new one passes, and (in the submodules) the
//! statistics of a pipeline, the features a prediction reads and how a predictor is scored.

pub mod charts;
pub mod commit;
pub mod evaluation;
pub mod factors;
pub mod features;
pub mod order;
pub mod red;
pub mod stats;

use serde::{Deserialize, Serialize};

/// The live topic of build changes.
pub const TOPIC: &str = "builds";

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum BuildStatus {
    Queued,
    Running,
    Success,
    Failure,
    Cancelled,
}

crate::text_enum::text_enum!(BuildStatus {
    Queued = "queued",
    Running = "running",
    Success = "success",
    Failure = "failure",
    Cancelled = "cancelled",
});

impl BuildStatus {
    /// Success or failure: an outcome a prediction is scored against.
    pub fn is_outcome(self) -> bool {
        matches!(self, BuildStatus::Success | BuildStatus::Failure)
    }
    pub fn is_finished(self) -> bool {
        matches!(
            self,
            BuildStatus::Success | BuildStatus::Failure | BuildStatus::Cancelled
        )
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum BuildTrigger {
    Push,
    PullRequest,
    Schedule,
    Manual,
    Other,
}

crate::text_enum::text_enum!(BuildTrigger {
    Push = "push",
    PullRequest = "pull_request",
    Schedule = "schedule",
    Manual = "manual",
    Other = "other",
});

/// A build as stored and served. Times are Unix ms inside; the API writes them as RFC 3339.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Build {
    pub id: i64,
    /// Who sent it (`api`, `github`, `gitlab`) and its id there: a repeated delivery updates.
    pub source: String,
    pub source_id: String,
    pub pipeline: String,
    pub repo: String,
    pub workflow: String,
    pub branch: String,
    pub commit: String,
    pub author: Option<String>,
    pub trigger: BuildTrigger,
    pub message: Option<String>,
    pub files_changed: Option<i64>,
    pub lines_added: Option<i64>,
    pub lines_deleted: Option<i64>,
    pub started_at: i64,
    pub finished_at: Option<i64>,
    pub duration_s: Option<f64>,
    pub status: BuildStatus,
    pub tests_total: Option<i64>,
    pub tests_failed: Option<i64>,
    pub coverage: Option<f64>,
    pub url: Option<String>,
    /// The failure probability predicted when the build arrived, and by which model (0: the
    /// last-build baseline).
    pub predicted_failure: Option<f64>,
    pub model_version: Option<i64>,
}

impl Build {
    /// Makes this delivery the next version of `stored`, the build already kept under the same
    /// source id: its id and prediction, and what it said that this delivery leaves out. False
    /// when the delivery must leave `stored` as it is: deliveries arrive out of order and are
    /// redelivered by hand, and a late "queued" or "running" must not reopen a build that has
    /// finished (its outcome and times would be lost).
    pub fn follow(&mut self, stored: &Build) -> bool {
        if stored.status.is_finished() && !self.status.is_finished() {
            return false;
        }
        self.keep_what_was_said(stored);
        self.id = stored.id;
        self.predicted_failure = stored.predicted_failure;
        self.model_version = stored.model_version;
        true
    }

    /// The version of the model that predicted this build when it arrived; `None` when the
    /// last-build baseline did (stored as version 0) or nothing did.
    pub fn predicting_model(&self) -> Option<i64> {
        self.model_version.filter(|v| *v > 0)
    }

    /// Keeps what an earlier delivery of this build said and this one leaves out: a CI that
    /// reports the change, author and message when a build starts need not repeat them when
    /// it finishes. The outcome fields are this delivery's own (a re-run clears them).
    fn keep_what_was_said(&mut self, earlier: &Build) {
        fn keep<T: Clone>(now: &mut Option<T>, before: &Option<T>) {
            if now.is_none() {
                now.clone_from(before);
            }
        }
        keep(&mut self.author, &earlier.author);
        keep(&mut self.message, &earlier.message);
        keep(&mut self.files_changed, &earlier.files_changed);
        keep(&mut self.lines_added, &earlier.lines_added);
        keep(&mut self.lines_deleted, &earlier.lines_deleted);
        keep(&mut self.url, &earlier.url);
        // A delivery that does not say its trigger reads as "other".
        if self.trigger == BuildTrigger::Other {
            self.trigger = earlier.trigger;
        }
    }

    /// Lines changed, when the sender said.
    pub fn change_size(&self) -> Option<i64> {
        match (self.lines_added, self.lines_deleted) {
            (None, None) => None,
            (a, d) => Some(a.unwrap_or(0) + d.unwrap_or(0)),
        }
    }
}

/// One build per source id, in the batch's order of first mention. A history saved from a CI's
/// event log names a build at each step (queued, running, its outcome): a later mention is read
/// as that build's next delivery, as `Build::follow` reads one.
pub fn one_per_source_id(batch: Vec<Build>) -> Vec<Build> {
    let mut first_at = std::collections::HashMap::new();
    let mut builds: Vec<Build> = Vec::with_capacity(batch.len());
    for mut build in batch {
        let key = (build.source.clone(), build.source_id.clone());
        match first_at.get(&key) {
            Some(&i) => {
                if build.follow(&builds[i]) {
                    builds[i] = build;
                }
            }
            None => {
                first_at.insert(key, builds.len());
                builds.push(build);
            }
        }
    }
    builds
}

/// What the statistics and the charts read of a build: its outcome and when, not its change.
/// Read for a whole period (a year of a busy team is 100,000 builds), so it leaves out the
/// messages, links and change sizes a full [`Build`] carries.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BuildOutcome {
    pub pipeline: String,
    pub branch: String,
    pub commit: String,
    pub status: BuildStatus,
    pub started_at: i64,
    pub finished_at: Option<i64>,
    pub duration_s: Option<f64>,
    pub coverage: Option<f64>,
}

impl From<&Build> for BuildOutcome {
    fn from(b: &Build) -> BuildOutcome {
        BuildOutcome {
            pipeline: b.pipeline.clone(),
            branch: b.branch.clone(),
            commit: b.commit.clone(),
            status: b.status,
            started_at: b.started_at,
            finished_at: b.finished_at,
            duration_s: b.duration_s,
            coverage: b.coverage,
        }
    }
}

/// What the pre-run fields of a build say (what a prediction may read).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct PreRun {
    pub pipeline: String,
    pub branch: String,
    /// The commit it builds, when the caller says (a re-run builds its predecessor's again).
    #[serde(default)]
    pub commit: Option<String>,
    pub author: Option<String>,
    pub trigger: Option<BuildTrigger>,
    pub message: Option<String>,
    pub files_changed: Option<i64>,
    pub lines_added: Option<i64>,
    pub lines_deleted: Option<i64>,
    pub started_at: i64,
}

impl From<&Build> for PreRun {
    fn from(b: &Build) -> PreRun {
        PreRun {
            pipeline: b.pipeline.clone(),
            branch: b.branch.clone(),
            commit: Some(b.commit.clone()),
            author: b.author.clone(),
            trigger: Some(b.trigger),
            message: b.message.clone(),
            files_changed: b.files_changed,
            lines_added: b.lines_added,
            lines_deleted: b.lines_deleted,
            started_at: b.started_at,
        }
    }
}

/// One reason of a prediction: the feature, its share of the log-odds of failure (positive
/// pushes towards failure) and what it means in words.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Factor {
    pub name: String,
    pub contribution: f64,
    pub reason: String,
}

/// Which model answered.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ModelRef {
    pub version: i64,
    /// RFC 3339.
    pub trained_at: String,
}

/// What `POST /builds/predict` answers, and what a running build shows.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Prediction {
    pub failure_probability: f64,
    /// `failure` or `success`.
    pub prediction: String,
    /// Strongest first.
    pub factors: Vec<Factor>,
    /// `None`: no model yet; the answer is the last-build baseline's.
    pub model: Option<ModelRef>,
    /// `model` or `last_build_baseline`.
    pub basis: String,
}

/// A trained model as `GET|POST /builds/model` describe it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ModelInfo {
    pub version: i64,
    /// RFC 3339.
    pub trained_at: String,
    pub samples: usize,
    pub evaluation: evaluation::Evaluation,
}

/// How the predictions made as builds arrived fared, over the latest finished ones.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct LiveAccuracy {
    pub builds: usize,
    pub accuracy: Option<f64>,
    pub baseline_accuracy: Option<f64>,
    pub majority_accuracy: Option<f64>,
}

/// Filters and paging of `GET /builds`, newest first.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct BuildQuery {
    #[serde(default)]
    pub pipeline: Option<String>,
    #[serde(default)]
    pub branch: Option<String>,
    #[serde(default)]
    pub status: Option<String>,
    #[serde(default)]
    pub author: Option<String>,
    /// The builds of one commit: its sha, or as much of it as CI shows (7 to 40 hex digits). A
    /// build stored under a shorter sha of the same commit matches too.
    #[serde(default)]
    pub commit: Option<String>,
    #[serde(default)]
    pub limit: Option<i64>,
    /// The id after which the next page starts (from `next_cursor`).
    #[serde(default)]
    pub cursor: Option<i64>,
}

/// Checks the fields that have rules beyond their type; the message starts with the field.
pub fn check_commit(commit: &str) -> Result<(), String> {
    let ok = (7..=40).contains(&commit.len()) && commit.chars().all(|c| c.is_ascii_hexdigit());
    if ok {
        Ok(())
    } else {
        Err(format!(
            "commit: '{commit}' is not a commit id; give 7 to 40 hexadecimal characters"
        ))
    }
}

/// `repo/workflow` split at the last `/` (`acme/shop/ci` → `acme/shop`, `ci`).
pub fn split_pipeline(pipeline: &str) -> Option<(String, String)> {
    let (repo, workflow) = pipeline.rsplit_once('/')?;
    (!repo.is_empty() && !workflow.is_empty()).then(|| (repo.to_string(), workflow.to_string()))
}

/// The branches that ship: `main`, `master`, `trunk`, `develop`.
pub fn is_default_branch(branch: &str) -> bool {
    matches!(branch, "main" | "master" | "trunk" | "develop")
}

/// A commit message's first line, as CI dashboards list it (the whole is the line's title).
pub fn subject(message: Option<&str>) -> String {
    message
        .and_then(|m| m.lines().next())
        .unwrap_or_default()
        .to_string()
}

/// What a failed build's tests say, where it sent their counts: "3 tests failed" (with the
/// total in the title: "3 of 1,240 tests failed"), or "no test failed" when the failure was
/// elsewhere (setup, a compile, a lint), which a re-run will not mend.
pub fn failed_tests(b: &Build) -> Option<(String, String)> {
    let failed = b
        .tests_failed
        .filter(|_| b.status == BuildStatus::Failure)?;
    let tests = |n: i64| if n == 1 { "test" } else { "tests" };
    let said = match failed {
        0 => "no test failed".to_string(),
        n => format!("{} {} failed", thousands(n), tests(n)),
    };
    let whole = match b.tests_total {
        Some(total) if total >= failed => format!(
            "{} of {} {} failed",
            thousands(failed),
            thousands(total),
            tests(total)
        ),
        _ => said.clone(),
    };
    Some((said, whole))
}

/// A count as people read it: 1,240.
pub fn thousands(n: i64) -> String {
    let digits = n.abs().to_string();
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    if n < 0 {
        format!("-{out}")
    } else {
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_commit_lists_as_its_first_line() {
        let message = "Fix the retry loop\n\nIt retried forever when the broker was down.";
        assert_eq!(subject(Some(message)), "Fix the retry loop");
        assert_eq!(subject(Some("")), "");
        assert_eq!(subject(None), "");
    }

    #[test]
    fn a_failure_says_how_many_of_its_tests_failed() {
        let mut b = stats::tests::build("main", BuildStatus::Failure, 0, 60.0);
        assert_eq!(failed_tests(&b), None, "no counts sent");
        b.tests_total = Some(1240);
        b.tests_failed = Some(3);
        let said = failed_tests(&b).unwrap();
        assert_eq!(
            said,
            ("3 tests failed".into(), "3 of 1,240 tests failed".into())
        );
        b.tests_failed = Some(1);
        assert_eq!(failed_tests(&b).unwrap().0, "1 test failed");
        b.tests_failed = Some(0);
        assert_eq!(failed_tests(&b).unwrap().0, "no test failed");
        b.status = BuildStatus::Success;
        assert_eq!(failed_tests(&b), None, "a pass says nothing of its tests");
    }

    #[test]
    fn a_later_delivery_keeps_what_the_earlier_said_and_it_left_out() {
        let mut started = stats::tests::build("main", BuildStatus::Running, 0, 0.0);
        started.author = Some("ann".into());
        started.message = Some("Add cart".into());
        started.lines_added = Some(120);
        started.trigger = BuildTrigger::Push;
        let mut finished = stats::tests::build("main", BuildStatus::Failure, 0, 60.0);
        finished.author = None;
        finished.message = Some("Add cart (amended)".into());
        finished.trigger = BuildTrigger::Other;
        started.id = 7;
        assert!(finished.follow(&started));
        assert_eq!(finished.author.as_deref(), Some("ann"));
        assert_eq!(finished.message.as_deref(), Some("Add cart (amended)"));
        assert_eq!(
            (finished.lines_added, finished.trigger, finished.id),
            (Some(120), BuildTrigger::Push, 7)
        );
        assert_eq!(finished.status, BuildStatus::Failure);
    }

    #[test]
    fn a_late_running_does_not_reopen_a_finished_build() {
        let finished = stats::tests::build("main", BuildStatus::Failure, 0, 60.0);
        let mut late = stats::tests::build("main", BuildStatus::Running, 0, 0.0);
        assert!(!late.follow(&finished));
        let mut cancelled = stats::tests::build("main", BuildStatus::Cancelled, 0, 5.0);
        assert!(
            cancelled.follow(&finished),
            "a finished build may change its outcome"
        );
    }

    #[test]
    fn a_batch_keeps_one_build_per_source_id_read_as_its_deliveries() {
        let step = |id: &str, status, duration| {
            let mut b = stats::tests::build("main", status, 0, duration);
            b.source_id = id.into();
            b
        };
        let mut started = step("7", BuildStatus::Running, 0.0);
        started.author = Some("bob".into());
        let mut outcome = step("7", BuildStatus::Failure, 60.0);
        outcome.author = None;
        let batch = vec![
            started,
            step("8", BuildStatus::Success, 30.0),
            outcome,
            step("7", BuildStatus::Running, 0.0),
        ];
        let kept = one_per_source_id(batch);
        let said: Vec<_> = kept
            .iter()
            .map(|b| (b.source_id.as_str(), b.status, b.author.as_deref()))
            .collect();
        assert_eq!(
            said,
            [
                ("7", BuildStatus::Failure, Some("bob")),
                ("8", BuildStatus::Success, Some("ann"))
            ]
        );
    }

    #[test]
    fn commits_are_7_to_40_hex() {
        assert!(check_commit("0123abc").is_ok());
        assert!(check_commit(&"a".repeat(40)).is_ok());
        for bad in ["012345", "xyz1234", &"a".repeat(41), ""] {
            assert!(
                check_commit(bad).unwrap_err().starts_with("commit:"),
                "{bad}"
            );
        }
    }

    #[test]
    fn pipelines_split_at_the_last_slash() {
        assert_eq!(
            split_pipeline("acme/shop/ci"),
            Some(("acme/shop".into(), "ci".into()))
        );
        assert_eq!(split_pipeline("noslash"), None);
        assert_eq!(split_pipeline("acme/"), None);
        assert_eq!(BuildStatus::parse("failure"), Some(BuildStatus::Failure));
        assert_eq!(
            BuildTrigger::parse("pull_request"),
            Some(BuildTrigger::PullRequest)
        );
    }
}
