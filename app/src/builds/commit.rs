//! What CI said of one commit, for the release built from it: deploying a version whose build
//! failed is a classic trap, so the deploy dialog and a deployment's page say it. Worked out
//! on the server, so the deployment pages' bundles carry only the words.

use super::{failed_tests, Build, BuildStatus};
use crate::href::QueryHref;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// What is known of a release's CI.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum ReleaseCiStatus {
    /// No such release, or it names no commit: nothing to say.
    Unknown,
    /// Its commit (the first 7 digits), of which no build was recorded.
    Unbuilt(String),
    Built(CommitCi),
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CommitCi {
    /// Over the newest build of each pipeline that built the commit: failure when one failed;
    /// else running, then queued, while one is unfinished; else success when one passed; else
    /// cancelled.
    pub verdict: BuildStatus,
    /// "CI failed on 1f3c2a9: acme/shop/ci on main, 3 tests failed."
    pub words: String,
    /// The pipeline the words name (a failed one when one failed): its page tells the rest.
    pub pipeline: String,
    /// That pipeline's page here, listing the branch the commit was built on.
    pub pipeline_href: String,
    /// That build's own page at the CI, when it sent a web address.
    pub url: Option<String>,
}

/// How much a verdict outweighs another: one failed pipeline fails the commit, and it has not
/// passed while one is still running.
fn weight(status: BuildStatus) -> u8 {
    match status {
        BuildStatus::Failure => 4,
        BuildStatus::Running => 3,
        BuildStatus::Queued => 2,
        BuildStatus::Success => 1,
        BuildStatus::Cancelled => 0,
    }
}

fn pipelines(n: usize) -> &'static str {
    if n == 1 {
        "pipeline"
    } else {
        "pipelines"
    }
}

impl CommitCi {
    /// `builds` are the commit's, in any order (a re-run of a pipeline is a newer build of it);
    /// none when no build of it was recorded.
    pub fn of(builds: &[Build]) -> Option<CommitCi> {
        let mut newest: BTreeMap<&str, &Build> = BTreeMap::new();
        for b in builds {
            let slot = newest.entry(&b.pipeline).or_insert(b);
            if (b.started_at, b.id) > (slot.started_at, slot.id) {
                *slot = b;
            }
        }
        let verdict = newest
            .values()
            .map(|b| b.status)
            .max_by_key(|s| weight(*s))?;
        // Pipelines in name order, so the one named is the same however the builds came.
        let with_verdict: Vec<&Build> = newest
            .values()
            .filter(|b| b.status == verdict)
            .copied()
            .collect();
        let named = with_verdict[0];
        let sha: String = named.commit.chars().take(7).collect();
        let what = format!("{} on {}", named.pipeline, named.branch);
        let others = with_verdict.len() - 1;
        let words = match verdict {
            BuildStatus::Failure => {
                let tests = failed_tests(named)
                    .map(|(said, _)| format!(", {said}"))
                    .unwrap_or_default();
                let more = match others {
                    0 => String::new(),
                    n => format!("; {n} more {} failed", pipelines(n)),
                };
                format!("CI failed on {sha}: {what}{tests}{more}.")
            }
            BuildStatus::Running => format!("CI is still running on {sha}: {what}."),
            BuildStatus::Queued => format!("CI has not started on {sha}: {what} is queued."),
            BuildStatus::Success => {
                let more = match others {
                    0 => String::new(),
                    n => format!(" and {n} more {}", pipelines(n)),
                };
                let cancelled = newest.len() - with_verdict.len();
                let cancelled = match cancelled {
                    0 => String::new(),
                    n => format!(" ({n} {} cancelled)", pipelines(n)),
                };
                // A pass after a failed run of the same pipeline is worth a second look: the
                // failure may have been a flake, or the re-run may have skipped what failed.
                let rerun = with_verdict.iter().any(|n| {
                    builds.iter().any(|b| {
                        b.pipeline == n.pipeline
                            && b.status == BuildStatus::Failure
                            && b.started_at < n.started_at
                    })
                });
                let rerun = if rerun {
                    " It passed on a re-run after a failure."
                } else {
                    ""
                };
                format!("CI passed on {sha}: {what}{more}{cancelled}.{rerun}")
            }
            BuildStatus::Cancelled => {
                format!("CI was cancelled on {sha}: {what}. Nothing passed.")
            }
        };
        Some(CommitCi {
            verdict,
            words,
            pipeline: named.pipeline.clone(),
            pipeline_href: QueryHref::new()
                .param("name", Some(&named.pipeline))
                .param("branch", Some(&named.branch))
                .build("/builds/pipeline", ""),
            url: named.url.clone().filter(|u| crate::http_url::is_web(u)),
        })
    }
}

/// Whether a release's commit `release` (lowercase) and a build's `built` are one commit:
/// either may be the shorter, as a release names the whole and a CI may send the first seven.
pub fn same_commit(release: &str, built: &str) -> bool {
    release.starts_with(built) || built.starts_with(release)
}

/// The commits of these releases' shas a build could name (a release's may be 4 to 64 digits, a
/// build's 7 to 40), lowercase, each once.
pub fn release_commits<'a>(shas: impl Iterator<Item = &'a str>) -> Vec<String> {
    let mut commits: Vec<String> = shas
        .filter(|sha| super::check_commit(sha).is_ok())
        .map(str::to_ascii_lowercase)
        .collect();
    commits.sort();
    commits.dedup();
    commits
}

/// What CI said of the release commit `sha` (lowercase), of `builds` read for it and perhaps
/// for other commits (`BuildsPort::of_commits`).
pub fn commit_ci(sha: &str, builds: &[Build]) -> Option<CommitCi> {
    let its: Vec<Build> = builds
        .iter()
        .filter(|b| same_commit(sha, &b.commit))
        .cloned()
        .collect();
    CommitCi::of(&its)
}

/// Release commits CI failed on (lowercase, as `release_commits` gives them).
#[derive(Debug, Default, PartialEq, Eq)]
pub struct FailedCommits(pub Vec<String>);

impl FailedCommits {
    /// Whether a release's commit `sha`, in any case, is one of them.
    pub fn holds(&self, sha: &str) -> bool {
        self.0.iter().any(|failed| failed.eq_ignore_ascii_case(sha))
    }
}

/// Of the releases' commits `shas` (lowercase), those CI failed on: `builds` are every build of
/// any of them, in any order.
pub fn failed_commits(shas: &[String], builds: &[Build]) -> FailedCommits {
    FailedCommits(
        (shas.iter())
            .filter(|sha| {
                commit_ci(sha, builds).is_some_and(|ci| ci.verdict == BuildStatus::Failure)
            })
            .cloned()
            .collect(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    const SHA: &str = "1f3c2a9d0b7e4c1a2b3c4d5e6f708192a3b4c5d6";

    fn build(id: i64, pipeline: &str, status: BuildStatus, started_at: i64) -> Build {
        Build {
            id,
            pipeline: pipeline.into(),
            commit: SHA.into(),
            status,
            started_at,
            tests_total: Some(1240),
            tests_failed: Some(if status == BuildStatus::Failure { 3 } else { 0 }),
            url: Some(format!("https://ci.example.com/{id}")),
            ..crate::builds::stats::tests::build("main", status, 0, 60.0)
        }
    }

    fn said(builds: &[Build]) -> (BuildStatus, String, String) {
        let ci = CommitCi::of(builds).expect("a verdict");
        (ci.verdict, ci.pipeline, ci.words)
    }

    #[test]
    fn no_build_of_the_commit_is_no_verdict() {
        assert_eq!(CommitCi::of(&[]), None);
    }

    #[test]
    fn each_pipeline_counts_by_its_newest_build_and_a_failure_outweighs_the_rest() {
        use BuildStatus::*;
        type Case<'a> = (&'a [Build], (BuildStatus, &'a str, &'a str));
        let cases: [Case; 7] = [
            (
                &[build(1, "acme/shop/ci", Success, 10)],
                (Success, "acme/shop/ci", "CI passed on 1f3c2a9: acme/shop/ci on main."),
            ),
            (
                &[build(1, "acme/shop/ci", Failure, 10)],
                (Failure, "acme/shop/ci", "CI failed on 1f3c2a9: acme/shop/ci on main, 3 tests failed."),
            ),
            (
                // Failed, then passed on a re-run: it passed, and the words say how.
                &[build(2, "acme/shop/ci", Success, 20), build(1, "acme/shop/ci", Failure, 10)],
                (Success, "acme/shop/ci", "CI passed on 1f3c2a9: acme/shop/ci on main. It passed on a re-run after a failure."),
            ),
            (
                // One pipeline of three failed: the commit failed, whatever the others say.
                &[
                    build(1, "acme/shop/lint", Success, 10),
                    build(2, "acme/shop/e2e", Failure, 10),
                    build(3, "acme/shop/ci", Running, 10),
                ],
                (Failure, "acme/shop/e2e", "CI failed on 1f3c2a9: acme/shop/e2e on main, 3 tests failed."),
            ),
            (
                &[build(1, "acme/shop/lint", Success, 10), build(2, "acme/shop/ci", Running, 10)],
                (Running, "acme/shop/ci", "CI is still running on 1f3c2a9: acme/shop/ci on main."),
            ),
            (
                &[
                    build(1, "acme/shop/lint", Success, 10),
                    build(2, "acme/shop/ci", Success, 10),
                    build(3, "acme/shop/e2e", Cancelled, 10),
                ],
                (Success, "acme/shop/ci", "CI passed on 1f3c2a9: acme/shop/ci on main and 1 more pipeline (1 pipeline cancelled)."),
            ),
            (
                &[build(1, "acme/shop/ci", Cancelled, 10), build(2, "acme/shop/e2e", Queued, 10)],
                (Queued, "acme/shop/e2e", "CI has not started on 1f3c2a9: acme/shop/e2e on main is queued."),
            ),
        ];
        for (builds, (verdict, pipeline, words)) in cases {
            assert_eq!(said(builds), (verdict, pipeline.into(), words.into()));
        }
    }

    #[test]
    fn several_failures_name_the_first_pipeline_and_count_the_others() {
        let mut broke = build(2, "acme/shop/ci", BuildStatus::Failure, 10);
        broke.tests_failed = Some(0);
        let builds = [
            build(1, "acme/shop/e2e", BuildStatus::Failure, 10),
            broke,
            build(3, "acme/shop/lint", BuildStatus::Failure, 10),
        ];
        let ci = CommitCi::of(&builds).unwrap();
        assert_eq!(
            ci.words,
            "CI failed on 1f3c2a9: acme/shop/ci on main, no test failed; 2 more pipelines failed."
        );
        assert_eq!(ci.url.as_deref(), Some("https://ci.example.com/2"));
        assert_eq!(
            ci.pipeline_href,
            "/builds/pipeline?name=acme%2Fshop%2Fci&branch=main"
        );
    }

    #[test]
    fn a_link_that_is_not_a_web_address_is_not_offered() {
        let mut b = build(1, "acme/shop/ci", BuildStatus::Success, 10);
        b.url = Some("javascript:alert(1)".into());
        assert_eq!(CommitCi::of(&[b]).unwrap().url, None);
    }

    #[test]
    fn a_page_of_releases_learns_which_commits_failed_from_one_read_of_their_builds() {
        use BuildStatus::*;
        let on = |id, sha: &str, pipeline, status, at| Build {
            commit: sha.into(),
            ..build(id, pipeline, status, at)
        };
        let builds = [
            // Failed, then passed on a re-run: not failed.
            on(1, SHA, "acme/shop/ci", Failure, 10),
            on(2, SHA, "acme/shop/ci", Success, 20),
            // Its CI sent the first seven digits; the release names all forty.
            on(3, "b2c3d4e", "acme/shop/ci", Failure, 10),
            // Its lint failed though its build passed.
            on(4, "c3d4e5f60718", "acme/shop/ci", Success, 10),
            on(5, "c3d4e5f60718", "acme/shop/lint", Failure, 10),
            on(
                6,
                "d4e5f60718293a4b5c6d7e8f9012345678901234",
                "acme/shop/ci",
                Running,
                10,
            ),
            // Another commit with the same first seven digits, read with them.
            on(7, "e5f60718", "acme/shop/ci", Failure, 10),
        ];
        let shas: Vec<String> = [
            SHA,
            "b2c3d4e5f60718293a4b5c6d7e8f901234567890",
            "c3d4e5f",
            "d4e5f60718293a4b5c6d7e8f9012345678901234",
            "e5f6071a",
        ]
        .map(String::from)
        .into();
        let failed = failed_commits(&shas, &builds);
        assert_eq!(
            failed.0,
            ["b2c3d4e5f60718293a4b5c6d7e8f901234567890", "c3d4e5f"]
        );
        assert!(failed.holds("C3D4E5F") && failed.holds("c3d4e5f"));
        assert!(!failed.holds(SHA) && !failed.holds("b2c3d4e"));
        assert_eq!(failed_commits(&shas, &[]), FailedCommits::default());
        let named = ["B2C3D4E5F6", "abc", "b2c3d4e5f6", "not-a-sha", "a1b2c3d"];
        assert_eq!(
            release_commits(named.into_iter()),
            ["a1b2c3d", "b2c3d4e5f6"]
        );
        assert!(same_commit("b2c3d4e5f6", "b2c3d4e") && same_commit("b2c3d4e", "b2c3d4e5f6"));
        assert!(!same_commit("b2c3d4e5f6", "b2c3d4f"));
    }

    #[test]
    fn a_cancelled_commit_says_nothing_passed() {
        let builds = [build(1, "acme/shop/ci", BuildStatus::Cancelled, 10)];
        assert_eq!(
            said(&builds).2,
            "CI was cancelled on 1f3c2a9: acme/shop/ci on main. Nothing passed."
        );
    }
}
