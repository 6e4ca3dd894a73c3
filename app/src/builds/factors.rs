//! A prediction's factors in words, as the page and `POST /builds/predict` give them: which
//! features of a build moved its risk, and how a person says each. Features that refine one
//! another are one reason, their shares of the log-odds summed: the model weighs them together
//! and may give one the opposite sign of the other (on the demo's history a red streak of 3
//! lowered the risk that the failed build before it raised), which, read apart, says something
//! false.

use super::features::{changed_lines, Prior, NAMES};
use super::{thousands, PreRun};

/// Features read as one reason: the first speaks for the group, the others refine it (each is
/// non-zero only when the first is).
const TOGETHER: [&[&str]; 3] = [
    &["previous_failed", "red_streak", "previous_tests_failed"],
    &["author_failure_rate", "author_long_failure_rate"],
    &["rerun", "rerun_after_failure"],
];

fn group(name: &str) -> Option<&'static [&'static str]> {
    TOGETHER.iter().copied().find(|g| g.contains(&name))
}

fn index(name: &str) -> Option<usize> {
    NAMES.iter().position(|n| *n == name)
}

/// The reasons of a build whose features are `x`, given each feature's share of the log-odds
/// (`contributions`, both in the order of [`NAMES`]): for every feature the build has (a flag
/// that is off, or a value it did not say, explains nothing), the index of the feature that
/// speaks for its group and the group's summed share.
pub fn reasons(x: &[f64], contributions: &[f64]) -> Vec<(usize, f64)> {
    let has = |i: usize| x.get(i).is_some_and(|v| *v != 0.0 && !v.is_nan());
    let share = |i: usize| contributions.get(i).copied().unwrap_or(0.0);
    NAMES
        .iter()
        .enumerate()
        .filter(|(i, name)| has(*i) && group(name).is_none_or(|g| g[0] == **name))
        .map(|(i, name)| match group(name) {
            Some(g) => (i, g.iter().filter_map(|n| index(n)).map(share).sum()),
            None => (i, share(i)),
        })
        .collect()
}

/// Feature `index` as a reason in words (a refining feature as its group's).
pub fn explain(index: usize, b: &PreRun, prior: &Prior) -> String {
    let name = NAMES.get(index).copied().unwrap_or("");
    match group(name).map_or(name, |g| g[0]) {
        "change_size" => {
            let lines = count(changed_lines(b).unwrap_or(0), "line");
            match b.files_changed {
                Some(files) => format!("change size: {lines} in {}", count(files, "file")),
                None => format!("change size: {lines}"),
            }
        }
        "trigger_pull_request" => "a pull request build".into(),
        "trigger_schedule" => "a scheduled build".into(),
        "trigger_manual" => "started by hand".into(),
        "default_branch" => format!("on the default branch ({})", b.branch),
        "release_branch" => format!("on a release branch ({})", b.branch),
        "previous_failed" => {
            let failed = match prior.red_streak {
                0 | 1 => "the previous build on this branch failed".to_string(),
                n => format!("the last {n} builds on this branch failed"),
            };
            match prior.previous_tests_failed.filter(|n| *n > 0) {
                Some(tests) => format!("{failed} ({} failed)", count(tests, "test")),
                None => failed,
            }
        }
        "no_previous_build" => "the first build on this branch".into(),
        // A new author or pipeline reads as the prior's 20 %: what it stands for is "unknown".
        "author_failure_rate" if prior.author.1 == 0 => {
            "no finished build by this author yet".into()
        }
        "pipeline_failure_rate" if prior.pipeline.1 == 0 => {
            "no finished build on this pipeline yet".into()
        }
        "author_failure_rate" => {
            let ((failed, of), (long_failed, long_of)) = (prior.author, prior.author_long);
            let recent = format!(
                "this author's last {}: {failed} failed",
                count(i64::from(of), "build")
            );
            if long_of > of {
                format!("{recent} ({long_failed} of their last {long_of})")
            } else {
                recent
            }
        }
        "pipeline_failure_rate" => format!(
            "this pipeline's last {}: {} failed",
            count(i64::from(prior.pipeline.1), "build"),
            prior.pipeline.0
        ),
        "hours_since_last_build" => match prior.since_last_s {
            Some(s) => format!("{} since the last build here", elapsed(s)),
            None => "no earlier build here".into(),
        },
        "fix_after_failure" => "a fix pushed after the branch failed".into(),
        "rerun" if prior.previous_failed == Some(true) => "a re-run of a build that failed".into(),
        "rerun" => "a re-run of the same commit".into(),
        "night" => "started at night (20:00–7:00 UTC)".into(),
        "morning" => "started in the morning (7:00–12:00 UTC)".into(),
        "afternoon" => "started in the afternoon (12:00–17:00 UTC)".into(),
        "evening" => "started in the evening (17:00–20:00 UTC)".into(),
        "weekend" => "started at the weekend (UTC)".into(),
        day @ ("monday" | "tuesday" | "wednesday" | "thursday" | "friday") => {
            let mut name = day.to_string();
            name[..1].make_ascii_uppercase();
            format!("started on a {name} (UTC)")
        }
        name => match name.strip_prefix("message_") {
            Some(word) => format!("the commit message says {word}"),
            None => name.replace('_', " "),
        },
    }
}

/// "1 line", "1,240 lines".
fn count(n: i64, one: &str) -> String {
    match n {
        1 => format!("1 {one}"),
        n => format!("{} {one}s", thousands(n)),
    }
}

/// A gap between builds as a person says it: "under an hour", "1 hour", "5 hours", "3 days".
fn elapsed(seconds: f64) -> String {
    let hours = (seconds / 3600.0).round();
    match hours {
        h if h < 1.0 => "under an hour".into(),
        h if h < 1.5 => "1 hour".into(),
        h if h < 48.0 => format!("{h:.0} hours"),
        h => format!("{:.0} days", h / 24.0),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::builds::features::features;
    use crate::builds::stats::tests::build;
    use crate::builds::BuildStatus;

    fn at(name: &str) -> usize {
        index(name).unwrap()
    }

    fn queued(branch: &str) -> PreRun {
        PreRun::from(&build(branch, BuildStatus::Queued, 0, 0.0))
    }

    #[test]
    fn a_failed_branch_is_one_reason_with_its_streak_and_failed_tests() {
        let prior = Prior {
            previous_failed: Some(true),
            red_streak: 3,
            previous_tests_failed: Some(14),
            ..Prior::default()
        };
        let b = queued("main");
        let x = features(&b, &prior);
        // The model raised the risk for the failure and lowered it a little for the streak.
        let mut shares = vec![0.0; NAMES.len()];
        shares[at("previous_failed")] = 1.2;
        shares[at("red_streak")] = -0.2;
        shares[at("previous_tests_failed")] = 0.1;
        shares[at("default_branch")] = -0.1;
        let reasons = reasons(&x, &shares);
        let branch: Vec<_> = reasons
            .iter()
            .filter(|(i, _)| [at("previous_failed"), at("red_streak")].contains(i))
            .collect();
        assert_eq!(branch.len(), 1, "{reasons:?}");
        assert_eq!(branch[0].0, at("previous_failed"));
        assert!((branch[0].1 - 1.1).abs() < 1e-12);
        assert!(reasons.contains(&(at("default_branch"), -0.1)));
        assert_eq!(
            explain(at("red_streak"), &b, &prior),
            "the last 3 builds on this branch failed (14 tests failed)"
        );
        let once = Prior {
            red_streak: 1,
            previous_tests_failed: None,
            ..prior
        };
        assert_eq!(
            explain(at("previous_failed"), &b, &once),
            "the previous build on this branch failed"
        );
        let one_test = Prior {
            previous_tests_failed: Some(1),
            ..once
        };
        assert_eq!(
            explain(at("previous_failed"), &b, &one_test),
            "the previous build on this branch failed (1 test failed)"
        );
    }

    #[test]
    fn what_a_build_does_not_have_is_no_reason() {
        // A green branch, no change size said, a weekday build on main.
        let b = queued("main");
        let prior = Prior {
            previous_failed: Some(false),
            ..Prior::default()
        };
        let x = features(&b, &prior);
        let shares = vec![0.5; NAMES.len()];
        let named: Vec<&str> = reasons(&x, &shares)
            .iter()
            .map(|(i, _)| NAMES[*i])
            .collect();
        for absent in ["previous_failed", "change_size", "rerun", "release_branch"] {
            assert!(!named.contains(&absent), "{named:?}");
        }
        assert!(named.contains(&"default_branch"), "{named:?}");
    }

    #[test]
    fn an_authors_two_windows_are_one_reason() {
        let b = queued("main");
        let prior = Prior {
            author: (4, 10),
            author_long: (32, 100),
            ..Prior::default()
        };
        let x = features(&b, &prior);
        let mut shares = vec![0.0; NAMES.len()];
        shares[at("author_failure_rate")] = 0.3;
        shares[at("author_long_failure_rate")] = 0.2;
        let author = reasons(&x, &shares)
            .into_iter()
            .filter(|(i, _)| NAMES[*i].starts_with("author"))
            .collect::<Vec<_>>();
        assert_eq!(author.len(), 1);
        assert_eq!(author[0].0, at("author_failure_rate"));
        assert!((author[0].1 - 0.5).abs() < 1e-12);
        assert_eq!(
            explain(at("author_long_failure_rate"), &b, &prior),
            "this author's last 10 builds: 4 failed (32 of their last 100)"
        );
        // An author with fewer than ten builds has one window to speak of; nothing to go on
        // reads as such, not as "the last 0 builds: 0 failed".
        let said = |feature: &str, author: (u32, u32), pipeline: (u32, u32)| {
            let prior = Prior {
                author,
                author_long: author,
                pipeline,
                ..Prior::default()
            };
            explain(at(feature), &b, &prior)
        };
        let author = "author_failure_rate";
        let pipeline = "pipeline_failure_rate";
        for (feature, counts, words) in [
            (author, (1, 3), "this author's last 3 builds: 1 failed"),
            (author, (0, 1), "this author's last 1 build: 0 failed"),
            (author, (0, 0), "no finished build by this author yet"),
            (pipeline, (1, 1), "this pipeline's last 1 build: 1 failed"),
            (pipeline, (0, 0), "no finished build on this pipeline yet"),
        ] {
            assert_eq!(said(feature, counts, counts), words);
        }
    }

    #[test]
    fn a_rerun_says_whether_it_reruns_a_failure() {
        let b = queued("main");
        let failed = Prior {
            previous_failed: Some(true),
            ..Prior::default()
        };
        assert_eq!(
            explain(at("rerun_after_failure"), &b, &failed),
            "a re-run of a build that failed"
        );
        assert_eq!(
            explain(at("rerun"), &b, &Prior::default()),
            "a re-run of the same commit"
        );
    }

    #[test]
    fn a_change_reads_in_lines_and_files() {
        let mut b = queued("release/2.0");
        (b.lines_added, b.lines_deleted) = (Some(1000), Some(240));
        let size = at("change_size");
        assert_eq!(
            explain(size, &b, &Prior::default()),
            "change size: 1,240 lines"
        );
        b.files_changed = Some(32);
        assert_eq!(
            explain(size, &b, &Prior::default()),
            "change size: 1,240 lines in 32 files"
        );
        (b.lines_added, b.lines_deleted, b.files_changed) = (Some(1), None, Some(1));
        assert_eq!(
            explain(size, &b, &Prior::default()),
            "change size: 1 line in 1 file"
        );
        assert_eq!(
            explain(at("release_branch"), &b, &Prior::default()),
            "on a release branch (release/2.0)"
        );
    }

    #[test]
    fn time_reads_as_a_person_says_it() {
        let mut b = queued("main");
        let said = |s: f64| {
            let prior = Prior {
                since_last_s: Some(s),
                ..Prior::default()
            };
            explain(at("hours_since_last_build"), &queued("main"), &prior)
        };
        assert_eq!(said(600.0), "under an hour since the last build here");
        assert_eq!(said(3600.0), "1 hour since the last build here");
        assert_eq!(said(5.0 * 3600.0), "5 hours since the last build here");
        assert_eq!(said(3.0 * 86_400.0), "3 days since the last build here");
        b.started_at = 1_795_800_600_000; // Friday 2026-11-27, 17:30 UTC
        assert_eq!(
            explain(at("friday"), &b, &Prior::default()),
            "started on a Friday (UTC)"
        );
        assert_eq!(
            explain(at("evening"), &b, &Prior::default()),
            "started in the evening (17:00–20:00 UTC)"
        );
    }
}
