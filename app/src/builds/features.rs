//! What a failure prediction may read: only what is known before a build runs. The build's own
//! pre-run fields (change size, trigger, branch kind, commit message words, the part of the day
//! and the weekday, so a team whose Friday or late builds fail more is learnt)
//! and what came before it ([`Prior`]: the last outcome on its branch, the red streak, the
//! author's recent and lasting failure rates, the pipeline's, time since the branch's last
//! build, and what tells a flake from a broken branch: whether this is a re-run of the last
//! build's commit, and how many tests the last failure failed).
//! [`History`] computes the prior of each build of a time-ordered history as it goes, so
//! training never sees the future.

use super::{is_default_branch, Build, BuildStatus, BuildTrigger, PreRun};
use serde::{Deserialize, Serialize};
use std::collections::{HashMap, VecDeque};

/// How many of an author's latest builds their recent failure rate reads.
pub const AUTHOR_WINDOW: usize = 10;
/// How many of an author's latest builds their lasting failure rate reads: ten builds estimate
/// an author's own risk poorly (one red branch they inherited is half of it).
pub const AUTHOR_LONG_WINDOW: usize = 100;
/// How many of a pipeline's latest builds its failure rate reads.
pub const PIPELINE_WINDOW: usize = 50;

pub const NAMES: [&str; 34] = [
    "change_size",
    "trigger_pull_request",
    "trigger_schedule",
    "trigger_manual",
    "default_branch",
    "release_branch",
    "message_fix",
    "message_revert",
    "message_docs",
    "message_bump",
    "message_wip",
    "message_refactor",
    "night",
    "weekend",
    "previous_failed",
    "no_previous_build",
    "red_streak",
    "author_failure_rate",
    "pipeline_failure_rate",
    "hours_since_last_build",
    "fix_after_failure",
    "morning",
    "afternoon",
    "evening",
    "monday",
    "tuesday",
    "wednesday",
    "thursday",
    "friday",
    "previous_tests_failed",
    "rerun",
    "rerun_after_failure",
    "message_feature",
    "author_long_failure_rate",
];

/// What came before a build.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Prior {
    /// Whether the last finished build (success or failure) on this pipeline and branch failed.
    pub previous_failed: Option<bool>,
    /// Failures in a row on this branch up to now.
    pub red_streak: u32,
    /// The author's latest builds: failures, of how many.
    pub author: (u32, u32),
    /// The pipeline's latest builds: failures, of how many.
    pub pipeline: (u32, u32),
    /// The author's latest builds over the longer window: failures, of how many.
    pub author_long: (u32, u32),
    /// Since the previous build started on this pipeline and branch.
    pub since_last_s: Option<f64>,
    /// Tests the last finished build on this branch failed, when it failed and said: a flake
    /// fails one or two, real breakage usually many.
    pub previous_tests_failed: Option<i64>,
    /// The commit the last finished build on this branch built.
    pub previous_commit: Option<String>,
}

impl Prior {
    /// Whether `b` builds the same commit as the branch's last finished build: a re-run, which
    /// fails again only if the code is broken (abbreviated ids match their full ones).
    pub fn rerun(&self, b: &PreRun) -> bool {
        match (&b.commit, &self.previous_commit) {
            (Some(now), Some(before)) => {
                let (now, before) = (now.to_ascii_lowercase(), before.to_ascii_lowercase());
                now.len().min(before.len()) >= 7
                    && (now.starts_with(&before) || before.starts_with(&now))
            }
            _ => false,
        }
    }
}

/// A failure rate pulled towards 20 % while there is little to go on.
fn smoothed((failed, total): (u32, u32)) -> f64 {
    (f64::from(failed) + 1.0) / (f64::from(total) + 5.0)
}

fn words(message: &str, any: &[&str]) -> f64 {
    let lower = message.to_lowercase();
    let found = lower
        .split(|c: char| !c.is_alphanumeric())
        .any(|w| any.contains(&w));
    f64::from(u8::from(found))
}

/// A value the build did not say: the model reads it as a typical build's (see
/// `Fitted::standardised` in the server), so a change of unknown size neither raises nor
/// lowers the risk, where reading it as 0 lines would call it a small one.
pub const UNKNOWN: f64 = f64::NAN;

/// Lines added and deleted, when the build said either.
pub(super) fn changed_lines(b: &PreRun) -> Option<i64> {
    match (b.lines_added, b.lines_deleted) {
        (None, None) => None,
        (added, deleted) => Some(added.unwrap_or(0).max(0) + deleted.unwrap_or(0).max(0)),
    }
}

/// The feature vector of a build, in the order of [`NAMES`]. The change's size is read from
/// its lines alone: the files it touched follow them too closely to be a second feature (the
/// model weighed the two against each other, so a factor said a large change lowered the risk).
pub fn features(b: &PreRun, prior: &Prior) -> Vec<f64> {
    let flag = |on: bool| f64::from(u8::from(on));
    let message = b.message.as_deref().unwrap_or("");
    let (hour, weekday) = crate::time_fmt::hour_and_weekday(b.started_at);
    let trigger = b.trigger.unwrap_or(BuildTrigger::Other);
    let rerun = prior.rerun(b);
    vec![
        changed_lines(b).map_or(UNKNOWN, |lines| (lines as f64).ln_1p()),
        flag(trigger == BuildTrigger::PullRequest),
        flag(trigger == BuildTrigger::Schedule),
        flag(trigger == BuildTrigger::Manual),
        flag(is_default_branch(&b.branch)),
        flag(b.branch.starts_with("release") || b.branch.starts_with("hotfix")),
        words(message, &["fix", "fixes", "fixed", "bug", "hotfix"]),
        words(message, &["revert", "reverts", "rollback"]),
        words(
            message,
            &["docs", "doc", "readme", "typo", "comment", "comments"],
        ),
        words(
            message,
            &[
                "bump",
                "deps",
                "dependency",
                "dependencies",
                "upgrade",
                "dependabot",
                "renovate",
            ],
        ),
        words(message, &["wip", "tmp", "draft", "temp", "experiment"]),
        words(message, &["refactor", "refactoring", "cleanup", "rename"]),
        flag(!(7..20).contains(&hour)),
        flag(weekday == 0 || weekday == 6),
        flag(prior.previous_failed == Some(true)),
        flag(prior.previous_failed.is_none()),
        f64::from(prior.red_streak).ln_1p(),
        smoothed(prior.author),
        smoothed(prior.pipeline),
        prior
            .since_last_s
            .map_or(0.0, |s| (s / 3600.0).max(0.0).ln_1p()),
        // A fix or a revert pushed onto a broken branch usually turns it green again.
        flag(
            prior.previous_failed == Some(true)
                && words(
                    message,
                    &["fix", "fixes", "fixed", "revert", "reverts", "hotfix"],
                ) > 0.0,
        ),
        flag((7..12).contains(&hour)),
        flag((12..17).contains(&hour)),
        flag((17..20).contains(&hour)),
        flag(weekday == 1),
        flag(weekday == 2),
        flag(weekday == 3),
        flag(weekday == 4),
        flag(weekday == 5),
        (prior.previous_tests_failed.unwrap_or(0).max(0) as f64).ln_1p(),
        flag(rerun),
        flag(rerun && prior.previous_failed == Some(true)),
        words(
            message,
            &[
                "feat",
                "feature",
                "add",
                "adds",
                "added",
                "implement",
                "new",
            ],
        ),
        smoothed(prior.author_long),
    ]
}

/// Walks a history oldest first, knowing at each build only what came before it.
#[derive(Default)]
pub struct History {
    branches: HashMap<(String, String), BranchState>,
    authors: HashMap<String, VecDeque<bool>>,
    pipelines: HashMap<String, VecDeque<bool>>,
}

#[derive(Default)]
struct BranchState {
    previous_failed: Option<bool>,
    red_streak: u32,
    last_started: Option<i64>,
    previous_tests_failed: Option<i64>,
    previous_commit: Option<String>,
}

/// Failures among the newest `last` outcomes of `window` (oldest first), of how many.
fn rate(window: Option<&VecDeque<bool>>, last: usize) -> (u32, u32) {
    window.map_or((0, 0), |w| {
        let newest = w.iter().skip(w.len().saturating_sub(last));
        let n = w.len().min(last) as u32;
        (newest.filter(|f| **f).count() as u32, n)
    })
}

impl History {
    /// What came before `b`.
    pub fn prior(&self, b: &PreRun) -> Prior {
        let branch = self.branches.get(&(b.pipeline.clone(), b.branch.clone()));
        let author = b.author.as_ref().and_then(|a| self.authors.get(a));
        let pipeline = self.pipelines.get(&b.pipeline);
        Prior {
            previous_failed: branch.and_then(|s| s.previous_failed),
            red_streak: branch.map_or(0, |s| s.red_streak),
            author: rate(author, AUTHOR_WINDOW),
            pipeline: rate(pipeline, PIPELINE_WINDOW),
            author_long: rate(author, AUTHOR_LONG_WINDOW),
            since_last_s: branch
                .and_then(|s| s.last_started)
                .map(|at| (b.started_at - at) as f64 / 1000.0),
            previous_tests_failed: branch.and_then(|s| s.previous_tests_failed),
            previous_commit: branch.and_then(|s| s.previous_commit.clone()),
        }
    }

    /// Learns `b`'s outcome (success and failure only; every build counts as the branch's
    /// latest start).
    pub fn record(&mut self, b: &Build) {
        let state = self
            .branches
            .entry((b.pipeline.clone(), b.branch.clone()))
            .or_default();
        state.last_started = Some(b.started_at);
        let failed = match b.status {
            BuildStatus::Failure => true,
            BuildStatus::Success => false,
            _ => return,
        };
        state.previous_failed = Some(failed);
        state.previous_tests_failed = b.tests_failed.filter(|_| failed);
        state.previous_commit = Some(b.commit.clone());
        state.red_streak = if failed { state.red_streak + 1 } else { 0 };
        let push = |w: &mut VecDeque<bool>, cap: usize| {
            w.push_back(failed);
            if w.len() > cap {
                w.pop_front();
            }
        };
        if let Some(author) = &b.author {
            push(
                self.authors.entry(author.clone()).or_default(),
                AUTHOR_LONG_WINDOW,
            );
        }
        push(
            self.pipelines.entry(b.pipeline.clone()).or_default(),
            PIPELINE_WINDOW,
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::builds::stats::tests::build;

    #[test]
    fn the_prior_knows_only_the_past() {
        let mut h = History::default();
        let first = build("main", BuildStatus::Failure, 0, 60.0);
        let p = h.prior(&PreRun::from(&first));
        assert_eq!(
            (p.previous_failed, p.red_streak, p.author, p.since_last_s),
            (None, 0, (0, 0), None)
        );
        h.record(&first);
        let second = build("main", BuildStatus::Success, 30, 60.0);
        let p = h.prior(&PreRun::from(&second));
        assert_eq!(
            (p.previous_failed, p.red_streak, p.author, p.pipeline),
            (Some(true), 1, (1, 1), (1, 1))
        );
        assert_eq!(p.since_last_s, Some(1800.0));
        h.record(&second);
        let other = build("feature/x", BuildStatus::Success, 40, 60.0);
        assert_eq!(
            h.prior(&PreRun::from(&other)).previous_failed,
            None,
            "per branch"
        );
    }

    #[test]
    fn an_authors_lasting_rate_reads_their_last_hundred_builds_beside_the_last_ten() {
        let mut h = History::default();
        // 30 failures, then 90 successes: the last ten are green, the last hundred not.
        for minute in 0..120 {
            let status = if minute < 30 {
                BuildStatus::Failure
            } else {
                BuildStatus::Success
            };
            h.record(&build(&format!("feature/{minute}"), status, minute, 60.0));
        }
        let next = PreRun::from(&build("main", BuildStatus::Queued, 200, 0.0));
        let prior = h.prior(&next);
        assert_eq!(prior.author, (0, 10));
        assert_eq!(prior.author_long, (10, 100));
        assert_eq!(prior.pipeline, (0, PIPELINE_WINDOW as u32));
        let at = |name: &str| NAMES.iter().position(|n| *n == name).unwrap();
        let f = features(&next, &prior);
        assert!(f[at("author_long_failure_rate")] > f[at("author_failure_rate")]);
    }

    #[test]
    fn features_read_the_message_and_the_change() {
        let at_of = |f: &[f64], name: &str| f[NAMES.iter().position(|n| *n == name).unwrap()];
        let mut b = PreRun::from(&build("release/2.0", BuildStatus::Queued, 0, 0.0));
        b.message = Some("Revert \"bump deps\"".into());
        b.lines_added = Some(1000);
        b.lines_deleted = Some(240);
        let f = features(&b, &Prior::default());
        assert_eq!(f.len(), NAMES.len());
        let at = |name: &str| f[NAMES.iter().position(|n| *n == name).unwrap()];
        assert_eq!(
            (at("message_revert"), at("message_bump"), at("message_fix")),
            (1.0, 1.0, 0.0)
        );
        assert_eq!(at("release_branch"), 1.0);
        assert!((at("change_size") - 1241f64.ln()).abs() < 1e-9);
        // A build that did not say its change's size: unknown, not 0 lines.
        b.lines_deleted = None;
        assert!(
            (at_of(&features(&b, &Prior::default()), "change_size") - 1001f64.ln()).abs() < 1e-9
        );
        b.lines_added = None;
        assert!(at_of(&features(&b, &Prior::default()), "change_size").is_nan());
    }

    #[test]
    fn a_rerun_of_a_failed_commit_and_its_failed_tests_are_known_before_it_runs() {
        let mut h = History::default();
        let mut failed = build("main", BuildStatus::Failure, 0, 60.0);
        failed.commit = "ACB5820CED9479C074F688CC328BF03F341A511D".into();
        failed.tests_failed = Some(14);
        h.record(&failed);
        let at = |f: &[f64], name: &str| f[NAMES.iter().position(|n| *n == name).unwrap()];
        // Re-run of the same commit (its abbreviated id matches the full one).
        let mut rerun = PreRun::from(&build("main", BuildStatus::Queued, 20, 0.0));
        rerun.commit = Some("acb5820".into());
        let prior = h.prior(&rerun);
        let f = features(&rerun, &prior);
        assert_eq!((at(&f, "rerun"), at(&f, "rerun_after_failure")), (1.0, 1.0));
        assert!((at(&f, "previous_tests_failed") - 15f64.ln()).abs() < 1e-9);
        // A new commit is no re-run; nor is a build whose caller did not say its commit.
        rerun.commit = Some("0ddba11".into());
        assert_eq!(at(&features(&rerun, &prior), "rerun"), 0.0);
        rerun.commit = None;
        assert_eq!(at(&features(&rerun, &prior), "rerun"), 0.0);
        // After a success the failed-test count is gone.
        h.record(&build("main", BuildStatus::Success, 30, 60.0));
        let f = features(&rerun, &h.prior(&rerun));
        assert_eq!(at(&f, "previous_tests_failed"), 0.0);
    }

    #[test]
    fn features_know_the_part_of_the_day_and_the_weekday() {
        let mut b = PreRun::from(&build("main", BuildStatus::Queued, 0, 0.0));
        b.started_at = 1_795_800_600_000; // Friday 2026-11-27, 17:30 UTC
        let f = features(&b, &Prior::default());
        let on: Vec<&str> = NAMES
            .iter()
            .zip(&f)
            .filter(|(name, v)| {
                **v == 1.0
                    && [
                        "night",
                        "morning",
                        "afternoon",
                        "evening",
                        "weekend",
                        "monday",
                        "tuesday",
                        "wednesday",
                        "thursday",
                        "friday",
                    ]
                    .contains(name)
            })
            .map(|(name, _)| *name)
            .collect();
        assert_eq!(on, ["evening", "friday"]);
    }
}
