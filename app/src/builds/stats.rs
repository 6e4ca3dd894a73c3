//! A pipeline's numbers over a period: builds, success rate, flaky failures, duration
//! percentiles, mean time to recovery, the longest red streak and coverage with its trend.

use super::{BuildOutcome, BuildStatus};
use serde::{Deserialize, Serialize};
use std::collections::HashMap;

/// The `p` percentile (0–1) of `sorted` (ascending), interpolating between the two nearest
/// ranks as NumPy's default does; `None` for no values.
pub fn percentile(sorted: &[f64], p: f64) -> Option<f64> {
    if sorted.is_empty() {
        return None;
    }
    let rank = p.clamp(0.0, 1.0) * (sorted.len() - 1) as f64;
    let (low, high) = (rank.floor() as usize, rank.ceil() as usize);
    Some(sorted[low] + (sorted[high] - sorted[low]) * (rank - low as f64))
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PipelineStats {
    pub pipeline: String,
    pub builds: usize,
    pub successes: usize,
    pub failures: usize,
    /// Successes over successes and failures (cancelled builds count for neither), 0 to 1.
    pub success_rate: Option<f64>,
    pub duration_p50_s: Option<f64>,
    pub duration_p95_s: Option<f64>,
    /// Mean time from the first failure on a branch to the next success there.
    pub mean_time_to_recovery_s: Option<f64>,
    /// The most failures in a row on one branch.
    pub longest_red_streak: usize,
    /// Failures of a commit that later passed on the same branch with no change to the code (a
    /// re-run): the flakiness users see.
    #[serde(default)]
    pub flaky_failures: usize,
    pub latest_coverage: Option<f64>,
    /// Latest coverage minus the first in the period, in percentage points.
    pub coverage_trend: Option<f64>,
    /// The status of the newest build.
    pub last_status: Option<BuildStatus>,
    pub last_started_at: Option<i64>,
}

/// Builds by pipeline name (each list in the order given).
pub fn by_pipeline(
    builds: Vec<BuildOutcome>,
) -> std::collections::BTreeMap<String, Vec<BuildOutcome>> {
    let mut grouped: std::collections::BTreeMap<String, Vec<BuildOutcome>> = Default::default();
    for b in builds {
        grouped.entry(b.pipeline.clone()).or_default().push(b);
    }
    grouped
}

/// Fewer finished builds than this make a p95 that says little of what is usual.
pub const USUAL_AFTER: usize = 20;

/// Whether a build running since `started_at` has gone on longer than `p95_s`, what 95 % of the
/// pipeline's finished builds took: the sign that it may be stuck (a hung test, a lost runner).
pub fn overdue(started_at: i64, now: i64, p95_s: Option<f64>) -> bool {
    p95_s.is_some_and(|p95| (now - started_at) as f64 / 1000.0 > p95)
}

/// Which failures of a period's `history` were flaky: a later run of the same commit on the
/// same branch passed. [`PipelineStats::flaky_failures`] counts them, the build list marks them.
pub struct Reruns<'a>(HashMap<(&'a str, &'a str), i64>);

impl<'a> Reruns<'a> {
    pub fn of(history: &'a [BuildOutcome]) -> Self {
        let passed = history
            .iter()
            .filter(|b| b.status == BuildStatus::Success)
            .map(|b| ((b.branch.as_str(), b.commit.as_str()), b.started_at));
        let mut last = HashMap::new();
        for (key, at) in passed {
            last.entry(key)
                .and_modify(|t: &mut i64| *t = (*t).max(at))
                .or_insert(at);
        }
        Reruns(last)
    }

    /// Whether `b` failed and a run of its commit on its branch started after it passed.
    pub fn flaky(&self, b: &super::Build) -> bool {
        self.failed_then_passed(b.status, &b.branch, &b.commit, b.started_at)
    }

    fn failed_then_passed(&self, status: BuildStatus, branch: &str, commit: &str, at: i64) -> bool {
        status == BuildStatus::Failure
            && self
                .0
                .get(&(branch, commit))
                .is_some_and(|passed| *passed > at)
    }
}

/// When a build ended, or began if it has not said.
pub(crate) fn ended(b: &BuildOutcome) -> i64 {
    b.finished_at.unwrap_or(b.started_at)
}

/// The numbers of one pipeline's `builds`, given oldest first.
pub fn pipeline_stats(pipeline: &str, builds: &[BuildOutcome]) -> PipelineStats {
    let successes = builds
        .iter()
        .filter(|b| b.status == BuildStatus::Success)
        .count();
    let failures = builds
        .iter()
        .filter(|b| b.status == BuildStatus::Failure)
        .count();
    let mut durations: Vec<f64> = builds
        .iter()
        .filter(|b| b.status.is_outcome())
        .filter_map(|b| b.duration_s)
        .collect();
    durations.sort_by(f64::total_cmp);

    // Per branch: red streaks and recoveries.
    let mut red_since: HashMap<&str, i64> = HashMap::new();
    let mut streak: HashMap<&str, usize> = HashMap::new();
    let mut longest = 0;
    let mut recoveries = Vec::new();
    for b in builds {
        let branch = b.branch.as_str();
        match b.status {
            BuildStatus::Failure => {
                red_since.entry(branch).or_insert(ended(b));
                let n = streak.entry(branch).or_default();
                *n += 1;
                longest = longest.max(*n);
            }
            BuildStatus::Success => {
                if let Some(since) = red_since.remove(branch) {
                    recoveries.push((ended(b) - since).max(0) as f64 / 1000.0);
                }
                streak.insert(branch, 0);
            }
            _ => {}
        }
    }
    let coverage: Vec<f64> = builds.iter().filter_map(|b| b.coverage).collect();
    PipelineStats {
        pipeline: pipeline.to_string(),
        builds: builds.len(),
        successes,
        failures,
        success_rate: (successes + failures > 0)
            .then(|| successes as f64 / (successes + failures) as f64),
        duration_p50_s: percentile(&durations, 0.5),
        duration_p95_s: percentile(&durations, 0.95),
        mean_time_to_recovery_s: (!recoveries.is_empty())
            .then(|| recoveries.iter().sum::<f64>() / recoveries.len() as f64),
        longest_red_streak: longest,
        flaky_failures: {
            let reruns = Reruns::of(builds);
            builds
                .iter()
                .filter(|b| reruns.failed_then_passed(b.status, &b.branch, &b.commit, b.started_at))
                .count()
        },
        latest_coverage: coverage.last().copied(),
        coverage_trend: match (coverage.first(), coverage.last()) {
            // In hundredths of a point: a difference of two percentages read "0.9000000000000057".
            (Some(first), Some(last)) if coverage.len() > 1 => {
                Some(((last - first) * 100.0).round() / 100.0)
            }
            _ => None,
        },
        last_status: builds.last().map(|b| b.status),
        last_started_at: builds.last().map(|b| b.started_at),
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::builds::{Build, BuildTrigger};
    use proptest::prelude::*;

    pub(crate) fn build(branch: &str, status: BuildStatus, minute: i64, duration_s: f64) -> Build {
        Build {
            id: minute,
            source: "api".into(),
            source_id: minute.to_string(),
            pipeline: "acme/shop/ci".into(),
            repo: "acme/shop".into(),
            workflow: "ci".into(),
            branch: branch.into(),
            commit: "0123456".into(),
            author: Some("ann".into()),
            trigger: BuildTrigger::Push,
            message: None,
            files_changed: None,
            lines_added: None,
            lines_deleted: None,
            started_at: minute * 60_000,
            finished_at: Some(minute * 60_000 + (duration_s * 1000.0) as i64),
            duration_s: Some(duration_s),
            status,
            tests_total: None,
            tests_failed: None,
            coverage: None,
            url: None,
            predicted_failure: None,
            model_version: None,
        }
    }

    /// A full build's outcome, as the statistics read it.
    pub(crate) fn outcomes(builds: &[Build]) -> Vec<BuildOutcome> {
        builds.iter().map(BuildOutcome::from).collect()
    }

    #[test]
    fn percentiles_interpolate() {
        assert_eq!(percentile(&[], 0.5), None);
        assert_eq!(percentile(&[4.0], 0.95), Some(4.0));
        assert_eq!(percentile(&[1.0, 2.0, 3.0, 4.0], 0.5), Some(2.5));
        let hundred: Vec<f64> = (1..=100).map(f64::from).collect();
        assert!((percentile(&hundred, 0.95).unwrap() - 95.05).abs() < 1e-9);
    }

    #[test]
    fn recovery_and_streaks_are_per_branch() {
        use BuildStatus::*;
        let builds = vec![
            build("main", Success, 0, 60.0),
            build("main", Failure, 10, 60.0), // red from 11:00
            build("feat", Failure, 12, 60.0), // another branch: its own streak
            build("main", Failure, 20, 60.0),
            build("main", Cancelled, 25, 5.0), // neither breaks nor extends the streak
            build("main", Failure, 30, 60.0),
            build("main", Success, 40, 60.0), // green at 41:00: 30 minutes red
            build("feat", Success, 50, 120.0), // green at 52:00 after red from 13:00
        ];
        let s = pipeline_stats("acme/shop/ci", &outcomes(&builds));
        assert_eq!((s.builds, s.successes, s.failures), (8, 3, 4));
        assert_eq!(s.success_rate, Some(3.0 / 7.0));
        assert_eq!(s.longest_red_streak, 3);
        assert_eq!(
            s.mean_time_to_recovery_s,
            Some((30.0 * 60.0 + 39.0 * 60.0) / 2.0)
        );
        assert_eq!(s.duration_p50_s, Some(60.0));
        assert_eq!(s.last_status, Some(Success));
    }

    #[test]
    fn a_failure_that_passes_on_a_rerun_of_its_commit_is_flaky() {
        use BuildStatus::*;
        let on = |branch: &str, commit: &str, status, minute| {
            let mut b = build(branch, status, minute, 60.0);
            b.commit = commit.into();
            b
        };
        let builds = vec![
            on("main", "aaaaaaa", Failure, 0),
            on("main", "aaaaaaa", Failure, 5),
            on("main", "aaaaaaa", Success, 10), // two failed attempts, then it passed: 2 flaky
            on("main", "bbbbbbb", Failure, 20),
            on("main", "ccccccc", Success, 30), // fixed by a new commit: a real failure
            on("feat", "ccccccc", Failure, 40),
            on("main", "ccccccc", Success, 50), // the same commit on another branch: not a re-run
            on("feat", "ddddddd", Failure, 60), // never passed: not known to be flaky
        ];
        let history = outcomes(&builds);
        let s = pipeline_stats("p", &history);
        assert_eq!((s.failures, s.flaky_failures), (5, 2));
        // The build list marks the same two.
        let reruns = Reruns::of(&history);
        let flaky: Vec<i64> = builds
            .iter()
            .filter(|b| reruns.flaky(b))
            .map(|b| b.id)
            .collect();
        assert_eq!(flaky, [0, 5]);
    }

    #[test]
    fn a_build_running_past_the_p95_is_overdue() {
        let started = 1_000_000;
        assert!(!overdue(started, started + 500_000, Some(600.0)));
        assert!(overdue(started, started + 601_000, Some(600.0)));
        // No p95 (too few finished builds to say what is usual): never.
        assert!(!overdue(started, started + 86_400_000, None));
    }

    #[test]
    fn coverage_trend_is_last_minus_first() {
        let mut builds: Vec<Build> = (0..3)
            .map(|m| build("main", BuildStatus::Success, m, 10.0))
            .collect();
        builds[0].coverage = Some(70.0);
        builds[2].coverage = Some(72.5);
        let s = pipeline_stats("p", &outcomes(&builds));
        assert_eq!(
            (s.latest_coverage, s.coverage_trend),
            (Some(72.5), Some(2.5))
        );
        // As a person would write it, not as floating point subtracts.
        builds[0].coverage = Some(74.1);
        builds[2].coverage = Some(75.0);
        let s = pipeline_stats("p", &outcomes(&builds));
        assert_eq!(s.coverage_trend, Some(0.9));
    }

    proptest! {
        /// Percentiles stay within the values and grow with p; the streak never exceeds the
        /// failures; the success rate is a fraction.
        #[test]
        fn statistics_keep_their_bounds(runs in proptest::collection::vec((any::<bool>(), 1.0f64..3600.0, 0usize..3), 1..60)) {
            let builds: Vec<Build> = runs.iter().enumerate().map(|(i, (ok, d, branch))| {
                build(["main", "a", "b"][*branch], if *ok { BuildStatus::Success } else { BuildStatus::Failure }, i as i64, *d)
            }).collect();
            let s = pipeline_stats("p", &outcomes(&builds));
            let (p50, p95) = (s.duration_p50_s.unwrap(), s.duration_p95_s.unwrap());
            let min = runs.iter().map(|o| o.1).fold(f64::MAX, f64::min);
            let max = runs.iter().map(|o| o.1).fold(0.0, f64::max);
            prop_assert!(min <= p50 && p50 <= p95 && p95 <= max);
            prop_assert!(s.longest_red_streak <= s.failures);
            prop_assert!(s.flaky_failures <= s.failures);
            let rate = s.success_rate.unwrap();
            prop_assert!((0.0..=1.0).contains(&rate));
            if let Some(mttr) = s.mean_time_to_recovery_s { prop_assert!(mttr >= 0.0); }
        }
    }
}
