//! Which branches are red now (their newest finished build failed), and what to say of one
//! that ships: since when, how many builds failed and the build that began it (and how many
//! of its tests failed).

use super::stats::ended;
use super::{Build, BuildOutcome, BuildStatus};
use std::collections::HashMap;

/// A branch whose newest finished build failed, and how long it has been so.
#[derive(Debug, Clone, PartialEq)]
pub struct RedBranch {
    pub branch: String,
    /// Failures in a row up to now (a cancelled build neither ends nor lengthens the run).
    pub failures: usize,
    /// When the first of them ended: when the branch turned red.
    pub since: i64,
    /// The commit the first of them built.
    pub first_commit: String,
    /// No success on the branch before them in the builds given: it may have been red for
    /// longer than they reach back.
    pub before_period: bool,
}

impl RedBranch {
    /// When it turned red, where the builds given reach back to it.
    pub fn known_since(&self) -> Option<i64> {
        (!self.before_period).then_some(self.since)
    }
}

/// The branches of `builds` (oldest first) that are red now, the most recently broken first.
pub fn red_branches(builds: &[BuildOutcome]) -> Vec<RedBranch> {
    let mut red: HashMap<&str, RedBranch> = HashMap::new();
    let mut passed_once: std::collections::HashSet<&str> = Default::default();
    for b in builds {
        match b.status {
            BuildStatus::Failure => {
                let branch = b.branch.as_str();
                let before_period = !passed_once.contains(branch);
                red.entry(branch)
                    .or_insert_with(|| RedBranch {
                        branch: b.branch.clone(),
                        failures: 0,
                        since: ended(b),
                        first_commit: b.commit.clone(),
                        before_period,
                    })
                    .failures += 1;
            }
            BuildStatus::Success => {
                red.remove(b.branch.as_str());
                passed_once.insert(&b.branch);
            }
            _ => {}
        }
    }
    let mut red: Vec<RedBranch> = red.into_values().collect();
    red.sort_by_key(|r| std::cmp::Reverse(r.since));
    red
}

/// The branches that ship (`main`, `master`, `trunk`, `develop`) red now: a red feature
/// branch is everyday work, a red `main` is news.
pub fn red_shipping(builds: &[BuildOutcome]) -> Vec<RedBranch> {
    red_branches(builds)
        .into_iter()
        .filter(|r| super::is_default_branch(&r.branch))
        .collect()
}

/// What a red branch's notice says after "main is red since …": how many builds failed, and
/// the one that began the run (`first`, where it was looked up) or at least its commit.
pub fn red_words(red: &RedBranch, first: Option<&Build>, days: u32) -> String {
    let runs = match (red.before_period, red.failures) {
        (true, n) => format!(": all {n} of its finished builds in the last {days} days failed. "),
        (false, 1) => ": its last build failed. ".into(),
        (false, n) => format!(": its last {n} builds failed. "),
    };
    let short = |commit: &str| commit[..7.min(commit.len())].to_string();
    let began = match first {
        Some(b) => {
            let by = b
                .author
                .as_deref()
                .map(|a| format!(" by {a}"))
                .unwrap_or_default();
            let what = match super::subject(b.message.as_deref()) {
                s if s.is_empty() => String::new(),
                s => format!(": \u{201c}{s}\u{201d}"),
            };
            // How many tests it failed, or none: a break outside the tests (a compile, the
            // setup) wants a different look than a red test.
            let tests = super::failed_tests(b)
                .map(|(said, _)| format!(" ({said})"))
                .unwrap_or_default();
            format!("It began with {}{by}{what}{tests}. ", short(&b.commit))
        }
        // Too long a run to look its first build up: its commit is known all the same.
        None if !red.before_period => format!("It began with {}. ", short(&red.first_commit)),
        // Red since before the period: what began it is not known here.
        None => String::new(),
    };
    runs + &began
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::builds::stats::tests::{build, outcomes};

    #[test]
    fn a_branch_is_red_from_its_first_failure_after_its_last_success() {
        use BuildStatus::*;
        let mut builds = vec![
            build("main", Success, 0, 60.0),
            build("feature/a", Failure, 1, 60.0),
            build("main", Failure, 2, 60.0),
            build("main", Cancelled, 3, 60.0),
            build("feature/b", Failure, 4, 60.0),
            build("feature/b", Success, 5, 60.0),
            build("main", Failure, 6, 60.0),
            build("main", Running, 7, 60.0),
        ];
        builds[2].commit = "abc1234".into();
        let red = red_branches(&outcomes(&builds));
        let seen: Vec<_> = red
            .iter()
            .map(|r| {
                (
                    r.branch.as_str(),
                    r.failures,
                    r.since,
                    r.first_commit.as_str(),
                    r.before_period,
                )
            })
            .collect();
        // main broke last, so it comes first; feature/b recovered.
        assert_eq!(
            seen,
            [
                ("main", 2, 2 * 60_000 + 60_000, "abc1234", false),
                ("feature/a", 1, 60_000 + 60_000, "0123456", true)
            ]
        );
        // A success ends it.
        builds.push(build("main", Success, 8, 60.0));
        let red = red_branches(&outcomes(&builds));
        assert_eq!(
            red.iter().map(|r| r.branch.as_str()).collect::<Vec<_>>(),
            ["feature/a"]
        );
    }

    #[test]
    fn a_red_branch_says_how_many_failed_and_what_began_it() {
        let mut first = build("main", BuildStatus::Failure, 0, 60.0);
        first.commit = "bad0c0de1234".into();
        first.author = Some("sam".into());
        first.message = Some("Refactor cart pricing\n\nMoves tax out".into());
        let mut red = RedBranch {
            branch: "main".into(),
            failures: 3,
            since: 0,
            first_commit: first.commit.clone(),
            before_period: false,
        };
        assert_eq!(
            red_words(&red, Some(&first), 30),
            ": its last 3 builds failed. It began with bad0c0d by sam: \u{201c}Refactor cart pricing\u{201d}. "
        );
        red.failures = 1;
        (first.author, first.message) = (None, None);
        assert_eq!(
            red_words(&red, Some(&first), 30),
            ": its last build failed. It began with bad0c0d. "
        );
        // Its failed tests, when CI said how many: none is a break outside the tests.
        for (failed, said) in [(3, " (3 tests failed)"), (0, " (no test failed)")] {
            (first.tests_total, first.tests_failed) = (Some(1240), Some(failed));
            assert_eq!(
                red_words(&red, Some(&first), 30),
                format!(": its last build failed. It began with bad0c0d{said}. ")
            );
        }
        // Too long a run to look its first build up.
        red.failures = 140;
        assert_eq!(
            red_words(&red, None, 30),
            ": its last 140 builds failed. It began with bad0c0d. "
        );
        // Red since before the period: how long, and what began it, are not known here.
        (red.before_period, red.failures) = (true, 7);
        assert_eq!(
            red_words(&red, None, 7),
            ": all 7 of its finished builds in the last 7 days failed. "
        );
    }
}
