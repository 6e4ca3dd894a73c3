//! What a batch of deliveries does to the stored builds, decided before anything is written, so
//! the writer can store it as a few set-based statements ([`super::bulk`]) instead of one or two
//! per delivery. Pure: the stored builds the batch names go in, the writes and the answers come
//! out.
//!
//! The deliveries of one batch arrived together, from concurrent requests, so their order among
//! themselves is the order of a race. Updates of builds stored before the batch are written
//! first, and the priors of the batch's new builds then see them. Deliveries of the same source
//! id keep their order: a build that is new in this batch and finished later in it is inserted
//! once, as its last delivery left it, with the prediction its first delivery got.

use app::builds::features::Prior;
use app::builds::{Build, PreRun};
use std::collections::HashMap;

/// A build stored under a (source, source id).
pub type Known = HashMap<(String, String), Build>;

/// The writes of a batch and its answers.
#[derive(Debug, Default)]
pub struct Plan {
    /// Builds stored before the batch, each as the last delivery that moved it left it.
    pub updates: Vec<Build>,
    /// Builds new in this batch, in the order their first delivery arrived.
    pub new: Vec<NewBuild>,
    /// One per delivery, in order.
    pub answers: Vec<Answer>,
}

#[derive(Debug)]
pub struct NewBuild {
    /// What its prediction reads: the pre-run fields of the delivery that first named it.
    pub pre: PreRun,
    /// As the last delivery of it left it.
    pub build: Build,
}

/// What a delivery is answered.
#[derive(Debug)]
pub struct Answer {
    pub build: Build,
    /// It named a build nobody had stored.
    pub created: bool,
    /// It gave the build its first outcome.
    pub finished_now: bool,
    /// False when it left the build as it was (a late "running" after the finish): no event.
    pub changed: bool,
    /// The new build whose id and prediction the answer takes once they exist.
    pub new: Option<usize>,
}

/// Walks `deliveries` in order over `known`, the stored builds with their source ids.
pub fn plan(deliveries: &[Build], mut known: Known) -> Plan {
    let mut plan = Plan::default();
    let mut update_of: HashMap<i64, usize> = HashMap::new();
    let mut new_of: HashMap<(String, String), usize> = HashMap::new();
    for delivery in deliveries {
        let mut b = delivery.clone();
        let key = (b.source.clone(), b.source_id.clone());
        let mut new = new_of.get(&key).copied();
        let existing = known.get(&key);
        if let Some(old) = existing.filter(|old| !b.follow(old)) {
            plan.answers.push(Answer {
                build: old.clone(),
                created: false,
                finished_now: false,
                changed: false,
                new,
            });
            continue;
        }
        let finished_now = b.finishes(existing);
        let created = existing.is_none();
        match (created, new) {
            (true, _) => {
                new = Some(plan.new.len());
                new_of.insert(key.clone(), plan.new.len());
                plan.new.push(NewBuild {
                    pre: PreRun::from(&b),
                    build: b.clone(),
                });
            }
            (false, Some(i)) => plan.new[i].build = b.clone(),
            (false, None) => match update_of.get(&b.id) {
                Some(&u) => plan.updates[u] = b.clone(),
                None => {
                    update_of.insert(b.id, plan.updates.len());
                    plan.updates.push(b.clone());
                }
            },
        }
        known.insert(key, b.clone());
        plan.answers.push(Answer {
            build: b,
            created,
            finished_now,
            changed: true,
            new,
        });
    }
    plan
}

impl NewBuild {
    /// Whether this build, not stored yet, changes what the prior of `later` reads beyond the
    /// branch's last start ([`add_starts`]): it has an outcome, started before, and shares the
    /// pipeline (its window, and the branch's last outcome and streak) or the author (theirs).
    /// Then it must be stored before that prior is read.
    pub fn shapes_prior_of(&self, later: &PreRun) -> bool {
        let b = &self.build;
        b.status.is_outcome()
            && b.started_at < later.started_at
            && (b.pipeline == later.pipeline || (b.author.is_some() && b.author == later.author))
    }
}

/// Adds to `prior`, read from the database for `pre`, the starts of `pending`: builds not stored
/// yet, none of which [`NewBuild::shapes_prior_of`] `pre`. A queued or running build on the same
/// branch that started before is still the branch's last build.
pub fn add_starts(prior: &mut Prior, pre: &PreRun, pending: &[NewBuild]) {
    for p in pending {
        let b = &p.build;
        if b.pipeline == pre.pipeline && b.branch == pre.branch && b.started_at < pre.started_at {
            let since = (pre.started_at - b.started_at) as f64 / 1000.0;
            prior.since_last_s = Some(prior.since_last_s.map_or(since, |s| s.min(since)));
        }
    }
}

#[cfg(test)]
pub(super) mod tests {
    use super::*;
    use app::builds::{BuildStatus, BuildTrigger};

    /// A build of acme/shop/ci on main by ada, started at `started_s` seconds.
    pub(in crate::builds) fn build(source_id: &str, status: BuildStatus, started_s: i64) -> Build {
        Build {
            id: 0,
            source: "api".into(),
            source_id: source_id.into(),
            pipeline: "acme/shop/ci".into(),
            repo: "acme/shop".into(),
            workflow: "ci".into(),
            branch: "main".into(),
            commit: "0123456789abcdef".into(),
            author: Some("ada".into()),
            trigger: BuildTrigger::Push,
            message: None,
            files_changed: None,
            lines_added: None,
            lines_deleted: None,
            started_at: started_s * 1000,
            finished_at: None,
            duration_s: None,
            status,
            tests_total: None,
            tests_failed: None,
            coverage: None,
            url: None,
            predicted_failure: None,
            model_version: None,
        }
    }

    fn stored(b: Build, id: i64) -> Known {
        let key = (b.source.clone(), b.source_id.clone());
        HashMap::from([(key, Build { id, ..b })])
    }

    #[test]
    fn a_build_new_in_the_batch_and_finished_in_it_is_inserted_once_as_it_ended() {
        let mut started = build("1", BuildStatus::Running, 10);
        started.message = Some("wip: cart".into());
        let finished = build("1", BuildStatus::Failure, 10);
        let plan = plan(&[started, finished], Known::new());
        assert!(plan.updates.is_empty());
        assert_eq!(plan.new.len(), 1);
        assert_eq!(plan.new[0].build.status, BuildStatus::Failure);
        // The finish kept what the start said, and the prediction reads the start's fields.
        assert_eq!(plan.new[0].build.message.as_deref(), Some("wip: cart"));
        assert_eq!(plan.new[0].pre.message.as_deref(), Some("wip: cart"));
        let answers: Vec<_> = plan
            .answers
            .iter()
            .map(|a| (a.created, a.finished_now, a.new, a.build.status))
            .collect();
        assert_eq!(
            answers,
            [
                (true, false, Some(0), BuildStatus::Running),
                (false, true, Some(0), BuildStatus::Failure)
            ]
        );
    }

    #[test]
    fn a_stored_build_moved_twice_is_one_update_as_the_last_delivery_left_it() {
        let known = stored(build("7", BuildStatus::Queued, 10), 42);
        let running = build("7", BuildStatus::Running, 10);
        let done = build("7", BuildStatus::Success, 10);
        let plan = plan(&[running, done], known);
        assert!(plan.new.is_empty());
        assert_eq!(plan.updates.len(), 1);
        assert_eq!(plan.updates[0].id, 42);
        assert_eq!(plan.updates[0].status, BuildStatus::Success);
        assert!(plan.answers.iter().all(|a| a.build.id == 42 && !a.created));
        assert_eq!(
            plan.answers.iter().filter(|a| a.finished_now).count(),
            1,
            "one build finished once"
        );
    }

    #[test]
    fn a_late_start_leaves_a_finished_build_alone_and_publishes_nothing() {
        let known = stored(build("7", BuildStatus::Failure, 10), 42);
        let plan = plan(&[build("7", BuildStatus::Running, 10)], known);
        assert!(plan.updates.is_empty() && plan.new.is_empty());
        let a = &plan.answers[0];
        assert!(!a.changed && !a.created && !a.finished_now);
        assert_eq!(a.build.status, BuildStatus::Failure);
    }

    #[test]
    fn only_an_earlier_outcome_on_the_pipeline_or_by_the_author_must_be_stored_first() {
        let later = PreRun::from(&build("2", BuildStatus::Running, 20));
        let new = |b: Build| NewBuild {
            pre: PreRun::from(&b),
            build: b,
        };
        assert!(new(build("1", BuildStatus::Failure, 10)).shapes_prior_of(&later));
        assert!(!new(build("1", BuildStatus::Running, 10)).shapes_prior_of(&later));
        assert!(!new(build("1", BuildStatus::Failure, 30)).shapes_prior_of(&later));
        let mut elsewhere = build("1", BuildStatus::Success, 10);
        elsewhere.pipeline = "acme/web/ci".into();
        assert!(
            new(elsewhere.clone()).shapes_prior_of(&later),
            "same author"
        );
        elsewhere.author = Some("grace".into());
        assert!(!new(elsewhere.clone()).shapes_prior_of(&later));
        elsewhere.author = None;
        assert!(!new(elsewhere).shapes_prior_of(&later));
    }

    #[test]
    fn a_running_build_not_stored_yet_is_still_the_branch_last_start() {
        let pre = PreRun::from(&build("3", BuildStatus::Running, 100));
        let pending = [
            NewBuild {
                pre: pre.clone(),
                build: build("1", BuildStatus::Running, 70),
            },
            NewBuild {
                pre: pre.clone(),
                build: build("2", BuildStatus::Running, 160),
            },
        ];
        let mut from_database = Prior {
            since_last_s: Some(600.0),
            ..Prior::default()
        };
        add_starts(&mut from_database, &pre, &pending);
        assert_eq!(from_database.since_last_s, Some(30.0));
        let mut first_on_branch = Prior::default();
        add_starts(&mut first_on_branch, &pre, &pending[1..]);
        assert_eq!(first_on_branch.since_last_s, None, "started after");
    }
}
